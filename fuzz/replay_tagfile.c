/*
 * Fuzz target: the replay store's tag file reader (store/taglog.c).  The
 * input becomes the file of epoch 7; an open either refuses it with a
 * reason or hands up exactly the whole records after a valid header, each
 * equal to the bytes at its place.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/taglog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], base[96], file[128];

static void
fz_cleanup(void)
{
	unlink(file);
	rmdir(dir);
}

struct fz_seen {
	const uint8_t *data;
	size_t size, n;
};

static void
fz_each(void *ctx, uint64_t epoch, const uint8_t *tag)
{
	struct fz_seen *s = ctx;
	size_t off = (s->n + 1) * TAGLOG_TAG_LEN;

	if (epoch != 7 || off + TAGLOG_TAG_LEN > s->size ||
	    memcmp(tag, s->data + off, TAGLOG_TAG_LEN) != 0)
		abort();
	s->n++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_seen seen = {data, size, 0};
	char err[256] = "";
	struct taglog *tl;
	FILE *f;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/bc-fuzz-tagfile-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(base, sizeof(base), "%s/node.db", dir);
		snprintf(file, sizeof(file), "%s.tags.7", base);
		atexit(fz_cleanup);
	}
	f = fopen(file, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
	tl = taglog_open(base, fz_each, &seen, err, sizeof(err));
	if (!tl) {
		if (!err[0] || seen.n != 0)
			abort();
	} else {
		if (size >= TAGLOG_TAG_LEN &&
		    seen.n != size / TAGLOG_TAG_LEN - 1)
			abort();
		taglog_close(tl);
	}
	unlink(file);
	return 0;
}
