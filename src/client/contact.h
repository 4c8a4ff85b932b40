/*
 * A contact as the client daemon keeps it (docs/e2e.md "The daemon"): who
 * it is, where our queue for it and its queue for us are, the first-contact
 * state while the handshake runs, the Double Ratchet afterwards, and the
 * keys that seal the fragments of each phase. Encoded for the client store
 * (which encrypts it at rest) by contact_encode / contact_decode.
 *
 * Fragments travel to three kinds of targets, each an ARQ "handle" of its
 * own (contact_handle): the HELLO to the invitation's queue and the
 * WELCOME to the acceptor's reply queue, both sealed under the handshake
 * key from the invitation's secret, then ratchet frames to the peer's
 * queue under the direction's transport key from the handshake.
 */
#ifndef BC_CLIENT_CONTACT_H
#define BC_CLIENT_CONTACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#include "crypto/ratchet.h"
#include "crypto/safety.h"

#include "wire/e2e_msg.h"
#include "wire/firstcontact.h"

#include "client/arq.h"

#define CONTACT_VERSION 1

enum contact_state {
	CONTACT_INVITED = 1, /* invitation out, no HELLO yet */
	CONTACT_ACCEPTING,   /* HELLO sent, no WELCOME yet */
	CONTACT_READY,
	CONTACT_BLOCKED,
};

/* The three send targets of a contact (ARQ contact handles). */
enum contact_target {
	CONTACT_TO_HELLO = 1,   /* acceptor -> invitation queue */
	CONTACT_TO_WELCOME = 2, /* inviter -> acceptor's reply queue */
	CONTACT_TO_RATCHET = 3, /* ratchet frames -> the peer's queue */
};

/* The two receive streams (each with its own ARQ sequence). */
enum contact_stream {
	CONTACT_RX_HS = 0, /* HELLO (inviter) or WELCOME (acceptor) */
	CONTACT_RX_RATCHET = 1,
};

#define CONTACT_F_INVITER    0x01
#define CONTACT_F_RECEIPTS   0x02 /* send read receipts */
#define CONTACT_F_QUEUE_OK   0x04 /* our queue exists at our gateway */
#define CONTACT_F_QUEUE_GONE 0x08 /* blocked: our queue deleted */
#define CONTACT_F_HAVE_PEER  0x10 /* peer gateway and queue known */
#define CONTACT_F_HAVE_KEYS  0x20 /* handshake done: ad, safety, keys */

/* Allocated in locked memory (it holds keys): contact_new/contact_free. */
struct contact {
	uint64_t id; /* >= 1, never reused */
	enum contact_state state;
	uint32_t flags;
	char name[E2E_NAME_MAX + 1];         /* what we call them */
	char peer_name[E2E_NAME_MAX + 1];    /* what they call themselves */
	uint8_t our_queue[E2E_QUEUE_ID_LEN]; /* where they send to us */
	struct e2e_gateway peer_gw;
	uint8_t peer_queue[E2E_QUEUE_ID_LEN];
	uint64_t expiry; /* inviter: the invitation's (unix s) */
	uint64_t created_ms;
	char safety[SAFETY_STR_LEN];
	uint8_t ad[FC_AD_LEN];
	uint8_t hs_key[32];             /* handshake fragments (both ways) */
	uint8_t transport[32];          /* root of tx_key and rx_key */
	uint8_t tx_key[32], rx_key[32]; /* derived, not stored */
	uint64_t tx_seq_hs, tx_seq;     /* last ARQ sequence used per target */
	uint64_t rx_next[2];            /* next ARQ sequence per stream */
	struct fc_inviter *inv;         /* inviter, until and after the HELLO */
	struct fc_acceptor *acc;        /* acceptor, until the WELCOME */
	struct ratchet *ratchet;        /* once the handshake is done */
	/* in memory only */
	struct arq_rx rx[2];
	/* ss_flush found no unsent row of ours since the last row written
	 * unsent (session.c): it need not look through every row again. */
	bool flushed;
	bool queue_inflight;
	uint64_t queue_gen; /* link generation the request went on */
};

struct contact *contact_new(void);
void contact_free(struct contact *c);

/* ARQ handle of one of c's targets, and back. */
uint64_t contact_handle(const struct contact *c, enum contact_target t);
uint64_t contact_handle_id(uint64_t handle);

/*
 * Handshake key of an invitation: HKDF-SHA256(salt = queue id, ikm =
 * secret, info = "backchannel transport v1 handshake").
 */
int contact_hs_key(uint8_t out[32], const uint8_t secret[16],
		   const uint8_t queue[32]) __attribute__((warn_unused_result));

/*
 * tx_key and rx_key from the transport root: HKDF-Expand(root, "backchannel
 * transport v1 acceptor to inviter" or "... inviter to acceptor").
 */
int contact_derive_keys(struct contact *c) __attribute__((warn_unused_result));

/* The store name of c ("peer/<id>") into out (>= 40 bytes). */
void contact_store_name(char *out, size_t cap, uint64_t id);

/* Serialise everything but the in-memory part (secret: wipe after use). */
int contact_encode(const struct contact *c, struct buf *out);
/* NULL if malformed; the ARQ receivers start at the stored sequences. */
struct contact *contact_decode(const uint8_t *in, size_t len);

const char *contact_state_name(enum contact_state s);

#endif /* BC_CLIENT_CONTACT_H */
