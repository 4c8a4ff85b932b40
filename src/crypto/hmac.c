/*
 * HMAC (RFC 2104), written once over an OpenSSL digest context for SHA-256
 * and SHA-512 (faster than libsodium's here: docs/crypto.md) and once over
 * libsodium's BLAKE2b-512 for Noise.
 */
#include "crypto/hmac.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/md.h"

#define HMAC_BLOCK_MAX  128
#define HMAC_DIGEST_MAX 64
#define IPAD            0x36
#define OPAD            0x5c

struct hmac_md_spec {
	enum crypto_md_id id;
	size_t block;
	size_t len;
};

static const struct hmac_md_spec spec_sha256 = {CRYPTO_MD_SHA256, 64, 32};
static const struct hmac_md_spec spec_sha512 = {CRYPTO_MD_SHA512, 128, 64};

/* pad = (key, hashed first if longer than a block, zero-filled) ^ byte. */
static void
hmac_pad_key(uint8_t pad[HMAC_BLOCK_MAX], size_t block, const uint8_t *k,
	     size_t klen, uint8_t byte)
{
	size_t i;

	memset(pad, byte, block);
	for (i = 0; i < klen; i++)
		pad[i] ^= k[i];
}

static void
hmac_md_init(const struct hmac_md_spec *s, void **inner, void **outer,
	     const void *key, size_t keylen)
{
	uint8_t kh[HMAC_DIGEST_MAX];
	uint8_t pad[HMAC_BLOCK_MAX];
	const uint8_t *k = key;
	EVP_MD_CTX *c;

	if (keylen > s->block) {
		c = crypto_md_ctx_new(s->id);
		crypto_md_update(c, key, keylen);
		crypto_md_final(c, kh);
		EVP_MD_CTX_free(c);
		k = kh;
		keylen = s->len;
	}
	hmac_pad_key(pad, s->block, k, keylen, IPAD);
	c = crypto_md_ctx_new(s->id);
	crypto_md_update(c, pad, s->block);
	*inner = c;
	hmac_pad_key(pad, s->block, k, keylen, OPAD);
	c = crypto_md_ctx_new(s->id);
	crypto_md_update(c, pad, s->block);
	*outer = c;
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(kh, sizeof(kh));
}

static void
hmac_md_final(const struct hmac_md_spec *s, void **inner, void **outer,
	      uint8_t *out)
{
	uint8_t ih[HMAC_DIGEST_MAX];

	crypto_md_final(*inner, ih);
	crypto_md_update(*outer, ih, s->len);
	crypto_md_final(*outer, out);
	sodium_memzero(ih, sizeof(ih));
	EVP_MD_CTX_free(*inner);
	EVP_MD_CTX_free(*outer);
	*inner = NULL;
	*outer = NULL;
}

static EVP_MD_CTX *
md_dup(const void *src)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (!c || EVP_MD_CTX_copy_ex(c, src) != 1) {
		fputs("crypto: OpenSSL digest copy failed\n", stderr);
		abort();
	}
	return c;
}

void
hmac_sha256_init(struct hmac_sha256_ctx *c, const void *key, size_t keylen)
{
	hmac_md_init(&spec_sha256, &c->inner, &c->outer, key, keylen);
}

void
hmac_sha256_update(struct hmac_sha256_ctx *c, const void *msg, size_t len)
{
	crypto_md_update(c->inner, msg, len);
}

void
hmac_sha256_final(struct hmac_sha256_ctx *c, uint8_t out[static 32])
{
	hmac_md_final(&spec_sha256, &c->inner, &c->outer, out);
}

void
hmac_sha256_abort(struct hmac_sha256_ctx *c)
{
	EVP_MD_CTX_free(c->inner);
	EVP_MD_CTX_free(c->outer);
	c->inner = NULL;
	c->outer = NULL;
}

void
hmac_sha256_copy(struct hmac_sha256_ctx *dst, const struct hmac_sha256_ctx *src)
{
	dst->inner = md_dup(src->inner);
	dst->outer = md_dup(src->outer);
}

void
hmac_sha256(uint8_t out[static 32], const void *key, size_t keylen,
	    const void *msg, size_t msglen)
{
	struct hmac_sha256_ctx c;

	hmac_sha256_init(&c, key, keylen);
	hmac_sha256_update(&c, msg, msglen);
	hmac_sha256_final(&c, out);
}

void
hmac_sha512_init(struct hmac_sha512_ctx *c, const void *key, size_t keylen)
{
	hmac_md_init(&spec_sha512, &c->inner, &c->outer, key, keylen);
}

void
hmac_sha512_update(struct hmac_sha512_ctx *c, const void *msg, size_t len)
{
	crypto_md_update(c->inner, msg, len);
}

void
hmac_sha512_final(struct hmac_sha512_ctx *c, uint8_t out[static 64])
{
	hmac_md_final(&spec_sha512, &c->inner, &c->outer, out);
}

void
hmac_sha512_abort(struct hmac_sha512_ctx *c)
{
	EVP_MD_CTX_free(c->inner);
	EVP_MD_CTX_free(c->outer);
	c->inner = NULL;
	c->outer = NULL;
}

void
hmac_sha512_copy(struct hmac_sha512_ctx *dst, const struct hmac_sha512_ctx *src)
{
	dst->inner = md_dup(src->inner);
	dst->outer = md_dup(src->outer);
}

void
hmac_sha512(uint8_t out[static 64], const void *key, size_t keylen,
	    const void *msg, size_t msglen)
{
	struct hmac_sha512_ctx c;

	hmac_sha512_init(&c, key, keylen);
	hmac_sha512_update(&c, msg, msglen);
	hmac_sha512_final(&c, out);
}

/* RFC 2104 over unkeyed BLAKE2b-512: B = 128, L = 64. */
void
hmac_blake2b(uint8_t out[static 64], const void *key, size_t keylen,
	     const void *msg, size_t msglen)
{
	uint8_t kh[BLAKE2B_LEN];
	uint8_t pad[HMAC_BLOCK_MAX];
	uint8_t ih[BLAKE2B_LEN];
	const uint8_t *k = key;
	struct blake2b_ctx c;

	if (keylen > HMAC_BLOCK_MAX) {
		(void)blake2b(kh, sizeof(kh), key, keylen, NULL, 0);
		k = kh;
		keylen = sizeof(kh);
	}
	hmac_pad_key(pad, HMAC_BLOCK_MAX, k, keylen, IPAD);
	(void)blake2b_init(&c, BLAKE2B_LEN);
	blake2b_update(&c, pad, HMAC_BLOCK_MAX);
	blake2b_update(&c, msg, msglen);
	blake2b_final(&c, ih);
	hmac_pad_key(pad, HMAC_BLOCK_MAX, k, keylen, OPAD);
	(void)blake2b_init(&c, BLAKE2B_LEN);
	blake2b_update(&c, pad, HMAC_BLOCK_MAX);
	blake2b_update(&c, ih, sizeof(ih));
	blake2b_final(&c, out);
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(kh, sizeof(kh));
	sodium_memzero(ih, sizeof(ih));
}
