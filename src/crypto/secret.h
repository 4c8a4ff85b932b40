/*
 * Memory for secrets: locked (never swapped), guarded, wiped when freed, and
 * compared in constant time. Every long-lived key lives in memory from here.
 */
#ifndef BC_CRYPTO_SECRET_H
#define BC_CRYPTO_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Allocate n bytes for a secret (n == 0 is treated as 1), zero-filled and
 * 16-byte aligned, in memory that is locked with mlock where the system
 * allows, kept out of core dumps and surrounded by guard pages (small
 * secrets share pooled 64 KiB chunks: docs/crypto.md). Cheap enough to call
 * per connection. Aborts if the memory cannot be had: a secret must never
 * silently land in ordinary memory. The caller frees with secret_free().
 */
void *secret_alloc(size_t n);

/*
 * Wipe and release memory from secret_alloc(). NULL is accepted; a double
 * free or a foreign pointer aborts.
 */
void secret_free(void *p);

/* Free and set the pointer to NULL. */
#define SECRET_FREE(p)          \
	do {                    \
		secret_free(p); \
		(p) = NULL;     \
	} while (0)

/* Zero n bytes in a way the compiler may not optimise away. */
void secret_wipe(void *p, size_t n);

/* Constant-time equality of two n-byte buffers (time depends on n only). */
bool secret_eq(const void *a, const void *b, size_t n);

/* True iff all n bytes are zero, in constant time. */
bool secret_is_zero(const void *p, size_t n);

/* A typed 32-byte secret (keys, shared secrets, seeds). */
struct secret32 {
	uint8_t b[32];
};

/* A new zero-filled struct secret32 in locked memory; free with SECRET_FREE. */
struct secret32 *secret32_new(void);

static inline bool
secret32_eq(const struct secret32 *a, const struct secret32 *b)
{
	return secret_eq(a->b, b->b, sizeof(a->b));
}

static inline void
secret32_wipe(struct secret32 *s)
{
	secret_wipe(s->b, sizeof(s->b));
}

/*
 * Test hook: when set, secret_free() calls hook(p, n) after wiping the n
 * bytes at p and before releasing them, so a test can see the wipe happen.
 * NULL removes it. Not for production code.
 */
void secret_set_free_hook(void (*hook)(const void *p, size_t n));

#endif /* BC_CRYPTO_SECRET_H */
