/*
 * Links on libuv (net/link.h). Each connection owns a TCP handle, a timer
 * and a link_sm; the manager owns the listener, one shared read buffer (the
 * loop is single-threaded and every read is consumed before the next) and
 * the list of connections.
 */
#include "net/link.h"

#include <string.h>
#include <uv.h>

#include "lib/alloc.h"
#include "lib/log.h"

#include "crypto/rand.h"
#include "crypto/secret.h"

#include "wire/link_frame.h"

#define READ_BUF_LEN 65536
/* Spare transport frame buffers kept per manager: a forwarding node
 * allocates none per packet once warm. */
#define FCACHE_MAX   64

enum conn_state {
	CONN_WAIT,       /* initiator: waiting to (re)connect */
	CONN_CONNECTING, /* initiator: TCP connect in progress */
	CONN_HANDSHAKE,  /* Noise handshake in progress */
	CONN_OPEN,       /* transport */
	CONN_CLOSING,    /* TCP handle closing */
	CONN_FINAL,      /* timer closing; freed in its callback */
};

struct link_conn {
	struct link_mgr *mgr;
	struct link_conn *prev, *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t creq;
	struct link_sm *sm;
	enum conn_state state;
	bool initiator, reconnect, tcp_live, was_open;
	uint8_t remote_pub[32]; /* dialled, or learnt in the handshake */
	enum link_role peer_role;
	struct sockaddr_storage addr; /* dialled address, or the peer's */
	uint64_t deadline_ms;         /* handshake deadline / retry time */
	uint64_t last_recv_ms, last_send_ms, frames_seen;
	uint32_t backoff_ms;
	size_t wq_frames;    /* in pend and in flight */
	struct wbatch *pend; /* gathering, not yet written */
	unsigned inflight;   /* batches handed to uv_write */
	bool dirty;          /* pend waits for the flusher */
	bool wq_was_full;
	bool retry_reported; /* last on_close said "retrying" */
	void *user;
};

struct link_mgr {
	uv_loop_t *loop;
	struct link_cfg cfg;
	uint8_t *priv; /* locked memory */
	uv_tcp_t listener;
	bool listening, closing;
	struct link_conn *conns;
	struct link_stats st;
	void (*done)(void *arg);
	void *done_arg;
	uv_prepare_t flusher; /* writes what the iteration gathered */
	bool flusher_live;    /* usable: not closing */
	bool flusher_handle;  /* open until its close callback */
	bool flush_due;
	size_t frame_len;                  /* transport frames (cached) */
	struct wframe *fcache[FCACHE_MAX]; /* spare frame buffers */
	size_t nfcache;
	uint8_t rbuf[READ_BUF_LEN];
};

/* One queued frame's bytes (encrypted: nothing to wipe). */
struct wframe {
	size_t len;
	uint8_t data[];
};

/*
 * One uv_write of up to WBATCH_MAX frames. Frames queued during one loop
 * iteration are gathered and written together just before the loop next
 * waits (the flusher, a prepare handle), and frames queued while a write is
 * in flight go out together when it completes: one system call, and on
 * loopback one TCP segment, for many frames.
 */
#define WBATCH_MAX 32
struct wbatch {
	uv_write_t req;
	struct link_conn *c;
	unsigned n;
	size_t bytes;
	struct wframe *f[WBATCH_MAX];
	uv_buf_t b[WBATCH_MAX];
};

static void conn_fail(struct link_conn *c, enum link_err why);
static void conn_arm(struct link_conn *c);
static void on_tick(uv_timer_t *t);
static void conn_start_connect(struct link_conn *c);
static void mgr_maybe_free(struct link_mgr *m);
static void conn_flush(struct link_conn *c);

static uint32_t
def32(uint32_t v, uint32_t d)
{
	return v ? v : d;
}

static bool
err_is_peer_fault(enum link_err e)
{
	switch (e) {
	case LINK_ERR_LENGTH:
	case LINK_ERR_TRUNCATED:
	case LINK_ERR_TYPE:
	case LINK_ERR_PADDING:
	case LINK_ERR_FIELD:
	case LINK_ERR_HANDSHAKE:
	case LINK_ERR_AUTH:
	case LINK_ERR_DECRYPT:
	case LINK_ERR_TIMEOUT:
	case LINK_ERR_VERSION:
	case LINK_ERR_STATE:
		return true;
	case LINK_OK:
	case LINK_ERR_AGAIN:
	case LINK_ERR_LIMIT:
	case LINK_ERR_QUEUE:
	case LINK_ERR_CLOSED:
	case LINK_ERR_IO:
	case LINK_ERR_SHUTDOWN:
	case LINK_ERR_NOT_REGISTERED:
	case LINK_ERR_DENIED:
	case LINK_ERR_NONCE:
	case LINK_ERR_NO_QUEUE:
	case LINK_ERR_EXISTS:
	case LINK_ERR_QUOTA:
	case LINK_ERR_UNAVAILABLE:
	case LINK_ERR_COUNT_:
		break;
	}
	return false;
}

struct link_mgr *
link_mgr_new(struct uv_loop_s *loop, const struct link_cfg *cfg)
{
	struct link_cfg c = *cfg;
	c.packet_len = c.packet_len ? c.packet_len : LINK_PACKET_LEN_DEFAULT;
	if (c.static_priv == NULL || c.on_open == NULL || c.on_cmd == NULL ||
	    c.on_close == NULL || !link_frame_packet_len_ok(c.packet_len))
		return NULL;
	if (c.role != LINK_ROLE_CLIENT)
		c.role = LINK_ROLE_NODE;
	c.handshake_timeout_ms = def32(c.handshake_timeout_ms, 10000);
	c.keepalive_ms = def32(c.keepalive_ms, 15000);
	c.idle_timeout_ms = def32(c.idle_timeout_ms, 60000);
	c.max_conns = def32(c.max_conns, 1024);
	c.max_per_addr = def32(c.max_per_addr, 16);
	c.queue_frames = def32(c.queue_frames, 256);
	c.backoff_min_ms = def32(c.backoff_min_ms, 500);
	c.backoff_max_ms = def32(c.backoff_max_ms, 60000);
	if (c.backoff_max_ms < c.backoff_min_ms)
		c.backoff_max_ms = c.backoff_min_ms;
	struct link_mgr *m = bc_calloc(1, sizeof(*m));
	m->loop = loop;
	m->cfg = c;
	m->priv = secret_alloc(32);
	memcpy(m->priv, cfg->static_priv, 32);
	m->cfg.static_priv = m->priv;
	(void)uv_prepare_init(loop, &m->flusher);
	m->flusher.data = m;
	uv_unref((uv_handle_t *)&m->flusher); /* keeps no loop running */
	m->flusher_live = m->flusher_handle = true;
	return m;
}

void
link_mgr_stats(const struct link_mgr *m, struct link_stats *out)
{
	*out = m->st;
}

/* ---- writes ---- */

static void
wframe_put(struct link_mgr *m, struct wframe *f)
{
	if (f->len == m->frame_len && m->nfcache < FCACHE_MAX)
		m->fcache[m->nfcache++] = f;
	else
		free(f);
}

static void
batch_free(struct link_conn *c, struct wbatch *b)
{
	for (unsigned i = 0; i < b->n; i++)
		wframe_put(c->mgr, b->f[i]);
	c->wq_frames -= b->n;
	c->mgr->st.queued_bytes -= b->bytes;
	BC_FREE(b);
}

static void on_write(uv_write_t *req, int status);

static void
batch_submit(struct link_conn *c, struct wbatch *b)
{
	c->inflight++;
	if (uv_write(&b->req, (uv_stream_t *)&c->tcp, b->b, b->n, on_write) <
	    0) {
		c->inflight--;
		batch_free(c, b);
		conn_fail(c, LINK_ERR_IO);
	}
}

static void
on_write(uv_write_t *req, int status)
{
	struct wbatch *b = (struct wbatch *)req;
	struct link_conn *c = b->c;
	struct link_mgr *m = c->mgr;
	c->inflight--;
	batch_free(c, b);
	if (status < 0) {
		if (c->state == CONN_HANDSHAKE || c->state == CONN_OPEN)
			conn_fail(c, LINK_ERR_IO);
		return;
	}
	if (c->inflight == 0 && c->pend != NULL &&
	    (c->state == CONN_HANDSHAKE || c->state == CONN_OPEN)) {
		struct wbatch *p = c->pend;
		c->pend = NULL;
		batch_submit(c, p);
	}
	if (c->wq_was_full && c->wq_frames <= m->cfg.queue_frames / 2 &&
	    c->state == CONN_OPEN) {
		c->wq_was_full = false;
		if (m->cfg.on_writable != NULL)
			m->cfg.on_writable(c, m->cfg.ctx);
	}
}

static struct wframe *
wframe_new(struct link_mgr *m, size_t len)
{
	if (len == m->frame_len && m->nfcache > 0)
		return m->fcache[--m->nfcache];
	struct wframe *f = bc_malloc(sizeof(*f) + len);
	f->len = len;
	return f;
}

static void
on_flush(uv_prepare_t *h)
{
	struct link_mgr *m = h->data;
	m->flush_due = false;
	uv_prepare_stop(&m->flusher);
	for (struct link_conn *c = m->conns; c != NULL; c = c->next) {
		if (!c->dirty)
			continue;
		c->dirty = false;
		if (c->inflight == 0)
			conn_flush(c);
	}
}

/* Queue one frame (takes ownership) into the gathering batch: written by
 * the flusher before the loop next waits, when the write in flight
 * completes, or at once when the batch is full. */
static void
conn_queue_frame(struct link_conn *c, struct wframe *f)
{
	c->wq_frames++;
	c->mgr->st.queued_bytes += f->len;
	c->last_send_ms = uv_now(c->mgr->loop);
	if (c->pend == NULL) {
		c->pend = bc_calloc(1, sizeof(*c->pend));
		c->pend->c = c;
	}
	struct wbatch *b = c->pend;
	b->f[b->n] = f;
	b->b[b->n] = uv_buf_init((char *)f->data, (unsigned int)f->len);
	b->n++;
	b->bytes += f->len;
	if (b->n == WBATCH_MAX) {
		c->pend = NULL;
		batch_submit(c, b);
		return;
	}
	struct link_mgr *m = c->mgr;
	if (!m->flusher_live && c->inflight == 0) { /* closing: no flusher */
		c->pend = NULL;
		batch_submit(c, b);
		return;
	}
	if (c->inflight == 0 && !c->dirty) {
		c->dirty = true;
		if (!m->flush_due) {
			m->flush_due = true;
			uv_prepare_start(&m->flusher, on_flush);
		}
	}
}

/* Hand the gathering batch to libuv now (written at once if it can be). */
static void
conn_flush(struct link_conn *c)
{
	if (c->pend == NULL || !c->tcp_live ||
	    (c->state != CONN_HANDSHAKE && c->state != CONN_OPEN))
		return;
	struct wbatch *p = c->pend;
	c->pend = NULL;
	batch_submit(c, p);
}

/* link_sm's send callback: handshake messages and refusals. */
static void
sm_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct link_conn *c = ctx;
	if (!c->tcp_live || c->state == CONN_CLOSING)
		return;
	struct wframe *f = wframe_new(c->mgr, len);
	memcpy(f->data, buf, len);
	conn_queue_frame(c, f);
}

/* Every transport frame of a manager has one length (one packet_len). */
static size_t
conn_frame_len(struct link_conn *c)
{
	return c->mgr->frame_len = link_sm_wire_len(c->sm);
}

static enum link_err
conn_queue_check(struct link_conn *c)
{
	if (c->state != CONN_OPEN)
		return LINK_ERR_STATE;
	if (c->wq_frames >= c->mgr->cfg.queue_frames) {
		c->wq_was_full = true;
		c->mgr->st.dropped_full++;
		return LINK_ERR_QUEUE;
	}
	return LINK_OK;
}

/* A bad command is the caller's error; a dead state machine ends the link. */
static enum link_err
conn_seal_failed(struct link_conn *c, enum link_err e)
{
	if (link_sm_state(c->sm) == LINK_SM_DEAD)
		conn_fail(c, e);
	return e;
}

enum link_err
link_conn_send(struct link_conn *c, const struct link_cmd *cmd)
{
	enum link_err e = conn_queue_check(c);
	if (e != LINK_OK)
		return e;
	struct wframe *f = wframe_new(c->mgr, conn_frame_len(c));
	if ((e = link_sm_seal(c->sm, cmd, f->data)) != LINK_OK) {
		BC_FREE(f);
		return conn_seal_failed(c, e);
	}
	c->mgr->st.frames_sent++;
	conn_queue_frame(c, f);
	return LINK_OK;
}

enum link_err
link_conn_send_packet(struct link_conn *c, const uint8_t *pkt, size_t len)
{
	enum link_err e = conn_queue_check(c);
	if (e != LINK_OK)
		return e;
	struct wframe *f = wframe_new(c->mgr, conn_frame_len(c));
	if ((e = link_sm_seal_packet(c->sm, pkt, len, f->data)) != LINK_OK) {
		BC_FREE(f);
		return conn_seal_failed(c, e);
	}
	c->mgr->st.frames_sent++;
	conn_queue_frame(c, f);
	return LINK_OK;
}

/* ---- close ---- */

static void
mgr_unlink(struct link_mgr *m, struct link_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		m->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	m->st.conns--;
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct link_conn *c = h->data;
	struct link_mgr *m = c->mgr;
	mgr_unlink(m, c);
	BC_FREE(c);
	mgr_maybe_free(m);
}

static void
conn_final(struct link_conn *c)
{
	c->state = CONN_FINAL;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static uint32_t
conn_next_backoff(struct link_conn *c)
{
	uint32_t b = c->backoff_ms;
	/* Equal jitter: never sooner than half, spread over the other half. */
	uint32_t wait = b / 2 + rand_uniform(b / 2 + 1);
	uint32_t max = c->mgr->cfg.backoff_max_ms;
	c->backoff_ms = b > max / 2 ? max : b * 2;
	return wait;
}

static void
on_tcp_closed(uv_handle_t *h)
{
	struct link_conn *c = h->data;
	struct link_mgr *m = c->mgr;
	c->tcp_live = false;
	/* Freed here, not in conn_fail: link_sm_feed may be on the stack. */
	LINK_SM_FREE(c->sm);
	/* Every write callback has run by now; frames never written go. */
	if (c->pend != NULL) {
		batch_free(c, c->pend);
		c->pend = NULL;
	}
	if (c->reconnect && !m->closing) {
		c->state = CONN_WAIT;
		c->deadline_ms = uv_now(m->loop) + conn_next_backoff(c);
		conn_arm(c);
		return;
	}
	conn_final(c);
	if (c->retry_reported) {
		/* It was told "retrying"; now it must hear that it is gone. */
		struct link_close_info info = {.why = LINK_ERR_SHUTDOWN};
		m->cfg.on_close(c, &info, m->cfg.ctx);
	}
}

/*
 * Tell an open peer why we close, if it can go out at once (uv_try_write
 * refuses while earlier frames are still queued, so order is kept).
 */
static void
conn_say_bye(struct link_conn *c, enum link_err reason)
{
	if (c->state != CONN_OPEN || c->sm == NULL)
		return;
	conn_flush(c);
	if (c->state != CONN_OPEN)
		return;
	size_t len = link_sm_wire_len(c->sm);
	uint8_t *frame = bc_malloc(len);
	struct link_cmd cmd = {.type = LINK_CMD_DISCONNECT};
	cmd.u.disconnect.reason = (uint8_t)reason;
	if (link_sm_seal(c->sm, &cmd, frame) == LINK_OK) {
		uv_buf_t b = uv_buf_init((char *)frame, (unsigned int)len);
		(void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	}
	BC_FREE(frame);
}

static void
conn_log(const struct link_conn *c, enum link_err why)
{
	static struct log_ratelim rl_in = LOG_RATELIM_INIT(10000);
	static struct log_ratelim rl_out = LOG_RATELIM_INIT(10000);
	/* No address: incoming peers may be clients (DESIGN.md). */
	if (c->initiator)
		log_ratelim(
		    &rl_out, LOG_LVL_WARN, "link: outgoing link %s: %s%s",
		    c->was_open ? "closed" : "failed", link_err_str(why),
		    why == LINK_ERR_HANDSHAKE && !c->was_open
			? " (responder closed or did not authenticate:"
			  " wrong responder key?)"
			: "");
	else
		log_ratelim(&rl_in, LOG_LVL_WARN,
			    "link: incoming peer disconnected: %s",
			    link_err_str(why));
}

static void
conn_fail(struct link_conn *c, enum link_err why)
{
	struct link_mgr *m = c->mgr;
	if (c->state == CONN_CLOSING || c->state == CONN_FINAL)
		return;
	if (err_is_peer_fault(why)) {
		m->st.failed++;
		conn_log(c, why);
	}
	struct link_close_info info = {
	    .why = why,
	    .peer_reason = c->sm ? link_sm_peer_reason(c->sm) : LINK_OK,
	    .was_open = c->state == CONN_OPEN,
	    .retrying = c->reconnect && !m->closing,
	};
	c->retry_reported = info.retrying;
	/* A refusal's DISCONNECT may still be gathering: try to send it. */
	conn_flush(c);
	if (c->state == CONN_CLOSING || c->state == CONN_FINAL)
		return;
	if (c->tcp_live) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->state = CONN_CLOSING;
		uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
	} else {
		conn_final(c); /* CONN_WAIT: no socket */
	}
	m->cfg.on_close(c, &info, m->cfg.ctx);
}

void
link_conn_close(struct link_conn *c, enum link_err reason)
{
	c->reconnect = false;
	conn_say_bye(c, reason);
	conn_fail(c, reason);
}

/* ---- the state machine's callbacks ---- */

static void
sm_open(void *ctx)
{
	struct link_conn *c = ctx;
	struct link_mgr *m = c->mgr;
	c->state = CONN_OPEN;
	c->was_open = true;
	memcpy(c->remote_pub, link_sm_peer_key(c->sm), 32);
	c->peer_role = link_sm_peer_role(c->sm);
	c->backoff_ms = m->cfg.backoff_min_ms;
	c->last_recv_ms = c->last_send_ms = uv_now(m->loop);
	m->st.opened++;
	conn_arm(c);
	m->cfg.on_open(c, m->cfg.ctx);
}

static enum link_err
sm_cmd(void *ctx, const struct link_cmd *cmd)
{
	struct link_conn *c = ctx;
	/* The application may have closed us from an earlier command. */
	if (c->state != CONN_OPEN)
		return LINK_ERR_CLOSED;
	return c->mgr->cfg.on_cmd(c, cmd, c->mgr->cfg.ctx);
}

static bool
sm_auth(void *ctx, const uint8_t key[32])
{
	struct link_conn *c = ctx;
	return c->mgr->cfg.auth(c->mgr->cfg.ctx, key);
}

static struct link_sm *
conn_new_sm(struct link_conn *c)
{
	const struct link_cfg *cfg = &c->mgr->cfg;
	struct link_sm_cfg sc = {
	    .initiator = c->initiator,
	    .static_priv = cfg->static_priv,
	    .remote_pub = c->initiator ? c->remote_pub : NULL,
	    .role = cfg->role,
	    .packet_len = cfg->packet_len,
	    .rekey_frames = cfg->rekey_frames,
	    .auth = c->initiator ? NULL : sm_auth,
	    .auth_ctx = c,
	    .ops = {.send = sm_send, .open = sm_open, .cmd = sm_cmd},
	    .ops_ctx = c,
	};
	return link_sm_new(&sc);
}

/* ---- reads and timers ---- */

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct link_conn *c = h->data;
	/* One buffer per loop: every read is consumed before the next. */
	*buf = uv_buf_init((char *)c->mgr->rbuf, READ_BUF_LEN);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct link_conn *c = s->data;
	struct link_mgr *m = c->mgr;
	if (n == 0 || c->state == CONN_CLOSING)
		return;
	if (n < 0) {
		enum link_err why = n == UV_EOF ? LINK_ERR_CLOSED : LINK_ERR_IO;
		/* XK: a responder that cannot read message 1 just hangs up. */
		if (c->state == CONN_HANDSHAKE && c->initiator)
			why = LINK_ERR_HANDSHAKE;
		conn_fail(c, why);
		return;
	}
	enum link_err e =
	    link_sm_feed(c->sm, (const uint8_t *)buf->base, (size_t)n);
	uint64_t f = link_sm_frames_recv(c->sm);
	if (f != c->frames_seen) {
		m->st.frames_recv += f - c->frames_seen;
		c->frames_seen = f;
		c->last_recv_ms = uv_now(m->loop);
	}
	if (e != LINK_OK)
		conn_fail(c, e);
}

/*
 * One one-shot timer per connection, set for its next deadline: the retry
 * time, the handshake deadline, or the earlier of idle timeout and
 * keepalive. Sends do not re-arm it; a tick that finds the keepalive not yet
 * due just re-arms for the new time.
 */
static void
conn_arm(struct link_conn *c)
{
	const struct link_cfg *cfg = &c->mgr->cfg;
	uint64_t now = uv_now(c->mgr->loop), at = now;
	switch (c->state) {
	case CONN_WAIT:
	case CONN_CONNECTING:
	case CONN_HANDSHAKE:
		at = c->deadline_ms;
		break;
	case CONN_OPEN:
		at = c->last_recv_ms + cfg->idle_timeout_ms;
		if (c->last_send_ms + cfg->keepalive_ms < at)
			at = c->last_send_ms + cfg->keepalive_ms;
		break;
	case CONN_CLOSING:
	case CONN_FINAL:
		return;
	}
	(void)uv_timer_start(&c->timer, on_tick, at > now ? at - now : 0, 0);
}

static void
on_tick(uv_timer_t *t)
{
	struct link_conn *c = t->data;
	struct link_mgr *m = c->mgr;
	uint64_t now = uv_now(m->loop);
	switch (c->state) {
	case CONN_WAIT:
		if (now >= c->deadline_ms)
			conn_start_connect(c);
		break;
	case CONN_CONNECTING:
	case CONN_HANDSHAKE:
		if (now >= c->deadline_ms)
			conn_fail(c, LINK_ERR_TIMEOUT);
		break;
	case CONN_OPEN:
		if (now - c->last_recv_ms >= m->cfg.idle_timeout_ms) {
			conn_say_bye(c, LINK_ERR_TIMEOUT);
			conn_fail(c, LINK_ERR_TIMEOUT);
		} else if (now - c->last_send_ms >= m->cfg.keepalive_ms) {
			struct link_cmd noop = {.type = LINK_CMD_NOOP};
			/* A full queue is traffic enough: no NOOP needed. */
			if (link_conn_send(c, &noop) != LINK_OK)
				c->last_send_ms = now;
		}
		break;
	case CONN_CLOSING:
	case CONN_FINAL:
		break;
	}
	conn_arm(c);
}

static struct link_conn *
conn_alloc(struct link_mgr *m, bool initiator)
{
	struct link_conn *c = bc_calloc(1, sizeof(*c));
	c->mgr = m;
	c->initiator = initiator;
	c->backoff_ms = m->cfg.backoff_min_ms;
	c->tcp.data = c;
	c->timer.data = c;
	c->creq.data = c;
	c->next = m->conns;
	if (m->conns != NULL)
		m->conns->prev = c;
	m->conns = c;
	m->st.conns++;
	return c;
}

static void
conn_begin_handshake(struct link_conn *c)
{
	c->sm = conn_new_sm(c);
	c->frames_seen = 0;
	c->state = CONN_HANDSHAKE;
	(void)uv_tcp_nodelay(&c->tcp, 1);
	if (c->sm == NULL ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
		conn_fail(c, LINK_ERR_IO);
		return;
	}
	if (c->initiator) {
		enum link_err e = link_sm_start(c->sm);
		if (e != LINK_OK)
			conn_fail(c, e);
	}
}

/* ---- initiator ---- */

static void
on_connect(uv_connect_t *req, int status)
{
	struct link_conn *c = req->data;
	if (status == UV_ECANCELED || c->state != CONN_CONNECTING)
		return;
	if (status < 0) {
		conn_fail(c, LINK_ERR_IO);
		return;
	}
	conn_begin_handshake(c);
}

static void
conn_start_connect(struct link_conn *c)
{
	struct link_mgr *m = c->mgr;
	if (uv_tcp_init(m->loop, &c->tcp) != 0) {
		c->deadline_ms = uv_now(m->loop) + conn_next_backoff(c);
		conn_arm(c);
		return;
	}
	c->tcp_live = true;
	c->state = CONN_CONNECTING;
	c->deadline_ms = uv_now(m->loop) + m->cfg.handshake_timeout_ms;
	conn_arm(c);
	if (uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&c->addr,
			   on_connect) != 0)
		conn_fail(c, LINK_ERR_IO);
}

static int
addr_parse(const char *ip, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (uv_ip4_addr(ip, port, (struct sockaddr_in *)out) == 0)
		return 0;
	if (uv_ip6_addr(ip, port, (struct sockaddr_in6 *)out) == 0)
		return 0;
	return -1;
}

struct link_conn *
link_mgr_connect(struct link_mgr *m, const char *ip, uint16_t port,
		 const uint8_t remote_pub[32], bool reconnect)
{
	struct sockaddr_storage sa;
	if (m->closing || addr_parse(ip, port, &sa) != 0)
		return NULL;
	struct link_conn *c = conn_alloc(m, true);
	c->addr = sa;
	c->reconnect = reconnect;
	memcpy(c->remote_pub, remote_pub, 32);
	(void)uv_timer_init(m->loop, &c->timer);
	c->state = CONN_WAIT;
	conn_start_connect(c);
	return c;
}

/* ---- responder ---- */

static bool
addr_same_host(const struct sockaddr_storage *a,
	       const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	return false;
}

static bool
mgr_over_limit(const struct link_mgr *m, const struct link_conn *c)
{
	if (m->st.conns > m->cfg.max_conns)
		return true;
	uint32_t same = 0;
	for (const struct link_conn *o = m->conns; o != NULL; o = o->next)
		if (!o->initiator && addr_same_host(&o->addr, &c->addr))
			same++;
	return same > m->cfg.max_per_addr;
}

static void
on_refused_closed(uv_handle_t *h)
{
	struct link_conn *c = h->data;
	struct link_mgr *m = c->mgr;
	mgr_unlink(m, c);
	BC_FREE(c);
	mgr_maybe_free(m);
}

static void
on_connection(uv_stream_t *server, int status)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(10000);
	struct link_mgr *m = server->data;
	if (status < 0 || m->closing)
		return;
	struct link_conn *c = conn_alloc(m, false);
	if (uv_tcp_init(m->loop, &c->tcp) != 0) {
		mgr_unlink(m, c);
		BC_FREE(c);
		return;
	}
	c->tcp_live = true;
	m->st.accepted++;
	int len = (int)sizeof(c->addr);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
	    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->addr, &len) !=
		0 ||
	    mgr_over_limit(m, c)) {
		m->st.refused_limit++;
		log_ratelim(&rl, LOG_LVL_WARN,
			    "link: incoming connection refused: limit");
		c->state = CONN_CLOSING;
		uv_close((uv_handle_t *)&c->tcp, on_refused_closed);
		return;
	}
	(void)uv_timer_init(m->loop, &c->timer);
	c->deadline_ms = uv_now(m->loop) + m->cfg.handshake_timeout_ms;
	conn_arm(c);
	conn_begin_handshake(c);
}

int
link_mgr_listen(struct link_mgr *m, const char *ip, uint16_t port,
		uint16_t *bound)
{
	struct sockaddr_storage sa;
	if (m->cfg.auth == NULL || m->listening || m->closing ||
	    addr_parse(ip, port, &sa) != 0) {
		log_err("link: cannot listen: bad address or configuration");
		return -1;
	}
	(void)uv_tcp_init(m->loop, &m->listener);
	m->listener.data = m;
	m->listening = true;
	int r = uv_tcp_bind(&m->listener, (struct sockaddr *)&sa, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&m->listener, 128, on_connection);
	if (r == 0 && bound != NULL) {
		struct sockaddr_storage got;
		int len = (int)sizeof(got);
		r = uv_tcp_getsockname(&m->listener, (struct sockaddr *)&got,
				       &len);
		*bound = ntohs(((struct sockaddr_in *)&got)->sin_port);
	}
	if (r != 0) {
		log_err("link: cannot listen on port %u: %s", (unsigned)port,
			uv_strerror(r));
		return -1; /* the handle is closed by link_mgr_close */
	}
	return 0;
}

/* ---- shutdown and accessors ---- */

static void
on_listener_closed(uv_handle_t *h)
{
	struct link_mgr *m = h->data;
	m->listening = false;
	mgr_maybe_free(m);
}

static void
on_flusher_closed(uv_handle_t *h)
{
	struct link_mgr *m = h->data;
	m->flusher_handle = false;
	mgr_maybe_free(m);
}

static void
mgr_maybe_free(struct link_mgr *m)
{
	if (!m->closing || m->conns != NULL || m->listening ||
	    m->flusher_handle)
		return;
	void (*done)(void *) = m->done;
	void *arg = m->done_arg;
	while (m->nfcache > 0)
		free(m->fcache[--m->nfcache]);
	SECRET_FREE(m->priv);
	BC_FREE(m);
	if (done != NULL)
		done(arg);
}

void
link_mgr_close(struct link_mgr *m, void (*done)(void *arg), void *arg)
{
	if (m->closing)
		return;
	m->closing = true;
	m->done = done;
	m->done_arg = arg;
	if (m->listening)
		uv_close((uv_handle_t *)&m->listener, on_listener_closed);
	for (struct link_conn *c = m->conns; c != NULL; c = c->next)
		if (c->state != CONN_CLOSING && c->state != CONN_FINAL)
			link_conn_close(c, LINK_ERR_SHUTDOWN);
	/* After the closes: their last frames were flushed by them. */
	m->flusher_live = false;
	uv_close((uv_handle_t *)&m->flusher, on_flusher_closed);
	mgr_maybe_free(m);
}

size_t
link_conn_queued(const struct link_conn *c)
{
	return c->wq_frames;
}

bool
link_conn_is_open(const struct link_conn *c)
{
	return c->state == CONN_OPEN;
}

const uint8_t *
link_conn_peer_key(const struct link_conn *c)
{
	return c->was_open || c->initiator ? c->remote_pub : NULL;
}

enum link_role
link_conn_peer_role(const struct link_conn *c)
{
	return c->peer_role;
}

void
link_conn_set_user(struct link_conn *c, void *user)
{
	c->user = user;
}

void *
link_conn_user(const struct link_conn *c)
{
	return c->user;
}
