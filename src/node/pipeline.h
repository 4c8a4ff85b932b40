#ifndef BC_NODE_PIPELINE_H
#define BC_NODE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/sphinx_geometry.h"
#include "wire/sphinx_packet.h"

/*
 * The packet pipeline of a mix or gateway (docs/node.md):
 *
 *   pipeline_submit (link thread)
 *     -> inbox (bounded; full: drop, counted)
 *     -> worker threads: Sphinx unwrap with the packet keys held
 *        (current epoch first, then the others: previous in its grace
 *        window, next near the boundary)
 *     -> replay filter of the matching key's epoch (store/replay.h)
 *     -> delay queue (node/delayq.h), release = now + node delay
 *     -> pipeline_drain (link thread): every due packet whose replay tag is
 *        on disk goes to the send callback, to the next hop.
 *
 * A committer thread flushes replay tags as soon as any are pending (group
 * commit; while workers are busy it gathers their tags for at most 4 ms
 * first), so a tag waits at most 4 ms plus the commit in progress plus its
 * own, and a packet never leaves before its tag is durable.  Final hops (no
 * next hop) go to on_final on the worker thread once their tag is recorded: the
 * gateway's sink, or the mix's loop accounting.
 *
 * Threads: submit, drain and the key functions are for the owner's thread
 * (the event loop); workers and the committer are internal; wake and
 * on_final are called from internal threads (and, with inline_unwrap, from
 * the owner's thread inside pipeline_submit; never inside pipeline_drain).
 */
struct pipeline;
struct metrics;
struct replay_store;

struct pipeline_cfg {
	struct sphinx_geometry geom;
	size_t workers;        /* >= 1 */
	size_t queue_capacity; /* delay queue, packets */
	size_t inbox_capacity; /* packets waiting for a worker; 0: 1024 */
	uint32_t max_delay_ms; /* the consensus maximum; above: dropped */
	/* Let pipeline_submit unwrap on the caller's thread while the inbox is
	 * empty and the workers idle, within a share of that thread's time
	 * (pipeline.c): a lone packet skips the hand-offs to a worker and the
	 * committer.  The owner must then call pipeline_end_batch once per
	 * loop iteration; on_final may run on its thread too. */
	bool inline_unwrap;
	struct replay_store *replay; /* not owned; required */
	struct metrics *metrics;     /* not owned; may be NULL */
	/* Something may be due sooner than the last drain said: drain again.
	 * Called from worker and committer threads (e.g. uv_async_send). */
	void (*wake)(void *ctx);
	/* A final hop: res and the payload (res->payload_off/len into pkt).
	 * Called on a worker thread; pkt is valid during the call only. */
	void (*on_final)(void *ctx, const struct sphinx_unwrap_result *res,
			 const uint8_t *pkt, size_t len);
	void *ctx;
};

/* Starts the worker and committer threads; NULL on a bad cfg (logged). */
struct pipeline *pipeline_new(const struct pipeline_cfg *cfg);
/* Stops the threads (packets still queued are dropped), wipes the keys,
 * frees.  NULL is fine. */
void pipeline_free_(struct pipeline *p);
#define pipeline_free(p)           \
	do {                       \
		pipeline_free_(p); \
		(p) = NULL;        \
	} while (0)

/*
 * Packet keys.  pipeline_key_add copies priv into locked memory for epoch
 * (replacing one held for the same epoch); at most PIPELINE_MAX_KEYS.
 * pipeline_key_remove wipes the key and erases that epoch's replay tags, so
 * the two go together.  pipeline_set_epoch says which key to try first.
 */
/* As many as dir/keysched.h holds (KEYSCHED_SLOTS: the previous key in its
 * grace window, the current one, three ahead); node.c checks the two agree. */
#define PIPELINE_MAX_KEYS 5
int pipeline_key_add(struct pipeline *p, uint64_t epoch,
		     const uint8_t priv[static 32]);
int pipeline_key_remove(struct pipeline *p, uint64_t epoch);
bool pipeline_key_held(struct pipeline *p, uint64_t epoch);
void pipeline_set_epoch(struct pipeline *p, uint64_t epoch);
void pipeline_set_max_delay(struct pipeline *p, uint32_t max_delay_ms);

/*
 * Hands one received packet to the workers (copied), or with inline_unwrap
 * unwraps and queues it on the caller's thread (see pipeline_cfg).  False if
 * dropped (wrong length, or no room in the inbox; both counted).  source names
 * where it came from (a link): once the inbox is half full, each source
 * gets an equal share of it, so one flooding link cannot crowd out the
 * others.  Sources are folded into PIPELINE_SOURCES buckets.
 */
#define PIPELINE_SOURCES 64
bool pipeline_submit_from(struct pipeline *p, uint32_t source,
			  const uint8_t *pkt, size_t len);
/* pipeline_submit_from with source 0. */
bool pipeline_submit(struct pipeline *p, const uint8_t *pkt, size_t len);

/*
 * With inline_unwrap: the owner has handed over what it had for now (call
 * once per event loop iteration, after its I/O callbacks).  The tags of the
 * packets unwrapped inline since the last call are committed, on this
 * thread if commits are fast, else by the committer (which then wakes as
 * usual).  True if they are durable now: drain at once.
 */
bool pipeline_end_batch(struct pipeline *p);

/*
 * Sends every due packet whose replay tag is durable, in release order:
 * send(ctx, next_hop_id, pkt, len) returns false if the packet could not be
 * sent (no link, link full), which is counted as a drop.  Returns the
 * monotonic time (ns) at which to drain again, or INT64_MAX when only a wake
 * can bring more work.
 */
typedef bool (*pipeline_send_fn)(void *ctx, const uint8_t *next_hop,
				 const uint8_t *pkt, size_t len);
int64_t pipeline_drain(struct pipeline *p, int64_t now_ns,
		       pipeline_send_fn send, void *ctx);

/* Counters, for tests and the benchmark. */
struct pipeline_stats {
	uint64_t in, out, final, dropped_inbox, dropped_unwrap, dropped_replay,
	    dropped_delay, dropped_queue, dropped_send;
	size_t inbox_depth, queue_depth;
	uint64_t commits;
	uint64_t inlined; /* unwrapped on the owner's thread */
};
void pipeline_stats(struct pipeline *p, struct pipeline_stats *out);

/* Waits until the inbox is empty and no worker holds a packet (tests and
 * the benchmark); false on timeout. */
bool pipeline_wait_idle(struct pipeline *p, int64_t timeout_ms);

/* Bytes one queued packet costs in the delay queue. */
size_t pipeline_bytes_per_queued(struct pipeline *p);
size_t pipeline_queue_mem_bytes(struct pipeline *p);

#endif
