/*
 * Link commands: what travels inside one transport frame (docs/link.md,
 * "Commands"). A command is one type byte, its fields (integers big-endian),
 * then zero padding up to the link's fixed plaintext size
 * (link_frame_plain_len), so every frame of a link has the same length in
 * both directions, whatever it carries.
 *
 * Pure code: no I/O, no allocation. Decoded byte fields point into the input
 * buffer (zero copy): they are valid as long as that buffer is.
 */
#ifndef BC_WIRE_LINK_CMD_H
#define BC_WIRE_LINK_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "wire/link_err.h"

enum link_cmd_type {
	LINK_CMD_NOOP = 0x00,           /* keepalive; ignored */
	LINK_CMD_SEND_PACKET = 0x01,    /* one Sphinx packet */
	LINK_CMD_FETCH = 0x02,          /* client: give me stored packets */
	LINK_CMD_FETCH_RESPONSE = 0x03, /* gateway: 0..N items + padding */
	LINK_CMD_CONFIRM = 0x04,        /* client: these ids are stored */
	LINK_CMD_REGISTER = 0x05,       /* client: create my account */
	LINK_CMD_GET_CONSENSUS = 0x06,  /* ask for a consensus chunk */
	LINK_CMD_CONSENSUS = 0x07,      /* one numbered consensus chunk */
	LINK_CMD_TIME = 0x08,           /* wall clock, for the skew check */
	LINK_CMD_DISCONNECT = 0x09,     /* closing, with a reason code */
	LINK_CMD_ERROR = 0x0a,          /* status/error code (0 = ok) */
	LINK_CMD_QUEUE_CREATE = 0x0b,   /* client: create a queue (by id) */
	LINK_CMD_QUEUE_DELETE = 0x0c,   /* client: delete and block a queue */
};

/* Bytes of a stored-packet id (fetch items, confirm). */
#define LINK_ID_LEN          16
/* Most items in one fetch response, ids in one confirm (or fetch). */
#define LINK_FETCH_MAX_ITEMS 16
#define LINK_CONFIRM_MAX     32
/* Bytes of a queue id (the Sphinx recipient id naming it). */
#define LINK_QUEUE_ID_LEN    32
/* Longest registration token. */
#define LINK_TOKEN_MAX       256

/*
 * What a fetched item's data holds (docs/gateway.md "Stored items"):
 * kind (1) | tag (32) | payload.  The tag of a message is the queue id it
 * arrived on (the client maps it to a contact or an invitation); the tag of
 * a reply is its SURB id followed by zeros.  Checked by the client, not by
 * this codec: an item is opaque bytes here.
 */
#define LINK_ITEM_TAG_LEN 32
#define LINK_ITEM_HDR     (1 + LINK_ITEM_TAG_LEN)
enum link_item_kind {
	LINK_ITEM_MESSAGE = 1, /* payload: the forward blob, zero-padded */
	LINK_ITEM_REPLY = 2,   /* payload: a reply, encrypted for the SURB's
				* maker */
};

struct link_item {
	uint8_t id[LINK_ID_LEN];
	const uint8_t *data; /* into the decoded buffer */
	size_t len;          /* 1..packet_len */
};

struct link_cmd {
	enum link_cmd_type type;
	union {
		struct {
			const uint8_t *data;
			size_t len; /* == packet_len */
		} packet;
		struct {
			uint32_t seq;
			/* Items of earlier responses the client has stored
			 * (0..link_cmd_fetch_confirms_fit()): the gateway
			 * deletes them before it answers. */
			uint8_t count;
			uint8_t ids[LINK_CONFIRM_MAX][LINK_ID_LEN];
		} fetch;
		struct {
			uint32_t seq;       /* the fetch it answers */
			uint32_t remaining; /* items still stored after these */
			uint8_t count;
			struct link_item items[LINK_FETCH_MAX_ITEMS];
		} fetch_resp;
		struct {
			uint8_t count; /* 1..LINK_CONFIRM_MAX */
			uint8_t ids[LINK_CONFIRM_MAX][LINK_ID_LEN];
		} confirm;
		struct {
			const uint8_t *token;
			size_t len; /* 0..LINK_TOKEN_MAX */
		} reg;
		struct {
			uint8_t id[LINK_QUEUE_ID_LEN];
		} queue; /* QUEUE_CREATE, QUEUE_DELETE */
		struct {
			uint64_t epoch; /* 0 = the current one */
			uint16_t chunk;
		} get_consensus;
		struct {
			uint64_t epoch;
			uint16_t chunk;   /* < nchunks */
			uint16_t nchunks; /* >= 1 */
			uint32_t total;   /* whole document length */
			const uint8_t *data;
			size_t len; /* <= link_cmd_chunk_max() */
		} consensus;
		struct {
			uint64_t wall_ms;
		} time;
		struct {
			uint8_t reason; /* enum link_err */
		} disconnect;
		struct {
			uint8_t code; /* enum link_err; LINK_OK acknowledges */
		} error;
	} u;
};

/* Most consensus bytes one CONSENSUS command carries on this geometry. */
size_t link_cmd_chunk_max(size_t packet_len);
/* Most fetch items of item_len bytes each that fit one frame (<= MAX). */
size_t link_cmd_items_fit(size_t packet_len, size_t item_len);
/* Most confirmed ids one FETCH carries on this geometry (<= CONFIRM_MAX). */
size_t link_cmd_fetch_confirms_fit(size_t packet_len);

/*
 * Encode cmd into out[0..link_frame_plain_len(packet_len)), padding with
 * zeros. Returns LINK_OK, or LINK_ERR_FIELD / LINK_ERR_LENGTH for a command
 * that is invalid or does not fit (out is then unspecified).
 */
enum link_err link_cmd_encode(const struct link_cmd *cmd, size_t packet_len,
			      uint8_t *out, size_t out_len);

/*
 * Decode one command from a frame plaintext of exactly
 * link_frame_plain_len(packet_len) bytes. Every field is range-checked and
 * the padding must be all zero; any deviation is an error code, never a
 * partial result. Returns LINK_OK or the first error found.
 */
enum link_err link_cmd_decode(struct link_cmd *cmd, size_t packet_len,
			      const uint8_t *in, size_t in_len);

/* The command's name ("send_packet"), for logs and tests. */
const char *link_cmd_name(int type);

#endif /* BC_WIRE_LINK_CMD_H */
