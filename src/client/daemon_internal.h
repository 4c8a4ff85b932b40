/* Internal to daemon*.c: the daemon's state. */
#ifndef BC_CLIENT_DAEMON_INTERNAL_H
#define BC_CLIENT_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

#include "net/ctlsock.h"
#include "net/evloop.h"
#include "net/link.h"
#include "store/client_store.h"

#include "client/arq.h"
#include "client/cpacket.h"
#include "client/daemon.h"
#include "client/gwlink.h"
#include "client/loopmon.h"
#include "client/sched.h"
#include "client/session.h"
#include "dir/authset.h"

/* Reply blocks in flight, by id: what each reply means. Oldest replaced. */
#define DAEMON_SURBS 4096

enum surb_kind {
	SURB_FREE,
	SURB_COVER, /* sending-stream cover to an echo service */
	SURB_LOOP,
	SURB_FRAG, /* a real fragment: its reply is the acknowledgement */
};

struct surb_slot {
	enum surb_kind kind;
	uint8_t id[SPHINX_SURB_ID_LEN];
	uint8_t msg[ARQ_ID_LEN];
	uint32_t frag;
	uint64_t sent_ms;
};

struct daemon {
	const struct client_config *cfg;
	struct dir_authset as;
	struct client_store *store;
	struct evloop *ev;
	struct evtimer *tick;
	struct link_mgr *lm;
	struct link_conn *conn;
	struct ctlsock *ctl;
	struct gwlink gw;
	struct sched sched;
	bool sched_on;
	struct arq arq;
	struct cpacket_ctx px;
	bool px_ok;
	struct dir_consensus cons; /* our copy */
	bool have_cons;
	uint8_t *link_priv; /* secret */
	uint8_t link_pub[32];
	uint8_t gw_key[32];
	uint8_t reply_queue[32];
	char gw_host[64];
	uint16_t gw_port;
	struct surb_slot *surbs; /* DAEMON_SURBS */
	uint8_t *tokens;         /* secret: DAEMON_SURBS * token len */
	size_t surb_next;
	uint64_t start_ms;
	uint64_t refresh_after_ms; /* next consensus refresh allowed */
	uint64_t rtt_p99_ms;
	/* aggregate counters for status */
	uint64_t sent[SCHED_NSTREAMS];
	uint64_t real_sent, loops_back, replies, replies_unknown, items_kept;
	struct loopmon loopmon;  /* the loop alarm */
	/* The loop alarm's clock: monotonic time less the time this daemon
	 * itself did not run (its tick fired late), see daemon_run_ms(). */
	uint64_t tick_due_ms, stalled_ms;
	uint64_t adapt_after_ms; /* next ARQ timeout update */
	uint64_t connects, disconnects;
	uint32_t bad_handshakes; /* in a row, before any open */
	/* the drain link to our old gateway after a move (daemon_drain.c) */
	struct link_conn *dconn;
	struct gwlink dgw;
	bool dgw_on;
	uint64_t dfetch_ms, dnext_ms, dpoll_ms; /* wall clock */
	uint64_t dseen;                         /* dgw.answers handled */
	struct sessions ss; /* contacts and messages (session.h) */
	bool ss_open;
	int exit_code;
	char fatal[300];
};

/* daemon_ctl.c: the control socket's requests. */
void daemon_ctl_handle(void *ctx, const char *line, size_t len,
		       struct buf *reply);

/* daemon_msgctl.c: the messaging commands (false: not one of them), and
 * the engine's glue. */
struct json_t;
bool daemon_msgctl(struct daemon *d, const char *cmd, struct json_t *req,
		   struct buf *reply);
int daemon_sessions_open(struct daemon *d, char *err, size_t errlen);
void daemon_sessions_tick(struct daemon *d);
void daemon_on_queue(void *ctx, bool create, const uint8_t id[32],
		     uint8_t code);

/* daemon.c: stop the loop with a fatal error (exit status 1). */
void daemon_fatal(struct daemon *d, const char *msg);
/* daemon.c: a fetched item (gwlink_ops.on_item), from either link. */
int daemon_on_item(void *ctx, const uint8_t id[static LINK_ID_LEN],
		   uint8_t kind, const uint8_t tag[static LINK_ITEM_TAG_LEN],
		   const uint8_t *data, size_t len);

/* daemon_drain.c: the link to our old gateway (gwdrain.h). */
bool daemon_drain_is(const struct daemon *d, const struct link_conn *c);
void daemon_drain_tick(struct daemon *d);
void daemon_drain_opened(struct daemon *d);
enum link_err daemon_drain_cmd(struct daemon *d, const struct link_cmd *cmd);
void daemon_drain_closed(struct daemon *d, struct link_conn *c,
			 const struct link_close_info *i);
struct json_t *daemon_drain_status(const struct daemon *d);

#endif /* BC_CLIENT_DAEMON_INTERNAL_H */
