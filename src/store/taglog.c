#include "store/taglog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/bytes.h"
#include "lib/log.h"

#include "store/db.h"

/* 24 bytes of magic (NUL-padded), then the epoch: one record wide. */
static const char TAGLOG_MAGIC[24] = "backchannel replay tags";

struct taglog_file {
	uint64_t epoch;
	int fd;
	off_t end; /* logical end: after the last whole record on disk */
};

struct taglog {
	char *dir;  /* directory of BASE, for listing and syncing */
	char *name; /* file name of BASE */
	struct taglog_file *files;
	size_t nfiles;
	struct taglog_io io;
};

static int
sys_sync(int fd)
{
	return fdatasync(fd);
}

static char *
tl_path(const struct taglog *tl, uint64_t epoch)
{
	size_t n = strlen(tl->dir) + strlen(tl->name) + 32;
	char *p = bc_malloc(n);
	snprintf(p, n, "%s/%s.tags.%llu", tl->dir, tl->name,
		 (unsigned long long)epoch);
	return p;
}

/* The epoch of a directory entry named NAME.tags.DIGITS; false if not. */
static bool
tl_entry_epoch(const struct taglog *tl, const char *ent, uint64_t *epoch)
{
	size_t n = strlen(tl->name);
	const char *d = ent + n + 6;
	char *end;

	if (strncmp(ent, tl->name, n) != 0 || strncmp(ent + n, ".tags.", 6))
		return false;
	if (*d < '0' || *d > '9' || strlen(d) > 19)
		return false;
	errno = 0;
	unsigned long long v = strtoull(d, &end, 10);
	if (errno || *end || v > (unsigned long long)INT64_MAX)
		return false;
	*epoch = v;
	return true;
}

static int
tl_sync_dir(const struct taglog *tl)
{
	int fd = open(tl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd >= 0 ? fsync(fd) : -1;

	if (fd >= 0)
		close(fd);
	return rc;
}

static struct taglog_file *
tl_find(struct taglog *tl, uint64_t epoch)
{
	for (size_t i = 0; i < tl->nfiles; i++)
		if (tl->files[i].epoch == epoch)
			return &tl->files[i];
	return NULL;
}

static struct taglog_file *
tl_add(struct taglog *tl, uint64_t epoch, int fd, off_t end)
{
	struct taglog_file *f;

	tl->files = bc_realloc(tl->files, (tl->nfiles + 1) * sizeof(*f));
	f = &tl->files[tl->nfiles++];
	f->epoch = epoch;
	f->fd = fd;
	f->end = end;
	return f;
}

/* Reads one file's tags; its header must name the epoch of its name. */
static int
tl_load(struct taglog *tl, uint64_t epoch, taglog_each_fn each, void *ctx,
	char *err, size_t errlen)
{
	char *path = tl_path(tl, epoch);
	uint8_t buf[TAGLOG_TAG_LEN * 256];
	off_t end = 0;
	size_t have = 0;
	ssize_t n;
	int rc = -1;
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		db_seterr(err, errlen, "%s: cannot open (%s)", path,
			  strerror(errno));
		goto out;
	}
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0 ||
	       (n < 0 && errno == EINTR)) {
		size_t whole, off = 0;

		if (n < 0)
			continue;
		have += (size_t)n;
		whole = have - have % TAGLOG_TAG_LEN;
		if (end == 0 && whole > 0) {
			if (memcmp(buf, TAGLOG_MAGIC, sizeof(TAGLOG_MAGIC)) ||
			    be64_get(buf + 24) != epoch) {
				db_seterr(err, errlen,
					  "%s: not a replay tag file of its "
					  "epoch: refusing to start, file "
					  "left as it is",
					  path);
				goto out;
			}
			off = TAGLOG_TAG_LEN;
		}
		for (; off < whole; off += TAGLOG_TAG_LEN)
			each(ctx, epoch, buf + off);
		end += (off_t)whole;
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	if (n < 0) {
		db_seterr(err, errlen, "%s: cannot read (%s)", path,
			  strerror(errno));
		goto out;
	}
	if (end == 0) {
		/* Created, then cut before its header was whole: nothing in
		 * it was ever synced as a tag. */
		log_notice("replay: %s has no header; starting it again", path);
	} else if (have) {
		log_notice("replay: %s ends in a partial record (a write cut "
			   "short); it will be overwritten",
			   path);
	}
	tl_add(tl, epoch, fd, end);
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

struct taglog *
taglog_open(const char *base, taglog_each_fn each, void *ctx, char *err,
	    size_t errlen)
{
	struct taglog *tl = bc_calloc(1, sizeof(*tl));
	const char *slash = strrchr(base, '/');
	struct dirent *de;
	uint64_t epoch;
	DIR *d;

	if (!slash) {
		tl->dir = bc_strdup(".");
	} else if (slash == base) {
		tl->dir = bc_strdup("/");
	} else {
		tl->dir = bc_memdup(base, (size_t)(slash - base) + 1);
		tl->dir[slash - base] = '\0';
	}
	tl->name = bc_strdup(slash ? slash + 1 : base);
	taglog_set_io(tl, NULL);
	d = opendir(tl->dir);
	if (!d) {
		db_seterr(err, errlen, "%s: cannot list (%s)", tl->dir,
			  strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (!tl_entry_epoch(tl, de->d_name, &epoch))
			continue;
		if (tl_load(tl, epoch, each, ctx, err, errlen) != 0) {
			closedir(d);
			goto fail;
		}
	}
	closedir(d);
	return tl;
fail:
	taglog_close(tl);
	return NULL;
}

void
taglog_close(struct taglog *tl)
{
	if (!tl)
		return;
	for (size_t i = 0; i < tl->nfiles; i++)
		close(tl->files[i].fd);
	free(tl->files);
	free(tl->dir);
	free(tl->name);
	free(tl);
}

/* Writes all of buf at off; 0 or -1 (errno set). */
static int
tl_write(struct taglog *tl, int fd, const uint8_t *buf, size_t n, off_t off)
{
	while (n > 0) {
		ssize_t w = tl->io.pwrite(fd, buf, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* The file of epoch, created with its header (synced) if missing. */
static struct taglog_file *
tl_get(struct taglog *tl, uint64_t epoch)
{
	struct taglog_file *f = tl_find(tl, epoch);
	uint8_t hdr[TAGLOG_TAG_LEN];
	char *path;
	int fd;

	if (f) {
		if (f->end > 0)
			return f;
		fd = f->fd; /* headerless after a crash: write it again */
		path = NULL;
	} else {
		path = tl_path(tl, epoch);
		fd =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			log_warn("replay: cannot create %s: %s", path,
				 strerror(errno));
			free(path);
			return NULL;
		}
		free(path);
		f = tl_add(tl, epoch, fd, 0);
	}
	memcpy(hdr, TAGLOG_MAGIC, sizeof(TAGLOG_MAGIC));
	be64_put(hdr + 24, epoch);
	if (tl_write(tl, fd, hdr, sizeof(hdr), 0) != 0 ||
	    tl->io.sync(fd) != 0 || tl_sync_dir(tl) != 0) {
		log_warn("replay: cannot start the tag file of epoch %llu: %s",
			 (unsigned long long)epoch, strerror(errno));
		return NULL;
	}
	f->end = TAGLOG_TAG_LEN;
	return f;
}

int
taglog_append(struct taglog *tl, uint64_t epoch, const uint8_t *tags, size_t n)
{
	struct taglog_file *f;

	if (!tl || (n && !tags) || epoch > (uint64_t)INT64_MAX)
		return -1;
	if (n == 0)
		return 0;
	f = tl_get(tl, epoch);
	if (!f)
		return -1;
	if (tl_write(tl, f->fd, tags, n * TAGLOG_TAG_LEN, f->end) != 0 ||
	    tl->io.sync(f->fd) != 0) {
		log_warn("replay: cannot write tags of epoch %llu: %s",
			 (unsigned long long)epoch, strerror(errno));
		return -1;
	}
	f->end += (off_t)(n * TAGLOG_TAG_LEN);
	return 0;
}

int
taglog_erase(struct taglog *tl, uint64_t epoch, bool before)
{
	size_t j = 0;
	int rc = 0;

	if (!tl)
		return -1;
	for (size_t i = 0; i < tl->nfiles; i++) {
		struct taglog_file *f = &tl->files[i];
		char *path;

		if (before ? f->epoch >= epoch : f->epoch != epoch) {
			tl->files[j++] = *f;
			continue;
		}
		path = tl_path(tl, f->epoch);
		close(f->fd);
		if (unlink(path) != 0 && errno != ENOENT) {
			log_warn("replay: cannot erase %s: %s", path,
				 strerror(errno));
			rc = -1;
		}
		free(path);
	}
	if (j != tl->nfiles) {
		tl->nfiles = j;
		if (tl_sync_dir(tl) != 0)
			rc = -1;
	}
	return rc;
}

void
taglog_set_io(struct taglog *tl, const struct taglog_io *io)
{
	if (!tl)
		return;
	tl->io.pwrite = io && io->pwrite ? io->pwrite : pwrite;
	tl->io.sync = io && io->sync ? io->sync : sys_sync;
}
