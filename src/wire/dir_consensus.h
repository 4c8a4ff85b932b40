/*
 * Vote and consensus documents of the directory authorities (format and
 * limits: docs/directory.md). A vote is one authority's signed list of the
 * descriptors it holds for an epoch; the consensus is the network parameters
 * plus the node list with each mix's layer, followed by the authorities'
 * signatures over the body. Pure codec: no signing, no verifying, no clock.
 */
#ifndef BC_WIRE_DIR_CONSENSUS_H
#define BC_WIRE_DIR_CONSENSUS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#include "wire/dir_descriptor.h"

#define DIR_MAX_NODES       512
#define DIR_MAX_AUTHORITIES 16
#define DIR_LAYERS          3
#define DIR_DOC_MAX         (1u << 20) /* bytes of a vote or consensus */

/* Everything clients must share, or they become distinguishable. Rates are
 * thousandths per second; times as named. */
struct dir_params {
	uint64_t genesis; /* unix seconds at which epoch 0 starts */
	uint32_t epoch_len_s;
	uint32_t grace_s;       /* old packet key kept this long */
	uint32_t hops;          /* Sphinx geometry: hops per route */
	uint32_t blob_len;      /* bytes of payload blob */
	uint32_t mean_delay_ms; /* mean per-hop delay */
	uint32_t max_delay_ms;  /* a mix refuses longer delays */
	uint32_t lambda_p;      /* sending stream */
	uint32_t lambda_l;      /* loop stream */
	uint32_t lambda_d;      /* drop stream */
	uint32_t lambda_f;      /* fetch schedule */
	uint32_t mix_loop;      /* mix loop rate */
};

/* 0 if every parameter is within the limits docs/directory.md gives. */
int dir_params_check(const struct dir_params *p, char *err, size_t errlen);

struct dir_vote {
	uint64_t epoch;
	uint8_t authority[DIR_KEY_LEN];
	size_t n_desc;
	struct dir_descriptor *desc; /* owned; sorted by identity */
	uint8_t signature[DIR_SIG_LEN];
};

struct dir_node {
	uint32_t layer; /* 1..DIR_LAYERS for a mix, 0 for a gateway */
	struct dir_descriptor desc;
};

struct dir_signature {
	uint8_t authority[DIR_KEY_LEN];
	uint8_t sig[DIR_SIG_LEN];
};

struct dir_consensus {
	uint64_t epoch;
	uint64_t valid_after; /* unix seconds */
	uint64_t valid_until;
	struct dir_params params;
	size_t n_nodes;
	struct dir_node *nodes; /* owned; sorted by identity */
	size_t n_sigs;
	struct dir_signature sigs[DIR_MAX_AUTHORITIES]; /* sorted by key */
};

/* Vote: the body is every line before "vote-signature". */
int dir_vote_encode_body(const struct dir_vote *v, struct buf *b);
int dir_vote_encode(const struct dir_vote *v, struct buf *b);
int dir_vote_parse(const char *text, size_t len, struct dir_vote *out,
		   size_t *body_len, char *err, size_t errlen);
void dir_vote_clear(struct dir_vote *v); /* frees desc; NULL-safe */

/* Consensus: the body is every line before the first
 * "authority-signature"; zero signatures is a valid encoding (the body
 * alone), the verifier in src/dir decides whether enough are present. */
int dir_consensus_encode_body(const struct dir_consensus *c, struct buf *b);
int dir_consensus_encode(const struct dir_consensus *c, struct buf *b);
int dir_consensus_parse(const char *text, size_t len, struct dir_consensus *out,
			size_t *body_len, char *err, size_t errlen);
void dir_consensus_clear(struct dir_consensus *c); /* NULL-safe */

/* Inserts a signature keeping sigs sorted; -1 if full or present. */
int dir_consensus_add_sig(struct dir_consensus *c,
			  const struct dir_signature *s);

#endif /* BC_WIRE_DIR_CONSENSUS_H */
