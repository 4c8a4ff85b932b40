/*
 * `backchannel node --config FILE`: run a mix, or the forwarding half of a
 * gateway (docs/node.md).  A config with a missing or invalid key: one line
 * naming the key and the reason, exit status 2.
 */
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#include "app/command.h"
#include "node/node.h"
#include "node/node_config.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: backchannel node --config FILE\n\n"
		   "Runs a mix or a gateway (role in the config) until SIGINT "
		   "or SIGTERM.\nKey files: make them with 'backchannel keygen'"
		   "; a key file that others can\nread is refused.\n\n"
		   "config keys ([section] key, type, default, help):\n");
	node_config_print_help(f);
}

static int
cmd_node(int argc, char **argv)
{
	if (command_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "--config") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct node_config cfg;
	char err[512];
	if (node_config_load(argv[2], &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "backchannel node: %s\n", err);
		return EXIT_USAGE;
	}
	enum log_level lvl = LOG_LVL_NOTICE;
	(void)log_level_parse(cfg.log_level, &lvl);
	log_init(cfg.role == NODE_ROLE_MIX ? "mix" : "gateway", lvl);
	int rc = node_run(&cfg);
	node_config_free(&cfg);
	return rc;
}

COMMAND(node, "run a mix or gateway node", cmd_node)
