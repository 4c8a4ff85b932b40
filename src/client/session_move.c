/*
 * Moving to another gateway (docs/e2e.md "Moving to another gateway"): the
 * client notices that its gateway is not the one its contacts know, gives
 * every ready contact a fresh queue at the new gateway and tells it in-band
 * with a control message; a contact told so sends there from then on and
 * sends again what was not delivered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"

#include "crypto/rand.h"

#include "client/session_internal.h"

#define MOVE_TYPE 1 /* control content: u8 type | gateway | queue id */
#define OWN_GW    "own_gateway"

static bool
gw_equal(const struct e2e_gateway *a, const struct e2e_gateway *b)
{
	return memcmp(a->key, b->key, 32) == 0 && a->port == b->port &&
	       strcmp(a->host, b->host) == 0;
}

/* c moves to a new queue at gw: the queue, then the news (one tx). */
static int
ss_move_one(struct sessions *s, struct contact *c, const struct e2e_gateway *gw)
{
	uint8_t id[E2E_MSG_ID_LEN], arq_id[ARQ_ID_LEN], old[32];
	struct buf b;
	int rc = -1, r;

	buf_init(&b);
	memcpy(old, c->our_queue, 32);
	rand_bytes(c->our_queue, 32);
	c->flags &= ~(uint32_t)CONTACT_F_QUEUE_OK;
	c->queue_inflight = false;
	/* What was on its way to the old queue is lost to us: the contact
	 * starts a new ARQ sequence and sends again what is undelivered. */
	c->rx_next[CONTACT_RX_RATCHET] = 1;
	arq_rx_free(&c->rx[CONTACT_RX_RATCHET]);
	arq_rx_init(&c->rx[CONTACT_RX_RATCHET], 1);
	arq_rx_join(&c->rx[CONTACT_RX_RATCHET], &s->rxb);
	buf_append_u8(&b, MOVE_TYPE);
	e2e_gateway_put(&b, gw);
	buf_append(&b, c->our_queue, 32);
	rand_bytes(id, sizeof(id));
	if (ss_begin(s) < 0)
		goto done;
	r = ss_ratchet_send(s, c, E2E_KIND_CONTROL, id, b.data, b.len, arq_id);
	/* The old sequence's items (held or parked) go with it. */
	if (r != 0 || ss_put_contact(s, c) < 0 ||
	    ss_rx_reset(s, c, CONTACT_RX_RATCHET) < 0) {
		ss_rollback(s);
		rc = r > 0 ? 1 : -1;
		goto done;
	}
	rc = ss_commit(s);
done:
	if (rc != 0)
		memcpy(c->our_queue, old, 32); /* ss_reload restores the rest */
	buf_free(&b);
	return rc;
}

/* Our gateway is gw (known once the link is ready): moved since? */
void
sessions_check_gateway(struct sessions *s, const struct e2e_gateway *gw)
{
	uint8_t *v = NULL;
	size_t n = 0;
	struct e2e_gateway old;
	struct rd r;
	struct buf b;

	if (s->gw_checked)
		return;
	int got = client_store_get(s->store, OWN_GW, &v, &n);
	if (got < 0)
		return;
	if (got == 0) {
		rd_init(&r, v, n);
		bool same =
		    e2e_gateway_get(&r, &old) == E2E_OK && gw_equal(&old, gw);
		free(v);
		if (same) {
			s->gw_checked = true;
			return;
		}
		for (size_t i = 0; i < s->nc; i++) {
			struct contact *c = s->c[i];
			if (c->state != CONTACT_READY)
				continue;
			int mv = ss_move_one(s, c, gw);
			if (mv > 0) {
				/* An inviter that never heard from the
				 * contact cannot send: it stays behind. */
				ss_reload(s, c);
				log_warn("client: %s cannot be told about our "
					 "new gateway yet (no message from "
					 "them so far)",
					 c->name);
				continue;
			}
			if (mv < 0) {
				log_warn("client: could not tell %s about our "
					 "new gateway; trying again later",
					 c->name);
				ss_reload(s, c);
				return;
			}
			log_notice("client: told %s about our new gateway",
				   c->name);
		}
	}
	buf_init(&b);
	e2e_gateway_put(&b, gw);
	if (client_store_put(s->store, OWN_GW, b.data, b.len) == 0)
		s->gw_checked = true;
	buf_free(&b);
}

/* The peer's ratchet messages not yet acknowledged: they went to the old
 * place; dropped (the rows are sent again below). */
static void
ss_drop_outbox(struct sessions *s, const struct contact *c)
{
	uint64_t h = contact_handle(c, CONTACT_TO_RATCHET);

	for (size_t i = s->arq->n; i-- > 0;) {
		struct arq_msg *m = s->arq->msgs[i];
		if (m->contact != h)
			continue;
		if (client_store_msg_del(s->store, m->row) < 0)
			log_warn("client: could not delete a queued message");
		arq_remove(s->arq, m);
	}
}

/* A contact moved: content = u8 type | gateway | queue id. */
int
ss_on_move(struct sessions *s, struct contact *c, const uint8_t *content,
	   size_t len)
{
	struct e2e_gateway gw;
	uint8_t q[32];
	struct rd r;

	rd_init(&r, content, len);
	if (rd_u8(&r) != MOVE_TYPE || e2e_gateway_get(&r, &gw) != E2E_OK)
		return 1;
	rd_bytes(&r, q, 32);
	if (!rd_ok(&r) || rd_remaining(&r) != 0)
		return 1;
	c->peer_gw = gw;
	memcpy(c->peer_queue, q, 32);
	c->tx_seq = 0; /* a new ARQ sequence at the new queue */
	ss_drop_outbox(s, c);
	/* Every text not known delivered is encrypted again on the flush
	 * after this transaction (the receiver drops duplicates by id). */
	for (size_t i = 0; i < s->nm; i++) {
		struct msg_row *m = s->m[i];
		if (m->contact == c->id && (m->flags & MSG_F_OUT) &&
		    m->state != MSG_DELIVERED && m->state != MSG_READ &&
		    m->state != MSG_FAILED && !(m->flags & MSG_F_UNSENT)) {
			m->flags |= MSG_F_UNSENT;
			if (ss_put_row(s, m) < 0)
				return -1;
		}
	}
	log_notice("client: %s moved to %s:%u", c->name, gw.host, gw.port);
	return ss_put_target(s, c, CONTACT_TO_RATCHET);
}
