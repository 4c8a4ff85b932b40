/*
 * Fuzz target: a fragment plaintext as a contact could send it (client/
 * arq.h). The input is decoded; fragments that decode are fed to a
 * receiver, which must never hand up a message other than in sequence,
 * and whatever it hands up must be its announced length.  What it parks
 * is given back as the client does (refeed after every step, a small
 * parking bound trimmed): a parked tag must name a fragment it was given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/arq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A tag is where the fragment sits in the input: offset << 16 | length. */
static enum arq_rx_result feed(struct arq_rx *r, const uint8_t *data,
			       uint64_t tag)
{
	struct arq_frag_view v;
	size_t off = (size_t)(tag >> 16), n = (size_t)(tag & 0xffff);

	if (arq_frag_decode(&v, data + off, n) != ARQ_RX_OK)
		return ARQ_RX_MALFORMED;
	return arq_rx_add(r, &v, tag);
}

static void no_drop(void *ctx, struct arq_rx *from, uint64_t tag)
{
	size_t size = *(const size_t *)ctx;

	(void)from;
	if ((tag >> 16) + (tag & 0xffff) > size)
		abort();
}

static void drain(struct arq_rx *r, const uint8_t *data, size_t size)
{
	uint8_t *msg;
	size_t len;
	uint64_t seq, tag, want = r->next_seq;

	for (int rounds = 0; rounds < 64; rounds++) {
		while (arq_rx_pop(r, &msg, &len, &seq)) {
			if (seq < want || len == 0)
				abort();
			want = seq + 1;
			free(msg);
		}
		if (!arq_rx_refeed(r, &tag))
			break;
		if ((tag >> 16) + (tag & 0xffff) > size)
			abort();
		if (feed(r, data, tag) == ARQ_RX_PARKED)
			break;
	}
	arq_rx_trim(r, no_drop, &size);
	if (r->npark > r->park_max || r->n > ARQ_RX_PENDING_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arq_rx r;
	size_t off = 0;

	arq_rx_init(&r, 1);
	r.max_bytes = 4 * (size_t)ARQ_FRAG_MAX; /* small: parking happens */
	r.park_max = 8;
	/* Several fragments: each is a 2-byte length then that many bytes. */
	while (off + 2 <= size) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		(void)feed(&r, data, (uint64_t)off << 16 | n);
		off += n;
		drain(&r, data, size);
	}
	arq_rx_free(&r);
	return 0;
}
