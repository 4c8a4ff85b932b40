/*
 * Fetch rate: one fetch response carries one packet-sized item at the
 * default geometry, so the fetch rate here is above the reply rate
 * (lambda P + lambda L); see docs/client.md.
 *
 * The client daemon end to end in one process, against a fake gateway (the
 * gateway's client service, issue 7, is not built yet). The fake speaks the
 * real link protocol (net/link.h, Noise XK over TCP on 127.0.0.1): it
 * answers REGISTER, TIME and GET_CONSENSUS (a consensus really signed by
 * two of three authorities), and plays the whole network for SEND_PACKET:
 * it unwraps each packet through every hop with the nodes' private keys,
 * answers echo packets through their reply blocks, unwraps the replies back
 * to our gateway and queues them for FETCH. The daemon's status, read
 * through its control socket, must then show a healthy network: link up,
 * consensus epoch, all four streams running, loops coming back.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "client/cpacket.h"
#include "client/daemon.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/x25519.h"
#include "dir/tally.h"
#include "lib/alloc.h"
#include "lib/codec.h"
#include "lib/time.h"
#include "net/ctlsock.h"
#include "net/link.h"
#include "wire/link_frame.h"
#include "wire/sphinx_packet.h"
#include "wire/sphinx_surb.h"

#define NNODES 8
#define MAXQ 512

static char dir[64];
static uint8_t auth_sk[3][64], auth_pk[3][32];
static uint8_t node_priv[NNODES][32], gw_link_priv[32], gw_link_pub[32];
static struct buf doc;
static int64_t skew_ms;
static bool omit_gateway;

/* the fake gateway's state (its own thread and loop) */
static uv_loop_t gloop;
static uv_async_t gstop;
static struct link_mgr *gm;
static uint16_t gport;
static struct dir_consensus cons;
static struct sphinx_geometry geo;
static struct sphinx_unwrap_ctx *uctx;
static struct {
	uint8_t id[LINK_ID_LEN];
	uint8_t *data;
	size_t len;
} q[MAXQ];
static size_t qn;
static uint32_t qid;
static unsigned long pkts_in, echoes, drops, confirm_frames;
static bool lose_echoes; /* the network drops every echo (and loop) */

static int node_of(const uint8_t id[32])
{
	for (int i = 0; i < NNODES; i++)
		if (memcmp(cons.nodes[i].desc.identity, id, 32) == 0)
			return i;
	return -1;
}

/* Unwrap from node at until a last hop; -1 on any failure. */
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

static void enqueue(const uint8_t *surb_id, const uint8_t *payload)
{
	if (qn == MAXQ)
		return;
	uint8_t *d = calloc(1, LINK_ITEM_HDR + geo.payload_len);
	d[0] = LINK_ITEM_REPLY; /* docs/gateway.md: SURB id, zeros, payload */
	memcpy(d + 1, surb_id, 16);
	memcpy(d + LINK_ITEM_HDR, payload, geo.payload_len);
	memset(q[qn].id, 0, LINK_ID_LEN);
	memcpy(q[qn].id, &qid, sizeof(qid));
	qid++;
	q[qn].data = d;
	q[qn].len = LINK_ITEM_HDR + geo.payload_len;
	qn++;
}

/* The whole network for one packet from our client. */
static void network(const uint8_t *in)
{
	struct sphinx_unwrap_result res;
	struct sphinx_fwd_view v;
	uint8_t *pkt = bc_memdup(in, geo.packet_len), first[32];
	uint8_t *surb = malloc(geo.surb_len);

	pkts_in++;
	int own = node_of(cons.nodes[0].desc.identity);
	for (int i = 0; i < NNODES; i++)
		if (memcmp(cons.nodes[i].desc.link_key, gw_link_pub, 32) == 0)
			own = i;
	if (travel(own, pkt, &res) < 0 || res.kind != SPHINX_HOP_FINAL)
		goto done;
	if (memcmp(res.cmds.recipient_id, CPACKET_DROP_ID, 32) == 0) {
		drops++;
		goto done;
	}
	if (sphinx_fwd_decode(&geo, pkt + res.payload_off, &v) != 0 ||
	    v.surb == NULL)
		goto done;
	memcpy(surb, v.surb, geo.surb_len);
	if (lose_echoes)
		goto done;
	if (sphinx_surb_packet(&geo, surb, (const uint8_t *)"echo", 4, pkt,
			       first) != SPHINX_OK)
		goto done;
	if (travel(node_of(first), pkt, &res) != own ||
	    res.kind != SPHINX_HOP_SURB_REPLY)
		goto done;
	echoes++;
	enqueue(res.cmds.surb_id, pkt + res.payload_off);
done:
	free(pkt);
	free(surb);
}

static void fetch_answer(struct link_conn *c, uint32_t seq)
{
	struct link_cmd r = { .type = LINK_CMD_FETCH_RESPONSE };
	size_t fit = link_cmd_items_fit(LINK_PACKET_LEN_DEFAULT,
					LINK_ITEM_HDR + geo.payload_len);
	r.u.fetch_resp.seq = seq;
	for (size_t i = 0; i < qn && i < fit; i++) {
		memcpy(r.u.fetch_resp.items[i].id, q[i].id, LINK_ID_LEN);
		r.u.fetch_resp.items[i].data = q[i].data;
		r.u.fetch_resp.items[i].len = q[i].len;
		r.u.fetch_resp.count++;
	}
	r.u.fetch_resp.remaining = (uint32_t)(qn - r.u.fetch_resp.count);
	link_conn_send(c, &r);
}

/* The ids a FETCH carries: the gateway deletes them before answering. */
static void confirm(const uint8_t (*ids)[LINK_ID_LEN], size_t count)
{
	for (size_t k = 0; k < count; k++)
		for (size_t i = 0; i < qn; i++) {
			if (memcmp(q[i].id, ids[k], 16) != 0)
				continue;
			free(q[i].data);
			q[i] = q[--qn];
			break;
		}
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
	(void)ctx;
	switch (cmd->type) {
	case LINK_CMD_REGISTER:
		r = (struct link_cmd){ .type = LINK_CMD_ERROR };
		link_conn_send(c, &r);
		break;
	case LINK_CMD_TIME:
		r = (struct link_cmd){ .type = LINK_CMD_TIME };
		r.u.time.wall_ms = (uint64_t)(time_wall_ms() + skew_ms);
		link_conn_send(c, &r);
		break;
	case LINK_CMD_GET_CONSENSUS:
		chunk_answer(c, cmd->u.get_consensus.chunk);
		break;
	case LINK_CMD_SEND_PACKET:
		network(cmd->u.packet.data);
		break;
	case LINK_CMD_FETCH:
		confirm(cmd->u.fetch.ids, cmd->u.fetch.count);
		fetch_answer(c, cmd->u.fetch.seq);
		break;
	case LINK_CMD_CONFIRM:
		confirm_frames++; /* the client no longer sends these */
		confirm(cmd->u.confirm.ids, cmd->u.confirm.count);
		break;
	case LINK_CMD_QUEUE_CREATE:
		r = (struct link_cmd){ .type = LINK_CMD_ERROR };
		link_conn_send(c, &r);
		break;
	case LINK_CMD_NOOP:
	case LINK_CMD_QUEUE_DELETE:
	case LINK_CMD_FETCH_RESPONSE:
	case LINK_CMD_CONSENSUS:
	case LINK_CMD_DISCONNECT:
	case LINK_CMD_ERROR:
		break;
	}
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

/* A consensus valid now, signed by authorities 0 and 1 of 3. */
static void make_consensus(void)
{
	uint64_t now = (uint64_t)time_wall_s();
	memset(&cons, 0, sizeof(cons));
	cons.epoch = 1000;
	cons.params = (struct dir_params){
		.genesis = now - 1000 * 60 - 5, .epoch_len_s = 60,
		.grace_s = 10, .hops = 5, .blob_len = 2000,
		.mean_delay_ms = 1, .max_delay_ms = 10, .lambda_p = 10000,
		.lambda_l = 10000, .lambda_d = 5000, .lambda_f = 50000,
		.mix_loop = 1000,
	};
	cons.valid_after = cons.params.genesis + 1000 * 60;
	cons.valid_until = cons.valid_after + 60 + 10;
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
		if (i == 0 && !omit_gateway)
			memcpy(d->link_key, gw_link_pub, 32);
		snprintf(d->address, sizeof(d->address), "127.0.0.1:%d",
			 7000 + i);
		snprintf(d->version, sizeof(d->version), "0.1.0");
	}
	/* Sorting moves nodes: keep each private key with its node. */
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

static void start_gateway_on(uint16_t port)
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
	cr_assert_eq(link_mgr_listen(gm, "127.0.0.1", port, &gport), 0);
}

static void start_gateway(void)
{
	start_gateway_on(0);
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

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/bc-client-daemon-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	for (int i = 0; i < 3; i++) {
		uint8_t seed[32];
		memset(seed, 101 + i, 32);
		ed25519_keypair_from_seed(auth_pk[i], auth_sk[i], seed);
	}
	x25519_keypair(gw_link_pub, gw_link_priv);
	skew_ms = 0;
	omit_gateway = false;
	qn = 0;
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(client_daemon, .init = setup, .fini = teardown, .timeout = 60);

static struct client_config cfg;
static int daemon_rc;

static void *d_run(void *arg)
{
	(void)arg;
	daemon_rc = client_daemon_run(&cfg);
	return NULL;
}

/* Config files for the daemon, pointing at the fake gateway. */
static void configure(void)
{
	char text[2048], auth[512] = "", b64[64], one[128], err[256];
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(base64_encode(b64, sizeof(b64), auth_pk[i], 32), 0);
		snprintf(one, sizeof(one), "%s%s@127.0.0.1:%d", i ? ", " : "",
			 b64, 9000 + i);
		strncat(auth, one, sizeof(auth) - strlen(auth) - 1);
	}
	cr_assert_eq(base64_encode(b64, sizeof(b64), gw_link_pub, 32), 0);
	write_file("pass", "a passphrase\n");
	snprintf(text, sizeof(text),
		 "[client]\ngateway = 127.0.0.1:%u\ngateway_key = %s\n"
		 "authorities = %s\nstore = %s/client.db\n"
		 "passphrase_file = %s/pass\ncontrol_socket = %s/c.sock\n"
		 "store_cost_mib = 8\nlog_level = warn\n",
		 gport, b64, auth, dir, dir, dir);
	write_file("client.ini", text);
	snprintf(one, sizeof(one), "%s/client.ini", dir);
	cr_assert_eq(client_config_load(one, &cfg, err, sizeof(err)), 0, "%s",
		     err);
}

static json_t *status(void)
{
	char path[160], err[256];
	struct buf r;
	json_error_t je;
	snprintf(path, sizeof(path), "%s/c.sock", dir);
	buf_init(&r);
	if (ctlsock_request(path, "{\"cmd\":\"status\"}", &r, 2000, err,
			    sizeof(err)) < 0) {
		buf_free(&r);
		return NULL;
	}
	json_t *j = json_loadb((const char *)r.data, r.len, 0, &je);
	buf_free(&r);
	return j;
}

static long long jint(json_t *j, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(j, a), b));
}

static void stop_gateway(pthread_t gt)
{
	uv_async_send(&gstop);
	pthread_join(gt, NULL);
	uv_run(&gloop, UV_RUN_DEFAULT);
	client_config_free(&cfg);
	dir_consensus_clear(&cons);
	buf_free(&doc);
	sphinx_unwrap_ctx_free(uctx);
	for (size_t i = 0; i < qn; i++)
		free(q[i].data);
}

Test(client_daemon, healthy_network_in_status)
{
	pthread_t gt, dt;
	json_t *j = NULL;

	start_gateway();
	make_consensus();
	configure();
	cr_assert_eq(pthread_create(&gt, NULL, g_run, NULL), 0);
	cr_assert_eq(pthread_create(&dt, NULL, d_run, NULL), 0);
	/* Up to 30 s: the ASan build on a loaded 2-core machine is slow. */
	for (int i = 0; i < 300; i++) {
		struct timespec ts = { 0, 100000000L };
		nanosleep(&ts, NULL);
		json_decref(j);
		j = status();
		if (j == NULL || jint(j, "loops", "back") < 5 ||
		    jint(j, "sent", "drop") == 0 ||
		    jint(j, "round_trip_ms", "n") == 0)
			continue;
		double r = json_real_value(json_object_get(
			json_object_get(j, "loops"), "return_ratio"));
		if (r > 0.5)
			break;
	}
	cr_assert_not_null(j, "no status from the daemon");
	char *dump = json_dumps(j, JSON_COMPACT);
	cr_log_info("status: %s", dump);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(j, "gateway"), "link")),
			 "up", "%s", dump);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(j, "gateway"), "state")),
			 "ready", "%s", dump);
	cr_assert_eq(jint(j, "consensus", "epoch"), 1000);
	cr_assert_eq(jint(j, "consensus", "nodes"), NNODES);
	cr_assert_gt(jint(j, "sent", "send"), 0, "%s", dump);
	cr_assert_gt(jint(j, "sent", "drop"), 0, "%s", dump);
	cr_assert_gt(jint(j, "sent", "fetch"), 0, "%s", dump);
	cr_assert_geq(jint(j, "loops", "back"), 5, "%s", dump);
	double ratio = json_real_value(
		json_object_get(json_object_get(j, "loops"), "return_ratio"));
	cr_assert(ratio > 0.5 && ratio <= 1.0, "%s", dump);
	cr_assert_eq(jint(j, "replies", "unknown"), 0, "%s", dump);
	cr_assert(json_is_false(json_object_get(json_object_get(j, "loops"),
						"alarm")),
		  "%s", dump);
	cr_assert_gt(jint(j, "round_trip_ms", "n"), 0, "%s", dump);
	cr_assert_gt(json_real_value(json_object_get(
			     json_object_get(j, "round_trip_ms"), "p99")),
		     0.0, "%s", dump);
	free(dump);
	json_decref(j);
	cr_assert_gt(echoes, 0);
	cr_assert_gt(drops, 0);
	cr_assert_eq(confirm_frames, 0, "confirmations ride on FETCH only");
	kill(getpid(), SIGTERM);
	pthread_join(dt, NULL);
	cr_assert_eq(daemon_rc, 0);
	stop_gateway(gt);
}

Test(client_daemon, gateway_key_not_in_consensus_stops)
{
	pthread_t gt, dt;

	omit_gateway = true;
	start_gateway();
	make_consensus();
	configure();
	cr_assert_eq(pthread_create(&gt, NULL, g_run, NULL), 0);
	cr_assert_eq(pthread_create(&dt, NULL, d_run, NULL), 0);
	pthread_join(dt, NULL);
	cr_assert_eq(daemon_rc, 1);
	stop_gateway(gt);
}

Test(client_daemon, clock_off_by_a_minute_stops)
{
	pthread_t gt, dt;

	skew_ms = 60000;
	start_gateway();
	make_consensus();
	configure();
	cr_assert_eq(pthread_create(&gt, NULL, g_run, NULL), 0);
	cr_assert_eq(pthread_create(&dt, NULL, d_run, NULL), 0);
	pthread_join(dt, NULL);
	cr_assert_eq(daemon_rc, 1);
	stop_gateway(gt);
}

/* Wait until the status satisfies want(), at most 10 s. */
static json_t *wait_status(bool (*want)(json_t *j))
{
	json_t *j = NULL;
	for (int i = 0; i < 100; i++) {
		struct timespec ts = { 0, 100000000L };
		nanosleep(&ts, NULL);
		json_decref(j);
		j = status();
		if (j != NULL && want(j))
			break;
	}
	return j;
}

static bool ready_once(json_t *j)
{
	return jint(j, "gateway", "connects") == 1 &&
	       jint(j, "replies", "total") > 0;
}

static bool ready_again(json_t *j)
{
	const char *st = json_string_value(
		json_object_get(json_object_get(j, "gateway"), "state"));
	return jint(j, "gateway", "connects") == 2 && st != NULL &&
	       strcmp(st, "ready") == 0;
}

Test(client_daemon, reconnects_after_gateway_restart)
{
	pthread_t gt, dt;

	start_gateway();
	make_consensus();
	configure();
	cr_assert_eq(pthread_create(&gt, NULL, g_run, NULL), 0);
	cr_assert_eq(pthread_create(&dt, NULL, d_run, NULL), 0);
	json_t *j = wait_status(ready_once);
	cr_assert(j != NULL && ready_once(j));
	json_decref(j);
	/* The gateway goes away and comes back on the same port. */
	uint16_t port = gport;
	uv_async_send(&gstop);
	pthread_join(gt, NULL);
	uv_run(&gloop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&gloop), 0);
	sphinx_unwrap_ctx_free(uctx);
	start_gateway_on(port);
	cr_assert_eq(pthread_create(&gt, NULL, g_run, NULL), 0);
	j = wait_status(ready_again);
	char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
	cr_assert(j != NULL && ready_again(j), "%s", dump ? dump : "none");
	cr_assert_eq(jint(j, "gateway", "disconnects"), 1);
	free(dump);
	json_decref(j);
	kill(getpid(), SIGTERM);
	pthread_join(dt, NULL);
	cr_assert_eq(daemon_rc, 0);
	stop_gateway(gt);
}

static bool alarm_on(json_t *j)
{
	return json_is_true(
		json_object_get(json_object_get(j, "loops"), "alarm"));
}

/* A network that drops every loop: the loop alarm shows in status. */
Test(client_daemon, lost_loops_raise_the_alarm)
{
	pthread_t gt, dt;

	lose_echoes = true;
	start_gateway();
	make_consensus();
	configure();
	cr_assert_eq(pthread_create(&gt, NULL, g_run, NULL), 0);
	cr_assert_eq(pthread_create(&dt, NULL, d_run, NULL), 0);
	json_t *j = wait_status(alarm_on);
	cr_assert_not_null(j, "no status from the daemon");
	char *dump = json_dumps(j, JSON_COMPACT);
	cr_log_info("status: %s", dump);
	cr_assert(alarm_on(j), "%s", dump);
	json_t *l = json_object_get(j, "loops");
	cr_assert_geq(json_integer_value(json_object_get(l, "window")), 20,
		      "%s", dump);
	cr_assert_lt(json_real_value(json_object_get(l, "window_ratio")), 0.8,
		     "%s", dump);
	cr_assert_eq(jint(j, "loops", "back"), 0, "%s", dump);
	free(dump);
	json_decref(j);
	kill(getpid(), SIGTERM);
	pthread_join(dt, NULL);
	cr_assert_eq(daemon_rc, 0);
	stop_gateway(gt);
}
