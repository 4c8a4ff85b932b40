#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(x25519, .init = setup);

static void unhex(uint8_t out[32], const char *hex)
{
	uint8_t *b;
	size_t n;

	cr_assert_eq(vec_hex_str(hex, &b, &n), 0);
	cr_assert_eq(n, 32);
	memcpy(out, b, 32);
	free(b);
}

/* Low-order points (RFC 7748 section 7 discussion): the result is zero. */
Test(x25519, all_zero_result_rejected)
{
	static const char *low[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t sk[32], pt[32], out[32];

	memset(sk, 0x42, sizeof(sk));
	for (size_t i = 0; i < sizeof(low) / sizeof(low[0]); i++) {
		unhex(pt, low[i]);
		memset(out, 0xaa, sizeof(out));
		cr_assert_eq(x25519(out, sk, pt), -1, "point %zu accepted", i);
		cr_assert(secret_is_zero(out, 32), "output not cleared");
	}
}

/* RFC 7748 section 6.1. */
Test(x25519, rfc7748_known_answer)
{
	uint8_t a[32], b[32], apub[32], bpub[32], want[32], s1[32], s2[32];

	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex(want, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	x25519_base(apub, a);
	cr_assert_arr_eq(apub, want, 32);
	unhex(want, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	x25519_base(bpub, b);
	cr_assert_arr_eq(bpub, want, 32);
	unhex(want, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	cr_assert_eq(x25519(s1, a, bpub), 0);
	cr_assert_eq(x25519(s2, b, apub), 0);
	cr_assert_arr_eq(s1, want, 32);
	cr_assert_arr_eq(s2, want, 32);
}

Test(x25519, keypair_agrees_and_follows_rand)
{
	uint8_t ap[32], as[32], bp[32], bs[32], s1[32], s2[32], p2[32];

	rand_set_deterministic(3);
	x25519_keypair(ap, as);
	x25519_keypair(bp, bs);
	rand_set_deterministic(3);
	x25519_keypair(p2, s1);
	rand_set_system();
	cr_assert_arr_eq(ap, p2, 32, "keypair does not draw from rand_bytes");
	cr_assert(memcmp(ap, bp, 32) != 0);
	cr_assert_eq(x25519(s1, as, bp), 0);
	cr_assert_eq(x25519(s2, bs, ap), 0);
	cr_assert_arr_eq(s1, s2, 32);
}
