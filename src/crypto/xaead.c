/* XChaCha20-Poly1305 through libsodium (xaead.h). */
#include "crypto/xaead.h"

#include <sodium.h>

#include "crypto/rand.h"

void
xaead_seal(uint8_t *out, const uint8_t *in, size_t len, const void *ad,
	   size_t adlen, const uint8_t key[static XAEAD_KEY_LEN])
{
	/* The nonce comes from rand.h, so tests can make it reproducible. */
	rand_bytes(out, XAEAD_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    out + XAEAD_NONCE_LEN, NULL, in, len, ad, adlen, NULL, out, key);
}

int
xaead_open(uint8_t *out, const uint8_t *in, size_t inlen, const void *ad,
	   size_t adlen, const uint8_t key[static XAEAD_KEY_LEN])
{
	if (inlen < XAEAD_OVERHEAD)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		out, NULL, NULL, in + XAEAD_NONCE_LEN, inlen - XAEAD_NONCE_LEN,
		ad, adlen, in, key) != 0) {
		sodium_memzero(out, inlen - XAEAD_OVERHEAD);
		return -1;
	}
	return 0;
}
