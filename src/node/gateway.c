/*
 * The gateway's last hop: final hops in, group commit into the mailbox,
 * acknowledgements and echoes out through the packets' reply blocks only
 * after the commit (gateway.h, docs/gateway.md).
 */
#include "node/gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/hash.h"
#include "crypto/secret.h"

#include "store/replay.h"
#include "wire/service_id.h"
#include "wire/sphinx_surb.h"

#include "node/gateway_internal.h"

static const char MAILBOX_TAG_LABEL[] = "backchannel-mailbox-tag";

_Static_assert(MAILBOX_QUEUE_ID_LEN == LINK_ITEM_TAG_LEN &&
		   SPHINX_SURB_ID_LEN <= LINK_ITEM_TAG_LEN,
	       "an item's tag holds a queue id or a SURB id");

size_t
gateway_item_size(const struct sphinx_geometry *g)
{
	return GATEWAY_ITEM_HDR + g->payload_len;
}

int64_t
gw_now_ms(struct gateway *gw)
{
	if (gw->cfg.now_ms)
		return gw->cfg.now_ms(gw->cfg.now_arg);
	return time_wall_ms();
}

static void
counters_init(struct gateway *gw)
{
	struct gw_counters *c = &gw->c;
	struct metrics *m = gw->mx;
#define GWC(field, name, help) \
	c->field =             \
	    metrics_counter(m, "bc_gateway_" name "_total", help, NULL, NULL)
	GWC(stored, "stored", "packets stored in a mailbox (committed)");
	GWC(acked, "acked", "acknowledgements sent after a commit");
	GWC(echoed, "echoed", "echo service answers sent");
	GWC(dropped_service, "drop_service", "packets to the drop service");
	GWC(replies_stored, "replies_stored", "replies stored for a client");
	GWC(dropped_full, "dropped_quota", "dropped: queue or account full");
	GWC(dropped_duplicate, "dropped_duplicate",
	    "dropped: stored already (replay)");
	GWC(dropped_no_queue, "dropped_no_queue", "dropped: no such queue");
	GWC(dropped_malformed, "dropped_malformed",
	    "dropped: payload layout or commands wrong");
	GWC(dropped_inbox, "dropped_inbox", "dropped: committer backlog full");
	GWC(dropped_outbox, "dropped_outbox", "replies dropped: outbox full");
	GWC(dropped_rate, "dropped_rate",
	    "client packets over the sending rate");
	GWC(dropped_unregistered, "refused_unregistered",
	    "requests from unregistered keys");
	GWC(reply_failed, "reply_failed", "reply blocks that did not build");
	GWC(commits, "commits", "mailbox group commits");
	GWC(store_errors, "store_errors", "failed commits (nothing acked)");
	GWC(fetches, "fetches", "fetch requests answered");
	GWC(confirmed, "confirmed", "items deleted on confirm");
	GWC(registered, "registered", "accounts created");
	GWC(refused, "refused", "client requests refused with an error");
#undef GWC
}

void
gateway_stats(struct gateway *gw, struct gateway_stats *o)
{
	const struct gw_counters *c = &gw->c;
#define G(f) o->f = metric_counter_get(c->f)
	G(stored);
	G(acked);
	G(echoed);
	G(dropped_service);
	G(replies_stored);
	G(dropped_full);
	G(dropped_duplicate);
	G(dropped_no_queue);
	G(dropped_malformed);
	G(dropped_inbox);
	G(dropped_outbox);
	G(dropped_rate);
	G(dropped_unregistered);
	G(reply_failed);
	G(commits);
	G(store_errors);
	G(fetches);
	G(confirmed);
	G(registered);
	G(refused);
#undef G
}

/* ---- outbox ------------------------------------------------------- */

static void
outbox_push(struct gateway *gw, const uint8_t *hop, const uint8_t *pkt)
{
	size_t plen = gw->geom.packet_len;
	pthread_mutex_lock(&gw->out_lock);
	if (gw->out_count == gw->out_cap) {
		pthread_mutex_unlock(&gw->out_lock);
		metric_counter_inc(gw->c.dropped_outbox);
		return;
	}
	size_t slot = (gw->out_head + gw->out_count) % gw->out_cap;
	memcpy(gw->out_pkts + slot * plen, pkt, plen);
	memcpy(gw->out_hops + slot * SPHINX_NODE_ID_LEN, hop,
	       SPHINX_NODE_ID_LEN);
	gw->out_count++;
	pthread_mutex_unlock(&gw->out_lock);
}

size_t
gateway_drain(struct gateway *gw, gateway_send_fn send, void *ctx)
{
	size_t plen = gw->geom.packet_len, sent = 0;
	uint8_t hop[SPHINX_NODE_ID_LEN];
	uint8_t *pkt = bc_malloc(plen);
	for (;;) {
		pthread_mutex_lock(&gw->out_lock);
		if (gw->out_count == 0) {
			pthread_mutex_unlock(&gw->out_lock);
			break;
		}
		size_t slot = gw->out_head;
		memcpy(pkt, gw->out_pkts + slot * plen, plen);
		memcpy(hop, gw->out_hops + slot * SPHINX_NODE_ID_LEN,
		       SPHINX_NODE_ID_LEN);
		gw->out_head = (gw->out_head + 1) % gw->out_cap;
		gw->out_count--;
		pthread_mutex_unlock(&gw->out_lock);
		if (send(ctx, hop, pkt, plen))
			sent++;
		else
			metric_counter_inc(gw->c.dropped_outbox);
	}
	free(pkt);
	return sent;
}

/* Builds the reply of one reply block (payload: nothing but zeros). */
static bool
send_reply(struct gateway *gw, const uint8_t *surb)
{
	static const uint8_t empty[1];
	uint8_t hop[SPHINX_NODE_ID_LEN];
	if (sphinx_surb_packet(&gw->geom, surb, empty, 0, gw->reply_pkt, hop) !=
	    SPHINX_OK) {
		metric_counter_inc(gw->c.reply_failed);
		return false;
	}
	outbox_push(gw, hop, gw->reply_pkt);
	return true;
}

/* ---- last hop: intake (worker threads) ----------------------------- */

static void
derive_tag(uint8_t out[MAILBOX_TAG_LEN], const uint8_t *replay_tag)
{
	struct sha256_ctx h;
	sha256_init(&h);
	sha256_update(&h, MAILBOX_TAG_LABEL, sizeof(MAILBOX_TAG_LABEL) - 1);
	sha256_update(&h, replay_tag, SPHINX_REPLAY_TAG_LEN);
	sha256_final(&h, out);
}

/* Fills e from a final hop; false if the packet is malformed. */
static bool
entry_fill(struct gateway *gw, struct gw_entry *e,
	   const struct sphinx_unwrap_result *res, const uint8_t *pkt)
{
	const uint8_t *pl = pkt + res->payload_off;
	const struct sphinx_geometry *g = &gw->geom;
	memset(e->item, 0, gw->item_size);
	e->has_surb = false;
	memcpy(e->queue, res->cmds.recipient_id, MAILBOX_QUEUE_ID_LEN);
	derive_tag(e->tag, res->replay_tag);
	e->epoch = atomic_load(&gw->tag_epoch);
	if (res->kind == SPHINX_HOP_SURB_REPLY) {
		/* A reply for one of our clients: stored as it is. */
		if (res->payload_len != g->payload_len)
			return false;
		e->kind = GW_DELIVER;
		e->item[0] = GATEWAY_ITEM_REPLY;
		memcpy(e->item + 1, res->cmds.surb_id, SPHINX_SURB_ID_LEN);
		memcpy(e->item + GATEWAY_ITEM_HDR, pl, g->payload_len);
		return true;
	}
	struct sphinx_fwd_view v;
	if (res->payload_len != g->user_len || sphinx_fwd_decode(g, pl, &v))
		return false;
	if (v.surb) {
		memcpy(e->surb, v.surb, g->surb_len);
		e->has_surb = true;
	}
	if (memcmp(e->queue, SERVICE_ID_ECHO, MAILBOX_QUEUE_ID_LEN) == 0) {
		e->kind = GW_ECHO;
		return true;
	}
	e->kind = GW_DELIVER;
	e->item[0] = GATEWAY_ITEM_MESSAGE;
	/* The queue it arrived on: the client maps it to a contact. */
	memcpy(e->item + 1, e->queue, MAILBOX_QUEUE_ID_LEN);
	memcpy(e->item + GATEWAY_ITEM_HDR, v.blob, g->blob_len);
	return true;
}

void
gateway_on_final(struct gateway *gw, const struct sphinx_unwrap_result *res,
		 const uint8_t *pkt, size_t len)
{
	if (len != gw->geom.packet_len || !res->cmds.has_recipient ||
	    res->payload_off + res->payload_len > len) {
		metric_counter_inc(gw->c.dropped_malformed);
		return;
	}
	if (memcmp(res->cmds.recipient_id, SERVICE_ID_DROP, SERVICE_ID_LEN) ==
	    0) {
		metric_counter_inc(gw->c.dropped_service);
		return;
	}
	pthread_mutex_lock(&gw->lock);
	if (gw->in_count == gw->in_cap || gw->stop) {
		pthread_mutex_unlock(&gw->lock);
		metric_counter_inc(gw->c.dropped_inbox);
		return;
	}
	struct gw_entry *e = &gw->in[(gw->in_head + gw->in_count) % gw->in_cap];
	bool ok = entry_fill(gw, e, res, pkt);
	if (ok) {
		gw->in_count++;
		pthread_cond_signal(&gw->cond);
	}
	pthread_mutex_unlock(&gw->lock);
	if (!ok)
		metric_counter_inc(gw->c.dropped_malformed);
}

/* ---- last hop: the committer --------------------------------------- */

static void
count_result(struct gateway *gw, enum mailbox_status st)
{
	switch (st) {
	case MAILBOX_OK:
		metric_counter_inc(gw->c.stored);
		break;
	case MAILBOX_DUPLICATE:
		metric_counter_inc(gw->c.dropped_duplicate);
		break;
	case MAILBOX_NO_QUEUE:
		metric_counter_inc(gw->c.dropped_no_queue);
		break;
	case MAILBOX_QUEUE_FULL:
	case MAILBOX_ACCOUNT_FULL:
		metric_counter_inc(gw->c.dropped_full);
		break;
	case MAILBOX_NO_ACCOUNT:
	case MAILBOX_EXISTS:
	case MAILBOX_REFUSED:
	case MAILBOX_BADARG:
	case MAILBOX_ERROR:
		metric_counter_inc(gw->c.store_errors);
		break;
	}
}

/* Stores the deliveries of batch[0..n) in one transaction, then replies. */
static void
commit_batch(struct gateway *gw, size_t n)
{
	size_t nd = 0, ne = 0;
	for (size_t i = 0; i < n; i++) {
		struct gw_entry *e = &gw->batch[i];
		if (e->kind != GW_DELIVER) {
			ne++;
			continue;
		}
		gw->dl[nd] = (struct mailbox_delivery){
		    .queue_id = e->queue,
		    .blob = e->item,
		    .bloblen = gw->item_size,
		    .replay_epoch = e->epoch,
		    .replay_tag = e->tag,
		};
		gw->dl_idx[nd++] = i;
	}
	if (nd) {
		metric_counter_inc(gw->c.commits);
		mailbox_deliver_batch(gw->mb, gw->dl, nd, gw->res);
		for (size_t k = 0; k < nd; k++) {
			struct gw_entry *e = &gw->batch[gw->dl_idx[k]];
			count_result(gw, gw->res[k]);
			if (gw->res[k] == MAILBOX_OK &&
			    e->item[0] == GATEWAY_ITEM_REPLY)
				metric_counter_inc(gw->c.replies_stored);
			/* Acknowledge only what is on disk. */
			if (gw->res[k] == MAILBOX_OK && e->has_surb &&
			    send_reply(gw, e->surb))
				metric_counter_inc(gw->c.acked);
		}
	}
	/* An echo leaves only once its replay tag is durable. */
	bool durable =
	    ne && (!gw->cfg.replay || replay_flush(gw->cfg.replay) == 0);
	for (size_t i = 0; i < n && durable; i++) {
		struct gw_entry *e = &gw->batch[i];
		if (e->kind == GW_ECHO && e->has_surb &&
		    send_reply(gw, e->surb))
			metric_counter_inc(gw->c.echoed);
	}
	if (ne && !durable)
		metric_counter_add(gw->c.store_errors, ne);
}

/* Retention runs from the committer, between batches, once a minute. */
#define GW_EXPIRE_MS 60000

static bool
expire_due(struct gateway *gw)
{
	return time_mono_ms() >= gw->next_expire_ms;
}

static void
cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

static void
run_expiry(struct gateway *gw)
{
	size_t n = 0;
	gw->next_expire_ms = time_mono_ms() + GW_EXPIRE_MS;
	if (mailbox_expire(gw->mb, &n) != MAILBOX_OK)
		log_warn("gateway: retention expiry failed; retried later");
	else if (n)
		log_info("gateway: %zu items past retention deleted", n);
}

static void *
committer_main(void *arg)
{
	struct gateway *gw = arg;
	for (;;) {
		pthread_mutex_lock(&gw->lock);
		while (!gw->stop && gw->in_count == 0 && !expire_due(gw))
			cond_wait_ms(&gw->cond, &gw->lock, GW_EXPIRE_MS);
		if (gw->in_count == 0 && !gw->stop) {
			pthread_mutex_unlock(&gw->lock);
			run_expiry(gw);
			continue;
		}
		if (gw->in_count == 0) { /* stopping, nothing left */
			pthread_mutex_unlock(&gw->lock);
			return NULL;
		}
		size_t n = gw->in_count < gw->cfg.batch_max ? gw->in_count
							    : gw->cfg.batch_max;
		for (size_t i = 0; i < n; i++) {
			/* Swap buffers: the slot gets the batch's spares. */
			struct gw_entry t = gw->batch[i];
			gw->batch[i] = gw->in[gw->in_head];
			gw->in[gw->in_head] = t;
			gw->in_head = (gw->in_head + 1) % gw->in_cap;
		}
		gw->in_count -= n;
		gw->busy = true;
		pthread_mutex_unlock(&gw->lock);

		commit_batch(gw, n);
		if (gw->cfg.wake)
			gw->cfg.wake(gw->cfg.ctx);

		pthread_mutex_lock(&gw->lock);
		gw->busy = false;
		pthread_cond_broadcast(&gw->idle_cond);
		pthread_mutex_unlock(&gw->lock);
	}
}

bool
gateway_wait_idle(struct gateway *gw, int64_t timeout_ms)
{
	int64_t end = time_mono_ms() + timeout_ms;
	pthread_mutex_lock(&gw->lock);
	while (gw->in_count || gw->busy) {
		if (time_mono_ms() >= end) {
			pthread_mutex_unlock(&gw->lock);
			return false;
		}
		pthread_mutex_unlock(&gw->lock);
		time_sleep_ms(1);
		pthread_mutex_lock(&gw->lock);
	}
	pthread_mutex_unlock(&gw->lock);
	return true;
}

/* ---- life cycle ---------------------------------------------------- */

static void
entries_alloc(struct gateway *gw, struct gw_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		v[i].item = bc_calloc(1, gw->item_size);
		v[i].surb = bc_calloc(1, gw->geom.surb_len);
	}
}

static void
entries_free(struct gw_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].item);
		free(v[i].surb);
	}
	free(v);
}

static void
defaults(struct gateway_cfg *c)
{
	if (!c->batch_max)
		c->batch_max = 256;
	if (c->batch_max > MAILBOX_BATCH_MAX)
		c->batch_max = MAILBOX_BATCH_MAX;
	if (!c->inbox_max)
		c->inbox_max = 4096;
	if (!c->outbox_max)
		c->outbox_max = 4096;
	if (c->rate_burst <= 0)
		c->rate_burst = 16;
}

static struct mailbox *
open_mailbox(struct gateway *gw, char *err, size_t errlen)
{
	struct mailbox_config mc;
	mailbox_config_defaults(&mc);
	mc.item_size = gw->item_size;
	mc.admission = gw->cfg.admission;
	if (gw->cfg.retention_ms)
		mc.retention_ms = gw->cfg.retention_ms;
	if (gw->cfg.queue_max_items)
		mc.queue_max_items = gw->cfg.queue_max_items;
	if (gw->cfg.account_max_items)
		mc.account_max_items = gw->cfg.account_max_items;
	if (gw->cfg.account_max_queues)
		mc.account_max_queues = gw->cfg.account_max_queues;
	mc.now_ms = gw->cfg.now_ms;
	mc.now_arg = gw->cfg.now_arg;
	return mailbox_open(gw->cfg.db_path, &mc, err, errlen);
}

struct gateway *
gateway_open(const struct gateway_cfg *cfg, char *err, size_t errlen)
{
	if (!cfg->db_path || !cfg->geom.has_layout || !cfg->geom.with_reply) {
		snprintf(err, errlen,
			 "gateway: needs a database path and the "
			 "forward geometry with a reply block");
		return NULL;
	}
	struct gateway *gw = bc_calloc(1, sizeof(*gw));
	gw->cfg = *cfg;
	defaults(&gw->cfg);
	gw->geom = cfg->geom;
	gw->item_size = gateway_item_size(&gw->geom);
	if (link_cmd_items_fit(gw->geom.packet_len, gw->item_size) == 0) {
		/* Fetch responses could never carry anything. */
		snprintf(err, errlen,
			 "gateway: a stored item (%zu bytes) "
			 "does not fit one link frame",
			 gw->item_size);
		free(gw);
		return NULL;
	}
	gw->mb = open_mailbox(gw, err, errlen);
	if (!gw->mb) {
		free(gw);
		return NULL;
	}
	gw->mx = cfg->metrics;
	if (!gw->mx) {
		gw->mx = metrics_new();
		gw->own_mx = true;
	}
	counters_init(gw);
	pthread_mutex_init(&gw->lock, NULL);
	pthread_mutex_init(&gw->out_lock, NULL);
	pthread_cond_init(&gw->cond, NULL);
	pthread_cond_init(&gw->idle_cond, NULL);
	gw->in_cap = gw->cfg.inbox_max;
	gw->in = bc_calloc(gw->in_cap, sizeof(*gw->in));
	entries_alloc(gw, gw->in, gw->in_cap);
	gw->batch = bc_calloc(gw->cfg.batch_max, sizeof(*gw->batch));
	entries_alloc(gw, gw->batch, gw->cfg.batch_max);
	gw->dl = bc_calloc(gw->cfg.batch_max, sizeof(*gw->dl));
	gw->res = bc_calloc(gw->cfg.batch_max, sizeof(*gw->res));
	gw->dl_idx = bc_calloc(gw->cfg.batch_max, sizeof(*gw->dl_idx));
	gw->reply_pkt = bc_malloc(gw->geom.packet_len);
	gw->out_cap = gw->cfg.outbox_max;
	gw->out_pkts = bc_malloc(gw->out_cap * gw->geom.packet_len);
	gw->out_hops = bc_malloc(gw->out_cap * SPHINX_NODE_ID_LEN);
	gw->items = bc_calloc(LINK_FETCH_MAX_ITEMS, sizeof(*gw->items));
	gw->scratch = bc_malloc(LINK_FETCH_MAX_ITEMS * gw->item_size);
	gw->next_expire_ms = time_mono_ms() + GW_EXPIRE_MS;
	if (pthread_create(&gw->thr, NULL, committer_main, gw) != 0) {
		snprintf(err, errlen, "gateway: cannot start the committer");
		gateway_close(gw);
		return NULL;
	}
	gw->started = true;
	return gw;
}

void
gateway_close(struct gateway *gw)
{
	if (!gw)
		return;
	if (gw->started) {
		pthread_mutex_lock(&gw->lock);
		gw->stop = true;
		pthread_cond_signal(&gw->cond);
		pthread_mutex_unlock(&gw->lock);
		pthread_join(gw->thr, NULL);
	}
	MAILBOX_CLOSE(gw->mb);
	entries_free(gw->in, gw->in_cap);
	entries_free(gw->batch, gw->cfg.batch_max);
	free(gw->dl);
	free(gw->res);
	free(gw->dl_idx);
	free(gw->reply_pkt);
	free(gw->out_pkts);
	free(gw->out_hops);
	free(gw->items);
	free(gw->scratch);
	free(gw->cons);
	pthread_mutex_destroy(&gw->lock);
	pthread_mutex_destroy(&gw->out_lock);
	pthread_cond_destroy(&gw->cond);
	pthread_cond_destroy(&gw->idle_cond);
	if (gw->own_mx)
		metrics_free(gw->mx);
	free(gw);
}

void
gateway_set_rate(struct gateway *gw, double pps)
{
	gw->cfg.rate_pps = pps;
}

void
gateway_set_tag_epoch(struct gateway *gw, uint64_t epoch)
{
	atomic_store(&gw->tag_epoch, epoch);
}

void
gateway_set_consensus(struct gateway *gw, uint64_t epoch, const uint8_t *text,
		      size_t len)
{
	BC_FREE(gw->cons);
	gw->cons_len = 0;
	gw->cons_epoch = epoch;
	if (epoch && len) {
		gw->cons = bc_memdup(text, len);
		gw->cons_len = len;
	}
}

int
gateway_expire(struct gateway *gw, size_t *expired)
{
	return mailbox_expire(gw->mb, expired) == MAILBOX_OK ? 0 : -1;
}

struct mailbox *
gateway_mailbox(struct gateway *gw)
{
	return gw->mb;
}
