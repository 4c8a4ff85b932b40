/*
 * The node daemon: wires the directory, the key schedule, links, the
 * pipeline, mix loops and metrics together.  See node.h and docs/node.md.
 */
#include "node/node.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/codec.h"
#include "lib/keyfile.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "net/evloop.h"
#include "net/link.h"
#include "net/metrics_http.h"
#include "store/replay.h"
#include "wire/link_frame.h"

#include "dir/fetch.h"

#include "node/gateway.h"
#include "node/gateway_link.h"
#include "node/node_internal.h"
#include "node/pipeline.h"

static void
render_metrics(void *ctx, struct buf *out)
{
	metrics_render(ctx, out);
}

uint64_t
node_current_epoch(const struct node_daemon *d)
{
	return dir_epoch_at((uint64_t)d->cfg->genesis,
			    (uint32_t)(d->cfg->epoch_length_ms / 1000),
			    time_wall_s());
}

static int
peer_cmp(const void *key, const void *elem)
{
	const struct node_peer *p = elem;
	return memcmp(key, p->id, NODE_ID_LEN);
}

struct node_peer *
node_peer_find(struct node_daemon *d, const uint8_t id[NODE_ID_LEN])
{
	if (!d->peers)
		return NULL;
	return bsearch(id, d->peers, d->n_peers, sizeof(*d->peers), peer_cmp);
}

/* ---- keys ---------------------------------------------------------- */

static int
load_keys(struct node_daemon *d, char *err, size_t errlen)
{
	int rc = -1;
	char *link_path = node_config_path(d->cfg, d->cfg->link_key);
	char *id_path = node_config_path(d->cfg, d->cfg->identity_key);
	struct secret32 *seed = secret32_new();
	uint8_t *sk = secret_alloc(ED25519_SECRET_LEN);
	d->link_priv = secret_alloc(32);
	if (keyfile_read_private(link_path, "x25519", d->link_priv, 32, err,
				 errlen) != 0)
		goto done;
	x25519_base(d->link_pub, d->link_priv);
	if (keyfile_read_private(id_path, "ed25519", seed->b, 32, err,
				 errlen) != 0)
		goto done;
	ed25519_keypair_from_seed(d->id, sk, seed->b);
	rc = 0;
done:
	SECRET_FREE(seed);
	SECRET_FREE(sk);
	free(link_path);
	free(id_path);
	return rc;
}

/* ---- directory thread ---------------------------------------------- */

/* apply_keys hands every key the schedule holds to the pipeline. */
_Static_assert(PIPELINE_MAX_KEYS >= KEYSCHED_SLOTS,
	       "the pipeline must hold every key the schedule holds");

/* Copies the keys the schedule holds into the hand-off (under dir_lock). */
static void
handoff_keys(struct node_daemon *d)
{
	struct node_dir_handoff *h = &d->ho;
	size_t n = 0;
	const struct keysched *ks = node_dir_keys(d->nd);
	for (size_t i = 0; i < KEYSCHED_SLOTS; i++) {
		const struct keysched_key *k = &ks->keys[i];
		if (!k->used)
			continue;
		if (!h->key_priv[n])
			h->key_priv[n] = secret32_new();
		memcpy(h->key_priv[n]->b, k->priv->b, 32);
		h->key_epoch[n++] = k->epoch;
	}
	h->n_keys = n;
	h->new_keys = true; /* the loop compares with what it holds */
}

static void
dir_round(struct node_daemon *d)
{
	char err[256];
	struct buf cons;
	buf_init(&cons);
	int64_t now = time_wall_s();
	/* The step also brings the key schedule up to date (a failure there
	 * is logged by it); handoff_keys reads it on this thread. */
	enum node_dir_status st = node_dir_step(d->nd, now, err, sizeof(err));
	bool have = node_dir_current(d->nd, &cons);
	pthread_mutex_lock(&d->dir_lock);
	if (st == NODE_DIR_FATAL) {
		d->ho.fatal = true;
		snprintf(d->ho.fatal_msg, sizeof(d->ho.fatal_msg), "%s", err);
	}
	handoff_keys(d);
	if (have && (cons.len != d->ho.consensus.len ||
		     memcmp(cons.data, d->ho.consensus.data, cons.len) != 0)) {
		buf_reset(&d->ho.consensus);
		buf_append(&d->ho.consensus, cons.data, cons.len);
		d->ho.new_consensus = true;
	}
	pthread_mutex_unlock(&d->dir_lock);
	buf_free(&cons);
	evwake_send(d->dir_wake);
}

static void *
dir_main(void *arg)
{
	struct node_daemon *d = arg;
	for (;;) {
		dir_round(d);
		pthread_mutex_lock(&d->dir_lock);
		int64_t until = time_mono_ms() + d->cfg->dir_step_ms;
		while (!d->dir_stop && time_mono_ms() < until) {
			pthread_mutex_unlock(&d->dir_lock);
			time_sleep_ms(50);
			pthread_mutex_lock(&d->dir_lock);
		}
		bool stop = d->dir_stop || d->ho.fatal;
		pthread_mutex_unlock(&d->dir_lock);
		if (stop)
			return NULL;
	}
}

static int
dir_start(struct node_daemon *d, char *err, size_t errlen)
{
	const struct node_config *c = d->cfg;
	char *key_dir = node_config_path(c, "packet-keys");
	char *id_path = node_config_path(c, c->identity_key);
	struct node_dir_config nc = {
	    .authorities = c->authorities,
	    .genesis = (uint64_t)c->genesis,
	    .epoch_len = (uint32_t)(c->epoch_length_ms / 1000),
	    .grace = (uint32_t)(c->grace_ms / 1000),
	    .identity_key = id_path,
	    .key_dir = key_dir,
	    .address = c->address[0] ? c->address : c->listen,
	    .role = c->role == NODE_ROLE_MIX ? DIR_ROLE_MIX : DIR_ROLE_GATEWAY,
	    .services = c->role == NODE_ROLE_GATEWAY
			    ? DIR_SERVICE_ECHO | DIR_SERVICE_DROP
			    : 0,
	    .version = BC_VERSION,
	};
	memcpy(nc.link_key, d->link_pub, 32);
	int rc = -1;
	if (dir_http_init() != 0) {
		snprintf(err, errlen, "cannot initialise HTTP");
		goto done;
	}
	d->nd = node_dir_open(&nc, err, errlen);
	if (!d->nd)
		goto done;
	buf_init(&d->ho.consensus);
	if (pthread_create(&d->dir_thread, NULL, dir_main, d) != 0) {
		snprintf(err, errlen, "cannot start the directory thread");
		goto done;
	}
	d->dir_started = true;
	rc = 0;
done:
	free(key_dir);
	free(id_path);
	return rc;
}

static void
dir_stop(struct node_daemon *d)
{
	if (d->dir_started) {
		pthread_mutex_lock(&d->dir_lock);
		d->dir_stop = true;
		pthread_mutex_unlock(&d->dir_lock);
		pthread_join(d->dir_thread, NULL);
		d->dir_started = false;
	}
	node_dir_free(d->nd);
	d->nd = NULL;
	buf_free(&d->ho.consensus);
	for (size_t i = 0; i < KEYSCHED_SLOTS; i++)
		SECRET_FREE(d->ho.key_priv[i]);
}

/* ---- links --------------------------------------------------------- */

static bool
is_node_key(const struct node_daemon *d, const uint8_t key[32])
{
	for (size_t i = 0; i < d->n_peers; i++)
		if (memcmp(d->peers[i].link_key, key, 32) == 0)
			return true;
	return false;
}

static bool
link_auth(void *ctx, const uint8_t key[32])
{
	struct node_daemon *d = ctx;
	/* Mixes take links only from nodes of the consensus; a gateway
	 * also from clients its admission policy lets in. */
	if (is_node_key(d, key))
		return true;
	return d->gw && gateway_client_admit(d->gw, key, NULL);
}

static void
link_open(struct link_conn *c, void *ctx)
{
	struct node_daemon *d = ctx;
	(void)c;
	metric_counter_inc(d->links_opened);
	metric_gauge_add(d->links_open, 1);
}

static void
link_close(struct link_conn *c, const struct link_close_info *i, void *ctx)
{
	struct node_daemon *d = ctx;
	struct node_peer *p = link_conn_user(c);
	if (i->was_open) {
		metric_counter_inc(d->links_closed);
		metric_gauge_add(d->links_open, -1);
	}
	if (p && !i->retrying && p->conn == c)
		p->conn = NULL;
	if (!p && d->gl)
		gateway_link_close(d->gl, c);
	if (p && i->was_open)
		log_info("link to %s closed: %s", p->label,
			 link_err_str((int)i->why));
}

/* A link's share of the inbox is by connection: the top bits of a
 * multiplicative hash of its address pick one of PIPELINE_SOURCES. */
static uint32_t
link_source(const struct link_conn *c)
{
	uint32_t h = (uint32_t)((uintptr_t)c >> 4) * 2654435761u;
	return 1 + (h >> 26);
}

static enum link_err
link_cmd(struct link_conn *c, const struct link_cmd *cmd, void *ctx)
{
	struct node_daemon *d = ctx;
	/* At a gateway every key outside the consensus is a client, whatever
	 * role it announces: no unregistered or unlimited sender. */
	if (d->gl && (link_conn_peer_role(c) == LINK_ROLE_CLIENT ||
		      !is_node_key(d, link_conn_peer_key(c)))) {
		bool submit = false;
		enum link_err e = gateway_link_cmd(d->gl, c, cmd, &submit);
		if (submit && d->pl)
			pipeline_submit_from(d->pl, link_source(c),
					     cmd->u.packet.data,
					     cmd->u.packet.len);
		return e;
	}
	switch (cmd->type) {
	case LINK_CMD_SEND_PACKET:
		if (d->cfg->role == NODE_ROLE_MIX &&
		    link_conn_peer_role(c) != LINK_ROLE_NODE)
			return LINK_ERR_STATE;
		if (d->pl)
			pipeline_submit_from(d->pl, link_source(c),
					     cmd->u.packet.data,
					     cmd->u.packet.len);
		return LINK_OK;
	case LINK_CMD_NOOP:
		return LINK_OK;
	case LINK_CMD_FETCH:
	case LINK_CMD_FETCH_RESPONSE:
	case LINK_CMD_CONFIRM:
	case LINK_CMD_REGISTER:
	case LINK_CMD_GET_CONSENSUS:
	case LINK_CMD_CONSENSUS:
	case LINK_CMD_TIME:
	case LINK_CMD_DISCONNECT:
	case LINK_CMD_ERROR:
	case LINK_CMD_QUEUE_CREATE:
	case LINK_CMD_QUEUE_DELETE:
		break;
	}
	/* Mailbox commands belong to the gateway's client side (issue 7). */
	return LINK_ERR_STATE;
}

static int
links_start(struct node_daemon *d, char *err, size_t errlen)
{
	struct link_cfg lc = {
	    .static_priv = d->link_priv,
	    .packet_len = d->geom.packet_len,
	    .role = LINK_ROLE_NODE,
	    .auth = link_auth,
	    .on_open = link_open,
	    .on_cmd = link_cmd,
	    .on_close = link_close,
	    .ctx = d,
	    .queue_frames = 1024,
	    .backoff_min_ms = 200,
	    .backoff_max_ms = 5000,
	};
	char host[64];
	uint16_t port;
	d->links = link_mgr_new(evloop_uv(d->ev), &lc);
	if (!d->links) {
		snprintf(err, errlen, "links: bad configuration");
		return -1;
	}
	if (node_addr_split(d->cfg->listen, host, sizeof(host), &port) != 0 ||
	    link_mgr_listen(d->links, host, port, &d->listen_port) != 0) {
		snprintf(err, errlen, "[node] listen: cannot listen on %s",
			 d->cfg->listen);
		return -1;
	}
	log_notice("links: listening on %s", d->cfg->listen);
	return 0;
}

/* ---- consensus ----------------------------------------------------- */

static void
peer_metrics(struct node_daemon *d, struct node_peer *p)
{
	const char *k = "hop";
	p->loops_sent =
	    metrics_counter(d->mx, "bc_loops_sent_total",
			    "mix loops sent, by first hop", k, p->label);
	p->loops_back =
	    metrics_counter(d->mx, "bc_loops_returned_total",
			    "mix loops returned, by first hop", k, p->label);
	p->loops_lost = metrics_counter(d->mx, "bc_loops_lost_total",
					"mix loops not back in time, by first "
					"hop",
					k, p->label);
	p->loop_ratio = metrics_gauge(d->mx, "bc_loop_return_ratio",
				      "returned / sent mix loops, by first hop",
				      k, p->label);
	p->no_route = metrics_counter(d->mx, "bc_next_hop_failures_total",
				      "packets not sent: link to the next hop "
				      "down or full",
				      k, p->label);
}

static void
peer_connect(struct node_daemon *d, struct node_peer *p)
{
	char host[64];
	uint16_t port;
	if (p->self)
		return;
	if (node_addr_split(p->addr, host, sizeof(host), &port) != 0) {
		log_warn("node %s: unusable address", p->label);
		return;
	}
	p->conn = link_mgr_connect(d->links, host, port, p->link_key, true);
	if (p->conn)
		link_conn_set_user(p->conn, p);
}

/* Rebuilds the peer table from cons, keeping links whose far end did not
 * change, closing links to nodes that left, dialling new ones. */
static void
peers_update(struct node_daemon *d, const struct dir_consensus *cons)
{
	struct node_peer *np =
	    bc_calloc(cons->n_nodes ? cons->n_nodes : 1, sizeof(*np));
	for (size_t i = 0; i < cons->n_nodes; i++) {
		const struct dir_node *n = &cons->nodes[i];
		struct node_peer *p = &np[i];
		memcpy(p->id, n->desc.identity, NODE_ID_LEN);
		memcpy(p->link_key, n->desc.link_key, 32);
		memcpy(p->packet_keys, n->desc.packet_keys,
		       sizeof(p->packet_keys));
		p->keys_epoch = n->desc.epoch;
		memcpy(p->addr, n->desc.address, sizeof(p->addr));
		p->layer = n->layer;
		p->role = n->desc.role;
		p->self = memcmp(p->id, d->id, NODE_ID_LEN) == 0;
		hex_encode(p->label, sizeof(p->label), p->id, 8);
		peer_metrics(d, p);
		struct node_peer *old = node_peer_find(d, p->id);
		if (old && old->conn &&
		    memcmp(old->link_key, p->link_key, 32) == 0 &&
		    strcmp(old->addr, p->addr) == 0) {
			p->conn = old->conn;
			link_conn_set_user(p->conn, p);
			old->conn = NULL;
		}
	}
	for (size_t i = 0; i < d->n_peers; i++) {
		struct node_peer *old = &d->peers[i];
		if (old->conn) {
			link_conn_set_user(old->conn, NULL);
			link_conn_close(old->conn, LINK_OK);
		}
	}
	free(d->peers);
	d->peers = np;
	d->n_peers = cons->n_nodes;
	for (size_t i = 0; i < d->n_peers; i++)
		if (!np[i].conn)
			peer_connect(d, &np[i]);
}

static void on_drain_wake(void *ctx);
static void on_final(void *ctx, const struct sphinx_unwrap_result *res,
		     const uint8_t *pkt, size_t len);

static void
pipeline_wake(void *ctx)
{
	struct node_daemon *d = ctx;
	evwake_send(d->drain_wake);
}

static int
first_consensus(struct node_daemon *d, const struct dir_consensus *c)
{
	char err[256];
	if (sphinx_geometry_forward(&d->geom, c->params.hops,
				    c->params.blob_len, true) != 0) {
		log_err("consensus: unusable packet geometry");
		return -1;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct pipeline_cfg pc = {
	    .geom = d->geom,
	    .workers = d->cfg->workers ? (size_t)d->cfg->workers
				       : (size_t)(cores > 0 ? cores : 1),
	    .queue_capacity = (size_t)d->cfg->queue_capacity,
	    .max_delay_ms = c->params.max_delay_ms,
	    .inline_unwrap = true,
	    .replay = d->rs,
	    .metrics = d->mx,
	    .wake = pipeline_wake,
	    .on_final = on_final,
	    .ctx = d,
	};
	d->pl = pipeline_new(&pc);
	if (!d->pl)
		return -1;
	if (d->cfg->role == NODE_ROLE_GATEWAY && node_gateway_start(d, c) != 0)
		return -1;
	if (links_start(d, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return -1;
	}
	log_notice("node: first consensus (epoch %llu, %zu nodes); %zu "
		   "workers, %zu-byte packets",
		   (unsigned long long)c->epoch, c->n_nodes, pc.workers,
		   d->geom.packet_len);
	return 0;
}

static void
apply_consensus(struct node_daemon *d, const struct buf *text)
{
	struct dir_consensus c;
	char err[256];
	size_t body_len;
	memset(&c, 0, sizeof(c));
	if (dir_consensus_parse((const char *)text->data, text->len, &c,
				&body_len, err, sizeof(err)) != 0) {
		log_err("consensus: %s", err);
		return;
	}
	if (!d->have_consensus) {
		if (first_consensus(d, &c) != 0) {
			dir_consensus_clear(&c);
			d->exit_status = 1;
			evloop_stop(d->ev);
			return;
		}
		d->have_consensus = true;
		if (d->cfg->role == NODE_ROLE_MIX)
			node_loops_start(d);
	} else if (c.params.hops != d->cons.params.hops ||
		   c.params.blob_len != d->cons.params.blob_len) {
		log_err("consensus: packet geometry changed; restart needed");
	}
	pipeline_set_max_delay(d->pl, c.params.max_delay_ms);
	node_gateway_consensus(d, &c, text->data, text->len);
	peers_update(d, &c);
	dir_consensus_clear(&d->cons);
	d->cons = c;
	log_info("consensus: epoch %llu, %zu nodes",
		 (unsigned long long)c.epoch, c.n_nodes);
}

static void
apply_keys(struct node_daemon *d, const uint64_t *epochs,
	   struct secret32 *const *privs, size_t n)
{
	/* Erase first: the schedule's slots and the pipeline's are the same
	 * number, so the new key needs the old one's place. */
	for (size_t j = 0; j < d->n_pl_epochs; j++) {
		bool keep = false;
		for (size_t i = 0; i < n; i++)
			keep |= d->pl_epochs[j] == epochs[i];
		if (!keep) {
			/* Grace over: the key and its replay tags go now. */
			pipeline_key_remove(d->pl, d->pl_epochs[j]);
			log_info("keys: packet key of epoch %llu erased with "
				 "its replay tags",
				 (unsigned long long)d->pl_epochs[j]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		bool held = false;
		for (size_t j = 0; j < d->n_pl_epochs; j++)
			held |= d->pl_epochs[j] == epochs[i];
		if (!held &&
		    pipeline_key_add(d->pl, epochs[i], privs[i]->b) == 0)
			log_info("keys: packet key of epoch %llu loaded",
				 (unsigned long long)epochs[i]);
	}
	memcpy(d->pl_epochs, epochs, n * sizeof(*epochs));
	d->n_pl_epochs = n;
	uint64_t newest = 0;
	for (size_t i = 0; i < n; i++)
		newest = epochs[i] > newest ? epochs[i] : newest;
	if (d->gw)
		gateway_set_tag_epoch(d->gw, newest);
	pipeline_set_epoch(d->pl, node_current_epoch(d));
}

static void
on_dir_wake(void *ctx)
{
	struct node_daemon *d = ctx;
	struct buf text;
	uint64_t epochs[KEYSCHED_SLOTS];
	struct secret32 *privs[KEYSCHED_SLOTS] = {0};
	size_t n = 0;
	buf_init(&text);
	pthread_mutex_lock(&d->dir_lock);
	bool fatal = d->ho.fatal;
	if (fatal)
		log_err("directory: %s", d->ho.fatal_msg);
	if (d->ho.new_consensus) {
		buf_append(&text, d->ho.consensus.data, d->ho.consensus.len);
		d->ho.new_consensus = false;
	}
	if (d->ho.new_keys) {
		n = d->ho.n_keys;
		for (size_t i = 0; i < n; i++) {
			epochs[i] = d->ho.key_epoch[i];
			privs[i] = secret32_new();
			memcpy(privs[i]->b, d->ho.key_priv[i]->b, 32);
		}
		d->ho.new_keys = false;
	}
	pthread_mutex_unlock(&d->dir_lock);
	if (fatal) {
		d->exit_status = 1;
		evloop_stop(d->ev);
	} else {
		if (text.len)
			apply_consensus(d, &text);
		if (d->pl && n)
			apply_keys(d, epochs, privs, n);
	}
	for (size_t i = 0; i < n; i++)
		SECRET_FREE(privs[i]);
	buf_free(&text);
}

/* ---- forwarding ---------------------------------------------------- */

static bool
send_to_peer(void *ctx, const uint8_t *next_hop, const uint8_t *pkt, size_t len)
{
	struct node_daemon *d = ctx;
	struct node_peer *p = node_peer_find(d, next_hop);
	if (p && p->self)
		return pipeline_submit(d->pl, pkt, len);
	if (!p || !p->conn || !link_conn_is_open(p->conn) ||
	    link_conn_send_packet(p->conn, pkt, len) != LINK_OK) {
		static struct log_ratelim rl = LOG_RATELIM_INIT(10000);
		if (p)
			metric_counter_inc(p->no_route);
		log_ratelim(&rl, LOG_LVL_WARN,
			    "forward: next hop %s "
			    "unreachable, packet dropped",
			    p ? p->label : "(not in the consensus)");
		return false;
	}
	return true;
}

static void
do_drain(struct node_daemon *d)
{
	if (!d->pl || d->stopping)
		return;
	int64_t now = time_mono_ns();
	if (d->gw) /* acknowledgements and echoes, after their commits */
		gateway_drain(d->gw, send_to_peer, d);
	int64_t next = pipeline_drain(d->pl, now, send_to_peer, d);
	if (next == INT64_MAX) {
		evtimer_stop(d->drain_timer);
		return;
	}
	int64_t ms = next > now ? (next - now + 999999) / 1000000 : 0;
	evtimer_start(d->drain_timer, (uint64_t)ms, 0);
}

static void
on_drain_wake(void *ctx)
{
	do_drain(ctx);
}

/* Once per loop iteration: the tags of packets unwrapped on this thread
 * are committed, and if that was done here, the packets leave now. */
static void
on_iteration_end(void *ctx)
{
	struct node_daemon *d = ctx;
	if (d->pl && pipeline_end_batch(d->pl))
		do_drain(d);
}

static void
on_final(void *ctx, const struct sphinx_unwrap_result *res, const uint8_t *pkt,
	 size_t len)
{
	struct node_daemon *d = ctx;
	if (d->cfg->role == NODE_ROLE_GATEWAY) {
		metric_counter_inc(d->sink);
		if (d->gw)
			gateway_on_final(d->gw, res, pkt, len);
		return;
	}
	if (res->cmds.has_recipient)
		node_loops_on_final(d, res->cmds.recipient_id);
	else
		metric_counter_inc(d->loops_unknown);
}

/* ---- life cycle ---------------------------------------------------- */

static void
on_signal(void *ctx, int signum)
{
	struct node_daemon *d = ctx;
	log_notice("node: %s, shutting down",
		   signum == 2 ? "SIGINT" : "SIGTERM");
	d->stopping = true;
	evloop_stop(d->ev);
}

static void
daemon_metrics(struct node_daemon *d)
{
	d->mx = metrics_new();
	d->sink = metrics_counter(d->mx, "bc_sink_packets_total",
				  "gateway: packets delivered to the counting "
				  "sink (last hop)",
				  NULL, NULL);
	d->links_opened =
	    metrics_counter(d->mx, "bc_links_opened_total",
			    "links whose handshake completed", NULL, NULL);
	d->links_closed = metrics_counter(d->mx, "bc_links_closed_total",
					  "open links that closed", NULL, NULL);
	d->links_open =
	    metrics_gauge(d->mx, "bc_links_open", "links open now", NULL, NULL);
	d->loops_unknown = metrics_counter(d->mx, "bc_loops_unknown_total",
					   "final hops at a mix that are not "
					   "its own loops",
					   NULL, NULL);
}

static int
daemon_open(struct node_daemon *d, char *err, size_t errlen)
{
	const struct node_config *c = d->cfg;
	if (mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "[node] data_dir: cannot create %s: %s",
			 c->data_dir, strerror(errno));
		return -1;
	}
	if (load_keys(d, err, errlen) != 0)
		return -1;
	char *rpath = node_config_path(c, "replay.db");
	d->rs = replay_open(rpath, err, errlen);
	free(rpath);
	if (!d->rs)
		return -1;
	daemon_metrics(d);
	if (c->metrics_listen[0]) {
		d->http =
		    metrics_http_start(c->metrics_listen, render_metrics, d->mx,
				       METRICS_CONTENT_TYPE, err, errlen);
		if (!d->http)
			return -1;
		log_notice("metrics: http://%s/metrics", c->metrics_listen);
	}
	d->ev = evloop_new();
	if (!d->ev) {
		snprintf(err, errlen, "cannot create the event loop");
		return -1;
	}
	d->drain_timer = evtimer_new(d->ev, on_drain_wake, d);
	d->drain_wake = evwake_new(d->ev, on_drain_wake, d);
	d->dir_wake = evwake_new(d->ev, on_dir_wake, d);
	evcheck_new(d->ev, on_iteration_end, d);
	if (!d->drain_wake || !d->dir_wake ||
	    evloop_on_signals(d->ev, on_signal, d) != 0) {
		snprintf(err, errlen, "cannot set up the event loop");
		return -1;
	}
	return 0;
}

static void
daemon_close(struct node_daemon *d)
{
	dir_stop(d);
	if (d->links) {
		for (size_t i = 0; i < d->n_peers; i++)
			if (d->peers[i].conn)
				link_conn_set_user(d->peers[i].conn, NULL);
		link_mgr_close(d->links, NULL, NULL);
		d->links = NULL;
	}
	/* Stops workers and the committer (a last flush) while the wake
	 * handle still exists. */
	pipeline_free(d->pl);
	node_gateway_stop(d); /* after the workers, before the loop */
	evloop_free(d->ev);
	d->ev = NULL;
	REPLAY_CLOSE(d->rs);
	metrics_http_stop(d->http);
	metrics_free(d->mx);
	dir_consensus_clear(&d->cons);
	free(d->peers);
	SECRET_FREE(d->link_priv);
	pthread_mutex_destroy(&d->dir_lock);
	pthread_cond_destroy(&d->dir_cond);
	pthread_mutex_destroy(&d->loop_lock);
}

int
node_run(const struct node_config *cfg)
{
	char err[512];
	struct node_daemon *d = bc_calloc(1, sizeof(*d));
	d->cfg = cfg;
	pthread_mutex_init(&d->dir_lock, NULL);
	pthread_cond_init(&d->dir_cond, NULL);
	pthread_mutex_init(&d->loop_lock, NULL);
	int status = 1;
	if (daemon_open(d, err, sizeof(err)) != 0 ||
	    dir_start(d, err, sizeof(err)) != 0) {
		log_err("node: %s", err);
		goto done;
	}
	char idhex[65];
	hex_encode(idhex, sizeof(idhex), d->id, sizeof(d->id));
	log_notice("node: %s %s starting; waiting for a consensus",
		   cfg->role == NODE_ROLE_MIX ? "mix" : "gateway", idhex);
	if (evloop_run(d->ev) != 0) {
		log_err("node: event loop failed");
		goto done;
	}
	status = d->exit_status;
done:
	daemon_close(d);
	if (status == 0)
		log_notice("node: stopped cleanly");
	free(d);
	return status;
}
