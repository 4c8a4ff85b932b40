/*
 * Line cursor for the directory documents. The strictness lives here: a line
 * is printable ASCII ending in '\n', "key value" with exactly one space after
 * the key, and keys come in the order the document type fixes.
 */
#include "wire/dir_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/codec.h"

void
dir_cursor_init(struct dir_cursor *c, const char *p, size_t len,
		const char *const *keys, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->len = len;
	c->keys = keys;
	c->err = err;
	c->errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
}

int
dir_cursor_fail(struct dir_cursor *c, const char *fmt, ...)
{
	char msg[DIR_ERR_MAX];
	va_list ap;

	if (c->err == NULL || c->errlen == 0)
		return -1;
	int n = snprintf(msg, sizeof(msg), "line %u: ", c->line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = strlen(msg);
	if (len >= c->errlen)
		len = c->errlen - 1;
	memcpy(c->err, msg, len);
	c->err[len] = '\0';
	return -1;
}

bool
dir_cursor_done(const struct dir_cursor *c)
{
	return c->off >= c->len;
}

/* Length of the next line (without '\n'), or -1 if it is malformed. */
static long
line_len(const struct dir_cursor *c)
{
	size_t i;

	for (i = c->off; i < c->len && i - c->off <= DIR_LINE_MAX; i++) {
		unsigned char ch = (unsigned char)c->p[i];
		if (ch == '\n')
			return (long)(i - c->off);
		if (ch < 0x20 || ch > 0x7e)
			return -1;
	}
	return -1;
}

static size_t
key_len(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '-'))
			break;
	}
	return i;
}

bool
dir_cursor_peek(const struct dir_cursor *c, char *out, size_t cap)
{
	long n = line_len(c);
	if (n < 0 || cap == 0)
		return false;
	size_t k = key_len(c->p + c->off, (size_t)n);
	if (k == 0 || k >= cap)
		return false;
	memcpy(out, c->p + c->off, k);
	out[k] = '\0';
	return true;
}

static bool
key_known(const struct dir_cursor *c, const char *k, size_t n)
{
	for (const char *const *kp = c->keys; kp != NULL && *kp != NULL; kp++)
		if (strlen(*kp) == n && memcmp(*kp, k, n) == 0)
			return true;
	return false;
}

static int
explain_key(struct dir_cursor *c, const char *key, const char *k, size_t kn)
{
	int shown = kn > 32 ? 32 : (int)kn;

	if (c->prev != NULL && strlen(c->prev) == kn &&
	    memcmp(c->prev, k, kn) == 0)
		return dir_cursor_fail(c, "duplicate key '%.*s'", shown, k);
	if (key_known(c, k, kn))
		return dir_cursor_fail(c,
				       "key '%.*s' out of order "
				       "(expected '%s')",
				       shown, k, key);
	return dir_cursor_fail(c, "unknown key '%.*s' (expected '%s')", shown,
			       k, key);
}

int
dir_cursor_expect(struct dir_cursor *c, const char *key, const char **val,
		  size_t *vlen)
{
	if (c->off >= c->len) {
		c->line++;
		return dir_cursor_fail(c,
				       "document ends where '%s' is "
				       "expected",
				       key);
	}
	long n = line_len(c);
	c->line++;
	if (n < 0)
		return dir_cursor_fail(c, "line too long, unterminated or "
					  "not printable ASCII");
	const char *s = c->p + c->off;
	size_t k = key_len(s, (size_t)n);
	if (k == 0)
		return dir_cursor_fail(c, "line does not start with a key");
	if (k != strlen(key) || memcmp(s, key, k) != 0)
		return explain_key(c, key, s, k);
	if ((size_t)n < k + 2 || s[k] != ' ')
		return dir_cursor_fail(c,
				       "key '%s' needs one space and a "
				       "value",
				       key);
	if (s[k + 1] == ' ' || s[n - 1] == ' ')
		return dir_cursor_fail(c, "stray space in '%s' line", key);
	*val = s + k + 1;
	*vlen = (size_t)n - k - 1;
	c->off += (size_t)n + 1;
	c->prev = key;
	return 0;
}

int
dir_parse_u64(struct dir_cursor *c, const char *v, size_t n, uint64_t max,
	      uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0 || n > 20 || (n > 1 && v[0] == '0'))
		return dir_cursor_fail(c, "bad number '%.*s'",
				       (int)(n > 24 ? 24 : n), v);
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return dir_cursor_fail(c, "bad number '%.*s'",
					       (int)(n > 24 ? 24 : n), v);
		uint64_t d = (uint64_t)(v[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return dir_cursor_fail(c, "number too large");
		x = x * 10 + d;
	}
	if (x > max)
		return dir_cursor_fail(c, "number %llu above limit %llu",
				       (unsigned long long)x,
				       (unsigned long long)max);
	*out = x;
	return 0;
}

/* Rates are written "I.FFF" (exactly three decimals) and held as integer
 * thousandths, so encoding is exact and deterministic. */
int
dir_parse_milli(struct dir_cursor *c, const char *v, size_t n, uint32_t *out)
{
	uint64_t ip;

	if (n < 5 || v[n - 4] != '.')
		return dir_cursor_fail(c, "rate must be written I.FFF");
	for (size_t i = n - 3; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return dir_cursor_fail(c, "rate must be written I.FFF");
	if (dir_parse_u64(c, v, n - 4, 1000000, &ip) < 0)
		return -1;
	uint32_t frac = (uint32_t)((v[n - 3] - '0') * 100 +
				   (v[n - 2] - '0') * 10 + (v[n - 1] - '0'));
	*out = (uint32_t)ip * 1000u + frac;
	return 0;
}

int
dir_parse_key(struct dir_cursor *c, const char *v, size_t n, uint8_t *out,
	      size_t outlen)
{
	uint8_t tmp[96];
	size_t got = 0;

	if (n > 4 * ((outlen + 2) / 3) ||
	    base64_decode(tmp, sizeof(tmp), &got, v, n) < 0 || got != outlen)
		return dir_cursor_fail(c, "bad base64 key (want %zu bytes)",
				       outlen);
	/* Only the canonical spelling (padding, zero trailing bits). */
	char again[132];
	dir_b64(again, sizeof(again), tmp, outlen);
	if (strlen(again) != n || memcmp(again, v, n) != 0)
		return dir_cursor_fail(c, "non-canonical base64 key");
	memcpy(out, tmp, outlen);
	return 0;
}

int
dir_split(const char *v, size_t n, size_t *hn, const char **tail, size_t *tn)
{
	const char *sp = memchr(v, ' ', n);
	if (sp == NULL || sp == v || (size_t)(sp - v) + 1 >= n)
		return -1;
	*hn = (size_t)(sp - v);
	*tail = sp + 1;
	*tn = n - *hn - 1;
	return 0;
}

bool
dir_value_is(const char *v, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(v, word, n) == 0;
}

void
dir_put_u64(struct buf *b, const char *key, uint64_t v)
{
	buf_printf(b, "%s %llu\n", key, (unsigned long long)v);
}

void
dir_put_milli(struct buf *b, const char *key, uint32_t v)
{
	buf_printf(b, "%s %u.%03u\n", key, v / 1000u, v % 1000u);
}

void
dir_b64(char *out, size_t cap, const uint8_t *k, size_t n)
{
	if (base64_encode(out, cap, k, n) < 0 && cap > 0)
		out[0] = '\0';
}

void
dir_put_key(struct buf *b, const char *key, const uint8_t *k, size_t n)
{
	char t[100];

	dir_b64(t, sizeof(t), k, n);
	buf_printf(b, "%s %s\n", key, t);
}
