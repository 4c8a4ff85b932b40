#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/replay.h"

static char dir[64];
static char path[128];

static void
setup(void)
{
	strncpy(dir, "/tmp/bc-store-replay-XXXXXX", sizeof(dir));
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

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Deterministic distinct tags: tag number n of stream seed. */
static void
make_tag(uint8_t tag[REPLAY_TAG_LEN], uint64_t seed, uint64_t n)
{
	uint64_t s = seed * 1000003u + n;

	for (int i = 0; i < REPLAY_TAG_LEN; i += 8) {
		uint64_t v = splitmix(&s);

		memcpy(tag + i, &v, 8);
	}
}

static struct replay_store *
open_rs(void)
{
	char err[256];
	struct replay_store *rs = replay_open(path, err, sizeof(err));

	cr_assert_not_null(rs, "replay_open: %s", err);
	return rs;
}

TestSuite(store_replay, .init = setup, .fini = teardown);

Test(store_replay, add_detects_duplicates_and_numbers_batches)
{
	struct replay_store *rs = open_rs();
	uint8_t a[REPLAY_TAG_LEN], b[REPLAY_TAG_LEN];
	uint64_t ba = 0, bb = 0;

	make_tag(a, 1, 1);
	make_tag(b, 1, 2);
	cr_assert_not(replay_seen(rs, 7, a));
	cr_assert_eq(replay_add(rs, 7, a, &ba), REPLAY_ADDED);
	cr_assert(replay_seen(rs, 7, a));
	cr_assert_not(replay_seen(rs, 8, a), "epochs are separate");
	cr_assert_eq(replay_add(rs, 7, a, NULL), REPLAY_DUPLICATE);
	cr_assert_eq(replay_pending(rs), 1);
	cr_assert_eq(replay_durable(rs), 0);
	cr_assert_lt(replay_durable(rs), ba, "not durable before a flush");
	cr_assert_eq(replay_flush(rs), 0);
	cr_assert_geq(replay_durable(rs), ba);
	cr_assert_eq(replay_pending(rs), 0);
	cr_assert_eq(replay_add(rs, 7, a, NULL), REPLAY_DUPLICATE,
		     "still a duplicate once durable");
	cr_assert_eq(replay_add(rs, 7, b, &bb), REPLAY_ADDED);
	cr_assert_gt(bb, ba, "later batch");
	cr_assert_lt(replay_durable(rs), bb);
	cr_assert_eq(replay_flush(rs), 0);
	cr_assert_geq(replay_durable(rs), bb);
	/* An empty flush changes nothing. */
	cr_assert_eq(replay_flush(rs), 0);
	cr_assert_eq(replay_durable(rs), bb);
	cr_assert_eq(replay_count(rs, 7), 2);
	replay_close(rs);
}

Test(store_replay, flushed_tags_survive_reopen)
{
	struct replay_store *rs = open_rs();
	uint8_t t[REPLAY_TAG_LEN];

	for (uint64_t i = 0; i < 50; i++) {
		make_tag(t, 2, i);
		cr_assert_eq(replay_add(rs, 3 + i % 2, t, NULL), REPLAY_ADDED);
	}
	cr_assert_eq(replay_flush(rs), 0);
	replay_close(rs);
	rs = open_rs();
	for (uint64_t i = 0; i < 50; i++) {
		make_tag(t, 2, i);
		cr_assert(replay_seen(rs, 3 + i % 2, t), "tag %lu lost", i);
		cr_assert_not(replay_seen(rs, 4 - i % 2, t));
		cr_assert_eq(replay_add(rs, 3 + i % 2, t, NULL),
			     REPLAY_DUPLICATE);
	}
	make_tag(t, 2, 50);
	cr_assert_not(replay_seen(rs, 3, t));
	cr_assert_eq(replay_count(rs, 3), 25);
	cr_assert_eq(replay_count(rs, 4), 25);
	replay_close(rs);
}

Test(store_replay, close_flushes_pending)
{
	struct replay_store *rs = open_rs();
	uint8_t t[REPLAY_TAG_LEN];

	make_tag(t, 3, 0);
	cr_assert_eq(replay_add(rs, 1, t, NULL), REPLAY_ADDED);
	replay_close(rs);
	rs = open_rs();
	cr_assert(replay_seen(rs, 1, t));
	replay_close(rs);
}

/*
 * The child adds and flushes tags, tells the parent after each flush
 * returned, and goes on adding; the parent kills it with SIGKILL at once.
 * Every tag reported as flushed must be in the reopened store.
 */
Test(store_replay, flushed_tags_survive_sigkill)
{
	int fds[2];
	pid_t pid;
	uint64_t flushed = 0, n;
	struct replay_store *rs;
	uint8_t t[REPLAY_TAG_LEN];

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		rs = replay_open(path, NULL, 0);
		if (!rs)
			_exit(1);
		for (uint64_t i = 0;; i++) {
			make_tag(t, 4, i);
			replay_add(rs, 9, t, NULL);
			if (i % 10 == 9) {
				if (replay_flush(rs) != 0)
					_exit(1);
				n = i + 1;
				if (write(fds[1], &n, sizeof(n)) != sizeof(n))
					_exit(1);
			}
		}
	}
	close(fds[1]);
	while (flushed < 300 &&
	       read(fds[0], &n, sizeof(n)) == (ssize_t)sizeof(n))
		flushed = n;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fds[0]);
	cr_assert_geq(flushed, 300, "child stopped early");
	rs = open_rs();
	for (uint64_t i = 0; i < flushed; i++) {
		make_tag(t, 4, i);
		cr_assert(replay_seen(rs, 9, t), "flushed tag %lu lost", i);
	}
	cr_assert_geq(replay_count(rs, 9), flushed);
	replay_close(rs);
}

Test(store_replay, erase_epoch_memory_disk_and_pending)
{
	struct replay_store *rs = open_rs();
	uint8_t a[REPLAY_TAG_LEN], b[REPLAY_TAG_LEN], c[REPLAY_TAG_LEN];

	make_tag(a, 5, 0);
	make_tag(b, 5, 1);
	make_tag(c, 5, 2);
	cr_assert_eq(replay_add(rs, 1, a, NULL), REPLAY_ADDED);
	cr_assert_eq(replay_add(rs, 2, b, NULL), REPLAY_ADDED);
	cr_assert_eq(replay_flush(rs), 0);
	cr_assert_eq(replay_add(rs, 1, c, NULL), REPLAY_ADDED);
	cr_assert_eq(replay_erase_epoch(rs, 1), 0);
	cr_assert_not(replay_seen(rs, 1, a));
	cr_assert_not(replay_seen(rs, 1, c));
	cr_assert(replay_seen(rs, 2, b));
	cr_assert_eq(replay_pending(rs), 0, "pending tag of epoch 1 dropped");
	cr_assert_eq(replay_count(rs, 1), 0);
	replay_close(rs);
	rs = open_rs();
	cr_assert_not(replay_seen(rs, 1, a), "erased tag came back");
	cr_assert_not(replay_seen(rs, 1, c));
	cr_assert(replay_seen(rs, 2, b));
	replay_close(rs);
}

Test(store_replay, erase_before)
{
	struct replay_store *rs = open_rs();
	uint8_t t[REPLAY_TAG_LEN];

	for (uint64_t e = 10; e < 15; e++) {
		make_tag(t, 6, e);
		cr_assert_eq(replay_add(rs, e, t, NULL), REPLAY_ADDED);
	}
	cr_assert_eq(replay_flush(rs), 0);
	cr_assert_eq(replay_erase_before(rs, 13), 0);
	replay_close(rs);
	rs = open_rs();
	for (uint64_t e = 10; e < 15; e++) {
		make_tag(t, 6, e);
		cr_assert_eq(replay_seen(rs, e, t), e >= 13, "epoch %lu", e);
	}
	replay_close(rs);
}

Test(store_replay, zero_tag_and_bad_arguments)
{
	struct replay_store *rs = open_rs();
	uint8_t zero[REPLAY_TAG_LEN] = {0};
	char err[128];

	cr_assert_not(replay_seen(rs, 1, zero));
	cr_assert_eq(replay_add(rs, 1, zero, NULL), REPLAY_ADDED);
	cr_assert(replay_seen(rs, 1, zero));
	cr_assert_eq(replay_add(rs, 1, zero, NULL), REPLAY_DUPLICATE);
	cr_assert_eq(replay_count(rs, 1), 1);
	cr_assert_eq(replay_add(rs, 1, NULL, NULL), REPLAY_BADARG);
	cr_assert_eq(replay_add(NULL, 1, zero, NULL), REPLAY_BADARG);
	cr_assert_eq(replay_add(rs, (uint64_t)INT64_MAX + 1, zero, NULL),
		     REPLAY_BADARG);
	cr_assert_not(replay_seen(rs, 1, NULL));
	cr_assert_eq(replay_erase_epoch(rs, UINT64_MAX), -1);
	cr_assert_eq(replay_flush(NULL), -1);
	cr_assert_eq(replay_flush(rs), 0);
	replay_close(rs);
	rs = open_rs();
	cr_assert(replay_seen(rs, 1, zero), "zero tag persisted");
	replay_close(rs);
	cr_assert_null(replay_open(dir, err, sizeof(err)));
	replay_close(NULL);
}

struct race {
	struct replay_store *rs;
	int added;
};

static void *
race_worker(void *arg)
{
	struct race *r = arg;
	uint8_t t[REPLAY_TAG_LEN];

	for (uint64_t i = 0; i < 5000; i++) {
		make_tag(t, 7, i);
		if (replay_add(r->rs, 1, t, NULL) == REPLAY_ADDED)
			r->added++;
		if (i % 500 == 0)
			replay_flush(r->rs);
	}
	return NULL;
}

/* Four workers add the same 5,000 tags: each is added exactly once. */
Test(store_replay, concurrent_workers_add_each_tag_once)
{
	struct race r[4];
	pthread_t th[4];
	struct replay_store *rs = open_rs();
	int total = 0;

	for (int i = 0; i < 4; i++) {
		r[i].rs = rs;
		r[i].added = 0;
		cr_assert_eq(pthread_create(&th[i], NULL, race_worker, &r[i]),
			     0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += r[i].added;
	}
	cr_assert_eq(total, 5000);
	cr_assert_eq(replay_count(rs, 1), 5000);
	cr_assert_eq(replay_flush(rs), 0);
	replay_close(rs);
	rs = open_rs();
	cr_assert_eq(replay_count(rs, 1), 5000);
	replay_close(rs);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(store_replay, hundred_thousand_tags)
{
	struct replay_store *rs = open_rs();
	uint8_t t[REPLAY_TAG_LEN];
	const uint64_t n = 100000;
	double t0, t1, t2, t3, t4;
	uint64_t added = 0, hits = 0, misses = 0;

	/* Counted in the loops, asserted after: the timing is the store's. */
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		make_tag(t, 8, i);
		added += replay_add(rs, 5, t, NULL) == REPLAY_ADDED;
	}
	t1 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		make_tag(t, 8, i);
		hits += replay_seen(rs, 5, t);
		make_tag(t, 9, i);
		misses += !replay_seen(rs, 5, t);
	}
	t2 = now_s();
	cr_assert_eq(added, n);
	cr_assert_eq(hits, n);
	cr_assert_eq(misses, n);
	cr_assert_eq(replay_flush(rs), 0);
	t3 = now_s();
	replay_close(rs);
	rs = open_rs();
	t4 = now_s();
	cr_assert_eq(replay_count(rs, 5), n);
	for (uint64_t i = 0; i < n; i += 997) {
		make_tag(t, 8, i);
		cr_assert(replay_seen(rs, 5, t));
	}
	cr_log_info(
	    "replay: %lu tags (CPU time): add %.0f ns/tag, lookup (hit+miss) "
	    "%.0f ns/pair, flush %.3f s, reopen+load %.3f s",
	    n, (t1 - t0) * 1e9 / (double)n, (t2 - t1) * 1e9 / (double)n,
	    t3 - t2, t4 - t3);
	replay_close(rs);
}

/* The path of epoch's tag file (store/taglog.h). */
static void
tag_file(char *out, size_t cap, uint64_t epoch)
{
	snprintf(out, cap, "%s.tags.%llu", path, (unsigned long long)epoch);
}

static void
append_bytes(const char *file, const void *p, size_t n)
{
	FILE *f = fopen(file, "ab");

	cr_assert_not_null(f, "%s", file);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

Test(store_replay, torn_record_is_ignored_then_overwritten)
{
	struct replay_store *rs = open_rs();
	uint8_t t[3][REPLAY_TAG_LEN], junk[13];
	char file[200];
	struct stat st;

	for (int i = 0; i < 3; i++)
		make_tag(t[i], 9, (uint64_t)i);
	cr_assert_eq(replay_add(rs, 4, t[0], NULL), REPLAY_ADDED);
	cr_assert_eq(replay_flush(rs), 0);
	replay_close(rs);
	/* A crash in the middle of a write: 13 bytes of the next record. */
	tag_file(file, sizeof(file), 4);
	memcpy(junk, t[1], sizeof(junk));
	append_bytes(file, junk, sizeof(junk));
	rs = open_rs();
	cr_assert_eq(replay_count(rs, 4), 1, "a partial record is no tag");
	cr_assert(replay_seen(rs, 4, t[0]));
	cr_assert_eq(replay_add(rs, 4, t[2], NULL), REPLAY_ADDED);
	cr_assert_eq(replay_flush(rs), 0);
	replay_close(rs);
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_size, 3 * REPLAY_TAG_LEN, "the torn bytes are "
		     "overwritten: header and two tags");
	rs = open_rs();
	cr_assert_eq(replay_count(rs, 4), 2);
	cr_assert(replay_seen(rs, 4, t[2]));
	replay_close(rs);
}

Test(store_replay, foreign_tag_file_is_refused_and_left_alone)
{
	struct replay_store *rs = open_rs();
	uint8_t t[REPLAY_TAG_LEN], junk[64];
	char file[200], err[256] = "";
	struct stat st;

	make_tag(t, 10, 1);
	cr_assert_eq(replay_add(rs, 5, t, NULL), REPLAY_ADDED);
	cr_assert_eq(replay_flush(rs), 0);
	replay_close(rs);
	/* A file of another epoch's name: its header names epoch 5. */
	tag_file(file, sizeof(file), 6);
	{
		char src[200], cmd[450];

		tag_file(src, sizeof(src), 5);
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, file);
		cr_assert_eq(system(cmd), 0);
	}
	cr_assert_null(replay_open(path, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "tags.6"), "names the file: %s", err);
	cr_log_info("refused: %s", err);
	unlink(file);
	/* Garbage where a header belongs. */
	memset(junk, 0x5a, sizeof(junk));
	append_bytes(file, junk, sizeof(junk));
	cr_assert_null(replay_open(path, err, sizeof(err)));
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_size, (off_t)sizeof(junk), "left as it is");
	unlink(file);
	/* Names that are not NAME.tags.DIGITS are not ours. */
	tag_file(file, sizeof(file), 7);
	strncat(file, "x", sizeof(file) - strlen(file) - 1);
	append_bytes(file, junk, sizeof(junk));
	rs = open_rs();
	cr_assert(replay_seen(rs, 5, t));
	replay_close(rs);
}

Test(store_replay, erase_unlinks_the_tag_file)
{
	struct replay_store *rs = open_rs();
	uint8_t t[REPLAY_TAG_LEN];
	char f4[200], f5[200];
	struct stat st;

	make_tag(t, 11, 1);
	cr_assert_eq(replay_add(rs, 4, t, NULL), REPLAY_ADDED);
	cr_assert_eq(replay_add(rs, 5, t, NULL), REPLAY_ADDED);
	cr_assert_eq(replay_flush(rs), 0);
	tag_file(f4, sizeof(f4), 4);
	tag_file(f5, sizeof(f5), 5);
	cr_assert_eq(stat(f4, &st), 0);
	cr_assert_eq(st.st_mode & 0077, 0, "mode 0600");
	cr_assert_eq(replay_erase_epoch(rs, 4), 0);
	cr_assert_neq(stat(f4, &st), 0, "erased with the key");
	cr_assert_eq(stat(f5, &st), 0);
	cr_assert_eq(replay_erase_before(rs, 6), 0);
	cr_assert_neq(stat(f5, &st), 0);
	replay_close(rs);
}
