/*
 * BLAKE2b against the BLAKE2 reference KAT file (an array of {hash, in, key,
 * out}; entries for other BLAKE2 variants are skipped and counted). Each
 * unkeyed case is also hashed through the incremental API in three pieces.
 * hmac_blake2b cannot be checked here (no published HMAC-BLAKE2b answers in
 * this file): the unit test checks its RFC 2104 structure and the Noise
 * BLAKE2b vectors check it end to end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/hash.h"
#include "crypto/secret.h"

static void check_pieces(struct vec_tally *t, size_t i, const uint8_t *in,
			 size_t len, const uint8_t *want, size_t outlen)
{
	struct blake2b_ctx c;
	uint8_t out[BLAKE2B_MAX_LEN];
	size_t a = len / 3, b = 2 * len / 3;

	if (blake2b_init(&c, outlen) != 0) {
		vec_fail(t, "case %zu: blake2b_init refused %zu", i, outlen);
		return;
	}
	blake2b_update(&c, in, a);
	blake2b_update(&c, in + a, b - a);
	blake2b_update(&c, in + b, len - b);
	blake2b_final(&c, out);
	vec_check(t, secret_eq(out, want, outlen),
		  "case %zu: incremental digest mismatch", i);
}

int main(int argc, char **argv)
{
	struct vec_tally t = { 0, 0 };
	json_t *root = vec_start(argc, argv), *v;
	uint8_t *in, *key, *want, out[BLAKE2B_MAX_LEN];
	size_t inlen, keylen, wantlen, i, skipped = 0;
	const char *h;

	if (!root)
		return 2;
	if (!json_is_array(root))
		vec_fail(&t, "expected a JSON array");
	json_array_foreach(root, i, v) {
		h = vec_str(v, "hash");
		if (!h || strcmp(h, "blake2b") != 0) {
			skipped++;
			continue;
		}
		if (vec_hex(v, "in", &in, &inlen) != 0) {
			vec_fail(&t, "case %zu: malformed", i);
			continue;
		}
		if (vec_hex(v, "key", &key, &keylen) != 0) {
			free(in);
			vec_fail(&t, "case %zu: malformed", i);
			continue;
		}
		if (vec_hex(v, "out", &want, &wantlen) != 0) {
			free(in);
			free(key);
			vec_fail(&t, "case %zu: malformed", i);
			continue;
		}
		vec_check(&t,
			  blake2b(out, wantlen, in, inlen, key, keylen) == 0 &&
				  secret_eq(out, want, wantlen),
			  "case %zu (keylen %zu, inlen %zu): digest mismatch",
			  i, keylen, inlen);
		if (keylen == 0)
			check_pieces(&t, i, in, inlen, want, wantlen);
		free(in);
		free(key);
		free(want);
	}
	printf("%zu entries for other hashes skipped\n", skipped);
	json_decref(root);
	return vec_finish(&t);
}
