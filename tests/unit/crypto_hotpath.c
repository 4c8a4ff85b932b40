/* The allocation-free hot-path SHA-2 agrees with hash.h, hmac.h, hkdf.h. */
#include <criterion/criterion.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "crypto/hotpath.h"
#include "crypto/rand.h"
#include "lib/codec.h"

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	rand_set_deterministic(0x484f54ULL);
}

Test(hotpath, known_answers, .init = setup)
{
	uint8_t prk[32], info[10], okm[42], want[42], d[32], dwant[32];

	/* RFC 5869 A.1 (Expand part) and FIPS 180-4 SHA-512/256("abc"). */
	cr_assert_eq(hex_decode_exact(prk, 32, "077709362c2e32df0ddc3f0dc47bba63"
					       "90b6c73bb50f9c3122ec844ad7c2b3e5"),
		     0);
	cr_assert_eq(hex_decode_exact(info, 10, "f0f1f2f3f4f5f6f7f8f9"), 0);
	cr_assert_eq(hex_decode_exact(want, 42,
				      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90"
				      "cf1a5a4c5db02d56ecc4c5bf34007208d5b88718"
				      "5865"),
		     0);
	cr_assert_eq(hot_hkdf_sha256_expand(okm, 42, prk, 32, info, 10), 0);
	cr_assert_arr_eq(okm, want, 42);
	cr_assert_eq(hex_decode_exact(dwant, 32,
				      "53048e2681941ef99b2e29b76b4c7dabe4c2d0c6"
				      "34fc6d46e0e2f13107e7af23"),
		     0);
	hot_sha512_256(d, "abc", 3);
	cr_assert_arr_eq(d, dwant, 32);
	cr_assert_eq(hot_hkdf_sha256_expand(okm, 255 * 32 + 1, prk, 32, info,
					    10),
		     -1);
}

Test(hotpath, agrees_with_the_evp_versions, .init = setup)
{
	uint8_t key[200], msg[600], a[320], b[320];
	struct hot_hmac_sha256 k;

	for (int trial = 0; trial < 400; trial++) {
		size_t klen = rand_uniform(sizeof(key) + 1);
		size_t mlen = rand_uniform(sizeof(msg) + 1);
		size_t olen = rand_uniform(sizeof(a) + 1);
		rand_bytes(key, klen);
		rand_bytes(msg, mlen);

		hot_hmac_sha256_init(&k, key, klen);
		hot_hmac_sha256(&k, a, msg, mlen);
		hmac_sha256(b, key, klen, msg, mlen);
		cr_assert_arr_eq(a, b, 32, "HMAC, key %zu msg %zu", klen, mlen);
		hot_hmac_sha256(&k, a, msg, mlen); /* the key is reusable */
		cr_assert_arr_eq(a, b, 32);
		hot_hmac_sha256_wipe(&k);

		cr_assert_eq(hot_hkdf_sha256_expand(a, olen, key, klen, msg,
						    mlen % 80),
			     0);
		cr_assert_eq(hkdf_sha256_expand(b, olen, key, klen, msg,
						mlen % 80),
			     0);
		cr_assert_arr_eq(a, b, olen, "HKDF, prk %zu out %zu", klen,
				 olen);

		hot_sha512_256(a, msg, mlen);
		sha512_256(b, msg, mlen);
		cr_assert_arr_eq(a, b, 32, "SHA-512/256 of %zu bytes", mlen);
	}
}
