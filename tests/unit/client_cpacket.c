/*
 * Client packets end to end in one process: a packet built by
 * cpacket_build() is unwrapped by every hop of its route (with the nodes'
 * private keys), the last hop (a stand-in for the gateway's echo service)
 * finds the blob and the reply block, answers through the block, the reply
 * is unwrapped hop by hop back to our gateway, and the token opens it.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "client/cpacket.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "wire/sphinx_packet.h"
#include "wire/sphinx_surb.h"

#define NNODES 8 /* 2 gateways, then 2 mixes per layer */

static struct dir_consensus cons;
static struct dir_node nodes[NNODES];
static uint8_t priv[NNODES][32];

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	rand_set_deterministic(5);
	memset(&cons, 0, sizeof(cons));
	memset(nodes, 0, sizeof(nodes));
	for (int i = 0; i < NNODES; i++) {
		struct dir_node *n = &nodes[i];
		n->layer = i < 2 ? 0 : (uint32_t)(1 + (i - 2) / 2);
		n->desc.role = i < 2 ? DIR_ROLE_GATEWAY : DIR_ROLE_MIX;
		n->desc.services = i < 2 ? DIR_SERVICE_ECHO : 0;
		n->desc.epoch = 10;
		n->desc.identity[0] = (uint8_t)(i + 1);
		/* Only epoch 11's key is real; the test uses epoch 11. */
		x25519_keypair(n->desc.packet_keys[1], priv[i]);
	}
	cons.nodes = nodes;
	cons.n_nodes = NNODES;
	cons.params.hops = 5;
	cons.params.blob_len = 2000;
	cons.params.mean_delay_ms = 50;
	cons.params.max_delay_ms = 1000;
}

TestSuite(client_cpacket, .init = setup, .fini = rand_set_system);

static int node_of(const uint8_t id[32])
{
	for (int i = 0; i < NNODES; i++)
		if (memcmp(nodes[i].desc.identity, id, 32) == 0)
			return i;
	return -1;
}

/* Unwrap from node `at` until a final or reply hop; returns that node. */
static int travel(struct sphinx_unwrap_ctx *u, int at, uint8_t *pkt,
		  size_t len, struct sphinx_unwrap_result *res, int *hops)
{
	*hops = 0;
	for (;;) {
		cr_assert_eq(sphinx_unwrap(u, priv[at], pkt, len, 1000, res),
			     SPHINX_OK);
		(*hops)++;
		if (res->kind != SPHINX_HOP_FORWARD)
			return at;
		cr_assert(res->cmds.has_delay);
		cr_assert_leq(res->cmds.delay_ms, 1000);
		at = node_of(res->cmds.next_hop_id);
		cr_assert_geq(at, 0);
	}
}

Test(client_cpacket, echo_round_trip_through_every_hop)
{
	struct cpacket_ctx x;
	uint8_t queue[32] = { 0x71 }, blob[2000], surb_id[16], token[CPACKET_TOKEN_LEN];
	struct sphinx_unwrap_result res;
	int hops;

	memset(blob, 0xab, sizeof(blob));
	cr_assert_eq(cpacket_ctx_init(&x, &cons, 11, &nodes[0], queue), 0);
	uint8_t *pkt = malloc(x.g.packet_len);
	cr_assert_eq(cpacket_build(&x, &nodes[1], CPACKET_ECHO_ID, blob, 100,
				   true, pkt, surb_id, token),
		     0);
	struct sphinx_unwrap_ctx *u = sphinx_unwrap_ctx_new(&x.g);
	/* First hop: our own gateway. Then a mix of each layer, then dest. */
	int last = travel(u, 0, pkt, x.g.packet_len, &res, &hops);
	cr_assert_eq(hops, 5);
	cr_assert_eq(last, 1);
	cr_assert_eq(res.kind, SPHINX_HOP_FINAL);
	cr_assert(memcmp(res.cmds.recipient_id, CPACKET_ECHO_ID, 32) == 0);
	struct sphinx_fwd_view v;
	cr_assert_eq(sphinx_fwd_decode(&x.g, pkt + res.payload_off, &v), 0);
	cr_assert_not_null(v.surb);
	cr_assert_eq(v.blob[99], 0xab);
	cr_assert_eq(v.blob[100], 0);
	/* The echo service answers through the reply block. */
	uint8_t first[32], *reply = malloc(x.g.packet_len);
	const char ans[] = "echo";
	cr_assert_eq(sphinx_surb_packet(&x.g, v.surb, (const uint8_t *)ans,
					sizeof(ans), reply, first),
		     SPHINX_OK);
	int at = node_of(first);
	cr_assert(at >= 2 && at < 4, "reply starts at a layer-1 mix");
	last = travel(u, at, reply, x.g.packet_len, &res, &hops);
	cr_assert_eq(hops, 4);
	cr_assert_eq(last, 0, "reply ends at our gateway");
	cr_assert_eq(res.kind, SPHINX_HOP_SURB_REPLY);
	cr_assert(memcmp(res.cmds.recipient_id, queue, 32) == 0);
	cr_assert(memcmp(res.cmds.surb_id, surb_id, 16) == 0);
	uint8_t *payload = reply + res.payload_off;
	cr_assert_eq(sphinx_surb_decrypt(&x.g, token, sizeof(token), payload),
		     SPHINX_OK);
	cr_assert_str_eq((const char *)payload + SPHINX_TAG_LEN, "echo");
	sphinx_unwrap_ctx_free(u);
	free(pkt);
	free(reply);
}

Test(client_cpacket, routes_are_fresh_and_fail_cleanly)
{
	struct cpacket_ctx x;
	uint8_t queue[32] = { 1 }, s1[16], s2[16], t[CPACKET_TOKEN_LEN];
	uint8_t blob[10] = { 0 };

	cr_assert_eq(cpacket_ctx_init(&x, &cons, 11, &nodes[0], queue), 0);
	uint8_t *a = malloc(x.g.packet_len), *b = malloc(x.g.packet_len);
	cr_assert_eq(cpacket_build(&x, &nodes[1], CPACKET_DROP_ID, blob, 10,
				   true, a, s1, t), 0);
	cr_assert_eq(cpacket_build(&x, &nodes[1], CPACKET_DROP_ID, blob, 10,
				   true, b, s2, t), 0);
	cr_assert(memcmp(s1, s2, 16) != 0);
	cr_assert(memcmp(a + 2, b + 2, 32) != 0, "same alpha twice");
	/* A blob too long, an epoch without keys, an empty layer. */
	static uint8_t big[2001];
	cr_assert_eq(cpacket_build(&x, &nodes[1], CPACKET_DROP_ID, big, 2001,
				   false, a, s1, t), -1);
	x.epoch = 20;
	cr_assert_eq(cpacket_build(&x, &nodes[1], CPACKET_DROP_ID, blob, 10,
				   false, a, s1, t), -1);
	x.epoch = 11;
	nodes[6].layer = nodes[7].layer = 2;
	cr_assert_eq(cpacket_build(&x, &nodes[1], CPACKET_DROP_ID, blob, 10,
				   false, a, s1, t), -1);
	cons.params.hops = 4;
	cr_assert_eq(cpacket_ctx_init(&x, &cons, 11, &nodes[0], queue), -1);
	free(a);
	free(b);
}
