/*
 * Directory authority (docs/directory.md, "Authority protocol"): takes
 * descriptor uploads over HTTP, and for each epoch votes, exchanges votes,
 * computes the consensus deterministically, signs it (at most one document
 * per epoch, recorded on disk first), exchanges signatures and publishes.
 * One HTTP thread (libmicrohttpd) and the caller's thread running the timer
 * loop (authority_run) share the state under one mutex.
 */
#ifndef BC_DIR_AUTHORITY_H
#define BC_DIR_AUTHORITY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"

#include "wire/dir_consensus.h"

/* What the [authority] and [network] sections of the config give. */
struct authority_config {
	char *identity_key;
	char *listen;
	char *data_dir;
	char *authorities;
	int64_t bootstrap_delay_ms;
	int64_t vote_window_ms;
	char *log_level;
	int64_t genesis;
	int64_t epoch_length_ms;
	int64_t grace_ms;
	int64_t hops;
	int64_t blob_length;
	int64_t mean_delay_ms;
	int64_t max_delay_ms;
	double lambda_p;
	double lambda_l;
	double lambda_d;
	double lambda_f;
	double mix_loop_rate;
};

extern const struct config_key authority_config_keys[];
extern const size_t authority_config_nkeys;

/* The network parameters a config describes; -1 with a reason if out of
 * range. Shared with the test node, whose [network] section is the same. */
int authority_config_params(const struct authority_config *cfg,
			    struct dir_params *p, char *err, size_t errlen);

struct authority;

/* Loads keys and state, starts the HTTP thread. NULL with a reason. */
struct authority *authority_start(const struct authority_config *cfg, char *err,
				  size_t errlen);

/* Runs the timer loop until *stop becomes non-zero. */
void authority_run(struct authority *a, volatile sig_atomic_t *stop);

/* Stops the HTTP thread, wipes keys, frees everything. NULL-safe. */
void authority_free(struct authority *a);

#endif /* BC_DIR_AUTHORITY_H */
