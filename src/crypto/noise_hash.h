/*
 * The three Noise hash functions (SHA256, SHA512, BLAKE2b) behind one small
 * interface, with the generic HMAC (RFC 2104) and the Noise HKDF built on
 * them. Internal to the Noise code (crypto/noise*.c); other modules use
 * crypto/hmac.h and crypto/hkdf.h.
 *
 * The HMAC here is the textbook construction over HASH() for every hash,
 * BLAKE2b included: Noise requires it, and it is not BLAKE2b's own keyed mode.
 */
#ifndef BC_CRYPTO_NOISE_HASH_H
#define BC_CRYPTO_NOISE_HASH_H

#include <stddef.h>
#include <stdint.h>

enum noise_hash_id {
	NOISE_HASH_SHA256,
	NOISE_HASH_SHA512,
	NOISE_HASH_BLAKE2B,
};

/* Largest HASHLEN and BLOCKLEN of the supported hashes. */
#define NOISE_HASH_MAXLEN   64
#define NOISE_HASH_MAXBLOCK 128

/* HASHLEN: 32, 64 or 64. */
size_t noise_hash_len(enum noise_hash_id id);

/* BLOCKLEN (B of RFC 2104): 64, 128 or 128. */
size_t noise_hash_blocklen(enum noise_hash_id id);

/* out[HASHLEN] = HASH(a || b); either part may be empty (NULL, 0). */
void noise_hash(enum noise_hash_id id, uint8_t *out, const uint8_t *a,
		size_t alen, const uint8_t *b, size_t blen);

/*
 * out[HASHLEN] = HMAC-HASH(key, d1 || d2). The data comes in two parts so
 * that HKDF can hash "output || byte" without a copy.
 */
void noise_hmac(enum noise_hash_id id, uint8_t *out, const uint8_t *key,
		size_t keylen, const uint8_t *d1, size_t l1, const uint8_t *d2,
		size_t l2);

/*
 * The Noise HKDF(chaining_key, input_key_material, num_outputs): ck has
 * HASHLEN bytes; out1 and out2 receive HASHLEN bytes each; out3 likewise
 * unless it is NULL (two outputs). Outputs may alias ck.
 */
void noise_hkdf(enum noise_hash_id id, const uint8_t *ck, const uint8_t *ikm,
		size_t ikmlen, uint8_t *out1, uint8_t *out2, uint8_t *out3);

#endif /* BC_CRYPTO_NOISE_HASH_H */
