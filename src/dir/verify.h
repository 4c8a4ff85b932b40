/*
 * Consensus verification, as every node and client does it: parse, check
 * the layer assignment, the validity interval and a threshold of signatures
 * from the configured authority keys. Also the equivocation check: two
 * different valid consensuses for one epoch are a hard error naming both.
 */
#ifndef BC_DIR_VERIFY_H
#define BC_DIR_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/dir_consensus.h"

#include "dir/authset.h"

#define DIR_CLOCK_SKEW_MAX 30 /* seconds: further off, a process stops */

enum dir_verify_when {
	DIR_VERIFY_NOW,    /* must be valid at `now` */
	DIR_VERIFY_FUTURE, /* may also not be valid yet (the next one) */
};

/* Verifies text; on success fills out (caller clears) and hash (SHA-256 of
 * the body). -1 with a one-line reason otherwise. */
int dir_verify_consensus(const char *text, size_t len,
			 const struct dir_authset *as, int64_t now,
			 enum dir_verify_when when, struct dir_consensus *out,
			 uint8_t hash[32], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Number of distinct configured authorities whose signature over body
 * verifies. */
size_t dir_count_signatures(const struct dir_consensus *c, const void *body,
			    size_t body_len, const struct dir_authset *as);

/* Remembers the body hash of the valid consensus seen for recent epochs. */
#define DIR_SEEN_MAX 8
struct dir_seen {
	size_t n;
	uint64_t epoch[DIR_SEEN_MAX];
	uint8_t hash[DIR_SEEN_MAX][32];
};

/* Records (epoch, hash); -1 if a different hash is already recorded for
 * that epoch, with a message naming both hashes. */
int dir_seen_check(struct dir_seen *s, uint64_t epoch, const uint8_t hash[32],
		   char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif /* BC_DIR_VERIFY_H */
