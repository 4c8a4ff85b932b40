/*
 * The client's side of the link to its gateway (docs/link.md section 5,
 * docs/client.md "Gateway link"), as pure logic: commands in, commands out
 * through a callback, wall-clock time passed in. The daemon feeds it from
 * its link connection; tests feed it from an in-process fake gateway.
 *
 * On every (re)connection: REGISTER (until the gateway said ok once), then
 * QUEUE_CREATE of our reply queue (when set), then TIME and the 30-second clock
 * check, then the current consensus by GET_CONSENSUS chunks, verified against
 * the configured authorities (dir/verify.h) and checked for equivocation. Once
 * ready: fetches with sequence numbers, items handed up, and confirmations
 * (carried by the next FETCH) only for items the caller has stored.
 *
 * A drain link (drain = true) is a fetch-only link to a gateway we moved
 * away from (docs/e2e.md "Moving to another gateway"): the account exists
 * there already, so it is ready as soon as it opens (no REGISTER, reply
 * queue, clock check or consensus), and a gateway that no longer knows us
 * stops it (GWLINK_FATAL) instead of registering us again.
 */
#ifndef BC_CLIENT_GWLINK_H
#define BC_CLIENT_GWLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#include "wire/dir_consensus.h"
#include "wire/link_cmd.h"

#include "dir/authset.h"
#include "dir/verify.h"

#define GWLINK_SKEW_MAX_MS     (DIR_CLOCK_SKEW_MAX * 1000)
/* Confirmations waiting for the next FETCH (a response holds at most
 * LINK_FETCH_MAX_ITEMS items, a fetch carries up to LINK_CONFIRM_MAX). */
#define GWLINK_CONFIRM_PENDING 256

enum gwlink_state {
	GWLINK_DOWN,        /* no link */
	GWLINK_REGISTERING, /* REGISTER sent */
	GWLINK_QUEUE,       /* QUEUE_CREATE of our reply queue sent */
	GWLINK_TIME,        /* TIME sent */
	GWLINK_CONSENSUS,   /* fetching consensus chunks */
	GWLINK_READY,
	GWLINK_FATAL, /* stop the client: err says why */
};

struct gwlink_ops {
	/* Queue a command on the link. 0, or -1 when it could not go. */
	int (*send)(void *ctx, const struct link_cmd *cmd);
	/* A new verified consensus (the caller may keep a copy). */
	void (*on_consensus)(void *ctx, const struct dir_consensus *c);
	/* One fetched item (docs/gateway.md "Stored items"): its link id,
	 * kind (LINK_ITEM_MESSAGE or _REPLY, or another value from a newer
	 * gateway), tag (a message's queue id; a reply's SURB id then
	 * zeros) and payload.  0 once it is durably handled (then
	 * confirmed), -1 to leave it at the gateway for a later fetch. */
	int (*on_item)(void *ctx, const uint8_t id[static LINK_ID_LEN],
		       uint8_t kind,
		       const uint8_t tag[static LINK_ITEM_TAG_LEN],
		       const uint8_t *data, size_t len);
	void *ctx;
	/* The answer to a gwlink_queue_op (LINK_OK, LINK_ERR_EXISTS, ...);
	 * not called when the link closed first. May be NULL. */
	void (*on_queue)(void *ctx, bool create, const uint8_t id[32],
			 uint8_t code);
};

/*
 * Commands a ready gateway answers with ERROR, in the order sent, so each
 * answer finds its request: queue requests (CONFIRM, which older clients
 * sent on its own, is answered too).
 */
#define GWLINK_ANS_MAX 64
struct gwlink_ans {
	uint8_t kind; /* 1 confirm, 2 queue create, 3 queue delete */
	uint8_t id[LINK_QUEUE_ID_LEN];
};

struct gwlink {
	enum gwlink_state state;
	const struct dir_authset *as;
	struct gwlink_ops ops;
	bool registered;
	bool drain;           /* fetch-only link to our old gateway (above) */
	const uint8_t *token; /* registration token, may be NULL */
	/* Our reply queue (32 bytes), created at the gateway on every
	 * connection (idempotent: "exists" is fine); NULL: none. */
	const uint8_t *reply_queue;
	size_t token_len;
	int64_t time_sent_ms;
	int64_t skew_ms; /* gateway minus us, at the last check */
	/* consensus being received */
	struct buf doc;
	uint16_t next_chunk, nchunks;
	uint32_t total;
	uint64_t doc_epoch;
	struct dir_consensus cons;
	bool have_cons;
	struct dir_seen seen;
	/* fetches */
	uint32_t fetch_seq;
	bool fetch_pending;
	/* Ids of items handled but not yet confirmed: the next FETCH
	 * carries the first confirm_fit of them (confirm_sent, forgotten
	 * once that fetch is answered).  No separate CONFIRM frame: the
	 * uplink is only the streams' frames.  Kept across reconnects. */
	uint8_t confirm_ids[GWLINK_CONFIRM_PENDING][LINK_ID_LEN];
	size_t confirm_n, confirm_sent, confirm_fit;
	uint64_t confirm_dropped; /* list full: the item comes again */
	uint32_t remaining;       /* items the gateway still held at its last
				   * answer (0: none: everything before it came) */
	uint8_t last_count;       /* items in the last answer */
	uint64_t answers;         /* fetch answers received */
	uint64_t fetches, items, confirmed;
	uint64_t items_bad; /* shorter than the item header: dropped */
	struct gwlink_ans ans[GWLINK_ANS_MAX]; /* ring of expected answers */
	size_t ans_head, ans_n;
	char err[256];
};

void gwlink_init(struct gwlink *g, const struct dir_authset *as,
		 const struct gwlink_ops *ops, bool registered,
		 const uint8_t *token, size_t token_len);
void gwlink_free(struct gwlink *g);

/* The link is open: start the sequence above. */
void gwlink_opened(struct gwlink *g, int64_t wall_ms);
/* The link closed: keep the consensus, forget what was in flight. */
void gwlink_closed(struct gwlink *g);

/*
 * One command from the gateway. Returns LINK_OK, or an error code: the
 * caller closes the link with it (a garbage-speaking gateway). When the
 * state becomes GWLINK_FATAL the client must stop with g->err.
 */
enum link_err gwlink_on_cmd(struct gwlink *g, const struct link_cmd *cmd,
			    int64_t wall_ms);

/* Send one FETCH (the fetch stream fired), carrying the pending
 * confirmations. -1 when not ready. */
int gwlink_fetch(struct gwlink *g);

/*
 * Create or delete one of our queues (a contact's) on a ready link; the
 * answer comes through ops.on_queue. -1 when not ready or too many are
 * waiting: try again later.
 */
int gwlink_queue_op(struct gwlink *g, bool create, const uint8_t id[32]);

/* Ask for the consensus again (a new epoch); -1 when not ready. */
int gwlink_refresh(struct gwlink *g, int64_t wall_ms);

const char *gwlink_state_name(enum gwlink_state s);

#endif /* BC_CLIENT_GWLINK_H */
