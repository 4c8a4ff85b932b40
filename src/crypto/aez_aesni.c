/*
 * The AES-NI AEZ implementation. AEZ keys each AES round with its own
 * round keys (I, J, L and 0; no key schedule), which is exactly what the
 * AESENC instruction computes: one full round, then XOR of a round key.
 * That is why OpenSSL's AES interface, which runs the key schedule, does
 * not fit.
 *
 * Only the functions marked AESNI_FN are compiled for the AES instruction set
 * extension, so the rest of the build stays generic; they run only after
 * aez_have_aesni() has seen the CPU support them.
 *
 * The bulk passes of AEZ-core run eight pairs at a time: the eight AES4
 * chains are independent, so the instruction's latency overlaps.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/aez.h"
#include "crypto/aez_impl.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>

#define AESNI_FN __attribute__((target("aes,sse4.1")))
#define AESNI_INLINE \
	__attribute__((target("aes,sse4.1"), always_inline)) static inline

#define LANES 8

bool
aez_have_aesni(void)
{
	/* cpuid is slow (and traps under a hypervisor): ask once. */
	static int cached = -1;
	unsigned a, b, c, d;
	int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);

	if (v < 0) {
		v = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AES) &&
		    (c & bit_SSE4_1);
		__atomic_store_n(&cached, v, __ATOMIC_RELAXED);
	}
	return v != 0;
}

AESNI_INLINE __m128i
ld(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

AESNI_INLINE void
st(uint8_t *p, __m128i v)
{
	_mm_storeu_si128((__m128i *)(void *)p, v);
}

struct ni_keys {
	__m128i i, j, l, z;
};

AESNI_INLINE void
ni_keys_load(struct ni_keys *nk, const struct aez_key *k)
{
	nk->i = ld(k->i);
	nk->j = ld(k->j);
	nk->l = ld(k->l);
	nk->z = _mm_setzero_si128();
}

AESNI_INLINE __m128i
ni_aes4_1(const struct ni_keys *nk, __m128i x)
{
	x = _mm_aesenc_si128(x, nk->j);
	x = _mm_aesenc_si128(x, nk->i);
	x = _mm_aesenc_si128(x, nk->l);
	return _mm_aesenc_si128(x, nk->z);
}

/* AES4 on LANES independent blocks, round by round so they interleave. */
AESNI_INLINE void
ni_aes4_n(const struct ni_keys *nk, __m128i v[LANES])
{
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++)
		v[q] = _mm_aesenc_si128(v[q], nk->j);
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++)
		v[q] = _mm_aesenc_si128(v[q], nk->i);
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++)
		v[q] = _mm_aesenc_si128(v[q], nk->l);
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++)
		v[q] = _mm_aesenc_si128(v[q], nk->z);
}

AESNI_FN static void
ni_aes4(const struct aez_key *k, const uint8_t in[16], uint8_t out[16])
{
	struct ni_keys nk;

	ni_keys_load(&nk, k);
	st(out, ni_aes4_1(&nk, ld(in)));
}

AESNI_FN static void
ni_aes10(const struct aez_key *k, const uint8_t in[16], uint8_t out[16])
{
	struct ni_keys nk;
	__m128i x;

	ni_keys_load(&nk, k);
	x = ld(in);
	for (int r = 0; r < 3; r++) {
		x = _mm_aesenc_si128(x, nk.i);
		x = _mm_aesenc_si128(x, nk.j);
		x = _mm_aesenc_si128(x, nk.l);
	}
	st(out, _mm_aesenc_si128(x, nk.i));
}

/*
 * Big-endian doubling in GF(2^128) on a register, branch-free: the block
 * as two big-endian 64-bit halves in general registers.
 */
AESNI_INLINE __m128i
ni_dbl(__m128i x)
{
	uint64_t hi = __builtin_bswap64((uint64_t)_mm_cvtsi128_si64(x));
	uint64_t lo = __builtin_bswap64((uint64_t)_mm_extract_epi64(x, 1));
	uint64_t carry = hi >> 63;

	hi = hi << 1 | lo >> 63;
	lo = lo << 1 ^ (0x87 & (0 - carry));
	return _mm_set_epi64x((long long)__builtin_bswap64(lo),
			      (long long)__builtin_bswap64(hi));
}

/*
 * One full group of eight pairs, tweaks t+1..t+8 (t a multiple of 8), with
 * base = J ^ 2^ceil((t+1)/8) I: the offset of pair q is base ^ ((q+1) mod 8)L.
 */
AESNI_INLINE void
ni_pass1_group(const struct ni_keys *nk, const struct aez_key *k, uint8_t *buf,
	       __m128i base, __m128i *sum)
{
	__m128i v[LANES];

#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++)
		v[q] = ld(buf + 32 * q + 16) ^ base ^ ld(k->lm[(q + 1) & 7]);
	ni_aes4_n(nk, v);
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++) {
		v[q] ^= ld(buf + 32 * q); /* W */
		st(buf + 32 * q, v[q]);
		v[q] ^= nk->i;
	}
	ni_aes4_n(nk, v);
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++) {
		v[q] ^= ld(buf + 32 * q + 16); /* X^ */
		st(buf + 32 * q + 16, v[q]);
		*sum ^= v[q];
	}
}

AESNI_FN static void
ni_pass1(const struct aez_key *k, uint8_t *buf, size_t npairs, uint8_t sum[16])
{
	struct ni_keys nk;
	__m128i ipow = ld(k->i2), acc = ld(sum), w, x;
	size_t i = 1;

	ni_keys_load(&nk, k);
	for (; i + LANES - 1 <= npairs; i += LANES, buf += 32 * LANES) {
		ni_pass1_group(&nk, k, buf, nk.j ^ ipow, &acc);
		ipow = ni_dbl(ipow);
	}
	for (; i <= npairs; i++, buf += 32) {
		w = ld(buf) ^ ni_aes4_1(&nk, ld(buf + 16) ^ nk.j ^ ipow ^
						 ld(k->lm[i % 8]));
		st(buf, w);
		x = ld(buf + 16) ^ ni_aes4_1(&nk, w ^ nk.i);
		st(buf + 16, x);
		acc ^= x;
	}
	st(sum, acc);
}

/*
 * Second pass over a full group: off1 = J ^ 2^g I and off2 = 2J ^ 2^g I
 * are the E(1,i) and E(2,i) offsets without their (i mod 8)L part.
 */
AESNI_INLINE void
ni_pass2_group(const struct ni_keys *nk, const struct aez_key *k, uint8_t *buf,
	       __m128i s, __m128i off1, __m128i off2, __m128i *sum)
{
	__m128i v[LANES];

	/* one array throughout: eight lanes and the keys fill the registers */
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++)
		v[q] = s ^ off2 ^ ld(k->lm[(q + 1) & 7]);
	ni_aes4_n(nk, v); /* S' = E(2,i)(S) */
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++) {
		__m128i y = ld(buf + 32 * q) ^ v[q];
		__m128i yp = ld(buf + 32 * q + 16) ^ v[q];

		*sum ^= y;
		st(buf + 32 * q, y);
		st(buf + 32 * q + 16, yp);
		v[q] = yp ^ nk->i;
	}
	ni_aes4_n(nk, v);
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++) {
		v[q] ^= ld(buf + 32 * q); /* C' = Y ^ E(0,0)(Y') */
		st(buf + 32 * q, v[q]);
		v[q] ^= off1 ^ ld(k->lm[(q + 1) & 7]);
	}
	ni_aes4_n(nk, v);
#pragma GCC unroll 8
	for (int q = 0; q < LANES; q++) {
		__m128i cp = ld(buf + 32 * q);

		st(buf + 32 * q, v[q] ^ ld(buf + 32 * q + 16)); /* C */
		st(buf + 32 * q + 16, cp);
	}
}

AESNI_FN static void
ni_pass2(const struct aez_key *k, uint8_t *buf, size_t npairs,
	 const uint8_t s[16], uint8_t sum[16])
{
	struct ni_keys nk;
	__m128i ipow = ld(k->i2), j2 = ld(k->j2), sv = ld(s), acc = ld(sum);
	__m128i y, yp, cp, lm;
	size_t i = 1;

	ni_keys_load(&nk, k);
	for (; i + LANES - 1 <= npairs; i += LANES, buf += 32 * LANES) {
		ni_pass2_group(&nk, k, buf, sv, nk.j ^ ipow, j2 ^ ipow, &acc);
		ipow = ni_dbl(ipow);
	}
	for (; i <= npairs; i++, buf += 32) {
		lm = ld(k->lm[i % 8]);
		y = ni_aes4_1(&nk, sv ^ j2 ^ ipow ^ lm);
		yp = ld(buf + 16) ^ y;
		y ^= ld(buf);
		acc ^= y;
		cp = y ^ ni_aes4_1(&nk, yp ^ nk.i);
		st(buf, yp ^ ni_aes4_1(&nk, cp ^ nk.j ^ ipow ^ lm));
		st(buf + 16, cp);
	}
	st(sum, acc);
}

const struct aez_ops aez_ops_aesni = {
    .aes4 = ni_aes4,
    .aes10 = ni_aes10,
    .pass1 = ni_pass1,
    .pass2 = ni_pass2,
};

#else /* not x86-64: the portable path only */

bool
aez_have_aesni(void)
{
	return false;
}

const struct aez_ops aez_ops_aesni = {0};

#endif
