/*
 * Locked, guarded memory from libsodium. A 16-byte header before the
 * caller's bytes records the size, so secret_free() can wipe exactly what
 * was handed out and a test hook can see the wipe; the size is rounded up to
 * 16 so the caller's pointer stays 16-byte aligned (sodium_malloc places the
 * block flush against its trailing guard page, unaligned otherwise).
 */
#include "crypto/secret.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define SECRET_HDR 16

static void (*free_hook)(const void *p, size_t n);

void *secret_alloc(size_t n)
{
	size_t total;
	uint8_t *base;

	if (crypto_init() != 0)
		goto fail;
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - 2 * SECRET_HDR)
		goto fail;
	total = SECRET_HDR + ((n + SECRET_HDR - 1) & ~(size_t)(SECRET_HDR - 1));
	base = sodium_malloc(total);
	if (!base)
		goto fail;
	memset(base, 0, total);
	memcpy(base, &n, sizeof(n));
	return base + SECRET_HDR;
fail:
	fprintf(stderr, "crypto: cannot allocate %zu bytes of locked memory\n",
		n);
	abort();
}

void secret_free(void *p)
{
	uint8_t *base;
	size_t n;

	if (!p)
		return;
	base = (uint8_t *)p - SECRET_HDR;
	memcpy(&n, base, sizeof(n));
	sodium_memzero(p, n);
	if (free_hook)
		free_hook(p, n);
	sodium_free(base);
}

void secret_wipe(void *p, size_t n)
{
	if (p && n)
		sodium_memzero(p, n);
}

bool secret_eq(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	return sodium_memcmp(a, b, n) == 0;
}

bool secret_is_zero(const void *p, size_t n)
{
	if (n == 0)
		return true;
	return sodium_is_zero(p, n) == 1;
}

struct secret32 *secret32_new(void)
{
	return secret_alloc(sizeof(struct secret32));
}

void secret_set_free_hook(void (*hook)(const void *p, size_t n))
{
	free_hook = hook;
}
