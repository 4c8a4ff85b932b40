/*
 * Allocation-free SHA-2 for per-packet hot paths (Sphinx unwrap): the same
 * functions as hash.h, hmac.h and hkdf.h compute, but with the hash state in
 * the caller's memory instead of library handles, so nothing is allocated
 * per call and a keyed HMAC state is copied with a plain assignment. Same
 * CPU code underneath (OpenSSL's SHA-256/512 with the SHA extensions where
 * the CPU has them); unit tests check every function here against its
 * counterpart in hash.h / hmac.h / hkdf.h.
 */
#ifndef BC_CRYPTO_HOTPATH_H
#define BC_CRYPTO_HOTPATH_H

#include <stddef.h>
#include <stdint.h>

/*
 * An HMAC-SHA256 key, expanded: the inner and outer hash states after the
 * padded key block. Opaque; holds key material (wipe with
 * hot_hmac_sha256_wipe, keep in secret memory when it lives long).
 */
struct hot_hmac_sha256 {
	_Alignas(16) uint8_t state[2][128];
};

/* Expand key (any length; longer than 64 bytes is hashed first). */
void hot_hmac_sha256_init(struct hot_hmac_sha256 *k, const void *key,
			  size_t keylen);

/* out = HMAC-SHA256(k, msg); k is unchanged and can be used again. */
void hot_hmac_sha256(const struct hot_hmac_sha256 *k, uint8_t out[static 32],
		     const void *msg, size_t len);

void hot_hmac_sha256_wipe(struct hot_hmac_sha256 *k);

/*
 * HKDF-Expand over SHA-256 (RFC 5869), any PRK length, no allocation.
 * Returns -1 (out untouched) if outlen > 255 * 32, 0 otherwise.
 */
int hot_hkdf_sha256_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
			   size_t prklen, const void *info, size_t infolen)
    __attribute__((warn_unused_result));

/* SHA-512/256 (FIPS 180-4), no allocation. */
void hot_sha512_256(uint8_t out[static 32], const void *in, size_t len);

#endif /* BC_CRYPTO_HOTPATH_H */
