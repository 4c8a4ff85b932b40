/* The ChaCha20 stream cipher (RFC 8439: 96-bit nonce, 32-bit counter). */
#ifndef BC_CRYPTO_CHACHA_H
#define BC_CRYPTO_CHACHA_H

#include <stddef.h>
#include <stdint.h>

#define CHACHA20_KEY_LEN   32
#define CHACHA20_NONCE_LEN 12

/*
 * len bytes of keystream starting at block `counter`. Sphinx's blinding
 * factor is the first 32 bytes with an all-zero nonce and counter 0. The
 * caller keeps len <= (2^32 - counter) * 64.
 */
void chacha20_keystream(uint8_t *out, size_t len, const uint8_t key[static 32],
			const uint8_t nonce[static 12], uint32_t counter);

/* out = in XOR keystream (in == out allowed). */
void chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
		  const uint8_t key[static 32], const uint8_t nonce[static 12],
		  uint32_t counter);

#endif /* BC_CRYPTO_CHACHA_H */
