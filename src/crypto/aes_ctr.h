/*
 * AES-256-CTR (OpenSSL, AES-NI where the CPU has it). The 16-byte IV is the
 * whole initial counter block and is incremented as one 128-bit big-endian
 * integer, carrying across all 16 bytes (SPHINX.md: header stream cipher S).
 *
 * This is on Sphinx's per-hop path, so the cipher context is caller-owned and
 * reused: aes_ctr_new() once per thread or per worker, then aes_ctr_init()
 * with each hop's key and IV (cheap: a key schedule), aes_ctr_xor() as often
 * as needed, aes_ctr_wipe() when the key is done with (the context lives in
 * OpenSSL's unlocked heap: a key left in it could reach swap or a core
 * dump), or all three in one aes_ctr_once(). docs/crypto.md has the
 * measured cost of reuse against a fresh context per call.
 */
#ifndef BC_CRYPTO_AES_CTR_H
#define BC_CRYPTO_AES_CTR_H

#include <stddef.h>
#include <stdint.h>

#define AES_CTR_KEY_LEN 32
#define AES_CTR_IV_LEN  16

struct aes_ctr;

/* A new context with no key; never NULL (aborts on OOM). */
struct aes_ctr *aes_ctr_new(void);

/* Wipe and release; NULL is accepted. */
void aes_ctr_free(struct aes_ctr *c);
#define AES_CTR_FREE(c)          \
	do {                     \
		aes_ctr_free(c); \
		(c) = NULL;      \
	} while (0)

/* Start a keystream with this key and initial counter block. */
void aes_ctr_init(struct aes_ctr *c, const uint8_t key[static 32],
		  const uint8_t iv[static 16]);

/*
 * out = in XOR the next len bytes of keystream; in == out is allowed, and
 * so is in == NULL, which writes the raw keystream. Successive calls continue
 * the same stream.
 */
void aes_ctr_xor(struct aes_ctr *c, uint8_t *out, const uint8_t *in,
		 size_t len);

/*
 * Forget the key: an all-zero key and IV are loaded over it, so OpenSSL's
 * copy (its key schedule) is overwritten in place. The context stays bound
 * to the cipher and usable for another aes_ctr_init.
 */
void aes_ctr_wipe(struct aes_ctr *c);

/* aes_ctr_init, aes_ctr_xor of len bytes, aes_ctr_wipe: a whole stream
 * whose key is not left in the context. */
void aes_ctr_once(struct aes_ctr *c, uint8_t *out, const uint8_t *in,
		  size_t len, const uint8_t key[static 32],
		  const uint8_t iv[static 16]);

/* One-shot convenience: a fresh context per call (slower, see above). */
void aes256_ctr(uint8_t *out, const uint8_t *in, size_t len,
		const uint8_t key[static 32], const uint8_t iv[static 16]);

#endif /* BC_CRYPTO_AES_CTR_H */
