/*
 * SHA-2 through OpenSSL (it uses the SHA extensions / AVX2 where present,
 * several times faster than libsodium's portable SHA-256: docs/crypto.md),
 * BLAKE2b through libsodium (OpenSSL 3.0 cannot vary its output length).
 */
#include "crypto/hash.h"

#include <assert.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/md.h"

static_assert(sizeof(((struct blake2b_ctx *)0)->st) >=
		  sizeof(crypto_generichash_state),
	      "blake2b_ctx storage too small for libsodium's state");
static_assert(_Alignof(struct blake2b_ctx) >=
		  _Alignof(crypto_generichash_state),
	      "blake2b_ctx storage misaligned");

static _Noreturn void
md_die(const char *what)
{
	fprintf(stderr, "crypto: OpenSSL %s failed\n", what);
	abort();
}

EVP_MD_CTX *
crypto_md_ctx_new(enum crypto_md_id id)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (!c)
		md_die("EVP_MD_CTX_new");
	if (EVP_DigestInit_ex(c, crypto_md(id), NULL) != 1)
		md_die("EVP_DigestInit_ex");
	return c;
}

void
crypto_md_update(EVP_MD_CTX *c, const void *in, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(c, in, len) != 1)
		md_die("EVP_DigestUpdate");
}

void
crypto_md_final(EVP_MD_CTX *c, unsigned char *out)
{
	if (EVP_DigestFinal_ex(c, out, NULL) != 1)
		md_die("EVP_DigestFinal_ex");
}

static void
md_oneshot(enum crypto_md_id id, uint8_t *out, const void *in, size_t len)
{
	EVP_MD_CTX *c = crypto_md_ctx_new(id);

	crypto_md_update(c, in, len);
	crypto_md_final(c, out);
	EVP_MD_CTX_free(c);
}

void
sha256(uint8_t out[static 32], const void *in, size_t len)
{
	md_oneshot(CRYPTO_MD_SHA256, out, in, len);
}

void
sha512(uint8_t out[static 64], const void *in, size_t len)
{
	md_oneshot(CRYPTO_MD_SHA512, out, in, len);
}

void
sha512_256(uint8_t out[static 32], const void *in, size_t len)
{
	md_oneshot(CRYPTO_MD_SHA512_256, out, in, len);
}

void
sha256_init(struct sha256_ctx *c)
{
	c->h = crypto_md_ctx_new(CRYPTO_MD_SHA256);
}

void
sha256_update(struct sha256_ctx *c, const void *in, size_t len)
{
	crypto_md_update(c->h, in, len);
}

void
sha256_final(struct sha256_ctx *c, uint8_t out[static 32])
{
	crypto_md_final(c->h, out);
	sha256_abort(c);
}

/* EVP_MD_CTX_free cleanses the digest state before releasing it. */
void
sha256_abort(struct sha256_ctx *c)
{
	EVP_MD_CTX_free(c->h);
	c->h = NULL;
}

void
sha512_init(struct sha512_ctx *c)
{
	c->h = crypto_md_ctx_new(CRYPTO_MD_SHA512);
}

void
sha512_update(struct sha512_ctx *c, const void *in, size_t len)
{
	crypto_md_update(c->h, in, len);
}

void
sha512_final(struct sha512_ctx *c, uint8_t out[static 64])
{
	crypto_md_final(c->h, out);
	sha512_abort(c);
}

void
sha512_abort(struct sha512_ctx *c)
{
	EVP_MD_CTX_free(c->h);
	c->h = NULL;
}

int
blake2b(uint8_t *out, size_t outlen, const void *in, size_t inlen,
	const void *key, size_t keylen)
{
	if (outlen < 1 || outlen > BLAKE2B_MAX_LEN ||
	    keylen > BLAKE2B_KEY_MAX || (keylen > 0 && !key))
		return -1;
	if (crypto_generichash(out, outlen, in, inlen, keylen ? key : NULL,
			       keylen) != 0)
		return -1;
	return 0;
}

static crypto_generichash_state *
b2_state(struct blake2b_ctx *c)
{
	return (crypto_generichash_state *)(void *)c->st;
}

int
blake2b_init(struct blake2b_ctx *c, size_t outlen)
{
	if (outlen < 1 || outlen > BLAKE2B_MAX_LEN)
		return -1;
	c->outlen = outlen;
	if (crypto_generichash_init(b2_state(c), NULL, 0, outlen) != 0)
		return -1;
	return 0;
}

void
blake2b_update(struct blake2b_ctx *c, const void *in, size_t len)
{
	crypto_generichash_update(b2_state(c), in, len);
}

void
blake2b_final(struct blake2b_ctx *c, uint8_t *out)
{
	crypto_generichash_final(b2_state(c), out, c->outlen);
	blake2b_abort(c);
}

void
blake2b_abort(struct blake2b_ctx *c)
{
	sodium_memzero(c->st, sizeof(c->st));
}
