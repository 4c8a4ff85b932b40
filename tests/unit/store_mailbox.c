#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/mailbox.h"
#include "store/replay.h"

#define ITEM   64
#define DAY_MS (24LL * 3600 * 1000)

static char dir[64];
static char path[128];
static int64_t fake_now = 1700000000000LL;

static int64_t
clock_fake(void *arg)
{
	(void)arg;
	return fake_now;
}

static void
setup(void)
{
	strncpy(dir, "/tmp/bc-store-mailbox-XXXXXX", sizeof(dir));
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gateway.db", dir);
	fake_now = 1700000000000LL;
}

static void
teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* 32 bytes filled with one value: keys, queue ids, tags, token hashes. */
static const uint8_t *
id32(uint8_t kind, uint32_t n)
{
	static uint8_t buf[8][32];
	static int next;
	uint8_t *p = buf[next++ % 8];

	memset(p, kind, 32);
	memcpy(p + 1, &n, sizeof(n));
	return p;
}

#define KEY(n)   id32(0x4b, (n))
#define QID(n)   id32(0x51, (n))
#define TAG(n)   id32(0x54, (n))
#define TOKEN(n) id32(0x6f, (n))

static const uint8_t *
blob_of(uint32_t n)
{
	static uint8_t b[ITEM];

	memset(b, 0xb0, sizeof(b));
	memcpy(b, &n, sizeof(n));
	return b;
}

static struct mailbox_config
config(enum mailbox_admission adm)
{
	struct mailbox_config c;

	mailbox_config_defaults(&c);
	c.item_size = ITEM;
	c.admission = adm;
	c.now_ms = clock_fake;
	return c;
}

static struct mailbox *
open_cfg(const struct mailbox_config *c)
{
	char err[256];
	struct mailbox *mb = mailbox_open(path, c, err, sizeof(err));

	cr_assert_not_null(mb, "mailbox_open: %s", err);
	return mb;
}

static struct mailbox *
open_mb(void)
{
	struct mailbox_config c = config(MAILBOX_ADMIT_OPEN);

	return open_cfg(&c);
}

#define ST(expr, want)                                                  \
	do {                                                            \
		enum mailbox_status st_ = (expr);                       \
		cr_assert_eq(st_, (want), "%s: got %s, want %s", #expr, \
			     mailbox_status_str(st_),                   \
			     mailbox_status_str(want));                 \
	} while (0)

/* Fetches everything of an account (up to 1024 items). */
static size_t
fetch_all(struct mailbox *mb, const uint8_t *key, struct mailbox_item *items,
	  uint8_t *blobs)
{
	size_t n = 99;

	ST(mailbox_fetch(mb, key, items, MAILBOX_BATCH_MAX, blobs,
			 MAILBOX_BATCH_MAX * ITEM, &n),
	   MAILBOX_OK);
	return n;
}

static struct mailbox_item items[MAILBOX_BATCH_MAX];
static uint8_t blobs[MAILBOX_BATCH_MAX * ITEM];

TestSuite(store_mailbox, .init = setup, .fini = teardown);

Test(store_mailbox, defaults)
{
	struct mailbox_config c;

	mailbox_config_defaults(&c);
	cr_assert_eq(c.retention_ms, 21 * DAY_MS);
	cr_assert_eq(c.admission, MAILBOX_ADMIT_OPEN);
	cr_assert_gt(c.queue_max_items, 0);
	cr_assert_geq(c.account_max_items, c.queue_max_items);
	cr_assert_gt(c.account_max_queues, 0);
}

Test(store_mailbox, open_registration_and_unregistered_refused)
{
	struct mailbox *mb = open_mb();
	uint64_t id = 1;
	size_t n;

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_EXISTS);
	ST(mailbox_queue_create(mb, KEY(2), QID(1)), MAILBOX_NO_ACCOUNT);
	ST(mailbox_queue_delete(mb, KEY(2), QID(1)), MAILBOX_NO_ACCOUNT);
	ST(mailbox_fetch(mb, KEY(2), items, 1, blobs, ITEM, &n),
	   MAILBOX_NO_ACCOUNT);
	ST(mailbox_confirm(mb, KEY(2), &id, 1, NULL), MAILBOX_NO_ACCOUNT);
	ST(mailbox_account_set_quota(mb, KEY(2), 1, 1), MAILBOX_NO_ACCOUNT);
	mailbox_close(mb);
}

Test(store_mailbox, invitation_admission)
{
	struct mailbox_config c = config(MAILBOX_ADMIT_INVITE);
	struct mailbox *mb = open_cfg(&c);
	struct mailbox_counters k;

	ST(mailbox_invite_add(mb, TOKEN(1), fake_now + DAY_MS), MAILBOX_OK);
	ST(mailbox_invite_add(mb, TOKEN(1), fake_now + DAY_MS), MAILBOX_EXISTS);
	ST(mailbox_invite_add(mb, TOKEN(2), fake_now + 1000), MAILBOX_OK);
	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_REFUSED);
	ST(mailbox_register(mb, KEY(1), TOKEN(9)), MAILBOX_REFUSED);
	ST(mailbox_register(mb, KEY(1), TOKEN(1)), MAILBOX_OK);
	/* An invitation is used once. */
	ST(mailbox_register(mb, KEY(2), TOKEN(1)), MAILBOX_REFUSED);
	/* Already registered: refused, and the token is not consumed. */
	ST(mailbox_register(mb, KEY(1), TOKEN(2)), MAILBOX_EXISTS);
	fake_now += 1000;
	/* Expired invitation. */
	ST(mailbox_register(mb, KEY(3), TOKEN(2)), MAILBOX_REFUSED);
	ST(mailbox_counters(mb, &k), MAILBOX_OK);
	cr_assert_eq(k.accounts, 1);
	cr_assert_eq(k.registered, 1);
	mailbox_close(mb);
}

Test(store_mailbox, invitation_survives_until_used)
{
	struct mailbox_config c = config(MAILBOX_ADMIT_INVITE);
	struct mailbox *mb = open_cfg(&c);

	ST(mailbox_invite_add(mb, TOKEN(1), fake_now + DAY_MS), MAILBOX_OK);
	mailbox_close(mb);
	mb = open_cfg(&c);
	ST(mailbox_expire(mb, NULL), MAILBOX_OK);
	ST(mailbox_register(mb, KEY(1), TOKEN(1)), MAILBOX_OK);
	mailbox_close(mb);
}

Test(store_mailbox, queues_owned_and_deleted_ids_blocked)
{
	struct mailbox *mb = open_mb();

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_register(mb, KEY(2), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_EXISTS);
	ST(mailbox_queue_create(mb, KEY(2), QID(1)), MAILBOX_EXISTS);
	ST(mailbox_deliver(mb, QID(1), blob_of(1), ITEM, 1, TAG(1)),
	   MAILBOX_OK);
	/* Another account cannot delete it; nothing changes. */
	ST(mailbox_queue_delete(mb, KEY(2), QID(1)), MAILBOX_NO_QUEUE);
	ST(mailbox_queue_delete(mb, KEY(1), QID(7)), MAILBOX_NO_QUEUE);
	cr_assert_eq(fetch_all(mb, KEY(1), items, blobs), 1);
	ST(mailbox_deliver(mb, QID(1), blob_of(2), ITEM, 1, TAG(2)),
	   MAILBOX_OK);
	/* The owner deletes it: items gone, packets refused, id blocked. */
	ST(mailbox_queue_delete(mb, KEY(1), QID(1)), MAILBOX_OK);
	cr_assert_eq(fetch_all(mb, KEY(1), items, blobs), 0);
	ST(mailbox_deliver(mb, QID(1), blob_of(3), ITEM, 1, TAG(3)),
	   MAILBOX_NO_QUEUE);
	ST(mailbox_queue_delete(mb, KEY(1), QID(1)), MAILBOX_NO_QUEUE);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_EXISTS);
	ST(mailbox_queue_create(mb, KEY(2), QID(1)), MAILBOX_EXISTS);
	mailbox_close(mb);
	mb = open_mb();
	/* Blocked after restart too. */
	ST(mailbox_queue_create(mb, KEY(2), QID(1)), MAILBOX_EXISTS);
	ST(mailbox_deliver(mb, QID(1), blob_of(3), ITEM, 1, TAG(3)),
	   MAILBOX_NO_QUEUE);
	mailbox_close(mb);
}

Test(store_mailbox, queue_count_quota)
{
	struct mailbox_config c = config(MAILBOX_ADMIT_OPEN);
	struct mailbox *mb;

	c.account_max_queues = 2;
	mb = open_cfg(&c);
	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(2)), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(3)), MAILBOX_ACCOUNT_FULL);
	ST(mailbox_queue_delete(mb, KEY(1), QID(2)), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(3)), MAILBOX_OK);
	ST(mailbox_account_set_quota(mb, KEY(1), 100, 3), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(4)), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(5)), MAILBOX_ACCOUNT_FULL);
	mailbox_close(mb);
}

Test(store_mailbox, deliver_duplicates_and_unknown_queue)
{
	struct mailbox *mb = open_mb();
	struct mailbox_counters k;

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(1), blob_of(1), ITEM, 5, TAG(1)),
	   MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(1), blob_of(1), ITEM, 5, TAG(1)),
	   MAILBOX_DUPLICATE);
	/* Same tag under another key epoch is new. */
	ST(mailbox_deliver(mb, QID(1), blob_of(2), ITEM, 6, TAG(1)),
	   MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(9), blob_of(3), ITEM, 5, TAG(3)),
	   MAILBOX_NO_QUEUE);
	cr_assert_eq(fetch_all(mb, KEY(1), items, blobs), 2);
	mailbox_close(mb);
	mb = open_mb();
	/* After restart. */
	ST(mailbox_deliver(mb, QID(1), blob_of(1), ITEM, 5, TAG(1)),
	   MAILBOX_DUPLICATE);
	ST(mailbox_counters(mb, &k), MAILBOX_OK);
	cr_assert_eq(k.duplicate, 1);
	cr_assert_eq(k.items, 2);
	mailbox_close(mb);
}

Test(store_mailbox, replay_store_shares_the_tags)
{
	struct mailbox *mb = open_mb();
	struct replay_store *rs;
	char err[256];

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(1), blob_of(1), ITEM, 5, TAG(1)),
	   MAILBOX_OK);
	rs = replay_open(path, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	cr_assert(replay_seen(rs, 5, TAG(1)), "delivered tag loaded");
	cr_assert_eq(replay_add(rs, 5, TAG(1), NULL), REPLAY_DUPLICATE);
	cr_assert_eq(replay_add(rs, 5, TAG(2), NULL), REPLAY_ADDED);
	cr_assert_eq(replay_flush(rs), 0);
	cr_assert_eq(replay_erase_epoch(rs, 5), 0);
	/* Tags erased with their key epoch, the mailbox's too. */
	ST(mailbox_deliver(mb, QID(1), blob_of(1), ITEM, 5, TAG(1)),
	   MAILBOX_OK);
	replay_close(rs);
	rs = replay_open(path, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
	cr_assert(replay_seen(rs, 5, TAG(1)), "delivered again after erase");
	cr_assert(!replay_seen(rs, 5, TAG(2)), "flushed tag erased on disk");
	replay_close(rs);
	mailbox_close(mb);
}

Test(store_mailbox, quotas_drop_without_storing)
{
	struct mailbox_config c = config(MAILBOX_ADMIT_OPEN);
	struct mailbox *mb;
	struct mailbox_counters k;
	uint64_t id;
	size_t n, del;

	c.queue_max_items = 3;
	c.account_max_items = 5;
	mb = open_cfg(&c);
	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(2)), MAILBOX_OK);
	for (uint32_t i = 0; i < 3; i++)
		ST(mailbox_deliver(mb, QID(1), blob_of(i), ITEM, 1, TAG(i)),
		   MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(1), blob_of(3), ITEM, 1, TAG(3)),
	   MAILBOX_QUEUE_FULL);
	ST(mailbox_deliver(mb, QID(2), blob_of(4), ITEM, 1, TAG(4)),
	   MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(2), blob_of(5), ITEM, 1, TAG(5)),
	   MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(2), blob_of(6), ITEM, 1, TAG(6)),
	   MAILBOX_ACCOUNT_FULL);
	n = fetch_all(mb, KEY(1), items, blobs);
	cr_assert_eq(n, 5);
	/* A dropped packet's tag was not recorded: once there is room, the
	 * same packet is stored (it was never acknowledged). */
	id = items[0].id;
	ST(mailbox_confirm(mb, KEY(1), &id, 1, &del), MAILBOX_OK);
	cr_assert_eq(del, 1);
	ST(mailbox_deliver(mb, QID(1), blob_of(3), ITEM, 1, TAG(3)),
	   MAILBOX_OK);
	ST(mailbox_counters(mb, &k), MAILBOX_OK);
	cr_assert_eq(k.queue_full, 1);
	cr_assert_eq(k.account_full, 1);
	cr_assert_eq(k.delivered, 6);
	cr_assert_eq(k.items, 5);
	mailbox_close(mb);
}

Test(store_mailbox, fetch_oldest_first_across_queues)
{
	struct mailbox *mb = open_mb();
	size_t n;
	uint32_t v;

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_register(mb, KEY(2), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(2)), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(2), QID(3)), MAILBOX_OK);
	for (uint32_t i = 0; i < 6; i++) {
		fake_now += 10;
		ST(mailbox_deliver(mb, QID(1 + i % 3), blob_of(i), ITEM, 1,
				   TAG(i)),
		   MAILBOX_OK);
	}
	ST(mailbox_fetch(mb, KEY(1), items, 3, blobs, 3 * ITEM, &n),
	   MAILBOX_OK);
	cr_assert_eq(n, 3);
	{
		const uint32_t want[3] = {0, 1, 3};
		const int wantq[3] = {1, 2, 1};

		for (size_t i = 0; i < n; i++) {
			memcpy(&v, items[i].blob, sizeof(v));
			cr_assert_eq(v, want[i], "item %zu is blob %u", i, v);
			cr_assert_eq(items[i].blob, blobs + i * ITEM);
			cr_assert_eq(memcmp(items[i].queue_id,
					    QID((uint32_t)wantq[i]), 32),
				     0);
			cr_assert_eq(items[i].arrival_ms,
				     1700000000000LL + 10 * (want[i] + 1));
			if (i)
				cr_assert_gt(items[i].id, items[i - 1].id);
		}
	}
	/* Fetch does not delete; the other account sees only its own. */
	cr_assert_eq(fetch_all(mb, KEY(1), items, blobs), 4);
	cr_assert_eq(fetch_all(mb, KEY(2), items, blobs), 2);
	mailbox_close(mb);
}

Test(store_mailbox, confirm_deletes_exactly_the_confirmed)
{
	struct mailbox *mb = open_mb();
	uint64_t ids[4], other;
	size_t n, del;

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_register(mb, KEY(2), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(2), QID(2)), MAILBOX_OK);
	for (uint32_t i = 0; i < 5; i++)
		ST(mailbox_deliver(mb, QID(1), blob_of(i), ITEM, 1, TAG(i)),
		   MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(2), blob_of(9), ITEM, 1, TAG(9)),
	   MAILBOX_OK);
	cr_assert_eq(fetch_all(mb, KEY(2), items, blobs), 1);
	other = items[0].id;
	n = fetch_all(mb, KEY(1), items, blobs);
	cr_assert_eq(n, 5);
	ids[0] = items[1].id;
	ids[1] = items[3].id;
	ids[2] = other;      /* someone else's: skipped */
	ids[3] = UINT64_MAX; /* never an id */
	ST(mailbox_confirm(mb, KEY(1), ids, 4, &del), MAILBOX_OK);
	cr_assert_eq(del, 2);
	ST(mailbox_confirm(mb, KEY(1), ids, 2, &del), MAILBOX_OK);
	cr_assert_eq(del, 0, "a repeated confirm deletes nothing");
	n = fetch_all(mb, KEY(1), items, blobs);
	cr_assert_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		uint32_t v;

		memcpy(&v, items[i].blob, sizeof(v));
		cr_assert(v == 0 || v == 2 || v == 4, "blob %u left", v);
	}
	cr_assert_eq(fetch_all(mb, KEY(2), items, blobs), 1,
		     "other account's item untouched");
	mailbox_close(mb);
}

Test(store_mailbox, retention_expires_old_items)
{
	struct mailbox *mb = open_mb();
	struct mailbox_counters k;
	size_t n;

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(1), blob_of(0), ITEM, 1, TAG(0)),
	   MAILBOX_OK);
	fake_now += 2 * DAY_MS;
	ST(mailbox_deliver(mb, QID(1), blob_of(1), ITEM, 1, TAG(1)),
	   MAILBOX_OK);
	fake_now += 19 * DAY_MS - 1;
	ST(mailbox_expire(mb, &n), MAILBOX_OK);
	cr_assert_eq(n, 0, "21 days not yet passed");
	fake_now += 2;
	ST(mailbox_expire(mb, &n), MAILBOX_OK);
	cr_assert_eq(n, 1);
	n = fetch_all(mb, KEY(1), items, blobs);
	cr_assert_eq(n, 1);
	{
		uint32_t v;

		memcpy(&v, items[0].blob, sizeof(v));
		cr_assert_eq(v, 1, "the younger item stays");
	}
	fake_now += 3 * DAY_MS;
	ST(mailbox_expire(mb, &n), MAILBOX_OK);
	cr_assert_eq(n, 1);
	ST(mailbox_counters(mb, &k), MAILBOX_OK);
	cr_assert_eq(k.expired, 2);
	cr_assert_eq(k.items, 0);
	mailbox_close(mb);
}

Test(store_mailbox, expire_in_chunks)
{
	struct mailbox_config c = config(MAILBOX_ADMIT_OPEN);
	struct mailbox *mb;
	struct mailbox_counters k;
	size_t n;
	sqlite3 *h;

	c.queue_max_items = 5000;
	mb = open_cfg(&c);
	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(1), blob_of(0), ITEM, 1, TAG(0)),
	   MAILBOX_OK);
	/* 2,499 more in one raw transaction: one fsync instead of 2,499. */
	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	cr_assert_eq(sqlite3_exec(h,
				  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
				  " SELECT i + 1 FROM n WHERE i < 2499)"
				  " INSERT INTO items (queue, account,"
				  " arrival_ms, blob) SELECT queue, account,"
				  " arrival_ms, blob FROM items, n",
				  NULL, NULL, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(h));
	sqlite3_close(h);
	fake_now += 22 * DAY_MS;
	ST(mailbox_expire(mb, &n), MAILBOX_OK);
	cr_assert_eq(n, 2500);
	cr_assert_eq(fetch_all(mb, KEY(1), items, blobs), 0);
	ST(mailbox_counters(mb, &k), MAILBOX_OK);
	cr_assert_eq(k.items, 0, "triggers kept the counts");
	mailbox_close(mb);
}

Test(store_mailbox, everything_survives_reopen)
{
	struct mailbox *mb = open_mb();
	struct mailbox_counters k;

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(1), blob_of(7), ITEM, 1, TAG(7)),
	   MAILBOX_OK);
	mailbox_close(mb);
	mb = open_mb();
	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_EXISTS);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_EXISTS);
	cr_assert_eq(fetch_all(mb, KEY(1), items, blobs), 1);
	cr_assert_eq(memcmp(items[0].blob, blob_of(7), ITEM), 0);
	ST(mailbox_counters(mb, &k), MAILBOX_OK);
	cr_assert_eq(k.accounts, 1);
	cr_assert_eq(k.queues, 1);
	cr_assert_eq(k.items, 1);
	mailbox_close(mb);
}

Test(store_mailbox, lengths_and_arguments_rejected)
{
	struct mailbox *mb = open_mb();
	struct mailbox_config c = config(MAILBOX_ADMIT_OPEN);
	struct mailbox_counters k;
	uint8_t big[ITEM + 1] = {0};
	uint64_t ids[MAILBOX_BATCH_MAX + 1] = {0};
	char err[128];
	size_t n;

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	ST(mailbox_deliver(mb, QID(1), big, ITEM + 1, 1, TAG(1)),
	   MAILBOX_BADARG);
	ST(mailbox_deliver(mb, QID(1), big, ITEM - 1, 1, TAG(1)),
	   MAILBOX_BADARG);
	ST(mailbox_deliver(mb, QID(1), big, 0, 1, TAG(1)), MAILBOX_BADARG);
	ST(mailbox_deliver(mb, QID(1), big, SIZE_MAX, 1, TAG(1)),
	   MAILBOX_BADARG);
	ST(mailbox_deliver(mb, QID(1), NULL, ITEM, 1, TAG(1)), MAILBOX_BADARG);
	ST(mailbox_deliver(mb, NULL, big, ITEM, 1, TAG(1)), MAILBOX_BADARG);
	ST(mailbox_deliver(mb, QID(1), big, ITEM, 1, NULL), MAILBOX_BADARG);
	ST(mailbox_deliver(mb, QID(1), big, ITEM, (uint64_t)INT64_MAX + 1,
			   TAG(1)),
	   MAILBOX_BADARG);
	ST(mailbox_deliver(NULL, QID(1), big, ITEM, 1, TAG(1)), MAILBOX_BADARG);
	ST(mailbox_fetch(mb, KEY(1), items, 0, blobs, ITEM, &n),
	   MAILBOX_BADARG);
	ST(mailbox_fetch(mb, KEY(1), items, MAILBOX_BATCH_MAX + 1, blobs,
			 sizeof(blobs) + ITEM, &n),
	   MAILBOX_BADARG);
	ST(mailbox_fetch(mb, KEY(1), items, 2, blobs, 2 * ITEM - 1, &n),
	   MAILBOX_BADARG);
	ST(mailbox_fetch(mb, KEY(1), items, 1, NULL, ITEM, &n), MAILBOX_BADARG);
	ST(mailbox_fetch(mb, KEY(1), NULL, 1, blobs, ITEM, &n), MAILBOX_BADARG);
	ST(mailbox_fetch(mb, KEY(1), items, 1, blobs, ITEM, NULL),
	   MAILBOX_BADARG);
	ST(mailbox_fetch(mb, NULL, items, 1, blobs, ITEM, &n), MAILBOX_BADARG);
	ST(mailbox_confirm(mb, KEY(1), ids, 0, NULL), MAILBOX_BADARG);
	ST(mailbox_confirm(mb, KEY(1), ids, MAILBOX_BATCH_MAX + 1, NULL),
	   MAILBOX_BADARG);
	ST(mailbox_confirm(mb, KEY(1), NULL, 1, NULL), MAILBOX_BADARG);
	ST(mailbox_register(mb, NULL, NULL), MAILBOX_BADARG);
	ST(mailbox_queue_create(mb, KEY(1), NULL), MAILBOX_BADARG);
	ST(mailbox_queue_delete(mb, NULL, QID(1)), MAILBOX_BADARG);
	ST(mailbox_invite_add(mb, NULL, 0), MAILBOX_BADARG);
	ST(mailbox_counters(mb, NULL), MAILBOX_BADARG);
	ST(mailbox_expire(NULL, NULL), MAILBOX_BADARG);
	/* Nothing above stored anything. */
	ST(mailbox_counters(mb, &k), MAILBOX_OK);
	cr_assert_eq(k.items, 0);
	cr_assert_eq(k.delivered, 0);
	mailbox_close(mb);
	c.item_size = 0;
	cr_assert_null(mailbox_open(path, &c, err, sizeof(err)));
	c.item_size = MAILBOX_ITEM_MAX + 1;
	cr_assert_null(mailbox_open(path, &c, err, sizeof(err)));
	c.item_size = ITEM;
	c.queue_max_items = 0;
	cr_assert_null(mailbox_open(path, &c, err, sizeof(err)));
	cr_assert_null(mailbox_open(path, NULL, err, sizeof(err)));
	cr_assert_str_eq(mailbox_status_str(MAILBOX_QUEUE_FULL), "queue-full");
	mailbox_close(NULL);
}

/* Odd cycles: deliveries in batches of 3, acknowledged after the batch. */
static void
sigkill_child_batches(struct mailbox *mb, uint32_t cycle, int fd)
{
	static uint8_t b[3][ITEM], t[3][32];
	struct mailbox_delivery d[3];
	enum mailbox_status r[3];
	uint8_t q[32];

	memcpy(q, QID(1), 32);
	for (uint32_t i = cycle * 1000; i + 3 < cycle * 1000 + 999; i += 3) {
		for (uint32_t j = 0; j < 3; j++) {
			memcpy(b[j], blob_of(i + j), ITEM);
			memcpy(t[j], TAG(i + j), 32);
			d[j] =
			    (struct mailbox_delivery){q, b[j], ITEM, 1, t[j]};
		}
		if (mailbox_deliver_batch(mb, d, 3, r) != MAILBOX_OK)
			_exit(3);
		for (uint32_t j = 0; j < 3; j++) {
			uint32_t v = i + j;

			if (r[j] != MAILBOX_OK ||
			    write(fd, &v, sizeof(v)) != sizeof(v))
				_exit(3);
		}
	}
	_exit(3);
}

/*
 * A child delivers items (singly, or in batches in odd cycles) and writes each
 * acknowledged sequence number to a pipe only after mailbox_deliver returned
 * MAILBOX_OK; the parent kills it with SIGKILL at a random point (20 cycles),
 * reopens the store and checks that every acknowledged item is there, and none
 * twice.
 */
Test(store_mailbox, sigkill_loses_no_acknowledged_item, .timeout = 120)
{
	struct mailbox_config c = config(MAILBOX_ADMIT_OPEN);
	static uint32_t acked[20 * 1000];
	size_t nacked = 0, n;
	uint64_t seed = (uint64_t)time(NULL), r;
	struct mailbox *mb;

	c.queue_max_items = 100000;
	c.account_max_items = 100000;
	mb = open_cfg(&c);
	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	mailbox_close(mb);
	cr_log_info("sigkill test seed %lu", (unsigned long)seed);
	r = seed * 2654435761u + 1;
	for (uint32_t cycle = 0; cycle < 20; cycle++) {
		int fds[2];
		pid_t pid;
		uint32_t v;
		long want, got = 0;
		struct timespec pause;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		want = 1 + (long)(r % 12);
		pause.tv_sec = 0;
		pause.tv_nsec = (long)((r >> 8) % 3000) * 1000;

		cr_assert_eq(pipe(fds), 0);
		pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			mb = mailbox_open(path, &c, NULL, 0);
			if (mb && cycle % 2)
				sigkill_child_batches(mb, cycle, fds[1]);
			for (uint32_t i = cycle * 1000; mb; i++) {
				if (i == cycle * 1000 + 999 ||
				    mailbox_deliver(mb, QID(1), blob_of(i),
						    ITEM, 1,
						    TAG(i)) != MAILBOX_OK ||
				    write(fds[1], &i, sizeof(i)) != sizeof(i))
					break;
			}
			_exit(3);
		}
		close(fds[1]);
		while (got < want &&
		       read(fds[0], &v, sizeof(v)) == (ssize_t)sizeof(v)) {
			acked[nacked++] = v;
			got++;
		}
		/* Land the kill anywhere in the next transaction. */
		nanosleep(&pause, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* Acknowledgements written before the kill count too. */
		while (read(fds[0], &v, sizeof(v)) == (ssize_t)sizeof(v))
			acked[nacked++] = v;
		close(fds[0]);
		cr_assert_geq(got, want, "child stopped early in cycle %u",
			      cycle);
	}
	mb = open_cfg(&c);
	n = fetch_all(mb, KEY(1), items, blobs);
	cr_assert_lt(n, MAILBOX_BATCH_MAX, "more items than expected");
	for (size_t i = 0; i < nacked; i++) {
		bool found = false;

		for (size_t j = 0; j < n && !found; j++)
			found =
			    memcmp(items[j].blob, blob_of(acked[i]), ITEM) == 0;
		cr_assert(found, "acknowledged item %u lost", acked[i]);
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			cr_assert_neq(
			    memcmp(items[i].blob, items[j].blob, ITEM), 0,
			    "item stored twice");
	cr_log_info("sigkill: 20 kills, %zu acknowledged, %zu stored (the "
		    "difference: committed, killed before the ack)",
		    nacked, n);
	cr_assert_geq(n, nacked);
	mailbox_close(mb);
}

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(store_mailbox, batch_delivery_one_transaction)
{
	struct mailbox_config c = config(MAILBOX_ADMIT_OPEN);
	struct mailbox_delivery d[6];
	enum mailbox_status r[6];
	const enum mailbox_status want[6] = {
	    MAILBOX_OK,     MAILBOX_DUPLICATE, MAILBOX_NO_QUEUE,
	    MAILBOX_BADARG, MAILBOX_OK,        MAILBOX_QUEUE_FULL};
	uint8_t qa[32], qb[32], t[6][32], b[6][ITEM];
	struct mailbox_counters k;
	struct mailbox *mb;

	c.queue_max_items = 2;
	mb = open_cfg(&c);
	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	memcpy(qa, QID(1), 32);
	memcpy(qb, QID(2), 32);
	for (uint32_t i = 0; i < 6; i++) {
		memcpy(t[i], TAG(i), 32);
		memcpy(b[i], blob_of(i), ITEM);
		d[i] = (struct mailbox_delivery){qa, b[i], ITEM, 1, t[i]};
	}
	memcpy(t[1], t[0], 32); /* the same packet twice in one batch */
	d[2].queue_id = qb;
	d[3].bloblen = ITEM + 1;
	ST(mailbox_deliver_batch(mb, d, 6, r), MAILBOX_OK);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(r[i], want[i], "entry %d: %s, want %s", i,
			     mailbox_status_str(r[i]),
			     mailbox_status_str(want[i]));
	ST(mailbox_counters(mb, &k), MAILBOX_OK);
	cr_assert_eq(k.items, 2);
	cr_assert_eq(k.delivered, 2);
	cr_assert_eq(k.duplicate, 1);
	cr_assert_eq(k.queue_full, 1);
	cr_assert_eq(k.no_queue, 1);
	ST(mailbox_deliver_batch(mb, d, 0, r), MAILBOX_BADARG);
	ST(mailbox_deliver_batch(mb, d, MAILBOX_BATCH_MAX + 1, r),
	   MAILBOX_BADARG);
	ST(mailbox_deliver_batch(mb, NULL, 1, r), MAILBOX_BADARG);
	ST(mailbox_deliver_batch(mb, d, 1, NULL), MAILBOX_BADARG);
	mailbox_close(mb);
	mb = open_cfg(&c);
	cr_assert_eq(fetch_all(mb, KEY(1), items, blobs), 2);
	cr_assert_eq(memcmp(items[0].blob, b[0], ITEM), 0);
	cr_assert_eq(memcmp(items[1].blob, b[4], ITEM), 0);
	ST(mailbox_deliver(mb, qa, b[0], ITEM, 1, t[0]), MAILBOX_DUPLICATE);
	mailbox_close(mb);
}

/* One fsync per call: a batch of 40 against 40 single deliveries. */
Test(store_mailbox, batch_versus_single_cost)
{
	struct mailbox *mb = open_mb();
	struct mailbox_delivery d[40];
	enum mailbox_status r[40];
	uint8_t qa[32], t[40][32];
	double t0, t1, t2;
	int ok = 0;

	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	memcpy(qa, QID(1), 32);
	t0 = wall_s();
	for (uint32_t i = 0; i < 40; i++)
		ok += mailbox_deliver(mb, qa, blob_of(i), ITEM, 1, TAG(i)) ==
		      MAILBOX_OK;
	t1 = wall_s();
	for (uint32_t i = 0; i < 40; i++) {
		memcpy(t[i], TAG(100 + i), 32);
		d[i] = (struct mailbox_delivery){qa, blob_of(0), ITEM, 2, t[i]};
	}
	ST(mailbox_deliver_batch(mb, d, 40, r), MAILBOX_OK);
	t2 = wall_s();
	for (int i = 0; i < 40; i++)
		ok += r[i] == MAILBOX_OK;
	cr_assert_eq(ok, 80);
	cr_log_info("mailbox: 40 single deliveries %.2f ms, one batch of 40 "
		    "%.2f ms (ratio %.1f)",
		    (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t1 - t0) / (t2 - t1));
	mailbox_close(mb);
}

/* Schema 3: items stored by a gateway of schema 2 (kind | SURB id (16) |
 * payload) are rewritten to kind | tag (32) | payload, the tag of a
 * message its queue's id, that of a reply its SURB id then zeros. */
Test(store_mailbox, migration_3_tags_old_items)
{
	enum { OLD = ITEM, NEW = ITEM + 16 };
	uint8_t old[OLD], fblobs[4 * NEW];
	struct mailbox_item fitems[4];
	struct mailbox_config c = config(MAILBOX_ADMIT_OPEN);
	size_t n = 0;
	sqlite3 *h;

	struct mailbox *mb = open_cfg(&c);
	ST(mailbox_register(mb, KEY(1), NULL), MAILBOX_OK);
	ST(mailbox_queue_create(mb, KEY(1), QID(1)), MAILBOX_OK);
	for (uint8_t kind = 1; kind <= 2; kind++) {
		old[0] = kind;
		memset(old + 1, kind == 1 ? 0 : 0x5a, 16);
		memset(old + 17, 0x30 + kind, OLD - 17);
		ST(mailbox_deliver(mb, QID(1), old, OLD, 1, TAG(kind)),
		   MAILBOX_OK);
	}
	mailbox_close(mb);
	/* Make the file a schema-2 store again, as one from before. */
	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "DELETE FROM schema_version WHERE "
				     "version = 3",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	sqlite3_close(h);
	c.item_size = NEW;
	mb = open_cfg(&c);
	ST(mailbox_fetch(mb, KEY(1), fitems, 4, fblobs, sizeof(fblobs), &n),
	   MAILBOX_OK);
	cr_assert_eq(n, 2);
	const uint8_t *m = fitems[0].blob, *r = fitems[1].blob;
	cr_assert_eq(m[0], 1);
	cr_assert_eq(memcmp(m + 1, QID(1), 32), 0, "a message: its queue");
	cr_assert_eq(m[33], 0x31);
	cr_assert_eq(m[NEW - 1], 0x31);
	cr_assert_eq(r[0], 2);
	for (int i = 1; i < 17; i++)
		cr_assert_eq(r[i], 0x5a);
	for (int i = 17; i < 33; i++)
		cr_assert_eq(r[i], 0, "a reply: SURB id, then zeros");
	cr_assert_eq(r[33], 0x32);
	cr_assert_eq(r[NEW - 1], 0x32);
	mailbox_close(mb);
}
