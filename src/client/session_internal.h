/* Internal to session*.c: shared helpers of the end-to-end engine. */
#ifndef BC_CLIENT_SESSION_INTERNAL_H
#define BC_CLIENT_SESSION_INTERNAL_H

#include "client/session.h"

/* A fetched item kept in the store until its message is consumed (or
 * given up beyond the parking bounds); its fragment's header and tag (the
 * ARQ receiver holds it, or it is parked: client/arq.h). Sorted by tag. */
struct session_item {
	char name[48]; /* "inbox/<hex id>" */
	uint64_t contact;
	int stream;
	struct arq_rx_park f;
	/* Gone from the store (its message handed up, or deleted): left out
	 * of every look-up, and out of the array when ss_drain ends. */
	bool done;
};

/* An ARQ message written to the outbox in the open transaction, handed
 * to the ARQ only once the transaction commits. */
struct ss_pending {
	uint64_t handle, seq, queued_ms;
	int64_t row;
	uint8_t id[ARQ_ID_LEN];
	uint8_t *body;
	size_t len;
};

/* session.c */
int ss_begin(struct sessions *s);
/* Commit; on success the pending ARQ messages start. -1: rolled back. */
int ss_commit(struct sessions *s);
void ss_rollback(struct sessions *s);
/* After a failed transaction: c's state back from the store. */
void ss_reload(struct sessions *s, struct contact *c);
int ss_put_contact(struct sessions *s, const struct contact *c);
int ss_put_row(struct sessions *s, struct msg_row *m);
int ss_put_target(struct sessions *s, const struct contact *c,
		  enum contact_target t);
int ss_outbox(struct sessions *s, const struct contact *c,
	      enum contact_target t, uint64_t seq, const uint8_t *body,
	      size_t len, uint8_t arq_id[ARQ_ID_LEN]);
/*
 * Encrypt kind/id/content under c's ratchet into a RATCHET frame and put
 * it in the outbox (inside the caller's transaction). 0, 1 when the
 * ratchet cannot send yet (inviter before the first message), -1.
 */
int ss_ratchet_send(struct sessions *s, struct contact *c, enum e2e_kind kind,
		    const uint8_t id[E2E_MSG_ID_LEN], const uint8_t *content,
		    size_t len, uint8_t arq_id[ARQ_ID_LEN]);
/* Send c's messages waiting for the ratchet, oldest first. */
void ss_flush(struct sessions *s, struct contact *c);
struct msg_row *ss_row_new(struct sessions *s, uint64_t contact, uint32_t flags,
			   const uint8_t *text, size_t len);
struct msg_row *ss_row_find(struct sessions *s, uint64_t contact, bool out,
			    const uint8_t id[E2E_MSG_ID_LEN]);
void ss_add_contact(struct sessions *s, struct contact *c);
uint64_t ss_now_ms(void);

/* session_move.c: a contact's move message (p: the plaintext); 1: not
 * one (ignored). */
int ss_on_move(struct sessions *s, struct contact *c,
	       const struct e2e_plain *p);
/* c gets a fresh queue at gw and is told (one transaction). 0; 1 when
 * the ratchet cannot send yet; -1. Either failure: ss_reload(c) after. */
int ss_move_one(struct sessions *s, struct contact *c,
		const struct e2e_gateway *gw);

/* session_rx.c */
void ss_process_item(struct sessions *s, const char *name, const uint8_t *queue,
		     const uint8_t *blob, size_t len);
/* At start: every stored item parked, then fed to the receivers lowest
 * sequence numbers first. */
void ss_replay_inbox(struct sessions *s);
/* c was reloaded from the store: its given-up numbers and its items
 * (parked) back into its receivers. */
void ss_rx_restore(struct sessions *s, struct contact *c);
/* What c's stream misses below the highest number it has will never come
 * (the old gateway's drain was given up): skipped, stored, and what
 * waited behind it handed up. */
void ss_rx_skip_gaps(struct sessions *s, struct contact *c, int stream);
/*
 * A stream's given-up record (rxgone/CID/STREAM) without a store, for
 * fuzz/client_records.c too. encode appends r's ranges (the caller stores
 * nothing when r has none). decode marks every range or number of v gone
 * in r (arq_rx_mark_gone: below next_seq dropped, joined past the bound);
 * it refuses nothing: a value in neither form is read as single numbers,
 * a partial last one ignored.
 */
void ss_rx_gone_encode(const struct arq_rx *r, struct buf *b);
void ss_rx_gone_decode(struct arq_rx *r, const uint8_t *v, size_t n);

#endif /* BC_CLIENT_SESSION_INTERNAL_H */
