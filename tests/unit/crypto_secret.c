#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/secret.h"

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	cr_assert_eq(crypto_init(), 0, "crypto_init must be idempotent");
}

TestSuite(secret, .init = setup);

static size_t hook_calls;
static size_t hook_len;
static int hook_saw_nonzero;

static void hook(const void *p, size_t n)
{
	const uint8_t *b = p;

	hook_calls++;
	hook_len = n;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			hook_saw_nonzero = 1;
}

Test(secret, free_wipes_before_release)
{
	uint8_t *p = secret_alloc(100);

	memset(p, 0xa5, 100);
	secret_set_free_hook(hook);
	SECRET_FREE(p);
	secret_set_free_hook(NULL);
	cr_assert_null(p, "SECRET_FREE must NULL the pointer");
	cr_assert_eq(hook_calls, 1);
	cr_assert_eq(hook_len, 100, "the whole allocation is wiped");
	cr_assert_eq(hook_saw_nonzero, 0, "secret bytes survived free");
}

Test(secret, free_null_is_noop)
{
	secret_set_free_hook(hook);
	secret_free(NULL);
	secret_set_free_hook(NULL);
	cr_assert_eq(hook_calls, 0);
}

Test(secret, alloc_zeroed_aligned_writable)
{
	for (size_t n = 1; n < 80; n += 7) {
		uint8_t *p = secret_alloc(n);

		cr_assert_eq((uintptr_t)p % 16, 0, "n=%zu misaligned", n);
		cr_assert(secret_is_zero(p, n));
		memset(p, 0xff, n); /* the whole range is ours */
		secret_free(p);
	}
	struct secret32 *s = secret32_new();
	cr_assert(secret_is_zero(s->b, 32));
	SECRET_FREE(s);
}

Test(secret, wipe_zeroes_exactly_n)
{
	uint8_t b[40];

	memset(b, 0x77, sizeof(b));
	secret_wipe(b + 4, 32);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(b[i], 0x77);
	for (int i = 4; i < 36; i++)
		cr_assert_eq(b[i], 0);
	for (int i = 36; i < 40; i++)
		cr_assert_eq(b[i], 0x77);
	secret_wipe(NULL, 0);
}

Test(secret, eq_and_is_zero)
{
	uint8_t a[33], b[33];

	memset(a, 1, sizeof(a));
	memset(b, 1, sizeof(b));
	cr_assert(secret_eq(a, b, 33));
	b[32] ^= 0x80;
	cr_assert_not(secret_eq(a, b, 33), "last byte differs");
	cr_assert(secret_eq(a, b, 32));
	b[0] ^= 1;
	cr_assert_not(secret_eq(a, b, 32), "first byte differs");
	cr_assert(secret_eq(a, b, 0), "empty ranges are equal");

	struct secret32 x, y;
	memset(&x, 3, sizeof(x));
	y = x;
	cr_assert(secret32_eq(&x, &y));
	secret32_wipe(&y);
	cr_assert_not(secret32_eq(&x, &y));
	cr_assert(secret_is_zero(y.b, 32));
	cr_assert_not(secret_is_zero(x.b, 32));
}

/* Every size class and the big (own sodium_malloc) path. */
Test(secret, sizes_across_classes)
{
	static const size_t sizes[] = { 1,    47,   48,   49,   112,
					113,  500,  2032, 4080, 4081,
					10000 };

	secret_set_free_hook(hook);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *p = secret_alloc(n);

		cr_assert_eq((uintptr_t)p % 16, 0, "n=%zu misaligned", n);
		cr_assert(secret_is_zero(p, n), "n=%zu not zeroed", n);
		memset(p, 0xc3, n);
		secret_free(p);
		cr_assert_eq(hook_len, n, "n=%zu: wiped %zu", n, hook_len);
		cr_assert_eq(hook_saw_nonzero, 0, "n=%zu not wiped", n);
	}
	secret_set_free_hook(NULL);
	cr_assert_eq(hook_calls, sizeof(sizes) / sizeof(sizes[0]));
}

/* A reused slot comes back zeroed, not with the last owner's bytes. */
Test(secret, reuse_is_zeroed)
{
	for (int round = 0; round < 3; round++) {
		uint8_t *p = secret_alloc(40);

		cr_assert(secret_is_zero(p, 40));
		memset(p, 0xff, 40);
		secret_free(p);
	}
}

/*
 * One sodium_malloc per secret used four memory mappings: about 16,000 live
 * secrets exhausted vm.max_map_count and aborted the process. Pools must
 * hold far more (a gateway keeps a few per connection).
 */
Test(secret, many_live_secrets)
{
	enum { N = 40000 };
	struct secret32 **v = calloc(N, sizeof(*v));

	cr_assert_not_null(v);
	for (size_t i = 0; i < N; i++) {
		v[i] = secret32_new();
		v[i]->b[0] = (uint8_t)i;
		v[i]->b[31] = (uint8_t)(i >> 8);
	}
	for (size_t i = 0; i < N; i++) {
		cr_assert_eq(v[i]->b[0], (uint8_t)i, "secret %zu overwritten", i);
		cr_assert_eq(v[i]->b[31], (uint8_t)(i >> 8));
		SECRET_FREE(v[i]);
	}
	free(v);
}

Test(secret, double_free_aborts, .signal = SIGABRT)
{
	uint8_t *p = secret_alloc(32);

	secret_free(p);
	secret_free(p);
}
