/* Safety numbers: order-independent, 12 groups of 5 digits, key-specific. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/rand.h"
#include "crypto/safety.h"

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(safety, .init = setup);

Test(safety, same_on_both_sides_and_format)
{
	uint8_t a[32], b[32];
	char ab[SAFETY_STR_LEN], ba[SAFETY_STR_LEN];

	rand_bytes(a, 32);
	rand_bytes(b, 32);
	safety_number(ab, a, b);
	safety_number(ba, b, a);
	cr_assert_str_eq(ab, ba);
	cr_assert_eq(strlen(ab), 71);
	for (int i = 0; i < 71; i++) {
		if (i % 6 == 5)
			cr_assert_eq(ab[i], ' ', "%s", ab);
		else
			cr_assert(ab[i] >= '0' && ab[i] <= '9', "%s", ab);
	}
	/* each half is one side's own 30 digits */
	char ha[31], hb[31], digits[61];
	size_t n = 0;
	safety_half(ha, a);
	safety_half(hb, b);
	for (int i = 0; ab[i]; i++)
		if (ab[i] != ' ')
			digits[n++] = ab[i];
	digits[n] = '\0';
	cr_assert(strncmp(digits, ha, 30) == 0 || strncmp(digits, hb, 30) == 0);
	cr_assert(strstr(digits, ha) && strstr(digits, hb));
}

Test(safety, changes_with_either_key)
{
	uint8_t a[32], b[32];
	char s1[SAFETY_STR_LEN], s2[SAFETY_STR_LEN];

	rand_bytes(a, 32);
	rand_bytes(b, 32);
	safety_number(s1, a, b);
	for (int i = 0; i < 32; i += 9) {
		a[i] ^= 1;
		safety_number(s2, a, b);
		cr_assert_str_neq(s1, s2);
		a[i] ^= 1;
		b[i] ^= 0x80;
		safety_number(s2, a, b);
		cr_assert_str_neq(s1, s2);
		b[i] ^= 0x80;
	}
	safety_number(s2, a, b);
	cr_assert_str_eq(s1, s2, "deterministic");
}

/* The derivation in safety.h, recomputed independently. */
Test(safety, derivation_as_documented)
{
	uint8_t k[32], d[64], in[96];
	char half[31], want[31];
	static const char label[] = "backchannel safety number v1";

	memset(k, 0x42, 32);
	memcpy(in, label, strlen(label));
	memcpy(in + strlen(label), k, 32);
	blake2b(d, 64, in, strlen(label) + 32, NULL, 0);
	for (int i = 1; i < SAFETY_ITERATIONS; i++) {
		memcpy(in, d, 64);
		memcpy(in + 64, k, 32);
		blake2b(d, 64, in, 96, NULL, 0);
	}
	for (int g = 0; g < 6; g++) {
		uint64_t v = 0;
		for (int j = 0; j < 5; j++)
			v = v * 256 + d[5 * g + j];
		snprintf(want + 5 * g, 6, "%05u", (unsigned)(v % 100000));
	}
	safety_half(half, k);
	cr_assert_str_eq(half, want);
}
