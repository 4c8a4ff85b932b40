#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/time.h"

#define DB_BUSY_TIMEOUT_MS 5000
#define DB_STMT_CACHE_MAX  64
#define SQLITE_MAGIC       "SQLite format 3"
#define SQLITE_HEADER_LEN  100

struct db_cached {
	const char
	    *sql; /* the caller's string: compared by address, then text */
	sqlite3_stmt *st;
};

struct db {
	sqlite3 *h;
	char *path;
	int version;
	struct db_cached cache[DB_STMT_CACHE_MAX];
	size_t ncache;
};

void
db_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* One line: SQLite's check reports come with newlines. */
	for (char *p = err; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* fsync the directory holding path, so that a newly created file survives. */
static int
db_sync_parent(const char *path)
{
	char *dir = bc_strdup(path);
	char *slash = strrchr(dir, '/');
	int fd, rc = -1;

	if (!slash)
		strncpy(dir, ".", 2);
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(dir);
	return rc;
}

/*
 * Looks at the file before SQLite does, so that a damaged or foreign file gets
 * a message that says what is wrong with it.  A zero-length file is a valid
 * empty database in WAL mode (its content may all be in the -wal file).
 */
static int
db_precheck(const char *path, bool *created, char *err, size_t errlen)
{
	struct stat st;
	unsigned char hdr[SQLITE_HEADER_LEN];
	ssize_t n;
	int fd;

	*created = false;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT) {
			db_seterr(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			db_seterr(err, errlen, "%s: cannot create: %s", path,
				  strerror(errno));
			return -1;
		}
		close(fd);
		*created = true;
		if (db_sync_parent(path) != 0)
			log_warn("store: cannot fsync the directory of %s",
				 path);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		db_seterr(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (st.st_size == 0)
		return 0;
	if (st.st_size < SQLITE_HEADER_LEN) {
		db_seterr(err, errlen,
			  "%s: truncated or not a database (%lld bytes): "
			  "refusing to start, file left as it is",
			  path, (long long)st.st_size);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		db_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, hdr, sizeof(hdr));
	close(fd);
	if (n != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, SQLITE_MAGIC, sizeof(SQLITE_MAGIC)) != 0) {
		db_seterr(err, errlen,
			  "%s: not a SQLite database (bad header): refusing "
			  "to start, file left as it is",
			  path);
		return -1;
	}
	return 0;
}

/* Runs a query that yields one integer (PRAGMA, COUNT, MAX). */
static int
db_query_int(sqlite3 *h, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		*out = 0;
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? 0 : -1;
}

/* PRAGMA quick_check yields the single row "ok" for a sound file. */
static int
db_quick_check(sqlite3 *h, char *err, size_t errlen, const char *path)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = -1;

	if (sqlite3_prepare_v2(h, "PRAGMA quick_check(1)", -1, &st, NULL) !=
	    SQLITE_OK) {
		db_seterr(err, errlen,
			  "%s: damaged database (%s): refusing "
			  "to start, file left as it is",
			  path, sqlite3_errmsg(h));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *txt = sqlite3_column_text(st, 0);

		if (txt && strcmp((const char *)txt, "ok") == 0)
			ret = 0;
		else
			db_seterr(err, errlen,
				  "%s: damaged database (%s): "
				  "refusing to start, file left as it is",
				  path, txt ? (const char *)txt : "?");
	} else {
		db_seterr(err, errlen,
			  "%s: damaged database (%s): refusing "
			  "to start, file left as it is",
			  path, sqlite3_errmsg(h));
	}
	sqlite3_finalize(st);
	return ret;
}

/*
 * Decides whether the file is ours, new, or someone else's.  Reading the
 * application_id is also the first read of the file: SQLite reports a
 * damaged header here.
 */
static int
db_identify(struct db *db, const struct db_schema *schema, bool *fresh,
	    char *err, size_t errlen)
{
	int64_t appid, nobj;

	if (db_query_int(db->h, "PRAGMA application_id", &appid) != 0 ||
	    db_query_int(db->h, "SELECT COUNT(*) FROM sqlite_master", &nobj) !=
		0) {
		db_seterr(err, errlen,
			  "%s: cannot read database (%s): refusing to start, "
			  "file left as it is",
			  db->path, sqlite3_errmsg(db->h));
		return -1;
	}
	*fresh = (appid == 0 && nobj == 0);
	if (*fresh || (uint32_t)appid == schema->application_id)
		return 0;
	db_seterr(err, errlen,
		  "%s: not a backchannel %s (application_id 0x%08x, %lld "
		  "schema objects): refusing to start, file left as it is",
		  db->path, schema->name, (unsigned)appid, (long long)nobj);
	return -1;
}

static int
db_settings(struct db *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;

	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);

		wal = m && strcmp((const char *)m, "wal") == 0;
	}
	sqlite3_finalize(st);
	if (!wal) {
		db_seterr(err, errlen, "%s: cannot switch to WAL mode (%s)",
			  db->path, sqlite3_errmsg(db->h));
		return -1;
	}
	if (db_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") !=
	    0) {
		db_seterr(err, errlen, "%s: cannot set pragmas (%s)", db->path,
			  sqlite3_errmsg(db->h));
		return -1;
	}
	return 0;
}

/* Applies one migration, and records it, in one transaction. */
static int
db_migrate_one(struct db *db, const struct db_schema *schema,
	       const struct db_migration *m, bool first)
{
	char buf[96];
	int n;

	if (db_begin(db) != 0)
		return -1;
	if (first) {
		n = snprintf(buf, sizeof(buf), "PRAGMA application_id=%u",
			     (unsigned)schema->application_id);
		if (n < 0 || (size_t)n >= sizeof(buf) ||
		    db_exec(db, buf) != 0 ||
		    db_exec(db, "CREATE TABLE schema_version ("
				"version INTEGER PRIMARY KEY,"
				"applied_ms INTEGER NOT NULL)") != 0)
			goto fail;
	}
	if (db_exec(db, m->sql) != 0)
		goto fail;
	n = snprintf(buf, sizeof(buf),
		     "INSERT INTO schema_version VALUES (%d, %lld)", m->version,
		     (long long)time_wall_ms());
	if (n < 0 || (size_t)n >= sizeof(buf) || db_exec(db, buf) != 0)
		goto fail;
	if (db_commit(db) != 0)
		return -1;
	db->version = m->version;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

static int
db_migrate(struct db *db, const struct db_schema *schema, bool fresh, char *err,
	   size_t errlen)
{
	int64_t maxv = 0, count = 0;
	int latest = (int)schema->n_migrations;

	if (!fresh &&
	    (db_query_int(db->h, "SELECT MAX(version) FROM schema_version",
			  &maxv) != 0 ||
	     db_query_int(db->h, "SELECT COUNT(*) FROM schema_version",
			  &count) != 0 ||
	     maxv != count)) {
		db_seterr(err, errlen,
			  "%s: schema_version table missing or inconsistent: "
			  "refusing to start, file left as it is",
			  db->path);
		return -1;
	}
	if (maxv > latest) {
		db_seterr(
		    err, errlen,
		    "%s: schema version %lld is newer than this program "
		    "supports (%d): refusing to start, file left as it is",
		    db->path, (long long)maxv, latest);
		return -1;
	}
	db->version = (int)maxv;
	for (size_t i = (size_t)maxv; i < schema->n_migrations; i++) {
		const struct db_migration *m = &schema->migrations[i];

		if (m->version != (int)i + 1 ||
		    db_migrate_one(db, schema, m, fresh && i == 0) != 0) {
			db_seterr(err, errlen, "%s: migration %d failed (%s)",
				  db->path, (int)i + 1, sqlite3_errmsg(db->h));
			return -1;
		}
	}
	return 0;
}

struct db *
db_open(const char *path, const struct db_schema *schema, char *err,
	size_t errlen)
{
	struct db *db = NULL;
	bool created = false, fresh = false;

	db_seterr(err, errlen, "%s", "");
	if (!path || !*path || !schema || schema->application_id == 0 ||
	    schema->n_migrations == 0) {
		db_seterr(err, errlen, "db_open: bad arguments");
		return NULL;
	}
	if (db_precheck(path, &created, err, errlen) != 0)
		return NULL;
	db = bc_calloc(1, sizeof(*db));
	db->path = bc_strdup(path);
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		db_seterr(err, errlen, "%s: cannot open (%s)", path,
			  db->h ? sqlite3_errmsg(db->h) : "out of memory");
		goto fail;
	}
	/* SQLite falls back to read-only for a write-protected file; a store
	 * that cannot commit would stall its users, so say so now. */
	if (sqlite3_db_readonly(db->h, "main") != 0) {
		db_seterr(err, errlen, "%s: not writable: refusing to start",
			  path);
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	if (db_identify(db, schema, &fresh, err, errlen) != 0)
		goto fail;
	if (!fresh && db_quick_check(db->h, err, errlen, path) != 0)
		goto fail;
	if (db_settings(db, err, errlen) != 0 ||
	    db_migrate(db, schema, fresh, err, errlen) != 0)
		goto fail;
	return db;
fail:
	db_close(db);
	return NULL;
}

void
db_close(struct db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->ncache; i++)
		sqlite3_finalize(db->cache[i].st);
	if (db->h && sqlite3_close(db->h) != SQLITE_OK)
		log_warn("store: closing %s: %s", db->path,
			 sqlite3_errmsg(db->h));
	free(db->path);
	free(db);
}

int
db_schema_version(const struct db *db)
{
	return db->version;
}

int
db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	log_warn("store: %s: %s", db->path, msg ? msg : sqlite3_errmsg(db->h));
	sqlite3_free(msg);
	return -1;
}

sqlite3_stmt *
db_stmt(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	size_t i;

	for (i = 0; i < db->ncache; i++)
		if (db->cache[i].sql == sql ||
		    strcmp(db->cache[i].sql, sql) == 0)
			break;
	if (i < db->ncache) {
		st = db->cache[i].st;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       NULL) != SQLITE_OK) {
		log_warn("store: %s: prepare: %s", db->path,
			 sqlite3_errmsg(db->h));
		sqlite3_finalize(st);
		return NULL;
	}
	if (db->ncache < DB_STMT_CACHE_MAX) {
		db->cache[db->ncache].sql = sql;
		db->cache[db->ncache].st = st;
		db->ncache++;
	} else {
		/* The statement set is fixed and small; reaching this is a bug.
		 */
		log_err("store: statement cache full");
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

void
db_stmt_done(sqlite3_stmt *st)
{
	if (st)
		sqlite3_reset(st);
}

int
db_begin(struct db *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int
db_commit(struct db *db)
{
	if (db_exec(db, "COMMIT") == 0)
		return 0;
	db_rollback(db);
	return -1;
}

void
db_rollback(struct db *db)
{
	/* After some errors SQLite has already rolled back: not an error. */
	if (sqlite3_get_autocommit(db->h))
		return;
	if (sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
		log_warn("store: %s: rollback: %s", db->path,
			 sqlite3_errmsg(db->h));
}

int
db_tx(struct db *db, int (*fn)(struct db *db, void *arg), void *arg)
{
	if (db_begin(db) != 0)
		return -1;
	if (fn(db, arg) != 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db);
}

int64_t
db_changes(struct db *db)
{
	return sqlite3_changes64(db->h);
}

const char *
db_errmsg(struct db *db)
{
	return sqlite3_errmsg(db->h);
}

const char *
db_path(const struct db *db)
{
	return db->path;
}
