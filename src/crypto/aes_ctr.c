/*
 * AES-256-CTR through OpenSSL's EVP interface. OpenSSL's CTR mode treats
 * the whole 16-byte IV as a big-endian counter (with AES-NI it runs a 32-bit
 * counter and carries into the upper 96 bits itself), which is the Sphinx
 * definition; tests/unit/crypto_aes_ctr.c checks the carry across 2^32,
 * 2^64 and 2^128 against AES-ECB of explicit counter blocks.
 *
 * Reusing one EVP_CIPHER_CTX and re-keying it (cipher argument NULL after
 * the first time) costs about two thirds of creating a context per call
 * (docs/crypto.md).
 *
 * Keys: OpenSSL keeps the key schedule (whose first two round keys are the
 * key itself) in a provider context from its ordinary heap, neither locked
 * nor kept out of core dumps. So aes_ctr_wipe() does not free that context
 * (the next aes_ctr_init would pay for a new one) but loads an all-zero
 * key and IV over it, as chachapoly.c's forget() does: the schedule is
 * rebuilt in place for the zero key. What stays is at most one block of
 * the last keystream (CTR's partial-block buffer); in a Sphinx hop that is
 * the tail of the header stream, which goes out in the next hop's routing
 * information anyway.
 */
#include "crypto/aes_ctr.h"

#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct aes_ctr {
	EVP_CIPHER_CTX *ctx;
	bool has_cipher; /* ctx already bound to AES-256-CTR */
};

static pthread_once_t cipher_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *cipher;
/* What a context holds between keys instead of one. */
static const uint8_t zero_key[AES_CTR_KEY_LEN];
static const uint8_t zero_iv[AES_CTR_IV_LEN];

static _Noreturn void
aes_die(const char *what)
{
	fprintf(stderr, "crypto: OpenSSL %s failed\n", what);
	abort();
}

static void
cipher_fetch(void)
{
	cipher = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
	if (!cipher)
		aes_die("AES-256-CTR fetch");
}

struct aes_ctr *
aes_ctr_new(void)
{
	struct aes_ctr *c = calloc(1, sizeof(*c));

	if (!c)
		aes_die("allocation");
	pthread_once(&cipher_once, cipher_fetch);
	c->ctx = EVP_CIPHER_CTX_new();
	if (!c->ctx)
		aes_die("EVP_CIPHER_CTX_new");
	return c;
}

void
aes_ctr_free(struct aes_ctr *c)
{
	if (!c)
		return;
	/* Frees the provider context with OPENSSL_clear_free: key wiped. */
	EVP_CIPHER_CTX_free(c->ctx);
	free(c);
}

void
aes_ctr_init(struct aes_ctr *c, const uint8_t key[static 32],
	     const uint8_t iv[static 16])
{
	const EVP_CIPHER *ci = c->has_cipher ? NULL : cipher;

	if (EVP_EncryptInit_ex2(c->ctx, ci, key, iv, NULL) != 1)
		aes_die("EVP_EncryptInit_ex2");
	c->has_cipher = true;
}

void
aes_ctr_xor(struct aes_ctr *c, uint8_t *out, const uint8_t *in, size_t len)
{
	int chunk, outl;

	if (len == 0)
		return;
	if (!in) {
		memset(out, 0, len);
		in = out;
	}
	while (len > 0) {
		chunk = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;
		if (EVP_EncryptUpdate(c->ctx, out, &outl, in, chunk) != 1 ||
		    outl != chunk)
			aes_die("EVP_EncryptUpdate");
		out += chunk;
		in += chunk;
		len -= (size_t)chunk;
	}
}

void
aes_ctr_wipe(struct aes_ctr *c)
{
	if (!c->has_cipher)
		return; /* never keyed: no provider context yet */
	if (EVP_EncryptInit_ex2(c->ctx, NULL, zero_key, zero_iv, NULL) != 1)
		aes_die("EVP_EncryptInit_ex2 (wipe)");
}

void
aes_ctr_once(struct aes_ctr *c, uint8_t *out, const uint8_t *in, size_t len,
	     const uint8_t key[static 32], const uint8_t iv[static 16])
{
	aes_ctr_init(c, key, iv);
	aes_ctr_xor(c, out, in, len);
	aes_ctr_wipe(c);
}

void
aes256_ctr(uint8_t *out, const uint8_t *in, size_t len,
	   const uint8_t key[static 32], const uint8_t iv[static 16])
{
	struct aes_ctr *c = aes_ctr_new();

	aes_ctr_once(c, out, in, len, key, iv);
	aes_ctr_free(c);
}
