/*
 * The receiving side of reliable delivery: duplicates, reassembly, and
 * parking what has no room (client/arq.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

#include "client/arq.h"

struct arq_rx_msg {
	uint8_t id[ARQ_ID_LEN];
	uint64_t seq;
	uint16_t count, have;
	size_t per;     /* data bytes of every fragment but the last */
	size_t len;     /* known once the last fragment arrived */
	uint8_t *seen;  /* count flags */
	uint64_t *tags; /* the caller's tag of each seen fragment */
	uint8_t *data;  /* count * per bytes */
	size_t cost;    /* what it counts against the caps: count * per */
};

void
arq_rx_init(struct arq_rx *r, uint64_t next_seq)
{
	memset(r, 0, sizeof(*r));
	r->next_seq = next_seq ? next_seq : 1;
	r->max_bytes = ARQ_RX_BYTES_MAX;
	r->park_max = ARQ_RX_PARK_MAX;
	r->park_sorted = true;
}

void
arq_rx_budget_init(struct arq_rx_budget *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	b->park_max = ARQ_RX_PARK_TOTAL;
}

void
arq_rx_join(struct arq_rx *r, struct arq_rx_budget *b)
{
	r->budget = b;
	r->next = b->head;
	b->head = r;
	b->held += r->held;
	b->parked += r->npark;
}

static void
arq_rx_leave(struct arq_rx *r)
{
	struct arq_rx **p;

	if (r->budget == NULL)
		return;
	for (p = &r->budget->head; *p != NULL; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	r->budget->held -= r->held;
	r->budget->parked -= r->npark;
	r->budget = NULL;
	r->next = NULL;
}

static void
arq_rx_msg_free(struct arq_rx_msg *m)
{
	if (m == NULL)
		return;
	BC_FREE(m->seen);
	BC_FREE(m->tags);
	BC_FREE(m->data);
	free(m);
}

void
arq_rx_free(struct arq_rx *r)
{
	arq_rx_leave(r);
	for (size_t i = 0; i < r->n; i++)
		arq_rx_msg_free(r->pending[i]);
	r->n = 0;
	r->held = 0;
	if (r->park != NULL)
		free(r->park - r->park_off);
	r->park = NULL;
	r->npark = r->park_cap = r->park_off = 0;
	r->park_sorted = true;
}

/* ---- The parked list ---- */

void
arq_rx_park_of(struct arq_rx_park *p, const struct arq_frag_view *v,
	       uint64_t tag)
{
	memset(p, 0, sizeof(*p));
	p->seq = v->seq;
	p->tag = tag;
	memcpy(p->id, v->id, ARQ_ID_LEN);
	p->index = v->index;
	p->count = v->count;
	p->full = (uint32_t)v->full;
}

static void
arq_rx_park_push(struct arq_rx *r, const struct arq_rx_park *p)
{
	if (r->npark == r->park_cap && r->park_off > 0) {
		/* Room at the front, from entries that left there. */
		struct arq_rx_park *base = r->park - r->park_off;
		memmove(base, r->park, r->npark * sizeof(*r->park));
		r->park = base;
		r->park_cap += r->park_off;
		r->park_off = 0;
	}
	if (r->npark == r->park_cap) {
		r->park_cap = r->park_cap ? 2 * r->park_cap : 16;
		r->park = bc_realloc(r->park, r->park_cap * sizeof(*r->park));
	}
	if (r->npark > 0 && p->seq < r->park[r->npark - 1].seq)
		r->park_sorted = false;
	r->park[r->npark++] = *p;
	if (r->budget != NULL)
		r->budget->parked++;
}

void
arq_rx_park_put(struct arq_rx *r, const struct arq_rx_park *p)
{
	arq_rx_park_push(r, p);
}

static int
arq_rx_park_cmp(const void *a, const void *b)
{
	const struct arq_rx_park *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->tag < y->tag ? -1 : x->tag > y->tag;
}

/* Sorted by sequence number (lazily: a restart parks in store order). */
static void
arq_rx_park_sort(struct arq_rx *r)
{
	if (!r->park_sorted && r->npark > 1)
		qsort(r->park, r->npark, sizeof(*r->park), arq_rx_park_cmp);
	r->park_sorted = true;
}

/* Drop the first k parked entries: the list starts k entries later. */
static void
arq_rx_park_drop_front(struct arq_rx *r, size_t k)
{
	if (k == 0)
		return; /* park may be NULL */
	r->park += k;
	r->park_off += k;
	r->park_cap -= k;
	r->npark -= k;
	if (r->budget != NULL)
		r->budget->parked -= k;
}

/*
 * Remove entry i, moving the shorter side: refeeding takes the lowest
 * numbers, so a start with thousands parked moves nothing per entry
 * (a move of the whole list each time made it quadratic).
 */
static void
arq_rx_park_remove(struct arq_rx *r, size_t i)
{
	if (i < r->npark / 2) {
		memmove(&r->park[1], &r->park[0], i * sizeof(r->park[0]));
		arq_rx_park_drop_front(r, 1);
		return;
	}
	memmove(&r->park[i], &r->park[i + 1],
		(r->npark - i - 1) * sizeof(r->park[0]));
	r->npark--;
	if (r->budget != NULL)
		r->budget->parked--;
}

/* The first parked entry with a sequence number >= seq (sorted list). */
static size_t
arq_rx_park_lower(const struct arq_rx *r, uint64_t seq)
{
	size_t lo = 0, hi = r->npark;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->park[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
arq_rx_park_has(const struct arq_rx *r, const struct arq_frag_view *v)
{
	for (size_t i = 0; i < r->npark; i++)
		if (r->park[i].seq == v->seq && r->park[i].index == v->index &&
		    memcmp(r->park[i].id, v->id, ARQ_ID_LEN) == 0)
			return true;
	return false;
}

/* ---- Held messages ---- */

static struct arq_rx_msg *
arq_rx_find(struct arq_rx *r, const uint8_t id[ARQ_ID_LEN])
{
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->pending[i]->id, id, ARQ_ID_LEN) == 0)
			return r->pending[i];
	return NULL;
}

static struct arq_rx_msg *
arq_rx_new(struct arq_rx *r, const struct arq_frag_view *v)
{
	struct arq_rx_msg *m = bc_calloc(1, sizeof(*m));
	memcpy(m->id, v->id, ARQ_ID_LEN);
	m->seq = v->seq;
	m->count = v->count;
	m->seen = bc_calloc(v->count, 1);
	m->tags = bc_calloc(v->count, sizeof(*m->tags));
	m->per = v->full;
	m->data = bc_calloc(v->count, v->full);
	m->cost = (size_t)v->count * v->full;
	r->held += m->cost;
	if (r->budget != NULL)
		r->budget->held += m->cost;
	r->pending[r->n++] = m;
	return m;
}

static void
arq_rx_drop(struct arq_rx *r, size_t i)
{
	r->held -= r->pending[i]->cost;
	if (r->budget != NULL)
		r->budget->held -= r->pending[i]->cost;
	arq_rx_msg_free(r->pending[i]);
	memmove(&r->pending[i], &r->pending[i + 1],
		(r->n - i - 1) * sizeof(r->pending[0]));
	r->n--;
}

/* The held message with the highest sequence number; r->n when none. */
static size_t
arq_rx_highest(const struct arq_rx *r)
{
	size_t best = r->n;

	for (size_t i = 0; i < r->n; i++)
		if (best == r->n || r->pending[i]->seq > r->pending[best]->seq)
			best = i;
	return best;
}

/* Held message i goes back to parked: its fragments wait in the caller's
 * store, the memory is freed. */
static void
arq_rx_unload(struct arq_rx *r, size_t i)
{
	struct arq_rx_msg *m = r->pending[i];

	for (uint16_t k = 0; k < m->count; k++) {
		if (!m->seen[k])
			continue;
		struct arq_rx_park p = {.seq = m->seq,
					.tag = m->tags[k],
					.index = k,
					.count = m->count,
					.full = (uint32_t)m->per};
		memcpy(p.id, m->id, ARQ_ID_LEN);
		arq_rx_park_push(r, &p);
	}
	r->unloaded++;
	arq_rx_drop(r, i);
}

/* ---- Room ---- */

/* The stream of b other than r that holds the most bytes (and something). */
static struct arq_rx *
arq_rx_biggest(struct arq_rx_budget *b, const struct arq_rx *r)
{
	struct arq_rx *best = NULL;

	for (struct arq_rx *x = b->head; x != NULL; x = x->next)
		if (x != r && x->n > 0 &&
		    (best == NULL || x->held > best->held))
			best = x;
	return best;
}

/*
 * Whether a new message (seq, cost) would fit, counting r's messages above
 * seq as room.  For the budget only the first step is checked (another
 * stream holds more than r would): arq_rx_room may still fail, which parks.
 */
static bool
arq_rx_fits(struct arq_rx *r, uint64_t seq, size_t cost)
{
	size_t n = r->n, held = r->held, above = 0;

	for (size_t i = 0; i < r->n; i++)
		if (r->pending[i]->seq > seq) {
			n--;
			above += r->pending[i]->cost;
		}
	held -= above;
	if (n + 1 > ARQ_RX_PENDING_MAX || held + cost > r->max_bytes)
		return false;
	if (r->budget == NULL ||
	    r->budget->held - above + cost <= r->budget->max)
		return true;
	struct arq_rx *x = arq_rx_biggest(r->budget, r);
	return x != NULL && x->held > held + cost;
}

/* Make room for a new message (seq, cost); -1: it is to be parked. */
static int
arq_rx_room(struct arq_rx *r, uint64_t seq, size_t cost)
{
	struct arq_rx_budget *b = r->budget;

	if (!arq_rx_fits(r, seq, cost))
		return -1;
	while (r->n + 1 > ARQ_RX_PENDING_MAX || r->held + cost > r->max_bytes)
		arq_rx_unload(r, arq_rx_highest(r)); /* above seq: fits */
	while (b != NULL && b->held + cost > b->max) {
		size_t i = arq_rx_highest(r);
		if (i < r->n && r->pending[i]->seq > seq) {
			arq_rx_unload(r, i);
			continue;
		}
		/* A flooding contact gives way, not a smaller one. */
		struct arq_rx *x = arq_rx_biggest(b, r);
		if (x == NULL || x->held <= r->held + cost)
			return -1;
		arq_rx_unload(x, arq_rx_highest(x));
		b->unloaded++;
	}
	return 0;
}

/* ---- Given-up numbers: ranges ---- */

/* The first range with hi >= seq (r->ngone if none). */
static size_t
arq_rx_gone_find(const struct arq_rx *r, uint64_t seq)
{
	size_t lo = 0, hi = r->ngone;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->gone[mid].hi < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
arq_rx_is_gone(const struct arq_rx *r, uint64_t seq)
{
	size_t i = arq_rx_gone_find(r, seq);

	return i < r->ngone && r->gone[i].lo <= seq;
}

/* Add lo..hi (lo <= hi), joined with every range it overlaps or touches;
 * may leave one range more than ARQ_RX_GONE_MAX (the caller joins two). */
static void
arq_rx_gone_insert(struct arq_rx *r, uint64_t lo, uint64_t hi)
{
	/* The first range that ends at or after lo - 1 (touches or above). */
	size_t i = arq_rx_gone_find(r, lo > 0 ? lo - 1 : 0), j = i;

	/* Ranges i..j-1 overlap or touch lo..hi: one range replaces them. */
	while (j < r->ngone && (hi == UINT64_MAX || r->gone[j].lo <= hi + 1)) {
		if (r->gone[j].lo < lo)
			lo = r->gone[j].lo;
		if (r->gone[j].hi > hi)
			hi = r->gone[j].hi;
		j++;
	}
	if (j == i) { /* none: make room at i */
		memmove(&r->gone[i + 1], &r->gone[i],
			(r->ngone - i) * sizeof(r->gone[0]));
		r->ngone++;
	} else if (j > i + 1) {
		memmove(&r->gone[i + 1], &r->gone[j],
			(r->ngone - j) * sizeof(r->gone[0]));
		r->ngone -= j - i - 1;
	}
	r->gone[i].lo = lo;
	r->gone[i].hi = hi;
}

/* Whether seq is among the n numbers in list. */
static bool
arq_rx_seq_in(const uint64_t *list, size_t n, uint64_t seq)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == seq)
			return true;
	return false;
}

/* Give up what r holds or has parked of lo..hi (fn may be NULL: nothing
 * to tell, as at a restore, when nothing is held or parked yet). */
static void
arq_rx_drop_between(struct arq_rx *r, uint64_t lo, uint64_t hi,
		    arq_rx_drop_fn fn, void *ctx)
{
	uint64_t held[ARQ_RX_PENDING_MAX], last = 0;
	size_t nheld = 0, k = 0;

	for (size_t i = 0; i < r->n;) {
		struct arq_rx_msg *m = r->pending[i];
		if (m->seq < lo || m->seq > hi) {
			i++;
			continue;
		}
		for (uint16_t f = 0; f < m->count; f++)
			if (m->seen[f]) {
				if (fn != NULL)
					fn(ctx, r, m->tags[f]);
				r->dropped++;
			}
		held[nheld++] = m->seq;
		r->dropped_msgs++;
		arq_rx_drop(r, i);
	}
	arq_rx_park_sort(r);
	for (size_t i = 0; i < r->npark; i++) {
		const struct arq_rx_park *p = &r->park[i];
		if (p->seq < lo || p->seq > hi) {
			r->park[k++] = *p;
			continue;
		}
		if (fn != NULL)
			fn(ctx, r, p->tag);
		r->dropped++;
		/* A message counts once, held fragments or parked ones. */
		if (p->seq != last && !arq_rx_seq_in(held, nheld, p->seq))
			r->dropped_msgs++;
		last = p->seq;
	}
	if (r->budget != NULL)
		r->budget->parked -= r->npark - k;
	r->npark = k;
}

/*
 * One range too many: the two closest together become one, and what lies
 * between them is given up (the lowest such pair on a tie: what is given
 * up is as few numbers as can be, and the earliest messages are kept).
 */
static void
arq_rx_gone_join(struct arq_rx *r, arq_rx_drop_fn fn, void *ctx)
{
	size_t best = 0;

	if (r->ngone <= ARQ_RX_GONE_MAX)
		return;
	for (size_t i = 1; i + 1 < r->ngone; i++)
		if (r->gone[i + 1].lo - r->gone[i].hi <
		    r->gone[best + 1].lo - r->gone[best].hi)
			best = i;
	uint64_t lo = r->gone[best].hi + 1, hi = r->gone[best + 1].lo - 1;
	r->gone[best].hi = r->gone[best + 1].hi;
	memmove(&r->gone[best + 1], &r->gone[best + 2],
		(r->ngone - best - 2) * sizeof(r->gone[0]));
	r->ngone--;
	arq_rx_drop_between(r, lo, hi, fn, ctx);
}

static void
arq_rx_gone_add(struct arq_rx *r, uint64_t lo, uint64_t hi, arq_rx_drop_fn fn,
		void *ctx)
{
	if (hi < r->next_seq || lo > hi)
		return;
	if (lo < r->next_seq)
		lo = r->next_seq;
	arq_rx_gone_insert(r, lo, hi);
	arq_rx_gone_join(r, fn, ctx);
}

void
arq_rx_mark_gone(struct arq_rx *r, uint64_t lo, uint64_t hi)
{
	arq_rx_gone_add(r, lo, hi, NULL, NULL);
}

/* A fragment for a message not held: hold it, or park it. */
static enum arq_rx_result
arq_rx_admit(struct arq_rx *r, const struct arq_frag_view *v, uint64_t tag,
	     struct arq_rx_msg **out)
{
	size_t cost = (size_t)v->count * v->full;

	for (size_t i = 0; i < r->n; i++)
		if (r->pending[i]->seq == v->seq)
			return ARQ_RX_CONFLICT;
	/* A message that can never fit is never going to be handed up. */
	if (cost > r->max_bytes || (r->budget != NULL && cost > r->budget->max))
		return ARQ_RX_MALFORMED;
	if (arq_rx_room(r, v->seq, cost) < 0) {
		struct arq_rx_park p;
		if (arq_rx_park_has(r, v))
			return ARQ_RX_DUPLICATE;
		arq_rx_park_of(&p, v, tag);
		arq_rx_park_push(r, &p);
		r->parked++;
		return ARQ_RX_PARKED;
	}
	*out = arq_rx_new(r, v);
	return ARQ_RX_OK;
}

enum arq_rx_result
arq_rx_add(struct arq_rx *r, const struct arq_frag_view *v, uint64_t tag)
{
	if (v->seq < r->next_seq || arq_rx_is_gone(r, v->seq))
		return ARQ_RX_DUPLICATE;
	/* No sender makes a message above ARQ_MSG_MAX: refuse the
	 * allocation such a count would ask for. */
	if ((size_t)(v->count - 1) * v->full >= ARQ_MSG_MAX)
		return ARQ_RX_MALFORMED;
	struct arq_rx_msg *m = arq_rx_find(r, v->id);
	if (m == NULL) {
		enum arq_rx_result e = arq_rx_admit(r, v, tag, &m);
		if (e != ARQ_RX_OK)
			return e;
	}
	if (m->seq != v->seq || m->count != v->count)
		return ARQ_RX_CONFLICT;
	if (m->seen[v->index])
		return ARQ_RX_DUPLICATE;
	if (v->full != m->per)
		return ARQ_RX_CONFLICT;
	memcpy(m->data + (size_t)v->index * m->per, v->data, v->len);
	if (v->index + 1 == v->count)
		m->len = (size_t)(m->count - 1) * m->per + v->len;
	m->seen[v->index] = 1;
	m->tags[v->index] = tag;
	m->have++;
	return ARQ_RX_OK;
}

static void
arq_rx_take(struct arq_rx *r, size_t i, uint64_t *tag)
{
	*tag = r->park[i].tag;
	arq_rx_park_remove(r, i);
}

bool
arq_rx_refeed(struct arq_rx *r, uint64_t *tag)
{
	if (r->npark == 0)
		return false;
	arq_rx_park_sort(r);
	/* A fragment of a message held already needs no room. */
	for (size_t i = 0; i < r->n; i++) {
		size_t k = arq_rx_park_lower(r, r->pending[i]->seq);
		if (k < r->npark && r->park[k].seq == r->pending[i]->seq) {
			arq_rx_take(r, k, tag);
			return true;
		}
	}
	const struct arq_rx_park *p = &r->park[0];
	if (p->seq < r->next_seq || arq_rx_is_gone(r, p->seq) ||
	    arq_rx_fits(r, p->seq, (size_t)p->count * p->full)) {
		arq_rx_take(r, 0, tag);
		return true;
	}
	return false;
}

/* Give up r's parked message with the highest sequence number. */
static void
arq_rx_give_up(struct arq_rx *r, arq_rx_drop_fn fn, void *ctx)
{
	arq_rx_park_sort(r);
	uint64_t seq = r->park[r->npark - 1].seq;
	while (r->npark > 0 && r->park[r->npark - 1].seq == seq) {
		fn(ctx, r, r->park[r->npark - 1].tag);
		arq_rx_park_remove(r, r->npark - 1);
		r->dropped++;
	}
	/* Its other fragments, if it was held meanwhile, go with it. */
	for (size_t i = 0; i < r->n; i++) {
		struct arq_rx_msg *m = r->pending[i];
		if (m->seq != seq)
			continue;
		for (uint16_t k = 0; k < m->count; k++)
			if (m->seen[k]) {
				fn(ctx, r, m->tags[k]);
				r->dropped++;
			}
		arq_rx_drop(r, i);
		break;
	}
	r->dropped_msgs++;
	arq_rx_gone_add(r, seq, seq, fn, ctx);
}

size_t
arq_rx_trim(struct arq_rx *r, arq_rx_drop_fn fn, void *ctx)
{
	struct arq_rx_budget *b = r->budget;
	size_t k = 0;

	while (r->npark > r->park_max) {
		arq_rx_give_up(r, fn, ctx);
		k++;
	}
	while (b != NULL && b->parked > b->park_max) {
		struct arq_rx *x = NULL;
		for (struct arq_rx *y = b->head; y != NULL; y = y->next)
			if (y->npark > 0 && (x == NULL || y->npark > x->npark))
				x = y;
		if (x == NULL)
			break;
		arq_rx_give_up(x, fn, ctx);
		b->dropped++;
		k++;
	}
	return k;
}

/* Pass over the given-up numbers whose turn has come. */
static bool
arq_rx_skip_gone(struct arq_rx *r)
{
	if (r->ngone == 0 || r->gone[0].lo != r->next_seq)
		return false;
	r->skipped += r->gone[0].hi - r->gone[0].lo + 1;
	r->next_seq = r->gone[0].hi + 1;
	memmove(&r->gone[0], &r->gone[1], (r->ngone - 1) * sizeof(r->gone[0]));
	r->ngone--;
	return true;
}

/* Parked entries below next_seq are stale: the caller deletes their items
 * with the message handed up. Sorted, they are the front of the list. */
static void
arq_rx_park_forget_below(struct arq_rx *r)
{
	size_t k = 0;

	if (r->park_sorted) {
		arq_rx_park_drop_front(r, arq_rx_park_lower(r, r->next_seq));
		return;
	}
	for (size_t i = 0; i < r->npark; i++)
		if (r->park[i].seq >= r->next_seq)
			r->park[k++] = r->park[i];
	if (r->budget != NULL)
		r->budget->parked -= r->npark - k;
	r->npark = k;
}

bool
arq_rx_pop_tags(struct arq_rx *r, uint8_t **data, size_t *len, uint64_t *seq,
		uint64_t **tags, size_t *ntags)
{
	while (arq_rx_skip_gone(r))
		;
	for (size_t i = 0; i < r->n; i++) {
		struct arq_rx_msg *m = r->pending[i];
		if (m->seq != r->next_seq)
			continue;
		if (m->have != m->count)
			return false;
		*data = m->data;
		*len = m->len;
		*seq = m->seq;
		*tags = m->tags; /* complete: every fragment seen */
		*ntags = m->count;
		m->data = NULL;
		m->tags = NULL;
		arq_rx_drop(r, i);
		r->next_seq++;
		arq_rx_park_forget_below(r);
		return true;
	}
	return false;
}

bool
arq_rx_pop(struct arq_rx *r, uint8_t **data, size_t *len, uint64_t *seq)
{
	uint64_t *tags;
	size_t ntags;

	if (!arq_rx_pop_tags(r, data, len, seq, &tags, &ntags))
		return false;
	free(tags);
	return true;
}

const char *
arq_rx_strerror(enum arq_rx_result r)
{
	switch (r) {
	case ARQ_RX_OK:
		return "ok";
	case ARQ_RX_DUPLICATE:
		return "duplicate fragment";
	case ARQ_RX_MALFORMED:
		return "malformed fragment";
	case ARQ_RX_CONFLICT:
		return "fragment conflicts with its message";
	case ARQ_RX_PARKED:
		return "no room now: parked";
	}
	return "?";
}
