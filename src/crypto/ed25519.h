/* Ed25519 signatures (RFC 8032, pure, no context). */
#ifndef BC_CRYPTO_ED25519_H
#define BC_CRYPTO_ED25519_H

#include <stddef.h>
#include <stdint.h>

#define ED25519_PUBLIC_LEN 32
#define ED25519_SECRET_LEN 64 /* seed || public key, libsodium's layout */
#define ED25519_SEED_LEN   32
#define ED25519_SIG_LEN    64

/* A fresh key pair (seed from rand_bytes()). sec belongs in secret memory. */
void ed25519_keypair(uint8_t pub[static 32], uint8_t sec[static 64]);

/* The key pair determined by a 32-byte seed. */
void ed25519_keypair_from_seed(uint8_t pub[static 32], uint8_t sec[static 64],
			       const uint8_t seed[static 32]);

/* Detached 64-byte signature of msg. */
void ed25519_sign(uint8_t sig[static 64], const void *msg, size_t msglen,
		  const uint8_t sec[static 64]);

/*
 * 0 if sig is a valid signature of msg under pub, -1 otherwise (also for a
 * non-canonical S, a small-order or non-canonical public key).
 */
int ed25519_verify(const uint8_t sig[static 64], const void *msg, size_t msglen,
		   const uint8_t pub[static 32])
    __attribute__((warn_unused_result));

#endif /* BC_CRYPTO_ED25519_H */
