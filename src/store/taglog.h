#ifndef BC_STORE_TAGLOG_H
#define BC_STORE_TAGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Append-only files of 32-byte replay tags, one file per packet-key epoch:
 * BASE.tags.EPOCH next to the node store BASE.  A file is a 32-byte header
 * (magic, then the epoch big-endian) followed by the tags, 32 bytes each,
 * nothing else: a batch of tags is one pwrite and one fdatasync, where a
 * SQLite transaction cost about 100 us of CPU per commit (docs/store.md).
 *
 * A write cut short by a crash leaves a partial last record: it is ignored
 * at open and overwritten by the next append.  A file whose header is wrong
 * is refused (left as it is).  Erasing an epoch unlinks its file.
 * Not internally locked: the replay store serialises every call.
 */

#define TAGLOG_TAG_LEN 32

struct taglog;

/* The two calls a flush makes, replaceable so tests can make them fail. */
struct taglog_io {
	ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
	int (*sync)(int fd);
};

/* Called for every tag found at open. */
typedef void (*taglog_each_fn)(void *ctx, uint64_t epoch,
			       const uint8_t tag[TAGLOG_TAG_LEN]);

/*
 * Opens every BASE.tags.EPOCH file and passes each tag to each(ctx, ...).
 * NULL with a one-line reason in err for a file that cannot be read or has
 * a wrong header.
 */
struct taglog *taglog_open(const char *base, taglog_each_fn each, void *ctx,
			   char *err, size_t errlen);

/* Closes the files (nothing is pending: appends are synced); NULL is fine. */
void taglog_close(struct taglog *tl);

/*
 * Appends n tags to epoch's file (created on first use, mode 0600, its
 * directory synced) and fdatasyncs it.  0 once they are on disk; -1 on an
 * error (logged), the file's logical end unchanged so that a retry
 * overwrites whatever part was written.
 */
int taglog_append(struct taglog *tl, uint64_t epoch, const uint8_t *tags,
		  size_t n);

/* Unlinks the file of epoch (or of every epoch below it). 0 or -1. */
int taglog_erase(struct taglog *tl, uint64_t epoch, bool before);

/* Tests: replace pwrite and fdatasync (NULL restores the real ones). */
void taglog_set_io(struct taglog *tl, const struct taglog_io *io);

#endif
