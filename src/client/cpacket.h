/*
 * The packets a client sends (docs/client.md "Packets"): a Sphinx forward
 * packet along a fresh route (route.h) whose payload carries a reply block
 * back to our own reply queue, and a blob. Real packets, cover packets to a
 * gateway's echo service and loops all have this one shape; drop packets
 * carry no reply block (the flag sits inside the payload, which only the
 * last hop sees, so the first hops cannot tell).
 *
 * Service recipients at a gateway are the fixed ids of wire/service_id.h
 * (docs/gateway.md): the echo service answers through the reply block, the
 * drop service discards.
 */
#ifndef BC_CLIENT_CPACKET_H
#define BC_CLIENT_CPACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/dir_consensus.h"
#include "wire/service_id.h"
#include "wire/sphinx_geometry.h"

#include "client/route.h"

#define CPACKET_ECHO_ID SERVICE_ID_ECHO
#define CPACKET_DROP_ID SERVICE_ID_DROP

/* The reply-block decryption token of our reply routes. */
#define CPACKET_TOKEN_LEN ((ROUTE_REPLY_HOPS + 1) * SPHINX_KEY_IV_LEN)

/* What a client needs to build its packets. */
struct cpacket_ctx {
	struct sphinx_geometry g; /* from the consensus parameters */
	const struct dir_consensus *c;
	uint64_t epoch;             /* whose packet keys to use */
	const struct dir_node *own; /* our gateway */
	uint8_t own_queue[32];      /* our reply queue there */
};

/* Geometry from the consensus (hops, blob length, reply room); -1 if bad. */
int cpacket_ctx_init(struct cpacket_ctx *x, const struct dir_consensus *c,
		     uint64_t epoch, const struct dir_node *own,
		     const uint8_t own_queue[static 32]);

/*
 * Build one packet for recipient at dest carrying blob (blob_len <=
 * g.blob_len), into pkt (g.packet_len bytes). With reply, a reply block to
 * our queue goes inside: its id is drawn into surb_id and its decryption
 * token written to token (CPACKET_TOKEN_LEN bytes, secret: the caller keeps
 * it in secret memory until the reply comes or times out). Returns 0 or -1.
 */
int cpacket_build(const struct cpacket_ctx *x, const struct dir_node *dest,
		  const uint8_t recipient[static 32], const uint8_t *blob,
		  size_t blob_len, bool reply, uint8_t *pkt,
		  uint8_t surb_id[static SPHINX_SURB_ID_LEN], uint8_t *token);

#endif /* BC_CLIENT_CPACKET_H */
