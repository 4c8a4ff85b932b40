/*
 * Fuzz target: AEZ decryption of arbitrary bytes under a fixed key, on both
 * implementations (AES-NI where the CPU has it, and the portable one).
 *
 * Input: byte 0 = flags, the rest = ciphertext (at most 4096 bytes).
 *   flags & 1: tau = 16 (authenticated), else tau = 0 (Sphinx's mode);
 *   flags & 2: one associated-data string (flags itself), else none;
 *   flags & 4: a 7-byte nonce, else a 16-byte one.
 * Invariants (abort = finding): both implementations return the same and
 * write the same bytes; a refused input leaves the output zeroed; whatever
 * decrypts re-encrypts to the input (AEZ is a permutation).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aez.h"
#include "crypto/crypto.h"

#define MAX_IN 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed key and nonce: fuzzing needs repeatability, not secrecy. */
static const uint8_t key[AEZ_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t nonce[16] = {0xa, 0xe, 0x2};

static uint8_t out[2][MAX_IN], again[MAX_IN + 16];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aez_key k[2];
	static int nk = -1;
	uint8_t flags;
	unsigned tau;
	struct aez_data ad;
	size_t nad, nlen, len;
	int rc[2] = {-1, -1};

	if (nk < 0) {
		if (crypto_init() != 0)
			abort();
		nk = 0;
		if (aez_set_impl(AEZ_IMPL_PORTABLE) != 0)
			abort();
		aez_setup(&k[nk++], key, sizeof(key));
		if (aez_set_impl(AEZ_IMPL_AESNI) == 0)
			aez_setup(&k[nk++], key, sizeof(key));
		aez_set_impl(AEZ_IMPL_AUTO);
	}
	if (size < 1 || size - 1 > MAX_IN)
		return 0;
	flags = data[0];
	data++;
	len = size - 1;
	tau = flags & 1 ? 16 : 0;
	ad = (struct aez_data){&flags, 1};
	nad = flags & 2 ? 1 : 0;
	nlen = flags & 4 ? 7 : 16;

	for (int w = 0; w < nk; w++) {
		memset(out[w], 0x5a, sizeof(out[w]));
		rc[w] = aez_decrypt(&k[w], nonce, nlen, &ad, nad, tau, data,
				    len, out[w]);
		if (rc[w] != 0 && rc[w] != -1)
			abort();
	}
	if (nk == 2 && (rc[0] != rc[1] || memcmp(out[0], out[1], MAX_IN)))
		abort(); /* the implementations disagree */
	if (rc[0] != 0) {
		/* shorter than tau: refused before anything was written */
		for (size_t q = 0; len >= tau && q < len - tau; q++)
			if (out[0][q] != 0)
				abort(); /* refused, yet plaintext left */
		return 0;
	}
	if (aez_encrypt(&k[0], nonce, nlen, &ad, nad, tau, out[0], len - tau,
			again) != 0 ||
	    memcmp(again, data, len) != 0)
		abort(); /* not the inverse of encryption */
	return 0;
}
