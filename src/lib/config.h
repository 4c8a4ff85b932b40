#ifndef BC_LIB_CONFIG_H
#define BC_LIB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * INI configuration driven by a declarative table: each key names its
 * section, type, where it lands in the caller's struct, its default (NULL for
 * a required key), its bounds and its help text.  One table gives parsing,
 * validation, defaults and `--help` output, so they cannot drift apart.
 *
 *   struct mix_cfg { char *listen; int64_t workers; };
 *   static const struct config_key keys[] = {
 *       {"node", "listen", CONFIG_STRING, offsetof(struct mix_cfg, listen),
 *        "127.0.0.1:7000", 0, 0, "address to listen on"},
 *       {"node", "workers", CONFIG_INT, offsetof(struct mix_cfg, workers),
 *        "2", 1, 64, "unwrap threads"},
 *   };
 *
 * Types land as: STRING char * (owned; config_free releases), INT int64_t,
 * DOUBLE double, BOOL bool ("true"/"false"/"yes"/"no"/"1"/"0"), DURATION_MS
 * int64_t milliseconds ("250ms", "30s", "20m", "2h", "21d" or plain ms).
 * For INT, DOUBLE and DURATION_MS, min < max enables the bounds check.
 */
enum config_type {
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_DOUBLE,
	CONFIG_BOOL,
	CONFIG_DURATION_MS,
};

struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	size_t offset;
	const char *def;
	double min;
	double max;
	const char *help;
};

/* Sets every key to its default; required keys become zero/NULL. */
void config_set_defaults(const struct config_key *table, size_t n, void *out);

/*
 * Loads a file or a string over the defaults.  On error returns -1 and writes
 * one line naming the key (or line) and the reason into err.  Unknown keys,
 * repeated keys, bad values and missing required keys are all errors.
 */
int config_load_file(const char *path, const struct config_key *table, size_t n,
		     void *out, char *err, size_t errlen);
int config_load_string(const char *text, const struct config_key *table,
		       size_t n, void *out, char *err, size_t errlen);

/* Releases the strings a load allocated. */
void config_free(const struct config_key *table, size_t n, void *out);

/* Prints every key: section, name, type, default, bounds, help. */
void config_print_help(FILE *f, const struct config_key *table, size_t n);

/* Parses one value of a type into dst (as a load would); -1 if invalid. */
int config_parse_value(const struct config_key *key, const char *value,
		       void *out, char *err, size_t errlen);

#endif
