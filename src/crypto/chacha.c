/* ChaCha20 (RFC 8439 variant) through libsodium. */
#include "crypto/chacha.h"

#include <sodium.h>
#include <string.h>

void
chacha20_keystream(uint8_t *out, size_t len, const uint8_t key[static 32],
		   const uint8_t nonce[static 12], uint32_t counter)
{
	if (len == 0)
		return;
	memset(out, 0, len);
	crypto_stream_chacha20_ietf_xor_ic(out, out, len, nonce, counter, key);
}

void
chacha20_xor(uint8_t *out, const uint8_t *in, size_t len,
	     const uint8_t key[static 32], const uint8_t nonce[static 12],
	     uint32_t counter)
{
	if (len == 0)
		return;
	crypto_stream_chacha20_ietf_xor_ic(out, in, len, nonce, counter, key);
}
