/*
 * Sphinx unwrap: one hop of a mix's work. Every check happens before the
 * caller's buffer is written: decrypted routing information and payload go
 * to the context's scratch first, and are copied over the packet only once
 * the packet has passed everything.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"

#include "crypto/aes_ctr.h"
#include "crypto/aez.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "wire/sphinx_keys.h"
#include "wire/sphinx_packet.h"

/* Secret scratch, in locked memory. */
struct unwrap_secrets {
	uint8_t ss[32];
	struct sphinx_hop_keys keys;
	uint8_t blind[32];
	uint8_t alpha[32];
	uint8_t mac[32];
	uint8_t ri[(SPHINX_HOPS_MAX + 1) * SPHINX_PER_HOP_RI_LEN];
	struct aez_key aez;
};

struct sphinx_unwrap_ctx {
	struct sphinx_geometry g;
	struct aes_ctr *aes;
	struct unwrap_secrets *s;
	uint8_t *payload; /* g.payload_len bytes */
};

struct sphinx_unwrap_ctx *
sphinx_unwrap_ctx_new(const struct sphinx_geometry *g)
{
	struct sphinx_unwrap_ctx *ctx = bc_calloc(1, sizeof(*ctx));

	ctx->g = *g;
	ctx->aes = aes_ctr_new();
	ctx->s = secret_alloc(sizeof(*ctx->s));
	ctx->payload = bc_calloc(1, g->payload_len);
	return ctx;
}

void
sphinx_unwrap_ctx_free(struct sphinx_unwrap_ctx *ctx)
{
	if (ctx == NULL)
		return;
	AES_CTR_FREE(ctx->aes);
	SECRET_FREE(ctx->s);
	secret_wipe(ctx->payload, ctx->g.payload_len);
	BC_FREE(ctx->payload);
	free(ctx);
}

/* Routing commands a hop may act on: next hop excludes final-hop ones. */
static enum sphinx_err
check_commands(const struct sphinx_commands *c, uint32_t max_delay_ms)
{
	if (c->has_next_hop && (c->has_recipient || c->has_surb_reply))
		return SPHINX_ERR_COMMANDS;
	if (c->has_delay && c->delay_ms > max_delay_ms)
		return SPHINX_ERR_DELAY;
	return SPHINX_OK;
}

/* Steps 1-3: shared secret, keys, MAC, routing commands. */
static enum sphinx_err
unwrap_header(struct sphinx_unwrap_ctx *ctx, const uint8_t priv[static 32],
	      const uint8_t *pkt, uint32_t max_delay_ms,
	      struct sphinx_unwrap_result *res)
{
	const struct sphinx_geometry *g = &ctx->g;
	struct unwrap_secrets *s = ctx->s;
	const uint8_t *alpha = pkt + SPHINX_OFF_ALPHA;
	const uint8_t *beta = pkt + SPHINX_OFF_BETA;
	const uint8_t *gamma = beta + g->routing_info_len;
	size_t r = g->routing_info_len;

	if (be16_get(pkt + SPHINX_OFF_AD) != SPHINX_VERSION_0)
		return SPHINX_ERR_VERSION;
	sphinx_replay_tag(res->replay_tag, alpha);
	if (x25519(s->ss, priv, alpha) != 0)
		return SPHINX_ERR_GROUP_ELEMENT;
	sphinx_keys_derive(&s->keys, s->ss);
	sphinx_header_mac(s->mac, &s->keys, g, pkt);
	if (!secret_eq(s->mac, gamma, SPHINX_MAC_LEN))
		return SPHINX_ERR_MAC;
	/* (beta | one zero slot) XOR the header stream. */
	memcpy(s->ri, beta, r);
	memset(s->ri + r, 0, SPHINX_PER_HOP_RI_LEN);
	sphinx_header_stream(ctx->aes, &s->keys, s->ri, s->ri,
			     r + SPHINX_PER_HOP_RI_LEN);
	if (sphinx_commands_parse(&res->cmds, s->ri, SPHINX_PER_HOP_RI_LEN) !=
	    SPHINX_CMD_OK)
		return SPHINX_ERR_COMMANDS;
	return check_commands(&res->cmds, max_delay_ms);
}

/* Step 4: the payload, into scratch; the zero tag at a final hop. */
static enum sphinx_err
unwrap_payload(struct sphinx_unwrap_ctx *ctx, const uint8_t *pkt,
	       struct sphinx_unwrap_result *res)
{
	const struct sphinx_geometry *g = &ctx->g;
	struct unwrap_secrets *s = ctx->s;

	if (sphinx_sprp_decrypt(&s->aez, s->keys.sprp_key, s->keys.hdr_iv,
				ctx->payload, pkt + g->header_len,
				g->payload_len) != 0)
		return SPHINX_ERR_PAYLOAD;
	if (res->cmds.has_next_hop) {
		res->kind = SPHINX_HOP_FORWARD;
	} else if (res->cmds.has_surb_reply) {
		/* Still encrypted for the SURB's creator: no tag to see. */
		res->kind = SPHINX_HOP_SURB_REPLY;
		res->payload_off = g->header_len;
		res->payload_len = g->payload_len;
	} else {
		if (!secret_is_zero(ctx->payload, SPHINX_TAG_LEN))
			return SPHINX_ERR_TAG;
		res->kind = SPHINX_HOP_FINAL;
		res->payload_off = g->header_len + SPHINX_TAG_LEN;
		res->payload_len = g->user_len;
	}
	return SPHINX_OK;
}

enum sphinx_err
sphinx_unwrap(struct sphinx_unwrap_ctx *ctx, const uint8_t priv[static 32],
	      uint8_t *pkt, size_t len, uint32_t max_delay_ms,
	      struct sphinx_unwrap_result *res)
{
	const struct sphinx_geometry *g = &ctx->g;
	struct unwrap_secrets *s = ctx->s;
	enum sphinx_err err = SPHINX_ERR_LENGTH;

	memset(res, 0, sizeof(*res));
	if (pkt == NULL || len != g->packet_len)
		goto done;
	err = unwrap_header(ctx, priv, pkt, max_delay_ms, res);
	if (err != SPHINX_OK)
		goto done;
	err = unwrap_payload(ctx, pkt, res);
	if (err != SPHINX_OK)
		goto done;
	if (res->kind == SPHINX_HOP_FORWARD) {
		sphinx_keys_blinding(s->blind, &s->keys);
		if (x25519(s->alpha, s->blind, pkt + SPHINX_OFF_ALPHA) != 0) {
			err = SPHINX_ERR_GROUP_ELEMENT;
			goto done;
		}
	}
	/* Passed everything: now, and only now, rewrite the packet. */
	if (res->kind == SPHINX_HOP_FORWARD) {
		uint8_t *beta = pkt + SPHINX_OFF_BETA;

		memcpy(pkt + SPHINX_OFF_ALPHA, s->alpha, 32);
		memcpy(beta, s->ri + SPHINX_PER_HOP_RI_LEN,
		       g->routing_info_len);
		memcpy(beta + g->routing_info_len, res->cmds.next_hop_mac,
		       SPHINX_MAC_LEN);
	}
	memcpy(pkt + g->header_len, ctx->payload, g->payload_len);
done:
	/* Wipe what the keys touched; the payload scratch is overwritten by
	 * the next packet and wiped when the context goes. */
	secret_wipe(s, offsetof(struct unwrap_secrets, aez));
	if (err != SPHINX_OK) {
		memset(res, 0, sizeof(*res));
		secret_wipe(ctx->payload, g->payload_len);
	}
	return err;
}
