/* `backchannel bench crypto`: the cost of each cryptographic primitive. */
#include <stdio.h>
#include <string.h>

#include "app/bench_crypto.h"
#include "app/command.h"

static void bench_usage(FILE *f)
{
	fprintf(f, "usage: backchannel bench crypto [--quick]\n\n"
		   "Measures each cryptographic primitive at the sizes the "
		   "packet format uses,\nin microseconds per operation and as a "
		   "multiple of one X25519 measured\nin the same run "
		   "(--quick: shorter, noisier).\n");
}

static int cmd_bench(int argc, char **argv)
{
	int budget_ms = 150;

	if (command_wants_help(argc, argv)) {
		bench_usage(stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "crypto") != 0) {
		bench_usage(stderr);
		return EXIT_USAGE;
	}
	if (argc == 3 && strcmp(argv[2], "--quick") == 0) {
		budget_ms = 30;
	} else if (argc != 2) {
		bench_usage(stderr);
		return EXIT_USAGE;
	}
	if (bench_crypto_run(stdout, budget_ms) != 0) {
		fprintf(stderr, "bench: cannot initialise crypto\n");
		return 1;
	}
	return 0;
}

COMMAND(bench, "measure the cost of the cryptographic primitives", cmd_bench)
