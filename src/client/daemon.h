/*
 * The client daemon (`backchannel client --config FILE`, docs/client.md
 * "Daemon"): one event loop holding the link to the gateway (gwlink.h over
 * net/link.h), the traffic scheduler (sched.h), reliable delivery (arq.h),
 * the encrypted store and the control socket (docs/client-api.md).
 */
#ifndef BC_CLIENT_DAEMON_H
#define BC_CLIENT_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct client_config {
	char *gateway;     /* host:port */
	char *gateway_key; /* base64 X25519 link key */
	char *authorities; /* KEY@host:port, ... (or a file) */
	char *store;       /* path of the store */
	char *passphrase_file;
	char *key_file;
	char *control_socket;
	char *token; /* registration token, "" for none */
	char *log_level;
	char *name;             /* our name in invitations and acceptances */
	int64_t store_cost_mib; /* Argon2id memory of a new store */
	/* After a move: how long the old gateway is drained at most (the
	 * mailbox retention: nothing is kept there longer). */
	int64_t old_gateway_drain_ms;
};

/* Load and check; 0, or -1 with a one-line reason. */
int client_config_load(const char *path, struct client_config *c, char *err,
		       size_t errlen);
void client_config_free(struct client_config *c);
void client_config_help(FILE *f);

/*
 * Run until SIGINT/SIGTERM (exit 0) or a fatal condition (a wrong
 * passphrase, a clock off by more than 30 s, a gateway key not in the
 * consensus, an invalid consensus...: one line on stderr, exit 1).
 */
int client_daemon_run(const struct client_config *c);

#endif /* BC_CLIENT_DAEMON_H */
