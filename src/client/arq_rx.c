/* The receiving side of reliable delivery: duplicates and reassembly. */
#include <stdlib.h>
#include <string.h>

#include "client/arq.h"
#include "lib/alloc.h"

struct arq_rx_msg {
	uint8_t id[ARQ_ID_LEN];
	uint64_t seq;
	uint16_t count, have;
	size_t per; /* data bytes of every fragment but the last */
	size_t len; /* known once the last fragment arrived */
	uint8_t *seen; /* count flags */
	uint8_t *data; /* count * per bytes */
};

void arq_rx_init(struct arq_rx *r, uint64_t next_seq)
{
	memset(r, 0, sizeof(*r));
	r->next_seq = next_seq ? next_seq : 1;
}

static void arq_rx_msg_free(struct arq_rx_msg *m)
{
	if (m == NULL)
		return;
	BC_FREE(m->seen);
	BC_FREE(m->data);
	free(m);
}

void arq_rx_free(struct arq_rx *r)
{
	for (size_t i = 0; i < r->n; i++)
		arq_rx_msg_free(r->pending[i]);
	r->n = 0;
}

static struct arq_rx_msg *arq_rx_find(struct arq_rx *r,
				      const struct arq_frag_view *v)
{
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->pending[i]->id, v->id, ARQ_ID_LEN) == 0)
			return r->pending[i];
	return NULL;
}

static struct arq_rx_msg *arq_rx_new(struct arq_rx *r,
				     const struct arq_frag_view *v)
{
	struct arq_rx_msg *m = bc_calloc(1, sizeof(*m));
	memcpy(m->id, v->id, ARQ_ID_LEN);
	m->seq = v->seq;
	m->count = v->count;
	m->seen = bc_calloc(v->count, 1);
	m->per = v->full;
	m->data = bc_calloc(v->count, v->full);
	r->pending[r->n++] = m;
	return m;
}

enum arq_rx_result arq_rx_add(struct arq_rx *r, const struct arq_frag_view *v)
{
	if (v->seq < r->next_seq)
		return ARQ_RX_DUPLICATE;
	struct arq_rx_msg *m = arq_rx_find(r, v);
	if (m == NULL) {
		for (size_t i = 0; i < r->n; i++)
			if (r->pending[i]->seq == v->seq)
				return ARQ_RX_CONFLICT;
		if (r->n == ARQ_RX_PENDING_MAX)
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

static void arq_rx_drop(struct arq_rx *r, size_t i)
{
	arq_rx_msg_free(r->pending[i]);
	memmove(&r->pending[i], &r->pending[i + 1],
		(r->n - i - 1) * sizeof(r->pending[0]));
	r->n--;
}

bool arq_rx_pop(struct arq_rx *r, uint8_t **data, size_t *len,
		uint64_t *seq)
{
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

const char *arq_rx_strerror(enum arq_rx_result r)
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
