#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(ed25519, .init = setup);

static uint8_t *unhex(const char *hex, size_t want)
{
	uint8_t *b;
	size_t n;

	cr_assert_eq(vec_hex_str(hex, &b, &n), 0);
	cr_assert_eq(n, want);
	return b;
}

/* RFC 8032 section 7.1, TEST 1 (empty message). */
Test(ed25519, rfc8032_test1)
{
	uint8_t *seed = unhex("9d61b19deffd5a60ba844af492ec2cc4"
			      "4449c5697b326919703bac031cae7f60", 32);
	uint8_t *pk = unhex("d75a980182b10ab7d54bfed3c964073a"
			    "0ee172f3daa62325af021a68f707511a", 32);
	uint8_t *sig = unhex("e5564300c360ac729086e2cc806e828a"
			     "84877f1eb8e5d974d873e06522490155"
			     "5fb8821590a33bacc61e39701cf9b46b"
			     "d25bf5f0595bbe24655141438e7a100b", 64);
	uint8_t pub[32], sec[64], got[64];

	ed25519_keypair_from_seed(pub, sec, seed);
	cr_assert_arr_eq(pub, pk, 32);
	ed25519_sign(got, "", 0, sec);
	cr_assert_arr_eq(got, sig, 64);
	cr_assert_eq(ed25519_verify(sig, "", 0, pk), 0);
	free(seed);
	free(pk);
	free(sig);
}

Test(ed25519, sign_verify_and_tamper)
{
	uint8_t pub[32], sec[64], sig[64], other[32], osec[64];
	char msg[] = "consensus document";

	ed25519_keypair(pub, sec);
	ed25519_keypair(other, osec);
	ed25519_sign(sig, msg, sizeof(msg), sec);
	cr_assert_eq(ed25519_verify(sig, msg, sizeof(msg), pub), 0);
	cr_assert_eq(ed25519_verify(sig, msg, sizeof(msg), other), -1,
		     "wrong key accepted");
	msg[0] ^= 1;
	cr_assert_eq(ed25519_verify(sig, msg, sizeof(msg), pub), -1,
		     "changed message accepted");
	msg[0] ^= 1;
	for (int bit = 0; bit < 512; bit += 37) {
		sig[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		cr_assert_eq(ed25519_verify(sig, msg, sizeof(msg), pub), -1,
			     "flipped bit %d accepted", bit);
		sig[bit / 8] ^= (uint8_t)(1 << (bit % 8));
	}
}
