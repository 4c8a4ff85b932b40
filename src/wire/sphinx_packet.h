/*
 * Sphinx packets, suite x25519-v0 (docs/sphinx.md): creation by a client and
 * unwrap by a mix, one hop at a time. Byte-compatible with Katzenpost's
 * published vectors.
 *
 * Unwrap is every mix's hot path: it works in place on the caller's packet
 * buffer, allocates nothing per packet (the context holds all scratch), and
 * leaves the buffer untouched on any failure.
 */
#ifndef BC_WIRE_SPHINX_PACKET_H
#define BC_WIRE_SPHINX_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/sphinx_commands.h"
#include "wire/sphinx_geometry.h"

/* The packet-format version carried in the AD field (clear, MAC-covered). */
#define SPHINX_VERSION_0 0x0000

/*
 * One hop of a path: its node id, its X25519 public key, and its commands
 * other than next hop (creation writes next hop itself, so cmds must not
 * have has_next_hop set). Only the last hop may carry recipient or SURB
 * reply commands.
 */
struct sphinx_path_hop {
	uint8_t id[SPHINX_NODE_ID_LEN];
	uint8_t pub[32];
	struct sphinx_commands cmds;
};

enum sphinx_err {
	SPHINX_OK = 0,
	SPHINX_ERR_LENGTH,        /* not g->packet_len bytes */
	SPHINX_ERR_VERSION,       /* AD is not version 0 */
	SPHINX_ERR_GROUP_ELEMENT, /* alpha gives an all-zero shared secret */
	SPHINX_ERR_MAC,           /* header MAC does not verify */
	SPHINX_ERR_COMMANDS, /* routing commands do not parse or conflict */
	SPHINX_ERR_DELAY,    /* node delay above the caller's maximum */
	SPHINX_ERR_TAG,      /* final hop: payload tag is not zero */
	SPHINX_ERR_PAYLOAD,  /* the payload cipher failed */
	SPHINX_ERR_ARGS,     /* a caller error: bad path, sizes, ... */
};

/* A short constant description, for logs and the CLI. */
const char *sphinx_strerror(enum sphinx_err err);

/*
 * Check that a path of n hops fits g and is well formed: 1 <= n <= g->hops,
 * no next-hop command given, recipient/SURB reply only at the last hop, and
 * each hop's commands fit (with the next hop added for non-final hops).
 */
enum sphinx_err sphinx_path_check(const struct sphinx_geometry *g,
				  const struct sphinx_path_hop *path, size_t n)
    __attribute__((warn_unused_result));

/*
 * Build a header for path into header (g->header_len bytes), and write each
 * hop's payload key and IV (SPHINX_KEY_IV_LEN bytes per hop, hop order) to
 * keyiv (n * SPHINX_KEY_IV_LEN bytes), which the caller must wipe. Draws its
 * randomness from rand_bytes().
 */
enum sphinx_err sphinx_header_create(const struct sphinx_geometry *g,
				     const struct sphinx_path_hop *path,
				     size_t n, uint8_t *header, uint8_t *keyiv)
    __attribute__((warn_unused_result));

/*
 * Build a forward packet of g->packet_len bytes into pkt (pkt_len must be
 * exactly that): the header for path and the user payload (user_len <=
 * g->user_len bytes, zero-padded) behind the zero tag, encrypted for every
 * hop. Send it to path[0].
 */
enum sphinx_err sphinx_packet_create(const struct sphinx_geometry *g,
				     const struct sphinx_path_hop *path,
				     size_t n, const uint8_t *user,
				     size_t user_len, uint8_t *pkt,
				     size_t pkt_len)
    __attribute__((warn_unused_result));

/* What an unwrapped packet asks of this hop. */
enum sphinx_hop_kind {
	SPHINX_HOP_FORWARD,    /* pkt is now the packet for cmds.next_hop_id */
	SPHINX_HOP_FINAL,      /* pkt[payload_off..] is the user payload */
	SPHINX_HOP_SURB_REPLY, /* pkt[payload_off..] is a reply, still
				* encrypted for the SURB's creator */
};

struct sphinx_unwrap_result {
	enum sphinx_hop_kind kind;
	struct sphinx_commands cmds;
	uint8_t replay_tag[SPHINX_REPLAY_TAG_LEN];
	size_t payload_off; /* into the packet buffer (final and reply) */
	size_t payload_len;
};

/* Per-thread unwrap state: scratch for one packet of geometry g. */
struct sphinx_unwrap_ctx;

/* A context for packets of geometry g (copied); never NULL. */
struct sphinx_unwrap_ctx *
sphinx_unwrap_ctx_new(const struct sphinx_geometry *g);

/* Wipe and release; NULL is accepted. */
void sphinx_unwrap_ctx_free(struct sphinx_unwrap_ctx *ctx);
#define SPHINX_UNWRAP_CTX_FREE(c)          \
	do {                               \
		sphinx_unwrap_ctx_free(c); \
		(c) = NULL;                \
	} while (0)

/*
 * Unwrap one hop in place. priv is this node's X25519 private key; a node
 * delay above max_delay_ms is refused. On SPHINX_OK, res says what to do and
 * pkt holds the next hop's packet or the payload; on any error pkt is
 * unchanged and res is zeroed. The replay tag (also sphinx_replay_tag() of
 * the alpha) is in res: record it only after SPHINX_OK.
 */
enum sphinx_err sphinx_unwrap(struct sphinx_unwrap_ctx *ctx,
			      const uint8_t priv[static 32], uint8_t *pkt,
			      size_t len, uint32_t max_delay_ms,
			      struct sphinx_unwrap_result *res)
    __attribute__((warn_unused_result));

#endif /* BC_WIRE_SPHINX_PACKET_H */
