#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "lib/time.h"
#include "net/evloop.h"

struct ctx {
	struct evloop *ev;
	struct evtimer *t;
	struct evwake *w;
	int fired;
	_Atomic int woken;
	int signum;
};

static void
on_timer(void *p)
{
	struct ctx *c = p;
	if (++c->fired == 3)
		evloop_stop(c->ev);
}

Test(evloop, repeating_timer_then_stop)
{
	struct ctx c = {0};
	c.ev = evloop_new();
	cr_assert_not_null(c.ev);
	c.t = evtimer_new(c.ev, on_timer, &c);
	int64_t t0 = time_mono_ms();
	evtimer_start(c.t, 5, 5);
	cr_assert_eq(evloop_run(c.ev), 0);
	cr_assert_eq(c.fired, 3);
	cr_assert_geq(time_mono_ms() - t0, 14);
	evloop_free(c.ev);
}

static void
on_wake(void *p)
{
	struct ctx *c = p;
	atomic_fetch_add(&c->woken, 1);
	evloop_stop(c->ev);
}

static void *
waker(void *p)
{
	struct ctx *c = p;
	time_sleep_ms(20);
	evwake_send(c->w);
	return NULL;
}

Test(evloop, wake_from_another_thread)
{
	struct ctx c = {0};
	c.ev = evloop_new();
	c.w = evwake_new(c.ev, on_wake, &c);
	cr_assert_not_null(c.w);
	pthread_t t;
	pthread_create(&t, NULL, waker, &c);
	cr_assert_eq(evloop_run(c.ev), 0);
	pthread_join(t, NULL);
	cr_assert_eq(atomic_load(&c.woken), 1);
	evloop_free(c.ev);
}

static void
on_sig(void *p, int signum)
{
	struct ctx *c = p;
	c->signum = signum;
	evloop_stop(c->ev);
}

static void
raise_term(void *p)
{
	(void)p;
	raise(SIGTERM);
}

Test(evloop, sigterm_reaches_the_callback)
{
	struct ctx c = {0};
	c.ev = evloop_new();
	cr_assert_eq(evloop_on_signals(c.ev, on_sig, &c), 0);
	c.t = evtimer_new(c.ev, raise_term, &c);
	evtimer_start(c.t, 5, 0);
	cr_assert_eq(evloop_run(c.ev), 0);
	cr_assert_eq(c.signum, SIGTERM);
	evloop_free(c.ev);
}
