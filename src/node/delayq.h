#ifndef BC_NODE_DELAYQ_H
#define BC_NODE_DELAYQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The mix delay queue: every packet a node holds waits here until its release
 * time.  One binary min-heap keyed by release time serves all packets (one
 * timer for the whole node, not one per packet): push and pop are O(log n).
 *
 * Packets live in fixed-size slots of a slab that grows in chunks up to the
 * capacity given at creation, so a queued packet costs its slot (the maximum
 * packet size plus a small caller-defined metadata area and a length) and one
 * 16-byte heap entry: no malloc per packet, no per-packet timer.
 *
 * The queue is bounded.  When it is full, a push drops one packet chosen
 * uniformly at random among the queued ones and the arriving one (so every
 * packet present has the same chance to survive a flood, and a flooder cannot
 * pick what is dropped), and counts the drop.
 *
 * Not thread-safe: the owner serialises access.
 */
struct delayq;

/* Returns a uniformly random integer in [0, bound); bound >= 1. */
typedef uint32_t (*delayq_rand_fn)(void *ctx, uint32_t bound);

/*
 * Creates a queue for at most capacity packets of at most max_len bytes, each
 * with meta_len bytes of caller metadata (next hop, kind, ...).  rand may be
 * NULL for the default (getrandom-seeded) source; tests pass their own.
 * Returns NULL if capacity is 0 or above DELAYQ_MAX_CAPACITY, or max_len is 0.
 */
#define DELAYQ_MAX_CAPACITY (1u << 24)
struct delayq *delayq_new(size_t capacity, size_t max_len, size_t meta_len,
			  delayq_rand_fn rand, void *rand_ctx);
void delayq_free_(struct delayq *q);
#define delayq_free(q)           \
	do {                     \
		delayq_free_(q); \
		(q) = NULL;      \
	} while (0)

enum delayq_push_result {
	DELAYQ_QUEUED,         /* queued, nothing dropped */
	DELAYQ_QUEUED_EVICTED, /* queued; another packet was dropped for it */
	DELAYQ_DROPPED_NEW, /* full; the arriving packet was the one dropped */
	DELAYQ_TOO_BIG,     /* len > max_len: refused, not counted */
};

/* Copies meta (meta_len bytes) and the packet in. */
enum delayq_push_result delayq_push(struct delayq *q, int64_t release_ns,
				    const void *meta, const uint8_t *pkt,
				    size_t len);

/* Release time of the earliest packet, or INT64_MAX when empty. */
int64_t delayq_next_release(const struct delayq *q);

/*
 * If the earliest packet is due (release_ns <= now_ns), points *meta, *pkt
 * and *len at it inside the queue and returns true; the pointers stay valid
 * until the next call that changes the queue.  delayq_pop then releases it.
 */
bool delayq_peek_due(const struct delayq *q, int64_t now_ns, const void **meta,
		     const uint8_t **pkt, size_t *len);
/* Removes the earliest packet (no-op when empty). */
void delayq_pop(struct delayq *q);

/* Drops every queued packet (counted as drops when count_drops is true). */
void delayq_clear(struct delayq *q, bool count_drops);

size_t delayq_len(const struct delayq *q);
size_t delayq_capacity(const struct delayq *q);
/* Packets dropped for lack of room (both evicted and refused arrivals). */
uint64_t delayq_overflow_drops(const struct delayq *q);
/* Bytes of memory the queue holds now: slab chunks, heap and free list. */
size_t delayq_mem_bytes(const struct delayq *q);
/* Bytes one queued packet costs once the slab is warm (slot + heap entry). */
size_t delayq_bytes_per_packet(const struct delayq *q);

#endif
