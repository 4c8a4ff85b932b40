/*
 * First contact: invitation, Noise IKpsk2 HELLO / WELCOME, and the ratchet
 * seed both sides derive (protocol in firstcontact.h and docs/e2e.md).
 */
#include "wire/firstcontact.h"

#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"

#include "crypto/hash.h"
#include "crypto/hkdf.h"
#include "crypto/noise.h"
#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#define PROLOGUE_MAX (sizeof(FC_PROLOGUE_LABEL) - 1 + 32 + 8 + 32 + 32)
#define REPLY_LEN    (1 + E2E_WELCOME_NOISE_LEN)

/* The inviter's pending invitation; in secret memory. */
struct fc_inviter {
	uint8_t otk_priv[32]; /* wiped once used */
	uint8_t psk[32];      /* wiped once used */
	uint8_t binder[32];   /* wiped once used */
	uint8_t queue_id[E2E_QUEUE_ID_LEN];
	uint8_t gw_key[E2E_KEY_LEN];
	uint64_t expiry;
	int used;
	uint8_t hello_hash[SHA256_LEN]; /* of the HELLO frame answered */
	uint8_t reply[REPLY_LEN];       /* the WELCOME frame sent */
};

/* The acceptor between HELLO and WELCOME; in secret memory. */
struct fc_acceptor {
	uint8_t id_priv[32];
	uint8_t e_priv[32]; /* Noise ephemeral, kept to re-run message 1 */
	uint8_t psk[32];
	uint8_t binder[32];
	struct invite inv; /* secret wiped: only the psk is kept */
	uint8_t hello_id[E2E_MSG_ID_LEN];
	uint8_t hello[1 + E2E_HELLO_NOISE_MAX];
	size_t hello_len;
	uint8_t payload[E2E_HELLO_NOISE_MAX];
	size_t payload_len;
	int done; /* finished: the secrets above are wiped */
};

/* The ratchet's initial secrets. */
struct fc_seed {
	uint8_t sk[32], hka[32], nhkb[32], transport[32];
};

const char *
fc_strerror(enum fc_err e)
{
	switch (e) {
	case FC_OK:
		return "ok";
	case FC_RETRANSMIT:
		return "first message seen before: answered again";
	case FC_ERR_EXPIRED:
		return "invitation expired";
	case FC_ERR_USED:
		return "invitation already used";
	case FC_ERR_FRAME:
		return "not a first-contact message";
	case FC_ERR_HANDSHAKE:
		return "first-contact handshake failed (wrong or damaged "
		       "invitation)";
	case FC_ERR_PAYLOAD:
		return "first-contact payload malformed";
	case FC_ERR_IDENTITY:
		return "first-contact identity does not match the handshake";
	case FC_ERR_ARG:
		return "invalid gateway, name or key";
	}
	return "unknown first-contact error";
}

/*
 * psk || binder = HKDF-SHA256(salt = label, ikm = secret, info = queue id).
 * The binder goes into the prologue: IKpsk2 mixes the psk in only at
 * message 2, so without it a HELLO made without the secret (by whoever saw
 * only the one-time key) would decrypt and burn the invitation. With it,
 * message 1's payload tag covers the secret too.
 */
static void
derive_psk(uint8_t psk[32], uint8_t binder[32], const uint8_t secret[16],
	   const uint8_t queue_id[32])
{
	uint8_t okm[64];

	if (hkdf_sha256(okm, sizeof(okm), FC_PSK_LABEL, strlen(FC_PSK_LABEL),
			secret, INVITE_SECRET_LEN, queue_id,
			E2E_QUEUE_ID_LEN) != 0)
		__builtin_trap(); /* 64 bytes: cannot fail */
	memcpy(psk, okm, 32);
	memcpy(binder, okm + 32, 32);
	secret_wipe(okm, sizeof(okm));
}

/*
 * prologue = label || queue id || u64 expiry || inviter's gateway key ||
 * binder: the handshake is bound to this one invitation.
 */
static size_t
make_prologue(uint8_t out[PROLOGUE_MAX], const uint8_t queue_id[32],
	      uint64_t expiry, const uint8_t gw_key[32],
	      const uint8_t binder[32])
{
	size_t n = strlen(FC_PROLOGUE_LABEL);

	memcpy(out, FC_PROLOGUE_LABEL, n);
	memcpy(out + n, queue_id, 32);
	be64_put(out + n + 32, expiry);
	memcpy(out + n + 40, gw_key, 32);
	memcpy(out + n + 72, binder, 32);
	return n + 104;
}

/*
 * SK || HKa || NHKb = HKDF-SHA256(salt = h, ikm = seed || DH(identities)).
 * -1 if the identity DH is all zero.
 */
static int
derive_seed(struct fc_seed *out, const struct noise_hs *hs,
	    const uint8_t seed[32], const uint8_t my_priv[32],
	    const uint8_t peer_pub[32])
{
	uint8_t h[NOISE_MAX_HASH_LEN], ikm[64], okm[128];
	size_t hlen;
	int rc = -1;

	if (noise_hs_get_handshake_hash(hs, h, sizeof(h), &hlen) != 0)
		return -1;
	memcpy(ikm, seed, 32);
	if (x25519(ikm + 32, my_priv, peer_pub) != 0)
		goto done;
	if (hkdf_sha256(okm, sizeof(okm), h, hlen, ikm, sizeof(ikm),
			FC_INFO_RATCHET, strlen(FC_INFO_RATCHET)) != 0)
		goto done;
	memcpy(out->sk, okm, 32);
	memcpy(out->hka, okm + 32, 32);
	memcpy(out->nhkb, okm + 64, 32);
	/* HKDF output is a prefix stream: the first 96 bytes are the same
	 * as with L = 96, the next 32 seal the daemon's fragments. */
	memcpy(out->transport, okm + 96, 32);
	rc = 0;
done:
	secret_wipe(ikm, sizeof(ikm));
	secret_wipe(okm, sizeof(okm));
	return rc;
}

static struct fc_contact *
contact_new(const uint8_t acceptor_id[32], const uint8_t inviter_id[32])
{
	struct fc_contact *c = bc_calloc(1, sizeof(*c));

	memcpy(c->ad, acceptor_id, 32);
	memcpy(c->ad + 32, inviter_id, 32);
	safety_number(c->safety, acceptor_id, inviter_id);
	return c;
}

void
fc_contact_free(struct fc_contact *c)
{
	if (c == NULL)
		return;
	RATCHET_FREE(c->ratchet);
	secret_wipe(c, sizeof(*c));
	free(c);
}

/* ---- Inviter ---- */

struct fc_inviter *
fc_inviter_new(const struct e2e_gateway *gw, const char *name, uint64_t now,
	       uint64_t lifetime_s, struct invite *out)
{
	struct fc_inviter *inv;

	memset(out, 0, sizeof(*out));
	if (e2e_gateway_check(gw) != E2E_OK ||
	    !e2e_name_valid(name, strnlen(name, E2E_NAME_MAX + 1)) ||
	    lifetime_s > UINT64_MAX - now)
		return NULL;
	inv = secret_alloc(sizeof(*inv));
	out->gw = *gw;
	memcpy(out->name, name, strlen(name));
	rand_bytes(out->queue_id, sizeof(out->queue_id));
	rand_bytes(out->secret, sizeof(out->secret));
	x25519_keypair(out->otk_pub, inv->otk_priv);
	out->expiry = now + lifetime_s;
	derive_psk(inv->psk, inv->binder, out->secret, out->queue_id);
	memcpy(inv->queue_id, out->queue_id, sizeof(inv->queue_id));
	memcpy(inv->gw_key, gw->key, sizeof(inv->gw_key));
	inv->expiry = out->expiry;
	return inv;
}

const uint8_t *
fc_inviter_queue(const struct fc_inviter *inv)
{
	return inv->queue_id;
}

void
fc_inviter_free(struct fc_inviter *inv)
{
	secret_free(inv);
}

/* Read message 1 and check its payload: the hello and the handshake. */
static enum fc_err
inviter_read(struct fc_inviter *inv, const struct e2e_frame *f,
	     struct e2e_hello *hello, struct noise_hs **hsp)
{
	uint8_t prologue[PROLOGUE_MAX], payload[E2E_HELLO_NOISE_MAX];
	uint8_t rs[32];
	size_t plen, prlen;
	struct noise_hs *hs;
	enum fc_err e = FC_ERR_HANDSHAKE;

	prlen = make_prologue(prologue, inv->queue_id, inv->expiry, inv->gw_key,
			      inv->binder);
	hs = noise_hs_new(FC_PROTOCOL, false, prologue, prlen);
	if (hs == NULL || noise_hs_set_s(hs, inv->otk_priv) != 0 ||
	    noise_hs_add_psk(hs, inv->psk) != 0 ||
	    noise_hs_read(hs, f->noise, f->noise_len, payload, sizeof(payload),
			  &plen) != 0 ||
	    noise_hs_get_remote_static(hs, rs) != 0)
		goto done;
	e = FC_ERR_PAYLOAD;
	if (e2e_hello_decode(payload, plen, hello) != E2E_OK)
		goto done;
	e = FC_ERR_IDENTITY;
	if (memcmp(rs, hello->identity_pub, 32) != 0)
		goto done;
	e = FC_OK;
done:
	if (e != FC_OK)
		NOISE_HS_FREE(hs);
	*hsp = hs;
	secret_wipe(payload, sizeof(payload));
	return e;
}

/* Write message 2 into inv->reply; the contact's ratchet is Bob's. */
static enum fc_err
inviter_write(struct fc_inviter *inv, struct noise_hs *hs,
	      const uint8_t id_priv[32], const struct e2e_hello *hello,
	      struct fc_contact **out)
{
	struct e2e_welcome w;
	uint8_t wbuf[E2E_WELCOME_LEN], rpriv[32];
	struct fc_seed *s = secret_alloc(sizeof(*s));
	struct fc_contact *c = NULL;
	size_t n;
	enum fc_err e = FC_ERR_ARG;

	x25519_base(w.identity_pub, id_priv);
	x25519_keypair(w.ratchet_pub, rpriv);
	rand_bytes(w.seed, sizeof(w.seed));
	memcpy(w.msg_id, hello->msg_id, E2E_MSG_ID_LEN);
	e2e_welcome_encode(&w, wbuf);
	inv->reply[0] = E2E_FRAME_WELCOME;
	if (noise_hs_write(hs, wbuf, sizeof(wbuf), inv->reply + 1,
			   sizeof(inv->reply) - 1, &n) != 0 ||
	    n != E2E_WELCOME_NOISE_LEN)
		goto done;
	if (derive_seed(s, hs, w.seed, id_priv, hello->identity_pub) != 0)
		goto done;
	c = contact_new(hello->identity_pub, w.identity_pub);
	memcpy(c->peer_identity, hello->identity_pub, 32);
	c->peer_gw = hello->gw;
	memcpy(c->peer_queue, hello->reply_queue, E2E_QUEUE_ID_LEN);
	memcpy(c->peer_name, hello->name, sizeof(c->peer_name));
	memcpy(c->hello_id, hello->msg_id, E2E_MSG_ID_LEN);
	memcpy(c->transport, s->transport, 32);
	c->ratchet = ratchet_new_bob(s->sk, s->hka, s->nhkb, rpriv);
	*out = c;
	e = FC_OK;
done:
	secret_wipe(&w, sizeof(w));
	secret_wipe(wbuf, sizeof(wbuf));
	secret_wipe(rpriv, sizeof(rpriv));
	secret_free(s);
	return e;
}

enum fc_err
fc_inviter_answer(struct fc_inviter *inv,
		  const uint8_t identity_priv[static 32], uint64_t now,
		  const uint8_t *frame, size_t len, struct buf *reply,
		  struct fc_contact **out)
{
	struct e2e_frame f;
	struct e2e_hello hello;
	struct noise_hs *hs = NULL;
	uint8_t hash[SHA256_LEN];
	enum fc_err e;

	*out = NULL;
	if (e2e_frame_parse(frame, len, &f) != E2E_OK ||
	    f.type != E2E_FRAME_HELLO)
		return FC_ERR_FRAME;
	sha256(hash, frame, len);
	if (inv->used) {
		if (!secret_eq(hash, inv->hello_hash, sizeof(hash)))
			return FC_ERR_USED;
		buf_append(reply, inv->reply, sizeof(inv->reply));
		return FC_RETRANSMIT;
	}
	if (now > inv->expiry)
		return FC_ERR_EXPIRED;
	e = inviter_read(inv, &f, &hello, &hs);
	if (e == FC_OK)
		e = inviter_write(inv, hs, identity_priv, &hello, out);
	NOISE_HS_FREE(hs);
	if (e != FC_OK) {
		secret_wipe(inv->reply, sizeof(inv->reply));
		return e;
	}
	/* used: the one-time key and psk are no longer needed */
	inv->used = 1;
	memcpy(inv->hello_hash, hash, sizeof(hash));
	secret_wipe(inv->otk_priv, sizeof(inv->otk_priv));
	secret_wipe(inv->psk, sizeof(inv->psk));
	secret_wipe(inv->binder, sizeof(inv->binder));
	buf_append(reply, inv->reply, sizeof(inv->reply));
	return FC_OK;
}

/* ---- Acceptor ---- */

/*
 * A handshake that has written message 1 (out: msg, mlen). Message 1 is a
 * function of the stored keys, ephemeral included, so every call gives the
 * same bytes: a WELCOME can be tried on a fresh copy, and a failed one
 * leaves nothing behind.
 */
static struct noise_hs *
acceptor_hs(const struct fc_acceptor *a, uint8_t *msg, size_t cap, size_t *mlen)
{
	uint8_t prologue[PROLOGUE_MAX];
	size_t prlen = make_prologue(prologue, a->inv.queue_id, a->inv.expiry,
				     a->inv.gw.key, a->binder);
	struct noise_hs *hs = noise_hs_new(FC_PROTOCOL, true, prologue, prlen);

	if (hs == NULL || noise_hs_set_s(hs, a->id_priv) != 0 ||
	    noise_hs_set_rs(hs, a->inv.otk_pub) != 0 ||
	    noise_hs_add_psk(hs, a->psk) != 0 ||
	    noise_hs_set_e(hs, a->e_priv) != 0 ||
	    noise_hs_write(hs, a->payload, a->payload_len, msg, cap, mlen) != 0)
		NOISE_HS_FREE(hs);
	return hs;
}

struct fc_acceptor *
fc_acceptor_new(const struct invite *inv,
		const uint8_t identity_priv[static 32],
		const struct e2e_gateway *my_gw,
		const uint8_t reply_queue[static 32], const char *my_name,
		uint64_t now, struct buf *hello, enum fc_err *err)
{
	struct fc_acceptor *a;
	struct e2e_hello h;
	struct noise_hs *hs;
	struct buf p;

	*err = FC_ERR_EXPIRED;
	if (now > inv->expiry)
		return NULL;
	*err = FC_ERR_ARG;
	memset(&h, 0, sizeof(h));
	x25519_base(h.identity_pub, identity_priv);
	h.gw = *my_gw;
	memcpy(h.reply_queue, reply_queue, E2E_QUEUE_ID_LEN);
	if (strnlen(my_name, E2E_NAME_MAX + 1) > E2E_NAME_MAX)
		return NULL;
	memcpy(h.name, my_name, strlen(my_name));
	rand_bytes(h.msg_id, sizeof(h.msg_id));
	buf_init(&p);
	if (e2e_hello_encode(&h, &p) != 0) {
		buf_free(&p);
		return NULL;
	}
	a = secret_alloc(sizeof(*a));
	memcpy(a->id_priv, identity_priv, 32);
	rand_bytes(a->e_priv, sizeof(a->e_priv));
	a->inv = *inv;
	derive_psk(a->psk, a->binder, inv->secret, inv->queue_id);
	secret_wipe(a->inv.secret, sizeof(a->inv.secret));
	memcpy(a->hello_id, h.msg_id, E2E_MSG_ID_LEN);
	memcpy(a->payload, p.data, p.len);
	a->payload_len = p.len;
	buf_free(&p);
	a->hello[0] = E2E_FRAME_HELLO;
	hs = acceptor_hs(a, a->hello + 1, sizeof(a->hello) - 1, &a->hello_len);
	if (hs == NULL) {
		secret_free(a);
		return NULL;
	}
	NOISE_HS_FREE(hs);
	a->hello_len++;
	*err = FC_OK;
	fc_acceptor_hello(a, hello);
	return a;
}

void
fc_acceptor_hello(const struct fc_acceptor *a, struct buf *hello)
{
	buf_append(hello, a->hello, a->hello_len);
}

void
fc_acceptor_free(struct fc_acceptor *a)
{
	secret_free(a);
}

/* Read message 2 on a fresh copy of the handshake; the welcome out. */
static enum fc_err
acceptor_read(struct fc_acceptor *a, const struct e2e_frame *f,
	      struct e2e_welcome *w, struct noise_hs **hsp)
{
	uint8_t msg1[E2E_HELLO_NOISE_MAX], payload[E2E_WELCOME_NOISE_LEN];
	size_t m1len, plen;
	struct noise_hs *hs = acceptor_hs(a, msg1, sizeof(msg1), &m1len);
	enum fc_err e = FC_ERR_HANDSHAKE;

	if (hs == NULL || m1len + 1 != a->hello_len ||
	    noise_hs_read(hs, f->noise, f->noise_len, payload, sizeof(payload),
			  &plen) != 0)
		goto done;
	e = FC_ERR_PAYLOAD;
	if (e2e_welcome_decode(payload, plen, w) != E2E_OK ||
	    memcmp(w->msg_id, a->hello_id, E2E_MSG_ID_LEN) != 0)
		goto done;
	e = FC_OK;
done:
	if (e != FC_OK)
		NOISE_HS_FREE(hs);
	*hsp = hs;
	secret_wipe(payload, sizeof(payload));
	return e;
}

enum fc_err
fc_acceptor_finish(struct fc_acceptor *a, const uint8_t *frame, size_t len,
		   struct fc_contact **out)
{
	struct e2e_frame f;
	struct e2e_welcome w;
	struct noise_hs *hs = NULL;
	struct fc_seed *s = NULL;
	struct fc_contact *c;
	uint8_t my_pub[32];
	enum fc_err e;

	*out = NULL;
	if (e2e_frame_parse(frame, len, &f) != E2E_OK ||
	    f.type != E2E_FRAME_WELCOME)
		return FC_ERR_FRAME;
	if (a->done)
		return FC_ERR_USED;
	e = acceptor_read(a, &f, &w, &hs);
	if (e != FC_OK)
		goto done;
	s = secret_alloc(sizeof(*s));
	e = FC_ERR_PAYLOAD;
	if (derive_seed(s, hs, w.seed, a->id_priv, w.identity_pub) != 0)
		goto done;
	x25519_base(my_pub, a->id_priv);
	c = contact_new(my_pub, w.identity_pub);
	memcpy(c->transport, s->transport, 32);
	c->ratchet = ratchet_new_alice(s->sk, s->hka, s->nhkb, w.ratchet_pub);
	if (c->ratchet == NULL) {
		fc_contact_free(c);
		goto done;
	}
	memcpy(c->peer_identity, w.identity_pub, 32);
	c->peer_gw = a->inv.gw;
	memcpy(c->peer_queue, a->inv.queue_id, E2E_QUEUE_ID_LEN);
	memcpy(c->peer_name, a->inv.name, sizeof(c->peer_name));
	memcpy(c->hello_id, a->hello_id, E2E_MSG_ID_LEN);
	*out = c;
	e = FC_OK;
	/* the handshake is over: nothing may re-run it */
	a->done = 1;
	secret_wipe(a->e_priv, sizeof(a->e_priv));
	secret_wipe(a->id_priv, sizeof(a->id_priv));
	secret_wipe(a->psk, sizeof(a->psk));
	secret_wipe(a->binder, sizeof(a->binder));
done:
	NOISE_HS_FREE(hs);
	secret_free(s);
	secret_wipe(&w, sizeof(w));
	return e;
}

/* ---- Persistence ---- */

#define INVITER_STATE_VERSION 1
#define INVITER_STATE_LEN                                               \
	(2 + 3 * 32 + E2E_QUEUE_ID_LEN + E2E_KEY_LEN + 8 + SHA256_LEN + \
	 REPLY_LEN)

_Static_assert(INVITER_STATE_LEN == FC_INVITER_STATE_LEN,
	       "header and layout agree");

void
fc_inviter_serialize(const struct fc_inviter *inv,
		     uint8_t out[static FC_INVITER_STATE_LEN])
{
	uint8_t *p = out;

	*p++ = INVITER_STATE_VERSION;
	*p++ = (uint8_t)inv->used;
	memcpy(p, inv->otk_priv, 32);
	memcpy(p + 32, inv->psk, 32);
	memcpy(p + 64, inv->binder, 32);
	memcpy(p + 96, inv->queue_id, 32);
	memcpy(p + 128, inv->gw_key, 32);
	be64_put(p + 160, inv->expiry);
	memcpy(p + 168, inv->hello_hash, SHA256_LEN);
	memcpy(p + 168 + SHA256_LEN, inv->reply, REPLY_LEN);
}

/* Used: secrets gone, a WELCOME kept. Unused: a key, nothing answered. */
static bool
inviter_consistent(const struct fc_inviter *inv)
{
	bool secrets_zero = secret_is_zero(inv->otk_priv, 32) &&
			    secret_is_zero(inv->psk, 32) &&
			    secret_is_zero(inv->binder, 32);

	if (inv->used)
		return secrets_zero && inv->reply[0] == E2E_FRAME_WELCOME;
	return !secret_is_zero(inv->otk_priv, 32) &&
	       secret_is_zero(inv->hello_hash, SHA256_LEN) &&
	       secret_is_zero(inv->reply, REPLY_LEN);
}

struct fc_inviter *
fc_inviter_deserialize(const uint8_t *in, size_t len)
{
	struct fc_inviter *inv;
	const uint8_t *p = in + 2;

	if (len != INVITER_STATE_LEN || in[0] != INVITER_STATE_VERSION ||
	    in[1] > 1)
		return NULL;
	inv = secret_alloc(sizeof(*inv));
	inv->used = in[1];
	memcpy(inv->otk_priv, p, 32);
	memcpy(inv->psk, p + 32, 32);
	memcpy(inv->binder, p + 64, 32);
	memcpy(inv->queue_id, p + 96, 32);
	memcpy(inv->gw_key, p + 128, 32);
	inv->expiry = be64_get(p + 160);
	memcpy(inv->hello_hash, p + 168, SHA256_LEN);
	memcpy(inv->reply, p + 168 + SHA256_LEN, REPLY_LEN);
	if (!inviter_consistent(inv)) {
		secret_free(inv);
		return NULL;
	}
	return inv;
}

#define ACCEPTOR_STATE_VERSION 1

int
fc_acceptor_serialize(const struct fc_acceptor *a, struct buf *out)
{
	if (a->done)
		return -1;
	buf_append_u8(out, ACCEPTOR_STATE_VERSION);
	buf_append(out, a->id_priv, 32);
	buf_append(out, a->e_priv, 32);
	buf_append(out, a->psk, 32);
	buf_append(out, a->binder, 32);
	e2e_gateway_put(out, &a->inv.gw);
	buf_append(out, a->inv.queue_id, E2E_QUEUE_ID_LEN);
	buf_append(out, a->inv.otk_pub, E2E_KEY_LEN);
	buf_append_u64be(out, a->inv.expiry);
	e2e_name_put(out, a->inv.name);
	buf_append(out, a->hello_id, E2E_MSG_ID_LEN);
	buf_append_u16be(out, (uint16_t)a->payload_len);
	buf_append(out, a->payload, a->payload_len);
	return 0;
}

/* The payload must be a hello from this identity with this id. */
static bool
acceptor_payload_ok(const struct fc_acceptor *a)
{
	struct e2e_hello h;
	uint8_t pub[32];

	if (e2e_hello_decode(a->payload, a->payload_len, &h) != E2E_OK)
		return false;
	x25519_base(pub, a->id_priv);
	return memcmp(h.identity_pub, pub, 32) == 0 &&
	       memcmp(h.msg_id, a->hello_id, E2E_MSG_ID_LEN) == 0;
}

/* Read the fields; 0 if every one is there and valid. */
static int
acceptor_read_state(struct fc_acceptor *a, struct rd *r)
{
	size_t plen;

	if (rd_u8(r) != ACCEPTOR_STATE_VERSION)
		return -1;
	rd_bytes(r, a->id_priv, 32);
	rd_bytes(r, a->e_priv, 32);
	rd_bytes(r, a->psk, 32);
	rd_bytes(r, a->binder, 32);
	if (e2e_gateway_get(r, &a->inv.gw) != E2E_OK)
		return -1;
	rd_bytes(r, a->inv.queue_id, E2E_QUEUE_ID_LEN);
	rd_bytes(r, a->inv.otk_pub, E2E_KEY_LEN);
	a->inv.expiry = rd_u64be(r);
	if (!rd_ok(r) || e2e_name_get(r, a->inv.name) != E2E_OK)
		return -1;
	rd_bytes(r, a->hello_id, E2E_MSG_ID_LEN);
	plen = rd_u16be(r);
	if (!rd_ok(r) || plen > sizeof(a->payload))
		return -1;
	rd_bytes(r, a->payload, plen);
	a->payload_len = plen;
	if (!rd_ok(r) || rd_remaining(r) != 0)
		return -1;
	return 0;
}

struct fc_acceptor *
fc_acceptor_deserialize(const uint8_t *in, size_t len)
{
	struct fc_acceptor *a = secret_alloc(sizeof(*a));
	struct noise_hs *hs = NULL;
	struct rd r;

	rd_init(&r, in, len);
	if (acceptor_read_state(a, &r) != 0 || !acceptor_payload_ok(a))
		goto fail;
	/* the HELLO is recomputed, which also checks the keys */
	a->hello[0] = E2E_FRAME_HELLO;
	hs = acceptor_hs(a, a->hello + 1, sizeof(a->hello) - 1, &a->hello_len);
	if (hs == NULL)
		goto fail;
	NOISE_HS_FREE(hs);
	a->hello_len++;
	return a;
fail:
	secret_free(a);
	return NULL;
}
