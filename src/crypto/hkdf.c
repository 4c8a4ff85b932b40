/*
 * HKDF (RFC 5869) from this module's HMAC. Expand keys the HMAC once and
 * copies the keyed state for each output block instead of re-deriving the
 * padded key every time.
 */
#include "crypto/hkdf.h"

#include <sodium.h>
#include <string.h>

#include "crypto/hmac.h"

static const uint8_t zeros[64];

void
hkdf_sha256_extract(uint8_t prk[static 32], const void *salt, size_t saltlen,
		    const void *ikm, size_t ikmlen)
{
	if (saltlen == 0) {
		salt = zeros;
		saltlen = 32;
	}
	hmac_sha256(prk, salt, saltlen, ikm, ikmlen);
}

int
hkdf_sha256_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
		   size_t prklen, const void *info, size_t infolen)
{
	struct hmac_sha256_ctx keyed, c;
	uint8_t t[32];
	size_t done = 0, n;
	uint8_t i;

	if (outlen > HKDF_SHA256_MAX)
		return -1;
	if (outlen == 0)
		return 0;
	hmac_sha256_init(&keyed, prk, prklen);
	for (i = 1; done < outlen; i++) {
		hmac_sha256_copy(&c, &keyed);
		if (i > 1)
			hmac_sha256_update(&c, t, sizeof(t));
		hmac_sha256_update(&c, info, infolen);
		hmac_sha256_update(&c, &i, 1);
		hmac_sha256_final(&c, t);
		n = outlen - done < sizeof(t) ? outlen - done : sizeof(t);
		memcpy(out + done, t, n);
		done += n;
	}
	hmac_sha256_abort(&keyed);
	sodium_memzero(t, sizeof(t));
	return 0;
}

int
hkdf_sha256(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
	    const void *ikm, size_t ikmlen, const void *info, size_t infolen)
{
	uint8_t prk[32];
	int rc;

	if (outlen > HKDF_SHA256_MAX)
		return -1;
	hkdf_sha256_extract(prk, salt, saltlen, ikm, ikmlen);
	rc = hkdf_sha256_expand(out, outlen, prk, sizeof(prk), info, infolen);
	sodium_memzero(prk, sizeof(prk));
	return rc;
}

void
hkdf_sha512_extract(uint8_t prk[static 64], const void *salt, size_t saltlen,
		    const void *ikm, size_t ikmlen)
{
	if (saltlen == 0) {
		salt = zeros;
		saltlen = 64;
	}
	hmac_sha512(prk, salt, saltlen, ikm, ikmlen);
}

int
hkdf_sha512_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
		   size_t prklen, const void *info, size_t infolen)
{
	struct hmac_sha512_ctx keyed, c;
	uint8_t t[64];
	size_t done = 0, n;
	uint8_t i;

	if (outlen > HKDF_SHA512_MAX)
		return -1;
	if (outlen == 0)
		return 0;
	hmac_sha512_init(&keyed, prk, prklen);
	for (i = 1; done < outlen; i++) {
		hmac_sha512_copy(&c, &keyed);
		if (i > 1)
			hmac_sha512_update(&c, t, sizeof(t));
		hmac_sha512_update(&c, info, infolen);
		hmac_sha512_update(&c, &i, 1);
		hmac_sha512_final(&c, t);
		n = outlen - done < sizeof(t) ? outlen - done : sizeof(t);
		memcpy(out + done, t, n);
		done += n;
	}
	hmac_sha512_abort(&keyed);
	sodium_memzero(t, sizeof(t));
	return 0;
}

int
hkdf_sha512(uint8_t *out, size_t outlen, const void *salt, size_t saltlen,
	    const void *ikm, size_t ikmlen, const void *info, size_t infolen)
{
	uint8_t prk[64];
	int rc;

	if (outlen > HKDF_SHA512_MAX)
		return -1;
	hkdf_sha512_extract(prk, salt, saltlen, ikm, ikmlen);
	rc = hkdf_sha512_expand(out, outlen, prk, sizeof(prk), info, infolen);
	sodium_memzero(prk, sizeof(prk));
	return rc;
}
