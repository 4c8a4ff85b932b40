/*
 * Authenticated links over TCP on a libuv loop (docs/link.md): a manager
 * owns a listener (responder side), outgoing connections (initiator side)
 * and every connection's timers and write queue.
 *
 * Connection management, all configurable in struct link_cfg:
 * - handshake timeout: a connection that has not completed the Noise
 *   handshake within handshake_timeout_ms is closed (a peer trickling one
 *   byte a second gets nowhere);
 * - keepalive: after keepalive_ms without sending, a NOOP frame goes out;
 *   after idle_timeout_ms without a complete frame received, the link is
 *   closed (bytes that never complete a frame do not count);
 * - reconnect: an initiator created with reconnect=true reconnects after
 *   every close, waiting backoff/2 + uniform(0, backoff/2), with backoff
 *   doubling from backoff_min_ms to backoff_max_ms and reset on success;
 * - write queue: at most queue_frames frames are queued per connection. A
 *   send on a full queue is DROPPED and reported (LINK_ERR_QUEUE, counted in
 *   stats.dropped_full); the caller learns through on_writable when the
 *   queue has fallen to half. Memory per connection is therefore bounded by
 *   queue_frames frames plus one receive frame, whatever the peer does;
 * - limits: at most max_conns connections in total and max_per_addr from
 *   one source address; further connections are accepted and closed at once;
 * - rekey: both directions apply Noise REKEY after every rekey_frames
 *   frames (link_sm.h);
 * - shutdown: link_mgr_close() closes every handle and frees everything once
 *   the loop has run the close callbacks.
 *
 * Misbehaving peers are disconnected and logged once per event through a
 * rate-limited log line that carries no address. The loop is
 * single-threaded: call everything here from the loop's thread.
 */
#ifndef BC_NET_LINK_H
#define BC_NET_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/link_sm.h"
#include "wire/link_cmd.h"
#include "wire/link_err.h"

struct uv_loop_s;
struct link_mgr;
struct link_conn;

/* Why a connection closed, given to on_close. */
struct link_close_info {
	enum link_err why;         /* our view (LINK_ERR_CLOSED: peer closed) */
	enum link_err peer_reason; /* the peer's DISCONNECT reason, if any */
	bool was_open;             /* the handshake had completed */
	bool retrying;             /* an initiator will reconnect */
};

struct link_cfg {
	const uint8_t *static_priv;    /* 32 bytes; copied to locked memory */
	size_t packet_len;             /* 0 = LINK_PACKET_LEN_DEFAULT */
	enum link_role role;           /* announced by our initiators */
	uint64_t rekey_frames;         /* 0 = LINK_REKEY_FRAMES_DEFAULT */
	uint32_t handshake_timeout_ms; /* 0 = 10 s */
	uint32_t keepalive_ms;         /* 0 = 15 s */
	uint32_t idle_timeout_ms;      /* 0 = 60 s */
	uint32_t max_conns;            /* 0 = 1024 */
	uint32_t max_per_addr;         /* 0 = 16 */
	uint32_t queue_frames;         /* 0 = 256 */
	uint32_t backoff_min_ms;       /* 0 = 500 ms */
	uint32_t backoff_max_ms;       /* 0 = 60 s */
	/* Responder: may this static key connect? Required to listen. */
	bool (*auth)(void *ctx, const uint8_t key[32]);
	/*
	 * Events. on_cmd's return value: LINK_OK, or close with that code.
	 * An initiator's on_open means its handshake is complete; the
	 * responder may still refuse it (on_close with peer_reason
	 * LINK_ERR_AUTH follows at once).
	 */
	void (*on_open)(struct link_conn *c, void *ctx);
	enum link_err (*on_cmd)(struct link_conn *c, const struct link_cmd *cmd,
				void *ctx);
	void (*on_close)(struct link_conn *c, const struct link_close_info *i,
			 void *ctx);
	void (*on_writable)(struct link_conn *c, void *ctx); /* optional */
	void *ctx; /* passed to auth and every event */
};

/* Counters for tests, metrics and the "no memory growth" checks. */
struct link_stats {
	uint64_t accepted;      /* incoming TCP connections */
	uint64_t refused_limit; /* closed at once: total/per-address limit */
	uint64_t opened;        /* handshakes completed */
	uint64_t failed;        /* closed for a protocol error or timeout */
	uint64_t dropped_full;  /* sends refused: write queue full */
	uint64_t frames_sent;   /* transport frames queued */
	uint64_t frames_recv;   /* transport frames received */
	uint32_t conns;         /* connection objects alive now */
	uint64_t queued_bytes;  /* bytes in all write queues now */
};

/* NULL on a bad configuration (missing key, callbacks, bad geometry). */
struct link_mgr *link_mgr_new(struct uv_loop_s *loop,
			      const struct link_cfg *cfg);

/*
 * Listen on ip:port (port 0: any; *bound gets the port if not NULL).
 * Returns 0 or -1 (logged).
 */
int link_mgr_listen(struct link_mgr *m, const char *ip, uint16_t port,
		    uint16_t *bound);

/*
 * Connect to ip:port, a responder whose static key is remote_pub. The
 * connection object lives until it closes for good (on_close with
 * retrying false); NULL on a bad address.
 */
struct link_conn *link_mgr_connect(struct link_mgr *m, const char *ip,
				   uint16_t port, const uint8_t remote_pub[32],
				   bool reconnect);

/*
 * Close every connection and the listener; the manager frees itself (and
 * calls done, if not NULL) once the loop has run every close callback.
 * on_close is called for each connection still alive. Do not use m after.
 */
void link_mgr_close(struct link_mgr *m, void (*done)(void *arg), void *arg);

void link_mgr_stats(const struct link_mgr *m, struct link_stats *out);

/* Queue one command; LINK_ERR_STATE if not open, LINK_ERR_QUEUE if full. */
enum link_err link_conn_send(struct link_conn *c, const struct link_cmd *cmd);
/* Queue one packet of packet_len bytes (SEND_PACKET), same results. */
enum link_err link_conn_send_packet(struct link_conn *c, const uint8_t *pkt,
				    size_t len);
/* Frames in the write queue now. */
size_t link_conn_queued(const struct link_conn *c);
bool link_conn_is_open(const struct link_conn *c);
/* The peer's static key (initiator: the one we dialled). */
const uint8_t *link_conn_peer_key(const struct link_conn *c);
enum link_role link_conn_peer_role(const struct link_conn *c);
/* Close for good (no reconnect), telling an open peer why (best effort). */
void link_conn_close(struct link_conn *c, enum link_err reason);
/* One pointer of the caller's per connection. */
void link_conn_set_user(struct link_conn *c, void *user);
void *link_conn_user(const struct link_conn *c);

#endif /* BC_NET_LINK_H */
