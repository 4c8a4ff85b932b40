#ifndef BC_NODE_GATEWAY_H
#define BC_NODE_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/mailbox.h"
#include "wire/link_cmd.h"
#include "wire/sphinx_geometry.h"
#include "wire/sphinx_packet.h"

/*
 * The gateway (docs/gateway.md): the last hop of packets for its clients'
 * queues, the echo and drop services, and the client side of its links
 * (accounts, queues, fetch, confirm, consensus, time).
 *
 * Last hop, acknowledgement after commit:
 *   gateway_on_final (pipeline worker thread) classifies an unwrapped final
 *   hop and queues it for the committer thread; the committer stores up to
 *   batch_max packets in one mailbox transaction (blob + a tag derived from
 *   the packet's replay tag: group commit, one fsync), and only for the
 *   items that committed builds the acknowledgement from the packet's reply
 *   block and puts it in the outbox; gateway_drain (loop thread) sends the
 *   outbox.  Echoes wait for their replay tag to be durable the same way.
 *
 * Threads: gateway_on_final from any thread; the committer is internal;
 * wake from the committer; everything else from the owner's (loop) thread.
 */
struct gateway;
struct metrics;
struct replay_store;

/*
 * A stored item is what a fetch hands out (wire/link_cmd.h LINK_ITEM_*):
 * kind (1) | tag (32: the queue id of a message, the SURB id of a reply
 * then zeros) | body (payload_len).
 */
#define GATEWAY_ITEM_HDR LINK_ITEM_HDR
enum gateway_item_kind {
	GATEWAY_ITEM_MESSAGE = LINK_ITEM_MESSAGE,
	GATEWAY_ITEM_REPLY = LINK_ITEM_REPLY,
};

/* Bytes of one stored item for geometry g. */
size_t gateway_item_size(const struct sphinx_geometry *g);

struct gateway_cfg {
	const char *db_path;         /* the node store (same file as replay) */
	struct sphinx_geometry geom; /* forward geometry, with reply */
	enum mailbox_admission admission;
	int64_t retention_ms;     /* 0: 21 days */
	uint32_t queue_max_items; /* 0: the store's defaults */
	uint32_t account_max_items;
	uint32_t account_max_queues;
	struct replay_store *replay; /* echo tags flushed here; may be NULL */
	size_t batch_max;            /* packets per commit; 0: 256 */
	size_t inbox_max;            /* final hops waiting; 0: 4096 */
	size_t outbox_max;           /* replies waiting for drain; 0: 4096 */
	double rate_pps;         /* per-client SEND_PACKET rate; 0: unlimited */
	double rate_burst;       /* token bucket depth; 0: 16 */
	struct metrics *metrics; /* not owned; NULL: a private registry */
	void (*wake)(void *ctx); /* committer: replies are waiting */
	void *ctx;
	int64_t (*now_ms)(void *arg); /* wall clock; NULL: time_wall_ms */
	void *now_arg;
};

/*
 * Opens the mailbox (a corrupt or foreign file is refused, never
 * truncated: NULL with the reason in err) and starts the committer.
 */
struct gateway *gateway_open(const struct gateway_cfg *cfg, char *err,
			     size_t errlen);
/* Stops the committer after it stored what is queued; NULL is fine. */
void gateway_close(struct gateway *gw);

/* The key epoch under which derived tags are stored (the newest held). */
void gateway_set_tag_epoch(struct gateway *gw, uint64_t epoch);

/* A final hop unwrapped by this node (pkt valid during the call only). */
void gateway_on_final(struct gateway *gw,
		      const struct sphinx_unwrap_result *res,
		      const uint8_t *pkt, size_t len);

/* Waits until every queued final hop is committed; false on timeout. */
bool gateway_wait_idle(struct gateway *gw, int64_t timeout_ms);

/*
 * Hands every waiting reply packet to send(ctx, first_hop, pkt, len),
 * which returns false if it could not be sent (counted as a drop).
 */
typedef bool (*gateway_send_fn)(void *ctx, const uint8_t *first_hop,
				const uint8_t *pkt, size_t len);
size_t gateway_drain(struct gateway *gw, gateway_send_fn send, void *ctx);

/* The per-client sending rate (packets/s; 0: unlimited). Loop thread. */
void gateway_set_rate(struct gateway *gw, double pps);

/* The consensus served to clients (copied); epoch 0 clears it. */
void gateway_set_consensus(struct gateway *gw, uint64_t epoch,
			   const uint8_t *text, size_t len);

/* ---- clients (gateway_client.c) ----------------------------------- */

/* One client link's state, owned by the caller (one per connection). */
struct gateway_client {
	uint8_t key[MAILBOX_KEY_LEN];
	bool registered;
	double tokens;
	int64_t last_ms;
};

/*
 * Admission at the handshake: a registered key, or (open admission or
 * invitations) a key that may register next.  Initialises *cl if given.
 */
bool gateway_client_admit(struct gateway *gw, const uint8_t key[32],
			  struct gateway_client *cl);

enum gateway_action {
	GATEWAY_NOTHING, /* no answer */
	GATEWAY_ANSWER,  /* send *out */
	GATEWAY_SUBMIT,  /* hand in->u.packet to the pipeline */
	GATEWAY_CLOSE,   /* close the link with *close_code */
};

/*
 * One command from a client.  *out's item data point into the gateway's
 * scratch, valid until the next call (loop thread only).
 */
enum gateway_action gateway_client_cmd(struct gateway *gw,
				       struct gateway_client *cl,
				       const struct link_cmd *in,
				       struct link_cmd *out,
				       enum link_err *close_code);

/* Operator: a new invitation token (base32 text) valid for valid_ms. */
int gateway_invite_create(const char *db_path, int64_t valid_ms, char *token,
			  size_t tokencap, char *err, size_t errlen);
/* The hash stored for a token (what REGISTER's token is checked by). */
void gateway_token_hash(uint8_t out[MAILBOX_TOKEN_HASH_LEN],
			const uint8_t *token, size_t len);

/* Aggregate counters (tests, metrics); never per client or per queue. */
struct gateway_stats {
	uint64_t stored, acked, echoed, dropped_service, replies_stored;
	uint64_t dropped_full, dropped_duplicate, dropped_no_queue;
	uint64_t dropped_malformed, dropped_inbox, dropped_outbox;
	uint64_t dropped_rate, dropped_unregistered, reply_failed;
	uint64_t commits, store_errors;
	uint64_t fetches, confirmed, registered, refused;
};
void gateway_stats(struct gateway *gw, struct gateway_stats *out);

/* Deletes expired items (retention); count in *expired. 0 or -1. */
int gateway_expire(struct gateway *gw, size_t *expired);

/* The mailbox, for the operator tools and tests. */
struct mailbox *gateway_mailbox(struct gateway *gw);

#endif
