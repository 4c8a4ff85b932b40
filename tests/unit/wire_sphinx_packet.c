/*
 * Sphinx packets, property tests with a fixed seed: random paths of 1..5 hops
 * with random commands and payloads round-trip; every single-bit flip in a
 * header or payload is caught; reply blocks round-trip; every bad input gets
 * its own error and leaves the packet untouched.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aes_ctr.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "wire/sphinx_keys.h"
#include "wire/sphinx_packet.h"
#include "wire/sphinx_surb.h"

#define MAXN 8

struct node {
	uint8_t id[32], priv[32], pub[32];
};

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	rand_set_deterministic(0x5350484958ULL);
}

static void
make_nodes(struct node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rand_bytes(nodes[i].id, 32);
		x25519_keypair(nodes[i].pub, nodes[i].priv);
	}
}

/* A path over nodes with random delays; the last hop gets a recipient and,
 * for a reply block, a SURB id. */
static void
make_path(struct sphinx_path_hop *path, const struct node *nodes, size_t n,
	  bool surb)
{
	memset(path, 0, n * sizeof(*path));
	for (size_t i = 0; i < n; i++) {
		memcpy(path[i].id, nodes[i].id, 32);
		memcpy(path[i].pub, nodes[i].pub, 32);
		if (rand_uniform(2)) {
			path[i].cmds.has_delay = true;
			path[i].cmds.delay_ms = (uint32_t)rand_u64();
		}
	}
	struct sphinx_commands *last = &path[n - 1].cmds;
	if (rand_uniform(4) != 0 || surb) {
		last->has_recipient = true;
		rand_bytes(last->recipient_id, sizeof(last->recipient_id));
	}
	if (surb) {
		last->has_surb_reply = true;
		rand_bytes(last->surb_id, sizeof(last->surb_id));
	}
}

/*
 * Unwrap pkt through the path. Returns the error of the first hop that
 * refuses, or SPHINX_OK with *res from the last hop. Checks the commands of
 * every hop that accepts.
 */
static enum sphinx_err
walk(const struct sphinx_geometry *g, const struct node *nodes,
     const struct sphinx_path_hop *path, size_t n, uint8_t *pkt,
     struct sphinx_unwrap_result *res)
{
	struct sphinx_unwrap_ctx *ctx = sphinx_unwrap_ctx_new(g);
	enum sphinx_err err = SPHINX_OK;

	for (size_t i = 0; i < n && err == SPHINX_OK; i++) {
		err = sphinx_unwrap(ctx, nodes[i].priv, pkt, g->packet_len,
				    UINT32_MAX, res);
		if (err != SPHINX_OK)
			break;
		const struct sphinx_commands *c = &res->cmds;
		cr_assert_eq(c->has_delay, path[i].cmds.has_delay);
		cr_assert_eq(c->delay_ms, path[i].cmds.delay_ms);
		if (i + 1 < n) {
			cr_assert_eq(res->kind, SPHINX_HOP_FORWARD);
			cr_assert(c->has_next_hop);
			cr_assert_arr_eq(c->next_hop_id, path[i + 1].id, 32);
			cr_assert(!c->has_recipient && !c->has_surb_reply);
		} else {
			cr_assert(!c->has_next_hop);
			cr_assert_eq(c->has_recipient,
				     path[i].cmds.has_recipient);
			cr_assert_arr_eq(c->recipient_id,
					 path[i].cmds.recipient_id, 32);
			cr_assert_arr_eq(c->surb_id, path[i].cmds.surb_id, 16);
		}
	}
	SPHINX_UNWRAP_CTX_FREE(ctx);
	return err;
}

static void
geometry_pick(struct sphinx_geometry *g, unsigned which)
{
	switch (which % 4) {
	case 0:
		sphinx_geometry_default(g);
		break;
	case 1:
		cr_assert_eq(sphinx_geometry_init(g, 5, 103), 0);
		break;
	case 2:
		cr_assert_eq(sphinx_geometry_init(g, 8, 0), 0);
		break;
	default:
		cr_assert_eq(sphinx_geometry_forward(g, 6, 300, false), 0);
		break;
	}
}

Test(sphinx_packet, random_paths_round_trip, .init = setup)
{
	struct node nodes[MAXN];
	struct sphinx_path_hop path[MAXN];
	struct sphinx_unwrap_result res;

	for (unsigned trial = 0; trial < 120; trial++) {
		struct sphinx_geometry g;
		geometry_pick(&g, trial);
		size_t n = 1 + rand_uniform((uint32_t)(g.hops < 5 ? g.hops : 5));
		size_t ulen = rand_uniform((uint32_t)g.user_len + 1);
		uint8_t *user = malloc(g.user_len + 1);
		uint8_t *pkt = malloc(g.packet_len);

		rand_bytes(user, ulen);
		make_nodes(nodes, n);
		make_path(path, nodes, n, false);
		cr_assert_eq(sphinx_packet_create(&g, path, n, user, ulen, pkt,
						  g.packet_len),
			     SPHINX_OK);
		enum sphinx_err err = walk(&g, nodes, path, n, pkt, &res);
		cr_assert_eq(err, SPHINX_OK, "trial %u, %zu of %zu hops: %s",
			     trial, n, g.hops, sphinx_strerror(err));
		cr_assert_eq(res.kind, SPHINX_HOP_FINAL);
		cr_assert_eq(res.payload_len, g.user_len);
		cr_assert_arr_eq(pkt + res.payload_off, user, ulen);
		for (size_t k = ulen; k < g.user_len; k++)
			cr_assert_eq(pkt[res.payload_off + k], 0);
		free(user);
		free(pkt);
	}
}

Test(sphinx_packet, every_bit_flip_is_caught, .init = setup)
{
	struct node nodes[5];
	struct sphinx_path_hop path[5];
	struct sphinx_unwrap_result res;
	struct sphinx_geometry g;
	unsigned header_caught = 0, payload_caught = 0;

	/* The vector geometry keeps each trial short; the code path is the
	 * same for every geometry. */
	cr_assert_eq(sphinx_geometry_init(&g, 5, 103), 0);
	uint8_t *orig = malloc(g.packet_len), *pkt = malloc(g.packet_len);
	uint8_t user[103];
	size_t n = 0;
	for (unsigned trial = 0; trial < 3000; trial++) {
		if (trial % 20 == 0) {
			/* A fresh packet now and then, over fresh nodes. */
			n = 1 + rand_uniform(5);
			make_nodes(nodes, n);
			make_path(path, nodes, n, false);
			rand_bytes(user, sizeof(user));
			cr_assert_eq(sphinx_packet_create(&g, path, n, user,
							  sizeof(user), orig,
							  g.packet_len),
				     SPHINX_OK);
		}
		memcpy(pkt, orig, g.packet_len);
		size_t bit = rand_uniform((uint32_t)g.packet_len * 8);
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		enum sphinx_err err = walk(&g, nodes, path, n, pkt, &res);
		if (bit / 8 < g.header_len) {
			cr_assert(err == SPHINX_ERR_MAC ||
					  err == SPHINX_ERR_VERSION ||
					  err == SPHINX_ERR_GROUP_ELEMENT,
				  "header bit %zu: %s", bit,
				  sphinx_strerror(err));
			header_caught++;
		} else {
			cr_assert_eq(err, SPHINX_ERR_TAG, "payload bit %zu: %s",
				     bit, sphinx_strerror(err));
			payload_caught++;
		}
	}
	cr_assert_eq(header_caught + payload_caught, 3000);
	cr_assert_gt(header_caught, 1000);
	cr_assert_gt(payload_caught, 100);
	free(orig);
	free(pkt);
}

Test(sphinx_packet, reply_blocks_round_trip, .init = setup)
{
	struct node nodes[5];
	struct sphinx_path_hop path[5];
	struct sphinx_unwrap_result res;
	struct sphinx_geometry g;
	uint8_t first[32];

	sphinx_geometry_default(&g);
	uint8_t *surb = malloc(g.surb_len), *pkt = malloc(g.packet_len);
	uint8_t *user = malloc(g.user_len);
	uint8_t token[6 * SPHINX_KEY_IV_LEN];
	for (unsigned trial = 0; trial < 40; trial++) {
		size_t n = 1 + trial % 5;
		make_nodes(nodes, n);
		make_path(path, nodes, n, true);
		cr_assert_eq(sphinx_surb_create(&g, path, n, surb, token),
			     SPHINX_OK);
		rand_bytes(user, g.user_len);
		cr_assert_eq(sphinx_surb_packet(&g, surb, user, g.user_len,
						pkt, first),
			     SPHINX_OK);
		cr_assert_arr_eq(first, nodes[0].id, 32);
		cr_assert_eq(walk(&g, nodes, path, n, pkt, &res), SPHINX_OK);
		cr_assert_eq(res.kind, SPHINX_HOP_SURB_REPLY);
		uint8_t *payload = pkt + res.payload_off;
		size_t tlen = sphinx_surb_token_len(n);
		if (trial % 2) {
			/* Someone else's token: refused, payload wiped. */
			token[3] ^= 1;
			cr_assert_eq(sphinx_surb_decrypt(&g, token, tlen,
							 payload),
				     SPHINX_ERR_TAG);
			continue;
		}
		cr_assert_eq(sphinx_surb_decrypt(&g, token, tlen, payload),
			     SPHINX_OK);
		cr_assert_arr_eq(payload + SPHINX_TAG_LEN, user, g.user_len);
	}
	free(surb);
	free(pkt);
	free(user);
}

/*
 * A one-hop header whose routing information is raw bytes of our choosing,
 * with a valid MAC: reaches the command checks that no honest creator can.
 */
static void
raw_one_hop(const struct sphinx_geometry *g, const struct node *node,
	    const uint8_t *ri, uint8_t *pkt)
{
	uint8_t e[32], ss[32], mac[32];
	struct sphinx_hop_keys k;
	struct aes_ctr *aes = aes_ctr_new();

	memset(pkt, 0, g->packet_len);
	x25519_keypair(pkt + SPHINX_OFF_ALPHA, e);
	cr_assert_eq(x25519(ss, e, node->pub), 0);
	sphinx_keys_derive(&k, ss);
	sphinx_header_stream(aes, &k, pkt + SPHINX_OFF_BETA, ri,
			     g->routing_info_len);
	sphinx_header_mac(mac, &k, g, pkt);
	memcpy(pkt + SPHINX_OFF_BETA + g->routing_info_len, mac, 32);
	AES_CTR_FREE(aes);
}

/* Unwrap must fail with want and leave pkt and res untouched/zeroed. */
static void
expect_err(struct sphinx_unwrap_ctx *ctx, const struct sphinx_geometry *g,
	   const struct node *node, uint8_t *pkt, size_t len,
	   uint32_t max_delay, enum sphinx_err want)
{
	struct sphinx_unwrap_result res, zero;
	uint8_t *copy = malloc(len ? len : 1);

	memcpy(copy, pkt, len);
	memset(&zero, 0, sizeof(zero));
	enum sphinx_err err = sphinx_unwrap(ctx, node->priv, pkt, len,
					    max_delay, &res);
	cr_assert_eq(err, want, "got %s, want %s", sphinx_strerror(err),
		     sphinx_strerror(want));
	cr_assert_arr_eq(pkt, copy, len, "packet changed on error");
	cr_assert_arr_eq(&res, &zero, sizeof(res), "partial result");
	free(copy);
	(void)g;
}

Test(sphinx_packet, each_bad_input_has_its_error, .init = setup)
{
	struct node node;
	struct sphinx_path_hop path[1];
	struct sphinx_geometry g;
	uint8_t ri[SPHINX_HOPS_MAX * SPHINX_PER_HOP_RI_LEN];

	sphinx_geometry_default(&g);
	struct sphinx_unwrap_ctx *ctx = sphinx_unwrap_ctx_new(&g);
	uint8_t *pkt = malloc(g.packet_len + 1);
	make_nodes(&node, 1);
	make_path(path, &node, 1, false);
	path[0].cmds.has_delay = true;
	path[0].cmds.delay_ms = 5000;
	cr_assert_eq(sphinx_packet_create(&g, path, 1, NULL, 0, pkt,
					  g.packet_len),
		     SPHINX_OK);

	expect_err(ctx, &g, &node, pkt, g.packet_len - 1, 0,
		   SPHINX_ERR_LENGTH);
	expect_err(ctx, &g, &node, pkt, g.packet_len + 1, 0,
		   SPHINX_ERR_LENGTH);
	expect_err(ctx, &g, &node, pkt, 0, 0, SPHINX_ERR_LENGTH);
	expect_err(ctx, &g, &node, pkt, g.packet_len, 4999, SPHINX_ERR_DELAY);

	pkt[1] = 1;
	expect_err(ctx, &g, &node, pkt, g.packet_len, 0, SPHINX_ERR_VERSION);
	pkt[1] = 0;

	uint8_t alpha[32];
	memcpy(alpha, pkt + SPHINX_OFF_ALPHA, 32);
	memset(pkt + SPHINX_OFF_ALPHA, 0, 32); /* zero element */
	expect_err(ctx, &g, &node, pkt, g.packet_len, 0,
		   SPHINX_ERR_GROUP_ELEMENT);
	pkt[SPHINX_OFF_ALPHA] = 1; /* u = 1: order 4 */
	expect_err(ctx, &g, &node, pkt, g.packet_len, 0,
		   SPHINX_ERR_GROUP_ELEMENT);
	memcpy(pkt + SPHINX_OFF_ALPHA, alpha, 32);

	pkt[g.header_len - 1] ^= 0x80;
	expect_err(ctx, &g, &node, pkt, g.packet_len, 0, SPHINX_ERR_MAC);
	pkt[g.header_len - 1] ^= 0x80;

	/* Valid MAC, but commands that do not parse or conflict. */
	memset(ri, 0, sizeof(ri));
	ri[0] = 0x7f;
	raw_one_hop(&g, &node, ri, pkt);
	expect_err(ctx, &g, &node, pkt, g.packet_len, UINT32_MAX,
		   SPHINX_ERR_COMMANDS);
	memset(ri, 0, sizeof(ri));
	ri[0] = SPHINX_CMD_NEXT_HOP;
	ri[SPHINX_CMD_NEXT_HOP_LEN] = SPHINX_CMD_SURB_REPLY;
	raw_one_hop(&g, &node, ri, pkt);
	expect_err(ctx, &g, &node, pkt, g.packet_len, UINT32_MAX,
		   SPHINX_ERR_COMMANDS);
	/* Final hop, but the payload was never encrypted: tag fails. */
	memset(ri, 0, sizeof(ri));
	raw_one_hop(&g, &node, ri, pkt);
	rand_bytes(pkt + g.header_len, g.payload_len);
	expect_err(ctx, &g, &node, pkt, g.packet_len, UINT32_MAX,
		   SPHINX_ERR_TAG);

	cr_assert_str_eq(sphinx_strerror(SPHINX_ERR_TAG),
			 "payload tag is not zero");
	SPHINX_UNWRAP_CTX_FREE(ctx);
	free(pkt);
}

Test(sphinx_packet, bad_paths_are_refused, .init = setup)
{
	struct node nodes[6];
	struct sphinx_path_hop path[6];
	struct sphinx_geometry g;

	sphinx_geometry_default(&g);
	uint8_t *pkt = malloc(g.packet_len);
	make_nodes(nodes, 6);
	make_path(path, nodes, 6, false);
	cr_assert_eq(sphinx_packet_create(&g, path, 6, NULL, 0, pkt,
					  g.packet_len),
		     SPHINX_ERR_ARGS, "6 hops in a 5-hop header");
	cr_assert_eq(sphinx_packet_create(&g, path, 0, NULL, 0, pkt,
					  g.packet_len),
		     SPHINX_ERR_ARGS);
	make_path(path, nodes, 3, false);
	path[0].cmds.has_recipient = true;
	cr_assert_eq(sphinx_packet_create(&g, path, 3, NULL, 0, pkt,
					  g.packet_len),
		     SPHINX_ERR_COMMANDS, "recipient before the last hop");
	path[0].cmds.has_recipient = false;
	path[1].cmds.has_next_hop = true;
	cr_assert_eq(sphinx_packet_create(&g, path, 3, NULL, 0, pkt,
					  g.packet_len),
		     SPHINX_ERR_COMMANDS, "next hop is creation's to add");
	path[1].cmds.has_next_hop = false;
	memset(path[2].pub, 0, 32);
	cr_assert_eq(sphinx_packet_create(&g, path, 3, NULL, 0, pkt,
					  g.packet_len),
		     SPHINX_ERR_GROUP_ELEMENT, "a zero public key");
	cr_assert_eq(sphinx_packet_create(&g, path, 3, NULL, 0, pkt,
					  g.packet_len - 1),
		     SPHINX_ERR_ARGS);
	free(pkt);
}
