/*
 * The Sphinx demo: real packets through real unwraps, with all the nodes in
 * one process. What it prints for each hop is exactly what that hop's unwrap
 * returned: nothing here is computed from knowledge a hop would not have.
 */
#include "app/sphinx_demo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/codec.h"
#include "lib/time.h"

#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "wire/sphinx_packet.h"
#include "wire/sphinx_surb.h"

#define DEMO_NODES 8 /* GA, L1, L2, L3, GB, and three mixes for the reply */

struct demo_node {
	const char *name;
	uint8_t id[SPHINX_NODE_ID_LEN];
	uint8_t pub[32];
	struct secret32 *priv;
};

struct demo {
	struct sphinx_geometry g;
	struct demo_node nodes[DEMO_NODES];
	struct sphinx_unwrap_ctx *ctx;
	uint8_t *pkt;
	FILE *out;
};

static const char *const node_names[DEMO_NODES] = {
    "gateway GA", "mix L1",  "mix L2",  "mix L3",
    "gateway GB", "mix L1'", "mix L2'", "mix L3'",
};

/* Hex of the first 6 bytes, for people to compare by eye. */
static const char *
short_hex(const uint8_t *p, char buf[16])
{
	if (hex_encode(buf, 16, p, 6) != 0)
		buf[0] = '\0';
	return buf;
}

static const char *
name_of(const struct demo *d, const uint8_t *id)
{
	for (size_t i = 0; i < DEMO_NODES; i++)
		if (memcmp(d->nodes[i].id, id, SPHINX_NODE_ID_LEN) == 0)
			return d->nodes[i].name;
	return "an unknown node";
}

static void
make_path(struct demo *d, struct sphinx_path_hop *path, const size_t *idx,
	  size_t n)
{
	memset(path, 0, n * sizeof(*path));
	for (size_t i = 0; i < n; i++) {
		const struct demo_node *nd = &d->nodes[idx[i]];

		memcpy(path[i].id, nd->id, SPHINX_NODE_ID_LEN);
		memcpy(path[i].pub, nd->pub, 32);
		if (strncmp(nd->name, "mix", 3) == 0) {
			/* Mixes hold packets for an exponential delay. */
			path[i].cmds.has_delay = true;
			double ms = rand_exp(200.0);
			path[i].cmds.delay_ms = (uint32_t)ms;
		}
	}
}

/* Print what one unwrap told its hop. */
static void
print_learned(struct demo *d, const struct sphinx_unwrap_result *res)
{
	const struct sphinx_commands *c = &res->cmds;
	char h[16];

	if (res->kind == SPHINX_HOP_FORWARD)
		fprintf(d->out, "forward to %s", name_of(d, c->next_hop_id));
	else if (res->kind == SPHINX_HOP_SURB_REPLY)
		fprintf(d->out, "last hop; a reply for SURB %s",
			short_hex(c->surb_id, h));
	else
		fprintf(d->out, "last hop; payload tag verified");
	if (c->has_delay)
		fprintf(d->out, ", hold %u ms", c->delay_ms);
	if (c->has_recipient)
		fprintf(d->out, ", deliver to queue %s",
			short_hex(c->recipient_id, h));
	fprintf(d->out, "\n");
}

/* Unwrap d->pkt through the nodes of idx, printing each hop. */
static int
walk(struct demo *d, const size_t *idx, size_t n,
     struct sphinx_unwrap_result *res)
{
	char h1[16], h2[16];

	for (size_t i = 0; i < n; i++) {
		const struct demo_node *nd = &d->nodes[idx[i]];
		int64_t t = time_mono_ns();
		enum sphinx_err err =
		    sphinx_unwrap(d->ctx, nd->priv->b, d->pkt, d->g.packet_len,
				  UINT32_MAX, res);
		t = time_mono_ns() - t;
		if (err != SPHINX_OK) {
			fprintf(d->out, "  %s refused the packet: %s\n",
				nd->name, sphinx_strerror(err));
			return -1;
		}
		fprintf(d->out, "  hop %zu %-11s %6.1f us  tag %s  ", i + 1,
			nd->name, (double)t / 1000.0,
			short_hex(res->replay_tag, h1));
		print_learned(d, res);
		if (res->kind == SPHINX_HOP_FORWARD)
			fprintf(d->out, "%38s next alpha %s...\n", "",
				short_hex(d->pkt + SPHINX_OFF_ALPHA, h2));
	}
	return 0;
}

static void
demo_free(struct demo *d)
{
	for (size_t i = 0; i < DEMO_NODES; i++)
		SECRET_FREE(d->nodes[i].priv);
	SPHINX_UNWRAP_CTX_FREE(d->ctx);
	free(d->pkt);
}

static void
demo_init(struct demo *d, FILE *out)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
	sphinx_geometry_default(&d->g);
	for (size_t i = 0; i < DEMO_NODES; i++) {
		struct demo_node *nd = &d->nodes[i];
		nd->name = node_names[i];
		nd->priv = secret32_new();
		rand_bytes(nd->id, sizeof(nd->id));
		x25519_keypair(nd->pub, nd->priv->b);
	}
	d->ctx = sphinx_unwrap_ctx_new(&d->g);
	d->pkt = malloc(d->g.packet_len);
	if (d->pkt == NULL)
		abort();
}

static void
print_intro(struct demo *d)
{
	const struct sphinx_geometry *g = &d->g;

	fprintf(d->out,
		"Sphinx (suite x25519-v0): every packet is %zu bytes =\n"
		"  header %zu (version 2, group element 32, routing %zu = %zu "
		"hops x %d, MAC 32)\n"
		"  payload %zu (zero tag %d, flags 1, reserved 1, reply block "
		"%zu, blob %zu)\n"
		"Each hop strips one layer: it learns the next hop and its "
		"delay, nothing about\nthe sender, the rest of the route, its "
		"position on it, or the content. Every\nbyte but the 2-byte "
		"version changes at every hop: what leaves a hop cannot be\n"
		"matched bit for bit with what came in.\n\n",
		g->packet_len, g->header_len, g->routing_info_len, g->hops,
		SPHINX_PER_HOP_RI_LEN, g->payload_len, SPHINX_TAG_LEN,
		g->surb_len, g->blob_len);
}

static const size_t route_fwd[] = {0, 1, 2, 3, 4}; /* GA L1 L2 L3 GB */
static const size_t route_reply[] = {5, 6, 7, 0};  /* L1' L2' L3' GA */
#define N_FWD   (sizeof(route_fwd) / sizeof(route_fwd[0]))
#define N_REPLY (sizeof(route_reply) / sizeof(route_reply[0]))

/* Client A: a reply block for the acknowledgement, then the packet. */
static int
client_send(struct demo *d, uint8_t *token)
{
	struct sphinx_path_hop path[N_FWD];
	const struct sphinx_geometry *g = &d->g;
	static const char msg[] = "Hello B, this is A. (In the real system the "
				  "blob is end-to-end ciphertext.)";
	uint8_t *surb = malloc(g->surb_len), *user = malloc(g->user_len);
	int rc = -1;
	char h[16];

	if (surb == NULL || user == NULL)
		abort();
	make_path(d, path, route_reply, N_REPLY);
	path[N_REPLY - 1].cmds.has_recipient = true; /* A's reply queue */
	rand_bytes(path[N_REPLY - 1].cmds.recipient_id, 32);
	path[N_REPLY - 1].cmds.has_surb_reply = true;
	rand_bytes(path[N_REPLY - 1].cmds.surb_id, SPHINX_SURB_ID_LEN);
	int64_t t = time_mono_ns();
	if (sphinx_surb_create(g, path, N_REPLY, surb, token) != SPHINX_OK)
		goto done;
	t = time_mono_ns() - t;
	fprintf(d->out,
		"client A: reply block for its acknowledgement, route "
		"L1' L2' L3' GA, SURB id %s: %.1f us\n",
		short_hex(path[N_REPLY - 1].cmds.surb_id, h), (double)t / 1000);

	make_path(d, path, route_fwd, N_FWD);
	path[N_FWD - 1].cmds.has_recipient = true; /* B's queue for A */
	rand_bytes(path[N_FWD - 1].cmds.recipient_id, 32);
	if (sphinx_fwd_encode(g, user, surb, (const uint8_t *)msg,
			      sizeof(msg)) != 0)
		goto done;
	t = time_mono_ns();
	if (sphinx_packet_create(g, path, N_FWD, user, g->user_len, d->pkt,
				 g->packet_len) != SPHINX_OK)
		goto done;
	t = time_mono_ns() - t;
	fprintf(d->out,
		"client A: packet for GA L1 L2 L3 GB, with the reply "
		"block inside: %.1f us\n\n",
		(double)t / 1000);
	rc = 0;
done:
	free(surb);
	secret_wipe(user, g->user_len);
	free(user);
	return rc;
}

/* Gateway GB: the message, and the acknowledgement through the SURB. */
static int
gateway_reply(struct demo *d, const struct sphinx_unwrap_result *res)
{
	const struct sphinx_geometry *g = &d->g;
	struct sphinx_fwd_view v;
	uint8_t first[SPHINX_NODE_ID_LEN];
	static const char ack[] = "ack from B's gateway";
	uint8_t *user = d->pkt + res->payload_off;

	if (res->kind != SPHINX_HOP_FINAL ||
	    sphinx_fwd_decode(g, user, &v) != 0 || v.surb == NULL)
		return -1;
	fprintf(d->out,
		"gateway GB: queues the %zu-byte blob for B:\n"
		"  \"%.70s\"\n"
		"gateway GB: answers through the reply block, whose first "
		"hop is all it learns\n  of the way back.\n",
		g->blob_len, (const char *)v.blob);
	uint8_t *surb = malloc(g->surb_len);
	if (surb == NULL)
		abort();
	memcpy(surb, v.surb, g->surb_len);
	int64_t t = time_mono_ns();
	enum sphinx_err err = sphinx_surb_packet(g, surb, (const uint8_t *)ack,
						 sizeof(ack), d->pkt, first);
	t = time_mono_ns() - t;
	free(surb);
	if (err != SPHINX_OK)
		return -1;
	fprintf(d->out, "gateway GB: reply packet for %s: %.1f us\n\n",
		name_of(d, first), (double)t / 1000);
	return 0;
}

int
sphinx_demo_run(FILE *out)
{
	struct demo d;
	struct sphinx_unwrap_result res;
	uint8_t *token = secret_alloc(sphinx_surb_token_len(N_REPLY));
	uint8_t *payload;
	int64_t t;
	int rc = -1;

	demo_init(&d, out);
	print_intro(&d);
	if (client_send(&d, token) != 0)
		goto done;
	fprintf(out, "forward, one unwrap per hop (tag = replay tag, "
		     "what the hop remembers):\n");
	if (walk(&d, route_fwd, N_FWD, &res) != 0)
		goto done;
	fprintf(out, "\n");
	if (gateway_reply(&d, &res) != 0)
		goto done;
	fprintf(out, "reply, the same unwrap at every hop (indistinguishable "
		     "from a forward packet):\n");
	if (walk(&d, route_reply, N_REPLY, &res) != 0 ||
	    res.kind != SPHINX_HOP_SURB_REPLY)
		goto done;
	payload = d.pkt + res.payload_off;
	t = time_mono_ns();
	if (sphinx_surb_decrypt(&d.g, token, sphinx_surb_token_len(N_REPLY),
				payload) != SPHINX_OK)
		goto done;
	t = time_mono_ns() - t;
	fprintf(out,
		"\nclient A: fetches the reply from GA and decrypts it "
		"with the SURB's token:\n  \"%s\" (%.1f us)\n",
		(const char *)payload + SPHINX_TAG_LEN, (double)t / 1000);
	rc = 0;
done:
	if (rc != 0)
		fprintf(out, "demo: a step failed\n");
	SECRET_FREE(token);
	demo_free(&d);
	return rc;
}
