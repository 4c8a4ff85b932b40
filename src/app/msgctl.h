/*
 * What every messaging command shares (cmd_invite.c, cmd_contacts.c,
 * cmd_message.c): the options --socket PATH | --config FILE | --json, and
 * one JSON request to the client's control socket (docs/client-api.md).
 */
#ifndef BC_APP_MSGCTL_H
#define BC_APP_MSGCTL_H

#include <jansson.h>
#include <stdbool.h>

struct msgctl {
	const char *cmd; /* the subcommand, for error lines */
	const char *sock;
	bool json;
	char path[512];
};

void msgctl_init(struct msgctl *c, const char *cmd);

/*
 * If argv[*i] is one of the shared options, takes it (and its value) and
 * returns 1; 0 when it is not one; -1 (with a line on stderr) when it is
 * one but bad.
 */
int msgctl_option(struct msgctl *c, int argc, char **argv, int *i);

/* A bad argument: one line on stderr; returns EXIT_USAGE (2). */
int msgctl_bad_arg(const char *cmd, const char *arg);

/* The shared options' lines for a usage text. */
extern const char msgctl_usage[];

/*
 * Sends req (consumed) and returns the answer when it says ok; with --json
 * the raw answer is printed first. NULL (a line on stderr: the daemon's
 * error, or why it could not be asked) otherwise.
 */
json_t *msgctl_call(const struct msgctl *c, json_t *req, int timeout_ms);

#endif /* BC_APP_MSGCTL_H */
