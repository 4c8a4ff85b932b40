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
 *
 * A plane is 64 bits: four blocks side by side (block n in bits 16n..16n+15),
 * so the bulk passes of AEZ-core, whose AES calls are independent within a
 * pass, run four blocks for the price of one.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/aez.h"
#include "crypto/aez_impl.h"
#include "crypto/secret.h"

typedef uint64_t plane_t;

#define NBLK 4 /* blocks per bitsliced state */

/* The 16-bit pattern x in every block's lane. */
#define LANES(x) ((plane_t)(x)*0x0001000100010001ull)

#define PLANE_MASK LANES(0xffff)

/* Bit 8q of x (q = 0..7) to bit q: three shift-and-mask steps. */
static uint64_t
bits_gather(uint64_t x)
{
	x = (x | (x >> 7)) & 0x0003000300030003ull;
	x = (x | (x >> 14)) & 0x0000000f0000000full;
	return (x | (x >> 28)) & 0xffu;
}

/* The inverse: bit q of x (q = 0..7) to bit 8q. */
static uint64_t
bits_spread(uint64_t x)
{
	x = (x | (x << 28)) & 0x0000000f0000000full;
	x = (x | (x << 14)) & 0x0003000300030003ull;
	return (x | (x << 7)) & 0x0101010101010101ull;
}

/* Eight bytes as a 64-bit value, byte q in bits 8q..8q+7. */
static uint64_t
bytes_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int q = 0; q < 8; q++)
		v |= (uint64_t)p[q] << (8 * q);
	return v;
}

/* Bitslice n <= NBLK blocks (the other lanes are zero). */
static void
bs_load(plane_t p[8], uint8_t *const blk[], int n)
{
	for (int b = 0; b < 8; b++)
		p[b] = 0;
	for (int x = 0; x < n; x++)
		for (int h = 0; h < 2; h++) {
			uint64_t v = bytes_get(blk[x] + 8 * h);

			for (int b = 0; b < 8; b++)
				p[b] |= bits_gather((v >> b) &
						    0x0101010101010101ull)
					<< (16 * x + 8 * h);
		}
}

static void
bs_store(uint8_t *const blk[], const plane_t p[8], int n)
{
	for (int x = 0; x < n; x++)
		for (int h = 0; h < 2; h++) {
			uint64_t v = 0;

			for (int b = 0; b < 8; b++)
				v |= bits_spread((p[b] >> (16 * x + 8 * h)) &
						 0xffu)
				     << b;
			for (int q = 0; q < 8; q++)
				blk[x][8 * h + q] = (uint8_t)(v >> (8 * q));
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

/* Rotate every 16-bit lane right by s (0 < s < 16). */
static plane_t
rotr16(plane_t v, unsigned s)
{
	return ((v >> s) & LANES(0xffffu >> s)) |
	       ((v << (16 - s)) & LANES((0xffffu << (16 - s)) & 0xffffu));
}

/* Row r (bits r, r+4, r+8, r+12) rotates left by r columns. */
static void
bs_shiftrows(plane_t p[8])
{
	for (int b = 0; b < 8; b++) {
		plane_t v = p[b];

		p[b] = (v & LANES(0x1111)) | (rotr16(v, 4) & LANES(0x2222)) |
		       (rotr16(v, 8) & LANES(0x4444)) |
		       (rotr16(v, 12) & LANES(0x8888));
	}
}

/* Within each column (a nibble of the plane), row r takes row r+n. */
static plane_t
col_rot1(plane_t v)
{
	return ((v >> 1) & LANES(0x7777)) | ((v << 3) & LANES(0x8888));
}

static plane_t
col_rot2(plane_t v)
{
	return ((v >> 2) & LANES(0x3333)) | ((v << 2) & LANES(0xcccc));
}

static plane_t
col_rot3(plane_t v)
{
	return ((v >> 3) & LANES(0x1111)) | ((v << 1) & LANES(0xeeee));
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

/* The key blocks bitsliced, the same in every lane. */
static void
bs_keys_load(struct bs_keys *bk, const struct aez_key *k)
{
	uint8_t tmp[3][16];
	uint8_t *const blk[3] = {tmp[0], tmp[1], tmp[2]};

	memcpy(tmp[0], k->i, 16);
	memcpy(tmp[1], k->j, 16);
	memcpy(tmp[2], k->l, 16);
	bs_load(bk->i, blk, 1);
	bs_load(bk->j, blk + 1, 1);
	bs_load(bk->l, blk + 2, 1);
	for (int b = 0; b < 8; b++) {
		bk->i[b] = LANES(bk->i[b]);
		bk->j[b] = LANES(bk->j[b]);
		bk->l[b] = LANES(bk->l[b]);
	}
	secret_wipe(tmp, sizeof(tmp));
}

/* AES4 in place on n <= NBLK blocks at once. */
static void
bs_aes4(const struct bs_keys *bk, uint8_t *const blk[], int n)
{
	plane_t p[8];

	bs_load(p, blk, n);
	bs_round(p, bk->j);
	bs_round(p, bk->i);
	bs_round(p, bk->l);
	bs_round(p, NULL);
	bs_store(blk, p, n);
	secret_wipe(p, sizeof(p));
}

static void
soft_aes4(const struct aez_key *k, const uint8_t in[16], uint8_t out[16])
{
	struct bs_keys bk;
	uint8_t *const blk[1] = {out};

	bs_keys_load(&bk, k);
	memmove(out, in, 16);
	bs_aes4(&bk, blk, 1);
	secret_wipe(&bk, sizeof(bk));
}

static void
soft_aes10(const struct aez_key *k, const uint8_t in[16], uint8_t out[16])
{
	struct bs_keys bk;
	uint8_t *const blk[1] = {out};
	plane_t p[8];

	bs_keys_load(&bk, k);
	memmove(out, in, 16);
	bs_load(p, blk, 1);
	for (int r = 0; r < 3; r++) {
		bs_round(p, bk.i);
		bs_round(p, bk.j);
		bs_round(p, bk.l);
	}
	bs_round(p, bk.i);
	bs_store(blk, p, 1);
	secret_wipe(&bk, sizeof(bk));
	secret_wipe(p, sizeof(p));
}

/*
 * The offsets of E(j,i) for tweaks i, i+1, ... i+n-1 without the J part:
 * 2^ceil(i/8) I ^ (i mod 8) L. ipow holds 2^ceil(i/8) I and is doubled
 * when i moves into the next group of eight.
 */
static void
soft_offsets(const struct aez_key *k, size_t i, int n, uint8_t ipow[16],
	     uint8_t off[][16])
{
	for (int x = 0; x < n; x++, i++) {
		if (i > 8 && i % 8 == 1)
			aez_blk_dbl(ipow, ipow);
		aez_blk_xor(off[x], ipow, k->lm[i % 8]);
	}
}

/* State of a bulk pass: up to NBLK pairs at a time. */
struct soft_pass {
	struct bs_keys bk;
	uint8_t ipow[16];
	uint8_t off[NBLK][16];
	uint8_t t[NBLK][16];
};

static void
soft_pass_init(struct soft_pass *ps, const struct aez_key *k)
{
	bs_keys_load(&ps->bk, k);
	memcpy(ps->ipow, k->i2, 16);
}

static void
soft_pass1(const struct aez_key *k, uint8_t *buf, size_t npairs,
	   uint8_t sum[16])
{
	struct soft_pass ps;
	uint8_t *const t[NBLK] = {ps.t[0], ps.t[1], ps.t[2], ps.t[3]};

	soft_pass_init(&ps, k);
	for (size_t i = 1; i <= npairs; i += NBLK, buf += 32 * NBLK) {
		int n = npairs - i + 1 < NBLK ? (int)(npairs - i + 1) : NBLK;

		soft_offsets(k, i, n, ps.ipow, ps.off);
		for (int x = 0; x < n; x++) {
			aez_blk_xor(t[x], ps.off[x], k->j);
			aez_blk_xor(t[x], t[x], buf + 32 * x + 16);
		}
		bs_aes4(&ps.bk, t, n); /* E(1,i)(X'_i) */
		for (int x = 0; x < n; x++) {
			aez_blk_xor(buf + 32 * x, buf + 32 * x, t[x]); /* W */
			aez_blk_xor(t[x], buf + 32 * x, k->i);
		}
		bs_aes4(&ps.bk, t, n); /* E(0,0)(W_i) */
		for (int x = 0; x < n; x++) {
			uint8_t *xh = buf + 32 * x + 16;

			aez_blk_xor(xh, xh, t[x]); /* X^ */
			aez_blk_xor(sum, sum, xh);
		}
	}
	secret_wipe(&ps, sizeof(ps));
}

static void
soft_pass2(const struct aez_key *k, uint8_t *buf, size_t npairs,
	   const uint8_t s[16], uint8_t sum[16])
{
	struct soft_pass ps;
	uint8_t *const t[NBLK] = {ps.t[0], ps.t[1], ps.t[2], ps.t[3]};

	soft_pass_init(&ps, k);
	for (size_t i = 1; i <= npairs; i += NBLK, buf += 32 * NBLK) {
		int n = npairs - i + 1 < NBLK ? (int)(npairs - i + 1) : NBLK;

		soft_offsets(k, i, n, ps.ipow, ps.off);
		for (int x = 0; x < n; x++) {
			aez_blk_xor(t[x], ps.off[x], k->j2);
			aez_blk_xor(t[x], t[x], s);
		}
		bs_aes4(&ps.bk, t, n); /* S' = E(2,i)(S) */
		for (int x = 0; x < n; x++) {
			uint8_t *y = buf + 32 * x, *yp = y + 16;

			aez_blk_xor(y, y, t[x]);   /* Y */
			aez_blk_xor(yp, yp, t[x]); /* Y' */
			aez_blk_xor(sum, sum, y);
			aez_blk_xor(t[x], yp, k->i);
		}
		bs_aes4(&ps.bk, t, n); /* E(0,0)(Y') */
		for (int x = 0; x < n; x++) {
			uint8_t *y = buf + 32 * x;

			aez_blk_xor(y, y, t[x]); /* C' = Y ^ E(0,0)(Y') */
			aez_blk_xor(t[x], y, ps.off[x]);
			aez_blk_xor(t[x], t[x], k->j);
		}
		bs_aes4(&ps.bk, t, n); /* E(1,i)(C') */
		for (int x = 0; x < n; x++) {
			uint8_t *c = buf + 32 * x, *cp = c + 16;

			/* (C', Y') -> (C = Y' ^ E(1,i)(C'), C') */
			aez_blk_xor(t[x], t[x], cp);
			memcpy(cp, c, 16);
			memcpy(c, t[x], 16);
		}
	}
	secret_wipe(&ps, sizeof(ps));
}

const struct aez_ops aez_ops_portable = {
    .aes4 = soft_aes4,
    .aes10 = soft_aes10,
    .pass1 = soft_pass1,
    .pass2 = soft_pass2,
};
