/*
 * The mix pipeline: inbox -> unwrap workers -> replay filter -> delay queue
 * -> drain.  See pipeline.h for the contract and docs/node.md for the why.
 */
#include "node/pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/secret.h"

#include "store/replay.h"

#include "node/delayq.h"
#include "node/metrics.h"

#define PIPELINE_MAX_WORKERS 64
#define NO_SLOT              UINT32_MAX
#define PIPELINE_DRAIN_BATCH 32

/*
 * Inline unwrap: the owner's thread may spend this share of its time
 * unwrapping packets itself (3/4), in bursts of at most
 * PIPELINE_INLINE_BURST_NS, and only while the inbox is empty and every
 * worker idle.  A lone packet then costs no hand-off (two thread wake-ups
 * fewer); a flood outruns the budget and goes to the workers, so the loop
 * keeps serving its links and every core still unwraps.
 */
#define PIPELINE_INLINE_NUM       3
#define PIPELINE_INLINE_DEN       4
#define PIPELINE_INLINE_BURST_NS  500000
/*
 * At the end of a batch of submits (pipeline_end_batch, once per loop
 * iteration) the owner's thread commits the tags of its inline unwraps
 * itself when commits are fast (tmpfs, a disk with a write cache): one
 * commit for the batch and no wake-up at all.  On a slow disk (fsync in
 * milliseconds) the committer does it, so the loop never waits for the
 * disk.  The estimate follows a slower commit at once and a faster one
 * gradually.
 */
#define PIPELINE_INLINE_COMMIT_NS 200000

/* What a queued packet carries besides its bytes. */
struct fwd_meta {
	uint8_t next_hop[SPHINX_NODE_ID_LEN];
	uint64_t batch; /* replay batch that must be durable first */
};
_Static_assert(offsetof(struct fwd_meta, next_hop) == 0,
	       "pipeline_drain reads the next hop at the entry's start");

struct key_slot {
	bool used;
	uint64_t epoch;
	uint8_t *priv; /* 32 bytes, secret memory */
};

struct worker {
	pthread_t thread;
	bool started;
	struct pipeline *p;
	struct sphinx_unwrap_ctx *ux;
	uint8_t *pkt;  /* the packet being unwrapped (in place) */
	uint32_t slot; /* its inbox slot, or NO_SLOT (inline: own buffer) */
	uint8_t *keys; /* PIPELINE_MAX_KEYS x 32, secret memory */
	uint64_t epochs[PIPELINE_MAX_KEYS];
};

struct pipeline_metrics {
	struct metric_counter *in, *out, *final, *d_inbox, *d_unwrap,
	    *d_malformed, *d_replay, *d_delay, *d_queue, *d_send, *commits,
	    *commit_fail;
	struct metric_gauge *inbox_depth, *queue_depth, *epoch;
	struct metric_histogram *unwrap, *commit;
};

struct pipeline {
	struct pipeline_cfg cfg;
	size_t pkt_len;
	struct metrics *own_metrics;
	struct pipeline_metrics m;
	_Atomic uint32_t max_delay_ms;

	pthread_mutex_t in_lock;
	pthread_cond_t in_cond, idle_cond;
	/*
	 * The inbox: in_cap packets queued (in_ring, oldest first, by slot),
	 * in slots of pkt_len; a worker unwraps in its slot and then frees it.
	 * Free slots are a stack, so the slot used next is the one freed last
	 * (still in the cache): a lightly loaded node touches a few slots, not
	 * the whole inbox in turn.
	 */
	uint8_t *inbox;    /* in_slots slots of pkt_len */
	uint8_t *in_src;   /* each slot's source bucket */
	uint32_t *in_ring; /* in_cap queued slots, FIFO */
	uint32_t *in_free; /* free slots, last freed on top */
	size_t in_cap, in_slots, in_nfree, in_head, in_count, busy;
	size_t src_count[PIPELINE_SOURCES]; /* slots held per source bucket */
	size_t src_active;                  /* buckets with slots held */
	bool stop;

	pthread_mutex_t key_lock;
	struct key_slot keys[PIPELINE_MAX_KEYS];
	uint64_t cur_epoch;

	pthread_mutex_t q_lock;
	struct delayq *q;
	uint8_t *drain_buf; /* PIPELINE_DRAIN_BATCH x (meta + packet) */

	pthread_mutex_t c_lock;
	pthread_cond_t c_cond;
	bool c_pending, c_stop;
	pthread_t committer;
	bool committer_started;

	struct worker *workers;
	size_t n_workers;

	/* Inline unwrap on the owner's thread (cfg.inline_unwrap): its own
	 * scratch, and a budget of that thread's time (ns, token bucket). */
	struct worker lw;
	bool in_drain;
	int64_t inl_tokens, inl_last;
	bool inl_tagged; /* tags recorded inline, not yet committed */
	_Atomic uint64_t inlined;
	_Atomic int64_t commit_ns; /* recent commit time, see above */
};

static void
metrics_init(struct pipeline *p, struct metrics *mx)
{
	struct pipeline_metrics *m = &p->m;
	const char *d = "bc_packets_dropped_total";
	const char *dh = "packets dropped, by reason";
	static const uint64_t unwrap_b[] = {25000,   50000,  75000,  100000,
					    150000,  200000, 300000, 500000,
					    1000000, 5000000};
	static const uint64_t commit_b[] = {100000,   250000,   500000,
					    1000000,  2000000,  5000000,
					    10000000, 50000000, 250000000};
	m->in = metrics_counter(mx, "bc_packets_in_total",
				"packets received from links", NULL, NULL);
	m->out = metrics_counter(mx, "bc_packets_out_total",
				 "packets forwarded to a next hop", NULL, NULL);
	m->final = metrics_counter(
	    mx, "bc_packets_final_total",
	    "packets for which this node is the last hop", NULL, NULL);
	m->d_inbox = metrics_counter(mx, d, dh, "reason", "overload");
	m->d_unwrap = metrics_counter(mx, d, dh, "reason", "mac");
	m->d_malformed = metrics_counter(mx, d, dh, "reason", "malformed");
	m->d_replay = metrics_counter(mx, d, dh, "reason", "replay");
	m->d_delay = metrics_counter(mx, d, dh, "reason", "delay");
	m->d_queue = metrics_counter(mx, d, dh, "reason", "queue_full");
	m->d_send = metrics_counter(mx, d, dh, "reason", "no_route");
	m->commits =
	    metrics_counter(mx, "bc_replay_commits_total",
			    "replay tag batches committed", NULL, NULL);
	m->commit_fail =
	    metrics_counter(mx, "bc_replay_commit_failures_total",
			    "replay tag commits that failed", NULL, NULL);
	m->inbox_depth = metrics_gauge(
	    mx, "bc_inbox_depth", "packets waiting for a worker", NULL, NULL);
	m->queue_depth =
	    metrics_gauge(mx, "bc_delay_queue_depth",
			  "packets held in the delay queue", NULL, NULL);
	m->epoch = metrics_gauge(mx, "bc_epoch", "current epoch", NULL, NULL);
	m->unwrap = metrics_histogram(mx, "bc_unwrap_seconds",
				      "time to unwrap one packet", unwrap_b,
				      sizeof(unwrap_b) / sizeof(unwrap_b[0]));
	m->commit =
	    metrics_histogram(mx, "bc_replay_commit_seconds",
			      "time to commit one replay tag batch", commit_b,
			      sizeof(commit_b) / sizeof(commit_b[0]));
}

static void
wake(struct pipeline *p)
{
	if (p->cfg.wake)
		p->cfg.wake(p->cfg.ctx);
}

/* Copies the keys held into w, current epoch first. */
static size_t
worker_load_keys(struct worker *w)
{
	struct pipeline *p = w->p;
	size_t n = 0;
	pthread_mutex_lock(&p->key_lock);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < PIPELINE_MAX_KEYS; i++) {
			struct key_slot *k = &p->keys[i];
			if (!k->used ||
			    (k->epoch == p->cur_epoch) != (pass == 0))
				continue;
			memcpy(w->keys + 32 * n, k->priv, 32);
			w->epochs[n++] = k->epoch;
		}
	}
	pthread_mutex_unlock(&p->key_lock);
	return n;
}

static void
queue_packet(struct pipeline *p, const struct sphinx_unwrap_result *res,
	     const uint8_t *pkt, uint64_t batch)
{
	struct fwd_meta meta;
	memcpy(meta.next_hop, res->cmds.next_hop_id, sizeof(meta.next_hop));
	meta.batch = batch;
	int64_t rel = time_mono_ns();
	if (res->cmds.has_delay)
		rel += (int64_t)res->cmds.delay_ms * 1000000;
	pthread_mutex_lock(&p->q_lock);
	int64_t before = delayq_next_release(p->q);
	enum delayq_push_result r =
	    delayq_push(p->q, rel, &meta, pkt, p->pkt_len);
	int64_t after = delayq_next_release(p->q);
	size_t depth = delayq_len(p->q);
	pthread_mutex_unlock(&p->q_lock);
	metric_gauge_set(p->m.queue_depth, (double)depth);
	if (r == DELAYQ_QUEUED_EVICTED || r == DELAYQ_DROPPED_NEW)
		metric_counter_inc(p->m.d_queue);
	/* A new earliest packet needs the drain only once its tag is durable:
	 * until then the commit's own wake brings the drain, which re-arms its
	 * timer.  The check after the push covers a commit that landed
	 * between recording the tag and queueing the packet. */
	if (after < before && batch <= replay_durable(p->cfg.replay))
		wake(p);
}

/* Records the tag; false for a replay. */
static bool
replay_record(struct pipeline *p, uint64_t epoch, const uint8_t *tag,
	      uint64_t *batch)
{
	if (replay_add(p->cfg.replay, epoch, tag, batch) != REPLAY_ADDED) {
		metric_counter_inc(p->m.d_replay);
		return false;
	}
	return true;
}

/* Tags are pending: the committer flushes them.  Called once the packet is
 * queued and its thread no longer counts as busy, so the committer, which
 * gathers while anyone is busy, finds nothing to wait for and commits at
 * once instead of waking only to wait again. */
static void
committer_poke(struct pipeline *p)
{
	pthread_mutex_lock(&p->c_lock);
	p->c_pending = true;
	pthread_cond_signal(&p->c_cond);
	pthread_mutex_unlock(&p->c_lock);
}

/* Unwraps w->pkt and queues or delivers it; true if it added a replay tag
 * (the caller pokes the committer). */
static bool
worker_process(struct worker *w)
{
	struct pipeline *p = w->p;
	struct sphinx_unwrap_result res;
	enum sphinx_err err = SPHINX_ERR_MAC;
	size_t n = worker_load_keys(w), used = 0;
	uint32_t max_delay = atomic_load(&p->max_delay_ms);
	int64_t t0 = time_mono_ns();
	for (; used < n; used++) {
		err = sphinx_unwrap(w->ux, w->keys + 32 * used, w->pkt,
				    p->pkt_len, max_delay, &res);
		if (err != SPHINX_ERR_MAC)
			break;
	}
	metric_histogram_observe_ns(p->m.unwrap,
				    (uint64_t)(time_mono_ns() - t0));
	secret_wipe(w->keys, 32 * PIPELINE_MAX_KEYS);
	if (err != SPHINX_OK) {
		metric_counter_inc(err == SPHINX_ERR_MAC ? p->m.d_unwrap
				   : err == SPHINX_ERR_DELAY
				       ? p->m.d_delay
				       : p->m.d_malformed);
		return false;
	}
	uint64_t batch = 0;
	if (!replay_record(p, w->epochs[used], res.replay_tag, &batch))
		return false;
	if (res.kind == SPHINX_HOP_FORWARD) {
		queue_packet(p, &res, w->pkt, batch);
		return true;
	}
	metric_counter_inc(p->m.final);
	if (p->cfg.on_final)
		p->cfg.on_final(p->cfg.ctx, &res, w->pkt, p->pkt_len);
	return true;
}

/* A packet's processing is over (worker or inline); its inbox slot, if
 * any, is free again. */
static void
busy_done(struct pipeline *p, uint32_t slot, bool tagged)
{
	pthread_mutex_lock(&p->in_lock);
	if (slot != NO_SLOT)
		p->in_free[p->in_nfree++] = slot;
	p->busy--;
	if (p->busy == 0 && p->in_count == 0)
		pthread_cond_broadcast(&p->idle_cond);
	pthread_mutex_unlock(&p->in_lock);
	if (tagged)
		committer_poke(p);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pipeline *p = w->p;
	/* Named for top -H and the benchmark's per-thread CPU figures. */
	prctl(PR_SET_NAME, "bc-unwrap", 0, 0, 0);
	for (;;) {
		pthread_mutex_lock(&p->in_lock);
		while (!p->stop && p->in_count == 0)
			pthread_cond_wait(&p->in_cond, &p->in_lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->in_lock);
			return NULL;
		}
		w->slot = p->in_ring[p->in_head];
		w->pkt = p->inbox + (size_t)w->slot * p->pkt_len;
		if (--p->src_count[p->in_src[w->slot]] == 0)
			p->src_active--;
		p->in_head = (p->in_head + 1) % p->in_cap;
		p->in_count--;
		p->busy++;
		size_t depth = p->in_count;
		pthread_mutex_unlock(&p->in_lock);
		metric_gauge_set(p->m.inbox_depth, (double)depth);

		bool tagged = worker_process(w);
		busy_done(p, w->slot, tagged);
	}
}

/* Counts a successful commit of ns and updates the estimate. */
static void
commit_note(struct pipeline *p, int64_t ns)
{
	metric_counter_inc(p->m.commits);
	metric_histogram_observe_ns(p->m.commit, (uint64_t)ns);
	int64_t avg = atomic_load(&p->commit_ns);
	atomic_store(&p->commit_ns, ns > avg ? ns : avg + (ns - avg) / 8);
}

/* While workers are busy more tags are coming: gather them for up to
 * PIPELINE_GATHER_NS (so a batch never waits long: the issue allows 5 ms),
 * then commit.  An idle pipeline commits at once, so a lone packet pays only
 * the commit.  A commit is one append and one fdatasync (store/taglog.h):
 * its cost is per commit, not per tag, so fewer and larger batches are
 * cheaper under a flood (bench/node: about 1.5 us per packet). */
#define PIPELINE_GATHER_NS 4000000

static void
gather(struct pipeline *p)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += PIPELINE_GATHER_NS;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->in_lock);
	while (!p->stop && (p->in_count > 0 || p->busy > 0))
		if (pthread_cond_timedwait(&p->idle_cond, &p->in_lock, &ts) !=
		    0)
			break;
	pthread_mutex_unlock(&p->in_lock);
}

/* Group commit: flush as soon as tags are pending (after gathering what
 * busy workers are about to add), so a tag waits for at most the commit in
 * progress plus its own. */
static void *
committer_main(void *arg)
{
	struct pipeline *p = arg;
	prctl(PR_SET_NAME, "bc-commit", 0, 0, 0);
	for (;;) {
		pthread_mutex_lock(&p->c_lock);
		while (!p->c_stop && !p->c_pending)
			pthread_cond_wait(&p->c_cond, &p->c_lock);
		bool stop = p->c_stop;
		pthread_mutex_unlock(&p->c_lock);
		if (!stop)
			gather(p);
		pthread_mutex_lock(&p->c_lock);
		p->c_pending = false;
		pthread_mutex_unlock(&p->c_lock);
		int64_t t0 = time_mono_ns();
		if (replay_flush(p->cfg.replay) != 0) {
			metric_counter_inc(p->m.commit_fail);
			/* Retry after the batch bound, not in a hot loop. */
			time_sleep_ms(5);
			pthread_mutex_lock(&p->c_lock);
			p->c_pending = true;
			pthread_mutex_unlock(&p->c_lock);
		} else {
			commit_note(p, time_mono_ns() - t0);
		}
		wake(p);
		if (stop)
			return NULL;
	}
}

static void
workers_stop(struct pipeline *p)
{
	pthread_mutex_lock(&p->in_lock);
	p->stop = true;
	pthread_cond_broadcast(&p->in_cond);
	pthread_mutex_unlock(&p->in_lock);
	for (size_t i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		sphinx_unwrap_ctx_free(w->ux);
		SECRET_FREE(w->keys);
	}
	p->n_workers = 0;
}

static int
threads_start(struct pipeline *p)
{
	p->workers = bc_calloc(p->cfg.workers, sizeof(*p->workers));
	for (size_t i = 0; i < p->cfg.workers; i++) {
		struct worker *w = &p->workers[i];
		w->p = p;
		w->ux = sphinx_unwrap_ctx_new(&p->cfg.geom);
		w->keys = secret_alloc(32 * PIPELINE_MAX_KEYS);
		p->n_workers++;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			log_err("pipeline: cannot start worker thread");
			return -1;
		}
		w->started = true;
	}
	if (p->cfg.inline_unwrap) {
		p->lw.p = p;
		p->lw.ux = sphinx_unwrap_ctx_new(&p->cfg.geom);
		p->lw.pkt = bc_malloc(p->pkt_len);
		p->lw.slot = NO_SLOT;
		p->lw.keys = secret_alloc(32 * PIPELINE_MAX_KEYS);
	}
	if (pthread_create(&p->committer, NULL, committer_main, p) != 0) {
		log_err("pipeline: cannot start committer thread");
		return -1;
	}
	p->committer_started = true;
	return 0;
}

/* Every queued packet and every one a worker holds has a slot, so a
 * submit admitted by inbox_admit always finds one free. */
static void
inbox_init(struct pipeline *p)
{
	p->in_cap = p->cfg.inbox_capacity ? p->cfg.inbox_capacity : 1024;
	p->in_slots = p->in_cap + p->cfg.workers;
	p->inbox = bc_malloc(p->in_slots * p->pkt_len);
	p->in_src = bc_calloc(p->in_slots, 1);
	p->in_ring = bc_calloc(p->in_cap, sizeof(*p->in_ring));
	p->in_free = bc_calloc(p->in_slots, sizeof(*p->in_free));
	/* Slot 0 on top: the first packets go to the start of the inbox. */
	for (size_t i = 0; i < p->in_slots; i++)
		p->in_free[i] = (uint32_t)(p->in_slots - 1 - i);
	p->in_nfree = p->in_slots;
}

static void
inbox_free(struct pipeline *p)
{
	free(p->inbox);
	free(p->in_src);
	free(p->in_ring);
	free(p->in_free);
}

struct pipeline *
pipeline_new(const struct pipeline_cfg *cfg)
{
	if (!cfg->replay || cfg->workers == 0 ||
	    cfg->workers > PIPELINE_MAX_WORKERS || cfg->geom.packet_len == 0 ||
	    cfg->queue_capacity == 0) {
		log_err("pipeline: bad configuration");
		return NULL;
	}
	struct pipeline *p = bc_calloc(1, sizeof(*p));
	p->cfg = *cfg;
	p->pkt_len = cfg->geom.packet_len;
	atomic_store(&p->max_delay_ms, cfg->max_delay_ms);
	struct metrics *mx = cfg->metrics;
	if (!mx)
		mx = p->own_metrics = metrics_new();
	metrics_init(p, mx);
	inbox_init(p);
	p->q = delayq_new(cfg->queue_capacity, p->pkt_len,
			  sizeof(struct fwd_meta), NULL, NULL);
	if (!p->q) {
		log_err("pipeline: bad queue geometry");
		inbox_free(p);
		metrics_free(p->own_metrics);
		free(p);
		return NULL;
	}
	p->drain_buf = bc_malloc(PIPELINE_DRAIN_BATCH *
				 (sizeof(struct fwd_meta) + p->pkt_len));
	pthread_mutex_init(&p->in_lock, NULL);
	pthread_cond_init(&p->in_cond, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->idle_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&p->key_lock, NULL);
	pthread_mutex_init(&p->q_lock, NULL);
	pthread_mutex_init(&p->c_lock, NULL);
	pthread_cond_init(&p->c_cond, NULL);
	if (threads_start(p) != 0) {
		pipeline_free_(p);
		return NULL;
	}
	return p;
}

void
pipeline_free_(struct pipeline *p)
{
	if (!p)
		return;
	workers_stop(p);
	if (p->committer_started) {
		pthread_mutex_lock(&p->c_lock);
		p->c_stop = true;
		pthread_cond_signal(&p->c_cond);
		pthread_mutex_unlock(&p->c_lock);
		pthread_join(p->committer, NULL);
	}
	for (size_t i = 0; i < PIPELINE_MAX_KEYS; i++)
		SECRET_FREE(p->keys[i].priv);
	sphinx_unwrap_ctx_free(p->lw.ux);
	free(p->lw.pkt);
	SECRET_FREE(p->lw.keys);
	delayq_free(p->q);
	free(p->workers);
	inbox_free(p);
	free(p->drain_buf);
	pthread_mutex_destroy(&p->in_lock);
	pthread_cond_destroy(&p->in_cond);
	pthread_cond_destroy(&p->idle_cond);
	pthread_mutex_destroy(&p->key_lock);
	pthread_mutex_destroy(&p->q_lock);
	pthread_mutex_destroy(&p->c_lock);
	pthread_cond_destroy(&p->c_cond);
	metrics_free(p->own_metrics);
	free(p);
}

int
pipeline_key_add(struct pipeline *p, uint64_t epoch,
		 const uint8_t priv[static 32])
{
	int rc = -1;
	pthread_mutex_lock(&p->key_lock);
	struct key_slot *free_slot = NULL;
	for (size_t i = 0; i < PIPELINE_MAX_KEYS; i++) {
		struct key_slot *k = &p->keys[i];
		if (k->used && k->epoch == epoch) {
			free_slot = k;
			break;
		}
		if (!k->used && !free_slot)
			free_slot = k;
	}
	if (free_slot) {
		if (!free_slot->priv)
			free_slot->priv = secret_alloc(32);
		memcpy(free_slot->priv, priv, 32);
		free_slot->epoch = epoch;
		free_slot->used = true;
		rc = 0;
	}
	pthread_mutex_unlock(&p->key_lock);
	if (rc != 0)
		log_err("pipeline: no room for the key of epoch %llu",
			(unsigned long long)epoch);
	return rc;
}

int
pipeline_key_remove(struct pipeline *p, uint64_t epoch)
{
	bool found = false;
	pthread_mutex_lock(&p->key_lock);
	for (size_t i = 0; i < PIPELINE_MAX_KEYS; i++) {
		struct key_slot *k = &p->keys[i];
		if (k->used && k->epoch == epoch) {
			secret_wipe(k->priv, 32);
			k->used = false;
			found = true;
		}
	}
	pthread_mutex_unlock(&p->key_lock);
	/* Workers copy keys per packet and wipe after, so none outlives this
	 * call by more than one unwrap; the tags go with the key. */
	int rc = replay_erase_epoch(p->cfg.replay, epoch);
	return found && rc == 0 ? 0 : -1;
}

bool
pipeline_key_held(struct pipeline *p, uint64_t epoch)
{
	bool held = false;
	pthread_mutex_lock(&p->key_lock);
	for (size_t i = 0; i < PIPELINE_MAX_KEYS; i++)
		held |= p->keys[i].used && p->keys[i].epoch == epoch;
	pthread_mutex_unlock(&p->key_lock);
	return held;
}

void
pipeline_set_epoch(struct pipeline *p, uint64_t epoch)
{
	pthread_mutex_lock(&p->key_lock);
	p->cur_epoch = epoch;
	pthread_mutex_unlock(&p->key_lock);
	metric_gauge_set(p->m.epoch, (double)epoch);
}

void
pipeline_set_max_delay(struct pipeline *p, uint32_t max_delay_ms)
{
	atomic_store(&p->max_delay_ms, max_delay_ms);
}

/*
 * Fair shares: once the inbox is half full, a source (a link) already
 * holding its share of the inbox (half of it, split among the sources with
 * packets waiting) is refused, so one flooding link cannot crowd out the
 * others: their packets still find room.
 */
static bool
inbox_admit(const struct pipeline *p, uint8_t src)
{
	if (p->in_count == p->in_cap)
		return false;
	if (p->in_count < p->in_cap / 2)
		return true;
	size_t active = p->src_active + (p->src_count[src] == 0);
	return p->src_count[src] < p->in_cap / 2 / active;
}

/* Refills the owner thread's inline budget; true if it may unwrap now. */
static bool
inline_budget(struct pipeline *p, int64_t now)
{
	if (!p->cfg.inline_unwrap || p->in_drain)
		return false;
	int64_t cap = PIPELINE_INLINE_BURST_NS * PIPELINE_INLINE_DEN;
	int64_t dt = now - p->inl_last;
	dt = dt < 0 ? 0 : dt > cap ? cap : dt;
	p->inl_last = now;
	p->inl_tokens += dt * PIPELINE_INLINE_NUM / PIPELINE_INLINE_DEN;
	if (p->inl_tokens > PIPELINE_INLINE_BURST_NS)
		p->inl_tokens = PIPELINE_INLINE_BURST_NS;
	return p->inl_tokens > 0;
}

/* Unwraps on the caller's thread if nothing is queued or being unwrapped
 * (so it overtakes no packet) and the budget allows; false otherwise.  The
 * tag is committed by pipeline_end_batch. */
static bool
inline_process(struct pipeline *p, const uint8_t *pkt)
{
	if (!p->cfg.inline_unwrap || p->in_drain)
		return false;
	int64_t now = time_mono_ns();
	if (!inline_budget(p, now))
		return false;
	pthread_mutex_lock(&p->in_lock);
	bool idle = !p->stop && p->in_count == 0 && p->busy == 0;
	if (idle)
		p->busy++; /* a committer gathering waits for us */
	pthread_mutex_unlock(&p->in_lock);
	if (!idle)
		return false;
	memcpy(p->lw.pkt, pkt, p->pkt_len);
	p->inl_tagged |= worker_process(&p->lw);
	busy_done(p, NO_SLOT, false);
	p->inl_tokens -= time_mono_ns() - now;
	atomic_fetch_add(&p->inlined, 1);
	return true;
}

bool
pipeline_end_batch(struct pipeline *p)
{
	if (!p->inl_tagged)
		return false;
	p->inl_tagged = false;
	int64_t t0 = time_mono_ns();
	if (atomic_load(&p->commit_ns) >= PIPELINE_INLINE_COMMIT_NS ||
	    !inline_budget(p, t0)) {
		committer_poke(p);
		return false;
	}
	if (replay_flush(p->cfg.replay) != 0) {
		metric_counter_inc(p->m.commit_fail);
		committer_poke(p); /* it retries */
		return false;
	}
	int64_t t1 = time_mono_ns();
	commit_note(p, t1 - t0);
	p->inl_tokens -= t1 - t0;
	return true;
}

bool
pipeline_submit_from(struct pipeline *p, uint32_t source, const uint8_t *pkt,
		     size_t len)
{
	uint8_t src = (uint8_t)(source % PIPELINE_SOURCES);
	metric_counter_inc(p->m.in);
	if (len != p->pkt_len) {
		metric_counter_inc(p->m.d_malformed);
		return false;
	}
	if (inline_process(p, pkt))
		return true;
	pthread_mutex_lock(&p->in_lock);
	if (!inbox_admit(p, src)) {
		pthread_mutex_unlock(&p->in_lock);
		metric_counter_inc(p->m.d_inbox);
		return false;
	}
	uint32_t slot = p->in_free[--p->in_nfree];
	memcpy(p->inbox + (size_t)slot * p->pkt_len, pkt, len);
	p->in_src[slot] = src;
	p->in_ring[(p->in_head + p->in_count) % p->in_cap] = slot;
	if (p->src_count[src]++ == 0)
		p->src_active++;
	p->in_count++;
	pthread_cond_signal(&p->in_cond);
	pthread_mutex_unlock(&p->in_lock);
	return true;
}

bool
pipeline_submit(struct pipeline *p, const uint8_t *pkt, size_t len)
{
	return pipeline_submit_from(p, 0, pkt, len);
}

/* Moves up to PIPELINE_DRAIN_BATCH due, durable packets into drain_buf.
 * *next gets the next release time, or INT64_MAX if blocked on a commit. */
static size_t
drain_take(struct pipeline *p, int64_t now_ns, int64_t *next)
{
	size_t n = 0, stride = sizeof(struct fwd_meta) + p->pkt_len;
	uint64_t durable = replay_durable(p->cfg.replay);
	const void *mp;
	const uint8_t *pkt;
	size_t len;
	pthread_mutex_lock(&p->q_lock);
	while (n < PIPELINE_DRAIN_BATCH &&
	       delayq_peek_due(p->q, now_ns, &mp, &pkt, &len)) {
		struct fwd_meta meta;
		memcpy(&meta, mp, sizeof(meta));
		if (meta.batch > durable)
			break;
		uint8_t *dst = p->drain_buf + n * stride;
		memcpy(dst, &meta, sizeof(meta));
		memcpy(dst + sizeof(meta), pkt, p->pkt_len);
		delayq_pop(p->q);
		n++;
	}
	*next = delayq_next_release(p->q);
	if (*next <= now_ns && n < PIPELINE_DRAIN_BATCH)
		*next = INT64_MAX; /* blocked on durability: the commit wakes */
	size_t depth = delayq_len(p->q);
	pthread_mutex_unlock(&p->q_lock);
	metric_gauge_set(p->m.queue_depth, (double)depth);
	return n;
}

int64_t
pipeline_drain(struct pipeline *p, int64_t now_ns, pipeline_send_fn send,
	       void *ctx)
{
	size_t stride = sizeof(struct fwd_meta) + p->pkt_len;
	int64_t next;
	size_t n;
	/* A packet the send callback hands back (a route through this node)
	 * goes to the inbox: no unwrap inside the drain. */
	p->in_drain = true;
	do {
		n = drain_take(p, now_ns, &next);
		for (size_t i = 0; i < n; i++) {
			/* The next hop id is the entry's first bytes (the
			 * stride keeps no alignment: no struct access). */
			const uint8_t *e = p->drain_buf + i * stride;
			if (send(ctx, e, e + sizeof(struct fwd_meta),
				 p->pkt_len))
				metric_counter_inc(p->m.out);
			else
				metric_counter_inc(p->m.d_send);
		}
	} while (n == PIPELINE_DRAIN_BATCH);
	p->in_drain = false;
	return next;
}

void
pipeline_stats(struct pipeline *p, struct pipeline_stats *o)
{
	memset(o, 0, sizeof(*o));
	o->in = metric_counter_get(p->m.in);
	o->out = metric_counter_get(p->m.out);
	o->final = metric_counter_get(p->m.final);
	o->dropped_inbox = metric_counter_get(p->m.d_inbox);
	o->dropped_unwrap = metric_counter_get(p->m.d_unwrap) +
			    metric_counter_get(p->m.d_malformed);
	o->dropped_replay = metric_counter_get(p->m.d_replay);
	o->dropped_delay = metric_counter_get(p->m.d_delay);
	o->dropped_queue = metric_counter_get(p->m.d_queue);
	o->dropped_send = metric_counter_get(p->m.d_send);
	o->commits = metric_counter_get(p->m.commits);
	o->inlined = atomic_load(&p->inlined);
	pthread_mutex_lock(&p->in_lock);
	o->inbox_depth = p->in_count;
	pthread_mutex_unlock(&p->in_lock);
	pthread_mutex_lock(&p->q_lock);
	o->queue_depth = delayq_len(p->q);
	pthread_mutex_unlock(&p->q_lock);
}

bool
pipeline_wait_idle(struct pipeline *p, int64_t timeout_ms)
{
	int64_t deadline = time_mono_ms() + timeout_ms;
	bool idle;
	pthread_mutex_lock(&p->in_lock);
	while (!(idle = p->in_count == 0 && p->busy == 0) &&
	       time_mono_ms() < deadline) {
		pthread_mutex_unlock(&p->in_lock);
		time_sleep_ms(1);
		pthread_mutex_lock(&p->in_lock);
	}
	pthread_mutex_unlock(&p->in_lock);
	return idle;
}

size_t
pipeline_bytes_per_queued(struct pipeline *p)
{
	return delayq_bytes_per_packet(p->q);
}

size_t
pipeline_queue_mem_bytes(struct pipeline *p)
{
	pthread_mutex_lock(&p->q_lock);
	size_t n = delayq_mem_bytes(p->q);
	pthread_mutex_unlock(&p->q_lock);
	return n;
}
