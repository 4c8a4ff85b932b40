/*
 * A gateway killed with SIGKILL under load loses no acknowledged blob.
 *
 * The gateway runs in a child process fed with real one-hop Sphinx packets
 * through a pipe; its acknowledgements (reply packets built from each
 * packet's reply block, sent only after the commit) come back through a
 * second pipe, and the test unwraps each one at the reply block's first hop
 * to learn which packet it acknowledges.  The child is killed at a random
 * moment of every cycle and started again on the same database; each cycle
 * also replays packets of the previous one.  At the end every acknowledged
 * blob must be stored, and no blob twice.
 *
 * Cycles: BC_GATEWAY_KILL_CYCLES (default 50; `make soak-gateway` sets it).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "lib/bytes.h"
#include "lib/time.h"
#include "node/gateway.h"
#include "store/mailbox.h"
#include "wire/sphinx_surb.h"

#define MAX_SEQ 20000
#define REPLAYS 8

static struct sphinx_geometry geom;
static char dir[] = "/tmp/gwkillXXXXXX";
static char dbpath[128];
static uint8_t gw_id[32], gw_pub[32], gw_priv[32];
static uint8_t c_id[32], c_pub[32], c_priv[32];
static uint8_t queue[32], client_key[32];
static bool acked[MAX_SEQ];

static struct gateway_cfg
gw_cfg(void)
{
	struct gateway_cfg c = {.db_path = dbpath, .geom = geom,
				.batch_max = 32};
	return c;
}

/* ---- the child: a gateway fed from a pipe ---------------------------- */

static int ack_fd = -1;

static bool
write_ack(void *ctx, const uint8_t *hop, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	(void)hop;
	/* len < PIPE_BUF: one atomic write per acknowledgement. */
	return write(ack_fd, pkt, len) == (ssize_t)len;
}

static struct gateway *child_gw;

static void
child_wake(void *ctx)
{
	(void)ctx;
	if (child_gw) /* acks leave right after their commit */
		gateway_drain(child_gw, write_ack, NULL);
}

static void
child_main(int in_fd)
{
	char err[256];
	struct gateway_cfg c = gw_cfg();
	struct gateway *gw;
	c.wake = child_wake;
	gw = gateway_open(&c, err, sizeof(err));
	if (!gw) {
		fprintf(stderr, "child: %s\n", err);
		_exit(2);
	}
	child_gw = gw;
	struct sphinx_unwrap_ctx *ux = sphinx_unwrap_ctx_new(&geom);
	uint8_t pkt[4096];
	for (;;) {
		size_t got = 0;
		while (got < geom.packet_len) {
			ssize_t r = read(in_fd, pkt + got,
					 geom.packet_len - got);
			if (r <= 0)
				_exit(r == 0 ? 0 : 3);
			got += (size_t)r;
		}
		struct sphinx_unwrap_result res;
		if (sphinx_unwrap(ux, gw_priv, pkt, geom.packet_len, 1000,
				  &res) != SPHINX_OK)
			_exit(4);
		gateway_on_final(gw, &res, pkt, geom.packet_len);
		gateway_drain(gw, write_ack, NULL);
	}
}

/* ---- the parent ------------------------------------------------------ */

static void
make_packet(uint8_t *pkt, uint32_t seq)
{
	struct sphinx_path_hop h, r;
	uint8_t user[4096], blob[4096], surb[1024];
	uint8_t token[2 * SPHINX_KEY_IV_LEN];
	memset(&r, 0, sizeof(r));
	memcpy(r.id, c_id, 32);
	memcpy(r.pub, c_pub, 32);
	r.cmds.has_recipient = true;
	r.cmds.has_surb_reply = true;
	be32_put(r.cmds.surb_id, seq);
	cr_assert_eq(sphinx_surb_create(&geom, &r, 1, surb, token), SPHINX_OK);
	memset(&h, 0, sizeof(h));
	memcpy(h.id, gw_id, 32);
	memcpy(h.pub, gw_pub, 32);
	h.cmds.has_recipient = true;
	memcpy(h.cmds.recipient_id, queue, 32);
	rand_bytes(blob, geom.blob_len);
	be32_put(blob, seq);
	cr_assert_eq(sphinx_fwd_encode(&geom, user, surb, blob, geom.blob_len),
		     0);
	cr_assert_eq(sphinx_packet_create(&geom, &h, 1, user, geom.user_len,
					  pkt, geom.packet_len),
		     SPHINX_OK);
}

struct acks {
	uint8_t buf[8192];
	size_t have;
	size_t n;
	struct sphinx_unwrap_ctx *ux;
};

static void
take_acks(struct acks *a, int fd, bool until_eof)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (!until_eof && poll(&p, 1, 0) <= 0)
			return;
		ssize_t r = read(fd, a->buf + a->have, sizeof(a->buf) - a->have);
		if (r <= 0)
			return;
		a->have += (size_t)r;
		while (a->have >= geom.packet_len) {
			struct sphinx_unwrap_result res;
			cr_assert_eq(sphinx_unwrap(a->ux, c_priv, a->buf,
						   geom.packet_len, 1000, &res),
				     SPHINX_OK, "an ack that does not unwrap");
			uint32_t seq = be32_get(res.cmds.surb_id);
			cr_assert_lt(seq, MAX_SEQ);
			acked[seq] = true;
			a->n++;
			memmove(a->buf, a->buf + geom.packet_len,
				a->have - geom.packet_len);
			a->have -= geom.packet_len;
		}
	}
}

static void
prepare(void)
{
	char err[256];
	cr_assert_eq(crypto_init(), 0);
	sphinx_geometry_default(&geom);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/node.db", dir);
	rand_bytes(gw_id, 32);
	x25519_keypair(gw_pub, gw_priv);
	rand_bytes(c_id, 32);
	x25519_keypair(c_pub, c_priv);
	rand_bytes(queue, 32);
	rand_bytes(client_key, 32);
	struct gateway_cfg c = gw_cfg();
	struct gateway *gw = gateway_open(&c, err, sizeof(err));
	cr_assert_not_null(gw, "%s", err);
	struct mailbox *mb = gateway_mailbox(gw);
	cr_assert_eq(mailbox_register(mb, client_key, NULL), MAILBOX_OK);
	cr_assert_eq(mailbox_account_set_quota(mb, client_key, 1000000, 10),
		     MAILBOX_OK);
	cr_assert_eq(mailbox_queue_create(mb, client_key, queue), MAILBOX_OK);
	gateway_close(gw);
}

/* Counts stored blobs per seq (confirming as it goes). */
static void
count_stored(uint8_t *count, size_t *total)
{
	char err[256];
	struct gateway_cfg c = gw_cfg();
	struct gateway *gw = gateway_open(&c, err, sizeof(err));
	cr_assert_not_null(gw, "reopen after the last kill: %s", err);
	struct mailbox *mb = gateway_mailbox(gw);
	size_t isz = gateway_item_size(&geom), n;
	struct mailbox_item *it = calloc(256, sizeof(*it));
	uint8_t *blobs = malloc(256 * isz);
	uint64_t ids[256];
	*total = 0;
	do {
		cr_assert_eq(mailbox_fetch(mb, client_key, it, 256, blobs,
					   256 * isz, &n),
			     MAILBOX_OK);
		for (size_t i = 0; i < n; i++) {
			uint32_t seq = be32_get(it[i].blob + GATEWAY_ITEM_HDR);
			cr_assert_lt(seq, MAX_SEQ);
			count[seq]++;
			ids[i] = it[i].id;
		}
		*total += n;
		if (n)
			cr_assert_eq(mailbox_confirm(mb, client_key, ids, n,
						     NULL),
				     MAILBOX_OK);
	} while (n);
	free(it);
	free(blobs);
	gateway_close(gw);
}

static void
cleanup(void)
{
	char p[160];
	const char *suf[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", dbpath, suf[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* One cycle: start, feed packets (and replays) for a random time, kill. */
static uint32_t
cycle(uint32_t seq, struct acks *a, uint8_t (*old)[4096], size_t *n_old)
{
	int in[2], ack[2];
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(ack), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(in[1]);
		close(ack[0]);
		ack_fd = ack[1];
		child_main(in[0]);
	}
	close(in[0]);
	close(ack[1]);
	uint32_t r;
	rand_bytes(&r, sizeof(r));
	int64_t kill_at = time_mono_ms() + 20 + r % 120;
	uint8_t pkt[4096];
	/* Never block on one pipe while the other fills: the child stops
	 * reading packets when its acknowledgements are not read. */
	cr_assert_eq(fcntl(in[1], F_SETFL, O_NONBLOCK), 0);
	size_t replay = 0, n_replay = *n_old;
	bool have = false;
	*n_old = 0;
	while (time_mono_ms() < kill_at && seq < MAX_SEQ) {
		if (!have) {
			/* Replays of the last cycle's packets first. */
			if (replay < n_replay)
				memcpy(pkt, old[replay++], geom.packet_len);
			else
				make_packet(pkt, seq++);
			have = true;
		}
		struct pollfd p[2] = {{.fd = in[1], .events = POLLOUT},
				      {.fd = ack[0], .events = POLLIN}};
		if (poll(p, 2, 10) < 0)
			continue;
		if (p[1].revents)
			take_acks(a, ack[0], false);
		if (!(p[0].revents & POLLOUT))
			continue;
		/* <= PIPE_BUF bytes: written whole or not at all. */
		if (write(in[1], pkt, geom.packet_len) !=
		    (ssize_t)geom.packet_len)
			continue;
		have = false;
		if (replay >= n_replay && *n_old < REPLAYS)
			memcpy(old[(*n_old)++], pkt, geom.packet_len);
	}
	kill(pid, SIGKILL);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st), "the child died of the kill, not before "
				   "(status %d)", st);
	close(in[1]);
	take_acks(a, ack[0], true); /* what left before the kill */
	close(ack[0]);
	return seq;
}

Test(gateway_kill, sigkill_under_load_loses_no_acknowledged_blob,
     .timeout = 600)
{
	const char *env = getenv("BC_GATEWAY_KILL_CYCLES");
	long cycles = env ? strtol(env, NULL, 10) : 50;
	cr_assert(cycles > 0 && cycles <= 1000);
	signal(SIGPIPE, SIG_IGN);
	prepare();
	static uint8_t old[REPLAYS][4096];
	size_t n_old = 0;
	struct acks a = {.ux = sphinx_unwrap_ctx_new(&geom)};
	uint32_t seq = 0;
	for (long i = 0; i < cycles; i++)
		seq = cycle(seq, &a, old, &n_old);
	static uint8_t count[MAX_SEQ];
	size_t total, lost = 0, dup = 0;
	count_stored(count, &total);
	for (uint32_t s = 0; s < seq; s++) {
		lost += acked[s] && count[s] == 0;
		dup += count[s] > 1;
	}
	cr_log_info("%ld SIGKILL cycles: %u packets sent, %zu acknowledged, "
		    "%zu stored, %zu acknowledged but lost, %zu duplicates",
		    cycles, seq, a.n, total, lost, dup);
	cr_assert_gt(a.n, 0, "some packets were acknowledged");
	cr_assert_eq(lost, 0, "zero acknowledged blobs lost");
	cr_assert_eq(dup, 0, "replays of stored packets are rejected");
	sphinx_unwrap_ctx_free(a.ux);
	cleanup();
}
