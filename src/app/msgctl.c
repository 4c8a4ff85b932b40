/* The messaging commands' shared options and control request (msgctl.h). */
#include "app/msgctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#include "net/ctlsock.h"

#include "client/daemon.h"

const char msgctl_usage[] =
    "  --socket PATH   the client's control socket (default client.sock)\n"
    "  --config FILE   or: the client's config (its control_socket)\n"
    "  --json          print the daemon's answer as it came (JSON)\n";

int
msgctl_bad_arg(const char *cmd, const char *arg)
{
	if (arg != NULL)
		fprintf(stderr,
			"%s: unexpected argument '%s' (see 'backchannel %s "
			"--help')\n",
			cmd, arg, cmd);
	else
		fprintf(stderr,
			"%s: missing arguments (see 'backchannel %s "
			"--help')\n",
			cmd, cmd);
	return 2;
}

void
msgctl_init(struct msgctl *c, const char *cmd)
{
	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	c->sock = "client.sock";
}

int
msgctl_option(struct msgctl *c, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	struct client_config cfg;
	char err[300];
	if (strcmp(a, "--json") == 0) {
		c->json = true;
		return 1;
	}
	if (strcmp(a, "--socket") != 0 && strcmp(a, "--config") != 0)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: %s needs a value\n", c->cmd, a);
		return -1;
	}
	const char *v = argv[++*i];
	if (strcmp(a, "--socket") == 0) {
		c->sock = v;
		return 1;
	}
	if (client_config_load(v, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", c->cmd, err);
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", cfg.control_socket);
	client_config_free(&cfg);
	c->sock = c->path;
	return 1;
}

json_t *
msgctl_call(const struct msgctl *c, json_t *req, int timeout_ms)
{
	char err[300];
	struct buf reply;
	json_t *j = NULL;
	/* json_pack fails (NULL) only on a string that is not UTF-8. */
	char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	buf_init(&reply);
	if (line == NULL) {
		fprintf(stderr, "%s: an argument is not valid UTF-8\n", c->cmd);
		goto done;
	}
	if (strlen(line) >= CTLSOCK_LINE_MAX) {
		fprintf(stderr,
			"%s: the request is too long for the control "
			"socket (%zu bytes, at most %d)\n",
			c->cmd, strlen(line), CTLSOCK_LINE_MAX - 1);
		goto done;
	}
	if (ctlsock_request(c->sock, line, &reply, timeout_ms, err,
			    sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", c->cmd, err);
		goto done;
	}
	if (c->json)
		printf("%.*s\n", (int)reply.len, (const char *)reply.data);
	j = json_loadb((const char *)reply.data, reply.len, 0, NULL);
	if (!json_is_object(j)) {
		fprintf(stderr, "%s: the client answered garbage\n", c->cmd);
		json_decref(j);
		j = NULL;
	} else if (!json_is_true(json_object_get(j, "ok"))) {
		const char *e = json_string_value(json_object_get(j, "error"));
		fprintf(stderr, "%s: %s\n", c->cmd, e ? e : "failed");
		json_decref(j);
		j = NULL;
	}
done:
	free(line);
	buf_free(&reply);
	return j;
}
