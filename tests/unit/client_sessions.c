/*
 * Two real client daemons (the `backchannel client` binary, as child
 * processes) become contacts and talk through a fake gateway in this
 * process. The fake speaks the real link protocol and plays the whole
 * network: it unwraps each packet through every hop with the nodes' keys,
 * stores a packet for a queue as a message item for the queue's owner
 * (every message item TWICE, under two item ids, so that each client sees
 * duplicate fragments, HELLOs and WELCOMEs), answers the reply block as the
 * acknowledgement, answers echoes, and obeys QUEUE_CREATE / QUEUE_DELETE.
 *
 * Checked through the control sockets: one invitation makes the contacts
 * (same safety number), messages both ways incl. one of 20 kB arrive once
 * each with every state reached and each time set, read receipts, a
 * SIGKILL and restart of one side in the middle loses nothing, a move to
 * another gateway address is told in-band and talk goes on, block
 * deletes the queue and stops delivery, and nothing the gateway stored
 * contains either identity key.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "client/cpacket.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/x25519.h"
#include "dir/tally.h"
#include "lib/alloc.h"
#include "lib/codec.h"
#include "lib/time.h"
#include "net/ctlsock.h"
#include "net/link.h"
#include "store/client_store.h"
#include "wire/link_frame.h"
#include "wire/sphinx_packet.h"
#include "wire/sphinx_surb.h"

#define NNODES 8
#define MAXI 4096
#define MAXQUEUES 64

static char dir[64];
static uint8_t auth_sk[3][64], auth_pk[3][32];
static uint8_t node_priv[NNODES][32], gw_link_priv[32], gw_link_pub[32];
static struct buf doc;

/* the fake gateway (its own thread; state under mu) */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static uv_loop_t gloop;
static uv_async_t gstop;
static struct link_mgr *gm;
static uint16_t gport;
static struct dir_consensus cons;
static struct sphinx_geometry geo;
static struct sphinx_unwrap_ctx *uctx;
static struct item {
	uint8_t owner[32];
	uint8_t id[LINK_ID_LEN];
	uint8_t *data;
	size_t len;
} items[MAXI];
static size_t nitems;
static uint64_t next_item = 1;
static struct queue {
	uint8_t id[32], owner[32];
	bool deleted;
} queues[MAXQUEUES];
static size_t nqueues;
static struct buf stored; /* every message item's bytes ever stored */
static unsigned long deletes, blocked_drops;

static int node_of(const uint8_t id[32])
{
	for (int i = 0; i < NNODES; i++)
		if (memcmp(cons.nodes[i].desc.identity, id, 32) == 0)
			return i;
	return -1;
}

static int travel(int at, uint8_t *pkt, struct sphinx_unwrap_result *res)
{
	for (int hops = 0; hops < 8 && at >= 0; hops++) {
		if (sphinx_unwrap(uctx, node_priv[at], pkt, geo.packet_len,
				  100000, res) != SPHINX_OK)
			return -1;
		if (res->kind != SPHINX_HOP_FORWARD)
			return at;
		at = node_of(res->cmds.next_hop_id);
	}
	return -1;
}

static struct queue *queue_find(const uint8_t id[32])
{
	for (size_t i = 0; i < nqueues; i++)
		if (memcmp(queues[i].id, id, 32) == 0)
			return &queues[i];
	return NULL;
}

static void store_item(const uint8_t owner[32], uint8_t kind,
		       const uint8_t tag[32], const uint8_t *payload,
		       size_t plen)
{
	if (nitems == MAXI)
		return;
	struct item *it = &items[nitems++];
	memcpy(it->owner, owner, 32);
	memset(it->id, 0, LINK_ID_LEN);
	memcpy(it->id, &next_item, sizeof(next_item));
	next_item++;
	it->len = LINK_ITEM_HDR + geo.payload_len;
	it->data = calloc(1, it->len);
	it->data[0] = kind;
	memcpy(it->data + 1, tag, 32);
	memcpy(it->data + LINK_ITEM_HDR, payload, plen);
	if (kind == LINK_ITEM_MESSAGE)
		buf_append(&stored, it->data, it->len);
}

static int own_node(void)
{
	for (int i = 0; i < NNODES; i++)
		if (memcmp(cons.nodes[i].desc.link_key, gw_link_pub, 32) == 0)
			return i;
	return -1;
}

/* Answer the reply block of a packet: the reply goes to its maker. */
static void answer_surb(const uint8_t *surb_in, const char *what)
{
	struct sphinx_unwrap_result res;
	uint8_t *pkt = malloc(geo.packet_len), first[32], tag[32] = { 0 };
	uint8_t *surb = bc_memdup(surb_in, geo.surb_len);

	if (sphinx_surb_packet(&geo, surb, (const uint8_t *)what, strlen(what),
			       pkt, first) == SPHINX_OK &&
	    travel(node_of(first), pkt, &res) == own_node() &&
	    res.kind == SPHINX_HOP_SURB_REPLY) {
		struct queue *q = queue_find(res.cmds.recipient_id);
		memcpy(tag, res.cmds.surb_id, 16);
		if (q != NULL && !q->deleted)
			store_item(q->owner, LINK_ITEM_REPLY, tag,
				   pkt + res.payload_off, geo.payload_len);
	}
	free(pkt);
	free(surb);
}

/* The whole network for one packet. */
static void network(const uint8_t *in)
{
	struct sphinx_unwrap_result res;
	struct sphinx_fwd_view v;
	uint8_t *pkt = bc_memdup(in, geo.packet_len);

	if (travel(own_node(), pkt, &res) < 0 || res.kind != SPHINX_HOP_FINAL ||
	    memcmp(res.cmds.recipient_id, CPACKET_DROP_ID, 32) == 0 ||
	    sphinx_fwd_decode(&geo, pkt + res.payload_off, &v) != 0)
		goto done;
	if (memcmp(res.cmds.recipient_id, CPACKET_ECHO_ID, 32) != 0) {
		struct queue *q = queue_find(res.cmds.recipient_id);
		if (q == NULL || q->deleted) {
			blocked_drops++;
			goto done; /* no queue: dropped, no acknowledgement */
		}
		/* Twice: the client must drop the duplicate. */
		store_item(q->owner, LINK_ITEM_MESSAGE, q->id, v.blob,
			   geo.blob_len);
		store_item(q->owner, LINK_ITEM_MESSAGE, q->id, v.blob,
			   geo.blob_len);
		/* The first one also once with a bit flipped, as a gateway
		 * tampering with it would: refused and logged. */
		static bool tampered;
		if (!tampered) {
			tampered = true;
			uint8_t *t = bc_memdup(v.blob, geo.blob_len);
			t[geo.blob_len / 2] ^= 0x10;
			store_item(q->owner, LINK_ITEM_MESSAGE, q->id, t,
				   geo.blob_len);
			free(t);
		}
	}
	if (v.surb != NULL)
		answer_surb(v.surb, "ack");
done:
	free(pkt);
}

static void fetch_answer(struct link_conn *c, uint32_t seq)
{
	struct link_cmd r = { .type = LINK_CMD_FETCH_RESPONSE };
	size_t fit = link_cmd_items_fit(LINK_PACKET_LEN_DEFAULT,
					LINK_ITEM_HDR + geo.payload_len);
	const uint8_t *who = link_conn_peer_key(c);
	uint32_t more = 0;

	r.u.fetch_resp.seq = seq;
	for (size_t i = 0; i < nitems; i++) {
		if (memcmp(items[i].owner, who, 32) != 0)
			continue;
		if (r.u.fetch_resp.count == fit) {
			more++;
			continue;
		}
		struct link_item *it =
			&r.u.fetch_resp.items[r.u.fetch_resp.count++];
		memcpy(it->id, items[i].id, LINK_ID_LEN);
		it->data = items[i].data;
		it->len = items[i].len;
	}
	r.u.fetch_resp.remaining = more > 15 ? 15 : more;
	link_conn_send(c, &r);
}

/* Confirmed ids (carried by FETCH, or an old-style CONFIRM): deleted. */
static void confirm(const uint8_t *who, const uint8_t (*ids)[LINK_ID_LEN],
		    size_t count)
{
	for (size_t k = 0; k < count; k++)
		for (size_t i = 0; i < nitems; i++) {
			if (memcmp(items[i].id, ids[k], 16) ||
			    memcmp(items[i].owner, who, 32))
				continue;
			free(items[i].data);
			items[i] = items[--nitems];
			break;
		}
}

static uint8_t queue_op(const uint8_t *who, const struct link_cmd *cmd)
{
	struct queue *q = queue_find(cmd->u.queue.id);

	if (cmd->type == LINK_CMD_QUEUE_CREATE) {
		if (q != NULL)
			return LINK_ERR_EXISTS;
		if (nqueues == MAXQUEUES)
			return LINK_ERR_QUOTA;
		q = &queues[nqueues++];
		memcpy(q->id, cmd->u.queue.id, 32);
		memcpy(q->owner, who, 32);
		return LINK_OK;
	}
	if (q == NULL || q->deleted || memcmp(q->owner, who, 32) != 0)
		return LINK_ERR_NO_QUEUE;
	q->deleted = true;
	deletes++;
	for (size_t i = nitems; i-- > 0;)
		if (items[i].data[0] == LINK_ITEM_MESSAGE &&
		    memcmp(items[i].data + 1, q->id, 32) == 0) {
			free(items[i].data);
			items[i] = items[--nitems];
		}
	return LINK_OK;
}

static void answer_code(struct link_conn *c, uint8_t code)
{
	struct link_cmd r = { .type = LINK_CMD_ERROR };
	r.u.error.code = code;
	link_conn_send(c, &r);
}

static void chunk_answer(struct link_conn *c, uint16_t k)
{
	size_t cm = link_cmd_chunk_max(LINK_PACKET_LEN_DEFAULT);
	struct link_cmd r = { .type = LINK_CMD_CONSENSUS };
	size_t off = (size_t)k * cm;
	r.u.consensus.epoch = 1000;
	r.u.consensus.chunk = k;
	r.u.consensus.nchunks = (uint16_t)((doc.len + cm - 1) / cm);
	r.u.consensus.total = (uint32_t)doc.len;
	r.u.consensus.data = doc.data + off;
	r.u.consensus.len = doc.len - off < cm ? doc.len - off : cm;
	link_conn_send(c, &r);
}

static enum link_err g_cmd(struct link_conn *c, const struct link_cmd *cmd,
			   void *ctx)
{
	struct link_cmd r;
	const uint8_t *who = link_conn_peer_key(c);
	(void)ctx;
	pthread_mutex_lock(&mu);
	switch (cmd->type) {
	case LINK_CMD_REGISTER:
		answer_code(c, LINK_OK);
		break;
	case LINK_CMD_TIME:
		r = (struct link_cmd){ .type = LINK_CMD_TIME };
		r.u.time.wall_ms = (uint64_t)time_wall_ms();
		link_conn_send(c, &r);
		break;
	case LINK_CMD_GET_CONSENSUS:
		chunk_answer(c, cmd->u.get_consensus.chunk);
		break;
	case LINK_CMD_SEND_PACKET:
		network(cmd->u.packet.data);
		break;
	case LINK_CMD_FETCH:
		confirm(who, cmd->u.fetch.ids, cmd->u.fetch.count);
		fetch_answer(c, cmd->u.fetch.seq);
		break;
	case LINK_CMD_CONFIRM:
		confirm(who, cmd->u.confirm.ids, cmd->u.confirm.count);
		answer_code(c, LINK_OK);
		break;
	case LINK_CMD_QUEUE_CREATE:
	case LINK_CMD_QUEUE_DELETE:
		answer_code(c, queue_op(who, cmd));
		break;
	case LINK_CMD_NOOP:
	case LINK_CMD_FETCH_RESPONSE:
	case LINK_CMD_CONSENSUS:
	case LINK_CMD_DISCONNECT:
	case LINK_CMD_ERROR:
		break;
	}
	pthread_mutex_unlock(&mu);
	return LINK_OK;
}

static bool g_auth(void *ctx, const uint8_t key[32])
{
	(void)ctx;
	(void)key;
	return true;
}

static void g_open(struct link_conn *c, void *ctx)
{
	(void)c;
	(void)ctx;
}

static void g_close(struct link_conn *c, const struct link_close_info *i,
		    void *ctx)
{
	(void)c;
	(void)i;
	(void)ctx;
}

static void g_stop(uv_async_t *a)
{
	link_mgr_close(gm, NULL, NULL);
	uv_close((uv_handle_t *)a, NULL);
}

static void *g_run(void *arg)
{
	(void)arg;
	uv_run(&gloop, UV_RUN_DEFAULT);
	return NULL;
}

static int desc_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dir_node *)a)->desc.identity,
		      ((const struct dir_node *)b)->desc.identity, 32);
}

/* A consensus valid now, signed by authorities 0 and 1 of 3; fast rates. */
static void make_consensus(void)
{
	uint64_t now = (uint64_t)time_wall_s();
	memset(&cons, 0, sizeof(cons));
	cons.epoch = 1000;
	cons.params = (struct dir_params){
		.genesis = now - 1000 * 600 - 5, .epoch_len_s = 600,
		.grace_s = 60, .hops = 5, .blob_len = 2000,
		.mean_delay_ms = 1, .max_delay_ms = 10, .lambda_p = 20000,
		.lambda_l = 2000, .lambda_d = 2000, .lambda_f = 60000,
		.mix_loop = 1000,
	};
	cons.valid_after = cons.params.genesis + 1000 * 600;
	cons.valid_until = cons.valid_after + 600 + 60;
	cons.n_nodes = NNODES;
	cons.nodes = bc_calloc(NNODES, sizeof(*cons.nodes));
	uint8_t privs[NNODES][32];
	for (int i = 0; i < NNODES; i++) {
		struct dir_descriptor *d = &cons.nodes[i].desc;
		uint8_t seed[32], sk[64];
		memset(seed, 40 + i, 32);
		ed25519_keypair_from_seed(d->identity, sk, seed);
		d->epoch = 1000;
		d->role = i < 2 ? DIR_ROLE_GATEWAY : DIR_ROLE_MIX;
		d->services = i < 2 ? DIR_SERVICE_ECHO : 0;
		x25519_keypair(d->packet_keys[0], privs[i]);
		memset(d->link_key, 0x60 + i, 32);
		if (i == 0)
			memcpy(d->link_key, gw_link_pub, 32);
		snprintf(d->address, sizeof(d->address), "127.0.0.1:%d",
			 7000 + i);
		snprintf(d->version, sizeof(d->version), "0.1.0");
	}
	for (int i = 0; i < NNODES; i++)
		memcpy(cons.nodes[i].desc.signature, privs[i], 32);
	qsort(cons.nodes, NNODES, sizeof(*cons.nodes), desc_cmp);
	for (int i = 0; i < NNODES; i++) {
		memcpy(node_priv[i], cons.nodes[i].desc.signature, 32);
		memset(cons.nodes[i].desc.signature, 0, 64);
	}
	dir_assign_layers(&cons);
	struct buf body;
	buf_init(&body);
	buf_init(&doc);
	cr_assert_eq(dir_consensus_encode_body(&cons, &body), 0);
	for (int i = 0; i < 2; i++) {
		struct dir_signature s;
		memcpy(s.authority, auth_pk[i], 32);
		ed25519_sign(s.sig, body.data, body.len, auth_sk[i]);
		cr_assert_eq(dir_consensus_add_sig(&cons, &s), 0);
	}
	cr_assert_eq(dir_consensus_encode(&cons, &doc), 0);
	buf_free(&body);
}

static void start_gateway(void)
{
	struct link_cfg lc = {
		.static_priv = gw_link_priv, .role = LINK_ROLE_NODE,
		.auth = g_auth, .on_open = g_open, .on_cmd = g_cmd,
		.on_close = g_close,
	};
	sphinx_geometry_default(&geo);
	uctx = sphinx_unwrap_ctx_new(&geo);
	uv_loop_init(&gloop);
	uv_async_init(&gloop, &gstop, g_stop);
	gm = link_mgr_new(&gloop, &lc);
	cr_assert_not_null(gm);
	/* Every address: 127.0.0.2 is "another gateway" for the move. */
	cr_assert_eq(link_mgr_listen(gm, "0.0.0.0", 0, &gport), 0);
}

static void write_file(const char *name, const char *text)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* Config of client who (alice, bob), pointing at the fake gateway at
 * 127.0.0.HOST. */
static void configure_at(const char *who, int host)
{
	char text[2048], auth[512] = "", b64[64], one[128];
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(base64_encode(b64, sizeof(b64), auth_pk[i], 32), 0);
		snprintf(one, sizeof(one), "%s%s@127.0.0.1:%d", i ? ", " : "",
			 b64, 9000 + i);
		strncat(auth, one, sizeof(auth) - strlen(auth) - 1);
	}
	cr_assert_eq(base64_encode(b64, sizeof(b64), gw_link_pub, 32), 0);
	snprintf(one, sizeof(one), "%s.pass", who);
	write_file(one, "a passphrase\n");
	snprintf(text, sizeof(text),
		 "[client]\ngateway = 127.0.0.%d:%u\ngateway_key = %s\n"
		 "authorities = %s\nstore = %s/%s.db\n"
		 "passphrase_file = %s/%s.pass\ncontrol_socket = %s/%s.sock\n"
		 "store_cost_mib = 8\nlog_level = notice\nname = %s\n",
		 host, gport, b64, auth, dir, who, dir, who, dir, who, who);
	snprintf(one, sizeof(one), "%s.ini", who);
	write_file(one, text);
}

static void configure(const char *who)
{
	configure_at(who, 1);
}

/* The backchannel binary: BUILD/tests/unit/NAME -> BUILD/backchannel. */
static void binary(char *out, size_t cap)
{
	char self[PATH_MAX - 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(n, 0);
	self[n] = 0;
	for (int k = 0; k < 3; k++)
		*strrchr(self, '/') = 0;
	snprintf(out, cap, "%s/backchannel", self);
	cr_assert_eq(access(out, X_OK), 0, "%s is not built", out);
}

/* Children still running when a check fails are killed by teardown. */
static pid_t kids[8];

static pid_t start_client(const char *who)
{
	char bin[PATH_MAX], ini[160], log[160];
	binary(bin, sizeof(bin));
	snprintf(ini, sizeof(ini), "%s/%s.ini", dir, who);
	snprintf(log, sizeof(log), "%s/%s.log", dir, who);
	pid_t p = fork();
	cr_assert_geq(p, 0);
	if (p == 0) {
		FILE *f = freopen(log, "a", stderr);
		(void)f;
		execl(bin, "backchannel", "client", "--config", ini,
		      (char *)NULL);
		_exit(127);
	}
	for (size_t i = 0; i < 8; i++)
		if (kids[i] == 0) {
			kids[i] = p;
			break;
		}
	return p;
}

static json_t *ctl(const char *who, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static json_t *ctl(const char *who, const char *fmt, ...)
{
	char path[160], err[256];
	struct buf r;
	json_error_t je;
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *line = malloc((size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(line, (size_t)len + 1, fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s.sock", dir, who);
	buf_init(&r);
	int rc = ctlsock_request(path, line, &r, 5000, err, sizeof(err));
	free(line);
	if (rc < 0) {
		buf_free(&r);
		return NULL;
	}
	json_t *j = json_loadb((const char *)r.data, r.len, 0, &je);
	buf_free(&r);
	return j;
}

static void nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static const char *jstr(json_t *j, const char *k)
{
	return json_string_value(json_object_get(j, k));
}

static bool ready(const char *who)
{
	json_t *j = ctl(who, "{\"cmd\":\"status\"}");
	const char *st = j ? jstr(json_object_get(j, "gateway"), "state") : 0;
	bool ok = st != NULL && strcmp(st, "ready") == 0;
	json_decref(j);
	return ok;
}

/* The contact row of name at who (new reference), or NULL. */
static json_t *contact(const char *who, const char *name)
{
	json_t *j = ctl(who, "{\"cmd\":\"contacts\"}"), *v, *found = NULL;
	size_t i;
	if (j == NULL)
		return NULL;
	json_array_foreach(json_object_get(j, "contacts"), i, v)
		if (strcmp(jstr(v, "name"), name) == 0)
			found = json_incref(v);
	json_decref(j);
	return found;
}

static bool contact_state(const char *who, const char *name, const char *st)
{
	json_t *c = contact(who, name);
	bool ok = c != NULL && strcmp(jstr(c, "state"), st) == 0;
	json_decref(c);
	return ok;
}

static bool contact_gateway(const char *who, const char *name,
			    const char *gw)
{
	json_t *c = contact(who, name);
	const char *g = c ? jstr(c, "gateway") : NULL;
	bool ok = g != NULL && strcmp(g, gw) == 0;
	json_decref(c);
	return ok;
}

/* Message id's row at who (dir in/out), or NULL (new reference). */
static json_t *message(const char *who, const char *id, const char *dirn,
		       int *count)
{
	json_t *j = ctl(who, "{\"cmd\":\"messages\",\"since\":0}"), *v;
	json_t *found = NULL;
	size_t i;
	*count = 0;
	if (j == NULL)
		return NULL;
	json_array_foreach(json_object_get(j, "messages"), i, v)
		if (strcmp(jstr(v, "id"), id) == 0 &&
		    strcmp(jstr(v, "dir"), dirn) == 0) {
			(*count)++;
			json_decref(found);
			found = json_incref(v);
		}
	json_decref(j);
	return found;
}

static bool msg_state(const char *who, const char *id, const char *dirn,
		      const char *st)
{
	int n;
	json_t *m = message(who, id, dirn, &n);
	bool ok = m != NULL && strcmp(jstr(m, "state"), st) == 0;
	json_decref(m);
	return ok;
}

#define WAIT(cond, secs)                                              \
	do {                                                          \
		int i_;                                               \
		for (i_ = 0; i_ < (secs) * 10 && !(cond); i_++)      \
			nap(100);                                     \
		cr_assert((cond), "timed out: %s", #cond);            \
	} while (0)

static void send_text(const char *from, const char *to, const char *text,
		      char id[33])
{
	json_t *j = ctl(from, "{\"cmd\":\"send\",\"to\":\"%s\",\"text\":\"%s\"}",
			to, text);
	cr_assert_not_null(j);
	cr_assert(json_is_true(json_object_get(j, "ok")), "send: %s",
		  jstr(j, "error"));
	snprintf(id, 33, "%s", jstr(j, "id"));
	json_decref(j);
}

/* A public key's bytes anywhere in what the gateway stored? */
static bool gateway_stored(const uint8_t key[32])
{
	pthread_mutex_lock(&mu);
	bool found = false;
	for (size_t i = 0; i + 32 <= stored.len && !found; i++)
		found = memcmp(stored.data + i, key, 32) == 0;
	pthread_mutex_unlock(&mu);
	return found;
}

/* who's identity public key, from its store (the daemon stopped). */
static void identity(const char *who, uint8_t pub[32])
{
	char path[160], err[256];
	struct client_store_key k = { .pass = "a passphrase", .pass_len = 12 };
	uint8_t *v = NULL;
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/%s.db", dir, who);
	struct client_store *cs = client_store_open(path, &k, err, sizeof(err));
	cr_assert_not_null(cs, "%s", err);
	cr_assert_eq(client_store_get(cs, "identity_key", &v, &n), 0);
	cr_assert_eq(n, 32);
	x25519_base(pub, v);
	free(v);
	client_store_close(cs);
}

/* Stop a daemon; its exit status (SIGTERM: 0, also no leak under ASan). */
static int stop(pid_t p, int sig)
{
	int st = 0;
	kill(p, sig);
	waitpid(p, &st, 0);
	for (size_t i = 0; i < 8; i++)
		if (kids[i] == p)
			kids[i] = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/bc-sessions-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	for (int i = 0; i < 3; i++) {
		uint8_t seed[32];
		memset(seed, 101 + i, 32);
		ed25519_keypair_from_seed(auth_pk[i], auth_sk[i], seed);
	}
	x25519_keypair(gw_link_pub, gw_link_priv);
	buf_init(&stored);
}

static void teardown(void)
{
	char cmd[160];
	for (size_t i = 0; i < 8; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (getenv("KEEP") == NULL)
		cr_assert_eq(system(cmd), 0);
}

TestSuite(client_sessions, .init = setup, .fini = teardown, .timeout = 120);

static pid_t pa, pb;
static char i1[33], i2[33], i5[33];

/* One invitation makes the contacts; bad ones refused with a reason. */
static void phase_contacts(void)
{
	char code[600];

	json_t *j = ctl("alice", "{\"cmd\":\"invite\",\"name\":\"bob\","
				 "\"expires_s\":3600}");
	cr_assert(json_is_true(json_object_get(j, "ok")));
	snprintf(code, sizeof(code), "%s", jstr(j, "code"));
	json_decref(j);
	j = ctl("alice", "{\"cmd\":\"invite\",\"name\":\"bob\"}");
	cr_assert(json_is_false(json_object_get(j, "ok")), "same name twice");
	json_decref(j);
	j = ctl("bob", "{\"cmd\":\"accept\",\"code\":\"bc1abc\","
		       "\"name\":\"x\"}");
	cr_assert(json_is_false(json_object_get(j, "ok")));
	cr_log_info("bad invitation: %s", jstr(j, "error"));
	json_decref(j);
	cr_assert(contact_state("alice", "bob", "invited"));
	j = ctl("bob", "{\"cmd\":\"accept\",\"code\":\"%s\",\"name\":"
		       "\"alice\"}", code);
	cr_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	/* Once only: a second acceptance, and the inviter's own, refused. */
	j = ctl("bob", "{\"cmd\":\"accept\",\"code\":\"%s\",\"name\":"
		       "\"alice2\"}", code);
	cr_assert(json_is_false(json_object_get(j, "ok")));
	cr_assert(strstr(jstr(j, "error"), "already accepted") != NULL);
	json_decref(j);
	j = ctl("alice", "{\"cmd\":\"accept\",\"code\":\"%s\",\"name\":"
			 "\"me\"}", code);
	cr_assert(json_is_false(json_object_get(j, "ok")));
	cr_assert(strstr(jstr(j, "error"), "your own") != NULL);
	json_decref(j);
	/* Bob can queue at once; it leaves when the contact is ready. */
	send_text("bob", "alice", "queued while accepting", i5);
	WAIT(contact_state("bob", "alice", "ready"), 30);
	WAIT(contact_state("alice", "bob", "ready"), 30);
	json_t *ca = contact("alice", "bob"), *cb = contact("bob", "alice");
	cr_assert_str_eq(jstr(ca, "safety_number"), jstr(cb, "safety_number"));
	/* Both use the one fake gateway: each is told. */
	cr_assert(json_is_true(json_object_get(ca, "same_gateway")));
	cr_assert(json_is_true(json_object_get(cb, "same_gateway")));
	cr_assert_eq(strlen(jstr(ca, "safety_number")), 71);
	json_decref(ca);
	json_decref(cb);
}

/* Both ways, one of 20 kB; read receipts on, then off. */
static void phase_talk(void)
{
	int n;
	char *big = malloc(20001);

	for (int i = 0; i < 20000; i++)
		big[i] = (char)('a' + i % 26);
	big[20000] = 0;
	send_text("alice", "bob", "hello bob", i1);
	send_text("bob", "alice", big, i2);
	WAIT(msg_state("alice", i1, "out", "delivered"), 30);
	WAIT(msg_state("bob", i2, "out", "delivered"), 30);
	WAIT(msg_state("bob", i5, "out", "delivered"), 30);
	json_t *m = message("alice", i2, "in", &n);
	cr_assert_eq(n, 1, "the 20 kB message once");
	cr_assert_str_eq(jstr(m, "text"), big);
	cr_assert_str_eq(jstr(m, "state"), "received");
	json_decref(m);
	free(big);
	m = message("alice", i5, "in", &n);
	cr_assert_eq(n, 1);
	json_decref(m);
	json_t *j = ctl("alice", "{\"cmd\":\"read\",\"contact\":\"bob\"}");
	cr_assert_eq(json_integer_value(json_object_get(j, "marked")), 2);
	json_decref(j);
	WAIT(msg_state("bob", i2, "out", "read"), 30);
	m = message("bob", i2, "out", &n);
	const char *want[] = { "queued", "sent", "acknowledged", "delivered",
			       "read" };
	for (size_t k = 0; k < 5; k++)
		cr_assert_gt(json_integer_value(json_object_get(
				     json_object_get(m, "times"), want[k])),
			     0, "time of %s", want[k]);
	json_decref(m);
	/* Polling: since = next gives only what changed since. */
	j = ctl("bob", "{\"cmd\":\"messages\",\"since\":0}");
	json_int_t next = json_integer_value(json_object_get(j, "next"));
	cr_assert_gt(next, 0);
	json_decref(j);
	j = ctl("bob", "{\"cmd\":\"messages\",\"since\":%lld}",
		(long long)next);
	json_t *v;
	size_t k;
	/* (a late acknowledgement may still record its time: rev > next) */
	json_array_foreach(json_object_get(j, "messages"), k, v)
		cr_assert_gt(json_integer_value(json_object_get(v, "rev")), next);
	cr_assert_geq(json_integer_value(json_object_get(j, "next")), next);
	json_decref(j);
	j = ctl("bob", "{\"cmd\":\"receipts\",\"name\":\"alice\",\"on\":false}");
	cr_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	j = ctl("bob", "{\"cmd\":\"read\",\"ids\":[\"%s\"]}", i1);
	cr_assert_eq(json_integer_value(json_object_get(j, "marked")), 1);
	json_decref(j);
}

/* Bob dies in the middle (SIGKILL right after queueing), restarts. */
static void phase_restart(void)
{
	char i3[33], i4[33];
	int n;

	send_text("bob", "alice", "sent just before a crash", i3);
	stop(pb, SIGKILL);
	send_text("alice", "bob", "while bob is down", i4);
	pb = start_client("bob");
	WAIT(ready("bob"), 20);
	cr_assert(contact_state("bob", "alice", "ready"));
	WAIT(msg_state("alice", i4, "out", "delivered"), 30);
	WAIT(msg_state("bob", i3, "out", "delivered"), 30);
	json_t *m = message("bob", i2, "out", &n);
	cr_assert_str_eq(jstr(m, "state"), "read", "kept over the restart");
	json_decref(m);
	m = message("alice", i3, "in", &n);
	cr_assert_eq(n, 1);
	json_decref(m);
	nap(1500);
	/* No read receipt from bob: his receipts are off. */
	cr_assert(msg_state("alice", i1, "out", "delivered"));
}

/* Alice moves (same keys, another address: to the client another
 * gateway): bob learns her new queue in-band; talk goes on. */
static void phase_move(void)
{
	char i3[33], i4[33], gw2[64];
	int n;

	cr_assert_eq(stop(pa, SIGTERM), 0);
	size_t queues_before = nqueues;
	configure_at("alice", 2);
	pa = start_client("alice");
	snprintf(gw2, sizeof(gw2), "127.0.0.2:%u", gport);
	WAIT(contact_gateway("bob", "alice", gw2), 30);
	cr_assert_gt(nqueues, queues_before, "a new queue for bob");
	send_text("bob", "alice", "after your move", i3);
	send_text("alice", "bob", "from the new address", i4);
	WAIT(msg_state("bob", i3, "out", "delivered"), 30);
	WAIT(msg_state("alice", i4, "out", "delivered"), 30);
	json_t *m = message("alice", i3, "in", &n);
	cr_assert_eq(n, 1);
	json_decref(m);
}

/* Block: alice's queue deleted; bob's next message never arrives. */
static void phase_block(void)
{
	int n;

	json_t *j = ctl("alice", "{\"cmd\":\"block\",\"name\":\"bob\"}");
	cr_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	WAIT(deletes == 1, 10);
	cr_assert(contact_state("alice", "bob", "blocked"));
	j = ctl("alice", "{\"cmd\":\"send\",\"to\":\"bob\",\"text\":\"x\"}");
	cr_assert(json_is_false(json_object_get(j, "ok")));
	json_decref(j);
	send_text("bob", "alice", "after the block", i5);
	WAIT(blocked_drops > 0, 10);
	nap(1000);
	json_t *m = message("alice", i5, "in", &n);
	cr_assert_null(m);
	cr_assert(!msg_state("bob", i5, "out", "acknowledged"));
}

/* Whether who's log has a line containing text. */
static bool log_has(const char *who, const char *text)
{
	char path[160], line[1024];
	bool found = false;

	snprintf(path, sizeof(path), "%s/%s.log", dir, who);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

Test(client_sessions, contacts_messages_restart_move_block)
{
	pthread_t gt;

	start_gateway();
	make_consensus();
	configure("alice");
	configure("bob");
	cr_assert_eq(pthread_create(&gt, NULL, g_run, NULL), 0);
	pa = start_client("alice");
	pb = start_client("bob");
	WAIT(ready("alice") && ready("bob"), 20);
	phase_contacts();
	/* The tampered copy of the HELLO (fetched after the genuine ones):
	 * refused and logged. */
	WAIT(log_has("alice", "opens under no contact's key"), 20);
	phase_talk();
	phase_restart();
	phase_move();
	phase_block();

	/* The gateway never stored either identity key. */
	cr_assert_eq(stop(pa, SIGTERM), 0, "alice's exit status");
	cr_assert_eq(stop(pb, SIGTERM), 0, "bob's exit status");
	uint8_t ka[32], kb[32];
	identity("alice", ka);
	identity("bob", kb);
	cr_assert_gt(stored.len, 0);
	cr_assert(!gateway_stored(kb), "the acceptor's identity key");
	cr_assert(!gateway_stored(ka), "the inviter's identity key");

	uv_async_send(&gstop);
	pthread_join(gt, NULL);
	uv_run(&gloop, UV_RUN_DEFAULT);
	dir_consensus_clear(&cons);
	buf_free(&doc);
	buf_free(&stored);
	sphinx_unwrap_ctx_free(uctx);
	for (size_t i = 0; i < nitems; i++)
		free(items[i].data);
}
