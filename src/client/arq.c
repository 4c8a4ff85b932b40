/* Reliable delivery: fragments, timeouts, backoff, reassembly (arq.h). */
#include "client/arq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/bytes.h"

#include "crypto/xaead.h"

#define ARQ_DAY_MS (24ull * 3600 * 1000)

void
arq_params_default(struct arq_params *p, uint64_t rtt_p99_ms)
{
	p->timeout_ms = rtt_p99_ms > 0 ? rtt_p99_ms : 1;
	p->backoff = 2.0;
	p->max_timeout_ms = 3600ull * 1000;
	p->retention_ms = 21 * ARQ_DAY_MS;
}

size_t
arq_frag_data_len(size_t blob_len)
{
	return blob_len > ARQ_BLOB_OVERHEAD ? blob_len - ARQ_BLOB_OVERHEAD : 0;
}

size_t
arq_frag_count(size_t len, size_t blob_len)
{
	size_t per = arq_frag_data_len(blob_len);

	if (per == 0 || len == 0 || len > ARQ_MSG_MAX)
		return 0;
	size_t n = (len + per - 1) / per;
	return n <= ARQ_FRAG_MAX ? n : 0;
}

void
arq_init(struct arq *a, const struct arq_params *p, size_t blob_len)
{
	*a = (struct arq){.p = *p, .blob_len = blob_len};
	if (!(a->p.backoff >= 1.0))
		a->p.backoff = 1.0;
}

static void
arq_msg_free(struct arq_msg *m)
{
	if (m == NULL)
		return;
	BC_FREE(m->data);
	BC_FREE(m->frags);
	free(m);
}

void
arq_free(struct arq *a)
{
	for (size_t i = 0; i < a->n; i++)
		arq_msg_free(a->msgs[i]);
	BC_FREE(a->msgs);
	a->n = a->cap = 0;
}

struct arq_msg *
arq_add(struct arq *a, uint64_t contact, const uint8_t id[static ARQ_ID_LEN],
	uint64_t seq, const uint8_t *data, size_t len, uint64_t now_ms,
	const uint8_t *acked)
{
	size_t nfrag = arq_frag_count(len, a->blob_len);

	if (nfrag == 0)
		return NULL;
	struct arq_msg *m = bc_calloc(1, sizeof(*m));
	memcpy(m->id, id, ARQ_ID_LEN);
	m->contact = contact;
	m->seq = seq;
	m->queued_ms = now_ms;
	m->data = bc_memdup(data, len);
	m->len = len;
	m->nfrag = nfrag;
	m->frags = bc_calloc(nfrag, sizeof(*m->frags));
	for (size_t i = 0; i < nfrag; i++) {
		m->frags[i].due_ms = now_ms;
		if (acked != NULL && (acked[i / 8] >> (i % 8)) & 1) {
			m->frags[i].state = ARQ_FRAG_ACKED;
			m->nacked++;
		}
	}
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->msgs = bc_realloc(a->msgs, a->cap * sizeof(*a->msgs));
	}
	a->msgs[a->n++] = m;
	return m;
}

struct arq_msg *
arq_find(struct arq *a, const uint8_t id[static ARQ_ID_LEN])
{
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->msgs[i]->id, id, ARQ_ID_LEN) == 0)
			return a->msgs[i];
	return NULL;
}

bool
arq_next(struct arq *a, uint64_t now_ms, struct arq_msg **m, size_t *idx)
{
	for (size_t i = 0; i < a->n; i++) {
		struct arq_msg *x = a->msgs[i];
		if (x->given_up)
			continue;
		for (size_t j = 0; j < x->nfrag; j++) {
			if (x->frags[j].state == ARQ_FRAG_ACKED ||
			    x->frags[j].due_ms > now_ms)
				continue;
			*m = x;
			*idx = j;
			return true;
		}
	}
	return false;
}

/* The timeout after the given number of sends: base * backoff^(tries-1). */
static uint64_t
arq_timeout(const struct arq_params *p, uint32_t tries)
{
	double t = (double)p->timeout_ms;

	for (uint32_t i = 1; i < tries; i++) {
		t *= p->backoff;
		if (t >= (double)p->max_timeout_ms)
			return p->max_timeout_ms;
	}
	return t < (double)p->max_timeout_ms ? (uint64_t)t : p->max_timeout_ms;
}

void
arq_sent(struct arq *a, struct arq_msg *m, size_t idx, uint64_t now_ms)
{
	struct arq_frag *f = &m->frags[idx];

	if (f->state == ARQ_FRAG_ACKED)
		return;
	f->tries++;
	f->state = ARQ_FRAG_INFLIGHT;
	f->due_ms = now_ms + arq_timeout(&a->p, f->tries);
}

int
arq_acked(struct arq *a, const uint8_t id[static ARQ_ID_LEN], size_t idx)
{
	struct arq_msg *m = arq_find(a, id);

	if (m == NULL || idx >= m->nfrag ||
	    m->frags[idx].state == ARQ_FRAG_ACKED)
		return -1;
	m->frags[idx].state = ARQ_FRAG_ACKED;
	m->nacked++;
	return m->nacked == m->nfrag ? 1 : 0;
}

void
arq_remove(struct arq *a, struct arq_msg *m)
{
	for (size_t i = 0; i < a->n; i++) {
		if (a->msgs[i] != m)
			continue;
		memmove(&a->msgs[i], &a->msgs[i + 1],
			(a->n - i - 1) * sizeof(*a->msgs));
		a->n--;
		arq_msg_free(m);
		return;
	}
}

struct arq_msg *
arq_expired(struct arq *a, uint64_t now_ms)
{
	for (size_t i = 0; i < a->n; i++) {
		struct arq_msg *m = a->msgs[i];
		if (m->given_up || m->nacked == m->nfrag)
			continue;
		if (now_ms >= m->queued_ms + a->p.retention_ms) {
			m->given_up = true;
			return m;
		}
	}
	return NULL;
}

uint64_t
arq_next_due(const struct arq *a)
{
	uint64_t due = UINT64_MAX;

	for (size_t i = 0; i < a->n; i++) {
		const struct arq_msg *m = a->msgs[i];
		if (m->given_up)
			continue;
		uint64_t give_up = m->queued_ms + a->p.retention_ms;
		if (give_up < due)
			due = give_up;
		for (size_t j = 0; j < m->nfrag; j++)
			if (m->frags[j].state != ARQ_FRAG_ACKED &&
			    m->frags[j].due_ms < due)
				due = m->frags[j].due_ms;
	}
	return due;
}

int
arq_frag_encode(const struct arq *a, const struct arq_msg *m, size_t idx,
		uint8_t *out, size_t out_len)
{
	size_t per = arq_frag_data_len(a->blob_len);

	if (idx >= m->nfrag || out_len != a->blob_len - XAEAD_OVERHEAD)
		return -1;
	size_t off = idx * per;
	size_t n = m->len - off < per ? m->len - off : per;
	memset(out, 0, out_len);
	out[0] = ARQ_KIND_FRAGMENT;
	memcpy(out + 1, m->id, ARQ_ID_LEN);
	be64_put(out + 17, m->seq);
	be16_put(out + 25, (uint16_t)idx);
	be16_put(out + 27, (uint16_t)m->nfrag);
	be16_put(out + 29, (uint16_t)n);
	memcpy(out + ARQ_HDR_LEN, m->data + off, n);
	return 0;
}

int
arq_wrap(uint8_t *blob, size_t blob_len, const uint8_t *plain,
	 const uint8_t key[static 32])
{
	if (blob_len <= ARQ_BLOB_OVERHEAD)
		return -1;
	xaead_seal(blob, plain, blob_len - XAEAD_OVERHEAD, NULL, 0, key);
	return 0;
}

int
arq_unwrap(uint8_t *plain, const uint8_t *blob, size_t blob_len,
	   const uint8_t key[static 32])
{
	if (blob_len <= ARQ_BLOB_OVERHEAD)
		return -1;
	return xaead_open(plain, blob, blob_len, NULL, 0, key);
}

enum arq_rx_result
arq_frag_decode(struct arq_frag_view *v, const uint8_t *plain, size_t plain_len)
{
	struct rd r;

	memset(v, 0, sizeof(*v));
	rd_init(&r, plain, plain_len);
	uint8_t kind = rd_u8(&r);
	rd_bytes(&r, v->id, ARQ_ID_LEN);
	v->seq = rd_u64be(&r);
	v->index = rd_u16be(&r);
	v->count = rd_u16be(&r);
	v->len = rd_u16be(&r);
	if (!rd_ok(&r) || kind != ARQ_KIND_FRAGMENT || v->seq == 0 ||
	    v->count == 0 || v->count > ARQ_FRAG_MAX || v->index >= v->count ||
	    v->len == 0 || v->len > rd_remaining(&r))
		return ARQ_RX_MALFORMED;
	v->data = rd_ptr(&r, v->len);
	v->full = plain_len - ARQ_HDR_LEN;
	/* Only full fragments may be followed by another one, and padding
	 * must be zero: one message has one encoding. */
	size_t pad = rd_remaining(&r);
	if (v->index + 1 < v->count && pad != 0)
		return ARQ_RX_MALFORMED;
	for (size_t i = 0; i < pad; i++)
		if (plain[plain_len - pad + i] != 0)
			return ARQ_RX_MALFORMED;
	return ARQ_RX_OK;
}
