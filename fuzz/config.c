/* Fuzz target: the INI config loader with a table of every key type. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"

struct fz_cfg {
	char *s;
	int64_t i;
	double d;
	bool b;
	int64_t ms;
};

static const struct config_key fz_keys[] = {
	{"a", "s", CONFIG_STRING, offsetof(struct fz_cfg, s), "x", 0, 0, ""},
	{"a", "i", CONFIG_INT, offsetof(struct fz_cfg, i), "1", 0, 100, ""},
	{"b", "d", CONFIG_DOUBLE, offsetof(struct fz_cfg, d), "0.5", 0, 1, ""},
	{"b", "b", CONFIG_BOOL, offsetof(struct fz_cfg, b), "no", 0, 0, ""},
	{"c", "ms", CONFIG_DURATION_MS, offsetof(struct fz_cfg, ms), NULL, 0,
	 0, ""},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct fz_cfg c;
	char err[256];
	if (config_load_string(text, fz_keys, 5, &c, err, sizeof(err)) == 0) {
		if (c.i < 0 || c.i > 100 || c.d < 0 || c.d > 1)
			abort();
	}
	config_free(fz_keys, 5, &c);
	free(text);
	return 0;
}
