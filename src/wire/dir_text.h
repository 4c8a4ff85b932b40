/*
 * Line cursor shared by the directory document codecs (descriptor, vote,
 * consensus): documents are lines "key value\n" in a fixed order, printable
 * ASCII only, so every parser rejects the same things with the same words.
 * Pure code, no I/O.
 */
#ifndef BC_WIRE_DIR_TEXT_H
#define BC_WIRE_DIR_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define DIR_LINE_MAX 512 /* longest line any document may carry */
#define DIR_ERR_MAX  160 /* room for one error message */

/* Where a document parse stands. `keys` lists every key the document type
 * knows, so a stray key can be called unknown or out of order. */
struct dir_cursor {
	const char *p;
	size_t len;
	size_t off;
	unsigned line;    /* 1-based number of the line last read */
	const char *prev; /* key of the previous line, for "duplicate" */
	const char *const *keys;
	char *err;
	size_t errlen;
};

void dir_cursor_init(struct dir_cursor *c, const char *p, size_t len,
		     const char *const *keys, char *err, size_t errlen);

/* Records a formatted error "line N: ..." in c->err; returns -1. */
int dir_cursor_fail(struct dir_cursor *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True when nothing is left to read. */
bool dir_cursor_done(const struct dir_cursor *c);

/* Key of the next line without consuming it (NULL on malformed/at end);
 * copies at most cap-1 chars into out. */
bool dir_cursor_peek(const struct dir_cursor *c, char *out, size_t cap);

/* Reads the next line, which must carry `key`; its value (after one space)
 * is returned in val and vlen. Explains unknown, duplicate, out-of-order and
 * missing keys. */
int dir_cursor_expect(struct dir_cursor *c, const char *key, const char **val,
		      size_t *vlen);

/* Value parsers. Each writes a message through the cursor on failure. */
int dir_parse_u64(struct dir_cursor *c, const char *v, size_t n, uint64_t max,
		  uint64_t *out);
int dir_parse_milli(struct dir_cursor *c, const char *v, size_t n,
		    uint32_t *out);
int dir_parse_key(struct dir_cursor *c, const char *v, size_t n, uint8_t *out,
		  size_t outlen);

/* Splits v at the first space: head in [v, v+*hn), tail after it. -1 when
 * there is no space or either part is empty. */
int dir_split(const char *v, size_t n, size_t *hn, const char **tail,
	      size_t *tn);

bool dir_value_is(const char *v, size_t n, const char *word);

/* Writers used by every encoder. */
void dir_put_u64(struct buf *b, const char *key, uint64_t v);
void dir_put_milli(struct buf *b, const char *key, uint32_t v);
void dir_put_key(struct buf *b, const char *key, const uint8_t *k, size_t n);

/* Base64 text of n bytes (n <= 64) into out (cap >= 89). */
void dir_b64(char *out, size_t cap, const uint8_t *k, size_t n);

#endif /* BC_WIRE_DIR_TEXT_H */
