/*
 * The byte-level state machine of one link end, with no I/O and no event
 * loop: bytes received go in (link_sm_feed), bytes to send and decoded
 * commands come out through callbacks. The libuv code (net/link.c) drives
 * it; the fuzz target fuzz/link_responder.c drives it directly.
 *
 * Handshake: Noise_XK_25519_ChaChaPoly_BLAKE2b with the prologue
 * LINK_PROLOGUE; each handshake message is one length-prefixed frame of a
 * fixed length (docs/link.md). Every check that needs no secret comes
 * first: a first message of the wrong length is refused before any
 * Diffie-Hellman, so garbage costs nothing beyond the two prefix bytes.
 * Then transport frames of one fixed size carry link commands
 * (wire/link_cmd.h); both directions rekey every rekey_frames frames.
 */
#ifndef BC_NET_LINK_SM_H
#define BC_NET_LINK_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/link_cmd.h"
#include "wire/link_err.h"

/* Prologue: ASCII "backchannel-link" then the version, u16 big-endian. */
#define LINK_PROTOCOL_NAME        "Noise_XK_25519_ChaChaPoly_BLAKE2b"
#define LINK_VERSION              1
#define LINK_PROLOGUE_LEN         18
/* Handshake message lengths (docs/link.md, "Handshake"). */
#define LINK_HS1_LEN              48 /* e, es, empty payload + tag */
#define LINK_HS2_LEN              48 /* e, ee, empty payload + tag */
#define LINK_HS3_PAYLOAD_LEN      4
#define LINK_HS3_LEN              (48 + LINK_HS3_PAYLOAD_LEN + 16) /* s, se, payload */
/* Default frames per direction between two rekeys. */
#define LINK_REKEY_FRAMES_DEFAULT 65536u

/* What the initiator says it is (handshake message 3). */
enum link_role {
	LINK_ROLE_CLIENT = 1, /* a client attaching to its gateway */
	LINK_ROLE_NODE = 2,   /* a mix or gateway forwarding packets */
};

/* Callbacks, all invoked from inside link_sm_feed / link_sm_start. */
struct link_sm_ops {
	/* Write these bytes to the peer, in order. Must not fail. */
	void (*send)(void *ctx, const uint8_t *buf, size_t len);
	/* The handshake completed and the peer is authenticated. */
	void (*open)(void *ctx);
	/*
	 * One decoded command (not NOOP, not DISCONNECT: those the state
	 * machine handles). Return LINK_OK to go on, or an error code to
	 * close the link with that reason.
	 */
	enum link_err (*cmd)(void *ctx, const struct link_cmd *cmd);
};

struct link_sm_cfg {
	bool initiator;
	/* Our static X25519 private key; copied into the handshake state. */
	const uint8_t *static_priv;
	/* Initiator: the responder's static public key (required). */
	const uint8_t *remote_pub;
	/* Initiator: the role it announces. */
	enum link_role role;
	size_t packet_len;     /* geometry; both ends must agree */
	uint64_t rekey_frames; /* 0 = LINK_REKEY_FRAMES_DEFAULT */
	/*
	 * Responder: decides whether the initiator's static key may connect
	 * (consensus node list, registered clients, ...). Required.
	 */
	bool (*auth)(void *ctx, const uint8_t key[32]);
	void *auth_ctx;
	struct link_sm_ops ops;
	void *ops_ctx;
};

enum link_sm_state {
	LINK_SM_HANDSHAKE,
	LINK_SM_OPEN,
	LINK_SM_DEAD,
};

struct link_sm;

/* A new state machine; NULL on a bad configuration (never on OOM). */
struct link_sm *link_sm_new(const struct link_sm_cfg *cfg);
void link_sm_free(struct link_sm *sm);
#define LINK_SM_FREE(p)          \
	do {                     \
		link_sm_free(p); \
		(p) = NULL;      \
	} while (0)

/* Initiator: emit handshake message 1 through ops.send. */
enum link_err link_sm_start(struct link_sm *sm);

/*
 * Consume received bytes. Returns LINK_OK while the link lives; any other
 * code means the link must be closed now (the state is then DEAD and every
 * later call returns the same code). Memory use is fixed at creation:
 * bytes are buffered only up to one frame.
 */
enum link_err link_sm_feed(struct link_sm *sm, const uint8_t *in, size_t len);

/* Bytes on the wire of every transport frame of this link. */
size_t link_sm_wire_len(const struct link_sm *sm);

/*
 * Encode, pad and encrypt cmd into out (link_sm_wire_len bytes): a whole
 * frame, prefix included, ready to write. Only when OPEN. Counts the frame
 * for the rekey schedule, so frames must be written in the order sealed.
 */
enum link_err link_sm_seal(struct link_sm *sm, const struct link_cmd *cmd,
			   uint8_t *out);

/* Like link_sm_seal for SEND_PACKET, without building a struct link_cmd. */
enum link_err link_sm_seal_packet(struct link_sm *sm, const uint8_t *pkt,
				  size_t len, uint8_t *out);

/*
 * Encrypt an already encoded plaintext of link_frame_plain_len bytes as
 * is, unchecked: for tests and fuzzing that must send what link_cmd_encode
 * would refuse. Production code uses link_sm_seal.
 */
enum link_err link_sm_seal_raw(struct link_sm *sm, const uint8_t *plain,
			       uint8_t *out);

enum link_sm_state link_sm_state(const struct link_sm *sm);
/* Why the link died (LINK_OK while it lives). */
enum link_err link_sm_error(const struct link_sm *sm);
/* The reason the peer gave in its DISCONNECT, or LINK_OK. */
enum link_err link_sm_peer_reason(const struct link_sm *sm);
/* Once OPEN: the peer's static public key and, responder side, its role. */
const uint8_t *link_sm_peer_key(const struct link_sm *sm);
enum link_role link_sm_peer_role(const struct link_sm *sm);
/* Frames sent and received in transport mode (for tests and stats). */
uint64_t link_sm_frames_sent(const struct link_sm *sm);
uint64_t link_sm_frames_recv(const struct link_sm *sm);

/* The prologue bytes (LINK_PROLOGUE_LEN), for docs and other tools. */
void link_sm_prologue(uint8_t out[static LINK_PROLOGUE_LEN]);

#endif /* BC_NET_LINK_SM_H */
