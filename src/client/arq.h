/*
 * Reliable delivery of blobs to a contact's queue (DESIGN.md "Messages end
 * to end", docs/client.md "ARQ"): the layer the end-to-end sessions hand
 * their ciphertexts to.
 *
 * Sender: a message (any length up to ARQ_MSG_MAX) is cut into fragments
 * that each fill one packet blob. Every fragment is sent until its
 * acknowledgement (the reply through the block the packet carried) comes
 * back; a fragment not acknowledged within its timeout is sent again, the
 * timeout growing by the backoff factor each time up to a ceiling. A
 * message is given up, and reported once, only when the mailbox retention
 * has passed since it was queued: before that the recipient's gateway may
 * still hold it, and giving up would break "every message is either
 * acknowledged or sent again".
 *
 * Receiver: fragments are decoded, duplicates dropped (by message id and
 * index, and by sequence number once delivered), messages reassembled
 * whatever order the fragments arrive in and handed up in sequence order.
 * What has no room is parked (kept by the caller), never dropped, until
 * the parking bound (see arq_rx_trim).
 *
 * Each fragment's plaintext (what is sealed under the contact's transport
 * key, fresh nonce per send, see arq_wrap) is:
 *   0  u8   kind = ARQ_KIND_FRAGMENT
 *   1  16   message id (random)
 *   17 u64  message sequence number of this contact, from 1
 *   25 u16  fragment index (0..count-1)
 *   27 u16  fragment count (1..ARQ_FRAG_MAX)
 *   29 u16  data bytes in this fragment
 *   31 ...  data, then zero padding to the blob
 * All integers big-endian. The blob is nonce(24) | sealed header+data | tag.
 *
 * Pure logic: time in milliseconds is passed in; no I/O. Storing what is
 * sent before the first send is the caller's (client_store.h).
 */
#ifndef BC_CLIENT_ARQ_H
#define BC_CLIENT_ARQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARQ_KIND_FRAGMENT  0x01
#define ARQ_ID_LEN         16
#define ARQ_HDR_LEN        31
#define ARQ_FRAG_MAX       4096
#define ARQ_MSG_MAX        (1u << 22) /* 4 MiB */
/* Bytes of blob that are not fragment data: header, nonce and tag. */
#define ARQ_BLOB_OVERHEAD  (ARQ_HDR_LEN + 24 + 16)
/*
 * The receiver holds at most this many messages per contact that it cannot
 * hand up yet (incomplete, or complete behind a gap in the sequence).  The
 * byte caps below bound their memory; this bounds the bookkeeping, and is
 * well above the reordering of a sender that queues hundreds of short
 * messages at once (a lost fragment leaves a gap until it is resent).
 */
#define ARQ_RX_PENDING_MAX 256
/*
 * And at most this many bytes of them: per receiving stream, and over all
 * the streams that share one budget (arq_rx_budget).  Without these caps a
 * contact could make us hold 64 incomplete messages of 4 MiB each.  An
 * honest sender has about one message incomplete at a time (fragments go
 * out oldest first), so the per-stream cap is room for two of the largest
 * (a message's last fragment is allocated full: up to 64 KiB more each).
 */
#define ARQ_RX_BYTES_MAX   (2 * ((size_t)ARQ_MSG_MAX + 65536)) /* 8.1 MiB */
#define ARQ_RX_TOTAL_MAX   ((size_t)64 << 20)

struct arq_params {
	uint64_t timeout_ms;     /* first timeout: the round trip's p99 */
	double backoff;          /* factor per retry (>= 1) */
	uint64_t max_timeout_ms; /* ceiling of the grown timeout */
	uint64_t retention_ms;   /* give up only after this */
};

/* The defaults for a round-trip p99 of rtt_p99_ms: backoff 2, ceiling 1 h,
 * retention 21 days. */
void arq_params_default(struct arq_params *p, uint64_t rtt_p99_ms);

/* Fragment data bytes per blob of blob_len bytes (0 if too small). */
size_t arq_frag_data_len(size_t blob_len);
/* Fragments a message of len bytes needs (0 if too long). */
size_t arq_frag_count(size_t len, size_t blob_len);

enum arq_frag_state {
	ARQ_FRAG_READY,    /* to send at due_ms */
	ARQ_FRAG_INFLIGHT, /* sent, waiting for its ack until due_ms */
	ARQ_FRAG_ACKED,
};

struct arq_frag {
	enum arq_frag_state state;
	uint32_t tries;  /* sends so far */
	uint64_t due_ms; /* READY: send at; INFLIGHT: retry at */
};

struct arq_msg {
	uint8_t id[ARQ_ID_LEN];
	uint64_t contact; /* the caller's contact handle */
	int64_t row;      /* the caller's store row */
	uint64_t seq;
	uint64_t queued_ms;
	uint8_t *data; /* owned copy */
	size_t len;
	size_t nfrag;
	size_t nacked;
	struct arq_frag *frags;
	bool given_up;
};

struct arq {
	struct arq_params p;
	size_t blob_len;
	size_t n, cap;
	struct arq_msg **msgs; /* in queue order */
};

void arq_init(struct arq *a, const struct arq_params *p, size_t blob_len);
void arq_free(struct arq *a); /* frees every message */

/*
 * Queue (a copy of) data for contact with this id and sequence number at
 * now_ms. Fragments whose bit is set in acked (nfrag bits, may be NULL)
 * count as acknowledged already: that is how a restart restores a message
 * from the store. Returns the message (owned by a) or NULL when data is
 * empty or too long.
 */
struct arq_msg *arq_add(struct arq *a, uint64_t contact,
			const uint8_t id[static ARQ_ID_LEN], uint64_t seq,
			const uint8_t *data, size_t len, uint64_t now_ms,
			const uint8_t *acked);

/* The message with this id, or NULL. */
struct arq_msg *arq_find(struct arq *a, const uint8_t id[static ARQ_ID_LEN]);

/*
 * The fragment to send next at now_ms (the oldest message's first due
 * fragment), or false. Sending it is then reported with arq_sent().
 */
bool arq_next(struct arq *a, uint64_t now_ms, struct arq_msg **m, size_t *idx);

/* Fragment idx of m went out at now_ms: arm its timeout. */
void arq_sent(struct arq *a, struct arq_msg *m, size_t idx, uint64_t now_ms);

/*
 * An acknowledgement for fragment idx of message id. Returns 1 when this
 * completed the message (the caller deletes it from the store, then calls
 * arq_remove), 0 when it is recorded, -1 when unknown or a duplicate.
 */
int arq_acked(struct arq *a, const uint8_t id[static ARQ_ID_LEN], size_t idx);

/* Remove and free m. */
void arq_remove(struct arq *a, struct arq_msg *m);

/*
 * A message whose retention has passed at now_ms without every fragment
 * acknowledged: marks it given up, returns it (once), else NULL. The caller
 * reports it and removes it.
 */
struct arq_msg *arq_expired(struct arq *a, uint64_t now_ms);

/* When something next becomes due (send, retry or give-up); UINT64_MAX. */
uint64_t arq_next_due(const struct arq *a);

/*
 * Write fragment idx of m as its plaintext (header, data, zero padding) into
 * out (blob_len - XAEAD_OVERHEAD bytes).
 */
int arq_frag_encode(const struct arq *a, const struct arq_msg *m, size_t idx,
		    uint8_t *out, size_t out_len);

/*
 * Seal a fragment plaintext into a blob (blob_len bytes) under the
 * contact's transport key with a fresh random nonce, and the reverse.
 * arq_unwrap returns -1 for a blob this key did not seal.
 */
int arq_wrap(uint8_t *blob, size_t blob_len, const uint8_t *plain,
	     const uint8_t key[static 32]);
int arq_unwrap(uint8_t *plain, const uint8_t *blob, size_t blob_len,
	       const uint8_t key[static 32])
    __attribute__((warn_unused_result));

/* A decoded fragment: data points into the plaintext given. */
struct arq_frag_view {
	uint8_t id[ARQ_ID_LEN];
	uint64_t seq;
	uint16_t index, count;
	const uint8_t *data;
	size_t len;
	size_t full; /* data bytes of a full fragment of this geometry */
};

enum arq_rx_result {
	ARQ_RX_OK,        /* stored (maybe completed messages: arq_rx_pop) */
	ARQ_RX_DUPLICATE, /* seen before: dropped */
	ARQ_RX_MALFORMED, /* bad header, lengths or nonzero padding */
	ARQ_RX_CONFLICT,  /* same id, different count or sequence */
	ARQ_RX_PARKED,    /* no room now: the caller keeps it (refeed) */
};

/* Decode a fragment plaintext of plain_len bytes; ARQ_RX_OK or MALFORMED. */
enum arq_rx_result arq_frag_decode(struct arq_frag_view *v,
				   const uint8_t *plain, size_t plain_len);

/*
 * Parking.  A fragment the receiver has no room for is not dropped: its
 * item stays where the caller keeps it (the client store) and the receiver
 * remembers only this, the fragment's header and the caller's tag for the
 * item.  So do the fragments of a message it unloads to make room for a
 * lower sequence number: the lowest numbers are held (they are the ones
 * that can be handed up), the rest wait.  arq_rx_refeed names the parked
 * item to give back once it fits.  Parked items are bounded per stream and
 * per budget; beyond that arq_rx_trim gives up whole messages, the highest
 * sequence numbers first (what completes the earliest messages is kept),
 * and their numbers are skipped when their turn comes.
 */
#define ARQ_RX_PARK_MAX   4096  /* parked items per stream: 11 MB stored */
#define ARQ_RX_PARK_TOTAL 16384 /* and over a budget: 45 MB */
/*
 * Given-up numbers not yet passed over are kept as ranges [lo, hi], at most
 * this many per stream (and so in the store: 16 bytes each). A message is
 * given up when it is the highest parked, so they mostly extend one range.
 * A contact that scatters them past the bound costs itself: the two ranges
 * closest together are joined, and whatever lies between is given up with
 * them (no number is ever forgotten, so the stream never waits for one).
 */
#define ARQ_RX_GONE_MAX   256

struct arq_rx_gone {
	uint64_t lo, hi;
};

struct arq_rx_park {
	uint64_t seq, tag;
	uint8_t id[ARQ_ID_LEN];
	uint16_t index, count;
	uint32_t full;
};

/* The parking record of fragment v, kept under the caller's tag. */
void arq_rx_park_of(struct arq_rx_park *p, const struct arq_frag_view *v,
		    uint64_t tag);

struct arq_rx_msg; /* internal */
struct arq_rx;

/* Bytes held and items parked by every receiving stream that joined it. */
struct arq_rx_budget {
	size_t held, max;
	size_t parked, park_max;
	uint64_t unloaded;   /* messages of another stream parked for room */
	uint64_t dropped;    /* messages given up to stay under park_max */
	struct arq_rx *head; /* the streams that joined */
};

/* max bytes held; ARQ_RX_PARK_TOTAL parked items. */
void arq_rx_budget_init(struct arq_rx_budget *b, size_t max);

/*
 * One contact's receiving side.  A new message needs count * (bytes of a
 * full fragment) at its first fragment, and one of ARQ_RX_PENDING_MAX
 * slots.  When that does not fit under max_bytes, or the budget's max, the
 * messages of this stream with higher sequence numbers are unloaded
 * (parked) to make room, then, for the budget, the highest of the stream
 * holding the most bytes if it holds more than this one would; if there
 * is still no room the fragment is parked (ARQ_RX_PARKED).  Nothing is
 * lost to room: only arq_rx_trim gives messages up (dropped; counted), and
 * their sequence numbers are skipped when their turn comes (skipped).
 */
struct arq_rx {
	uint64_t next_seq; /* the next sequence number to hand up */
	size_t n;
	struct arq_rx_msg *pending[ARQ_RX_PENDING_MAX];
	size_t held, max_bytes;   /* bytes of the pending messages; cap */
	struct arq_rx_park *park; /* parked items, sorted when park_sorted */
	size_t npark, park_max;
	/* park is park_off entries into its allocation (the lowest leave
	 * from the front without a move), park_cap entries from park on. */
	size_t park_off, park_cap;
	bool park_sorted;
	uint64_t parked;   /* fragments parked on arrival (no room) */
	uint64_t unloaded; /* held messages parked to make room */
	uint64_t dropped;  /* items given up (beyond park_max) */
	uint64_t dropped_msgs; /* messages given up */
	uint64_t skipped;      /* given-up numbers passed over */
	/* Given up, not yet passed: sorted, disjoint, not adjacent, all at
	 * or above next_seq (one more slot while one is being joined). */
	struct arq_rx_gone gone[ARQ_RX_GONE_MAX + 1];
	size_t ngone;
	struct arq_rx_budget *budget;
	struct arq_rx *next; /* in the budget's list */
};

/* next_seq: 1 for a new contact, or what the store kept.  max_bytes is
 * ARQ_RX_BYTES_MAX, park_max ARQ_RX_PARK_MAX; no budget. */
void arq_rx_init(struct arq_rx *r, uint64_t next_seq);
/* Share budget b (after init; arq_rx_free leaves it). */
void arq_rx_join(struct arq_rx *r, struct arq_rx_budget *b);
void arq_rx_free(struct arq_rx *r);

/*
 * Take one decoded fragment, which the caller keeps under tag until its
 * message is handed up (arq_rx_pop: every item of that sequence number and
 * below may then go) or the receiver gives it up (arq_rx_trim).  OK and
 * PARKED: keep the item; any other result: it may be deleted.
 */
enum arq_rx_result arq_rx_add(struct arq_rx *r, const struct arq_frag_view *v,
			      uint64_t tag);

/*
 * Park an item without trying to hold it (a restart: the caller parks every
 * stored item, then refeeds, so the lowest sequence numbers are held
 * whatever order the store lists them in).  Stale entries are harmless:
 * arq_rx_add answers DUPLICATE when they come back.
 */
void arq_rx_park_put(struct arq_rx *r, const struct arq_rx_park *p);

/*
 * The tag of a parked item that now has room (first a fragment of a held
 * message, then the lowest sequence number if its message fits), removed
 * from the parked list: the caller gives it back with arq_rx_add (which may
 * park it again).  false when none fits.
 */
bool arq_rx_refeed(struct arq_rx *r, uint64_t *tag);

/*
 * Give up messages until r's parked items are under its park_max and the
 * budget's under its park_max (the stream with the most parked items gives
 * first): each time the parked message with the highest sequence number,
 * all of its items (fn is called with each tag and the stream it was in;
 * the caller deletes them), and its number is skipped.  Returns the
 * messages given up.
 */
typedef void (*arq_rx_drop_fn)(void *ctx, struct arq_rx *from, uint64_t tag);
size_t arq_rx_trim(struct arq_rx *r, arq_rx_drop_fn fn, void *ctx);

/*
 * Sequence numbers lo..hi were given up (restored from the caller's store
 * before any item is parked, or runs that will never come). Should that
 * make more than ARQ_RX_GONE_MAX ranges, the two closest are joined and
 * what the stream holds or parks between them is given up too, without a
 * call to the caller: its items are stale once next_seq passes them.
 */
void arq_rx_mark_gone(struct arq_rx *r, uint64_t lo, uint64_t hi);

/*
 * The next message in sequence if it is complete: *data (caller frees with
 * free()) and *len, and next_seq advances (parked entries below it are
 * forgotten). false when it is not there yet.
 */
bool arq_rx_pop(struct arq_rx *r, uint8_t **data, size_t *len, uint64_t *seq);
/* The same, and the caller's tags of its fragments: *tags (caller frees
 * with free()), *ntags of them. */
bool arq_rx_pop_tags(struct arq_rx *r, uint8_t **data, size_t *len,
		     uint64_t *seq, uint64_t **tags, size_t *ntags);

const char *arq_rx_strerror(enum arq_rx_result r);

#endif /* BC_CLIENT_ARQ_H */
