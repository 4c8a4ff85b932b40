/*
 * Fetch rate: one fetch response carries one packet-sized item at the
 * default geometry, so the fetch rate here is above the reply rate
 * (lambda P + lambda L); see docs/client.md.
 *
 * The client daemon end to end in one process, against the fake gateway of
 * tests/common/fakegw.h. The fake speaks the real link protocol (net/link.h,
 * Noise XK over TCP on 127.0.0.1): it answers REGISTER, TIME and
 * GET_CONSENSUS (a consensus really signed by two of three authorities),
 * and plays the whole network for SEND_PACKET: it unwraps each packet
 * through every hop with the nodes' private keys, answers echo packets
 * through their reply blocks, unwraps the replies back to our gateway and
 * keeps them for FETCH. The daemon's status, read through its control
 * socket, must then show a healthy network: link up, consensus epoch, all
 * four streams running, loops coming back.
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

#include "client/cpacket.h"
#include "client/daemon.h"
#include "common/fakegw.h"
#include "lib/alloc.h"
#include "net/ctlsock.h"
#include "wire/link_frame.h"
#include "wire/sphinx_packet.h"

static char dir[64];
static bool omit_gateway;

/* The fake gateway (tests/common/fakegw.h): it keeps the replies for FETCH;
 * the network it plays is this. */
static struct fakegw fgw;
static unsigned long pkts_in, echoes, drops;
static bool lose_echoes; /* the network drops every echo (and loop) */

/* The whole network for one packet from our client (c): the reply to an
 * echo is stored for it (docs/gateway.md: SURB id, zeros, payload). */
static void network(struct fakegw *g, struct link_conn *c, const uint8_t *in)
{
	struct sphinx_unwrap_result res;
	struct sphinx_fwd_view v;
	uint8_t *pkt = bc_memdup(in, g->geo.packet_len), tag[32] = { 0 };

	pkts_in++;
	if (fakegw_forward(g, pkt, &res) != 0)
		goto done;
	if (memcmp(res.cmds.recipient_id, CPACKET_DROP_ID, 32) == 0) {
		drops++;
		goto done;
	}
	if (sphinx_fwd_decode(&g->geo, pkt + res.payload_off, &v) != 0 ||
	    v.surb == NULL)
		goto done;
	if (lose_echoes)
		goto done;
	if (fakegw_reply(g, v.surb, "echo", 4, pkt, &res) != 0)
		goto done;
	echoes++;
	memcpy(tag, res.cmds.surb_id, 16);
	fakegw_store(g, link_conn_peer_key(c), LINK_ITEM_REPLY, tag,
		     pkt + res.payload_off, g->geo.payload_len);
done:
	free(pkt);
}

/* Every queue command is answered OK: the client has only the one queue
 * the gateway gives it. */
static const struct fakegw_ops ops = { .packet = network };

/* A consensus valid now (epochs of a minute), fast rates; its link key for
 * our gateway unless omit_gateway. */
static void make_consensus(void)
{
	const struct dir_params p = {
		.epoch_len_s = 60, .grace_s = 10, .hops = 5, .blob_len = 2000,
		.mean_delay_ms = 1, .max_delay_ms = 10, .lambda_p = 10000,
		.lambda_l = 10000, .lambda_d = 5000, .lambda_f = 50000,
		.mix_loop = 1000,
	};
	cr_assert_eq(fakegw_make_consensus(&fgw, &p, omit_gateway), 0);
}

static void start_gateway_on(uint16_t port)
{
	cr_assert_eq(fakegw_start(&fgw, "127.0.0.1", port), 0);
}

/* The consensus first: the client asks for it as soon as it connects. */
static void start_gateway(void)
{
	make_consensus();
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
	snprintf(dir, sizeof(dir), "/tmp/bc-client-daemon-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(fakegw_init(&fgw, &ops), 0);
	omit_gateway = false;
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
	char text[2048], auth[512], b64[64], one[128], err[256];
	cr_assert_eq(
		fakegw_keys_b64(&fgw, auth, sizeof(auth), b64, sizeof(b64)), 0);
	write_file("pass", "a passphrase\n");
	snprintf(text, sizeof(text),
		 "[client]\ngateway = 127.0.0.1:%u\ngateway_key = %s\n"
		 "authorities = %s\nstore = %s/client.db\n"
		 "passphrase_file = %s/pass\ncontrol_socket = %s/c.sock\n"
		 "store_cost_mib = 8\nlog_level = warn\n",
		 fgw.port, b64, auth, dir, dir, dir);
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

static void stop_gateway(void)
{
	cr_assert_eq(fakegw_stop(&fgw), 0);
	client_config_free(&cfg);
	fakegw_free(&fgw);
}

static pthread_t dt;

/* The fake gateway, the daemon's config, the daemon on its own thread. */
static void start_daemon(void)
{
	start_gateway();
	configure();
	cr_assert_eq(pthread_create(&dt, NULL, d_run, NULL), 0);
}

/* SIGTERM: the daemon stops cleanly (exit code 0); then the gateway. */
static void stop_daemon(void)
{
	kill(getpid(), SIGTERM);
	pthread_join(dt, NULL);
	cr_assert_eq(daemon_rc, 0);
	stop_gateway();
}

Test(client_daemon, healthy_network_in_status)
{
	json_t *j = NULL;

	start_daemon();
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
	cr_assert_eq(jint(j, "consensus", "nodes"), FAKEGW_NODES);
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
	cr_assert_eq(fgw.confirm_frames, 0, "confirmations ride on FETCH only");
	stop_daemon();
}

Test(client_daemon, gateway_key_not_in_consensus_stops)
{
	omit_gateway = true;
	start_daemon();
	pthread_join(dt, NULL);
	cr_assert_eq(daemon_rc, 1);
	stop_gateway();
}

Test(client_daemon, clock_off_by_a_minute_stops)
{
	fgw.skew_ms = 60000;
	start_daemon();
	pthread_join(dt, NULL);
	cr_assert_eq(daemon_rc, 1);
	stop_gateway();
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
	start_daemon();
	json_t *j = wait_status(ready_once);
	cr_assert(j != NULL && ready_once(j));
	json_decref(j);
	/* The gateway goes away and comes back on the same port. */
	uint16_t port = fgw.port;
	cr_assert_eq(fakegw_stop(&fgw), 0);
	start_gateway_on(port);
	j = wait_status(ready_again);
	char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
	cr_assert(j != NULL && ready_again(j), "%s", dump ? dump : "none");
	cr_assert_eq(jint(j, "gateway", "disconnects"), 1);
	free(dump);
	json_decref(j);
	stop_daemon();
}

static bool alarm_on(json_t *j)
{
	return json_is_true(
		json_object_get(json_object_get(j, "loops"), "alarm"));
}

/* A network that drops every loop: the loop alarm shows in status. */
Test(client_daemon, lost_loops_raise_the_alarm)
{
	lose_echoes = true;
	start_daemon();
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
	stop_daemon();
}
