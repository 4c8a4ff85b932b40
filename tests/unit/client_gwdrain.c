/*
 * The drain of an old gateway (client/gwdrain.h) on the real client store:
 * its record survives a restart field for field; every truncation, an
 * extra byte, another version or state, and an entry count over the bound
 * are refused (the store counts as damaged: sessions_open fails) without
 * a crash; a queue is done only once its contact switched and a fetch
 * sent a grace period later found the old gateway empty, then deleted,
 * and the last delete ends the drain (record gone); an expired invitation
 * and a blocked contact are done at once; giving up keeps the count.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/session.h"
#include "client/session_internal.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "lib/log.h"
#include "wire/link_err.h"

static char dir[64], path[128];
static uint8_t store_key[32];

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	log_init("client_gwdrain", LOG_LVL_ERR);
	snprintf(dir, sizeof(dir), "/tmp/bc-gwdrain-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/client.db", dir);
	rand_bytes(store_key, sizeof(store_key));
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(client_gwdrain, .init = setup, .fini = teardown, .timeout = 60);

static int no_queue_op(void *ctx, bool create, const uint8_t id[32])
{
	(void)ctx;
	(void)create;
	(void)id;
	return -1;
}

struct engine {
	struct client_store *cs;
	struct arq arq;
	struct sessions s;
};

/* -1 when sessions_open refuses the store. */
static int engine_open(struct engine *e)
{
	struct arq_params p;
	struct session_ops ops = { .queue_op = no_queue_op };
	struct client_store_key k = { .key = store_key };
	char err[256];

	arq_params_default(&p, 1000);
	arq_init(&e->arq, &p, 2000);
	e->cs = client_store_open(path, &k, err, sizeof(err));
	cr_assert_not_null(e->cs, "%s", err);
	if (sessions_open(&e->s, e->cs, &e->arq, &ops, "me", err,
			  sizeof(err)) == 0)
		return 0;
	arq_free(&e->arq);
	client_store_close(e->cs);
	return -1;
}

static void engine_close(struct engine *e)
{
	sessions_close(&e->s);
	arq_free(&e->arq);
	client_store_close(e->cs);
}

/* A contact of state st with a random queue, id id. */
static struct contact *add_contact(struct engine *e, uint64_t id,
				   enum contact_state st)
{
	struct contact *c = contact_new();

	c->id = id;
	c->state = st;
	snprintf(c->name, sizeof(c->name), "c%llu", (unsigned long long)id);
	rand_bytes(c->our_queue, 32);
	ss_add_contact(&e->s, c);
	return c;
}

static void old_gateway(struct e2e_gateway *g)
{
	memset(g, 0, sizeof(*g));
	rand_bytes(g->key, 32);
	snprintf(g->host, sizeof(g->host), "127.0.0.1");
	g->port = 7001;
}

/* The record as stored (caller frees). */
static uint8_t *record(struct engine *e, size_t *n)
{
	uint8_t *v = NULL;
	cr_assert_eq(client_store_get(e->cs, "gwdrain", &v, n), 0);
	return v;
}

Test(client_gwdrain, record_round_trip_and_strict)
{
	struct engine e;
	struct e2e_gateway g;
	uint8_t link[32], q1[32], q2[32];
	size_t n = 0;

	cr_assert_eq(engine_open(&e), 0);
	cr_assert_eq(e.s.drain.state, GWDRAIN_NONE);
	struct contact *c1 = add_contact(&e, 1, CONTACT_READY);
	struct contact *c2 = add_contact(&e, 2, CONTACT_INVITED);
	add_contact(&e, 3, CONTACT_BLOCKED); /* no queue to drain */
	memcpy(q1, c1->our_queue, 32);
	memcpy(q2, c2->our_queue, 32);
	old_gateway(&g);
	rand_bytes(link, 32);
	cr_assert_eq(gwdrain_begin(&e.s, &g, link, 123456789), 0);
	cr_assert_eq(e.s.drain.nq, 2);
	cr_assert_eq(gwdrain_owner(&e.s, q1), 1);
	cr_assert_eq(gwdrain_owner(&e.s, q2), 2);
	uint8_t *v = record(&e, &n);
	engine_close(&e);

	/* A restart reads it back, field for field. */
	cr_assert_eq(engine_open(&e), 0);
	const struct gwdrain *d = &e.s.drain;
	cr_assert_eq(d->state, GWDRAIN_ACTIVE);
	cr_assert_eq(memcmp(d->gw.key, g.key, 32), 0);
	cr_assert_str_eq(d->gw.host, "127.0.0.1");
	cr_assert_eq(d->gw.port, 7001);
	cr_assert_eq(memcmp(d->link_key, link, 32), 0);
	cr_assert_eq(d->deadline_ms, 123456789);
	cr_assert_eq(d->nq, 2);
	cr_assert_eq(d->q[0].contact, 1);
	cr_assert_eq(memcmp(d->q[0].queue, q1, 32), 0);
	cr_assert_eq(d->q[1].contact, 2);

	/* Every truncation, one byte more, another version or state, and
	 * an entry count over the bound: a damaged store, refused. */
	for (size_t cut = 0; cut <= n + 1; cut++) {
		uint8_t *w = calloc(1, n + 2);
		memcpy(w, v, n);
		size_t len = cut;
		if (cut == n)
			w[0] = GWDRAIN_VERSION + 1; /* length n, another version */
		if (cut == n + 1)
			len = n + 1; /* one zero byte more */
		cr_assert_eq(client_store_put(e.cs, "gwdrain", w, len), 0);
		cr_assert_eq(gwdrain_load(&e.s), -1, "length %zu", cut);
		cr_assert_eq(e.s.drain.state, GWDRAIN_NONE);
		cr_assert_null(e.s.drain.q);
		free(w);
	}
	v[1] = 7; /* no such state */
	cr_assert_eq(client_store_put(e.cs, "gwdrain", v, n), 0);
	cr_assert_eq(gwdrain_load(&e.s), -1);
	engine_close(&e);
	cr_assert_eq(engine_open(&e), -1, "a damaged record stops the start");
	free(v);
}

/* The queue-count field over the bound (the entries absent). */
Test(client_gwdrain, entry_count_bound)
{
	struct engine e;
	struct e2e_gateway g;
	size_t n = 0;

	cr_assert_eq(engine_open(&e), 0);
	add_contact(&e, 1, CONTACT_READY);
	old_gateway(&g);
	cr_assert_eq(gwdrain_begin(&e.s, &g, NULL, 1), 0);
	uint8_t *v = record(&e, &n);
	/* u16 n sits before the one entry of 48 bytes. */
	v[n - 48 - 2] = 0xff;
	v[n - 48 - 1] = 0xff;
	cr_assert_eq(client_store_put(e.cs, "gwdrain", v, n), 0);
	cr_assert_eq(gwdrain_load(&e.s), -1);
	free(v);
	engine_close(&e);
}

static uint8_t deleted[4][32];
static size_t ndeleted;

static int delete_op(void *ctx, const uint8_t id[32])
{
	(void)ctx;
	memcpy(deleted[ndeleted++], id, 32);
	return 0;
}

Test(client_gwdrain, done_only_after_switch_grace_and_empty_fetch)
{
	struct engine e;
	struct e2e_gateway g;
	uint8_t old[32];
	uint8_t *v = NULL;
	size_t n = 0;

	cr_assert_eq(engine_open(&e), 0);
	struct contact *c = add_contact(&e, 1, CONTACT_READY);
	struct contact *inv = add_contact(&e, 2, CONTACT_INVITED);
	struct contact *blk = add_contact(&e, 3, CONTACT_READY);
	memcpy(old, c->our_queue, 32);
	old_gateway(&g);
	uint64_t now = ss_now_ms();
	cr_assert_eq(gwdrain_begin(&e.s, &g, NULL, now + 3600000), 0);
	inv->expiry = now / 1000 + 3600; /* still open */
	blk->state = CONTACT_BLOCKED;
	gwdrain_tick(&e.s, NULL, now);
	ndeleted = 0;
	gwdrain_deletes(&e.s, delete_op, NULL);
	cr_assert_eq(ndeleted, 1, "only the blocked contact's queue");
	gwdrain_on_queue(&e.s, deleted[0], LINK_OK);
	cr_assert_eq(e.s.drain.nq, 2);

	/* An item on the old queue is no switch; nor before c moved. */
	gwdrain_seen(&e.s, c, old);
	cr_assert_eq(e.s.drain.q[0].switched_ms, 0);
	rand_bytes(c->our_queue, 32); /* c moved */
	gwdrain_seen(&e.s, c, old);
	cr_assert_eq(e.s.drain.q[0].switched_ms, 0);
	cr_assert_eq(gwdrain_owner(&e.s, old), 1, "old queue still c's");
	gwdrain_seen(&e.s, c, c->our_queue);
	uint64_t sw = e.s.drain.q[0].switched_ms;
	cr_assert_gt(sw, 0);
	cr_assert_eq(gwdrain_due(&e.s, 5000), sw + 5000);

	/* Empty, but sent before the grace passed: not done. */
	gwdrain_on_empty(&e.s, sw + 4999, 5000);
	gwdrain_deletes(&e.s, delete_op, NULL);
	cr_assert_eq(ndeleted, 1);
	gwdrain_on_empty(&e.s, sw + 5000, 5000);
	gwdrain_deletes(&e.s, delete_op, NULL);
	cr_assert_eq(ndeleted, 2);
	cr_assert_eq(memcmp(deleted[1], old, 32), 0);
	/* Refused: not removed, asked again once done again. */
	gwdrain_on_queue(&e.s, old, LINK_ERR_UNAVAILABLE);
	cr_assert_eq(e.s.drain.nq, 2);
	gwdrain_on_empty(&e.s, sw + 6000, 5000);
	gwdrain_deletes(&e.s, delete_op, NULL);
	cr_assert_eq(ndeleted, 3);
	gwdrain_on_queue(&e.s, old, LINK_ERR_NO_QUEUE);
	cr_assert_eq(e.s.drain.nq, 1);
	cr_assert_eq(e.s.drain.state, GWDRAIN_ACTIVE);

	/* The invitation expires: its queue goes, and the drain ends. */
	inv->expiry = now / 1000 - 1;
	gwdrain_tick(&e.s, NULL, now);
	gwdrain_deletes(&e.s, delete_op, NULL);
	cr_assert_eq(ndeleted, 4);
	gwdrain_on_queue(&e.s, deleted[3], LINK_OK);
	cr_assert_eq(e.s.drain.state, GWDRAIN_NONE);
	cr_assert_eq(client_store_get(e.cs, "gwdrain", &v, &n), 1);
	engine_close(&e);
}

Test(client_gwdrain, deadline_gives_up_and_keeps_the_count)
{
	struct engine e;
	struct e2e_gateway g;

	cr_assert_eq(engine_open(&e), 0);
	add_contact(&e, 1, CONTACT_READY);
	add_contact(&e, 2, CONTACT_ACCEPTING);
	old_gateway(&g);
	cr_assert_eq(gwdrain_begin(&e.s, &g, NULL, 1000), 0);
	gwdrain_tick(&e.s, NULL, 999);
	cr_assert_eq(e.s.drain.state, GWDRAIN_ACTIVE);
	gwdrain_tick(&e.s, NULL, 1000);
	cr_assert_eq(e.s.drain.state, GWDRAIN_GIVEN_UP);
	cr_assert_eq(e.s.drain.left, 2);
	cr_assert_eq(e.s.drain.nq, 0);
	engine_close(&e);
	cr_assert_eq(engine_open(&e), 0);
	cr_assert_eq(e.s.drain.state, GWDRAIN_GIVEN_UP);
	cr_assert_eq(e.s.drain.left, 2);
	cr_assert_str_eq(gwdrain_state_name(e.s.drain.state), "given_up");
	engine_close(&e);
}
