/* Sphinx key schedule and the per-hop crypto steps (suite x25519-v0). */
#include "wire/sphinx_keys.h"

#include <stdio.h>
#include <stdlib.h>

#include "crypto/chacha.h"
#include "crypto/hotpath.h"
#include "crypto/secret.h"

_Static_assert(sizeof(struct sphinx_hop_keys) == SPHINX_KDF_LEN,
	       "the key struct must be the KDF output byte for byte");

/* The suite's KDF label, without a terminating NUL. */
static const char kdf_info[] = "katzenpost-kdf-v0-hkdf-sha256";

void
sphinx_keys_derive(struct sphinx_hop_keys *keys, const uint8_t ss[static 32])
{
	/* 160 <= 255 * 32: the only failure of Expand cannot happen. The
	 * hot-path HKDF allocates nothing: this runs for every packet. */
	if (hot_hkdf_sha256_expand((uint8_t *)keys, SPHINX_KDF_LEN, ss, 32,
				   kdf_info, sizeof(kdf_info) - 1) != 0) {
		fputs("sphinx: HKDF-Expand refused 160 bytes\n", stderr);
		abort();
	}
}

void
sphinx_keys_blinding(uint8_t scalar[static 32],
		     const struct sphinx_hop_keys *keys)
{
	static const uint8_t zero_nonce[CHACHA20_NONCE_LEN];

	chacha20_keystream(scalar, 32, keys->bf_seed, zero_nonce, 0);
}

void
sphinx_header_mac(uint8_t mac[static 32], const struct sphinx_hop_keys *keys,
		  const struct sphinx_geometry *g, const uint8_t *header)
{
	struct hot_hmac_sha256 k;

	/* AD, alpha and beta are contiguous at the front of the header. */
	hot_hmac_sha256_init(&k, keys->mac_key, sizeof(keys->mac_key));
	hot_hmac_sha256(&k, mac, header, SPHINX_OFF_BETA + g->routing_info_len);
	hot_hmac_sha256_wipe(&k);
}

void
sphinx_header_stream(struct aes_ctr *aes, const struct sphinx_hop_keys *keys,
		     uint8_t *out, const uint8_t *in, size_t len)
{
	/* Re-keying a context reuses its memory; the key is overwritten
	 * with zeros before this returns (OpenSSL's heap is not locked). */
	aes_ctr_once(aes, out, in, len, keys->hdr_key, keys->hdr_iv);
}

void
sphinx_replay_tag(uint8_t tag[static SPHINX_REPLAY_TAG_LEN],
		  const uint8_t alpha[static 32])
{
	hot_sha512_256(tag, alpha, 32);
}

int
sphinx_sprp_encrypt(struct aez_key *scratch,
		    const uint8_t key[static SPHINX_SPRP_KEY_LEN],
		    const uint8_t iv[static SPHINX_SPRP_IV_LEN], uint8_t *out,
		    const uint8_t *in, size_t len)
{
	aez_setup(scratch, key, SPHINX_SPRP_KEY_LEN);
	/* No associated-data strings at all (nad 0), not one empty string:
	 * the two give different ciphertexts. */
	int rc = aez_encrypt(scratch, iv, SPHINX_SPRP_IV_LEN, NULL, 0, 0, in,
			     len, out);
	aez_key_wipe(scratch);
	return rc;
}

int
sphinx_sprp_decrypt(struct aez_key *scratch,
		    const uint8_t key[static SPHINX_SPRP_KEY_LEN],
		    const uint8_t iv[static SPHINX_SPRP_IV_LEN], uint8_t *out,
		    const uint8_t *in, size_t len)
{
	aez_setup(scratch, key, SPHINX_SPRP_KEY_LEN);
	int rc = aez_decrypt(scratch, iv, SPHINX_SPRP_IV_LEN, NULL, 0, 0, in,
			     len, out);
	aez_key_wipe(scratch);
	return rc;
}
