/*
 * Delay queue: a binary min-heap of (release time, slot) over a chunked slab
 * of fixed-size packet slots.  See delayq.h for the contract.
 */
#include "node/delayq.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "lib/alloc.h"
#include "lib/log.h"

/* Slots per slab chunk: big enough to amortise the chunk pointer, small
 * enough that an idle node does not hold megabytes it never used. */
#define DELAYQ_CHUNK_SLOTS 256u
#define DELAYQ_NO_SLOT     UINT32_MAX

struct delayq_ent {
	int64_t release_ns;
	uint32_t slot;
	uint32_t seq; /* FIFO among equal release times (wraps safely) */
};

/* A slot: uint32_t length (or free-list link when free), metadata, packet. */
struct delayq {
	size_t capacity;
	size_t max_len;
	size_t meta_len;
	size_t slot_size;
	uint8_t **chunks;
	size_t n_chunks_alloc; /* chunks allocated so far */
	uint32_t free_head;    /* free-list of slots used before */
	uint32_t fresh;        /* slots below this have been used */
	struct delayq_ent *heap;
	size_t n;
	size_t heap_cap;
	uint32_t seq;
	uint64_t overflow_drops;
	delayq_rand_fn rand;
	void *rand_ctx;
	uint8_t rbuf[256];
	size_t rbuf_off;
};

static uint32_t
default_rand(void *ctx, uint32_t bound)
{
	struct delayq *q = ctx;
	/* Rejection sampling: uniform on [0, bound) without modulo bias. */
	uint32_t lim = UINT32_MAX - (UINT32_MAX % bound);
	for (;;) {
		if (q->rbuf_off + 4 > sizeof(q->rbuf)) {
			size_t got = 0;
			while (got < sizeof(q->rbuf)) {
				ssize_t r = getrandom(q->rbuf + got,
						      sizeof(q->rbuf) - got, 0);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					log_err("delayq: getrandom failed");
					abort();
				}
				got += (size_t)r;
			}
			q->rbuf_off = 0;
		}
		uint32_t v;
		memcpy(&v, q->rbuf + q->rbuf_off, 4);
		q->rbuf_off += 4;
		if (v < lim)
			return v % bound;
	}
}

struct delayq *
delayq_new(size_t capacity, size_t max_len, size_t meta_len,
	   delayq_rand_fn rand, void *rand_ctx)
{
	if (capacity == 0 || capacity > DELAYQ_MAX_CAPACITY || max_len == 0 ||
	    max_len > (1u << 20) || meta_len > 4096)
		return NULL;
	struct delayq *q = bc_calloc(1, sizeof(*q));
	q->capacity = capacity;
	q->max_len = max_len;
	q->meta_len = meta_len;
	/* Slots are 8-byte aligned, the metadata at offset 4 is not: callers
	 * copy it out (delayq_peek_due hands out a byte pointer). */
	q->slot_size = (4 + meta_len + max_len + 7) & ~(size_t)7;
	size_t n_chunks =
	    (capacity + DELAYQ_CHUNK_SLOTS - 1) / DELAYQ_CHUNK_SLOTS;
	q->chunks = bc_calloc(n_chunks, sizeof(*q->chunks));
	q->free_head = DELAYQ_NO_SLOT;
	q->rand = rand ? rand : default_rand;
	q->rand_ctx = rand ? rand_ctx : q;
	q->rbuf_off = sizeof(q->rbuf);
	return q;
}

void
delayq_free_(struct delayq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n_chunks_alloc; i++)
		free(q->chunks[i]);
	free(q->chunks);
	free(q->heap);
	free(q);
}

static uint8_t *
slot_ptr(const struct delayq *q, uint32_t slot)
{
	return q->chunks[slot / DELAYQ_CHUNK_SLOTS] +
	       (size_t)(slot % DELAYQ_CHUNK_SLOTS) * q->slot_size;
}

static uint32_t
slot_get_u32(const struct delayq *q, uint32_t slot)
{
	uint32_t v;
	memcpy(&v, slot_ptr(q, slot), 4);
	return v;
}

static void
slot_set_u32(struct delayq *q, uint32_t slot, uint32_t v)
{
	memcpy(slot_ptr(q, slot), &v, 4);
}

static void
slot_release(struct delayq *q, uint32_t slot)
{
	slot_set_u32(q, slot, q->free_head);
	q->free_head = slot;
}

/*
 * Takes a free slot: the last one released (its memory is warm), else the
 * next never-used one, growing the slab by one chunk when needed.  A new
 * chunk is not touched here: threading a free list through it wrote one
 * word per 3 KB slot, a page fault each, 256 at once (bench/node saw them
 * in the loop's profile); its pages now fault in as slots are first used.
 * The caller guarantees n < capacity, so a slot always exists.
 */
static uint32_t
slot_take(struct delayq *q)
{
	uint32_t slot = q->free_head;

	if (slot != DELAYQ_NO_SLOT) {
		q->free_head = slot_get_u32(q, slot);
		return slot;
	}
	slot = q->fresh++;
	if (slot / DELAYQ_CHUNK_SLOTS == q->n_chunks_alloc) {
		size_t c = q->n_chunks_alloc++;
		size_t first = c * DELAYQ_CHUNK_SLOTS;
		size_t count = q->capacity - first < DELAYQ_CHUNK_SLOTS
				   ? q->capacity - first
				   : DELAYQ_CHUNK_SLOTS;
		q->chunks[c] = bc_malloc(count * q->slot_size);
	}
	return slot;
}

static bool
ent_less(const struct delayq_ent *a, const struct delayq_ent *b)
{
	if (a->release_ns != b->release_ns)
		return a->release_ns < b->release_ns;
	return (int32_t)(a->seq - b->seq) < 0;
}

static void
sift_up(struct delayq *q, size_t i)
{
	struct delayq_ent e = q->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ent_less(&e, &q->heap[p]))
			break;
		q->heap[i] = q->heap[p];
		i = p;
	}
	q->heap[i] = e;
}

static void
sift_down(struct delayq *q, size_t i)
{
	struct delayq_ent e = q->heap[i];
	for (;;) {
		size_t l = 2 * i + 1;
		if (l >= q->n)
			break;
		size_t m = l;
		if (l + 1 < q->n && ent_less(&q->heap[l + 1], &q->heap[l]))
			m = l + 1;
		if (!ent_less(&q->heap[m], &e))
			break;
		q->heap[i] = q->heap[m];
		i = m;
	}
	q->heap[i] = e;
}

/* Removes heap entry i and frees its slot. */
static void
heap_remove_at(struct delayq *q, size_t i)
{
	slot_release(q, q->heap[i].slot);
	q->n--;
	if (i == q->n)
		return;
	q->heap[i] = q->heap[q->n];
	if (i > 0 && ent_less(&q->heap[i], &q->heap[(i - 1) / 2]))
		sift_up(q, i);
	else
		sift_down(q, i);
}

static void
heap_grow(struct delayq *q)
{
	if (q->n < q->heap_cap)
		return;
	size_t cap = q->heap_cap ? q->heap_cap * 2 : 64;
	if (cap > q->capacity)
		cap = q->capacity;
	q->heap = bc_realloc(q->heap, cap * sizeof(*q->heap));
	q->heap_cap = cap;
}

enum delayq_push_result
delayq_push(struct delayq *q, int64_t release_ns, const void *meta,
	    const uint8_t *pkt, size_t len)
{
	enum delayq_push_result res = DELAYQ_QUEUED;
	if (len > q->max_len)
		return DELAYQ_TOO_BIG;
	if (q->n == q->capacity) {
		/* Index n stands for the arriving packet. */
		uint32_t victim = q->rand(q->rand_ctx, (uint32_t)q->n + 1);
		q->overflow_drops++;
		if (victim == q->n)
			return DELAYQ_DROPPED_NEW;
		heap_remove_at(q, victim);
		res = DELAYQ_QUEUED_EVICTED;
	}
	heap_grow(q);
	uint32_t slot = slot_take(q);
	uint8_t *p = slot_ptr(q, slot);
	uint32_t l32 = (uint32_t)len;
	memcpy(p, &l32, 4);
	if (q->meta_len)
		memcpy(p + 4, meta, q->meta_len);
	if (len)
		memcpy(p + 4 + q->meta_len, pkt, len);
	size_t i = q->n++;
	q->heap[i].release_ns = release_ns;
	q->heap[i].slot = slot;
	q->heap[i].seq = q->seq++;
	sift_up(q, i);
	return res;
}

int64_t
delayq_next_release(const struct delayq *q)
{
	return q->n ? q->heap[0].release_ns : INT64_MAX;
}

bool
delayq_peek_due(const struct delayq *q, int64_t now_ns, const void **meta,
		const uint8_t **pkt, size_t *len)
{
	if (q->n == 0 || q->heap[0].release_ns > now_ns)
		return false;
	const uint8_t *p = slot_ptr(q, q->heap[0].slot);
	uint32_t l32;
	memcpy(&l32, p, 4);
	if (meta)
		*meta = p + 4;
	if (pkt)
		*pkt = p + 4 + q->meta_len;
	if (len)
		*len = l32;
	return true;
}

void
delayq_pop(struct delayq *q)
{
	if (q->n)
		heap_remove_at(q, 0);
}

void
delayq_clear(struct delayq *q, bool count_drops)
{
	if (count_drops)
		q->overflow_drops += q->n;
	while (q->n)
		heap_remove_at(q, q->n - 1);
}

size_t
delayq_len(const struct delayq *q)
{
	return q->n;
}

size_t
delayq_capacity(const struct delayq *q)
{
	return q->capacity;
}

uint64_t
delayq_overflow_drops(const struct delayq *q)
{
	return q->overflow_drops;
}

size_t
delayq_mem_bytes(const struct delayq *q)
{
	size_t slots = 0;
	for (size_t c = 0; c < q->n_chunks_alloc; c++) {
		size_t first = c * DELAYQ_CHUNK_SLOTS;
		size_t left = q->capacity - first;
		slots += left < DELAYQ_CHUNK_SLOTS ? left : DELAYQ_CHUNK_SLOTS;
	}
	size_t n_chunks =
	    (q->capacity + DELAYQ_CHUNK_SLOTS - 1) / DELAYQ_CHUNK_SLOTS;
	return sizeof(*q) + n_chunks * sizeof(*q->chunks) +
	       slots * q->slot_size + q->heap_cap * sizeof(*q->heap);
}

size_t
delayq_bytes_per_packet(const struct delayq *q)
{
	return q->slot_size + sizeof(struct delayq_ent);
}
