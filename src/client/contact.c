/* A contact record and its encoding for the store (contact.h). */
#include "client/contact.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

#include "crypto/hkdf.h"
#include "crypto/secret.h"

#define HS_INFO  "backchannel transport v1 handshake"
#define A2I_INFO "backchannel transport v1 acceptor to inviter"
#define I2A_INFO "backchannel transport v1 inviter to acceptor"

struct contact *
contact_new(void)
{
	struct contact *c = secret_alloc(sizeof(*c));

	memset(c, 0, sizeof(*c));
	arq_rx_init(&c->rx[0], 1);
	arq_rx_init(&c->rx[1], 1);
	c->rx_next[0] = c->rx_next[1] = 1;
	return c;
}

void
contact_free(struct contact *c)
{
	if (c == NULL)
		return;
	arq_rx_free(&c->rx[0]);
	arq_rx_free(&c->rx[1]);
	FC_INVITER_FREE(c->inv);
	FC_ACCEPTOR_FREE(c->acc);
	RATCHET_FREE(c->ratchet);
	secret_free(c);
}

uint64_t
contact_handle(const struct contact *c, enum contact_target t)
{
	return c->id * 4 + (uint64_t)t;
}

uint64_t
contact_handle_id(uint64_t handle)
{
	return handle / 4;
}

int
contact_hs_key(uint8_t out[32], const uint8_t secret[16],
	       const uint8_t queue[32])
{
	return hkdf_sha256(out, 32, queue, 32, secret, 16, HS_INFO,
			   strlen(HS_INFO));
}

int
contact_derive_keys(struct contact *c)
{
	bool inviter = (c->flags & CONTACT_F_INVITER) != 0;
	uint8_t *a2i = inviter ? c->rx_key : c->tx_key;
	uint8_t *i2a = inviter ? c->tx_key : c->rx_key;

	if (hkdf_sha256_expand(a2i, 32, c->transport, 32, A2I_INFO,
			       strlen(A2I_INFO)) != 0 ||
	    hkdf_sha256_expand(i2a, 32, c->transport, 32, I2A_INFO,
			       strlen(I2A_INFO)) != 0)
		return -1;
	return 0;
}

void
contact_store_name(char *out, size_t cap, uint64_t id)
{
	snprintf(out, cap, "peer/%llu", (unsigned long long)id);
}

static void
put_name(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	buf_append_u8(b, (uint8_t)n);
	buf_append(b, s, n);
}

static void
get_name(struct rd *r, char out[E2E_NAME_MAX + 1])
{
	uint8_t n = rd_u8(r);
	if (n > E2E_NAME_MAX) {
		(void)rd_ptr(r, SIZE_MAX); /* sets the sticky error */
		out[0] = 0;
		return;
	}
	rd_bytes(r, out, n);
	out[rd_ok(r) ? n : 0] = 0;
}

/* The first-contact state of whichever side is still pending. */
static int
put_fc(const struct contact *c, struct buf *b)
{
	struct buf t;
	int rc = 0;

	buf_init(&t);
	if (c->inv != NULL) {
		buf_append_u8(b, 1);
		buf_reserve(&t, FC_INVITER_STATE_LEN);
		fc_inviter_serialize(c->inv, t.data);
		t.len = FC_INVITER_STATE_LEN;
	} else if (c->acc != NULL) {
		buf_append_u8(b, 2);
		rc = fc_acceptor_serialize(c->acc, &t);
	} else {
		buf_append_u8(b, 0);
	}
	buf_append_u32be(b, (uint32_t)t.len);
	buf_append(b, t.data, t.len);
	buf_wipe_free(&t);
	return rc;
}

static int
put_ratchet(const struct contact *c, struct buf *b)
{
	size_t n = c->ratchet ? ratchet_serialized_len(c->ratchet) : 0, got;

	buf_append_u32be(b, (uint32_t)n);
	if (n == 0)
		return 0;
	buf_reserve(b, n);
	if (ratchet_serialize(c->ratchet, b->data + b->len, n, &got) < 0 ||
	    got != n)
		return -1;
	b->len += n;
	return 0;
}

int
contact_encode(const struct contact *c, struct buf *b)
{
	buf_append_u8(b, CONTACT_VERSION);
	buf_append_u64be(b, c->id);
	buf_append_u8(b, (uint8_t)c->state);
	buf_append_u32be(b, c->flags);
	put_name(b, c->name);
	put_name(b, c->peer_name);
	buf_append(b, c->our_queue, 32);
	buf_append_u8(b, (c->flags & CONTACT_F_HAVE_PEER) ? 1 : 0);
	if (c->flags & CONTACT_F_HAVE_PEER)
		e2e_gateway_put(b, &c->peer_gw);
	buf_append(b, c->peer_queue, 32);
	buf_append_u64be(b, c->expiry);
	buf_append_u64be(b, c->created_ms);
	buf_append(b, c->safety, SAFETY_STR_LEN);
	buf_append(b, c->ad, FC_AD_LEN);
	buf_append(b, c->hs_key, 32);
	buf_append(b, c->transport, 32);
	buf_append_u64be(b, c->tx_seq_hs);
	buf_append_u64be(b, c->tx_seq);
	buf_append_u64be(b, c->rx_next[0]);
	buf_append_u64be(b, c->rx_next[1]);
	if (put_fc(c, b) < 0)
		return -1;
	return put_ratchet(c, b);
}

/* The pending first-contact state, read back. */
static int
get_fc(struct contact *c, struct rd *r)
{
	uint8_t kind = rd_u8(r);
	uint32_t n = rd_u32be(r);
	const uint8_t *p = rd_ptr(r, n);

	if (!rd_ok(r) || kind > 2 || (kind == 0) != (n == 0))
		return -1;
	if (kind == 1)
		c->inv = fc_inviter_deserialize(p, n);
	else if (kind == 2)
		c->acc = fc_acceptor_deserialize(p, n);
	return kind == 0 || c->inv != NULL || c->acc != NULL ? 0 : -1;
}

static int
get_tail(struct contact *c, struct rd *r)
{
	enum ratchet_err re;

	rd_bytes(r, c->safety, SAFETY_STR_LEN);
	rd_bytes(r, c->ad, FC_AD_LEN);
	rd_bytes(r, c->hs_key, 32);
	rd_bytes(r, c->transport, 32);
	c->tx_seq_hs = rd_u64be(r);
	c->tx_seq = rd_u64be(r);
	c->rx_next[0] = rd_u64be(r);
	c->rx_next[1] = rd_u64be(r);
	if (!rd_ok(r) || c->safety[SAFETY_STR_LEN - 1] != 0 ||
	    c->rx_next[0] == 0 || c->rx_next[1] == 0 || get_fc(c, r) < 0)
		return -1;
	uint32_t n = rd_u32be(r);
	const uint8_t *p = rd_ptr(r, n);
	if (!rd_ok(r) || rd_remaining(r) != 0)
		return -1;
	if (n > 0 && (c->ratchet = ratchet_deserialize(p, n, &re)) == NULL)
		return -1;
	return 0;
}

struct contact *
contact_decode(const uint8_t *in, size_t len)
{
	struct contact *c = contact_new();
	struct rd r;
	uint8_t st, have;

	rd_init(&r, in, len);
	if (rd_u8(&r) != CONTACT_VERSION)
		goto bad;
	c->id = rd_u64be(&r);
	st = rd_u8(&r);
	c->state = (enum contact_state)st;
	c->flags = rd_u32be(&r);
	get_name(&r, c->name);
	get_name(&r, c->peer_name);
	rd_bytes(&r, c->our_queue, 32);
	have = rd_u8(&r);
	if (!rd_ok(&r) || c->id == 0 || c->state < CONTACT_INVITED ||
	    c->state > CONTACT_BLOCKED || have > 1 ||
	    have != ((c->flags & CONTACT_F_HAVE_PEER) ? 1 : 0))
		goto bad;
	if (have && e2e_gateway_get(&r, &c->peer_gw) != E2E_OK)
		goto bad;
	rd_bytes(&r, c->peer_queue, 32);
	c->expiry = rd_u64be(&r);
	c->created_ms = rd_u64be(&r);
	if (get_tail(c, &r) < 0)
		goto bad;
	arq_rx_init(&c->rx[0], c->rx_next[0]);
	arq_rx_init(&c->rx[1], c->rx_next[1]);
	if ((c->flags & CONTACT_F_HAVE_KEYS) && contact_derive_keys(c) < 0)
		goto bad;
	return c;
bad:
	contact_free(c);
	return NULL;
}

const char *
contact_state_name(enum contact_state s)
{
	switch (s) {
	case CONTACT_INVITED:
		return "invited";
	case CONTACT_ACCEPTING:
		return "accepting";
	case CONTACT_READY:
		return "ready";
	case CONTACT_BLOCKED:
		return "blocked";
	}
	return "?";
}
