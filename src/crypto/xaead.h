/*
 * XChaCha20-Poly1305 (the IETF construction, 24-byte nonce): an AEAD whose
 * nonce is long enough to draw at random for every message. Used where one
 * key seals many messages with no counter to keep: the client store's rows
 * and the client's per-contact transport wrapping, which must look fresh on
 * every resend.
 */
#ifndef BC_CRYPTO_XAEAD_H
#define BC_CRYPTO_XAEAD_H

#include <stddef.h>
#include <stdint.h>

#define XAEAD_KEY_LEN   32
#define XAEAD_NONCE_LEN 24
#define XAEAD_TAG_LEN   16
/* What seal adds to a plaintext: a random nonce in front, a tag behind. */
#define XAEAD_OVERHEAD  (XAEAD_NONCE_LEN + XAEAD_TAG_LEN)

/*
 * out = nonce | ciphertext | tag (len + XAEAD_OVERHEAD bytes), nonce drawn
 * from crypto/rand.h. ad (adlen bytes, may be NULL when 0) is authenticated,
 * not stored. out must not overlap in.
 */
void xaead_seal(uint8_t *out, const uint8_t *in, size_t len, const void *ad,
		size_t adlen, const uint8_t key[static XAEAD_KEY_LEN]);

/*
 * Open what xaead_seal wrote (inlen >= XAEAD_OVERHEAD) into out
 * (inlen - XAEAD_OVERHEAD bytes). Returns 0, or -1 (out wiped) when the tag
 * does not verify for this key and ad.
 */
int xaead_open(uint8_t *out, const uint8_t *in, size_t inlen, const void *ad,
	       size_t adlen, const uint8_t key[static XAEAD_KEY_LEN])
    __attribute__((warn_unused_result));

#endif /* BC_CRYPTO_XAEAD_H */
