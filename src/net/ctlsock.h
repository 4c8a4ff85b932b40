/*
 * A local control socket: a Unix-domain stream socket speaking lines (the
 * client's JSON-lines API, docs/client-api.md). Each complete line received
 * is handed to the handler, whose reply (one line) is written back. The
 * socket file is created mode 0600; a stale file left by a dead process is
 * replaced, a live one is refused. Lines longer than CTLSOCK_LINE_MAX close
 * that connection; at most CTLSOCK_CONNS_MAX connections at once.
 */
#ifndef BC_NET_CTLSOCK_H
#define BC_NET_CTLSOCK_H

#include <stddef.h>

#include "lib/buf.h"

/* A request carries at most one message text (65,515 bytes); JSON escapes
 * (\u00XX) can make it six times longer. */
#define CTLSOCK_LINE_MAX  (512 * 1024)
/* Answers may be longer than requests: a page of messages holds texts of up
 * to 64 KiB each. ctlsock_request refuses an answer above this. */
#define CTLSOCK_REPLY_MAX (16 * 1024 * 1024)
#define CTLSOCK_CONNS_MAX 16

struct uv_loop_s;
struct ctlsock;

/* Append the reply to one request line (without the newline). */
typedef void (*ctlsock_handler)(void *ctx, const char *line, size_t len,
				struct buf *reply);

/* NULL with a one-line reason in err when the socket cannot be had. */
struct ctlsock *ctlsock_listen(struct uv_loop_s *loop, const char *path,
			       ctlsock_handler h, void *ctx, char *err,
			       size_t errlen);

/* Close the listener and every connection, remove the socket file; the
 * memory goes once the loop has run the close callbacks. NULL is fine. */
void ctlsock_close(struct ctlsock *s);

/*
 * Client side, blocking (for `backchannel status`): connect to path, send
 * one line, read one line of answer into reply. 0, or -1 with err.
 */
int ctlsock_request(const char *path, const char *line, struct buf *reply,
		    int timeout_ms, char *err, size_t errlen);

#endif /* BC_NET_CTLSOCK_H */
