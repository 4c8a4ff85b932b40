/*
 * Packet-key schedule: see keysched.h. Files are the durable copy (a
 * restarted node must publish the same keys it published before); memory is
 * the working copy. Erasure overwrites the file before unlinking it: not a
 * guarantee on flash or copy-on-write storage, but it costs nothing.
 */
#include "dir/keysched.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/keyfile.h"
#include "lib/log.h"

#include "crypto/x25519.h"

uint64_t
dir_epoch_at(uint64_t genesis, uint32_t len, int64_t now_s)
{
	if (len == 0 || now_s < 0 || (uint64_t)now_s < genesis)
		return 0;
	return ((uint64_t)now_s - genesis) / len;
}

int64_t
dir_epoch_start(uint64_t genesis, uint32_t len, uint64_t epoch)
{
	return (int64_t)(genesis + epoch * len);
}

static void
key_path(const struct keysched *ks, uint64_t epoch, char *out, size_t cap)
{
	snprintf(out, cap, "%s/packet-%llu.key", ks->dir,
		 (unsigned long long)epoch);
}

int
keysched_open(struct keysched *ks, const char *dir, uint64_t genesis,
	      uint32_t epoch_len, uint32_t grace, char *err, size_t errlen)
{
	memset(ks, 0, sizeof(*ks));
	if (epoch_len == 0 || strlen(dir) > 200) {
		snprintf(err, errlen, "keysched: bad epoch length or path");
		return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "keysched: cannot create %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	ks->dir = bc_strdup(dir);
	ks->genesis = genesis;
	ks->epoch_len = epoch_len;
	ks->grace = grace;
	return 0;
}

static void
slot_clear(struct keysched_key *k)
{
	if (k->priv != NULL)
		secret32_wipe(k->priv);
	SECRET_FREE(k->priv);
	memset(k, 0, sizeof(*k));
}

static void
file_erase(const struct keysched *ks, uint64_t epoch)
{
	char path[256];
	struct stat st;

	key_path(ks, epoch, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && st.st_size > 0 &&
		    st.st_size < 4096) {
			static const char zeros[4096];
			if (write(fd, zeros, (size_t)st.st_size) < 0)
				log_warn("keysched: overwrite of %s failed",
					 path);
			fsync(fd);
		}
		close(fd);
	}
	if (unlink(path) == 0)
		log_info("keysched: erased packet key of epoch %llu",
			 (unsigned long long)epoch);
}

/* Loads the key of epoch from its file, or makes and stores a new one. */
static int
slot_load(struct keysched *ks, struct keysched_key *k, uint64_t epoch,
	  char *err, size_t errlen)
{
	char path[256];

	key_path(ks, epoch, path, sizeof(path));
	k->priv = secret32_new();
	k->epoch = epoch;
	if (access(path, F_OK) == 0) {
		if (keyfile_read_private(path, "x25519", k->priv->b, 32, err,
					 errlen) < 0)
			goto fail;
		x25519_base(k->pub, k->priv->b);
	} else {
		x25519_keypair(k->pub, k->priv->b);
		if (keyfile_write_private(path, "x25519", k->priv->b, 32, err,
					  errlen) < 0)
			goto fail;
		log_info("keysched: new packet key for epoch %llu",
			 (unsigned long long)epoch);
	}
	k->used = true;
	return 0;
fail:
	slot_clear(k);
	return -1;
}

const struct keysched_key *
keysched_get(const struct keysched *ks, uint64_t epoch)
{
	for (int i = 0; i < KEYSCHED_SLOTS; i++)
		if (ks->keys[i].used && ks->keys[i].epoch == epoch)
			return &ks->keys[i];
	return NULL;
}

static bool
wanted(const struct keysched *ks, uint64_t epoch, uint64_t cur, int64_t now)
{
	if (epoch >= cur && epoch <= cur + KEYSCHED_AHEAD)
		return true;
	return cur > 0 && epoch == cur - 1 &&
	       now <
		   dir_epoch_start(ks->genesis, ks->epoch_len, cur) + ks->grace;
}

/* Keys left on disk by a node that was down past their time. */
static void
erase_stale_files(const struct keysched *ks, uint64_t cur, int64_t now)
{
	DIR *d = opendir(ks->dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		unsigned long long e;
		char tail[8];
		if (sscanf(de->d_name, "packet-%llu.%7s", &e, tail) != 2 ||
		    strcmp(tail, "key") != 0)
			continue;
		if (!wanted(ks, e, cur, now))
			file_erase(ks, e);
	}
	closedir(d);
}

int
keysched_update(struct keysched *ks, int64_t now_s, char *err, size_t errlen)
{
	uint64_t cur = dir_epoch_at(ks->genesis, ks->epoch_len, now_s);

	for (int i = 0; i < KEYSCHED_SLOTS; i++) {
		struct keysched_key *k = &ks->keys[i];
		if (k->used && !wanted(ks, k->epoch, cur, now_s)) {
			uint64_t e = k->epoch;
			slot_clear(k);
			file_erase(ks, e);
		}
	}
	erase_stale_files(ks, cur, now_s);
	for (uint64_t e = cur; e <= cur + KEYSCHED_AHEAD; e++) {
		if (keysched_get(ks, e) != NULL)
			continue;
		struct keysched_key *free_slot = NULL;
		for (int i = 0; i < KEYSCHED_SLOTS && free_slot == NULL; i++)
			if (!ks->keys[i].used)
				free_slot = &ks->keys[i];
		if (free_slot == NULL) {
			snprintf(err, errlen, "keysched: no free key slot");
			return -1;
		}
		if (slot_load(ks, free_slot, e, err, errlen) < 0)
			return -1;
	}
	return 0;
}

void
keysched_close(struct keysched *ks)
{
	if (ks == NULL)
		return;
	for (int i = 0; i < KEYSCHED_SLOTS; i++)
		slot_clear(&ks->keys[i]);
	BC_FREE(ks->dir);
}
