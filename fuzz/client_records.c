/*
 * Fuzz target: the client's stored records (client/contact.c, msgrow.c),
 * read back from the encrypted store. The first byte picks the decoder.
 * Invariants: no crash or out-of-bounds read on any input; an accepted
 * record re-encodes to bytes that decode again and re-encode identically
 * (the encoding of a decoded record is stable).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/contact.h"
#include "client/msgrow.h"
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
	if (data[0] & 1)
		contact_case(data + 1, size - 1);
	else
		msgrow_case(data + 1, size - 1);
	return 0;
}
