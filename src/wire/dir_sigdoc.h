/*
 * The signature document an authority serves at GET /signature/T: its
 * signature over the consensus body of epoch T, with that body's SHA-256 so
 * a mismatch can be named. Format: docs/directory.md. Pure codec.
 */
#ifndef BC_WIRE_DIR_SIGDOC_H
#define BC_WIRE_DIR_SIGDOC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#include "wire/dir_consensus.h"

#define DIR_SIGDOC_MAX 512

struct dir_sigdoc {
	uint64_t epoch;
	uint8_t hash[32]; /* SHA-256 of the consensus body signed */
	struct dir_signature sig;
};

int dir_sigdoc_encode(const struct dir_sigdoc *s, struct buf *b);

/* Strict and canonical, like the other documents; -1 with a reason. */
int dir_sigdoc_parse(const char *text, size_t len, struct dir_sigdoc *out,
		     char *err, size_t errlen);

#endif /* BC_WIRE_DIR_SIGDOC_H */
