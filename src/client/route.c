/* Route selection and the round-trip quantile (route.h). */
#include "client/route.h"

#include <math.h>
#include <string.h>

#include "lib/alloc.h"

#include "crypto/rand.h"

#define ROUTE_GRID 4096

uint32_t
route_delay_ms(double mean_ms, uint32_t max_ms)
{
	if (!(mean_ms > 0.0))
		return 0;
	double d = rand_exp(mean_ms);
	if (!(d < (double)max_ms))
		return max_ms;
	return (uint32_t)llround(d);
}

const struct dir_node *
route_find(const struct dir_consensus *c, const uint8_t identity[static 32])
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (memcmp(c->nodes[i].desc.identity, identity, 32) == 0)
			return &c->nodes[i];
	return NULL;
}

static bool
route_is_gateway(const struct dir_node *n, uint32_t services)
{
	return n->layer == 0 && n->desc.role == DIR_ROLE_GATEWAY &&
	       (n->desc.services & services) == services;
}

const struct dir_node *
route_pick_gateway(const struct dir_consensus *c, uint32_t services)
{
	uint32_t count = 0;

	for (size_t i = 0; i < c->n_nodes; i++)
		count += route_is_gateway(&c->nodes[i], services);
	if (count == 0)
		return NULL;
	uint32_t k = rand_uniform(count);
	for (size_t i = 0; i < c->n_nodes; i++) {
		if (!route_is_gateway(&c->nodes[i], services))
			continue;
		if (k-- == 0)
			return &c->nodes[i];
	}
	return NULL;
}

int
route_pick_mixes(const struct dir_consensus *c,
		 const struct dir_node *out[DIR_LAYERS])
{
	for (uint32_t layer = 1; layer <= DIR_LAYERS; layer++) {
		uint32_t count = 0;
		for (size_t i = 0; i < c->n_nodes; i++)
			count += c->nodes[i].layer == layer;
		if (count == 0)
			return -1;
		uint32_t k = rand_uniform(count);
		for (size_t i = 0; i < c->n_nodes; i++) {
			if (c->nodes[i].layer != layer)
				continue;
			if (k-- == 0) {
				out[layer - 1] = &c->nodes[i];
				break;
			}
		}
	}
	return 0;
}

/* A hop for node n under the packet key of epoch, with a delay if asked. */
static int
route_hop(struct sphinx_path_hop *h, const struct dir_node *n, uint64_t epoch,
	  const struct dir_params *p, bool delay)
{
	if (epoch < n->desc.epoch || epoch - n->desc.epoch >= DIR_PACKET_KEYS)
		return -1;
	memset(h, 0, sizeof(*h));
	memcpy(h->id, n->desc.identity, SPHINX_NODE_ID_LEN);
	memcpy(h->pub, n->desc.packet_keys[epoch - n->desc.epoch], 32);
	if (delay) {
		h->cmds.has_delay = true;
		h->cmds.delay_ms =
		    route_delay_ms(p->mean_delay_ms, p->max_delay_ms);
	}
	return 0;
}

int
route_forward(const struct dir_consensus *c, uint64_t epoch,
	      const struct dir_node *entry, const struct dir_node *dest,
	      const uint8_t recipient[static 32],
	      struct sphinx_path_hop path[static ROUTE_FWD_HOPS])
{
	const struct dir_node *mix[DIR_LAYERS];
	const struct dir_params *p = &c->params;

	if (route_pick_mixes(c, mix) < 0)
		return -1;
	if (route_hop(&path[0], entry, epoch, p, true) < 0)
		return -1;
	for (int i = 0; i < DIR_LAYERS; i++)
		if (route_hop(&path[1 + i], mix[i], epoch, p, true) < 0)
			return -1;
	if (route_hop(&path[4], dest, epoch, p, false) < 0)
		return -1;
	path[4].cmds.has_recipient = true;
	memcpy(path[4].cmds.recipient_id, recipient, SPHINX_RECIPIENT_ID_LEN);
	return 0;
}

int
route_reply(const struct dir_consensus *c, uint64_t epoch,
	    const struct dir_node *own, const uint8_t queue[static 32],
	    const uint8_t surb_id[static SPHINX_SURB_ID_LEN],
	    struct sphinx_path_hop path[static ROUTE_REPLY_HOPS])
{
	const struct dir_node *mix[DIR_LAYERS];
	const struct dir_params *p = &c->params;

	if (route_pick_mixes(c, mix) < 0)
		return -1;
	for (int i = 0; i < DIR_LAYERS; i++)
		if (route_hop(&path[i], mix[i], epoch, p, true) < 0)
			return -1;
	if (route_hop(&path[3], own, epoch, p, false) < 0)
		return -1;
	path[3].cmds.has_recipient = true;
	memcpy(path[3].cmds.recipient_id, queue, SPHINX_RECIPIENT_ID_LEN);
	path[3].cmds.has_surb_reply = true;
	memcpy(path[3].cmds.surb_id, surb_id, SPHINX_SURB_ID_LEN);
	return 0;
}

/* dst = a (na cells) convolved with b (nb cells), truncated to n cells; the
 * mass beyond the grid is added to the last cell. */
static void
route_convolve(double *dst, const double *a, const double *b, size_t nb,
	       size_t n)
{
	memset(dst, 0, n * sizeof(*dst));
	for (size_t i = 0; i < n; i++) {
		if (!(a[i] > 0.0))
			continue;
		for (size_t j = 0; j < nb; j++) {
			size_t k = i + j < n ? i + j : n - 1;
			dst[k] += a[i] * b[j];
		}
	}
}

/*
 * Cell probabilities of min(Exp(mean), cap) on a grid of step h (cap <= 0:
 * no cap, truncated at the grid end), each cell's mass at its upper edge:
 * cell j holds P(X in ((j-1)h, jh]).
 */
static size_t
route_cells(double *out, size_t n, double h, double mean, double cap)
{
	size_t m = n;
	double cells = ceil(cap / h) + 1.0;
	if (cap > 0.0 && cells < (double)n)
		m = (size_t)cells;
	memset(out, 0, n * sizeof(*out));
	double prev = 0.0;
	for (size_t j = 1; j < m; j++) {
		double x = (double)j * h;
		if (cap > 0.0 && x > cap)
			x = cap;
		double cdf = 1.0 - exp(-x / mean);
		out[j] = cdf - prev;
		prev = cdf;
	}
	out[m - 1] += 1.0 - prev; /* the cap's point mass, or the tail */
	return m;
}

double
route_rtt_quantile_ms(double mean_ms, double max_ms, int hops, double fetch_ms,
		      double q)
{
	if (!(mean_ms > 0.0) || !(max_ms > 0.0) || hops < 0 || hops > 64 ||
	    !(fetch_ms >= 0.0) || !(q > 0.0 && q < 1.0))
		return -1.0;
	double range = hops * max_ms + 14.0 * fetch_ms;
	if (!(range > 0.0))
		return 0.0;
	double h = range / (ROUTE_GRID - 1);
	double *acc = bc_calloc(ROUTE_GRID, sizeof(double));
	double *tmp = bc_calloc(ROUTE_GRID, sizeof(double));
	double *cell = bc_calloc(ROUTE_GRID, sizeof(double));
	acc[0] = 1.0;
	size_t m = route_cells(cell, ROUTE_GRID, h, mean_ms, max_ms);
	for (int i = 0; i < hops; i++) {
		route_convolve(tmp, acc, cell, m, ROUTE_GRID);
		memcpy(acc, tmp, ROUTE_GRID * sizeof(double));
	}
	if (fetch_ms > 0.0) {
		m = route_cells(cell, ROUTE_GRID, h, fetch_ms, 0.0);
		route_convolve(tmp, acc, cell, m, ROUTE_GRID);
		memcpy(acc, tmp, ROUTE_GRID * sizeof(double));
	}
	double cum = 0.0, res = range;
	for (size_t j = 0; j < ROUTE_GRID; j++) {
		cum += acc[j];
		if (cum >= q) {
			res = (double)j * h;
			break;
		}
	}
	BC_FREE(acc);
	BC_FREE(tmp);
	BC_FREE(cell);
	return res;
}

double
route_fetch_wait_ms(double lambda_f, double arrivals, double cap_ms)
{
	if (lambda_f <= 0.0)
		return 0.0;
	if (lambda_f <= arrivals)
		return cap_ms;
	double w = 1000.0 / (lambda_f - arrivals);
	return w < cap_ms ? w : cap_ms;
}
