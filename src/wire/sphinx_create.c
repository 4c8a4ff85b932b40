/*
 * Sphinx header and packet creation (a client's side). Built from the last
 * hop backwards: each hop's routing information is its commands in front of
 * the next hop's, encrypted with its header stream, and its MAC covers
 * exactly the bytes that hop will see, including the filler that the earlier
 * hops' decryptions shift in at the end.
 */
#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"

#include "crypto/aes_ctr.h"
#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "wire/sphinx_keys.h"
#include "wire/sphinx_packet.h"

#define RI_ROOM_MAX ((SPHINX_HOPS_MAX + 1) * SPHINX_PER_HOP_RI_LEN)

/* Everything secret that creation computes, in one locked allocation. */
struct create_state {
	uint8_t x[32]; /* the ephemeral private key */
	uint8_t ss[32];
	uint8_t tmp[32];
	uint8_t blind[SPHINX_HOPS_MAX][32];
	uint8_t alpha[SPHINX_HOPS_MAX][32];
	struct sphinx_hop_keys keys[SPHINX_HOPS_MAX];
	uint8_t stream[SPHINX_HOPS_MAX][RI_ROOM_MAX];
	uint8_t filler[SPHINX_HOPS_MAX * SPHINX_PER_HOP_RI_LEN];
	uint8_t mac[32];
};

const char *
sphinx_strerror(enum sphinx_err err)
{
	switch (err) {
	case SPHINX_OK:
		return "ok";
	case SPHINX_ERR_LENGTH:
		return "wrong packet length";
	case SPHINX_ERR_VERSION:
		return "unknown packet version";
	case SPHINX_ERR_GROUP_ELEMENT:
		return "low-order or zero group element";
	case SPHINX_ERR_MAC:
		return "header MAC does not verify";
	case SPHINX_ERR_COMMANDS:
		return "invalid routing commands";
	case SPHINX_ERR_DELAY:
		return "node delay above the maximum";
	case SPHINX_ERR_TAG:
		return "payload tag is not zero";
	case SPHINX_ERR_PAYLOAD:
		return "payload cipher failed";
	case SPHINX_ERR_ARGS:
		return "invalid arguments";
	}
	return "invalid error code";
}

enum sphinx_err
sphinx_path_check(const struct sphinx_geometry *g,
		  const struct sphinx_path_hop *path, size_t n)
{
	if (path == NULL || n < 1 || n > g->hops)
		return SPHINX_ERR_ARGS;
	for (size_t i = 0; i < n; i++) {
		const struct sphinx_commands *c = &path[i].cmds;
		bool last = i + 1 == n;
		size_t len = sphinx_commands_encoded_len(c);

		if (c->has_next_hop)
			return SPHINX_ERR_COMMANDS;
		if (!last && (c->has_recipient || c->has_surb_reply))
			return SPHINX_ERR_COMMANDS;
		if (!last)
			len += SPHINX_CMD_NEXT_HOP_LEN;
		if (len > SPHINX_PER_HOP_RI_LEN)
			return SPHINX_ERR_COMMANDS;
	}
	return SPHINX_OK;
}

/* Per-hop keys, blinding scalars and group elements (step 1). */
static enum sphinx_err
derive_hops(struct create_state *s, const struct sphinx_path_hop *path,
	    size_t n)
{
	x25519_keypair(s->alpha[0], s->x);
	for (size_t i = 0; i < n; i++) {
		if (x25519(s->ss, s->x, path[i].pub) != 0)
			return SPHINX_ERR_GROUP_ELEMENT;
		/* The hop sees alpha blinded by every earlier hop. X25519
		 * may not write its output over its input point (libsodium
		 * uses the output as scratch for the scalar). */
		for (size_t j = 0; j < i; j++) {
			memcpy(s->tmp, s->ss, 32);
			if (x25519(s->ss, s->blind[j], s->tmp) != 0)
				return SPHINX_ERR_GROUP_ELEMENT;
		}
		sphinx_keys_derive(&s->keys[i], s->ss);
		sphinx_keys_blinding(s->blind[i], &s->keys[i]);
		if (i > 0 &&
		    x25519(s->alpha[i], s->blind[i - 1], s->alpha[i - 1]) != 0)
			return SPHINX_ERR_GROUP_ELEMENT;
	}
	return SPHINX_OK;
}

/*
 * Header streams and the filler (step 2): the filler is what hops 0..n-2
 * append, as seen by the last hop: each hop extends it by one slot and
 * encrypts it with the tail of its own stream.
 */
static void
streams_and_filler(struct create_state *s, const struct sphinx_geometry *g,
		   size_t n)
{
	size_t r = g->routing_info_len, p = SPHINX_PER_HOP_RI_LEN;
	struct aes_ctr *aes = aes_ctr_new();

	for (size_t i = 0; i < n; i++)
		sphinx_header_stream(aes, &s->keys[i], s->stream[i], NULL,
				     r + p);
	AES_CTR_FREE(aes);
	for (size_t i = 0; i + 1 < n; i++) {
		size_t len = (i + 1) * p;
		const uint8_t *ks = s->stream[i] + r + p - len;

		memset(s->filler + i * p, 0, p);
		for (size_t k = 0; k < len; k++)
			s->filler[k] ^= ks[k];
	}
}

/* Steps 3 and 4: routing information and MACs, last hop first. */
static enum sphinx_err
wrap_hops(struct create_state *s, const struct sphinx_geometry *g,
	  const struct sphinx_path_hop *path, size_t n, uint8_t *header)
{
	size_t r = g->routing_info_len, p = SPHINX_PER_HOP_RI_LEN;
	uint8_t *alpha = header + SPHINX_OFF_ALPHA;
	uint8_t *beta = header + SPHINX_OFF_BETA;
	size_t last = n - 1;

	be16_put(header + SPHINX_OFF_AD, SPHINX_VERSION_0);
	/* The last hop: its commands, random room, then the filler. */
	if (sphinx_commands_encode(beta, p, &path[last].cmds) != 0)
		return SPHINX_ERR_COMMANDS;
	for (size_t k = 0; k < p; k++)
		beta[k] ^= s->stream[last][k];
	rand_bytes(beta + p, (g->hops - n) * p);
	memcpy(beta + r - last * p, s->filler, last * p);
	memcpy(alpha, s->alpha[last], 32);
	sphinx_header_mac(s->mac, &s->keys[last], g, header);

	for (size_t i = last; i-- > 0;) {
		struct sphinx_commands c = path[i].cmds;

		c.has_next_hop = true;
		memcpy(c.next_hop_id, path[i + 1].id, SPHINX_NODE_ID_LEN);
		memcpy(c.next_hop_mac, s->mac, SPHINX_MAC_LEN);
		memmove(beta + p, beta, r - p);
		int rc = sphinx_commands_encode(beta, p, &c);
		secret_wipe(&c, sizeof(c));
		if (rc != 0)
			return SPHINX_ERR_COMMANDS;
		for (size_t k = 0; k < r; k++)
			beta[k] ^= s->stream[i][k];
		memcpy(alpha, s->alpha[i], 32);
		sphinx_header_mac(s->mac, &s->keys[i], g, header);
	}
	memcpy(beta + r, s->mac, SPHINX_MAC_LEN);
	return SPHINX_OK;
}

enum sphinx_err
sphinx_header_create(const struct sphinx_geometry *g,
		     const struct sphinx_path_hop *path, size_t n,
		     uint8_t *header, uint8_t *keyiv)
{
	enum sphinx_err err = sphinx_path_check(g, path, n);

	if (err != SPHINX_OK)
		return err;
	struct create_state *s = secret_alloc(sizeof(*s));
	err = derive_hops(s, path, n);
	if (err != SPHINX_OK)
		goto done;
	streams_and_filler(s, g, n);
	err = wrap_hops(s, g, path, n, header);
	if (err != SPHINX_OK)
		goto done;
	for (size_t i = 0; i < n; i++) {
		uint8_t *o = keyiv + i * SPHINX_KEY_IV_LEN;

		memcpy(o, s->keys[i].sprp_key, SPHINX_SPRP_KEY_LEN);
		memcpy(o + SPHINX_SPRP_KEY_LEN, s->keys[i].hdr_iv,
		       SPHINX_SPRP_IV_LEN);
	}
done:
	if (err != SPHINX_OK)
		secret_wipe(header, g->header_len);
	SECRET_FREE(s);
	return err;
}

enum sphinx_err
sphinx_packet_create(const struct sphinx_geometry *g,
		     const struct sphinx_path_hop *path, size_t n,
		     const uint8_t *user, size_t user_len, uint8_t *pkt,
		     size_t pkt_len)
{
	uint8_t keyiv[SPHINX_HOPS_MAX * SPHINX_KEY_IV_LEN];
	enum sphinx_err err;

	if (pkt_len != g->packet_len || user_len > g->user_len ||
	    (user == NULL && user_len > 0))
		return SPHINX_ERR_ARGS;
	err = sphinx_header_create(g, path, n, pkt, keyiv);
	if (err != SPHINX_OK)
		return err;
	uint8_t *payload = pkt + g->header_len;
	memset(payload, 0, g->payload_len);
	if (user_len > 0)
		memcpy(payload + SPHINX_TAG_LEN, user, user_len);
	struct aez_key *aez = secret_alloc(sizeof(*aez));
	for (size_t i = n; i-- > 0;) {
		const uint8_t *k = keyiv + i * SPHINX_KEY_IV_LEN;

		if (sphinx_sprp_encrypt(aez, k, k + SPHINX_SPRP_KEY_LEN,
					payload, payload,
					g->payload_len) != 0) {
			err = SPHINX_ERR_PAYLOAD;
			break;
		}
	}
	SECRET_FREE(aez);
	secret_wipe(keyiv, sizeof(keyiv));
	if (err != SPHINX_OK)
		secret_wipe(pkt, pkt_len);
	return err;
}
