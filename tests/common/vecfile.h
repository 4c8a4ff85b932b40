/*
 * Shared helpers for the known-answer checkers in tests/vectors/: load a JSON
 * vector file (jansson), read hex fields, walk Wycheproof test groups, count
 * results and print the summary line scripts/test reads.
 */
#ifndef BC_TESTS_VECFILE_H
#define BC_TESTS_VECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Load and parse path; prints the error and returns NULL on failure. */
json_t *vecfile_load(const char *path);

/*
 * Decode the hex string field key of obj into a new buffer (*out, *len;
 * freed by the caller with free(); a zero-length field gives a non-NULL
 * 1-byte buffer). Returns -1 if the field is missing, not a string or not
 * valid hex.
 */
int vec_hex(const json_t *obj, const char *key, uint8_t **out, size_t *len);

/* Decode a hex C string; same conventions as vec_hex. */
int vec_hex_str(const char *hex, uint8_t **out, size_t *len);

/* The string field key of obj, or NULL. */
const char *vec_str(const json_t *obj, const char *key);

/* The integer field key of obj into *v; -1 if missing or not an integer. */
int vec_int(const json_t *obj, const char *key, long long *v);

/* True if the JSON array field key of obj contains the string s. */
bool vec_has_flag(const json_t *obj, const char *key, const char *s);

/* Pass/fail tally; vec_fail prints one line per failure. */
struct vec_tally {
	unsigned long passed;
	unsigned long failed;
};

void vec_pass(struct vec_tally *t);
void vec_fail(struct vec_tally *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Pass if ok, otherwise fail with the message; returns ok. */
bool vec_check(struct vec_tally *t, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Print "N passed, M failed" and return the process exit status (0 only if
 * nothing failed and something passed: a checker that checked nothing has
 * not shown anything).
 */
int vec_finish(const struct vec_tally *t);

/*
 * Call fn(group, test, arg) for every test of a Wycheproof file (root has
 * "testGroups", each with "tests"). Returns -1 if the shape is wrong.
 */
int vec_wycheproof_each(const json_t *root,
			void (*fn)(const json_t *group, const json_t *test,
				   void *arg),
			void *arg);

/* Fixed-size convenience: decode field key into exactly n bytes of out. */
int vec_hex_fixed(const json_t *obj, const char *key, uint8_t *out, size_t n);

/* Standard checker start: argument check, crypto_init, load. NULL on error. */
json_t *vec_start(int argc, char **argv);

#endif /* BC_TESTS_VECFILE_H */
