/* The receiving side of the end-to-end engine (session.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/codec.h"
#include "lib/log.h"

#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/xaead.h"

#include "client/session_internal.h"

static struct log_ratelim rl_drop = LOG_RATELIM_INIT(60000);

/* Which contact and stream a blob belongs to: the key that opens it. */
static struct contact *
ss_open_blob(struct sessions *s, const uint8_t *queue, const uint8_t *blob,
	     uint8_t *plain, int *stream)
{
	size_t blen = s->arq->blob_len;

	for (size_t i = 0; i < s->nc; i++) {
		struct contact *c = s->c[i];
		if (c->state == CONTACT_BLOCKED ||
		    (queue != NULL && memcmp(queue, c->our_queue, 32) != 0))
			continue;
		/* The handshake key stays valid for retransmissions. */
		if (arq_unwrap(plain, blob, blen, c->hs_key) == 0) {
			*stream = CONTACT_RX_HS;
			return c;
		}
		if ((c->flags & CONTACT_F_HAVE_KEYS) &&
		    arq_unwrap(plain, blob, blen, c->rx_key) == 0) {
			*stream = CONTACT_RX_RATCHET;
			return c;
		}
	}
	return NULL;
}

/* Fill c from the finished handshake (takes the ratchet). */
static int
ss_take_fc(struct contact *c, struct fc_contact *fc)
{
	c->peer_gw = fc->peer_gw;
	memcpy(c->peer_queue, fc->peer_queue, 32);
	memcpy(c->peer_name, fc->peer_name, sizeof(c->peer_name));
	memcpy(c->safety, fc->safety, sizeof(c->safety));
	memcpy(c->ad, fc->ad, sizeof(c->ad));
	memcpy(c->transport, fc->transport, 32);
	RATCHET_FREE(c->ratchet);
	c->ratchet = fc->ratchet;
	fc->ratchet = NULL;
	c->flags |= CONTACT_F_HAVE_PEER | CONTACT_F_HAVE_KEYS;
	c->state = CONTACT_READY;
	return contact_derive_keys(c);
}

/* Inviter: a HELLO on the invitation's queue. */
static int
ss_on_hello(struct sessions *s, struct contact *c, const uint8_t *data,
	    size_t len)
{
	struct fc_contact *fc = NULL;
	struct buf reply;
	uint8_t arq_id[ARQ_ID_LEN];
	int rc = 0;

	if (c->inv == NULL)
		return 0;
	buf_init(&reply);
	enum fc_err e = fc_inviter_answer(
	    c->inv, s->id_priv, ss_now_ms() / 1000, data, len, &reply, &fc);
	if (e == FC_OK) {
		if (ss_take_fc(c, fc) < 0 ||
		    ss_put_target(s, c, CONTACT_TO_WELCOME) < 0 ||
		    ss_put_target(s, c, CONTACT_TO_RATCHET) < 0)
			rc = -1;
		log_notice("client: contact %s accepted our invitation",
			   c->name);
	} else if (e != FC_RETRANSMIT) {
		log_ratelim(&rl_drop, LOG_LVL_WARN,
			    "client: a first message "
			    "for an invitation was refused: %s",
			    fc_strerror(e));
	}
	/* The same WELCOME for a HELLO sent again as a new message. */
	if (rc == 0 && (e == FC_OK || e == FC_RETRANSMIT) &&
	    ss_outbox(s, c, CONTACT_TO_WELCOME, ++c->tx_seq_hs, reply.data,
		      reply.len, arq_id) < 0)
		rc = -1;
	FC_CONTACT_FREE(fc);
	buf_wipe_free(&reply);
	return rc;
}

/* Acceptor: the WELCOME on our reply queue; then speak first. */
static int
ss_on_welcome(struct sessions *s, struct contact *c, const uint8_t *data,
	      size_t len)
{
	struct fc_contact *fc = NULL;
	uint8_t id[E2E_MSG_ID_LEN], arq_id[ARQ_ID_LEN];
	int rc = 0;

	if (c->acc == NULL)
		return 0;
	enum fc_err e = fc_acceptor_finish(c->acc, data, len, &fc);
	if (e != FC_OK) {
		log_ratelim(&rl_drop, LOG_LVL_WARN,
			    "client: an answer to our "
			    "acceptance was refused: %s",
			    fc_strerror(e));
		return 0;
	}
	int t = ss_take_fc(c, fc);
	FC_CONTACT_FREE(fc);
	FC_ACCEPTOR_FREE(c->acc);
	rand_bytes(id, sizeof(id));
	if (t < 0 || ss_put_target(s, c, CONTACT_TO_RATCHET) < 0 ||
	    ss_ratchet_send(s, c, E2E_KIND_CONTROL, id, NULL, 0, arq_id) != 0)
		rc = -1;
	log_notice("client: contact %s is ready", c->name);
	return rc;
}

/* Receipts: content = message ids of ours. */
static int
ss_on_receipt(struct sessions *s, struct contact *c, const struct e2e_plain *p)
{
	enum msg_state st = p->kind == E2E_KIND_READ ? MSG_READ : MSG_DELIVERED;
	uint64_t now = ss_now_ms();

	for (size_t off = 0; off + E2E_MSG_ID_LEN <= p->content_len;
	     off += E2E_MSG_ID_LEN) {
		struct msg_row *m =
		    ss_row_find(s, c->id, true, p->content + off);
		if (m == NULL)
			continue;
		if (st == MSG_READ)
			msgrow_advance(m, MSG_DELIVERED, now);
		if (msgrow_advance(m, st, now) && ss_put_row(s, m) < 0)
			return -1;
	}
	return 0;
}

/* A text: stored (once per id), and a delivery receipt goes back. */
static int
ss_on_text(struct sessions *s, struct contact *c, const struct e2e_plain *p)
{
	uint8_t id[E2E_MSG_ID_LEN], arq_id[ARQ_ID_LEN];

	if (ss_row_find(s, c->id, false, p->msg_id) != NULL)
		return 0; /* a duplicate */
	struct msg_row *m = ss_row_new(s, c->id, 0, p->content, p->content_len);
	memcpy(m->id, p->msg_id, E2E_MSG_ID_LEN);
	rand_bytes(id, sizeof(id));
	if (ss_put_row(s, m) < 0 ||
	    ss_ratchet_send(s, c, E2E_KIND_DELIVERED, id, p->msg_id,
			    E2E_MSG_ID_LEN, arq_id) < 0)
		return -1;
	return 0;
}

static int
ss_on_plain(struct sessions *s, struct contact *c, const struct e2e_plain *p)
{
	switch (p->kind) {
	case E2E_KIND_TEXT:
		return ss_on_text(s, c, p);
	case E2E_KIND_DELIVERED:
	case E2E_KIND_READ:
		return ss_on_receipt(s, c, p);
	case E2E_KIND_CONTROL:
		/* Empty: the acceptor's first message. Else a move. */
		if (p->content_len == 0)
			return 0;
		return ss_on_move(s, c, p->content, p->content_len) < 0 ? -1
									: 0;
	}
	return 0;
}

/* A RATCHET frame: decrypt, decode, act. 1: dropped (not an error). */
static int
ss_on_frame(struct sessions *s, struct contact *c, const uint8_t *data,
	    size_t len)
{
	struct e2e_frame f;
	struct e2e_plain p;
	size_t plen = 0;
	int rc = 1;

	if (c->ratchet == NULL || e2e_frame_parse(data, len, &f) != E2E_OK ||
	    f.type != E2E_FRAME_RATCHET) {
		log_ratelim(&rl_drop, LOG_LVL_WARN,
			    "client: a malformed "
			    "message from %s; dropped",
			    c->name);
		return 1;
	}
	uint8_t *pt = secret_alloc(f.body_len);
	enum ratchet_err e =
	    ratchet_decrypt(c->ratchet, c->ad, FC_AD_LEN, f.hdr, f.body,
			    f.body_len, pt, f.body_len, &plen);
	if (e != RATCHET_OK) {
		log_ratelim(&rl_drop, LOG_LVL_WARN,
			    "client: a message from "
			    "%s does not decrypt (%s): tampered or replayed; "
			    "dropped",
			    c->name, ratchet_strerror(e));
		goto done;
	}
	if (e2e_plain_decode(pt, plen, &p) != E2E_OK) {
		log_ratelim(&rl_drop, LOG_LVL_WARN,
			    "client: a message from "
			    "%s has a bad plaintext; dropped",
			    c->name);
		rc = 0; /* the ratchet moved: keep its state */
		goto done;
	}
	rc = ss_on_plain(s, c, &p);
done:
	secret_free(pt);
	return rc;
}

/* Forget (in the store, inside the transaction) the items of a message. */
static int
ss_items_del(struct sessions *s, const struct contact *c, int stream,
	     uint64_t seq)
{
	for (size_t i = 0; i < s->nitems; i++) {
		struct session_item *it = &s->items[i];
		if (it->contact == c->id && it->stream == stream &&
		    it->seq <= seq && client_store_del(s->store, it->name) < 0)
			return -1;
	}
	return 0;
}

static void
ss_items_forget(struct sessions *s, uint64_t contact, int stream, uint64_t seq)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nitems; i++) {
		struct session_item *it = &s->items[i];
		if (it->contact == contact && it->stream == stream &&
		    it->seq <= seq)
			continue;
		s->items[k++] = *it;
	}
	s->nitems = k;
}

/* One whole message of a stream, in one transaction. */
static void
ss_handle(struct sessions *s, struct contact *c, int stream,
	  const uint8_t *data, size_t len, uint64_t seq)
{
	uint64_t id = c->id;
	int r;

	if (ss_begin(s) < 0)
		return;
	c->rx_next[stream] = seq + 1;
	if (stream == CONTACT_RX_HS)
		r = (c->flags & CONTACT_F_INVITER)
			? ss_on_hello(s, c, data, len)
			: ss_on_welcome(s, c, data, len);
	else
		r = ss_on_frame(s, c, data, len);
	if (r < 0 || ss_put_contact(s, c) < 0 ||
	    ss_items_del(s, c, stream, seq) < 0) {
		ss_rollback(s);
		log_warn("client: could not store a received message; it "
			 "is handled again at the next start");
		ss_reload(s, c);
		return;
	}
	if (ss_commit(s) < 0) {
		ss_reload(s, c);
		return;
	}
	ss_items_forget(s, id, stream, seq);
	ss_flush(s, c);
}

/* Which contact's stream takes this item's fragment; NULL: drop it. */
static struct contact *
ss_take_frag(struct sessions *s, const uint8_t *queue, const uint8_t *item,
	     size_t len, int *stream, uint64_t *seq)
{
	size_t blen = s->arq->blob_len;
	struct arq_frag_view v;
	struct contact *c = NULL;
	enum arq_rx_result r = ARQ_RX_MALFORMED;

	memset(&v, 0, sizeof(v));
	if (len < blen)
		return NULL;
	uint8_t *plain = bc_malloc(blen - XAEAD_OVERHEAD);
	c = ss_open_blob(s, queue, item, plain, stream);
	if (c == NULL) {
		static struct log_ratelim rl_nokey = LOG_RATELIM_INIT(60000);
		s->dropped++;
		log_ratelim(&rl_nokey, LOG_LVL_WARN,
			    "client: an item on one of "
			    "our queues opens under no contact's key "
			    "(damaged, forged, or for a blocked contact); "
			    "dropped");
	} else if (arq_frag_decode(&v, plain, blen - XAEAD_OVERHEAD) ==
		   ARQ_RX_OK)
		r = arq_rx_add(&c->rx[*stream], &v);
	*seq = v.seq;
	free(plain);
	return r == ARQ_RX_OK ? c : NULL;
}

void
ss_process_item(struct sessions *s, const char *name, const uint8_t *queue,
		const uint8_t *item, size_t len)
{
	int stream = 0;
	uint64_t seq = 0;
	uint8_t *data;
	size_t dlen;
	struct contact *c = ss_take_frag(s, queue, item, len, &stream, &seq);

	if (c == NULL) {
		client_store_del(s->store, name);
		return;
	}
	s->items = bc_realloc(s->items, (s->nitems + 1) * sizeof(*s->items));
	struct session_item *it = &s->items[s->nitems++];
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->contact = c->id;
	it->stream = stream;
	it->seq = seq;
	uint64_t cid = c->id;
	while ((c = sessions_find_id(s, cid)) != NULL &&
	       arq_rx_pop(&c->rx[stream], &data, &dlen, &seq)) {
		ss_handle(s, c, stream, data, dlen, seq);
		free(data);
	}
}

int
sessions_on_item(struct sessions *s, const uint8_t item_id[16],
		 const uint8_t *queue, const uint8_t *blob, size_t len)
{
	char name[48] = "inbox/";
	struct buf b;

	buf_init(&b);
	if (hex_encode(name + 6, sizeof(name) - 6, item_id, 16) < 0)
		return -1;
	static const uint8_t none[32];

	buf_append_u8(&b, queue != NULL);
	buf_append(&b, queue != NULL ? queue : none, 32);
	buf_append(&b, blob, len);
	int rc = client_store_put(s->store, name, b.data, b.len);
	buf_free(&b);
	if (rc < 0)
		return -1;
	ss_process_item(s, name, queue, blob, len);
	return 0;
}
