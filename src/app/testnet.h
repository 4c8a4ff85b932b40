#ifndef BC_APP_TESTNET_H
#define BC_APP_TESTNET_H

/*
 * Shared by cmd_testnet.c (up, status, down) and cmd_testnet_inject.c: the
 * state file DIR/testnet.state that `up` writes, one process per line:
 *   authority|mix|gateway NAME PID LISTEN METRICS LOG KEY
 * (METRICS "-" for authorities; KEY is the base64 Ed25519 identity), and
 * for the clients of `up --clients N` (cmd_testnet_clients.c):
 *   client NAME PID GATEWAY-NAME - LOG -
 * whose control socket is DIR/NAME/client.sock.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TESTNET_MAX_PROCS   128
#define TESTNET_MAX_CLIENTS 20

struct testnet_proc {
	char kind[16];
	char name[32];
	pid_t pid;
	char listen[64];
	char metrics[64];
	char log[512];
	char key[64];
};

struct testnet_state {
	size_t n;
	struct testnet_proc p[TESTNET_MAX_PROCS];
	char authorities[2048]; /* KEY@host:port, ... */
};

int testnet_state_load(const char *dir, struct testnet_state *st);
const struct testnet_proc *testnet_find(const struct testnet_state *st,
					const char *name);
/* Fetches and verifies the current consensus from the authorities;
 * text (caller frees) or NULL. */
char *testnet_consensus(const struct testnet_state *st, size_t *len);

int testnet_inject(int argc, char **argv);

/* Writes text to path (mode 0600); 0 or -1. */
int testnet_write_text(const char *path, const char *text);
/* Starts `self <client|authority|node> --config cfg` in its own session,
 * output appended to log; the child's pid or -1. */
pid_t testnet_spawn(const char *self, const char *kind, const char *cfg,
		    const char *log);

/* Clients (cmd_testnet_clients.c). add: n clients' directories, key files
 * and configs, recorded in st (not started); start: spawns those not
 * running; wait: until every client's gateway link is ready. 0 or -1 with
 * a line on stderr. */
int testnet_clients_add(struct testnet_state *st, const char *dir, long n,
			const char *log_level);
int testnet_clients_start(struct testnet_state *st, const char *dir,
			  const char *self);
int testnet_clients_wait(const struct testnet_state *st, const char *dir,
			 int timeout_s);
/* DIR/NAME/client.sock into out; -1 when it does not fit a socket path. */
int testnet_client_socket(const char *dir, const char *name, char *out,
			  size_t cap);
/* One `testnet status` row for a running client. */
void testnet_client_status(const char *dir, const struct testnet_proc *p);

#endif
