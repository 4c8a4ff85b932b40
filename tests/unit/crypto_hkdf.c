#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(hkdf, .init = setup);

Test(hkdf, sha256_output_limit)
{
	uint8_t prk[32], *out = malloc(HKDF_SHA256_MAX + 1);

	memset(prk, 9, sizeof(prk));
	cr_assert_eq(HKDF_SHA256_MAX, 8160);
	cr_assert_eq(hkdf_sha256_expand(out, HKDF_SHA256_MAX, prk, 32, "x", 1),
		     0);
	memset(out, 0xee, HKDF_SHA256_MAX + 1);
	cr_assert_eq(hkdf_sha256_expand(out, HKDF_SHA256_MAX + 1, prk, 32,
					"x", 1),
		     -1);
	cr_assert_eq(out[0], 0xee, "refused call must not write");
	cr_assert_eq(hkdf_sha256(out, HKDF_SHA256_MAX + 1, NULL, 0, prk, 32,
				 NULL, 0),
		     -1);
	cr_assert_eq(hkdf_sha256_expand(out, 0, prk, 32, NULL, 0), 0);
	cr_assert_eq(out[0], 0xee);
	free(out);
}

Test(hkdf, sha512_output_limit)
{
	uint8_t prk[64], *out = malloc(HKDF_SHA512_MAX + 1);

	memset(prk, 9, sizeof(prk));
	cr_assert_eq(hkdf_sha512_expand(out, HKDF_SHA512_MAX, prk, 64, NULL, 0),
		     0);
	cr_assert_eq(hkdf_sha512_expand(out, HKDF_SHA512_MAX + 1, prk, 64,
					NULL, 0),
		     -1);
	cr_assert_eq(hkdf_sha512(out, HKDF_SHA512_MAX + 1, "s", 1, prk, 64,
				 NULL, 0),
		     -1);
	free(out);
}

/*
 * Expand recomputed from its definition with one-shot HMACs, for PRKs of
 * 32 (Sphinx: raw X25519 output), 64 and 100 bytes, at Sphinx's L = 160.
 */
Test(hkdf, expand_matches_definition_any_prk_length)
{
	static const char info[] = "katzenpost-kdf-v0-hkdf-sha256";
	size_t lens[] = { 32, 64, 100 };
	uint8_t prk[100], got[160], want[160], t[32], msg[32 + 64];

	for (size_t i = 0; i < sizeof(prk); i++)
		prk[i] = (uint8_t)(i ^ 0x3c);
	for (size_t k = 0; k < 3; k++) {
		size_t tlen = 0, il = sizeof(info) - 1;
		for (uint8_t n = 1; n <= 5; n++) {
			memcpy(msg, t, tlen);
			memcpy(msg + tlen, info, il);
			msg[tlen + il] = n;
			hmac_sha256(t, prk, lens[k], msg, tlen + il + 1);
			memcpy(want + 32 * (n - 1), t, 32);
			tlen = 32;
		}
		cr_assert_eq(hkdf_sha256_expand(got, sizeof(got), prk, lens[k],
						info, il),
			     0);
		cr_assert_arr_eq(got, want, sizeof(got), "prklen %zu",
				 lens[k]);
	}
}

/* Shorter outputs are prefixes of longer ones. */
Test(hkdf, outputs_are_prefixes)
{
	uint8_t a[100], b[37];

	cr_assert_eq(hkdf_sha512(a, sizeof(a), "salt", 4, "ikm", 3, "i", 1), 0);
	cr_assert_eq(hkdf_sha512(b, sizeof(b), "salt", 4, "ikm", 3, "i", 1), 0);
	cr_assert_arr_eq(a, b, sizeof(b));
	cr_assert_eq(hkdf_sha256(a, sizeof(a), NULL, 0, "ikm", 3, NULL, 0), 0);
	cr_assert_eq(hkdf_sha256(b, sizeof(b), NULL, 0, "ikm", 3, NULL, 0), 0);
	cr_assert_arr_eq(a, b, sizeof(b));
}

/* RFC 5869: an absent salt is HashLen zero bytes. */
Test(hkdf, empty_salt_is_zeros)
{
	uint8_t z[64] = { 0 }, p1[64], p2[64];

	hkdf_sha256_extract(p1, NULL, 0, "k", 1);
	hkdf_sha256_extract(p2, z, 32, "k", 1);
	cr_assert_arr_eq(p1, p2, 32);
	hkdf_sha512_extract(p1, NULL, 0, "k", 1);
	hkdf_sha512_extract(p2, z, 64, "k", 1);
	cr_assert_arr_eq(p1, p2, 64);
}
