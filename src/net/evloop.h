#ifndef BC_NET_EVLOOP_H
#define BC_NET_EVLOOP_H

#include <stdint.h>

/*
 * The event loop for layers above net, which may not include <uv.h>: a
 * libuv loop with timers, cross-thread wake-ups and SIGINT/SIGTERM, behind
 * opaque handles.  Everything but evwake_send runs on the loop's thread.
 * Handles are closed by evloop_free, which runs the loop until every close
 * has completed; the *_free functions close one handle earlier.
 */
struct evloop;
struct evtimer;
struct evwake;
struct uv_loop_s;

struct evloop *evloop_new(void);
/* Closes every handle, runs the loop until they are gone, frees. */
void evloop_free(struct evloop *ev);
/* The libuv loop, for net APIs that take one (net/link.h). */
struct uv_loop_s *evloop_uv(struct evloop *ev);
/* Runs until evloop_stop; 0, or -1 if the loop failed. */
int evloop_run(struct evloop *ev);
void evloop_stop(struct evloop *ev);

struct evtimer *evtimer_new(struct evloop *ev, void (*cb)(void *ctx),
			    void *ctx);
/* Fires after ms, then every repeat_ms (0: once).  Restarting replaces. */
void evtimer_start(struct evtimer *t, uint64_t ms, uint64_t repeat_ms);
void evtimer_stop(struct evtimer *t);

/* A wake-up any thread may send; sends before the callback runs merge. */
struct evwake *evwake_new(struct evloop *ev, void (*cb)(void *ctx), void *ctx);
void evwake_send(struct evwake *w);

/*
 * Calls cb(ctx) once per loop iteration, after that iteration's I/O
 * callbacks and before the loop next waits: work a batch of callbacks
 * gathered is finished here once.  Does not keep the loop running.
 */
struct evcheck;
struct evcheck *evcheck_new(struct evloop *ev, void (*cb)(void *ctx),
			    void *ctx);

/* Calls cb(ctx, signum) on the loop thread for SIGINT and SIGTERM (and
 * ignores SIGPIPE for the whole process). */
int evloop_on_signals(struct evloop *ev, void (*cb)(void *ctx, int signum),
		      void *ctx);

#endif
