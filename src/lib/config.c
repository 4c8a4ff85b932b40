#include "lib/config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

#define CONFIG_MAX_KEYS 256

struct config_load {
	const struct config_key *table;
	size_t n;
	void *out;
	char *err;
	size_t errlen;
	bool seen[CONFIG_MAX_KEYS];
	bool failed;
};

static const char *const type_names[] = {"string", "integer", "number",
					 "boolean", "duration"};

static void *
field(const struct config_key *k, void *out)
{
	return (char *)out + k->offset;
}

static int
parse_int(const char *v, int64_t *res)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return -1;
	*res = (int64_t)x;
	return 0;
}

static int
parse_duration(const char *v, int64_t *res)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno != 0 || end == v || x < 0)
		return -1;
	static const struct {
		const char *unit;
		long long ms;
	} units[] = {{"", 1},      {"ms", 1},      {"s", 1000},
		     {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			if (x > INT64_MAX / units[i].ms)
				return -1;
			*res = (int64_t)(x * units[i].ms);
			return 0;
		}
	}
	return -1;
}

static int
parse_bool(const char *v, bool *res)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1")) {
		*res = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0")) {
		*res = false;
		return 0;
	}
	return -1;
}

static bool
out_of_bounds(const struct config_key *k, double x)
{
	return k->min < k->max && (x < k->min || x > k->max);
}

/*
 * A bound as a user would write it: integers in full (%g turned 16777216
 * into 1.67772e+07), durations in the largest unit that divides them ("1h",
 * "100ms", as the docs and config files say it), numbers without noise.
 */
static void
format_bound(const struct config_key *k, double x, char *out, size_t cap)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"d", 86400000},
		     {"h", 3600000},
		     {"m", 60000},
		     {"s", 1000},
		     {"ms", 1}};
	if (k->type == CONFIG_DOUBLE || x < -9e18 || x > 9e18 ||
	    x - floor(x) > 0) {
		snprintf(out, cap, "%.15g", x);
		return;
	}
	long long v = (long long)x;
	if (k->type == CONFIG_DURATION_MS && v > 0) {
		size_t i = 0;
		while (v % units[i].ms != 0)
			i++;
		snprintf(out, cap, "%lld%s", v / units[i].ms, units[i].unit);
		return;
	}
	snprintf(out, cap, "%lld", v);
}

static int
range_error(const struct config_key *k, const char *v, char *err, size_t errlen)
{
	char lo[32], hi[32];
	format_bound(k, k->min, lo, sizeof(lo));
	format_bound(k, k->max, hi, sizeof(hi));
	snprintf(err, errlen, "[%s] %s: %s is out of range [%s, %s]",
		 k->section, k->name, v, lo, hi);
	return -1;
}

int
config_parse_value(const struct config_key *k, const char *v, void *out,
		   char *err, size_t errlen)
{
	int64_t i = 0;
	double d = 0;
	char *end;
	switch (k->type) {
	case CONFIG_STRING: {
		char **s = field(k, out);
		free(*s);
		*s = bc_strdup(v);
		return 0;
	}
	case CONFIG_BOOL:
		if (parse_bool(v, field(k, out)) == 0)
			return 0;
		break;
	case CONFIG_INT:
	case CONFIG_DURATION_MS:
		if ((k->type == CONFIG_INT ? parse_int(v, &i)
					   : parse_duration(v, &i)) != 0)
			break;
		if (out_of_bounds(k, (double)i))
			return range_error(k, v, err, errlen);
		*(int64_t *)field(k, out) = i;
		return 0;
	case CONFIG_DOUBLE:
		errno = 0;
		d = strtod(v, &end);
		if (errno != 0 || end == v || *end != '\0' || !isfinite(d))
			break;
		if (out_of_bounds(k, d))
			return range_error(k, v, err, errlen);
		*(double *)field(k, out) = d;
		return 0;
	}
	snprintf(err, errlen, "[%s] %s: '%s' is not a valid %s", k->section,
		 k->name, v, type_names[k->type]);
	return -1;
}

void
config_set_defaults(const struct config_key *table, size_t n, void *out)
{
	char err[8];
	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = &table[i];
		if (k->type == CONFIG_STRING) {
			char **s = field(k, out);
			*s = k->def ? bc_strdup(k->def) : NULL;
		} else if (k->def == NULL ||
			   config_parse_value(k, k->def, out, err,
					      sizeof(err)) != 0) {
			memset(field(k, out), 0,
			       k->type == CONFIG_BOOL ? sizeof(bool)
						      : sizeof(int64_t));
		}
	}
}

static int
on_entry(void *user, const char *section, const char *name, const char *value)
{
	struct config_load *L = user;
	if (L->failed)
		return 0;
	for (size_t i = 0; i < L->n; i++) {
		const struct config_key *k = &L->table[i];
		if (strcmp(k->section, section) != 0 ||
		    strcmp(k->name, name) != 0)
			continue;
		if (L->seen[i]) {
			snprintf(L->err, L->errlen, "[%s] %s: set twice",
				 section, name);
			L->failed = true;
			return 0;
		}
		L->seen[i] = true;
		if (config_parse_value(k, value, L->out, L->err, L->errlen)) {
			L->failed = true;
			return 0;
		}
		return 1;
	}
	snprintf(L->err, L->errlen, "[%s] %s: unknown key", section, name);
	L->failed = true;
	return 0;
}

static int
finish_load(struct config_load *L, int rc)
{
	if (!L->failed && rc != 0) {
		if (rc == -1)
			snprintf(L->err, L->errlen, "cannot open file");
		else
			snprintf(L->err, L->errlen, "line %d: syntax error",
				 rc);
		L->failed = true;
	}
	for (size_t i = 0; !L->failed && i < L->n; i++) {
		if (L->table[i].def == NULL && !L->seen[i]) {
			snprintf(L->err, L->errlen,
				 "[%s] %s: missing (required)",
				 L->table[i].section, L->table[i].name);
			L->failed = true;
		}
	}
	return L->failed ? -1 : 0;
}

static void
start_load(struct config_load *L, const struct config_key *table, size_t n,
	   void *out, char *err, size_t errlen)
{
	memset(L, 0, sizeof(*L));
	L->table = table;
	L->n = n < CONFIG_MAX_KEYS ? n : CONFIG_MAX_KEYS;
	L->out = out;
	L->err = err;
	L->errlen = errlen;
	if (errlen)
		err[0] = '\0';
	config_set_defaults(table, n, out);
}

int
config_load_file(const char *path, const struct config_key *table, size_t n,
		 void *out, char *err, size_t errlen)
{
	struct config_load L;
	start_load(&L, table, n, out, err, errlen);
	int rc = finish_load(&L, ini_parse(path, on_entry, &L));
	if (rc != 0) {
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		snprintf(err, errlen, "%s", tmp);
	}
	return rc;
}

int
config_load_string(const char *text, const struct config_key *table, size_t n,
		   void *out, char *err, size_t errlen)
{
	struct config_load L;
	start_load(&L, table, n, out, err, errlen);
	return finish_load(&L, ini_parse_string(text, on_entry, &L));
}

void
config_free(const struct config_key *table, size_t n, void *out)
{
	for (size_t i = 0; i < n; i++) {
		if (table[i].type == CONFIG_STRING) {
			char **s = field(&table[i], out);
			BC_FREE(*s);
		}
	}
}

void
config_print_help(FILE *f, const struct config_key *table, size_t n)
{
	const char *section = "";
	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = &table[i];
		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(f, "[%s]\n", section);
		}
		fprintf(f, "  %-22s %-8s default %s", k->name,
			type_names[k->type], k->def ? k->def : "(required)");
		if (k->min < k->max && k->type != CONFIG_STRING &&
		    k->type != CONFIG_BOOL) {
			char lo[32], hi[32];
			format_bound(k, k->min, lo, sizeof(lo));
			format_bound(k, k->max, hi, sizeof(hi));
			fprintf(f, ", range %s..%s", lo, hi);
		}
		fprintf(f, "\n      %s\n", k->help);
	}
}
