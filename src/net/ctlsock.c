/* Local control socket over libuv pipes (ctlsock.h). */
#include "net/ctlsock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "lib/alloc.h"

struct ctl_conn {
	uv_pipe_t pipe;
	struct ctlsock *s;
	struct buf in;
	struct ctl_conn *next;
	bool closing;
};

struct ctlsock {
	uv_pipe_t listener;
	ctlsock_handler h;
	void *ctx;
	char *path;
	struct ctl_conn *conns;
	size_t nconns;
	bool closing;
};

struct ctl_write {
	uv_write_t req;
	struct buf data;
};

static void
ctl_conn_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;
	struct ctlsock *s = c->s;

	for (struct ctl_conn **p = &s->conns; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	s->nconns--;
	buf_free(&c->in);
	free(c);
	if (s->closing && s->nconns == 0 && s->path == NULL)
		free(s);
}

static void
ctl_conn_close(struct ctl_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->pipe, ctl_conn_closed);
}

static void
ctl_written(uv_write_t *req, int status)
{
	struct ctl_write *w = (struct ctl_write *)req;

	(void)status;
	buf_free(&w->data);
	free(w);
}

static void
ctl_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct ctl_conn *c = h->data;

	(void)hint;
	buf_reserve(&c->in, 4096);
	*b = uv_buf_init((char *)c->in.data + c->in.len, 4096);
}

/* Answer every complete line in the input buffer. */
static void
ctl_lines(struct ctl_conn *c)
{
	uint8_t *nl;

	while ((nl = memchr(c->in.data, '\n', c->in.len)) != NULL) {
		size_t n = (size_t)(nl - c->in.data);
		struct ctl_write *w = bc_calloc(1, sizeof(*w));
		*nl = 0;
		buf_init(&w->data);
		c->s->h(c->s->ctx, (const char *)c->in.data, n, &w->data);
		buf_append_u8(&w->data, '\n');
		uv_buf_t b =
		    uv_buf_init((char *)w->data.data, (unsigned)w->data.len);
		if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1,
			     ctl_written) != 0) {
			buf_free(&w->data);
			free(w);
		}
		memmove(c->in.data, nl + 1, c->in.len - n - 1);
		c->in.len -= n + 1;
	}
}

static void
ctl_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct ctl_conn *c = st->data;

	(void)b;
	if (n < 0) {
		ctl_conn_close(c);
		return;
	}
	c->in.len += (size_t)n;
	ctl_lines(c);
	if (c->in.len > CTLSOCK_LINE_MAX)
		ctl_conn_close(c);
}

static void
ctl_accept(uv_stream_t *l, int status)
{
	struct ctlsock *s = l->data;

	if (status < 0)
		return;
	struct ctl_conn *c = bc_calloc(1, sizeof(*c));
	c->s = s;
	buf_init(&c->in);
	uv_pipe_init(l->loop, &c->pipe, 0);
	c->pipe.data = c;
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	if (uv_accept(l, (uv_stream_t *)&c->pipe) != 0 ||
	    s->nconns > CTLSOCK_CONNS_MAX ||
	    uv_read_start((uv_stream_t *)&c->pipe, ctl_alloc, ctl_read) != 0)
		ctl_conn_close(c);
}

static int
ctl_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -1;
	memcpy(a->sun_path, path, strlen(path));
	return 0;
}

/* 1 if a live process answers on path, 0 if not (stale or absent). */
static int
ctl_live(const char *path)
{
	struct sockaddr_un a;
	int fd, live;

	if (ctl_addr(&a, path) < 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	live = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return live;
}

static void
ctl_listener_closed(uv_handle_t *h)
{
	struct ctlsock *s = h->data;

	BC_FREE(s->path);
	if (s->nconns == 0)
		free(s);
}

struct ctlsock *
ctlsock_listen(struct uv_loop_s *loop, const char *path, ctlsock_handler h,
	       void *ctx, char *err, size_t errlen)
{
	struct sockaddr_un a;
	struct stat st;

	if (ctl_addr(&a, path) < 0) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return NULL;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || ctl_live(path)) {
			snprintf(err, errlen, "control socket %s: %s", path,
				 S_ISSOCK(st.st_mode)
				     ? "another process is listening"
				     : "exists and is not a socket");
			return NULL;
		}
		unlink(path);
	}
	struct ctlsock *s = bc_calloc(1, sizeof(*s));
	s->h = h;
	s->ctx = ctx;
	s->path = bc_strdup(path);
	uv_pipe_init(loop, &s->listener, 0);
	s->listener.data = s;
	/* Created 0600: the socket is the user's whole client. */
	mode_t old = umask(077);
	int rc = uv_pipe_bind(&s->listener, path);
	umask(old);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, 8, ctl_accept);
	if (rc != 0) {
		snprintf(err, errlen, "control socket %s: %s", path,
			 uv_strerror(rc));
		s->closing = true;
		uv_close((uv_handle_t *)&s->listener, ctl_listener_closed);
		return NULL;
	}
	return s;
}

void
ctlsock_close(struct ctlsock *s)
{
	if (s == NULL || s->closing)
		return;
	s->closing = true;
	unlink(s->path);
	for (struct ctl_conn *c = s->conns; c != NULL; c = c->next)
		ctl_conn_close(c);
	uv_close((uv_handle_t *)&s->listener, ctl_listener_closed);
}

int
ctlsock_request(const char *path, const char *line, struct buf *reply,
		int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un a;
	int fd = -1, ret = -1;
	char chunk[4096];
	size_t n = strlen(line);

	if (ctl_addr(&a, path) < 0) {
		snprintf(err, errlen, "control socket path too long");
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		snprintf(err, errlen,
			 "cannot reach the client at %s: %s "
			 "(is `backchannel client` running?)",
			 path, strerror(errno));
		goto done;
	}
	/* send(MSG_NOSIGNAL): a client that closes on us must not kill the
	 * caller with SIGPIPE. */
	if (send(fd, line, n, MSG_NOSIGNAL) != (ssize_t)n ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		snprintf(err, errlen, "control socket %s: write failed", path);
		goto done;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) <= 0) {
			snprintf(err, errlen, "control socket %s: no answer",
				 path);
			goto done;
		}
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r <= 0) {
			snprintf(err, errlen, "control socket %s: closed",
				 path);
			goto done;
		}
		buf_append(reply, chunk, (size_t)r);
		uint8_t *nl = memchr(reply->data, '\n', reply->len);
		if (nl != NULL) {
			reply->len = (size_t)(nl - reply->data);
			break;
		}
		if (reply->len > CTLSOCK_REPLY_MAX) {
			snprintf(err, errlen,
				 "control socket %s: answer too "
				 "long",
				 path);
			goto done;
		}
	}
	ret = 0;
done:
	if (fd >= 0)
		close(fd);
	return ret;
}
