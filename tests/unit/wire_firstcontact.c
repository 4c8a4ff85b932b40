/*
 * First contact end to end (pure): invitation line, HELLO, WELCOME, both
 * sides' contacts (same safety number, working ratchets both ways);
 * retransmission, reuse, expiry, altered invitations and frames; the
 * acceptor's identity never appears in the clear.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"

#include "wire/firstcontact.h"

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(firstcontact, .init = setup);

#define NOW 1790000000u

struct party {
	uint8_t id_priv[32], id_pub[32];
	struct e2e_gateway gw;
	uint8_t queue[32];
};

static void
party_new(struct party *p, const char *host)
{
	memset(p, 0, sizeof(*p));
	x25519_keypair(p->id_pub, p->id_priv);
	rand_bytes(p->gw.key, 32);
	memcpy(p->gw.host, host, strlen(host));
	p->gw.port = 7000;
	rand_bytes(p->queue, 32);
}

/* Inviter makes the line; the acceptor parses it back. */
static struct fc_inviter *
invite_line(struct party *inviter, struct invite *got, uint64_t lifetime)
{
	struct invite inv;
	char line[INVITE_TEXT_MAX];
	struct fc_inviter *fi;

	fi = fc_inviter_new(&inviter->gw, "Alice's phone", NOW, lifetime, &inv);
	cr_assert_not_null(fi);
	cr_assert_eq(invite_encode(&inv, line, sizeof(line)), 0);
	invite_wipe(&inv);
	cr_assert_eq(invite_decode(line, strlen(line), got), INVITE_OK);
	cr_assert_eq(got->expiry, NOW + lifetime);
	return fi;
}

static bool
contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

static void
exchange(struct fc_contact *from, struct fc_contact *to, const char *text)
{
	uint8_t hdr[RATCHET_ENC_HEADER_LEN], body[128], pt[128];
	size_t blen, plen;

	cr_assert_eq(ratchet_encrypt(from->ratchet, from->ad, FC_AD_LEN,
				     (const uint8_t *)text, strlen(text), hdr,
				     body, sizeof(body), &blen),
		     RATCHET_OK);
	cr_assert_eq(ratchet_decrypt(to->ratchet, to->ad, FC_AD_LEN, hdr, body,
				     blen, pt, sizeof(pt), &plen),
		     RATCHET_OK);
	cr_assert_eq(plen, strlen(text));
	cr_assert(memcmp(pt, text, plen) == 0);
}

Test(firstcontact, contacts_both_ways)
{
	struct party inviter, acceptor;
	struct invite inv;
	struct fc_inviter *fi;
	struct fc_acceptor *fa;
	struct fc_contact *ci = NULL, *ca = NULL;
	struct buf hello, welcome, again;
	enum fc_err e;

	party_new(&inviter, "gw-a.example");
	party_new(&acceptor, "gw-b.example");
	fi = invite_line(&inviter, &inv, 3600);
	buf_init(&hello);
	fa = fc_acceptor_new(&inv, acceptor.id_priv, &acceptor.gw,
			     acceptor.queue, "Bob", NOW + 10, &hello, &e);
	cr_assert_not_null(fa);
	cr_assert_eq(e, FC_OK);
	cr_assert_eq(hello.data[0], E2E_FRAME_HELLO);
	/* nothing the inviter's gateway stores shows the acceptor's identity,
	 * its gateway key or its reply queue */
	cr_assert_not(contains(hello.data, hello.len, acceptor.id_pub, 8));
	cr_assert_not(contains(hello.data, hello.len, acceptor.gw.key, 8));
	cr_assert_not(contains(hello.data, hello.len, acceptor.queue, 8));
	cr_assert_not(contains(hello.data, hello.len,
			       (const uint8_t *)"gw-b.example", 12));

	buf_init(&welcome);
	cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW + 20,
				       hello.data, hello.len, &welcome, &ci),
		     FC_OK);
	cr_assert_not_null(ci);
	cr_assert_eq(welcome.data[0], E2E_FRAME_WELCOME);
	cr_assert_not(contains(welcome.data, welcome.len, inviter.id_pub, 8));
	cr_assert_eq(fc_acceptor_finish(fa, welcome.data, welcome.len, &ca),
		     FC_OK);
	cr_assert_not_null(ca);

	/* what each side learnt of the other */
	cr_assert(memcmp(ci->peer_identity, acceptor.id_pub, 32) == 0);
	cr_assert(memcmp(ca->peer_identity, inviter.id_pub, 32) == 0);
	cr_assert(memcmp(ci->peer_queue, acceptor.queue, 32) == 0);
	cr_assert(memcmp(ca->peer_queue, inv.queue_id, 32) == 0);
	cr_assert_str_eq(ci->peer_gw.host, "gw-b.example");
	cr_assert_str_eq(ca->peer_gw.host, "gw-a.example");
	cr_assert_str_eq(ci->peer_name, "Bob");
	cr_assert_str_eq(ca->peer_name, "Alice's phone");
	cr_assert(memcmp(ci->hello_id, ca->hello_id, 16) == 0);
	cr_assert_str_eq(ci->safety, ca->safety);
	cr_assert_eq(strlen(ci->safety), SAFETY_STR_LEN - 1);
	cr_assert(memcmp(ci->ad, ca->ad, FC_AD_LEN) == 0);
	/* the transport root: shared, and not any of the public values */
	static const uint8_t zero32[32];
	cr_assert(memcmp(ci->transport, ca->transport, 32) == 0);
	cr_assert(memcmp(ci->transport, zero32, 32) != 0);
	cr_assert(memcmp(ci->transport, ci->ad, 32) != 0);
	cr_assert(memcmp(ci->transport, ci->ad + 32, 32) != 0);

	/* the acceptor speaks first, then both ways */
	exchange(ca, ci, "hello from the acceptor");
	exchange(ci, ca, "hello back");
	exchange(ci, ca, "and again");
	exchange(ca, ci, "bye");

	/* a retransmitted HELLO gets the same WELCOME and no new contact */
	struct fc_contact *dup = (struct fc_contact *)1;
	buf_init(&again);
	fc_acceptor_hello(fa, &again);
	cr_assert_eq(again.len, hello.len);
	cr_assert(memcmp(again.data, hello.data, hello.len) == 0);
	buf_reset(&again);
	cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW + 30,
				       hello.data, hello.len, &again, &dup),
		     FC_RETRANSMIT);
	cr_assert_null(dup);
	cr_assert_eq(again.len, welcome.len);
	cr_assert(memcmp(again.data, welcome.data, welcome.len) == 0);
	/* ... even after the expiry: it answers an accepted HELLO */
	buf_reset(&again);
	cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW + 99999,
				       hello.data, hello.len, &again, &dup),
		     FC_RETRANSMIT);

	buf_free(&hello);
	buf_free(&welcome);
	buf_free(&again);
	FC_CONTACT_FREE(ci);
	FC_CONTACT_FREE(ca);
	FC_ACCEPTOR_FREE(fa);
	FC_INVITER_FREE(fi);
	cr_assert_null(fi);
}

Test(firstcontact, reused_invitation_refused)
{
	struct party inviter, a1, a2;
	struct invite inv;
	struct fc_inviter *fi;
	struct fc_acceptor *f1, *f2;
	struct fc_contact *c = NULL;
	struct buf h1, h2, w;
	enum fc_err e;

	party_new(&inviter, "gw");
	party_new(&a1, "gw1");
	party_new(&a2, "gw2");
	fi = invite_line(&inviter, &inv, 3600);
	buf_init(&h1);
	buf_init(&h2);
	buf_init(&w);
	f1 = fc_acceptor_new(&inv, a1.id_priv, &a1.gw, a1.queue, "one", NOW,
			     &h1, &e);
	f2 = fc_acceptor_new(&inv, a2.id_priv, &a2.gw, a2.queue, "two", NOW,
			     &h2, &e);
	cr_assert(f1 && f2);
	cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW, h1.data,
				       h1.len, &w, &c),
		     FC_OK);
	FC_CONTACT_FREE(c);
	buf_reset(&w);
	cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW, h2.data,
				       h2.len, &w, &c),
		     FC_ERR_USED);
	cr_assert_null(c);
	cr_assert_eq(w.len, 0, "nothing answered");
	cr_assert_str_eq(fc_strerror(FC_ERR_USED), "invitation already used");
	/* the same acceptor accepting twice makes a new HELLO: also used */
	struct fc_acceptor *f3;
	struct buf h3;
	buf_init(&h3);
	f3 = fc_acceptor_new(&inv, a1.id_priv, &a1.gw, a1.queue, "one", NOW,
			     &h3, &e);
	cr_assert_not_null(f3);
	cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW, h3.data,
				       h3.len, &w, &c),
		     FC_ERR_USED);
	buf_free(&h1);
	buf_free(&h2);
	buf_free(&h3);
	buf_free(&w);
	fc_acceptor_free(f1);
	fc_acceptor_free(f2);
	fc_acceptor_free(f3);
	fc_inviter_free(fi);
}

Test(firstcontact, expired_invitation_refused)
{
	struct party inviter, acc;
	struct invite inv;
	struct fc_inviter *fi;
	struct fc_acceptor *fa;
	struct fc_contact *c = NULL;
	struct buf h, w;
	enum fc_err e;

	party_new(&inviter, "gw");
	party_new(&acc, "gw2");
	fi = invite_line(&inviter, &inv, 60);
	buf_init(&h);
	buf_init(&w);
	/* the acceptor refuses an expired invitation itself */
	fa = fc_acceptor_new(&inv, acc.id_priv, &acc.gw, acc.queue, "x",
			     NOW + 61, &h, &e);
	cr_assert_null(fa);
	cr_assert_eq(e, FC_ERR_EXPIRED);
	cr_assert_eq(h.len, 0);
	/* accepted in time, but arriving late at the inviter */
	fa = fc_acceptor_new(&inv, acc.id_priv, &acc.gw, acc.queue, "x",
			     NOW + 60, &h, &e);
	cr_assert_not_null(fa);
	cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW + 61, h.data,
				       h.len, &w, &c),
		     FC_ERR_EXPIRED);
	cr_assert_null(c);
	cr_assert_eq(w.len, 0);
	cr_assert_str_eq(fc_strerror(FC_ERR_EXPIRED), "invitation expired");
	/* at the expiry second itself it still works */
	cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW + 60, h.data,
				       h.len, &w, &c),
		     FC_OK);
	FC_CONTACT_FREE(c);
	buf_free(&h);
	buf_free(&w);
	fc_acceptor_free(fa);
	fc_inviter_free(fi);
}

/*
 * An invitation whose fields were changed (behind a valid checksum, as an
 * attacker would) does not work and does not burn the real one.
 */
Test(firstcontact, altered_invitation_fails_and_does_not_burn)
{
	struct party inviter, acc;
	struct invite inv, bad;
	struct fc_inviter *fi;
	struct fc_acceptor *fa;
	struct fc_contact *c = NULL, *ca = NULL;
	struct buf h, w;
	enum fc_err e;

	party_new(&inviter, "gw");
	party_new(&acc, "gw2");
	fi = invite_line(&inviter, &inv, 600);
	for (int field = 0; field < 4; field++) {
		bad = inv;
		if (field == 0)
			bad.secret[3] ^= 1;
		else if (field == 1)
			bad.queue_id[0] ^= 1;
		else if (field == 2)
			bad.expiry++;
		else
			bad.gw.key[31] ^= 1;
		buf_init(&h);
		buf_init(&w);
		fa = fc_acceptor_new(&bad, acc.id_priv, &acc.gw, acc.queue, "x",
				     NOW, &h, &e);
		cr_assert_not_null(fa);
		cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW, h.data,
					       h.len, &w, &c),
			     FC_ERR_HANDSHAKE, "field %d", field);
		cr_assert_eq(w.len, 0);
		buf_free(&h);
		buf_free(&w);
		fc_acceptor_free(fa);
	}
	/* a bit flipped anywhere in a genuine HELLO is refused too */
	buf_init(&h);
	buf_init(&w);
	fa = fc_acceptor_new(&inv, acc.id_priv, &acc.gw, acc.queue, "x", NOW,
			     &h, &e);
	for (size_t i = 1; i < h.len; i += 7) {
		h.data[i] ^= 0x10;
		cr_assert_eq(fc_inviter_answer(fi, inviter.id_priv, NOW, h.data,
					       h.len, &w, &c),
			     FC_ERR_HANDSHAKE, "byte %zu", i);
		h.data[i] ^= 0x10;
	}
	h.data[0] = E2E_FRAME_WELCOME;
	cr_assert_eq(
	    fc_inviter_answer(fi, inviter.id_priv, NOW, h.data, h.len, &w, &c),
	    FC_ERR_FRAME);
	h.data[0] = E2E_FRAME_HELLO;
	/* still unused: the genuine HELLO works */
	cr_assert_eq(
	    fc_inviter_answer(fi, inviter.id_priv, NOW, h.data, h.len, &w, &c),
	    FC_OK);
	/* a damaged WELCOME fails, and the acceptor can still finish */
	for (size_t i = 1; i < w.len; i += 5) {
		w.data[i] ^= 4;
		cr_assert_eq(fc_acceptor_finish(fa, w.data, w.len, &ca),
			     FC_ERR_HANDSHAKE, "byte %zu", i);
		cr_assert_null(ca);
		w.data[i] ^= 4;
	}
	cr_assert_eq(fc_acceptor_finish(fa, w.data, w.len - 1, &ca),
		     FC_ERR_FRAME);
	cr_assert_eq(fc_acceptor_finish(fa, w.data, w.len, &ca), FC_OK);
	struct fc_contact *ca2 = NULL;
	cr_assert_eq(fc_acceptor_finish(fa, w.data, w.len, &ca2), FC_ERR_USED,
		     "a duplicate WELCOME makes no second contact");
	cr_assert_null(ca2);
	exchange(ca, c, "it still works");
	exchange(c, ca, "yes");
	FC_CONTACT_FREE(c);
	FC_CONTACT_FREE(ca);
	buf_free(&h);
	buf_free(&w);
	fc_acceptor_free(fa);
	fc_inviter_free(fi);
}

/* A WELCOME from another invitation's inviter does not finish. */
Test(firstcontact, welcome_of_another_handshake_refused)
{
	struct party inviter, acc;
	struct invite inv;
	struct fc_inviter *fi1, *fi2;
	struct fc_acceptor *fa1, *fa2;
	struct fc_contact *c1 = NULL, *c2 = NULL, *ca = NULL;
	struct buf h1, h2, w1, w2;
	enum fc_err e;

	party_new(&inviter, "gw");
	party_new(&acc, "gw2");
	buf_init(&h1);
	buf_init(&h2);
	buf_init(&w1);
	buf_init(&w2);
	fi1 = invite_line(&inviter, &inv, 600);
	fa1 = fc_acceptor_new(&inv, acc.id_priv, &acc.gw, acc.queue, "x", NOW,
			      &h1, &e);
	fi2 = invite_line(&inviter, &inv, 600);
	fa2 = fc_acceptor_new(&inv, acc.id_priv, &acc.gw, acc.queue, "x", NOW,
			      &h2, &e);
	cr_assert_eq(fc_inviter_answer(fi1, inviter.id_priv, NOW, h1.data,
				       h1.len, &w1, &c1),
		     FC_OK);
	cr_assert_eq(fc_inviter_answer(fi2, inviter.id_priv, NOW, h2.data,
				       h2.len, &w2, &c2),
		     FC_OK);
	cr_assert_eq(fc_acceptor_finish(fa1, w2.data, w2.len, &ca),
		     FC_ERR_HANDSHAKE);
	cr_assert_eq(fc_acceptor_finish(fa1, w1.data, w1.len, &ca), FC_OK);
	/* different sessions, same pair of identities: same safety number */
	cr_assert_str_eq(c1->safety, c2->safety);
	FC_CONTACT_FREE(ca);
	FC_CONTACT_FREE(c1);
	FC_CONTACT_FREE(c2);
	buf_free(&h1);
	buf_free(&h2);
	buf_free(&w1);
	buf_free(&w2);
	fc_acceptor_free(fa1);
	fc_acceptor_free(fa2);
	fc_inviter_free(fi1);
	fc_inviter_free(fi2);
}

Test(firstcontact, bad_arguments)
{
	struct party p;
	struct invite inv;
	struct buf h;
	enum fc_err e;

	party_new(&p, "gw");
	p.gw.port = 0;
	cr_assert_null(fc_inviter_new(&p.gw, "x", NOW, 60, &inv));
	p.gw.port = 1;
	cr_assert_null(fc_inviter_new(&p.gw, "", NOW, 60, &inv));
	cr_assert_null(fc_inviter_new(&p.gw, "x", UINT64_MAX, 1, &inv));
	struct fc_inviter *fi = fc_inviter_new(&p.gw, "x", NOW, 60, &inv);
	buf_init(&h);
	cr_assert_null(fc_acceptor_new(&inv, p.id_priv, &p.gw, p.queue,
				       "bad\x01name", NOW, &h, &e));
	cr_assert_eq(e, FC_ERR_ARG);
	cr_assert_eq(h.len, 0);
	buf_free(&h);
	fc_inviter_free(fi);
	invite_wipe(&inv);
}

/* Both sides survive a restart between HELLO and WELCOME. */
Test(firstcontact, persisted_and_restored)
{
	struct party inviter, acc;
	struct invite inv;
	struct fc_inviter *fi, *fi2, *fi3;
	struct fc_acceptor *fa, *fa2;
	struct fc_contact *ci = NULL, *ca = NULL;
	struct buf h, h2, w, w2, st;
	uint8_t is[FC_INVITER_STATE_LEN], is2[FC_INVITER_STATE_LEN];
	enum fc_err e;

	party_new(&inviter, "gw");
	party_new(&acc, "gw2");
	fi = invite_line(&inviter, &inv, 600);
	buf_init(&h);
	buf_init(&h2);
	buf_init(&w);
	buf_init(&w2);
	buf_init(&st);
	fa = fc_acceptor_new(&inv, acc.id_priv, &acc.gw, acc.queue, "x", NOW,
			     &h, &e);
	cr_assert_eq(fc_acceptor_serialize(fa, &st), 0);
	FC_ACCEPTOR_FREE(fa);
	/* strict parser: every truncation and an extra byte */
	for (size_t n = 0; n < st.len; n++)
		cr_assert_null(fc_acceptor_deserialize(st.data, n), "%zu", n);
	buf_append_u8(&st, 0);
	cr_assert_null(fc_acceptor_deserialize(st.data, st.len));
	st.len--;
	st.data[5] ^= 1; /* another identity: the hello payload disagrees */
	cr_assert_null(fc_acceptor_deserialize(st.data, st.len));
	st.data[5] ^= 1;
	fa2 = fc_acceptor_deserialize(st.data, st.len);
	cr_assert_not_null(fa2);
	fc_acceptor_hello(fa2, &h2);
	cr_assert(h2.len == h.len && memcmp(h2.data, h.data, h.len) == 0,
		  "the restored acceptor sends the same HELLO");

	fc_inviter_serialize(fi, is);
	FC_INVITER_FREE(fi);
	for (size_t n = 0; n < sizeof(is); n++)
		cr_assert_null(fc_inviter_deserialize(is, n));
	is[1] = 1; /* "used" but still holding its keys */
	cr_assert_null(fc_inviter_deserialize(is, sizeof(is)));
	is[1] = 2;
	cr_assert_null(fc_inviter_deserialize(is, sizeof(is)));
	is[1] = 0;
	is[0] = 2;
	cr_assert_null(fc_inviter_deserialize(is, sizeof(is)));
	is[0] = 1;
	fi2 = fc_inviter_deserialize(is, sizeof(is));
	cr_assert_not_null(fi2);
	cr_assert_eq(fc_inviter_answer(fi2, inviter.id_priv, NOW, h2.data,
				       h2.len, &w, &ci),
		     FC_OK);
	cr_assert_not_null(ci);
	FC_CONTACT_FREE(ci);
	/* used, persisted, restored: still idempotent, still used */
	fc_inviter_serialize(fi2, is2);
	cr_assert(memcmp(is2 + 2, (uint8_t[32]){0}, 32) == 0,
		  "one-time key wiped");
	fi3 = fc_inviter_deserialize(is2, sizeof(is2));
	cr_assert_not_null(fi3);
	cr_assert_eq(fc_inviter_answer(fi3, inviter.id_priv, NOW, h.data, h.len,
				       &w2, &ci),
		     FC_RETRANSMIT);
	cr_assert(w2.len == w.len && memcmp(w2.data, w.data, w.len) == 0);
	cr_assert_eq(fc_acceptor_finish(fa2, w.data, w.len, &ca), FC_OK);
	buf_reset(&st);
	cr_assert_eq(fc_acceptor_serialize(fa2, &st), -1, "finished");
	FC_INVITER_FREE(fi2);
	FC_INVITER_FREE(fi3);
	FC_ACCEPTOR_FREE(fa2);
	FC_CONTACT_FREE(ca);
	buf_free(&h);
	buf_free(&h2);
	buf_free(&w);
	buf_free(&w2);
	buf_wipe_free(&st);
}
