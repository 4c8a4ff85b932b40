/*
 * A fake gateway for client tests, run in the test's own process on its own
 * thread and libuv loop. It speaks the real link protocol (net/link.h, Noise
 * XK over TCP) and plays the whole network with the nodes' private keys:
 * fakegw_forward() unwraps a client's packet through every hop,
 * fakegw_reply() sends a reply block's answer back to our gateway.
 *
 * It answers REGISTER (OK), TIME (wall clock + skew_ms) and GET_CONSENSUS
 * (a consensus of FAKEGW_NODES nodes, really signed by two of three
 * authorities), and keeps a mailbox the way docs/gateway.md says: items by
 * owner (a client's link key), FETCH confirms the ids it carries then
 * answers with the owner's items and a remaining of at most 15, CONFIRM
 * deletes and answers 0. What becomes of a packet (SEND_PACKET) and of
 * QUEUE_CREATE / QUEUE_DELETE is each test's own model (struct fakegw_ops):
 * it stores items with fakegw_store().
 *
 * No Criterion here: tests/common is linked into the vector checkers too.
 * Every operation returns 0 or -1 and the test asserts on it.
 *
 * Use: fakegw_init, fakegw_make_consensus, fakegw_start (listens, starts the
 * thread; g->port is then bound), write the client config (fakegw_keys_b64),
 * run the client; fakegw_stop (fakegw_start may follow), fakegw_free.
 */
#ifndef BC_TESTS_FAKEGW_H
#define BC_TESTS_FAKEGW_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "lib/buf.h"
#include "net/link.h"
#include "wire/dir_consensus.h"
#include "wire/link_cmd.h"
#include "wire/sphinx_geometry.h"
#include "wire/sphinx_packet.h"

#define FAKEGW_NODES       8    /* nodes 0 and 1 (before sorting): gateways */
#define FAKEGW_EPOCH       1000 /* the consensus's epoch */
#define FAKEGW_AUTHORITIES 3    /* the consensus is signed by 0 and 1 */
#define FAKEGW_MAX_ITEMS   4096 /* a full mailbox drops new items */

struct fakegw;

/* The test's model of the network; called on the gateway's thread with
 * g->mu held. */
struct fakegw_ops {
	/* SEND_PACKET from c: pkt is geo.packet_len bytes. */
	void (*packet)(struct fakegw *g, struct link_conn *c,
		       const uint8_t *pkt);
	/* QUEUE_CREATE / QUEUE_DELETE: the code to answer (NULL: LINK_OK). */
	uint8_t (*queue)(struct fakegw *g, struct link_conn *c,
			 const struct link_cmd *cmd);
};

/* A stored item: LINK_ITEM_HDR + geo.payload_len bytes (kind, tag,
 * payload), for owner. */
struct fakegw_item {
	uint8_t owner[32];
	uint8_t id[LINK_ID_LEN];
	uint8_t *data;
	size_t len;
};

struct fakegw {
	/* keys, made by fakegw_init (authority seeds are fixed) */
	uint8_t auth_sk[FAKEGW_AUTHORITIES][64];
	uint8_t auth_pk[FAKEGW_AUTHORITIES][32];
	uint8_t link_priv[32], link_pub[32]; /* the gateway's link key */
	/* the network, made by fakegw_make_consensus */
	struct dir_consensus cons;
	struct buf doc;                      /* cons, signed and encoded */
	uint8_t node_priv[FAKEGW_NODES][32]; /* packet key of cons.nodes[i] */
	int own; /* our node in cons (node 0 when our key is omitted) */
	struct sphinx_geometry geo;     /* the default geometry */
	struct sphinx_unwrap_ctx *uctx; /* for the gateway's thread */
	int64_t skew_ms;                /* added to every TIME answer */
	const struct fakegw_ops *ops;
	/* the mailbox; hold mu to read it from another thread */
	struct fakegw_item items[FAKEGW_MAX_ITEMS];
	size_t nitems;
	uint64_t next_item;
	unsigned long confirm_frames; /* CONFIRM commands received */
	pthread_mutex_t mu;
	uint16_t port; /* bound by fakegw_start */
	/* the gateway's thread */
	uv_loop_t loop;
	uv_async_t stop;
	struct link_mgr *mgr;
	pthread_t thread;
};

/* Zero g, make the keys (crypto_init() included); ops stays the caller's. */
int fakegw_init(struct fakegw *g, const struct fakegw_ops *ops);

/*
 * The consensus of epoch FAKEGW_EPOCH, valid now, with p's rates: genesis,
 * valid_after and valid_until are derived from p->epoch_len_s and
 * p->grace_s (the rest of p is copied). Node 0 before sorting carries our
 * link key unless omit_gateway (the client must then refuse the gateway).
 */
int fakegw_make_consensus(struct fakegw *g, const struct dir_params *p,
			  bool omit_gateway);

/* Listen on ip:port (0: any; g->port gets it) and start the thread. */
int fakegw_start(struct fakegw *g, const char *ip, uint16_t port);

/* Close every link, stop and join the thread, close the loop; -1 if the
 * loop did not close cleanly. fakegw_start may follow. */
int fakegw_stop(struct fakegw *g);

/* Release the consensus and the items (after fakegw_stop). */
void fakegw_free(struct fakegw *g);

/* The index in cons.nodes of the node with identity id, or -1. */
int fakegw_node_of(const struct fakegw *g, const uint8_t id[32]);

/* Unwrap pkt from node at through every forward hop: the node where it
 * stopped (res says why), or -1 on any failure. */
int fakegw_travel(struct fakegw *g, int at, uint8_t *pkt,
		  struct sphinx_unwrap_result *res);

/* A client's packet entering at our node: 0 if it reached its last hop
 * (res->kind SPHINX_HOP_FINAL, payload at pkt + res->payload_off). */
int fakegw_forward(struct fakegw *g, uint8_t *pkt,
		   struct sphinx_unwrap_result *res);

/*
 * Answer reply block surb (copied first: it may lie in pkt) with msg: the
 * reply packet, written to pkt (geo.packet_len bytes), travels from its
 * first hop; 0 if it reaches our node as a SURB reply (res says for whom).
 */
int fakegw_reply(struct fakegw *g, const uint8_t *surb, const void *msg,
		 size_t len, uint8_t *pkt, struct sphinx_unwrap_result *res);

/*
 * Store an item of kind (LINK_ITEM_*) for owner: tag (32 bytes) and plen
 * <= geo.payload_len bytes of payload, zero-padded. The stored item (valid
 * until it is fetched and confirmed), or NULL if the mailbox is full.
 */
const struct fakegw_item *fakegw_store(struct fakegw *g,
				       const uint8_t owner[32], uint8_t kind,
				       const uint8_t tag[32],
				       const uint8_t *payload, size_t plen);

/* Delete every item of kind with tag, whoever owns it; how many. */
size_t fakegw_drop_tagged(struct fakegw *g, uint8_t kind,
			  const uint8_t tag[32]);

/* For a client config: the authorities line (keys in base64 at
 * 127.0.0.1:9000..) and our link key in base64. */
int fakegw_keys_b64(const struct fakegw *g, char *auth, size_t authcap,
		    char *gwkey, size_t gwcap);

#endif /* BC_TESTS_FAKEGW_H */
