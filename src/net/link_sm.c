/*
 * Link state machine (net/link_sm.h, docs/link.md). No I/O: everything the
 * peer sent arrives through link_sm_feed, everything for the peer leaves
 * through ops.send, so the same code runs under libuv and under a fuzzer.
 */
#include "net/link_sm.h"

#include <string.h>

#include "lib/alloc.h"

#include "crypto/noise.h"
#include "crypto/secret.h"

#include "wire/link_frame.h"

struct link_sm {
	bool initiator;
	enum link_role role;
	bool (*auth)(void *ctx, const uint8_t key[32]);
	void *auth_ctx;
	struct link_sm_ops ops;
	void *ops_ctx;

	enum link_sm_state state;
	enum link_err err;
	enum link_err peer_reason;
	int hs_msgs; /* handshake messages processed so far */
	struct noise_hs *hs;
	struct noise_cipher *tx, *rx;
	uint8_t peer_key[32];
	enum link_role peer_role;

	size_t packet_len, plain_len, body_len, wire_len;
	uint64_t rekey_frames, sent, recvd;

	/* A partial frame (prefix included), and one decrypted plaintext. */
	uint8_t *inbuf;
	size_t in_have, in_cap;
	uint8_t *plain;
};

void
link_sm_prologue(uint8_t out[static LINK_PROLOGUE_LEN])
{
	memcpy(out, "backchannel-link", 16);
	out[16] = (uint8_t)(LINK_VERSION >> 8);
	out[17] = (uint8_t)LINK_VERSION;
}

static enum link_err
sm_die(struct link_sm *sm, enum link_err e)
{
	if (sm->state != LINK_SM_DEAD) {
		sm->state = LINK_SM_DEAD;
		sm->err = e;
		/* Keys are of no further use: wipe them now, not at free. */
		NOISE_HS_FREE(sm->hs);
		NOISE_CIPHER_FREE(sm->tx);
		NOISE_CIPHER_FREE(sm->rx);
	}
	return sm->err;
}

struct link_sm *
link_sm_new(const struct link_sm_cfg *cfg)
{
	if (cfg->static_priv == NULL || cfg->ops.send == NULL ||
	    cfg->ops.open == NULL || cfg->ops.cmd == NULL ||
	    !link_frame_packet_len_ok(cfg->packet_len))
		return NULL;
	if (cfg->initiator ? cfg->remote_pub == NULL : cfg->auth == NULL)
		return NULL;
	if (cfg->initiator && cfg->role != LINK_ROLE_CLIENT &&
	    cfg->role != LINK_ROLE_NODE)
		return NULL;
	uint8_t prologue[LINK_PROLOGUE_LEN];
	link_sm_prologue(prologue);
	struct noise_hs *hs = noise_hs_new(LINK_PROTOCOL_NAME, cfg->initiator,
					   prologue, sizeof(prologue));
	if (hs == NULL)
		return NULL;
	if (noise_hs_set_s(hs, cfg->static_priv) != 0 ||
	    (cfg->initiator && noise_hs_set_rs(hs, cfg->remote_pub) != 0)) {
		noise_hs_free(hs);
		return NULL;
	}
	struct link_sm *sm = bc_calloc(1, sizeof(*sm));
	sm->initiator = cfg->initiator;
	sm->role = cfg->role;
	sm->auth = cfg->auth;
	sm->auth_ctx = cfg->auth_ctx;
	sm->ops = cfg->ops;
	sm->ops_ctx = cfg->ops_ctx;
	sm->state = LINK_SM_HANDSHAKE;
	sm->hs = hs;
	if (cfg->initiator)
		memcpy(sm->peer_key, cfg->remote_pub, 32);
	sm->packet_len = cfg->packet_len;
	sm->plain_len = link_frame_plain_len(cfg->packet_len);
	sm->body_len = link_frame_body_len(cfg->packet_len);
	sm->wire_len = link_frame_wire_len(cfg->packet_len);
	sm->rekey_frames =
	    cfg->rekey_frames ? cfg->rekey_frames : LINK_REKEY_FRAMES_DEFAULT;
	sm->in_cap = sm->wire_len > LINK_FRAME_HDR_LEN + LINK_HS3_LEN
			 ? sm->wire_len
			 : LINK_FRAME_HDR_LEN + LINK_HS3_LEN;
	sm->inbuf = bc_malloc(sm->in_cap);
	sm->plain = bc_malloc(sm->plain_len);
	return sm;
}

void
link_sm_free(struct link_sm *sm)
{
	if (sm == NULL)
		return;
	noise_hs_free(sm->hs);
	noise_cipher_free(sm->tx);
	noise_cipher_free(sm->rx);
	/* Plaintexts of received frames: wipe before release. */
	secret_wipe(sm->plain, sm->plain_len);
	BC_FREE(sm->plain);
	BC_FREE(sm->inbuf);
	BC_FREE(sm);
}

/* Write one handshake message of exactly want bytes as a frame. */
static enum link_err
hs_send(struct link_sm *sm, const uint8_t *payload, size_t plen, size_t want)
{
	uint8_t frame[LINK_FRAME_HDR_LEN + LINK_HS3_LEN];
	size_t n = 0;
	if (noise_hs_write(sm->hs, payload, plen, frame + LINK_FRAME_HDR_LEN,
			   sizeof(frame) - LINK_FRAME_HDR_LEN, &n) != 0 ||
	    n != want)
		return LINK_ERR_HANDSHAKE;
	(void)link_frame_put_hdr(frame, n);
	sm->ops.send(sm->ops_ctx, frame, LINK_FRAME_HDR_LEN + n);
	return LINK_OK;
}

enum link_err
link_sm_start(struct link_sm *sm)
{
	if (sm->state == LINK_SM_DEAD)
		return sm->err;
	if (!sm->initiator || sm->hs_msgs != 0)
		return LINK_ERR_STATE;
	enum link_err e = hs_send(sm, NULL, 0, LINK_HS1_LEN);
	if (e != LINK_OK)
		return sm_die(sm, e);
	sm->hs_msgs = 1;
	return LINK_OK;
}

static enum link_err
sm_split(struct link_sm *sm)
{
	if (noise_hs_split(sm->hs, &sm->tx, &sm->rx) != 0)
		return LINK_ERR_HANDSHAKE;
	NOISE_HS_FREE(sm->hs);
	sm->state = LINK_SM_OPEN;
	return LINK_OK;
}

/* Seal a DISCONNECT with our reason, send it, and die with that reason. */
static enum link_err
sm_refuse(struct link_sm *sm, enum link_err why)
{
	uint8_t *frame = bc_malloc(sm->wire_len);
	struct link_cmd cmd = {.type = LINK_CMD_DISCONNECT};
	cmd.u.disconnect.reason = (uint8_t)why;
	if (link_sm_seal(sm, &cmd, frame) == LINK_OK)
		sm->ops.send(sm->ops_ctx, frame, sm->wire_len);
	BC_FREE(frame);
	return sm_die(sm, why);
}

static enum link_err
initiator_hs(struct link_sm *sm, const uint8_t *msg, size_t len)
{
	size_t plen = 0;
	/* A wrong responder key shows here: msg 2's tag cannot verify. */
	if (noise_hs_read(sm->hs, msg, len, NULL, 0, &plen) != 0 || plen != 0)
		return LINK_ERR_HANDSHAKE;
	uint8_t pl[LINK_HS3_PAYLOAD_LEN] = {(uint8_t)sm->role, 0,
					    (uint8_t)(sm->packet_len >> 8),
					    (uint8_t)sm->packet_len};
	enum link_err e = hs_send(sm, pl, sizeof(pl), LINK_HS3_LEN);
	if (e != LINK_OK)
		return e;
	sm->hs_msgs = 3;
	if ((e = sm_split(sm)) != LINK_OK)
		return e;
	sm->peer_role = LINK_ROLE_NODE;
	sm->ops.open(sm->ops_ctx);
	return LINK_OK;
}

static enum link_err
responder_hs3(struct link_sm *sm, const uint8_t *msg, size_t len)
{
	uint8_t pl[LINK_HS3_LEN];
	size_t plen = 0;
	if (noise_hs_read(sm->hs, msg, len, pl, sizeof(pl), &plen) != 0 ||
	    plen != LINK_HS3_PAYLOAD_LEN)
		return LINK_ERR_HANDSHAKE;
	if (noise_hs_get_remote_static(sm->hs, sm->peer_key) != 0)
		return LINK_ERR_HANDSHAKE;
	sm->hs_msgs = 3;
	enum link_err e = sm_split(sm);
	if (e != LINK_OK)
		return e;
	/* From here on the peer is authenticated: it may hear why we refuse. */
	if (!sm->auth(sm->auth_ctx, sm->peer_key))
		return sm_refuse(sm, LINK_ERR_AUTH);
	size_t plen_peer = (size_t)pl[2] << 8 | pl[3];
	if ((pl[0] != LINK_ROLE_CLIENT && pl[0] != LINK_ROLE_NODE) ||
	    pl[1] != 0 || plen_peer != sm->packet_len)
		return sm_refuse(sm, LINK_ERR_VERSION);
	sm->peer_role = (enum link_role)pl[0];
	sm->ops.open(sm->ops_ctx);
	return LINK_OK;
}

static enum link_err
responder_hs(struct link_sm *sm, const uint8_t *msg, size_t len)
{
	if (sm->hs_msgs == 1)
		return responder_hs3(sm, msg, len);
	size_t plen = 0;
	if (noise_hs_read(sm->hs, msg, len, NULL, 0, &plen) != 0 || plen != 0)
		return LINK_ERR_HANDSHAKE;
	enum link_err e = hs_send(sm, NULL, 0, LINK_HS2_LEN);
	if (e != LINK_OK)
		return e;
	sm->hs_msgs = 1;
	return LINK_OK;
}

static void
sm_count(struct noise_cipher *c, uint64_t *count, uint64_t every)
{
	/* Both ends count the same frames, so they rekey at the same one. */
	if (++*count % every == 0)
		(void)noise_cipher_rekey(c);
}

static enum link_err
transport_frame(struct link_sm *sm, const uint8_t *body, size_t len)
{
	size_t n = 0;
	if (noise_cipher_decrypt(sm->rx, NULL, 0, body, len, sm->plain,
				 sm->plain_len, &n) != 0 ||
	    n != sm->plain_len)
		return LINK_ERR_DECRYPT;
	sm_count(sm->rx, &sm->recvd, sm->rekey_frames);
	struct link_cmd cmd;
	enum link_err e = link_cmd_decode(&cmd, sm->packet_len, sm->plain, n);
	if (e != LINK_OK)
		return e;
	switch (cmd.type) {
	case LINK_CMD_NOOP:
		return LINK_OK;
	case LINK_CMD_DISCONNECT:
		sm->peer_reason = (enum link_err)cmd.u.disconnect.reason;
		return LINK_ERR_CLOSED;
	case LINK_CMD_SEND_PACKET:
	case LINK_CMD_FETCH:
	case LINK_CMD_FETCH_RESPONSE:
	case LINK_CMD_CONFIRM:
	case LINK_CMD_REGISTER:
	case LINK_CMD_GET_CONSENSUS:
	case LINK_CMD_CONSENSUS:
	case LINK_CMD_TIME:
	case LINK_CMD_ERROR:
	case LINK_CMD_QUEUE_CREATE:
	case LINK_CMD_QUEUE_DELETE:
		break;
	}
	return sm->ops.cmd(sm->ops_ctx, &cmd);
}

static size_t
want_len(const struct link_sm *sm)
{
	if (sm->state == LINK_SM_OPEN)
		return sm->body_len;
	if (sm->initiator)
		return LINK_HS2_LEN;
	return sm->hs_msgs == 0 ? LINK_HS1_LEN : LINK_HS3_LEN;
}

static enum link_err
one_frame(struct link_sm *sm, const uint8_t *body, size_t len)
{
	if (sm->state == LINK_SM_OPEN)
		return transport_frame(sm, body, len);
	if (sm->initiator) {
		if (sm->hs_msgs != 1)
			return LINK_ERR_STATE; /* start() was not called */
		return initiator_hs(sm, body, len);
	}
	return responder_hs(sm, body, len);
}

enum link_err
link_sm_feed(struct link_sm *sm, const uint8_t *in, size_t len)
{
	while (len > 0 && sm->state != LINK_SM_DEAD) {
		size_t want = want_len(sm), flen = 0;
		const uint8_t *body = NULL;
		enum link_err e;
		if (sm->in_have == 0) {
			/* Fast path: a whole frame in the input, no copy. */
			e = link_frame_parse(in, len, want, &body, &flen);
			if (e == LINK_OK) {
				in += flen;
				len -= flen;
				if ((e = one_frame(sm, body, want)) != LINK_OK)
					return sm_die(sm, e);
				continue;
			}
			if (e != LINK_ERR_AGAIN)
				return sm_die(sm, e);
		}
		size_t need = sm->in_have < LINK_FRAME_HDR_LEN
				  ? LINK_FRAME_HDR_LEN - sm->in_have
				  : LINK_FRAME_HDR_LEN + want - sm->in_have;
		size_t take = need < len ? need : len;
		memcpy(sm->inbuf + sm->in_have, in, take);
		sm->in_have += take;
		in += take;
		len -= take;
		e = link_frame_parse(sm->inbuf, sm->in_have, want, &body,
				     &flen);
		if (e == LINK_ERR_AGAIN)
			continue;
		if (e != LINK_OK)
			return sm_die(sm, e);
		sm->in_have = 0;
		if ((e = one_frame(sm, body, want)) != LINK_OK)
			return sm_die(sm, e);
	}
	return sm->state == LINK_SM_DEAD ? sm->err : LINK_OK;
}

size_t
link_sm_wire_len(const struct link_sm *sm)
{
	return sm->wire_len;
}

/* Encrypt the plaintext at out + prefix in place and write the prefix. */
static enum link_err
seal_in_place(struct link_sm *sm, uint8_t *out)
{
	uint8_t *p = out + LINK_FRAME_HDR_LEN;
	size_t n = 0;
	if (noise_cipher_encrypt(sm->tx, NULL, 0, p, sm->plain_len, p,
				 sm->body_len, &n) != 0 ||
	    n != sm->body_len)
		return sm_die(sm, LINK_ERR_NONCE);
	(void)link_frame_put_hdr(out, n);
	sm_count(sm->tx, &sm->sent, sm->rekey_frames);
	return LINK_OK;
}

enum link_err
link_sm_seal(struct link_sm *sm, const struct link_cmd *cmd, uint8_t *out)
{
	if (sm->state != LINK_SM_OPEN)
		return sm->state == LINK_SM_DEAD ? sm->err : LINK_ERR_STATE;
	enum link_err e = link_cmd_encode(
	    cmd, sm->packet_len, out + LINK_FRAME_HDR_LEN, sm->plain_len);
	if (e != LINK_OK)
		return e;
	return seal_in_place(sm, out);
}

enum link_err
link_sm_seal_packet(struct link_sm *sm, const uint8_t *pkt, size_t len,
		    uint8_t *out)
{
	if (sm->state != LINK_SM_OPEN)
		return sm->state == LINK_SM_DEAD ? sm->err : LINK_ERR_STATE;
	if (len != sm->packet_len)
		return LINK_ERR_LENGTH;
	/* The SEND_PACKET layout of wire/link_cmd.c, written directly. */
	uint8_t *p = out + LINK_FRAME_HDR_LEN;
	p[0] = LINK_CMD_SEND_PACKET;
	p[1] = (uint8_t)(len >> 8);
	p[2] = (uint8_t)len;
	memcpy(p + 3, pkt, len);
	memset(p + 3 + len, 0, sm->plain_len - 3 - len);
	return seal_in_place(sm, out);
}

enum link_err
link_sm_seal_raw(struct link_sm *sm, const uint8_t *plain, uint8_t *out)
{
	if (sm->state != LINK_SM_OPEN)
		return sm->state == LINK_SM_DEAD ? sm->err : LINK_ERR_STATE;
	memcpy(out + LINK_FRAME_HDR_LEN, plain, sm->plain_len);
	return seal_in_place(sm, out);
}

enum link_sm_state
link_sm_state(const struct link_sm *sm)
{
	return sm->state;
}

enum link_err
link_sm_error(const struct link_sm *sm)
{
	return sm->state == LINK_SM_DEAD ? sm->err : LINK_OK;
}

enum link_err
link_sm_peer_reason(const struct link_sm *sm)
{
	return sm->peer_reason;
}

const uint8_t *
link_sm_peer_key(const struct link_sm *sm)
{
	return sm->peer_key;
}

enum link_role
link_sm_peer_role(const struct link_sm *sm)
{
	return sm->peer_role;
}

uint64_t
link_sm_frames_sent(const struct link_sm *sm)
{
	return sm->sent;
}

uint64_t
link_sm_frames_recv(const struct link_sm *sm)
{
	return sm->recvd;
}
