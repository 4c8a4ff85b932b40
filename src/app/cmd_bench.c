/*
 * `backchannel bench crypto|sphinx`: the cost of each cryptographic primitive,
 * and of Sphinx unwrap and creation against one X25519.
 */
#include <stdio.h>
#include <string.h>

#include "app/bench_crypto.h"
#include "app/bench_sphinx.h"
#include "app/command.h"

static void
bench_usage(FILE *f)
{
	fprintf(f,
		"usage: backchannel bench crypto|sphinx [--quick]\n\n"
		"crypto: each cryptographic primitive at the sizes the "
		"packet format uses,\nin microseconds per operation and as a "
		"multiple of one X25519 measured\nin the same run.\n"
		"sphinx: Sphinx unwrap (with each of its steps) and creation "
		"at the default\ngeometry, against one X25519 measured in the "
		"same run.\n(--quick: shorter, noisier).\n");
}

static int
cmd_bench(int argc, char **argv)
{
	int budget_ms = 150;

	if (command_wants_help(argc, argv)) {
		bench_usage(stdout);
		return 0;
	}
	if (argc < 2 || (strcmp(argv[1], "crypto") != 0 &&
			 strcmp(argv[1], "sphinx") != 0)) {
		bench_usage(stderr);
		return EXIT_USAGE;
	}
	if (argc == 3 && strcmp(argv[2], "--quick") == 0) {
		budget_ms = 30;
	} else if (argc != 2) {
		bench_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "sphinx") == 0) {
		if (bench_sphinx_run(stdout, budget_ms) != 0) {
			fprintf(stderr, "bench: sphinx benchmark failed\n");
			return 1;
		}
		return 0;
	}
	if (bench_crypto_run(stdout, budget_ms) != 0) {
		fprintf(stderr, "bench: measurement failed\n");
		return 1;
	}
	return 0;
}

COMMAND(bench, "measure the cost of the cryptographic primitives", cmd_bench)
