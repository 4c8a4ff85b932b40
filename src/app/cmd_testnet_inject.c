/*
 * `backchannel testnet inject`: sends test packets into a running testnet,
 * as a client of a gateway or (with --as) as one of the network's own
 * nodes, for the network tests: real packets over whole routes, replays of
 * saved packets, bit-flipped packets, and floods of random bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/codec.h"
#include "lib/keyfile.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "net/evloop.h"
#include "net/link.h"
#include "wire/dir_consensus.h"
#include "wire/sphinx_packet.h"

#include "dir/fetch.h"
#include "dir/keysched.h"

#include "app/command.h"
#include "app/testnet.h"
#include "node/node_config.h"

struct inj {
	const char *dir, *from, *to, *as, *via, *avoid, *save, *replay;
	long count, delay_ms, duration_s;
	bool garbage, flip;
	bool await_reg; /* a client waits for its REGISTER's answer */
	struct testnet_state st;
	struct dir_consensus cons;
	struct sphinx_geometry geom;
	uint8_t *pkts; /* count packets, prepared before connecting */
	long sent;
	int64_t end_ms;
	struct evloop *ev;
	struct evtimer *t;
	struct link_conn *conn;
	bool open, closed, failed;
};

static void
usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: backchannel testnet inject --dir DIR --from NODE "
	    "[--to GATEWAY] [options]\n\n"
	    "Sends packets into NODE as a client (NODE a gateway) or as "
	    "the node named by\n--as (its link key). Real packets take "
	    "the route NODE, L1, L2, L3, GATEWAY.\n"
	    "  --count N        packets (default 1)\n"
	    "  --delay MS       per-hop delay in each packet (default 5)\n"
	    "  --via MIX        route through this mix at its layer\n"
	    "  --avoid MIX      never route through this mix\n"
	    "  --save FILE      also write the packets sent to FILE\n"
	    "  --replay FILE    send the packets saved in FILE instead\n"
	    "  --flip           flip one random bit in each packet\n"
	    "  --garbage        random bytes (valid version field) instead of "
	    "packets\n"
	    "  --duration S     with --garbage: keep sending for S "
	    "seconds\n");
}

static const struct dir_node *
node_by_name(struct inj *in, const char *name)
{
	const struct testnet_proc *p = testnet_find(&in->st, name);
	uint8_t id[32];
	size_t n = 0;
	if (!p ||
	    base64_decode(id, sizeof(id), &n, p->key, strlen(p->key)) != 0 ||
	    n != 32)
		return NULL;
	for (size_t i = 0; i < in->cons.n_nodes; i++)
		if (memcmp(in->cons.nodes[i].desc.identity, id, 32) == 0)
			return &in->cons.nodes[i];
	return NULL;
}

static bool
hop_set(struct inj *in, struct sphinx_path_hop *h, const struct dir_node *n)
{
	uint64_t e = in->cons.epoch;
	if (e < n->desc.epoch || e - n->desc.epoch >= DIR_PACKET_KEYS)
		return false;
	memset(h, 0, sizeof(*h));
	memcpy(h->id, n->desc.identity, 32);
	memcpy(h->pub, n->desc.packet_keys[e - n->desc.epoch], 32);
	h->cmds.has_delay = true;
	h->cmds.delay_ms = (uint32_t)in->delay_ms;
	return true;
}

static bool
usable(const struct dir_node *n, uint32_t layer, const struct dir_node *avoid)
{
	return n->layer == layer && n->desc.role == DIR_ROLE_MIX && n != avoid;
}

static const struct dir_node *
pick_layer(struct inj *in, uint32_t layer, const struct dir_node *via)
{
	const struct dir_node *avoid =
	    in->avoid ? node_by_name(in, in->avoid) : NULL;
	if (via && via->layer == layer)
		return via;
	size_t n = 0;
	for (size_t i = 0; i < in->cons.n_nodes; i++)
		n += usable(&in->cons.nodes[i], layer, avoid);
	uint32_t k = n ? rand_uniform((uint32_t)n) : 0;
	for (size_t i = 0; i < in->cons.n_nodes; i++)
		if (usable(&in->cons.nodes[i], layer, avoid) && k-- == 0)
			return &in->cons.nodes[i];
	return NULL;
}

static int
build_one(struct inj *in, uint8_t *pkt)
{
	struct sphinx_path_hop path[5];
	const struct dir_node *from = node_by_name(in, in->from);
	const struct dir_node *to = in->to ? node_by_name(in, in->to) : NULL;
	const struct dir_node *via = in->via ? node_by_name(in, in->via) : NULL;
	if (!from || !to || (in->via && !via))
		return -1;
	if (!hop_set(in, &path[0], from) || !hop_set(in, &path[4], to))
		return -1;
	for (uint32_t l = 1; l <= 3; l++) {
		const struct dir_node *m = pick_layer(in, l, via);
		if (!m || !hop_set(in, &path[l], m))
			return -1;
	}
	path[4].cmds.has_recipient = true;
	rand_bytes(path[4].cmds.recipient_id, 32);
	uint8_t blob[32];
	rand_bytes(blob, sizeof(blob));
	if (sphinx_packet_create(&in->geom, path, 5, blob, sizeof(blob), pkt,
				 in->geom.packet_len) != SPHINX_OK)
		return -1;
	if (in->flip) {
		size_t bit = rand_uniform((uint32_t)(in->geom.packet_len * 8));
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	return 0;
}

/* Random bytes behind a valid version field: each one costs a mix its
 * public-key work before the MAC fails, as an attacker's flood would. */
static void
garbage(uint8_t *p, size_t len)
{
	rand_bytes(p, len);
	p[0] = 0;
	p[1] = 0;
}

static int
prepare(struct inj *in)
{
	size_t len = in->geom.packet_len;
	if (in->replay) {
		FILE *f = fopen(in->replay, "rb");
		if (!f)
			return -1;
		in->pkts = bc_malloc(len * 100000);
		size_t n = fread(in->pkts, len, 100000, f);
		fclose(f);
		in->count = (long)n;
		return n ? 0 : -1;
	}
	in->pkts = bc_malloc(len * (size_t)(in->count ? in->count : 1));
	for (long i = 0; i < in->count; i++) {
		uint8_t *p = in->pkts + (size_t)i * len;
		if (in->garbage)
			garbage(p, len);
		else if (build_one(in, p) != 0)
			return -1;
	}
	if (in->save) {
		FILE *f = fopen(in->save, "wb");
		if (!f || fwrite(in->pkts, len, (size_t)in->count, f) !=
			      (size_t)in->count) {
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
	}
	return 0;
}

static void
pump(struct inj *in)
{
	size_t len = in->geom.packet_len;
	bool flood = in->duration_s > 0;
	if (in->await_reg)
		return;
	while (in->open &&
	       (flood ? time_mono_ms() < in->end_ms : in->sent < in->count)) {
		const uint8_t *p =
		    in->pkts + (size_t)(in->sent % in->count) * len;
		if (flood)
			garbage(in->pkts, len);
		enum link_err e = link_conn_send_packet(in->conn, p, len);
		if (e == LINK_ERR_QUEUE)
			return; /* on_writable brings us back */
		if (e != LINK_OK) {
			in->failed = true;
			break;
		}
		in->sent++;
	}
	/* Done: close once the write queue has drained (see on_tick). */
}

static void
on_tick(void *ctx)
{
	struct inj *in = ctx;
	bool flood = in->duration_s > 0;
	bool done =
	    flood ? time_mono_ms() >= in->end_ms : in->sent >= in->count;
	if (in->open && !done)
		pump(in);
	if (in->closed || time_mono_ms() > in->end_ms + 30000) {
		evloop_stop(in->ev);
		return;
	}
	if (in->open && (done || in->failed) &&
	    link_conn_queued(in->conn) == 0) {
		link_conn_close(in->conn, LINK_OK);
		in->open = false;
	}
}

static void
i_open(struct link_conn *c, void *ctx)
{
	struct inj *in = ctx;
	in->open = true;
	if (!in->as) {
		/* A client's packets pass its gateway once it has an account
		 * (open admission in the test network).  Waiting for the
		 * answer also means no answer can arrive after we close,
		 * which would reset the connection and lose unread packets. */
		struct link_cmd reg = {.type = LINK_CMD_REGISTER};
		in->await_reg = link_conn_send(c, &reg) == LINK_OK;
	}
	if (!in->await_reg)
		pump(in);
}

static enum link_err
i_cmd(struct link_conn *c, const struct link_cmd *cmd, void *ctx)
{
	struct inj *in = ctx;
	(void)c;
	if (in->await_reg && cmd->type == LINK_CMD_ERROR) {
		in->await_reg = false;
		if (cmd->u.error.code != LINK_OK)
			fprintf(stderr, "inject: register: %s\n",
				link_err_str(cmd->u.error.code));
		pump(in);
	}
	return LINK_OK;
}

static void
i_close(struct link_conn *c, const struct link_close_info *i, void *ctx)
{
	struct inj *in = ctx;
	(void)c;
	if (!i->was_open || i->why != LINK_OK)
		fprintf(stderr, "inject: link closed: %s\n",
			link_err_str((int)i->why));
	in->open = false;
	in->closed = true;
}

static void
i_writable(struct link_conn *c, void *ctx)
{
	(void)c;
	pump(ctx);
}

static int
connect_and_send(struct inj *in, const uint8_t *priv)
{
	const struct dir_node *target = node_by_name(in, in->from);
	char host[64];
	uint16_t port;
	if (!target || node_addr_split(target->desc.address, host, sizeof(host),
				       &port) != 0)
		return -1;
	struct link_cfg lc = {
	    .static_priv = priv,
	    .packet_len = in->geom.packet_len,
	    .role = in->as ? LINK_ROLE_NODE : LINK_ROLE_CLIENT,
	    .on_open = i_open,
	    .on_cmd = i_cmd,
	    .on_close = i_close,
	    .on_writable = i_writable,
	    .queue_frames = 1024,
	    .ctx = in,
	};
	in->ev = evloop_new();
	struct link_mgr *m = link_mgr_new(evloop_uv(in->ev), &lc);
	if (!m)
		return -1;
	in->conn =
	    link_mgr_connect(m, host, port, target->desc.link_key, false);
	in->end_ms =
	    time_mono_ms() + (in->duration_s ? in->duration_s * 1000 : 20000);
	in->t = evtimer_new(in->ev, on_tick, in);
	evtimer_start(in->t, 10, 10);
	evloop_run(in->ev);
	link_mgr_close(m, NULL, NULL);
	evloop_free(in->ev);
	return in->conn ? 0 : -1;
}

static int
inject_run(struct inj *in)
{
	size_t len = 0;
	int rc = 1;
	uint8_t *priv = secret_alloc(32);
	char *text = NULL;
	if (testnet_state_load(in->dir, &in->st) != 0 || dir_http_init() != 0 ||
	    !(text = testnet_consensus(&in->st, &len))) {
		fprintf(stderr,
			"inject: no running testnet or consensus in "
			"%s\n",
			in->dir);
		goto done;
	}
	size_t bl;
	char err[256];
	if (dir_consensus_parse(text, len, &in->cons, &bl, err, sizeof(err)) ||
	    sphinx_geometry_forward(&in->geom, in->cons.params.hops,
				    in->cons.params.blob_len, true) != 0)
		goto done;
	if (in->as) {
		char path[600];
		snprintf(path, sizeof(path), "%s/%s/link.key", in->dir, in->as);
		if (keyfile_read_private(path, "x25519", priv, 32, err,
					 sizeof(err)) != 0) {
			fprintf(stderr, "inject: %s\n", err);
			goto done;
		}
	} else {
		uint8_t pub[32];
		x25519_keypair(pub, priv);
	}
	if (prepare(in) != 0) {
		fprintf(stderr, "inject: cannot prepare the packets (names? "
				"route?)\n");
		goto done;
	}
	if (connect_and_send(in, priv) != 0 || in->failed)
		goto done;
	printf("inject: sent %ld packets to %s\n", in->sent, in->from);
	rc = in->sent >= in->count ? 0 : 1;
done:
	SECRET_FREE(priv);
	free(text);
	free(in->pkts);
	dir_consensus_clear(&in->cons);
	return rc;
}

int
testnet_inject(int argc, char **argv)
{
	static struct inj in;
	memset(&in, 0, sizeof(in));
	in.count = 1;
	in.delay_ms = 5;
	if (command_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	log_init("inject", LOG_LVL_WARN);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **s = NULL;
		long *n = NULL;
		if (strcmp(a, "--flip") == 0) {
			in.flip = true;
			continue;
		}
		if (strcmp(a, "--garbage") == 0) {
			in.garbage = true;
			continue;
		}
		s = !strcmp(a, "--dir")      ? &in.dir
		    : !strcmp(a, "--from")   ? &in.from
		    : !strcmp(a, "--to")     ? &in.to
		    : !strcmp(a, "--as")     ? &in.as
		    : !strcmp(a, "--via")    ? &in.via
		    : !strcmp(a, "--avoid")  ? &in.avoid
		    : !strcmp(a, "--save")   ? &in.save
		    : !strcmp(a, "--replay") ? &in.replay
					     : NULL;
		n = !strcmp(a, "--count")      ? &in.count
		    : !strcmp(a, "--delay")    ? &in.delay_ms
		    : !strcmp(a, "--duration") ? &in.duration_s
					       : NULL;
		if (!v || (!s && !n)) {
			fprintf(stderr, "inject: bad argument '%s'\n", a);
			return EXIT_USAGE;
		}
		if (s)
			*s = v;
		else if ((*n = strtol(v, NULL, 10)) < 0 || *n > 1000000)
			return EXIT_USAGE;
		i++;
	}
	if (!in.dir || !in.from || (!in.garbage && !in.replay && !in.to)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (in.duration_s)
		in.count = 1;
	return inject_run(&in);
}
