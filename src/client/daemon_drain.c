/*
 * The daemon's fetch-only link to the gateway we moved away from (what is
 * drained and when it ends: gwdrain.h). Same link key and manager as the
 * main link, its own gwlink in drain mode; the link manager reconnects
 * with backoff while the old gateway is unreachable, until the drain's
 * deadline gives it up. Items go through the same path as the main link's.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "lib/time.h"

#include "client/daemon_internal.h"
#include "client/route.h"

#define DRAIN_POLL_MIN_MS 500   /* an empty answer: next fetch after this, */
#define DRAIN_POLL_MAX_MS 30000 /* doubling up to this */
#define DRAIN_SLACK_MS    2000  /* links and queues on top of mix delays */

static int
drain_send(void *ctx, const struct link_cmd *cmd)
{
	struct daemon *d = ctx;

	if (d->dconn == NULL)
		return -1;
	return link_conn_send(d->dconn, cmd) == LINK_OK ? 0 : -1;
}

static void
drain_on_queue(void *ctx, bool create, const uint8_t id[32], uint8_t code)
{
	struct daemon *d = ctx;

	if (!create)
		gwdrain_on_queue(&d->ss, id, code);
}

static int
drain_delete(void *ctx, const uint8_t id[32])
{
	struct daemon *d = ctx;

	return gwlink_queue_op(&d->dgw, false, id);
}

bool
daemon_drain_is(const struct daemon *d, const struct link_conn *c)
{
	return d->dgw_on && link_conn_user(c) == &d->dgw;
}

/*
 * A packet the contact sent just before it switched may still be on its
 * way to the old gateway: the longest forward route (every delayed hop at
 * the consensus's maximum) plus slack.
 */
static uint64_t
drain_grace(const struct daemon *d)
{
	uint64_t hop = d->have_cons ? d->cons.params.max_delay_ms : 60000;

	return ROUTE_FWD_DELAYED * hop + DRAIN_SLACK_MS;
}

/* The old gateway's link key: recorded, or its identity's in the
 * consensus (a move recorded before the link key was); NULL: unknown. */
static const uint8_t *
drain_key(const struct daemon *d)
{
	static const uint8_t zero[32];
	const struct gwdrain *g = &d->ss.drain;

	if (memcmp(g->link_key, zero, 32) != 0)
		return g->link_key;
	if (!d->have_cons)
		return NULL;
	const struct dir_node *n = route_find(&d->cons, g->gw.key);
	return n != NULL && n->desc.role == DIR_ROLE_GATEWAY ? n->desc.link_key
							     : NULL;
}

static void
drain_connect(struct daemon *d)
{
	const struct gwdrain *g = &d->ss.drain;
	const uint8_t *key = drain_key(d);

	if (key == NULL) {
		if (d->have_cons)
			gwdrain_give_up(&d->ss, "its link key is not known");
		return;
	}
	if (!d->dgw_on) {
		gwlink_init(&d->dgw, &d->as,
			    &(struct gwlink_ops){drain_send, NULL,
						 daemon_on_item, d,
						 drain_on_queue},
			    true, NULL, 0);
		d->dgw.drain = true;
		d->dgw_on = true;
	}
	d->dconn = link_mgr_connect(d->lm, g->gw.host, g->gw.port, key, true);
	if (d->dconn == NULL) {
		gwdrain_give_up(&d->ss, "its address is not an IP address");
		return;
	}
	link_conn_set_user(d->dconn, &d->dgw);
	d->dpoll_ms = DRAIN_POLL_MIN_MS;
	d->dnext_ms = 0;
	uint64_t now = (uint64_t)time_wall_ms();
	uint64_t left =
	    g->deadline_ms > now ? (g->deadline_ms - now) / 1000 : 0;
	log_notice("client: draining our old gateway %s:%u: %zu queue(s), "
		   "for at most %llu s more",
		   g->gw.host, g->gw.port, g->nq, (unsigned long long)left);
}

/* A fetch answered: empty, or more to come at once. */
static void
drain_answered(struct daemon *d, uint64_t now)
{
	d->dseen = d->dgw.answers;
	if (d->dgw.last_count > 0 || d->dgw.remaining > 0) {
		d->dpoll_ms = DRAIN_POLL_MIN_MS;
		d->dnext_ms = now;
		return;
	}
	gwdrain_on_empty(&d->ss, d->dfetch_ms, drain_grace(d));
	d->dnext_ms = now + d->dpoll_ms;
	d->dpoll_ms = d->dpoll_ms * 2 > DRAIN_POLL_MAX_MS ? DRAIN_POLL_MAX_MS
							  : d->dpoll_ms * 2;
}

void
daemon_drain_tick(struct daemon *d)
{
	const struct gwdrain *g = &d->ss.drain;
	uint64_t now = (uint64_t)time_wall_ms();

	if (!d->ss_open)
		return;
	if (g->state != GWDRAIN_ACTIVE) {
		if (d->dconn != NULL) /* done or given up: dropped */
			link_conn_close(d->dconn, LINK_ERR_SHUTDOWN);
		d->dconn = NULL;
		return;
	}
	if (d->dconn == NULL) {
		drain_connect(d);
		return;
	}
	if (d->dgw.state == GWLINK_FATAL) {
		gwdrain_give_up(&d->ss, d->dgw.err);
		return;
	}
	if (d->dgw.state != GWLINK_READY)
		return;
	if (d->dgw.answers != d->dseen)
		drain_answered(d, now);
	/* A contact switched: look again once its stragglers are in. */
	uint64_t due = gwdrain_due(&d->ss, drain_grace(d));
	if (due != 0 && due <= now && d->dfetch_ms < due)
		d->dnext_ms = now;
	gwdrain_deletes(&d->ss, drain_delete, d);
	if (!d->dgw.fetch_pending && now >= d->dnext_ms &&
	    gwlink_fetch(&d->dgw) == 0)
		d->dfetch_ms = now;
}

void
daemon_drain_opened(struct daemon *d)
{
	log_info("client: link to the old gateway is up");
	gwlink_opened(&d->dgw, time_wall_ms());
	d->dseen = d->dgw.answers;
	d->dnext_ms = 0;
}

enum link_err
daemon_drain_cmd(struct daemon *d, const struct link_cmd *cmd)
{
	/* A fatal state is handled at the next tick (the drain given up). */
	return gwlink_on_cmd(&d->dgw, cmd, time_wall_ms());
}

void
daemon_drain_closed(struct daemon *d, struct link_conn *c,
		    const struct link_close_info *i)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(600000);

	gwlink_closed(&d->dgw);
	if (d->ss_open)
		gwdrain_link_down(&d->ss);
	if (!i->retrying) {
		if (d->dconn == c)
			d->dconn = NULL;
		return;
	}
	log_ratelim(&rl, LOG_LVL_NOTICE,
		    "client: link to the old gateway down "
		    "(%s); retrying until the drain's deadline",
		    link_err_str(i->why));
}

json_t *
daemon_drain_status(const struct daemon *d)
{
	const struct gwdrain *g = &d->ss.drain;
	char gw[E2E_HOST_MAX + 8];

	if (g->state == GWDRAIN_NONE)
		return json_pack("{s:s}", "state", "none");
	snprintf(gw, sizeof(gw), "%s:%u", g->gw.host, g->gw.port);
	bool up = d->dconn != NULL && link_conn_is_open(d->dconn);
	return json_pack(
	    "{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "state",
	    gwdrain_state_name(g->state), "gateway", gw, "link",
	    up ? "up" : "down", "queues_left",
	    (json_int_t)(g->state == GWDRAIN_ACTIVE ? g->nq : g->left),
	    "since_ms", (json_int_t)g->started_ms, "deadline_ms",
	    (json_int_t)g->deadline_ms, "fetches",
	    (json_int_t)(d->dgw_on ? d->dgw.fetches : 0));
}
