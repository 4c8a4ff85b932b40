/* The client's encrypted store (store/client_store.h). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crypto/crypto.h"
#include "store/client_store.h"

static char dir[64];
static char path[128];
static char err[256];

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/bc-client-store-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/client.db", dir);
}

static void teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(client_store, .init = setup, .fini = teardown);

static struct client_store_key pass_key(const char *pass)
{
	struct client_store_key k = { .pass = pass, .pass_len = strlen(pass) };
	pwkdf_cost_min(&k.cost);
	return k;
}

static struct client_store *open_pass(const char *pass)
{
	struct client_store_key k = pass_key(pass);
	return client_store_open(path, &k, err, sizeof(err));
}

/* Whole file contents, for "nothing in the clear" and "unchanged". */
static size_t slurp(const char *p, uint8_t **out)
{
	FILE *f = fopen(p, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*out = malloc((size_t)n + 1);
	cr_assert_eq(fread(*out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return (size_t)n;
}

static bool contains(const uint8_t *h, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(h + i, needle, k) == 0)
			return true;
	return false;
}

static int add_msg(struct client_store *cs, uint64_t seq, const char *body,
		   uint32_t nfrag, int64_t *row)
{
	uint8_t acked[8] = { 0 }, copy[64];
	snprintf((char *)copy, sizeof(copy), "%s", body);
	struct client_store_msg m = {
		.contact = 77, .seq = seq, .queued_ms = 1234567,
		.nfrag = nfrag, .acked = acked,
		.body = copy, .body_len = strlen(body),
	};
	memset(m.id, (int)seq, sizeof(m.id));
	int r = client_store_msg_add(cs, &m);
	*row = m.row;
	return r;
}

Test(client_store, values_survive_reopen_and_nothing_is_in_the_clear)
{
	struct client_store *cs = open_pass("correct horse");
	int64_t row;
	uint8_t *v;
	size_t n;

	cr_assert_not_null(cs, "%s", err);
	cr_assert_eq(client_store_put(cs, "contact.alice", "SECRETVALUE", 11),
		     0);
	cr_assert_eq(client_store_put(cs, "contact.alice", "OTHERSECRET", 11),
		     0);
	cr_assert_eq(add_msg(cs, 1, "MESSAGEBODYTEXT", 3, &row), 0);
	cr_assert_eq(client_store_get(cs, "nobody", &v, &n), 1);
	client_store_close(cs);

	cs = open_pass("correct horse");
	cr_assert_not_null(cs, "%s", err);
	cr_assert_eq(client_store_get(cs, "contact.alice", &v, &n), 0);
	cr_assert_eq(n, 11);
	cr_assert(memcmp(v, "OTHERSECRET", 11) == 0);
	free(v);
	cr_assert_eq(client_store_msg_count(cs), 1);
	cr_assert_eq(client_store_del(cs, "contact.alice"), 0);
	cr_assert_eq(client_store_get(cs, "contact.alice", &v, &n), 1);
	client_store_close(cs);

	uint8_t *file;
	size_t len = slurp(path, &file);
	cr_assert(!contains(file, len, "contact.alice"));
	cr_assert(!contains(file, len, "SECRET"));
	cr_assert(!contains(file, len, "MESSAGEBODY"));
	free(file);
}

Test(client_store, wrong_passphrase_is_refused_and_changes_nothing)
{
	struct client_store *cs = open_pass("right");
	int64_t row;
	cr_assert_not_null(cs);
	cr_assert_eq(add_msg(cs, 1, "queued", 1, &row), 0);
	client_store_close(cs);
	uint8_t *before, *after;
	size_t nb = slurp(path, &before);

	cs = open_pass("wrong");
	cr_assert_null(cs);
	cr_assert(strstr(err, "wrong passphrase") != NULL, "%s", err);
	cr_assert_null(strchr(err, '\n'));
	size_t na = slurp(path, &after);
	cr_assert_eq(na, nb);
	cr_assert(memcmp(before, after, na) == 0);
	free(before);
	free(after);
	/* A raw key on a passphrase store: a clear error too. */
	uint8_t key[32] = { 1 };
	struct client_store_key k = { .key = key };
	cr_assert_null(client_store_open(path, &k, err, sizeof(err)));
	cr_assert(strstr(err, "passphrase") != NULL, "%s", err);
	cs = open_pass("right");
	cr_assert_not_null(cs);
	cr_assert_eq(client_store_msg_count(cs), 1);
	client_store_close(cs);
}

Test(client_store, key_file_store)
{
	uint8_t key[32], other[32];
	memset(key, 3, sizeof(key));
	memset(other, 4, sizeof(other));
	struct client_store_key k = { .key = key }, ko = { .key = other };
	struct client_store *cs = client_store_open(path, &k, err, sizeof(err));
	cr_assert_not_null(cs, "%s", err);
	cr_assert_eq(client_store_put(cs, "x", "y", 1), 0);
	client_store_close(cs);
	cr_assert_null(client_store_open(path, &ko, err, sizeof(err)));
	cr_assert(strstr(err, "wrong key") != NULL, "%s", err);
	cr_assert_null(open_pass("x"));
	cr_assert(strstr(err, "key file") != NULL, "%s", err);
	cs = client_store_open(path, &k, err, sizeof(err));
	cr_assert_not_null(cs, "%s", err);
	client_store_close(cs);
}

Test(client_store, corrupt_or_foreign_files_are_refused)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "this is not a database, it is garbage....",
			   41), 41);
	close(fd);
	cr_assert_null(open_pass("p"));
	cr_assert_gt(strlen(err), 0);
	cr_assert_null(strchr(err, '\n'));
}

/* Values are bound to their rows: swapping two rows' bodies is caught. */
Test(client_store, moved_values_do_not_open)
{
	struct client_store *cs = open_pass("p");
	int64_t r1, r2;
	cr_assert_eq(add_msg(cs, 1, "first", 1, &r1), 0);
	cr_assert_eq(add_msg(cs, 2, "second", 1, &r2), 0);
	client_store_close(cs);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db,
				  "UPDATE outbox SET body = (SELECT body FROM"
				  " outbox WHERE id = 2) WHERE id = 1",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(db);
	cs = open_pass("p");
	cr_assert_not_null(cs, "%s", err);
	cr_assert_eq(client_store_msg_each(cs, NULL, NULL), -1);
	client_store_close(cs);
}

struct seen {
	int n;
	uint64_t seq[64];
	uint8_t acked0[64];
};

static int collect(void *ctx, const struct client_store_msg *m)
{
	struct seen *s = ctx;
	s->seq[s->n] = m->seq;
	s->acked0[s->n] = m->acked[0];
	cr_assert_eq(m->contact, 77);
	cr_assert_eq(m->queued_ms, 1234567);
	s->n++;
	return 0;
}

Test(client_store, outbox_ack_and_delete)
{
	struct client_store *cs = open_pass("p");
	int64_t r1, r2;
	struct seen s = { 0 };

	cr_assert_eq(add_msg(cs, 1, "first", 3, &r1), 0);
	cr_assert_eq(add_msg(cs, 2, "second", 2, &r2), 0);
	cr_assert_eq(client_store_msg_ack(cs, r1, 2), 0);
	cr_assert_eq(client_store_msg_ack(cs, r1, 0), 0);
	cr_assert_eq(client_store_msg_ack(cs, r1, 3), -1);
	cr_assert_eq(client_store_msg_ack(cs, 99, 0), -1);
	client_store_close(cs);
	cs = open_pass("p");
	cr_assert_eq(client_store_msg_each(cs, collect, &s), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.seq[0], 1);
	cr_assert_eq(s.acked0[0], 0x05);
	cr_assert_eq(s.acked0[1], 0);
	cr_assert_eq(client_store_msg_del(cs, r1), 0);
	cr_assert_eq(client_store_msg_count(cs), 1);
	client_store_close(cs);
}

/*
 * A child queues messages one after another and reports each row on a pipe
 * only after client_store_msg_add returned; the parent kills it with
 * SIGKILL mid-stream, restarts (reopens) and finds every reported message,
 * whole. Ten cycles with different kill points.
 */
Test(client_store, sigkill_while_queueing_loses_nothing, .timeout = 120)
{
	static int64_t reported[4096];
	size_t nrep = 0;
	struct client_store *cs = open_pass("p");
	cr_assert_not_null(cs);
	client_store_close(cs);
	for (int cycle = 0; cycle < 10; cycle++) {
		int fds[2];
		cr_assert_eq(pipe(fds), 0);
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			struct client_store *c = open_pass("p");
			if (c == NULL)
				_exit(4);
			for (uint64_t i = 0;; i++) {
				int64_t row;
				if (add_msg(c, 1000 + i, "queued body", 2,
					    &row) < 0)
					_exit(2);
				if (write(fds[1], &row, sizeof(row)) < 0)
					_exit(3);
			}
		}
		close(fds[1]);
		int64_t row;
		size_t got = 0, want = 3 + (size_t)cycle * 2;
		while (got < want &&
		       read(fds[0], &row, sizeof(row)) == sizeof(row)) {
			reported[nrep++] = row;
			got++;
		}
		struct timespec pause = { 0, 1000000L * (cycle % 4) };
		nanosleep(&pause, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		while (read(fds[0], &row, sizeof(row)) == sizeof(row))
			reported[nrep++] = row;
		close(fds[0]);
		cr_assert_geq(got, want, "child stopped early");
	}
	cs = open_pass("p");
	cr_assert_not_null(cs, "%s", err);
	size_t count = client_store_msg_count(cs);
	cr_assert_geq(count, nrep);
	for (size_t i = 0; i < nrep; i++) {
		cr_assert_eq(client_store_msg_ack(cs, reported[i], 1), 0,
			     "queued row %ld lost", (long)reported[i]);
	}
	client_store_close(cs);
}
