/*
 * Draining the gateway we moved away from (docs/e2e.md "Moving to another
 * gateway"): after a move, the client keeps fetching from its old gateway
 * over a second, fetch-only link (the daemon's part, daemon_drain.c) until
 * every queue it had there is no longer needed, deletes those queues, and
 * forgets the old gateway. This is the end-to-end side: which queues, when
 * each is done, and the record that makes a restart resume the drain.
 *
 * One entry per contact that had a queue at the old gateway. A ready
 * contact is moved (a fresh queue at the new gateway, told in-band) as
 * soon as its ratchet can send; its old queue is done once the contact has
 * switched (something of it arrived on the new queue), and a fetch sent a
 * grace period after that found the old gateway empty: anything the
 * contact sent before switching has then arrived there and been fetched.
 * An open invitation's queue is done at the invitation's expiry, a blocked
 * contact's at once. Every done queue is deleted at the old gateway
 * (QUEUE_DELETE); when none is left the drain ends. At the deadline (the
 * mailbox retention after the move) it is given up.
 *
 * Store record "gwdrain": u8 version | u8 state | old gateway (e2e) |
 * link key (32, zero: look it up in the consensus) | u64 deadline |
 * u64 started | u32 queues left when given up | u16 n | n x (u64 contact |
 * queue (32) | u64 switched ms).
 */
#ifndef BC_CLIENT_GWDRAIN_H
#define BC_CLIENT_GWDRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "wire/e2e_msg.h"

#define GWDRAIN_VERSION 1
#define GWDRAIN_MAX     4096 /* entries kept (one per contact) */

enum gwdrain_state {
	GWDRAIN_NONE = 0,
	GWDRAIN_ACTIVE = 1,
	GWDRAIN_GIVEN_UP = 2,
};

struct gwdrain_queue {
	uint64_t contact;
	uint8_t queue[E2E_QUEUE_ID_LEN]; /* ours at the old gateway */
	uint64_t switched_ms; /* first item on the contact's new queue; 0 */
	/* in memory only */
	bool done;     /* may be deleted at the old gateway */
	bool inflight; /* QUEUE_DELETE sent, no answer yet */
};

struct gwdrain {
	enum gwdrain_state state;
	struct e2e_gateway gw; /* the old gateway: identity, host, port */
	uint8_t link_key[32];  /* its link key; all zero: unknown */
	uint64_t deadline_ms;  /* wall clock: give up then */
	uint64_t started_ms;   /* wall clock of the move */
	uint32_t left;         /* queues not drained when given up */
	struct gwdrain_queue *q;
	size_t nq;
	bool poke; /* a contact may be movable now: try at the next tick */
};

struct sessions;
struct contact;

/*
 * The store record (above) alone, without a store: what gwdrain_load and
 * every save use, and what fuzz/client_records.c decodes. decode fills g
 * (which must hold nothing to free) with a record of state ACTIVE or
 * GIVEN_UP and returns 0; -1 (g untouched): not a whole valid record.
 * encode appends g, whose state is not NONE, to b.
 */
int gwdrain_record_decode(struct gwdrain *g, const uint8_t *v, size_t n);
void gwdrain_record_encode(const struct gwdrain *g, struct buf *b);

/* The record, at start (before the inbox is replayed); -1: damaged. */
int gwdrain_load(struct sessions *s);
void gwdrain_free(struct gwdrain *g);

/*
 * We moved from old (link key old_link, NULL if unknown): every contact's
 * queue becomes an entry, persisted; a drain of another gateway still
 * running is abandoned (logged). 0 or -1.
 */
int gwdrain_begin(struct sessions *s, const struct e2e_gateway *old,
		  const uint8_t *old_link, uint64_t deadline_ms);

/* The contact whose old queue (being drained) queue is; 0: none. */
uint64_t gwdrain_owner(const struct sessions *s, const uint8_t *queue);
/* An item of c arrived on queue: on its current queue, c has switched. */
void gwdrain_seen(struct sessions *s, const struct contact *c,
		  const uint8_t *queue);

/*
 * Periodic work (own: our gateway now, NULL until the link is ready):
 * contacts that can be moved are, entries that are done are marked, and
 * the deadline is checked.
 */
void gwdrain_tick(struct sessions *s, const struct e2e_gateway *own,
		  uint64_t now_ms);
/* A fetch sent at sent_ms found the old gateway empty. */
void gwdrain_on_empty(struct sessions *s, uint64_t sent_ms, uint64_t grace_ms);
/* When a fetch should go to find switched contacts' queues done: the
 * earliest switch plus grace_ms among those not done yet (0: none). */
uint64_t gwdrain_due(const struct sessions *s, uint64_t grace_ms);
/* QUEUE_DELETE every done queue through op (0: sent). */
void gwdrain_deletes(struct sessions *s,
		     int (*op)(void *ctx, const uint8_t id[32]), void *ctx);
/* The old gateway's answer to a QUEUE_DELETE; the last one ends it. */
void gwdrain_on_queue(struct sessions *s, const uint8_t id[32], uint8_t code);
/* The link to the old gateway closed: unanswered deletes go again. */
void gwdrain_link_down(struct sessions *s);
/* Stop draining for good: one log line (why), state given up. */
void gwdrain_give_up(struct sessions *s, const char *why);

const char *gwdrain_state_name(enum gwdrain_state st);

#endif /* BC_CLIENT_GWDRAIN_H */
