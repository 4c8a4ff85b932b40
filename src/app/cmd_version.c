#include <stdio.h>

#include "app/command.h"

static int
cmd_version(int argc, char **argv)
{
	if (command_wants_help(argc, argv)) {
		printf("usage: backchannel version\n\nPrints the version.\n");
		return 0;
	}
	printf("backchannel %s\n", BC_VERSION);
	return 0;
}

COMMAND(version, "print the version", cmd_version)
