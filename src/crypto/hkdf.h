/*
 * HKDF (RFC 5869) over HMAC-SHA256 and HMAC-SHA512. libsodium 1.0.18 has no
 * HKDF, so it is built here from HMAC.
 */
#ifndef BC_CRYPTO_HKDF_H
#define BC_CRYPTO_HKDF_H

#include <stddef.h>
#include <stdint.h>

#define HKDF_SHA256_MAX (255 * 32)
#define HKDF_SHA512_MAX (255 * 64)

/* prk = HMAC(salt, ikm); an empty salt (saltlen 0) means HashLen zeros. */
void hkdf_sha256_extract(uint8_t prk[static 32], const void *salt,
			 size_t saltlen, const void *ikm, size_t ikmlen);

/*
 * outlen bytes of T(1) | T(2) | ... keyed by prk. RFC 5869 asks for a PRK of
 * at least HashLen bytes, but HMAC takes any key length and so does this
 * (Sphinx uses the raw 32-byte X25519 output as PRK). Returns -1 (out
 * untouched) if outlen > 255 * 32, 0 otherwise; outlen 0 is a no-op.
 */
int hkdf_sha256_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
		       size_t prklen, const void *info, size_t infolen)
    __attribute__((warn_unused_result));

/* Extract then Expand; -1 as for expand. */
int hkdf_sha256(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
		const void *ikm, size_t ikmlen, const void *info,
		size_t infolen) __attribute__((warn_unused_result));

void hkdf_sha512_extract(uint8_t prk[static 64], const void *salt,
			 size_t saltlen, const void *ikm, size_t ikmlen);
int hkdf_sha512_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
		       size_t prklen, const void *info, size_t infolen)
    __attribute__((warn_unused_result));
int hkdf_sha512(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
		const void *ikm, size_t ikmlen, const void *info,
		size_t infolen) __attribute__((warn_unused_result));

#endif /* BC_CRYPTO_HKDF_H */
