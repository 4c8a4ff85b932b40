/*
 * ChaCha20 (RFC 8439) against the RFC transcription file: the block
 * function cases (keystream at a counter), the encryption cases (XOR) and
 * the Poly1305 key generation cases (the first 32 bytes of block 0). The
 * AEAD and Poly1305 entries of the file are not ours to check (Noise uses
 * libsodium's AEAD directly) and are skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/chacha.h"
#include "crypto/secret.h"

static int load_kn(const json_t *v, uint8_t key[32], uint8_t nonce[12],
		   uint32_t *counter)
{
	long long c = 0;

	if (vec_hex_fixed(v, "key", key, 32) != 0 ||
	    vec_hex_fixed(v, "nonce", nonce, 12) != 0)
		return -1;
	if (json_object_get(v, "counter") &&
	    (vec_int(v, "counter", &c) != 0 || c < 0 || c > UINT32_MAX))
		return -1;
	*counter = (uint32_t)c;
	return 0;
}

static void check_block(struct vec_tally *t, const json_t *v, const char *f)
{
	uint8_t key[32], nonce[12], *want, *out;
	const char *src = vec_str(v, "source") ? vec_str(v, "source") : "?";
	uint32_t counter;
	size_t len;

	if (load_kn(v, key, nonce, &counter) != 0 ||
	    vec_hex(v, f, &want, &len) != 0) {
		vec_fail(t, "%s: malformed", src);
		return;
	}
	out = malloc(len + 1);
	chacha20_keystream(out, len, key, nonce, counter);
	vec_check(t, secret_eq(out, want, len), "%s: keystream mismatch", src);
	free(out);
	free(want);
}

static void check_encrypt(struct vec_tally *t, const json_t *v)
{
	uint8_t key[32], nonce[12], *pt, *ct, *out;
	const char *src = vec_str(v, "source") ? vec_str(v, "source") : "?";
	size_t ptlen, ctlen;
	uint32_t counter;

	if (load_kn(v, key, nonce, &counter) != 0 ||
	    vec_hex(v, "plaintext", &pt, &ptlen) != 0) {
		vec_fail(t, "%s: malformed", src);
		return;
	}
	if (vec_hex(v, "ciphertext", &ct, &ctlen) != 0 || ctlen != ptlen) {
		free(pt);
		vec_fail(t, "%s: malformed", src);
		return;
	}
	out = malloc(ptlen + 1);
	chacha20_xor(out, pt, ptlen, key, nonce, counter);
	vec_check(t, memcmp(out, ct, ctlen) == 0, "%s: ciphertext mismatch",
		  src);
	/* In place, back again. */
	chacha20_xor(out, out, ptlen, key, nonce, counter);
	vec_check(t, memcmp(out, pt, ptlen) == 0, "%s: decryption mismatch",
		  src);
	free(out);
	free(pt);
	free(ct);
}

int main(int argc, char **argv)
{
	struct vec_tally t = { 0, 0 };
	json_t *root = vec_start(argc, argv), *vs, *a, *v;
	size_t i;

	if (!root)
		return 2;
	vs = json_object_get(root, "vectors");
	a = json_object_get(vs, "chacha20_block");
	if (!json_is_array(a) || json_array_size(a) == 0)
		vec_fail(&t, "no chacha20_block vectors");
	json_array_foreach(a, i, v) {
		check_block(&t, v, "keystream");
	}
	a = json_object_get(vs, "chacha20_encrypt");
	json_array_foreach(a, i, v) {
		check_encrypt(&t, v);
	}
	/* poly1305 key = ChaCha20 block 0, first 32 bytes (RFC 8439 2.6). */
	a = json_object_get(vs, "poly1305_keygen");
	json_array_foreach(a, i, v) {
		check_block(&t, v, "poly1305_key");
	}
	json_decref(root);
	return vec_finish(&t);
}
