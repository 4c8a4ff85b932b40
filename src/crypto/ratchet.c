/*
 * Double Ratchet with header encryption: state, ratchet steps, message
 * encryption and decryption. Serialisation is in ratchet_state.c.
 */
#include "crypto/ratchet.h"

#include <sodium.h>
#include <string.h>

#include "lib/bytes.h"

#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "crypto/rand.h"
#include "crypto/ratchet_impl.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

const char *
ratchet_strerror(enum ratchet_err e)
{
	switch (e) {
	case RATCHET_OK:
		return "ok";
	case RATCHET_ERR_ARG:
		return "argument out of range";
	case RATCHET_ERR_NOT_READY:
		return "no sending chain yet: receive a message first";
	case RATCHET_ERR_EXHAUSTED:
		return "message counter exhausted";
	case RATCHET_ERR_HEADER:
		return "header does not decrypt under any header key";
	case RATCHET_ERR_BODY:
		return "message body fails authentication";
	case RATCHET_ERR_SKIP:
		return "too many skipped messages";
	case RATCHET_ERR_OLD:
		return "message already received or its key discarded";
	case RATCHET_ERR_DH:
		return "unusable ratchet public key";
	case RATCHET_ERR_STATE:
		return "malformed ratchet state";
	}
	return "unknown ratchet error";
}

void
ratchet_kdf_ck(const uint8_t ck[static 32], uint8_t next[static 32],
	       uint8_t mk[static 32])
{
	static const uint8_t one = 0x01, two = 0x02;
	uint8_t tmp[32];

	hmac_sha256(mk, ck, 32, &one, 1);
	hmac_sha256(tmp, ck, 32, &two, 1);
	memcpy(next, tmp, 32);
	secret_wipe(tmp, sizeof(tmp));
}

/* RK, CK, NHK = KDF_RK(RK, dh_out). */
static void
kdf_rk(struct ratchet_state *s, const uint8_t dh_out[32], uint8_t ck[32],
       uint8_t nhk[32])
{
	uint8_t okm[96];

	if (hkdf_sha256(okm, sizeof(okm), s->rk, 32, dh_out, 32,
			RATCHET_INFO_RK, strlen(RATCHET_INFO_RK)) != 0)
		__builtin_trap(); /* 96 bytes is far below the HKDF limit */
	memcpy(s->rk, okm, 32);
	memcpy(ck, okm + 32, 32);
	memcpy(nhk, okm + 64, 32);
	secret_wipe(okm, sizeof(okm));
}

static struct ratchet *
ratchet_alloc(void)
{
	struct ratchet *r = secret_alloc(sizeof(*r));

	r->st = secret_alloc(sizeof(*r->st));
	r->tmp = secret_alloc(sizeof(*r->tmp));
	return r;
}

void
ratchet_free(struct ratchet *r)
{
	if (r == NULL)
		return;
	secret_free(r->st);
	secret_free(r->tmp);
	secret_free(r);
}

struct ratchet *
ratchet_new_alice(const uint8_t sk[static 32], const uint8_t hk_a[static 32],
		  const uint8_t nhk_b[static 32],
		  const uint8_t bob_pub[static 32])
{
	struct ratchet *r = ratchet_alloc();
	struct ratchet_state *s = r->st;
	uint8_t dh[32];

	x25519_keypair(s->dhs_pub, s->dhs_priv);
	memcpy(s->dhr, bob_pub, 32);
	s->flags |= RATCHET_HAS_DHR;
	memcpy(s->rk, sk, 32);
	if (x25519(dh, s->dhs_priv, s->dhr) != 0) {
		ratchet_free(r);
		return NULL;
	}
	kdf_rk(s, dh, s->cks, s->nhks);
	secret_wipe(dh, sizeof(dh));
	memcpy(s->hks, hk_a, 32);
	memcpy(s->nhkr, nhk_b, 32);
	s->flags |= RATCHET_HAS_SEND;
	return r;
}

struct ratchet *
ratchet_new_bob(const uint8_t sk[static 32], const uint8_t hk_a[static 32],
		const uint8_t nhk_b[static 32],
		const uint8_t bob_priv[static 32])
{
	struct ratchet *r = ratchet_alloc();
	struct ratchet_state *s = r->st;

	memcpy(s->dhs_priv, bob_priv, 32);
	x25519_base(s->dhs_pub, s->dhs_priv);
	memcpy(s->rk, sk, 32);
	memcpy(s->nhkr, hk_a, 32);
	memcpy(s->nhks, nhk_b, 32);
	return r;
}

size_t
ratchet_skipped_count(const struct ratchet *r)
{
	return r->st->nskipped;
}

/* HENCRYPT: nonce || XChaCha20-Poly1305(hk, header, ad). */
static void
header_seal(const uint8_t hk[32], const uint8_t *ad, size_t adlen,
	    const uint8_t plain[RATCHET_HEADER_LEN],
	    uint8_t out[RATCHET_ENC_HEADER_LEN])
{
	rand_bytes(out, RATCHET_HNONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    out + RATCHET_HNONCE_LEN, NULL, plain, RATCHET_HEADER_LEN, ad,
	    adlen, NULL, out, hk);
}

/* HDECRYPT: 0 and the plain header, or -1. */
static int
header_open(const uint8_t hk[32], const uint8_t *ad, size_t adlen,
	    const uint8_t in[RATCHET_ENC_HEADER_LEN],
	    uint8_t plain[RATCHET_HEADER_LEN])
{
	return crypto_aead_xchacha20poly1305_ietf_decrypt(
	    plain, NULL, NULL, in + RATCHET_HNONCE_LEN,
	    RATCHET_ENC_HEADER_LEN - RATCHET_HNONCE_LEN, ad, adlen, in, hk);
}

/* The body's associated data: AD || encrypted header. */
static size_t
body_ad(uint8_t out[RATCHET_MAX_AD + RATCHET_ENC_HEADER_LEN], const uint8_t *ad,
	size_t adlen, const uint8_t hdr[RATCHET_ENC_HEADER_LEN])
{
	if (adlen > 0)
		memcpy(out, ad, adlen);
	memcpy(out + adlen, hdr, RATCHET_ENC_HEADER_LEN);
	return adlen + RATCHET_ENC_HEADER_LEN;
}

enum ratchet_err
ratchet_encrypt(struct ratchet *r, const uint8_t *ad, size_t adlen,
		const uint8_t *pt, size_t plen,
		uint8_t hdr[static RATCHET_ENC_HEADER_LEN], uint8_t *body,
		size_t cap, size_t *blen)
{
	struct ratchet_state *s = r->st;
	uint8_t mk[32], plain[RATCHET_HEADER_LEN];
	uint8_t bad[RATCHET_MAX_AD + RATCHET_ENC_HEADER_LEN];
	static const uint8_t zero_nonce[12];
	size_t badlen;

	*blen = 0;
	if (adlen > RATCHET_MAX_AD || plen > RATCHET_MAX_PLAINTEXT ||
	    cap < plen + RATCHET_TAG_LEN || (plen > 0 && pt == NULL))
		return RATCHET_ERR_ARG;
	if (!(s->flags & RATCHET_HAS_SEND))
		return RATCHET_ERR_NOT_READY;
	if (s->ns == UINT32_MAX)
		return RATCHET_ERR_EXHAUSTED;
	ratchet_kdf_ck(s->cks, s->cks, mk);
	memcpy(plain, s->dhs_pub, 32);
	be32_put(plain + 32, s->pn);
	be32_put(plain + 36, s->ns);
	header_seal(s->hks, ad, adlen, plain, hdr);
	s->ns++;
	badlen = body_ad(bad, ad, adlen, hdr);
	crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, pt, plen, bad,
						  badlen, NULL, zero_nonce, mk);
	*blen = plen + RATCHET_TAG_LEN;
	secret_wipe(mk, sizeof(mk));
	return RATCHET_OK;
}

/* Keep mk for (hk, n), evicting the oldest key when full. */
static void
skipped_add(struct ratchet_state *s, const uint8_t hk[32], uint32_t n,
	    const uint8_t mk[32])
{
	struct ratchet_skipped *e;

	if (s->nskipped == RATCHET_MAX_SKIPPED) {
		memmove(&s->skipped[0], &s->skipped[1],
			(RATCHET_MAX_SKIPPED - 1) * sizeof(s->skipped[0]));
		s->nskipped--;
	}
	e = &s->skipped[s->nskipped++];
	memcpy(e->hk, hk, 32);
	e->n = n;
	memcpy(e->mk, mk, 32);
}

static void
skipped_remove(struct ratchet_state *s, size_t i)
{
	memmove(&s->skipped[i], &s->skipped[i + 1],
		(s->nskipped - i - 1) * sizeof(s->skipped[0]));
	s->nskipped--;
	secret_wipe(&s->skipped[s->nskipped], sizeof(s->skipped[0]));
}

/* SkipMessageKeysHE(until): store the keys of the receiving chain. */
static enum ratchet_err
skip_keys(struct ratchet_state *s, uint32_t until)
{
	uint8_t mk[32];

	if ((uint64_t)s->nr + RATCHET_MAX_SKIP < until)
		return RATCHET_ERR_SKIP;
	if (!(s->flags & RATCHET_HAS_RECV))
		return RATCHET_OK;
	while (s->nr < until) {
		ratchet_kdf_ck(s->ckr, s->ckr, mk);
		skipped_add(s, s->hkr, s->nr, mk);
		s->nr++;
	}
	secret_wipe(mk, sizeof(mk));
	return RATCHET_OK;
}

/* DHRatchetHE: a new receiving chain for dh_pub, then a new sending one. */
static enum ratchet_err
dh_ratchet(struct ratchet_state *s, const uint8_t dh_pub[32])
{
	uint8_t dh[32];
	enum ratchet_err e = RATCHET_ERR_DH;

	s->pn = s->ns;
	s->ns = 0;
	s->nr = 0;
	memcpy(s->hks, s->nhks, 32);
	memcpy(s->hkr, s->nhkr, 32);
	memcpy(s->dhr, dh_pub, 32);
	if (x25519(dh, s->dhs_priv, s->dhr) != 0)
		goto done;
	kdf_rk(s, dh, s->ckr, s->nhkr);
	x25519_keypair(s->dhs_pub, s->dhs_priv);
	if (x25519(dh, s->dhs_priv, s->dhr) != 0)
		goto done;
	kdf_rk(s, dh, s->cks, s->nhks);
	s->flags |= RATCHET_HAS_DHR | RATCHET_HAS_SEND | RATCHET_HAS_RECV;
	e = RATCHET_OK;
done:
	secret_wipe(dh, sizeof(dh));
	return e;
}

/*
 * TrySkippedMessageKeysHE: 1 and the message key (entry removed) if a
 * stored key matches, 0 if none does. Consecutive entries usually share a
 * header key, so a key that failed once is not tried again right away.
 */
static int
try_skipped(struct ratchet_state *s, const uint8_t *ad, size_t adlen,
	    const uint8_t hdr[RATCHET_ENC_HEADER_LEN], uint8_t mk[32])
{
	uint8_t plain[RATCHET_HEADER_LEN];
	const uint8_t *last = NULL;
	int last_ok = 0, found = 0;
	uint32_t n = 0;

	for (size_t i = 0; i < s->nskipped; i++) {
		struct ratchet_skipped *e = &s->skipped[i];

		if (last == NULL || !secret_eq(last, e->hk, 32)) {
			last = e->hk;
			last_ok =
			    header_open(e->hk, ad, adlen, hdr, plain) == 0;
			if (last_ok)
				n = be32_get(plain + 36);
		}
		if (last_ok && n == e->n) {
			memcpy(mk, e->mk, 32);
			skipped_remove(s, i);
			found = 1;
			break;
		}
	}
	secret_wipe(plain, sizeof(plain));
	return found;
}

/*
 * The state changes of RatchetDecryptHE on s, up to the message key: 0 or
 * an error. The caller decrypts the body and commits.
 */
static enum ratchet_err
decrypt_step(struct ratchet_state *s, const uint8_t *ad, size_t adlen,
	     const uint8_t hdr[RATCHET_ENC_HEADER_LEN], uint8_t mk[32])
{
	uint8_t plain[RATCHET_HEADER_LEN];
	enum ratchet_err e = RATCHET_OK;
	uint32_t pn, n = 0;

	if (try_skipped(s, ad, adlen, hdr, mk))
		return RATCHET_OK;
	if ((s->flags & RATCHET_HAS_RECV) &&
	    header_open(s->hkr, ad, adlen, hdr, plain) == 0) {
		n = be32_get(plain + 36);
		/* one sending chain, one ratchet key: anything else is forged
		 */
		if (!secret_eq(plain, s->dhr, 32))
			e = RATCHET_ERR_HEADER;
		else if (n < s->nr)
			e = RATCHET_ERR_OLD;
	} else if (header_open(s->nhkr, ad, adlen, hdr, plain) == 0) {
		pn = be32_get(plain + 32);
		n = be32_get(plain + 36);
		e = skip_keys(s, pn);
		if (e == RATCHET_OK)
			e = dh_ratchet(s, plain);
	} else {
		e = RATCHET_ERR_HEADER;
	}
	if (e == RATCHET_OK)
		e = skip_keys(s, n);
	if (e == RATCHET_OK) {
		ratchet_kdf_ck(s->ckr, s->ckr, mk);
		s->nr++;
	}
	secret_wipe(plain, sizeof(plain));
	return e;
}

enum ratchet_err
ratchet_decrypt(struct ratchet *r, const uint8_t *ad, size_t adlen,
		const uint8_t hdr[static RATCHET_ENC_HEADER_LEN],
		const uint8_t *body, size_t blen, uint8_t *pt, size_t cap,
		size_t *plen)
{
	uint8_t mk[32], bad[RATCHET_MAX_AD + RATCHET_ENC_HEADER_LEN];
	static const uint8_t zero_nonce[12];
	struct ratchet_state *t;
	enum ratchet_err e;
	size_t badlen;

	*plen = 0;
	if (adlen > RATCHET_MAX_AD || blen < RATCHET_TAG_LEN ||
	    blen - RATCHET_TAG_LEN > RATCHET_MAX_PLAINTEXT ||
	    cap < blen - RATCHET_TAG_LEN)
		return RATCHET_ERR_ARG;
	memcpy(r->tmp, r->st, sizeof(*r->tmp));
	e = decrypt_step(r->tmp, ad, adlen, hdr, mk);
	if (e != RATCHET_OK)
		goto done;
	badlen = body_ad(bad, ad, adlen, hdr);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(
		pt, NULL, NULL, body, blen, bad, badlen, zero_nonce, mk) != 0) {
		e = RATCHET_ERR_BODY;
		goto done;
	}
	*plen = blen - RATCHET_TAG_LEN;
	/* commit: the scratch copy becomes the state */
	t = r->st;
	r->st = r->tmp;
	r->tmp = t;
done:
	secret_wipe(r->tmp, sizeof(*r->tmp));
	secret_wipe(mk, sizeof(mk));
	if (e != RATCHET_OK && cap > 0)
		secret_wipe(pt, blen - RATCHET_TAG_LEN);
	return e;
}
