/*
 * libuv behind opaque handles.  See evloop.h.
 */
#include "net/evloop.h"

#include <signal.h>
#include <stdlib.h>
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

struct evwake {
	uv_async_t a;
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
	if (h->type == UV_TIMER || h->type == UV_ASYNC || h->type == UV_CHECK)
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
on_async(uv_async_t *a)
{
	struct evwake *w = (struct evwake *)a;
	w->cb(w->ctx);
}

struct evwake *
evwake_new(struct evloop *ev, void (*cb)(void *ctx), void *ctx)
{
	struct evwake *w = bc_calloc(1, sizeof(*w));
	w->cb = cb;
	w->ctx = ctx;
	if (uv_async_init(&ev->loop, &w->a, on_async) != 0) {
		free(w);
		return NULL;
	}
	w->a.data = ev;
	return w;
}

void
evwake_send(struct evwake *w)
{
	uv_async_send(&w->a);
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
