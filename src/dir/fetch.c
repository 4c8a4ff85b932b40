/* Blocking directory HTTP over libcurl: see fetch.h. */
#include "dir/fetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

struct sink {
	struct buf *out;
	size_t max;
	size_t got;
};

static size_t
sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	/* Returning less than len makes curl stop with a write error. */
	if (len > s->max - s->got)
		return 0;
	buf_append(s->out, p, len);
	s->got += len;
	return len;
}

int
dir_http_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
perform(const char *addr, const char *path, const void *body, size_t len,
	bool post, size_t max, long timeout_ms, struct buf *out, long *status,
	char *err, size_t errlen)
{
	char url[300];
	struct sink s = {out, max, 0};
	CURL *h = curl_easy_init();
	CURLcode rc;

	if (h == NULL) {
		snprintf(err, errlen, "curl init failed");
		return -1;
	}
	snprintf(url, sizeof(url), "http://%s%s", addr, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	if (post) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s%s", url, curl_easy_strerror(rc),
			 rc == CURLE_WRITE_ERROR ? " (answer too large)" : "");
		curl_easy_cleanup(h);
		return -1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	return 0;
}

int
dir_http_get(const char *addr, const char *path, size_t max, long timeout_ms,
	     struct buf *out, long *status, char *err, size_t errlen)
{
	return perform(addr, path, NULL, 0, false, max, timeout_ms, out, status,
		       err, errlen);
}

int
dir_http_post(const char *addr, const char *path, const void *body, size_t len,
	      long timeout_ms, struct buf *out, long *status, char *err,
	      size_t errlen)
{
	return perform(addr, path, body, len, true, 4096, timeout_ms, out,
		       status, err, errlen);
}

int
dir_fetch_time(const char *addr, int64_t *t, char *err, size_t errlen)
{
	struct buf b;
	long status = 0;
	long long v = 0;
	char tail = 0;
	int rc = -1;

	buf_init(&b);
	if (dir_http_get(addr, "/time", 64, 5000, &b, &status, err, errlen) < 0)
		goto done;
	buf_append_u8(&b, 0);
	if (status != 200 ||
	    sscanf((const char *)b.data, "time %lld%c", &v, &tail) != 2 ||
	    tail != '\n' || v < 0) {
		snprintf(err, errlen,
			 "authority %s: bad /time answer "
			 "(HTTP %ld)",
			 addr, status);
		goto done;
	}
	*t = v;
	rc = 0;
done:
	buf_free(&b);
	return rc;
}
