/*
 * ChaCha20-Poly1305 (RFC 8439, 96-bit nonce) with a context kept per user,
 * for per-packet paths: the link's transport cipher (crypto/noise.h,
 * struct noise_cipher). Same function as libsodium's
 * crypto_aead_chacha20poly1305_ietf_*, faster at link frame sizes.
 *
 * The key is passed to every call and the context holds no copy of it
 * between calls: the caller keeps it in locked memory (crypto/secret.h).
 * docs/crypto.md ("ChaCha20-Poly1305 for the link") has the measurements
 * and what the context does hold.
 */
#ifndef BC_CRYPTO_CHACHAPOLY_H
#define BC_CRYPTO_CHACHAPOLY_H

#include <stddef.h>
#include <stdint.h>

#define CHACHAPOLY_KEY_LEN   32
#define CHACHAPOLY_NONCE_LEN 12
#define CHACHAPOLY_TAG_LEN   16

/*
 * Plaintexts shorter than this go through libsodium, longer ones through
 * the context: below about 1 KiB the fixed cost of a call into OpenSSL
 * exceeds what its faster ChaCha20 and Poly1305 save.
 */
#define CHACHAPOLY_CTX_MIN 1024

struct chachapoly;

/*
 * A new context; never NULL (aborts on OOM). Where OpenSSL offers no
 * ChaCha20-Poly1305 (a FIPS-only configuration), one warning is logged and
 * every context uses libsodium for everything.
 */
struct chachapoly *chachapoly_new(void);

/* Free (OpenSSL cleanses its context); NULL is accepted. */
void chachapoly_free(struct chachapoly *c);
#define CHACHAPOLY_FREE(p)          \
	do {                        \
		chachapoly_free(p); \
		(p) = NULL;         \
	} while (0)

/*
 * out = ciphertext || tag (len + CHACHAPOLY_TAG_LEN bytes) of in under key
 * and nonce, with ad (adlen bytes; NULL when 0) authenticated. len may be
 * 0 (in NULL then). out may equal in exactly, never otherwise overlap.
 */
void chachapoly_seal(struct chachapoly *c,
		     const uint8_t key[static CHACHAPOLY_KEY_LEN],
		     const uint8_t nonce[static CHACHAPOLY_NONCE_LEN],
		     const uint8_t *ad, size_t adlen, const uint8_t *in,
		     size_t len, uint8_t *out);

/*
 * Open len bytes (>= CHACHAPOLY_TAG_LEN) into out (len - 16 bytes; out may
 * be NULL when that is 0, may equal in exactly). Returns 0, or -1 when the
 * tag does not verify (or len < 16); out is then all zeros, never
 * unauthenticated plaintext.
 */
int chachapoly_open(struct chachapoly *c,
		    const uint8_t key[static CHACHAPOLY_KEY_LEN],
		    const uint8_t nonce[static CHACHAPOLY_NONCE_LEN],
		    const uint8_t *ad, size_t adlen, const uint8_t *in,
		    size_t len, uint8_t *out)
    __attribute__((warn_unused_result));

/*
 * Tests only: route plaintexts of at least min bytes through the context
 * (0: all of them; SIZE_MAX: none), so that known-answer files of short
 * messages check both paths. Process-wide; CHACHAPOLY_CTX_MIN restores.
 */
void chachapoly_set_ctx_min(size_t min);

#endif /* BC_CRYPTO_CHACHAPOLY_H */
