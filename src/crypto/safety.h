/*
 * Safety numbers: 60 decimal digits both contacts compute from their two
 * identity public keys and compare out of band (read aloud, or side by side),
 * in the spirit of Signal's. Derivation (docs/e2e.md, "Safety number"):
 *
 *   per key K:  d_0 = BLAKE2b-512("backchannel safety number v1" || K)
 *               d_i = BLAKE2b-512(d_{i-1} || K), i = 1..SAFETY_ITERATIONS-1
 *               30 digits = six 5-digit groups, group j = the big-endian
 *               40-bit integer d[5j .. 5j+5) mod 100000
 *   number:     the two 30-digit halves, the smaller (as a string) first,
 *               so both sides get the same number whatever the order.
 *
 * The iterations make a key whose half collides with a chosen one costly to
 * search for, as Signal's 5200 SHA-512 iterations do.
 */
#ifndef BC_CRYPTO_SAFETY_H
#define BC_CRYPTO_SAFETY_H

#include <stdint.h>

#define SAFETY_ITERATIONS 5200
#define SAFETY_DIGITS     60
#define SAFETY_GROUPS     12
/* "12345 67890 ..." : 12 groups of 5, 11 spaces, NUL. */
#define SAFETY_STR_LEN    (SAFETY_DIGITS + SAFETY_GROUPS - 1 + 1)

/* The 30 digits (plus NUL) of one key: each side's own half. */
void safety_half(char out[31], const uint8_t key[static 32]);

/* The safety number of two identity keys, as spaced groups of 5 digits. */
void safety_number(char out[static SAFETY_STR_LEN], const uint8_t a[static 32],
		   const uint8_t b[static 32]);

#endif /* BC_CRYPTO_SAFETY_H */
