/*
 * The ARQ receiver's parking (client/arq.h): fragments with no room are
 * kept by the caller, not lost; the lowest sequence numbers are held; what
 * is parked comes back when room appears and after a restart; the bounds
 * on parked items hold, and what is given up beyond them is counted and
 * skipped in sequence.
 *
 * The harness plays the client's part: a table of items (the store; tag =
 * index), each kept until its message is handed up or trim gives it up,
 * and a settle step that hands up, refeeds and trims as session_rx.c does.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "client/arq.h"

#define PER 1929
#define MAXI 8192

struct item {
	uint64_t seq;
	uint16_t index, count;
	uint8_t who;
	bool kept;
};

struct world {
	struct arq_rx *rx[2];
	int nrx;
	struct item it[MAXI + 1]; /* by tag */
	size_t nit;
	uint64_t last[2];	/* the last number handed up per stream */
	size_t got[2];		/* messages handed up per stream */
	uint64_t gave_up_items; /* items trim gave up */
};

static uint8_t pattern(const struct item *it, size_t k)
{
	return (uint8_t)(it->seq * 131 + it->index * 17 + k + it->who);
}

static struct arq_frag_view view_of(const struct item *it)
{
	static uint8_t buf[PER];
	struct arq_frag_view v;

	for (size_t k = 0; k < PER; k++)
		buf[k] = pattern(it, k);
	memset(&v, 0, sizeof(v));
	v.id[0] = it->who;
	memcpy(v.id + 8, &it->seq, sizeof(it->seq));
	v.seq = it->seq;
	v.count = it->count;
	v.index = it->index;
	v.data = buf;
	v.len = PER;
	v.full = PER;
	return v;
}

/* A fragment arrives on stream s (a fetched item, stored first). */
static enum arq_rx_result give(struct world *w, int s, uint64_t seq,
			       uint16_t count, uint16_t index)
{
	cr_assert_lt(w->nit, MAXI);
	size_t tag = ++w->nit;
	struct item *it = &w->it[tag];
	*it = (struct item){ .seq = seq, .index = index, .count = count,
			     .who = (uint8_t)s };
	struct arq_frag_view v = view_of(it);
	enum arq_rx_result r = arq_rx_add(w->rx[s], &v, tag);
	it->kept = r == ARQ_RX_OK || r == ARQ_RX_PARKED;
	return r;
}

static void on_drop(void *ctx, struct arq_rx *from, uint64_t tag)
{
	struct world *w = ctx;

	(void)from;
	cr_assert(tag >= 1 && tag <= w->nit && w->it[tag].kept,
		  "trim gave up an item it did not have: %llu",
		  (unsigned long long)tag);
	w->it[tag].kept = false;
	w->gave_up_items++;
}

/* A message of stream s handed up: checked, and its items consumed. */
static void handed(struct world *w, int s, uint8_t *data, size_t len,
		   uint64_t seq)
{
	cr_assert_gt(seq, w->last[s], "stream %d: %llu after %llu", s,
		     (unsigned long long)seq, (unsigned long long)w->last[s]);
	w->last[s] = seq;
	w->got[s]++;
	for (size_t t = 1; t <= w->nit; t++) {
		struct item *it = &w->it[t];
		if (it->who != s || it->seq > seq || !it->kept)
			continue;
		if (it->seq == seq) {
			cr_assert_eq(len, (size_t)it->count * PER);
			for (size_t k = 0; k < PER; k += 97)
				cr_assert_eq(data[it->index * PER + k],
					     pattern(it, k));
		}
		it->kept = false;
	}
	free(data);
}

/* Hand up, refeed what fits, again while anything moved; then trim. */
static void settle(struct world *w)
{
	bool moved;
	uint8_t *data;
	size_t len;
	uint64_t seq, tag;

	do {
		moved = false;
		for (int s = 0; s < w->nrx; s++)
			for (;;) {
				while (arq_rx_pop(w->rx[s], &data, &len,
						  &seq)) {
					handed(w, s, data, len, seq);
					moved = true;
				}
				if (!arq_rx_refeed(w->rx[s], &tag))
					break;
				cr_assert(tag >= 1 && tag <= w->nit &&
					  w->it[tag].kept);
				struct arq_frag_view v = view_of(&w->it[tag]);
				enum arq_rx_result r =
					arq_rx_add(w->rx[s], &v, tag);
				if (r == ARQ_RX_PARKED)
					break;
				if (r != ARQ_RX_OK)
					w->it[tag].kept = false;
			}
	} while (moved);
	for (int s = 0; s < w->nrx; s++)
		arq_rx_trim(w->rx[s], on_drop, w);
}

/* The receivers' bounds, and every parked tag is an item still kept. */
static void check(const struct world *w)
{
	for (int s = 0; s < w->nrx; s++) {
		const struct arq_rx *r = w->rx[s];
		cr_assert_leq(r->n, ARQ_RX_PENDING_MAX);
		cr_assert_leq(r->held, r->max_bytes);
		cr_assert_leq(r->npark, r->park_max);
		for (size_t i = 0; i < r->npark; i++)
			cr_assert(w->it[r->park[i].tag].kept);
		if (r->budget != NULL) {
			cr_assert_leq(r->budget->held, r->budget->max);
			cr_assert_leq(r->budget->parked, r->budget->park_max);
		}
	}
}

static size_t kept(const struct world *w)
{
	size_t n = 0;
	for (size_t t = 1; t <= w->nit; t++)
		n += w->it[t].kept;
	return n;
}

/* A fixed permutation of 0..n-1 (xorshift Fisher-Yates). */
static void shuffle(uint64_t *a, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;
	for (size_t i = n; i > 1; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t j = (size_t)(x % i);
		uint64_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/*
 * The restart: the receiver is gone with the process; what the store kept
 * (items, the numbers given up, the next number) is all there is.  Every
 * kept item is parked in a scrambled order, then refed.
 */
static void restart(struct world *w, int s, struct arq_rx *r,
		    uint64_t seed)
{
	struct arq_rx_gone gone[ARQ_RX_GONE_MAX];
	uint64_t *tags;
	size_t ngone = r->ngone, nt = 0, park_max = r->park_max;
	size_t max_bytes = r->max_bytes;
	uint64_t next = r->next_seq;
	struct arq_rx_budget *b = r->budget;

	memcpy(gone, r->gone, ngone * sizeof(gone[0]));
	arq_rx_free(r);
	arq_rx_init(r, next);
	r->park_max = park_max;
	r->max_bytes = max_bytes;
	if (b != NULL)
		arq_rx_join(r, b);
	for (size_t i = 0; i < ngone; i++)
		arq_rx_mark_gone(r, gone[i].lo, gone[i].hi);
	tags = calloc(w->nit, sizeof(*tags));
	for (size_t t = 1; t <= w->nit; t++)
		if (w->it[t].kept && w->it[t].who == s)
			tags[nt++] = t;
	shuffle(tags, nt, seed);
	for (size_t i = 0; i < nt; i++) {
		struct arq_frag_view v = view_of(&w->it[tags[i]]);
		struct arq_rx_park p;
		arq_rx_park_of(&p, &v, tags[i]);
		arq_rx_park_put(r, &p);
	}
	free(tags);
	settle(w);
	check(w);
}

#define N 700

Test(client_arq_rx, past_256_incomplete_in_hostile_order)
{
	static struct world w;
	struct arq_rx r;
	uint64_t order[N - 1];

	arq_rx_init(&r, 1);
	w.rx[0] = &r;
	w.nrx = 1;
	/* Message 1 held back.  First fragments from the top down: each
	 * lower number makes the highest held one wait; then the second
	 * fragments scrambled. */
	for (uint64_t s = N; s >= 2; s--) {
		cr_assert_eq(give(&w, 0, s, 2, 0), ARQ_RX_OK);
		settle(&w);
		check(&w);
	}
	cr_assert_eq(r.n, ARQ_RX_PENDING_MAX);
	cr_assert_eq(r.unloaded, N - 1 - ARQ_RX_PENDING_MAX);
	for (size_t i = 0; i < N - 1; i++)
		order[i] = i + 2;
	shuffle(order, N - 1, 7);
	for (size_t i = 0; i < N - 1; i++) {
		enum arq_rx_result e = give(&w, 0, order[i], 2, 1);
		cr_assert(e == ARQ_RX_OK || e == ARQ_RX_PARKED);
		settle(&w);
		check(&w);
	}
	/* Every slot holds one of 2..257, all complete behind the gap;
	 * the rest wait parked; nothing went up, nothing was lost. */
	cr_assert_eq(w.got[0], 0);
	cr_assert_eq(r.n, ARQ_RX_PENDING_MAX);
	cr_assert_eq(r.npark, 2 * (N - 1 - ARQ_RX_PENDING_MAX));
	cr_assert_eq(kept(&w), 2 * (N - 1));
	cr_assert_eq(give(&w, 0, 600, 2, 1), ARQ_RX_DUPLICATE);
	cr_assert_eq(give(&w, 0, 100, 2, 1), ARQ_RX_DUPLICATE);
	/* 1 comes: every message goes up, once, in order. */
	give(&w, 0, 1, 2, 1);
	settle(&w);
	cr_assert_eq(w.got[0], 0);
	give(&w, 0, 1, 2, 0);
	settle(&w);
	check(&w);
	cr_assert_eq(w.got[0], N);
	cr_assert_eq(w.last[0], N);
	cr_assert_eq(r.n + r.npark + kept(&w), 0);
	cr_assert_eq(r.dropped + r.skipped, 0);
	arq_rx_free(&r);
}

Test(client_arq_rx, past_the_byte_caps_two_streams_hostile_order)
{
	static struct world w;
	struct arq_rx_budget b;
	struct arq_rx r[2];
	uint64_t order[2 * 40 * 4];
	size_t n = 0;

	/* Three messages of 4 fragments per stream, five in all. */
	arq_rx_budget_init(&b, 5 * 4 * PER);
	for (int s = 0; s < 2; s++) {
		arq_rx_init(&r[s], 1);
		r[s].max_bytes = 3 * 4 * PER;
		arq_rx_join(&r[s], &b);
		w.rx[s] = &r[s];
	}
	w.nrx = 2;
	/* 40 messages each; fragment 2 of message 1 of each held back. */
	for (uint64_t s = 0; s < 2; s++)
		for (uint64_t q = 1; q <= 40; q++)
			for (uint64_t i = 0; i < 4; i++)
				if (q != 1 || i != 2)
					order[n++] = s << 32 | q << 8 | i;
	shuffle(order, n, 11);
	for (size_t k = 0; k < n; k++) {
		int s = (int)(order[k] >> 32);
		uint64_t q = order[k] >> 8 & 0xffffff;
		enum arq_rx_result e =
			give(&w, s, q, 4, (uint16_t)(order[k] & 0xff));
		cr_assert(e == ARQ_RX_OK || e == ARQ_RX_PARKED);
		settle(&w);
		check(&w);
	}
	cr_assert_eq(w.got[0] + w.got[1], 0);
	cr_assert_eq(kept(&w), n);
	cr_assert_geq(r[0].parked + r[1].parked, 1);
	for (int s = 0; s < 2; s++) {
		give(&w, s, 1, 4, 2);
		settle(&w);
		check(&w);
	}
	cr_assert_eq(w.got[0], 40);
	cr_assert_eq(w.got[1], 40);
	cr_assert_eq(kept(&w), 0);
	cr_assert_eq(b.held + b.parked, 0);
	for (int s = 0; s < 2; s++)
		arq_rx_free(&r[s]);
}

Test(client_arq_rx, parked_items_survive_a_restart)
{
	static struct world w;
	struct arq_rx r;
	uint64_t order[2 * N];
	size_t n = 0;

	arq_rx_init(&r, 1);
	w.rx[0] = &r;
	w.nrx = 1;
	for (uint64_t q = 2; q <= N; q++)
		for (uint64_t i = 0; i < 2; i++)
			order[n++] = q << 8 | i;
	shuffle(order, n, 3);
	for (size_t k = 0; k < n; k++) {
		give(&w, 0, order[k] >> 8, 2, (uint16_t)(order[k] & 0xff));
		settle(&w);
	}
	give(&w, 0, 1, 2, 0);
	settle(&w);
	cr_assert_eq(kept(&w), n + 1);
	/* Killed here; the store holds every item; a new process. */
	restart(&w, 0, &r, 5);
	cr_assert_eq(w.got[0], 0);
	cr_assert_eq(r.n, ARQ_RX_PENDING_MAX);
	cr_assert_eq(r.npark, n + 1 - 2 * (ARQ_RX_PENDING_MAX - 1) - 1);
	give(&w, 0, 1, 2, 1);
	settle(&w);
	cr_assert_eq(w.got[0], N);
	/* A second round, killed half way through handing up: restart
	 * with the next number where the store has it. */
	n = 0;
	for (uint64_t q = N + 1; q <= 2 * N; q++)
		for (uint64_t i = 0; i < 2; i++)
			if (q != N + 300 || i != 0)
				order[n++] = q << 8 | i;
	shuffle(order, n, 9);
	for (size_t k = 0; k < n; k++) {
		give(&w, 0, order[k] >> 8, 2, (uint16_t)(order[k] & 0xff));
		settle(&w);
	}
	cr_assert_eq(w.got[0], N + 299);
	restart(&w, 0, &r, 6);
	cr_assert_eq(r.next_seq, N + 300);
	give(&w, 0, N + 300, 2, 0);
	settle(&w);
	cr_assert_eq(w.got[0], 2 * N);
	cr_assert_eq(w.last[0], 2 * N);
	cr_assert_eq(r.n + r.npark + kept(&w), 0);
	arq_rx_free(&r);
}

Test(client_arq_rx, parking_is_bounded_latest_given_up_and_skipped)
{
	static struct world w;
	struct arq_rx r;

	arq_rx_init(&r, 1);
	r.park_max = 100;
	w.rx[0] = &r;
	w.nrx = 1;
	/* 1 missing; 2..600 single fragments: 256 held, 100 parked, the
	 * latest 243 given up (their items deleted), counted. */
	for (uint64_t q = 600; q >= 2; q--) {
		give(&w, 0, q, 1, 0);
		settle(&w);
		check(&w);
	}
	cr_assert_eq(r.n, ARQ_RX_PENDING_MAX);
	cr_assert_eq(r.npark, 100);
	cr_assert_eq(r.dropped_msgs, 243);
	cr_assert_eq(r.dropped, 243);
	cr_assert_eq(w.gave_up_items, 243);
	cr_assert_eq(kept(&w), ARQ_RX_PENDING_MAX + 100);
	/* The latest go first: one range of numbers. */
	cr_assert_eq(r.ngone, 1);
	cr_assert_eq(r.gone[0].lo, 358);
	cr_assert_eq(r.gone[0].hi, 600);
	cr_assert_eq(give(&w, 0, 400, 1, 0), ARQ_RX_DUPLICATE);
	/* The store survives: so do the numbers given up. */
	restart(&w, 0, &r, 4);
	cr_assert_eq(r.ngone, 1);
	give(&w, 0, 1, 1, 0);
	settle(&w);
	cr_assert_eq(w.got[0], 357);
	cr_assert_eq(w.last[0], 357);
	cr_assert_eq(r.next_seq, 601, "358..600 passed over");
	cr_assert_eq(r.skipped, 243);
	give(&w, 0, 601, 1, 0);
	settle(&w);
	cr_assert_eq(w.last[0], 601);
	cr_assert_eq(r.n + r.npark + r.ngone + kept(&w), 0);
	arq_rx_free(&r);
}

Test(client_arq_rx, budget_bound_the_stream_parking_most_gives_up)
{
	static struct world w;
	struct arq_rx_budget b;
	struct arq_rx flood, quiet;

	arq_rx_budget_init(&b, ARQ_RX_TOTAL_MAX);
	b.park_max = 150;
	arq_rx_init(&flood, 1);
	arq_rx_init(&quiet, 1);
	quiet.max_bytes = 5 * PER;
	arq_rx_join(&flood, &b);
	arq_rx_join(&quiet, &b);
	w.rx[0] = &flood;
	w.rx[1] = &quiet;
	w.nrx = 2;
	for (uint64_t q = 2; q <= 21; q++) { /* 5 held, 15 parked */
		give(&w, 1, q, 1, 0);
		settle(&w);
	}
	for (uint64_t q = 2; q <= 501; q++) { /* 256 held, 244 parked */
		give(&w, 0, q, 1, 0);
		settle(&w);
		check(&w);
	}
	cr_assert_eq(b.parked, 150);
	cr_assert_eq(quiet.npark, 15);
	cr_assert_eq(quiet.dropped, 0, "the quiet contact keeps its own");
	cr_assert_eq(flood.npark, 135);
	cr_assert_eq(flood.dropped_msgs, 244 - 135);
	cr_assert_eq(b.dropped, 244 - 135);
	for (int s = 0; s < 2; s++) {
		give(&w, s, 1, 1, 0);
		settle(&w);
		check(&w);
	}
	cr_assert_eq(w.got[1], 21);
	cr_assert_eq(w.got[0], 1 + 256 + 135);
	cr_assert_eq(flood.next_seq, 502);
	cr_assert_eq(kept(&w), 0);
	arq_rx_free(&quiet);
	arq_rx_free(&flood);
}

/*
 * More given up than 256 (the number of ranges of given-up numbers the
 * receiver keeps): 300 of them, in a row. Every one must still be passed
 * over when its turn comes (the stream does not stall on a number it has
 * forgotten), a late copy of one is a duplicate (not handed up as if it
 * filled its gap), and so after a restart.
 */
Test(client_arq_rx, more_than_256_given_up_all_passed_over)
{
	static struct world w;
	struct arq_rx r;
	const uint64_t last = 1 + ARQ_RX_PENDING_MAX + 100 + 300;

	arq_rx_init(&r, 1);
	r.park_max = 100;
	w.rx[0] = &r;
	w.nrx = 1;
	/* 1 missing; 2..657 in order: 256 held, 100 parked, 358..657 given
	 * up, the latest each time. */
	for (uint64_t q = 2; q <= last; q++) {
		give(&w, 0, q, 1, 0);
		settle(&w);
		check(&w);
	}
	cr_assert_eq(r.dropped_msgs, 300);
	cr_assert_eq(w.gave_up_items, 300);
	/* Late copies of given-up messages, the first and the last. */
	cr_assert_eq(give(&w, 0, 358, 1, 0), ARQ_RX_DUPLICATE);
	cr_assert_eq(give(&w, 0, last, 1, 0), ARQ_RX_DUPLICATE);
	settle(&w);
	restart(&w, 0, &r, 12);
	cr_assert_eq(give(&w, 0, last - 1, 1, 0), ARQ_RX_DUPLICATE);
	give(&w, 0, 1, 1, 0);
	settle(&w);
	check(&w);
	cr_assert_eq(w.got[0], 357);
	cr_assert_eq(w.last[0], 357);
	cr_assert_eq(r.next_seq, last + 1, "stalled at %llu",
		     (unsigned long long)r.next_seq);
	cr_assert_eq(r.skipped, 300);
	give(&w, 0, last + 1, 1, 0);
	settle(&w);
	cr_assert_eq(w.last[0], last + 1);
	cr_assert_eq(r.n + r.npark + kept(&w), 0);
	arq_rx_free(&r);
}

/*
 * A contact that makes the given-up numbers scattered: only even numbers
 * at first, so each one given up is a range of its own, well over 256;
 * then the odd ones, then message 1. Whatever the receiver gives up to
 * stay in its bounds, the stream must reach the end: every number handed
 * up at most once and in order (the harness checks), or given up and
 * passed over; nothing left held, parked or kept.
 */
Test(client_arq_rx, scattered_given_up_numbers_never_stall)
{
	static struct world w;
	struct arq_rx r;
	const uint64_t last = 2 * (ARQ_RX_PENDING_MAX + 10 + 400) + 1;

	arq_rx_init(&r, 1);
	r.park_max = 10;
	w.rx[0] = &r;
	w.nrx = 1;
	for (uint64_t q = 2; q <= last; q += 2) {
		give(&w, 0, q, 1, 0);
		settle(&w);
		check(&w);
	}
	cr_assert_geq(r.dropped_msgs, 400);
	cr_assert_eq(r.ngone, ARQ_RX_GONE_MAX, "ranges joined at the bound");
	cr_log_info("evens: %llu given up in %zu ranges, %zu held, %zu parked",
		    (unsigned long long)r.dropped_msgs, r.ngone, r.n, r.npark);
	for (uint64_t q = 3; q <= last; q += 2) {
		give(&w, 0, q, 1, 0);
		settle(&w);
		check(&w);
	}
	give(&w, 0, 1, 1, 0);
	settle(&w);
	check(&w);
	cr_assert_eq(r.next_seq, last + 1, "stalled at %llu",
		     (unsigned long long)r.next_seq);
	cr_assert_eq(w.got[0] + r.skipped, last, "%zu handed up, %llu skipped",
		     w.got[0], (unsigned long long)r.skipped);
	cr_log_info("then all: %zu handed up, %llu passed over, %llu given up",
		    w.got[0], (unsigned long long)r.skipped,
		    (unsigned long long)r.dropped_msgs);
	cr_assert_eq(r.n + r.npark + kept(&w), 0);
	arq_rx_free(&r);
}

/* A parked entry for message seq (one fragment of count), tag = tag. */
static void park_one(struct arq_rx *r, uint64_t seq, uint16_t index,
		     uint16_t count, uint64_t tag)
{
	struct arq_rx_park p;

	memset(&p, 0, sizeof(p));
	p.seq = seq;
	p.tag = tag;
	p.id[0] = 9;
	memcpy(p.id + 8, &seq, sizeof(seq));
	p.index = index;
	p.count = count;
	p.full = PER;
	arq_rx_park_put(r, &p);
}

/*
 * The parked list gives its lowest entries from the front without moving
 * the rest (a start with thousands parked did a move of the whole list per
 * entry), takes one from the middle (a fragment of a held message), and
 * grows again after entries left the front: every entry comes back once,
 * lowest first.
 */
Test(client_arq_rx, parked_list_front_middle_and_refill)
{
	struct arq_rx r;
	uint64_t tag, order[40];

	arq_rx_init(&r, 100);
	for (size_t i = 0; i < 40; i++)
		order[i] = 100 + i;
	shuffle(order, 40, 21);
	for (size_t i = 0; i < 40; i++)
		park_one(&r, order[i], 0, 1, order[i]);
	for (uint64_t want = 100; want < 110; want++) {
		cr_assert(arq_rx_refeed(&r, &tag));
		cr_assert_eq(tag, want);
	}
	cr_assert_eq(r.npark, 30);
	cr_assert_gt(r.park_off, 0, "the lowest left from the front");
	/* Message 150 of two fragments: the first held, the second parked
	 * among the others; it comes back first, from the middle. */
	park_one(&r, 150, 1, 2, 1150);
	for (uint64_t q = 200; q < 260; q++) /* more than the room left */
		park_one(&r, q, 0, 1, q);
	struct item it = { .seq = 150, .index = 0, .count = 2, .who = 9 };
	struct arq_frag_view v = view_of(&it);
	cr_assert_eq(arq_rx_add(&r, &v, 5150), ARQ_RX_OK);
	cr_assert(arq_rx_refeed(&r, &tag));
	cr_assert_eq(tag, 1150, "a held message's fragment first");
	uint64_t last = 0;
	size_t n = 0;
	while (arq_rx_refeed(&r, &tag)) {
		cr_assert_gt(tag, last, "%llu after %llu",
			     (unsigned long long)tag,
			     (unsigned long long)last);
		last = tag;
		n++;
	}
	cr_assert_eq(n, 30 + 60);
	cr_assert_eq(last, 259);
	cr_assert_eq(r.npark, 0);
	arq_rx_free(&r);
}

/* arq_rx_pop_tags names the items of the message handed up. */
Test(client_arq_rx, pop_gives_the_tags_of_its_fragments)
{
	static struct world w;
	struct arq_rx r;
	uint8_t *data;
	uint64_t seq, *tags;
	size_t len, ntags;

	arq_rx_init(&r, 1);
	w.rx[0] = &r;
	w.nrx = 1;
	cr_assert_eq(give(&w, 0, 1, 3, 2), ARQ_RX_OK); /* tag 1 */
	cr_assert_eq(give(&w, 0, 1, 3, 0), ARQ_RX_OK); /* tag 2 */
	cr_assert_not(arq_rx_pop_tags(&r, &data, &len, &seq, &tags, &ntags));
	cr_assert_eq(give(&w, 0, 1, 3, 1), ARQ_RX_OK); /* tag 3 */
	cr_assert(arq_rx_pop_tags(&r, &data, &len, &seq, &tags, &ntags));
	cr_assert_eq(seq, 1);
	cr_assert_eq(len, 3 * PER);
	cr_assert_eq(ntags, 3);
	cr_assert(tags[0] == 2 && tags[1] == 3 && tags[2] == 1,
		  "by fragment index");
	free(tags);
	free(data);
	arq_rx_free(&r);
}
