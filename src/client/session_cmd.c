/* What the user asks of the end-to-end engine (session.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"

#include "crypto/rand.h"
#include "crypto/secret.h"

#include "wire/invite.h"

#include "client/session_internal.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

static int
ss_check_name(struct sessions *s, const char *name, char *err, size_t errlen)
{
	if (!e2e_name_valid(name, strnlen(name, E2E_NAME_MAX + 1))) {
		ERR("a contact name is 1-64 bytes of UTF-8 without control "
		    "characters");
		return -1;
	}
	if (sessions_find(s, name) != NULL) {
		ERR("there is already a contact named %s", name);
		return -1;
	}
	return 0;
}

/* A new contact stored in its own transaction with what came with it. */
static int
ss_store_new(struct sessions *s, struct contact *c, const struct buf *hello,
	     char *err, size_t errlen)
{
	uint8_t arq_id[ARQ_ID_LEN];

	if (ss_begin(s) < 0)
		goto fail;
	if (ss_put_contact(s, c) < 0 ||
	    (hello != NULL &&
	     (ss_put_target(s, c, CONTACT_TO_HELLO) < 0 ||
	      ss_outbox(s, c, CONTACT_TO_HELLO, ++c->tx_seq_hs, hello->data,
			hello->len, arq_id) < 0))) {
		ss_rollback(s);
		goto fail;
	}
	if (ss_commit(s) < 0)
		goto fail;
	ss_add_contact(s, c);
	return 0;
fail:
	ERR("could not write to the client store");
	return -1;
}

int
sessions_invite(struct sessions *s, const char *name,
		const struct e2e_gateway *own, uint64_t lifetime_s, char *code,
		size_t codecap, uint64_t *expiry, char *err, size_t errlen)
{
	struct invite inv;
	struct contact *c;
	uint64_t now = ss_now_ms();

	if (ss_check_name(s, name, err, errlen) < 0)
		return -1;
	if (lifetime_s == 0 || lifetime_s > 365 * 86400ull) {
		ERR("expires_s must be 1 s to 365 days");
		return -1;
	}
	c = contact_new();
	c->inv = fc_inviter_new(own, s->my_name, now / 1000, lifetime_s, &inv);
	if (c->inv == NULL || invite_encode(&inv, code, codecap) < 0) {
		ERR("cannot make an invitation for our gateway");
		goto fail;
	}
	c->id = ++s->next_contact;
	c->state = CONTACT_INVITED;
	c->flags = CONTACT_F_INVITER | CONTACT_F_RECEIPTS;
	snprintf(c->name, sizeof(c->name), "%s", name);
	memcpy(c->our_queue, inv.queue_id, 32);
	if (contact_hs_key(c->hs_key, inv.secret, inv.queue_id) < 0) {
		ERR("key derivation failed");
		goto fail;
	}
	c->expiry = inv.expiry;
	c->created_ms = now;
	*expiry = inv.expiry;
	invite_wipe(&inv);
	if (ss_store_new(s, c, NULL, err, errlen) < 0)
		goto fail;
	sessions_tick(s); /* the queue at once, when the link is up */
	return 0;
fail:
	invite_wipe(&inv);
	secret_wipe(code, codecap);
	contact_free(c);
	return -1;
}

int
sessions_accept(struct sessions *s, const char *code, const char *name,
		const struct e2e_gateway *own, char *err, size_t errlen)
{
	struct invite inv;
	struct buf hello;
	enum fc_err fe = FC_OK;
	struct contact *c = NULL;
	int rc = -1;

	buf_init(&hello);
	if (ss_check_name(s, name, err, errlen) < 0)
		return -1;
	enum invite_err ie = invite_decode(code, strlen(code), &inv);
	if (ie != INVITE_OK) {
		ERR("%s", invite_strerror(ie));
		return -1;
	}
	/* An invitation works once: the inviter would refuse a second HELLO
	 * and the new contact would wait for ever. */
	for (size_t i = 0; i < s->nc; i++) {
		const struct contact *o = s->c[i];
		bool mine = memcmp(o->our_queue, inv.queue_id, 32) == 0;
		if (mine || memcmp(o->peer_queue, inv.queue_id, 32) == 0) {
			ERR("%s (contact %s)",
			    mine ? "this is one of your own invitations"
				 : "this invitation was already accepted here",
			    o->name);
			invite_wipe(&inv);
			return -1;
		}
	}
	c = contact_new();
	rand_bytes(c->our_queue, 32);
	c->acc = fc_acceptor_new(&inv, s->id_priv, own, c->our_queue,
				 s->my_name, ss_now_ms() / 1000, &hello, &fe);
	if (c->acc == NULL) {
		ERR("%s", fe == FC_ERR_EXPIRED ? "the invitation has expired"
					       : "the invitation is unusable");
		goto done;
	}
	c->id = ++s->next_contact;
	c->state = CONTACT_ACCEPTING;
	c->flags = CONTACT_F_RECEIPTS | CONTACT_F_HAVE_PEER;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->peer_name, sizeof(c->peer_name), "%s", inv.name);
	c->peer_gw = inv.gw;
	memcpy(c->peer_queue, inv.queue_id, 32);
	if (contact_hs_key(c->hs_key, inv.secret, inv.queue_id) < 0) {
		ERR("key derivation failed");
		goto done;
	}
	c->created_ms = ss_now_ms();
	if (ss_store_new(s, c, &hello, err, errlen) < 0)
		goto done;
	c = NULL;
	sessions_tick(s);
	rc = 0;
done:
	invite_wipe(&inv);
	buf_wipe_free(&hello);
	contact_free(c);
	return rc;
}

int
sessions_send(struct sessions *s, const char *to, const uint8_t *text,
	      size_t len, uint8_t id[E2E_MSG_ID_LEN], char *err, size_t errlen)
{
	struct contact *c = sessions_find(s, to);

	if (c == NULL) {
		ERR("no contact named %s", to);
		return -1;
	}
	if (c->state != CONTACT_READY && c->state != CONTACT_ACCEPTING) {
		ERR("%s is %s: cannot send", to, contact_state_name(c->state));
		return -1;
	}
	if (len > E2E_CONTENT_MAX) {
		ERR("the text is longer than %u bytes", E2E_CONTENT_MAX);
		return -1;
	}
	struct msg_row *m =
	    ss_row_new(s, c->id, MSG_F_OUT | MSG_F_UNSENT, text, len);
	rand_bytes(m->id, E2E_MSG_ID_LEN);
	memcpy(id, m->id, E2E_MSG_ID_LEN);
	if (ss_put_row(s, m) < 0) {
		s->nm--;
		msgrow_free(m);
		ERR("could not write to the client store");
		return -1;
	}
	/* Encrypted now if the ratchet can, else once it can. */
	ss_flush(s, c);
	return 0;
}

/* Mark one incoming row read; its id goes into the receipt. */
static int
ss_mark(struct sessions *s, struct msg_row *m, struct buf *ids)
{
	if ((m->flags & MSG_F_OUT) || m->state == MSG_READ)
		return 0;
	msgrow_advance(m, MSG_READ, ss_now_ms());
	if (ss_put_row(s, m) < 0)
		return -1;
	buf_append(ids, m->id, E2E_MSG_ID_LEN);
	return 1;
}

/* One read receipt per contact (ids of up to a padding class). */
static void
ss_read_receipt(struct sessions *s, struct contact *c, const struct buf *ids)
{
	uint8_t id[E2E_MSG_ID_LEN], arq_id[ARQ_ID_LEN];
	size_t max = E2E_CONTENT_MAX / E2E_MSG_ID_LEN * E2E_MSG_ID_LEN;

	if (ids->len == 0 || !(c->flags & CONTACT_F_RECEIPTS) ||
	    c->state != CONTACT_READY)
		return;
	for (size_t off = 0; off < ids->len; off += max) {
		size_t n = ids->len - off < max ? ids->len - off : max;
		rand_bytes(id, sizeof(id));
		if (ss_begin(s) < 0)
			return;
		if (ss_ratchet_send(s, c, E2E_KIND_READ, id, ids->data + off, n,
				    arq_id) != 0 ||
		    ss_put_contact(s, c) < 0) {
			ss_rollback(s);
			ss_reload(s, c);
			return;
		}
		if (ss_commit(s) < 0) {
			ss_reload(s, c);
			return;
		}
	}
}

int
sessions_read(struct sessions *s, const char *contact,
	      const uint8_t (*ids)[E2E_MSG_ID_LEN], size_t nids, size_t *n,
	      char *err, size_t errlen)
{
	struct contact *only = NULL;

	*n = 0;
	if (contact != NULL && (only = sessions_find(s, contact)) == NULL) {
		ERR("no contact named %s", contact);
		return -1;
	}
	for (size_t k = 0; k < s->nc; k++) {
		struct contact *c = s->c[k];
		struct buf got;
		if (only != NULL && c != only)
			continue;
		buf_init(&got);
		for (size_t i = 0; i < s->nm; i++) {
			struct msg_row *m = s->m[i];
			bool want = ids == NULL;
			for (size_t j = 0; j < nids && !want; j++)
				want = memcmp(m->id, ids[j], 16) == 0;
			if (m->contact != c->id || !want)
				continue;
			int r = ss_mark(s, m, &got);
			if (r > 0)
				(*n)++;
		}
		ss_read_receipt(s, c, &got);
		buf_free(&got);
	}
	return 0;
}

int
sessions_block(struct sessions *s, const char *name, char *err, size_t errlen)
{
	struct contact *c = sessions_find(s, name);

	if (c == NULL) {
		ERR("no contact named %s", name);
		return -1;
	}
	if (c->state == CONTACT_BLOCKED)
		return 0;
	c->state = CONTACT_BLOCKED;
	if (ss_put_contact(s, c) < 0) {
		ERR("could not write to the client store");
		return -1;
	}
	/* Nothing more goes to them: drop what waits in the outbox. */
	for (size_t i = s->arq->n; i-- > 0;) {
		struct arq_msg *m = s->arq->msgs[i];
		if (contact_handle_id(m->contact) != c->id)
			continue;
		if (client_store_msg_del(s->store, m->row) < 0)
			log_warn("client: could not delete a queued message");
		arq_remove(s->arq, m);
	}
	c->queue_inflight = false;
	sessions_tick(s);
	return 0;
}

int
sessions_receipts(struct sessions *s, const char *name, bool on, char *err,
		  size_t errlen)
{
	struct contact *c = sessions_find(s, name);

	if (c == NULL) {
		ERR("no contact named %s", name);
		return -1;
	}
	if (on)
		c->flags |= CONTACT_F_RECEIPTS;
	else
		c->flags &= ~(uint32_t)CONTACT_F_RECEIPTS;
	if (ss_put_contact(s, c) < 0) {
		ERR("could not write to the client store");
		return -1;
	}
	return 0;
}
