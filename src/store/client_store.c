/* The client's encrypted store (client_store.h, docs/client.md "Store"). */
#include "store/client_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/bytes.h"

#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/xaead.h"

#include "store/db.h"

#define CS_APP_ID     0x42434331u /* "BCC1" */
#define CS_KIND_PASS  1
#define CS_KIND_KEY   2
#define CS_CHECK_TEXT "backchannel client store v1"
#define CS_META_LEN   (8 + CLIENT_STORE_MSGID_LEN + 8 + 8 + 4)

static const struct db_migration cs_migrations[] = {
    {1, "CREATE TABLE kdf ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" kind INTEGER NOT NULL,"
	" salt BLOB NOT NULL CHECK (length(salt) = 16),"
	" ops INTEGER NOT NULL,"
	" mem_kib INTEGER NOT NULL,"
	" checkval BLOB NOT NULL);"
	"CREATE TABLE kv ("
	" id INTEGER PRIMARY KEY,"
	" tag BLOB NOT NULL UNIQUE CHECK (length(tag) = 32),"
	" name BLOB NOT NULL,"
	" value BLOB NOT NULL);"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" meta BLOB NOT NULL,"
	" body BLOB NOT NULL,"
	" acked BLOB NOT NULL);"},
};

static const struct db_schema cs_schema = {
    .name = "client store",
    .application_id = CS_APP_ID,
    .migrations = cs_migrations,
    .n_migrations = sizeof(cs_migrations) / sizeof(cs_migrations[0]),
};

/* One key per column: a value sealed for one never opens in another. */
enum cs_col {
	CS_CHECK,
	CS_KV_TAG,
	CS_KV_NAME,
	CS_KV_VALUE,
	CS_OUT_META,
	CS_OUT_BODY,
	CS_OUT_ACKED,
	CS_NCOLS,
};

static const char *const cs_col_name[CS_NCOLS] = {
    "kdf.checkval", "kv.tag",      "kv.name",      "kv.value",
    "outbox.meta",  "outbox.body", "outbox.acked",
};

struct client_store {
	struct db *db;
	uint8_t *keys; /* secret: CS_NCOLS * 32 bytes */
	int depth;     /* open transactions (client_store_begin nests) */
	bool failed;   /* an inner one rolled back: the outer one must too */
};

static int
cs_derive_keys(struct client_store *cs, const uint8_t master[32])
{
	for (int i = 0; i < CS_NCOLS; i++) {
		char info[64];
		int n = snprintf(info, sizeof(info), "bc client store v1 %s",
				 cs_col_name[i]);
		if (hkdf_sha256_expand(cs->keys + 32 * i, 32, master, 32, info,
				       (size_t)n) < 0)
			return -1;
	}
	return 0;
}

/* AD: the column's name and the row id, so values cannot be moved. */
static size_t
cs_ad(uint8_t ad[80], enum cs_col col, int64_t row)
{
	size_t n = strlen(cs_col_name[col]);
	memcpy(ad, cs_col_name[col], n);
	be64_put(ad + n, (uint64_t)row);
	return n + 8;
}

static void
cs_seal(struct client_store *cs, enum cs_col col, int64_t row, const void *in,
	size_t len, struct buf *out)
{
	uint8_t ad[80];
	size_t adlen = cs_ad(ad, col, row);

	buf_reset(out);
	buf_reserve(out, len + XAEAD_OVERHEAD);
	xaead_seal(out->data, in, len, ad, adlen, cs->keys + 32 * col);
	out->len = len + XAEAD_OVERHEAD;
}

/* Opened plaintext in a malloc'd buffer (+1 byte NUL, not counted). */
static int
cs_open_col(struct client_store *cs, enum cs_col col, int64_t row,
	    const void *in, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t ad[80];
	size_t adlen = cs_ad(ad, col, row);

	if (in == NULL || len < XAEAD_OVERHEAD)
		return -1;
	*out = bc_malloc(len - XAEAD_OVERHEAD + 1);
	if (xaead_open(*out, in, len, ad, adlen, cs->keys + 32 * col) < 0) {
		BC_FREE(*out);
		return -1;
	}
	(*out)[len - XAEAD_OVERHEAD] = 0;
	*outlen = len - XAEAD_OVERHEAD;
	return 0;
}

static int
cs_step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	db_stmt_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The master key for this store's kind and salt, into master. */
static int
cs_master(const struct client_store_key *k, int kind, const uint8_t salt[16],
	  const struct pwkdf_cost *cost, uint8_t master[32], char *err,
	  size_t errlen)
{
	if (kind == CS_KIND_PASS) {
		if (pwkdf_derive(master, 32, k->pass, k->pass_len, salt, cost) <
		    0) {
			db_seterr(err, errlen,
				  "client store: key derivation "
				  "failed (cost out of range or "
				  "out of memory)");
			return -1;
		}
		return 0;
	}
	hkdf_sha256_extract(master, salt, 16, k->key, 32);
	return 0;
}

/* A new store: salt, costs and the check value, in one transaction. */
static int
cs_create(struct client_store *cs, const struct client_store_key *k, int kind,
	  uint8_t *master, char *err, size_t errlen)
{
	uint8_t salt[16];
	struct buf check;
	sqlite3_stmt *st = NULL;
	int ret = -1;

	buf_init(&check);
	rand_bytes(salt, sizeof(salt));
	if (cs_master(k, kind, salt, &k->cost, master, err, errlen) < 0 ||
	    cs_derive_keys(cs, master) < 0)
		goto done;
	cs_seal(cs, CS_CHECK, 1, CS_CHECK_TEXT, strlen(CS_CHECK_TEXT), &check);
	st = db_stmt(cs->db, "INSERT INTO kdf (id, kind, salt,"
			     " ops, mem_kib, checkval)"
			     " VALUES (1, ?, ?, ?, ?, ?)");
	if (st == NULL || db_begin(cs->db) < 0)
		goto done;
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_blob(st, 2, salt, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, kind == CS_KIND_PASS ? k->cost.ops : 0);
	sqlite3_bind_int64(st, 4, kind == CS_KIND_PASS ? k->cost.mem_kib : 0);
	sqlite3_bind_blob(st, 5, check.data, (int)check.len, SQLITE_STATIC);
	if (cs_step_done(st) < 0 || db_commit(cs->db) < 0) {
		db_rollback(cs->db);
		db_seterr(err, errlen, "client store: cannot write: %s",
			  db_errmsg(cs->db));
		goto done;
	}
	ret = 0;
done:
	buf_free(&check);
	return ret;
}

/* An existing store: derive with its parameters and open the check value. */
static int
cs_unlock(struct client_store *cs, const struct client_store_key *k, int kind,
	  sqlite3_stmt *st, uint8_t *master, char *err, size_t errlen)
{
	int stored_kind = sqlite3_column_int(st, 0);
	const void *salt = sqlite3_column_blob(st, 1);
	struct pwkdf_cost cost = {
	    (uint32_t)sqlite3_column_int64(st, 2),
	    (uint32_t)sqlite3_column_int64(st, 3),
	};
	uint8_t *plain = NULL;
	size_t plen = 0;

	if (stored_kind != kind) {
		db_seterr(err, errlen,
			  "client store %s is locked by a %s, not "
			  "a %s",
			  db_path(cs->db),
			  stored_kind == CS_KIND_PASS ? "passphrase"
						      : "key file",
			  kind == CS_KIND_PASS ? "passphrase" : "key file");
		return -1;
	}
	if (salt == NULL || sqlite3_column_bytes(st, 1) != 16 ||
	    (kind == CS_KIND_PASS && pwkdf_cost_check(&cost) < 0)) {
		db_seterr(err, errlen,
			  "client store %s: damaged key "
			  "parameters",
			  db_path(cs->db));
		return -1;
	}
	if (cs_master(k, kind, salt, &cost, master, err, errlen) < 0 ||
	    cs_derive_keys(cs, master) < 0)
		return -1;
	if (cs_open_col(cs, CS_CHECK, 1, sqlite3_column_blob(st, 4),
			(size_t)sqlite3_column_bytes(st, 4), &plain,
			&plen) < 0 ||
	    plen != strlen(CS_CHECK_TEXT) ||
	    memcmp(plain, CS_CHECK_TEXT, plen) != 0) {
		free(plain);
		db_seterr(err, errlen,
			  "client store %s: wrong %s (or damaged "
			  "store)",
			  db_path(cs->db),
			  kind == CS_KIND_PASS ? "passphrase" : "key");
		return -1;
	}
	free(plain);
	return 0;
}

struct client_store *
client_store_open(const char *path, const struct client_store_key *k, char *err,
		  size_t errlen)
{
	struct client_store *cs = bc_calloc(1, sizeof(*cs));
	uint8_t *master = secret_alloc(32);
	int kind = k->pass != NULL ? CS_KIND_PASS : CS_KIND_KEY;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (kind == CS_KIND_KEY && k->key == NULL) {
		db_seterr(err, errlen, "client store: no passphrase or key");
		goto done;
	}
	cs->keys = secret_alloc(32 * CS_NCOLS);
	cs->db = db_open(path, &cs_schema, err, errlen);
	if (cs->db == NULL)
		goto done;
	st = db_stmt(cs->db, "SELECT kind, salt, ops, mem_kib,"
			     " checkval FROM kdf WHERE id = 1");
	if (st == NULL) {
		db_seterr(err, errlen, "client store %s: unreadable", path);
		goto done;
	}
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = cs_unlock(cs, k, kind, st, master, err, errlen);
	db_stmt_done(st);
	if (step == SQLITE_DONE)
		rc = cs_create(cs, k, kind, master, err, errlen);
	else if (step != SQLITE_ROW)
		db_seterr(err, errlen, "client store %s: unreadable: %s", path,
			  db_errmsg(cs->db));
done:
	SECRET_FREE(master);
	if (rc < 0) {
		client_store_close(cs);
		return NULL;
	}
	return cs;
}

void
client_store_close(struct client_store *cs)
{
	if (cs == NULL)
		return;
	DB_CLOSE(cs->db);
	SECRET_FREE(cs->keys);
	free(cs);
}

/*
 * Transactions nest: only the outermost one talks to SQLite, so a caller
 * can group several writes (client_store_begin) and each write still works
 * alone. A failed inner write marks the whole group for rollback.
 */
static int
cs_begin(struct client_store *cs)
{
	if (cs->depth > 0) {
		cs->depth++;
		return 0;
	}
	if (db_begin(cs->db) < 0)
		return -1;
	cs->depth = 1;
	cs->failed = false;
	return 0;
}

static int
cs_commit(struct client_store *cs)
{
	if (cs->depth == 0)
		return -1;
	if (--cs->depth > 0)
		return cs->failed ? -1 : 0;
	if (cs->failed) {
		db_rollback(cs->db);
		return -1;
	}
	return db_commit(cs->db);
}

static void
cs_rollback(struct client_store *cs)
{
	if (cs->depth == 0)
		return;
	if (--cs->depth > 0) {
		cs->failed = true;
		return;
	}
	db_rollback(cs->db);
}

int
client_store_begin(struct client_store *cs)
{
	return cs_begin(cs);
}

int
client_store_commit(struct client_store *cs)
{
	return cs_commit(cs);
}

void
client_store_rollback(struct client_store *cs)
{
	cs_rollback(cs);
}

static void
cs_tag(struct client_store *cs, const char *name, uint8_t tag[32])
{
	hmac_sha256(tag, cs->keys + 32 * CS_KV_TAG, 32, name, strlen(name));
}

/* The row of an existing tag, or a new row id (max + 1); -1 on error. */
static int64_t
cs_kv_row(struct client_store *cs, const uint8_t tag[32])
{
	sqlite3_stmt *st = db_stmt(cs->db, "SELECT id FROM kv WHERE tag = ?"
					   " UNION ALL SELECT coalesce(max(id),"
					   " 0) + 1 FROM kv");
	int64_t row = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_blob(st, 1, tag, 32, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		row = sqlite3_column_int64(st, 0);
	db_stmt_done(st);
	return row;
}

int
client_store_put(struct client_store *cs, const char *name, const void *val,
		 size_t len)
{
	uint8_t tag[32];
	struct buf bn, bv;
	sqlite3_stmt *st = NULL;
	int64_t row;
	int ret = -1;

	buf_init(&bn);
	buf_init(&bv);
	cs_tag(cs, name, tag);
	if (cs_begin(cs) < 0)
		goto done;
	row = cs_kv_row(cs, tag);
	st = db_stmt(cs->db, "INSERT OR REPLACE INTO kv"
			     " (id, tag, name, value)"
			     " VALUES (?, ?, ?, ?)");
	if (row < 0 || st == NULL) {
		cs_rollback(cs);
		goto done;
	}
	cs_seal(cs, CS_KV_NAME, row, name, strlen(name), &bn);
	cs_seal(cs, CS_KV_VALUE, row, val, len, &bv);
	sqlite3_bind_int64(st, 1, row);
	sqlite3_bind_blob(st, 2, tag, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, bn.data, (int)bn.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, bv.data, (int)bv.len, SQLITE_STATIC);
	if (cs_step_done(st) < 0 || cs_commit(cs) < 0) {
		cs_rollback(cs);
		goto done;
	}
	ret = 0;
done:
	buf_wipe_free(&bn);
	buf_wipe_free(&bv);
	return ret;
}

int
client_store_get(struct client_store *cs, const char *name, uint8_t **val,
		 size_t *len)
{
	uint8_t tag[32];
	int ret = 1;

	cs_tag(cs, name, tag);
	sqlite3_stmt *st =
	    db_stmt(cs->db, "SELECT id, value FROM kv WHERE tag = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_blob(st, 1, tag, 32, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ret =
		    cs_open_col(cs, CS_KV_VALUE, sqlite3_column_int64(st, 0),
				sqlite3_column_blob(st, 1),
				(size_t)sqlite3_column_bytes(st, 1), val, len);
	else if (rc != SQLITE_DONE)
		ret = -1;
	db_stmt_done(st);
	return ret;
}

int
client_store_del(struct client_store *cs, const char *name)
{
	uint8_t tag[32];

	cs_tag(cs, name, tag);
	sqlite3_stmt *st = db_stmt(cs->db, "DELETE FROM kv WHERE tag = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_blob(st, 1, tag, 32, SQLITE_STATIC);
	return cs_step_done(st);
}

static void
cs_meta_encode(uint8_t out[CS_META_LEN], const struct client_store_msg *m)
{
	be64_put(out, m->contact);
	memcpy(out + 8, m->id, CLIENT_STORE_MSGID_LEN);
	be64_put(out + 24, m->seq);
	be64_put(out + 32, m->queued_ms);
	be32_put(out + 40, m->nfrag);
}

/* Write row's three sealed columns (insert or replace). */
static int
cs_msg_write(struct client_store *cs, int64_t row,
	     const struct client_store_msg *m)
{
	uint8_t meta[CS_META_LEN];
	struct buf b1, b2, b3;
	int ret;

	buf_init(&b1);
	buf_init(&b2);
	buf_init(&b3);
	cs_meta_encode(meta, m);
	cs_seal(cs, CS_OUT_META, row, meta, sizeof(meta), &b1);
	cs_seal(cs, CS_OUT_BODY, row, m->body, m->body_len, &b2);
	cs_seal(cs, CS_OUT_ACKED, row, m->acked, (m->nfrag + 7) / 8, &b3);
	sqlite3_stmt *st = db_stmt(cs->db, "INSERT OR REPLACE INTO outbox"
					   " (id, meta, body, acked)"
					   " VALUES (?, ?, ?, ?)");
	ret = -1;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, row);
		sqlite3_bind_blob(st, 2, b1.data, (int)b1.len, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, b2.data, (int)b2.len, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, b3.data, (int)b3.len, SQLITE_STATIC);
		ret = cs_step_done(st);
	}
	buf_wipe_free(&b1);
	buf_wipe_free(&b2);
	buf_wipe_free(&b3);
	return ret;
}

static int64_t
cs_next_row(struct client_store *cs, const char *sql)
{
	sqlite3_stmt *st = db_stmt(cs->db, sql);
	int64_t row = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		row = sqlite3_column_int64(st, 0);
	db_stmt_done(st);
	return row;
}

int
client_store_msg_add(struct client_store *cs, struct client_store_msg *m)
{
	if (m->nfrag == 0 || m->acked == NULL || m->body == NULL ||
	    cs_begin(cs) < 0)
		return -1;
	int64_t row = cs_next_row(cs, "SELECT coalesce(max(id), 0) + 1"
				      " FROM outbox");
	if (row < 0 || cs_msg_write(cs, row, m) < 0 || cs_commit(cs) < 0) {
		cs_rollback(cs);
		return -1;
	}
	m->row = row;
	return 0;
}

/* Read and open row; fills m (caller frees acked and body). */
static int
cs_msg_read(struct client_store *cs, sqlite3_stmt *st,
	    struct client_store_msg *m)
{
	uint8_t *meta = NULL;
	size_t len = 0, alen = 0;
	int64_t row = sqlite3_column_int64(st, 0);

	memset(m, 0, sizeof(*m));
	m->row = row;
	if (cs_open_col(cs, CS_OUT_META, row, sqlite3_column_blob(st, 1),
			(size_t)sqlite3_column_bytes(st, 1), &meta, &len) < 0 ||
	    len != CS_META_LEN)
		goto bad;
	m->contact = be64_get(meta);
	memcpy(m->id, meta + 8, CLIENT_STORE_MSGID_LEN);
	m->seq = be64_get(meta + 24);
	m->queued_ms = be64_get(meta + 32);
	m->nfrag = be32_get(meta + 40);
	if (cs_open_col(cs, CS_OUT_BODY, row, sqlite3_column_blob(st, 2),
			(size_t)sqlite3_column_bytes(st, 2), &m->body,
			&m->body_len) < 0 ||
	    cs_open_col(cs, CS_OUT_ACKED, row, sqlite3_column_blob(st, 3),
			(size_t)sqlite3_column_bytes(st, 3), &m->acked,
			&alen) < 0 ||
	    m->nfrag == 0 || alen != (m->nfrag + 7) / 8)
		goto bad;
	free(meta);
	return 0;
bad:
	free(meta);
	BC_FREE(m->body);
	BC_FREE(m->acked);
	return -1;
}

int
client_store_msg_each(struct client_store *cs,
		      int (*fn)(void *ctx, const struct client_store_msg *m),
		      void *ctx)
{
	sqlite3_stmt *st = db_stmt(cs->db, "SELECT id, meta, body, acked"
					   " FROM outbox ORDER BY id");
	int ret = 0;

	if (st == NULL)
		return -1;
	while (ret == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct client_store_msg m;
		if (cs_msg_read(cs, st, &m) < 0) {
			ret = -1;
			break;
		}
		ret = fn(ctx, &m);
		free(m.body);
		free(m.acked);
	}
	db_stmt_done(st);
	return ret;
}

int
client_store_msg_ack(struct client_store *cs, int64_t row, uint32_t idx)
{
	sqlite3_stmt *st = db_stmt(cs->db, "SELECT id, meta, body, acked"
					   " FROM outbox WHERE id = ?");
	struct client_store_msg m;
	int ret = -1;

	if (st == NULL || cs_begin(cs) < 0) {
		db_stmt_done(st);
		return -1;
	}
	sqlite3_bind_int64(st, 1, row);
	bool found =
	    sqlite3_step(st) == SQLITE_ROW && cs_msg_read(cs, st, &m) == 0;
	db_stmt_done(st);
	if (!found) {
		cs_rollback(cs);
		return -1;
	}
	if (idx < m.nfrag) {
		m.acked[idx / 8] |= (uint8_t)(1u << (idx % 8));
		ret = cs_msg_write(cs, row, &m);
	}
	free(m.body);
	free(m.acked);
	if (ret < 0 || cs_commit(cs) < 0) {
		cs_rollback(cs);
		return -1;
	}
	return 0;
}

int
client_store_msg_del(struct client_store *cs, int64_t row)
{
	sqlite3_stmt *st = db_stmt(cs->db, "DELETE FROM outbox WHERE id = ?");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, row);
	return cs_step_done(st);
}

size_t
client_store_msg_count(struct client_store *cs)
{
	int64_t n = cs_next_row(cs, "SELECT count(*) FROM outbox");
	return n > 0 ? (size_t)n : 0;
}

int
client_store_each(struct client_store *cs, const char *prefix,
		  int (*fn)(void *ctx, const char *name, const uint8_t *val,
			    size_t len),
		  void *ctx)
{
	sqlite3_stmt *st = db_stmt(cs->db, "SELECT id, name, value FROM kv"
					   " ORDER BY id");
	size_t plen = strlen(prefix);
	int ret = 0;

	if (st == NULL)
		return -1;
	while (ret == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int64_t row = sqlite3_column_int64(st, 0);
		uint8_t *name = NULL, *val = NULL;
		size_t nlen = 0, vlen = 0;
		if (cs_open_col(cs, CS_KV_NAME, row, sqlite3_column_blob(st, 1),
				(size_t)sqlite3_column_bytes(st, 1), &name,
				&nlen) < 0) {
			ret = -1;
			break;
		}
		if (nlen >= plen && memcmp(name, prefix, plen) == 0) {
			if (cs_open_col(cs, CS_KV_VALUE, row,
					sqlite3_column_blob(st, 2),
					(size_t)sqlite3_column_bytes(st, 2),
					&val, &vlen) < 0)
				ret = -1;
			else
				ret = fn(ctx, (const char *)name, val, vlen);
		}
		if (val != NULL)
			secret_wipe(val, vlen);
		free(val);
		free(name);
	}
	db_stmt_done(st);
	return ret;
}
