/*
 * Noise hash functions, HMAC and HKDF (Noise revision 34, section 4.3),
 * written once over an incremental-hash switch so that all three hashes
 * share one HMAC.
 */
#include "crypto/noise_hash.h"

#include <sodium.h>
#include <string.h>

/* One incremental hash state for whichever function is in use. */
struct nh_ctx {
	enum noise_hash_id id;
	union {
		crypto_hash_sha256_state sha256;
		crypto_hash_sha512_state sha512;
		crypto_generichash_state blake2b;
	} u;
};

size_t
noise_hash_len(enum noise_hash_id id)
{
	return id == NOISE_HASH_SHA256 ? 32 : 64;
}

size_t
noise_hash_blocklen(enum noise_hash_id id)
{
	return id == NOISE_HASH_SHA256 ? 64 : 128;
}

static void
nh_init(struct nh_ctx *c, enum noise_hash_id id)
{
	c->id = id;
	switch (id) {
	case NOISE_HASH_SHA256:
		crypto_hash_sha256_init(&c->u.sha256);
		break;
	case NOISE_HASH_SHA512:
		crypto_hash_sha512_init(&c->u.sha512);
		break;
	case NOISE_HASH_BLAKE2B:
		/* Unkeyed, 64-byte output: BLAKE2b-512 as Noise defines it. */
		crypto_generichash_init(&c->u.blake2b, NULL, 0, 64);
		break;
	}
}

static void
nh_update(struct nh_ctx *c, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	switch (c->id) {
	case NOISE_HASH_SHA256:
		crypto_hash_sha256_update(&c->u.sha256, p, n);
		break;
	case NOISE_HASH_SHA512:
		crypto_hash_sha512_update(&c->u.sha512, p, n);
		break;
	case NOISE_HASH_BLAKE2B:
		crypto_generichash_update(&c->u.blake2b, p, n);
		break;
	}
}

/* Writes HASHLEN bytes and wipes the state. */
static void
nh_final(struct nh_ctx *c, uint8_t *out)
{
	switch (c->id) {
	case NOISE_HASH_SHA256:
		crypto_hash_sha256_final(&c->u.sha256, out);
		break;
	case NOISE_HASH_SHA512:
		crypto_hash_sha512_final(&c->u.sha512, out);
		break;
	case NOISE_HASH_BLAKE2B:
		crypto_generichash_final(&c->u.blake2b, out, 64);
		break;
	}
	sodium_memzero(c, sizeof(*c));
}

void
noise_hash(enum noise_hash_id id, uint8_t *out, const uint8_t *a, size_t alen,
	   const uint8_t *b, size_t blen)
{
	struct nh_ctx c;

	nh_init(&c, id);
	nh_update(&c, a, alen);
	nh_update(&c, b, blen);
	nh_final(&c, out);
}

void
noise_hmac(enum noise_hash_id id, uint8_t *out, const uint8_t *key,
	   size_t keylen, const uint8_t *d1, size_t l1, const uint8_t *d2,
	   size_t l2)
{
	size_t hlen = noise_hash_len(id), blen = noise_hash_blocklen(id);
	uint8_t k0[NOISE_HASH_MAXBLOCK], pad[NOISE_HASH_MAXBLOCK];
	uint8_t inner[NOISE_HASH_MAXLEN];
	struct nh_ctx c;

	/* RFC 2104: a key longer than B is replaced by its hash. */
	memset(k0, 0, sizeof(k0));
	if (keylen > blen)
		noise_hash(id, k0, key, keylen, NULL, 0);
	else if (keylen > 0)
		memcpy(k0, key, keylen);

	for (size_t i = 0; i < blen; i++)
		pad[i] = k0[i] ^ 0x36;
	nh_init(&c, id);
	nh_update(&c, pad, blen);
	nh_update(&c, d1, l1);
	nh_update(&c, d2, l2);
	nh_final(&c, inner);

	for (size_t i = 0; i < blen; i++)
		pad[i] = k0[i] ^ 0x5c;
	nh_init(&c, id);
	nh_update(&c, pad, blen);
	nh_update(&c, inner, hlen);
	nh_final(&c, out);

	sodium_memzero(k0, sizeof(k0));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

void
noise_hkdf(enum noise_hash_id id, const uint8_t *ck, const uint8_t *ikm,
	   size_t ikmlen, uint8_t *out1, uint8_t *out2, uint8_t *out3)
{
	size_t hlen = noise_hash_len(id);
	uint8_t tk[NOISE_HASH_MAXLEN], o1[NOISE_HASH_MAXLEN];
	uint8_t o2[NOISE_HASH_MAXLEN];
	const uint8_t b1 = 0x01, b2 = 0x02, b3 = 0x03;

	noise_hmac(id, tk, ck, hlen, ikm, ikmlen, NULL, 0);
	noise_hmac(id, o1, tk, hlen, &b1, 1, NULL, 0);
	noise_hmac(id, o2, tk, hlen, o1, hlen, &b2, 1);
	/* Copied out only at the end, so outputs may alias ck. */
	if (out3 != NULL)
		noise_hmac(id, out3, tk, hlen, o2, hlen, &b3, 1);
	memcpy(out1, o1, hlen);
	memcpy(out2, o2, hlen);
	sodium_memzero(tk, sizeof(tk));
	sodium_memzero(o1, sizeof(o1));
	sodium_memzero(o2, sizeof(o2));
}
