#ifndef BC_LIB_ALLOC_H
#define BC_LIB_ALLOC_H

#include <stddef.h>
#include <stdlib.h>

/*
 * Allocation that never returns NULL: out of memory aborts the process, so
 * callers need no error path for it (a half-handled OOM is worse than a crash
 * with a clear message).  Memory holding secrets belongs in crypto/secret.h.
 */
void *bc_malloc(size_t n);
void *bc_calloc(size_t count, size_t size);
void *bc_realloc(void *p, size_t n);
char *bc_strdup(const char *s);
char *bc_strndup(const char *s, size_t n);
void *bc_memdup(const void *p, size_t n);

/* Frees p (NULL is fine) and sets it to NULL. */
#define BC_FREE(p)          \
	do {                \
		free(p);    \
		(p) = NULL; \
	} while (0)

#endif
