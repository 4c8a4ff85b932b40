/*
 * Disk faults injected in software (there is no device-mapper here): a
 * SQLite VFS that forwards to the default one and fails xSync or xWrite on
 * demand, registered as the default so the stores use it unchanged; and
 * the same faults for the replay store's tag files (replay_set_io).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/mailbox.h"
#include "store/replay.h"
#include "store/taglog.h"

#define ITEM 48

struct fault_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct in the same allocation */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static int fail_sync, fail_write, short_write;

#define REAL(f) (((struct fault_file *)(f))->real)

static int
f_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int
f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int
f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	if (fail_write)
		return SQLITE_IOERR_WRITE;
	return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}

static int
f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int
f_sync(sqlite3_file *f, int flags)
{
	if (fail_sync)
		return SQLITE_IOERR_FSYNC;
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int
f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int
f_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int
f_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int
f_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int
f_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int
f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int
f_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int
f_shmmap(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int
f_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void
f_shmbarrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int
f_shmunmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int
f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int
f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods fault_methods = {
    3,         f_close,  f_read,    f_write,      f_truncate, f_sync,
    f_size,    f_lock,   f_unlock,  f_reserved,   f_fcntl,    f_sector,
    f_devchar, f_shmmap, f_shmlock, f_shmbarrier, f_shmunmap, f_fetch,
    f_unfetch,
};

static int
f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct fault_file *ff = (struct fault_file *)f;
	int rc;

	(void)vfs;
	ff->real = (sqlite3_file *)(ff + 1);
	rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out);
	ff->base.pMethods = rc == SQLITE_OK ? &fault_methods : NULL;
	return rc;
}

static void
setup_vfs(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	cr_assert_not_null(real_vfs);
	fault_vfs = *real_vfs;
	fault_vfs.zName = "fault";
	fault_vfs.szOsFile =
	    (int)sizeof(struct fault_file) + real_vfs->szOsFile;
	fault_vfs.xOpen = f_open;
	cr_assert_eq(sqlite3_vfs_register(&fault_vfs, 1), SQLITE_OK);
	fail_sync = fail_write = 0;
}

static char dir[64];
static char path[128];

static void
setup(void)
{
	setup_vfs();
	strncpy(dir, "/tmp/bc-store-faults-XXXXXX", sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/node.db", dir);
}

static void
teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store_faults, .init = setup, .fini = teardown);

static void
tag_n(uint8_t t[32], uint8_t n)
{
	memset(t, 0x33, 32);
	t[0] = n;
}

/* The tag files' I/O, failing as the flags say; a short write writes 13
 * bytes, then the disk fails. */
static ssize_t
t_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (short_write == 1 && n > 13) {
		short_write = 2;
		return pwrite(fd, buf, 13, off);
	}
	if (fail_write || short_write == 2) {
		errno = EIO;
		return -1;
	}
	return pwrite(fd, buf, n, off);
}

static int
t_sync(int fd)
{
	if (fail_sync) {
		errno = EIO;
		return -1;
	}
	return fdatasync(fd);
}

static const struct taglog_io fault_io = {t_pwrite, t_sync};

Test(store_faults, failed_flush_keeps_tags_pending)
{
	char err[256];
	struct replay_store *rs = replay_open(path, err, sizeof(err));
	uint8_t a[32], b[32], z[32];
	uint64_t ba, bb;

	cr_assert_not_null(rs, "%s", err);
	replay_set_io(rs, &fault_io);
	tag_n(a, 1);
	tag_n(b, 2);
	tag_n(z, 3);
	/* The epoch's file exists: the faults below hit an append. */
	cr_assert_eq(replay_add(rs, 1, z, NULL), REPLAY_ADDED);
	cr_assert_eq(replay_flush(rs), 0);
	cr_assert_eq(replay_add(rs, 1, a, &ba), REPLAY_ADDED);
	fail_sync = 1;
	cr_assert_eq(replay_flush(rs), -1, "an fsync failure must show");
	cr_assert_lt(replay_durable(rs), ba, "durable moved past a failure");
	cr_assert_eq(replay_pending(rs), 1, "the tag must stay pending");
	cr_assert(replay_seen(rs, 1, a), "and still be rejected");
	fail_sync = 0;
	fail_write = 1;
	cr_assert_eq(replay_flush(rs), -1, "a write failure must show");
	cr_assert_lt(replay_durable(rs), ba);
	fail_write = 0;
	short_write = 1;
	cr_assert_eq(replay_flush(rs), -1, "a short write must show");
	cr_assert_lt(replay_durable(rs), ba);
	short_write = 0;
	cr_assert_eq(replay_add(rs, 1, b, &bb), REPLAY_ADDED);
	cr_assert_eq(replay_pending(rs), 2);
	cr_assert_eq(replay_flush(rs), 0);
	cr_assert_geq(replay_durable(rs), ba);
	cr_assert_geq(replay_durable(rs), bb);
	cr_assert_eq(replay_pending(rs), 0);
	replay_close(rs);
	rs = replay_open(path, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	cr_assert(replay_seen(rs, 1, a), "retried tag is on disk");
	cr_assert(replay_seen(rs, 1, b));
	cr_assert(replay_seen(rs, 1, z));
	cr_assert_eq(replay_count(rs, 1), 3, "no torn record read as a tag");
	replay_close(rs);
}

Test(store_faults, failed_delivery_is_not_acknowledged)
{
	char err[256];
	struct mailbox_config c;
	struct mailbox *mb;
	struct mailbox_counters k;
	struct mailbox_item it[4];
	uint8_t key[32], q[32], t[32], blob[ITEM], out[4 * ITEM];
	size_t n;

	mailbox_config_defaults(&c);
	c.item_size = ITEM;
	memset(key, 0x4b, 32);
	memset(q, 0x51, 32);
	memset(blob, 0xb1, ITEM);
	tag_n(t, 7);
	mb = mailbox_open(path, &c, err, sizeof(err));
	cr_assert_not_null(mb, "%s", err);
	cr_assert_eq(mailbox_register(mb, key, NULL), MAILBOX_OK);
	cr_assert_eq(mailbox_queue_create(mb, key, q), MAILBOX_OK);
	fail_sync = 1;
	cr_assert_eq(mailbox_deliver(mb, q, blob, ITEM, 1, t), MAILBOX_ERROR);
	fail_sync = 0;
	fail_write = 1;
	cr_assert_eq(mailbox_deliver(mb, q, blob, ITEM, 1, t), MAILBOX_ERROR);
	fail_write = 0;
	cr_assert_eq(mailbox_fetch(mb, key, it, 4, out, sizeof(out), &n),
		     MAILBOX_OK);
	cr_assert_eq(n, 0, "a failed delivery is not visible");
	/* The sender's retransmission (same packet) is then stored once. */
	cr_assert_eq(mailbox_deliver(mb, q, blob, ITEM, 1, t), MAILBOX_OK);
	cr_assert_eq(mailbox_counters(mb, &k), MAILBOX_OK);
	cr_assert_geq(k.errors, 2);
	cr_assert_eq(k.delivered, 1);
	mailbox_close(mb);
	mb = mailbox_open(path, &c, err, sizeof(err));
	cr_assert_not_null(mb, "%s", err);
	cr_assert_eq(mailbox_fetch(mb, key, it, 4, out, sizeof(out), &n),
		     MAILBOX_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(memcmp(it[0].blob, blob, ITEM), 0);
	mailbox_close(mb);
}

Test(store_faults, open_fails_cleanly_on_a_failing_disk)
{
	char err[256] = "";

	fail_write = 1;
	cr_assert_null(replay_open(path, err, sizeof(err)));
	cr_assert_neq(err[0], '\0', "a reason is given");
	cr_log_info("refused: %s", err);
	fail_write = 0;
	/* Nothing half-made is left that a later start would refuse. */
	{
		struct replay_store *rs = replay_open(path, err, sizeof(err));

		cr_assert_not_null(rs, "%s", err);
		replay_close(rs);
	}
}
