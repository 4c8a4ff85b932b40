/* Draining the gateway we moved away from: the end-to-end side (gwdrain.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"

#include "wire/link_err.h"

#include "client/session_internal.h"

#define GWDRAIN_REC "gwdrain"

const char *
gwdrain_state_name(enum gwdrain_state st)
{
	switch (st) {
	case GWDRAIN_NONE:
		return "none";
	case GWDRAIN_ACTIVE:
		return "draining";
	case GWDRAIN_GIVEN_UP:
		return "given_up";
	}
	return "?";
}

void
gwdrain_record_encode(const struct gwdrain *g, struct buf *b)
{
	buf_append_u8(b, GWDRAIN_VERSION);
	buf_append_u8(b, (uint8_t)g->state);
	e2e_gateway_put(b, &g->gw);
	buf_append(b, g->link_key, 32);
	buf_append_u64be(b, g->deadline_ms);
	buf_append_u64be(b, g->started_ms);
	buf_append_u32be(b, g->left);
	buf_append_u16be(b, (uint16_t)g->nq);
	for (size_t i = 0; i < g->nq; i++) {
		buf_append_u64be(b, g->q[i].contact);
		buf_append(b, g->q[i].queue, E2E_QUEUE_ID_LEN);
		buf_append_u64be(b, g->q[i].switched_ms);
	}
}

/* The record (inside the caller's transaction, if any); NONE deletes it. */
static int
gwdrain_save(struct sessions *s)
{
	const struct gwdrain *g = &s->drain;
	struct buf b;

	if (g->state == GWDRAIN_NONE)
		return client_store_del(s->store, GWDRAIN_REC) < 0 ? -1 : 0;
	buf_init(&b);
	gwdrain_record_encode(g, &b);
	int rc = client_store_put(s->store, GWDRAIN_REC, b.data, b.len);
	buf_free(&b);
	return rc;
}

void
gwdrain_free(struct gwdrain *g)
{
	BC_FREE(g->q);
	memset(g, 0, sizeof(*g));
}

/* Into t, which the caller frees whatever the outcome. */
static int
gwdrain_parse(struct gwdrain *t, const uint8_t *v, size_t n)
{
	struct rd r;

	rd_init(&r, v, n);
	uint8_t ver = rd_u8(&r), st = rd_u8(&r);
	if (!rd_ok(&r) || ver != GWDRAIN_VERSION ||
	    (st != GWDRAIN_ACTIVE && st != GWDRAIN_GIVEN_UP) ||
	    e2e_gateway_get(&r, &t->gw) != E2E_OK)
		return -1;
	rd_bytes(&r, t->link_key, 32);
	t->deadline_ms = rd_u64be(&r);
	t->started_ms = rd_u64be(&r);
	t->left = rd_u32be(&r);
	size_t nq = rd_u16be(&r);
	if (!rd_ok(&r) || nq > GWDRAIN_MAX)
		return -1;
	t->q = bc_calloc(nq + 1, sizeof(*t->q));
	for (size_t i = 0; i < nq; i++) {
		t->q[i].contact = rd_u64be(&r);
		rd_bytes(&r, t->q[i].queue, E2E_QUEUE_ID_LEN);
		t->q[i].switched_ms = rd_u64be(&r);
	}
	if (!rd_ok(&r) || rd_remaining(&r) != 0)
		return -1;
	t->nq = nq;
	t->state = (enum gwdrain_state)st;
	t->poke = true;
	return 0;
}

int
gwdrain_record_decode(struct gwdrain *g, const uint8_t *v, size_t n)
{
	struct gwdrain t;

	memset(&t, 0, sizeof(t));
	if (gwdrain_parse(&t, v, n) < 0) {
		gwdrain_free(&t);
		return -1;
	}
	*g = t;
	return 0;
}

int
gwdrain_load(struct sessions *s)
{
	uint8_t *v = NULL;
	size_t n = 0;
	int got = client_store_get(s->store, GWDRAIN_REC, &v, &n);

	gwdrain_free(&s->drain);
	if (got == 1)
		return 0;
	int rc = got == 0 ? gwdrain_record_decode(&s->drain, v, n) : -1;
	free(v);
	return rc;
}

static bool
gwdrain_same(const struct e2e_gateway *a, const struct e2e_gateway *b)
{
	return memcmp(a->key, b->key, 32) == 0 && a->port == b->port &&
	       strcmp(a->host, b->host) == 0;
}

int
gwdrain_begin(struct sessions *s, const struct e2e_gateway *old,
	      const uint8_t *old_link, uint64_t deadline_ms)
{
	struct gwdrain *g = &s->drain;

	if (g->state == GWDRAIN_ACTIVE) {
		/* The same move again (a crash before it was recorded). */
		if (gwdrain_same(&g->gw, old))
			return 0;
		log_warn("client: moved again while draining %s:%u: the %zu "
			 "queue(s) left there are abandoned",
			 g->gw.host, g->gw.port, g->nq);
	}
	gwdrain_free(g);
	g->state = GWDRAIN_ACTIVE;
	g->gw = *old;
	if (old_link != NULL)
		memcpy(g->link_key, old_link, 32);
	g->deadline_ms = deadline_ms;
	g->started_ms = ss_now_ms();
	g->q = bc_calloc(s->nc + 1, sizeof(*g->q));
	for (size_t i = 0; i < s->nc && g->nq < GWDRAIN_MAX; i++) {
		const struct contact *c = s->c[i];
		if (c->state == CONTACT_BLOCKED)
			continue;
		g->q[g->nq].contact = c->id;
		memcpy(g->q[g->nq].queue, c->our_queue, E2E_QUEUE_ID_LEN);
		g->nq++;
	}
	if (g->nq == 0)
		g->state = GWDRAIN_NONE; /* nothing was there */
	g->poke = true;
	return gwdrain_save(s);
}

uint64_t
gwdrain_owner(const struct sessions *s, const uint8_t *queue)
{
	const struct gwdrain *g = &s->drain;

	for (size_t i = 0; i < g->nq; i++)
		if (memcmp(g->q[i].queue, queue, E2E_QUEUE_ID_LEN) == 0)
			return g->q[i].contact;
	return 0;
}

void
gwdrain_seen(struct sessions *s, const struct contact *c, const uint8_t *queue)
{
	struct gwdrain *g = &s->drain;
	bool changed = false;

	if (queue == NULL || memcmp(queue, c->our_queue, E2E_QUEUE_ID_LEN) != 0)
		return;
	for (size_t i = 0; i < g->nq; i++) {
		struct gwdrain_queue *e = &g->q[i];
		if (e->contact != c->id || e->switched_ms != 0 ||
		    memcmp(e->queue, c->our_queue, E2E_QUEUE_ID_LEN) == 0)
			continue;
		e->switched_ms = ss_now_ms();
		changed = true;
		log_info("client: %s sends to our new gateway now", c->name);
	}
	/* Not stored: the next item on the new queue sets it again. */
	if (changed && gwdrain_save(s) < 0)
		log_warn("client: could not store the drain's state");
}

/* c can be told about our new gateway: it gets a queue there (-1: try
 * again at the next tick). */
static int
gwdrain_move(struct sessions *s, struct contact *c,
	     const struct e2e_gateway *own)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(60000);
	int r = ss_move_one(s, c, own);

	if (r == 0) {
		log_notice("client: told %s about our new gateway", c->name);
		return 0;
	}
	ss_reload(s, c); /* c is freed */
	if (r < 0)
		log_ratelim(&rl, LOG_LVL_WARN,
			    "client: could not tell a "
			    "contact about our new gateway; trying again");
	/* r > 0: an inviter before the contact's first message, which
	 * comes to the old queue: tried again once something arrives. */
	return r < 0 ? -1 : 0;
}

/* Entries whose queue is no longer needed, whatever the old gateway
 * holds: contact blocked or gone, invitation expired unused. */
static bool
gwdrain_unneeded(const struct contact *c, uint64_t now_ms)
{
	if (c == NULL || c->state == CONTACT_BLOCKED)
		return true;
	return c->state == CONTACT_INVITED && c->expiry != 0 &&
	       c->expiry * 1000 <= now_ms;
}

void
gwdrain_tick(struct sessions *s, const struct e2e_gateway *own, uint64_t now_ms)
{
	struct gwdrain *g = &s->drain;
	bool poke = g->poke, again = false;

	if (g->state != GWDRAIN_ACTIVE)
		return;
	if (now_ms >= g->deadline_ms) {
		gwdrain_give_up(s, "its deadline passed");
		return;
	}
	g->poke = false;
	for (size_t i = 0; i < g->nq; i++) {
		struct gwdrain_queue *e = &g->q[i];
		struct contact *c = sessions_find_id(s, e->contact);
		if (gwdrain_unneeded(c, now_ms)) {
			e->done = true;
			continue;
		}
		if (own != NULL && poke && c->state == CONTACT_READY &&
		    memcmp(c->our_queue, e->queue, E2E_QUEUE_ID_LEN) == 0 &&
		    gwdrain_move(s, c, own) < 0)
			again = true;
	}
	g->poke |= again || (poke && own == NULL);
}

void
gwdrain_on_empty(struct sessions *s, uint64_t sent_ms, uint64_t grace_ms)
{
	struct gwdrain *g = &s->drain;

	for (size_t i = 0; i < g->nq; i++)
		if (g->q[i].switched_ms != 0 &&
		    g->q[i].switched_ms + grace_ms <= sent_ms)
			g->q[i].done = true;
}

uint64_t
gwdrain_due(const struct sessions *s, uint64_t grace_ms)
{
	const struct gwdrain *g = &s->drain;
	uint64_t due = 0;

	for (size_t i = 0; i < g->nq; i++) {
		uint64_t t = g->q[i].switched_ms + grace_ms;
		if (g->q[i].switched_ms != 0 && !g->q[i].done &&
		    (due == 0 || t < due))
			due = t;
	}
	return due;
}

void
gwdrain_deletes(struct sessions *s, int (*op)(void *ctx, const uint8_t id[32]),
		void *ctx)
{
	struct gwdrain *g = &s->drain;

	if (g->state != GWDRAIN_ACTIVE)
		return;
	for (size_t i = 0; i < g->nq; i++) {
		if (!g->q[i].done || g->q[i].inflight)
			continue;
		if (op(ctx, g->q[i].queue) != 0)
			return;
		g->q[i].inflight = true;
	}
}

void
gwdrain_on_queue(struct sessions *s, const uint8_t id[32], uint8_t code)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(60000);
	struct gwdrain *g = &s->drain;
	size_t i;

	for (i = 0; i < g->nq; i++)
		if (memcmp(g->q[i].queue, id, E2E_QUEUE_ID_LEN) == 0)
			break;
	if (i == g->nq)
		return;
	g->q[i].inflight = false;
	if (code != LINK_OK && code != LINK_ERR_NO_QUEUE) {
		g->q[i].done = false; /* marked again later: no busy loop */
		log_ratelim(&rl, LOG_LVL_WARN,
			    "client: the old gateway did not "
			    "delete a queue (%s); trying again later",
			    link_err_str(code));
		return;
	}
	memmove(&g->q[i], &g->q[i + 1], (g->nq - i - 1) * sizeof(*g->q));
	g->nq--;
	log_info("client: deleted a drained queue at %s:%u; %zu left",
		 g->gw.host, g->gw.port, g->nq);
	if (g->nq == 0) {
		g->state = GWDRAIN_NONE;
		log_notice("client: drained the old gateway %s:%u; its queues "
			   "are deleted and it is forgotten",
			   g->gw.host, g->gw.port);
	}
	if (gwdrain_save(s) < 0)
		log_warn("client: could not store the drain's state");
}

void
gwdrain_link_down(struct sessions *s)
{
	for (size_t i = 0; i < s->drain.nq; i++)
		s->drain.q[i].inflight = false;
}

void
gwdrain_give_up(struct sessions *s, const char *why)
{
	struct gwdrain *g = &s->drain;

	if (g->state != GWDRAIN_ACTIVE)
		return;
	g->left = (uint32_t)g->nq;
	log_warn("client: gave up draining the old gateway %s:%u (%s): %zu "
		 "queue(s) not drained; what they still held is lost",
		 g->gw.host, g->gw.port, why, g->nq);
	struct gwdrain_queue *q = g->q;
	size_t nq = g->nq;
	g->q = NULL;
	g->nq = 0;
	g->state = GWDRAIN_GIVEN_UP;
	if (gwdrain_save(s) < 0)
		log_warn("client: could not store the drain's state");
	/* What those contacts sent later waits in sequence behind what is
	 * lost there: it is handed up now. */
	for (size_t i = 0; i < nq; i++) {
		struct contact *c = sessions_find_id(s, q[i].contact);
		if (c != NULL && (c->flags & CONTACT_F_HAVE_KEYS))
			ss_rx_skip_gaps(s, c, CONTACT_RX_RATCHET);
	}
	free(q);
}
