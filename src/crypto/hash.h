/*
 * Hash functions: SHA-256, SHA-512, SHA-512/256 (FIPS 180-4) and BLAKE2b
 * (RFC 7693). Each one has a one-shot form and, where a caller hashes data
 * that arrives in pieces, an incremental form.
 */
#ifndef BC_CRYPTO_HASH_H
#define BC_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN      32
#define SHA512_LEN      64
#define SHA512_256_LEN  32
#define BLAKE2B_LEN     64 /* BLAKE2b-512, the default output length */
#define BLAKE2B_MAX_LEN 64
#define BLAKE2B_KEY_MAX 64

void sha256(uint8_t out[static 32], const void *in, size_t len);
void sha512(uint8_t out[static 64], const void *in, size_t len);

/*
 * SHA-512/256: SHA-512 with its own initial value, truncated to 32 bytes
 * (not the same as the first half of SHA-512). Sphinx replay tags use it.
 */
void sha512_256(uint8_t out[static 32], const void *in, size_t len);

/*
 * BLAKE2b with an output of outlen bytes (1..64) and an optional key
 * (keylen 0..64; key may be NULL when keylen is 0). Returns -1 on a bad
 * length, 0 otherwise.
 */
int blake2b(uint8_t *out, size_t outlen, const void *in, size_t inlen,
	    const void *key, size_t keylen);

/*
 * Incremental forms. init, any number of update, then final, which writes
 * the digest and wipes the context. A context abandoned before final must be
 * passed to the matching _abort to release and wipe it. Contexts hold no
 * pointers into caller data; sha256 and sha512 contexts hold a library
 * handle and may not be copied with memcpy.
 */
struct sha256_ctx {
	void *h; /* library handle, owned */
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *in, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[static 32]);
void sha256_abort(struct sha256_ctx *c);

struct sha512_ctx {
	void *h;
};
void sha512_init(struct sha512_ctx *c);
void sha512_update(struct sha512_ctx *c, const void *in, size_t len);
void sha512_final(struct sha512_ctx *c, uint8_t out[static 64]);
void sha512_abort(struct sha512_ctx *c);

struct blake2b_ctx {
	_Alignas(64) unsigned char st[384]; /* libsodium's state, opaque */
	size_t outlen;
};
/* Unkeyed BLAKE2b with outlen bytes (1..64); -1 on a bad length. */
int blake2b_init(struct blake2b_ctx *c, size_t outlen);
void blake2b_update(struct blake2b_ctx *c, const void *in, size_t len);
/* Writes c->outlen bytes. */
void blake2b_final(struct blake2b_ctx *c, uint8_t *out);
void blake2b_abort(struct blake2b_ctx *c);

#endif /* BC_CRYPTO_HASH_H */
