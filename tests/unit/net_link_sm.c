/*
 * The link state machine without sockets: two ends joined by in-memory
 * byte queues, so handshake, transport, rekey and every refusal are checked
 * byte for byte and deterministically.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/x25519.h"
#include "net/link_sm.h"
#include "wire/link_frame.h"

#define PL 3082

struct end {
	struct link_sm *sm;
	uint8_t *out; /* bytes this end sent, not yet delivered */
	size_t out_len, out_cap;
	int opened;
	uint64_t pkts, next_seq;
	bool order_ok;
	int accept; /* auth answer */
	int auth_calls;
};

static uint8_t ipub[32], ipriv[32], rpub[32], rpriv[32];

static void
end_send(void *ctx, const uint8_t *buf, size_t len)
{
	struct end *e = ctx;
	if (e->out_len + len > e->out_cap) {
		e->out_cap = (e->out_len + len) * 2;
		e->out = realloc(e->out, e->out_cap);
		cr_assert_not_null(e->out);
	}
	memcpy(e->out + e->out_len, buf, len);
	e->out_len += len;
}

static void
end_open(void *ctx)
{
	((struct end *)ctx)->opened++;
}

static enum link_err
end_cmd(void *ctx, const struct link_cmd *cmd)
{
	struct end *e = ctx;
	if (cmd->type != LINK_CMD_SEND_PACKET)
		return LINK_OK;
	uint64_t seq;
	memcpy(&seq, cmd->u.packet.data, sizeof(seq));
	if (seq != e->next_seq)
		e->order_ok = false;
	e->next_seq = seq + 1;
	e->pkts++;
	return LINK_OK;
}

static bool
end_auth(void *ctx, const uint8_t key[32])
{
	struct end *e = ctx;
	e->auth_calls++;
	return e->accept && memcmp(key, ipub, 32) == 0;
}

static void
keys(void)
{
	cr_assert_eq(crypto_init(), 0);
	x25519_keypair(ipub, ipriv);
	x25519_keypair(rpub, rpriv);
}

static struct link_sm *
mk(struct end *e, bool initiator, const uint8_t *remote, uint64_t rekey)
{
	struct link_sm_cfg c = {
		.initiator = initiator,
		.static_priv = initiator ? ipriv : rpriv,
		.remote_pub = remote,
		.role = LINK_ROLE_CLIENT,
		.packet_len = PL,
		.rekey_frames = rekey,
		.auth = end_auth,
		.auth_ctx = e,
		.ops = {end_send, end_open, end_cmd},
		.ops_ctx = e,
	};
	e->order_ok = true;
	e->sm = link_sm_new(&c);
	cr_assert_not_null(e->sm);
	return e->sm;
}

/* Deliver what from sent to to, in pieces of at most chunk bytes. */
static enum link_err
deliver(struct end *from, struct end *to, size_t chunk)
{
	enum link_err r = LINK_OK;
	size_t off = 0;
	while (off < from->out_len && r == LINK_OK) {
		size_t n = from->out_len - off < chunk ? from->out_len - off
						       : chunk;
		r = link_sm_feed(to->sm, from->out + off, n);
		off += n;
	}
	from->out_len = 0;
	return r;
}

static void
end_free(struct end *e)
{
	LINK_SM_FREE(e->sm);
	free(e->out);
}

static void
handshake(struct end *i, struct end *r, size_t chunk)
{
	cr_assert_eq(link_sm_start(i->sm), LINK_OK);
	cr_assert_eq(i->out_len, 2 + LINK_HS1_LEN);
	cr_assert_eq(deliver(i, r, chunk), LINK_OK);
	cr_assert_eq(r->out_len, 2 + LINK_HS2_LEN);
	cr_assert_eq(deliver(r, i, chunk), LINK_OK);
	cr_assert_eq(i->opened, 1);
	cr_assert_eq(i->out_len, 2 + LINK_HS3_LEN);
	cr_assert_eq(deliver(i, r, chunk), LINK_OK);
}

Test(link_sm, handshake_packets_and_rekey)
{
	struct end i = {0}, r = {.accept = 1};
	keys();
	mk(&i, true, rpub, 7);
	mk(&r, false, NULL, 7);
	handshake(&i, &r, 5); /* 5-byte pieces: reassembly across reads */
	cr_assert_eq(r.opened, 1);
	cr_assert_eq(link_sm_state(r.sm), LINK_SM_OPEN);
	cr_assert_eq(memcmp(link_sm_peer_key(r.sm), ipub, 32), 0);
	cr_assert_eq(link_sm_peer_role(r.sm), LINK_ROLE_CLIENT);
	static uint8_t pkt[PL], wire[PL + 100];
	size_t wl = link_sm_wire_len(i.sm);
	cr_assert_eq(wl, link_frame_wire_len(PL));
	/* 50 frames each way: several rekeys at 7, both ends in step. */
	for (uint64_t s = 0; s < 50; s++) {
		memcpy(pkt, &s, sizeof(s));
		cr_assert_eq(link_sm_seal_packet(i.sm, pkt, PL, wire), LINK_OK);
		end_send(&i, wire, wl);
		struct link_cmd c = {.type = LINK_CMD_SEND_PACKET};
		c.u.packet.data = pkt;
		c.u.packet.len = PL;
		cr_assert_eq(link_sm_seal(r.sm, &c, wire), LINK_OK);
		end_send(&r, wire, wl);
	}
	cr_assert_eq(deliver(&i, &r, 1000), LINK_OK);
	cr_assert_eq(deliver(&r, &i, 100000), LINK_OK);
	cr_assert_eq(r.pkts, 50);
	cr_assert_eq(i.pkts, 50);
	cr_assert(r.order_ok && i.order_ok);
	cr_assert_eq(link_sm_frames_recv(r.sm), 50);
	cr_assert_eq(link_sm_frames_sent(r.sm), 50);
	/* A DISCONNECT closes with the peer's reason. */
	struct link_cmd bye = {.type = LINK_CMD_DISCONNECT};
	bye.u.disconnect.reason = LINK_ERR_SHUTDOWN;
	cr_assert_eq(link_sm_seal(i.sm, &bye, wire), LINK_OK);
	end_send(&i, wire, wl);
	cr_assert_eq(deliver(&i, &r, 100000), LINK_ERR_CLOSED);
	cr_assert_eq(link_sm_peer_reason(r.sm), LINK_ERR_SHUTDOWN);
	cr_assert_eq(link_sm_state(r.sm), LINK_SM_DEAD);
	end_free(&i);
	end_free(&r);
}

Test(link_sm, rekey_mismatch_is_caught)
{
	/* Ends with different rekey schedules part ways at frame 3. */
	struct end i = {0}, r = {.accept = 1};
	keys();
	mk(&i, true, rpub, 3);
	mk(&r, false, NULL, 4);
	handshake(&i, &r, 4096);
	static uint8_t pkt[PL], wire[PL + 100];
	for (int k = 0; k < 4; k++) {
		cr_assert_eq(link_sm_seal_packet(i.sm, pkt, PL, wire), LINK_OK);
		end_send(&i, wire, link_sm_wire_len(i.sm));
	}
	cr_assert_eq(deliver(&i, &r, 100000), LINK_ERR_DECRYPT);
	cr_assert_eq(r.pkts, 3);
	end_free(&i);
	end_free(&r);
}

Test(link_sm, wrong_responder_key_fails_handshake)
{
	struct end i = {0}, r = {.accept = 1};
	uint8_t other[32], otherpriv[32];
	keys();
	x25519_keypair(other, otherpriv);
	mk(&i, true, other, 0);
	mk(&r, false, NULL, 0);
	cr_assert_eq(link_sm_start(i.sm), LINK_OK);
	/* The responder cannot verify message 1: one DH, then it hangs up. */
	cr_assert_eq(deliver(&i, &r, 4096), LINK_ERR_HANDSHAKE);
	cr_assert_eq(r.out_len, 0, "nothing sent back");
	cr_assert_eq(r.auth_calls, 0);
	end_free(&i);
	end_free(&r);
}

Test(link_sm, unknown_initiator_refused_with_reason)
{
	struct end i = {0}, r = {.accept = 0};
	keys();
	mk(&i, true, rpub, 0);
	mk(&r, false, NULL, 0);
	cr_assert_eq(link_sm_start(i.sm), LINK_OK);
	cr_assert_eq(deliver(&i, &r, 4096), LINK_OK);
	cr_assert_eq(deliver(&r, &i, 4096), LINK_OK);
	cr_assert_eq(deliver(&i, &r, 4096), LINK_ERR_AUTH);
	cr_assert_eq(r.auth_calls, 1);
	cr_assert_eq(r.opened, 0);
	/* The refusal reaches the initiator as a DISCONNECT(AUTH). */
	cr_assert_eq(deliver(&r, &i, 4096), LINK_ERR_CLOSED);
	cr_assert_eq(link_sm_peer_reason(i.sm), LINK_ERR_AUTH);
	end_free(&i);
	end_free(&r);
}

Test(link_sm, geometry_mismatch_refused)
{
	struct end i = {0}, r = {.accept = 1};
	keys();
	mk(&i, true, rpub, 0);
	struct link_sm_cfg c = {
		.static_priv = rpriv, .packet_len = PL + 1, .auth = end_auth,
		.auth_ctx = &r, .ops = {end_send, end_open, end_cmd},
		.ops_ctx = &r,
	};
	r.sm = link_sm_new(&c);
	cr_assert_not_null(r.sm);
	cr_assert_eq(link_sm_start(i.sm), LINK_OK);
	cr_assert_eq(deliver(&i, &r, 4096), LINK_OK);
	cr_assert_eq(deliver(&r, &i, 4096), LINK_OK);
	cr_assert_eq(deliver(&i, &r, 4096), LINK_ERR_VERSION);
	end_free(&i);
	end_free(&r);
}

Test(link_sm, garbage_rejected_before_any_dh)
{
	struct end r = {.accept = 1};
	keys();
	mk(&r, false, NULL, 0);
	/* An HTTP request: its first two bytes are a wrong length. */
	const char *http = "GET / HTTP/1.1\r\n\r\n";
	cr_assert_eq(link_sm_feed(r.sm, (const uint8_t *)http, strlen(http)),
		     LINK_ERR_LENGTH);
	cr_assert_eq(link_sm_feed(r.sm, (const uint8_t *)"x", 1),
		     LINK_ERR_LENGTH, "dead stays dead");
	end_free(&r);
	/* Oversized length prefix, and one of 0. */
	mk(&r, false, NULL, 0);
	const uint8_t big[] = {0xff, 0xff, 1, 2, 3};
	cr_assert_eq(link_sm_feed(r.sm, big, 1), LINK_OK, "one byte: wait");
	cr_assert_eq(link_sm_feed(r.sm, big + 1, 4), LINK_ERR_LENGTH);
	end_free(&r);
	mk(&r, false, NULL, 0);
	const uint8_t zero[] = {0, 0};
	cr_assert_eq(link_sm_feed(r.sm, zero, 2), LINK_ERR_LENGTH);
	end_free(&r);
	/* Right length, random bytes: costs one DH, then fails. */
	mk(&r, false, NULL, 0);
	uint8_t junk[2 + LINK_HS1_LEN];
	memset(junk, 0x5a, sizeof(junk));
	junk[0] = 0;
	junk[1] = LINK_HS1_LEN;
	cr_assert_eq(link_sm_feed(r.sm, junk, sizeof(junk)),
		     LINK_ERR_HANDSHAKE);
	end_free(&r);
}

Test(link_sm, truncated_and_tampered_frames)
{
	struct end i = {0}, r = {.accept = 1};
	keys();
	mk(&i, true, rpub, 0);
	mk(&r, false, NULL, 0);
	handshake(&i, &r, 4096);
	static uint8_t pkt[PL], wire[PL + 100];
	size_t wl = link_sm_wire_len(i.sm);
	cr_assert_eq(link_sm_seal_packet(i.sm, pkt, PL, wire), LINK_OK);
	/* A truncated frame is just incomplete: nothing delivered. */
	cr_assert_eq(link_sm_feed(r.sm, wire, wl - 1), LINK_OK);
	cr_assert_eq(r.pkts, 0);
	cr_assert_eq(link_sm_feed(r.sm, wire + wl - 1, 1), LINK_OK);
	cr_assert_eq(r.pkts, 1);
	/* A flipped bit fails authentication. */
	cr_assert_eq(link_sm_seal_packet(i.sm, pkt, PL, wire), LINK_OK);
	wire[100] ^= 1;
	cr_assert_eq(link_sm_feed(r.sm, wire, wl), LINK_ERR_DECRYPT);
	end_free(&i);
	end_free(&r);
	/* A transport frame with another length prefix. */
	memset(&i, 0, sizeof(i));
	memset(&r, 0, sizeof(r));
	r.accept = 1;
	mk(&i, true, rpub, 0);
	mk(&r, false, NULL, 0);
	handshake(&i, &r, 4096);
	const uint8_t shortpfx[] = {0x0c, 0x59};
	cr_assert_eq(link_sm_feed(r.sm, shortpfx, 2), LINK_ERR_LENGTH);
	end_free(&i);
	end_free(&r);
}

Test(link_sm, bad_configs)
{
	struct end e = {0};
	keys();
	struct link_sm_cfg c = {.initiator = true, .static_priv = ipriv,
				.packet_len = PL,
				.ops = {end_send, end_open, end_cmd}};
	cr_assert_null(link_sm_new(&c), "initiator without remote key");
	c.initiator = false;
	cr_assert_null(link_sm_new(&c), "responder without auth");
	c.auth = end_auth;
	c.packet_len = 10;
	cr_assert_null(link_sm_new(&c), "tiny geometry");
	c.packet_len = PL;
	c.ops_ctx = &e;
	e.sm = link_sm_new(&c);
	cr_assert_not_null(e.sm);
	cr_assert_eq(link_sm_start(e.sm), LINK_ERR_STATE);
	uint8_t w[PL + 100];
	cr_assert_eq(link_sm_seal_packet(e.sm, w, PL, w), LINK_ERR_STATE);
	end_free(&e);
}
