/*
 * First contact (docs/e2e.md): from an invitation to two Double Ratchet
 * sessions, as pure functions of their inputs (the caller passes the time
 * and moves the bytes). It lives in wire/ because it joins the codecs of
 * wire/ (invitation, payloads, frames) with crypto/ (Noise, ratchet), and
 * crypto/ may not include wire/.
 *
 *   inviter                                         acceptor
 *   fc_inviter_new -> invitation line  ~~ out of band ~~>  invite_decode
 *                                                   fc_acceptor_new
 *              <-- HELLO frame: Noise IKpsk2 message 1 to the one-time
 *                  key; payload e2e_hello (identity, gateway, reply queue,
 *                  name, id), all encrypted
 *   fc_inviter_answer
 *              --> WELCOME frame: IKpsk2 message 2 (psk mixed in); payload
 *                  e2e_welcome (identity, ratchet key, seed, id echo)
 *                                                   fc_acceptor_finish
 *   both: SK || HKa || NHKb = HKDF-SHA256(salt = handshake hash,
 *           ikm = seed || X25519(own identity, peer identity),
 *           info = FC_INFO_RATCHET, 96 bytes);
 *         then 32 more bytes of the same HKDF: the transport root;
 *         acceptor = "Alice" (sends first), inviter = "Bob" (welcome's
 *         ratchet key); AD = acceptor identity || inviter identity;
 *         safety number of the two identity keys.
 *
 * An invitation is answered once: the same HELLO again gets the same
 * WELCOME (FC_RETRANSMIT), another HELLO is refused (FC_ERR_USED), and so
 * is any HELLO after the expiry (FC_ERR_EXPIRED). A HELLO that does not
 * decrypt leaves the invitation unused.
 */
#ifndef BC_WIRE_FIRSTCONTACT_H
#define BC_WIRE_FIRSTCONTACT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#include "crypto/ratchet.h"
#include "crypto/safety.h"

#include "wire/e2e_msg.h"
#include "wire/invite.h"

#define FC_PROTOCOL       "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"
#define FC_PROLOGUE_LABEL "backchannel first contact v1"
#define FC_PSK_LABEL      "backchannel invitation psk v1"
#define FC_INFO_RATCHET   "backchannel first contact v1 ratchet"
#define FC_AD_LEN         (2 * E2E_KEY_LEN)

enum fc_err {
	FC_OK = 0,
	FC_RETRANSMIT,    /* same HELLO again: same answer, no new contact */
	FC_ERR_EXPIRED,   /* the invitation has expired */
	FC_ERR_USED,      /* invitation used by another, or acceptor done */
	FC_ERR_FRAME,     /* not a well-formed frame of the expected type */
	FC_ERR_HANDSHAKE, /* Noise message does not authenticate */
	FC_ERR_PAYLOAD,   /* authenticated payload malformed */
	FC_ERR_IDENTITY,  /* payload identity is not the handshake's */
	FC_ERR_ARG,       /* invalid argument (gateway, name, key) */
};

const char *fc_strerror(enum fc_err e);

/* What each side knows of the other at the end; owns the ratchet. */
struct fc_contact {
	uint8_t peer_identity[E2E_KEY_LEN];
	struct e2e_gateway peer_gw;
	uint8_t peer_queue[E2E_QUEUE_ID_LEN]; /* where to send to the peer */
	char peer_name[E2E_NAME_MAX + 1];     /* the name the peer gave */
	uint8_t hello_id[E2E_MSG_ID_LEN];
	char safety[SAFETY_STR_LEN];
	uint8_t ad[FC_AD_LEN]; /* associated data of every ratchet message */
	/* Secret, the same on both sides: bytes 96..128 of the ratchet
	 * HKDF, the root of the keys that seal the daemon's fragments. */
	uint8_t transport[32];
	struct ratchet *ratchet;
};

void fc_contact_free(struct fc_contact *c);
#define FC_CONTACT_FREE(p)          \
	do {                        \
		fc_contact_free(p); \
		(p) = NULL;         \
	} while (0)

/* ---- Inviter ---- */

struct fc_inviter;

/*
 * A new invitation: fresh queue id, one-time key pair and secret, expiring
 * at now + lifetime_s. *out receives the invitation (it holds the secret:
 * encode it, then invite_wipe). NULL if gw or name is invalid.
 */
struct fc_inviter *fc_inviter_new(const struct e2e_gateway *gw,
				  const char *name, uint64_t now,
				  uint64_t lifetime_s, struct invite *out);

/*
 * Answer a HELLO frame received on the invitation's queue at time now.
 * FC_OK: the WELCOME frame is appended to reply and *out is the new
 * contact (caller frees). FC_RETRANSMIT: the stored WELCOME is appended
 * again, *out is NULL. On errors nothing is appended and the invitation is
 * unchanged.
 */
enum fc_err fc_inviter_answer(struct fc_inviter *inv,
			      const uint8_t identity_priv[static 32],
			      uint64_t now, const uint8_t *frame, size_t len,
			      struct buf *reply, struct fc_contact **out)
    __attribute__((warn_unused_result));

/* The queue id the invitation's HELLO arrives on. */
const uint8_t *fc_inviter_queue(const struct fc_inviter *inv);

void fc_inviter_free(struct fc_inviter *inv);
#define FC_INVITER_FREE(p)          \
	do {                        \
		fc_inviter_free(p); \
		(p) = NULL;         \
	} while (0)

/* ---- Acceptor ---- */

struct fc_acceptor;

/*
 * Accept inv at time now: the HELLO frame is appended to hello. *err says
 * why on NULL (FC_ERR_EXPIRED, FC_ERR_ARG).
 */
struct fc_acceptor *fc_acceptor_new(const struct invite *inv,
				    const uint8_t identity_priv[static 32],
				    const struct e2e_gateway *my_gw,
				    const uint8_t reply_queue[static 32],
				    const char *my_name, uint64_t now,
				    struct buf *hello, enum fc_err *err);

/* The same HELLO bytes again, for retransmission. */
void fc_acceptor_hello(const struct fc_acceptor *a, struct buf *hello);

/*
 * Finish with the inviter's WELCOME frame: *out is the contact. A frame
 * that fails leaves the acceptor able to try the next one. After success
 * the acceptor's secrets are wiped and a later call is FC_ERR_USED (a
 * duplicate WELCOME); the HELLO stays available.
 */
enum fc_err fc_acceptor_finish(struct fc_acceptor *a, const uint8_t *frame,
			       size_t len, struct fc_contact **out)
    __attribute__((warn_unused_result));

void fc_acceptor_free(struct fc_acceptor *a);
#define FC_ACCEPTOR_FREE(p)          \
	do {                         \
		fc_acceptor_free(p); \
		(p) = NULL;          \
	} while (0)

/* ---- Persistence (for the client store, which encrypts it at rest) ---- */

/*
 * A pending or used invitation as FC_INVITER_STATE_LEN bytes: version,
 * used flag, one-time key, psk, binder (zero once used), queue id, gateway
 * key, expiry, hash of the HELLO answered and the WELCOME sent (zero while
 * unused). The parser refuses any other length, version or inconsistent
 * combination. The bytes are secret while unused.
 */
#define FC_INVITER_STATE_LEN (2 + 5 * 32 + 8 + 32 + 1 + E2E_WELCOME_NOISE_LEN)
void fc_inviter_serialize(const struct fc_inviter *inv,
			  uint8_t out[static FC_INVITER_STATE_LEN]);
struct fc_inviter *fc_inviter_deserialize(const uint8_t *in, size_t len);

/*
 * An acceptor waiting for its WELCOME: version, identity key, ephemeral,
 * psk, binder, the invitation's public fields, hello id, u16 length and the
 * hello payload. Appended to out (secret: wipe with buf_wipe_free); -1 for
 * a finished acceptor (its contact holds all that is left). The parser
 * checks every field and that the HELLO can be rebuilt from them.
 */
int fc_acceptor_serialize(const struct fc_acceptor *a, struct buf *out);
struct fc_acceptor *fc_acceptor_deserialize(const uint8_t *in, size_t len);

#endif /* BC_WIRE_FIRSTCONTACT_H */
