#ifndef BC_NODE_NODE_INTERNAL_H
#define BC_NODE_NODE_INTERNAL_H

/*
 * Internal to the node daemon (node.c, node_loops.c): the state the event
 * loop owns, and what the directory thread hands over to it.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

#include "wire/dir_consensus.h"
#include "wire/sphinx_geometry.h"

#include "dir/keysched.h"
#include "dir/node_dir.h"

#include "node/metrics.h"
#include "node/node.h"

struct evloop;
struct gateway;
struct gateway_link;
struct evtimer;
struct evwake;
struct link_mgr;
struct link_conn;
struct metrics_http;
struct pipeline;
struct replay_store;

/* Another node of the consensus, and our link to it. */
struct node_peer {
	uint8_t id[NODE_ID_LEN];
	uint8_t link_key[32];
	uint8_t packet_keys[DIR_PACKET_KEYS][32];
	uint64_t keys_epoch;
	char addr[DIR_ADDRESS_MAX + 1];
	uint32_t layer; /* 1..3 mix, 0 gateway */
	enum dir_role role;
	bool self;
	struct link_conn *conn; /* outgoing, persistent; NULL for self */
	char label[17];         /* hex prefix of the id, for metrics */
	struct metric_counter *loops_sent, *loops_back, *loops_lost;
	struct metric_counter *no_route;
	struct metric_gauge *loop_ratio;
};

#define NODE_LOOPS_MAX   1024
#define NODE_LOOP_ID_LEN 16

struct node_loop {
	bool used;
	uint8_t id[NODE_LOOP_ID_LEN];
	uint8_t first_hop[NODE_ID_LEN];
	int64_t sent_ms;
};

/* Handed from the directory thread to the loop, under dir_lock. */
struct node_dir_handoff {
	bool fatal;
	char fatal_msg[256];
	bool new_consensus;
	struct buf consensus;
	size_t n_keys;
	uint64_t key_epoch[KEYSCHED_SLOTS];
	struct secret32 *key_priv[KEYSCHED_SLOTS];
	bool new_keys;
};

struct node_daemon {
	const struct node_config *cfg;
	int exit_status;
	bool stopping;

	uint8_t id[NODE_ID_LEN]; /* Ed25519 identity public key */
	uint8_t link_pub[32];
	uint8_t *link_priv; /* secret memory */

	struct evloop *ev;
	struct evtimer *drain_timer, *loop_timer, *loop_check_timer;
	struct evwake *drain_wake, *dir_wake;
	struct metrics *mx;
	struct metrics_http *http;
	struct replay_store *rs;
	struct pipeline *pl;
	struct link_mgr *links;
	uint16_t listen_port;

	/* consensus state (loop thread) */
	bool have_consensus;
	struct dir_consensus cons;
	struct sphinx_geometry geom;
	struct node_peer *peers; /* sorted by id, as the consensus */
	size_t n_peers;
	uint64_t pl_epochs[KEYSCHED_SLOTS];
	size_t n_pl_epochs;

	/* directory thread */
	pthread_t dir_thread;
	bool dir_started;
	pthread_mutex_t dir_lock;
	pthread_cond_t dir_cond;
	bool dir_stop;
	struct node_dir *nd;
	struct node_dir_handoff ho;

	/* mix loops */
	pthread_mutex_t loop_lock;
	struct node_loop loops[NODE_LOOPS_MAX];

	struct metric_counter *sink, *links_opened, *links_closed;
	struct metric_gauge *links_open;
	struct metric_counter *loops_unknown;

	/* gateway role only (docs/gateway.md) */
	struct gateway *gw;
	struct gateway_link *gl;
	int64_t gw_expire_ms;
};

/* gateway_node.c: the gateway's hooks into the daemon. */
int node_gateway_start(struct node_daemon *d, const struct dir_consensus *c);
void node_gateway_consensus(struct node_daemon *d,
			    const struct dir_consensus *c, const void *text,
			    size_t len);
void node_gateway_stop(struct node_daemon *d);

/* node.c */
struct node_peer *node_peer_find(struct node_daemon *d,
				 const uint8_t id[NODE_ID_LEN]);
uint64_t node_current_epoch(const struct node_daemon *d);

/* node_loops.c: mix loops through the network and back. */
void node_loops_start(struct node_daemon *d);
/* A final hop reached this mix (worker thread): a returning loop? */
void node_loops_on_final(struct node_daemon *d, const uint8_t *recipient);

#endif
