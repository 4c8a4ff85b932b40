/*
 * Fuzz target: the client's stored records (client/contact.c, msgrow.c,
 * gwdrain.c, session_rx.c), read back from the encrypted store. The first
 * byte picks the decoder: 2 the old gateway's drain record, 3 a stream's
 * given-up ranges, any other by its low bit (1 contact, 0 message row;
 * so the corpus made before the last two keeps its meaning).
 * Invariants: no crash or out-of-bounds read on any input; an accepted
 * record re-encodes to bytes that decode again and re-encode identically
 * (the encoding of a decoded record is stable); given-up ranges, which
 * are never refused, obey the receiver's bounds (client/arq.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/arq.h"
#include "client/contact.h"
#include "client/gwdrain.h"
#include "client/msgrow.h"
#include "client/session_internal.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void stable(const struct buf *a, const struct buf *b)
{
	if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
		abort();
}

static void contact_case(const uint8_t *data, size_t size)
{
	struct buf a, b;
	struct contact *c = contact_decode(data, size), *d;

	if (c == NULL)
		return;
	buf_init(&a);
	buf_init(&b);
	if (contact_encode(c, &a) < 0 ||
	    (d = contact_decode(a.data, a.len)) == NULL)
		abort();
	if (contact_encode(d, &b) < 0)
		abort();
	stable(&a, &b);
	contact_free(d);
	contact_free(c);
	buf_wipe_free(&a);
	buf_wipe_free(&b);
}

static void msgrow_case(const uint8_t *data, size_t size)
{
	struct buf a, b;
	struct msg_row *m = msgrow_decode(data, size), *n;

	if (m == NULL)
		return;
	buf_init(&a);
	buf_init(&b);
	msgrow_encode(m, &a);
	if ((n = msgrow_decode(a.data, a.len)) == NULL)
		abort();
	msgrow_encode(n, &b);
	stable(&a, &b);
	msgrow_free(n);
	msgrow_free(m);
	buf_free(&a);
	buf_free(&b);
}

static void gwdrain_case(const uint8_t *data, size_t size)
{
	struct buf a, b;
	struct gwdrain g, h;

	memset(&g, 0, sizeof(g));
	memset(&h, 0, sizeof(h));
	if (gwdrain_record_decode(&g, data, size) < 0)
		return;
	if ((g.state != GWDRAIN_ACTIVE && g.state != GWDRAIN_GIVEN_UP) ||
	    g.nq > GWDRAIN_MAX)
		abort();
	buf_init(&a);
	buf_init(&b);
	gwdrain_record_encode(&g, &a);
	if (a.len != size || gwdrain_record_decode(&h, a.data, a.len) < 0)
		abort();
	gwdrain_record_encode(&h, &b);
	stable(&a, &b);
	gwdrain_free(&h);
	gwdrain_free(&g);
	buf_free(&a);
	buf_free(&b);
}

/* Sorted, disjoint, not adjacent, at or above next_seq, bounded. */
static void gone_check(const struct arq_rx *r)
{
	if (r->ngone > ARQ_RX_GONE_MAX)
		abort();
	for (size_t i = 0; i < r->ngone; i++) {
		if (r->gone[i].lo > r->gone[i].hi ||
		    r->gone[i].lo < r->next_seq)
			abort();
		if (i > 0 && r->gone[i].lo <= r->gone[i - 1].hi + 1)
			abort();
	}
}

static void gone_case(const uint8_t *data, size_t size)
{
	struct arq_rx r, q;
	struct buf a, b;

	arq_rx_init(&r, 1);
	arq_rx_init(&q, 1);
	ss_rx_gone_decode(&r, data, size);
	gone_check(&r);
	buf_init(&a);
	buf_init(&b);
	ss_rx_gone_encode(&r, &a);
	ss_rx_gone_decode(&q, a.data, a.len);
	gone_check(&q);
	ss_rx_gone_encode(&q, &b);
	stable(&a, &b);
	arq_rx_free(&q);
	arq_rx_free(&r);
	buf_free(&a);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;

	if (!init) {
		if (crypto_init() != 0)
			abort();
		init = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] == 2)
		gwdrain_case(data + 1, size - 1);
	else if (data[0] == 3)
		gone_case(data + 1, size - 1);
	else if (data[0] & 1)
		contact_case(data + 1, size - 1);
	else
		msgrow_case(data + 1, size - 1);
	return 0;
}
