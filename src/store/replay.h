#ifndef BC_STORE_REPLAY_H
#define BC_STORE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Replay tags of a mix or gateway, one set per packet key epoch: an
 * in-memory hash set (32 bytes per slot, open addressing, no node per tag)
 * that answers at memory speed, backed by an append-only file per epoch
 * (store/taglog.h) so that a SIGKILL and restart within the epoch still
 * rejects every replay.
 *
 * Durability contract (the caller is the mix pipeline):
 *   1. A worker calls replay_add() for each unwrapped packet.  It returns
 *      REPLAY_DUPLICATE for a tag already known (drop the packet) or
 *      REPLAY_ADDED with the number of the batch the tag went into.
 *   2. One thread calls replay_flush() at most every 5 ms (and whenever it
 *      wants packets out sooner): it appends the pending batch to the
 *      epoch's tag file and fdatasyncs it before it returns.
 *   3. A packet must not leave the node before replay_durable() >= the batch
 *      number its add returned.  A failed flush keeps its tags pending and
 *      the next successful flush covers them; replay_durable() never moves
 *      past a batch that is not on disk.
 * Tags loaded at open are durable already.
 *
 * Thread safety: every function may be called from any thread; the set and
 * the pending batch are under one mutex held for a hash probe, and the tag
 * files and the database under a second one held by flush and erase, so
 * workers adding tags are not blocked while a flush waits for fsync.
 *
 * The mailbox writes the tag of each stored item in the same transaction as
 * the item (table replay_tags of the node store); those tags are loaded
 * here at open too, and erased with their epoch.
 */

#define REPLAY_TAG_LEN 32

struct replay_store;

enum replay_add_result {
	REPLAY_ADDED = 0,
	REPLAY_DUPLICATE = 1,
	REPLAY_BADARG = -1,
};

struct taglog_io;

/*
 * Opens (creating if missing) the node store at path and the tag files
 * next to it (PATH.tags.EPOCH), and loads every tag.  NULL with a reason in
 * err if a file is refused (see db.h, taglog.h).
 */
struct replay_store *replay_open(const char *path, char *err, size_t errlen);

/* Flushes what is pending (a failure is logged), then frees; NULL is fine. */
void replay_close(struct replay_store *rs);
#define REPLAY_CLOSE(p)          \
	do {                     \
		replay_close(p); \
		(p) = NULL;      \
	} while (0)

/* True if the tag is known for epoch (durable or pending). */
bool replay_seen(struct replay_store *rs, uint64_t epoch,
		 const uint8_t tag[REPLAY_TAG_LEN]);

/*
 * Test-and-add in one step, so two workers holding copies of one packet
 * cannot both pass.  On REPLAY_ADDED, *batch (if not NULL) receives the
 * batch number to wait for (see replay_durable).  REPLAY_BADARG for a NULL
 * tag or an epoch above INT64_MAX (SQLite integers are signed).
 */
enum replay_add_result replay_add(struct replay_store *rs, uint64_t epoch,
				  const uint8_t tag[REPLAY_TAG_LEN],
				  uint64_t *batch);

/*
 * Writes the pending batch and syncs it.  0 on success (also when nothing
 * was pending), -1 on an I/O error (logged; tags kept pending).
 */
int replay_flush(struct replay_store *rs);

/* The highest batch number known to be on disk (0 before the first flush). */
uint64_t replay_durable(struct replay_store *rs);

/* Number of tags added but not yet flushed. */
size_t replay_pending(struct replay_store *rs);

/*
 * Erases an epoch's tags from memory and disk (when its key is erased).
 * Pending tags of that epoch are dropped too.  0 or -1.
 */
int replay_erase_epoch(struct replay_store *rs, uint64_t epoch);

/* Erases every epoch below the given one (old keys at start-up). 0 or -1. */
int replay_erase_before(struct replay_store *rs, uint64_t epoch);

/* Tags held for epoch (0 if none). */
size_t replay_count(struct replay_store *rs, uint64_t epoch);

/* Tests: make the tag files' writes or syncs fail (taglog_set_io). */
void replay_set_io(struct replay_store *rs, const struct taglog_io *io);

#endif
