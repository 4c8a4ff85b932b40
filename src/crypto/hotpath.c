/*
 * Allocation-free SHA-2 for hot paths, over OpenSSL's low-level SHA-256 and
 * SHA-512 (deprecated in OpenSSL 3 in favour of EVP, but present, and the
 * only interface whose state lives in our memory: EVP allocates a context
 * per use, which costs about as much as the hashing at Sphinx's sizes;
 * docs/performance.md has the figures).
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "crypto/hotpath.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= 128, "SHA256_CTX must fit the state");
_Static_assert(_Alignof(SHA256_CTX) <= 16, "SHA256_CTX alignment");

#define BLOCK 64

static SHA256_CTX *
state_of(struct hot_hmac_sha256 *k, int which)
{
	return (SHA256_CTX *)(void *)k->state[which];
}

static const SHA256_CTX *
cstate_of(const struct hot_hmac_sha256 *k, int which)
{
	return (const SHA256_CTX *)(const void *)k->state[which];
}

void
hot_hmac_sha256_init(struct hot_hmac_sha256 *k, const void *key, size_t keylen)
{
	uint8_t pad[BLOCK], kh[32];
	const uint8_t *kb = key;

	memset(k, 0, sizeof(*k));
	if (keylen > BLOCK) {
		SHA256(key, keylen, kh);
		kb = kh;
		keylen = sizeof(kh);
	}
	for (int which = 0; which < 2; which++) {
		memset(pad, which == 0 ? 0x36 : 0x5c, sizeof(pad));
		for (size_t i = 0; i < keylen; i++)
			pad[i] ^= kb[i];
		SHA256_Init(state_of(k, which));
		SHA256_Update(state_of(k, which), pad, sizeof(pad));
	}
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(kh, sizeof(kh));
}

/* HMAC over up to three pieces, from the expanded key. */
static void
hmac3(const struct hot_hmac_sha256 *k, uint8_t out[32], const void *a,
      size_t alen, const void *b, size_t blen, const void *c, size_t clen)
{
	SHA256_CTX h = *cstate_of(k, 0);
	uint8_t inner[32];

	SHA256_Update(&h, a, alen);
	if (blen > 0)
		SHA256_Update(&h, b, blen);
	if (clen > 0)
		SHA256_Update(&h, c, clen);
	SHA256_Final(inner, &h);
	h = *cstate_of(k, 1);
	SHA256_Update(&h, inner, sizeof(inner));
	SHA256_Final(out, &h);
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&h, sizeof(h));
}

void
hot_hmac_sha256(const struct hot_hmac_sha256 *k, uint8_t out[static 32],
		const void *msg, size_t len)
{
	hmac3(k, out, msg, len, NULL, 0, NULL, 0);
}

void
hot_hmac_sha256_wipe(struct hot_hmac_sha256 *k)
{
	sodium_memzero(k, sizeof(*k));
}

int
hot_hkdf_sha256_expand(uint8_t *out, size_t outlen, const uint8_t *prk,
		       size_t prklen, const void *info, size_t infolen)
{
	struct hot_hmac_sha256 k;
	uint8_t t[32];
	size_t done = 0;

	if (outlen > 255 * 32)
		return -1;
	hot_hmac_sha256_init(&k, prk, prklen);
	for (uint8_t i = 1; done < outlen; i++) {
		/* T(i) = HMAC(PRK, T(i-1) | info | i), T(0) empty. */
		if (i == 1)
			hmac3(&k, t, info, infolen, &i, 1, NULL, 0);
		else
			hmac3(&k, t, t, sizeof(t), info, infolen, &i, 1);
		size_t n =
		    outlen - done < sizeof(t) ? outlen - done : sizeof(t);
		memcpy(out + done, t, n);
		done += n;
	}
	hot_hmac_sha256_wipe(&k);
	sodium_memzero(t, sizeof(t));
	return 0;
}

/* FIPS 180-4, 5.3.6.2: the SHA-512/256 initial hash value. */
static const uint64_t sha512_256_iv[8] = {
    0x22312194fc2bf72cULL, 0x9f555fa3c84c64c2ULL, 0x2393b86b6f53b151ULL,
    0x963877195940eabdULL, 0x96283ee2a88effe3ULL, 0xbe5e1e2553863992ULL,
    0x2b0199fc2c85b8aaULL, 0x0eb72ddc81c52ca2ULL,
};

void
hot_sha512_256(uint8_t out[static 32], const void *in, size_t len)
{
	SHA512_CTX c;

	/* SHA-512 with its own IV, truncated: OpenSSL's SHA512_Final writes
	 * md_len bytes and knows the 32-byte truncation. */
	SHA512_Init(&c);
	for (int i = 0; i < 8; i++)
		c.h[i] = sha512_256_iv[i];
	c.md_len = 32;
	SHA512_Update(&c, in, len);
	SHA512_Final(out, &c);
	sodium_memzero(&c, sizeof(c));
}
