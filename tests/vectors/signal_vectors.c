/*
 * Known answers for the KDF building blocks of crypto/ratchet.c, from
 * Signal's test suites (signal/signal_kat.json):
 *   chain_key_kdf: KDF_CK (HMAC-SHA256 with 0x01 / 0x02) gives Signal's next
 *     chain key, and HKDF-SHA256 over the message key seed with info
 *     "WhisperMessageKeys" gives its cipher and MAC keys;
 *   session_init_bob_side: X25519 and HKDF-SHA256 (info "WhisperText") give
 *     Bob's first chain key from the X3DH-style master secret.
 */
#include <stdio.h>
#include <string.h>

#include "crypto/hkdf.h"
#include "crypto/ratchet.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "common/vecfile.h"

static void
check_chain_key(struct vec_tally *t, const json_t *v)
{
	uint8_t ck[32], want_ck[32], want_cipher[32], want_mac[32];
	uint8_t next[32], seed[32], okm[80], zero[32] = {0};
	static const char info[] = "WhisperMessageKeys";

	if (vec_hex_fixed(v, "chain_key", ck, 32) != 0 ||
	    vec_hex_fixed(v, "expected_next_chain_key", want_ck, 32) != 0 ||
	    vec_hex_fixed(v, "expected_cipher_key", want_cipher, 32) != 0 ||
	    vec_hex_fixed(v, "expected_mac_key", want_mac, 32) != 0) {
		vec_fail(t, "chain_key_kdf: malformed vector");
		return;
	}
	ratchet_kdf_ck(ck, next, seed);
	vec_check(t, secret_eq(next, want_ck, 32),
		  "chain_key_kdf: next chain key mismatch");
	if (hkdf_sha256(okm, sizeof(okm), zero, 32, seed, 32, info,
			strlen(info)) != 0) {
		vec_fail(t, "chain_key_kdf: HKDF failed");
		return;
	}
	vec_check(t, secret_eq(okm, want_cipher, 32),
		  "chain_key_kdf: cipher key mismatch");
	vec_check(t, secret_eq(okm + 32, want_mac, 32),
		  "chain_key_kdf: mac key mismatch");
}

/* A Signal public key: 0x05 then the X25519 key. */
static int
signal_pub(const json_t *v, const char *key, uint8_t out[32])
{
	uint8_t raw[33];

	if (vec_hex_fixed(v, key, raw, 33) != 0 || raw[0] != 0x05)
		return -1;
	memcpy(out, raw + 1, 32);
	return 0;
}

static void
check_bob(struct vec_tally *t, const json_t *v)
{
	uint8_t ik_b[32], spk_b[32], ik_b_pub[32], spk_b_pub[32];
	uint8_t ik_a[32], ek_a[32], want[32], pub[32];
	uint8_t master[32 * 4], okm[64], zero[32] = {0};
	static const char info[] = "WhisperText";

	if (vec_hex_fixed(v, "bob_identity_private", ik_b, 32) != 0 ||
	    vec_hex_fixed(v, "bob_signed_prekey_private", spk_b, 32) != 0 ||
	    signal_pub(v, "bob_identity_public", ik_b_pub) != 0 ||
	    signal_pub(v, "bob_signed_prekey_public", spk_b_pub) != 0 ||
	    signal_pub(v, "alice_identity_public", ik_a) != 0 ||
	    signal_pub(v, "alice_base_public", ek_a) != 0 ||
	    vec_hex_fixed(v, "expected_chain_key", want, 32) != 0) {
		vec_fail(t, "session_init_bob_side: malformed vector");
		return;
	}
	x25519_base(pub, ik_b);
	vec_check(t, memcmp(pub, ik_b_pub, 32) == 0,
		  "session_init_bob_side: identity public key mismatch");
	x25519_base(pub, spk_b);
	vec_check(t, memcmp(pub, spk_b_pub, 32) == 0,
		  "session_init_bob_side: signed prekey public mismatch");
	memset(master, 0xff, 32);
	if (x25519(master + 32, spk_b, ik_a) != 0 ||
	    x25519(master + 64, ik_b, ek_a) != 0 ||
	    x25519(master + 96, spk_b, ek_a) != 0 ||
	    hkdf_sha256(okm, sizeof(okm), zero, 32, master, sizeof(master),
			info, strlen(info)) != 0) {
		vec_fail(t, "session_init_bob_side: DH or HKDF failed");
		return;
	}
	vec_check(t, secret_eq(okm + 32, want, 32),
		  "session_init_bob_side: chain key mismatch");
	/* the root key is given but not asserted upstream: check it too */
	if (vec_hex_fixed(v, "derived_root_key_not_asserted_upstream", want,
			  32) == 0)
		vec_check(t, secret_eq(okm, want, 32),
			  "session_init_bob_side: root key mismatch");
}

int
main(int argc, char **argv)
{
	struct vec_tally t = {0, 0};
	json_t *root = vec_start(argc, argv), *v;

	if (root == NULL)
		return 2;
	v = json_object_get(root, "chain_key_kdf");
	if (v != NULL)
		check_chain_key(&t, v);
	else
		vec_fail(&t, "chain_key_kdf missing");
	v = json_object_get(root, "session_init_bob_side");
	if (v != NULL)
		check_bob(&t, v);
	else
		vec_fail(&t, "session_init_bob_side missing");
	json_decref(root);
	return vec_finish(&t);
}
