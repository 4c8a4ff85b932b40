/*
 * The ChaChaPoly cipher functions of Noise (revision 34, section 12.3) as
 * plain functions of (k, n), shared by the handshake's CipherState and the
 * transport cipher (struct noise_cipher, declared in crypto/noise.h).
 * Internal to crypto/noise*.c.
 */
#ifndef BC_CRYPTO_NOISE_CIPHER_H
#define BC_CRYPTO_NOISE_CIPHER_H

#include <stddef.h>
#include <stdint.h>

/*
 * ENCRYPT(k, n, ad, in): out receives len + 16 bytes. The 96-bit nonce is
 * 4 zero bytes then n little-endian. out may equal in.
 */
void noise_aead_encrypt(const uint8_t k[static 32], uint64_t n,
			const uint8_t *ad, size_t adlen, const uint8_t *in,
			size_t len, uint8_t *out);

/*
 * DECRYPT(k, n, ad, in): len >= 16; out receives len - 16 bytes. Returns
 * -1 when authentication fails. out may equal in.
 */
int noise_aead_decrypt(const uint8_t k[static 32], uint64_t n,
		       const uint8_t *ad, size_t adlen, const uint8_t *in,
		       size_t len, uint8_t *out)
    __attribute__((warn_unused_result));

/* REKEY(k): k = ENCRYPT(k, 2^64-1, "", 32 zero bytes)[0..32]. */
void noise_aead_rekey(uint8_t k[static 32]);

#endif /* BC_CRYPTO_NOISE_CIPHER_H */
