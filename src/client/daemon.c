/* The client daemon: loop, link, streams, replies (daemon.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"
#include "lib/codec.h"
#include "lib/keyfile.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "crypto/xaead.h"

#include "wire/sphinx_surb.h"

#include "client/daemon_internal.h"
#include "client/route.h"

void
daemon_fatal(struct daemon *d, const char *msg)
{
	if (d->exit_code == 0) {
		snprintf(d->fatal, sizeof(d->fatal), "%s", msg);
		d->exit_code = 1;
	}
	evloop_stop(d->ev);
}

/* A tick this much later than armed counts as time we did not run. */
#define DAEMON_STALL_MS 50

static uint64_t
now_us(void)
{
	return time_mono_ns() / 1000;
}

/* The loop alarm's clock: monotonic ms less the time we did not run. */
static uint64_t
daemon_run_ms(const struct daemon *d)
{
	return (uint64_t)time_mono_ms() - d->stalled_ms;
}

/* Our gateway must be in the consensus under the configured link key. */
static const struct dir_node *
daemon_own_gateway(const struct daemon *d, const struct dir_consensus *c)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].desc.role == DIR_ROLE_GATEWAY &&
		    memcmp(c->nodes[i].desc.link_key, d->gw_key, 32) == 0)
			return &c->nodes[i];
	return NULL;
}

static uint64_t
daemon_epoch(const struct dir_params *p)
{
	uint64_t now = (uint64_t)time_wall_s();
	if (now < p->genesis || p->epoch_len_s == 0)
		return 0;
	return (now - p->genesis) / p->epoch_len_s;
}

static void
daemon_on_consensus(void *ctx, const struct dir_consensus *c)
{
	struct daemon *d = ctx;
	struct buf b;
	size_t body;
	char err[200];

	/* The same epoch again: a refresh retry (every 3 s until the gateway
	 * has the new one) or a reconnection; a new one is logged once. */
	bool fresh = !d->have_cons || d->cons.epoch != c->epoch;

	/* Keep our own copy: gwlink replaces its one on the next fetch. */
	buf_init(&b);
	if (d->have_cons)
		dir_consensus_clear(&d->cons);
	d->have_cons = false;
	if (dir_consensus_encode(c, &b) < 0 ||
	    dir_consensus_parse((const char *)b.data, b.len, &d->cons, &body,
				err, sizeof(err)) < 0) {
		buf_free(&b);
		daemon_fatal(d, "cannot copy the consensus");
		return;
	}
	buf_free(&b);
	d->have_cons = true;
	const struct dir_node *own = daemon_own_gateway(d, &d->cons);
	if (own == NULL) {
		daemon_fatal(d, "the configured gateway_key is not a gateway "
				"of the consensus: check the config");
		return;
	}
	if (cpacket_ctx_init(&d->px, &d->cons, daemon_epoch(&d->cons.params),
			     own, d->reply_queue) < 0) {
		daemon_fatal(d, "the consensus geometry does not fit our "
				"routes (hops < 5)");
		return;
	}
	d->px_ok = true;
	const struct dir_params *p = &d->cons.params;
	/* The wait at the gateway is a queue behind our own replies. */
	double fetch_ms =
	    route_fetch_wait_ms(p->lambda_f / 1000.0,
				(p->lambda_p + p->lambda_l) / 1000.0, 60000.0);
	double q = route_rtt_quantile_ms(
	    p->mean_delay_ms ? p->mean_delay_ms : 1,
	    p->max_delay_ms ? p->max_delay_ms : 1,
	    ROUTE_FWD_DELAYED + ROUTE_REPLY_DELAYED, fetch_ms, 0.99);
	d->rtt_p99_ms = q > 1.0 ? (uint64_t)q : 1;
	d->arq.p.timeout_ms = d->rtt_p99_ms;
	struct sched_rates r;
	sched_rates_from_milli(&r, p->lambda_p, p->lambda_l, p->lambda_d,
			       p->lambda_f);
	if (!d->sched_on)
		sched_init(&d->sched, &r, NULL, now_us());
	else
		sched_set_rates(&d->sched, &r, now_us());
	d->sched_on = true;
	if (!d->gw.registered ||
	    client_store_put(d->store, "registered", "1", 1) < 0)
		log_warn("client: could not record the registration");
	if (fresh)
		log_notice("client: consensus of epoch %llu, %zu nodes; p99 "
			   "round trip %llu ms",
			   (unsigned long long)d->cons.epoch, d->cons.n_nodes,
			   (unsigned long long)d->rtt_p99_ms);
	else
		log_debug("client: consensus of epoch %llu again (no newer "
			  "one yet)",
			  (unsigned long long)d->cons.epoch);
	/* Ready now: a move is noticed before any request sees "ready". */
	daemon_sessions_tick(d);
}

/* A slot for a new reply block; the oldest is overwritten. */
static struct surb_slot *
daemon_surb_slot(struct daemon *d, uint8_t **token)
{
	size_t i = d->surb_next++ % DAEMON_SURBS;
	*token = d->tokens + i * CPACKET_TOKEN_LEN;
	return &d->surbs[i];
}

static int
daemon_send_pkt(struct daemon *d, const uint8_t *pkt)
{
	if (d->conn == NULL || !link_conn_is_open(d->conn))
		return -1;
	return link_conn_send_packet(d->conn, pkt, d->px.g.packet_len) ==
		       LINK_OK
		   ? 0
		   : -1;
}

/*
 * One packet: to dest/recipient, carrying blob, with a reply block whose
 * meaning is kind (SURB_FREE: no reply block, a drop).
 */
static int
daemon_packet(struct daemon *d, const struct dir_node *dest,
	      const uint8_t recipient[32], const uint8_t *blob, size_t blob_len,
	      enum surb_kind kind, const struct arq_msg *m, size_t idx)
{
	uint8_t *pkt = bc_malloc(d->px.g.packet_len);
	uint8_t surb_id[SPHINX_SURB_ID_LEN], *token = NULL;
	struct surb_slot *slot = NULL;
	int rc = -1;

	if (kind != SURB_FREE)
		slot = daemon_surb_slot(d, &token);
	else
		token = d->tokens; /* unused without a reply block */
	if (cpacket_build(&d->px, dest, recipient, blob, blob_len,
			  kind != SURB_FREE, pkt, surb_id, token) < 0)
		goto done;
	if (slot != NULL) {
		memset(slot, 0, sizeof(*slot));
		slot->kind = kind;
		memcpy(slot->id, surb_id, sizeof(surb_id));
		slot->sent_ms = time_mono_ms();
		if (m != NULL) {
			memcpy(slot->msg, m->id, ARQ_ID_LEN);
			slot->frag = (uint32_t)idx;
		}
	}
	rc = daemon_send_pkt(d, pkt);
	if (rc == 0 && kind == SURB_LOOP)
		loopmon_sent(&d->loopmon, be64_get(surb_id), daemon_run_ms(d));
done:
	free(pkt);
	return rc;
}

/* The recipient of a real fragment: contact/<n> = gateway identity (32) |
 * queue (32) | transport key (32), in the store. */
static int
daemon_send_fragment(struct daemon *d, struct arq_msg *m, size_t idx)
{
	char name[40];
	uint8_t *v = NULL, *plain = NULL, *blob = NULL;
	size_t len = 0, blen = d->px.g.blob_len;
	const struct dir_node *dest;
	int rc = -1;

	snprintf(name, sizeof(name), "contact/%llu",
		 (unsigned long long)m->contact);
	if (client_store_get(d->store, name, &v, &len) != 0 || len != 96)
		goto done;
	dest = route_find(&d->cons, v);
	if (dest == NULL)
		goto done;
	plain = bc_malloc(blen - XAEAD_OVERHEAD);
	blob = bc_malloc(blen);
	if (arq_frag_encode(&d->arq, m, idx, plain, blen - XAEAD_OVERHEAD) <
		0 ||
	    arq_wrap(blob, blen, plain, v + 64) < 0)
		goto done;
	rc = daemon_packet(d, dest, v + 32, blob, blen, SURB_FRAG, m, idx);
done:
	if (v != NULL)
		secret_wipe(v, len);
	free(v);
	free(plain);
	free(blob);
	return rc;
}

/* The sending stream's slot: a real fragment when one is due, else cover. */
static void
daemon_on_send(struct daemon *d)
{
	struct arq_msg *m;
	size_t idx;
	uint64_t now = (uint64_t)time_wall_ms();

	while (arq_next(&d->arq, now, &m, &idx)) {
		if (daemon_send_fragment(d, m, idx) == 0) {
			arq_sent(&d->arq, m, idx, now);
			d->real_sent++;
			sessions_on_sent(&d->ss, m->id);
			return;
		}
		/* No route to this contact now: try it again later. */
		arq_sent(&d->arq, m, idx, now);
	}
	const struct dir_node *gw =
	    route_pick_gateway(&d->cons, DIR_SERVICE_ECHO);
	if (gw != NULL)
		daemon_packet(d, gw, CPACKET_ECHO_ID, NULL, 0, SURB_COVER, NULL,
			      0);
}

static void
daemon_event(struct daemon *d, enum sched_stream st)
{
	const struct dir_node *gw;

	d->sent[st]++;
	switch (st) {
	case SCHED_SEND:
		daemon_on_send(d);
		break;
	case SCHED_LOOP:
		gw = route_pick_gateway(&d->cons, DIR_SERVICE_ECHO);
		if (gw != NULL)
			daemon_packet(d, gw, CPACKET_ECHO_ID, NULL, 0,
				      SURB_LOOP, NULL, 0);
		break;
	case SCHED_DROP:
		gw = route_pick_gateway(&d->cons, 0);
		if (gw != NULL)
			daemon_packet(d, gw, CPACKET_DROP_ID, NULL, 0,
				      SURB_FREE, NULL, 0);
		break;
	case SCHED_FETCH:
		gwlink_fetch(&d->gw);
		break;
	case SCHED_NSTREAMS:
		break;
	}
}

/*
 * A new epoch began: ask the gateway for its consensus. The old one's
 * packet keys are erased a grace period into the new epoch, after which
 * packets built with them die at the first mix. Until the new one comes
 * (the gateway may still serve the old one for a moment), every 3 s.
 */
static void
daemon_refresh(struct daemon *d)
{
	uint64_t now = (uint64_t)time_wall_ms();

	if (!d->have_cons || d->gw.state != GWLINK_READY ||
	    daemon_epoch(&d->cons.params) <= d->cons.epoch ||
	    now < d->refresh_after_ms)
		return;
	d->refresh_after_ms = now + 3000;
	if (gwlink_refresh(&d->gw, (int64_t)now) < 0)
		log_warn("client: cannot ask for the new consensus");
}

/* Loops not back within the round trip's p99: warn (docs/client.md). */
static void
daemon_loop_alarm(struct daemon *d)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(600000);
	struct loopmon *m = &d->loopmon;
	int c = loopmon_tick(m, daemon_run_ms(d), d->rtt_p99_ms,
			     d->gw.remaining > 0);

	if (c == -1)
		log_notice("client: loops return again (%.0f %% of the last "
			   "%zu)",
			   100.0 * loopmon_ratio(m), m->wn);
	else if (m->alarm)
		log_ratelim(&rl, LOG_LVL_WARN,
			    "client: only %.0f %% of the "
			    "last %zu loops came back within %llu ms: the "
			    "network loses packets, or someone drops them",
			    100.0 * loopmon_ratio(m), m->wn,
			    (unsigned long long)d->rtt_p99_ms);
}

/*
 * The ARQ timeout is the model's p99 round trip, or the p99 we measure
 * when that is longer: messages arriving faster than we fetch make a
 * backlog at our gateway that delays acknowledgements, and resending then
 * only spends sending slots (docs/client.md "Fetch capacity").
 */
static void
daemon_adapt_timeout(struct daemon *d)
{
	uint64_t now = (uint64_t)time_mono_ms(), t = d->rtt_p99_ms;

	if (now < d->adapt_after_ms)
		return;
	d->adapt_after_ms = now + 1000;
	if (d->loopmon.rtt_n >= 64) {
		double m = loopmon_rtt_quantile(&d->loopmon, 0.99);
		if (m > (double)t)
			t = m < 600000.0 ? (uint64_t)m : 600000;
	}
	d->arq.p.timeout_ms = t;
}

/*
 * A tick that fires more than DAEMON_STALL_MS late means this process did
 * not run (starved of CPU on a loaded machine, stopped with SIGSTOP, a
 * paused VM) or its loop was blocked: while it did not run it fetched
 * nothing, so a loop whose reply waited at the gateway all that time was
 * not lost. That time is left out of the loop alarm's clock. The due time
 * counts from the previous tick's start, so a stop in the middle of a
 * tick shows too.
 */
static void
daemon_note_stall(struct daemon *d, uint64_t now)
{
	if (d->tick_due_ms != 0 && now > d->tick_due_ms + DAEMON_STALL_MS)
		d->stalled_ms += now - d->tick_due_ms;
}

/* Timer: fire every due event, give up expired messages, re-arm. */
static void
daemon_tick(void *ctx)
{
	struct daemon *d = ctx;
	enum sched_stream st;
	struct arq_msg *m;
	uint64_t now = now_us(), start_ms = (uint64_t)time_mono_ms();

	daemon_note_stall(d, start_ms);
	daemon_refresh(d);
	if (d->px_ok) {
		daemon_loop_alarm(d);
		daemon_adapt_timeout(d);
	}
	if (d->px_ok && d->gw.state == GWLINK_READY)
		while (sched_pop(&d->sched, now, &st))
			daemon_event(d, st);
	while ((m = arq_expired(&d->arq, (uint64_t)time_wall_ms())) != NULL) {
		log_warn("client: a message was given up after the mailbox "
			 "retention without acknowledgement");
		sessions_on_failed(&d->ss, m->id);
		arq_remove(&d->arq, m);
	}
	daemon_sessions_tick(d);
	daemon_drain_tick(d);
	uint64_t next = d->sched_on ? sched_next_us(&d->sched) : UINT64_MAX;
	uint64_t wait = next > now ? (next - now) / 1000 : 0;
	wait = wait > 200 ? 200 : wait + 1;
	d->tick_due_ms = start_ms + wait;
	evtimer_start(d->tick, wait, 0);
}

static struct surb_slot *
daemon_surb_find(struct daemon *d, const uint8_t *id, uint8_t **token)
{
	for (size_t i = 0; i < DAEMON_SURBS; i++) {
		if (d->surbs[i].kind == SURB_FREE ||
		    memcmp(d->surbs[i].id, id, SPHINX_SURB_ID_LEN) != 0)
			continue;
		*token = d->tokens + i * CPACKET_TOKEN_LEN;
		return &d->surbs[i];
	}
	return NULL;
}

/* An acknowledgement: record it durably, finish the message if complete. */
static void
daemon_acked(struct daemon *d, const struct surb_slot *s)
{
	struct arq_msg *m = arq_find(&d->arq, s->msg);

	if (m == NULL)
		return;
	int r = arq_acked(&d->arq, s->msg, s->frag);
	if (r < 0)
		return;
	if (client_store_msg_ack(d->store, m->row, s->frag) < 0)
		log_warn("client: could not store an acknowledgement");
	if (r == 1) {
		sessions_on_acked(&d->ss, m->id);
		if (client_store_msg_del(d->store, m->row) < 0)
			log_warn("client: could not delete a sent message");
		arq_remove(&d->arq, m);
	}
}

/* A reply through one of our blocks: tag = its SURB id, then zeros. */
static int
daemon_reply(struct daemon *d, const uint8_t *tag, const uint8_t *data,
	     size_t len)
{
	uint8_t *token = NULL;

	if (len != d->px.g.payload_len)
		return -1;
	struct surb_slot *s = daemon_surb_find(d, tag, &token);
	if (s == NULL) {
		d->replies_unknown++; /* replaced, or from before a restart */
		return 0;
	}
	uint8_t *p = bc_memdup(data, len);
	enum sphinx_err e =
	    sphinx_surb_decrypt(&d->px.g, token, CPACKET_TOKEN_LEN, p);
	free(p);
	if (e != SPHINX_OK)
		return -1;
	d->replies++;
	loopmon_rtt(&d->loopmon, (double)(time_mono_ms() - s->sent_ms));
	if (s->kind == SURB_LOOP) {
		d->loops_back++;
		loopmon_back(&d->loopmon, be64_get(s->id));
	} else if (s->kind == SURB_FRAG)
		daemon_acked(d, s);
	s->kind = SURB_FREE;
	return 0;
}

/* A message for us (queue id, data = the blob then zeros): stored, then
 * handled by the end-to-end layer. */
static int
daemon_keep(struct daemon *d, const uint8_t id[LINK_ID_LEN],
	    const uint8_t *queue, const uint8_t *data, size_t len)
{
	if (sessions_on_item(&d->ss, id, queue, data, len) < 0)
		return -1;
	d->items_kept++;
	return 0;
}

int
daemon_on_item(void *ctx, const uint8_t id[static LINK_ID_LEN], uint8_t kind,
	       const uint8_t tag[static LINK_ITEM_TAG_LEN], const uint8_t *data,
	       size_t len)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(60000);
	struct daemon *d = ctx;

	if (kind == LINK_ITEM_REPLY && d->px_ok) {
		if (daemon_reply(d, tag, data, len) < 0)
			log_ratelim(&rl, LOG_LVL_WARN,
				    "client: a reply did "
				    "not open; dropped");
		return 0;
	}
	if (kind == LINK_ITEM_MESSAGE)
		return daemon_keep(d, id, tag, data, len);
	log_ratelim(&rl, LOG_LVL_WARN,
		    "client: an item of unknown kind from "
		    "the gateway; dropped");
	return 0;
}

static int
daemon_gw_send(void *ctx, const struct link_cmd *cmd)
{
	struct daemon *d = ctx;

	if (d->conn == NULL)
		return -1;
	return link_conn_send(d->conn, cmd) == LINK_OK ? 0 : -1;
}

static void
daemon_on_open(struct link_conn *c, void *ctx)
{
	struct daemon *d = ctx;

	if (daemon_drain_is(d, c)) {
		daemon_drain_opened(d);
		return;
	}
	d->conn = c;
	d->connects++;
	log_notice("client: link to the gateway is up");
	gwlink_opened(&d->gw, time_wall_ms());
}

static enum link_err
daemon_on_cmd(struct link_conn *c, const struct link_cmd *cmd, void *ctx)
{
	struct daemon *d = ctx;

	if (daemon_drain_is(d, c))
		return daemon_drain_cmd(d, cmd);
	enum link_err e = gwlink_on_cmd(&d->gw, cmd, time_wall_ms());
	if (d->gw.state == GWLINK_FATAL)
		daemon_fatal(d, d->gw.err);
	return e;
}

static void
daemon_on_close(struct link_conn *c, const struct link_close_info *i, void *ctx)
{
	struct daemon *d = ctx;

	if (daemon_drain_is(d, c)) {
		daemon_drain_closed(d, c, i);
		return;
	}
	if (i->was_open)
		d->disconnects++;
	gwlink_closed(&d->gw);
	if (d->ss_open)
		sessions_link_down(&d->ss);
	/*
	 * Noise XK: a responder without the static key we dialled cannot
	 * answer our first message, so the handshake fails to verify. A
	 * gateway that is down gives a socket error instead. Three in a row
	 * before any link opened: the configured key is wrong.
	 */
	if (!i->was_open && i->why == LINK_ERR_HANDSHAKE && d->connects == 0 &&
	    ++d->bad_handshakes >= 3) {
		daemon_fatal(d, "the gateway does not hold the configured "
				"gateway_key (three handshakes failed): check "
				"the config");
		return;
	}
	if (i->peer_reason == LINK_ERR_AUTH)
		log_warn("client: the gateway refused our link key");
	if (!i->retrying)
		d->conn = NULL;
	else
		log_notice("client: link to the gateway down (%s); "
			   "reconnecting",
			   link_err_str(i->why));
}

/* Read the passphrase (first line of the file) into secret memory. */
static int
daemon_passphrase(const char *path, char **pass, size_t *len, char *err,
		  size_t errlen)
{
	FILE *f = fopen(path, "r");
	int ret = -1;

	*pass = secret_alloc(1024);
	if (f == NULL) {
		snprintf(err, errlen, "passphrase file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fgets(*pass, 1024, f) != NULL) {
		*len = strcspn(*pass, "\r\n");
		(*pass)[*len] = 0;
		ret = *len > 0 ? 0 : -1;
	}
	if (ret < 0)
		snprintf(err, errlen, "passphrase file %s: empty", path);
	fclose(f);
	return ret;
}

static int
daemon_open_store(struct daemon *d, char *err, size_t errlen)
{
	struct client_store_key k = {0};
	char *pass = NULL;
	uint8_t *key = secret_alloc(32);
	int ret = -1;

	pwkdf_cost_default(&k.cost);
	k.cost.mem_kib = (uint32_t)d->cfg->store_cost_mib * 1024;
	if (d->cfg->passphrase_file[0] != 0) {
		if (daemon_passphrase(d->cfg->passphrase_file, &pass,
				      &k.pass_len, err, errlen) < 0)
			goto done;
		k.pass = pass;
	} else {
		if (keyfile_read_private(d->cfg->key_file, "x25519", key, 32,
					 err, errlen) < 0)
			goto done;
		k.key = key;
	}
	d->store = client_store_open(d->cfg->store, &k, err, errlen);
	ret = d->store != NULL ? 0 : -1;
done:
	SECRET_FREE(pass);
	SECRET_FREE(key);
	return ret;
}

/* A value kept in the store, created at random on first use. */
static int
daemon_persistent(struct daemon *d, const char *name, uint8_t *out, size_t len)
{
	uint8_t *v = NULL;
	size_t n = 0;
	int r = client_store_get(d->store, name, &v, &n);

	if (r == 0 && n == len) {
		memcpy(out, v, len);
		secret_wipe(v, n);
		free(v);
		return 0;
	}
	free(v);
	if (r != 1)
		return -1;
	rand_bytes(out, len);
	return client_store_put(d->store, name, out, len);
}

static int
daemon_load_msg(void *ctx, const struct client_store_msg *m)
{
	struct daemon *d = ctx;
	struct arq_msg *a = arq_add(&d->arq, m->contact, m->id, m->seq, m->body,
				    m->body_len, m->queued_ms, m->acked);
	if (a == NULL)
		return -1;
	a->row = m->row;
	return 0;
}

static int
daemon_parse_cfg(struct daemon *d, char *err, size_t errlen)
{
	const struct client_config *c = d->cfg;
	const char *colon = strrchr(c->gateway, ':');
	size_t n = 0;
	char *end = NULL;

	if (dir_authset_load(&d->as, c->authorities, err, errlen) < 0)
		return -1;
	if (base64_decode(d->gw_key, sizeof(d->gw_key), &n, c->gateway_key,
			  strlen(c->gateway_key)) != 0 ||
	    n != 32) {
		snprintf(err, errlen,
			 "config: gateway_key is not a base64 "
			 "32-byte key");
		return -1;
	}
	if (colon == NULL ||
	    (size_t)(colon - c->gateway) >= sizeof(d->gw_host)) {
		snprintf(err, errlen, "config: gateway is not host:port");
		return -1;
	}
	memcpy(d->gw_host, c->gateway, (size_t)(colon - c->gateway));
	d->gw_host[colon - c->gateway] = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (end == colon + 1 || *end != 0 || port == 0 || port > 65535) {
		snprintf(err, errlen, "config: gateway port out of range");
		return -1;
	}
	d->gw_port = (uint16_t)port;
	return 0;
}

static void
daemon_on_signal(void *ctx, int signum)
{
	struct daemon *d = ctx;

	log_notice("client: signal %d, stopping", signum);
	evloop_stop(d->ev);
}

/* Store, keys, outbox: everything before the loop starts. */
static int
daemon_prepare(struct daemon *d, char *err, size_t errlen)
{
	struct arq_params ap;
	uint8_t *reg = NULL;
	size_t n = 0;

	if (daemon_parse_cfg(d, err, errlen) < 0 ||
	    daemon_open_store(d, err, errlen) < 0)
		return -1;
	d->link_priv = secret_alloc(32);
	if (daemon_persistent(d, "link_key", d->link_priv, 32) < 0 ||
	    daemon_persistent(d, "reply_queue", d->reply_queue, 32) < 0) {
		snprintf(err, errlen,
			 "client store: cannot read or write keys");
		return -1;
	}
	x25519_base(d->link_pub, d->link_priv);
	bool registered =
	    client_store_get(d->store, "registered", &reg, &n) == 0;
	free(reg);
	gwlink_init(&d->gw, &d->as,
		    &(struct gwlink_ops){daemon_gw_send, daemon_on_consensus,
					 daemon_on_item, d, daemon_on_queue},
		    registered, (const uint8_t *)d->cfg->token,
		    strlen(d->cfg->token));
	d->gw.reply_queue = d->reply_queue;
	arq_params_default(&ap, 5000);
	arq_init(&d->arq, &ap, 2000);
	if (client_store_msg_each(d->store, daemon_load_msg, d) != 0) {
		snprintf(err, errlen,
			 "client store: a queued message does "
			 "not open (damaged store)");
		return -1;
	}
	if (daemon_sessions_open(d, err, errlen) < 0)
		return -1;
	d->surbs = bc_calloc(DAEMON_SURBS, sizeof(*d->surbs));
	loopmon_init(&d->loopmon);
	d->tokens = secret_alloc(DAEMON_SURBS * CPACKET_TOKEN_LEN);
	return 0;
}

static int
daemon_start(struct daemon *d, char *err, size_t errlen)
{
	struct link_cfg lc = {
	    .static_priv = d->link_priv,
	    .role = LINK_ROLE_CLIENT,
	    .on_open = daemon_on_open,
	    .on_cmd = daemon_on_cmd,
	    .on_close = daemon_on_close,
	    .ctx = d,
	};

	d->ev = evloop_new();
	d->lm = link_mgr_new(evloop_uv(d->ev), &lc);
	if (d->lm == NULL) {
		snprintf(err, errlen, "link: bad configuration");
		return -1;
	}
	d->ctl = ctlsock_listen(evloop_uv(d->ev), d->cfg->control_socket,
				daemon_ctl_handle, d, err, errlen);
	if (d->ctl == NULL)
		return -1;
	if (link_mgr_connect(d->lm, d->gw_host, d->gw_port, d->gw_key, true) ==
	    NULL) {
		snprintf(err, errlen,
			 "config: gateway address %s is not an "
			 "IP address",
			 d->gw_host);
		return -1;
	}
	evloop_on_signals(d->ev, daemon_on_signal, d);
	d->tick = evtimer_new(d->ev, daemon_tick, d);
	evtimer_start(d->tick, 1, 0);
	d->start_ms = time_mono_ms();
	return 0;
}

static void
daemon_cleanup(struct daemon *d)
{
	ctlsock_close(d->ctl);
	if (d->lm != NULL)
		link_mgr_close(d->lm, NULL, NULL);
	if (d->ev != NULL)
		evloop_free(d->ev);
	gwlink_free(&d->gw);
	if (d->dgw_on)
		gwlink_free(&d->dgw);
	if (d->ss_open)
		sessions_close(&d->ss);
	arq_free(&d->arq);
	if (d->have_cons)
		dir_consensus_clear(&d->cons);
	client_store_close(d->store);
	SECRET_FREE(d->link_priv);
	SECRET_FREE(d->tokens);
	BC_FREE(d->surbs);
}

int
client_daemon_run(const struct client_config *c)
{
	struct daemon *d = bc_calloc(1, sizeof(*d));
	char err[300] = "";
	int rc = 1;

	d->cfg = c;
	if (daemon_prepare(d, err, sizeof(err)) < 0 ||
	    daemon_start(d, err, sizeof(err)) < 0) {
		fprintf(stderr, "backchannel client: %s\n", err);
		goto done;
	}
	log_notice("client: running; control socket %s", c->control_socket);
	if (evloop_run(d->ev) < 0 && d->exit_code == 0)
		snprintf(d->fatal, sizeof(d->fatal), "event loop failed");
	if (d->fatal[0] != 0) {
		fprintf(stderr, "backchannel client: %s\n", d->fatal);
		goto done;
	}
	rc = 0;
done:
	daemon_cleanup(d);
	free(d);
	return rc;
}
