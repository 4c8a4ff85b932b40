/*
 * The node side of the directory, used by mixes, gateways and the test
 * node: keeps the packet-key schedule, uploads a signed descriptor for the
 * current and next epoch to every authority (retrying until each answers),
 * fetches the current and next consensus from every authority, keeps the
 * last valid one until it expires, and reports the two fatal conditions:
 * a clock more than 30 s off, and two valid consensuses for one epoch.
 * Blocking: call node_dir_step from a worker thread or a start-up loop.
 */
#ifndef BC_DIR_NODE_DIR_H
#define BC_DIR_NODE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#include "wire/dir_consensus.h"

struct node_dir_config {
	const char *authorities; /* KEY@host:port, ... */
	uint64_t genesis;        /* as in the consensus */
	uint32_t epoch_len;
	uint32_t grace;
	const char *identity_key; /* Ed25519 key file */
	const char *key_dir;      /* packet keys live here */
	uint8_t link_key[32];     /* X25519 public link key */
	const char *address;      /* host:port published */
	enum dir_role role;
	uint32_t services;
	const char *version;
};

struct node_dir;

/* Loads the identity key and packet keys. NULL with a reason. */
struct node_dir *node_dir_open(const struct node_dir_config *cfg, char *err,
			       size_t errlen);

enum node_dir_status {
	NODE_DIR_OK,
	NODE_DIR_FATAL, /* clock skew or equivocation: stop the process */
};

/* One round at wall time now_s: clock check, key schedule, uploads,
 * fetches. On NODE_DIR_FATAL, err says why. */
enum node_dir_status node_dir_step(struct node_dir *nd, int64_t now_s,
				   char *err, size_t errlen);

/* Brings the packet keys to time now_s (node_dir_step does it too). */
int node_dir_update_keys(struct node_dir *nd, int64_t now_s, char *err,
			 size_t errlen);

/* The signed descriptor of epoch e (appended to out); with other_key set,
 * signed by that Ed25519 key file instead (a test of rejection). */
int node_dir_descriptor(struct node_dir *nd, uint64_t e, const char *other_key,
			struct buf *out, char *err, size_t errlen);

/* The packet-key schedule held (dir/keysched.h), as node_dir_step last
 * brought it up to date: read it on the thread that calls node_dir_step,
 * between calls.  Valid until node_dir_free. */
struct keysched;
const struct keysched *node_dir_keys(const struct node_dir *nd);

/* Copies the text of the consensus held for the current epoch; false if
 * none is held. Safe from any thread. */
bool node_dir_current(struct node_dir *nd, struct buf *out);

void node_dir_free(struct node_dir *nd); /* NULL-safe */

#endif /* BC_DIR_NODE_DIR_H */
