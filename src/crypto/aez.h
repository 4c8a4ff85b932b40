/*
 * AEZ v5 (Hoang, Krovetz, Rogaway, 2017): an arbitrary-length tweakable
 * blockcipher used as an authenticated cipher. Sphinx uses it with tau = 0 as
 * the payload's strong pseudorandom permutation: every bit of the output
 * depends on every bit of the input, so a tampered payload decrypts to noise.
 *
 * Two implementations compute the same function: one on the CPU's AES round
 * instruction (AES-NI) and a constant-time portable one (bitsliced, no table
 * lookups). aez_set_impl() chooses between them; by default the fast one is
 * used where the CPU has it.
 *
 * Lengths are in bytes. tau is the number of zero bytes AEZ appends to the
 * message (the ciphertext expansion): 0 gives a pure cipher, 16 a 128-bit
 * authenticator.
 */
#ifndef BC_CRYPTO_AEZ_H
#define BC_CRYPTO_AEZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AEZ_KEY_LEN   48 /* the extracted key I || J || L */
#define AEZ_BLOCK_LEN 16

struct aez_ops;

/*
 * An expanded key: I, J, L and the multiples of them that the tweak offsets
 * need. Holds key material: keep it in secret memory (crypto/secret.h) when
 * it lives long, and wipe it with aez_key_wipe().
 */
struct aez_key {
	_Alignas(16) uint8_t i[16];
	uint8_t j[16];
	uint8_t l[16];
	uint8_t i2[16];    /* 2I: the I part of every offset for tweaks 1..8 */
	uint8_t j2[16];    /* 2J */
	uint8_t lm[8][16]; /* 0L, 1L, ..., 7L */
	const struct aez_ops *ops; /* implementation chosen at setup */
};

/*
 * One string of the tweak: nonce, associated data. Zero strings and one
 * empty string are different tweaks.
 */
struct aez_data {
	const uint8_t *data; /* may be NULL when len is 0 */
	size_t len;
};

/*
 * AEZ Extract: a 48-byte key is used as it is, any other length (also 0) is
 * hashed to 48 bytes with BLAKE2b-384.
 */
void aez_extract(uint8_t out[static AEZ_KEY_LEN], const uint8_t *key,
		 size_t keylen);

/*
 * Expand key (keylen bytes, through aez_extract) into k, for the
 * implementation selected now (see aez_set_impl).
 */
void aez_setup(struct aez_key *k, const uint8_t *key, size_t keylen);

/* Wipe every byte of k. */
void aez_key_wipe(struct aez_key *k);

/*
 * Encrypt inlen bytes of in under nonce and the nad associated-data strings
 * ad[0..nad-1] (ad may be NULL when nad is 0), with tau bytes of expansion.
 * Writes inlen + tau bytes to out; out may be in (in place) or overlap it.
 * Returns 0, or -1 on bad arguments (lengths that overflow, NULL buffers
 * with non-zero lengths).
 */
int aez_encrypt(const struct aez_key *k, const uint8_t *nonce, size_t noncelen,
		const struct aez_data *ad, size_t nad, unsigned tau,
		const uint8_t *in, size_t inlen, uint8_t *out);

/*
 * The inverse of aez_encrypt: writes inlen - tau bytes to out (which may be
 * in or overlap it). Returns -1 if inlen < tau, on bad arguments, or when
 * the tau expansion bytes do not come out zero (authentication failure);
 * then nothing of the plaintext is left in out (nor, in place, in in).
 * With tau = 0 every input decrypts.
 */
__attribute__((warn_unused_result)) int
aez_decrypt(const struct aez_key *k, const uint8_t *nonce, size_t noncelen,
	    const struct aez_data *ad, size_t nad, unsigned tau,
	    const uint8_t *in, size_t inlen, uint8_t *out);

/*
 * AEZ-hash of the tweak vector t[0..nt-1] (in AEZ's own use t[0] is
 * [8 * tau]_128, t[1] the nonce, then the associated data).
 */
void aez_hash(const struct aez_key *k, const struct aez_data *t, size_t nt,
	      uint8_t out[static AEZ_BLOCK_LEN]);

/* AEZ-prf: outlen bytes of keystream from the hash value delta. */
void aez_prf(const struct aez_key *k, const uint8_t delta[static AEZ_BLOCK_LEN],
	     uint8_t *out, size_t outlen);

enum aez_impl {
	AEZ_IMPL_AUTO, /* AES-NI where the CPU has it, portable otherwise */
	AEZ_IMPL_AESNI,
	AEZ_IMPL_PORTABLE,
};

/*
 * Select the implementation used by keys set up from now on (keys already
 * set up keep theirs). Returns -1, changing nothing, when AES-NI is asked
 * for and the CPU lacks it. Meant for tests and benchmarks: call it before
 * other threads use AEZ.
 */
int aez_set_impl(enum aez_impl impl);

/* The implementation aez_setup would use now: AESNI or PORTABLE. */
enum aez_impl aez_get_impl(void);

/* True if this CPU has the AES round instruction (and SSE4.1). */
bool aez_have_aesni(void);

#endif /* BC_CRYPTO_AEZ_H */
