#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/metrics_http.h"

static int renders;

static void
render(void *ctx, struct buf *out)
{
	(void)ctx;
	renders++;
	buf_append_str(out, "# TYPE x counter\nx 42\n");
}

/* Sends raw bytes, half-closes, returns everything the server answered. */
static char *
exchange(uint16_t port, const char *req, size_t len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(write(fd, req, len), (ssize_t)len);
	shutdown(fd, SHUT_WR);
	static char resp[65536];
	size_t got = 0;
	ssize_t r;
	while (got < sizeof(resp) - 1 &&
	       (r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)r;
	resp[got] = 0;
	close(fd);
	return resp;
}

static struct metrics_http *
start(void)
{
	char err[128];
	struct metrics_http *h =
	    metrics_http_start("127.0.0.1:0", render, NULL,
			       "text/plain; version=0.0.4", err, sizeof(err));
	cr_assert_not_null(h, "%s", err);
	cr_assert_neq(metrics_http_port(h), 0);
	return h;
}

#define REQ(s) s, sizeof(s) - 1

Test(metrics_http, get_metrics)
{
	struct metrics_http *h = start();
	char *r = exchange(metrics_http_port(h),
			   REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n"
			       "Connection: close\r\n\r\n"));
	cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
	cr_assert(strstr(r, "text/plain; version=0.0.4"));
	cr_assert(strstr(r, "\r\n\r\n# TYPE x counter\nx 42\n"), "%s", r);
	cr_assert_eq(renders, 1);
	metrics_http_stop(h);
	cr_assert_null(h);
}

Test(metrics_http, wrong_path_and_method)
{
	struct metrics_http *h = start();
	char *r = exchange(metrics_http_port(h),
			   REQ("GET /secret HTTP/1.1\r\nHost: x\r\n"
			       "Connection: close\r\n\r\n"));
	cr_assert(strncmp(r, "HTTP/1.1 404", 12) == 0, "%s", r);
	r = exchange(
	    metrics_http_port(h),
	    REQ("POST /metrics HTTP/1.1\r\nHost: x\r\n"
		"Content-Length: 5\r\nConnection: close\r\n\r\nhello"));
	cr_assert(strncmp(r, "HTTP/1.1 405", 12) == 0, "%s", r);
	cr_assert_eq(renders, 0);
	metrics_http_stop(h);
}

Test(metrics_http, garbage_gets_an_http_error)
{
	struct metrics_http *h = start();
	char *r = exchange(metrics_http_port(h),
			   REQ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
			       "garbage garbage\r\n\r\n"));
	cr_assert(strncmp(r, "HTTP/1.1 400", 12) == 0, "%s", r);
	/* A header line far beyond the memory limit. */
	static char big[100000];
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	memset(big + 26, 'a', sizeof(big) - 26 - 4);
	memcpy(big + sizeof(big) - 4, "\r\n\r\n", 4);
	r = exchange(metrics_http_port(h), big, sizeof(big));
	cr_assert(r[0] == 0 || strncmp(r, "HTTP/1.1 4", 10) == 0, "%s", r);
	/* Still serving afterwards. */
	r = exchange(metrics_http_port(h),
		     REQ("GET /metrics HTTP/1.0\r\n\r\n"));
	cr_assert(strstr(r, " 200 "), "%s", r);
	metrics_http_stop(h);
}

Test(metrics_http, bad_address)
{
	char err[128];
	cr_assert_null(metrics_http_start("localhost:99", render, NULL, "t",
					  err, sizeof(err)));
	cr_assert(strstr(err, "bad listen address"));
	cr_assert_null(metrics_http_start("127.0.0.1:99999", render, NULL, "t",
					  err, sizeof(err)));
	cr_assert_null(metrics_http_start("127.0.0.1", render, NULL, "t", err,
					  sizeof(err)));
}
