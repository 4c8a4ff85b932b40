/*
 * Internal to the authority (authority.c, authority_http.c, signlog.c):
 * the state both threads share. Everything below `mu` is guarded by it.
 */
#ifndef BC_DIR_AUTHORITY_STATE_H
#define BC_DIR_AUTHORITY_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

#include "wire/dir_consensus.h"

#include "dir/authority.h"
#include "dir/authset.h"

#define AUTH_EPOCHS      6    /* epochs of state kept */
#define AUTH_UPLOAD_MAX  4096 /* bytes of one descriptor upload */
#define AUTH_SIGNLOG_MAX 64   /* sign-log entries held in memory */

/* Everything about one target epoch. */
struct auth_epoch {
	bool used;
	uint64_t epoch;
	size_t n_desc;
	struct dir_descriptor *desc; /* uploads, sorted by identity */
	int64_t vote_at_ms;          /* 0: not scheduled */
	bool voted;
	struct buf vote_text;                        /* our vote */
	struct dir_vote *votes[DIR_MAX_AUTHORITIES]; /* by authority index */
	bool computed;             /* cons and body hold our document */
	bool refused;              /* sign log forbids signing it */
	struct dir_consensus cons; /* with the signatures gathered */
	struct buf body;
	uint8_t hash[32];
	struct buf sig_text; /* our /signature answer, once signed */
	bool published;
	struct buf published_text;
	int64_t next_fetch_ms;
	bool short_logged; /* "not enough votes" said once */
};

struct authority {
	struct authority_config cfg;
	struct dir_params params;
	struct dir_authset as;
	int self;
	uint8_t *sk; /* Ed25519 secret, locked memory */
	uint8_t pk[32];
	struct MHD_Daemon *mhd;
	int64_t boot_ms;

	pthread_mutex_t mu;
	struct auth_epoch ep[AUTH_EPOCHS];
	size_t n_signed;
	uint64_t signed_epoch[AUTH_SIGNLOG_MAX];
	uint8_t signed_hash[AUTH_SIGNLOG_MAX][32];
};

/* The state of epoch e; with create, makes it (evicting the oldest). */
struct auth_epoch *auth_epoch_get(struct authority *a, uint64_t e, bool create);

uint64_t auth_current_epoch(const struct authority *a, int64_t now_ms);

/* HTTP thread (authority_http.c). */
int auth_http_start(struct authority *a, char *err, size_t errlen);
void auth_http_stop(struct authority *a);

/* Sign log (signlog.c): DATA/signed.log, one "EPOCH HASHHEX" line per
 * signed document, fsync'd before the signature may leave. */
int auth_signlog_load(struct authority *a, char *err, size_t errlen);
/* 1 if a signed hash for epoch is on record (copied to hash), else 0. */
int auth_signlog_find(const struct authority *a, uint64_t epoch,
		      uint8_t hash[32]);
int auth_signlog_record(struct authority *a, uint64_t epoch,
			const uint8_t hash[32]);

#endif /* BC_DIR_AUTHORITY_STATE_H */
