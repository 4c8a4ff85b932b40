#ifndef BC_APP_TESTNET_H
#define BC_APP_TESTNET_H

/*
 * Shared by cmd_testnet.c (up, status, down) and cmd_testnet_inject.c: the
 * state file DIR/testnet.state that `up` writes, one process per line:
 *   authority|mix|gateway NAME PID LISTEN METRICS LOG KEY
 * (METRICS "-" for authorities; KEY is the base64 Ed25519 identity).
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TESTNET_MAX_PROCS 128

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

#endif
