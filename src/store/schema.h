#ifndef BC_STORE_SCHEMA_H
#define BC_STORE_SCHEMA_H

#include "store/db.h"

/*
 * The node store: one SQLite file per mix or gateway holding its replay tags
 * (replay.c) and, on a gateway, its accounts, queues and mailbox items
 * (mailbox.c).  The gateway opens both on the same file, so that a stored
 * item and its packet's replay tag commit in one transaction.
 * Migrations are append-only: add a new version, never edit an old one.
 */
#define STORE_NODE_APPLICATION_ID 0x42434e31u /* "BCN1" */

extern const struct db_schema store_node_schema;

#endif
