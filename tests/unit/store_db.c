#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"
#include "store/schema.h"

static const struct db_migration test_migrations[] = {
    {1, "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);"},
    {2, "CREATE TABLE u (k TEXT PRIMARY KEY);"},
    {3, "THIS IS NOT SQL;"},
};

static const struct db_schema schema_v1 = {"test store", 0x54455354u,
					   test_migrations, 1};
static const struct db_schema schema_v2 = {"test store", 0x54455354u,
					   test_migrations, 2};
static const struct db_schema schema_bad = {"test store", 0x54455354u,
					    test_migrations, 3};
static const struct db_schema schema_other = {"other store", 0x4f544852u,
					      test_migrations, 1};

static char dir[64];
static char path[128];

static void
setup(void)
{
	strncpy(dir, "/tmp/bc-store-db-XXXXXX", sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/test.db", dir);
}

static void
teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void
write_file(const char *p, const void *data, size_t len)
{
	FILE *f = fopen(p, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static uint8_t *
read_file(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *data;
	long n;

	cr_assert_not_null(f);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	data = malloc((size_t)n + 1);
	cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* A database of several pages, closed cleanly (WAL checkpointed). */
static void
make_db(const struct db_schema *s, int rows)
{
	char err[256];
	struct db *db = db_open(path, s, err, sizeof(err));
	uint8_t blob[1000];

	cr_assert_not_null(db, "%s", err);
	memset(blob, 0xab, sizeof(blob));
	cr_assert_eq(db_begin(db), 0);
	for (int i = 0; i < rows; i++) {
		sqlite3_stmt *st = db_stmt(db, "INSERT INTO t (v) VALUES (?)");

		cr_assert_not_null(st);
		sqlite3_bind_blob(st, 1, blob, sizeof(blob), SQLITE_STATIC);
		cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
		db_stmt_done(st);
	}
	cr_assert_eq(db_commit(db), 0);
	db_close(db);
}

/* Opening must fail with a message containing want, file bytes unchanged. */
static void
expect_refused(const struct db_schema *s, const char *want)
{
	char err[256] = "";
	size_t len0, len1;
	uint8_t *before = read_file(path, &len0), *after;
	struct db *db = db_open(path, s, err, sizeof(err));

	cr_assert_null(db, "opened a file that should be refused");
	cr_log_info("refused: %s", err);
	cr_assert_neq(strstr(err, want), NULL, "message '%s' lacks '%s'", err,
		      want);
	after = read_file(path, &len1);
	cr_assert_eq(len0, len1, "file size changed: %zu -> %zu", len0, len1);
	cr_assert_eq(memcmp(before, after, len0), 0, "file content changed");
	free(before);
	free(after);
}

TestSuite(store_db, .init = setup, .fini = teardown);

Test(store_db, create_mode_0600_and_settings)
{
	char err[256], wal[160];
	struct stat st;
	struct db *db;
	sqlite3_stmt *s;

	umask(022);
	db = db_open(path, &schema_v2, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(db_schema_version(db), 2);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
	cr_assert_eq(db_exec(db, "INSERT INTO u VALUES ('x')"), 0);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	cr_assert_eq(stat(wal, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "wal mode %o", st.st_mode & 0777);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	cr_assert_eq(stat(wal, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "shm mode %o", st.st_mode & 0777);
	s = db_stmt(db, "PRAGMA journal_mode");
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
	db_stmt_done(s);
	s = db_stmt(db, "PRAGMA synchronous");
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(s, 0), 2, "synchronous is FULL (2)");
	db_stmt_done(s);
	s = db_stmt(db, "PRAGMA foreign_keys");
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(s, 0), 1);
	db_stmt_done(s);
	s = db_stmt(db, "SELECT COUNT(*) FROM schema_version");
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(s, 0), 2);
	db_stmt_done(s);
	db_close(db);
}

Test(store_db, statement_cache_reuses_and_resets)
{
	char err[256];
	struct db *db = db_open(path, &schema_v1, err, sizeof(err));
	const char *sql = "SELECT ?1 + 1";
	char copy[32];
	sqlite3_stmt *a, *b;

	cr_assert_not_null(db, "%s", err);
	a = db_stmt(db, sql);
	cr_assert_not_null(a);
	sqlite3_bind_int(a, 1, 41);
	cr_assert_eq(sqlite3_step(a), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(a, 0), 42);
	/* Not done: the cache resets it and clears the binding. */
	strncpy(copy, sql, sizeof(copy));
	b = db_stmt(db, copy);
	cr_assert_eq(a, b, "same text gives the cached statement");
	cr_assert_eq(sqlite3_step(b), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_type(b, 0), SQLITE_NULL,
		     "binding was cleared");
	db_stmt_done(b);
	cr_assert_null(db_stmt(db, "SELECT FROM WHERE"));
	db_close(db);
}

static int
tx_insert(struct db *db, void *arg)
{
	int fail = *(int *)arg;

	if (db_exec(db, "INSERT INTO u VALUES ('in-tx')") != 0)
		return -1;
	return fail ? -1 : 0;
}

Test(store_db, transactions_commit_and_roll_back)
{
	char err[256];
	struct db *db = db_open(path, &schema_v2, err, sizeof(err));
	sqlite3_stmt *s;
	int fail = 1;

	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(db_tx(db, tx_insert, &fail), -1);
	s = db_stmt(db, "SELECT COUNT(*) FROM u");
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(s, 0), 0, "failed tx left a row");
	db_stmt_done(s);
	fail = 0;
	cr_assert_eq(db_tx(db, tx_insert, &fail), 0);
	s = db_stmt(db, "SELECT COUNT(*) FROM u");
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(s, 0), 1);
	db_stmt_done(s);
	/* A second transaction inside the first is refused. */
	cr_assert_eq(db_begin(db), 0);
	cr_assert_eq(db_begin(db), -1);
	db_rollback(db);
	db_close(db);
}

Test(store_db, migrations_apply_in_order_and_keep_data)
{
	char err[256];
	struct db *db;
	sqlite3_stmt *s;

	make_db(&schema_v1, 3);
	db = db_open(path, &schema_v1, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(db_schema_version(db), 1);
	db_close(db);
	db = db_open(path, &schema_v2, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(db_schema_version(db), 2);
	s = db_stmt(db, "SELECT COUNT(*) FROM t");
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(s, 0), 3);
	db_stmt_done(s);
	cr_assert_eq(db_exec(db, "INSERT INTO u VALUES ('y')"), 0);
	db_close(db);
}

Test(store_db, failing_migration_changes_nothing)
{
	char err[256];
	struct db *db;

	make_db(&schema_v2, 1);
	cr_assert_null(db_open(path, &schema_bad, err, sizeof(err)));
	cr_assert_neq(strstr(err, "migration 3 failed"), NULL, "%s", err);
	db = db_open(path, &schema_v2, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(db_schema_version(db), 2);
	db_close(db);
}

Test(store_db, garbage_file_refused)
{
	uint8_t junk[8192];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131u + 7u);
	write_file(path, junk, sizeof(junk));
	expect_refused(&schema_v1, "not a SQLite database");
	/* Garbage after a valid magic is caught by SQLite itself. */
	memcpy(junk, "SQLite format 3", 16);
	write_file(path, junk, sizeof(junk));
	expect_refused(&schema_v1, "refusing to start");
}

Test(store_db, tiny_file_refused)
{
	write_file(path, "SQLite format 3", 16);
	expect_refused(&schema_v1, "truncated");
}

Test(store_db, truncated_database_refused)
{
	size_t len;
	uint8_t *full;

	make_db(&schema_v1, 40);
	full = read_file(path, &len);
	cr_assert_gt(len, 8 * 4096, "expected a multi-page file, got %zu", len);
	cr_assert_eq(truncate(path, (off_t)(len / 2)), 0);
	expect_refused(&schema_v1, "refusing to start");
	free(full);
}

Test(store_db, corrupted_page_refused)
{
	size_t len;
	uint8_t *data;

	make_db(&schema_v1, 40);
	data = read_file(path, &len);
	/* Scribble over the second page (the first b-tree page after the
	 * header page). */
	memset(data + 4096, 0x5a, 4096);
	write_file(path, data, len);
	expect_refused(&schema_v1, "refusing to start");
	free(data);
}

Test(store_db, newer_schema_refused)
{
	make_db(&schema_v2, 1);
	expect_refused(&schema_v1, "newer than this program supports");
}

Test(store_db, foreign_database_refused)
{
	sqlite3 *h;

	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "CREATE TABLE foo (x)", NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(h);
	expect_refused(&schema_v1, "not a backchannel test store");
}

Test(store_db, other_schema_refused)
{
	make_db(&schema_v1, 1);
	expect_refused(&schema_other, "not a backchannel other store");
}

Test(store_db, missing_schema_version_refused)
{
	sqlite3 *h;

	make_db(&schema_v1, 1);
	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	cr_assert_eq(
	    sqlite3_exec(h, "DROP TABLE schema_version", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);
	expect_refused(&schema_v1, "schema_version");
}

Test(store_db, bad_arguments_refused)
{
	char err[64];
	struct db_schema zero = schema_v1;

	zero.application_id = 0;
	cr_assert_null(db_open(NULL, &schema_v1, err, sizeof(err)));
	cr_assert_null(db_open("", &schema_v1, err, sizeof(err)));
	cr_assert_null(db_open(path, NULL, err, sizeof(err)));
	cr_assert_null(db_open(path, &zero, err, sizeof(err)));
	cr_assert_null(db_open(dir, &schema_v1, err, sizeof(err)),
		       "a directory is not a database");
	cr_assert_neq(strstr(err, "not a regular file"), NULL, "%s", err);
	db_close(NULL);
}

Test(store_db, node_schema_opens)
{
	char err[256];
	struct db *db = db_open(path, &store_node_schema, err, sizeof(err));

	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(db_schema_version(db),
		     (int)store_node_schema.n_migrations);
	db_close(db);
}
