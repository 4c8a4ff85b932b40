/*
 * Fuzz target: the ratchet state parser (crypto/ratchet_state.c). Invariants:
 * a state that parses serialises back to exactly the input (one encoding
 * per state); a message that does not authenticate leaves the state
 * unchanged; encrypting from a parsed state never fails for a reason other
 * than the documented ones.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/ratchet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_same(const struct ratchet *r, const uint8_t *want, size_t len)
{
	uint8_t *out = malloc(len + 1);
	size_t n;

	if (out == NULL || ratchet_serialized_len(r) != len ||
	    ratchet_serialize(r, out, len, &n) != 0 || n != len ||
	    memcmp(out, want, len) != 0)
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	uint8_t hdr[RATCHET_ENC_HEADER_LEN], body[64], pt[64];
	size_t blen, plen;
	enum ratchet_err e;
	struct ratchet *r;

	if (!init) {
		if (crypto_init() != 0)
			abort();
		init = 1;
	}
	r = ratchet_deserialize(data, size, &e);
	if (r == NULL) {
		if (e != RATCHET_ERR_STATE)
			abort();
		return 0;
	}
	check_same(r, data, size);
	/* a message made of the input's first bytes: never accepted */
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
	memset(body, 0xa5, sizeof(body));
	if (ratchet_decrypt(r, NULL, 0, hdr, body, sizeof(body), pt, sizeof(pt),
			    &plen) == RATCHET_OK)
		abort();
	check_same(r, data, size);
	e = ratchet_encrypt(r, NULL, 0, (const uint8_t *)"x", 1, hdr, body,
			    sizeof(body), &blen);
	if (e != RATCHET_OK && e != RATCHET_ERR_NOT_READY &&
	    e != RATCHET_ERR_EXHAUSTED)
		abort();
	ratchet_free(r);
	return 0;
}
