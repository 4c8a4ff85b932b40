/*
 * The end-to-end engine of the client daemon (docs/e2e.md "The daemon"):
 * contacts made from invitations (first contact over ARQ), messages through
 * the Double Ratchet and padding, receipts, blocking. It owns the contacts
 * and message rows, writes them to the client store, and hands frames to
 * the daemon's ARQ (outbox rows + arq_add); the daemon calls it back when
 * items arrive, fragments leave and acknowledgements come.
 *
 * Durability: every step that changes a ratchet writes, in one store
 * transaction, the new ratchet state together with what it produced (the
 * outbox row of a frame, the message row of a received text), so a crash
 * loses no message and never encrypts different plaintexts under one key.
 * Fetched items are stored before the gateway is told to delete them, and
 * deleted only in the transaction that consumes their message.
 */
#ifndef BC_CLIENT_SESSION_H
#define BC_CLIENT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/client_store.h"
#include "wire/e2e_msg.h"

#include "client/arq.h"
#include "client/contact.h"
#include "client/gwdrain.h"
#include "client/msgrow.h"

struct session_ops {
	/* Create or delete our queue at our gateway; -1: not now. The
	 * answer comes back through session_on_queue. */
	int (*queue_op)(void *ctx, bool create, const uint8_t id[32]);
	void *ctx;
};

struct session_item; /* internal */
struct ss_pending;   /* internal */

struct sessions {
	struct client_store *store;
	struct arq *arq;
	struct session_ops ops;
	uint8_t *id_priv; /* secret: our identity key */
	uint8_t id_pub[32];
	char my_name[E2E_NAME_MAX + 1];
	struct contact **c;
	size_t nc;
	/* Every contact's receiving streams share it: the bytes of
	 * incomplete messages over all contacts (client/arq.h). */
	struct arq_rx_budget rxb;
	struct msg_row **m;
	size_t nm;
	/* A set of fingerprints of every row's (contact, direction, id) ever
	 * written or loaded: a superset, so a miss is sure (session.c). */
	uint64_t *rowfp;
	size_t rowfp_n, rowfp_cap;
	uint64_t rowfp_key[2]; /* random: slots no sender can aim at */
	uint64_t rev, next_contact, next_row;
	struct session_item *items; /* fetched items not consumed yet */
	size_t nitems;
	size_t items_done;     /* of them gone, left until ss_drain ends */
	uint64_t item_tag;     /* the last tag given to an item */
	uint64_t park_dropped; /* messages given up beyond the parking bounds */
	uint64_t park_dropped_items;
	bool rx_failed;    /* a received message did not store: stop for now */
	uint64_t link_gen; /* bumped when the link to our gateway closes */
	uint64_t dropped;  /* items no key opened */
	struct ss_pending *pend; /* outbox rows of the open transaction */
	size_t npend;
	bool gw_checked; /* our gateway compared with the one announced */
	struct gwdrain drain; /* our old gateway after a move (gwdrain.h) */
};

/* Load everything; 0, or -1 with a one-line reason (damaged store). */
int sessions_open(struct sessions *s, struct client_store *cs, struct arq *arq,
		  const struct session_ops *ops, const char *my_name, char *err,
		  size_t errlen);
void sessions_close(struct sessions *s);

/* Error strings for the control socket go to err (one line). */
int sessions_invite(struct sessions *s, const char *name,
		    const struct e2e_gateway *own, uint64_t lifetime_s,
		    char *code, size_t codecap, uint64_t *expiry, char *err,
		    size_t errlen);
int sessions_accept(struct sessions *s, const char *code, const char *name,
		    const struct e2e_gateway *own, char *err, size_t errlen);
int sessions_send(struct sessions *s, const char *to, const uint8_t *text,
		  size_t len, uint8_t id[E2E_MSG_ID_LEN], char *err,
		  size_t errlen);
/* Mark incoming messages read (of contact, or the ids); count in *n. */
int sessions_read(struct sessions *s, const char *contact,
		  const uint8_t (*ids)[E2E_MSG_ID_LEN], size_t nids, size_t *n,
		  char *err, size_t errlen);
int sessions_block(struct sessions *s, const char *name, char *err,
		   size_t errlen);
int sessions_receipts(struct sessions *s, const char *name, bool on, char *err,
		      size_t errlen);

struct contact *sessions_find(struct sessions *s, const char *name);
struct contact *sessions_find_id(struct sessions *s, uint64_t id);

/*
 * A fetched message item (id from the gateway, the queue it arrived on or
 * NULL when the gateway did not say, the blob). 0 once it is stored (the
 * daemon may confirm it), -1 to leave it at the gateway.
 */
int sessions_on_item(struct sessions *s, const uint8_t item_id[16],
		     const uint8_t *queue, const uint8_t *blob, size_t len);

/* The daemon's ARQ events: a fragment of message arq_id left; the
 * message was acknowledged entirely; it was given up. */
void sessions_on_sent(struct sessions *s, const uint8_t arq_id[16]);
void sessions_on_acked(struct sessions *s, const uint8_t arq_id[16]);
void sessions_on_failed(struct sessions *s, const uint8_t arq_id[16]);

/* The answer to a queue request; the link closed (requests lost). */
void sessions_on_queue(struct sessions *s, bool create, const uint8_t id[32],
		       uint8_t code);
void sessions_link_down(struct sessions *s);
/*
 * Our gateway (once the link is ready; link_key: its link key): if it is
 * not the one recorded, we moved: the old one is drained for up to
 * drain_ms (gwdrain.h), and every contact gets a fresh queue at the new
 * gateway and is told in-band as soon as it can be (session_move.c).
 * Checked once per start.
 */
void sessions_check_gateway(struct sessions *s, const struct e2e_gateway *gw,
			    const uint8_t link_key[32], uint64_t drain_ms);
/* Periodic work: queue requests to (re)send. */
void sessions_tick(struct sessions *s);

#endif /* BC_CLIENT_SESSION_H */
