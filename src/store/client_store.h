/*
 * The client's store (docs/client.md "Store"): one SQLite file in which
 * everything but the schema version and the key-derivation parameters is
 * encrypted: names, values, message bodies, timestamps, fragment state.
 *
 * The master key comes from a passphrase (Argon2id, salt and costs kept in
 * the clear) or from a 32-byte key file (then HKDF with the salt). Each
 * table column has its own key (HKDF of the master key and the column's
 * name); each value is sealed with XChaCha20-Poly1305 and a fresh nonce,
 * with the column name and the row id as associated data, so a value moved
 * to another row or column no longer opens. Lookups by name use a keyed
 * hash (HMAC-SHA256) of the name, which reveals only equality.
 *
 * Opening with the wrong passphrase or key, or a damaged file, fails with a
 * one-line reason and writes nothing. Every write is one transaction that
 * is on disk (fsynced) when the call returns.
 */
#ifndef BC_STORE_CLIENT_STORE_H
#define BC_STORE_CLIENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/pwkdf.h"

#define CLIENT_STORE_MSGID_LEN 16

struct client_store;

/* How the store's key is given. */
struct client_store_key {
	const char *pass; /* passphrase, or NULL for a raw key */
	size_t pass_len;
	const uint8_t *key;     /* 32 bytes when pass is NULL */
	struct pwkdf_cost cost; /* Argon2id cost for a NEW store; an
				 * existing one uses its own */
};

/* Open or create. NULL with a one-line reason in err on any refusal. */
struct client_store *client_store_open(const char *path,
				       const struct client_store_key *k,
				       char *err, size_t errlen);
void client_store_close(struct client_store *cs); /* NULL is fine */

/* Named values (keys, contacts, counters). */
int client_store_put(struct client_store *cs, const char *name, const void *val,
		     size_t len);
/* 0 and a malloc'd *val (caller frees), 1 when absent, -1 on error. */
int client_store_get(struct client_store *cs, const char *name, uint8_t **val,
		     size_t *len);
int client_store_del(struct client_store *cs, const char *name);

/*
 * Group writes into one transaction: begin, any number of puts, dels and
 * msg_* calls, then commit (0: all on disk) or rollback (none). Nests:
 * only the outermost commit writes. A failed write inside makes the commit
 * fail and roll everything back.
 */
int client_store_begin(struct client_store *cs);
int client_store_commit(struct client_store *cs);
void client_store_rollback(struct client_store *cs);

/*
 * Call fn for every named value whose name starts with prefix (in the
 * order they were first written); stops at fn's first nonzero result,
 * which is returned; -1 on a damaged row. fn must not write to the store.
 */
int client_store_each(struct client_store *cs, const char *prefix,
		      int (*fn)(void *ctx, const char *name, const uint8_t *val,
				size_t len),
		      void *ctx);

/* One message waiting for its acknowledgements. */
struct client_store_msg {
	int64_t row; /* set by add */
	uint64_t contact;
	uint8_t id[CLIENT_STORE_MSGID_LEN];
	uint64_t seq;
	uint64_t queued_ms;
	uint32_t nfrag;
	uint8_t *acked; /* (nfrag + 7) / 8 bytes, bit i: fragment i */
	uint8_t *body;  /* the ciphertext to send */
	size_t body_len;
};

/*
 * Save a message with its fragment list (no fragment acknowledged) in one
 * transaction, before its first send. Sets m->row.
 */
int client_store_msg_add(struct client_store *cs, struct client_store_msg *m);
/* Mark fragment idx of the message in row acknowledged. */
int client_store_msg_ack(struct client_store *cs, int64_t row, uint32_t idx);
/* Delete once every fragment is acknowledged (or given up). */
int client_store_msg_del(struct client_store *cs, int64_t row);
/*
 * Call fn for every stored message, in queue order (fn owns nothing: the
 * message is freed after it returns). Stops at fn's first nonzero result,
 * which is returned; -1 on a damaged row.
 */
int client_store_msg_each(struct client_store *cs,
			  int (*fn)(void *ctx,
				    const struct client_store_msg *m),
			  void *ctx);
size_t client_store_msg_count(struct client_store *cs);

#endif /* BC_STORE_CLIENT_STORE_H */
