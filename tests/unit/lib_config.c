#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "lib/config.h"

struct cfg {
	char *listen;
	int64_t workers;
	double rate;
	bool verbose;
	int64_t epoch_ms;
	char *key_file;
};

static const struct config_key keys[] = {
	{"node", "listen", CONFIG_STRING, offsetof(struct cfg, listen),
	 "127.0.0.1:7000", 0, 0, "address"},
	{"node", "workers", CONFIG_INT, offsetof(struct cfg, workers), "2", 1,
	 64, "threads"},
	{"node", "rate", CONFIG_DOUBLE, offsetof(struct cfg, rate), "0.5", 0,
	 1000, "per second"},
	{"node", "verbose", CONFIG_BOOL, offsetof(struct cfg, verbose), "no",
	 0, 0, "chatty"},
	{"epoch", "length", CONFIG_DURATION_MS, offsetof(struct cfg, epoch_ms),
	 "20m", 1000, 86400000, "epoch length"},
	{"keys", "file", CONFIG_STRING, offsetof(struct cfg, key_file), NULL,
	 0, 0, "key file (required)"},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int
load(const char *text, struct cfg *c, char *err)
{
	return config_load_string(text, keys, NKEYS, c, err, 256);
}

Test(config, defaults_and_overrides)
{
	struct cfg c;
	char err[256];
	cr_assert_eq(load("[keys]\nfile = k.key\n", &c, err), 0, "%s", err);
	cr_assert_str_eq(c.listen, "127.0.0.1:7000");
	cr_assert_eq(c.workers, 2);
	cr_assert_float_eq(c.rate, 0.5, 1e-12);
	cr_assert_not(c.verbose);
	cr_assert_eq(c.epoch_ms, 20 * 60 * 1000);
	cr_assert_str_eq(c.key_file, "k.key");
	config_free(keys, NKEYS, &c);

	cr_assert_eq(load("[node]\nworkers=8\nrate=2\nverbose=yes\n"
			  "[epoch]\nlength=30s\n[keys]\nfile=x\n",
			  &c, err),
		     0, "%s", err);
	cr_assert_eq(c.workers, 8);
	cr_assert(c.verbose);
	cr_assert_eq(c.epoch_ms, 30000);
	config_free(keys, NKEYS, &c);
}

Test(config, errors_name_the_key)
{
	struct cfg c;
	char err[256];
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"[node]\nworkers=8\n", "[keys] file: missing"},
		{"[keys]\nfile=x\n[node]\nworkers=0\n",
		 "[node] workers: 0 is out of range"},
		{"[keys]\nfile=x\n[node]\nworkers=two\n",
		 "[node] workers: 'two' is not a valid integer"},
		{"[keys]\nfile=x\n[node]\nbogus=1\n",
		 "[node] bogus: unknown key"},
		{"[keys]\nfile=x\nfile=y\n", "[keys] file: set twice"},
		{"[keys]\nfile=x\n[epoch]\nlength=5x\n",
		 "[epoch] length: '5x' is not a valid duration"},
		{"[keys]\nfile=x\n[node]\nverbose=maybe\n",
		 "[node] verbose: 'maybe' is not a valid boolean"},
		{"[keys]\nfile=x\n[node]\nrate=nan\n",
		 "[node] rate: 'nan' is not a valid number"},
		{"[keys]\nfile=x\n[node\n", "syntax error"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(load(cases[i].text, &c, err), -1, "case %zu", i);
		cr_assert(strstr(err, cases[i].want) != NULL,
			  "case %zu: got '%s'", i, err);
		config_free(keys, NKEYS, &c);
	}
}

Test(config, missing_file)
{
	struct cfg c;
	char err[256];
	cr_assert_eq(config_load_file("/nonexistent/x.ini", keys, NKEYS, &c,
				      err, sizeof(err)),
		     -1);
	cr_assert(strstr(err, "/nonexistent/x.ini: cannot open") != NULL,
		  "%s", err);
	config_free(keys, NKEYS, &c);
}

Test(config, help_lists_every_key)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	config_print_help(f, keys, NKEYS);
	fclose(f);
	for (size_t i = 0; i < NKEYS; i++)
		cr_assert(strstr(text, keys[i].name) != NULL);
	cr_assert(strstr(text, "(required)") != NULL);
	free(text);
}

/* --help once printed 16777216 as 1.67772e+07 and 600000 ms as 6e+05. */
Test(config, help_prints_bounds_as_written)
{
	struct big {
		int64_t items, genesis, step, delay, odd;
		double rate;
	};
	static const struct config_key big_keys[] = {
	    {"q", "items", CONFIG_INT, offsetof(struct big, items), "1", 1,
	     16777216, "items"},
	    {"q", "genesis", CONFIG_INT, offsetof(struct big, genesis), "0", 0,
	     1099511627776.0, "unix time"},
	    {"q", "step", CONFIG_DURATION_MS, offsetof(struct big, step), "2s",
	     100, 600000, "step"},
	    {"q", "delay", CONFIG_DURATION_MS, offsetof(struct big, delay),
	     "5s", 0, 604800000, "delay"},
	    {"q", "odd", CONFIG_DURATION_MS, offsetof(struct big, odd), "1500",
	     1500, 90000, "odd"},
	    {"q", "rate", CONFIG_DOUBLE, offsetof(struct big, rate), "2.0",
	     0.25, 2500000, "rate"},
	};
	static const char *const want[] = {
	    "range 1..16777216\n", "range 0..1099511627776\n",
	    "range 100ms..10m\n",  "range 0..7d\n",
	    "range 1500ms..90s\n", "range 0.25..2500000\n",
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	config_print_help(f, big_keys, 6);
	fclose(f);
	for (size_t i = 0; i < 6; i++)
		cr_assert(strstr(text, want[i]) != NULL, "want '%s' in:\n%s",
			  want[i], text);
	cr_assert(strstr(text, "e+") == NULL, "%s", text);
	free(text);

	struct big b;
	char err[256];
	cr_assert_eq(config_load_string("[q]\nstep=20m\n", big_keys, 6, &b, err,
					sizeof(err)),
		     -1);
	cr_assert(strstr(err, "[q] step: 20m is out of range [100ms, 10m]") !=
		      NULL,
		  "%s", err);
	config_free(big_keys, 6, &b);
}
