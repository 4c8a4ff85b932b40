/* The end-to-end engine: state, store and ARQ plumbing (session.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "wire/link_err.h"

#include "client/session_internal.h"

uint64_t
ss_now_ms(void)
{
	return (uint64_t)time_wall_ms();
}

int
ss_begin(struct sessions *s)
{
	return client_store_begin(s->store);
}

static void
ss_pending_clear(struct sessions *s)
{
	for (size_t i = 0; i < s->npend; i++)
		free(s->pend[i].body);
	BC_FREE(s->pend);
	s->npend = 0;
}

int
ss_commit(struct sessions *s)
{
	if (client_store_commit(s->store) < 0) {
		ss_pending_clear(s);
		return -1;
	}
	for (size_t i = 0; i < s->npend; i++) {
		struct ss_pending *p = &s->pend[i];
		struct arq_msg *m =
		    arq_add(s->arq, p->handle, p->id, p->seq, p->body, p->len,
			    p->queued_ms, NULL);
		if (m != NULL)
			m->row = p->row;
	}
	ss_pending_clear(s);
	return 0;
}

void
ss_rollback(struct sessions *s)
{
	client_store_rollback(s->store);
	ss_pending_clear(s);
}

int
ss_put_contact(struct sessions *s, const struct contact *c)
{
	char name[48];
	struct buf b;
	int rc;

	buf_init(&b);
	contact_store_name(name, sizeof(name), c->id);
	rc = contact_encode(c, &b);
	if (rc == 0)
		rc = client_store_put(s->store, name, b.data, b.len);
	buf_wipe_free(&b);
	return rc;
}

void
ss_reload(struct sessions *s, struct contact *c)
{
	char name[48];
	uint8_t *v = NULL;
	size_t n = 0;

	contact_store_name(name, sizeof(name), c->id);
	if (client_store_get(s->store, name, &v, &n) != 0)
		return;
	struct contact *f = contact_decode(v, n);
	secret_wipe(v, n);
	free(v);
	if (f == NULL)
		return;
	for (size_t i = 0; i < s->nc; i++)
		if (s->c[i] == c) {
			s->c[i] = f;
			arq_rx_join(&f->rx[0], &s->rxb);
			arq_rx_join(&f->rx[1], &s->rxb);
			contact_free(c);
			ss_rx_restore(s, f);
			return;
		}
	contact_free(f);
}

/* ---- Rows by id: a set of fingerprints in front of the linear search ---- */

static uint64_t
ss_row_fp(const struct sessions *s, uint64_t contact, bool out,
	  const uint8_t id[E2E_MSG_ID_LEN])
{
	uint64_t x;

	memcpy(&x, id, sizeof(x));
	x ^= contact * 0x9e3779b97f4a7c15ull ^ (out ? 0xd6e8feb86659fd93ull : 0);
	x = (x ^ s->rowfp_key[0]) * (s->rowfp_key[1] | 1);
	return x != 0 ? x : 1; /* 0 marks an empty slot */
}

/* The slot of fp, or of the empty slot where it would go. */
static size_t
ss_rowfp_slot(const struct sessions *s, uint64_t fp)
{
	size_t mask = s->rowfp_cap - 1, i = (size_t)(fp >> 20) & mask;

	while (s->rowfp[i] != 0 && s->rowfp[i] != fp)
		i = (i + 1) & mask;
	return i;
}

static void
ss_rowfp_add(struct sessions *s, const struct msg_row *m)
{
	if (s->rowfp_cap == 0)
		rand_bytes(s->rowfp_key, sizeof(s->rowfp_key));
	uint64_t fp = ss_row_fp(s, m->contact, (m->flags & MSG_F_OUT) != 0,
				m->id);

	if (2 * (s->rowfp_n + 1) > s->rowfp_cap) {
		uint64_t *old = s->rowfp;
		size_t ocap = s->rowfp_cap;
		s->rowfp_cap = ocap ? 2 * ocap : 1024;
		s->rowfp = bc_calloc(s->rowfp_cap, sizeof(*s->rowfp));
		for (size_t i = 0; i < ocap; i++)
			if (old[i] != 0)
				s->rowfp[ss_rowfp_slot(s, old[i])] = old[i];
		free(old);
	}
	size_t i = ss_rowfp_slot(s, fp);
	if (s->rowfp[i] == 0) {
		s->rowfp[i] = fp;
		s->rowfp_n++;
	}
}

static bool
ss_rowfp_has(const struct sessions *s, uint64_t contact, bool out,
	     const uint8_t id[E2E_MSG_ID_LEN])
{
	if (s->rowfp_cap == 0)
		return false;
	return s->rowfp[ss_rowfp_slot(s, ss_row_fp(s, contact, out, id))] != 0;
}

int
ss_put_row(struct sessions *s, struct msg_row *m)
{
	char name[48];
	struct buf b;

	ss_rowfp_add(s, m);
	/* An unsent row: the next ss_flush of its contact looks again. */
	if (m->flags & MSG_F_UNSENT) {
		struct contact *c = sessions_find_id(s, m->contact);
		if (c != NULL)
			c->flushed = false;
	}
	m->rev = ++s->rev;
	buf_init(&b);
	msgrow_encode(m, &b);
	msgrow_store_name(name, sizeof(name), m->row);
	int rc = client_store_put(s->store, name, b.data, b.len);
	buf_wipe_free(&b);
	return rc;
}

/* contact/<handle> = gateway identity | queue | key (daemon.c reads it). */
int
ss_put_target(struct sessions *s, const struct contact *c,
	      enum contact_target t)
{
	uint8_t v[96];
	char name[48];

	memcpy(v, c->peer_gw.key, 32);
	if (t == CONTACT_TO_RATCHET) {
		memcpy(v + 32, c->peer_queue, 32);
		memcpy(v + 64, c->tx_key, 32);
	} else {
		memcpy(v + 32, c->peer_queue, 32);
		memcpy(v + 64, c->hs_key, 32);
	}
	snprintf(name, sizeof(name), "contact/%llu",
		 (unsigned long long)contact_handle(c, t));
	int rc = client_store_put(s->store, name, v, sizeof(v));
	secret_wipe(v, sizeof(v));
	return rc;
}

int
ss_outbox(struct sessions *s, const struct contact *c, enum contact_target t,
	  uint64_t seq, const uint8_t *body, size_t len,
	  uint8_t arq_id[ARQ_ID_LEN])
{
	struct client_store_msg m = {0};
	size_t nfrag = arq_frag_count(len, s->arq->blob_len);

	if (nfrag == 0)
		return -1;
	rand_bytes(arq_id, ARQ_ID_LEN);
	m.contact = contact_handle(c, t);
	memcpy(m.id, arq_id, ARQ_ID_LEN);
	m.seq = seq;
	m.queued_ms = ss_now_ms();
	m.nfrag = (uint32_t)nfrag;
	m.acked = bc_calloc((nfrag + 7) / 8, 1);
	m.body = bc_memdup(body, len);
	m.body_len = len;
	int rc = client_store_msg_add(s->store, &m);
	free(m.acked);
	free(m.body);
	if (rc < 0)
		return -1;
	s->pend = bc_realloc(s->pend, (s->npend + 1) * sizeof(*s->pend));
	s->pend[s->npend++] = (struct ss_pending){
	    .handle = m.contact,
	    .seq = seq,
	    .queued_ms = m.queued_ms,
	    .row = m.row,
	    .body = bc_memdup(body, len),
	    .len = len,
	};
	memcpy(s->pend[s->npend - 1].id, arq_id, ARQ_ID_LEN);
	return 0;
}

int
ss_ratchet_send(struct sessions *s, struct contact *c, enum e2e_kind kind,
		const uint8_t id[E2E_MSG_ID_LEN], const uint8_t *content,
		size_t len, uint8_t arq_id[ARQ_ID_LEN])
{
	struct buf pt, fr;
	uint8_t hdr[RATCHET_ENC_HEADER_LEN];
	uint8_t *body = NULL;
	size_t blen = 0;
	int rc = -1;
	enum ratchet_err e;

	buf_init(&pt);
	buf_init(&fr);
	if (c->ratchet == NULL ||
	    e2e_plain_encode(kind, id, content, len, &pt) < 0)
		goto done;
	body = bc_malloc(pt.len + RATCHET_TAG_LEN);
	e = ratchet_encrypt(c->ratchet, c->ad, FC_AD_LEN, pt.data, pt.len, hdr,
			    body, pt.len + RATCHET_TAG_LEN, &blen);
	if (e == RATCHET_ERR_NOT_READY) {
		rc = 1;
		goto done;
	}
	if (e != RATCHET_OK)
		goto done;
	e2e_frame_put_ratchet(&fr, hdr, body, blen);
	rc = ss_outbox(s, c, CONTACT_TO_RATCHET, c->tx_seq + 1, fr.data, fr.len,
		       arq_id);
	if (rc == 0)
		c->tx_seq++;
done:
	buf_wipe_free(&pt);
	buf_free(&fr);
	free(body);
	return rc;
}

struct msg_row *
ss_row_new(struct sessions *s, uint64_t contact, uint32_t flags,
	   const uint8_t *text, size_t len)
{
	struct msg_row *m = bc_calloc(1, sizeof(*m));

	m->row = ++s->next_row;
	m->contact = contact;
	m->flags = flags;
	m->state = (flags & MSG_F_OUT) ? MSG_QUEUED : MSG_RECEIVED;
	m->times[m->state] = ss_now_ms();
	m->text = bc_malloc(len + 1);
	if (len > 0)
		memcpy(m->text, text, len);
	m->text[len] = 0;
	m->len = len;
	s->m = bc_realloc(s->m, (s->nm + 1) * sizeof(*s->m));
	s->m[s->nm++] = m;
	return m;
}

struct msg_row *
ss_row_find(struct sessions *s, uint64_t contact, bool out,
	    const uint8_t id[E2E_MSG_ID_LEN])
{
	/* Most ids looked up are new (every text received): a sure miss
	 * without going through every row kept. */
	if (!ss_rowfp_has(s, contact, out, id))
		return NULL;
	for (size_t i = s->nm; i-- > 0;) {
		struct msg_row *m = s->m[i];
		if (m->contact == contact &&
		    ((m->flags & MSG_F_OUT) != 0) == out &&
		    memcmp(m->id, id, E2E_MSG_ID_LEN) == 0)
			return m;
	}
	return NULL;
}

/* One transaction per message: a failure leaves it for the next try. */
void
ss_flush(struct sessions *s, struct contact *c)
{
	/* Called after every message received: without this, a start that
	 * hands up thousands went through every row for each. */
	if (c->flushed)
		return;
	for (size_t i = 0; i < s->nm; i++) {
		struct msg_row *m = s->m[i];
		if (m->contact != c->id || !(m->flags & MSG_F_UNSENT))
			continue;
		if (c->state != CONTACT_READY || ss_begin(s) < 0)
			return;
		int r = ss_ratchet_send(s, c, E2E_KIND_TEXT, m->id, m->text,
					m->len, m->arq_id);
		if (r == 0) {
			m->flags &= ~(uint32_t)MSG_F_UNSENT;
			r = ss_put_row(s, m) < 0 || ss_put_contact(s, c) < 0
				? -1
				: 0;
		}
		if (r != 0) {
			ss_rollback(s);
			if (r < 0) {
				m->flags |= MSG_F_UNSENT;
				ss_reload(s, c);
				log_warn("client: could not queue a message");
			}
			return;
		}
		if (ss_commit(s) < 0) {
			m->flags |= MSG_F_UNSENT;
			ss_reload(s, c);
			return;
		}
	}
	c->flushed = true;
}

void
ss_add_contact(struct sessions *s, struct contact *c)
{
	arq_rx_join(&c->rx[0], &s->rxb);
	arq_rx_join(&c->rx[1], &s->rxb);
	s->c = bc_realloc(s->c, (s->nc + 1) * sizeof(*s->c));
	s->c[s->nc++] = c;
}

struct contact *
sessions_find(struct sessions *s, const char *name)
{
	for (size_t i = 0; i < s->nc; i++)
		if (strcmp(s->c[i]->name, name) == 0)
			return s->c[i];
	return NULL;
}

struct contact *
sessions_find_id(struct sessions *s, uint64_t id)
{
	for (size_t i = 0; i < s->nc; i++)
		if (s->c[i]->id == id)
			return s->c[i];
	return NULL;
}

/* ---- ARQ events ---- */

static struct msg_row *
ss_row_by_arq(struct sessions *s, const uint8_t *id)
{
	for (size_t i = s->nm; i-- > 0;) {
		struct msg_row *m = s->m[i];
		if ((m->flags & MSG_F_OUT) && !(m->flags & MSG_F_UNSENT) &&
		    memcmp(m->arq_id, id, 16) == 0)
			return m;
	}
	return NULL;
}

static void
ss_arq_event(struct sessions *s, const uint8_t *id, enum msg_state st)
{
	struct msg_row *m = ss_row_by_arq(s, id);

	if (m != NULL && msgrow_advance(m, st, ss_now_ms()) &&
	    ss_put_row(s, m) < 0)
		log_warn("client: could not store a message's state");
}

void
sessions_on_sent(struct sessions *s, const uint8_t arq_id[16])
{
	ss_arq_event(s, arq_id, MSG_SENT);
}

void
sessions_on_acked(struct sessions *s, const uint8_t arq_id[16])
{
	ss_arq_event(s, arq_id, MSG_SENT);
	ss_arq_event(s, arq_id, MSG_ACKED);
}

void
sessions_on_failed(struct sessions *s, const uint8_t arq_id[16])
{
	ss_arq_event(s, arq_id, MSG_FAILED);
}

/* ---- Our queues at our gateway ---- */

void
sessions_on_queue(struct sessions *s, bool create, const uint8_t id[32],
		  uint8_t code)
{
	for (size_t i = 0; i < s->nc; i++) {
		struct contact *c = s->c[i];
		if (memcmp(c->our_queue, id, 32) != 0)
			continue;
		c->queue_inflight = false;
		if (create && (code == LINK_OK || code == LINK_ERR_EXISTS))
			c->flags |= CONTACT_F_QUEUE_OK;
		else if (!create &&
			 (code == LINK_OK || code == LINK_ERR_NO_QUEUE))
			c->flags |= CONTACT_F_QUEUE_GONE;
		else {
			log_warn("client: the gateway refused a contact's "
				 "queue (%s)",
				 link_err_str(code));
			c->queue_gen = s->link_gen + 1; /* after a reconnect */
			continue;
		}
		if (ss_put_contact(s, c) < 0)
			log_warn("client: could not store a contact");
	}
}

void
sessions_link_down(struct sessions *s)
{
	s->link_gen++;
	for (size_t i = 0; i < s->nc; i++)
		s->c[i]->queue_inflight = false;
}

void
sessions_tick(struct sessions *s)
{
	for (size_t i = 0; i < s->nc; i++) {
		struct contact *c = s->c[i];
		bool blocked = c->state == CONTACT_BLOCKED;
		if (c->queue_inflight || c->queue_gen > s->link_gen)
			continue;
		if (blocked ? (c->flags & CONTACT_F_QUEUE_GONE)
			    : (c->flags & CONTACT_F_QUEUE_OK))
			continue;
		if (s->ops.queue_op(s->ops.ctx, !blocked, c->our_queue) < 0)
			return; /* not ready: next tick */
		c->queue_inflight = true;
		c->queue_gen = s->link_gen;
	}
}

/* ---- Open and close ---- */

static int
ss_load_contact(void *ctx, const char *name, const uint8_t *v, size_t n)
{
	struct sessions *s = ctx;
	struct contact *c = contact_decode(v, n);

	(void)name;
	if (c == NULL)
		return -1;
	ss_add_contact(s, c);
	if (c->id > s->next_contact)
		s->next_contact = c->id;
	return 0;
}

static int
ss_load_row(void *ctx, const char *name, const uint8_t *v, size_t n)
{
	struct sessions *s = ctx;
	struct msg_row *m = msgrow_decode(v, n);

	(void)name;
	if (m == NULL)
		return -1;
	s->m = bc_realloc(s->m, (s->nm + 1) * sizeof(*s->m));
	s->m[s->nm++] = m;
	ss_rowfp_add(s, m);
	if (m->row > s->next_row)
		s->next_row = m->row;
	if (m->rev > s->rev)
		s->rev = m->rev;
	return 0;
}

static int
ss_row_cmp(const void *a, const void *b)
{
	const struct msg_row *x = *(struct msg_row *const *)a;
	const struct msg_row *y = *(struct msg_row *const *)b;
	return x->row < y->row ? -1 : x->row > y->row;
}

static int
ss_identity(struct sessions *s)
{
	uint8_t *v = NULL;
	size_t n = 0;
	int r = client_store_get(s->store, "identity_key", &v, &n);

	s->id_priv = secret_alloc(32);
	if (r == 0 && n == 32) {
		memcpy(s->id_priv, v, 32);
	} else if (r == 1) {
		x25519_keypair(s->id_pub, s->id_priv);
		r = client_store_put(s->store, "identity_key", s->id_priv, 32);
	} else {
		r = -1;
	}
	if (v != NULL)
		secret_wipe(v, n);
	free(v);
	x25519_base(s->id_pub, s->id_priv);
	return r < 0 ? -1 : 0;
}

int
sessions_open(struct sessions *s, struct client_store *cs, struct arq *arq,
	      const struct session_ops *ops, const char *my_name, char *err,
	      size_t errlen)
{
	memset(s, 0, sizeof(*s));
	arq_rx_budget_init(&s->rxb, ARQ_RX_TOTAL_MAX);
	s->store = cs;
	s->arq = arq;
	s->ops = *ops;
	snprintf(s->my_name, sizeof(s->my_name), "%s", my_name);
	if (!e2e_name_valid(s->my_name, strlen(s->my_name))) {
		snprintf(err, errlen,
			 "config: name is not 1-64 bytes of "
			 "UTF-8 without control characters");
		return -1;
	}
	if (ss_identity(s) < 0 ||
	    client_store_each(cs, "peer/", ss_load_contact, s) != 0 ||
	    client_store_each(cs, "msg/", ss_load_row, s) != 0 ||
	    gwdrain_load(s) < 0) {
		snprintf(err, errlen,
			 "client store: a contact or message "
			 "does not open (damaged store)");
		return -1;
	}
	if (s->nm > 1)
		qsort(s->m, s->nm, sizeof(*s->m), ss_row_cmp);
	ss_replay_inbox(s);
	/* Messages whose encryption a crash undid: encrypted again now. */
	for (size_t i = 0; i < s->nc; i++)
		ss_flush(s, s->c[i]);
	return 0;
}

void
sessions_close(struct sessions *s)
{
	for (size_t i = 0; i < s->nc; i++)
		contact_free(s->c[i]);
	for (size_t i = 0; i < s->nm; i++)
		msgrow_free(s->m[i]);
	BC_FREE(s->c);
	BC_FREE(s->m);
	BC_FREE(s->items);
	gwdrain_free(&s->drain);
	BC_FREE(s->rowfp);
	s->rowfp_n = s->rowfp_cap = 0;
	ss_pending_clear(s);
	SECRET_FREE(s->id_priv);
	s->nc = s->nm = s->nitems = s->items_done = 0;
}
