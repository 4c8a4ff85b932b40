/* X25519 Diffie-Hellman (RFC 7748). */
#ifndef BC_CRYPTO_X25519_H
#define BC_CRYPTO_X25519_H

#include <stdint.h>

#define X25519_LEN 32

/*
 * out = X25519(scalar, point). Returns -1 (out is then zeroed) when the
 * result is all zeros, which happens exactly for low-order points: the
 * caller must drop the input then (SPHINX.md: "reject an all-zero result").
 */
int x25519(uint8_t out[static 32], const uint8_t scalar[static 32],
	   const uint8_t point[static 32]) __attribute__((warn_unused_result));

/* pub = X25519(scalar, 9), the public key of a private scalar. */
void x25519_base(uint8_t pub[static 32], const uint8_t scalar[static 32]);

/* A fresh key pair from rand_bytes(); priv should live in secret memory. */
void x25519_keypair(uint8_t pub[static 32], uint8_t priv[static 32]);

#endif /* BC_CRYPTO_X25519_H */
