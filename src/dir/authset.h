/*
 * The configured directory authorities: each one's Ed25519 key and HTTP
 * address, as every node, client and authority is configured with them.
 * Threshold rules live here so every user counts the same way.
 */
#ifndef BC_DIR_AUTHSET_H
#define BC_DIR_AUTHSET_H

#include <stddef.h>
#include <stdint.h>

#include "wire/dir_consensus.h"

struct dir_authority {
	uint8_t key[DIR_KEY_LEN];
	char addr[DIR_ADDRESS_MAX + 1]; /* host:port */
};

struct dir_authset {
	size_t n;
	struct dir_authority a[DIR_MAX_AUTHORITIES];
};

/* Parses "KEY@host:port, KEY@host:port, ..." (KEY in base64). Keys must be
 * distinct; 1..16 entries. */
int dir_authset_parse(struct dir_authset *as, const char *spec, char *err,
		      size_t errlen);

/* As dir_authset_parse, but a spec without '@' names a file holding the
 * list (one or more per line): INI lines are too short for long lists. */
int dir_authset_load(struct dir_authset *as, const char *spec, char *err,
		     size_t errlen);

/* floor(N/2) + 1: for listing a node and for a valid consensus. */
size_t dir_authset_threshold(const struct dir_authset *as);

/* Index of key in the set, or -1. */
int dir_authset_find(const struct dir_authset *as,
		     const uint8_t key[DIR_KEY_LEN]);

#endif /* BC_DIR_AUTHSET_H */
