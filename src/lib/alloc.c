#include "lib/alloc.h"

#include <stdio.h>
#include <string.h>

static void
alloc_fail(size_t n)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
bc_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		alloc_fail(n);
	return p;
}

void *
bc_calloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (p == NULL)
		alloc_fail(count * size);
	return p;
}

void *
bc_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		alloc_fail(n);
	return q;
}

char *
bc_strdup(const char *s)
{
	return bc_memdup(s, strlen(s) + 1);
}

char *
bc_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = bc_malloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void *
bc_memdup(const void *p, size_t n)
{
	void *q = bc_malloc(n);
	if (n)
		memcpy(q, p, n);
	return q;
}
