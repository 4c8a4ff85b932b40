/*
 * Metrics exporter over libmicrohttpd.  See metrics_http.h.
 */
#include "net/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/alloc.h"
#include "lib/log.h"

struct metrics_http {
	struct MHD_Daemon *d;
	metrics_http_render_fn render;
	void *ctx;
	const char *content_type;
	uint16_t port;
};

/* Numeric "a.b.c.d:port" or "[v6]:port"; names are never resolved. */
static int
addr_parse(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -1;
	size_t hl = (size_t)(colon - s);
	const char *h = s;
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return -1;
		h = s + 1;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end = NULL;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || !end || *end || end == colon + 1 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -1;
}

static enum MHD_Result
respond_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
	   const char *method, const char *version, const char *upload_data,
	   size_t *upload_data_size, void **con_cls)
{
	struct metrics_http *h = cls;
	(void)version;
	(void)upload_data;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	/* A request body is never read: answer at once and let MHD close. */
	if (*upload_data_size != 0 || (!get && !head)) {
		*upload_data_size = 0;
		if (*con_cls == NULL) {
			*con_cls = h;
			return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					    "method not allowed\n");
		}
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0 && strcmp(url, "/") != 0)
		return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	struct buf b;
	buf_init(&b);
	h->render(h->ctx, &b);
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    b.len, b.data ? (void *)b.data : (void *)(uintptr_t) "",
	    b.data ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
	buf_free(&b);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				h->content_type);
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static uint16_t
bound_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
	if (!info)
		return 0;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(info->listen_fd, (struct sockaddr *)&ss, &sl) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

struct metrics_http *
metrics_http_start(const char *addr, metrics_http_render_fn render, void *ctx,
		   const char *content_type, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	if (!addr || addr_parse(addr, &ss) != 0) {
		snprintf(err, errlen, "metrics: bad listen address '%s'",
			 addr ? addr : "");
		return NULL;
	}
	struct metrics_http *h = bc_calloc(1, sizeof(*h));
	h->render = render;
	h->ctx = ctx;
	h->content_type = content_type;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	uint16_t port = ntohs(ss.ss_family == AF_INET
				  ? ((struct sockaddr_in *)&ss)->sin_port
				  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	h->d = MHD_start_daemon(
	    flags, port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss,
	    /* a restarted node gets its port back despite TIME_WAIT */
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)8,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)5,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "metrics: cannot listen on %s", addr);
		free(h);
		return NULL;
	}
	h->port = bound_port(h->d);
	return h;
}

uint16_t
metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

void
metrics_http_stop_(struct metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
