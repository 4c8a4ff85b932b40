/*
 * The client's side of the gateway link against an in-process fake gateway
 * (the real gateway service, issue 7, is not built yet): registration, the
 * clock check, the consensus in chunks verified against the authorities,
 * fetch and confirm, and every way a gateway can misbehave.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/gwlink.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "dir/tally.h"
#include "lib/alloc.h"
#include "lib/codec.h"

#define GENESIS 1700000000ll
#define EPOCH_LEN 30
#define NOW_MS ((GENESIS + 1000 * EPOCH_LEN + 5) * 1000)

static struct dir_authset as;
static uint8_t auth_sk[3][64];

/* What the client sent, copied. */
struct sent {
	int n;
	enum link_cmd_type type[64];
	struct link_cmd cmd[64];
	uint8_t ids[64][LINK_CONFIRM_MAX][LINK_ID_LEN];
};
static struct sent out;
static int consensus_seen, items_seen;

static int t_send(void *ctx, const struct link_cmd *c)
{
	(void)ctx;
	cr_assert_lt(out.n, 64);
	out.type[out.n] = c->type;
	out.cmd[out.n] = *c;
	if (c->type == LINK_CMD_CONFIRM)
		memcpy(out.ids[out.n], c->u.confirm.ids,
		       sizeof(c->u.confirm.ids));
	out.n++;
	return 0;
}

static void t_cons(void *ctx, const struct dir_consensus *c)
{
	(void)ctx;
	cr_assert_eq(c->epoch, 1000);
	consensus_seen++;
}

/* Stores items whose kind is even; leaves the others.  The tag must be
 * 0x70 + kind repeated, and the payload's first byte 0x50 + kind. */
static int t_item(void *ctx, const uint8_t id[static LINK_ID_LEN],
		  uint8_t kind, const uint8_t tag[static LINK_ITEM_TAG_LEN],
		  const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)id;
	cr_assert_gt(len, 0);
	for (size_t i = 0; i < LINK_ITEM_TAG_LEN; i++)
		cr_assert_eq(tag[i], 0x70 + kind);
	cr_assert_eq(data[0], 0x50 + kind);
	items_seen++;
	return kind % 2 == 0 ? 0 : -1;
}

/* An item of this kind, its tag and payload as t_item expects. */
static void make_item(uint8_t d[LINK_ITEM_HDR + 4], uint8_t kind)
{
	d[0] = kind;
	memset(d + 1, 0x70 + kind, LINK_ITEM_TAG_LEN);
	memset(d + LINK_ITEM_HDR, 0x50 + kind, 4);
}

static const struct gwlink_ops ops = { t_send, t_cons, t_item, NULL, NULL };

static void setup(void)
{
	char spec[1024] = "", b64[64], one[128], err[200];

	cr_assert_eq(crypto_init(), 0);
	for (int i = 0; i < 3; i++) {
		uint8_t seed[32], pk[32];
		memset(seed, 101 + i, 32);
		ed25519_keypair_from_seed(pk, auth_sk[i], seed);
		cr_assert_eq(base64_encode(b64, sizeof(b64), pk, 32), 0);
		snprintf(one, sizeof(one), "%s@127.0.0.1:%d, ", b64, 9000 + i);
		strncat(spec, one, sizeof(spec) - strlen(spec) - 1);
	}
	cr_assert_eq(dir_authset_parse(&as, spec, err, sizeof(err)), 0, "%s",
		     err);
	memset(&out, 0, sizeof(out));
	consensus_seen = items_seen = 0;
}

TestSuite(client_gwlink, .init = setup);

static int desc_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dir_node *)a)->desc.identity,
		      ((const struct dir_node *)b)->desc.identity, 32);
}

/* A consensus for epoch 1000 (2 gateways, 6 mixes) signed by the
 * authorities in mask; variant changes a parameter (equivocation). */
static struct buf signed_consensus(unsigned mask, uint32_t variant)
{
	struct dir_consensus c;
	struct buf body, text;

	memset(&c, 0, sizeof(c));
	c.epoch = 1000;
	c.params = (struct dir_params){
		.genesis = GENESIS, .epoch_len_s = EPOCH_LEN, .grace_s = 10,
		.hops = 5, .blob_len = 2000, .mean_delay_ms = 50 + variant,
		.max_delay_ms = 1000, .lambda_p = 2000, .lambda_l = 500,
		.lambda_d = 500, .lambda_f = 4000, .mix_loop = 1000,
	};
	c.valid_after = (uint64_t)GENESIS + 1000 * EPOCH_LEN;
	c.valid_until = c.valid_after + EPOCH_LEN + 10;
	c.n_nodes = 8;
	c.nodes = bc_calloc(8, sizeof(*c.nodes));
	for (int i = 0; i < 8; i++) {
		struct dir_descriptor *d = &c.nodes[i].desc;
		uint8_t seed[32], sk[64];
		memset(seed, 20 + i, 32);
		ed25519_keypair_from_seed(d->identity, sk, seed);
		d->epoch = 1000;
		d->role = i < 2 ? DIR_ROLE_GATEWAY : DIR_ROLE_MIX;
		d->services = i < 2 ? DIR_SERVICE_ECHO : 0;
		snprintf(d->address, sizeof(d->address), "127.0.0.1:%d",
			 7000 + i);
		snprintf(d->version, sizeof(d->version), "0.1.0");
	}
	qsort(c.nodes, c.n_nodes, sizeof(*c.nodes), desc_cmp);
	dir_assign_layers(&c);
	buf_init(&body);
	buf_init(&text);
	cr_assert_eq(dir_consensus_encode_body(&c, &body), 0);
	for (size_t i = 0; i < 3; i++) {
		if (!(mask & (1u << i)))
			continue;
		struct dir_signature s;
		memcpy(s.authority, as.a[i].key, 32);
		ed25519_sign(s.sig, body.data, body.len, auth_sk[i]);
		cr_assert_eq(dir_consensus_add_sig(&c, &s), 0);
	}
	cr_assert_eq(dir_consensus_encode(&c, &text), 0);
	buf_free(&body);
	dir_consensus_clear(&c);
	return text;
}

static enum link_err gw_error(struct gwlink *g, uint8_t code)
{
	struct link_cmd c = { .type = LINK_CMD_ERROR };
	c.u.error.code = code;
	return gwlink_on_cmd(g, &c, NOW_MS);
}

static enum link_err gw_time(struct gwlink *g, int64_t ms)
{
	struct link_cmd c = { .type = LINK_CMD_TIME };
	c.u.time.wall_ms = (uint64_t)ms;
	return gwlink_on_cmd(g, &c, NOW_MS);
}

/* Answer every GET_CONSENSUS the client sends with chunks of doc. */
static void gw_serve(struct gwlink *g, const struct buf *doc, size_t chunk)
{
	uint16_t n = (uint16_t)((doc->len + chunk - 1) / chunk);
	while (out.n > 0 && out.type[out.n - 1] == LINK_CMD_GET_CONSENSUS) {
		uint16_t k = out.cmd[out.n - 1].u.get_consensus.chunk;
		struct link_cmd c = { .type = LINK_CMD_CONSENSUS };
		size_t off = (size_t)k * chunk;
		c.u.consensus.epoch = 1000;
		c.u.consensus.chunk = k;
		c.u.consensus.nchunks = n;
		c.u.consensus.total = (uint32_t)doc->len;
		c.u.consensus.data = doc->data + off;
		c.u.consensus.len = doc->len - off < chunk ? doc->len - off
							     : chunk;
		int before = out.n;
		cr_assert_eq(gwlink_on_cmd(g, &c, NOW_MS), LINK_OK);
		if (out.n == before)
			break;
	}
}

/* Register, clock check, consensus: the client ends READY. */
static void bring_up(struct gwlink *g, const struct buf *doc)
{
	gwlink_opened(g, NOW_MS);
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_REGISTER);
	cr_assert_eq(gw_error(g, LINK_OK), LINK_OK);
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_TIME);
	cr_assert_eq(gw_time(g, NOW_MS + 2000), LINK_OK);
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_GET_CONSENSUS);
	cr_assert_eq(out.cmd[out.n - 1].u.get_consensus.epoch, 0);
	gw_serve(g, doc, 1000);
}

Test(client_gwlink, register_clock_consensus_fetch_confirm)
{
	struct gwlink g;
	struct buf doc = signed_consensus(0x7, 0);

	gwlink_init(&g, &as, &ops, false, NULL, 0);
	bring_up(&g, &doc);
	cr_assert_eq(g.state, GWLINK_READY, "%s", g.err);
	cr_assert_eq(consensus_seen, 1);
	cr_assert(doc.len > 2000, "the document came in several chunks");
	cr_assert_eq(g.skew_ms, 2000);
	cr_assert(g.registered);
	/* Fetch: one request, its answer, a confirm of what was stored. */
	cr_assert_eq(gwlink_fetch(&g), 0);
	cr_assert_eq(gwlink_fetch(&g), -1); /* one outstanding at a time */
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_FETCH);
	struct link_cmd r = { .type = LINK_CMD_FETCH_RESPONSE };
	uint8_t d0[LINK_ITEM_HDR + 4], d1[LINK_ITEM_HDR + 4], d2[5] = {2};
	make_item(d0, 2);
	make_item(d1, 3);
	r.u.fetch_resp.seq = out.cmd[out.n - 1].u.fetch.seq;
	r.u.fetch_resp.count = 3;
	memset(r.u.fetch_resp.items[0].id, 0xa, LINK_ID_LEN);
	r.u.fetch_resp.items[0].data = d0;
	r.u.fetch_resp.items[0].len = sizeof(d0);
	memset(r.u.fetch_resp.items[1].id, 0xb, LINK_ID_LEN);
	r.u.fetch_resp.items[1].data = d1;
	r.u.fetch_resp.items[1].len = sizeof(d1);
	/* Shorter than kind and tag: not handed up, confirmed away. */
	memset(r.u.fetch_resp.items[2].id, 0xc, LINK_ID_LEN);
	r.u.fetch_resp.items[2].data = d2;
	r.u.fetch_resp.items[2].len = sizeof(d2);
	cr_assert_eq(gwlink_on_cmd(&g, &r, NOW_MS), LINK_OK);
	cr_assert_eq(items_seen, 2);
	cr_assert_eq(g.items_bad, 1);
	/* No frame of its own: the confirmations wait for the next fetch. */
	int before = out.n;
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_FETCH);
	cr_assert_eq(g.confirm_n, 2);
	/* The same answer again (a replayed seq) is refused. */
	cr_assert_eq(gwlink_on_cmd(&g, &r, NOW_MS), LINK_ERR_FIELD);
	cr_assert_eq(gwlink_fetch(&g), 0);
	cr_assert_eq(out.n, before + 1);
	const struct link_cmd *f = &out.cmd[out.n - 1];
	cr_assert_eq(f->type, LINK_CMD_FETCH);
	cr_assert_eq(f->u.fetch.count, 2);
	cr_assert_eq(f->u.fetch.ids[0][0], 0xa);
	cr_assert_eq(f->u.fetch.ids[1][0], 0xc);
	cr_assert_eq(g.confirmed, 0, "not before the gateway answered");
	/* Closed before the answer: the next connection sends them again. */
	gwlink_closed(&g);
	gwlink_opened(&g, NOW_MS);
	cr_assert_eq(gw_time(&g, NOW_MS), LINK_OK);
	gw_serve(&g, &doc, 3000);
	cr_assert_eq(g.state, GWLINK_READY, "%s", g.err);
	cr_assert_eq(gwlink_fetch(&g), 0);
	f = &out.cmd[out.n - 1];
	cr_assert_eq(f->u.fetch.count, 2);
	struct link_cmd empty = { .type = LINK_CMD_FETCH_RESPONSE };
	empty.u.fetch_resp.seq = f->u.fetch.seq;
	cr_assert_eq(gwlink_on_cmd(&g, &empty, NOW_MS), LINK_OK);
	cr_assert_eq(g.confirmed, 2);
	cr_assert_eq(g.confirm_n, 0);
	cr_assert_eq(gwlink_fetch(&g), 0);
	cr_assert_eq(out.cmd[out.n - 1].u.fetch.count, 0, "sent only once");
	empty.u.fetch_resp.seq = out.cmd[out.n - 1].u.fetch.seq;
	cr_assert_eq(gwlink_on_cmd(&g, &empty, NOW_MS), LINK_OK);
	for (int i = 0; i < out.n; i++)
		cr_assert_neq(out.type[i], LINK_CMD_CONFIRM,
			      "the client sends no CONFIRM frame");
	/* Reconnect: registered already, so straight to the clock check. */
	gwlink_closed(&g);
	cr_assert_eq(g.state, GWLINK_DOWN);
	gwlink_opened(&g, NOW_MS);
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_TIME);
	cr_assert_eq(gw_time(&g, NOW_MS), LINK_OK);
	gw_serve(&g, &doc, 3000);
	cr_assert_eq(g.state, GWLINK_READY, "%s", g.err);
	cr_assert_str_eq(gwlink_state_name(g.state), "ready");
	gwlink_free(&g);
	buf_free(&doc);
}

Test(client_gwlink, clock_off_by_more_than_30_s_stops)
{
	struct gwlink g;

	gwlink_init(&g, &as, &ops, true, NULL, 0);
	gwlink_opened(&g, NOW_MS);
	cr_assert_eq(gw_time(&g, NOW_MS - 31000), LINK_OK);
	cr_assert_eq(g.state, GWLINK_FATAL);
	cr_assert(strstr(g.err, "clock is 31 s off") != NULL, "%s", g.err);
	cr_assert_eq(gwlink_fetch(&g), -1);
	gwlink_free(&g);
}

Test(client_gwlink, consensus_with_too_few_signatures_stops)
{
	struct gwlink g;
	struct buf doc = signed_consensus(0x4, 0);

	gwlink_init(&g, &as, &ops, false, NULL, 0);
	bring_up(&g, &doc);
	cr_assert_eq(g.state, GWLINK_FATAL);
	cr_assert(strstr(g.err, "invalid consensus") != NULL, "%s", g.err);
	cr_assert(strstr(g.err, "1 valid signatures") != NULL, "%s", g.err);
	cr_assert_eq(consensus_seen, 0);
	gwlink_free(&g);
	buf_free(&doc);
}

Test(client_gwlink, two_valid_consensuses_for_one_epoch_stop)
{
	struct gwlink g;
	struct buf a = signed_consensus(0x7, 0), b = signed_consensus(0x3, 1);

	gwlink_init(&g, &as, &ops, false, NULL, 0);
	bring_up(&g, &a);
	cr_assert_eq(g.state, GWLINK_READY, "%s", g.err);
	cr_assert_eq(gwlink_refresh(&g, NOW_MS), 0);
	cr_assert_eq(gw_time(&g, NOW_MS), LINK_OK);
	gw_serve(&g, &b, 1000);
	cr_assert_eq(g.state, GWLINK_FATAL);
	cr_assert_gt(strlen(g.err), 10);
	gwlink_free(&g);
	buf_free(&a);
	buf_free(&b);
}

Test(client_gwlink, registration_denied_stops)
{
	struct gwlink g;
	const uint8_t tok[3] = "abc";

	gwlink_init(&g, &as, &ops, false, tok, 3);
	gwlink_opened(&g, NOW_MS);
	cr_assert_eq(out.cmd[out.n - 1].u.reg.len, 3);
	cr_assert_eq(gw_error(&g, LINK_ERR_DENIED), LINK_OK);
	cr_assert_eq(g.state, GWLINK_FATAL);
	cr_assert(strstr(g.err, "refused registration") != NULL, "%s", g.err);
	gwlink_free(&g);
}

Test(client_gwlink, garbage_from_the_gateway_closes_the_link)
{
	struct gwlink g;
	struct buf doc = signed_consensus(0x7, 0);
	struct link_cmd c;

	gwlink_init(&g, &as, &ops, true, NULL, 0);
	/* Commands a gateway never sends. */
	c = (struct link_cmd){ .type = LINK_CMD_SEND_PACKET };
	cr_assert_eq(gwlink_on_cmd(&g, &c, NOW_MS), LINK_ERR_TYPE);
	c = (struct link_cmd){ .type = LINK_CMD_REGISTER };
	cr_assert_eq(gwlink_on_cmd(&g, &c, NOW_MS), LINK_ERR_TYPE);
	/* A TIME we did not ask for, a fetch answer without a fetch. */
	cr_assert_eq(gw_time(&g, NOW_MS), LINK_ERR_FIELD);
	c = (struct link_cmd){ .type = LINK_CMD_FETCH_RESPONSE };
	cr_assert_eq(gwlink_on_cmd(&g, &c, NOW_MS), LINK_ERR_FIELD);
	/* Chunks out of order, or longer than announced. */
	gwlink_opened(&g, NOW_MS);
	cr_assert_eq(gw_time(&g, NOW_MS), LINK_OK);
	c = (struct link_cmd){ .type = LINK_CMD_CONSENSUS };
	c.u.consensus.chunk = 1;
	c.u.consensus.nchunks = 2;
	c.u.consensus.total = 10;
	c.u.consensus.data = doc.data;
	c.u.consensus.len = 5;
	cr_assert_eq(gwlink_on_cmd(&g, &c, NOW_MS), LINK_ERR_FIELD);
	c.u.consensus.chunk = 0;
	c.u.consensus.len = 11;
	cr_assert_eq(gwlink_on_cmd(&g, &c, NOW_MS), LINK_ERR_FIELD);
	c.u.consensus.total = DIR_DOC_MAX + 1;
	cr_assert_eq(gwlink_on_cmd(&g, &c, NOW_MS), LINK_ERR_FIELD);
	/* A complete document that is not a consensus. */
	c.u.consensus.nchunks = 1;
	c.u.consensus.total = 5;
	c.u.consensus.len = 5;
	c.u.consensus.data = (const uint8_t *)"hello";
	cr_assert_eq(gwlink_on_cmd(&g, &c, NOW_MS), LINK_OK);
	cr_assert_eq(g.state, GWLINK_FATAL);
	cr_assert(strstr(g.err, "malformed") != NULL, "%s", g.err);
	gwlink_free(&g);
	buf_free(&doc);
}

Test(client_gwlink, reply_queue_created_on_every_connection)
{
	struct gwlink g;
	const uint8_t queue[32] = { 0x42 };

	gwlink_init(&g, &as, &ops, false, NULL, 0);
	g.reply_queue = queue;
	gwlink_opened(&g, NOW_MS);
	cr_assert_eq(gw_error(&g, LINK_OK), LINK_OK); /* registered */
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_QUEUE_CREATE);
	cr_assert_eq(out.cmd[out.n - 1].u.queue.id[0], 0x42);
	cr_assert_str_eq(gwlink_state_name(g.state), "reply queue");
	cr_assert_eq(gw_error(&g, LINK_OK), LINK_OK);
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_TIME);
	/* Next connection: the queue exists already, which is fine. */
	gwlink_closed(&g);
	gwlink_opened(&g, NOW_MS);
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_QUEUE_CREATE);
	cr_assert_eq(gw_error(&g, LINK_ERR_EXISTS), LINK_OK);
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_TIME);
	/* Storage unavailable: close the link, the reconnect asks again. */
	gwlink_closed(&g);
	gwlink_opened(&g, NOW_MS);
	cr_assert_eq(gw_error(&g, LINK_ERR_UNAVAILABLE), LINK_ERR_UNAVAILABLE);
	cr_assert_neq(g.state, GWLINK_FATAL);
	/* The gateway forgot us: register again. */
	gwlink_closed(&g);
	gwlink_opened(&g, NOW_MS);
	cr_assert_eq(gw_error(&g, LINK_ERR_NOT_REGISTERED), LINK_OK);
	cr_assert_eq(out.type[out.n - 1], LINK_CMD_REGISTER);
	/* A quota refusal stops the client with a reason. */
	cr_assert_eq(gw_error(&g, LINK_OK), LINK_OK);
	cr_assert_eq(gw_error(&g, LINK_ERR_QUOTA), LINK_OK);
	cr_assert_eq(g.state, GWLINK_FATAL);
	cr_assert(strstr(g.err, "reply queue") != NULL, "%s", g.err);
	gwlink_free(&g);
}

/* Confirmations wait in a bounded list: beyond it, an id is dropped (the
 * item comes again and is handled again), never written out of bounds. */
Test(client_gwlink, pending_confirmations_are_bounded)
{
	struct gwlink g;
	struct buf doc = signed_consensus(0x7, 0);
	uint8_t d[LINK_ITEM_HDR + 4];
	size_t added = 0;

	gwlink_init(&g, &as, &ops, false, NULL, 0);
	bring_up(&g, &doc);
	cr_assert_eq(g.state, GWLINK_READY, "%s", g.err);
	make_item(d, 2);
	g.confirm_fit = 0; /* a frame with no room for them */
	for (int f = 0; f < 20; f++) {
		out.n = 0;
		cr_assert_eq(gwlink_fetch(&g), 0);
		cr_assert_eq(out.cmd[0].u.fetch.count, 0);
		struct link_cmd r = { .type = LINK_CMD_FETCH_RESPONSE };
		r.u.fetch_resp.seq = out.cmd[0].u.fetch.seq;
		r.u.fetch_resp.count = LINK_FETCH_MAX_ITEMS;
		for (int i = 0; i < LINK_FETCH_MAX_ITEMS; i++) {
			memset(r.u.fetch_resp.items[i].id, 0, LINK_ID_LEN);
			r.u.fetch_resp.items[i].id[0] = (uint8_t)f;
			r.u.fetch_resp.items[i].id[1] = (uint8_t)i;
			r.u.fetch_resp.items[i].data = d;
			r.u.fetch_resp.items[i].len = sizeof(d);
		}
		cr_assert_eq(gwlink_on_cmd(&g, &r, NOW_MS), LINK_OK);
		added += LINK_FETCH_MAX_ITEMS;
	}
	cr_assert_eq(g.confirm_n, GWLINK_CONFIRM_PENDING);
	cr_assert_eq(g.confirm_dropped, added - GWLINK_CONFIRM_PENDING);
	/* Room again: the oldest go first, 32 per fetch. */
	g.confirm_fit = LINK_CONFIRM_MAX;
	out.n = 0;
	cr_assert_eq(gwlink_fetch(&g), 0);
	cr_assert_eq(out.cmd[0].u.fetch.count, LINK_CONFIRM_MAX);
	cr_assert_eq(out.cmd[0].u.fetch.ids[0][0], 0);
	cr_assert_eq(out.cmd[0].u.fetch.ids[0][1], 0);
	gwlink_free(&g);
	buf_free(&doc);
}
