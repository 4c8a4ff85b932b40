/*
 * Links over real loopback TCP on one libuv loop: throughput and order,
 * authentication failures, misbehaving raw peers, limits, keepalive,
 * reconnect, and clean shutdown (ASan checks the "free everything").
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "crypto/crypto.h"
#include "crypto/x25519.h"
#include "net/link.h"
#include "net/link_sm.h"
#include "wire/link_frame.h"

#define PL LINK_PACKET_LEN_DEFAULT

struct side {
	struct link_mgr *m;
	struct link_conn *conn; /* last opened */
	int opens, closes, closes_final;
	struct link_close_info last;
	uint64_t pkts, next_seq, noops;
	bool order_ok;
	bool accept;
	uint64_t close_ms[16];
};

struct world {
	uv_loop_t loop;
	uv_timer_t guard;
	struct side i, r;
	uint64_t want, sent;
	uint8_t pkt[PL];
	int done;
	bool guard_fired;
	uv_tcp_t probe; /* closed_port()'s; freed with the world */
};

static uint8_t ipub[32], ipriv[32], rpub[32], rpriv[32];
static struct world *W;

static struct side *
side_of(void *ctx)
{
	return ctx;
}

static void
pump(struct link_conn *c)
{
	while (W->sent < W->want) {
		memcpy(W->pkt, &W->sent, sizeof(W->sent));
		if (link_conn_send_packet(c, W->pkt, PL) != LINK_OK)
			return; /* queue full: on_writable resumes */
		W->sent++;
	}
}

static void
on_open(struct link_conn *c, void *ctx)
{
	struct side *s = side_of(ctx);
	s->opens++;
	s->conn = c;
	if (s == &W->i && W->want > 0)
		pump(c);
}

static void
on_writable(struct link_conn *c, void *ctx)
{
	if (side_of(ctx) == &W->i)
		pump(c);
}

static void
finish(void)
{
	if (W->done++)
		return;
	link_mgr_close(W->i.m, NULL, NULL);
	link_mgr_close(W->r.m, NULL, NULL);
	uv_close((uv_handle_t *)&W->guard, NULL);
}

static enum link_err
on_cmd(struct link_conn *c, const struct link_cmd *cmd, void *ctx)
{
	(void)c;
	struct side *s = side_of(ctx);
	if (cmd->type != LINK_CMD_SEND_PACKET)
		return LINK_OK;
	uint64_t seq;
	memcpy(&seq, cmd->u.packet.data, sizeof(seq));
	if (seq != s->next_seq)
		s->order_ok = false;
	s->next_seq = seq + 1;
	if (++s->pkts == W->want)
		finish();
	return LINK_OK;
}

static void
on_close(struct link_conn *c, const struct link_close_info *i, void *ctx)
{
	(void)c;
	struct side *s = side_of(ctx);
	if (s->closes < 16)
		s->close_ms[s->closes] = uv_now(&W->loop);
	s->closes++;
	if (!i->retrying)
		s->closes_final++;
	s->last = *i;
}

static bool
auth(void *ctx, const uint8_t key[32])
{
	struct side *s = side_of(ctx);
	return s->accept && memcmp(key, ipub, 32) == 0;
}

static void
on_guard(uv_timer_t *t)
{
	(void)t;
	W->guard_fired = true;
	finish();
}

/*
 * Short timers, so that the tests of timeouts and keepalive take a second.
 * A test of something else may ask for long ones: with both ends on one
 * loop, a process starved of CPU (a loaded CI machine) takes more than
 * 300 ms over a handshake, and after 400 ms without running finds its
 * links idle and closes them before it reads what waits in the sockets.
 */
static bool long_timers;

static struct link_cfg
cfg_for(struct side *s, const uint8_t *priv)
{
	struct link_cfg c = {
		.static_priv = priv,
		.packet_len = PL,
		.role = LINK_ROLE_CLIENT,
		.handshake_timeout_ms = long_timers ? 10000 : 300,
		.keepalive_ms = 100,
		.idle_timeout_ms = long_timers ? 30000 : 400,
		.backoff_min_ms = 40,
		.backoff_max_ms = 400,
		.auth = auth,
		.on_open = on_open,
		.on_cmd = on_cmd,
		.on_close = on_close,
		.on_writable = on_writable,
		.ctx = s,
	};
	return c;
}

/* A world with a listening responder; returns its port. */
static uint16_t
world_new(uint64_t guard_ms, const struct link_cfg *rcfg_over)
{
	cr_assert_eq(crypto_init(), 0);
	x25519_keypair(ipub, ipriv);
	x25519_keypair(rpub, rpriv);
	W = calloc(1, sizeof(*W));
	cr_assert_eq(uv_loop_init(&W->loop), 0);
	W->i.order_ok = W->r.order_ok = true;
	W->r.accept = true;
	struct link_cfg ic = cfg_for(&W->i, ipriv);
	struct link_cfg rc = rcfg_over ? *rcfg_over : cfg_for(&W->r, rpriv);
	W->i.m = link_mgr_new(&W->loop, &ic);
	W->r.m = link_mgr_new(&W->loop, &rc);
	cr_assert_not_null(W->i.m);
	cr_assert_not_null(W->r.m);
	uint16_t port = 0;
	cr_assert_eq(link_mgr_listen(W->r.m, "127.0.0.1", 0, &port), 0);
	cr_assert_neq(port, 0);
	uv_timer_init(&W->loop, &W->guard);
	uv_timer_start(&W->guard, on_guard, guard_ms, 0);
	return port;
}

/* A port on 127.0.0.1 with no listener (bound, then closed): every
 * connection attempt to it fails at once. */
static uint16_t
closed_port(void)
{
	struct sockaddr_in sa;
	int len = sizeof(sa);

	uv_tcp_init(&W->loop, &W->probe);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	uv_tcp_bind(&W->probe, (struct sockaddr *)&sa, 0);
	uv_tcp_getsockname(&W->probe, (struct sockaddr *)&sa, &len);
	uv_close((uv_handle_t *)&W->probe, NULL);
	return ntohs(sa.sin_port);
}

static void
world_run_and_free(void)
{
	uv_run(&W->loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&W->loop), 0, "every handle closed");
	free(W);
	W = NULL;
}

Test(net_link, hundred_thousand_packets_in_order)
{
	/* Throughput and order, not idleness: the shutdown must be the only
	 * close even when the machine starves this process for seconds. */
	long_timers = true;
	uint16_t port = world_new(60000, NULL);
	W->want = 100000;
	struct link_conn *c = link_mgr_connect(W->i.m, "127.0.0.1", port, rpub,
					       false);
	cr_assert_not_null(c);
	uv_run(&W->loop, UV_RUN_DEFAULT);
	cr_assert_not(W->guard_fired, "finished before the guard timer");
	cr_assert_eq(W->r.pkts, 100000);
	cr_assert(W->r.order_ok, "no packet lost or reordered");
	cr_assert_eq(W->i.opens, 1);
	cr_assert_eq(W->r.opens, 1);
	/* Shutdown reported each connection once, for good. */
	cr_assert_eq(W->i.closes_final, 1);
	cr_assert_eq(W->r.closes_final, 1);
	world_run_and_free();
}

Test(net_link, wrong_responder_key_fails_handshake)
{
	uint16_t port = world_new(5000, NULL);
	uint8_t wrong[32];
	memcpy(wrong, ipub, 32); /* any key but the responder's */
	cr_assert_not_null(link_mgr_connect(W->i.m, "127.0.0.1", port, wrong,
					    false));
	while (W->i.closes == 0 && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	cr_assert_eq(W->i.last.why, LINK_ERR_HANDSHAKE);
	cr_assert_not(W->i.last.was_open);
	cr_assert_eq(W->i.opens, 0);
	while (W->r.closes == 0 && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	cr_assert_eq(W->r.last.why, LINK_ERR_HANDSHAKE);
	cr_assert_eq(W->r.opens, 0);
	finish();
	world_run_and_free();
}

Test(net_link, unknown_initiator_refused)
{
	uint16_t port = world_new(5000, NULL);
	W->r.accept = false;
	cr_assert_not_null(link_mgr_connect(W->i.m, "127.0.0.1", port, rpub,
					    false));
	while (W->i.closes == 0 && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	cr_assert_eq(W->r.opens, 0, "the responder never opened");
	cr_assert_eq(W->r.last.why, LINK_ERR_AUTH);
	cr_assert_eq(W->i.last.why, LINK_ERR_CLOSED);
	cr_assert_eq(W->i.last.peer_reason, LINK_ERR_AUTH,
		     "the initiator learns why");
	finish();
	world_run_and_free();
}

Test(net_link, keepalive_holds_an_idle_link)
{
	uint16_t port = world_new(1000, NULL);
	cr_assert_not_null(link_mgr_connect(W->i.m, "127.0.0.1", port, rpub,
					    false));
	/* 1 s idle with idle timeout 400 ms: only NOOPs keep it alive. */
	uv_run(&W->loop, UV_RUN_DEFAULT);
	cr_assert(W->guard_fired);
	cr_assert_eq(W->i.opens, 1);
	cr_assert_eq(W->i.closes, 1, "closed only by the shutdown");
	cr_assert_eq(W->i.last.why, LINK_ERR_SHUTDOWN);
	world_run_and_free();
}

/* ---- raw peers: TCP clients that misbehave on purpose ---- */

enum raw_mode {
	RAW_GARBAGE,	/* an HTTP request */
	RAW_BIG_PREFIX, /* length prefix 0xffff, then bytes */
	RAW_TRUNC_HS,	/* first 20 bytes of a valid message 1, then silence */
	RAW_TRICKLE,	/* a valid message 1, one byte per 100 ms */
	RAW_TRUNC_FRAME, /* full handshake, then half a transport frame */
	RAW_IDLE,	/* connects and says nothing */
	RAW_NO_READ,	/* full handshake, then never reads again */
};

struct raw {
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_timer_t t;
	enum raw_mode mode;
	struct link_sm *sm;
	uint8_t out[8192];
	size_t out_len, trickled;
	uint64_t t_connect, t_eof;
	bool eof, opened;
};

static void
raw_written(uv_write_t *w, int status)
{
	(void)status;
	free(w);
}

static void
raw_write(struct raw *r, const void *p, size_t n)
{
	uv_write_t *w = malloc(sizeof(*w) + n);
	memcpy(w + 1, p, n);
	uv_buf_t b = uv_buf_init((char *)(w + 1), (unsigned)n);
	w->data = w;
	cr_assert_eq(uv_write(w, (uv_stream_t *)&r->tcp, &b, 1,
			      raw_written), 0);
}

static void
raw_sm_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct raw *r = ctx;
	if (r->mode == RAW_TRICKLE || r->mode == RAW_TRUNC_HS) {
		memcpy(r->out + r->out_len, buf, len); /* held back */
		r->out_len += len;
		return;
	}
	raw_write(r, buf, len);
}

static void
raw_sm_open(void *ctx)
{
	struct raw *r = ctx;
	r->opened = true;
	if (r->mode == RAW_NO_READ)
		uv_read_stop((uv_stream_t *)&r->tcp);
	if (r->mode != RAW_TRUNC_FRAME)
		return;
	uint8_t *f = malloc(link_sm_wire_len(r->sm));
	uint8_t pkt[PL] = {0};
	cr_assert_eq(link_sm_seal_packet(r->sm, pkt, PL, f), LINK_OK);
	raw_write(r, f, link_sm_wire_len(r->sm) / 2);
	free(f);
}

static enum link_err
raw_sm_cmd(void *ctx, const struct link_cmd *cmd)
{
	(void)ctx;
	(void)cmd;
	return LINK_OK;
}

static void
raw_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
	(void)h;
	static char buf[65536];
	(void)n;
	*b = uv_buf_init(buf, sizeof(buf));
}

static void
raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct raw *r = s->data;
	if (n < 0) {
		r->eof = true;
		r->t_eof = uv_now(&W->loop);
		uv_read_stop(s);
		return;
	}
	if (n > 0 && r->sm != NULL)
		(void)link_sm_feed(r->sm, (const uint8_t *)b->base, (size_t)n);
}

static void
raw_tick(uv_timer_t *t)
{
	struct raw *r = t->data;
	if (r->eof || r->trickled >= r->out_len)
		return;
	raw_write(r, r->out + r->trickled, 1);
	r->trickled++;
}

static void
raw_connected(uv_connect_t *req, int status)
{
	struct raw *r = req->data;
	cr_assert_eq(status, 0);
	r->t_connect = uv_now(&W->loop);
	uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t big[] = {0xff, 0xff, 1, 2, 3, 4, 5, 6};
	switch (r->mode) {
	case RAW_GARBAGE:
		raw_write(r, http, sizeof(http) - 1);
		break;
	case RAW_BIG_PREFIX:
		raw_write(r, big, sizeof(big));
		break;
	case RAW_TRUNC_HS:
		cr_assert_eq(link_sm_start(r->sm), LINK_OK);
		raw_write(r, r->out, 20);
		break;
	case RAW_TRICKLE:
		cr_assert_eq(link_sm_start(r->sm), LINK_OK);
		uv_timer_start(&r->t, raw_tick, 0, 100);
		break;
	case RAW_TRUNC_FRAME:
	case RAW_NO_READ:
		cr_assert_eq(link_sm_start(r->sm), LINK_OK);
		break;
	case RAW_IDLE:
		break;
	}
}

static struct raw *
raw_new(uint16_t port, enum raw_mode mode)
{
	struct raw *r = calloc(1, sizeof(*r));
	r->mode = mode;
	r->tcp.data = r->creq.data = r->t.data = r;
	uv_tcp_init(&W->loop, &r->tcp);
	uv_timer_init(&W->loop, &r->t);
	if (mode != RAW_GARBAGE && mode != RAW_BIG_PREFIX && mode != RAW_IDLE) {
		struct link_sm_cfg c = {
			.initiator = true, .static_priv = ipriv,
			.remote_pub = rpub, .role = LINK_ROLE_CLIENT,
			.packet_len = PL,
			.ops = {raw_sm_send, raw_sm_open, raw_sm_cmd},
			.ops_ctx = r,
		};
		r->sm = link_sm_new(&c);
		cr_assert_not_null(r->sm);
	}
	struct sockaddr_in sa;
	uv_ip4_addr("127.0.0.1", port, &sa);
	cr_assert_eq(uv_tcp_connect(&r->creq, &r->tcp,
				    (struct sockaddr *)&sa, raw_connected), 0);
	return r;
}

static void
raw_closed(uv_handle_t *h)
{
	(void)h;
}

static void
raw_free(struct raw *r)
{
	uv_close((uv_handle_t *)&r->tcp, raw_closed);
	uv_close((uv_handle_t *)&r->t, raw_closed);
	uv_run(&W->loop, UV_RUN_NOWAIT);
	LINK_SM_FREE(r->sm);
	free(r);
}

/* Run until the responder closed the raw peer; check why and how fast. */
static void
raw_expect(enum raw_mode mode, enum link_err why, uint64_t within_ms)
{
	uint16_t port = world_new(5000, NULL);
	struct raw *r = raw_new(port, mode);
	while (!r->eof && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	cr_assert(r->eof, "mode %d: disconnected", mode);
	cr_assert_leq(r->t_eof - r->t_connect, within_ms,
		      "mode %d: took %llu ms", mode,
		      (unsigned long long)(r->t_eof - r->t_connect));
	while (W->r.closes == 0 && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	cr_assert_eq(W->r.last.why, why, "mode %d: why %d", mode,
		     W->r.last.why);
	cr_assert_eq(W->r.opens, mode == RAW_TRUNC_FRAME ? 1 : 0);
	/* Nothing left behind: no connection object, no queued bytes. */
	uv_run(&W->loop, UV_RUN_NOWAIT);
	struct link_stats st;
	link_mgr_stats(W->r.m, &st);
	cr_assert_eq(st.conns, 0);
	cr_assert_eq(st.queued_bytes, 0);
	cr_assert_eq(st.failed, 1);
	raw_free(r);
	finish();
	world_run_and_free();
}

Test(net_link, slow_reader_bounded_by_write_queue)
{
	uint16_t port = world_new(10000, NULL);
	struct raw *r = raw_new(port, RAW_NO_READ);
	while (W->r.opens == 0 && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	cr_assert_eq(W->r.opens, 1);
	/* Fill the kernel buffers, then our queue, until sends are refused. */
	static uint8_t pkt[PL];
	uint64_t accepted = 0, refused = 0;
	for (int round = 0; round < 20; round++) {
		for (int k = 0; k < 2000; k++) {
			if (link_conn_send_packet(W->r.conn, pkt, PL) == LINK_OK)
				accepted++;
			else
				refused++;
		}
		uv_run(&W->loop, UV_RUN_NOWAIT);
	}
	struct link_stats st;
	link_mgr_stats(W->r.m, &st);
	cr_assert_gt(refused, 0, "a peer that does not read hits the bound");
	cr_assert_eq(st.dropped_full, refused);
	cr_assert_leq(link_conn_queued(W->r.conn), 256);
	cr_assert_leq(st.queued_bytes, 256 * link_frame_wire_len(PL));
	cr_assert_lt(accepted, 40000, "memory did not grow with the sends");
	raw_free(r);
	finish();
	world_run_and_free();
}

Test(net_link, garbage_before_handshake)
{
	raw_expect(RAW_GARBAGE, LINK_ERR_LENGTH, 250);
}

Test(net_link, oversized_length_prefix)
{
	raw_expect(RAW_BIG_PREFIX, LINK_ERR_LENGTH, 250);
}

Test(net_link, truncated_handshake_times_out)
{
	raw_expect(RAW_TRUNC_HS, LINK_ERR_TIMEOUT, 300 + 300);
}

Test(net_link, one_byte_at_a_time_times_out)
{
	raw_expect(RAW_TRICKLE, LINK_ERR_TIMEOUT, 300 + 300);
}

Test(net_link, truncated_transport_frame_times_out)
{
	raw_expect(RAW_TRUNC_FRAME, LINK_ERR_TIMEOUT, 400 + 300);
}

/* Three idle peers against a responder that takes two: one is refused. */
static void
limit_case(uint32_t max_conns, uint32_t max_per_addr)
{
	struct link_cfg rc;
	world_new(5000, NULL);
	/* Rebuild the responder with the limits under test. */
	link_mgr_close(W->r.m, NULL, NULL);
	rc = cfg_for(&W->r, rpriv);
	rc.max_conns = max_conns;
	rc.max_per_addr = max_per_addr;
	rc.handshake_timeout_ms = 2000;
	W->r.m = link_mgr_new(&W->loop, &rc);
	uint16_t port = 0;
	cr_assert_eq(link_mgr_listen(W->r.m, "127.0.0.1", 0, &port), 0);
	struct raw *a = raw_new(port, RAW_IDLE), *b = raw_new(port, RAW_IDLE),
		   *c = raw_new(port, RAW_IDLE);
	struct link_stats st = {0};
	while (st.accepted < 3 && !W->guard_fired) {
		uv_run(&W->loop, UV_RUN_ONCE);
		link_mgr_stats(W->r.m, &st);
	}
	while (!c->eof && !a->eof && !b->eof && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	link_mgr_stats(W->r.m, &st);
	cr_assert_eq(st.refused_limit, 1);
	cr_assert_eq(st.conns, 2);
	cr_assert_eq((int)a->eof + (int)b->eof + (int)c->eof, 1,
		     "exactly one of three was closed");
	raw_free(a);
	raw_free(b);
	raw_free(c);
	finish();
	world_run_and_free();
}

Test(net_link, per_address_limit)
{
	limit_case(100, 2);
}

Test(net_link, total_limit)
{
	limit_case(2, 100);
}

Test(net_link, reconnect_with_backoff)
{
	uint16_t port = world_new(5000, NULL);
	struct link_conn *c = link_mgr_connect(W->i.m, "127.0.0.1", port, rpub,
					       true);
	cr_assert_not_null(c);
	while (W->r.opens == 0 && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	/* The responder drops it three times; the initiator comes back. */
	for (int k = 0; k < 3; k++) {
		int before = W->r.opens;
		link_conn_close(W->r.conn, LINK_ERR_SHUTDOWN);
		while (W->r.opens == before && !W->guard_fired)
			uv_run(&W->loop, UV_RUN_ONCE);
	}
	cr_assert_not(W->guard_fired);
	cr_assert_eq(W->i.opens, 4);
	cr_assert_eq(W->i.closes, 3);
	cr_assert(W->i.last.retrying);
	cr_assert_eq(W->i.last.peer_reason, LINK_ERR_SHUTDOWN);
	link_conn_close(c, LINK_ERR_SHUTDOWN);
	finish();
	uv_run(&W->loop, UV_RUN_DEFAULT);
	cr_assert_eq(W->i.closes_final, 1, "told once that it is gone");
	world_run_and_free();
}

Test(net_link, backoff_grows_with_jitter)
{
	world_new(3000, NULL);
	uint16_t port = closed_port();
	struct link_conn *c = link_mgr_connect(W->i.m, "127.0.0.1", port, rpub,
					       true);
	while (W->i.closes < 6 && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	cr_assert_geq(W->i.closes, 6);
	cr_assert_eq(W->i.last.why, LINK_ERR_IO);
	/* Waits: 40, 80, 160, 320, 400 ms backoff, each in [b/2, b]. */
	uint32_t b = 40;
	for (int k = 1; k < 6; k++) {
		uint64_t gap = W->i.close_ms[k] - W->i.close_ms[k - 1];
		cr_assert_geq(gap, b / 2, "gap %d = %llu", k,
			      (unsigned long long)gap);
		cr_assert_leq(gap, b + 150, "gap %d = %llu", k,
			      (unsigned long long)gap);
		b = b * 2 > 400 ? 400 : b * 2;
	}
	link_conn_close(c, LINK_ERR_SHUTDOWN);
	finish();
	uv_run(&W->loop, UV_RUN_DEFAULT);
	cr_assert_eq(W->i.closes_final, 1, "told once that it is gone");
	world_run_and_free();
}

Test(net_link, shutdown_while_retrying_reports_once)
{
	world_new(3000, NULL);
	uint16_t port = closed_port();
	cr_assert_not_null(link_mgr_connect(W->i.m, "127.0.0.1", port, rpub,
					    true));
	while (W->i.closes < 2 && !W->guard_fired)
		uv_run(&W->loop, UV_RUN_ONCE);
	cr_assert_eq(W->i.closes_final, 0);
	finish(); /* the manager closes with the connection between tries */
	uv_run(&W->loop, UV_RUN_DEFAULT);
	cr_assert_eq(W->i.closes_final, 1);
	cr_assert_eq(W->i.last.why, LINK_ERR_SHUTDOWN);
	world_run_and_free();
}
