/*
 * Sphinx per-hop key schedule and the small crypto steps shared by packet
 * creation, unwrap and reply blocks (suite x25519-v0, docs/sphinx.md).
 * Internal to src/wire/sphinx*.c, the tests and the benchmark, which times
 * each step on its own.
 */
#ifndef BC_WIRE_SPHINX_KEYS_H
#define BC_WIRE_SPHINX_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/aes_ctr.h"
#include "crypto/aez.h"

#include "wire/sphinx_geometry.h"

/* The KDF output, field for field in its byte order (160 bytes). */
struct sphinx_hop_keys {
	uint8_t mac_key[32];
	uint8_t hdr_key[32];
	uint8_t hdr_iv[16];
	uint8_t sprp_key[SPHINX_SPRP_KEY_LEN];
	uint8_t bf_seed[32];
};

#define SPHINX_KDF_LEN 160

/* keys = HKDF-Expand-SHA256(prk = ss, info = the suite's label, 160). */
void sphinx_keys_derive(struct sphinx_hop_keys *keys,
			const uint8_t ss[static 32]);

/* The blinding scalar: the first 32 bytes of ChaCha20(bf_seed, 0, 0). */
void sphinx_keys_blinding(uint8_t scalar[static 32],
			  const struct sphinx_hop_keys *keys);

/* gamma = HMAC-SHA256(mac_key, AD | alpha | beta) of a header. */
void sphinx_header_mac(uint8_t mac[static 32],
		       const struct sphinx_hop_keys *keys,
		       const struct sphinx_geometry *g, const uint8_t *header);

/*
 * out = in XOR the header stream of keys (len bytes, in == out allowed,
 * in == NULL for the raw keystream), through the caller's reusable context,
 * which holds the key only while this runs (aes_ctr_once).
 */
void sphinx_header_stream(struct aes_ctr *aes,
			  const struct sphinx_hop_keys *keys, uint8_t *out,
			  const uint8_t *in, size_t len);

/* The replay tag of a packet: SHA-512/256 of its group element. */
void sphinx_replay_tag(uint8_t tag[static SPHINX_REPLAY_TAG_LEN],
		       const uint8_t alpha[static 32]);

/*
 * The payload SPRP: AEZ with a 48-byte key, the 16-byte IV as nonce, no
 * associated data and no expansion (tau 0), so out has len bytes. The
 * caller's aez_key is scratch, wiped before return. Return 0 or -1.
 */
int sphinx_sprp_encrypt(struct aez_key *scratch,
			const uint8_t key[static SPHINX_SPRP_KEY_LEN],
			const uint8_t iv[static SPHINX_SPRP_IV_LEN],
			uint8_t *out, const uint8_t *in, size_t len)
    __attribute__((warn_unused_result));
int sphinx_sprp_decrypt(struct aez_key *scratch,
			const uint8_t key[static SPHINX_SPRP_KEY_LEN],
			const uint8_t iv[static SPHINX_SPRP_IV_LEN],
			uint8_t *out, const uint8_t *in, size_t len)
    __attribute__((warn_unused_result));

#endif /* BC_WIRE_SPHINX_KEYS_H */
