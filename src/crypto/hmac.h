/*
 * HMAC (RFC 2104) over SHA-256, SHA-512 and BLAKE2b-512.
 *
 * hmac_blake2b is the generic RFC 2104 construction over unkeyed BLAKE2b-512
 * with its 128-byte block, which is what the Noise framework's HASH=BLAKE2b
 * requires; BLAKE2b's own keyed mode (blake2b() with a key) is a different
 * function and gives different output.
 */
#ifndef BC_CRYPTO_HMAC_H
#define BC_CRYPTO_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_LEN  32
#define HMAC_SHA512_LEN  64
#define HMAC_BLAKE2B_LEN 64

/* Keys of any length are accepted (longer than a block: hashed first). */
void hmac_sha256(uint8_t out[static 32], const void *key, size_t keylen,
		 const void *msg, size_t msglen);
void hmac_sha512(uint8_t out[static 64], const void *key, size_t keylen,
		 const void *msg, size_t msglen);
void hmac_blake2b(uint8_t out[static 64], const void *key, size_t keylen,
		  const void *msg, size_t msglen);

/*
 * Incremental HMAC-SHA256, for a MAC over data in pieces (Sphinx: AD, alpha,
 * beta). init, update..., final; final wipes and releases the context. A
 * context abandoned before final must go to hmac_sha256_abort(). Not
 * copyable with memcpy (holds library handles).
 */
struct hmac_sha256_ctx {
	void *inner;
	void *outer;
};
void hmac_sha256_init(struct hmac_sha256_ctx *c, const void *key,
		      size_t keylen);
void hmac_sha256_update(struct hmac_sha256_ctx *c, const void *msg, size_t len);
void hmac_sha256_final(struct hmac_sha256_ctx *c, uint8_t out[static 32]);
void hmac_sha256_abort(struct hmac_sha256_ctx *c);

/*
 * dst = a fresh copy of src (src not yet finalised), so a keyed context can
 * be set up once and reused for many messages (HKDF-Expand does this).
 * dst is then independent and must be finalised or aborted on its own.
 */
void hmac_sha256_copy(struct hmac_sha256_ctx *dst,
		      const struct hmac_sha256_ctx *src);

/* The same for HMAC-SHA512. */
struct hmac_sha512_ctx {
	void *inner;
	void *outer;
};
void hmac_sha512_init(struct hmac_sha512_ctx *c, const void *key,
		      size_t keylen);
void hmac_sha512_update(struct hmac_sha512_ctx *c, const void *msg, size_t len);
void hmac_sha512_final(struct hmac_sha512_ctx *c, uint8_t out[static 64]);
void hmac_sha512_abort(struct hmac_sha512_ctx *c);
void hmac_sha512_copy(struct hmac_sha512_ctx *dst,
		      const struct hmac_sha512_ctx *src);

#endif /* BC_CRYPTO_HMAC_H */
