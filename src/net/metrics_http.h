#ifndef BC_NET_METRICS_HTTP_H
#define BC_NET_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/*
 * A small HTTP exporter for metrics on a local port (libmicrohttpd, in its
 * own thread).  GET or HEAD of /metrics answers 200 with whatever the render
 * callback appends; any other path is 404, any other method 405, and a
 * malformed request gets libmicrohttpd's 400.  Connections are few, small
 * and short-lived, so a scraper cannot tie up the node.
 *
 * The render callback runs on the exporter's thread: it must be thread-safe
 * with respect to the rest of the program (node/metrics.h is).
 */
typedef void (*metrics_http_render_fn)(void *ctx, struct buf *out);

struct metrics_http;

/*
 * Listens on addr ("127.0.0.1:9100", "[::1]:9100"; port 0 picks a free one).
 * content_type is the value of the Content-Type header (not copied: pass a
 * string literal).  Returns NULL with one line in err on failure.
 */
struct metrics_http *metrics_http_start(const char *addr,
					metrics_http_render_fn render,
					void *ctx, const char *content_type,
					char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
uint16_t metrics_http_port(const struct metrics_http *h);
/* Stops the thread, closes the socket and frees; NULL is fine. */
void metrics_http_stop_(struct metrics_http *h);
#define metrics_http_stop(h)           \
	do {                           \
		metrics_http_stop_(h); \
		(h) = NULL;            \
	} while (0)

#endif
