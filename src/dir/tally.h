/*
 * Turning votes into a consensus, deterministically: every authority holding
 * the same votes computes the same bytes. A node is listed when at least
 * `threshold` votes carry its identical descriptor; mixes get layers by a
 * per-epoch hash order (docs/directory.md, "Layer assignment").
 */
#ifndef BC_DIR_TALLY_H
#define BC_DIR_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/dir_consensus.h"

/* Builds the unsigned consensus of epoch from n votes (each from a distinct
 * authority, already verified, each for epoch). out is owned by the caller
 * (dir_consensus_clear). */
void dir_tally(const struct dir_vote *const *votes, size_t n, size_t threshold,
	       uint64_t epoch, const struct dir_params *params,
	       struct dir_consensus *out);

/* Sets the layer of every mix in c (gateways get 0). */
void dir_assign_layers(struct dir_consensus *c);

/* True when c's layers are exactly what dir_assign_layers gives. */
bool dir_layers_ok(const struct dir_consensus *c);

/* SHA-256 of a document body, and its hex (65 bytes with NUL). */
void dir_body_hash(const void *body, size_t len, uint8_t out[32]);
void dir_hash_hex(const uint8_t h[32], char out[65]);

#endif /* BC_DIR_TALLY_H */
