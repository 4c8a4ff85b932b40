#include "store/replay.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

#include "lib/alloc.h"
#include "lib/log.h"

#include "store/db.h"
#include "store/schema.h"
#include "store/taglog.h"

#define REPLAY_SET_MIN_CAP 1024

/*
 * One epoch's tags: open addressing with linear probing over an array of
 * bare 32-byte tags; an all-zero slot is empty, and the all-zero tag itself
 * (which a hash output will not be, but the API allows) is a flag.
 */
struct replay_set {
	uint64_t epoch;
	uint8_t (*slots)[REPLAY_TAG_LEN];
	size_t cap;   /* power of two */
	size_t count; /* occupied slots */
	bool has_zero;
};

struct replay_entry {
	uint64_t epoch;
	uint8_t tag[REPLAY_TAG_LEN];
};

struct replay_store {
	pthread_mutex_t mu;    /* sets, pending, next_batch */
	pthread_mutex_t io_mu; /* db and tag files; taken before mu */
	struct db *db;         /* the mailbox's tags, in replay_tags */
	struct taglog *log;    /* ours: one append-only file per epoch */
	uint8_t hkey[16];      /* SipHash key: probe positions unpredictable */
	struct replay_set *sets;
	size_t nsets;
	struct replay_entry *pending;
	size_t npending, cappending;
	uint64_t next_batch;
	_Atomic uint64_t durable;
};

static const char SQL_ERASE[] = "DELETE FROM replay_tags WHERE epoch = ?";
static const char SQL_ERASE_BEFORE[] =
    "DELETE FROM replay_tags WHERE epoch < ?";
static const char SQL_LOAD[] = "SELECT epoch, tag FROM replay_tags";

static uint64_t
rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)     \
	do {                         \
		v0 += v1;            \
		v1 = rotl64(v1, 13); \
		v1 ^= v0;            \
		v0 = rotl64(v0, 32); \
		v2 += v3;            \
		v3 = rotl64(v3, 16); \
		v3 ^= v2;            \
		v0 += v3;            \
		v3 = rotl64(v3, 21); \
		v3 ^= v0;            \
		v2 += v1;            \
		v1 = rotl64(v1, 17); \
		v1 ^= v2;            \
		v2 = rotl64(v2, 32); \
	} while (0)

static uint64_t
le64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/*
 * SipHash-2-4 (Aumasson and Bernstein) of a 32-byte tag: tags are hashes an
 * attacker can grind, so the table position comes from a keyed function
 * rather than from the tag's own bits.
 */
static uint64_t
replay_hash(const uint8_t key[16], const uint8_t *tag)
{
	uint64_t k0 = le64_get(key), k1 = le64_get(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t m;

	for (size_t i = 0; i < REPLAY_TAG_LEN; i += 8) {
		m = le64_get(tag + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	m = (uint64_t)REPLAY_TAG_LEN << 56;
	v3 ^= m;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static bool
tag_is_zero(const uint8_t *tag)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < REPLAY_TAG_LEN; i++)
		acc |= tag[i];
	return acc == 0;
}

/* Index of tag's slot, or of the empty slot where it would go. */
static size_t
set_probe(const struct replay_set *s, const uint8_t key[16], const uint8_t *tag)
{
	size_t mask = s->cap - 1;
	size_t i = (size_t)replay_hash(key, tag) & mask;

	while (!tag_is_zero(s->slots[i]) &&
	       memcmp(s->slots[i], tag, REPLAY_TAG_LEN) != 0)
		i = (i + 1) & mask;
	return i;
}

static void
set_grow(struct replay_set *s, const uint8_t key[16])
{
	struct replay_set old = *s;

	s->cap = old.cap ? old.cap * 2 : REPLAY_SET_MIN_CAP;
	s->slots = bc_calloc(s->cap, REPLAY_TAG_LEN);
	for (size_t i = 0; i < old.cap; i++) {
		if (tag_is_zero(old.slots[i]))
			continue;
		memcpy(s->slots[set_probe(s, key, old.slots[i])], old.slots[i],
		       REPLAY_TAG_LEN);
	}
	free(old.slots);
}

static bool
set_contains(const struct replay_set *s, const uint8_t key[16],
	     const uint8_t *tag)
{
	if (tag_is_zero(tag))
		return s->has_zero;
	return !tag_is_zero(s->slots[set_probe(s, key, tag)]);
}

/* Adds tag; false if it was there already. */
static bool
set_insert(struct replay_set *s, const uint8_t key[16], const uint8_t *tag)
{
	size_t i;

	if (tag_is_zero(tag)) {
		if (s->has_zero)
			return false;
		s->has_zero = true;
		return true;
	}
	/* Load factor at most 3/4 keeps linear probes short. */
	if ((s->count + 1) * 4 > s->cap * 3)
		set_grow(s, key);
	i = set_probe(s, key, tag);
	if (!tag_is_zero(s->slots[i]))
		return false;
	memcpy(s->slots[i], tag, REPLAY_TAG_LEN);
	s->count++;
	return true;
}

static struct replay_set *
set_find(struct replay_store *rs, uint64_t epoch)
{
	for (size_t i = 0; i < rs->nsets; i++)
		if (rs->sets[i].epoch == epoch)
			return &rs->sets[i];
	return NULL;
}

static struct replay_set *
set_get(struct replay_store *rs, uint64_t epoch)
{
	struct replay_set *s = set_find(rs, epoch);

	if (s)
		return s;
	rs->sets = bc_realloc(rs->sets, (rs->nsets + 1) * sizeof(*rs->sets));
	s = &rs->sets[rs->nsets++];
	memset(s, 0, sizeof(*s));
	s->epoch = epoch;
	set_grow(s, rs->hkey);
	return s;
}

/* Drops the sets and pending tags that match (epoch == e, or < e). */
static void
replay_drop_locked(struct replay_store *rs, uint64_t e, bool before)
{
	size_t j = 0;

	for (size_t i = 0; i < rs->nsets; i++) {
		uint64_t se = rs->sets[i].epoch;

		if (before ? se < e : se == e)
			free(rs->sets[i].slots);
		else
			rs->sets[j++] = rs->sets[i];
	}
	rs->nsets = j;
	j = 0;
	for (size_t i = 0; i < rs->npending; i++) {
		uint64_t pe = rs->pending[i].epoch;

		if (!(before ? pe < e : pe == e))
			rs->pending[j++] = rs->pending[i];
	}
	rs->npending = j;
}

static int
replay_load(struct replay_store *rs, char *err, size_t errlen)
{
	sqlite3_stmt *st = db_stmt(rs->db, SQL_LOAD);
	int rc = SQLITE_ERROR;

	if (!st)
		goto bad;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t e = sqlite3_column_int64(st, 0);
		const void *tag = sqlite3_column_blob(st, 1);

		if (e < 0 || !tag ||
		    sqlite3_column_bytes(st, 1) != REPLAY_TAG_LEN) {
			rc = SQLITE_CORRUPT;
			break;
		}
		set_insert(set_get(rs, (uint64_t)e), rs->hkey, tag);
	}
	db_stmt_done(st);
	if (rc == SQLITE_DONE)
		return 0;
bad:
	db_seterr(err, errlen, "%s: cannot load replay tags (%s)",
		  db_path(rs->db), db_errmsg(rs->db));
	return -1;
}

static void
replay_load_tag(void *ctx, uint64_t epoch, const uint8_t *tag)
{
	struct replay_store *rs = ctx;

	set_insert(set_get(rs, epoch), rs->hkey, tag);
}

struct replay_store *
replay_open(const char *path, char *err, size_t errlen)
{
	struct replay_store *rs;
	struct db *db = db_open(path, &store_node_schema, err, errlen);

	if (!db)
		return NULL;
	rs = bc_calloc(1, sizeof(*rs));
	rs->db = db;
	pthread_mutex_init(&rs->mu, NULL);
	pthread_mutex_init(&rs->io_mu, NULL);
	rs->next_batch = 1;
	atomic_init(&rs->durable, 0);
	if (getrandom(rs->hkey, sizeof(rs->hkey), 0) !=
	    (ssize_t)sizeof(rs->hkey)) {
		db_seterr(err, errlen, "replay: getrandom: %s",
			  strerror(errno));
		goto fail;
	}
	if (replay_load(rs, err, errlen) != 0)
		goto fail;
	rs->log = taglog_open(path, replay_load_tag, rs, err, errlen);
	if (!rs->log)
		goto fail;
	return rs;
fail:
	replay_close(rs);
	return NULL;
}

void
replay_close(struct replay_store *rs)
{
	if (!rs)
		return;
	if (rs->npending && replay_flush(rs) != 0)
		log_warn("replay: %zu tags not flushed at close", rs->npending);
	for (size_t i = 0; i < rs->nsets; i++)
		free(rs->sets[i].slots);
	free(rs->sets);
	free(rs->pending);
	taglog_close(rs->log);
	DB_CLOSE(rs->db);
	pthread_mutex_destroy(&rs->mu);
	pthread_mutex_destroy(&rs->io_mu);
	free(rs);
}

bool
replay_seen(struct replay_store *rs, uint64_t epoch,
	    const uint8_t tag[REPLAY_TAG_LEN])
{
	const struct replay_set *s;
	bool seen = false;

	if (!rs || !tag)
		return false;
	pthread_mutex_lock(&rs->mu);
	s = set_find(rs, epoch);
	if (s)
		seen = set_contains(s, rs->hkey, tag);
	pthread_mutex_unlock(&rs->mu);
	return seen;
}

enum replay_add_result
replay_add(struct replay_store *rs, uint64_t epoch,
	   const uint8_t tag[REPLAY_TAG_LEN], uint64_t *batch)
{
	enum replay_add_result r = REPLAY_DUPLICATE;
	struct replay_entry *e;

	if (!rs || !tag || epoch > (uint64_t)INT64_MAX)
		return REPLAY_BADARG;
	pthread_mutex_lock(&rs->mu);
	if (set_insert(set_get(rs, epoch), rs->hkey, tag)) {
		if (rs->npending == rs->cappending) {
			rs->cappending =
			    rs->cappending ? rs->cappending * 2 : 256;
			rs->pending = bc_realloc(
			    rs->pending, rs->cappending * sizeof(*rs->pending));
		}
		e = &rs->pending[rs->npending++];
		e->epoch = epoch;
		memcpy(e->tag, tag, REPLAY_TAG_LEN);
		if (batch)
			*batch = rs->next_batch;
		r = REPLAY_ADDED;
	}
	pthread_mutex_unlock(&rs->mu);
	return r;
}

/*
 * Appends a batch to the tag files, one append (a write and an fdatasync)
 * per epoch.  A batch nearly always holds one epoch (two in the grace
 * window), so grouping is a pass per epoch rather than a sort.  A failure
 * part-way leaves earlier epochs written: the retry writes them again,
 * and a tag twice on disk is loaded once.
 */
static int
replay_write(struct taglog *log, const struct replay_entry *v, size_t n)
{
	uint8_t *tags = bc_malloc(n * REPLAY_TAG_LEN);
	bool *done = bc_calloc(n, sizeof(*done));
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t k = 0;

		if (done[i])
			continue;
		for (size_t j = i; j < n; j++) {
			if (done[j] || v[j].epoch != v[i].epoch)
				continue;
			memcpy(tags + k++ * REPLAY_TAG_LEN, v[j].tag,
			       REPLAY_TAG_LEN);
			done[j] = true;
		}
		rc = taglog_append(log, v[i].epoch, tags, k);
	}
	free(done);
	free(tags);
	return rc;
}

/* Puts a batch that failed to commit back in front of what is pending. */
static void
replay_requeue_locked(struct replay_store *rs, struct replay_entry *v, size_t n)
{
	size_t total = n + rs->npending;

	if (total > rs->cappending) {
		rs->cappending = total;
		rs->pending =
		    bc_realloc(rs->pending, total * sizeof(*rs->pending));
	}
	memmove(rs->pending + n, rs->pending,
		rs->npending * sizeof(*rs->pending));
	memcpy(rs->pending, v, n * sizeof(*v));
	rs->npending = total;
}

int
replay_flush(struct replay_store *rs)
{
	struct replay_entry *batch;
	size_t n;
	uint64_t seq;
	int rc = 0;

	if (!rs)
		return -1;
	pthread_mutex_lock(&rs->io_mu);
	pthread_mutex_lock(&rs->mu);
	n = rs->npending;
	batch = rs->pending;
	seq = rs->next_batch;
	if (n) {
		rs->pending = NULL;
		rs->npending = rs->cappending = 0;
		rs->next_batch++;
	}
	pthread_mutex_unlock(&rs->mu);
	if (n == 0)
		goto done;
	if (replay_write(rs->log, batch, n) == 0) {
		atomic_store(&rs->durable, seq);
	} else {
		rc = -1;
		pthread_mutex_lock(&rs->mu);
		replay_requeue_locked(rs, batch, n);
		pthread_mutex_unlock(&rs->mu);
	}
	free(batch);
done:
	pthread_mutex_unlock(&rs->io_mu);
	return rc;
}

uint64_t
replay_durable(struct replay_store *rs)
{
	return rs ? atomic_load(&rs->durable) : 0;
}

size_t
replay_pending(struct replay_store *rs)
{
	size_t n;

	if (!rs)
		return 0;
	pthread_mutex_lock(&rs->mu);
	n = rs->npending;
	pthread_mutex_unlock(&rs->mu);
	return n;
}

static int
replay_erase(struct replay_store *rs, uint64_t epoch, bool before)
{
	sqlite3_stmt *st;
	int rc = -1;

	if (!rs || epoch > (uint64_t)INT64_MAX)
		return -1;
	pthread_mutex_lock(&rs->io_mu);
	st = db_stmt(rs->db, before ? SQL_ERASE_BEFORE : SQL_ERASE);
	if (st) {
		sqlite3_bind_int64(st, 1, (int64_t)epoch);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		if (rc != 0)
			log_warn("replay: erase: %s", db_errmsg(rs->db));
		db_stmt_done(st);
	}
	if (taglog_erase(rs->log, epoch, before) != 0)
		rc = -1;
	/* Memory goes in any case: the key is gone, and a later erase (or
	 * replay_erase_before at start-up) removes what stayed on disk. */
	pthread_mutex_lock(&rs->mu);
	replay_drop_locked(rs, epoch, before);
	pthread_mutex_unlock(&rs->mu);
	pthread_mutex_unlock(&rs->io_mu);
	return rc;
}

int
replay_erase_epoch(struct replay_store *rs, uint64_t epoch)
{
	return replay_erase(rs, epoch, false);
}

int
replay_erase_before(struct replay_store *rs, uint64_t epoch)
{
	return replay_erase(rs, epoch, true);
}

size_t
replay_count(struct replay_store *rs, uint64_t epoch)
{
	const struct replay_set *s;
	size_t n = 0;

	if (!rs)
		return 0;
	pthread_mutex_lock(&rs->mu);
	s = set_find(rs, epoch);
	if (s)
		n = s->count + (s->has_zero ? 1 : 0);
	pthread_mutex_unlock(&rs->mu);
	return n;
}

void
replay_set_io(struct replay_store *rs, const struct taglog_io *io)
{
	if (!rs)
		return;
	pthread_mutex_lock(&rs->io_mu);
	taglog_set_io(rs->log, io);
	pthread_mutex_unlock(&rs->io_mu);
}
