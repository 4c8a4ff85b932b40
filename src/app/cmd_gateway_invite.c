/*
 * `backchannel gateway-invite --config FILE [--valid-hours N]`: records a
 * one-time invitation in the gateway's node store and prints its token
 * (docs/gateway.md).  The store keeps only a hash of the token; the token
 * itself is printed once and never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#include "app/command.h"
#include "node/gateway.h"
#include "node/node_config.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: backchannel gateway-invite --config FILE "
		   "[--valid-hours N]\n\n"
		   "Prints a one-time registration token for a gateway with "
		   "[gateway] admission = invite.\nN: hours the token stays "
		   "usable (1..8760, default 168).\n");
}

static int
parse_args(int argc, char **argv, const char **cfg, int64_t *valid)
{
	*cfg = NULL;
	*valid = 7LL * 24 * 3600 * 1000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--config") == 0) {
			*cfg = argv[i + 1];
		} else if (strcmp(argv[i], "--valid-hours") == 0) {
			char *end = NULL;
			long h = strtol(argv[i + 1], &end, 10);
			if (!end || *end || h < 1 || h > 8760)
				return -1;
			*valid = (int64_t)h * 3600 * 1000;
		} else {
			return -1;
		}
	}
	return (*cfg && argc % 2 == 1) ? 0 : -1;
}

static int
cmd_gateway_invite(int argc, char **argv)
{
	const char *path;
	int64_t valid;
	if (command_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &path, &valid) != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct node_config cfg;
	char err[512], token[64];
	if (node_config_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "backchannel gateway-invite: %s\n", err);
		return EXIT_USAGE;
	}
	int rc = 1;
	char *db = NULL;
	if (cfg.role != NODE_ROLE_GATEWAY) {
		fprintf(stderr, "backchannel gateway-invite: [node] role is "
				"not gateway\n");
		rc = EXIT_USAGE;
		goto done;
	}
	db = node_config_path(&cfg, "replay.db");
	if (gateway_invite_create(db, valid, token, sizeof(token), err,
				  sizeof(err)) != 0) {
		fprintf(stderr, "backchannel gateway-invite: %s\n", err);
	} else {
		printf("%s\n", token);
		rc = 0;
	}
done:
	free(db);
	node_config_free(&cfg);
	return rc;
}

/* COMMAND() would name it gateway_invite: registered by hand for the dash. */
static const struct command command_gateway_invite = {
    "gateway-invite", "print a one-time gateway registration token",
    cmd_gateway_invite};

__attribute__((constructor)) static void
command_reg_gateway_invite(void)
{
	command_register(&command_gateway_invite);
}
