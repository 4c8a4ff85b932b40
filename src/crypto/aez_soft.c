/*
 * The portable AEZ implementation: AES rounds computed in constant time.
 *
 * Table-driven AES leaks its S-box indices (secret bytes) through the cache,
 * so nothing here indexes memory with secret data or branches on it. The 16
 * state bytes are bitsliced: plane b holds bit b of every byte, byte p of the
 * state at bit p of the plane. SubBytes is then arithmetic on all 16 bytes at
 * once: the inverse in GF(2^8) as x^254 (four multiplications, seven
 * squarings, each a fixed sequence of AND and XOR over the planes) followed by
 * the affine map; ShiftRows and MixColumns are fixed bit moves within the
 * planes. Slow next to AES-NI, but it is only the fallback.
 */
#include <stddef.h>
#include <stdint.h>

#include "crypto/aez.h"
#include "crypto/aez_impl.h"
#include "crypto/secret.h"

typedef uint32_t plane_t; /* the low 16 bits are used */

#define PLANE_MASK 0xffffu

static void
bs_load(plane_t p[8], const uint8_t in[16])
{
	for (int b = 0; b < 8; b++) {
		plane_t v = 0;

		for (int q = 0; q < 16; q++)
			v |= (plane_t)((in[q] >> b) & 1u) << q;
		p[b] = v;
	}
}

static void
bs_store(uint8_t out[16], const plane_t p[8])
{
	for (int q = 0; q < 16; q++) {
		unsigned v = 0;

		for (int b = 0; b < 8; b++)
			v |= ((p[b] >> q) & 1u) << b;
		out[q] = (uint8_t)v;
	}
}

/*
 * Reduce a product of degree <= 14 modulo the AES polynomial
 * x^8 + x^4 + x^3 + x + 1: x^k = x^(k-4) + x^(k-5) + x^(k-7) + x^(k-8),
 * from the top down so that carries into degrees >= 8 are reduced too.
 */
static void
gf_reduce(plane_t r[8], plane_t c[15])
{
	for (int k = 14; k >= 8; k--) {
		c[k - 4] ^= c[k];
		c[k - 5] ^= c[k];
		c[k - 7] ^= c[k];
		c[k - 8] ^= c[k];
	}
	for (int b = 0; b < 8; b++)
		r[b] = c[b];
}

static void
gf_mul(plane_t r[8], const plane_t a[8], const plane_t b[8])
{
	plane_t c[15] = {0};

	for (int x = 0; x < 8; x++)
		for (int y = 0; y < 8; y++)
			c[x + y] ^= a[x] & b[y];
	gf_reduce(r, c);
}

/* Squaring is linear in GF(2^8): bit x moves to degree 2x. */
static void
gf_sqr(plane_t r[8], const plane_t a[8])
{
	plane_t c[15] = {0};

	for (int x = 0; x < 8; x++)
		c[2 * x] = a[x];
	gf_reduce(r, c);
}

/* SubBytes on all 16 bytes: inverse (0 maps to 0), then the affine map. */
static void
bs_subbytes(plane_t p[8])
{
	plane_t x2[8], x3[8], x12[8], x15[8], t[8];

	gf_sqr(x2, p);        /* x^2 */
	gf_mul(x3, x2, p);    /* x^3 */
	gf_sqr(t, x3);        /* x^6 */
	gf_sqr(x12, t);       /* x^12 */
	gf_mul(x15, x12, x3); /* x^15 */
	gf_sqr(t, x15);       /* x^30 */
	gf_sqr(t, t);         /* x^60 */
	gf_sqr(t, t);         /* x^120 */
	gf_sqr(t, t);         /* x^240 */
	gf_mul(t, t, x12);    /* x^252 */
	gf_mul(t, t, x2);     /* x^254 = x^-1 */
	/* s_b = t_b ^ t_(b+4) ^ t_(b+5) ^ t_(b+6) ^ t_(b+7) ^ bit b of 0x63 */
	for (int b = 0; b < 8; b++) {
		plane_t v = t[b] ^ t[(b + 4) & 7] ^ t[(b + 5) & 7] ^
			    t[(b + 6) & 7] ^ t[(b + 7) & 7];

		if ((0x63u >> b) & 1u) /* public constant, not data */
			v ^= PLANE_MASK;
		p[b] = v;
	}
}

static plane_t
rotr16(plane_t v, unsigned s)
{
	return ((v >> s) | (v << (16 - s))) & PLANE_MASK;
}

/* Row r (bits r, r+4, r+8, r+12) rotates left by r columns. */
static void
bs_shiftrows(plane_t p[8])
{
	for (int b = 0; b < 8; b++) {
		plane_t v = p[b];

		p[b] = (v & 0x1111u) | (rotr16(v, 4) & 0x2222u) |
		       (rotr16(v, 8) & 0x4444u) | (rotr16(v, 12) & 0x8888u);
	}
}

/* Within each column (a nibble of the plane), row r takes row r+n. */
static plane_t
col_rot1(plane_t v)
{
	return ((v >> 1) & 0x7777u) | ((v << 3) & 0x8888u);
}

static plane_t
col_rot2(plane_t v)
{
	return ((v >> 2) & 0x3333u) | ((v << 2) & 0xccccu);
}

static plane_t
col_rot3(plane_t v)
{
	return ((v >> 3) & 0x1111u) | ((v << 1) & 0xeeeeu);
}

/*
 * out_r = 2 a_r ^ 3 a_(r+1) ^ a_(r+2) ^ a_(r+3)
 *       = 2 (a_r ^ a_(r+1)) ^ a_(r+1) ^ a_(r+2) ^ a_(r+3).
 */
static void
bs_mixcolumns(plane_t p[8])
{
	plane_t t[8], u[8];

	for (int b = 0; b < 8; b++) {
		plane_t r1 = col_rot1(p[b]);

		t[b] = p[b] ^ r1;
		u[b] = r1 ^ col_rot2(p[b]) ^ col_rot3(p[b]);
	}
	/* times x: bit 7 folds back through x^4 + x^3 + x + 1 */
	p[0] = u[0] ^ t[7];
	p[1] = u[1] ^ t[0] ^ t[7];
	p[2] = u[2] ^ t[1];
	p[3] = u[3] ^ t[2] ^ t[7];
	p[4] = u[4] ^ t[3] ^ t[7];
	p[5] = u[5] ^ t[4];
	p[6] = u[6] ^ t[5];
	p[7] = u[7] ^ t[6];
}

/* One full AES round (as the AESENC instruction): key may be NULL for 0. */
static void
bs_round(plane_t p[8], const plane_t *key)
{
	bs_subbytes(p);
	bs_shiftrows(p);
	bs_mixcolumns(p);
	if (key)
		for (int b = 0; b < 8; b++)
			p[b] ^= key[b];
}

struct bs_keys {
	plane_t i[8], j[8], l[8];
};

static void
bs_keys_load(struct bs_keys *bk, const struct aez_key *k)
{
	bs_load(bk->i, k->i);
	bs_load(bk->j, k->j);
	bs_load(bk->l, k->l);
}

static void
soft_aes4(const struct aez_key *k, const uint8_t in[16], uint8_t out[16])
{
	struct bs_keys bk;
	plane_t p[8];

	bs_keys_load(&bk, k);
	bs_load(p, in);
	bs_round(p, bk.j);
	bs_round(p, bk.i);
	bs_round(p, bk.l);
	bs_round(p, NULL);
	bs_store(out, p);
	secret_wipe(&bk, sizeof(bk));
	secret_wipe(p, sizeof(p));
}

static void
soft_aes10(const struct aez_key *k, const uint8_t in[16], uint8_t out[16])
{
	struct bs_keys bk;
	plane_t p[8];

	bs_keys_load(&bk, k);
	bs_load(p, in);
	for (int r = 0; r < 3; r++) {
		bs_round(p, bk.i);
		bs_round(p, bk.j);
		bs_round(p, bk.l);
	}
	bs_round(p, bk.i);
	bs_store(out, p);
	secret_wipe(&bk, sizeof(bk));
	secret_wipe(p, sizeof(p));
}

/*
 * The offset of E(j,i) for i >= 1 without the J part: 2^ceil(i/8) I ^ (i mod
 * 8) L. ipow holds 2^ceil(i/8) I and is doubled when i moves to the next
 * group of eight.
 */
static void
soft_offset(const struct aez_key *k, size_t i, uint8_t ipow[16],
	    uint8_t off[16])
{
	if (i > 8 && i % 8 == 1)
		aez_blk_dbl(ipow, ipow);
	aez_blk_xor(off, ipow, k->lm[i % 8]);
}

static void
soft_pass1(const struct aez_key *k, uint8_t *buf, size_t npairs,
	   uint8_t sum[16])
{
	uint8_t ipow[16], off[16], t[16];

	for (int q = 0; q < 16; q++)
		ipow[q] = k->i2[q];
	for (size_t i = 1; i <= npairs; i++, buf += 32) {
		soft_offset(k, i, ipow, off);
		aez_blk_xor(t, off, k->j);
		aez_blk_xor(t, t, buf + 16);
		soft_aes4(k, t, t);
		aez_blk_xor(buf, buf, t); /* W */
		aez_blk_xor(t, buf, k->i);
		soft_aes4(k, t, t);
		aez_blk_xor(buf + 16, buf + 16, t); /* X^ */
		aez_blk_xor(sum, sum, buf + 16);
	}
	secret_wipe(ipow, sizeof(ipow));
	secret_wipe(off, sizeof(off));
	secret_wipe(t, sizeof(t));
}

static void
soft_pass2(const struct aez_key *k, uint8_t *buf, size_t npairs,
	   const uint8_t s[16], uint8_t sum[16])
{
	uint8_t ipow[16], off[16], sp[16], t[16];

	for (int q = 0; q < 16; q++)
		ipow[q] = k->i2[q];
	for (size_t i = 1; i <= npairs; i++, buf += 32) {
		soft_offset(k, i, ipow, off);
		aez_blk_xor(sp, off, k->j2);
		aez_blk_xor(sp, sp, s);
		soft_aes4(k, sp, sp);                /* S' = E(2,i)(S) */
		aez_blk_xor(buf, buf, sp);           /* Y */
		aez_blk_xor(buf + 16, buf + 16, sp); /* Y' */
		aez_blk_xor(sum, sum, buf);
		aez_blk_xor(t, buf + 16, k->i);
		soft_aes4(k, t, t);
		aez_blk_xor(t, t, buf); /* C' = Y ^ E(0,0)(Y') */
		for (int q = 0; q < 16; q++)
			buf[q] = t[q];
		aez_blk_xor(t, t, off);
		aez_blk_xor(t, t, k->j);
		soft_aes4(k, t, t);
		aez_blk_xor(t, t, buf + 16); /* C = Y' ^ E(1,i)(C') */
		for (int q = 0; q < 16; q++) {
			buf[16 + q] = buf[q];
			buf[q] = t[q];
		}
	}
	secret_wipe(ipow, sizeof(ipow));
	secret_wipe(off, sizeof(off));
	secret_wipe(sp, sizeof(sp));
	secret_wipe(t, sizeof(t));
}

const struct aez_ops aez_ops_portable = {
    .aes4 = soft_aes4,
    .aes10 = soft_aes10,
    .pass1 = soft_pass1,
    .pass2 = soft_pass2,
};
