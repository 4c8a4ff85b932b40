/*
 * build/bench/sphinx: the Sphinx benchmark of `backchannel bench sphinx` (the
 * same code: src/app/bench_sphinx.c is included, because bench/ links only
 * libbc.a). Usage: build/bench/sphinx [budget-ms-per-row]
 */
#include <stdio.h>
#include <stdlib.h>

#include "app/bench_sphinx.c"

int
main(int argc, char **argv)
{
	long budget = 300;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: %s [budget-ms-per-row]\n", argv[0]);
		return 2;
	}
	if (argc == 2) {
		char *end;
		budget = strtol(argv[1], &end, 10);
		if (*end != '\0' || budget < 20 || budget > 60000) {
			fprintf(stderr, "sphinx: budget must be 20..60000 ms\n");
			return 2;
		}
	}
	return bench_sphinx_run(stdout, (int)budget) == 0 ? 0 : 1;
}
