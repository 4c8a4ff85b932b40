#ifndef BC_STORE_MAILBOX_H
#define BC_STORE_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The gateway's durable mailboxes: accounts bound to a client's link public
 * key, queues (one per contact, 32-byte random ids, owned by one account)
 * and items (fixed-size blobs with their arrival time), with per-queue and
 * per-account quotas and a retention period.
 *
 * Acknowledgement after commit: mailbox_deliver() stores the blob and the
 * packet's replay tag in one transaction, fsynced before it returns
 * (WAL, synchronous=FULL); the gateway sends the packet's acknowledgement only
 * on MAILBOX_OK.  Any other result stored nothing.
 *
 * The file is the node store (store/schema.h): a gateway opens its replay
 * store on the same path, and the tags written here are in the same table
 * (loaded by replay_open, erased by replay_erase_epoch with their key).
 *
 * Arguments: ids, keys, tags and token hashes are fixed-size arrays (the
 * MAILBOX_*_LEN below) and NULL is refused; every variable length (blob,
 * buffer, count) is checked and refused with MAILBOX_BADARG.  A request
 * naming a queue that does not exist or belongs to another account gets
 * MAILBOX_NO_QUEUE either way (no oracle for other accounts' queues) and
 * changes nothing.
 *
 * Thread safety: every function locks the mailbox's one mutex; call from any
 * thread.  Metrics are aggregate counters only (mailbox_counters): nothing
 * is counted per account or per queue.
 */

#define MAILBOX_KEY_LEN        32 /* client's link (Noise static) public key */
#define MAILBOX_QUEUE_ID_LEN   32
#define MAILBOX_TAG_LEN        32    /* replay tag, as in replay.h */
#define MAILBOX_TOKEN_HASH_LEN 32    /* hash of an invitation token */
#define MAILBOX_ITEM_MAX       65536 /* largest item_size accepted */
#define MAILBOX_BATCH_MAX      1024  /* fetch and confirm: items per call */

#define MAILBOX_DEFAULT_RETENTION_MS   (21LL * 24 * 3600 * 1000)
#define MAILBOX_DEFAULT_QUEUE_ITEMS    4096
#define MAILBOX_DEFAULT_ACCOUNT_ITEMS  16384
#define MAILBOX_DEFAULT_ACCOUNT_QUEUES 256

struct mailbox;

enum mailbox_admission {
	MAILBOX_ADMIT_OPEN,   /* any link key may register */
	MAILBOX_ADMIT_INVITE, /* a one-time invitation token is needed */
};

struct mailbox_config {
	size_t item_size; /* every blob is exactly this long (required) */
	enum mailbox_admission admission;
	int64_t retention_ms;        /* items older than this are expired */
	uint32_t queue_max_items;    /* per-queue quota */
	uint32_t account_max_items;  /* per-account quota given at register */
	uint32_t account_max_queues; /* per-account quota given at register */
	/* Wall clock in ms; NULL means time_wall_ms (tests inject a clock). */
	int64_t (*now_ms)(void *arg);
	void *now_arg;
};

enum mailbox_status {
	MAILBOX_OK = 0,
	MAILBOX_DUPLICATE,    /* deliver: the replay tag is already stored */
	MAILBOX_NO_QUEUE,     /* no such queue, or not this account's */
	MAILBOX_QUEUE_FULL,   /* per-queue item quota reached */
	MAILBOX_ACCOUNT_FULL, /* per-account item or queue quota reached */
	MAILBOX_NO_ACCOUNT,   /* link key not registered */
	MAILBOX_EXISTS,  /* already registered; queue id taken or deleted */
	MAILBOX_REFUSED, /* admission: token missing, unknown or expired */
	MAILBOX_BADARG,  /* NULL, wrong length, count out of range */
	MAILBOX_ERROR,   /* database error (logged): nothing changed */
};

/* Short constant name of a status, for logs and link error codes. */
const char *mailbox_status_str(enum mailbox_status s);

/* Open admission, 21 days, the default quotas; item_size left 0. */
void mailbox_config_defaults(struct mailbox_config *cfg);

/*
 * Opens (creating if missing) the node store at path.  NULL with a reason in
 * err if the file is refused (see db.h) or cfg is invalid.
 */
struct mailbox *mailbox_open(const char *path, const struct mailbox_config *cfg,
			     char *err, size_t errlen);

/* NULL is fine. */
void mailbox_close(struct mailbox *mb);
#define MAILBOX_CLOSE(p)          \
	do {                      \
		mailbox_close(p); \
		(p) = NULL;       \
	} while (0)

/*
 * Operator: records an invitation.  The caller keeps the token and stores
 * only its hash here (e.g. BLAKE2b-256 of the token), so the database holds
 * nothing a reader could register with and no lookup compares a secret.
 * MAILBOX_EXISTS if that hash is already recorded.
 */
enum mailbox_status
mailbox_invite_add(struct mailbox *mb,
		   const uint8_t token_hash[MAILBOX_TOKEN_HASH_LEN],
		   int64_t expires_ms);

/*
 * Creates the account of link_key with the configured quotas.  Under
 * MAILBOX_ADMIT_INVITE, token_hash must name an unexpired invitation, which
 * is consumed in the same transaction; under open admission it is ignored
 * (may be NULL).  MAILBOX_EXISTS if the key is registered (the token is not
 * consumed), MAILBOX_REFUSED if the policy says no.
 */
enum mailbox_status mailbox_register(struct mailbox *mb,
				     const uint8_t link_key[MAILBOX_KEY_LEN],
				     const uint8_t *token_hash);

/* Operator: changes an account's quotas (items already stored stay). */
enum mailbox_status
mailbox_account_set_quota(struct mailbox *mb,
			  const uint8_t link_key[MAILBOX_KEY_LEN],
			  uint32_t max_items, uint32_t max_queues);

/*
 * Creates a queue owned by link_key's account.  MAILBOX_EXISTS if the id is
 * in use or was deleted (a deleted id stays blocked), MAILBOX_ACCOUNT_FULL
 * at the account's queue quota.
 */
enum mailbox_status
mailbox_queue_create(struct mailbox *mb,
		     const uint8_t link_key[MAILBOX_KEY_LEN],
		     const uint8_t queue_id[MAILBOX_QUEUE_ID_LEN]);

/*
 * Deletes a queue and its items, and blocks its id: packets for it are
 * refused from then on (MAILBOX_NO_QUEUE), and it cannot be created again.
 */
enum mailbox_status
mailbox_queue_delete(struct mailbox *mb,
		     const uint8_t link_key[MAILBOX_KEY_LEN],
		     const uint8_t queue_id[MAILBOX_QUEUE_ID_LEN]);

/*
 * The last hop: stores blob (exactly item_size bytes) in the queue and the
 * replay tag under epoch, in one transaction.  MAILBOX_OK only once the
 * commit is on disk: then, and only then, acknowledge.  MAILBOX_DUPLICATE,
 * MAILBOX_NO_QUEUE, MAILBOX_QUEUE_FULL, MAILBOX_ACCOUNT_FULL: dropped,
 * nothing stored (the tag neither).
 */
enum mailbox_status
mailbox_deliver(struct mailbox *mb,
		const uint8_t queue_id[MAILBOX_QUEUE_ID_LEN],
		const uint8_t *blob, size_t bloblen, uint64_t replay_epoch,
		const uint8_t replay_tag[MAILBOX_TAG_LEN]);

/* One delivery of a batch: the arguments of mailbox_deliver. */
struct mailbox_delivery {
	const uint8_t *queue_id; /* MAILBOX_QUEUE_ID_LEN bytes */
	const uint8_t *blob;
	size_t bloblen;
	uint64_t replay_epoch;
	const uint8_t *replay_tag; /* MAILBOX_TAG_LEN bytes */
};

/*
 * Group commit: n (1..MAILBOX_BATCH_MAX) deliveries in one transaction, so
 * one fsync covers them all; results[i] is what mailbox_deliver would have
 * returned for d[i] (a tag repeated inside the batch is a duplicate).  The
 * acknowledgements of the items with MAILBOX_OK may go out once this
 * returns MAILBOX_OK.  A database error stores none of them: the return
 * value and every result are then MAILBOX_ERROR.  MAILBOX_BADARG for bad
 * arguments of the call itself; a bad entry only gets MAILBOX_BADARG in its
 * own result.
 */
enum mailbox_status mailbox_deliver_batch(struct mailbox *mb,
					  const struct mailbox_delivery *d,
					  size_t n,
					  enum mailbox_status *results);

struct mailbox_item {
	uint64_t id; /* what mailbox_confirm takes */
	uint8_t queue_id[MAILBOX_QUEUE_ID_LEN];
	int64_t arrival_ms;
	const uint8_t *blob; /* item_size bytes inside the caller's buffer */
};

/*
 * Up to max (1..MAILBOX_BATCH_MAX) of the account's items over all its
 * queues, oldest first.  Blob i is copied to blobs + i * item_size; blobcap
 * must be at least max * item_size.  *n receives the count (0 is fine).
 * Items stay until confirmed.
 */
enum mailbox_status mailbox_fetch(struct mailbox *mb,
				  const uint8_t link_key[MAILBOX_KEY_LEN],
				  struct mailbox_item *items, size_t max,
				  uint8_t *blobs, size_t blobcap, size_t *n);

/*
 * Deletes exactly the listed items (n: 1..MAILBOX_BATCH_MAX) that belong to
 * the account, in one transaction; ids that are not the account's (already
 * deleted, expired, someone else's) are skipped and change nothing.
 * *deleted (may be NULL) receives how many were deleted.
 */
enum mailbox_status mailbox_confirm(struct mailbox *mb,
				    const uint8_t link_key[MAILBOX_KEY_LEN],
				    const uint64_t *ids, size_t n,
				    size_t *deleted);

/*
 * Deletes items that arrived more than retention_ms ago and expired
 * invitations, in transactions of at most 1,000 rows so deliveries are not
 * held up.  *expired (may be NULL) receives the number of items deleted.
 */
enum mailbox_status mailbox_expire(struct mailbox *mb, size_t *expired);

struct mailbox_counters {
	/* Events since open. */
	uint64_t delivered, duplicate, no_queue, queue_full, account_full;
	uint64_t fetched, confirmed, expired;
	uint64_t registered, register_refused;
	uint64_t queues_created, queues_deleted;
	uint64_t refused; /* requests naming an unknown account or queue */
	uint64_t errors;  /* database errors */
	/* Totals now, from the database. */
	int64_t items, queues, accounts;
};

/* Aggregate counters for metrics.  MAILBOX_ERROR if the totals failed. */
enum mailbox_status mailbox_counters(struct mailbox *mb,
				     struct mailbox_counters *out);

#endif
