/*
 * Memory for secrets.
 *
 * libsodium's sodium_malloc() gives each allocation its own locked pages
 * between guard pages: four memory mappings and several system calls each.
 * Measured here: about 200 us per alloc+free pair, and a process dies after
 * about 16,000 live allocations, when vm.max_map_count (65530) runs out; a
 * gateway holding a few secrets per connection would crash under a
 * connection flood. So small secrets (up to 4 KiB with the header) come from
 * size-class pools carved out of 64 KiB chunks of sodium_malloc memory
 * (locked, guarded, kept out of core dumps as a whole), and only larger ones
 * get their own sodium_malloc. Chunks are never returned: the pool is as
 * large as the peak.
 *
 * Every block starts with a 16-byte header (size, class, state magic) that
 * lets secret_free() wipe exactly what was handed out, refuse a double free
 * and show the wipe to a test hook. The caller's pointer is 16-byte aligned.
 * Under AddressSanitizer, free slots, headers and the slack after the
 * caller's n bytes are poisoned, so overflows and use-after-free are still
 * caught, to the byte.
 */
#include "crypto/secret.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECRET_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SECRET_ASAN 1
#endif

#ifdef SECRET_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define SECRET_HDR       16
#define SECRET_CHUNK     (64 * 1024)
#define SECRET_NCLASS    7
#define SECRET_CLASS_BIG 0xffu
#define MAGIC_LIVE       0x5ec7e7a1u
#define MAGIC_FREE       0xf7eef7eeu

/* Slot sizes, header included; each divides SECRET_CHUNK. */
static const size_t class_size[SECRET_NCLASS] = {64,   128,  256, 512,
						 1024, 2048, 4096};

struct secret_hdr {
	size_t n;       /* caller's size; in a free slot: next free slot */
	uint32_t cls;   /* index into class_size, or SECRET_CLASS_BIG */
	uint32_t magic; /* MAGIC_LIVE or MAGIC_FREE */
};

_Static_assert(sizeof(struct secret_hdr) == SECRET_HDR, "header size");

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *free_list[SECRET_NCLASS];
static void (*free_hook)(const void *p, size_t n);

static _Noreturn void
secret_die(const char *what, size_t n)
{
	fprintf(stderr, "crypto: %s (%zu bytes)\n", what, n);
	abort();
}

static _Noreturn void
secret_die_free(const char *what)
{
	fprintf(stderr, "crypto: %s\n", what);
	abort();
}

static void *
secret_sodium_alloc(size_t n)
{
	void *p = sodium_malloc(n);

	if (!p)
		secret_die("cannot allocate locked memory", n);
	return p;
}

/* The free slot's link lives in its header (slot[0..8]). */
static void
slot_push(unsigned c, uint8_t *slot)
{
	struct secret_hdr h = {0, c, MAGIC_FREE};

	memcpy(&h.n, &free_list[c], sizeof(free_list[c]));
	memcpy(slot, &h, sizeof(h));
	free_list[c] = slot;
	POISON(slot, class_size[c]);
}

static uint8_t *
slot_pop(unsigned c)
{
	uint8_t *slot, *chunk;
	struct secret_hdr h;
	size_t off;

	if (!free_list[c]) {
		chunk = secret_sodium_alloc(SECRET_CHUNK);
		for (off = SECRET_CHUNK; off > 0; off -= class_size[c])
			slot_push(c, chunk + off - class_size[c]);
	}
	slot = free_list[c];
	UNPOISON(slot, class_size[c]);
	memcpy(&h, slot, sizeof(h));
	memcpy(&free_list[c], &h.n, sizeof(free_list[c]));
	return slot;
}

void *
secret_alloc(size_t n)
{
	struct secret_hdr h = {0, SECRET_CLASS_BIG, MAGIC_LIVE};
	uint8_t *base;
	unsigned c;

	if (crypto_init() != 0)
		secret_die("cannot initialise libsodium", n);
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - 2 * SECRET_HDR)
		secret_die("allocation too large", n);
	h.n = n;
	for (c = 0; c < SECRET_NCLASS; c++)
		if (n + SECRET_HDR <= class_size[c])
			break;
	if (c < SECRET_NCLASS) {
		h.cls = c;
		pthread_mutex_lock(&pool_lock);
		base = slot_pop(c);
		pthread_mutex_unlock(&pool_lock);
		/* Only the caller's n bytes stay addressable under ASan. */
		POISON(base + SECRET_HDR, class_size[c] - SECRET_HDR);
		UNPOISON(base + SECRET_HDR, n);
	} else {
		/* Rounded up so the caller's pointer stays 16-byte aligned. */
		base =
		    secret_sodium_alloc(SECRET_HDR + ((n + 15) & ~(size_t)15));
	}
	memcpy(base, &h, sizeof(h));
	POISON(base, SECRET_HDR);
	memset(base + SECRET_HDR, 0, n);
	return base + SECRET_HDR;
}

void
secret_free(void *p)
{
	struct secret_hdr h;
	uint8_t *base;

	if (!p)
		return;
	base = (uint8_t *)p - SECRET_HDR;
	UNPOISON(base, SECRET_HDR);
	memcpy(&h, base, sizeof(h));
	if (h.magic != MAGIC_LIVE ||
	    (h.cls >= SECRET_NCLASS && h.cls != SECRET_CLASS_BIG))
		secret_die_free(h.magic == MAGIC_FREE
				    ? "double secret_free"
				    : "secret_free of a foreign pointer");
	sodium_memzero(p, h.n);
	if (free_hook)
		free_hook(p, h.n);
	if (h.cls == SECRET_CLASS_BIG) {
		sodium_memzero(base, SECRET_HDR);
		sodium_free(base);
		return;
	}
	pthread_mutex_lock(&pool_lock);
	slot_push(h.cls, base);
	pthread_mutex_unlock(&pool_lock);
}

void
secret_wipe(void *p, size_t n)
{
	if (p && n)
		sodium_memzero(p, n);
}

bool
secret_eq(const void *a, const void *b, size_t n)
{
	if (n == 0)
		return true;
	return sodium_memcmp(a, b, n) == 0;
}

bool
secret_is_zero(const void *p, size_t n)
{
	if (n == 0)
		return true;
	return sodium_is_zero(p, n) == 1;
}

struct secret32 *
secret32_new(void)
{
	return secret_alloc(sizeof(struct secret32));
}

void
secret_set_free_hook(void (*hook)(const void *p, size_t n))
{
	free_hook = hook;
}
