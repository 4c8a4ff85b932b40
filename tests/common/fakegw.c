/*
 * The fake gateway of fakegw.h. Link callbacks run on the gateway's thread
 * with g->mu held (the mailbox and the test's own state); the consensus and
 * keys are written before fakegw_start and only read after.
 */
#include "fakegw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/x25519.h"
#include "dir/tally.h"
#include "lib/alloc.h"
#include "lib/codec.h"
#include "lib/time.h"
#include "wire/link_frame.h"
#include "wire/sphinx_surb.h"

/* A hop may ask for at most this delay; the fake network does not wait. */
#define FAKEGW_MAX_DELAY_MS 100000

int fakegw_init(struct fakegw *g, const struct fakegw_ops *ops)
{
	memset(g, 0, sizeof(*g));
	if (crypto_init() != 0)
		return -1;
	for (int i = 0; i < FAKEGW_AUTHORITIES; i++) {
		uint8_t seed[32];
		memset(seed, 101 + i, 32);
		ed25519_keypair_from_seed(g->auth_pk[i], g->auth_sk[i], seed);
	}
	x25519_keypair(g->link_pub, g->link_priv);
	buf_init(&g->doc);
	g->ops = ops;
	g->next_item = 1;
	return pthread_mutex_init(&g->mu, NULL) == 0 ? 0 : -1;
}

static int desc_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dir_node *)a)->desc.identity,
		      ((const struct dir_node *)b)->desc.identity, 32);
}

/* Nodes 0 and 1 are gateways with the echo service, the rest mixes; fixed
 * identities, fresh packet keys (in privs, by index before sorting). */
static void make_nodes(struct fakegw *g, bool omit_gateway,
		       uint8_t privs[FAKEGW_NODES][32])
{
	for (int i = 0; i < FAKEGW_NODES; i++) {
		struct dir_descriptor *d = &g->cons.nodes[i].desc;
		uint8_t seed[32], sk[64];
		memset(seed, 40 + i, 32);
		ed25519_keypair_from_seed(d->identity, sk, seed);
		d->epoch = FAKEGW_EPOCH;
		d->role = i < 2 ? DIR_ROLE_GATEWAY : DIR_ROLE_MIX;
		d->services = i < 2 ? DIR_SERVICE_ECHO : 0;
		x25519_keypair(d->packet_keys[0], privs[i]);
		memset(d->link_key, 0x60 + i, 32);
		if (i == 0 && !omit_gateway)
			memcpy(d->link_key, g->link_pub, 32);
		snprintf(d->address, sizeof(d->address), "127.0.0.1:%d",
			 7000 + i);
		snprintf(d->version, sizeof(d->version), "0.1.0");
	}
}

/* Sign with authorities 0 and 1 of 3 and encode into g->doc. */
static int sign_encode(struct fakegw *g)
{
	struct buf body;
	int rc = -1;

	buf_init(&body);
	if (dir_consensus_encode_body(&g->cons, &body) != 0)
		goto done;
	for (int i = 0; i < 2; i++) {
		struct dir_signature s;
		memcpy(s.authority, g->auth_pk[i], 32);
		ed25519_sign(s.sig, body.data, body.len, g->auth_sk[i]);
		if (dir_consensus_add_sig(&g->cons, &s) != 0)
			goto done;
	}
	buf_reset(&g->doc);
	rc = dir_consensus_encode(&g->cons, &g->doc);
done:
	buf_free(&body);
	return rc;
}

int fakegw_make_consensus(struct fakegw *g, const struct dir_params *p,
			  bool omit_gateway)
{
	uint64_t now = (uint64_t)time_wall_s();
	uint64_t before = (uint64_t)FAKEGW_EPOCH * p->epoch_len_s;
	uint8_t privs[FAKEGW_NODES][32];
	struct dir_consensus *c = &g->cons;

	dir_consensus_clear(c);
	memset(c, 0, sizeof(*c));
	c->epoch = FAKEGW_EPOCH;
	c->params = *p;
	c->params.genesis = now - before - 5;
	c->valid_after = c->params.genesis + before;
	c->valid_until = c->valid_after + p->epoch_len_s + p->grace_s;
	c->n_nodes = FAKEGW_NODES;
	c->nodes = bc_calloc(FAKEGW_NODES, sizeof(*c->nodes));
	make_nodes(g, omit_gateway, privs);
	/* Sorting moves nodes: keep each private key with its node. */
	for (int i = 0; i < FAKEGW_NODES; i++)
		memcpy(c->nodes[i].desc.signature, privs[i], 32);
	qsort(c->nodes, FAKEGW_NODES, sizeof(*c->nodes), desc_cmp);
	g->own = 0;
	for (int i = 0; i < FAKEGW_NODES; i++) {
		memcpy(g->node_priv[i], c->nodes[i].desc.signature, 32);
		memset(c->nodes[i].desc.signature, 0, 64);
		if (memcmp(c->nodes[i].desc.link_key, g->link_pub, 32) == 0)
			g->own = i;
	}
	dir_assign_layers(c);
	return sign_encode(g);
}

static void send_chunk(struct fakegw *g, struct link_conn *c, uint16_t k)
{
	size_t cm = link_cmd_chunk_max(LINK_PACKET_LEN_DEFAULT);
	struct link_cmd r = { .type = LINK_CMD_CONSENSUS };
	size_t off = (size_t)k * cm;

	if (off > g->doc.len)
		off = g->doc.len; /* a chunk past the end: empty, not a crash */
	r.u.consensus.epoch = g->cons.epoch;
	r.u.consensus.chunk = k;
	r.u.consensus.nchunks = (uint16_t)((g->doc.len + cm - 1) / cm);
	r.u.consensus.total = (uint32_t)g->doc.len;
	r.u.consensus.data = g->doc.data + off;
	r.u.consensus.len = g->doc.len - off < cm ? g->doc.len - off : cm;
	link_conn_send(c, &r);
}

static void send_code(struct link_conn *c, uint8_t code)
{
	struct link_cmd r = { .type = LINK_CMD_ERROR };
	r.u.error.code = code;
	link_conn_send(c, &r);
}

const struct fakegw_item *fakegw_store(struct fakegw *g,
				       const uint8_t owner[32], uint8_t kind,
				       const uint8_t tag[32],
				       const uint8_t *payload, size_t plen)
{
	if (g->nitems == FAKEGW_MAX_ITEMS || plen > g->geo.payload_len)
		return NULL;
	struct fakegw_item *it = &g->items[g->nitems++];
	memcpy(it->owner, owner, 32);
	memset(it->id, 0, LINK_ID_LEN);
	memcpy(it->id, &g->next_item, sizeof(g->next_item));
	g->next_item++;
	it->len = LINK_ITEM_HDR + g->geo.payload_len;
	it->data = bc_calloc(1, it->len);
	it->data[0] = kind;
	memcpy(it->data + 1, tag, LINK_ITEM_TAG_LEN);
	memcpy(it->data + LINK_ITEM_HDR, payload, plen);
	return it;
}

static void item_delete(struct fakegw *g, size_t i)
{
	free(g->items[i].data);
	g->items[i] = g->items[--g->nitems];
}

size_t fakegw_drop_tagged(struct fakegw *g, uint8_t kind,
			  const uint8_t tag[32])
{
	size_t n = 0;

	for (size_t i = g->nitems; i-- > 0;)
		if (g->items[i].data[0] == kind &&
		    memcmp(g->items[i].data + 1, tag, LINK_ITEM_TAG_LEN) == 0) {
			item_delete(g, i);
			n++;
		}
	return n;
}

/* Confirmed ids (carried by FETCH, or a CONFIRM): deleted; an id that is
 * not who's is skipped. */
static void confirm(struct fakegw *g, const uint8_t *who,
		    const uint8_t (*ids)[LINK_ID_LEN], size_t count)
{
	for (size_t k = 0; k < count; k++)
		for (size_t i = 0; i < g->nitems; i++) {
			if (memcmp(g->items[i].id, ids[k], LINK_ID_LEN) != 0 ||
			    memcmp(g->items[i].owner, who, 32) != 0)
				continue;
			item_delete(g, i);
			break;
		}
}

/* who's items, as many as fit one frame; remaining is at most 15. */
static void fetch_answer(struct fakegw *g, struct link_conn *c, uint32_t seq)
{
	struct link_cmd r = { .type = LINK_CMD_FETCH_RESPONSE };
	size_t fit = link_cmd_items_fit(LINK_PACKET_LEN_DEFAULT,
					LINK_ITEM_HDR + g->geo.payload_len);
	const uint8_t *who = link_conn_peer_key(c);
	uint32_t more = 0;

	r.u.fetch_resp.seq = seq;
	for (size_t i = 0; i < g->nitems; i++) {
		if (memcmp(g->items[i].owner, who, 32) != 0)
			continue;
		if (r.u.fetch_resp.count == fit) {
			more++;
			continue;
		}
		struct link_item *it =
			&r.u.fetch_resp.items[r.u.fetch_resp.count++];
		memcpy(it->id, g->items[i].id, LINK_ID_LEN);
		it->data = g->items[i].data;
		it->len = g->items[i].len;
	}
	r.u.fetch_resp.remaining = more > 15 ? 15 : more;
	link_conn_send(c, &r);
}

/* The queue model's answer; without one every queue command is fine. */
static uint8_t queue_code(struct fakegw *g, struct link_conn *c,
			  const struct link_cmd *cmd)
{
	return g->ops->queue != NULL ? g->ops->queue(g, c, cmd) : LINK_OK;
}

static enum link_err on_cmd(struct link_conn *c, const struct link_cmd *cmd,
			    void *ctx)
{
	struct fakegw *g = ctx;
	const uint8_t *who = link_conn_peer_key(c);
	struct link_cmd r;

	pthread_mutex_lock(&g->mu);
	switch (cmd->type) {
	case LINK_CMD_REGISTER:
		send_code(c, LINK_OK);
		break;
	case LINK_CMD_TIME:
		r = (struct link_cmd){ .type = LINK_CMD_TIME };
		r.u.time.wall_ms = (uint64_t)(time_wall_ms() + g->skew_ms);
		link_conn_send(c, &r);
		break;
	case LINK_CMD_GET_CONSENSUS:
		send_chunk(g, c, cmd->u.get_consensus.chunk);
		break;
	case LINK_CMD_SEND_PACKET:
		if (g->ops->packet != NULL)
			g->ops->packet(g, c, cmd->u.packet.data);
		break;
	case LINK_CMD_FETCH:
		confirm(g, who, cmd->u.fetch.ids, cmd->u.fetch.count);
		fetch_answer(g, c, cmd->u.fetch.seq);
		break;
	case LINK_CMD_CONFIRM:
		g->confirm_frames++;
		confirm(g, who, cmd->u.confirm.ids, cmd->u.confirm.count);
		send_code(c, LINK_OK);
		break;
	case LINK_CMD_QUEUE_CREATE:
	case LINK_CMD_QUEUE_DELETE:
		send_code(c, queue_code(g, c, cmd));
		break;
	case LINK_CMD_NOOP:
	case LINK_CMD_FETCH_RESPONSE:
	case LINK_CMD_CONSENSUS:
	case LINK_CMD_DISCONNECT:
	case LINK_CMD_ERROR:
		break;
	}
	pthread_mutex_unlock(&g->mu);
	return LINK_OK;
}

static bool on_auth(void *ctx, const uint8_t key[32])
{
	(void)ctx;
	(void)key;
	return true; /* any client may connect */
}

static void on_open(struct link_conn *c, void *ctx)
{
	(void)c;
	(void)ctx;
}

static void on_close(struct link_conn *c, const struct link_close_info *i,
		     void *ctx)
{
	(void)c;
	(void)i;
	(void)ctx;
}

static void on_stop(uv_async_t *a)
{
	struct fakegw *g = a->data;
	link_mgr_close(g->mgr, NULL, NULL);
	g->mgr = NULL;
	uv_close((uv_handle_t *)a, NULL);
}

static void *run(void *arg)
{
	struct fakegw *g = arg;
	uv_run(&g->loop, UV_RUN_DEFAULT);
	return NULL;
}

int fakegw_start(struct fakegw *g, const char *ip, uint16_t port)
{
	struct link_cfg lc = {
		.static_priv = g->link_priv, .role = LINK_ROLE_NODE,
		.auth = on_auth, .on_open = on_open, .on_cmd = on_cmd,
		.on_close = on_close, .ctx = g,
	};

	sphinx_geometry_default(&g->geo);
	g->uctx = sphinx_unwrap_ctx_new(&g->geo);
	if (uv_loop_init(&g->loop) != 0)
		return -1;
	uv_async_init(&g->loop, &g->stop, on_stop);
	g->stop.data = g;
	g->mgr = link_mgr_new(&g->loop, &lc);
	if (g->mgr == NULL || link_mgr_listen(g->mgr, ip, port, &g->port) != 0)
		return -1;
	return pthread_create(&g->thread, NULL, run, g) == 0 ? 0 : -1;
}

int fakegw_stop(struct fakegw *g)
{
	uv_async_send(&g->stop);
	pthread_join(g->thread, NULL);
	/* The close callbacks the stop left behind. */
	uv_run(&g->loop, UV_RUN_DEFAULT);
	SPHINX_UNWRAP_CTX_FREE(g->uctx);
	return uv_loop_close(&g->loop) == 0 ? 0 : -1;
}

void fakegw_free(struct fakegw *g)
{
	for (size_t i = 0; i < g->nitems; i++)
		free(g->items[i].data);
	g->nitems = 0;
	dir_consensus_clear(&g->cons);
	memset(&g->cons, 0, sizeof(g->cons));
	buf_free(&g->doc);
	pthread_mutex_destroy(&g->mu);
}

int fakegw_node_of(const struct fakegw *g, const uint8_t id[32])
{
	for (int i = 0; i < FAKEGW_NODES; i++)
		if (memcmp(g->cons.nodes[i].desc.identity, id, 32) == 0)
			return i;
	return -1;
}

int fakegw_travel(struct fakegw *g, int at, uint8_t *pkt,
		  struct sphinx_unwrap_result *res)
{
	for (int hops = 0; hops < 8 && at >= 0; hops++) {
		if (sphinx_unwrap(g->uctx, g->node_priv[at], pkt,
				  g->geo.packet_len, FAKEGW_MAX_DELAY_MS,
				  res) != SPHINX_OK)
			return -1;
		if (res->kind != SPHINX_HOP_FORWARD)
			return at;
		at = fakegw_node_of(g, res->cmds.next_hop_id);
	}
	return -1;
}

int fakegw_forward(struct fakegw *g, uint8_t *pkt,
		   struct sphinx_unwrap_result *res)
{
	if (fakegw_travel(g, g->own, pkt, res) < 0 ||
	    res->kind != SPHINX_HOP_FINAL)
		return -1;
	return 0;
}

int fakegw_reply(struct fakegw *g, const uint8_t *surb, const void *msg,
		 size_t len, uint8_t *pkt, struct sphinx_unwrap_result *res)
{
	uint8_t *s = bc_memdup(surb, g->geo.surb_len), first[32];
	int rc = -1;

	if (sphinx_surb_packet(&g->geo, s, msg, len, pkt, first) != SPHINX_OK)
		goto done;
	if (fakegw_travel(g, fakegw_node_of(g, first), pkt, res) != g->own ||
	    res->kind != SPHINX_HOP_SURB_REPLY)
		goto done;
	rc = 0;
done:
	free(s);
	return rc;
}

int fakegw_keys_b64(const struct fakegw *g, char *auth, size_t authcap,
		    char *gwkey, size_t gwcap)
{
	char b64[64];
	size_t used = 0;

	if (authcap == 0)
		return -1;
	auth[0] = 0;
	for (int i = 0; i < FAKEGW_AUTHORITIES; i++) {
		if (base64_encode(b64, sizeof(b64), g->auth_pk[i], 32) != 0)
			return -1;
		int n = snprintf(auth + used, authcap - used,
				 "%s%s@127.0.0.1:%d", i ? ", " : "", b64,
				 9000 + i);
		if (n < 0 || (size_t)n >= authcap - used)
			return -1;
		used += (size_t)n;
	}
	return base64_encode(gwkey, gwcap, g->link_pub, 32);
}
