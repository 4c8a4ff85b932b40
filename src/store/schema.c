#include "store/schema.h"

/*
 * Append-only: a released migration is never edited or renumbered, because
 * databases in the field have already run it.  Add version N+1 instead.
 */
static const struct db_migration node_migrations[] = {
    {1, "CREATE TABLE replay_tags ("
	" epoch INTEGER NOT NULL,"
	" tag BLOB NOT NULL CHECK (length(tag) = 32),"
	" PRIMARY KEY (epoch, tag)"
	") WITHOUT ROWID;"},
    /* Gateway mailboxes.  The counts are kept by triggers so that quota
     * checks are one row read and no code path can forget them. */
    {2, "CREATE TABLE accounts ("
	" id INTEGER PRIMARY KEY,"
	" link_key BLOB NOT NULL UNIQUE CHECK (length(link_key) = 32),"
	" created_ms INTEGER NOT NULL,"
	" max_items INTEGER NOT NULL,"
	" max_queues INTEGER NOT NULL,"
	" item_count INTEGER NOT NULL DEFAULT 0,"
	" queue_count INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE invitations ("
	" token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),"
	" expires_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE queues ("
	" id INTEGER PRIMARY KEY,"
	" queue_id BLOB NOT NULL UNIQUE CHECK (length(queue_id) = 32),"
	" account INTEGER NOT NULL REFERENCES accounts (id),"
	" created_ms INTEGER NOT NULL,"
	" item_count INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX queues_account ON queues (account);"
	"CREATE TABLE deleted_queues ("
	" queue_id BLOB PRIMARY KEY CHECK (length(queue_id) = 32),"
	" deleted_ms INTEGER NOT NULL) WITHOUT ROWID;"
	/* AUTOINCREMENT: an id is never reused, so a late confirm can
	 * never delete a newer item. */
	"CREATE TABLE items ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" queue INTEGER NOT NULL REFERENCES queues (id),"
	" account INTEGER NOT NULL REFERENCES accounts (id),"
	" arrival_ms INTEGER NOT NULL,"
	" blob BLOB NOT NULL);"
	"CREATE INDEX items_account ON items (account, id);"
	"CREATE INDEX items_queue ON items (queue);"
	"CREATE INDEX items_arrival ON items (arrival_ms);"
	"CREATE TRIGGER items_insert AFTER INSERT ON items BEGIN"
	" UPDATE queues SET item_count = item_count + 1"
	"  WHERE id = NEW.queue;"
	" UPDATE accounts SET item_count = item_count + 1"
	"  WHERE id = NEW.account;"
	" END;"
	"CREATE TRIGGER items_delete AFTER DELETE ON items BEGIN"
	" UPDATE queues SET item_count = item_count - 1"
	"  WHERE id = OLD.queue;"
	" UPDATE accounts SET item_count = item_count - 1"
	"  WHERE id = OLD.account;"
	" END;"
	"CREATE TRIGGER queues_insert AFTER INSERT ON queues BEGIN"
	" UPDATE accounts SET queue_count = queue_count + 1"
	"  WHERE id = NEW.account;"
	" END;"
	"CREATE TRIGGER queues_delete AFTER DELETE ON queues BEGIN"
	" UPDATE accounts SET queue_count = queue_count - 1"
	"  WHERE id = OLD.account;"
	" END;"},
    /* Gateway items get a 32-byte tag (docs/gateway.md "Stored items"):
     * kind (1) | SURB id (16) | payload becomes kind | tag (32) | payload,
     * the tag of a message (kind 01) being its queue's id, that of a reply
     * its SURB id then 16 zeros.  Items stored before this version all
     * have the old layout; every item grows by 16 bytes. */
    {3, "UPDATE items SET blob = CAST(CASE"
	" WHEN substr(blob, 1, 1) = x'01' THEN x'01' ||"
	"  (SELECT queue_id FROM queues WHERE queues.id = items.queue) ||"
	"  substr(blob, 18)"
	" ELSE substr(blob, 1, 17) || zeroblob(16) || substr(blob, 18)"
	" END AS BLOB);"},
};

const struct db_schema store_node_schema = {
    .name = "node store",
    .application_id = STORE_NODE_APPLICATION_ID,
    .migrations = node_migrations,
    .n_migrations = sizeof(node_migrations) / sizeof(node_migrations[0]),
};
