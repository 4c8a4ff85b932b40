/*
 * Mix loops: at the consensus rate, a mix sends a packet of its own on a
 * random route through the three layers and back to itself, and counts,
 * by first hop, how many return in time.  A first hop whose loops keep
 * failing is logged: something on those routes drops traffic.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/time.h"

#include "crypto/rand.h"

#include "net/evloop.h"
#include "net/link.h"
#include "wire/sphinx_packet.h"

#include "node/node_internal.h"
#include "node/pipeline.h"

/* Metric handles live as long as the registry, so a returning loop can be
 * counted from a worker thread without touching the peer table. */
struct loop_slot_metrics {
	struct metric_counter *sent, *back, *lost;
	struct metric_gauge *ratio;
	char label[17];
	unsigned consecutive_lost;
};

static struct loop_slot_metrics loop_m[NODE_LOOPS_MAX];

static void
ratio_update(struct loop_slot_metrics *m)
{
	uint64_t sent = metric_counter_get(m->sent);
	uint64_t back = metric_counter_get(m->back);
	if (sent)
		metric_gauge_set(m->ratio, (double)back / (double)sent);
}

/* A random mix of layer, or NULL. */
static struct node_peer *
pick_mix(struct node_daemon *d, uint32_t layer)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_peers; i++)
		n += d->peers[i].layer == layer &&
		     d->peers[i].role == DIR_ROLE_MIX;
	if (n == 0)
		return NULL;
	uint32_t k = rand_uniform((uint32_t)n);
	for (size_t i = 0; i < d->n_peers; i++) {
		if (d->peers[i].layer != layer ||
		    d->peers[i].role != DIR_ROLE_MIX)
			continue;
		if (k-- == 0)
			return &d->peers[i];
	}
	return NULL;
}

static bool
hop_fill(struct sphinx_path_hop *h, const struct node_peer *p, uint64_t e,
	 const struct dir_params *prm)
{
	if (e < p->keys_epoch || e - p->keys_epoch >= DIR_PACKET_KEYS)
		return false;
	memset(h, 0, sizeof(*h));
	memcpy(h->id, p->id, NODE_ID_LEN);
	memcpy(h->pub, p->packet_keys[e - p->keys_epoch], 32);
	double ms = rand_exp(prm->mean_delay_ms > 0 ? prm->mean_delay_ms : 1);
	if (ms > prm->max_delay_ms)
		ms = prm->max_delay_ms;
	h->cmds.has_delay = true;
	h->cmds.delay_ms = (uint32_t)ms;
	return true;
}

/* Builds a loop route L1, L2, L3, self into path; the first hop in *first. */
static bool
loop_route(struct node_daemon *d, struct sphinx_path_hop *path,
	   struct node_peer **first, const uint8_t id[NODE_LOOP_ID_LEN])
{
	uint64_t e = node_current_epoch(d);
	struct node_peer *self = node_peer_find(d, d->id);
	if (!self)
		return false;
	for (uint32_t l = 1; l <= DIR_LAYERS; l++) {
		struct node_peer *p = pick_mix(d, l);
		if (!p || !hop_fill(&path[l - 1], p, e, &d->cons.params))
			return false;
		if (l == 1)
			*first = p;
	}
	if (!hop_fill(&path[3], self, e, &d->cons.params))
		return false;
	path[3].cmds.has_delay = false;
	path[3].cmds.has_recipient = true;
	memcpy(path[3].cmds.recipient_id, id, NODE_LOOP_ID_LEN);
	return true;
}

/* Records a sent loop; false if the table is full. */
static bool
loop_record(struct node_daemon *d, const uint8_t *id,
	    const struct node_peer *first)
{
	bool ok = false;
	pthread_mutex_lock(&d->loop_lock);
	for (size_t i = 0; i < NODE_LOOPS_MAX && !ok; i++) {
		struct node_loop *l = &d->loops[i];
		if (l->used)
			continue;
		l->used = true;
		memcpy(l->id, id, NODE_LOOP_ID_LEN);
		memcpy(l->first_hop, first->id, NODE_ID_LEN);
		l->sent_ms = time_mono_ms();
		loop_m[i].sent = first->loops_sent;
		loop_m[i].back = first->loops_back;
		loop_m[i].lost = first->loops_lost;
		loop_m[i].ratio = first->loop_ratio;
		memcpy(loop_m[i].label, first->label, sizeof(first->label));
		ok = true;
	}
	pthread_mutex_unlock(&d->loop_lock);
	return ok;
}

static void
loop_send(struct node_daemon *d)
{
	struct sphinx_path_hop path[4];
	struct node_peer *first = NULL;
	uint8_t id[NODE_LOOP_ID_LEN];
	rand_bytes(id, sizeof(id));
	if (!d->pl || !loop_route(d, path, &first, id))
		return;
	uint8_t *pkt = malloc(d->geom.packet_len);
	if (!pkt)
		return;
	if (sphinx_packet_create(&d->geom, path, 4, NULL, 0, pkt,
				 d->geom.packet_len) != SPHINX_OK) {
		log_warn("loops: cannot build a loop packet");
		free(pkt);
		return;
	}
	metric_counter_inc(first->loops_sent);
	if (!loop_record(d, id, first)) {
		free(pkt);
		return;
	}
	bool sent =
	    first->self
		? pipeline_submit(d->pl, pkt, d->geom.packet_len)
		: first->conn && link_conn_is_open(first->conn) &&
		      link_conn_send_packet(first->conn, pkt,
					    d->geom.packet_len) == LINK_OK;
	if (!sent)
		metric_counter_inc(first->no_route);
	free(pkt);
}

static void
on_loop_timer(void *ctx)
{
	struct node_daemon *d = ctx;
	loop_send(d);
	double rate = d->cons.params.mix_loop / 1000.0;
	if (rate <= 0)
		return;
	double ms = rand_exp(1000.0 / rate);
	if (ms < 1)
		ms = 1;
	evtimer_start(d->loop_timer, (uint64_t)ms, 0);
}

/* Loops older than the longest route time are lost. */
static void
on_loop_check(void *ctx)
{
	struct node_daemon *d = ctx;
	static struct log_ratelim rl = LOG_RATELIM_INIT(30000);
	int64_t timeout = 4 * (int64_t)d->cons.params.max_delay_ms + 5000;
	int64_t now = time_mono_ms();
	pthread_mutex_lock(&d->loop_lock);
	for (size_t i = 0; i < NODE_LOOPS_MAX; i++) {
		struct node_loop *l = &d->loops[i];
		if (!l->used || now - l->sent_ms < timeout)
			continue;
		l->used = false;
		metric_counter_inc(loop_m[i].lost);
		ratio_update(&loop_m[i]);
		if (metric_counter_get(loop_m[i].lost) >= 3 &&
		    metric_counter_get(loop_m[i].back) * 2 <
			metric_counter_get(loop_m[i].sent))
			log_ratelim(&rl, LOG_LVL_WARN,
				    "loops: persistent loss on routes via %s: "
				    "%llu of %llu lost",
				    loop_m[i].label,
				    (unsigned long long)metric_counter_get(
					loop_m[i].lost),
				    (unsigned long long)metric_counter_get(
					loop_m[i].sent));
	}
	pthread_mutex_unlock(&d->loop_lock);
}

void
node_loops_start(struct node_daemon *d)
{
	d->loop_timer = evtimer_new(d->ev, on_loop_timer, d);
	d->loop_check_timer = evtimer_new(d->ev, on_loop_check, d);
	evtimer_start(d->loop_timer, 1000, 0);
	evtimer_start(d->loop_check_timer, 2000, 2000);
}

void
node_loops_on_final(struct node_daemon *d, const uint8_t *recipient)
{
	bool found = false;
	pthread_mutex_lock(&d->loop_lock);
	for (size_t i = 0; i < NODE_LOOPS_MAX && !found; i++) {
		struct node_loop *l = &d->loops[i];
		if (!l->used || memcmp(l->id, recipient, NODE_LOOP_ID_LEN) != 0)
			continue;
		l->used = false;
		metric_counter_inc(loop_m[i].back);
		ratio_update(&loop_m[i]);
		found = true;
	}
	pthread_mutex_unlock(&d->loop_lock);
	if (!found)
		metric_counter_inc(d->loops_unknown);
}
