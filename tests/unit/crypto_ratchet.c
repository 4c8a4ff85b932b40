/*
 * Double Ratchet with header encryption: round trips, out-of-order and lost
 * messages, the skip bounds, tampering (state unchanged), replays,
 * post-compromise security, serialisation and its strict parser, wiping.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/ratchet.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(ratchet, .init = setup);

static const uint8_t AD[] = "alice-id|bob-id";

struct msg {
	uint8_t hdr[RATCHET_ENC_HEADER_LEN];
	uint8_t body[256];
	size_t blen;
	char text[64];
};

static void
pair_new(struct ratchet **a, struct ratchet **b)
{
	uint8_t sk[32], hka[32], nhkb[32], bpub[32], bpriv[32];

	rand_bytes(sk, 32);
	rand_bytes(hka, 32);
	rand_bytes(nhkb, 32);
	x25519_keypair(bpub, bpriv);
	*a = ratchet_new_alice(sk, hka, nhkb, bpub);
	*b = ratchet_new_bob(sk, hka, nhkb, bpriv);
	cr_assert_not_null(*a);
	cr_assert_not_null(*b);
}

static void
send(struct ratchet *r, struct msg *m, const char *text)
{
	size_t n = strlen(text);

	memset(m, 0, sizeof(*m));
	memcpy(m->text, text, n);
	cr_assert_eq(ratchet_encrypt(r, AD, sizeof(AD), (const uint8_t *)text,
				     n, m->hdr, m->body, sizeof(m->body),
				     &m->blen),
		     RATCHET_OK);
	cr_assert_eq(m->blen, n + RATCHET_TAG_LEN);
}

static enum ratchet_err
recv_raw(struct ratchet *r, const struct msg *m, char *out)
{
	uint8_t pt[256];
	size_t plen = 99;
	enum ratchet_err e;

	e = ratchet_decrypt(r, AD, sizeof(AD), m->hdr, m->body, m->blen, pt,
			    sizeof(pt), &plen);
	if (e == RATCHET_OK) {
		memcpy(out, pt, plen);
		out[plen] = '\0';
	} else {
		cr_assert_eq(plen, 0);
	}
	return e;
}

static void
recv_ok(struct ratchet *r, const struct msg *m)
{
	char out[256];

	cr_assert_eq(recv_raw(r, m, out), RATCHET_OK, "%s", m->text);
	cr_assert_str_eq(out, m->text);
}

/* The serialised state, to compare before and after a refused message. */
static uint8_t *
snap(const struct ratchet *r, size_t *len)
{
	size_t cap = ratchet_serialized_len(r);
	uint8_t *p = malloc(cap);

	cr_assert_eq(ratchet_serialize(r, p, cap, len), 0);
	cr_assert_eq(*len, cap);
	return p;
}

static void
assert_same(const struct ratchet *r, const uint8_t *before, size_t blen)
{
	size_t len;
	uint8_t *now = snap(r, &len);

	cr_assert_eq(len, blen, "state length changed");
	cr_assert(memcmp(now, before, len) == 0, "state changed");
	free(now);
}

static struct ratchet *
clone(const struct ratchet *r)
{
	size_t len;
	uint8_t *p = snap(r, &len);
	enum ratchet_err e;
	struct ratchet *c = ratchet_deserialize(p, len, &e);

	cr_assert_not_null(c);
	cr_assert_eq(e, RATCHET_OK);
	free(p);
	return c;
}

Test(ratchet, both_ways_many_turns)
{
	struct ratchet *a, *b;
	struct msg m;
	char t[32];

	pair_new(&a, &b);
	for (int turn = 0; turn < 20; turn++) {
		for (int i = 0; i < (turn % 3) + 1; i++) {
			snprintf(t, sizeof(t), "a->b %d.%d", turn, i);
			send(a, &m, t);
			recv_ok(b, &m);
		}
		for (int i = 0; i < (turn % 2) + 1; i++) {
			snprintf(t, sizeof(t), "b->a %d.%d", turn, i);
			send(b, &m, t);
			recv_ok(a, &m);
		}
	}
	cr_assert_eq(ratchet_skipped_count(a), 0);
	cr_assert_eq(ratchet_skipped_count(b), 0);
	RATCHET_FREE(a);
	RATCHET_FREE(b);
	cr_assert_null(a);
}

Test(ratchet, receiver_cannot_send_first)
{
	struct ratchet *a, *b;
	uint8_t hdr[RATCHET_ENC_HEADER_LEN], body[32];
	size_t blen = 7;
	struct msg m;

	pair_new(&a, &b);
	cr_assert_eq(ratchet_encrypt(b, NULL, 0, (const uint8_t *)"x", 1, hdr,
				     body, sizeof(body), &blen),
		     RATCHET_ERR_NOT_READY);
	cr_assert_eq(blen, 0);
	send(a, &m, "hello");
	recv_ok(b, &m);
	send(b, &m, "now I can");
	recv_ok(a, &m);
	ratchet_free(a);
	ratchet_free(b);
}

Test(ratchet, empty_message_and_argument_limits)
{
	struct ratchet *a, *b;
	uint8_t hdr[RATCHET_ENC_HEADER_LEN], body[32], pt[32], big[300];
	size_t blen, plen;

	pair_new(&a, &b);
	memset(big, 0, sizeof(big));
	cr_assert_eq(ratchet_encrypt(a, big, RATCHET_MAX_AD + 1,
				     (const uint8_t *)"x", 1, hdr, body,
				     sizeof(body), &blen),
		     RATCHET_ERR_ARG);
	cr_assert_eq(ratchet_encrypt(a, NULL, 0, big, 17, hdr, body, 32, &blen),
		     RATCHET_ERR_ARG, "cap 32 < 17 + 16");
	cr_assert_eq(ratchet_encrypt(a, NULL, 0, NULL, 0, hdr, body,
				     sizeof(body), &blen),
		     RATCHET_OK);
	cr_assert_eq(blen, RATCHET_TAG_LEN);
	cr_assert_eq(ratchet_decrypt(b, NULL, 0, hdr, body, 15, pt, 32, &plen),
		     RATCHET_ERR_ARG);
	cr_assert_eq(ratchet_decrypt(b, NULL, 0, hdr, body, blen, pt, 0, &plen),
		     RATCHET_OK);
	cr_assert_eq(plen, 0);
	ratchet_free(a);
	ratchet_free(b);
}

Test(ratchet, out_of_order_and_lost)
{
	struct ratchet *a, *b;
	struct msg m[12];
	char t[32];
	static const int order[] = {3, 0, 11, 7, 1, 2, 10, 4};

	pair_new(&a, &b);
	for (int i = 0; i < 12; i++) {
		snprintf(t, sizeof(t), "msg %d", i);
		send(a, &m[i], t);
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		recv_ok(b, &m[order[i]]);
	/* 5, 6, 8, 9 lost so far: their keys wait */
	cr_assert_eq(ratchet_skipped_count(b), 4);
	/* Bob answers, Alice ratchets; then 6 and 9 arrive late */
	struct msg r, n;
	send(b, &r, "reply");
	recv_ok(a, &r);
	send(a, &n, "new chain");
	recv_ok(b, &n);
	recv_ok(b, &m[6]);
	recv_ok(b, &m[9]);
	cr_assert_eq(ratchet_skipped_count(b), 2);
	ratchet_free(a);
	ratchet_free(b);
}

Test(ratchet, previous_chain_delivered_after_ratchet)
{
	struct ratchet *a, *b;
	struct msg m1, m2, m3, r1, late;

	pair_new(&a, &b);
	send(a, &m1, "one");
	recv_ok(b, &m1);
	send(b, &r1, "reply");
	send(a, &m2, "two"); /* still on the old chain */
	send(a, &late, "three, arrives late");
	recv_ok(a, &r1);
	send(a, &m3, "after ratchet"); /* PN = 3 */
	recv_ok(b, &m3);               /* skips "two" and "three" via PN */
	cr_assert_eq(ratchet_skipped_count(b), 2);
	recv_ok(b, &late);
	recv_ok(b, &m2);
	cr_assert_eq(ratchet_skipped_count(b), 0);
	ratchet_free(a);
	ratchet_free(b);
}

Test(ratchet, beyond_max_skip_refused_cleanly)
{
	struct ratchet *a, *b;
	struct msg first, m;
	uint8_t *before;
	size_t blen;
	char out[256];

	pair_new(&a, &b);
	send(a, &first, "first");
	for (int i = 0; i < RATCHET_MAX_SKIP; i++)
		send(a, &m, "skipped");
	send(a, &m, "too far"); /* n = MAX_SKIP + 1: skips MAX_SKIP + 1 */
	before = snap(b, &blen);
	cr_assert_eq(recv_raw(b, &m, out), RATCHET_ERR_SKIP);
	assert_same(b, before, blen);
	recv_ok(b, &first);
	free(before);

	/* exactly MAX_SKIP skipped is allowed */
	struct ratchet *c, *d;
	pair_new(&c, &d);
	for (int i = 0; i < RATCHET_MAX_SKIP; i++)
		send(c, &m, "skipped");
	send(c, &m, "at the bound");
	recv_ok(d, &m);
	cr_assert_eq(ratchet_skipped_count(d), RATCHET_MAX_SKIP);
	ratchet_free(a);
	ratchet_free(b);
	ratchet_free(c);
	ratchet_free(d);
}

Test(ratchet, total_cap_evicts_oldest)
{
	struct ratchet *a, *b;
	struct msg m, oldest, r;
	char out[256];
	int chains = RATCHET_MAX_SKIPPED / RATCHET_MAX_SKIP + 2;

	pair_new(&a, &b);
	for (int c = 0; c < chains; c++) {
		if (c == 0)
			send(a, &oldest, "oldest");
		for (int i = 0; i < RATCHET_MAX_SKIP - (c == 0); i++)
			send(a, &m, "lost");
		send(a, &m, "arrives");
		recv_ok(b, &m);
		cr_assert_leq(ratchet_skipped_count(b), RATCHET_MAX_SKIPPED);
		send(b, &r, "turn");
		recv_ok(a, &r);
	}
	cr_assert_eq(ratchet_skipped_count(b), RATCHET_MAX_SKIPPED);
	/* the oldest key was evicted: its header key is gone too */
	cr_assert_eq(recv_raw(b, &oldest, out), RATCHET_ERR_HEADER);
	ratchet_free(a);
	ratchet_free(b);
}

Test(ratchet, tampering_leaves_state_unchanged)
{
	struct ratchet *a, *b;
	struct msg m, bad;
	uint8_t *before;
	size_t blen;
	char out[256];

	pair_new(&a, &b);
	send(a, &m, "first");
	recv_ok(b, &m);
	send(a, &m, "tamper with me");
	before = snap(b, &blen);
	for (size_t i = 0; i < RATCHET_ENC_HEADER_LEN; i++) {
		bad = m;
		bad.hdr[i] ^= (uint8_t)(1u << (i % 8));
		cr_assert_eq(recv_raw(b, &bad, out), RATCHET_ERR_HEADER,
			     "header byte %zu", i);
	}
	for (size_t i = 0; i < m.blen; i++) {
		bad = m;
		bad.body[i] ^= 0x80;
		cr_assert_eq(recv_raw(b, &bad, out), RATCHET_ERR_BODY,
			     "body byte %zu", i);
	}
	bad = m;
	bad.blen--;
	cr_assert_eq(recv_raw(b, &bad, out), RATCHET_ERR_BODY);
	/* a body moved under another (valid) header fails too */
	struct msg other;
	send(a, &other, "other message!");
	bad = other;
	memcpy(bad.body, m.body, m.blen);
	bad.blen = m.blen;
	cr_assert_eq(recv_raw(b, &bad, out), RATCHET_ERR_BODY);
	/* wrong associated data */
	uint8_t pt[64];
	size_t plen;
	cr_assert_eq(ratchet_decrypt(b, (const uint8_t *)"x", 1, m.hdr, m.body,
				     m.blen, pt, sizeof(pt), &plen),
		     RATCHET_ERR_HEADER);
	assert_same(b, before, blen);
	recv_ok(b, &m);
	recv_ok(b, &other);
	free(before);
	ratchet_free(a);
	ratchet_free(b);
}

Test(ratchet, tampered_new_chain_message_leaves_state_unchanged)
{
	struct ratchet *a, *b;
	struct msg m, r, bad;
	uint8_t *before;
	size_t blen;
	char out[256];

	pair_new(&a, &b);
	send(a, &m, "first");
	/* Bob's very first message: a DH ratchet step that must not stick */
	before = snap(b, &blen);
	bad = m;
	bad.body[0] ^= 1;
	cr_assert_eq(recv_raw(b, &bad, out), RATCHET_ERR_BODY);
	assert_same(b, before, blen);
	free(before);
	recv_ok(b, &m);
	send(b, &r, "reply");
	before = snap(a, &blen);
	bad = r;
	bad.body[r.blen - 1] ^= 1;
	cr_assert_eq(recv_raw(a, &bad, out), RATCHET_ERR_BODY);
	assert_same(a, before, blen);
	recv_ok(a, &r);
	free(before);
	ratchet_free(a);
	ratchet_free(b);
}

Test(ratchet, replay_refused)
{
	struct ratchet *a, *b;
	struct msg m0, m1, m2;
	char out[256];

	pair_new(&a, &b);
	send(a, &m0, "zero");
	send(a, &m1, "one");
	send(a, &m2, "two");
	recv_ok(b, &m0);
	cr_assert_eq(recv_raw(b, &m0, out), RATCHET_ERR_OLD);
	recv_ok(b, &m2);
	recv_ok(b, &m1); /* from the skipped keys */
	cr_assert_eq(recv_raw(b, &m1, out), RATCHET_ERR_OLD);
	cr_assert_eq(recv_raw(b, &m2, out), RATCHET_ERR_OLD);
	ratchet_free(a);
	ratchet_free(b);
}

/*
 * Post-compromise security: a copy of Bob's state taken earlier reads what
 * is sent at once, but not what Alice sends after a round trip of DH
 * ratchet steps (both sides drew fresh ratchet keys).
 */
Test(ratchet, post_compromise_security)
{
	struct ratchet *a, *b, *stolen, *stolen2;
	struct msg m, r;
	char out[256];

	pair_new(&a, &b);
	send(a, &m, "hello");
	recv_ok(b, &m);
	send(b, &r, "hi");
	recv_ok(a, &r);
	stolen = clone(b);
	stolen2 = clone(b);

	send(a, &m, "right after the theft");
	recv_ok(stolen, &m); /* the copy works: the test can fail */
	recv_ok(b, &m);

	send(b, &r, "bob ratchets");
	recv_ok(a, &r);
	send(a, &m, "alice ratchets");
	recv_ok(b, &m);
	send(b, &r, "and again");
	recv_ok(a, &r);
	send(a, &m, "secret after healing");
	cr_assert_neq(recv_raw(stolen, &m, out), RATCHET_OK);
	cr_assert_neq(recv_raw(stolen2, &m, out), RATCHET_OK);
	recv_ok(b, &m);
	/* nor Bob's next messages to Alice */
	send(b, &r, "bob after healing");
	cr_assert_neq(recv_raw(stolen, &r, out), RATCHET_OK);
	recv_ok(a, &r);
	ratchet_free(a);
	ratchet_free(b);
	ratchet_free(stolen);
	ratchet_free(stolen2);
}

Test(ratchet, serialise_round_trip_continues)
{
	struct ratchet *a, *b, *b2;
	struct msg m[5], r;
	uint8_t *s1, *s2;
	size_t l1, l2;

	pair_new(&a, &b);
	for (int i = 0; i < 5; i++)
		send(a, &m[i], i % 2 ? "odd" : "even");
	recv_ok(b, &m[4]);
	cr_assert_eq(ratchet_skipped_count(b), 4);
	s1 = snap(b, &l1);
	b2 = clone(b);
	s2 = snap(b2, &l2);
	cr_assert_eq(l1, l2);
	cr_assert(memcmp(s1, s2, l1) == 0);
	recv_ok(b2, &m[1]);
	send(b2, &r, "from the restored state");
	recv_ok(a, &r);
	/* a fresh Alice (nothing received yet) round-trips too */
	struct ratchet *a0, *b0, *a1;
	pair_new(&a0, &b0);
	a1 = clone(a0);
	send(a1, &r, "restored alice");
	recv_ok(b0, &r);
	free(s1);
	free(s2);
	ratchet_free(a);
	ratchet_free(b);
	ratchet_free(b2);
	ratchet_free(a0);
	ratchet_free(a1);
	ratchet_free(b0);
}

Test(ratchet, deserialise_is_strict)
{
	struct ratchet *a, *b, *x;
	struct msg m[3];
	uint8_t *s, *t;
	size_t len;
	enum ratchet_err e;

	pair_new(&a, &b);
	for (int i = 0; i < 3; i++)
		send(a, &m[i], "x");
	recv_ok(b, &m[2]);
	s = snap(b, &len);
	t = malloc(len + 1);
	/* every truncation and one extra byte */
	for (size_t n = 0; n < len; n++) {
		x = ratchet_deserialize(s, n, &e);
		cr_assert_null(x, "truncated to %zu", n);
		cr_assert_eq(e, RATCHET_ERR_STATE);
	}
	memcpy(t, s, len);
	t[len] = 0;
	cr_assert_null(ratchet_deserialize(t, len + 1, &e));
	/* version */
	t[0] = 2;
	cr_assert_null(ratchet_deserialize(t, len, &e));
	t[0] = RATCHET_STATE_VERSION;
	/* unknown flag bit */
	t[1] |= 0x80;
	cr_assert_null(ratchet_deserialize(t, len, &e));
	t[1] = s[1];
	/* skipped count beyond the cap */
	memcpy(t, s, len);
	t[len - ratchet_skipped_count(b) * 68 - 2] = 0xff;
	cr_assert_null(ratchet_deserialize(t, len, &e));
	/* a fresh Bob: absent chains must be zero */
	struct ratchet *c, *d;
	size_t l2;
	uint8_t *u;
	pair_new(&c, &d);
	u = snap(d, &l2);
	cr_assert_eq(u[1], 0, "fresh Bob has no DHr, no chains");
	for (size_t off = 2 + 32; off < 2 + 7 * 32; off += 32) {
		if (off == 2 + 2 * 32)
			continue; /* RK is always present */
		u[off + 5] ^= 1;
		cr_assert_null(ratchet_deserialize(u, l2, &e), "off %zu", off);
		u[off + 5] ^= 1;
	}
	u[2 + 9 * 32 + 3] = 1; /* Ns without a sending chain */
	cr_assert_null(ratchet_deserialize(u, l2, &e));
	u[2 + 9 * 32 + 3] = 0;
	x = ratchet_deserialize(u, l2, &e);
	cr_assert_not_null(x);
	ratchet_free(x);
	free(u);
	free(s);
	free(t);
	ratchet_free(a);
	ratchet_free(b);
	ratchet_free(c);
	ratchet_free(d);
}

static size_t hook_calls, hook_dirty;

static void
wipe_hook(const void *p, size_t n)
{
	hook_calls++;
	if (!secret_is_zero(p, n))
		hook_dirty++;
}

Test(ratchet, secrets_wiped_on_free)
{
	struct ratchet *a, *b;
	struct msg m;

	pair_new(&a, &b);
	send(a, &m, "x");
	recv_ok(b, &m);
	hook_calls = hook_dirty = 0;
	secret_set_free_hook(wipe_hook);
	ratchet_free(a);
	ratchet_free(b);
	secret_set_free_hook(NULL);
	cr_assert_eq(hook_calls, 6);
	cr_assert_eq(hook_dirty, 0);
}

Test(ratchet, kdf_ck_steps)
{
	uint8_t ck[32], ck2[32], mk[32], mk2[32];

	memset(ck, 7, 32);
	memcpy(ck2, ck, 32);
	ratchet_kdf_ck(ck, ck, mk); /* in place */
	ratchet_kdf_ck(ck2, ck2, mk2);
	cr_assert(memcmp(mk, mk2, 32) == 0);
	cr_assert(memcmp(ck, mk, 32) != 0, "0x01 and 0x02 differ");
	cr_assert_str_eq(ratchet_strerror(RATCHET_ERR_SKIP),
			 "too many skipped messages");
}
