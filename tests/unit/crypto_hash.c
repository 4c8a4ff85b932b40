#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/chacha.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/hmac.h"

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(hash, .init = setup);

static void expect(const uint8_t *got, const char *hex)
{
	uint8_t *want;
	size_t n;

	cr_assert_eq(vec_hex_str(hex, &want, &n), 0);
	cr_assert_arr_eq(got, want, n, "expected %s", hex);
	free(want);
}

/* FIPS 180-4 example values for "abc". */
Test(hash, sha2_abc)
{
	uint8_t out[64];

	sha256(out, "abc", 3);
	expect(out, "ba7816bf8f01cfea414140de5dae2223"
		    "b00361a396177a9cb410ff61f20015ad");
	sha512(out, "abc", 3);
	expect(out, "ddaf35a193617abacc417349ae204131"
		    "12e6fa4e89a97ea20a9eeee64b55d39a"
		    "2192992a274fc1a836ba3c23a3feebbd"
		    "454d4423643ce80e2a9ac94fa54ca49f");
	sha512_256(out, "abc", 3);
	expect(out, "53048e2681941ef99b2e29b76b4c7dab"
		    "e4c2d0c634fc6d46e0e2f13107e7af23");
}

Test(hash, incremental_matches_oneshot)
{
	uint8_t m[300], a[64], b[64];
	struct sha256_ctx c2;
	struct sha512_ctx c5;

	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	sha256(a, m, sizeof(m));
	sha256_init(&c2);
	sha256_update(&c2, m, 100);
	sha256_update(&c2, m + 100, 0);
	sha256_update(&c2, m + 100, 200);
	sha256_final(&c2, b);
	cr_assert_arr_eq(a, b, 32);
	cr_assert_null(c2.h);
	sha512(a, m, sizeof(m));
	sha512_init(&c5);
	sha512_update(&c5, m, 129);
	sha512_update(&c5, m + 129, 171);
	sha512_final(&c5, b);
	cr_assert_arr_eq(a, b, 64);
	sha256_init(&c2);
	sha256_abort(&c2);
	cr_assert_null(c2.h);
}

Test(hash, blake2b_lengths)
{
	uint8_t out[65], key[65] = { 0 };
	struct blake2b_ctx c;

	cr_assert_eq(blake2b(out, 0, "x", 1, NULL, 0), -1);
	cr_assert_eq(blake2b(out, 65, "x", 1, NULL, 0), -1);
	cr_assert_eq(blake2b(out, 32, "x", 1, key, 65), -1);
	cr_assert_eq(blake2b(out, 32, "x", 1, NULL, 5), -1);
	cr_assert_eq(blake2b(out, 1, "x", 1, key, 64), 0);
	cr_assert_eq(blake2b_init(&c, 0), -1);
	cr_assert_eq(blake2b_init(&c, 65), -1);
	/* BLAKE2b-512("abc"), RFC 7693 appendix A. */
	cr_assert_eq(blake2b(out, 64, "abc", 3, NULL, 0), 0);
	expect(out, "ba80a53f981c4d0d6a2797b69f12f6e9"
		    "4c212f14685ac4b74b12bb6fdbffa2d1"
		    "7d87c5392aab792dc252d5de4533cc95"
		    "18d38aa8dbf1925ab92386edd4009923");
}

/* RFC 4231 test case 2 (short key, "what do ya want for nothing?"). */
Test(hash, hmac_sha2_rfc4231_case2)
{
	static const char msg[] = "what do ya want for nothing?";
	uint8_t out[64];

	hmac_sha256(out, "Jefe", 4, msg, sizeof(msg) - 1);
	expect(out, "5bdcc146bf60754e6a042426089575c7"
		    "5a003f089d2739839dec58b964ec3843");
	hmac_sha512(out, "Jefe", 4, msg, sizeof(msg) - 1);
	expect(out, "164b7a7bfcf819e2e395fbe73b56e0a3"
		    "87bd64222e831fd610270cd7ea250554"
		    "9758bf75c05a994a6d034f65f8f0e6fd"
		    "caeab1a34d4a6b4b636e070a38bce737");
}

Test(hash, hmac_copy_reuses_key)
{
	struct hmac_sha256_ctx keyed, c;
	uint8_t a[32], b[32];

	hmac_sha256_init(&keyed, "key", 3);
	for (int i = 0; i < 3; i++) {
		char m = (char)('a' + i);
		hmac_sha256_copy(&c, &keyed);
		hmac_sha256_update(&c, &m, 1);
		hmac_sha256_final(&c, a);
		hmac_sha256(b, "key", 3, &m, 1);
		cr_assert_arr_eq(a, b, 32);
	}
	hmac_sha256_abort(&keyed);
	cr_assert_null(keyed.inner);
}

/*
 * HMAC-BLAKE2b (RFC 2104 with B = 128, L = 64), recomputed here from
 * unkeyed BLAKE2b-512 for empty, short, block-sized and long (> B, hashed
 * first) keys. The Noise BLAKE2b vectors check it end to end.
 */
static void hmac_b2_ref(uint8_t out[64], const uint8_t *key, size_t kl,
			const uint8_t *m, size_t ml)
{
	uint8_t k[128] = { 0 }, buf[128 + 300], inner[64];

	cr_assert_leq(ml, 300);
	if (kl > 128)
		cr_assert_eq(blake2b(k, 64, key, kl, NULL, 0), 0);
	else
		memcpy(k, key, kl);
	for (int i = 0; i < 128; i++)
		buf[i] = k[i] ^ 0x36;
	memcpy(buf + 128, m, ml);
	cr_assert_eq(blake2b(inner, 64, buf, 128 + ml, NULL, 0), 0);
	for (int i = 0; i < 128; i++)
		buf[i] = k[i] ^ 0x5c;
	memcpy(buf + 128, inner, 64);
	cr_assert_eq(blake2b(out, 64, buf, 192, NULL, 0), 0);
}

Test(hash, hmac_blake2b_is_rfc2104)
{
	size_t klens[] = { 0, 1, 32, 64, 127, 128, 129, 200 };
	uint8_t key[200], msg[300], got[64], want[64], keyed[64];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 5 + 3);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i ^ 0xa7);
	for (size_t k = 0; k < sizeof(klens) / sizeof(klens[0]); k++) {
		hmac_blake2b(got, key, klens[k], msg, 77);
		hmac_b2_ref(want, key, klens[k], msg, 77);
		cr_assert_arr_eq(got, want, 64, "keylen %zu", klens[k]);
	}
	/* A key longer than B equals its hash as key (RFC 2104 section 2). */
	hmac_blake2b(got, key, 200, msg, 10);
	cr_assert_eq(blake2b(keyed, 64, key, 200, NULL, 0), 0);
	hmac_blake2b(want, keyed, 64, msg, 10);
	cr_assert_arr_eq(got, want, 64);
	/* And it is not BLAKE2b's keyed mode. */
	cr_assert_eq(blake2b(keyed, 64, msg, 10, key, 32), 0);
	hmac_blake2b(got, key, 32, msg, 10);
	cr_assert(memcmp(got, keyed, 64) != 0);
}

/* Sphinx blinding factor: ChaCha20 block 0, zero nonce; splits agree. */
Test(hash, chacha_keystream_continues_across_counter)
{
	uint8_t key[32], nonce[12] = { 0 }, all[192], part[192], x[192];

	memset(key, 0x11, sizeof(key));
	chacha20_keystream(all, sizeof(all), key, nonce, 0);
	chacha20_keystream(part, 64, key, nonce, 0);
	chacha20_keystream(part + 64, 128, key, nonce, 1);
	cr_assert_arr_eq(all, part, sizeof(all));
	memset(x, 0, sizeof(x));
	chacha20_xor(x, x, sizeof(x), key, nonce, 0);
	cr_assert_arr_eq(all, x, sizeof(x));
}
