/*
 * AEZ v5 (crypto/aez.h): both implementations against a plain reference AES
 * round, round trips at many lengths on both paths, the two paths agreeing,
 * tamper / wrong key / wrong tweak rejection, zero vs one empty AD string.
 * The known answers themselves are in tests/vectors/aez_vectors.c.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aez.h"
#include "crypto/aez_impl.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/rand.h"

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	rand_set_deterministic(0xae2);
}

TestSuite(aez, .init = setup);

/* ---- a reference AES round, straight from FIPS-197, tables and all ---- */

static uint8_t
ref_mul(uint8_t a, uint8_t b)
{
	uint8_t r = 0;

	while (b) {
		if (b & 1)
			r ^= a;
		a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
		b >>= 1;
	}
	return r;
}

static uint8_t ref_sbox[256];

static void
ref_sbox_init(void)
{
	for (int x = 0; x < 256; x++) {
		uint8_t inv = 0, s = 0x63;

		for (int y = 1; y < 256 && x; y++)
			if (ref_mul((uint8_t)x, (uint8_t)y) == 1)
				inv = (uint8_t)y;
		for (int b = 0; b < 8; b++) {
			int bit =
			    ((inv >> b) ^ (inv >> ((b + 4) % 8)) ^
			     (inv >> ((b + 5) % 8)) ^ (inv >> ((b + 6) % 8)) ^
			     (inv >> ((b + 7) % 8))) &
			    1;
			s ^= (uint8_t)(bit << b);
		}
		ref_sbox[x] = s;
	}
	/* FIPS-197 figure 7 spot checks */
	cr_assert_eq(ref_sbox[0x00], 0x63);
	cr_assert_eq(ref_sbox[0x01], 0x7c);
	cr_assert_eq(ref_sbox[0x53], 0xed);
	cr_assert_eq(ref_sbox[0xff], 0x16);
}

/* SubBytes, ShiftRows, MixColumns, AddRoundKey: what AESENC computes. */
static void
ref_round(uint8_t s[16], const uint8_t rk[16])
{
	uint8_t t[16];

	for (int c = 0; c < 4; c++)
		for (int r = 0; r < 4; r++)
			t[4 * c + r] = ref_sbox[s[4 * ((c + r) % 4) + r]];
	for (int c = 0; c < 4; c++)
		for (int r = 0; r < 4; r++)
			s[4 * c + r] =
			    (uint8_t)(ref_mul(2, t[4 * c + r]) ^
				      ref_mul(3, t[4 * c + (r + 1) % 4]) ^
				      t[4 * c + (r + 2) % 4] ^
				      t[4 * c + (r + 3) % 4] ^ rk[4 * c + r]);
}

static void
ref_aes4(const struct aez_key *k, const uint8_t in[16], uint8_t out[16])
{
	static const uint8_t zero[16];

	memcpy(out, in, 16);
	ref_round(out, k->j);
	ref_round(out, k->i);
	ref_round(out, k->l);
	ref_round(out, zero);
}

static void
ref_aes10(const struct aez_key *k, const uint8_t in[16], uint8_t out[16])
{
	memcpy(out, in, 16);
	for (int r = 0; r < 3; r++) {
		ref_round(out, k->i);
		ref_round(out, k->j);
		ref_round(out, k->l);
	}
	ref_round(out, k->i);
}

static void
random_key(struct aez_key *k)
{
	uint8_t key[AEZ_KEY_LEN];

	rand_bytes(key, sizeof(key));
	aez_setup(k, key, sizeof(key));
}

Test(aez, aes_rounds_match_reference)
{
	struct aez_key k;
	uint8_t in[16], want[16], got[16];

	ref_sbox_init();
	for (int n = 0; n < 200; n++) {
		random_key(&k);
		rand_bytes(in, sizeof(in));
		if (n == 0)
			memset(in, 0, sizeof(in)); /* the S-box at 0 */
		ref_aes4(&k, in, want);
		aez_ops_portable.aes4(&k, in, got);
		cr_assert_arr_eq(got, want, 16, "portable AES4, case %d", n);
		ref_aes10(&k, in, want);
		aez_ops_portable.aes10(&k, in, got);
		cr_assert_arr_eq(got, want, 16, "portable AES10, case %d", n);
		if (!aez_have_aesni())
			continue;
		ref_aes4(&k, in, want);
		aez_ops_aesni.aes4(&k, in, got);
		cr_assert_arr_eq(got, want, 16, "AES-NI AES4, case %d", n);
		ref_aes10(&k, in, want);
		aez_ops_aesni.aes10(&k, in, got);
		cr_assert_arr_eq(got, want, 16, "AES-NI AES10, case %d", n);
	}
}

Test(aez, impl_selection)
{
	cr_assert_eq(aez_set_impl(AEZ_IMPL_PORTABLE), 0);
	cr_assert_eq(aez_get_impl(), AEZ_IMPL_PORTABLE);
	cr_assert_eq(aez_set_impl(AEZ_IMPL_AESNI), aez_have_aesni() ? 0 : -1);
	cr_assert_eq(aez_get_impl(),
		     aez_have_aesni() ? AEZ_IMPL_AESNI : AEZ_IMPL_PORTABLE);
	cr_assert_eq(aez_set_impl((enum aez_impl)42), -1);
	cr_assert_eq(aez_set_impl(AEZ_IMPL_AUTO), 0);
	cr_assert_eq(aez_get_impl(),
		     aez_have_aesni() ? AEZ_IMPL_AESNI : AEZ_IMPL_PORTABLE);
}

/* The implementations a test can run here: portable always, AES-NI maybe. */
static int
impls(enum aez_impl out[2])
{
	int n = 0;

	out[n++] = AEZ_IMPL_PORTABLE;
	if (aez_have_aesni())
		out[n++] = AEZ_IMPL_AESNI;
	return n;
}

static void
roundtrip(const struct aez_key *k, size_t len, unsigned tau,
	  const struct aez_data *ad, size_t nad)
{
	uint8_t nonce[16], *m = malloc(len + 1), *c = malloc(len + tau + 1),
			   *back = malloc(len + 1),
			   *inplace = malloc(len + tau + 1);

	cr_assert(m && c && back && inplace);
	rand_bytes(nonce, sizeof(nonce));
	rand_bytes(m, len);
	cr_assert_eq(aez_encrypt(k, nonce, 16, ad, nad, tau, m, len, c), 0);
	if (len >= 8)
		cr_assert(memcmp(c, m, len) != 0, "len %zu: c == m", len);
	cr_assert_eq(
	    aez_decrypt(k, nonce, 16, ad, nad, tau, c, len + tau, back), 0,
	    "len %zu tau %u: decrypt refused", len, tau);
	cr_assert_arr_eq(back, m, len, "len %zu tau %u: round trip", len, tau);
	/* in place gives the same bytes both ways */
	memcpy(inplace, m, len);
	cr_assert_eq(
	    aez_encrypt(k, nonce, 16, ad, nad, tau, inplace, len, inplace), 0);
	cr_assert_arr_eq(inplace, c, len + tau, "len %zu: in-place encrypt",
			 len);
	cr_assert_eq(aez_decrypt(k, nonce, 16, ad, nad, tau, inplace, len + tau,
				 inplace),
		     0);
	cr_assert_arr_eq(inplace, m, len, "len %zu: in-place decrypt", len);
	free(m);
	free(c);
	free(back);
	free(inplace);
}

Test(aez, roundtrip_many_lengths_both_paths)
{
	static const size_t big[] = {511,  512,  513,  1000,
				     2000, 2600, 3100, 4103};
	static const unsigned taus[] = {0, 1, 16, 33};
	uint8_t a0[5] = {1, 2, 3, 4, 5};
	struct aez_data ad[3] = {{a0, 5}, {NULL, 0}, {a0, 3}};
	enum aez_impl which[2];
	struct aez_key k;

	for (int w = 0; w < impls(which); w++) {
		cr_assert_eq(aez_set_impl(which[w]), 0);
		random_key(&k);
		for (size_t len = 0; len <= 200; len++)
			for (size_t t = 0; t < 4; t++)
				roundtrip(&k, len, taus[t], ad, len % 4);
		for (size_t b = 0; b < sizeof(big) / sizeof(big[0]); b++) {
			roundtrip(&k, big[b], 0, NULL, 0);
			roundtrip(&k, big[b], 16, ad, 3);
		}
		aez_key_wipe(&k);
	}
}

/* Encrypt (and decrypt garbage) with both keys; the bytes must agree. */
Test(aez, paths_agree_on_random_inputs)
{
	uint8_t key[64], nonce[24], adb[40], m[3200], c1[3300],
	    c2[3300], d1[3300], d2[3300];
	struct aez_key kp, kn;

	if (!aez_have_aesni())
		cr_skip_test("this CPU has no AES-NI: one path only");
	for (int n = 0; n < 300; n++) {
		size_t len = n < 100 ? (size_t)n : rand_uniform(3200);
		size_t klen = n % 7 == 0 ? rand_uniform(60) : AEZ_KEY_LEN;
		size_t nlen = rand_uniform(25), nad = rand_uniform(4);
		unsigned tau = n % 3 == 0 ? 16 : rand_uniform(3) * 7;
		struct aez_data ad[3];

		rand_bytes(key, sizeof(key));
		rand_bytes(nonce, sizeof(nonce));
		rand_bytes(adb, sizeof(adb));
		rand_bytes(m, len);
		for (size_t q = 0; q < nad; q++)
			ad[q] = (struct aez_data){adb + q, rand_uniform(38)};
		cr_assert_eq(aez_set_impl(AEZ_IMPL_PORTABLE), 0);
		aez_setup(&kp, key, klen);
		cr_assert_eq(aez_set_impl(AEZ_IMPL_AESNI), 0);
		aez_setup(&kn, key, klen);
		cr_assert_eq(
		    aez_encrypt(&kp, nonce, nlen, ad, nad, tau, m, len, c1), 0);
		cr_assert_eq(
		    aez_encrypt(&kn, nonce, nlen, ad, nad, tau, m, len, c2), 0);
		cr_assert_arr_eq(c1, c2, len + tau, "case %d len %zu", n, len);
		/* arbitrary ciphertext, tau 0: both decrypt it the same */
		cr_assert_eq(
		    aez_decrypt(&kp, nonce, nlen, ad, nad, 0, m, len, d1), 0);
		cr_assert_eq(
		    aez_decrypt(&kn, nonce, nlen, ad, nad, 0, m, len, d2), 0);
		cr_assert_arr_eq(d1, d2, len, "case %d: decipher", n);
	}
}

/* Every flipped bit (or a sample of them, for long inputs) is refused. */
Test(aez, tamper_detected_with_tau16)
{
	static const size_t lens[] = {0,  1,  2,  15,  16,  17,
				      31, 32, 33, 100, 2600};
	uint8_t nonce[16] = {7}, m[2600], c[2616], out[2600];
	enum aez_impl which[2];
	struct aez_key k;

	for (int w = 0; w < impls(which); w++) {
		cr_assert_eq(aez_set_impl(which[w]), 0);
		random_key(&k);
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			size_t len = lens[l], bits = 8 * (len + 16);
			size_t step = bits > 600 ? bits / 97 : 1;

			rand_bytes(m, len);
			cr_assert_eq(
			    aez_encrypt(&k, nonce, 16, NULL, 0, 16, m, len, c),
			    0);
			for (size_t b = 0; b < bits; b += step) {
				c[b / 8] ^= (uint8_t)(1u << (b % 8));
				memset(out, 0xaa, sizeof(out));
				cr_assert_eq(aez_decrypt(&k, nonce, 16, NULL, 0,
							 16, c, len + 16, out),
					     -1, "len %zu bit %zu accepted",
					     len, b);
				for (size_t q = 0; q < len; q++)
					cr_assert_eq(out[q], 0,
						     "output not wiped");
				c[b / 8] ^= (uint8_t)(1u << (b % 8));
			}
			cr_assert_eq(aez_decrypt(&k, nonce, 16, NULL, 0, 16, c,
						 len + 16, out),
				     0);
			/* shorter than tau */
			cr_assert_eq(aez_decrypt(&k, nonce, 16, NULL, 0, 16, c,
						 len < 16 ? len : 15, out),
				     -1);
		}
	}
}

Test(aez, wrong_key_nonce_or_ad_rejected)
{
	uint8_t key[AEZ_KEY_LEN], nonce[16] = {1}, m[100], c[116], out[116];
	uint8_t a[4] = {9, 9, 9, 9};
	struct aez_data ad = {a, 4}, ad2 = {a, 3};
	enum aez_impl which[2];
	struct aez_key k, k2;

	for (int w = 0; w < impls(which); w++) {
		cr_assert_eq(aez_set_impl(which[w]), 0);
		rand_bytes(key, sizeof(key));
		rand_bytes(m, sizeof(m));
		aez_setup(&k, key, sizeof(key));
		key[47] ^= 1;
		aez_setup(&k2, key, sizeof(key));
		cr_assert_eq(aez_encrypt(&k, nonce, 16, &ad, 1, 16, m, 100, c),
			     0);
		cr_assert_eq(
		    aez_decrypt(&k2, nonce, 16, &ad, 1, 16, c, 116, out), -1,
		    "wrong key accepted");
		nonce[3] ^= 1;
		cr_assert_eq(
		    aez_decrypt(&k, nonce, 16, &ad, 1, 16, c, 116, out), -1,
		    "wrong nonce accepted");
		nonce[3] ^= 1;
		cr_assert_eq(
		    aez_decrypt(&k, nonce, 15, &ad, 1, 16, c, 116, out), -1,
		    "shorter nonce accepted");
		cr_assert_eq(
		    aez_decrypt(&k, nonce, 16, &ad2, 1, 16, c, 116, out), -1,
		    "wrong AD accepted");
		cr_assert_eq(aez_decrypt(&k, nonce, 16, &ad, 1, 0, c, 116, out),
			     0); /* tau 0 takes anything ... */
		cr_assert(memcmp(out, m, 100) != 0); /* ... as noise */
		cr_assert_eq(
		    aez_decrypt(&k, nonce, 16, &ad, 1, 16, c, 116, out), 0);
		cr_assert_arr_eq(out, m, 100);
	}
}

/* Sphinx relies on this: no AD strings is not the same as one empty one. */
Test(aez, zero_ad_differs_from_one_empty_ad)
{
	uint8_t nonce[16] = {3}, m[2600], c0[2616], c1[2616], out[2600];
	struct aez_data empty = {NULL, 0};
	enum aez_impl which[2];
	struct aez_key k;

	for (int w = 0; w < impls(which); w++) {
		cr_assert_eq(aez_set_impl(which[w]), 0);
		random_key(&k);
		rand_bytes(m, sizeof(m));
		for (unsigned tau = 0; tau <= 16; tau += 16) {
			cr_assert_eq(aez_encrypt(&k, nonce, 16, NULL, 0, tau, m,
						 sizeof(m), c0),
				     0);
			cr_assert_eq(aez_encrypt(&k, nonce, 16, &empty, 1, tau,
						 m, sizeof(m), c1),
				     0);
			cr_assert(memcmp(c0, c1, sizeof(m) + tau) != 0);
		}
		cr_assert_eq(aez_decrypt(&k, nonce, 16, &empty, 1, 16, c0,
					 sizeof(c0), out),
			     -1, "zero-AD ciphertext opened with one empty AD");
	}
}

/* tau 0: one flipped ciphertext bit scrambles the whole plaintext. */
Test(aez, sprp_diffusion)
{
	uint8_t nonce[16] = {5}, m[2600], c[2600], out[2600];
	enum aez_impl which[2];
	struct aez_key k;

	for (int w = 0; w < impls(which); w++) {
		cr_assert_eq(aez_set_impl(which[w]), 0);
		random_key(&k);
		rand_bytes(m, sizeof(m));
		cr_assert_eq(aez_encrypt(&k, nonce, 16, NULL, 0, 0, m, 2600, c),
			     0);
		c[1300] ^= 0x10;
		cr_assert_eq(
		    aez_decrypt(&k, nonce, 16, NULL, 0, 0, c, 2600, out), 0);
		for (size_t blk = 0; blk < 2600 / 16; blk++)
			cr_assert(memcmp(out + 16 * blk, m + 16 * blk, 16) != 0,
				  "block %zu survived the flip", blk);
	}
}

Test(aez, extract_and_wipe)
{
	uint8_t key[100], got[AEZ_KEY_LEN], want[AEZ_KEY_LEN];
	struct aez_key k, zero;

	rand_bytes(key, sizeof(key));
	aez_extract(got, key, AEZ_KEY_LEN);
	cr_assert_arr_eq(got, key, AEZ_KEY_LEN, "48 bytes are used as is");
	for (size_t len = 0; len < sizeof(key); len += 7) {
		if (len == AEZ_KEY_LEN)
			continue;
		cr_assert_eq(blake2b(want, AEZ_KEY_LEN, key, len, NULL, 0), 0);
		aez_extract(got, key, len);
		cr_assert_arr_eq(got, want, AEZ_KEY_LEN, "len %zu", len);
	}
	aez_setup(&k, key, 32);
	cr_assert_eq(blake2b(want, AEZ_KEY_LEN, key, 32, NULL, 0), 0);
	cr_assert_arr_eq(k.i, want, 16);
	cr_assert_arr_eq(k.j, want + 16, 16);
	cr_assert_arr_eq(k.l, want + 32, 16);
	aez_key_wipe(&k);
	memset(&zero, 0, sizeof(zero));
	cr_assert_arr_eq(&k, &zero, sizeof(k), "key not wiped");
}

Test(aez, bad_arguments)
{
	struct aez_key k;
	uint8_t buf[64] = {0};
	struct aez_data bad = {NULL, 3};

	random_key(&k);
	cr_assert_eq(aez_encrypt(&k, NULL, 16, NULL, 0, 0, buf, 32, buf), -1);
	cr_assert_eq(aez_encrypt(&k, buf, 16, NULL, 1, 0, buf, 32, buf), -1);
	cr_assert_eq(aez_encrypt(&k, buf, 16, &bad, 1, 0, buf, 32, buf), -1);
	cr_assert_eq(aez_encrypt(&k, buf, 16, NULL, 0, 0, NULL, 32, buf), -1);
	cr_assert_eq(aez_encrypt(&k, buf, 16, NULL, 0, 16, buf, SIZE_MAX, buf),
		     -1);
	cr_assert_eq(aez_decrypt(&k, buf, 16, NULL, 0, 16, buf, 15, buf), -1);
	cr_assert_eq(aez_decrypt(&k, buf, 16, NULL, 0, 0, buf, 32, NULL), -1);
	/* nothing at all: the empty message with tau 0 */
	cr_assert_eq(aez_encrypt(&k, NULL, 0, NULL, 0, 0, NULL, 0, NULL), 0);
	cr_assert_eq(aez_decrypt(&k, NULL, 0, NULL, 0, 0, NULL, 0, NULL), 0);
}
