/* The receiving side of the end-to-end engine (session.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"
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

	/* Our queue for a contact, or one of its queues being drained at
	 * our old gateway (gwdrain.h). */
	uint64_t old = queue != NULL ? gwdrain_owner(s, queue) : 0;

	for (size_t i = 0; i < s->nc; i++) {
		struct contact *c = s->c[i];
		if (c->state == CONTACT_BLOCKED ||
		    (queue != NULL && memcmp(queue, c->our_queue, 32) != 0 &&
		     c->id != old))
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
		return ss_on_move(s, c, p) < 0 ? -1 : 0;
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

/* ---- Fetched items: the store is the truth ---- */

/* The item with this tag (items are sorted by tag), or s->nitems. */
static size_t
ss_item_find(const struct sessions *s, uint64_t tag)
{
	size_t lo = 0, hi = s->nitems;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->items[mid].f.tag < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nitems && s->items[lo].f.tag == tag && !s->items[lo].done
		   ? lo
		   : s->nitems;
}

static void
ss_item_add(struct sessions *s, const char *name, const struct contact *c,
	    int stream, const struct arq_rx_park *f)
{
	s->items = bc_realloc(s->items, (s->nitems + 1) * sizeof(*s->items));
	struct session_item *it = &s->items[s->nitems++];
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->contact = c->id;
	it->stream = stream;
	it->f = *f;
	it->done = false;
}

/* Item i is gone; the array loses it when ss_drain ends (removing it now
 * would move the rest: quadratic over a start with thousands). */
static void
ss_item_remove(struct sessions *s, size_t i)
{
	if (!s->items[i].done)
		s->items_done++;
	s->items[i].done = true;
}

/* Forget the items that are done (ss_item_remove), in one pass. */
static void
ss_items_compact(struct sessions *s)
{
	size_t k = 0;

	if (s->items_done == 0)
		return;
	for (size_t i = 0; i < s->nitems; i++)
		if (!s->items[i].done)
			s->items[k++] = s->items[i];
	s->nitems = k;
	s->items_done = 0;
}

/* Delete (inside the transaction) the items of a message's fragments. */
static int
ss_items_del_tags(struct sessions *s, const uint64_t *tags, size_t ntags)
{
	for (size_t k = 0; k < ntags; k++) {
		size_t i = ss_item_find(s, tags[k]);
		if (i < s->nitems &&
		    client_store_del(s->store, s->items[i].name) < 0)
			return -1;
	}
	return 0;
}

/*
 * Items of messages before a stream's next number are stale (copies
 * parked and forgotten by arq_rx_pop, or of numbers passed over): deleted
 * in one transaction. A failure or a crash leaves them for the next time
 * or the next start, which deletes them as it reads them.
 */
static void
ss_items_sweep(struct sessions *s, bool popped)
{
	const struct contact *c = NULL;
	size_t stale = 0;

	for (size_t i = 0; popped && i < s->nitems; i++) {
		struct session_item *it = &s->items[i];
		if (it->done)
			continue;
		if (c == NULL || c->id != it->contact)
			c = sessions_find_id(s, it->contact);
		if (c != NULL && it->f.seq < c->rx[it->stream].next_seq)
			stale++;
	}
	if (stale > 0 && ss_begin(s) == 0) {
		size_t k = 0;
		uint64_t *del = bc_calloc(stale, sizeof(*del));
		for (size_t i = 0; i < s->nitems && k < stale; i++) {
			struct session_item *it = &s->items[i];
			if (it->done)
				continue;
			if (c == NULL || c->id != it->contact)
				c = sessions_find_id(s, it->contact);
			if (c != NULL &&
			    it->f.seq < c->rx[it->stream].next_seq &&
			    client_store_del(s->store, it->name) == 0)
				del[k++] = i;
		}
		if (ss_commit(s) == 0)
			for (size_t j = 0; j < k; j++)
				ss_item_remove(s, del[j]);
		free(del);
	}
	ss_items_compact(s);
}

/* One whole message of a stream, in one transaction. */
static void
ss_handle(struct sessions *s, struct contact *c, int stream,
	  const uint8_t *data, size_t len, uint64_t seq, const uint64_t *tags,
	  size_t ntags)
{
	int r;

	if (ss_begin(s) < 0) {
		s->rx_failed = true;
		return;
	}
	c->rx_next[stream] = seq + 1;
	if (stream == CONTACT_RX_HS)
		r = (c->flags & CONTACT_F_INVITER)
			? ss_on_hello(s, c, data, len)
			: ss_on_welcome(s, c, data, len);
	else
		r = ss_on_frame(s, c, data, len);
	/* The items of its fragments go with it; stale copies of earlier
	 * ones when ss_drain ends (ss_items_sweep). */
	if (r < 0 || ss_put_contact(s, c) < 0 ||
	    ss_items_del_tags(s, tags, ntags) < 0) {
		ss_rollback(s);
		log_warn("client: could not store a received message; it "
			 "is handled again later");
		s->rx_failed = true;
		ss_reload(s, c);
		return;
	}
	if (ss_commit(s) < 0) {
		s->rx_failed = true;
		ss_reload(s, c);
		return;
	}
	for (size_t k = 0; k < ntags; k++) {
		size_t i = ss_item_find(s, tags[k]);
		if (i < s->nitems)
			ss_item_remove(s, i);
	}
	s->drain.poke = true; /* maybe c can be told about a move now */
	ss_flush(s, c);
}

/* The key that seals the fragments of c's stream (NULL: none yet). */
static const uint8_t *
ss_stream_key(const struct contact *c, int stream)
{
	if (stream == CONTACT_RX_HS)
		return c->hs_key;
	return (c->flags & CONTACT_F_HAVE_KEYS) ? c->rx_key : NULL;
}

/* Give a parked item back to c's stream: its result (MALFORMED when it
 * does not read or open any more). */
static enum arq_rx_result
ss_feed(struct sessions *s, struct contact *c, int stream,
	const struct session_item *it)
{
	size_t blen = s->arq->blob_len;
	const uint8_t *key = ss_stream_key(c, stream);
	enum arq_rx_result r = ARQ_RX_MALFORMED;
	struct arq_frag_view v;
	uint8_t *val = NULL;
	size_t n = 0;

	int g = client_store_get(s->store, it->name, &val, &n);
	if (g < 0) { /* the store failed: parked again, tried later */
		arq_rx_park_put(&c->rx[stream], &it->f);
		return ARQ_RX_PARKED;
	}
	if (g == 0 && key != NULL && n >= 33 + blen) {
		uint8_t *plain = bc_malloc(blen - XAEAD_OVERHEAD);
		if (arq_unwrap(plain, val + 33, blen, key) == 0 &&
		    arq_frag_decode(&v, plain, blen - XAEAD_OVERHEAD) ==
			ARQ_RX_OK)
			r = arq_rx_add(&c->rx[stream], &v, it->f.tag);
		free(plain);
	}
	free(val);
	return r;
}

/* Parked items of contact cid's stream that now fit; true if any did. */
static bool
ss_refeed(struct sessions *s, uint64_t cid, int stream)
{
	struct contact *c = sessions_find_id(s, cid);
	bool any = false;
	uint64_t tag;

	while (c != NULL && arq_rx_refeed(&c->rx[stream], &tag)) {
		size_t i = ss_item_find(s, tag);
		if (i == s->nitems)
			continue;
		enum arq_rx_result r = ss_feed(s, c, stream, &s->items[i]);
		if (r == ARQ_RX_OK) {
			any = true;
		} else if (r == ARQ_RX_PARKED) {
			break; /* it does not fit after all */
		} else {
			client_store_del(s->store, s->items[i].name);
			ss_item_remove(s, i);
		}
	}
	return any;
}

/* Hand up what contact cid's stream has complete; true if anything. */
static bool
ss_pop_all(struct sessions *s, uint64_t cid, int stream)
{
	struct contact *c;
	uint8_t *data;
	uint64_t seq, *tags;
	size_t dlen, ntags;
	bool any = false;

	while (!s->rx_failed && (c = sessions_find_id(s, cid)) != NULL &&
	       arq_rx_pop_tags(&c->rx[stream], &data, &dlen, &seq, &tags,
			       &ntags)) {
		ss_handle(s, c, stream, data, dlen, seq, tags, ntags);
		free(data);
		free(tags);
		any = true;
	}
	return any;
}

/*
 * Hand up everything complete, and after every message handed up give
 * back the parked items that now fit (which may complete more).  Room
 * freed in one stream may let another's in (the budget): another round
 * while anything was handed up.  Ends: every round hands a message up.
 */
static void
ss_drain(struct sessions *s)
{
	bool popped, any = false;

	s->rx_failed = false;
	do {
		popped = false;
		for (size_t i = 0; i < s->nc && !s->rx_failed; i++) {
			uint64_t cid = s->c[i]->id;
			for (int st = 0; st < 2 && !s->rx_failed; st++)
				do
					popped |= ss_pop_all(s, cid, st);
				while (!s->rx_failed && ss_refeed(s, cid, st));
		}
		any |= popped;
	} while (popped && !s->rx_failed);
	ss_items_sweep(s, any);
}

static void
ss_gone_name(char *out, size_t cap, uint64_t cid, int stream)
{
	snprintf(out, cap, "rxgone/%llu/%d", (unsigned long long)cid, stream);
}

/*
 * The given-up sequence numbers of a stream (record rxgone/CID/STREAM): a
 * marker (UINT64_MAX, never a number given up), then each range as lo, hi,
 * all big-endian. Before session 4 the value was a list of single numbers,
 * which ss_rx_gone_decode still reads.
 */
#define SS_GONE_RANGES UINT64_MAX

void
ss_rx_gone_encode(const struct arq_rx *r, struct buf *b)
{
	buf_append_u64be(b, SS_GONE_RANGES);
	for (size_t i = 0; i < r->ngone; i++) {
		buf_append_u64be(b, r->gone[i].lo);
		buf_append_u64be(b, r->gone[i].hi);
	}
}

void
ss_rx_gone_decode(struct arq_rx *r, const uint8_t *v, size_t n)
{
	if (n >= 8 && be64_get(v) == SS_GONE_RANGES && (n - 8) % 16 == 0) {
		for (size_t off = 8; off + 16 <= n; off += 16)
			arq_rx_mark_gone(r, be64_get(v + off),
					 be64_get(v + off + 8));
	} else {
		for (size_t off = 0; off + 8 <= n; off += 8)
			arq_rx_mark_gone(r, be64_get(v + off),
					 be64_get(v + off));
	}
}

/* c's stream's record (inside a transaction); none when nothing is gone. */
static int
ss_put_gone(struct sessions *s, const struct contact *c, int stream)
{
	const struct arq_rx *r = &c->rx[stream];
	char name[48];
	struct buf b;

	ss_gone_name(name, sizeof(name), c->id, stream);
	if (r->ngone == 0) {
		int d = client_store_del(s->store, name);
		return d < 0 ? -1 : 0;
	}
	buf_init(&b);
	ss_rx_gone_encode(r, &b);
	int rc = client_store_put(s->store, name, b.data, b.len);
	buf_free(&b);
	return rc;
}

static void
ss_load_gone(struct sessions *s, struct contact *c, int stream)
{
	char name[48];
	uint8_t *v = NULL;
	size_t n = 0;

	ss_gone_name(name, sizeof(name), c->id, stream);
	if (client_store_get(s->store, name, &v, &n) != 0)
		return;
	ss_rx_gone_decode(&c->rx[stream], v, n);
	free(v);
}

/* arq_rx_trim's callback: the item goes (inside the transaction). */
static void
ss_drop_item(void *ctx, struct arq_rx *from, uint64_t tag)
{
	struct sessions *s = ctx;
	size_t i = ss_item_find(s, tag);

	(void)from;
	s->park_dropped_items++;
	if (i == s->nitems)
		return;
	client_store_del(s->store, s->items[i].name);
	ss_item_remove(s, i);
}

static bool
ss_over_bounds(const struct sessions *s)
{
	if (s->rxb.parked > s->rxb.park_max)
		return true;
	for (size_t i = 0; i < s->nc; i++)
		for (int k = 0; k < 2; k++)
			if (s->c[i]->rx[k].npark > s->c[i]->rx[k].park_max)
				return true;
	return false;
}

/*
 * Beyond the parking bounds (client/arq.h): whole messages are given up,
 * the highest sequence numbers first, in one transaction that deletes
 * their items and keeps the numbers to skip.  Counted and logged.
 */
static void
ss_trim_all(struct sessions *s)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(60000);
	size_t n = 0;
	int rc = 0;

	if (!ss_over_bounds(s))
		return;
	uint64_t *before = bc_calloc(2 * s->nc, sizeof(*before));
	for (size_t i = 0; i < s->nc; i++)
		for (int k = 0; k < 2; k++)
			before[2 * i + k] = s->c[i]->rx[k].dropped_msgs;
	if (ss_begin(s) < 0) {
		free(before);
		return;
	}
	for (size_t i = 0; i < s->nc; i++)
		for (int k = 0; k < 2; k++)
			n += arq_rx_trim(&s->c[i]->rx[k], ss_drop_item, s);
	for (size_t i = 0; i < s->nc; i++)
		for (int k = 0; k < 2; k++)
			if (s->c[i]->rx[k].dropped_msgs != before[2 * i + k] &&
			    ss_put_gone(s, s->c[i], k) < 0)
				rc = -1;
	free(before);
	if (rc < 0)
		ss_rollback(s);
	else
		rc = ss_commit(s);
	ss_items_compact(s);
	s->park_dropped += n;
	if (rc < 0)
		log_warn("client: could not store what was given up of the "
			 "parked fragments; done again at the next start");
	log_ratelim(&rl, LOG_LVL_WARN,
		    "client: more message fragments "
		    "waiting than the bound (%d per contact, %d in all): "
		    "%zu message(s) of the latest given up, %llu so far",
		    ARQ_RX_PARK_MAX, ARQ_RX_PARK_TOTAL, n,
		    (unsigned long long)s->park_dropped);
}

/* Open and decode an item: its contact and stream, the fragment in v
 * (pointing into plain); NULL when it is not one of ours. */
static struct contact *
ss_decode(struct sessions *s, const uint8_t *queue, const uint8_t *item,
	  size_t len, uint8_t *plain, int *stream, struct arq_frag_view *v)
{
	size_t blen = s->arq->blob_len;
	struct contact *c;

	if (len < blen)
		return NULL;
	c = ss_open_blob(s, queue, item, plain, stream);
	if (c == NULL) {
		static struct log_ratelim rl_nokey = LOG_RATELIM_INIT(60000);
		s->dropped++;
		log_ratelim(&rl_nokey, LOG_LVL_WARN,
			    "client: an item on one of "
			    "our queues opens under no contact's key "
			    "(damaged, forged, or for a blocked contact); "
			    "dropped");
		return NULL;
	}
	if (arq_frag_decode(v, plain, blen - XAEAD_OVERHEAD) != ARQ_RX_OK)
		return NULL;
	return c;
}

/*
 * A fetched item (stored under name): its fragment goes to its stream,
 * which holds it or parks it; either way the item stays in the store until
 * its message is handed up.  Duplicates and what does not open go.
 */
void
ss_process_item(struct sessions *s, const char *name, const uint8_t *queue,
		const uint8_t *item, size_t len)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(60000);
	uint8_t *plain = bc_malloc(s->arq->blob_len);
	enum arq_rx_result r = ARQ_RX_MALFORMED;
	struct arq_frag_view v;
	struct arq_rx_park f;
	int stream = 0;
	struct contact *c = ss_decode(s, queue, item, len, plain, &stream, &v);

	if (c != NULL) {
		gwdrain_seen(s, c, queue);
		uint64_t tag = ++s->item_tag;
		r = arq_rx_add(&c->rx[stream], &v, tag);
		if (r == ARQ_RX_OK || r == ARQ_RX_PARKED) {
			arq_rx_park_of(&f, &v, tag);
			ss_item_add(s, name, c, stream, &f);
		}
		if (r == ARQ_RX_PARKED)
			log_ratelim(&rl, LOG_LVL_NOTICE,
				    "client: no room for "
				    "a message from %s now (%zu waiting in "
				    "all); kept in the store",
				    c->name, s->rxb.parked);
	}
	free(plain);
	if (r != ARQ_RX_OK && r != ARQ_RX_PARKED)
		client_store_del(s->store, name);
	ss_drain(s);
	ss_trim_all(s);
}

/*
 * The queue a stored item arrived on (v: u8 known | queue), if it is still
 * one of ours. An old queue whose drain ended since (deleted at the old
 * gateway) is not: the item is then opened by its key alone.
 */
static bool
ss_queue_known(const struct sessions *s, const uint8_t *v)
{
	if (v[0] == 0)
		return false;
	if (gwdrain_owner(s, v + 1) != 0)
		return true;
	for (size_t i = 0; i < s->nc; i++)
		if (memcmp(s->c[i]->our_queue, v + 1, 32) == 0)
			return true;
	return false;
}

/* An item read back at start: parked (0), or deleted. */
static void
ss_replay_one(struct sessions *s, const char *name, const uint8_t *v, size_t n,
	      uint8_t *plain)
{
	struct arq_frag_view fv;
	struct arq_rx_park f;
	int stream = 0;
	struct contact *c = NULL;

	if (n >= 33)
		c = ss_decode(s, ss_queue_known(s, v) ? v + 1 : NULL, v + 33,
			      n - 33, plain, &stream, &fv);
	if (c == NULL || fv.seq < c->rx[stream].next_seq) {
		client_store_del(s->store, name);
		return;
	}
	arq_rx_park_of(&f, &fv, ++s->item_tag);
	arq_rx_park_put(&c->rx[stream], &f);
	ss_item_add(s, name, c, stream, &f);
}

struct ss_inbox {
	char (*names)[48];
	size_t n;
};

static int
ss_list_inbox(void *ctx, const char *name, const uint8_t *v, size_t n)
{
	struct ss_inbox *l = ctx;

	(void)v;
	(void)n;
	if (strlen(name) >= 48)
		return 0;
	l->names = bc_realloc(l->names, (l->n + 1) * sizeof(*l->names));
	snprintf(l->names[l->n++], 48, "%s", name);
	return 0;
}

/*
 * Items stored before a restart: their messages were not handed up yet.
 * All are parked first and then fed lowest sequence numbers first, so what
 * is held does not depend on the order the store lists them in.
 */
void
ss_replay_inbox(struct sessions *s)
{
	struct ss_inbox l = {0};
	uint8_t *plain = bc_malloc(s->arq->blob_len);

	for (size_t i = 0; i < s->nc; i++)
		for (int k = 0; k < 2; k++)
			ss_load_gone(s, s->c[i], k);
	client_store_each(s->store, "inbox/", ss_list_inbox, &l);
	for (size_t i = 0; i < l.n; i++) {
		uint8_t *v = NULL;
		size_t n = 0;
		if (client_store_get(s->store, l.names[i], &v, &n) != 0)
			continue;
		ss_replay_one(s, l.names[i], v, n, plain);
		free(v);
	}
	free(l.names);
	free(plain);
	ss_drain(s);
	ss_trim_all(s);
}

void
ss_rx_restore(struct sessions *s, struct contact *c)
{
	for (int k = 0; k < 2; k++)
		ss_load_gone(s, c, k);
	for (size_t i = 0; i < s->nitems; i++)
		if (!s->items[i].done && s->items[i].contact == c->id &&
		    s->items[i].f.seq >= c->rx[s->items[i].stream].next_seq)
			arq_rx_park_put(&c->rx[s->items[i].stream],
					&s->items[i].f);
}

static int
ss_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void
ss_rx_skip_gaps(struct sessions *s, struct contact *c, int stream)
{
	struct arq_rx *r = &c->rx[stream];
	uint64_t *seq = bc_calloc(s->nitems + 1, sizeof(*seq)), lo, n = 0;
	size_t k = 0;

	/* The numbers c's stream holds or parks, in order: the runs
	 * between them (from next_seq on) will never come. */
	for (size_t i = 0; i < s->nitems; i++)
		if (!s->items[i].done && s->items[i].contact == c->id &&
		    s->items[i].stream == stream &&
		    s->items[i].f.seq >= r->next_seq)
			seq[k++] = s->items[i].f.seq;
	qsort(seq, k, sizeof(*seq), ss_u64_cmp);
	lo = r->next_seq;
	for (size_t i = 0; i < k; i++) {
		if (seq[i] > lo) {
			arq_rx_mark_gone(r, lo, seq[i] - 1);
			n += seq[i] - lo;
		}
		lo = seq[i] + 1;
	}
	free(seq);
	if (n == 0)
		return;
	log_warn("client: %llu message(s) from %s were left at the old "
		 "gateway: skipped",
		 (unsigned long long)n, c->name);
	int rc = ss_begin(s);
	if (rc == 0 && ss_put_gone(s, c, stream) < 0) {
		ss_rollback(s);
		rc = -1;
	}
	/* Skipped in memory anyway; after a restart they would wait. */
	if (rc < 0 || ss_commit(s) < 0)
		log_warn("client: could not store the skipped numbers");
	ss_drain(s);
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
	/* Sent again (we stored it, but its confirmation never left): it
	 * is ours already; handling it again would delete it as its own
	 * duplicate. */
	for (size_t i = 0; i < s->nitems; i++)
		if (!s->items[i].done && strcmp(s->items[i].name, name) == 0)
			return 0;
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
