#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "node/delayq.h"

/* Deterministic xorshift for the tests; the queue's default is getrandom. */
struct trng {
	uint64_t s;
	uint32_t forced; /* UINT32_MAX: random */
};

static uint64_t
xs(struct trng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static uint32_t
trand(void *ctx, uint32_t bound)
{
	struct trng *r = ctx;
	if (r->forced != UINT32_MAX)
		return r->forced < bound ? r->forced : bound - 1;
	return (uint32_t)(xs(r) % bound);
}

struct meta {
	uint64_t id;
};

static void
push_id(struct delayq *q, int64_t t, uint64_t id)
{
	struct meta m = {id};
	uint8_t pkt[64];
	memset(pkt, (int)(id & 0xff), sizeof(pkt));
	enum delayq_push_result r = delayq_push(q, t, &m, pkt, sizeof(pkt));
	cr_assert(r == DELAYQ_QUEUED || r == DELAYQ_QUEUED_EVICTED ||
		  r == DELAYQ_DROPPED_NEW);
}

Test(delayq, pops_in_release_order)
{
	struct trng r = {0x9e3779b97f4a7c15ull, UINT32_MAX};
	struct delayq *q = delayq_new(5000, 64, sizeof(struct meta), trand, &r);
	cr_assert_not_null(q);
	for (uint64_t i = 0; i < 5000; i++)
		push_id(q, (int64_t)(xs(&r) % 100000), i);
	cr_assert_eq(delayq_len(q), 5000);
	int64_t last = -1;
	size_t popped = 0;
	const void *mp;
	const uint8_t *pkt;
	size_t len;
	while (delayq_peek_due(q, INT64_MAX - 1, &mp, &pkt, &len)) {
		int64_t t = delayq_next_release(q);
		cr_assert_geq(t, last);
		last = t;
		struct meta m;
		memcpy(&m, mp, sizeof(m));
		cr_assert_eq(len, 64);
		cr_assert_eq(pkt[0], (uint8_t)(m.id & 0xff));
		cr_assert_eq(pkt[63], (uint8_t)(m.id & 0xff));
		delayq_pop(q);
		popped++;
	}
	cr_assert_eq(popped, 5000);
	cr_assert_eq(delayq_next_release(q), INT64_MAX);
	delayq_free(q);
	cr_assert_null(q);
}

Test(delayq, equal_times_keep_arrival_order)
{
	struct delayq *q = delayq_new(100, 64, sizeof(struct meta), NULL, NULL);
	for (uint64_t i = 0; i < 100; i++)
		push_id(q, 42, i);
	for (uint64_t i = 0; i < 100; i++) {
		const void *mp;
		cr_assert(delayq_peek_due(q, 42, &mp, NULL, NULL));
		struct meta m;
		memcpy(&m, mp, sizeof(m));
		cr_assert_eq(m.id, i);
		delayq_pop(q);
	}
	delayq_free(q);
}

Test(delayq, not_due_is_not_returned)
{
	struct delayq *q = delayq_new(4, 64, sizeof(struct meta), NULL, NULL);
	push_id(q, 1000, 1);
	cr_assert_not(delayq_peek_due(q, 999, NULL, NULL, NULL));
	cr_assert(delayq_peek_due(q, 1000, NULL, NULL, NULL));
	delayq_free(q);
}

Test(delayq, overflow_evicts_the_chosen_victim)
{
	struct trng r = {1, 0};
	struct delayq *q = delayq_new(3, 64, sizeof(struct meta), trand, &r);
	push_id(q, 10, 1);
	push_id(q, 20, 2);
	push_id(q, 30, 3);
	/* Victim index 0 is the heap root: the packet due at 10. */
	struct meta m = {4};
	uint8_t pkt[8] = {0};
	cr_assert_eq(delayq_push(q, 40, &m, pkt, 8), DELAYQ_QUEUED_EVICTED);
	cr_assert_eq(delayq_len(q), 3);
	cr_assert_eq(delayq_overflow_drops(q), 1);
	cr_assert_eq(delayq_next_release(q), 20);
	/* Victim index n (3) is the arriving packet itself. */
	r.forced = 3;
	cr_assert_eq(delayq_push(q, 5, &m, pkt, 8), DELAYQ_DROPPED_NEW);
	cr_assert_eq(delayq_overflow_drops(q), 2);
	cr_assert_eq(delayq_next_release(q), 20);
	uint64_t want[] = {2, 3, 4};
	for (size_t i = 0; i < 3; i++) {
		const void *mp;
		cr_assert(delayq_peek_due(q, 100, &mp, NULL, NULL));
		memcpy(&m, mp, sizeof(m));
		cr_assert_eq(m.id, want[i]);
		delayq_pop(q);
	}
	delayq_free(q);
}

/* Over many overflows, every queued position is chosen about equally often
 * and the heap stays ordered after each arbitrary removal. */
Test(delayq, random_eviction_keeps_heap_valid)
{
	struct trng r = {12345, UINT32_MAX};
	struct delayq *q = delayq_new(257, 64, sizeof(struct meta), trand, &r);
	uint64_t evicted = 0, refused = 0;
	for (uint64_t i = 0; i < 20000; i++) {
		struct meta m = {i};
		uint8_t pkt[16] = {0};
		enum delayq_push_result res = delayq_push(
		    q, (int64_t)(xs(&r) % 1000000), &m, pkt, sizeof(pkt));
		if (res == DELAYQ_QUEUED_EVICTED)
			evicted++;
		else if (res == DELAYQ_DROPPED_NEW)
			refused++;
	}
	cr_assert_eq(delayq_len(q), 257);
	cr_assert_eq(evicted + refused, 20000 - 257);
	cr_assert_eq(delayq_overflow_drops(q), 20000 - 257);
	/* The arriving packet is 1 of 258 candidates. */
	cr_assert_lt(refused, (20000 - 257) / 258 * 3);
	cr_assert_gt(refused, 0);
	int64_t last = INT64_MIN;
	while (delayq_peek_due(q, INT64_MAX - 1, NULL, NULL, NULL)) {
		cr_assert_geq(delayq_next_release(q), last);
		last = delayq_next_release(q);
		delayq_pop(q);
	}
	delayq_free(q);
}

Test(delayq, refuses_oversized_and_bad_geometry)
{
	cr_assert_null(delayq_new(0, 64, 0, NULL, NULL));
	cr_assert_null(delayq_new(10, 0, 0, NULL, NULL));
	cr_assert_null(delayq_new(DELAYQ_MAX_CAPACITY + 1, 64, 0, NULL, NULL));
	struct delayq *q = delayq_new(2, 64, 0, NULL, NULL);
	uint8_t big[65] = {0};
	cr_assert_eq(delayq_push(q, 0, NULL, big, 65), DELAYQ_TOO_BIG);
	cr_assert_eq(delayq_len(q), 0);
	cr_assert_eq(delayq_overflow_drops(q), 0);
	cr_assert_eq(delayq_push(q, 0, NULL, big, 64), DELAYQ_QUEUED);
	delayq_free(q);
}

Test(delayq, memory_per_packet_within_budget)
{
	const size_t pkt_len = 3082;
	struct delayq *q = delayq_new(10000, pkt_len, 40, NULL, NULL);
	size_t empty = delayq_mem_bytes(q);
	static uint8_t pkt[3082];
	uint8_t meta[40] = {0};
	for (int i = 0; i < 10000; i++)
		cr_assert_eq(delayq_push(q, i, meta, pkt, sizeof(pkt)),
			     DELAYQ_QUEUED);
	size_t per = (delayq_mem_bytes(q) - empty) / 10000;
	cr_assert_leq(per, pkt_len + 128, "per packet %zu", per);
	cr_assert_leq(delayq_bytes_per_packet(q), pkt_len + 128);
	/* Clearing frees the slots for reuse: a refill allocates nothing. */
	size_t full = delayq_mem_bytes(q);
	delayq_clear(q, true);
	cr_assert_eq(delayq_overflow_drops(q), 10000);
	for (int i = 0; i < 10000; i++)
		delayq_push(q, i, meta, pkt, sizeof(pkt));
	cr_assert_eq(delayq_mem_bytes(q), full);
	delayq_free(q);
}
