/*
 * Internal to aez*.c: what an AEZ implementation provides. aez.c holds the
 * mode (hash, prf, tiny, core, encrypt, decrypt) once; aez_aesni.c and
 * aez_soft.c each provide the AES-based pieces below, the bulk passes of
 * AEZ-core included, since that is where the time goes.
 */
#ifndef BC_CRYPTO_AEZ_IMPL_H
#define BC_CRYPTO_AEZ_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/aez.h"

struct aez_ops {
	/* AES4: four full AES rounds with round keys J, I, L, 0. */
	void (*aes4)(const struct aez_key *k, const uint8_t in[16],
		     uint8_t out[16]);
	/* AES10: ten full rounds with round keys I, J, L, I, J, L, I, J, L, I.
	 */
	void (*aes10)(const struct aez_key *k, const uint8_t in[16],
		      uint8_t out[16]);
	/*
	 * AEZ-core's first pass, in place over npairs 32-byte pairs
	 * (X_i, X'_i) -> (W_i, X_i^): W_i = X_i ^ E(1,i)(X'_i),
	 * X_i^ = X'_i ^ E(0,0)(W_i), for i = 1..npairs; XORs every X_i^
	 * into sum.
	 */
	void (*pass1)(const struct aez_key *k, uint8_t *buf, size_t npairs,
		      uint8_t sum[16]);
	/*
	 * The second pass, in place (W_i, X_i^) -> (C_i, C'_i): with
	 * S' = E(2,i)(s), Y = W_i ^ S', Y' = X_i^ ^ S',
	 * C'_i = Y ^ E(0,0)(Y'), C_i = Y' ^ E(1,i)(C'_i); XORs every Y into
	 * sum.
	 */
	void (*pass2)(const struct aez_key *k, uint8_t *buf, size_t npairs,
		      const uint8_t s[16], uint8_t sum[16]);
};

extern const struct aez_ops aez_ops_portable;
/* Only usable when aez_have_aesni() says so. */
extern const struct aez_ops aez_ops_aesni;

/* Big-endian 64-bit load and store, compiled to one move and a bswap. */
static inline uint64_t
aez_ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void
aez_st64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

static inline void
aez_blk_xor(uint8_t *r, const uint8_t *a, const uint8_t *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	x[0] ^= y[0];
	x[1] ^= y[1];
	memcpy(r, x, 16);
}

/*
 * Doubling in GF(2^128) (x^128 + x^7 + x^2 + x + 1, big-endian), without a
 * branch on the secret top bit.
 */
static inline void
aez_blk_dbl(uint8_t r[16], const uint8_t a[16])
{
	uint64_t hi = aez_ld64(a), lo = aez_ld64(a + 8);
	uint64_t carry = hi >> 63;

	aez_st64(r, hi << 1 | lo >> 63);
	aez_st64(r + 8, lo << 1 ^ (0x87 & (0 - carry)));
}

#endif /* BC_CRYPTO_AEZ_IMPL_H */
