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
#include <sys/wait.h>
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
#include "lib/time.h"
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

/*
 * Freeze mode: the first echo that comes in stops the client's process
 * (SIGSTOP to stop_pid, from the gateway's thread, right after the client
 * sent it) and from then on replies are held aside, as if the network were
 * still carrying them, until the test releases them into the mailbox.
 */
static pid_t stop_pid;
static bool freeze_next, frozen;
#define HELD_MAX 64
static struct {
	uint8_t owner[32], tag[32], *payload;
} held[HELD_MAX];
static size_t nheld;

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
	if (freeze_next && !frozen) {
		kill(stop_pid, SIGSTOP);
		frozen = true;
	}
	if (frozen && nheld < HELD_MAX) {
		memcpy(held[nheld].owner, link_conn_peer_key(c), 32);
		memcpy(held[nheld].tag, tag, 32);
		held[nheld++].payload = bc_memdup(pkt + res.payload_off,
						  g->geo.payload_len);
		goto done;
	}
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
static struct dir_params params = {
	.epoch_len_s = 60, .grace_s = 10, .hops = 5, .blob_len = 2000,
	.mean_delay_ms = 1, .max_delay_ms = 10, .lambda_p = 10000,
	.lambda_l = 10000, .lambda_d = 5000, .lambda_f = 50000,
	.mix_loop = 1000,
};

static void make_consensus(void)
{
	cr_assert_eq(fakegw_make_consensus(&fgw, &params, omit_gateway), 0);
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

static pid_t kid; /* a daemon in a child process, killed if left */

static void teardown(void)
{
	char cmd[160];
	if (kid > 0) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(client_daemon, .init = setup, .fini = teardown, .timeout = 90);

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

/*
 * Wait until the status satisfies want(), at most limit_s seconds: the
 * deadline is on the clock, not a count of polls, since a poll itself may
 * take long on a starved machine (and a nap may end early). The last
 * status read, or NULL.
 */
static json_t *wait_status_for(bool (*want)(json_t *j), int limit_s)
{
	json_t *j = NULL;
	uint64_t end = (uint64_t)time_mono_ms() + (uint64_t)limit_s * 1000;

	do {
		struct timespec ts = { 0, 100000000L };
		nanosleep(&ts, NULL);
		json_decref(j);
		j = status();
		if (j != NULL && want(j))
			break;
	} while ((uint64_t)time_mono_ms() < end);
	return j;
}

/* Up to 30 s: the ASan build on a loaded 2-core machine is slow. */
static json_t *wait_status(bool (*want)(json_t *j))
{
	return wait_status_for(want, 30);
}

static const char *jstr(json_t *j, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(j, a), b));
}

static double jreal(json_t *j, const char *a, const char *b)
{
	return json_real_value(json_object_get(json_object_get(j, a), b));
}

/* Everything healthy_network_in_status asserts. */
static bool healthy(json_t *j)
{
	const char *link = jstr(j, "gateway", "link");
	const char *st = jstr(j, "gateway", "state");
	double r = jreal(j, "loops", "return_ratio");

	return link != NULL && strcmp(link, "up") == 0 && st != NULL &&
	       strcmp(st, "ready") == 0 && jint(j, "sent", "send") > 0 &&
	       jint(j, "sent", "drop") > 0 && jint(j, "sent", "fetch") > 0 &&
	       jint(j, "loops", "back") >= 5 && r > 0.5 && r <= 1.0 &&
	       json_is_false(json_object_get(json_object_get(j, "loops"),
					     "alarm")) &&
	       jint(j, "round_trip_ms", "n") > 0 &&
	       jreal(j, "round_trip_ms", "p99") > 0.0;
}

/*
 * The status must come to show all of it. Waiting for all of it, not for a
 * part and asserting the rest: on a starved machine loops come back late,
 * count as lost and raise the alarm until enough come back in time.
 */
Test(client_daemon, healthy_network_in_status)
{
	start_daemon();
	json_t *j = wait_status_for(healthy, 45);
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

/* The daemon in a child process (so that it can be stopped alone). */
static void start_daemon_process(void)
{
	start_gateway();
	configure();
	kid = fork();
	cr_assert_geq(kid, 0);
	if (kid == 0)
		_exit(client_daemon_run(&cfg));
}

static bool loops_judged(json_t *j)
{
	return jint(j, "loops", "window") >= 5;
}

static long long judge_upto; /* loops sent before the freeze ended */

static bool freeze_judged(json_t *j)
{
	return jint(j, "loops", "window") >= judge_upto;
}

/*
 * A client that does not run (stopped, or starved of CPU on a loaded
 * machine) for longer than the round trip's p99 has not lost the loops it
 * sent just before: their replies wait at the gateway until it fetches
 * again, and the network delivered them in time. The daemon leaves the
 * time it did not run out of the loop alarm's clock; without that, every
 * loop in flight at the freeze counts as lost (and enough freezes raise a
 * false alarm). The network here holds the replies while the client is
 * stopped and hands them to the gateway before it wakes.
 */
Test(client_daemon, stopped_client_does_not_lose_its_loops)
{
	/* Few cover echoes: the first echo frozen on is nearly surely a
	 * loop. A p99 round trip of seconds (the fake network itself adds
	 * no delay): a client merely slowed by a loaded machine, or a gateway
	 * thread starved for a moment, still has its loops back in time. */
	params.lambda_p = 100;
	params.mean_delay_ms = 100;
	params.max_delay_ms = 1000;
	start_daemon_process();
	json_t *j = wait_status(loops_judged);
	cr_assert(j != NULL && loops_judged(j), "no loops judged");
	long long p99 = jint(j, "consensus", "rtt_p99_ms");
	cr_assert(p99 > 500 && p99 < 5000, "p99 %lld ms", p99);
	cr_assert_eq(jreal(j, "loops", "window_ratio"), 1.0);
	json_decref(j);

	pthread_mutex_lock(&fgw.mu);
	stop_pid = kid;
	freeze_next = true;
	pthread_mutex_unlock(&fgw.mu);
	/* The next echo stops the client; keep it stopped well past p99. */
	for (bool f = false; !f;) {
		struct timespec ts = { 0, 10000000L };
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&fgw.mu);
		f = frozen;
		pthread_mutex_unlock(&fgw.mu);
	}
	/* Stopped for p99 and a second: long enough that a loop sent just
	 * before counts as lost unless the stop is left out. */
	uint64_t wake = (uint64_t)time_mono_ms() + (uint64_t)p99 + 1000;
	while ((uint64_t)time_mono_ms() < wake) {
		struct timespec ts = { 0, 50000000L };
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&fgw.mu);
	size_t n = nheld;
	for (size_t i = 0; i < nheld; i++) {
		fakegw_store(&fgw, held[i].owner, LINK_ITEM_REPLY, held[i].tag,
			     held[i].payload, fgw.geo.payload_len);
		free(held[i].payload);
	}
	nheld = 0;
	frozen = false;
	freeze_next = false;
	pthread_mutex_unlock(&fgw.mu);
	cr_assert_geq(n, 1);
	cr_assert_eq(kill(kid, SIGCONT), 0);

	/* Every loop sent up to now judged: none was lost. */
	j = wait_status(loops_judged);
	cr_assert_not_null(j);
	judge_upto = jint(j, "loops", "sent");
	cr_assert_lt(judge_upto, 100, "the window holds them all");
	json_decref(j);
	j = wait_status(freeze_judged);
	char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
	cr_assert(j != NULL && freeze_judged(j), "%s", dump ? dump : "none");
	cr_log_info("status: %s", dump);
	cr_assert_eq(jreal(j, "loops", "window_ratio"), 1.0,
		     "a loop of the freeze counted as lost: %s", dump);
	cr_assert(json_is_false(json_object_get(json_object_get(j, "loops"),
						"alarm")),
		  "%s", dump);
	free(dump);
	json_decref(j);

	int st = 0;
	cr_assert_eq(kill(kid, SIGTERM), 0);
	cr_assert_eq(waitpid(kid, &st, 0), kid);
	kid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	stop_gateway();
}
