#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "crypto/chacha.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/rand.h"

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

static void teardown(void)
{
	rand_set_system();
}

TestSuite(rand, .init = setup, .fini = teardown);

Test(rand, deterministic_repeats_and_seeds_differ)
{
	uint8_t a[300], b[300], c[300];

	rand_set_deterministic(42);
	rand_bytes(a, sizeof(a));
	rand_set_deterministic(42);
	rand_bytes(b, sizeof(b));
	rand_set_deterministic(43);
	rand_bytes(c, sizeof(c));
	cr_assert_arr_eq(a, b, sizeof(a), "same seed, different bytes");
	cr_assert(memcmp(a, c, sizeof(a)) != 0, "seed ignored");
}

/* Reads of any sizes make one stream: no bytes skipped or repeated. */
Test(rand, deterministic_stream_is_split_invariant)
{
	uint8_t a[200], b[200];
	size_t off = 0, step = 1;

	rand_set_deterministic(7);
	rand_bytes(a, sizeof(a));
	rand_set_deterministic(7);
	while (off < sizeof(b)) {
		size_t n = step < sizeof(b) - off ? step : sizeof(b) - off;
		rand_bytes(b + off, n);
		off += n;
		step = step * 3 % 71 + 1;
	}
	cr_assert_arr_eq(a, b, sizeof(a));
}

/* The documented construction, recomputed independently. */
Test(rand, deterministic_is_documented_chacha20_stream)
{
	static const char label[] = "backchannel-test-drbg";
	uint8_t in[sizeof(label) - 1 + 8], key[32], nonce[12] = { 0 };
	uint8_t want[150], got[150];
	uint64_t seed = 0x0102030405060708u;

	memcpy(in, label, sizeof(label) - 1);
	for (int i = 0; i < 8; i++)
		in[sizeof(label) - 1 + i] = (uint8_t)(seed >> (8 * i));
	cr_assert_eq(blake2b(key, 32, in, sizeof(in), NULL, 0), 0);
	chacha20_keystream(want, sizeof(want), key, nonce, 0);
	rand_set_deterministic(seed);
	rand_bytes(got, sizeof(got));
	cr_assert_arr_eq(want, got, sizeof(want));
}

Test(rand, system_mode_is_not_the_test_stream)
{
	uint8_t a[32], b[32];

	rand_set_deterministic(1);
	rand_bytes(a, sizeof(a));
	rand_set_system();
	rand_bytes(b, sizeof(b));
	cr_assert(memcmp(a, b, sizeof(a)) != 0);
	rand_bytes(a, sizeof(a));
	cr_assert(memcmp(a, b, sizeof(a)) != 0, "system draws repeat");
}

Test(rand, uniform_range_and_balance)
{
	unsigned counts[6] = { 0 };
	const unsigned n = 60000;

	cr_assert_eq(rand_uniform(0), 0);
	cr_assert_eq(rand_uniform(1), 0);
	rand_set_deterministic(99);
	for (unsigned i = 0; i < n; i++) {
		uint32_t r = rand_uniform(6);
		cr_assert_lt(r, 6);
		counts[r]++;
	}
	/* chi-square, 5 degrees of freedom: 20.5 is p = 0.001. */
	double chi = 0, e = n / 6.0;
	for (int i = 0; i < 6; i++)
		chi += (counts[i] - e) * (counts[i] - e) / e;
	cr_assert_lt(chi, 20.5, "chi-square %f", chi);
	for (unsigned i = 0; i < 1000; i++)
		cr_assert_lt(rand_uniform(0x80000001u), 0x80000001u);
}

Test(rand, exp_mean_and_support)
{
	const int n = 100000;
	double sum = 0;

	rand_set_deterministic(5);
	for (int i = 0; i < n; i++) {
		double x = rand_exp(3.0);
		cr_assert(x >= 0 && isfinite(x));
		sum += x;
	}
	/* Standard error of the mean is 3/sqrt(n) ~ 0.0095; allow 5 of them. */
	cr_assert(fabs(sum / n - 3.0) < 0.05, "mean %f", sum / n);
	for (int i = 0; i < 1000; i++) {
		double u = rand_unit();
		cr_assert(u >= 0 && u < 1);
	}
}

Test(rand, u64_uses_all_bits)
{
	uint64_t or_ = 0, and_ = ~(uint64_t)0;

	rand_set_deterministic(11);
	for (int i = 0; i < 64; i++) {
		uint64_t v = rand_u64();
		or_ |= v;
		and_ &= v;
	}
	cr_assert_eq(or_, ~(uint64_t)0);
	cr_assert_eq(and_, 0);
}
