#include "store/mailbox.h"

#include <pthread.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/time.h"

#include "store/db.h"
#include "store/schema.h"

#define MAILBOX_EXPIRE_CHUNK 1000

struct mailbox {
	pthread_mutex_t mu;
	struct db *db;
	struct mailbox_config cfg;
	struct mailbox_counters c; /* event counters; totals filled on read */
};

struct account {
	int64_t id, max_items, max_queues, item_count, queue_count;
};

static const char SQL_ACCOUNT[] =
    "SELECT id, max_items, max_queues, item_count, queue_count"
    " FROM accounts WHERE link_key = ?";
static const char SQL_ACCOUNT_INSERT[] =
    "INSERT INTO accounts (link_key, created_ms, max_items, max_queues)"
    " VALUES (?, ?, ?, ?)";
static const char SQL_ACCOUNT_QUOTA[] =
    "UPDATE accounts SET max_items = ?, max_queues = ? WHERE id = ?";
static const char SQL_INVITE_INSERT[] =
    "INSERT OR IGNORE INTO invitations (token_hash, expires_ms)"
    " VALUES (?, ?)";
static const char SQL_INVITE_TAKE[] =
    "DELETE FROM invitations WHERE token_hash = ? AND expires_ms > ?";
static const char SQL_INVITE_EXPIRE[] =
    "DELETE FROM invitations WHERE expires_ms <= ?";
static const char SQL_QUEUE_TAKEN[] =
    "SELECT 1 FROM queues WHERE queue_id = ?1"
    " UNION ALL SELECT 1 FROM deleted_queues WHERE queue_id = ?1";
static const char SQL_QUEUE_INSERT[] =
    "INSERT INTO queues (queue_id, account, created_ms) VALUES (?, ?, ?)";
static const char SQL_QUEUE_OWNED[] =
    "SELECT id FROM queues WHERE queue_id = ? AND account = ?";
static const char SQL_QUEUE_ITEMS_DELETE[] =
    "DELETE FROM items WHERE queue = ?";
static const char SQL_QUEUE_DELETE[] = "DELETE FROM queues WHERE id = ?";
static const char SQL_QUEUE_BLOCK[] =
    "INSERT INTO deleted_queues (queue_id, deleted_ms) VALUES (?, ?)";
static const char SQL_DELIVER_QUEUE[] =
    "SELECT q.id, q.account, q.item_count, a.item_count, a.max_items"
    " FROM queues q JOIN accounts a ON a.id = q.account"
    " WHERE q.queue_id = ?";
static const char SQL_TAG_SEEN[] =
    "SELECT 1 FROM replay_tags WHERE epoch = ? AND tag = ?";
static const char SQL_TAG_INSERT[] =
    "INSERT INTO replay_tags (epoch, tag) VALUES (?, ?)";
static const char SQL_ITEM_INSERT[] =
    "INSERT INTO items (queue, account, arrival_ms, blob)"
    " VALUES (?, ?, ?, ?)";
static const char SQL_FETCH[] = "SELECT i.id, q.queue_id, i.arrival_ms, i.blob"
				" FROM items i JOIN queues q ON q.id = i.queue"
				" WHERE i.account = ? ORDER BY i.id LIMIT ?";
static const char SQL_CONFIRM[] =
    "DELETE FROM items WHERE id = ? AND account = ?";
static const char SQL_EXPIRE[] =
    "DELETE FROM items WHERE id IN (SELECT id FROM items"
    " WHERE arrival_ms < ? ORDER BY arrival_ms LIMIT ?)";
static const char SQL_TOTALS[] =
    "SELECT (SELECT IFNULL(SUM(item_count), 0) FROM accounts),"
    " (SELECT COUNT(*) FROM queues), (SELECT COUNT(*) FROM accounts)";

const char *
mailbox_status_str(enum mailbox_status s)
{
	switch (s) {
	case MAILBOX_OK:
		return "ok";
	case MAILBOX_DUPLICATE:
		return "duplicate";
	case MAILBOX_NO_QUEUE:
		return "no-queue";
	case MAILBOX_QUEUE_FULL:
		return "queue-full";
	case MAILBOX_ACCOUNT_FULL:
		return "account-full";
	case MAILBOX_NO_ACCOUNT:
		return "no-account";
	case MAILBOX_EXISTS:
		return "exists";
	case MAILBOX_REFUSED:
		return "refused";
	case MAILBOX_BADARG:
		return "bad-argument";
	case MAILBOX_ERROR:
		return "error";
	}
	return "unknown";
}

void
mailbox_config_defaults(struct mailbox_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->admission = MAILBOX_ADMIT_OPEN;
	cfg->retention_ms = MAILBOX_DEFAULT_RETENTION_MS;
	cfg->queue_max_items = MAILBOX_DEFAULT_QUEUE_ITEMS;
	cfg->account_max_items = MAILBOX_DEFAULT_ACCOUNT_ITEMS;
	cfg->account_max_queues = MAILBOX_DEFAULT_ACCOUNT_QUEUES;
}

static int64_t
mb_now(const struct mailbox *mb)
{
	if (mb->cfg.now_ms)
		return mb->cfg.now_ms(mb->cfg.now_arg);
	return time_wall_ms();
}

struct mailbox *
mailbox_open(const char *path, const struct mailbox_config *cfg, char *err,
	     size_t errlen)
{
	struct mailbox *mb;
	struct db *db;

	if (!cfg || cfg->item_size == 0 || cfg->item_size > MAILBOX_ITEM_MAX ||
	    cfg->retention_ms <= 0 || cfg->queue_max_items == 0 ||
	    cfg->account_max_items == 0 || cfg->account_max_queues == 0 ||
	    (cfg->admission != MAILBOX_ADMIT_OPEN &&
	     cfg->admission != MAILBOX_ADMIT_INVITE)) {
		db_seterr(err, errlen,
			  "mailbox: invalid configuration (item size 1..%d, "
			  "retention and quotas above 0)",
			  MAILBOX_ITEM_MAX);
		return NULL;
	}
	db = db_open(path, &store_node_schema, err, errlen);
	if (!db)
		return NULL;
	mb = bc_calloc(1, sizeof(*mb));
	pthread_mutex_init(&mb->mu, NULL);
	mb->db = db;
	mb->cfg = *cfg;
	return mb;
}

void
mailbox_close(struct mailbox *mb)
{
	if (!mb)
		return;
	DB_CLOSE(mb->db);
	pthread_mutex_destroy(&mb->mu);
	free(mb);
}

/* Steps a statement that returns no rows, then resets it. */
static int
step_done(struct db *db, sqlite3_stmt *st)
{
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

	if (rc != SQLITE_DONE)
		log_warn("mailbox: %s", db_errmsg(db));
	db_stmt_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* 0 found, 1 not registered, -1 database error. */
static int
account_get(struct mailbox *mb, const uint8_t *key, struct account *a)
{
	sqlite3_stmt *st = db_stmt(mb->db, SQL_ACCOUNT);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, key, MAILBOX_KEY_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		a->id = sqlite3_column_int64(st, 0);
		a->max_items = sqlite3_column_int64(st, 1);
		a->max_queues = sqlite3_column_int64(st, 2);
		a->item_count = sqlite3_column_int64(st, 3);
		a->queue_count = sqlite3_column_int64(st, 4);
	}
	db_stmt_done(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : -1;
}

/* Looks up the account; counts a refusal or an error. */
static enum mailbox_status
account_need(struct mailbox *mb, const uint8_t *key, struct account *a)
{
	int rc = account_get(mb, key, a);

	if (rc == 0)
		return MAILBOX_OK;
	if (rc > 0) {
		mb->c.refused++;
		return MAILBOX_NO_ACCOUNT;
	}
	mb->c.errors++;
	return MAILBOX_ERROR;
}

/* Ends a transaction: commit on OK, rollback otherwise. */
static enum mailbox_status
tx_end(struct mailbox *mb, enum mailbox_status s)
{
	if (s != MAILBOX_OK) {
		db_rollback(mb->db);
		if (s == MAILBOX_ERROR)
			mb->c.errors++;
		return s;
	}
	if (db_commit(mb->db) != 0) {
		mb->c.errors++;
		return MAILBOX_ERROR;
	}
	return MAILBOX_OK;
}

enum mailbox_status
mailbox_invite_add(struct mailbox *mb,
		   const uint8_t token_hash[MAILBOX_TOKEN_HASH_LEN],
		   int64_t expires_ms)
{
	enum mailbox_status s = MAILBOX_ERROR;
	sqlite3_stmt *st;

	if (!mb || !token_hash)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	st = db_stmt(mb->db, SQL_INVITE_INSERT);
	if (st) {
		sqlite3_bind_blob(st, 1, token_hash, MAILBOX_TOKEN_HASH_LEN,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, expires_ms);
		if (step_done(mb->db, st) == 0)
			s = db_changes(mb->db) == 1 ? MAILBOX_OK
						    : MAILBOX_EXISTS;
	}
	if (s == MAILBOX_ERROR)
		mb->c.errors++;
	pthread_mutex_unlock(&mb->mu);
	return s;
}

/* Inside the register transaction: admission, then the insert. */
static enum mailbox_status
register_tx(struct mailbox *mb, const uint8_t *key, const uint8_t *token_hash,
	    int64_t now)
{
	struct account a;
	sqlite3_stmt *st;
	int rc = account_get(mb, key, &a);

	if (rc < 0)
		return MAILBOX_ERROR;
	if (rc == 0)
		return MAILBOX_EXISTS;
	if (mb->cfg.admission == MAILBOX_ADMIT_INVITE) {
		if (!token_hash)
			return MAILBOX_REFUSED;
		st = db_stmt(mb->db, SQL_INVITE_TAKE);
		if (!st)
			return MAILBOX_ERROR;
		sqlite3_bind_blob(st, 1, token_hash, MAILBOX_TOKEN_HASH_LEN,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		if (step_done(mb->db, st) != 0)
			return MAILBOX_ERROR;
		if (db_changes(mb->db) != 1)
			return MAILBOX_REFUSED;
	}
	st = db_stmt(mb->db, SQL_ACCOUNT_INSERT);
	if (!st)
		return MAILBOX_ERROR;
	sqlite3_bind_blob(st, 1, key, MAILBOX_KEY_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, mb->cfg.account_max_items);
	sqlite3_bind_int64(st, 4, mb->cfg.account_max_queues);
	return step_done(mb->db, st) == 0 ? MAILBOX_OK : MAILBOX_ERROR;
}

enum mailbox_status
mailbox_register(struct mailbox *mb, const uint8_t link_key[MAILBOX_KEY_LEN],
		 const uint8_t *token_hash)
{
	enum mailbox_status s;

	if (!mb || !link_key)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	if (db_begin(mb->db) != 0) {
		mb->c.errors++;
		s = MAILBOX_ERROR;
		goto done;
	}
	s = tx_end(mb, register_tx(mb, link_key, token_hash, mb_now(mb)));
	if (s == MAILBOX_OK)
		mb->c.registered++;
	else if (s == MAILBOX_REFUSED || s == MAILBOX_EXISTS)
		mb->c.register_refused++;
done:
	pthread_mutex_unlock(&mb->mu);
	return s;
}

enum mailbox_status
mailbox_account_set_quota(struct mailbox *mb,
			  const uint8_t link_key[MAILBOX_KEY_LEN],
			  uint32_t max_items, uint32_t max_queues)
{
	enum mailbox_status s;
	struct account a;
	sqlite3_stmt *st;

	if (!mb || !link_key)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	s = account_need(mb, link_key, &a);
	if (s != MAILBOX_OK)
		goto done;
	st = db_stmt(mb->db, SQL_ACCOUNT_QUOTA);
	s = MAILBOX_ERROR;
	if (st) {
		sqlite3_bind_int64(st, 1, max_items);
		sqlite3_bind_int64(st, 2, max_queues);
		sqlite3_bind_int64(st, 3, a.id);
		if (step_done(mb->db, st) == 0)
			s = MAILBOX_OK;
	}
	if (s == MAILBOX_ERROR)
		mb->c.errors++;
done:
	pthread_mutex_unlock(&mb->mu);
	return s;
}

/* 1 if the id is used or blocked, 0 if free, -1 on error. */
static int
queue_taken(struct mailbox *mb, const uint8_t *qid)
{
	sqlite3_stmt *st = db_stmt(mb->db, SQL_QUEUE_TAKEN);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, qid, MAILBOX_QUEUE_ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	db_stmt_done(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

static enum mailbox_status
queue_create_tx(struct mailbox *mb, const uint8_t *key, const uint8_t *qid)
{
	struct account a;
	sqlite3_stmt *st;
	enum mailbox_status s = account_need(mb, key, &a);
	int rc;

	if (s != MAILBOX_OK)
		return s;
	if (a.queue_count >= a.max_queues)
		return MAILBOX_ACCOUNT_FULL;
	rc = queue_taken(mb, qid);
	if (rc != 0)
		return rc > 0 ? MAILBOX_EXISTS : MAILBOX_ERROR;
	st = db_stmt(mb->db, SQL_QUEUE_INSERT);
	if (!st)
		return MAILBOX_ERROR;
	sqlite3_bind_blob(st, 1, qid, MAILBOX_QUEUE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a.id);
	sqlite3_bind_int64(st, 3, mb_now(mb));
	return step_done(mb->db, st) == 0 ? MAILBOX_OK : MAILBOX_ERROR;
}

enum mailbox_status
mailbox_queue_create(struct mailbox *mb,
		     const uint8_t link_key[MAILBOX_KEY_LEN],
		     const uint8_t queue_id[MAILBOX_QUEUE_ID_LEN])
{
	enum mailbox_status s = MAILBOX_ERROR;

	if (!mb || !link_key || !queue_id)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	if (db_begin(mb->db) == 0)
		s = tx_end(mb, queue_create_tx(mb, link_key, queue_id));
	else
		mb->c.errors++;
	if (s == MAILBOX_OK)
		mb->c.queues_created++;
	pthread_mutex_unlock(&mb->mu);
	return s;
}

/* Binds one int64 and steps a statement that returns no rows. */
static int
exec_id(struct mailbox *mb, const char *sql, int64_t id)
{
	sqlite3_stmt *st = db_stmt(mb->db, sql);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return step_done(mb->db, st);
}

static enum mailbox_status
queue_delete_tx(struct mailbox *mb, const uint8_t *key, const uint8_t *qid)
{
	struct account a;
	sqlite3_stmt *st;
	enum mailbox_status s = account_need(mb, key, &a);
	int64_t q;
	int rc;

	if (s != MAILBOX_OK)
		return s;
	st = db_stmt(mb->db, SQL_QUEUE_OWNED);
	if (!st)
		return MAILBOX_ERROR;
	sqlite3_bind_blob(st, 1, qid, MAILBOX_QUEUE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a.id);
	rc = sqlite3_step(st);
	q = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	db_stmt_done(st);
	if (rc == SQLITE_DONE) {
		mb->c.refused++;
		return MAILBOX_NO_QUEUE;
	}
	if (rc != SQLITE_ROW || exec_id(mb, SQL_QUEUE_ITEMS_DELETE, q) != 0 ||
	    exec_id(mb, SQL_QUEUE_DELETE, q) != 0)
		return MAILBOX_ERROR;
	st = db_stmt(mb->db, SQL_QUEUE_BLOCK);
	if (!st)
		return MAILBOX_ERROR;
	sqlite3_bind_blob(st, 1, qid, MAILBOX_QUEUE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, mb_now(mb));
	return step_done(mb->db, st) == 0 ? MAILBOX_OK : MAILBOX_ERROR;
}

enum mailbox_status
mailbox_queue_delete(struct mailbox *mb,
		     const uint8_t link_key[MAILBOX_KEY_LEN],
		     const uint8_t queue_id[MAILBOX_QUEUE_ID_LEN])
{
	enum mailbox_status s = MAILBOX_ERROR;

	if (!mb || !link_key || !queue_id)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	if (db_begin(mb->db) == 0)
		s = tx_end(mb, queue_delete_tx(mb, link_key, queue_id));
	else
		mb->c.errors++;
	if (s == MAILBOX_OK)
		mb->c.queues_deleted++;
	pthread_mutex_unlock(&mb->mu);
	return s;
}

/* 1 if the tag is stored, 0 if not, -1 on error. */
static int
tag_seen(struct mailbox *mb, int64_t epoch, const uint8_t *tag)
{
	sqlite3_stmt *st = db_stmt(mb->db, SQL_TAG_SEEN);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, epoch);
	sqlite3_bind_blob(st, 2, tag, MAILBOX_TAG_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	db_stmt_done(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The checks and inserts of one delivery, inside its transaction. */
static enum mailbox_status
deliver_tx(struct mailbox *mb, const struct mailbox_delivery *d)
{
	sqlite3_stmt *st;
	int64_t q = 0, acct = 0, qcount = 0, acount = 0, amax = 0;
	int rc = tag_seen(mb, (int64_t)d->replay_epoch, d->replay_tag);

	if (rc != 0)
		return rc > 0 ? MAILBOX_DUPLICATE : MAILBOX_ERROR;
	st = db_stmt(mb->db, SQL_DELIVER_QUEUE);
	if (!st)
		return MAILBOX_ERROR;
	sqlite3_bind_blob(st, 1, d->queue_id, MAILBOX_QUEUE_ID_LEN,
			  SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		q = sqlite3_column_int64(st, 0);
		acct = sqlite3_column_int64(st, 1);
		qcount = sqlite3_column_int64(st, 2);
		acount = sqlite3_column_int64(st, 3);
		amax = sqlite3_column_int64(st, 4);
	}
	db_stmt_done(st);
	if (rc == SQLITE_DONE)
		return MAILBOX_NO_QUEUE;
	if (rc != SQLITE_ROW)
		return MAILBOX_ERROR;
	if (qcount >= (int64_t)mb->cfg.queue_max_items)
		return MAILBOX_QUEUE_FULL;
	if (acount >= amax)
		return MAILBOX_ACCOUNT_FULL;
	st = db_stmt(mb->db, SQL_TAG_INSERT);
	if (!st)
		return MAILBOX_ERROR;
	sqlite3_bind_int64(st, 1, (int64_t)d->replay_epoch);
	sqlite3_bind_blob(st, 2, d->replay_tag, MAILBOX_TAG_LEN, SQLITE_STATIC);
	if (step_done(mb->db, st) != 0)
		return MAILBOX_ERROR;
	st = db_stmt(mb->db, SQL_ITEM_INSERT);
	if (!st)
		return MAILBOX_ERROR;
	sqlite3_bind_int64(st, 1, q);
	sqlite3_bind_int64(st, 2, acct);
	sqlite3_bind_int64(st, 3, mb_now(mb));
	sqlite3_bind_blob(st, 4, d->blob, (int)d->bloblen, SQLITE_STATIC);
	return step_done(mb->db, st) == 0 ? MAILBOX_OK : MAILBOX_ERROR;
}

static void
deliver_count(struct mailbox *mb, enum mailbox_status s)
{
	switch (s) {
	case MAILBOX_OK:
		mb->c.delivered++;
		break;
	case MAILBOX_DUPLICATE:
		mb->c.duplicate++;
		break;
	case MAILBOX_NO_QUEUE:
		mb->c.no_queue++;
		break;
	case MAILBOX_QUEUE_FULL:
		mb->c.queue_full++;
		break;
	case MAILBOX_ACCOUNT_FULL:
		mb->c.account_full++;
		break;
	case MAILBOX_NO_ACCOUNT:
	case MAILBOX_EXISTS:
	case MAILBOX_REFUSED:
	case MAILBOX_BADARG:
	case MAILBOX_ERROR:
		break;
	}
}

static bool
delivery_ok(const struct mailbox *mb, const struct mailbox_delivery *d)
{
	return d->queue_id && d->blob && d->replay_tag &&
	       d->bloblen == mb->cfg.item_size &&
	       d->replay_epoch <= (uint64_t)INT64_MAX;
}

enum mailbox_status
mailbox_deliver(struct mailbox *mb,
		const uint8_t queue_id[MAILBOX_QUEUE_ID_LEN],
		const uint8_t *blob, size_t bloblen, uint64_t replay_epoch,
		const uint8_t replay_tag[MAILBOX_TAG_LEN])
{
	struct mailbox_delivery d = {queue_id, blob, bloblen, replay_epoch,
				     replay_tag};
	enum mailbox_status s = MAILBOX_ERROR;

	if (!mb || !delivery_ok(mb, &d))
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	if (db_begin(mb->db) == 0)
		s = tx_end(mb, deliver_tx(mb, &d));
	else
		mb->c.errors++;
	deliver_count(mb, s);
	pthread_mutex_unlock(&mb->mu);
	return s;
}

/*
 * deliver_tx writes nothing unless it returns MAILBOX_OK or MAILBOX_ERROR,
 * so only an error needs undoing, and an error undoes the whole batch.
 */
static enum mailbox_status
deliver_batch_tx(struct mailbox *mb, const struct mailbox_delivery *d, size_t n,
		 enum mailbox_status *results)
{
	for (size_t i = 0; i < n; i++) {
		results[i] = delivery_ok(mb, &d[i]) ? deliver_tx(mb, &d[i])
						    : MAILBOX_BADARG;
		if (results[i] == MAILBOX_ERROR)
			return MAILBOX_ERROR;
	}
	return MAILBOX_OK;
}

enum mailbox_status
mailbox_deliver_batch(struct mailbox *mb, const struct mailbox_delivery *d,
		      size_t n, enum mailbox_status *results)
{
	enum mailbox_status s = MAILBOX_ERROR;

	if (!mb || !d || !results || n == 0 || n > MAILBOX_BATCH_MAX)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	if (db_begin(mb->db) == 0)
		s = tx_end(mb, deliver_batch_tx(mb, d, n, results));
	else
		mb->c.errors++;
	for (size_t i = 0; i < n; i++) {
		if (s != MAILBOX_OK)
			results[i] = MAILBOX_ERROR;
		deliver_count(mb, results[i]);
	}
	pthread_mutex_unlock(&mb->mu);
	return s;
}

/* Reads one fetched row into items[i] and the caller's buffer. */
static int
fetch_row(struct mailbox *mb, sqlite3_stmt *st, struct mailbox_item *it,
	  uint8_t *blob)
{
	const void *qid = sqlite3_column_blob(st, 1);
	const void *b = sqlite3_column_blob(st, 3);

	if (!qid || sqlite3_column_bytes(st, 1) != MAILBOX_QUEUE_ID_LEN || !b ||
	    (size_t)sqlite3_column_bytes(st, 3) != mb->cfg.item_size) {
		/* Only if item_size changed under a full mailbox. */
		log_warn("mailbox: stored item of unexpected size");
		return -1;
	}
	it->id = (uint64_t)sqlite3_column_int64(st, 0);
	memcpy(it->queue_id, qid, MAILBOX_QUEUE_ID_LEN);
	it->arrival_ms = sqlite3_column_int64(st, 2);
	memcpy(blob, b, mb->cfg.item_size);
	it->blob = blob;
	return 0;
}

enum mailbox_status
mailbox_fetch(struct mailbox *mb, const uint8_t link_key[MAILBOX_KEY_LEN],
	      struct mailbox_item *items, size_t max, uint8_t *blobs,
	      size_t blobcap, size_t *n)
{
	enum mailbox_status s;
	struct account a;
	sqlite3_stmt *st;
	size_t got = 0;
	int rc = SQLITE_ERROR;

	if (n)
		*n = 0;
	if (!mb || !link_key || !items || !blobs || !n || max == 0 ||
	    max > MAILBOX_BATCH_MAX || blobcap / mb->cfg.item_size < max)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	s = account_need(mb, link_key, &a);
	if (s != MAILBOX_OK)
		goto done;
	st = db_stmt(mb->db, SQL_FETCH);
	if (st) {
		sqlite3_bind_int64(st, 1, a.id);
		sqlite3_bind_int64(st, 2, (int64_t)max);
		while (got < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (fetch_row(mb, st, &items[got],
				      blobs + got * mb->cfg.item_size) != 0)
				break;
			got++;
		}
		db_stmt_done(st);
	}
	if (rc != SQLITE_DONE && got < max) {
		mb->c.errors++;
		s = MAILBOX_ERROR;
		goto done;
	}
	*n = got;
	mb->c.fetched += got;
done:
	pthread_mutex_unlock(&mb->mu);
	return s;
}

static enum mailbox_status
confirm_tx(struct mailbox *mb, int64_t acct, const uint64_t *ids, size_t n,
	   size_t *deleted)
{
	sqlite3_stmt *st;

	for (size_t i = 0; i < n; i++) {
		if (ids[i] > (uint64_t)INT64_MAX)
			continue; /* never an id: nothing to delete */
		st = db_stmt(mb->db, SQL_CONFIRM);
		if (!st)
			return MAILBOX_ERROR;
		sqlite3_bind_int64(st, 1, (int64_t)ids[i]);
		sqlite3_bind_int64(st, 2, acct);
		if (step_done(mb->db, st) != 0)
			return MAILBOX_ERROR;
		*deleted += (size_t)db_changes(mb->db);
	}
	return MAILBOX_OK;
}

enum mailbox_status
mailbox_confirm(struct mailbox *mb, const uint8_t link_key[MAILBOX_KEY_LEN],
		const uint64_t *ids, size_t n, size_t *deleted)
{
	enum mailbox_status s;
	struct account a;
	size_t del = 0;

	if (deleted)
		*deleted = 0;
	if (!mb || !link_key || !ids || n == 0 || n > MAILBOX_BATCH_MAX)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	if (db_begin(mb->db) != 0) {
		mb->c.errors++;
		s = MAILBOX_ERROR;
		goto done;
	}
	s = account_need(mb, link_key, &a);
	if (s == MAILBOX_OK)
		s = confirm_tx(mb, a.id, ids, n, &del);
	s = tx_end(mb, s);
	if (s == MAILBOX_OK) {
		mb->c.confirmed += del;
		if (deleted)
			*deleted = del;
	}
done:
	pthread_mutex_unlock(&mb->mu);
	return s;
}

enum mailbox_status
mailbox_expire(struct mailbox *mb, size_t *expired)
{
	enum mailbox_status s = MAILBOX_OK;
	sqlite3_stmt *st;
	int64_t now, changed;
	size_t total = 0;

	if (expired)
		*expired = 0;
	if (!mb)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	now = mb_now(mb);
	do {
		/* Autocommit: each chunk is its own short transaction. */
		st = db_stmt(mb->db, SQL_EXPIRE);
		if (!st) {
			s = MAILBOX_ERROR;
			break;
		}
		sqlite3_bind_int64(st, 1, now - mb->cfg.retention_ms);
		sqlite3_bind_int64(st, 2, MAILBOX_EXPIRE_CHUNK);
		if (step_done(mb->db, st) != 0) {
			s = MAILBOX_ERROR;
			break;
		}
		changed = db_changes(mb->db);
		total += (size_t)changed;
	} while (changed == MAILBOX_EXPIRE_CHUNK);
	if (s == MAILBOX_OK && exec_id(mb, SQL_INVITE_EXPIRE, now) != 0)
		s = MAILBOX_ERROR;
	if (s == MAILBOX_ERROR)
		mb->c.errors++;
	mb->c.expired += total;
	if (expired)
		*expired = total;
	pthread_mutex_unlock(&mb->mu);
	return s;
}

enum mailbox_status
mailbox_counters(struct mailbox *mb, struct mailbox_counters *out)
{
	enum mailbox_status s = MAILBOX_ERROR;
	sqlite3_stmt *st;

	if (!mb || !out)
		return MAILBOX_BADARG;
	pthread_mutex_lock(&mb->mu);
	*out = mb->c;
	st = db_stmt(mb->db, SQL_TOTALS);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		out->items = sqlite3_column_int64(st, 0);
		out->queues = sqlite3_column_int64(st, 1);
		out->accounts = sqlite3_column_int64(st, 2);
		s = MAILBOX_OK;
	}
	db_stmt_done(st);
	pthread_mutex_unlock(&mb->mu);
	return s;
}
