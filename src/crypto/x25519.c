/* X25519 through libsodium. */
#include "crypto/x25519.h"

#include <sodium.h>

#include "crypto/rand.h"

int
x25519(uint8_t out[static 32], const uint8_t scalar[static 32],
       const uint8_t point[static 32])
{
	/* libsodium refuses (returns -1 on) an all-zero result. */
	if (crypto_scalarmult(out, scalar, point) != 0) {
		sodium_memzero(out, 32);
		return -1;
	}
	return 0;
}

void
x25519_base(uint8_t pub[static 32], const uint8_t scalar[static 32])
{
	/* Fails only for a scalar that clamps to zero, which cannot happen:
	 * clamping sets bit 254. */
	(void)crypto_scalarmult_base(pub, scalar);
}

void
x25519_keypair(uint8_t pub[static 32], uint8_t priv[static 32])
{
	rand_bytes(priv, 32);
	x25519_base(pub, priv);
}
