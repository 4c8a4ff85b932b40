#ifndef BC_NODE_GATEWAY_INTERNAL_H
#define BC_NODE_GATEWAY_INTERNAL_H

/* Internal to the gateway (gateway.c, gateway_client.c). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "node/gateway.h"
#include "node/metrics.h"

/* A final hop waiting for the committer. */
struct gw_entry {
	uint8_t kind; /* GW_DELIVER or GW_ECHO */
	bool has_surb;
	uint8_t queue[MAILBOX_QUEUE_ID_LEN];
	uint8_t tag[MAILBOX_TAG_LEN]; /* derived from the replay tag */
	uint64_t epoch;
	uint8_t *item; /* item_size bytes */
	uint8_t *surb; /* geom.surb_len bytes */
};
#define GW_DELIVER 1
#define GW_ECHO    2

struct gw_counters {
	struct metric_counter *stored, *acked, *echoed, *dropped_service,
	    *replies_stored, *dropped_full, *dropped_duplicate,
	    *dropped_no_queue, *dropped_malformed, *dropped_inbox,
	    *dropped_outbox, *dropped_rate, *dropped_unregistered,
	    *reply_failed, *commits, *store_errors, *fetches, *confirmed,
	    *registered, *refused;
};

struct gateway {
	struct gateway_cfg cfg;
	struct sphinx_geometry geom;
	size_t item_size;
	struct mailbox *mb;
	struct metrics *mx;
	bool own_mx;
	struct gw_counters c;
	_Atomic uint64_t tag_epoch;

	/* inbox: final hops for the committer */
	pthread_mutex_t lock;
	pthread_cond_t cond, idle_cond;
	struct gw_entry *in;
	size_t in_cap, in_head, in_count;
	bool busy, stop, started;
	pthread_t thr;
	/* committer-only */
	struct gw_entry *batch;
	struct mailbox_delivery *dl;
	enum mailbox_status *res;
	size_t *dl_idx;
	uint8_t *reply_pkt;
	int64_t next_expire_ms; /* monotonic */

	/* outbox: reply packets for the loop */
	pthread_mutex_t out_lock;
	uint8_t *out_pkts;
	uint8_t *out_hops; /* 32 bytes each */
	size_t out_cap, out_head, out_count;

	/* loop thread */
	uint8_t *cons;
	size_t cons_len;
	uint64_t cons_epoch;
	struct mailbox_item *items;
	uint8_t *scratch;
};

int64_t gw_now_ms(struct gateway *gw);

#endif
