/*
 * AEZ v5, the mode: Extract, AEZ-hash, AEZ-prf, AEZ-tiny, AEZ-core and the
 * Encrypt/Decrypt wrappers, written once over the AES pieces of an
 * implementation (aez_impl.h). Sizes are bytes throughout; the spec counts
 * bits, so [tau]_128 below is 8 * tau.
 *
 * The tweakable blockcipher E(j,i) is AES4 of X ^ jJ ^ 2^ceil(i/8) I ^
 * (i mod 8) L for j >= 0, and AES10 of X ^ iL for j = -1.
 *
 * Lengths are public; nothing branches on or indexes memory by secret data.
 */
#include "crypto/aez.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"

#include "crypto/aez_impl.h"
#include "crypto/hash.h"
#include "crypto/secret.h"

/* 0 = auto, else the enum value forced by aez_set_impl. */
static int aez_forced = AEZ_IMPL_AUTO;

int
aez_set_impl(enum aez_impl impl)
{
	switch (impl) {
	case AEZ_IMPL_AESNI:
		if (!aez_have_aesni())
			return -1;
		break;
	case AEZ_IMPL_AUTO:
	case AEZ_IMPL_PORTABLE:
		break;
	default:
		return -1;
	}
	__atomic_store_n(&aez_forced, (int)impl, __ATOMIC_RELAXED);
	return 0;
}

enum aez_impl
aez_get_impl(void)
{
	int f = __atomic_load_n(&aez_forced, __ATOMIC_RELAXED);

	if (f == AEZ_IMPL_PORTABLE)
		return AEZ_IMPL_PORTABLE;
	return aez_have_aesni() ? AEZ_IMPL_AESNI : AEZ_IMPL_PORTABLE;
}

void
aez_extract(uint8_t out[static AEZ_KEY_LEN], const uint8_t *key, size_t keylen)
{
	if (keylen == AEZ_KEY_LEN) {
		memmove(out, key, AEZ_KEY_LEN);
		return;
	}
	/*
	 * BLAKE2b with a 48-byte digest (not a truncated 64-byte one). It
	 * cannot fail with these lengths; zeros rather than stack garbage if
	 * it ever did.
	 */
	if (blake2b(out, AEZ_KEY_LEN, keylen ? key : out, keylen, NULL, 0))
		memset(out, 0, AEZ_KEY_LEN);
}

void
aez_setup(struct aez_key *k, const uint8_t *key, size_t keylen)
{
	uint8_t ex[AEZ_KEY_LEN];

	aez_extract(ex, key, keylen);
	memcpy(k->i, ex, 16);
	memcpy(k->j, ex + 16, 16);
	memcpy(k->l, ex + 32, 16);
	secret_wipe(ex, sizeof(ex));
	aez_blk_dbl(k->i2, k->i);
	aez_blk_dbl(k->j2, k->j);
	memset(k->lm[0], 0, 16);
	memcpy(k->lm[1], k->l, 16);
	for (int m = 2; m < 8; m += 2) {
		aez_blk_dbl(k->lm[m], k->lm[m / 2]);
		aez_blk_xor(k->lm[m + 1], k->lm[m], k->l);
	}
	k->ops = aez_get_impl() == AEZ_IMPL_AESNI ? &aez_ops_aesni
						  : &aez_ops_portable;
}

void
aez_key_wipe(struct aez_key *k)
{
	secret_wipe(k, sizeof(*k));
}

/* r = j * b in GF(2^128) by double-and-add over the (public) bits of j. */
static void
blk_mul(uint8_t r[16], size_t j, const uint8_t b[16])
{
	uint8_t p[16];

	memset(r, 0, 16);
	memcpy(p, b, 16);
	for (; j; j >>= 1) {
		if (j & 1)
			aez_blk_xor(r, r, p);
		aez_blk_dbl(p, p);
	}
	secret_wipe(p, sizeof(p));
}

/*
 * E(j,i) for the small i the mode uses outside the bulk loops (i <= 8 here;
 * AEZ-hash keeps its own running offsets).
 */
static void
aez_e(const struct aez_key *k, int j, unsigned i, const uint8_t in[16],
      uint8_t out[16])
{
	uint8_t x[16];

	if (j < 0) {
		aez_blk_xor(x, in, k->lm[i & 7]);
		k->ops->aes10(k, x, out);
	} else {
		if (j == 0)
			memset(x, 0, 16);
		else if (j <= 2)
			memcpy(x, j == 1 ? k->j : k->j2, 16);
		else
			blk_mul(x, (size_t)j, k->j);
		aez_blk_xor(x, x, i == 0 ? k->i : k->i2);
		aez_blk_xor(x, x, k->lm[i & 7]);
		aez_blk_xor(x, x, in);
		k->ops->aes4(k, x, out);
	}
	secret_wipe(x, sizeof(x));
}

/* The last, partial block of a string: its bytes, then 10*. */
static void
blk_pad(uint8_t r[16], const uint8_t *p, size_t n)
{
	memset(r, 0, 16);
	if (n)
		memcpy(r, p, n);
	r[n] = 0x80;
}

/* XOR into acc the hash of one tweak string, the j-th counting from 3. */
static void
hash_string(const struct aez_key *k, size_t j, const uint8_t *p, size_t len,
	    uint8_t acc[16])
{
	uint8_t jj[16], ipow[16], x[16];
	size_t nfull = len / 16, rem = len % 16;

	blk_mul(jj, j, k->j);
	memcpy(ipow, k->i2, 16);
	for (size_t i = 1; i <= nfull; i++, p += 16) {
		if (i > 8 && i % 8 == 1)
			aez_blk_dbl(ipow, ipow);
		aez_blk_xor(x, jj, ipow);
		aez_blk_xor(x, x, k->lm[i % 8]);
		aez_blk_xor(x, x, p);
		k->ops->aes4(k, x, x);
		aez_blk_xor(acc, acc, x);
	}
	if (rem || len == 0) { /* E(j,0) of the padded last block */
		blk_pad(x, p, rem);
		aez_blk_xor(x, x, jj);
		aez_blk_xor(x, x, k->i);
		k->ops->aes4(k, x, x);
		aez_blk_xor(acc, acc, x);
	}
	secret_wipe(jj, sizeof(jj));
	secret_wipe(ipow, sizeof(ipow));
	secret_wipe(x, sizeof(x));
}

void
aez_hash(const struct aez_key *k, const struct aez_data *t, size_t nt,
	 uint8_t out[static AEZ_BLOCK_LEN])
{
	memset(out, 0, AEZ_BLOCK_LEN);
	for (size_t q = 0; q < nt; q++)
		hash_string(k, q + 3, t[q].data, t[q].len, out);
}

/* The hash of AEZ's own tweak ([8 tau]_128, nonce, ad...). */
static void
hash_tweak(const struct aez_key *k, unsigned tau, const uint8_t *nonce,
	   size_t noncelen, const struct aez_data *ad, size_t nad,
	   uint8_t delta[16])
{
	uint8_t tb[16] = {0};

	be64_put(tb + 8, (uint64_t)tau * 8);
	memset(delta, 0, 16);
	hash_string(k, 3, tb, sizeof(tb), delta);
	hash_string(k, 4, nonce, noncelen, delta);
	for (size_t q = 0; q < nad; q++)
		hash_string(k, q + 5, ad[q].data, ad[q].len, delta);
}

/* Block i of the AEZ-prf stream: E(-1,3)(delta ^ [i]_128). */
static void
aez_prf_at(const struct aez_key *k, const uint8_t delta[16], uint64_t i,
	   uint8_t out[16])
{
	uint8_t ctr[16] = {0};

	be64_put(ctr + 8, i);
	aez_blk_xor(out, delta, ctr);
	aez_e(k, -1, 3, out, out);
}

void
aez_prf(const struct aez_key *k, const uint8_t delta[static AEZ_BLOCK_LEN],
	uint8_t *out, size_t outlen)
{
	uint8_t x[16];
	size_t n;

	for (uint64_t i = 0; outlen; i++, out += n, outlen -= n) {
		aez_prf_at(k, delta, i, x);
		n = outlen < 16 ? outlen : 16;
		memcpy(out, x, n);
	}
	secret_wipe(x, sizeof(x));
}

/*
 * AEZ-tiny splits its input into halves of 4 * len bits each, so with an
 * odd length the halves meet inside a byte: work on nibbles.
 */
static void
nib_pack(uint8_t *out, const uint8_t *nib, size_t n)
{
	for (size_t q = 0; q < n; q++)
		out[q / 2] |= (uint8_t)(nib[q] << (q % 2 ? 0 : 4));
}

/*
 * For inputs under 16 bytes AEZ-tiny also flips the first bit by a function
 * of the rest (the first bit forced to 1): its own inverse.
 */
static void
tiny_fix(const struct aez_key *k, const uint8_t delta[16], uint8_t *buf,
	 size_t len)
{
	uint8_t x[16] = {0};

	memcpy(x, buf, len);
	x[0] |= 0x80;
	aez_blk_xor(x, x, delta);
	aez_e(k, 0, 3, x, x);
	buf[0] ^= x[0] & 0x80;
	secret_wipe(x, sizeof(x));
}

/* AEZ-tiny on 1..31 bytes in place: a Feistel network of E(0,6|7). */
static void
aez_tiny(const struct aez_key *k, const uint8_t delta[16], uint8_t *buf,
	 size_t len, bool dec)
{
	uint8_t nib[2][32], *l = nib[0], *r = nib[1], *t, x[16], cat[64];
	unsigned rounds = len == 1 ? 24 : len == 2 ? 16 : len < 16 ? 10 : 8;
	int j = len >= 16 ? 6 : 7;

	if (dec && len < 16)
		tiny_fix(k, delta, buf, len);
	for (size_t q = 0; q < 2 * len; q++)
		nib[q / len][q % len] =
		    (uint8_t)(q % 2 ? buf[q / 2] & 15 : buf[q / 2] >> 4);
	for (unsigned n = 0; n < rounds; n++) {
		unsigned i = dec ? rounds - 1 - n : n;

		memset(x, 0, 16);
		nib_pack(x, r, len);
		x[len / 2] |= (uint8_t)(len % 2 ? 0x08 : 0x80); /* 10* */
		aez_blk_xor(x, x, delta);
		x[15] ^= (uint8_t)i;
		aez_e(k, 0, (unsigned)j, x, x);
		for (size_t q = 0; q < len; q++)
			l[q] ^=
			    (uint8_t)(q % 2 ? x[q / 2] & 15 : x[q / 2] >> 4);
		t = l;
		l = r;
		r = t;
	}
	/* out = R || L */
	memcpy(cat, r, len);
	memcpy(cat + len, l, len);
	memset(buf, 0, len);
	nib_pack(buf, cat, 2 * len);
	if (!dec && len < 16)
		tiny_fix(k, delta, buf, len);
	secret_wipe(nib, sizeof(nib));
	secret_wipe(cat, sizeof(cat));
	secret_wipe(x, sizeof(x));
}

/*
 * XOR into sum the contribution of the d < 32 bytes between the pairs and
 * the last two blocks: E(0,4)(u 10*) for d < 16, else
 * E(0,4)(u) ^ E(0,5)(v 10*).
 */
static void
core_mix_uv(const struct aez_key *k, const uint8_t *uv, size_t d,
	    uint8_t sum[16])
{
	uint8_t x[16];

	if (d == 0)
		return;
	if (d < 16) {
		blk_pad(x, uv, d);
		aez_e(k, 0, 4, x, x);
	} else {
		uint8_t y[16];

		aez_e(k, 0, 4, uv, x);
		blk_pad(y, uv + 16, d - 16);
		aez_e(k, 0, 5, y, y);
		aez_blk_xor(x, x, y);
		secret_wipe(y, sizeof(y));
	}
	aez_blk_xor(sum, sum, x);
	secret_wipe(x, sizeof(x));
}

/* uv ^= E(-1,4)(s) for its first 16 bytes, E(-1,5)(s) for the rest. */
static void
core_crypt_uv(const struct aez_key *k, uint8_t *uv, size_t d,
	      const uint8_t s[16])
{
	uint8_t x[16];

	for (unsigned part = 0; part < 2 && d > 16 * part; part++) {
		size_t n = d - 16 * part < 16 ? d - 16 * part : 16;

		aez_e(k, -1, 4 + part, s, x);
		for (size_t q = 0; q < n; q++)
			uv[16 * part + q] ^= x[q];
	}
	secret_wipe(x, sizeof(x));
}

/*
 * AEZ-core on len >= 32 bytes in place. Deciphering is the same network
 * with E(0,1)/E(0,2) and E(-1,1)/E(-1,2) swapped.
 */
static void
aez_core(const struct aez_key *k, const uint8_t delta[16], uint8_t *buf,
	 size_t len, bool dec)
{
	size_t m = (len - 32) / 32, d = (len - 32) % 32;
	uint8_t *uv = buf + 32 * m, *xx = buf + len - 32, *xy = buf + len - 16;
	uint8_t sum[16] = {0}, sx[16], sy[16], s[16], t[16];
	unsigned a = dec ? 2 : 1, b = dec ? 1 : 2;

	k->ops->pass1(k, buf, m, sum);
	core_mix_uv(k, uv, d, sum);
	aez_e(k, 0, a, xy, t);
	aez_blk_xor(sx, xx, delta);
	aez_blk_xor(sx, sx, sum);
	aez_blk_xor(sx, sx, t);
	aez_e(k, -1, a, sx, t);
	aez_blk_xor(sy, xy, t);
	aez_blk_xor(s, sx, sy);

	memset(sum, 0, sizeof(sum));
	k->ops->pass2(k, buf, m, s, sum);
	core_crypt_uv(k, uv, d, s);
	core_mix_uv(k, uv, d, sum);
	aez_e(k, -1, b, sy, t);
	aez_blk_xor(xy, sx, t); /* C_y */
	aez_e(k, 0, b, xy, t);
	aez_blk_xor(xx, sy, delta);
	aez_blk_xor(xx, xx, sum);
	aez_blk_xor(xx, xx, t); /* C_x */

	secret_wipe(sum, sizeof(sum));
	secret_wipe(sx, sizeof(sx));
	secret_wipe(sy, sizeof(sy));
	secret_wipe(s, sizeof(s));
	secret_wipe(t, sizeof(t));
}

static void
aez_encipher(const struct aez_key *k, const uint8_t delta[16], uint8_t *buf,
	     size_t len, bool dec)
{
	if (len >= 32)
		aez_core(k, delta, buf, len, dec);
	else if (len > 0)
		aez_tiny(k, delta, buf, len, dec);
}

static bool
args_ok(const uint8_t *nonce, size_t noncelen, const struct aez_data *ad,
	size_t nad, const uint8_t *in, size_t inlen, const uint8_t *out,
	size_t outlen)
{
	if ((noncelen && !nonce) || (nad && !ad) || (inlen && !in) ||
	    (outlen && !out))
		return false;
	for (size_t q = 0; q < nad; q++)
		if (ad[q].len && !ad[q].data)
			return false;
	return true;
}

int
aez_encrypt(const struct aez_key *k, const uint8_t *nonce, size_t noncelen,
	    const struct aez_data *ad, size_t nad, unsigned tau,
	    const uint8_t *in, size_t inlen, uint8_t *out)
{
	uint8_t delta[16];

	if (inlen > SIZE_MAX - tau ||
	    !args_ok(nonce, noncelen, ad, nad, in, inlen, out, inlen + tau))
		return -1;
	hash_tweak(k, tau, nonce, noncelen, ad, nad, delta);
	if (inlen == 0) {
		aez_prf(k, delta, out, tau);
	} else {
		if (out != in)
			memmove(out, in, inlen);
		memset(out + inlen, 0, tau);
		aez_encipher(k, delta, out, inlen + tau, false);
	}
	secret_wipe(delta, sizeof(delta));
	return 0;
}

/* With tau > 0 and a separate output, X = M || Z needs room for Z too. */
static int
decrypt_checked(const struct aez_key *k, const uint8_t delta[16], unsigned tau,
		const uint8_t *in, size_t inlen, uint8_t *out)
{
	uint8_t *x = out == in ? out : bc_malloc(inlen);
	size_t mlen = inlen - tau;
	int rc = 0;

	if (x != in)
		memcpy(x, in, inlen);
	aez_encipher(k, delta, x, inlen, true);
	if (!secret_is_zero(x + mlen, tau))
		rc = -1;
	if (x != out) {
		if (rc == 0)
			memmove(out, x, mlen);
		secret_wipe(x, inlen);
		free(x);
	}
	if (rc != 0)
		secret_wipe(out, out == in ? inlen : mlen);
	return rc;
}

int
aez_decrypt(const struct aez_key *k, const uint8_t *nonce, size_t noncelen,
	    const struct aez_data *ad, size_t nad, unsigned tau,
	    const uint8_t *in, size_t inlen, uint8_t *out)
{
	uint8_t delta[16], tag[16];
	int rc = 0, bad = 0;

	if (inlen < tau ||
	    !args_ok(nonce, noncelen, ad, nad, in, inlen, out, inlen - tau))
		return -1;
	hash_tweak(k, tau, nonce, noncelen, ad, nad, delta);
	if (inlen == tau) {
		/* the empty message: the tag is the PRF output itself */
		for (size_t off = 0, n; off < tau; off += n) {
			n = tau - off < 16 ? tau - off : 16;
			aez_prf_at(k, delta, off / 16, tag);
			bad |= !secret_eq(tag, in + off, n);
		}
		rc = -bad;
	} else if (tau == 0) {
		if (out != in)
			memmove(out, in, inlen);
		aez_encipher(k, delta, out, inlen, true);
	} else {
		rc = decrypt_checked(k, delta, tau, in, inlen, out);
	}
	secret_wipe(delta, sizeof(delta));
	secret_wipe(tag, sizeof(tag));
	return rc;
}
