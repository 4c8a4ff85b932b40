/*
 * Routes for client packets (DESIGN.md "Traffic"): a fresh random route per
 * packet, one mix per layer chosen uniformly from the consensus, and an
 * exponential delay per hop with the consensus mean, capped at its maximum.
 *
 * A forward route is: our gateway, a layer-1, layer-2 and layer-3 mix, the
 * destination gateway (recipient command: a queue or a service). The route
 * of its reply block is: a layer-1, 2 and 3 mix, our gateway (recipient: our
 * reply queue, SURB-reply: the block's id). Every hop but the last of each
 * carries a delay, so a round trip has 4 + 3 = 7 delayed hops, plus the wait
 * for our next fetch: route_rtt_quantile_ms() computes the timeout from
 * exactly that sum.
 *
 * Randomness comes from crypto/rand.h (deterministic in tests).
 */
#ifndef BC_CLIENT_ROUTE_H
#define BC_CLIENT_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "wire/dir_consensus.h"
#include "wire/sphinx_packet.h"

/* Delayed hops of a forward route and of its reply block. */
#define ROUTE_FWD_DELAYED   4
#define ROUTE_REPLY_DELAYED 3
#define ROUTE_FWD_HOPS      5
#define ROUTE_REPLY_HOPS    4

/* One exponential delay with mean_ms, rounded, capped at max_ms. */
uint32_t route_delay_ms(double mean_ms, uint32_t max_ms);

/* The node with this identity, or NULL. */
const struct dir_node *route_find(const struct dir_consensus *c,
				  const uint8_t identity[static 32]);

/*
 * A gateway chosen uniformly among those offering every bit of services
 * (0: any gateway); NULL when there is none.
 */
const struct dir_node *route_pick_gateway(const struct dir_consensus *c,
					  uint32_t services);

/* One mix per layer, uniformly; -1 when a layer is empty. */
int route_pick_mixes(const struct dir_consensus *c,
		     const struct dir_node *out[DIR_LAYERS]);

/*
 * Fill path (ROUTE_FWD_HOPS hops) for a forward packet from our gateway
 * entry to the recipient at dest, with fresh mixes and delays, using the
 * packet keys of epoch. -1 when a node has no key for epoch or a layer is
 * empty.
 */
int route_forward(const struct dir_consensus *c, uint64_t epoch,
		  const struct dir_node *entry, const struct dir_node *dest,
		  const uint8_t recipient[static 32],
		  struct sphinx_path_hop path[static ROUTE_FWD_HOPS]);

/* Fill path (ROUTE_REPLY_HOPS hops) for a reply block back to our queue. */
int route_reply(const struct dir_consensus *c, uint64_t epoch,
		const struct dir_node *own, const uint8_t queue[static 32],
		const uint8_t surb_id[static SPHINX_SURB_ID_LEN],
		struct sphinx_path_hop path[static ROUTE_REPLY_HOPS]);

/*
 * The q-quantile (0 < q < 1) in milliseconds of a round trip: the sum of
 * `hops` independent delays min(Exp(mean_ms), max_ms) plus one Exp(fetch_ms)
 * wait (fetch_ms 0: none). Computed by discrete convolution on a grid of
 * about 4096 cells, with each cell's mass put at its upper edge, so the
 * result is an upper bound of the true quantile, off by at most
 * (hops + 1) cells. Returns -1 on bad arguments.
 */
double route_rtt_quantile_ms(double mean_ms, double max_ms, int hops,
			     double fetch_ms, double q);

/*
 * Mean wait in ms of an item at our gateway until a fetch takes it: items
 * arrive as a Poisson process (our replies at lambda_p + lambda_l, by the
 * displacement theorem, plus messages) and each fetch, Poisson at
 * lambda_f, takes the oldest, so the queue is M/M/1 and an item's wait is
 * exponential with rate lambda_f - arrivals (docs/client.md "Fetch
 * capacity").  Rates per second.  A queue that does not drain
 * (lambda_f <= arrivals) gets the ceiling cap_ms; 0 when lambda_f is 0.
 */
double route_fetch_wait_ms(double lambda_f, double arrivals, double cap_ms);

#endif /* BC_CLIENT_ROUTE_H */
