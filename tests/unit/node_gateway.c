/*
 * The gateway with real Sphinx packets: a one-hop route to the gateway
 * (what the last mix hands it), reply blocks whose first hop is a test node
 * "C" we hold the key of, so every acknowledgement and echo is unwrapped
 * and matched by its SURB id.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "lib/bytes.h"
#include "lib/time.h"
#include "node/gateway.h"
#include "store/mailbox.h"
#include "store/replay.h"
#include "wire/link_frame.h"
#include "wire/service_id.h"
#include "wire/sphinx_surb.h"

static struct sphinx_geometry geom;
static char dir[] = "/tmp/gwtestXXXXXX";
static char dbpath[128];
static uint8_t gw_id[32], gw_pub[32], gw_priv[32];
static uint8_t c_id[32], c_pub[32], c_priv[32];
static struct sphinx_unwrap_ctx *ux;
static int64_t fake_now = 1700000000000LL;

static int64_t
clock_fn(void *arg)
{
	(void)arg;
	return fake_now;
}

/* Replies the gateway sent (first hop, packet). */
#define MAX_OUT 128
static uint8_t out_pkts[MAX_OUT][4096];
static uint8_t out_hops[MAX_OUT][32];
static size_t n_out;

static bool
capture(void *ctx, const uint8_t *hop, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	cr_assert_lt(n_out, MAX_OUT);
	cr_assert_eq(len, geom.packet_len);
	memcpy(out_pkts[n_out], pkt, len);
	memcpy(out_hops[n_out], hop, 32);
	n_out++;
	return true;
}

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	sphinx_geometry_default(&geom);
	cr_assert(geom.has_layout && geom.with_reply);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/node.db", dir);
	rand_bytes(gw_id, 32);
	x25519_keypair(gw_pub, gw_priv);
	rand_bytes(c_id, 32);
	x25519_keypair(c_pub, c_priv);
	ux = sphinx_unwrap_ctx_new(&geom);
	n_out = 0;
}

static void
teardown(void)
{
	char cmd[200];
	SPHINX_UNWRAP_CTX_FREE(ux);
	/* The node store and its replay tag files (replay.db.tags.N). */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct gateway *
open_gw(struct gateway_cfg *over)
{
	struct gateway_cfg c = {0};
	if (over)
		c = *over;
	c.db_path = dbpath;
	c.geom = geom;
	c.now_ms = clock_fn;
	char err[256] = "";
	struct gateway *gw = gateway_open(&c, err, sizeof(err));
	cr_assert_not_null(gw, "gateway_open: %s", err);
	return gw;
}

/* A reply block through C with SURB id = mark (16 bytes of it). */
static void
make_surb(uint8_t *surb, uint8_t mark)
{
	struct sphinx_path_hop h;
	uint8_t token[2 * SPHINX_KEY_IV_LEN];
	memset(&h, 0, sizeof(h));
	memcpy(h.id, c_id, 32);
	memcpy(h.pub, c_pub, 32);
	h.cmds.has_recipient = true;
	memset(h.cmds.recipient_id, 0xcc, 32);
	h.cmds.has_surb_reply = true;
	memset(h.cmds.surb_id, mark, SPHINX_SURB_ID_LEN);
	cr_assert_eq(sphinx_surb_create(&geom, &h, 1, surb, token), SPHINX_OK);
}

/* A packet for recipient at the gateway: blob filled with mark, with a
 * reply block tagged mark (if with_surb). */
static void
make_packet(uint8_t *pkt, const uint8_t recipient[32], uint8_t mark,
	    bool with_surb)
{
	struct sphinx_path_hop h;
	uint8_t user[4096], blob[4096], surb[1024];
	memset(&h, 0, sizeof(h));
	memcpy(h.id, gw_id, 32);
	memcpy(h.pub, gw_pub, 32);
	h.cmds.has_recipient = true;
	memcpy(h.cmds.recipient_id, recipient, 32);
	memset(blob, mark, geom.blob_len);
	if (with_surb)
		make_surb(surb, mark);
	cr_assert_eq(sphinx_fwd_encode(&geom, user, with_surb ? surb : NULL,
				       blob, geom.blob_len),
		     0);
	cr_assert_eq(sphinx_packet_create(&geom, &h, 1, user, geom.user_len,
					  pkt, geom.packet_len),
		     SPHINX_OK);
}

/* The gateway's last hop: unwrap and hand over, as the pipeline does. */
static void
arrive(struct gateway *gw, const uint8_t *pkt_in)
{
	uint8_t pkt[4096];
	struct sphinx_unwrap_result res;
	memcpy(pkt, pkt_in, geom.packet_len);
	cr_assert_eq(sphinx_unwrap(ux, gw_priv, pkt, geom.packet_len, 1000,
				   &res),
		     SPHINX_OK);
	gateway_on_final(gw, &res, pkt, geom.packet_len);
}

/* Unwraps reply i at C; returns its SURB id's first byte. */
static uint8_t
reply_mark(size_t i)
{
	struct sphinx_unwrap_result res;
	cr_assert_eq(memcmp(out_hops[i], c_id, 32), 0, "reply goes to C");
	cr_assert_eq(sphinx_unwrap(ux, c_priv, out_pkts[i], geom.packet_len,
				   1000, &res),
		     SPHINX_OK);
	cr_assert_eq(res.kind, SPHINX_HOP_SURB_REPLY);
	return res.cmds.surb_id[0];
}

static enum gateway_action
cmd(struct gateway *gw, struct gateway_client *cl, struct link_cmd *in,
    struct link_cmd *out)
{
	enum link_err close_code = LINK_OK;
	return gateway_client_cmd(gw, cl, in, out, &close_code);
}

/* Sends a command answered by ERROR; returns the code. */
static int
status(struct gateway *gw, struct gateway_client *cl, struct link_cmd *in)
{
	struct link_cmd out;
	cr_assert_eq(cmd(gw, cl, in, &out), GATEWAY_ANSWER);
	cr_assert_eq(out.type, LINK_CMD_ERROR);
	return out.u.error.code;
}

static int
reg(struct gateway *gw, struct gateway_client *cl, const char *token)
{
	struct link_cmd in = {.type = LINK_CMD_REGISTER};
	in.u.reg.token = (const uint8_t *)token;
	in.u.reg.len = token ? strlen(token) : 0;
	return status(gw, cl, &in);
}

static int
queue_op(struct gateway *gw, struct gateway_client *cl, int type,
	 const uint8_t id[32])
{
	struct link_cmd in = {.type = (enum link_cmd_type)type};
	memcpy(in.u.queue.id, id, 32);
	return status(gw, cl, &in);
}

static size_t
fetch(struct gateway *gw, struct gateway_client *cl, struct link_cmd *out)
{
	struct link_cmd in = {.type = LINK_CMD_FETCH};
	in.u.fetch.seq = 77;
	cr_assert_eq(cmd(gw, cl, &in, out), GATEWAY_ANSWER);
	cr_assert_eq(out->type, LINK_CMD_FETCH_RESPONSE);
	cr_assert_eq(out->u.fetch_resp.seq, 77);
	return out->u.fetch_resp.count;
}

static void
client(struct gateway *gw, struct gateway_client *cl, uint8_t keybyte)
{
	uint8_t key[32];
	memset(key, keybyte, 32);
	cr_assert(gateway_client_admit(gw, key, cl));
}

TestSuite(gateway, .init = setup, .fini = teardown);

Test(gateway, register_queue_deliver_ack_fetch_confirm)
{
	struct gateway *gw = open_gw(NULL);
	struct gateway_client cl;
	struct link_cmd out;
	uint8_t q[32], pkt[4096];
	client(gw, &cl, 1);
	cr_assert_not(cl.registered);
	cr_assert_eq(reg(gw, &cl, NULL), LINK_OK);
	cr_assert_eq(reg(gw, &cl, NULL), LINK_OK, "register is idempotent");
	rand_bytes(q, 32);
	cr_assert_eq(queue_op(gw, &cl, LINK_CMD_QUEUE_CREATE, q), LINK_OK);
	cr_assert_eq(queue_op(gw, &cl, LINK_CMD_QUEUE_CREATE, q),
		     LINK_ERR_EXISTS);
	make_packet(pkt, q, 0x41, true);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	cr_assert_eq(gateway_drain(gw, capture, NULL), 1);
	cr_assert_eq(reply_mark(0), 0x41, "the ack is this packet's");

	cr_assert_eq(fetch(gw, &cl, &out), 1);
	const struct link_item *it = &out.u.fetch_resp.items[0];
	cr_assert_eq(it->len, gateway_item_size(&geom));
	cr_assert_eq(it->data[0], GATEWAY_ITEM_MESSAGE);
	cr_assert_eq(memcmp(it->data + 1, q, LINK_ITEM_TAG_LEN), 0,
		     "a message's tag is the queue it arrived on");
	cr_assert_eq(GATEWAY_ITEM_HDR, 33);
	cr_assert_eq(it->data[GATEWAY_ITEM_HDR], 0x41);
	cr_assert_eq(it->data[GATEWAY_ITEM_HDR + geom.blob_len - 1], 0x41);
	cr_assert_eq(it->data[GATEWAY_ITEM_HDR + geom.blob_len], 0);
	/* Not deleted by fetching: only confirm deletes. */
	cr_assert_eq(fetch(gw, &cl, &out), 1);
	struct link_cmd conf = {.type = LINK_CMD_CONFIRM};
	conf.u.confirm.count = 1;
	memcpy(conf.u.confirm.ids[0], out.u.fetch_resp.items[0].id, 16);
	cr_assert_eq(status(gw, &cl, &conf), LINK_OK);
	cr_assert_eq(fetch(gw, &cl, &out), 0);
	struct gateway_stats st;
	gateway_stats(gw, &st);
	cr_assert_eq(st.stored, 1);
	cr_assert_eq(st.acked, 1);
	cr_assert_eq(st.confirmed, 1);
	gateway_close(gw);
}

/* A FETCH carries the confirmations of earlier answers: the gateway
 * deletes them first, so the answer holds the next item. */
Test(gateway, fetch_carries_confirmations)
{
	struct gateway *gw = open_gw(NULL);
	struct gateway_client cl, other;
	uint8_t q[32], pkt[4096], first[LINK_ID_LEN];
	struct link_cmd in = {.type = LINK_CMD_FETCH}, out;
	client(gw, &cl, 1);
	client(gw, &other, 3);
	cr_assert_eq(reg(gw, &cl, NULL), LINK_OK);
	cr_assert_eq(reg(gw, &other, NULL), LINK_OK);
	rand_bytes(q, 32);
	cr_assert_eq(queue_op(gw, &cl, LINK_CMD_QUEUE_CREATE, q), LINK_OK);
	for (uint8_t m = 0x41; m < 0x44; m++) {
		make_packet(pkt, q, m, true);
		arrive(gw, pkt);
	}
	cr_assert(gateway_wait_idle(gw, 5000));
	cr_assert_eq(gateway_drain(gw, capture, NULL), 3);
	cr_assert_eq(fetch(gw, &cl, &out), 1);
	cr_assert_eq(out.u.fetch_resp.remaining, 2);
	memcpy(first, out.u.fetch_resp.items[0].id, LINK_ID_LEN);
	/* Another client's confirmation of our item changes nothing. */
	in.u.fetch.seq = 5;
	in.u.fetch.count = 1;
	memcpy(in.u.fetch.ids[0], first, LINK_ID_LEN);
	cr_assert_eq(cmd(gw, &other, &in, &out), GATEWAY_ANSWER);
	cr_assert_eq(out.type, LINK_CMD_FETCH_RESPONSE);
	cr_assert_eq(out.u.fetch_resp.count, 0);
	cr_assert_eq(fetch(gw, &cl, &out), 1);
	cr_assert_eq(memcmp(out.u.fetch_resp.items[0].id, first, LINK_ID_LEN),
		     0, "still there");
	/* Ours: confirmed, and the answer is the next item. */
	in.u.fetch.seq = 6;
	cr_assert_eq(cmd(gw, &cl, &in, &out), GATEWAY_ANSWER);
	cr_assert_eq(out.type, LINK_CMD_FETCH_RESPONSE);
	cr_assert_eq(out.u.fetch_resp.seq, 6);
	cr_assert_eq(out.u.fetch_resp.count, 1);
	cr_assert_neq(memcmp(out.u.fetch_resp.items[0].id, first, LINK_ID_LEN),
		      0);
	cr_assert_eq(out.u.fetch_resp.remaining, 1);
	/* Two at once, one of them already gone, one a foreign id form. */
	in.u.fetch.count = 3;
	memcpy(in.u.fetch.ids[1], out.u.fetch_resp.items[0].id, LINK_ID_LEN);
	memset(in.u.fetch.ids[2], 0xff, LINK_ID_LEN);
	cr_assert_eq(cmd(gw, &cl, &in, &out), GATEWAY_ANSWER);
	cr_assert_eq(out.u.fetch_resp.count, 1);
	cr_assert_eq(out.u.fetch_resp.remaining, 0);
	cr_assert_eq(out.u.fetch_resp.items[0].data[GATEWAY_ITEM_HDR], 0x43);
	struct gateway_stats st;
	gateway_stats(gw, &st);
	cr_assert_eq(st.confirmed, 2);
	gateway_close(gw);
}

Test(gateway, unregistered_client_refused_nothing_changes)
{
	struct gateway *gw = open_gw(NULL);
	struct gateway_client cl;
	uint8_t q[32], pkt[4096];
	struct link_cmd in = {.type = LINK_CMD_FETCH}, out;
	client(gw, &cl, 2);
	rand_bytes(q, 32);
	cr_assert_eq(status(gw, &cl, &in), LINK_ERR_NOT_REGISTERED);
	cr_assert_eq(queue_op(gw, &cl, LINK_CMD_QUEUE_CREATE, q),
		     LINK_ERR_NOT_REGISTERED);
	make_packet(pkt, q, 1, true);
	in.type = LINK_CMD_SEND_PACKET;
	in.u.packet.data = pkt;
	in.u.packet.len = geom.packet_len;
	cr_assert_eq(cmd(gw, &cl, &in, &out), GATEWAY_NOTHING,
		     "no packet of an unregistered key enters the network");
	/* A gateway's own answers from a client close the link. */
	enum link_err why = LINK_OK;
	in.type = LINK_CMD_FETCH_RESPONSE;
	cr_assert_eq(gateway_client_cmd(gw, &cl, &in, &out, &why),
		     GATEWAY_CLOSE);
	cr_assert_eq(why, LINK_ERR_STATE);
	struct mailbox_counters mc;
	cr_assert_eq(mailbox_counters(gateway_mailbox(gw), &mc), MAILBOX_OK);
	cr_assert_eq(mc.accounts, 0);
	cr_assert_eq(mc.queues, 0);
	gateway_close(gw);
}

Test(gateway, invitation_admission)
{
	char token[64], err[128];
	/* The operator's tool runs while no gateway has the file open. */
	cr_assert_eq(gateway_invite_create(dbpath, 3600 * 1000LL, token,
					   sizeof(token), err, sizeof(err)),
		     0, "%s", err);
	struct gateway_cfg c = {.admission = MAILBOX_ADMIT_INVITE};
	struct gateway *gw = open_gw(&c);
	struct gateway_client a, b;
	client(gw, &a, 3);
	client(gw, &b, 4);
	/* Invitations are checked against the real clock; ours is fake. */
	fake_now = time_wall_ms();
	cr_assert_eq(reg(gw, &a, NULL), LINK_ERR_DENIED);
	cr_assert_eq(reg(gw, &a, "not-a-token"), LINK_ERR_DENIED);
	cr_assert_eq(reg(gw, &a, token), LINK_OK);
	cr_assert_eq(reg(gw, &b, token), LINK_ERR_DENIED, "one-time token");
	struct gateway_client a2;
	client(gw, &a2, 3);
	cr_assert(a2.registered, "a registered key is known on its next link");
	gateway_close(gw);
	fake_now = 1700000000000LL;
}

Test(gateway, queues_of_others_and_services_refused)
{
	struct gateway *gw = open_gw(NULL);
	struct gateway_client a, b;
	struct link_cmd out;
	uint8_t q[32], pkt[4096];
	client(gw, &a, 5);
	client(gw, &b, 6);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	cr_assert_eq(reg(gw, &b, NULL), LINK_OK);
	rand_bytes(q, 32);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, q), LINK_OK);
	make_packet(pkt, q, 7, true);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	cr_assert_eq(queue_op(gw, &b, LINK_CMD_QUEUE_DELETE, q),
		     LINK_ERR_NO_QUEUE, "not b's queue");
	uint8_t other[32];
	rand_bytes(other, 32);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_DELETE, other),
		     LINK_ERR_NO_QUEUE, "no such queue");
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, SERVICE_ID_ECHO),
		     LINK_ERR_EXISTS);
	cr_assert_eq(fetch(gw, &b, &out), 0, "b sees nothing of a's");
	/* b confirming a's item deletes nothing. */
	cr_assert_eq(fetch(gw, &a, &out), 1);
	struct link_cmd conf = {.type = LINK_CMD_CONFIRM};
	conf.u.confirm.count = 1;
	memcpy(conf.u.confirm.ids[0], out.u.fetch_resp.items[0].id, 16);
	cr_assert_eq(status(gw, &b, &conf), LINK_OK);
	cr_assert_eq(fetch(gw, &a, &out), 1);
	/* Deleting blocks the contact: later packets dropped, no ack. */
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_DELETE, q), LINK_OK);
	n_out = 0;
	gateway_drain(gw, capture, NULL);
	n_out = 0;
	make_packet(pkt, q, 8, true);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	cr_assert_eq(gateway_drain(gw, capture, NULL), 0);
	struct gateway_stats st;
	gateway_stats(gw, &st);
	cr_assert_eq(st.dropped_no_queue, 1);
	gateway_close(gw);
}

/* The tag (queue id) and first blob byte of the one item a FETCH gave. */
static void
item_is(const struct link_cmd *out, const uint8_t q[32], uint8_t mark)
{
	const struct link_item *it = &out->u.fetch_resp.items[0];
	cr_assert_eq(memcmp(it->data + 1, q, LINK_ITEM_TAG_LEN), 0,
		     "an item of another queue");
	cr_assert_eq(it->data[GATEWAY_ITEM_HDR], mark);
}

/*
 * QUEUE_DELETE (how a client blocks a contact) takes the queue's waiting
 * items with it, also one fetched and not yet confirmed, and only those:
 * the account's other queue and another account keep theirs, the account
 * gets the room back, and a restart brings nothing back.
 */
Test(gateway, queue_delete_removes_its_waiting_items)
{
	struct gateway_cfg c = {.account_max_items = 4};
	struct gateway *gw = open_gw(&c);
	struct gateway_client a, b;
	struct link_cmd out;
	struct mailbox_counters mc;
	struct gateway_stats st;
	uint8_t q1[32], q2[32], qb[32], pkt[4096], inflight[LINK_ID_LEN];
	client(gw, &a, 11);
	client(gw, &b, 12);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	cr_assert_eq(reg(gw, &b, NULL), LINK_OK);
	rand_bytes(q1, 32);
	rand_bytes(q2, 32);
	rand_bytes(qb, 32);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, q1), LINK_OK);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, q2), LINK_OK);
	cr_assert_eq(queue_op(gw, &b, LINK_CMD_QUEUE_CREATE, qb), LINK_OK);
	for (uint8_t m = 0x11; m <= 0x13; m++) {
		make_packet(pkt, q1, m, true);
		arrive(gw, pkt);
	}
	make_packet(pkt, q2, 0x21, true);
	arrive(gw, pkt);
	make_packet(pkt, qb, 0x31, true);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	/* a's account is full: one more for q2 is dropped. */
	make_packet(pkt, q2, 0x22, true);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	gateway_stats(gw, &st);
	cr_assert_eq(st.stored, 5);
	cr_assert_eq(st.dropped_full, 1);
	cr_assert_eq(mailbox_counters(gateway_mailbox(gw), &mc), MAILBOX_OK);
	cr_assert_eq(mc.items, 5);

	/* The oldest of q1 is fetched (in flight, not confirmed). */
	cr_assert_eq(fetch(gw, &a, &out), 1);
	cr_assert_eq(out.u.fetch_resp.remaining, 3);
	item_is(&out, q1, 0x11);
	memcpy(inflight, out.u.fetch_resp.items[0].id, LINK_ID_LEN);

	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_DELETE, q1), LINK_OK);
	cr_assert_eq(mailbox_counters(gateway_mailbox(gw), &mc), MAILBOX_OK);
	cr_assert_eq(mc.items, 2, "q1's three items still stored");
	cr_assert_eq(fetch(gw, &a, &out), 1);
	cr_assert_eq(out.u.fetch_resp.remaining, 0);
	item_is(&out, q2, 0x21);
	cr_assert_eq(fetch(gw, &b, &out), 1, "b's item went too");
	item_is(&out, qb, 0x31);
	/* Confirming the fetched item of the deleted queue deletes nothing
	 * more. */
	struct link_cmd conf = {.type = LINK_CMD_CONFIRM};
	conf.u.confirm.count = 1;
	memcpy(conf.u.confirm.ids[0], inflight, LINK_ID_LEN);
	cr_assert_eq(status(gw, &a, &conf), LINK_OK);
	gateway_stats(gw, &st);
	cr_assert_eq(st.confirmed, 0);
	/* The room is a's again: q2 takes the packet it dropped. */
	make_packet(pkt, q2, 0x22, true);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	gateway_stats(gw, &st);
	cr_assert_eq(st.stored, 6);
	cr_assert_eq(st.dropped_full, 1);
	gateway_close(gw);

	/* After a restart: q2's two, nothing of q1. */
	gw = open_gw(&c);
	client(gw, &a, 11);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	cr_assert_eq(mailbox_counters(gateway_mailbox(gw), &mc), MAILBOX_OK);
	cr_assert_eq(mc.items, 3);
	cr_assert_eq(fetch(gw, &a, &out), 1);
	cr_assert_eq(out.u.fetch_resp.remaining, 1);
	item_is(&out, q2, 0x21);
	gateway_close(gw);
}

Test(gateway, malformed_payload_dropped_nothing_stored)
{
	struct gateway *gw = open_gw(NULL);
	struct gateway_client a;
	uint8_t q[32], pkt[4096], user[4096];
	client(gw, &a, 9);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	rand_bytes(q, 32);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, q), LINK_OK);
	struct sphinx_path_hop h;
	memset(&h, 0, sizeof(h));
	memcpy(h.id, gw_id, 32);
	memcpy(h.pub, gw_pub, 32);
	h.cmds.has_recipient = true;
	memcpy(h.cmds.recipient_id, q, 32);
	memset(user, 0, sizeof(user));
	user[0] = 0x80; /* an unknown flag */
	cr_assert_eq(sphinx_packet_create(&geom, &h, 1, user, geom.user_len,
					  pkt, geom.packet_len),
		     SPHINX_OK);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	struct gateway_stats st;
	gateway_stats(gw, &st);
	cr_assert_eq(st.dropped_malformed, 1);
	cr_assert_eq(st.stored, 0);
	/* An oversized packet never reaches the gateway: the codec refuses
	 * a SEND_PACKET whose length is not the packet length. */
	uint8_t frame[4096 + LINK_FRAME_SLACK] = {LINK_CMD_SEND_PACKET};
	struct link_cmd d;
	be16_put(frame + 1, (uint16_t)(geom.packet_len + 1));
	cr_assert_eq(link_cmd_decode(&d, geom.packet_len, frame,
				     link_frame_plain_len(geom.packet_len)),
		     LINK_ERR_LENGTH);
	gateway_close(gw);
}

Test(gateway, quota_exceeded_dropped_counted_no_ack)
{
	struct gateway_cfg c = {.queue_max_items = 2};
	struct gateway *gw = open_gw(&c);
	struct gateway_client a;
	uint8_t q[32], pkt[4096];
	client(gw, &a, 10);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	rand_bytes(q, 32);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, q), LINK_OK);
	for (uint8_t m = 1; m <= 3; m++) {
		make_packet(pkt, q, m, true);
		arrive(gw, pkt);
	}
	cr_assert(gateway_wait_idle(gw, 5000));
	cr_assert_eq(gateway_drain(gw, capture, NULL), 2);
	cr_assert_neq(reply_mark(0), 3);
	cr_assert_neq(reply_mark(1), 3);
	struct gateway_stats st;
	gateway_stats(gw, &st);
	cr_assert_eq(st.dropped_full, 1);
	cr_assert_eq(st.acked, 2);
	gateway_close(gw);
}

Test(gateway, replay_rejected_after_restart)
{
	struct gateway *gw = open_gw(NULL);
	struct gateway_client a;
	struct link_cmd out;
	uint8_t q[32], pkt[4096];
	client(gw, &a, 11);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	rand_bytes(q, 32);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, q), LINK_OK);
	gateway_set_tag_epoch(gw, 5);
	make_packet(pkt, q, 0x33, true);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	gateway_close(gw);
	/* The derived tag is in the node store: a replay store loads it. */
	char err[128];
	struct replay_store *rs = replay_open(dbpath, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	cr_assert_eq(replay_count(rs, 5), 1);
	REPLAY_CLOSE(rs);
	gw = open_gw(NULL);
	gateway_set_tag_epoch(gw, 5);
	arrive(gw, pkt);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	cr_assert_eq(gateway_drain(gw, capture, NULL), 0, "no ack: replay");
	struct gateway_stats st;
	gateway_stats(gw, &st);
	cr_assert_eq(st.dropped_duplicate, 2);
	cr_assert_eq(fetch(gw, &a, &out), 1, "stored once");
	gateway_close(gw);
}

Test(gateway, retention_expiry_deletes)
{
	struct gateway_cfg c = {.retention_ms = 1000};
	struct gateway *gw = open_gw(&c);
	struct gateway_client a;
	struct link_cmd out;
	uint8_t q[32], pkt[4096];
	client(gw, &a, 12);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	rand_bytes(q, 32);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, q), LINK_OK);
	make_packet(pkt, q, 1, false);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	size_t expired = 99;
	cr_assert_eq(gateway_expire(gw, &expired), 0);
	cr_assert_eq(expired, 0);
	fake_now += 1001;
	cr_assert_eq(gateway_expire(gw, &expired), 0);
	cr_assert_eq(expired, 1);
	cr_assert_eq(fetch(gw, &a, &out), 0);
	fake_now = 1700000000000LL;
	gateway_close(gw);
}

Test(gateway, echo_answers_every_packet_drop_none)
{
	struct gateway *gw = open_gw(NULL);
	uint8_t pkt[4096];
	for (uint8_t m = 1; m <= 20; m++) {
		make_packet(pkt, SERVICE_ID_ECHO, m, true);
		arrive(gw, pkt);
	}
	make_packet(pkt, SERVICE_ID_DROP, 99, true);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	cr_assert_eq(gateway_drain(gw, capture, NULL), 20);
	bool seen[21] = {false};
	for (size_t i = 0; i < n_out; i++) {
		uint8_t m = reply_mark(i);
		cr_assert(m >= 1 && m <= 20 && !seen[m]);
		seen[m] = true;
	}
	struct gateway_stats st;
	gateway_stats(gw, &st);
	cr_assert_eq(st.echoed, 20);
	cr_assert_eq(st.dropped_service, 1);
	cr_assert_eq(st.stored, 0);
	gateway_close(gw);
}

Test(gateway, reply_stored_like_a_message_and_decrypts)
{
	struct gateway *gw = open_gw(NULL);
	struct gateway_client a;
	struct link_cmd out;
	uint8_t rq[32], surb[1024], token[2 * SPHINX_KEY_IV_LEN], pkt[4096];
	uint8_t first[32];
	client(gw, &a, 13);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	rand_bytes(rq, 32);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, rq), LINK_OK);
	/* The client's reply block ends at its own gateway's reply queue. */
	struct sphinx_path_hop h;
	memset(&h, 0, sizeof(h));
	memcpy(h.id, gw_id, 32);
	memcpy(h.pub, gw_pub, 32);
	h.cmds.has_recipient = true;
	memcpy(h.cmds.recipient_id, rq, 32);
	h.cmds.has_surb_reply = true;
	memset(h.cmds.surb_id, 0x5a, SPHINX_SURB_ID_LEN);
	cr_assert_eq(sphinx_surb_create(&geom, &h, 1, surb, token), SPHINX_OK);
	const uint8_t msg[] = "the reply";
	cr_assert_eq(sphinx_surb_packet(&geom, surb, msg, sizeof(msg), pkt,
					first),
		     SPHINX_OK);
	cr_assert_eq(memcmp(first, gw_id, 32), 0);
	arrive(gw, pkt);
	cr_assert(gateway_wait_idle(gw, 5000));
	cr_assert_eq(gateway_drain(gw, capture, NULL), 0, "a reply: no ack");
	cr_assert_eq(fetch(gw, &a, &out), 1);
	uint8_t item[4096];
	memcpy(item, out.u.fetch_resp.items[0].data,
	       out.u.fetch_resp.items[0].len);
	cr_assert_eq(item[0], GATEWAY_ITEM_REPLY);
	cr_assert_eq(item[1], 0x5a);
	cr_assert_eq(item[16], 0x5a);
	for (size_t i = 1 + SPHINX_SURB_ID_LEN; i < GATEWAY_ITEM_HDR; i++)
		cr_assert_eq(item[i], 0, "a reply's tag: SURB id, then zeros");
	cr_assert_eq(sphinx_surb_decrypt(&geom, token, sizeof(token),
					 item + GATEWAY_ITEM_HDR),
		     SPHINX_OK);
	cr_assert_eq(memcmp(item + GATEWAY_ITEM_HDR + SPHINX_TAG_LEN, msg,
			    sizeof(msg)),
		     0);
	gateway_close(gw);
}

Test(gateway, fetch_responses_all_one_size)
{
	struct gateway *gw = open_gw(NULL);
	struct gateway_client a;
	struct link_cmd out;
	uint8_t q[32], pkt[4096];
	size_t plain = link_frame_plain_len(geom.packet_len);
	uint8_t *f0 = malloc(plain), *f1 = malloc(plain);
	client(gw, &a, 14);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	rand_bytes(q, 32);
	cr_assert_eq(queue_op(gw, &a, LINK_CMD_QUEUE_CREATE, q), LINK_OK);
	cr_assert_eq(fetch(gw, &a, &out), 0);
	cr_assert_eq(link_cmd_encode(&out, geom.packet_len, f0, plain),
		     LINK_OK);
	for (uint8_t m = 1; m <= 3; m++) {
		make_packet(pkt, q, m, true);
		arrive(gw, pkt);
	}
	cr_assert(gateway_wait_idle(gw, 5000));
	cr_assert_eq(fetch(gw, &a, &out), 1, "one item fits a frame");
	cr_assert_eq(out.u.fetch_resp.remaining, 2);
	cr_assert_eq(link_cmd_encode(&out, geom.packet_len, f1, plain),
		     LINK_OK, "a full response fits the one frame size");
	/* Both are link_frame_plain_len bytes; on the wire both become
	 * link_frame_wire_len after encryption. */
	cr_assert_neq(memcmp(f0, f1, plain), 0);
	free(f0);
	free(f1);
	gateway_close(gw);
}

Test(gateway, consensus_time_and_rate)
{
	struct gateway_cfg c = {.rate_pps = 0.001, .rate_burst = 3};
	struct gateway *gw = open_gw(&c);
	struct gateway_client a;
	struct link_cmd in = {.type = LINK_CMD_GET_CONSENSUS}, out;
	uint8_t doc[7000], pkt[4096];
	client(gw, &a, 15);
	cr_assert_eq(reg(gw, &a, NULL), LINK_OK);
	cr_assert_eq(status(gw, &a, &in), LINK_ERR_UNAVAILABLE);
	for (size_t i = 0; i < sizeof(doc); i++)
		doc[i] = (uint8_t)('a' + i % 26);
	gateway_set_consensus(gw, 42, doc, sizeof(doc));
	size_t cmax = link_cmd_chunk_max(geom.packet_len), got = 0;
	for (uint16_t k = 0; k < 3; k++) {
		in.u.get_consensus.chunk = k;
		cr_assert_eq(cmd(gw, &a, &in, &out), GATEWAY_ANSWER);
		cr_assert_eq(out.type, LINK_CMD_CONSENSUS);
		cr_assert_eq(out.u.consensus.nchunks, 3);
		cr_assert_eq(out.u.consensus.total, sizeof(doc));
		cr_assert_eq(memcmp(out.u.consensus.data, doc + k * cmax,
				    out.u.consensus.len),
			     0);
		got += out.u.consensus.len;
	}
	cr_assert_eq(got, sizeof(doc));
	in.u.get_consensus.chunk = 3;
	cr_assert_eq(status(gw, &a, &in), LINK_ERR_FIELD);
	in.u.get_consensus.chunk = 0;
	in.u.get_consensus.epoch = 41;
	cr_assert_eq(status(gw, &a, &in), LINK_ERR_FIELD);
	in.type = LINK_CMD_TIME;
	cr_assert_eq(cmd(gw, &a, &in, &out), GATEWAY_ANSWER);
	cr_assert_eq(out.u.time.wall_ms, (uint64_t)fake_now);
	/* Sending rate: a burst of 3, then dropped and counted. */
	in.type = LINK_CMD_SEND_PACKET;
	in.u.packet.data = pkt;
	in.u.packet.len = geom.packet_len;
	int submitted = 0;
	for (int i = 0; i < 6; i++)
		submitted += cmd(gw, &a, &in, &out) == GATEWAY_SUBMIT;
	cr_assert_eq(submitted, 3);
	struct gateway_stats st;
	gateway_stats(gw, &st);
	cr_assert_eq(st.dropped_rate, 3);
	gateway_close(gw);
}

Test(gateway, corrupt_database_refused_not_truncated)
{
	int fd = open(dbpath, O_CREAT | O_WRONLY, 0600);
	cr_assert_geq(fd, 0);
	char junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 31 + 7);
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	struct gateway_cfg c = {.db_path = dbpath, .geom = geom};
	char err[256] = "";
	cr_assert_null(gateway_open(&c, err, sizeof(err)));
	cr_assert_neq(err[0], 0, "a reason is given");
	struct stat sb;
	cr_assert_eq(stat(dbpath, &sb), 0);
	cr_assert_eq(sb.st_size, (off_t)sizeof(junk), "never truncated");
	char back[8192];
	fd = open(dbpath, O_RDONLY);
	cr_assert_eq(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
	close(fd);
	cr_assert_eq(memcmp(back, junk, sizeof(junk)), 0);
}
