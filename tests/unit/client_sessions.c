/*
 * Two real client daemons (the `backchannel client` binary, as child
 * processes) become contacts and talk through fake gateways in this
 * process (tests/common/fakegw.h; what it stores is modelled here). The
 * fake speaks the real link protocol and plays the whole network: it
 * unwraps each packet through every hop with the nodes' keys, stores a
 * packet for a queue as a message item for the queue's owner (every
 * message item TWICE, under two item ids, so that each client sees
 * duplicate fragments, HELLOs and WELCOMEs), answers the reply block as the
 * acknowledgement, answers echoes, and obeys QUEUE_CREATE / QUEUE_DELETE.
 *
 * Checked through the control sockets: one invitation makes the contacts
 * (same safety number), messages both ways incl. one of 20 kB arrive once
 * each with every state reached and each time set, read receipts, a
 * SIGKILL and restart of one side in the middle loses nothing, a move to
 * another gateway is told in-band, what was left at the old one is
 * fetched from there (texts, receipts, an invitation accepted after the
 * move, a WELCOME for an acceptance), over a restart too, and the old
 * queues are deleted there; an unreachable old gateway is given up; block
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

#include "client/cpacket.h"
#include "common/fakegw.h"
#include "crypto/x25519.h"
#include "lib/alloc.h"
#include "net/ctlsock.h"
#include "store/client_store.h"
#include "wire/link_frame.h"
#include "wire/sphinx_packet.h"

#define MAXQUEUES 64

static char dir[64];

/*
 * Two fake gateways (tests/common/fakegw.h; each its own thread, keys,
 * consensus and mailbox), at 127.0.0.1 and 127.0.0.2: fgw2 is where a
 * client moves to. Node 0 of both consensuses has the same identity, so a
 * packet for a queue at either reaches it through the sender's gateway.
 * The queues of both are this table, under qmu (taken after a gateway's
 * own lock, never before).
 */
static struct fakegw fgw, fgw2;
static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static struct queue {
	uint8_t id[32], owner[32];
	struct fakegw *gw; /* where it was created */
	bool deleted;
} queues[MAXQUEUES];
static size_t nqueues;
static struct buf stored; /* every message item's bytes ever stored */
static unsigned long deletes, blocked_drops;
static unsigned long deletes_at[2]; /* at fgw, at fgw2 */

/* A copy of queue id, the one at prefer if it has one; false: none. */
static bool queue_find(const uint8_t id[32], const struct fakegw *prefer,
		       struct queue *out)
{
	bool found = false;

	pthread_mutex_lock(&qmu);
	for (size_t i = 0; i < nqueues; i++)
		if (memcmp(queues[i].id, id, 32) == 0 &&
		    (!found || queues[i].gw == prefer)) {
			*out = queues[i];
			found = true;
		}
	pthread_mutex_unlock(&qmu);
	return found;
}

/* Store an item at q's gateway; called on cur's thread with cur->mu
 * held: another gateway's lock is taken only once cur's is released
 * (the two threads would deadlock otherwise). */
static void store_at(struct fakegw *cur, const struct queue *q, uint8_t kind,
		     const uint8_t tag[32], const uint8_t *p, size_t plen)
{
	struct fakegw *at = q->gw;

	if (at != cur) {
		pthread_mutex_unlock(&cur->mu);
		pthread_mutex_lock(&at->mu);
	}
	const struct fakegw_item *it =
		fakegw_store(at, q->owner, kind, tag, p, plen);
	if (it != NULL && kind == LINK_ITEM_MESSAGE) {
		pthread_mutex_lock(&qmu);
		buf_append(&stored, it->data, it->len);
		pthread_mutex_unlock(&qmu);
	}
	if (at != cur) {
		pthread_mutex_unlock(&at->mu);
		pthread_mutex_lock(&cur->mu);
	}
}

static void store_message(struct fakegw *g, const struct queue *q,
			  const uint8_t *blob)
{
	store_at(g, q, LINK_ITEM_MESSAGE, q->id, blob, g->geo.blob_len);
}

/* Answer the reply block of a packet sent through g: the reply goes to
 * its maker's reply queue at g. */
static void answer_surb(struct fakegw *g, const uint8_t *surb,
			const char *what)
{
	struct sphinx_unwrap_result res;
	uint8_t *pkt = malloc(g->geo.packet_len), tag[32] = { 0 };
	struct queue q;

	if (fakegw_reply(g, surb, what, strlen(what), pkt, &res) == 0 &&
	    queue_find(res.cmds.recipient_id, g, &q) && !q.deleted) {
		memcpy(tag, res.cmds.surb_id, 16);
		store_at(g, &q, LINK_ITEM_REPLY, tag, pkt + res.payload_off,
			 g->geo.payload_len);
	}
	free(pkt);
}

/* The whole network for one packet. */
static void network(struct fakegw *g, struct link_conn *c, const uint8_t *in)
{
	struct sphinx_unwrap_result res;
	struct sphinx_fwd_view v;
	uint8_t *pkt = bc_memdup(in, g->geo.packet_len);

	(void)c;
	if (fakegw_forward(g, pkt, &res) != 0 ||
	    memcmp(res.cmds.recipient_id, CPACKET_DROP_ID, 32) == 0 ||
	    sphinx_fwd_decode(&g->geo, pkt + res.payload_off, &v) != 0)
		goto done;
	if (memcmp(res.cmds.recipient_id, CPACKET_ECHO_ID, 32) != 0) {
		struct queue q;
		if (!queue_find(res.cmds.recipient_id, g, &q) || q.deleted) {
			blocked_drops++;
			goto done; /* no queue: dropped, no acknowledgement */
		}
		/* Twice: the client must drop the duplicate. */
		store_message(g, &q, v.blob);
		store_message(g, &q, v.blob);
		/* The first one also once with a bit flipped, as a gateway
		 * tampering with it would: refused and logged. */
		static bool tampered;
		if (!tampered) {
			tampered = true;
			uint8_t *t = bc_memdup(v.blob, g->geo.blob_len);
			t[g->geo.blob_len / 2] ^= 0x10;
			store_message(g, &q, t);
			free(t);
		}
	}
	if (v.surb != NULL)
		answer_surb(g, v.surb, "ack");
done:
	free(pkt);
}

/* QUEUE_CREATE / QUEUE_DELETE of client c; a deleted queue's messages go. */
static uint8_t queue_op(struct fakegw *g, struct link_conn *c,
			const struct link_cmd *cmd)
{
	const uint8_t *who = link_conn_peer_key(c);
	struct queue *q = NULL;
	uint8_t code = LINK_OK;

	pthread_mutex_lock(&qmu);
	for (size_t i = 0; i < nqueues; i++)
		if (memcmp(queues[i].id, cmd->u.queue.id, 32) == 0 &&
		    queues[i].gw == g)
			q = &queues[i];
	if (cmd->type == LINK_CMD_QUEUE_CREATE) {
		if (q != NULL)
			code = LINK_ERR_EXISTS;
		else if (nqueues == MAXQUEUES)
			code = LINK_ERR_QUOTA;
		else {
			q = &queues[nqueues++];
			memcpy(q->id, cmd->u.queue.id, 32);
			memcpy(q->owner, who, 32);
			q->gw = g;
		}
	} else if (q == NULL || q->deleted || memcmp(q->owner, who, 32) != 0) {
		code = LINK_ERR_NO_QUEUE;
	} else {
		q->deleted = true;
		deletes++;
		deletes_at[g == &fgw2]++;
		fakegw_drop_tagged(g, LINK_ITEM_MESSAGE, q->id);
	}
	pthread_mutex_unlock(&qmu);
	return code;
}

static const struct fakegw_ops ops = { .packet = network, .queue = queue_op };

/* A consensus valid now (epochs of ten minutes), fast rates, then both
 * gateways on every address. */
static void start_gateway(void)
{
	const struct dir_params p = {
		.epoch_len_s = 600, .grace_s = 60, .hops = 5, .blob_len = 2000,
		.mean_delay_ms = 1, .max_delay_ms = 10, .lambda_p = 20000,
		.lambda_l = 2000, .lambda_d = 2000, .lambda_f = 60000,
		.mix_loop = 1000,
	};
	cr_assert_eq(fakegw_make_consensus(&fgw, &p, false), 0);
	cr_assert_eq(fakegw_start(&fgw, "0.0.0.0", 0), 0);
	cr_assert_eq(fakegw_make_consensus(&fgw2, &p, false), 0);
	cr_assert_eq(fakegw_start(&fgw2, "0.0.0.0", 0), 0);
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
 * 127.0.0.HOST (1: fgw, 2: fgw2); extra: more lines. */
static void configure_at(const char *who, int host, const char *extra)
{
	char text[2048], auth[512], b64[64], one[128];
	struct fakegw *g = host == 2 ? &fgw2 : &fgw;
	cr_assert_eq(
		fakegw_keys_b64(g, auth, sizeof(auth), b64, sizeof(b64)), 0);
	snprintf(one, sizeof(one), "%s.pass", who);
	write_file(one, "a passphrase\n");
	snprintf(text, sizeof(text),
		 "[client]\ngateway = 127.0.0.%d:%u\ngateway_key = %s\n"
		 "authorities = %s\nstore = %s/%s.db\n"
		 "passphrase_file = %s/%s.pass\ncontrol_socket = %s/%s.sock\n"
		 "store_cost_mib = 8\nlog_level = info\nname = %s\n%s",
		 host, g->port, b64, auth, dir, who, dir, who, dir, who, who,
		 extra);
	snprintf(one, sizeof(one), "%s.ini", who);
	write_file(one, text);
}

static void configure(const char *who)
{
	configure_at(who, 1, "");
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
static bool log_has(const char *who, const char *text);

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
	pthread_mutex_lock(&qmu);
	bool found = false;
	for (size_t i = 0; i + 32 <= stored.len && !found; i++)
		found = memcmp(stored.data + i, key, 32) == 0;
	pthread_mutex_unlock(&qmu);
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
	snprintf(dir, sizeof(dir), "/tmp/bc-sessions-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(fakegw_init(&fgw, &ops), 0);
	cr_assert_eq(fakegw_init(&fgw2, &ops), 0);
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

/* A number from who's status: section.key (-1 if absent). */
static long long status_int(const char *who, const char *sec, const char *key)
{
	json_t *j = ctl(who, "{\"cmd\":\"status\"}");
	json_t *v = j ? json_object_get(json_object_get(j, sec), key) : NULL;
	long long n = json_is_integer(v) ? json_integer_value(v) : -1;
	json_decref(j);
	return n;
}

/* The state of who's old gateway (status "old_gateway"). */
static bool old_gateway(const char *who, const char *state)
{
	json_t *j = ctl(who, "{\"cmd\":\"status\"}");
	const char *st = j ? jstr(json_object_get(j, "old_gateway"), "state")
			   : NULL;
	bool ok = st != NULL && strcmp(st, state) == 0;
	json_decref(j);
	return ok;
}

static unsigned long deleted_at(int k)
{
	pthread_mutex_lock(&qmu);
	unsigned long n = deletes_at[k];
	pthread_mutex_unlock(&qmu);
	return n;
}

/* Is owner the owner of a queue deleted at fgw (one of alice's old
 * queues: hers are the only ones deleted there)?  Holds qmu. */
static bool owns_deleted_at_old(const uint8_t owner[32])
{
	for (size_t q = 0; q < nqueues; q++)
		if (queues[q].gw == &fgw && queues[q].deleted &&
		    memcmp(queues[q].owner, owner, 32) == 0)
			return true;
	return false;
}

/* Messages still at the old gateway (fgw): every one when none of alice's
 * queues there is deleted yet, else only alice's (bob's own queue is at
 * fgw too, and may hold an item until his next fetch). */
static size_t items_at_old(void)
{
	pthread_mutex_lock(&fgw.mu);
	pthread_mutex_lock(&qmu);
	bool any_deleted = false;
	for (size_t q = 0; q < nqueues; q++)
		any_deleted |= queues[q].gw == &fgw && queues[q].deleted;
	size_t n = 0;
	for (size_t i = 0; i < fgw.nitems; i++)
		n += fgw.items[i].data[0] == LINK_ITEM_MESSAGE &&
		     (!any_deleted || owns_deleted_at_old(fgw.items[i].owner));
	pthread_mutex_unlock(&qmu);
	pthread_mutex_unlock(&fgw.mu);
	return n;
}

static char invite2[600];

/*
 * Before alice moves: an invitation of hers still open, a text of hers
 * whose delivery receipt, and a text of bob's, both wait at her old queue
 * (she is down when bob sends them).
 */
static void phase_before_move(char i6[33], char i7[33])
{
	json_t *j = ctl("alice", "{\"cmd\":\"invite\",\"name\":\"bob2\","
				 "\"expires_s\":3600}");
	cr_assert(json_is_true(json_object_get(j, "ok")));
	snprintf(invite2, sizeof(invite2), "%s", jstr(j, "code"));
	json_decref(j);
	cr_assert_eq(stop(pb, SIGTERM), 0);
	send_text("alice", "bob", "before my move", i6);
	WAIT(msg_state("alice", i6, "out", "acknowledged"), 30);
	cr_assert_eq(stop(pa, SIGTERM), 0);
	pb = start_client("bob");
	WAIT(ready("bob"), 20);
	WAIT(msg_state("bob", i6, "in", "received"), 30);
	send_text("bob", "alice", "to your old queue", i7);
	WAIT(msg_state("bob", i7, "out", "acknowledged") &&
		     status_int("bob", "queues", "outbox") == 0,
	     30);
	cr_assert_gt(items_at_old(), 0, "waiting at the old gateway");
}

/*
 * Alice moves to the other gateway (same keys; fgw2): what waited at her
 * old queue arrives (once), bob learns her new queue in-band, talk goes
 * on; the open invitation keeps the drain going over a SIGKILL and
 * restart and is accepted after the move; then every old queue is deleted
 * at the old gateway and it is forgotten.
 */
static void phase_move(void)
{
	char i3[33], i4[33], i6[33], i7[33], i8[33], gw2[64];
	int n;

	phase_before_move(i6, i7);
	configure_at("alice", 2, "");
	pa = start_client("alice");
	snprintf(gw2, sizeof(gw2), "127.0.0.2:%u", fgw2.port);
	WAIT(msg_state("alice", i6, "out", "delivered"), 30);
	WAIT(msg_state("alice", i7, "in", "received"), 30);
	json_t *m = message("alice", i7, "in", &n);
	cr_assert_eq(n, 1, "the text from the old queue once");
	json_decref(m);
	WAIT(contact_gateway("bob", "alice", gw2), 30);
	send_text("bob", "alice", "after your move", i3);
	send_text("alice", "bob", "from the new address", i4);
	WAIT(msg_state("bob", i3, "out", "delivered"), 30);
	WAIT(msg_state("alice", i4, "out", "delivered"), 30);
	m = message("alice", i3, "in", &n);
	cr_assert_eq(n, 1);
	json_decref(m);
	WAIT(deleted_at(0) == 1, 30); /* bob's old queue: drained, deleted */
	/* The open invitation's queue keeps the drain going, also over a
	 * SIGKILL and restart. */
	WAIT(status_int("alice", "old_gateway", "queues_left") == 1, 10);
	cr_assert(old_gateway("alice", "draining"));
	stop(pa, SIGKILL);
	pa = start_client("alice");
	WAIT(ready("alice"), 20);
	cr_assert(old_gateway("alice", "draining"));
	json_t *j = ctl("bob", "{\"cmd\":\"accept\",\"code\":\"%s\","
			       "\"name\":\"alice2\"}", invite2);
	cr_assert(json_is_true(json_object_get(j, "ok")), "accept: %s",
		  jstr(j, "error"));
	json_decref(j);
	WAIT(contact_state("alice", "bob2", "ready"), 30);
	WAIT(contact_gateway("bob", "alice2", gw2), 30);
	send_text("bob", "alice2", "accepted after your move", i8);
	WAIT(msg_state("bob", i8, "out", "delivered"), 30);
	WAIT(old_gateway("alice", "none"), 30);
	cr_assert_eq(deleted_at(0), 2, "both old queues deleted there");
	cr_assert_eq(items_at_old(), 0);
	cr_assert(log_has("alice", "drained the old gateway"));
}

/*
 * Bob moves too, while an acceptance of his waits for its WELCOME (alice
 * is down): the WELCOME comes to his reply queue at the old gateway, is
 * fetched from there, the contact becomes ready and is told of his move.
 */
static void phase_accept_move(void)
{
	char code[600], gw2[64];

	json_t *j = ctl("alice", "{\"cmd\":\"invite\",\"name\":\"bob3\"}");
	cr_assert(json_is_true(json_object_get(j, "ok")));
	snprintf(code, sizeof(code), "%s", jstr(j, "code"));
	json_decref(j);
	cr_assert_eq(stop(pa, SIGTERM), 0);
	j = ctl("bob", "{\"cmd\":\"accept\",\"code\":\"%s\",\"name\":"
		       "\"alice3\"}", code);
	cr_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	WAIT(status_int("bob", "queues", "outbox") == 0, 30);
	cr_assert_eq(stop(pb, SIGTERM), 0);
	configure_at("bob", 2, "");
	pb = start_client("bob");
	WAIT(old_gateway("bob", "draining"), 20);
	cr_assert(contact_state("bob", "alice3", "accepting"));
	pa = start_client("alice");
	snprintf(gw2, sizeof(gw2), "127.0.0.2:%u", fgw2.port);
	WAIT(contact_state("bob", "alice3", "ready"), 30);
	WAIT(contact_gateway("alice", "bob3", gw2), 30);
	WAIT(contact_gateway("alice", "bob", gw2), 30);
	WAIT(old_gateway("bob", "none"), 30);
}

/* Block: alice's queue deleted; bob's next message never arrives. */
static void phase_block(void)
{
	int n;

	unsigned long before = deleted_at(1);
	json_t *j = ctl("alice", "{\"cmd\":\"block\",\"name\":\"bob\"}");
	cr_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	WAIT(deleted_at(1) == before + 1, 10);
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
	start_gateway();
	configure("alice");
	configure("bob");
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
	phase_accept_move();
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

	cr_assert_eq(fakegw_stop(&fgw), 0);
	cr_assert_eq(fakegw_stop(&fgw2), 0);
	fakegw_free(&fgw);
	fakegw_free(&fgw2);
	buf_free(&stored);
}

/*
 * The old gateway is gone when alice moves, with a message of bob's left
 * in her queue there: the drain keeps trying until its deadline (12 s
 * here), then gives up with one log line and says so in status; what bob
 * sent after her move, held in sequence behind the lost message, is then
 * handed up. A restart after that does not try again.
 */
Test(client_sessions, unreachable_old_gateway_given_up)
{
	char code[600], k1[33], k2[33], k3[33], gw2[64];
	int n;

	start_gateway();
	configure("alice");
	configure_at("bob", 2, "");
	pa = start_client("alice");
	pb = start_client("bob");
	WAIT(ready("alice") && ready("bob"), 20);
	json_t *j = ctl("alice", "{\"cmd\":\"invite\",\"name\":\"bob\"}");
	cr_assert(json_is_true(json_object_get(j, "ok")));
	snprintf(code, sizeof(code), "%s", jstr(j, "code"));
	json_decref(j);
	j = ctl("bob", "{\"cmd\":\"accept\",\"code\":\"%s\",\"name\":"
		       "\"alice\"}", code);
	cr_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	WAIT(contact_state("alice", "bob", "ready"), 30);
	send_text("alice", "bob", "hello", k1);
	WAIT(msg_state("alice", k1, "out", "delivered"), 30);
	cr_assert_eq(stop(pa, SIGTERM), 0);
	send_text("bob", "alice", "left at the old gateway", k2);
	WAIT(msg_state("bob", k2, "out", "acknowledged"), 30);
	cr_assert_eq(fakegw_stop(&fgw), 0);
	configure_at("alice", 2, "old_gateway_drain = 12s\n");
	pa = start_client("alice");
	WAIT(old_gateway("alice", "draining"), 20);
	snprintf(gw2, sizeof(gw2), "127.0.0.2:%u", fgw2.port);
	WAIT(contact_gateway("bob", "alice", gw2), 30);
	send_text("bob", "alice", "after your move", k3);
	WAIT(msg_state("bob", k3, "out", "acknowledged"), 30);
	cr_assert(old_gateway("alice", "draining"), "deadline too short");
	WAIT(old_gateway("alice", "given_up"), 20);
	cr_assert_eq(status_int("alice", "old_gateway", "queues_left"), 1);
	cr_assert(log_has("alice", "gave up draining the old gateway"));
	WAIT(msg_state("alice", k3, "in", "received"), 20);
	cr_assert_null(message("alice", k2, "in", &n));
	cr_assert_eq(stop(pa, SIGTERM), 0);
	pa = start_client("alice");
	WAIT(ready("alice"), 20);
	nap(1000);
	cr_assert(old_gateway("alice", "given_up"));
	cr_assert_eq(status_int("alice", "old_gateway", "fetches"), 0);
	cr_assert_eq(stop(pa, SIGTERM), 0);
	cr_assert_eq(stop(pb, SIGTERM), 0);
	cr_assert_eq(fakegw_stop(&fgw2), 0);
	fakegw_free(&fgw);
	fakegw_free(&fgw2);
	buf_free(&stored);
}
