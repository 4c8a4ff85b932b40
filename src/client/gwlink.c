/* The client's side of its gateway link (gwlink.h). */
#include "client/gwlink.h"

#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#include "wire/link_frame.h"

void
gwlink_init(struct gwlink *g, const struct dir_authset *as,
	    const struct gwlink_ops *ops, bool registered, const uint8_t *token,
	    size_t token_len)
{
	memset(g, 0, sizeof(*g));
	g->as = as;
	g->ops = *ops;
	g->registered = registered;
	g->token = token;
	g->token_len = token_len;
	g->confirm_fit = link_cmd_fetch_confirms_fit(LINK_PACKET_LEN_DEFAULT);
	buf_init(&g->doc);
}

void
gwlink_free(struct gwlink *g)
{
	buf_free(&g->doc);
	if (g->have_cons)
		dir_consensus_clear(&g->cons);
	g->have_cons = false;
}

static void
gwlink_fatal(struct gwlink *g, const char *msg)
{
	size_t n = strlen(msg);

	g->state = GWLINK_FATAL;
	if (n >= sizeof(g->err))
		n = sizeof(g->err) - 1;
	memcpy(g->err, msg, n);
	g->err[n] = 0;
}

static int
gwlink_send_time(struct gwlink *g, int64_t wall_ms)
{
	struct link_cmd c = {.type = LINK_CMD_TIME};

	c.u.time.wall_ms = (uint64_t)wall_ms;
	g->time_sent_ms = wall_ms;
	g->state = GWLINK_TIME;
	return g->ops.send(g->ops.ctx, &c);
}

static int
gwlink_get_chunk(struct gwlink *g, uint16_t chunk)
{
	struct link_cmd c = {.type = LINK_CMD_GET_CONSENSUS};

	c.u.get_consensus.epoch = chunk == 0 ? 0 : g->doc_epoch;
	c.u.get_consensus.chunk = chunk;
	g->next_chunk = chunk;
	g->state = GWLINK_CONSENSUS;
	return g->ops.send(g->ops.ctx, &c);
}

/* Our reply queue, or straight to the clock check without one. */
static void
gwlink_queue_or_time(struct gwlink *g, int64_t wall_ms)
{
	struct link_cmd c = {.type = LINK_CMD_QUEUE_CREATE};

	if (g->reply_queue == NULL) {
		gwlink_send_time(g, wall_ms);
		return;
	}
	memcpy(c.u.queue.id, g->reply_queue, 32);
	g->state = GWLINK_QUEUE;
	g->ops.send(g->ops.ctx, &c);
}

void
gwlink_opened(struct gwlink *g, int64_t wall_ms)
{
	g->fetch_pending = false;
	if (g->drain) {
		g->state = GWLINK_READY;
		return;
	}
	if (!g->registered) {
		struct link_cmd c = {.type = LINK_CMD_REGISTER};
		c.u.reg.token = g->token;
		c.u.reg.len = g->token_len;
		g->state = GWLINK_REGISTERING;
		g->ops.send(g->ops.ctx, &c);
		return;
	}
	gwlink_queue_or_time(g, wall_ms);
}

void
gwlink_closed(struct gwlink *g)
{
	if (g->state != GWLINK_FATAL)
		g->state = GWLINK_DOWN;
	g->fetch_pending = false;
	/* Unanswered: maybe not applied; the next fetch carries them again
	 * (confirming twice is harmless). */
	g->confirm_sent = 0;
	g->ans_n = 0; /* their answers will never come */
	buf_reset(&g->doc);
}

static int
gwlink_expect(struct gwlink *g, uint8_t kind, const uint8_t *id)
{
	if (g->ans_n == GWLINK_ANS_MAX)
		return -1;
	struct gwlink_ans *a =
	    &g->ans[(g->ans_head + g->ans_n) % GWLINK_ANS_MAX];
	a->kind = kind;
	if (id != NULL)
		memcpy(a->id, id, LINK_QUEUE_ID_LEN);
	g->ans_n++;
	return 0;
}

int
gwlink_queue_op(struct gwlink *g, bool create, const uint8_t id[32])
{
	struct link_cmd c = {.type = create ? LINK_CMD_QUEUE_CREATE
					    : LINK_CMD_QUEUE_DELETE};

	/* One slot stays free for a confirm. */
	if (g->state != GWLINK_READY || g->ans_n + 1 >= GWLINK_ANS_MAX)
		return -1;
	memcpy(c.u.queue.id, id, LINK_QUEUE_ID_LEN);
	if (g->ops.send(g->ops.ctx, &c) != 0)
		return -1;
	return gwlink_expect(g, create ? 2 : 3, id);
}

/* An ERROR on a ready link answering a queue request: hand it up. */
static bool
gwlink_queue_answer(struct gwlink *g, uint8_t code)
{
	if (g->state != GWLINK_READY || g->ans_n == 0)
		return false;
	struct gwlink_ans a = g->ans[g->ans_head];
	g->ans_head = (g->ans_head + 1) % GWLINK_ANS_MAX;
	g->ans_n--;
	if (a.kind == 1)
		return false; /* a confirm's: as before */
	if (g->ops.on_queue != NULL)
		g->ops.on_queue(g->ops.ctx, a.kind == 2, a.id, code);
	return true;
}

/*
 * The gateway's clock against ours: its TIME answer was taken somewhere
 * between our request and now, so compare with the midpoint.
 */
static enum link_err
gwlink_on_time(struct gwlink *g, uint64_t gw_ms, int64_t wall_ms)
{
	if (g->state != GWLINK_TIME)
		return LINK_ERR_FIELD;
	int64_t mid = g->time_sent_ms + (wall_ms - g->time_sent_ms) / 2;
	g->skew_ms = (int64_t)gw_ms - mid;
	if (g->skew_ms > GWLINK_SKEW_MAX_MS ||
	    g->skew_ms < -GWLINK_SKEW_MAX_MS) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "our clock is %lld s off the "
			 "gateway's (more than %d s): "
			 "refusing to run; fix the clock",
			 (long long)(-g->skew_ms / 1000), DIR_CLOCK_SKEW_MAX);
		gwlink_fatal(g, msg);
		return LINK_OK;
	}
	gwlink_get_chunk(g, 0);
	return LINK_OK;
}

static void
gwlink_verify_doc(struct gwlink *g, int64_t wall_ms)
{
	struct dir_consensus c;
	uint8_t hash[32];
	char err[256];

	if (dir_verify_consensus((const char *)g->doc.data, g->doc.len, g->as,
				 wall_ms / 1000, DIR_VERIFY_NOW, &c, hash, err,
				 sizeof(err)) != 0) {
		/* A gateway that serves a bad consensus is not trusted: stop
		 * rather than run on parameters no one signed. */
		char msg[300];
		snprintf(msg, sizeof(msg),
			 "gateway served an invalid "
			 "consensus: %s",
			 err);
		gwlink_fatal(g, msg);
		return;
	}
	if (dir_seen_check(&g->seen, c.epoch, hash, err, sizeof(err)) != 0) {
		dir_consensus_clear(&c);
		gwlink_fatal(g, err);
		return;
	}
	if (g->have_cons)
		dir_consensus_clear(&g->cons);
	g->cons = c;
	g->have_cons = true;
	g->state = GWLINK_READY;
	buf_reset(&g->doc);
	if (g->ops.on_consensus != NULL)
		g->ops.on_consensus(g->ops.ctx, &g->cons);
}

static enum link_err
gwlink_on_chunk(struct gwlink *g, const struct link_cmd *cmd, int64_t wall_ms)
{
#define k (&cmd->u.consensus)

	if (g->state != GWLINK_CONSENSUS || k->chunk != g->next_chunk ||
	    k->total > DIR_DOC_MAX || k->total == 0)
		return LINK_ERR_FIELD;
	if (k->chunk == 0) {
		buf_reset(&g->doc);
		g->nchunks = k->nchunks;
		g->total = k->total;
		g->doc_epoch = k->epoch;
	} else if (k->nchunks != g->nchunks || k->total != g->total ||
		   k->epoch != g->doc_epoch) {
		return LINK_ERR_FIELD;
	}
	if (g->doc.len + k->len > g->total ||
	    (k->chunk + 1 < k->nchunks && k->len == 0))
		return LINK_ERR_FIELD;
	buf_append(&g->doc, k->data, k->len);
	if (k->chunk + 1 < k->nchunks) {
		gwlink_get_chunk(g, (uint16_t)(k->chunk + 1));
		return LINK_OK;
	}
	if (g->doc.len != g->total)
		return LINK_ERR_FIELD;
	gwlink_verify_doc(g, wall_ms);
	return LINK_OK;
#undef k
}

/* Remember an item to confirm with the next fetch. */
static void
gwlink_confirm_later(struct gwlink *g, const uint8_t *id)
{
	if (g->confirm_n == GWLINK_CONFIRM_PENDING) {
		g->confirm_dropped++; /* it comes again; handled again */
		return;
	}
	memcpy(g->confirm_ids[g->confirm_n++], id, LINK_ID_LEN);
}

/* Hand each item up; confirm (with the next fetch) those it stored. */
static enum link_err
gwlink_on_fetched(struct gwlink *g, const struct link_cmd *cmd)
{
	if (!g->fetch_pending || cmd->u.fetch_resp.seq != g->fetch_seq)
		return LINK_ERR_FIELD;
	g->fetch_pending = false;
	g->remaining = cmd->u.fetch_resp.remaining;
	g->last_count = cmd->u.fetch_resp.count;
	g->answers++;
	/* The gateway applied the confirmations our fetch carried. */
	g->confirmed += g->confirm_sent;
	g->confirm_n -= g->confirm_sent;
	memmove(g->confirm_ids, g->confirm_ids + g->confirm_sent,
		g->confirm_n * LINK_ID_LEN);
	g->confirm_sent = 0;
	for (uint8_t i = 0; i < cmd->u.fetch_resp.count; i++) {
		const struct link_item *it = &cmd->u.fetch_resp.items[i];
		g->items++;
		if (it->len < LINK_ITEM_HDR)
			g->items_bad++; /* nothing to hand up: let it go */
		else if (g->ops.on_item(g->ops.ctx, it->id, it->data[0],
					it->data + 1, it->data + LINK_ITEM_HDR,
					it->len - LINK_ITEM_HDR) != 0)
			continue;
		gwlink_confirm_later(g, it->id);
	}
	return LINK_OK;
}

/* The answer to QUEUE_CREATE: ours now, or already ours. */
static enum link_err
gwlink_on_queue(struct gwlink *g, uint8_t code, int64_t wall_ms)
{
	char msg[160];

	if (code == LINK_OK || code == LINK_ERR_EXISTS) {
		gwlink_send_time(g, wall_ms);
		return LINK_OK;
	}
	if (code == LINK_ERR_UNAVAILABLE)
		return LINK_ERR_UNAVAILABLE; /* close; the reconnect retries */
	snprintf(msg, sizeof(msg), "the gateway refused our reply queue (%s)",
		 link_err_str(code));
	gwlink_fatal(g, msg);
	return LINK_OK;
}

static enum link_err
gwlink_on_error(struct gwlink *g, uint8_t code)
{
	if (g->drain && code == LINK_ERR_NOT_REGISTERED) {
		/* Our old gateway dropped the account: nothing to fetch. */
		gwlink_fatal(g, "the old gateway no longer knows our account");
		return LINK_OK;
	}
	if (g->state != GWLINK_REGISTERING && code == LINK_ERR_NOT_REGISTERED) {
		/* The gateway lost our account (a new store): register
		 * again; what it held for us is gone either way. */
		g->registered = false;
		gwlink_opened(g, 0);
		return LINK_OK;
	}
	if (g->state != GWLINK_REGISTERING)
		return code == LINK_OK ? LINK_OK : LINK_ERR_FIELD;
	if (code != LINK_OK) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "the gateway refused registration "
			 "(%s)",
			 link_err_str(code));
		gwlink_fatal(g, msg);
		return LINK_OK;
	}
	g->registered = true;
	return LINK_OK;
}

enum link_err
gwlink_on_cmd(struct gwlink *g, const struct link_cmd *cmd, int64_t wall_ms)
{
	enum link_err e = LINK_OK;

	if (g->state == GWLINK_FATAL)
		return LINK_OK;
	switch (cmd->type) {
	case LINK_CMD_NOOP:
		return LINK_OK;
	case LINK_CMD_ERROR:
		if (gwlink_queue_answer(g, cmd->u.error.code))
			return LINK_OK;
		if (g->state == GWLINK_QUEUE &&
		    cmd->u.error.code != LINK_ERR_NOT_REGISTERED)
			return gwlink_on_queue(g, cmd->u.error.code, wall_ms);
		e = gwlink_on_error(g, cmd->u.error.code);
		if (e == LINK_OK && g->state == GWLINK_REGISTERING &&
		    g->registered)
			gwlink_queue_or_time(g, wall_ms);
		return e;
	case LINK_CMD_TIME:
		return gwlink_on_time(g, cmd->u.time.wall_ms, wall_ms);
	case LINK_CMD_CONSENSUS:
		return gwlink_on_chunk(g, cmd, wall_ms);
	case LINK_CMD_FETCH_RESPONSE:
		return gwlink_on_fetched(g, cmd);
	case LINK_CMD_DISCONNECT:
		return LINK_OK; /* the close follows */
	case LINK_CMD_SEND_PACKET:
	case LINK_CMD_FETCH:
	case LINK_CMD_CONFIRM:
	case LINK_CMD_REGISTER:
	case LINK_CMD_GET_CONSENSUS:
	case LINK_CMD_QUEUE_CREATE:
	case LINK_CMD_QUEUE_DELETE:
		break; /* a gateway never sends these to a client */
	}
	return LINK_ERR_TYPE;
}

int
gwlink_fetch(struct gwlink *g)
{
	struct link_cmd c = {.type = LINK_CMD_FETCH};

	/* A fetch still unanswered is not repeated: the stream's frame goes
	 * out anyway next time, and the gateway answers in order. */
	if (g->state != GWLINK_READY || g->fetch_pending)
		return -1;
	c.u.fetch.seq = ++g->fetch_seq;
	size_t k =
	    g->confirm_n < g->confirm_fit ? g->confirm_n : g->confirm_fit;
	if (k > LINK_CONFIRM_MAX)
		k = LINK_CONFIRM_MAX;
	c.u.fetch.count = (uint8_t)k;
	memcpy(c.u.fetch.ids, g->confirm_ids, k * LINK_ID_LEN);
	if (g->ops.send(g->ops.ctx, &c) != 0)
		return -1;
	g->confirm_sent = k;
	g->fetch_pending = true;
	g->fetches++;
	return 0;
}

int
gwlink_refresh(struct gwlink *g, int64_t wall_ms)
{
	if (g->state != GWLINK_READY)
		return -1;
	return gwlink_send_time(g, wall_ms);
}

const char *
gwlink_state_name(enum gwlink_state s)
{
	switch (s) {
	case GWLINK_DOWN:
		return "down";
	case GWLINK_REGISTERING:
		return "registering";
	case GWLINK_QUEUE:
		return "reply queue";
	case GWLINK_TIME:
		return "clock check";
	case GWLINK_CONSENSUS:
		return "consensus";
	case GWLINK_READY:
		return "ready";
	case GWLINK_FATAL:
		return "stopped";
	}
	return "?";
}
