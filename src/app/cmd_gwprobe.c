/*
 * `backchannel gateway-probe --dir DIR --from GW1 --to GW2 [--count N]
 * [--echo M]`: a test client of a running testnet (docs/gateway.md).  A
 * receiver registers at GW2 and creates a queue; a sender registers at GW1,
 * creates its reply queue, and sends N messages over whole routes (GW1, L1,
 * L2, L3, GW2) to the receiver's queue and M packets to GW2's echo service,
 * each with a reply block back to its reply queue at GW1.  Both fetch and
 * confirm on a timer until the receiver holds all N blobs and the sender
 * all N acknowledgements and M echoes (each decrypted with its reply
 * block's token), or 60 s pass.  Exit 0 only if everything came.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"
#include "lib/codec.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "net/evloop.h"
#include "net/link.h"
#include "wire/dir_consensus.h"
#include "wire/service_id.h"
#include "wire/sphinx_surb.h"

#include "dir/fetch.h"

#include "app/command.h"
#include "app/testnet.h"
#include "node/gateway.h"
#include "node/node_config.h"

#define PROBE_MAX 512
#define SURB_HOPS 4

struct probe;

struct side {
	struct probe *pr;
	struct link_mgr *m;
	struct link_conn *conn;
	uint8_t priv[32], pub[32];
	uint8_t queue[32];
	int state; /* 0 connecting, 1 register sent, 2 queue sent, 3 ready */
	bool fetching;
	uint32_t seq;
	size_t got;
};

struct probe {
	struct testnet_state st;
	struct dir_consensus cons;
	struct sphinx_geometry geom;
	const char *dir, *from, *to;
	long count, echo;
	struct side snd, rcv;
	bool sent;
	uint8_t tokens[PROBE_MAX][(SURB_HOPS + 1) * SPHINX_KEY_IV_LEN];
	bool got_blob[PROBE_MAX], got_reply[PROBE_MAX];
	size_t blobs, acks, echoes;
	struct evloop *ev;
	struct evtimer *t;
	int64_t end_ms;
	bool failed, closing;
};

static const struct dir_node *
node_named(struct probe *pr, const char *name)
{
	const struct testnet_proc *p = testnet_find(&pr->st, name);
	uint8_t id[32];
	size_t n = 0;
	if (!p || base64_decode(id, sizeof(id), &n, p->key, strlen(p->key)) ||
	    n != 32)
		return NULL;
	for (size_t i = 0; i < pr->cons.n_nodes; i++)
		if (memcmp(pr->cons.nodes[i].desc.identity, id, 32) == 0)
			return &pr->cons.nodes[i];
	return NULL;
}

static bool
hop(struct probe *pr, struct sphinx_path_hop *h, const struct dir_node *n)
{
	uint64_t e = pr->cons.epoch;
	if (!n || e < n->desc.epoch || e - n->desc.epoch >= DIR_PACKET_KEYS)
		return false;
	memset(h, 0, sizeof(*h));
	memcpy(h->id, n->desc.identity, 32);
	memcpy(h->pub, n->desc.packet_keys[e - n->desc.epoch], 32);
	h->cmds.has_delay = true;
	h->cmds.delay_ms = 5;
	return true;
}

static const struct dir_node *
mix_of_layer(struct probe *pr, uint32_t layer)
{
	size_t n = 0;
	for (size_t i = 0; i < pr->cons.n_nodes; i++)
		n += pr->cons.nodes[i].layer == layer;
	uint32_t k = n ? rand_uniform((uint32_t)n) : 0;
	for (size_t i = 0; i < pr->cons.n_nodes; i++)
		if (pr->cons.nodes[i].layer == layer && k-- == 0)
			return &pr->cons.nodes[i];
	return NULL;
}

/* Packet i: a message (i < count) or an echo, with reply block i. */
static int
build(struct probe *pr, size_t i, uint8_t *pkt)
{
	struct sphinx_path_hop fwd[5], back[SURB_HOPS];
	uint8_t surb[1024], *user = bc_calloc(1, pr->geom.user_len);
	uint8_t *blob = bc_calloc(1, pr->geom.blob_len);
	int rc = -1;
	bool ok = hop(pr, &fwd[0], node_named(pr, pr->from)) &&
		  hop(pr, &fwd[4], node_named(pr, pr->to)) &&
		  hop(pr, &back[3], node_named(pr, pr->from));
	for (uint32_t l = 1; ok && l <= 3; l++)
		ok = hop(pr, &fwd[l], mix_of_layer(pr, l)) &&
		     hop(pr, &back[l - 1], mix_of_layer(pr, l));
	if (!ok || pr->geom.surb_len > sizeof(surb))
		goto done;
	fwd[4].cmds.has_recipient = true;
	memcpy(fwd[4].cmds.recipient_id,
	       i < (size_t)pr->count ? pr->rcv.queue : SERVICE_ID_ECHO, 32);
	back[3].cmds.has_recipient = true;
	memcpy(back[3].cmds.recipient_id, pr->snd.queue, 32);
	back[3].cmds.has_surb_reply = true;
	be32_put(back[3].cmds.surb_id, (uint32_t)i);
	be32_put(blob, (uint32_t)i);
	if (sphinx_surb_create(&pr->geom, back, SURB_HOPS, surb,
			       pr->tokens[i]) != SPHINX_OK ||
	    sphinx_fwd_encode(&pr->geom, user, surb, blob, pr->geom.blob_len) ||
	    sphinx_packet_create(&pr->geom, fwd, 5, user, pr->geom.user_len,
				 pkt, pr->geom.packet_len) != SPHINX_OK)
		goto done;
	rc = 0;
done:
	free(user);
	free(blob);
	return rc;
}

static void
send_all(struct probe *pr)
{
	uint8_t *pkt = bc_malloc(pr->geom.packet_len);
	for (size_t i = 0; i < (size_t)(pr->count + pr->echo); i++) {
		if (build(pr, i, pkt) != 0 ||
		    link_conn_send_packet(pr->snd.conn, pkt,
					  pr->geom.packet_len) != LINK_OK) {
			fprintf(stderr, "probe: packet %zu not sent\n", i);
			pr->failed = true;
			break;
		}
	}
	free(pkt);
	pr->sent = true;
}

/* One fetched item: a blob at the receiver, a reply at the sender. */
static void
take_item(struct side *s, const struct link_item *it)
{
	struct probe *pr = s->pr;
	size_t isz = gateway_item_size(&pr->geom);
	if (it->len != isz)
		return;
	uint8_t *item = bc_memdup(it->data, it->len);
	if (s == &pr->rcv && item[0] == GATEWAY_ITEM_MESSAGE &&
	    memcmp(item + 1, s->queue, LINK_ITEM_TAG_LEN) == 0) {
		/* Counted only with its queue id in the tag. */
		uint32_t i = be32_get(item + GATEWAY_ITEM_HDR);
		if (i < (uint32_t)pr->count && !pr->got_blob[i]) {
			pr->got_blob[i] = true;
			pr->blobs++;
		}
	} else if (s == &pr->snd && item[0] == GATEWAY_ITEM_REPLY) {
		uint32_t i = be32_get(item + 1);
		if (i < (uint32_t)(pr->count + pr->echo) && !pr->got_reply[i] &&
		    sphinx_surb_decrypt(&pr->geom, pr->tokens[i],
					sizeof(pr->tokens[i]),
					item + GATEWAY_ITEM_HDR) == SPHINX_OK) {
			pr->got_reply[i] = true;
			if (i < (uint32_t)pr->count)
				pr->acks++;
			else
				pr->echoes++;
		}
	}
	free(item);
}

static void
on_answer(struct side *s, const struct link_cmd *cmd)
{
	struct probe *pr = s->pr;
	if (cmd->type == LINK_CMD_ERROR && cmd->u.error.code != LINK_OK) {
		fprintf(stderr, "probe: refused: %s\n",
			link_err_str(cmd->u.error.code));
		pr->failed = true;
		return;
	}
	if (s->state == 1) {
		struct link_cmd q = {.type = LINK_CMD_QUEUE_CREATE};
		memcpy(q.u.queue.id, s->queue, 32);
		link_conn_send(s->conn, &q);
		s->state = 2;
	} else if (s->state == 2) {
		s->state = 3;
	} else if (cmd->type == LINK_CMD_FETCH_RESPONSE) {
		struct link_cmd conf = {.type = LINK_CMD_CONFIRM};
		for (size_t i = 0; i < cmd->u.fetch_resp.count; i++) {
			take_item(s, &cmd->u.fetch_resp.items[i]);
			memcpy(conf.u.confirm.ids[i],
			       cmd->u.fetch_resp.items[i].id, LINK_ID_LEN);
		}
		conf.u.confirm.count = cmd->u.fetch_resp.count;
		s->got += conf.u.confirm.count;
		if (conf.u.confirm.count)
			link_conn_send(s->conn, &conf); /* answered by ERROR */
		else
			s->fetching = false;
	} else {
		s->fetching = false; /* the confirm's answer */
	}
}

static enum link_err
p_cmd(struct link_conn *c, const struct link_cmd *cmd, void *ctx)
{
	(void)c;
	if (cmd->type == LINK_CMD_NOOP)
		return LINK_OK;
	on_answer(ctx, cmd);
	return LINK_OK;
}

static void
p_open(struct link_conn *c, void *ctx)
{
	struct side *s = ctx;
	struct link_cmd reg = {.type = LINK_CMD_REGISTER};
	link_conn_send(c, &reg);
	s->state = 1;
}

static void
p_close(struct link_conn *c, const struct link_close_info *i, void *ctx)
{
	struct side *s = ctx;
	(void)c;
	if (s->conn && !s->pr->closing) {
		fprintf(stderr, "probe: link closed: %s\n",
			link_err_str((int)i->why));
		s->pr->failed = true;
	}
	s->conn = NULL;
}

static bool
p_done(const struct probe *pr)
{
	return pr->blobs == (size_t)pr->count &&
	       pr->acks == (size_t)pr->count && pr->echoes == (size_t)pr->echo;
}

static void
on_tick(void *ctx)
{
	struct probe *pr = ctx;
	if (pr->failed || p_done(pr) || time_mono_ms() > pr->end_ms) {
		evloop_stop(pr->ev);
		return;
	}
	if (!pr->sent && pr->snd.state == 3 && pr->rcv.state == 3)
		send_all(pr);
	struct side *sides[2] = {&pr->snd, &pr->rcv};
	for (size_t k = 0; pr->sent && k < 2; k++) {
		struct side *s = sides[k];
		if (s->fetching || !s->conn)
			continue;
		struct link_cmd f = {.type = LINK_CMD_FETCH};
		f.u.fetch.seq = ++s->seq;
		s->fetching = link_conn_send(s->conn, &f) == LINK_OK;
	}
}

static int
side_start(struct probe *pr, struct side *s, const char *name)
{
	const struct dir_node *n = node_named(pr, name);
	char host[64];
	uint16_t port;
	if (!n || node_addr_split(n->desc.address, host, sizeof(host), &port))
		return -1;
	s->pr = pr;
	x25519_keypair(s->pub, s->priv);
	rand_bytes(s->queue, 32);
	struct link_cfg lc = {
	    .static_priv = s->priv,
	    .packet_len = pr->geom.packet_len,
	    .role = LINK_ROLE_CLIENT,
	    .on_open = p_open,
	    .on_cmd = p_cmd,
	    .on_close = p_close,
	    .queue_frames = 1024,
	    .ctx = s,
	};
	s->m = link_mgr_new(evloop_uv(pr->ev), &lc);
	if (!s->m)
		return -1;
	s->conn = link_mgr_connect(s->m, host, port, n->desc.link_key, false);
	return s->conn ? 0 : -1;
}

static int
probe_run(struct probe *pr)
{
	size_t len = 0, bl;
	char err[256], *text = NULL;
	int rc = 1;
	if (testnet_state_load(pr->dir, &pr->st) != 0 || dir_http_init() ||
	    !(text = testnet_consensus(&pr->st, &len)) ||
	    dir_consensus_parse(text, len, &pr->cons, &bl, err, sizeof(err)) ||
	    sphinx_geometry_forward(&pr->geom, pr->cons.params.hops,
				    pr->cons.params.blob_len, true) != 0) {
		fprintf(stderr, "probe: no running testnet in %s\n", pr->dir);
		goto done;
	}
	pr->ev = evloop_new();
	if (side_start(pr, &pr->snd, pr->from) != 0 ||
	    side_start(pr, &pr->rcv, pr->to) != 0) {
		fprintf(stderr, "probe: unknown gateway name\n");
		goto done;
	}
	pr->end_ms = time_mono_ms() + 60000;
	pr->t = evtimer_new(pr->ev, on_tick, pr);
	evtimer_start(pr->t, 100, 100);
	evloop_run(pr->ev);
	printf("probe: %zu of %ld blobs fetched and confirmed at %s, %zu of "
	       "%ld acknowledgements and %zu of %ld echoes back at %s\n",
	       pr->blobs, pr->count, pr->to, pr->acks, pr->count, pr->echoes,
	       pr->echo, pr->from);
	rc = p_done(pr) ? 0 : 1;
done:
	pr->closing = true;
	if (pr->ev) {
		link_mgr_close(pr->snd.m, NULL, NULL);
		link_mgr_close(pr->rcv.m, NULL, NULL);
		evloop_free(pr->ev);
	}
	free(text);
	dir_consensus_clear(&pr->cons);
	return rc;
}

static int
cmd_gwprobe(int argc, char **argv)
{
	static struct probe pr;
	memset(&pr, 0, sizeof(pr));
	pr.count = 10;
	pr.echo = 10;
	log_init("probe", LOG_LVL_WARN);
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (!strcmp(a, "--dir"))
			pr.dir = v;
		else if (!strcmp(a, "--from"))
			pr.from = v;
		else if (!strcmp(a, "--to"))
			pr.to = v;
		else if (!strcmp(a, "--count"))
			pr.count = strtol(v, NULL, 10);
		else if (!strcmp(a, "--echo"))
			pr.echo = strtol(v, NULL, 10);
	}
	if (command_wants_help(argc, argv) || !pr.dir || !pr.from || !pr.to ||
	    argc % 2 == 0 || pr.count < 0 || pr.echo < 0 ||
	    pr.count + pr.echo > PROBE_MAX || pr.count + pr.echo == 0) {
		fprintf(stderr, "usage: backchannel gateway-probe --dir DIR "
				"--from GW1 --to GW2 [--count N] [--echo M]\n"
				"(N + M <= 512; a test client of a running "
				"testnet, docs/gateway.md)\n");
		return command_wants_help(argc, argv) ? 0 : EXIT_USAGE;
	}
	return probe_run(&pr);
}

static const struct command command_gwprobe = {
    "gateway-probe", "test client: messages, acks and echoes via gateways",
    cmd_gwprobe};

__attribute__((constructor)) static void
command_reg_gwprobe(void)
{
	command_register(&command_gwprobe);
}
