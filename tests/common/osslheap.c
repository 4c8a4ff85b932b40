/* The OpenSSL heap watch (osslheap.h). */
#include "common/osslheap.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define NBLK 4096

static struct {
	void *p;
	size_t n;
} blk[NBLK];
static bool hooks_ok, tracking, overflow, freed_with_key;
static const uint8_t *watch;

static bool
has_key(const uint8_t *p, size_t n, const uint8_t k[32])
{
	uint8_t sw[32];

	for (int i = 0; i < 32; i++)
		sw[i] = k[(i & ~3) + 3 - (i & 3)];
	for (size_t off = 0; off + 8 <= n; off++)
		for (int w = 0; w < 32; w += 8)
			if (memcmp(p + off, k + w, 8) == 0 ||
			    memcmp(p + off, sw + w, 8) == 0)
				return true;
	return false;
}

static void
blk_track(void *p, size_t n)
{
	if (!tracking || p == NULL)
		return;
	for (size_t i = 0; i < NBLK; i++) {
		if (blk[i].p == NULL) {
			blk[i].p = p;
			blk[i].n = n;
			return;
		}
	}
	overflow = true;
}

/* Forget a block; its size, or 0 if it was not tracked. */
static size_t
blk_untrack(void *p)
{
	for (size_t i = 0; tracking && p != NULL && i < NBLK; i++) {
		if (blk[i].p == p) {
			blk[i].p = NULL;
			return blk[i].n;
		}
	}
	return 0;
}

static void *
t_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	void *p = malloc(n);
	blk_track(p, n);
	return p;
}

static void *
t_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	void *q = realloc(p, n);
	if (q != NULL || n == 0)
		blk_untrack(p);
	blk_track(q, n);
	return q;
}

static void
t_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	size_t n = blk_untrack(p);
	if (watch != NULL && n > 0 && has_key(p, n, watch))
		freed_with_key = true;
	free(p);
}

__attribute__((constructor)) static void
osslheap_install(void)
{
	hooks_ok = CRYPTO_set_mem_functions(t_malloc, t_realloc, t_free) == 1;
}

bool
osslheap_hooks_ok(void)
{
	return hooks_ok;
}

void
osslheap_track(bool on)
{
	tracking = on;
}

bool
osslheap_has_key(const uint8_t k[32])
{
	for (size_t i = 0; i < NBLK; i++)
		if (blk[i].p != NULL && has_key(blk[i].p, blk[i].n, k))
			return true;
	return false;
}

void
osslheap_watch(const uint8_t *k)
{
	watch = k;
	freed_with_key = false;
}

bool
osslheap_freed_with_key(void)
{
	return freed_with_key;
}

bool
osslheap_overflow(void)
{
	return overflow;
}
