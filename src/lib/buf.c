#include "lib/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_reserve(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX / 2 - b->len) {
		fprintf(stderr, "fatal: buffer size overflow\n");
		abort();
	}
	size_t need = b->len + extra;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = bc_realloc(b->data, cap);
	b->cap = cap;
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
buf_append_u8(struct buf *b, uint8_t v)
{
	buf_append(b, &v, 1);
}

void
buf_append_u16be(struct buf *b, uint16_t v)
{
	uint8_t t[2];
	be16_put(t, v);
	buf_append(b, t, sizeof(t));
}

void
buf_append_u32be(struct buf *b, uint32_t v)
{
	uint8_t t[4];
	be32_put(t, v);
	buf_append(b, t, sizeof(t));
}

void
buf_append_u64be(struct buf *b, uint64_t v)
{
	uint8_t t[8];
	be64_put(t, v);
	buf_append(b, t, sizeof(t));
}

void
buf_append_str(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_wipe_free(struct buf *b)
{
	if (b->data != NULL) {
		/* volatile so the compiler cannot drop the wipe before free */
		volatile uint8_t *p = b->data;
		for (size_t i = 0; i < b->cap; i++)
			p[i] = 0;
	}
	buf_free(b);
}

void
rd_init(struct rd *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = false;
}

const uint8_t *
rd_ptr(struct rd *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->off;
	r->off += n;
	return p;
}

void
rd_bytes(struct rd *r, void *out, size_t n)
{
	const uint8_t *p = rd_ptr(r, n);
	if (p == NULL)
		memset(out, 0, n);
	else if (n)
		memcpy(out, p, n);
}

uint8_t
rd_u8(struct rd *r)
{
	const uint8_t *p = rd_ptr(r, 1);
	return p ? p[0] : 0;
}

uint16_t
rd_u16be(struct rd *r)
{
	const uint8_t *p = rd_ptr(r, 2);
	return p ? be16_get(p) : 0;
}

uint32_t
rd_u32be(struct rd *r)
{
	const uint8_t *p = rd_ptr(r, 4);
	return p ? be32_get(p) : 0;
}

uint64_t
rd_u64be(struct rd *r)
{
	const uint8_t *p = rd_ptr(r, 8);
	return p ? be64_get(p) : 0;
}

size_t
rd_remaining(const struct rd *r)
{
	return r->err ? 0 : r->len - r->off;
}

bool
rd_ok(const struct rd *r)
{
	return !r->err;
}
