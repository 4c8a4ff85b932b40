/*
 * Sphinx single-use reply blocks (SURBs). A SURB is
 *   header (g->header_len) | first hop id (32) | payload key (48) | iv (16),
 * g->surb_len bytes. Its creator keeps the decryption token: each hop's
 * payload key and IV, last hop first, then the SURB's own, 64 bytes each
 * (sphinx_surb_token_len(n) bytes; the layout of Katzenpost's vectors,
 * where it is called SurbKeys).
 */
#ifndef BC_WIRE_SPHINX_SURB_H
#define BC_WIRE_SPHINX_SURB_H

#include <stddef.h>
#include <stdint.h>

#include "wire/sphinx_geometry.h"
#include "wire/sphinx_packet.h"

/*
 * Create a SURB for path (its last hop should carry a SURB-reply command
 * naming the SURB, and the recipient command of the creator's queue). Writes
 * g->surb_len bytes to surb and sphinx_surb_token_len(n) bytes to token;
 * the token is secret: keep it in secret memory and wipe it after use.
 */
enum sphinx_err sphinx_surb_create(const struct sphinx_geometry *g,
				   const struct sphinx_path_hop *path, size_t n,
				   uint8_t *surb, uint8_t *token)
    __attribute__((warn_unused_result));

/*
 * Use a SURB: write the reply packet (g->packet_len bytes) for user_len <=
 * g->user_len bytes of user payload, and the node to send it to.
 */
enum sphinx_err sphinx_surb_packet(const struct sphinx_geometry *g,
				   const uint8_t *surb, const uint8_t *user,
				   size_t user_len, uint8_t *pkt,
				   uint8_t first_hop[static SPHINX_NODE_ID_LEN])
    __attribute__((warn_unused_result));

/*
 * The creator's side: decrypt, in place, the payload (g->payload_len bytes)
 * of a reply that arrived through the SURB of this token (token_len bytes,
 * for a path of token_len / 64 - 1 hops). On SPHINX_OK the user payload is
 * payload + SPHINX_TAG_LEN; on SPHINX_ERR_TAG (wrong token or a modified
 * packet) the payload is wiped.
 */
enum sphinx_err sphinx_surb_decrypt(const struct sphinx_geometry *g,
				    const uint8_t *token, size_t token_len,
				    uint8_t *payload)
    __attribute__((warn_unused_result));

#endif /* BC_WIRE_SPHINX_SURB_H */
