#ifndef BC_LIB_BUF_H
#define BC_LIB_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A growable byte buffer, for building messages and documents.  The buffer
 * owns data; buf_free releases it, buf_wipe_free zeroes it first (use that
 * for anything that ever held key material or plaintext).
 */
struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_append_u8(struct buf *b, uint8_t v);
void buf_append_u16be(struct buf *b, uint16_t v);
void buf_append_u32be(struct buf *b, uint32_t v);
void buf_append_u64be(struct buf *b, uint64_t v);
void buf_append_str(struct buf *b, const char *s);
/* Appends formatted text; data stays NUL-terminated past len. */
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
void buf_wipe_free(struct buf *b);

/*
 * A bounds-checked reader over bytes it does not own.  The first read past
 * the end sets err, and every later read returns zeros/NULL, so a parser can
 * read a whole structure and check rd_ok() once at the end.
 */
struct rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool err;
};

void rd_init(struct rd *r, const void *p, size_t len);
uint8_t rd_u8(struct rd *r);
uint16_t rd_u16be(struct rd *r);
uint32_t rd_u32be(struct rd *r);
uint64_t rd_u64be(struct rd *r);
/* Copies n bytes into out (zeros on error). */
void rd_bytes(struct rd *r, void *out, size_t n);
/* Returns a pointer to the next n bytes and skips them, or NULL. */
const uint8_t *rd_ptr(struct rd *r, size_t n);
size_t rd_remaining(const struct rd *r);
bool rd_ok(const struct rd *r);

#endif
