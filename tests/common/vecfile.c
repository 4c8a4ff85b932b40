/* Shared helpers for the known-answer checkers (see vecfile.h). */
#include "common/vecfile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

json_t *vecfile_load(const char *path)
{
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);

	if (!root)
		fprintf(stderr, "%s:%d: %s\n", path, err.line, err.text);
	return root;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vec_hex_str(const char *hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex), i;
	uint8_t *b;
	int hi, lo;

	if (n % 2 != 0)
		return -1;
	b = malloc(n / 2 + 1);
	if (!b)
		abort();
	for (i = 0; i < n / 2; i++) {
		hi = hex_nibble(hex[2 * i]);
		lo = hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			return -1;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = b;
	*len = n / 2;
	return 0;
}

int vec_hex(const json_t *obj, const char *key, uint8_t **out, size_t *len)
{
	const char *s = vec_str(obj, key);

	if (!s)
		return -1;
	return vec_hex_str(s, out, len);
}

int vec_hex_fixed(const json_t *obj, const char *key, uint8_t *out, size_t n)
{
	uint8_t *b;
	size_t len;

	if (vec_hex(obj, key, &b, &len) != 0)
		return -1;
	if (len != n) {
		free(b);
		return -1;
	}
	memcpy(out, b, n);
	free(b);
	return 0;
}

const char *vec_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int vec_int(const json_t *obj, const char *key, long long *v)
{
	const json_t *j = json_object_get(obj, key);

	if (!json_is_integer(j))
		return -1;
	*v = json_integer_value(j);
	return 0;
}

bool vec_has_flag(const json_t *obj, const char *key, const char *s)
{
	const json_t *a = json_object_get(obj, key), *v;
	size_t i;

	if (!json_is_array(a))
		return false;
	json_array_foreach(a, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

void vec_pass(struct vec_tally *t)
{
	t->passed++;
}

void vec_fail(struct vec_tally *t, const char *fmt, ...)
{
	va_list ap;

	t->failed++;
	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

bool vec_check(struct vec_tally *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		t->passed++;
		return true;
	}
	t->failed++;
	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return false;
}

int vec_finish(const struct vec_tally *t)
{
	printf("%lu passed, %lu failed\n", t->passed, t->failed);
	return t->failed == 0 && t->passed > 0 ? 0 : 1;
}

int vec_wycheproof_each(const json_t *root,
			void (*fn)(const json_t *group, const json_t *test,
				   void *arg),
			void *arg)
{
	const json_t *groups = json_object_get(root, "testGroups");
	const json_t *g, *tests, *t;
	size_t i, j;

	if (!json_is_array(groups))
		return -1;
	json_array_foreach(groups, i, g) {
		tests = json_object_get(g, "tests");
		if (!json_is_array(tests))
			return -1;
		json_array_foreach(tests, j, t) {
			fn(g, t, arg);
		}
	}
	return 0;
}

json_t *vec_start(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s VECTOR_FILE.json\n", argv[0]);
		return NULL;
	}
	if (crypto_init() != 0) {
		fprintf(stderr, "crypto_init failed\n");
		return NULL;
	}
	return vecfile_load(argv[1]);
}
