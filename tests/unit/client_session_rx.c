/*
 * The sessions engine's inbox (session_rx.c) with the real client store:
 * fetched items the ARQ receiver has no room for are kept in the store
 * (parked), not deleted, and every message comes through once and in
 * order, also when the process is killed with SIGKILL part way and started
 * again; the parking bound holds, is counted, and what it gave up is
 * skipped in sequence after a restart too.
 *
 * One contact, "bob", is written to the store directly with a Double
 * Ratchet whose other end (Alice, the sender) lives in the test: its texts
 * are encrypted, framed and cut into ARQ fragments as a real sender's are,
 * sealed under the contact's receiving key, and handed to sessions_on_item
 * as the gateway's items.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/session.h"
#include "client/session_internal.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "crypto/xaead.h"
#include "lib/bytes.h"
#include "lib/log.h"

#define BLOB 2000
#define PLAIN (BLOB - XAEAD_OVERHEAD)
#define TEXT_LEN 1500 /* padded to 4,096: three fragments a message */

static char dir[64], path[128];
static uint8_t store_key[32];

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	log_init("client_session_rx", LOG_LVL_ERR);
	/* tmpfs: thousands of durable writes, without the disk's syncs. */
	snprintf(dir, sizeof(dir), "/dev/shm/bc-session-rx-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		snprintf(dir, sizeof(dir), "/tmp/bc-session-rx-XXXXXX");
		cr_assert_not_null(mkdtemp(dir));
	}
	snprintf(path, sizeof(path), "%s/client.db", dir);
	rand_bytes(store_key, sizeof(store_key));
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(client_session_rx, .init = setup, .fini = teardown, .timeout = 120);

/* What the sender made: the blobs of every fragment of every message. */
struct sent {
	size_t n;	 /* messages, sequence 1..n */
	size_t nfrag;	 /* fragments of each */
	uint8_t *blobs;	 /* n * nfrag * BLOB */
	uint8_t queue[32];
};

static uint8_t *blob_of(struct sent *t, size_t seq, size_t k)
{
	return t->blobs + ((seq - 1) * t->nfrag + k) * BLOB;
}

static void text_of(char *out, size_t seq)
{
	char head[40];
	int n = snprintf(head, sizeof(head), "message %06zu ", seq);

	memset(out, 'a' + (int)(seq % 26), TEXT_LEN);
	memcpy(out, head, (size_t)n);
}

static int no_queue_op(void *ctx, bool create, const uint8_t id[32])
{
	(void)ctx;
	(void)create;
	(void)id;
	return -1;
}

/* The contact in the store, and Alice's side: n messages as fragments. */
static void make_world(struct sent *t, size_t n)
{
	uint8_t sk[32], hk[32], nhk[32], bpub[32], bpriv[32];
	struct contact *c = contact_new();
	struct buf b;
	char err[256];

	rand_bytes(sk, 32);
	rand_bytes(hk, 32);
	rand_bytes(nhk, 32);
	x25519_keypair(bpub, bpriv);
	c->id = 1;
	c->state = CONTACT_READY;
	c->flags = CONTACT_F_HAVE_PEER | CONTACT_F_HAVE_KEYS |
		   CONTACT_F_QUEUE_OK;
	snprintf(c->name, sizeof(c->name), "bob");
	snprintf(c->peer_name, sizeof(c->peer_name), "bob");
	rand_bytes(c->our_queue, 32);
	memcpy(t->queue, c->our_queue, 32);
	rand_bytes(c->peer_gw.key, 32);
	snprintf(c->peer_gw.host, sizeof(c->peer_gw.host), "127.0.0.1");
	c->peer_gw.port = 9;
	rand_bytes(c->peer_queue, 32);
	rand_bytes(c->ad, sizeof(c->ad));
	rand_bytes(c->transport, 32);
	cr_assert_eq(contact_derive_keys(c), 0);
	c->ratchet = ratchet_new_bob(sk, hk, nhk, bpriv);
	struct ratchet *alice = ratchet_new_alice(sk, hk, nhk, bpub);
	cr_assert_not_null(alice);

	struct client_store_key k = { .key = store_key };
	struct client_store *cs = client_store_open(path, &k, err, sizeof(err));
	cr_assert_not_null(cs, "%s", err);
	buf_init(&b);
	cr_assert_eq(contact_encode(c, &b), 0);
	cr_assert_eq(client_store_put(cs, "peer/1", b.data, b.len), 0);
	buf_wipe_free(&b);
	client_store_close(cs);

	struct arq_params p;
	struct arq a;
	arq_params_default(&p, 1000);
	arq_init(&a, &p, BLOB);
	t->n = n;
	t->nfrag = 0;
	for (size_t seq = 1; seq <= n; seq++) {
		char text[TEXT_LEN];
		uint8_t id[E2E_MSG_ID_LEN], aid[ARQ_ID_LEN];
		uint8_t hdr[RATCHET_ENC_HEADER_LEN];
		uint8_t plain[PLAIN];
		struct buf pt, fr;
		size_t blen;

		text_of(text, seq);
		rand_bytes(id, sizeof(id));
		rand_bytes(aid, sizeof(aid));
		buf_init(&pt);
		buf_init(&fr);
		cr_assert_eq(e2e_plain_encode(E2E_KIND_TEXT, id,
					      (const uint8_t *)text, TEXT_LEN,
					      &pt), 0);
		uint8_t *body = malloc(pt.len + RATCHET_TAG_LEN);
		cr_assert_eq(ratchet_encrypt(alice, c->ad, FC_AD_LEN, pt.data,
					     pt.len, hdr, body,
					     pt.len + RATCHET_TAG_LEN, &blen),
			     RATCHET_OK);
		e2e_frame_put_ratchet(&fr, hdr, body, blen);
		struct arq_msg *m = arq_add(&a, 3, aid, seq, fr.data, fr.len,
					    0, NULL);
		cr_assert_not_null(m);
		if (t->nfrag == 0) {
			t->nfrag = m->nfrag;
			t->blobs = malloc(n * t->nfrag * BLOB);
		}
		cr_assert_eq(m->nfrag, t->nfrag);
		for (size_t k2 = 0; k2 < m->nfrag; k2++) {
			cr_assert_eq(arq_frag_encode(&a, m, k2, plain, PLAIN),
				     0);
			cr_assert_eq(arq_wrap(blob_of(t, seq, k2), BLOB, plain,
					      c->rx_key), 0);
		}
		arq_remove(&a, m);
		free(body);
		buf_free(&fr);
		buf_wipe_free(&pt);
	}
	cr_assert_eq(t->nfrag, 3);
	arq_free(&a);
	RATCHET_FREE(alice);
	contact_free(c);
}

/* The engine, opened on the store (a start: the inbox is replayed). */
struct engine {
	struct client_store *cs;
	struct arq arq;
	struct sessions s;
};

static void engine_open(struct engine *e)
{
	struct arq_params p;
	struct session_ops ops = { .queue_op = no_queue_op };
	struct client_store_key k = { .key = store_key };
	char err[256];

	arq_params_default(&p, 1000);
	arq_init(&e->arq, &p, BLOB);
	e->cs = client_store_open(path, &k, err, sizeof(err));
	cr_assert_not_null(e->cs, "%s", err);
	cr_assert_eq(sessions_open(&e->s, e->cs, &e->arq, &ops, "me", err,
				   sizeof(err)), 0, "%s", err);
}

static void engine_close(struct engine *e)
{
	sessions_close(&e->s);
	arq_free(&e->arq);
	client_store_close(e->cs);
}

/* The gateway hands item number i over (its id names it in the store). */
static void deliver(struct engine *e, struct sent *t, size_t i, size_t seq,
		    size_t k)
{
	uint8_t id[16] = { 0x17 };

	memcpy(id + 8, &i, sizeof(i));
	cr_assert_eq(sessions_on_item(&e->s, id, t->queue, blob_of(t, seq, k),
				      BLOB), 0);
}

static int count_inbox(void *ctx, const char *name, const uint8_t *v,
		       size_t n)
{
	(void)name;
	(void)v;
	(void)n;
	(*(size_t *)ctx)++;
	return 0;
}

static size_t inbox_items(struct engine *e)
{
	size_t n = 0;
	cr_assert_eq(client_store_each(e->cs, "inbox/", count_inbox, &n), 0);
	return n;
}

/* The texts received, in row order: each once, and in sequence order
 * 1..n except those in skip. Returns how many. */
static size_t check_texts(struct engine *e, size_t n, size_t skip_from,
			  size_t skip_to)
{
	size_t got = 0, want = 1;

	for (size_t i = 0; i < e->s.nm; i++) {
		struct msg_row *m = e->s.m[i];
		char text[TEXT_LEN];
		if (m->flags & MSG_F_OUT)
			continue;
		while (want >= skip_from && want <= skip_to)
			want++;
		cr_assert_leq(want, n, "more texts than sent");
		text_of(text, want);
		cr_assert_eq(m->len, TEXT_LEN);
		cr_assert(memcmp(m->text, text, TEXT_LEN) == 0,
			  "row %zu: %.14s, want message %06zu", i, m->text,
			  want);
		want++;
		got++;
	}
	return got;
}

/* All fragments of messages 2..n and two of message 1 (not its last),
 * in a hostile order: first fragments from the top down, then the rest
 * scrambled. Item numbers are the order's index. */
static size_t hostile_order(struct sent *t, uint64_t *order)
{
	size_t m = 0;

	for (size_t seq = t->n; seq >= 2; seq--)
		order[m++] = seq << 8 | 0;
	for (size_t seq = 1; seq <= t->n; seq++)
		for (size_t k = (seq == 1 ? 0 : 1); k < t->nfrag; k++)
			if (seq != 1 || k + 1 < t->nfrag)
				order[m++] = seq << 8 | k;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = m; i > t->n; i--) { /* the tail only */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t j = t->n - 1 + (size_t)(x % (i - t->n + 1));
		uint64_t tmp = order[i - 1];
		order[i - 1] = order[j];
		order[j] = tmp;
	}
	return m;
}

#define NMSG 300

Test(client_session_rx, kept_across_sigkill_all_in_order)
{
	static struct sent t;
	static uint64_t order[NMSG * 3];
	int fds[2];

	make_world(&t, NMSG);
	size_t m = hostile_order(&t, order);
	cr_assert_eq(m, NMSG * 3 - 1);
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* The client: each item reported once stored (the gateway
		 * may then delete it); killed at some point. */
		struct engine e;
		close(fds[0]);
		engine_open(&e);
		for (size_t i = 0; i < m; i++) {
			deliver(&e, &t, i, order[i] >> 8, order[i] & 0xff);
			uint32_t done = (uint32_t)i;
			if (write(fds[1], &done, sizeof(done)) != sizeof(done))
				_exit(3);
		}
		pause();
		_exit(0);
	}
	close(fds[1]);
	uint32_t last = 0, v;
	while (read(fds[0], &v, sizeof(v)) == sizeof(v)) {
		last = v;
		if (last == 2 * NMSG) /* past the 256 slots, mid-stream */
			break;
	}
	kill(pid, SIGKILL);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	close(fds[0]);

	/* Started again: everything it reported is there, nothing went up. */
	struct engine e;
	engine_open(&e);
	size_t stored = inbox_items(&e);
	cr_assert_geq(stored, (size_t)last + 1, "items lost in the kill");
	cr_assert_eq(e.s.nitems, stored);
	cr_assert_eq(check_texts(&e, NMSG, 0, 0), 0);
	struct contact *c = sessions_find(&e.s, "bob");
	cr_assert_not_null(c);
	cr_assert_eq(c->rx[CONTACT_RX_RATCHET].n, ARQ_RX_PENDING_MAX);
	cr_assert_gt(c->rx[CONTACT_RX_RATCHET].npark, 0);
	/* The gateway sends again what it was never told we have (from a
	 * few before the last report), then the rest; the same items twice
	 * change nothing. */
	for (size_t i = last > 5 ? last - 5 : 0; i < m; i++)
		deliver(&e, &t, i, order[i] >> 8, order[i] & 0xff);
	cr_assert_eq(inbox_items(&e), m);
	cr_assert_eq(check_texts(&e, NMSG, 0, 0), 0);
	engine_close(&e);

	/* Once more killed (closed without a word) and started: then the
	 * last fragment of message 1, and every message comes through. */
	engine_open(&e);
	cr_assert_eq(inbox_items(&e), m);
	deliver(&e, &t, m, 1, t.nfrag - 1);
	cr_assert_eq(check_texts(&e, NMSG, 0, 0), NMSG);
	c = sessions_find(&e.s, "bob");
	cr_assert_eq(c->rx_next[CONTACT_RX_RATCHET], NMSG + 1);
	cr_assert_eq(inbox_items(&e), 0);
	cr_assert_eq(e.s.nitems, 0);
	cr_assert_eq(e.s.park_dropped, 0);
	engine_close(&e);
	free(t.blobs);
}

Test(client_session_rx, parking_bound_holds_counted_and_skipped)
{
	static struct sent t;
	struct engine e;
	const size_t bound = 60;

	make_world(&t, NMSG);
	engine_open(&e);
	e.s.rxb.park_max = bound; /* the total, small for the test */
	/* Message 1 missing; 2..300 whole, in order: 256 held (complete,
	 * behind the gap), then parked up to the bound, then the latest
	 * given up: whole messages, counted. */
	size_t i = 0;
	for (size_t seq = 2; seq <= NMSG; seq++)
		for (size_t k = 0; k < t.nfrag; k++) {
			deliver(&e, &t, i++, seq, k);
			cr_assert_leq(e.s.rxb.parked, bound);
		}
	struct contact *c = sessions_find(&e.s, "bob");
	struct arq_rx *r = &c->rx[CONTACT_RX_RATCHET];
	size_t held = ARQ_RX_PENDING_MAX * t.nfrag;
	cr_assert_eq(r->n, ARQ_RX_PENDING_MAX);
	cr_assert_leq(r->npark, bound);
	cr_assert_eq(inbox_items(&e), held + r->npark, "the bound is on disk");
	size_t kept_msgs = r->npark / t.nfrag; /* 257 .. 256 + kept */
	size_t gave_up = NMSG - 1 - ARQ_RX_PENDING_MAX - kept_msgs;
	cr_assert_eq(e.s.park_dropped, gave_up);
	/* Given up at its first parked fragment; the rest of it, arriving
	 * after, are duplicates of a message given up. */
	cr_assert_eq(e.s.park_dropped_items, gave_up);
	cr_assert_eq(r->ngone, 1, "the latest, one range of numbers");
	cr_assert_eq(r->gone[0].hi - r->gone[0].lo + 1, gave_up);
	cr_assert_eq(r->gone[0].hi, NMSG);
	/* A late fragment of one given up: a duplicate, not kept. */
	deliver(&e, &t, i++, NMSG, 0);
	cr_assert_eq(inbox_items(&e), held + r->npark);
	engine_close(&e);

	/* After a restart (default bounds: what the store holds fits), the
	 * given-up numbers are still skipped: message 1 comes, and 1 .. 256
	 * + kept go up in order, the rest passed over. */
	engine_open(&e);
	deliver(&e, &t, i++, 1, 0);
	deliver(&e, &t, i++, 1, 1);
	cr_assert_eq(check_texts(&e, NMSG, 0, 0), 0);
	deliver(&e, &t, i++, 1, 2);
	size_t last_kept = 1 + ARQ_RX_PENDING_MAX + kept_msgs;
	cr_assert_eq(check_texts(&e, NMSG, last_kept + 1, NMSG), last_kept);
	c = sessions_find(&e.s, "bob");
	cr_assert_eq(c->rx_next[CONTACT_RX_RATCHET], last_kept + 1);
	cr_assert_eq(c->rx[CONTACT_RX_RATCHET].next_seq, NMSG + 1,
		     "the given-up messages passed over");
	cr_assert_eq(c->rx[CONTACT_RX_RATCHET].skipped, gave_up);
	cr_assert_eq(inbox_items(&e), 0);
	engine_close(&e);
	free(t.blobs);
}

/* rxgone/ as written before session 4 (single numbers) still reads. */
Test(client_session_rx, given_up_numbers_in_the_old_form_read)
{
	static struct sent t;
	struct engine e;
	struct client_store_key k = { .key = store_key };
	char err[256], name[48];
	uint8_t old[3 * 8];

	make_world(&t, 2);
	struct client_store *cs = client_store_open(path, &k, err, sizeof(err));
	cr_assert_not_null(cs, "%s", err);
	be64_put(old, 5);
	be64_put(old + 8, 3);
	be64_put(old + 16, 6);
	snprintf(name, sizeof(name), "rxgone/1/%d", CONTACT_RX_RATCHET);
	cr_assert_eq(client_store_put(cs, name, old, sizeof(old)), 0);
	client_store_close(cs);
	engine_open(&e);
	struct arq_rx *r = &sessions_find(&e.s, "bob")->rx[CONTACT_RX_RATCHET];
	cr_assert_eq(r->ngone, 2);
	cr_assert(r->gone[0].lo == 3 && r->gone[0].hi == 3);
	cr_assert(r->gone[1].lo == 5 && r->gone[1].hi == 6);
	engine_close(&e);
	free(t.blobs);
}
