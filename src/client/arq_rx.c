/* The receiving side of reliable delivery: duplicates and reassembly. */
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

#include "client/arq.h"

struct arq_rx_msg {
	uint8_t id[ARQ_ID_LEN];
	uint64_t seq;
	uint16_t count, have;
	size_t per;    /* data bytes of every fragment but the last */
	size_t len;    /* known once the last fragment arrived */
	uint8_t *seen; /* count flags */
	uint8_t *data; /* count * per bytes */
	size_t cost;   /* what it counts against the caps: count * per */
};

void
arq_rx_init(struct arq_rx *r, uint64_t next_seq)
{
	memset(r, 0, sizeof(*r));
	r->next_seq = next_seq ? next_seq : 1;
	r->max_bytes = ARQ_RX_BYTES_MAX;
}

void
arq_rx_budget_init(struct arq_rx_budget *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
arq_rx_join(struct arq_rx *r, struct arq_rx_budget *b)
{
	r->budget = b;
	r->next = b->head;
	b->head = r;
	b->held += r->held;
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
	r->budget = NULL;
	r->next = NULL;
}

static void
arq_rx_msg_free(struct arq_rx_msg *m)
{
	if (m == NULL)
		return;
	BC_FREE(m->seen);
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
}

static struct arq_rx_msg *
arq_rx_find(struct arq_rx *r, const struct arq_frag_view *v)
{
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->pending[i]->id, v->id, ARQ_ID_LEN) == 0)
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

/* Drop r's oldest incomplete message for room (the oldest complete one
 * waiting behind a gap if none is incomplete); its number is skipped. */
static void
arq_rx_evict(struct arq_rx *r)
{
	size_t i = 0;

	while (i < r->n && r->pending[i]->have == r->pending[i]->count)
		i++;
	if (i == r->n)
		i = 0;
	if (r->ngone == ARQ_RX_PENDING_MAX) {
		/* Forget the oldest: its fragments then start a message
		 * again, which the caps bound like any other. */
		memmove(r->gone, r->gone + 1,
			(r->ngone - 1) * sizeof(r->gone[0]));
		r->ngone--;
	}
	r->gone[r->ngone++] = r->pending[i]->seq;
	r->dropped++;
	arq_rx_drop(r, i);
}

/* The stream of b that holds the most bytes (and something). */
static struct arq_rx *
arq_rx_biggest(struct arq_rx_budget *b)
{
	struct arq_rx *best = NULL;

	for (struct arq_rx *x = b->head; x != NULL; x = x->next)
		if (x->n > 0 && (best == NULL || x->held > best->held))
			best = x;
	return best;
}

/* Make room for need more bytes; -1 when it cannot be made. */
static int
arq_rx_room(struct arq_rx *r, size_t need)
{
	if (need > r->max_bytes || (r->budget != NULL && need > r->budget->max))
		return -1;
	while (r->held + need > r->max_bytes)
		arq_rx_evict(r);
	while (r->budget != NULL && r->budget->held + need > r->budget->max) {
		struct arq_rx *v = arq_rx_biggest(r->budget);
		if (v == NULL)
			return -1;
		arq_rx_evict(v);
		r->budget->dropped++;
	}
	return 0;
}

static bool
arq_rx_is_gone(const struct arq_rx *r, uint64_t seq)
{
	for (size_t i = 0; i < r->ngone; i++)
		if (r->gone[i] == seq)
			return true;
	return false;
}

enum arq_rx_result
arq_rx_add(struct arq_rx *r, const struct arq_frag_view *v)
{
	if (v->seq < r->next_seq || arq_rx_is_gone(r, v->seq))
		return ARQ_RX_DUPLICATE;
	/* No sender makes a message above ARQ_MSG_MAX: refuse the
	 * allocation such a count would ask for. */
	if ((size_t)(v->count - 1) * v->full >= ARQ_MSG_MAX)
		return ARQ_RX_MALFORMED;
	struct arq_rx_msg *m = arq_rx_find(r, v);
	if (m == NULL) {
		for (size_t i = 0; i < r->n; i++)
			if (r->pending[i]->seq == v->seq)
				return ARQ_RX_CONFLICT;
		if (r->n == ARQ_RX_PENDING_MAX ||
		    arq_rx_room(r, (size_t)v->count * v->full) < 0)
			return ARQ_RX_FULL;
		m = arq_rx_new(r, v);
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
	m->have++;
	return ARQ_RX_OK;
}

/* Pass over a dropped message whose turn has come. */
static bool
arq_rx_skip_gone(struct arq_rx *r)
{
	for (size_t i = 0; i < r->ngone; i++) {
		if (r->gone[i] != r->next_seq)
			continue;
		memmove(r->gone + i, r->gone + i + 1,
			(r->ngone - i - 1) * sizeof(r->gone[0]));
		r->ngone--;
		r->next_seq++;
		r->skipped++;
		return true;
	}
	return false;
}

bool
arq_rx_pop(struct arq_rx *r, uint8_t **data, size_t *len, uint64_t *seq)
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
		m->data = NULL;
		arq_rx_drop(r, i);
		r->next_seq++;
		return true;
	}
	return false;
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
	case ARQ_RX_FULL:
		return "too many incomplete messages";
	}
	return "?";
}
