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
};

const struct db_schema store_node_schema = {
	.name = "node store",
	.application_id = STORE_NODE_APPLICATION_ID,
	.migrations = node_migrations,
	.n_migrations = sizeof(node_migrations) / sizeof(node_migrations[0]),
};
