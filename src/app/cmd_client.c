/*
 * `backchannel client --config FILE`: run the client daemon.
 * `backchannel status [--socket PATH | --config FILE] [--json]`: ask a
 * running client how it is (docs/client-api.md).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/log.h"

#include "net/ctlsock.h"

#include "client/daemon.h"

#include "app/command.h"

static void
client_usage(FILE *f)
{
	fprintf(f, "usage: backchannel client --config FILE\n\n"
		   "Runs the client daemon (docs/client.md): the link to its "
		   "gateway, cover\ntraffic, reliable delivery, the encrypted "
		   "store, the control socket.\n\nconfig keys:\n");
	client_config_help(f);
}

static int
cmd_client(int argc, char **argv)
{
	struct client_config cfg;
	enum log_level lvl;
	char err[300];

	if (command_wants_help(argc, argv)) {
		client_usage(stdout);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "--config") != 0) {
		client_usage(stderr);
		return EXIT_USAGE;
	}
	if (client_config_load(argv[2], &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "client: %s\n", err);
		return EXIT_USAGE;
	}
	if (log_level_parse(cfg.log_level, &lvl) < 0) {
		fprintf(stderr, "client: bad log_level '%s'\n", cfg.log_level);
		client_config_free(&cfg);
		return EXIT_USAGE;
	}
	log_init("client", lvl);
	int rc = client_daemon_run(&cfg);
	client_config_free(&cfg);
	return rc;
}

COMMAND(client, "run the client daemon", cmd_client)

/* The human-readable form of a status answer. */
static void
status_print(json_t *j)
{
	json_t *g = json_object_get(j, "gateway");
	json_t *c = json_object_get(j, "consensus");
	json_t *q = json_object_get(j, "queues");
	json_t *r = json_object_get(j, "rates_per_s");
	json_t *s = json_object_get(j, "sent");
	json_t *l = json_object_get(j, "loops");

	printf("gateway link:   %s (%s), %lld connects, clock skew %lld ms\n",
	       json_string_value(json_object_get(g, "link")),
	       json_string_value(json_object_get(g, "state")),
	       json_integer_value(json_object_get(g, "connects")),
	       json_integer_value(json_object_get(g, "clock_skew_ms")));
	printf("consensus:      epoch %lld, %lld nodes, p99 round trip %lld "
	       "ms\n",
	       json_integer_value(json_object_get(c, "epoch")),
	       json_integer_value(json_object_get(c, "nodes")),
	       json_integer_value(json_object_get(c, "rtt_p99_ms")));
	printf("queues:         outbox %lld messages, inbox %lld kept\n",
	       json_integer_value(json_object_get(q, "outbox")),
	       json_integer_value(json_object_get(q, "inbox_kept")));
	const char *names[] = {"send", "loop", "drop", "fetch"};
	printf("streams:       ");
	for (int i = 0; i < 4; i++)
		printf(" %s %.2f/s (%lld)", names[i],
		       json_real_value(json_object_get(r, names[i])),
		       json_integer_value(json_object_get(s, names[i])));
	printf("\nloop returns:   %lld of %lld (ratio %.3f); last %lld due: "
	       "%.3f%s\n",
	       json_integer_value(json_object_get(l, "back")),
	       json_integer_value(json_object_get(l, "sent")),
	       json_real_value(json_object_get(l, "return_ratio")),
	       json_integer_value(json_object_get(l, "window")),
	       json_real_value(json_object_get(l, "window_ratio")),
	       json_is_true(json_object_get(l, "alarm"))
		   ? " ALARM: loops do not come back"
		   : "");
}

static int
cmd_status(int argc, char **argv)
{
	const char *sock = "client.sock";
	bool as_json = false;
	struct client_config cfg;
	char err[300];
	struct buf reply;
	json_error_t je;
	json_t *j = NULL;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = true;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			sock = argv[++i];
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			if (client_config_load(argv[++i], &cfg, err,
					       sizeof(err)) < 0) {
				fprintf(stderr, "status: %s\n", err);
				return EXIT_USAGE;
			}
			static char path[512];
			snprintf(path, sizeof(path), "%s", cfg.control_socket);
			client_config_free(&cfg);
			sock = path;
		} else {
			fprintf(stderr, "usage: backchannel status [--socket "
					"PATH | --config FILE] [--json]\n");
			return command_wants_help(argc, argv) ? 0 : EXIT_USAGE;
		}
	}
	buf_init(&reply);
	if (ctlsock_request(sock, "{\"cmd\":\"status\"}", &reply, 5000, err,
			    sizeof(err)) < 0) {
		fprintf(stderr, "status: %s\n", err);
		goto done;
	}
	j = json_loadb((const char *)reply.data, reply.len, 0, &je);
	if (j == NULL || !json_is_true(json_object_get(j, "ok"))) {
		fprintf(stderr, "status: the client answered garbage\n");
		json_decref(j);
		goto done;
	}
	if (as_json)
		printf("%.*s\n", (int)reply.len, (const char *)reply.data);
	else
		status_print(j);
	json_decref(j);
	rc = 0;
done:
	buf_free(&reply);
	return rc;
}

COMMAND(status, "show how a running client is doing", cmd_status)
