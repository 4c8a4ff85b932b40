/*
 * Link frames: the length-prefixed records that carry the Noise handshake
 * messages and the encrypted commands over one TCP stream (docs/link.md).
 *
 *   frame = length (2 bytes, big-endian) || body (length bytes)
 *
 * During the handshake the body is one Noise handshake message of a fixed
 * length; afterwards it is one Noise transport message: the AEAD ciphertext
 * of a command padded to the link's fixed plaintext size, plus the 16-byte
 * tag. Every transport frame of a link has the same length, so a length
 * prefix of any other value is rejected before any decryption.
 *
 * Pure code: no I/O, no allocation. The parser never reads past the input.
 */
#ifndef BC_WIRE_LINK_FRAME_H
#define BC_WIRE_LINK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "wire/link_err.h"

/* Bytes of the length prefix. */
#define LINK_FRAME_HDR_LEN      2
/* Largest body a 2-byte prefix can announce (also the Noise maximum). */
#define LINK_FRAME_MAX_BODY     65535
/* The AEAD tag every Noise transport message carries. */
#define LINK_FRAME_TAG_LEN      16
/*
 * Command header room on top of the packet: a transport plaintext is
 * packet_len + LINK_FRAME_SLACK bytes, enough for the largest command header
 * (a fetch response carrying one packet-sized item needs 28).
 */
#define LINK_FRAME_SLACK        64
/* The default Sphinx packet (SPHINX.md): 476 + 32 + 2 + 572 + 2000 bytes. */
#define LINK_PACKET_LEN_DEFAULT 3082
/* Smallest and largest packet a link accepts (the 2-byte prefix bounds it). */
#define LINK_PACKET_LEN_MIN     64
#define LINK_PACKET_LEN_MAX \
	(LINK_FRAME_MAX_BODY - LINK_FRAME_TAG_LEN - LINK_FRAME_SLACK)

/* Plaintext bytes of every transport frame of a link (command + padding). */
size_t link_frame_plain_len(size_t packet_len);
/* Body bytes (ciphertext + tag) of every transport frame. */
size_t link_frame_body_len(size_t packet_len);
/* Bytes on the wire of every transport frame (prefix + body). */
size_t link_frame_wire_len(size_t packet_len);
/* True iff packet_len is within [LINK_PACKET_LEN_MIN, LINK_PACKET_LEN_MAX]. */
int link_frame_packet_len_ok(size_t packet_len);

/* Write the 2-byte prefix for a body of body_len bytes; -1 if too long. */
int link_frame_put_hdr(uint8_t out[static LINK_FRAME_HDR_LEN], size_t body_len);

/*
 * Look for one frame at the start of a stream buffer. The body must be
 * exactly want_len bytes long (a link knows the length of every frame it
 * expects next); any other prefix is LINK_ERR_LENGTH, decided from the two
 * prefix bytes alone. Returns LINK_OK with *body and *frame_len (prefix +
 * body, the bytes to consume) set, LINK_ERR_AGAIN when more bytes are needed
 * (nothing consumed), or LINK_ERR_LENGTH.
 */
enum link_err link_frame_parse(const uint8_t *in, size_t in_len,
			       size_t want_len, const uint8_t **body,
			       size_t *frame_len);

#endif /* BC_WIRE_LINK_FRAME_H */
