#ifndef BC_STORE_DB_H
#define BC_STORE_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One SQLite database file with the settings every durable store here needs:
 * WAL journal, synchronous=FULL (each commit is fsynced before it returns),
 * a busy timeout, foreign keys on, files created mode 0600.
 *
 * The schema is a list of append-only numbered migrations; the versions
 * applied are rows of the table schema_version.  A file that is not a SQLite
 * database, is damaged, belongs to another program or schema (application_id)
 * or carries a newer schema than this build knows is refused with a message
 * in err: db_open never truncates, rewrites or "repairs" an existing file.
 *
 * Not internally locked: a struct db is used by one thread at a time (its
 * owner, replay.c or mailbox.c, holds a mutex around every use).
 * This header is for src/store only: it is the one that names <sqlite3.h>.
 */

struct db;

struct db_migration {
	int version;     /* 1, 2, 3, ... in order, never renumbered */
	const char *sql; /* one or more statements, run in one transaction */
};

struct db_schema {
	const char *name;        /* for messages: "node store" */
	uint32_t application_id; /* stored in the file header; 0 not allowed */
	const struct db_migration *migrations;
	size_t n_migrations;
};

/*
 * Opens (creating if missing, mode 0600) the database at path and brings its
 * schema up to date.  NULL on refusal or error, with a one-line reason in err
 * (errlen > 0).  Runs PRAGMA quick_check on existing files: start-up time is
 * proportional to the database size.
 */
struct db *db_open(const char *path, const struct db_schema *schema, char *err,
		   size_t errlen);

/* Finalizes cached statements and closes; NULL is fine. */
void db_close(struct db *db);
#define DB_CLOSE(p)          \
	do {                 \
		db_close(p); \
		(p) = NULL;  \
	} while (0)

/* The highest migration applied (after db_open: the schema's latest). */
int db_schema_version(const struct db *db);

/* Runs SQL without results (may be several statements). 0 or -1 (logged). */
int db_exec(struct db *db, const char *sql);

/*
 * A prepared statement for sql, cached by the string's address and text for
 * the life of db: reset and with bindings cleared, ready to bind.  The caller
 * must call db_stmt_done() once it has read what it needs, so that no read
 * transaction stays open.  NULL on error (logged).
 */
sqlite3_stmt *db_stmt(struct db *db, const char *sql);
void db_stmt_done(sqlite3_stmt *st);

/*
 * Transactions: BEGIN IMMEDIATE takes the write lock at once, so a
 * transaction never fails half-way on a lock upgrade.  db_commit returns
 * only after the WAL is fsynced; on failure the transaction is rolled back.
 */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Runs fn(db, arg) in one transaction: committed if fn returns 0. */
int db_tx(struct db *db, int (*fn)(struct db *db, void *arg), void *arg);

/* Rows changed by the last statement. */
int64_t db_changes(struct db *db);

/* The last SQLite error message of this connection (for logs). */
const char *db_errmsg(struct db *db);

/* Formats a one-line reason into err (nothing if err is NULL or errlen 0). */
void db_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The path the database was opened with. */
const char *db_path(const struct db *db);

#endif
