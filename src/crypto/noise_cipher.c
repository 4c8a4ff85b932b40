/*
 * ChaChaPoly for Noise, and the transport CipherState (struct noise_cipher).
 * The state sits in locked, guarded memory (crypto/secret.h), wiped on free.
 * The handshake and Rekey() use libsodium directly (short messages); the
 * transport messages go through a crypto/chachapoly.h context per cipher,
 * which is faster at link frame sizes and never keeps the key.
 */
#include "crypto/noise_cipher.h"

#include <sodium.h>
#include <string.h>

#include "crypto/chachapoly.h"
#include "crypto/noise.h"
#include "crypto/secret.h"

struct noise_cipher {
	uint8_t k[NOISE_KEY_LEN];
	uint64_t n;
	bool dead;
	struct chachapoly *aead; /* holds no key between calls */
};

static void
nonce_make(uint8_t nonce[static 12], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

void
noise_aead_encrypt(const uint8_t k[static 32], uint64_t n, const uint8_t *ad,
		   size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	nonce_make(nonce, n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, ad, adlen,
						  NULL, nonce, k);
}

int
noise_aead_decrypt(const uint8_t k[static 32], uint64_t n, const uint8_t *ad,
		   size_t adlen, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[12], dummy[1];

	if (len < NOISE_TAG_LEN)
		return -1;
	/* An empty plaintext still needs somewhere to (not) go. */
	if (out == NULL) {
		if (len != NOISE_TAG_LEN)
			return -1;
		out = dummy;
	}
	nonce_make(nonce, n);
	return crypto_aead_chacha20poly1305_ietf_decrypt(
		   out, NULL, NULL, in, len, ad, adlen, nonce, k) == 0
		   ? 0
		   : -1;
}

void
noise_aead_rekey(uint8_t k[static 32])
{
	uint8_t buf[32 + NOISE_TAG_LEN];

	memset(buf, 0, 32);
	noise_aead_encrypt(k, UINT64_MAX, NULL, 0, buf, 32, buf);
	memcpy(k, buf, 32);
	secret_wipe(buf, sizeof(buf));
}

struct noise_cipher *
noise_cipher_new(const uint8_t k[static NOISE_KEY_LEN])
{
	/* Aborts rather than fall back to unlocked memory. */
	struct noise_cipher *c = secret_alloc(sizeof(*c));

	memcpy(c->k, k, NOISE_KEY_LEN);
	c->n = 0;
	c->dead = false;
	c->aead = chachapoly_new();
	return c;
}

/* True when [a, a+alen) and [b, b+blen) share a byte but a != b. */
static bool
overlap_partial(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;

	if (a == NULL || b == NULL || pa == pb || alen == 0 || blen == 0)
		return false;
	return pa < pb + blen && pb < pa + alen;
}

static int
cipher_die(struct noise_cipher *c)
{
	secret_wipe(c->k, sizeof(c->k));
	c->dead = true;
	return -1;
}

int
noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad, size_t adlen,
		     const uint8_t *in, size_t plen, uint8_t *out,
		     size_t outcap, size_t *outlen)
{
	uint8_t nonce[CHACHAPOLY_NONCE_LEN];

	if (c == NULL || c->dead)
		return -1;
	if (plen > NOISE_MAX_PAYLOAD_LEN || outcap < plen + NOISE_TAG_LEN ||
	    c->n == UINT64_MAX || (ad == NULL && adlen > 0) ||
	    (in == NULL && plen > 0) || out == NULL || outlen == NULL)
		return cipher_die(c);
	/* out == in exactly is allowed; a partial overlap is a bug. */
	if (overlap_partial(in, plen, out, plen + NOISE_TAG_LEN))
		return cipher_die(c);
	nonce_make(nonce, c->n);
	chachapoly_seal(c->aead, c->k, nonce, ad, adlen, in, plen, out);
	c->n++;
	*outlen = plen + NOISE_TAG_LEN;
	return 0;
}

int
noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad, size_t adlen,
		     const uint8_t *in, size_t mlen, uint8_t *out,
		     size_t outcap, size_t *outlen)
{
	uint8_t nonce[CHACHAPOLY_NONCE_LEN];

	if (c == NULL || c->dead)
		return -1;
	if (mlen < NOISE_TAG_LEN || mlen > NOISE_MAX_MSG_LEN ||
	    outcap < mlen - NOISE_TAG_LEN || c->n == UINT64_MAX ||
	    (ad == NULL && adlen > 0) || in == NULL || outlen == NULL ||
	    (out == NULL && mlen > NOISE_TAG_LEN))
		return cipher_die(c);
	if (overlap_partial(in, mlen, out, mlen - NOISE_TAG_LEN))
		return cipher_die(c);
	nonce_make(nonce, c->n);
	if (chachapoly_open(c->aead, c->k, nonce, ad, adlen, in, mlen, out) !=
	    0)
		return cipher_die(c);
	c->n++;
	*outlen = mlen - NOISE_TAG_LEN;
	return 0;
}

int
noise_cipher_rekey(struct noise_cipher *c)
{
	if (c == NULL || c->dead)
		return -1;
	noise_aead_rekey(c->k);
	return 0;
}

uint64_t
noise_cipher_get_nonce(const struct noise_cipher *c)
{
	return c->n;
}

int
noise_cipher_set_nonce(struct noise_cipher *c, uint64_t n)
{
	if (c == NULL || c->dead)
		return -1;
	c->n = n;
	return 0;
}

void
noise_cipher_free(struct noise_cipher *c)
{
	if (c == NULL)
		return;
	CHACHAPOLY_FREE(c->aead);
	secret_free(c);
}
