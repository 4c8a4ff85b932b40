/*
 * Noise handshake state machine (revision 34, section 5): the SymmetricState
 * (ck, h, k, n) and HandshakeState (s, e, rs, re, psks, message index) in one
 * object in locked memory (crypto/secret.h). Pre-messages are hashed when the
 * first message is written or read, because the keys they hash arrive through
 * the setters after noise_hs_new().
 */
#include "crypto/noise.h"

#include <sodium.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/noise_cipher.h"
#include "crypto/noise_hash.h"
#include "crypto/noise_pattern.h"
#include "crypto/rand.h"
#include "crypto/secret.h"

enum hs_state {
	HS_READY,   /* keys may still be set; pre-messages not yet hashed */
	HS_RUNNING, /* between messages */
	HS_DONE,    /* all messages processed; split not yet called */
	HS_SPLIT,   /* ciphers handed out; only h and rs remain */
	HS_DEAD,    /* failed; everything wiped */
};

struct noise_hs {
	struct noise_protocol proto;
	bool initiator;
	enum hs_state state;
	size_t msg;  /* index of the next handshake message */
	size_t hlen; /* HASHLEN */
	/* SymmetricState and its CipherState */
	uint8_t ck[NOISE_HASH_MAXLEN];
	uint8_t h[NOISE_HASH_MAXLEN];
	uint8_t k[NOISE_KEY_LEN];
	bool has_k;
	uint64_t n;
	/* HandshakeState keys */
	uint8_t s_priv[NOISE_KEY_LEN], s_pub[NOISE_KEY_LEN];
	uint8_t e_priv[NOISE_KEY_LEN], e_pub[NOISE_KEY_LEN];
	uint8_t rs[NOISE_KEY_LEN], re[NOISE_KEY_LEN];
	bool has_s, has_e, e_preset, has_rs, has_re;
	uint8_t psk[NOISE_MAX_PSKS][NOISE_KEY_LEN];
	size_t npsk, psk_next;
};

void
noise_keypair_generate(uint8_t pub[static NOISE_KEY_LEN],
		       uint8_t priv[static NOISE_KEY_LEN])
{
	/* Through rand.h, so tests can make the ephemerals reproducible. */
	rand_bytes(priv, NOISE_KEY_LEN);
	crypto_scalarmult_base(pub, priv);
}

void
noise_pubkey_from_private(uint8_t pub[static NOISE_KEY_LEN],
			  const uint8_t priv[static NOISE_KEY_LEN])
{
	crypto_scalarmult_base(pub, priv);
}

/* Wipe every secret and refuse all further work. Always returns -1. */
static int
hs_die(struct noise_hs *hs)
{
	enum noise_hash_id id = hs->proto.hash;

	secret_wipe(hs, sizeof(*hs));
	hs->proto.hash = id;
	hs->state = HS_DEAD;
	return -1;
}

/* Does this side send message msg? (One-way: the initiator sends all.) */
static bool
sends(const struct noise_hs *hs, size_t msg)
{
	bool by_initiator = hs->proto.pattern.one_way || msg % 2 == 0;

	return by_initiator == hs->initiator;
}

/* ---- SymmetricState ---- */

static void
mix_hash(struct noise_hs *hs, const uint8_t *d, size_t len)
{
	noise_hash(hs->proto.hash, hs->h, hs->h, hs->hlen, d, len);
}

static void
set_k(struct noise_hs *hs, const uint8_t *temp_k)
{
	/* HASHLEN 64: the cipher key is the first 32 bytes. */
	memcpy(hs->k, temp_k, NOISE_KEY_LEN);
	hs->has_k = true;
	hs->n = 0;
}

static void
mix_key(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t tk[NOISE_HASH_MAXLEN];

	noise_hkdf(hs->proto.hash, hs->ck, ikm, len, hs->ck, tk, NULL);
	set_k(hs, tk);
	secret_wipe(tk, sizeof(tk));
}

static void
mix_key_and_hash(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t th[NOISE_HASH_MAXLEN], tk[NOISE_HASH_MAXLEN];

	noise_hkdf(hs->proto.hash, hs->ck, ikm, len, hs->ck, th, tk);
	mix_hash(hs, th, hs->hlen);
	set_k(hs, tk);
	secret_wipe(th, sizeof(th));
	secret_wipe(tk, sizeof(tk));
}

/* out receives len (+16 once a key exists) bytes. */
static int
encrypt_and_hash(struct noise_hs *hs, const uint8_t *pt, size_t len,
		 uint8_t *out, size_t *outlen)
{
	if (!hs->has_k) {
		if (len > 0)
			memcpy(out, pt, len);
		*outlen = len;
	} else {
		if (hs->n == UINT64_MAX)
			return -1;
		noise_aead_encrypt(hs->k, hs->n, hs->h, hs->hlen, pt, len, out);
		hs->n++;
		*outlen = len + NOISE_TAG_LEN;
	}
	mix_hash(hs, out, *outlen);
	return 0;
}

/* ct is len bytes (>= 16 once a key exists); out receives the plaintext. */
static int
decrypt_and_hash(struct noise_hs *hs, const uint8_t *ct, size_t len,
		 uint8_t *out)
{
	uint8_t newh[NOISE_HASH_MAXLEN];

	if (!hs->has_k) {
		if (len > 0)
			memcpy(out, ct, len);
		mix_hash(hs, ct, len);
		return 0;
	}
	if (hs->n == UINT64_MAX || len < NOISE_TAG_LEN)
		return -1;
	/* The new h covers the ciphertext; the old one is the AD. */
	noise_hash(hs->proto.hash, newh, hs->h, hs->hlen, ct, len);
	if (noise_aead_decrypt(hs->k, hs->n, hs->h, hs->hlen, ct, len, out))
		return -1;
	hs->n++;
	memcpy(hs->h, newh, hs->hlen);
	return 0;
}

/* ---- Setup ---- */

struct noise_hs *
noise_hs_new(const char *protocol_name, bool initiator, const uint8_t *prologue,
	     size_t plen)
{
	struct noise_protocol proto;
	struct noise_hs *hs;
	size_t nlen;

	if (crypto_init() != 0 || noise_protocol_parse(protocol_name, &proto))
		return NULL;
	if (prologue == NULL && plen > 0)
		return NULL;
	/* Zero-filled; aborts rather than fall back to unlocked memory. */
	hs = secret_alloc(sizeof(*hs));
	hs->proto = proto;
	hs->initiator = initiator;
	hs->state = HS_READY;
	hs->hlen = noise_hash_len(proto.hash);
	/* InitializeSymmetric: a short name padded with zeros, else hashed. */
	nlen = strlen(proto.name);
	if (nlen <= hs->hlen)
		memcpy(hs->h, proto.name, nlen);
	else
		noise_hash(proto.hash, hs->h, (const uint8_t *)proto.name, nlen,
			   NULL, 0);
	memcpy(hs->ck, hs->h, hs->hlen);
	mix_hash(hs, prologue, plen);
	return hs;
}

/* Does a token sent or processed by this side use its static key? */
static bool
token_uses_local_s(const struct noise_hs *hs, size_t msg, uint8_t tok)
{
	bool mine = sends(hs, msg);

	switch ((enum noise_token)tok) {
	case NOISE_TOK_S:
		return mine;
	case NOISE_TOK_SS:
		return true;
	case NOISE_TOK_ES:
		return !hs->initiator;
	case NOISE_TOK_SE:
		return hs->initiator;
	case NOISE_TOK_E:
	case NOISE_TOK_EE:
	case NOISE_TOK_PSK:
		break;
	}
	return false;
}

bool
noise_hs_needs_s(const struct noise_hs *hs)
{
	const struct noise_pattern *p = &hs->proto.pattern;

	if (hs->initiator ? p->pre_init_s : p->pre_resp_s)
		return true;
	for (size_t m = 0; m < p->nmsgs; m++)
		for (size_t t = 0; t < p->ntokens[m]; t++)
			if (token_uses_local_s(hs, m, p->tokens[m][t]))
				return true;
	return false;
}

bool
noise_hs_needs_rs(const struct noise_hs *hs)
{
	const struct noise_pattern *p = &hs->proto.pattern;

	return hs->initiator ? p->pre_resp_s : p->pre_init_s;
}

size_t
noise_hs_psks_needed(const struct noise_hs *hs)
{
	return hs->proto.pattern.npsk;
}

int
noise_hs_set_s(struct noise_hs *hs, const uint8_t priv[static NOISE_KEY_LEN])
{
	if (hs->state != HS_READY || !noise_hs_needs_s(hs))
		return hs_die(hs);
	memcpy(hs->s_priv, priv, NOISE_KEY_LEN);
	crypto_scalarmult_base(hs->s_pub, hs->s_priv);
	hs->has_s = true;
	return 0;
}

int
noise_hs_set_rs(struct noise_hs *hs, const uint8_t pub[static NOISE_KEY_LEN])
{
	if (hs->state != HS_READY || !noise_hs_needs_rs(hs))
		return hs_die(hs);
	memcpy(hs->rs, pub, NOISE_KEY_LEN);
	hs->has_rs = true;
	return 0;
}

int
noise_hs_add_psk(struct noise_hs *hs, const uint8_t psk[static NOISE_KEY_LEN])
{
	if (hs->state != HS_READY || hs->npsk >= hs->proto.pattern.npsk ||
	    hs->npsk >= NOISE_MAX_PSKS)
		return hs_die(hs);
	memcpy(hs->psk[hs->npsk++], psk, NOISE_KEY_LEN);
	return 0;
}

int
noise_hs_set_e(struct noise_hs *hs, const uint8_t priv[static NOISE_KEY_LEN])
{
	if (hs->state != HS_READY)
		return hs_die(hs);
	memcpy(hs->e_priv, priv, NOISE_KEY_LEN);
	crypto_scalarmult_base(hs->e_pub, hs->e_priv);
	hs->e_preset = true;
	return 0;
}

/* First write or read: every key the pattern needs is here; hash them. */
static int
hs_start(struct noise_hs *hs)
{
	const struct noise_pattern *p = &hs->proto.pattern;

	if (noise_hs_needs_s(hs) != hs->has_s ||
	    noise_hs_needs_rs(hs) != hs->has_rs || hs->npsk != p->npsk)
		return -1;
	/* The initiator's pre-message first, then the responder's. */
	if (p->pre_init_s)
		mix_hash(hs, hs->initiator ? hs->s_pub : hs->rs, NOISE_KEY_LEN);
	if (p->pre_resp_s)
		mix_hash(hs, hs->initiator ? hs->rs : hs->s_pub, NOISE_KEY_LEN);
	hs->state = HS_RUNNING;
	return 0;
}

/* ---- Tokens ---- */

/* MixKey(DH(priv, pub)), refusing an all-zero result (a low-order point). */
static int
mix_dh(struct noise_hs *hs, bool have_priv, const uint8_t *priv, bool have_pub,
       const uint8_t *pub)
{
	uint8_t shared[NOISE_KEY_LEN];
	int rc = -1;

	if (!have_priv || !have_pub)
		goto done;
	if (crypto_scalarmult(shared, priv, pub) != 0)
		goto done;
	mix_key(hs, shared, sizeof(shared));
	rc = 0;
done:
	secret_wipe(shared, sizeof(shared));
	return rc;
}

/* ee, es, se, ss from this side's point of view (section 5.3). */
static int
token_dh(struct noise_hs *hs, uint8_t tok)
{
	bool i = hs->initiator;

	switch ((enum noise_token)tok) {
	case NOISE_TOK_EE:
		return mix_dh(hs, hs->has_e, hs->e_priv, hs->has_re, hs->re);
	case NOISE_TOK_ES:
		return i ? mix_dh(hs, hs->has_e, hs->e_priv, hs->has_rs, hs->rs)
			 : mix_dh(hs, hs->has_s, hs->s_priv, hs->has_re,
				  hs->re);
	case NOISE_TOK_SE:
		return i ? mix_dh(hs, hs->has_s, hs->s_priv, hs->has_re, hs->re)
			 : mix_dh(hs, hs->has_e, hs->e_priv, hs->has_rs,
				  hs->rs);
	case NOISE_TOK_SS:
		return mix_dh(hs, hs->has_s, hs->s_priv, hs->has_rs, hs->rs);
	case NOISE_TOK_PSK:
		if (hs->psk_next >= hs->npsk)
			return -1;
		mix_key_and_hash(hs, hs->psk[hs->psk_next++], NOISE_KEY_LEN);
		return 0;
	case NOISE_TOK_E:
	case NOISE_TOK_S:
		break;
	}
	return -1;
}

/*
 * Bytes the tokens of message msg occupy, and whether its payload will be
 * encrypted: a dry run of when k first exists, so that lengths are checked
 * before any state changes.
 */
static size_t
msg_token_len(const struct noise_hs *hs, size_t msg, bool *payload_tag)
{
	const struct noise_pattern *p = &hs->proto.pattern;
	bool k = hs->has_k;
	size_t len = 0;

	for (size_t t = 0; t < p->ntokens[msg]; t++) {
		uint8_t tok = p->tokens[msg][t];

		if (tok == NOISE_TOK_E) {
			len += NOISE_KEY_LEN;
			k = k || p->npsk > 0;
		} else if (tok == NOISE_TOK_S) {
			len += NOISE_KEY_LEN + (k ? NOISE_TAG_LEN : 0);
		} else {
			k = true;
		}
	}
	*payload_tag = k;
	return len;
}

/* ---- Messages ---- */

/* Common entry checks; starts the handshake on the first message. */
static int
msg_begin(struct noise_hs *hs, bool writing)
{
	if (hs->state == HS_READY && hs_start(hs) != 0)
		return -1;
	if (hs->state != HS_RUNNING || sends(hs, hs->msg) != writing)
		return -1;
	return 0;
}

static void
msg_end(struct noise_hs *hs)
{
	hs->msg++;
	if (hs->msg == hs->proto.pattern.nmsgs)
		hs->state = HS_DONE;
}

static int
write_e(struct noise_hs *hs, uint8_t *out)
{
	if (hs->e_preset)
		hs->e_preset = false;
	else if (hs->has_e)
		return -1;
	else
		noise_keypair_generate(hs->e_pub, hs->e_priv);
	hs->has_e = true;
	memcpy(out, hs->e_pub, NOISE_KEY_LEN);
	mix_hash(hs, hs->e_pub, NOISE_KEY_LEN);
	if (hs->proto.pattern.npsk > 0)
		mix_key(hs, hs->e_pub, NOISE_KEY_LEN);
	return 0;
}

int
noise_hs_write(struct noise_hs *hs, const uint8_t *payload, size_t plen,
	       uint8_t *out, size_t outcap, size_t *outlen)
{
	const struct noise_pattern *p = &hs->proto.pattern;
	size_t pos = 0, n, total;
	bool tag;

	if (msg_begin(hs, true) != 0)
		return hs_die(hs);
	total = msg_token_len(hs, hs->msg, &tag);
	if (plen > NOISE_MAX_MSG_LEN ||
	    total + plen + (tag ? NOISE_TAG_LEN : 0) > NOISE_MAX_MSG_LEN)
		return hs_die(hs);
	total += plen + (tag ? NOISE_TAG_LEN : 0);
	if (out == NULL || outlen == NULL || total > outcap ||
	    (payload == NULL && plen > 0))
		return hs_die(hs);
	for (size_t t = 0; t < p->ntokens[hs->msg]; t++) {
		uint8_t tok = p->tokens[hs->msg][t];

		if (tok == NOISE_TOK_E) {
			if (write_e(hs, out + pos) != 0)
				return hs_die(hs);
			pos += NOISE_KEY_LEN;
		} else if (tok == NOISE_TOK_S) {
			if (!hs->has_s ||
			    encrypt_and_hash(hs, hs->s_pub, NOISE_KEY_LEN,
					     out + pos, &n) != 0)
				return hs_die(hs);
			pos += n;
		} else if (token_dh(hs, tok) != 0) {
			return hs_die(hs);
		}
	}
	if (encrypt_and_hash(hs, payload, plen, out + pos, &n) != 0)
		return hs_die(hs);
	*outlen = pos + n;
	msg_end(hs);
	return 0;
}

static int
read_e(struct noise_hs *hs, const uint8_t *in)
{
	if (hs->has_re)
		return -1;
	memcpy(hs->re, in, NOISE_KEY_LEN);
	hs->has_re = true;
	mix_hash(hs, hs->re, NOISE_KEY_LEN);
	if (hs->proto.pattern.npsk > 0)
		mix_key(hs, hs->re, NOISE_KEY_LEN);
	return 0;
}

static int
read_s(struct noise_hs *hs, const uint8_t *in, size_t len)
{
	uint8_t pub[NOISE_KEY_LEN];

	if (hs->has_rs || decrypt_and_hash(hs, in, len, pub) != 0)
		return -1;
	memcpy(hs->rs, pub, NOISE_KEY_LEN);
	hs->has_rs = true;
	return 0;
}

int
noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
	      uint8_t *payload_out, size_t cap, size_t *plen)
{
	const struct noise_pattern *p = &hs->proto.pattern;
	size_t pos = 0, need, body;
	bool tag;

	if (msg_begin(hs, false) != 0)
		return hs_die(hs);
	/* Every length is checked before any byte is read or hashed. */
	need = msg_token_len(hs, hs->msg, &tag);
	if (msg == NULL || plen == NULL || mlen > NOISE_MAX_MSG_LEN ||
	    mlen < need + (tag ? NOISE_TAG_LEN : 0))
		return hs_die(hs);
	body = mlen - need - (tag ? NOISE_TAG_LEN : 0);
	if (body > cap || (payload_out == NULL && body > 0))
		return hs_die(hs);
	for (size_t t = 0; t < p->ntokens[hs->msg]; t++) {
		uint8_t tok = p->tokens[hs->msg][t];

		if (tok == NOISE_TOK_E) {
			if (read_e(hs, msg + pos) != 0)
				return hs_die(hs);
			pos += NOISE_KEY_LEN;
		} else if (tok == NOISE_TOK_S) {
			size_t n =
			    NOISE_KEY_LEN + (hs->has_k ? NOISE_TAG_LEN : 0);

			if (read_s(hs, msg + pos, n) != 0)
				return hs_die(hs);
			pos += n;
		} else if (token_dh(hs, tok) != 0) {
			return hs_die(hs);
		}
	}
	if (decrypt_and_hash(hs, msg + pos, mlen - pos, payload_out) != 0)
		return hs_die(hs);
	*plen = body;
	msg_end(hs);
	return 0;
}

bool
noise_hs_is_my_turn(const struct noise_hs *hs)
{
	if (hs->state != HS_READY && hs->state != HS_RUNNING)
		return false;
	return sends(hs, hs->msg);
}

bool
noise_hs_done(const struct noise_hs *hs)
{
	return hs->state == HS_DONE || hs->state == HS_SPLIT;
}

bool
noise_hs_dead(const struct noise_hs *hs)
{
	return hs->state == HS_DEAD;
}

/* ---- After the handshake ---- */

int
noise_hs_split(struct noise_hs *hs, struct noise_cipher **send,
	       struct noise_cipher **recv)
{
	uint8_t k1[NOISE_HASH_MAXLEN], k2[NOISE_HASH_MAXLEN];
	struct noise_cipher *c1, *c2;

	if (hs->state != HS_DONE || send == NULL || recv == NULL)
		return hs_die(hs);
	noise_hkdf(hs->proto.hash, hs->ck, NULL, 0, k1, k2, NULL);
	c1 = noise_cipher_new(k1);
	c2 = noise_cipher_new(k2);
	secret_wipe(k1, sizeof(k1));
	secret_wipe(k2, sizeof(k2));
	/* c1 carries initiator -> responder traffic. */
	*send = hs->initiator ? c1 : c2;
	*recv = hs->initiator ? c2 : c1;
	/* Only h and rs are still needed: wipe the rest now. */
	secret_wipe(hs->ck, sizeof(hs->ck));
	secret_wipe(hs->k, sizeof(hs->k));
	secret_wipe(hs->s_priv, sizeof(hs->s_priv));
	secret_wipe(hs->e_priv, sizeof(hs->e_priv));
	secret_wipe(hs->psk, sizeof(hs->psk));
	hs->has_k = hs->has_s = hs->has_e = false;
	hs->state = HS_SPLIT;
	return 0;
}

int
noise_hs_get_handshake_hash(const struct noise_hs *hs, uint8_t *out, size_t cap,
			    size_t *len)
{
	if (!noise_hs_done(hs) || out == NULL || len == NULL || cap < hs->hlen)
		return -1;
	memcpy(out, hs->h, hs->hlen);
	*len = hs->hlen;
	return 0;
}

int
noise_hs_get_remote_static(const struct noise_hs *hs,
			   uint8_t out[static NOISE_KEY_LEN])
{
	if (hs->state == HS_DEAD || !hs->has_rs)
		return -1;
	memcpy(out, hs->rs, NOISE_KEY_LEN);
	return 0;
}

void
noise_hs_free(struct noise_hs *hs)
{
	secret_free(hs);
}
