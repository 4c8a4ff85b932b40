/*
 * The client side of a gateway's links: register, queues, fetch, confirm,
 * consensus, time, and the per-client sending rate (gateway.h,
 * docs/gateway.md).  Every refusal is an ERROR code on the link and changes
 * nothing stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/bytes.h"
#include "lib/codec.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/hash.h"
#include "crypto/rand.h"
#include "crypto/secret.h"

#include "wire/service_id.h"

#include "node/gateway_internal.h"

/* Random bytes of an invitation token (base32: 26 characters). */
#define INVITE_TOKEN_BYTES 16

void
gateway_token_hash(uint8_t out[MAILBOX_TOKEN_HASH_LEN], const uint8_t *token,
		   size_t len)
{
	/* The database holds only this hash: reading it registers nobody. */
	blake2b(out, MAILBOX_TOKEN_HASH_LEN, token, len, NULL, 0);
}

/* Is link_key registered?  A one-item fetch answers without a new query. */
static bool
account_known(struct gateway *gw, const uint8_t key[MAILBOX_KEY_LEN])
{
	size_t n = 0;
	return mailbox_fetch(gw->mb, key, gw->items, 1, gw->scratch,
			     gw->item_size, &n) == MAILBOX_OK;
}

bool
gateway_client_admit(struct gateway *gw, const uint8_t key[32],
		     struct gateway_client *cl)
{
	bool known = account_known(gw, key);
	if (cl) {
		memset(cl, 0, sizeof(*cl));
		memcpy(cl->key, key, MAILBOX_KEY_LEN);
		cl->registered = known;
		cl->tokens = gw->cfg.rate_burst;
		cl->last_ms = time_mono_ms();
	}
	/* An unregistered key gets as far as REGISTER (and TIME); whether
	 * it may register is the admission policy's answer to REGISTER. */
	return true;
}

static enum link_err
status_code(enum mailbox_status st)
{
	switch (st) {
	case MAILBOX_OK:
		return LINK_OK;
	case MAILBOX_NO_QUEUE:
		return LINK_ERR_NO_QUEUE;
	case MAILBOX_EXISTS:
		return LINK_ERR_EXISTS;
	case MAILBOX_QUEUE_FULL:
	case MAILBOX_ACCOUNT_FULL:
		return LINK_ERR_QUOTA;
	case MAILBOX_NO_ACCOUNT:
		return LINK_ERR_NOT_REGISTERED;
	case MAILBOX_REFUSED:
		return LINK_ERR_DENIED;
	case MAILBOX_BADARG:
		return LINK_ERR_FIELD;
	case MAILBOX_DUPLICATE:
	case MAILBOX_ERROR:
		break;
	}
	return LINK_ERR_UNAVAILABLE;
}

static enum gateway_action
answer(struct gateway *gw, struct link_cmd *out, enum link_err code)
{
	memset(out, 0, sizeof(*out));
	out->type = LINK_CMD_ERROR;
	out->u.error.code = (uint8_t)code;
	if (code != LINK_OK)
		metric_counter_inc(gw->c.refused);
	return GATEWAY_ANSWER;
}

static enum gateway_action
do_register(struct gateway *gw, struct gateway_client *cl,
	    const struct link_cmd *in, struct link_cmd *out)
{
	uint8_t h[MAILBOX_TOKEN_HASH_LEN];
	const uint8_t *hp = NULL;
	if (in->u.reg.len) {
		gateway_token_hash(h, in->u.reg.token, in->u.reg.len);
		hp = h;
	}
	enum mailbox_status st = mailbox_register(gw->mb, cl->key, hp);
	if (st == MAILBOX_OK)
		metric_counter_inc(gw->c.registered);
	/* Registering twice is harmless: a retransmitted REGISTER gets ok. */
	if (st == MAILBOX_OK || st == MAILBOX_EXISTS) {
		cl->registered = true;
		return answer(gw, out, LINK_OK);
	}
	return answer(
	    gw, out, st == MAILBOX_REFUSED ? LINK_ERR_DENIED : status_code(st));
}

static enum gateway_action
do_queue(struct gateway *gw, struct gateway_client *cl,
	 const struct link_cmd *in, struct link_cmd *out)
{
	enum mailbox_status st;
	if (in->type == LINK_CMD_QUEUE_CREATE) {
		/* A queue may not shadow a service. */
		if (service_id_is_service(in->u.queue.id))
			return answer(gw, out, LINK_ERR_EXISTS);
		st = mailbox_queue_create(gw->mb, cl->key, in->u.queue.id);
	} else {
		st = mailbox_queue_delete(gw->mb, cl->key, in->u.queue.id);
	}
	return answer(gw, out, status_code(st));
}

/*
 * Deletes the listed items of the client (CONFIRM, or the confirmations a
 * FETCH carries).  Item ids on the link are the mailbox's 64-bit id, then
 * 8 zero bytes; any other id matches nothing.
 */
static enum mailbox_status
confirm_ids(struct gateway *gw, struct gateway_client *cl,
	    const uint8_t (*in)[LINK_ID_LEN], size_t count)
{
	uint64_t ids[LINK_CONFIRM_MAX];
	size_t n = 0, deleted = 0;
	static const uint8_t zero[8];
	for (size_t i = 0; i < count && i < LINK_CONFIRM_MAX; i++) {
		if (memcmp(in[i] + 8, zero, 8) != 0)
			continue;
		ids[n++] = be64_get(in[i]);
	}
	if (n == 0)
		return MAILBOX_OK;
	enum mailbox_status st =
	    mailbox_confirm(gw->mb, cl->key, ids, n, &deleted);
	metric_counter_add(gw->c.confirmed, deleted);
	return st;
}

/* Confirmations first, so the answer holds the items after them. */
static enum gateway_action
do_fetch(struct gateway *gw, struct gateway_client *cl,
	 const struct link_cmd *in, struct link_cmd *out)
{
	size_t fit = link_cmd_items_fit(gw->geom.packet_len, gw->item_size);
	size_t want = LINK_FETCH_MAX_ITEMS, n = 0;
	enum mailbox_status st =
	    confirm_ids(gw, cl, in->u.fetch.ids, in->u.fetch.count);
	if (st == MAILBOX_OK)
		st = mailbox_fetch(gw->mb, cl->key, gw->items, want,
				   gw->scratch, want * gw->item_size, &n);
	if (st != MAILBOX_OK)
		return answer(gw, out, status_code(st));
	metric_counter_inc(gw->c.fetches);
	memset(out, 0, sizeof(*out));
	out->type = LINK_CMD_FETCH_RESPONSE;
	out->u.fetch_resp.seq = in->u.fetch.seq;
	size_t k = n < fit ? n : fit;
	out->u.fetch_resp.count = (uint8_t)k;
	/* At least this many more wait (a lower bound, at most 15). */
	out->u.fetch_resp.remaining = (uint32_t)(n - k);
	for (size_t i = 0; i < k; i++) {
		struct link_item *it = &out->u.fetch_resp.items[i];
		memset(it->id, 0, LINK_ID_LEN);
		be64_put(it->id, gw->items[i].id);
		it->data = gw->items[i].blob;
		it->len = gw->item_size;
	}
	return GATEWAY_ANSWER;
}

/* The separate CONFIRM: kept for older clients and the gateway probe. */
static enum gateway_action
do_confirm(struct gateway *gw, struct gateway_client *cl,
	   const struct link_cmd *in, struct link_cmd *out)
{
	return answer(gw, out,
		      status_code(confirm_ids(gw, cl, in->u.confirm.ids,
					      in->u.confirm.count)));
}

static enum gateway_action
do_consensus(struct gateway *gw, const struct link_cmd *in,
	     struct link_cmd *out)
{
	size_t cmax = link_cmd_chunk_max(gw->geom.packet_len);
	if (!gw->cons_len)
		return answer(gw, out, LINK_ERR_UNAVAILABLE);
	size_t nchunks = (gw->cons_len + cmax - 1) / cmax;
	uint64_t ep = in->u.get_consensus.epoch;
	if ((ep != 0 && ep != gw->cons_epoch) ||
	    in->u.get_consensus.chunk >= nchunks || nchunks > UINT16_MAX)
		return answer(gw, out, LINK_ERR_FIELD);
	size_t off = (size_t)in->u.get_consensus.chunk * cmax;
	size_t len = gw->cons_len - off < cmax ? gw->cons_len - off : cmax;
	memset(out, 0, sizeof(*out));
	out->type = LINK_CMD_CONSENSUS;
	out->u.consensus.epoch = gw->cons_epoch;
	out->u.consensus.chunk = in->u.get_consensus.chunk;
	out->u.consensus.nchunks = (uint16_t)nchunks;
	out->u.consensus.total = (uint32_t)gw->cons_len;
	out->u.consensus.data = gw->cons + off;
	out->u.consensus.len = len;
	return GATEWAY_ANSWER;
}

/* Token bucket at the consensus sending rate (times the config's slack). */
static bool
rate_take(struct gateway *gw, struct gateway_client *cl)
{
	if (gw->cfg.rate_pps <= 0)
		return true;
	int64_t now = time_mono_ms();
	double add = (double)(now - cl->last_ms) * gw->cfg.rate_pps / 1000.0;
	cl->last_ms = now;
	cl->tokens += add;
	if (cl->tokens > gw->cfg.rate_burst)
		cl->tokens = gw->cfg.rate_burst;
	if (cl->tokens < 1.0)
		return false;
	cl->tokens -= 1.0;
	return true;
}

static enum gateway_action
unregistered(struct gateway *gw, const struct link_cmd *in,
	     struct link_cmd *out)
{
	metric_counter_inc(gw->c.dropped_unregistered);
	if (in->type == LINK_CMD_SEND_PACKET)
		return GATEWAY_NOTHING; /* dropped; no answer to a packet */
	return answer(gw, out, LINK_ERR_NOT_REGISTERED);
}

enum gateway_action
gateway_client_cmd(struct gateway *gw, struct gateway_client *cl,
		   const struct link_cmd *in, struct link_cmd *out,
		   enum link_err *close_code)
{
	switch (in->type) {
	case LINK_CMD_NOOP:
		return GATEWAY_NOTHING;
	case LINK_CMD_TIME:
		memset(out, 0, sizeof(*out));
		out->type = LINK_CMD_TIME;
		out->u.time.wall_ms = (uint64_t)gw_now_ms(gw);
		return GATEWAY_ANSWER;
	case LINK_CMD_REGISTER:
		return do_register(gw, cl, in, out);
	case LINK_CMD_SEND_PACKET:
	case LINK_CMD_FETCH:
	case LINK_CMD_CONFIRM:
	case LINK_CMD_QUEUE_CREATE:
	case LINK_CMD_QUEUE_DELETE:
	case LINK_CMD_GET_CONSENSUS:
		break;
	case LINK_CMD_FETCH_RESPONSE:
	case LINK_CMD_CONSENSUS:
	case LINK_CMD_DISCONNECT:
	case LINK_CMD_ERROR:
	default:
		/* A gateway's answers, sent to the gateway: not a client. */
		*close_code = LINK_ERR_STATE;
		return GATEWAY_CLOSE;
	}
	if (!cl->registered)
		return unregistered(gw, in, out);
	if (in->type == LINK_CMD_SEND_PACKET) {
		if (rate_take(gw, cl))
			return GATEWAY_SUBMIT;
		metric_counter_inc(gw->c.dropped_rate);
		return GATEWAY_NOTHING;
	}
	if (in->type == LINK_CMD_FETCH)
		return do_fetch(gw, cl, in, out);
	if (in->type == LINK_CMD_CONFIRM)
		return do_confirm(gw, cl, in, out);
	if (in->type == LINK_CMD_GET_CONSENSUS)
		return do_consensus(gw, in, out);
	return do_queue(gw, cl, in, out);
}

int
gateway_invite_create(const char *db_path, int64_t valid_ms, char *token,
		      size_t tokencap, char *err, size_t errlen)
{
	uint8_t raw[INVITE_TOKEN_BYTES], h[MAILBOX_TOKEN_HASH_LEN];
	struct mailbox_config mc;
	int rc = -1;
	mailbox_config_defaults(&mc);
	mc.item_size = 1; /* the invitation table does not depend on it */
	mc.admission = MAILBOX_ADMIT_INVITE;
	struct mailbox *mb = mailbox_open(db_path, &mc, err, errlen);
	if (!mb)
		return -1;
	rand_bytes(raw, sizeof(raw));
	if (base32_encode(token, tokencap, raw, sizeof(raw)) != 0) {
		snprintf(err, errlen, "token buffer too small");
		goto done;
	}
	gateway_token_hash(h, (const uint8_t *)token, strlen(token));
	if (mailbox_invite_add(mb, h, time_wall_ms() + valid_ms) !=
	    MAILBOX_OK) {
		snprintf(err, errlen, "cannot record the invitation");
		goto done;
	}
	rc = 0;
done:
	secret_wipe(raw, sizeof(raw));
	mailbox_close(mb);
	return rc;
}
