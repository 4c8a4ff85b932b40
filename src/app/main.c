/*
 * backchannel: one binary, many subcommands (see command.h).  This file only
 * finds the subcommand and runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#include "app/command.h"

#define MAX_COMMANDS 64

static const struct command *commands[MAX_COMMANDS];
static size_t n_commands;

void
command_register(const struct command *c)
{
	if (n_commands == MAX_COMMANDS) {
		fprintf(stderr, "fatal: too many subcommands\n");
		abort();
	}
	commands[n_commands++] = c;
}

int
command_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	const struct command *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: backchannel COMMAND [ARGS...]\n\n"
		   "A mix network and messenger: talk through intermediaries "
		   "without being seen talking.\n\ncommands:\n");
	for (size_t i = 0; i < n_commands; i++)
		fprintf(f, "  %-12s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(f, "\n'backchannel COMMAND --help' describes each command.\n");
}

int
main(int argc, char **argv)
{
	qsort(commands, n_commands, sizeof(commands[0]), by_name);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("backchannel %s\n", BC_VERSION);
		return 0;
	}
	for (size_t i = 0; i < n_commands; i++) {
		if (strcmp(argv[1], commands[i]->name) != 0)
			continue;
		if (crypto_init() != 0) {
			fprintf(stderr, "backchannel: cannot initialise "
					"the cryptographic library\n");
			return 1;
		}
		return commands[i]->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "backchannel: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
