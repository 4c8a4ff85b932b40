/*
 * Moving to another gateway (docs/e2e.md "Moving to another gateway"): the
 * client notices that its gateway is not the one it recorded, starts
 * draining the old one (gwdrain.c), and gives each contact a fresh queue
 * at the new gateway, told in-band with a control message. A contact told
 * so sends there from then on, in the same ARQ sequence (what it had sent
 * to the old queue is fetched from there), and acknowledges the move with
 * a delivery receipt on the new queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"

#include "crypto/rand.h"

#include "client/session_internal.h"

/* Control content: u8 type | gateway | queue id. Type 1 (the first
 * version, no drain): the receiver restarts its ARQ sequence and sends
 * again what was not delivered. Type 2: same sequence, acknowledged. */
#define MOVE_TYPE_RESEND 1
#define MOVE_TYPE_DRAIN  2
#define OWN_GW           "own_gateway" /* gateway | link key (32) */

static bool
gw_equal(const struct e2e_gateway *a, const struct e2e_gateway *b)
{
	return memcmp(a->key, b->key, 32) == 0 && a->port == b->port &&
	       strcmp(a->host, b->host) == 0;
}

int
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
	buf_append_u8(&b, MOVE_TYPE_DRAIN);
	e2e_gateway_put(&b, gw);
	buf_append(&b, c->our_queue, 32);
	rand_bytes(id, sizeof(id));
	if (ss_begin(s) < 0)
		goto done;
	r = ss_ratchet_send(s, c, E2E_KIND_CONTROL, id, b.data, b.len, arq_id);
	if (r != 0 || ss_put_contact(s, c) < 0) {
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

/* own_gateway: the gateway, then (since the drain) its link key. */
static int
ss_read_own(struct sessions *s, struct e2e_gateway *gw, uint8_t link[32],
	    bool *have_link)
{
	uint8_t *v = NULL;
	size_t n = 0;
	struct rd r;
	int got = client_store_get(s->store, OWN_GW, &v, &n);

	if (got != 0)
		return got;
	rd_init(&r, v, n);
	int rc = e2e_gateway_get(&r, gw) == E2E_OK ? 0 : -1;
	*have_link = rc == 0 && rd_remaining(&r) == 32;
	if (*have_link)
		rd_bytes(&r, link, 32);
	free(v);
	return rc;
}

/* Our gateway is gw (known once the link is ready): moved since? */
void
sessions_check_gateway(struct sessions *s, const struct e2e_gateway *gw,
		       const uint8_t link_key[32], uint64_t drain_ms)
{
	struct e2e_gateway old;
	uint8_t old_link[32];
	bool have_link = false;
	struct buf b;

	if (s->gw_checked)
		return;
	int got = ss_read_own(s, &old, old_link, &have_link);
	if (got < 0) {
		log_warn("client: the recorded gateway does not read; "
			 "recorded again");
		got = 1;
	}
	bool moved = got == 0 && !gw_equal(&old, gw);
	if (got == 0 && !moved && have_link &&
	    memcmp(old_link, link_key, 32) == 0) {
		s->gw_checked = true;
		return;
	}
	buf_init(&b);
	e2e_gateway_put(&b, gw);
	buf_append(&b, link_key, 32);
	/* The drain and the new gateway in one transaction: a crash leaves
	 * both or neither, and the move is then found again. */
	if (ss_begin(s) < 0)
		goto done;
	if ((moved && gwdrain_begin(s, &old, have_link ? old_link : NULL,
				    ss_now_ms() + drain_ms) < 0) ||
	    client_store_put(s->store, OWN_GW, b.data, b.len) < 0) {
		ss_rollback(s);
		goto fail;
	}
	if (ss_commit(s) < 0)
		goto fail;
	s->gw_checked = true;
	if (moved)
		log_notice("client: our gateway changed from %s:%u to %s:%u; "
			   "draining the old one (%zu queue(s))",
			   old.host, old.port, gw->host, gw->port, s->drain.nq);
	goto done;
fail:
	log_warn("client: could not record our gateway; trying again");
	if (gwdrain_load(s) < 0)
		log_warn("client: the drain's state does not read");
done:
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

/* A type-1 move: a new ARQ sequence, every text not known delivered
 * encrypted again on the flush after this transaction (the receiver drops
 * duplicates by id). */
static int
ss_move_resend(struct sessions *s, struct contact *c)
{
	c->tx_seq = 0;
	ss_drop_outbox(s, c);
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
	return 0;
}

/* A contact moved: content = u8 type | gateway | queue id. */
int
ss_on_move(struct sessions *s, struct contact *c, const struct e2e_plain *p)
{
	uint8_t id[E2E_MSG_ID_LEN], arq_id[ARQ_ID_LEN];
	struct e2e_gateway gw;
	uint8_t q[32];
	struct rd r;

	rd_init(&r, p->content, p->content_len);
	uint8_t type = rd_u8(&r);
	if ((type != MOVE_TYPE_RESEND && type != MOVE_TYPE_DRAIN) ||
	    e2e_gateway_get(&r, &gw) != E2E_OK)
		return 1;
	rd_bytes(&r, q, 32);
	if (!rd_ok(&r) || rd_remaining(&r) != 0)
		return 1;
	c->peer_gw = gw;
	memcpy(c->peer_queue, q, 32);
	log_notice("client: %s moved to %s:%u", c->name, gw.host, gw.port);
	if (ss_put_target(s, c, CONTACT_TO_RATCHET) < 0)
		return -1;
	if (type == MOVE_TYPE_RESEND)
		return ss_move_resend(s, c);
	/* Our fragments not yet acknowledged go to the new queue from now
	 * on (the target is read at each send); those stored at the old
	 * one are fetched from there. The receipt on the new queue tells
	 * the mover we switched. */
	rand_bytes(id, sizeof(id));
	return ss_ratchet_send(s, c, E2E_KIND_DELIVERED, id, p->msg_id,
			       E2E_MSG_ID_LEN, arq_id) < 0
		   ? -1
		   : 0;
}
