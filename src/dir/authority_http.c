/*
 * The authority's HTTP side (libmicrohttpd, one internal thread): descriptor
 * uploads and the GET endpoints of docs/directory.md. Every answer is
 * text/plain, and every refusal is one line saying why.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/ed25519.h"

#include "dir/authority_state.h"

struct upload {
	struct buf b;
	bool too_big;
};

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const void *data, size_t len)
{
	/* MHD frees the copy (MUST_FREE), so the caller's buffer stays const.
	 */
	void *copy = bc_memdup(data, len ? len : 1);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(copy);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
				"text/plain; charset=us-ascii");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
reply_str(struct MHD_Connection *c, unsigned status, const char *s)
{
	return reply(c, status, s, strlen(s));
}

/* Parses "/prefix/N" into N; false if url is something else. */
static bool
url_epoch(const char *url, const char *prefix, uint64_t *e)
{
	size_t n = strlen(prefix);
	char *end;

	if (strncmp(url, prefix, n) != 0 || url[n] < '0' || url[n] > '9')
		return false;
	unsigned long long v = strtoull(url + n, &end, 10);
	if (*end != '\0' || v > DIR_EPOCH_MAX)
		return false;
	*e = v;
	return true;
}

/* Copies the chosen text of epoch e into out (under the lock). */
enum which { W_CONSENSUS, W_VOTE, W_SIGNATURE };

static bool
copy_text(struct authority *a, uint64_t e, enum which w, struct buf *out)
{
	bool ok = false;

	pthread_mutex_lock(&a->mu);
	struct auth_epoch *st = auth_epoch_get(a, e, false);
	if (st != NULL) {
		const struct buf *src =
		    w == W_CONSENSUS
			? (st->published ? &st->published_text : NULL)
		    : w == W_VOTE ? (st->voted ? &st->vote_text : NULL)
				  : &st->sig_text;
		if (src != NULL && src->len > 0) {
			buf_append(out, src->data, src->len);
			ok = true;
		}
	}
	pthread_mutex_unlock(&a->mu);
	return ok;
}

static enum MHD_Result
handle_get(struct authority *a, struct MHD_Connection *c, const char *url)
{
	int64_t now = time_wall_ms();
	uint64_t cur = auth_current_epoch(a, now), e;
	enum which w;
	struct buf b;
	char t[64];

	if (strcmp(url, "/time") == 0) {
		int n = snprintf(t, sizeof(t), "time %lld\n",
				 (long long)(now / 1000));
		return reply(c, 200, t, (size_t)n);
	}
	if (strcmp(url, "/consensus") == 0) {
		e = cur;
		w = W_CONSENSUS;
	} else if (strcmp(url, "/consensus/next") == 0) {
		e = cur + 1;
		w = W_CONSENSUS;
	} else if (url_epoch(url, "/consensus/", &e)) {
		w = W_CONSENSUS;
	} else if (url_epoch(url, "/vote/", &e)) {
		w = W_VOTE;
	} else if (url_epoch(url, "/signature/", &e)) {
		w = W_SIGNATURE;
	} else {
		return reply_str(c, 404,
				 "no such document; see "
				 "docs/directory.md\n");
	}
	buf_init(&b);
	enum MHD_Result rc;
	if (copy_text(a, e, w, &b))
		rc = reply(c, 200, b.data, b.len);
	else
		rc = reply_str(c, 404, "not available (yet) for that epoch\n");
	buf_free(&b);
	return rc;
}

static void
insert_desc(struct auth_epoch *st, const struct dir_descriptor *d)
{
	size_t i;

	for (i = 0; i < st->n_desc; i++) {
		int r = memcmp(st->desc[i].identity, d->identity, DIR_KEY_LEN);
		if (r == 0) {
			st->desc[i] = *d; /* a node may replace its own */
			return;
		}
		if (r > 0)
			break;
	}
	memmove(&st->desc[i + 1], &st->desc[i],
		(st->n_desc - i) * sizeof(st->desc[0]));
	st->desc[i] = *d;
	st->n_desc++;
}

/* Returns the HTTP status; msg gets the one-line answer (no newline). */
static unsigned
accept_descriptor(struct authority *a, const char *text, size_t len, char *msg,
		  size_t cap)
{
	struct dir_descriptor d;
	char err[200];
	size_t body;
	uint64_t cur = auth_current_epoch(a, time_wall_ms());
	unsigned status = 200;

	if (dir_descriptor_parse(text, len, &d, &body, err, sizeof(err)) < 0) {
		snprintf(msg, cap, "bad descriptor: %s", err);
		return 400;
	}
	if (ed25519_verify(d.signature, text, body, d.identity) != 0) {
		snprintf(msg, cap,
			 "descriptor signature does not verify "
			 "under its identity key");
		return 400;
	}
	if (d.epoch < cur || d.epoch > cur + 2) {
		snprintf(msg, cap,
			 "descriptor for epoch %llu; this authority "
			 "accepts epochs %llu..%llu",
			 (unsigned long long)d.epoch, (unsigned long long)cur,
			 (unsigned long long)cur + 2);
		return 400;
	}
	pthread_mutex_lock(&a->mu);
	struct auth_epoch *st = auth_epoch_get(a, d.epoch, true);
	if (st->voted) {
		snprintf(msg, cap, "vote for epoch %llu already cast",
			 (unsigned long long)d.epoch);
		status = 409;
	} else if (st->n_desc == DIR_MAX_NODES) {
		snprintf(msg, cap, "descriptor table for epoch %llu full",
			 (unsigned long long)d.epoch);
		status = 503;
	} else {
		insert_desc(st, &d);
		snprintf(msg, cap, "ok");
	}
	pthread_mutex_unlock(&a->mu);
	return status;
}

static enum MHD_Result
handle_post(struct authority *a, struct MHD_Connection *c, const char *url,
	    const char *data, size_t *size, void **con_cls)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(10000);
	struct upload *u = *con_cls;
	char msg[300];

	if (u == NULL) {
		if (strcmp(url, "/descriptor") != 0)
			return reply_str(c, 404, "POST only to /descriptor\n");
		const char *cl = MHD_lookup_connection_value(
		    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > AUTH_UPLOAD_MAX) {
			log_ratelim(&rl, LOG_LVL_NOTICE,
				    "refused an "
				    "oversized descriptor upload");
			return reply_str(c, 413,
					 "descriptor larger than "
					 "4096 bytes\n");
		}
		u = bc_calloc(1, sizeof(*u));
		buf_init(&u->b);
		*con_cls = u;
		return MHD_YES;
	}
	if (*size > 0) {
		if (u->b.len + *size > AUTH_UPLOAD_MAX)
			u->too_big = true;
		else
			buf_append(&u->b, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return reply_str(c, 413, "descriptor larger than 4096 bytes\n");
	unsigned status = accept_descriptor(a, (const char *)u->b.data,
					    u->b.len, msg, sizeof(msg) - 1);
	if (status != 200)
		log_ratelim(&rl, LOG_LVL_NOTICE, "refused a descriptor: %s",
			    msg);
	/* The log adds its own line end; the HTTP answer ends in one. */
	size_t n = strlen(msg);
	msg[n] = '\n';
	msg[n + 1] = '\0';
	return reply_str(c, status, msg);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
       const char *version, const char *data, size_t *size, void **con_cls)
{
	(void)version;
	if (strcmp(method, "POST") == 0)
		return handle_post(cls, c, url, data, size, con_cls);
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return handle_get(cls, c, url);
	return reply_str(c, 405, "only GET and POST\n");
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
	  enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (u != NULL) {
		buf_free(&u->b);
		free(u);
		*con_cls = NULL;
	}
}

int
auth_http_start(struct authority *a, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	const char *colon = strrchr(a->cfg.listen, ':');
	char host[64];

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - a->cfg.listen) >= sizeof(host)) {
		snprintf(err, errlen, "listen: want IPv4:port");
		return -1;
	}
	memcpy(host, a->cfg.listen, (size_t)(colon - a->cfg.listen));
	host[colon - a->cfg.listen] = '\0';
	unsigned long port = strtoul(colon + 1, NULL, 10);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || port == 0 ||
	    port > 65535) {
		snprintf(err, errlen, "listen: want IPv4:port");
		return -1;
	}
	sa.sin_port = htons((uint16_t)port);
	a->mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
	    NULL, NULL, handle, a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, a,
	    /* SO_REUSEADDR: a restarted authority must get its port back
	     * while the last run's connections sit in TIME_WAIT. */
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_END);
	if (a->mhd == NULL) {
		snprintf(err, errlen, "cannot listen on %s", a->cfg.listen);
		return -1;
	}
	return 0;
}

void
auth_http_stop(struct authority *a)
{
	if (a->mhd != NULL)
		MHD_stop_daemon(a->mhd);
	a->mhd = NULL;
}
