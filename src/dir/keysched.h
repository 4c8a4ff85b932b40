/*
 * Epoch arithmetic and the node's packet-key schedule (docs/directory.md).
 *
 * A node holds X25519 packet keys for the current epoch and the next three
 * (a descriptor for epoch e publishes e, e+1, e+2, and the node uploads the
 * next epoch's descriptor during the current one), plus the previous epoch's
 * key until `grace` seconds into the current epoch, for packets still in
 * flight. Each key is generated once, kept in DIR/packet-EPOCH.key (mode 0600,
 * refused if others can read it) and in locked memory while loaded; an expired
 * key's file is overwritten and removed, and its memory wiped.
 */
#ifndef BC_DIR_KEYSCHED_H
#define BC_DIR_KEYSCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/secret.h"

/* epoch = floor((now - genesis) / len); 0 before genesis. */
uint64_t dir_epoch_at(uint64_t genesis, uint32_t len, int64_t now_s);
/* Unix second at which epoch starts. */
int64_t dir_epoch_start(uint64_t genesis, uint32_t len, uint64_t epoch);

#define KEYSCHED_AHEAD 3 /* keys held beyond the current epoch */
#define KEYSCHED_SLOTS (KEYSCHED_AHEAD + 2) /* and current, previous */

struct keysched_key {
	bool used;
	uint64_t epoch;
	uint8_t pub[32];
	struct secret32 *priv; /* locked memory, owned */
};

struct keysched {
	char *dir; /* owned */
	uint64_t genesis;
	uint32_t epoch_len;
	uint32_t grace;
	struct keysched_key keys[KEYSCHED_SLOTS];
};

/* Prepares a schedule over directory dir (created mode 0700 if missing). */
int keysched_open(struct keysched *ks, const char *dir, uint64_t genesis,
		  uint32_t epoch_len, uint32_t grace, char *err, size_t errlen);

/* Brings the held keys to time now: loads or generates the keys of the
 * current and next KEYSCHED_AHEAD epochs, keeps the previous one while inside
 * the grace window, erases every other. */
int keysched_update(struct keysched *ks, int64_t now_s, char *err,
		    size_t errlen);

/* The key of an epoch if held, else NULL. */
const struct keysched_key *keysched_get(const struct keysched *ks,
					uint64_t epoch);

/* Wipes and frees every loaded key (files stay). NULL-safe. */
void keysched_close(struct keysched *ks);

#endif /* BC_DIR_KEYSCHED_H */
