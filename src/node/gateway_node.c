/*
 * The gateway's hooks into the node daemon (node_internal.h): opens the
 * mailbox on the node store once the first consensus gives the packet
 * geometry, keeps the served consensus and the client sending rate
 * current, and closes it all at shutdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#include "net/evloop.h"

#include "node/gateway.h"
#include "node/gateway_link.h"
#include "node/node_internal.h"

static void
gw_wake(void *ctx)
{
	struct node_daemon *d = ctx;
	evwake_send(d->drain_wake);
}

/* Packets per second a client may send: its three streams, with slack. */
static double
client_rate(const struct node_daemon *d, const struct dir_params *p)
{
	double pps =
	    ((double)p->lambda_p + (double)p->lambda_l + (double)p->lambda_d) /
	    1000.0;
	return pps * d->cfg->gw_rate_slack;
}

int
node_gateway_start(struct node_daemon *d, const struct dir_consensus *c)
{
	const struct node_config *nc = d->cfg;
	char err[512];
	char *path = node_config_path(nc, "replay.db");
	struct gateway_cfg gc = {
	    .db_path = path,
	    .geom = d->geom,
	    .admission = strcmp(nc->gw_admission, "invite") == 0
			     ? MAILBOX_ADMIT_INVITE
			     : MAILBOX_ADMIT_OPEN,
	    .retention_ms = nc->gw_retention_ms,
	    .queue_max_items = (uint32_t)nc->gw_queue_max_items,
	    .account_max_items = (uint32_t)nc->gw_account_max_items,
	    .account_max_queues = (uint32_t)nc->gw_account_max_queues,
	    .replay = d->rs,
	    .rate_pps = client_rate(d, &c->params),
	    .rate_burst = (double)nc->gw_rate_burst,
	    .metrics = d->mx,
	    .wake = gw_wake,
	    .ctx = d,
	};
	d->gw = gateway_open(&gc, err, sizeof(err));
	free(path);
	if (!d->gw) {
		log_err("gateway: %s", err);
		return -1;
	}
	d->gl = gateway_link_new(d->gw);
	log_notice("gateway: mailbox open (%s admission), clients may send "
		   "%.2f packets/s",
		   nc->gw_admission, gc.rate_pps);
	return 0;
}

void
node_gateway_consensus(struct node_daemon *d, const struct dir_consensus *c,
		       const void *text, size_t len)
{
	if (!d->gw)
		return;
	gateway_set_consensus(d->gw, c->epoch, text, len);
	gateway_set_rate(d->gw, client_rate(d, &c->params));
}

void
node_gateway_stop(struct node_daemon *d)
{
	gateway_link_free(d->gl);
	d->gl = NULL;
	gateway_close(d->gw);
	d->gw = NULL;
}
