/*
 * The Double Ratchet state, shared by crypto/ratchet.c (the algorithm) and
 * crypto/ratchet_state.c (serialisation). Internal to those two files.
 */
#ifndef BC_CRYPTO_RATCHET_IMPL_H
#define BC_CRYPTO_RATCHET_IMPL_H

#include <stdint.h>

#include "crypto/ratchet.h"

/* Which optional parts of the state are set (the spec's "None"). */
#define RATCHET_HAS_DHR   0x01u /* DHr: the peer's ratchet key */
#define RATCHET_HAS_SEND  0x02u /* CKs and HKs */
#define RATCHET_HAS_RECV  0x04u /* CKr and HKr */
#define RATCHET_FLAGS_ALL 0x07u

struct ratchet_skipped {
	uint8_t hk[32]; /* header key of the chain the key belongs to */
	uint8_t mk[32];
	uint32_t n;
};

/* The spec's state variables; oldest skipped key first. */
struct ratchet_state {
	uint8_t dhs_priv[32], dhs_pub[32];
	uint8_t dhr[32];
	uint8_t rk[32];
	uint8_t cks[32], ckr[32];
	uint8_t hks[32], hkr[32];
	uint8_t nhks[32], nhkr[32];
	uint32_t ns, nr, pn;
	uint32_t flags;
	uint32_t nskipped;
	struct ratchet_skipped skipped[RATCHET_MAX_SKIPPED];
};

/*
 * The live state and a scratch copy of the same size, both in secret
 * memory: decryption works on the scratch copy and swaps on success.
 */
struct ratchet {
	struct ratchet_state *st;
	struct ratchet_state *tmp;
};

#endif /* BC_CRYPTO_RATCHET_IMPL_H */
