/* Ed25519 through libsodium. */
#include "crypto/ed25519.h"

#include <sodium.h>

#include "crypto/rand.h"

void
ed25519_keypair(uint8_t pub[static 32], uint8_t sec[static 64])
{
	uint8_t seed[ED25519_SEED_LEN];

	rand_bytes(seed, sizeof(seed));
	ed25519_keypair_from_seed(pub, sec, seed);
	sodium_memzero(seed, sizeof(seed));
}

void
ed25519_keypair_from_seed(uint8_t pub[static 32], uint8_t sec[static 64],
			  const uint8_t seed[static 32])
{
	(void)crypto_sign_seed_keypair(pub, sec, seed);
}

void
ed25519_sign(uint8_t sig[static 64], const void *msg, size_t msglen,
	     const uint8_t sec[static 64])
{
	(void)crypto_sign_detached(sig, NULL, msg, msglen, sec);
}

int
ed25519_verify(const uint8_t sig[static 64], const void *msg, size_t msglen,
	       const uint8_t pub[static 32])
{
	if (crypto_sign_verify_detached(sig, msg, msglen, pub) != 0)
		return -1;
	return 0;
}
