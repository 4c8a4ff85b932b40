/*
 * libuv behind opaque handles.  See evloop.h.
 */
#include "net/evloop.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include "lib/alloc.h"
#include "lib/log.h"

struct evloop {
	uv_loop_t loop;
	void (*sig_cb)(void *ctx, int signum);
	void *sig_ctx;
	uv_signal_t sig[2];
	int n_sig;
};

struct evtimer {
	uv_timer_t t;
	void (*cb)(void *ctx);
	void *ctx;
};

/*
 * An eventfd watched by the loop, not a uv_async_t: libuv's async handle
 * makes the loop spin (pause, then sched_yield) while a sender is between
 * marking it busy and writing its eventfd, and on a core shared with that
 * sender (the mix's committer and workers) the sender cannot finish while
 * the loop spins: about 5 percent of the mix loop's time in bench/node.
 * Here a sender only sets a flag and, if it was clear, writes the eventfd.
 */
struct evwake {
	uv_poll_t p;
	int fd;
	atomic_bool pending; /* set by a sender, cleared before the callback */
	void (*cb)(void *ctx);
	void *ctx;
};

struct evcheck {
	uv_check_t c;
	void (*cb)(void *ctx);
	void *ctx;
};

struct evloop *
evloop_new(void)
{
	struct evloop *ev = bc_calloc(1, sizeof(*ev));
	if (uv_loop_init(&ev->loop) != 0) {
		free(ev);
		return NULL;
	}
	return ev;
}

static void
on_closed(uv_handle_t *h)
{
	/* Timers, wakes and checks were allocated whole; signals live in
	 * evloop. */
	if (h->type == UV_POLL)
		close(((struct evwake *)h)->fd);
	if (h->type == UV_TIMER || h->type == UV_POLL || h->type == UV_CHECK)
		free(h);
}

/* Only handles made here carry the loop in data: handles of other modules
 * (links) are theirs to close, and are closing by now. */
static void
close_one(uv_handle_t *h, void *arg)
{
	if (h->data == arg && !uv_is_closing(h))
		uv_close(h, on_closed);
}

void
evloop_free(struct evloop *ev)
{
	if (!ev)
		return;
	uv_walk(&ev->loop, close_one, ev);
	uv_run(&ev->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&ev->loop) != 0)
		log_warn("evloop: handles left open at close");
	free(ev);
}

struct uv_loop_s *
evloop_uv(struct evloop *ev)
{
	return &ev->loop;
}

int
evloop_run(struct evloop *ev)
{
	return uv_run(&ev->loop, UV_RUN_DEFAULT) < 0 ? -1 : 0;
}

void
evloop_stop(struct evloop *ev)
{
	uv_stop(&ev->loop);
}

static void
on_timer(uv_timer_t *t)
{
	struct evtimer *et = (struct evtimer *)t;
	et->cb(et->ctx);
}

struct evtimer *
evtimer_new(struct evloop *ev, void (*cb)(void *ctx), void *ctx)
{
	struct evtimer *t = bc_calloc(1, sizeof(*t));
	uv_timer_init(&ev->loop, &t->t);
	t->t.data = ev;
	t->cb = cb;
	t->ctx = ctx;
	return t;
}

void
evtimer_start(struct evtimer *t, uint64_t ms, uint64_t repeat_ms)
{
	uv_timer_start(&t->t, on_timer, ms, repeat_ms);
}

void
evtimer_stop(struct evtimer *t)
{
	uv_timer_stop(&t->t);
}

static void
on_wake(uv_poll_t *p, int status, int events)
{
	struct evwake *w = (struct evwake *)p;
	uint64_t v;

	(void)status;
	(void)events;
	while (read(w->fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	/* Cleared before the callback: a send from now on wakes us again. */
	atomic_store(&w->pending, false);
	w->cb(w->ctx);
}

struct evwake *
evwake_new(struct evloop *ev, void (*cb)(void *ctx), void *ctx)
{
	struct evwake *w = bc_calloc(1, sizeof(*w));
	w->cb = cb;
	w->ctx = ctx;
	atomic_init(&w->pending, false);
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->fd < 0) {
		log_err("evloop: eventfd: %s", strerror(errno));
		free(w);
		return NULL;
	}
	if (uv_poll_init(&ev->loop, &w->p, w->fd) != 0) {
		close(w->fd);
		free(w);
		return NULL;
	}
	w->p.data = ev;
	uv_poll_start(&w->p, UV_READABLE, on_wake);
	return w;
}

void
evwake_send(struct evwake *w)
{
	static const uint64_t one = 1;

	if (atomic_exchange(&w->pending, true))
		return;
	/* Non-blocking: a full counter (2^64 - 2 wakes unread) is a wake. */
	while (write(w->fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void
on_check(uv_check_t *c)
{
	struct evcheck *ec = (struct evcheck *)c;
	ec->cb(ec->ctx);
}

struct evcheck *
evcheck_new(struct evloop *ev, void (*cb)(void *ctx), void *ctx)
{
	struct evcheck *c = bc_calloc(1, sizeof(*c));
	c->cb = cb;
	c->ctx = ctx;
	uv_check_init(&ev->loop, &c->c);
	c->c.data = ev;
	uv_check_start(&c->c, on_check);
	uv_unref((uv_handle_t *)&c->c);
	return c;
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct evloop *ev = s->data;
	ev->sig_cb(ev->sig_ctx, signum);
}

int
evloop_on_signals(struct evloop *ev, void (*cb)(void *ctx, int signum),
		  void *ctx)
{
	static const int sigs[2] = {SIGINT, SIGTERM};
	signal(SIGPIPE, SIG_IGN);
	ev->sig_cb = cb;
	ev->sig_ctx = ctx;
	for (int i = 0; i < 2; i++) {
		uv_signal_init(&ev->loop, &ev->sig[i]);
		ev->sig[i].data = ev;
		if (uv_signal_start(&ev->sig[i], on_signal, sigs[i]) != 0)
			return -1;
		ev->n_sig++;
	}
	return 0;
}
