/*
 * Sphinx per-hop routing commands: the 82-byte list a hop finds at the front
 * of its decrypted routing information. Encoding (docs/sphinx.md):
 *   01 next hop   id(32) mac(32)
 *   02 recipient  id(32)
 *   03 SURB reply id(16)
 *   80 node delay u32 big-endian milliseconds
 *   00 end of list; every byte after it must be zero.
 * A hop holds at most one command of each kind, so the parsed form is a flat
 * struct rather than a list.
 */
#ifndef BC_WIRE_SPHINX_COMMANDS_H
#define BC_WIRE_SPHINX_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/sphinx_geometry.h"

enum sphinx_cmd_type {
	SPHINX_CMD_NULL = 0x00,
	SPHINX_CMD_NEXT_HOP = 0x01,
	SPHINX_CMD_RECIPIENT = 0x02,
	SPHINX_CMD_SURB_REPLY = 0x03,
	SPHINX_CMD_NODE_DELAY = 0x80,
};

/* Encoded sizes, type byte included. */
#define SPHINX_CMD_NEXT_HOP_LEN   (1 + SPHINX_NODE_ID_LEN + SPHINX_MAC_LEN)
#define SPHINX_CMD_RECIPIENT_LEN  (1 + SPHINX_RECIPIENT_ID_LEN)
#define SPHINX_CMD_SURB_REPLY_LEN (1 + SPHINX_SURB_ID_LEN)
#define SPHINX_CMD_NODE_DELAY_LEN (1 + 4)

struct sphinx_commands {
	bool has_next_hop;
	bool has_recipient;
	bool has_surb_reply;
	bool has_delay;
	uint8_t next_hop_id[SPHINX_NODE_ID_LEN];
	uint8_t next_hop_mac[SPHINX_MAC_LEN];
	uint8_t recipient_id[SPHINX_RECIPIENT_ID_LEN];
	uint8_t surb_id[SPHINX_SURB_ID_LEN];
	uint32_t delay_ms;
};

enum sphinx_cmd_err {
	SPHINX_CMD_OK = 0,
	SPHINX_CMD_ERR_UNKNOWN,   /* a command type we do not know */
	SPHINX_CMD_ERR_TRUNCATED, /* a command runs past the end */
	SPHINX_CMD_ERR_DUPLICATE, /* a second command of one kind */
	SPHINX_CMD_ERR_PADDING,   /* a nonzero byte after the end marker */
};

/*
 * Parse len bytes of routing commands into out. On any error out is zeroed:
 * a caller never sees half a list.
 */
enum sphinx_cmd_err sphinx_commands_parse(struct sphinx_commands *out,
					  const uint8_t *buf, size_t len)
    __attribute__((warn_unused_result));

/* The encoded length of c, without the end marker and padding. */
size_t sphinx_commands_encoded_len(const struct sphinx_commands *c);

/*
 * Encode c into exactly len bytes (the order is next hop, recipient, SURB
 * reply, delay), zero-padded. Returns 0, or -1 when it does not fit.
 */
int sphinx_commands_encode(uint8_t *out, size_t len,
			   const struct sphinx_commands *c);

/* A short constant description of an error, for logs and the CLI. */
const char *sphinx_cmd_strerror(enum sphinx_cmd_err err);

#endif /* BC_WIRE_SPHINX_COMMANDS_H */
