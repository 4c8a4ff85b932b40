/*
 * One message as the user sees it (docs/client-api.md "messages"): text,
 * direction, state and the time each state was reached, and a revision
 * number (client-wide, bumped on every change) so that a poller sees new
 * messages and state changes. Kept in the client store as "msg/<row>".
 */
#ifndef BC_CLIENT_MSGROW_H
#define BC_CLIENT_MSGROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#include "wire/e2e_msg.h"

enum msg_state {
	MSG_QUEUED = 0, /* out */
	MSG_SENT,       /* first fragment left */
	MSG_ACKED,      /* every fragment stored at the peer's gateway */
	MSG_DELIVERED,  /* the peer's client stored it (receipt) */
	MSG_READ,       /* read receipt (out), or marked read (in) */
	MSG_FAILED,     /* given up after the mailbox retention */
	MSG_RECEIVED,   /* in */
	MSG_NSTATES,
};

#define MSG_F_OUT    0x01
#define MSG_F_UNSENT 0x02 /* out, waiting for the ratchet (not encrypted) */

struct msg_row {
	uint64_t row; /* store row, >= 1 */
	uint64_t rev;
	uint64_t contact;
	uint32_t flags;
	enum msg_state state;
	uint8_t id[E2E_MSG_ID_LEN];
	uint8_t arq_id[16];          /* out: the ARQ message carrying it */
	uint64_t times[MSG_NSTATES]; /* wall ms, 0 = not reached */
	uint8_t *text;
	size_t len;
};

void msgrow_free(struct msg_row *m);
void msgrow_store_name(char *out, size_t cap, uint64_t row);
void msgrow_encode(const struct msg_row *m, struct buf *out);
/* NULL if malformed. */
struct msg_row *msgrow_decode(const uint8_t *in, size_t len);

/*
 * Move m to state st at now_ms (records the time of st if not yet set).
 * The state only moves forward in MSG_QUEUED..MSG_READ order; FAILED
 * only from before ACKED. Returns true when anything changed.
 */
bool msgrow_advance(struct msg_row *m, enum msg_state st, uint64_t now_ms);

const char *msgrow_state_name(enum msg_state s);

#endif /* BC_CLIENT_MSGROW_H */
