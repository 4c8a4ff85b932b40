/* Reliable delivery (client/arq.h): timeouts, backoff, give-up, wrapping,
 * reassembly out of order, duplicates, bad fragments. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "client/arq.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/xaead.h"

#define BLOB 2000
#define PLAIN (BLOB - XAEAD_OVERHEAD)
#define PER (BLOB - ARQ_BLOB_OVERHEAD)

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	rand_set_deterministic(42);
}

TestSuite(client_arq, .init = setup, .fini = rand_set_system);

static struct arq_params params(void)
{
	struct arq_params p;
	arq_params_default(&p, 1000);
	p.max_timeout_ms = 10000;
	p.retention_ms = 100000;
	return p;
}

static void fill(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

Test(client_arq, fragment_sizes)
{
	cr_assert_eq(PER, 1929);
	cr_assert_eq(arq_frag_count(1, BLOB), 1);
	cr_assert_eq(arq_frag_count(PER, BLOB), 1);
	cr_assert_eq(arq_frag_count(PER + 1, BLOB), 2);
	cr_assert_eq(arq_frag_count(0, BLOB), 0);
	cr_assert_eq(arq_frag_count(ARQ_MSG_MAX + 1, BLOB), 0);
	cr_assert_eq(arq_frag_count(10, ARQ_BLOB_OVERHEAD), 0);
}

Test(client_arq, timeouts_and_exponential_backoff)
{
	struct arq a;
	struct arq_params p = params();
	uint8_t id[16] = { 1 }, data[10] = { 9 };
	struct arq_msg *m;
	size_t idx;

	arq_init(&a, &p, BLOB);
	cr_assert_not_null(arq_add(&a, 7, id, 1, data, sizeof(data), 0, NULL));
	cr_assert(arq_next(&a, 0, &m, &idx));
	cr_assert_eq(idx, 0);
	arq_sent(&a, m, 0, 0);
	/* Timeouts 1 s, 2 s, 4 s, 8 s, then the 10 s ceiling. */
	uint64_t t = 0, expect[] = { 1000, 2000, 4000, 8000, 10000, 10000 };
	for (size_t i = 0; i < 6; i++) {
		cr_assert_eq(arq_next_due(&a), t + expect[i]);
		cr_assert(!arq_next(&a, t + expect[i] - 1, &m, &idx));
		t += expect[i];
		cr_assert(arq_next(&a, t, &m, &idx));
		arq_sent(&a, m, idx, t);
	}
	cr_assert_eq(m->frags[0].tries, 7);
	cr_assert_eq(arq_acked(&a, id, 0), 1);
	cr_assert_eq(arq_acked(&a, id, 0), -1); /* a late second ack */
	cr_assert(!arq_next(&a, UINT64_MAX - 1, &m, &idx));
	arq_remove(&a, arq_find(&a, id));
	cr_assert_eq(a.n, 0);
	cr_assert_eq(arq_next_due(&a), UINT64_MAX);
	arq_free(&a);
}

Test(client_arq, gives_up_only_after_retention)
{
	struct arq a;
	struct arq_params p = params();
	uint8_t id[16] = { 2 }, data[3000];
	struct arq_msg *m;
	size_t idx;

	fill(data, sizeof(data), 1);
	arq_init(&a, &p, BLOB);
	arq_add(&a, 7, id, 1, data, sizeof(data), 500, NULL);
	uint64_t t = 500;
	while (t < 500 + p.retention_ms) {
		cr_assert_null(arq_expired(&a, t));
		while (arq_next(&a, t, &m, &idx))
			arq_sent(&a, m, idx, t);
		t = arq_next_due(&a);
	}
	/* One of two fragments acknowledged does not save it. */
	cr_assert_eq(arq_acked(&a, id, 1), 0);
	cr_assert_null(arq_expired(&a, 500 + p.retention_ms - 1));
	m = arq_expired(&a, 500 + p.retention_ms);
	cr_assert_not_null(m);
	cr_assert(m->given_up);
	cr_assert_null(arq_expired(&a, 500 + p.retention_ms)); /* once */
	cr_assert(!arq_next(&a, UINT64_MAX - 1, &m, &idx));
	arq_free(&a);
}

Test(client_arq, restored_message_skips_acked_fragments)
{
	struct arq a;
	struct arq_params p = params();
	uint8_t id[16] = { 3 }, data[3 * PER], acked[1] = { 0x05 };
	struct arq_msg *m;
	size_t idx;

	arq_init(&a, &p, BLOB);
	m = arq_add(&a, 1, id, 4, data, sizeof(data), 0, acked);
	cr_assert_eq(m->nfrag, 3);
	cr_assert_eq(m->nacked, 2);
	cr_assert(arq_next(&a, 0, &m, &idx));
	cr_assert_eq(idx, 1);
	arq_sent(&a, m, idx, 0);
	cr_assert(!arq_next(&a, 0, &m, &idx));
	cr_assert_eq(arq_acked(&a, id, 1), 1);
	arq_free(&a);
}

/* Encode every fragment of a message, wrap, unwrap, decode. */
static size_t frags_of(const uint8_t *data, size_t len, uint64_t seq,
		       const uint8_t id[16], const uint8_t key[32],
		       uint8_t (*blobs)[BLOB])
{
	struct arq a;
	struct arq_params p = params();
	uint8_t plain[PLAIN];

	arq_init(&a, &p, BLOB);
	struct arq_msg *m = arq_add(&a, 1, id, seq, data, len, 0, NULL);
	for (size_t i = 0; i < m->nfrag; i++) {
		cr_assert_eq(arq_frag_encode(&a, m, i, plain, PLAIN), 0);
		cr_assert_eq(arq_wrap(blobs[i], BLOB, plain, key), 0);
	}
	size_t n = m->nfrag;
	arq_free(&a);
	return n;
}

static enum arq_rx_result feed(struct arq_rx *r, const uint8_t *blob,
			       const uint8_t key[32])
{
	static uint8_t plain[PLAIN];
	struct arq_frag_view v;

	cr_assert_eq(arq_unwrap(plain, blob, BLOB, key), 0);
	cr_assert_eq(arq_frag_decode(&v, plain, PLAIN), ARQ_RX_OK);
	return arq_rx_add(r, &v, 0);
}

Test(client_arq, resend_wraps_afresh)
{
	uint8_t key[32] = { 5 }, id[16] = { 4 }, data[100];
	static uint8_t b1[1][BLOB], b2[1][BLOB];

	fill(data, sizeof(data), 3);
	frags_of(data, sizeof(data), 1, id, key, b1);
	frags_of(data, sizeof(data), 1, id, key, b2);
	/* Same fragment, nothing in common on the wire. */
	size_t same = 0;
	for (size_t i = 0; i < BLOB; i++)
		same += b1[0][i] == b2[0][i];
	cr_assert_lt(same, 40, "%zu equal bytes", same);
	uint8_t other[32] = { 6 }, plain[PLAIN];
	cr_assert_eq(arq_unwrap(plain, b1[0], BLOB, other), -1);
	b1[0][100] ^= 1;
	cr_assert_eq(arq_unwrap(plain, b1[0], BLOB, key), -1);
}

Test(client_arq, reassembly_out_of_order_with_duplicates_in_sequence)
{
	uint8_t key[32] = { 7 }, id1[16] = { 1 }, id2[16] = { 2 };
	static uint8_t m1[5000], m2[2 * PER], f1[8][BLOB], f2[8][BLOB];
	struct arq_rx r;
	uint8_t *out;
	size_t len;
	uint64_t seq;

	fill(m1, sizeof(m1), 11);
	fill(m2, sizeof(m2), 22);
	cr_assert_eq(frags_of(m1, sizeof(m1), 1, id1, key, f1), 3);
	cr_assert_eq(frags_of(m2, sizeof(m2), 2, id2, key, f2), 2);
	arq_rx_init(&r, 1);
	/* Message 2 completes first, but is held until message 1. */
	cr_assert_eq(feed(&r, f2[1], key), ARQ_RX_OK);
	cr_assert_eq(feed(&r, f2[0], key), ARQ_RX_OK);
	cr_assert_eq(feed(&r, f2[0], key), ARQ_RX_DUPLICATE);
	cr_assert(!arq_rx_pop(&r, &out, &len, &seq));
	cr_assert_eq(feed(&r, f1[2], key), ARQ_RX_OK);
	cr_assert_eq(feed(&r, f1[0], key), ARQ_RX_OK);
	cr_assert(!arq_rx_pop(&r, &out, &len, &seq));
	cr_assert_eq(feed(&r, f1[2], key), ARQ_RX_DUPLICATE);
	cr_assert_eq(feed(&r, f1[1], key), ARQ_RX_OK);
	cr_assert(arq_rx_pop(&r, &out, &len, &seq));
	cr_assert_eq(seq, 1);
	cr_assert_eq(len, sizeof(m1));
	cr_assert(memcmp(out, m1, len) == 0);
	free(out);
	cr_assert(arq_rx_pop(&r, &out, &len, &seq));
	cr_assert_eq(seq, 2);
	cr_assert_eq(len, sizeof(m2));
	cr_assert(memcmp(out, m2, len) == 0);
	free(out);
	cr_assert(!arq_rx_pop(&r, &out, &len, &seq));
	/* After delivery, any fragment of either is a duplicate. */
	cr_assert_eq(feed(&r, f1[0], key), ARQ_RX_DUPLICATE);
	cr_assert_eq(feed(&r, f2[1], key), ARQ_RX_DUPLICATE);
	cr_assert_eq(r.n, 0);
	arq_rx_free(&r);
}

Test(client_arq, bad_fragments_are_refused)
{
	struct arq a;
	struct arq_params p = params();
	uint8_t id[16] = { 9 }, data[PER + 10], plain[PLAIN], copy[PLAIN];
	struct arq_frag_view v;

	arq_init(&a, &p, BLOB);
	struct arq_msg *m = arq_add(&a, 1, id, 1, data, sizeof(data), 0, NULL);
	cr_assert_eq(arq_frag_encode(&a, m, 1, plain, PLAIN), 0);
	cr_assert_eq(arq_frag_encode(&a, m, 2, plain, PLAIN), -1);
	cr_assert_eq(arq_frag_decode(&v, plain, PLAIN), ARQ_RX_OK);
	cr_assert_eq(v.len, 10);
	memcpy(copy, plain, PLAIN);
	copy[0] = 2; /* kind */
	cr_assert_eq(arq_frag_decode(&v, copy, PLAIN), ARQ_RX_MALFORMED);
	memcpy(copy, plain, PLAIN);
	copy[PLAIN - 1] = 1; /* padding */
	cr_assert_eq(arq_frag_decode(&v, copy, PLAIN), ARQ_RX_MALFORMED);
	memcpy(copy, plain, PLAIN);
	copy[26] = 2; /* index 2 of 2 */
	cr_assert_eq(arq_frag_decode(&v, copy, PLAIN), ARQ_RX_MALFORMED);
	memcpy(copy, plain, PLAIN);
	copy[29] = 0xff; /* length past the end */
	cr_assert_eq(arq_frag_decode(&v, copy, PLAIN), ARQ_RX_MALFORMED);
	cr_assert_eq(arq_frag_decode(&v, plain, 20), ARQ_RX_MALFORMED);
	memcpy(copy, plain, PLAIN);
	memset(copy + 17, 0, 8); /* sequence 0 */
	cr_assert_eq(arq_frag_decode(&v, copy, PLAIN), ARQ_RX_MALFORMED);
	/* A second message claiming the same sequence number conflicts. */
	struct arq_rx r;
	arq_rx_init(&r, 1);
	cr_assert_eq(arq_frag_decode(&v, plain, PLAIN), ARQ_RX_OK);
	cr_assert_eq(arq_rx_add(&r, &v, 0), ARQ_RX_OK);
	v.id[0] ^= 1;
	cr_assert_eq(arq_rx_add(&r, &v, 0), ARQ_RX_CONFLICT);
	v.id[0] ^= 1;
	v.count = 3;
	cr_assert_eq(arq_rx_add(&r, &v, 0), ARQ_RX_CONFLICT);
	/* Too many incomplete messages: a later one is parked, not held. */
	for (uint64_t s = 2; s < 2 + ARQ_RX_PENDING_MAX - 1; s++) {
		struct arq_frag_view w = v;
		w.count = 2;
		w.seq = s;
		w.id[1] = (uint8_t)s;
		w.id[3] = (uint8_t)(s >> 8);
		cr_assert_eq(arq_rx_add(&r, &w, 0), ARQ_RX_OK);
	}
	v.seq = 1000;
	v.id[2] = 1;
	cr_assert_eq(arq_rx_add(&r, &v, 0), ARQ_RX_PARKED);
	cr_assert_eq(r.n, ARQ_RX_PENDING_MAX);
	cr_assert_eq(r.npark, 1);
	cr_assert_str_eq(arq_rx_strerror(ARQ_RX_PARKED),
			 "no room now: parked");
	arq_rx_free(&r);
	arq_free(&a);
}

/* A first fragment of message seq (count fragments) for the receiver. */
static struct arq_frag_view frag_view(uint64_t seq, uint16_t count,
				      uint16_t index, uint8_t who)
{
	static const uint8_t data[PER];
	struct arq_frag_view v;
	memset(&v, 0, sizeof(v));
	v.id[0] = who;
	memcpy(v.id + 8, &seq, sizeof(seq));
	v.seq = seq;
	v.count = count;
	v.index = index;
	v.data = data;
	v.len = PER;
	v.full = PER;
	return v;
}

/* The largest message a sender makes, in fragments of PER bytes. */
#define BIG ((ARQ_MSG_MAX + PER - 1) / PER)


Test(client_arq, receiver_caps_bytes_per_contact)
{
	struct arq_rx r;
	struct arq_frag_view v;
	size_t cost = (size_t)BIG * PER;

	arq_rx_init(&r, 1);
	/* A count no sender uses (above 4 MiB) is refused outright. */
	v = frag_view(1, 4096, 0, 1);
	cr_assert_eq(arq_rx_add(&r, &v, 0), ARQ_RX_MALFORMED);
	cr_assert_eq(r.held, 0);
	/* Two of the largest messages fit the 8 MiB; a third waits parked
	 * (its item stays with the caller), nothing is lost. 64 such
	 * messages were about 500 MB before the cap. */
	for (uint64_t s = 1; s <= 3; s++) {
		v = frag_view(s, BIG, 0, 1);
		cr_assert_eq(arq_rx_add(&r, &v, s), s < 3 ? ARQ_RX_OK
							  : ARQ_RX_PARKED);
		cr_assert_leq(r.held, ARQ_RX_BYTES_MAX);
	}
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.held, 2 * cost);
	cr_assert_eq(r.npark, 1);
	/* The same fragment again is a duplicate, parked or held. */
	cr_assert_eq(arq_rx_add(&r, &v, 9), ARQ_RX_DUPLICATE);
	v = frag_view(1, BIG, 0, 1);
	cr_assert_eq(arq_rx_add(&r, &v, 9), ARQ_RX_DUPLICATE);
	v = frag_view(1, BIG, 1, 1);
	cr_assert_eq(arq_rx_add(&r, &v, 4), ARQ_RX_OK);
	for (uint64_t s = 4; s < 4 + 2 * ARQ_RX_PENDING_MAX; s++) {
		v = frag_view(s, BIG, 0, 1);
		cr_assert_eq(arq_rx_add(&r, &v, s + 10), ARQ_RX_PARKED);
	}
	cr_assert_leq(r.held, ARQ_RX_BYTES_MAX);
	cr_assert_eq(r.npark, 1 + 2 * ARQ_RX_PENDING_MAX);
	cr_assert_eq(r.dropped, 0);
	arq_rx_free(&r);
	cr_assert_eq(r.held, 0);
	cr_assert_eq(r.npark, 0);
}

Test(client_arq, lower_number_unloads_a_higher_one)
{
	struct arq_rx r;
	struct arq_frag_view v;
	uint64_t tag;

	arq_rx_init(&r, 1);
	r.max_bytes = 2 * 2 * PER; /* two messages of two fragments */
	for (uint64_t s = 3; s >= 2; s--) {
		v = frag_view(s, 2, 0, 1);
		cr_assert_eq(arq_rx_add(&r, &v, 10 * s), ARQ_RX_OK);
	}
	/* 1 comes: 3, the highest, is parked (not lost) to make room. */
	v = frag_view(1, 2, 1, 1);
	cr_assert_eq(arq_rx_add(&r, &v, 11), ARQ_RX_OK);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.unloaded, 1);
	cr_assert_eq(r.npark, 1);
	cr_assert_eq(r.park[0].tag, 30);
	/* 4 has no room and nothing above it to give way: parked. */
	v = frag_view(4, 2, 0, 1);
	cr_assert_eq(arq_rx_add(&r, &v, 40), ARQ_RX_PARKED);
	cr_assert(!arq_rx_refeed(&r, &tag), "nothing fits yet");
	cr_assert_eq(r.npark, 2);
	arq_rx_free(&r);
}

/* The items a trim gives up (the caller deletes them). */
struct drops {
	uint64_t tag[1024];
	size_t n;
	const struct arq_rx *from[1024];
};

static void on_drop(void *ctx, struct arq_rx *from, uint64_t tag)
{
	struct drops *d = ctx;

	cr_assert_lt(d->n, 1024);
	d->from[d->n] = from;
	d->tag[d->n++] = tag;
}

Test(client_arq, given_up_message_is_skipped_in_sequence)
{
	struct arq_rx r;
	struct arq_frag_view v;
	uint8_t *out;
	size_t len;
	uint64_t seq, tag;
	struct drops d = { .n = 0 };

	arq_rx_init(&r, 1);
	r.max_bytes = 2 * 2 * PER; /* two messages of two fragments */
	r.park_max = 2;
	for (uint64_t s = 2; s <= 5; s++) /* 2, 3 held; 4, 5 parked */
		for (uint16_t i = 0; i < 2; i++) {
			v = frag_view(s, 2, i, 1);
			arq_rx_add(&r, &v, 10 * s + i);
		}
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.npark, 4);
	/* Over the bound: 5, the highest, is given up, all its items. */
	cr_assert_eq(arq_rx_trim(&r, on_drop, &d), 1);
	cr_assert_eq(d.n, 2);
	cr_assert(d.tag[0] + d.tag[1] == 50 + 51 && d.from[0] == &r);
	cr_assert_eq(r.npark, 2);
	cr_assert_eq(r.dropped, 2);
	cr_assert_eq(r.dropped_msgs, 1);
	cr_assert_eq(r.ngone, 1);
	cr_assert(r.gone[0].lo == 5 && r.gone[0].hi == 5);
	v = frag_view(5, 2, 0, 1);
	cr_assert_eq(arq_rx_add(&r, &v, 99), ARQ_RX_DUPLICATE);
	/* 1 arrives: 1, 2, 3 go up; 4 comes back from parked; 5 skipped. */
	for (uint16_t i = 0; i < 2; i++) {
		v = frag_view(1, 2, i, 1);
		cr_assert_eq(arq_rx_add(&r, &v, 10 + i), ARQ_RX_OK);
	}
	cr_assert_eq(r.unloaded, 1, "3 made room for 1");
	uint64_t want = 1;
	for (;;) {
		while (arq_rx_pop(&r, &out, &len, &seq)) {
			cr_assert_eq(seq, want++);
			cr_assert_eq(len, 2 * PER);
			free(out);
		}
		if (!arq_rx_refeed(&r, &tag))
			break;
		v = frag_view(tag / 10, 2, (uint16_t)(tag % 10), 1);
		cr_assert_eq(arq_rx_add(&r, &v, tag), ARQ_RX_OK);
	}
	cr_assert_eq(want, 5);
	cr_assert_eq(r.next_seq, 6, "5 passed over");
	cr_assert_eq(r.skipped, 1);
	cr_assert_eq(r.npark + r.n + r.ngone, 0);
	arq_rx_free(&r);
}

Test(client_arq, receiver_caps_bytes_in_total_flooder_gives_way)
{
	struct arq_rx_budget b;
	struct arq_rx rx[9], flood, quiet;
	struct arq_frag_view v;
	size_t cost = (size_t)BIG * PER, parked = 0;

	/* The default total: nine contacts each at their 8 MiB cap would be
	 * 75 MB; the budget keeps the sum under 64 MiB (the rest parked). */
	arq_rx_budget_init(&b, ARQ_RX_TOTAL_MAX);
	for (int c = 0; c < 9; c++) {
		arq_rx_init(&rx[c], 1);
		arq_rx_join(&rx[c], &b);
		for (uint64_t s = 1; s <= 2; s++) {
			v = frag_view(s, BIG, 0, (uint8_t)c);
			enum arq_rx_result e = arq_rx_add(&rx[c], &v, s);
			cr_assert(e == ARQ_RX_OK || e == ARQ_RX_PARKED);
			parked += e == ARQ_RX_PARKED;
			cr_assert_leq(b.held, ARQ_RX_TOTAL_MAX);
		}
	}
	size_t sum = 0, npark = 0;
	for (int c = 0; c < 9; c++) {
		sum += rx[c].held;
		npark += rx[c].npark;
	}
	cr_assert_eq(sum, b.held);
	cr_assert_eq(npark, b.parked);
	cr_assert_geq(b.parked, 1);
	cr_assert_eq(parked + b.unloaded, b.parked, "parked on arrival, or "
		     "given way for another");
	for (int c = 0; c < 9; c++)
		arq_rx_free(&rx[c]);
	cr_assert_eq(b.held, 0);
	cr_assert_eq(b.parked, 0);
	cr_assert_null(b.head);

	/* Room for five messages: the stream holding the most gives way
	 * (its highest is parked) while it holds more than the other. */
	arq_rx_budget_init(&b, 5 * cost);
	arq_rx_init(&flood, 1);
	arq_rx_init(&quiet, 1);
	flood.max_bytes = quiet.max_bytes = 4 * cost;
	arq_rx_join(&flood, &b);
	arq_rx_join(&quiet, &b);
	for (uint64_t s = 1; s <= 4; s++) {
		v = frag_view(s, BIG, 0, 1);
		cr_assert_eq(arq_rx_add(&flood, &v, s), ARQ_RX_OK);
	}
	for (uint64_t s = 1; s <= 3; s++) {
		v = frag_view(s, BIG, 0, 2);
		cr_assert_eq(arq_rx_add(&quiet, &v, s),
			     s < 3 ? ARQ_RX_OK : ARQ_RX_PARKED);
	}
	cr_assert_eq(flood.unloaded, 1, "the flooder's latest waits");
	cr_assert_eq(flood.npark, 1);
	cr_assert_eq(flood.park[0].seq, 4);
	cr_assert_eq(quiet.unloaded, 0);
	cr_assert_eq(flood.n, 3);
	cr_assert_eq(quiet.n, 2);
	cr_assert_eq(b.held, 5 * cost);
	cr_assert_eq(b.unloaded, 1);
	cr_assert_eq(b.parked, 2);
	arq_rx_free(&quiet);
	cr_assert_eq(b.held, 3 * cost);
	arq_rx_free(&flood);
	cr_assert_eq(b.held, 0);
	cr_assert_eq(b.parked, 0);
}
