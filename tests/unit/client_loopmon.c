/*
 * The loop alarm (client/loopmon.h), driven by the real scheduler's loop
 * stream and real route delays on a simulated clock: a healthy network
 * raises nothing, a network that drops a third of the loops raises the
 * alarm within the window, and it goes off again once loops come back.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "client/loopmon.h"
#include "client/route.h"
#include "client/sched.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"

#define MAXL 4096

/* Loops in flight in the simulation: when each comes back (0: never). */
static uint64_t back_at[MAXL];
static uint64_t next_key;

struct run {
	int raised, cleared;
	uint64_t first_raise_ms;
	double min_ratio;
};

/*
 * Simulate from t0_ms for secs seconds at the default loop rate (0.5/s),
 * losing each loop with probability lose (seeded), the round trip's p99
 * from the model as the wait.
 */
static void simulate(struct loopmon *m, struct sched *s, uint64_t t0_ms,
		     int secs, double lose, struct run *r)
{
	enum sched_stream st;
	double q = route_rtt_quantile_ms(
	    50.0, 1000.0, 7, route_fetch_wait_ms(4.0, 2.5, 60000.0), 0.99);
	uint64_t wait = (uint64_t)q;
	uint64_t end = (t0_ms + (uint64_t)secs * 1000) * 1000, t;

	memset(r, 0, sizeof(*r));
	r->min_ratio = 1.0;
	while ((t = sched_next_us(s)) < end) {
		uint64_t now = t / 1000;
		/* Loops whose return time has come. */
		for (uint64_t k = 0; k < next_key && k < MAXL; k++)
			if (back_at[k] && back_at[k] <= now) {
				loopmon_back(m, k);
				back_at[k] = 0;
			}
		while (sched_pop(s, t, &st)) {
			if (st != SCHED_LOOP || next_key >= MAXL)
				continue;
			uint64_t k = next_key++;
			loopmon_sent(m, k, now);
			uint64_t d = 0;
			for (int i = 0; i < 7; i++)
				d += route_delay_ms(50.0, 1000);
			/* The fetch wait at the gateway, Exp(667 ms). */
			double w = rand_exp(667.0);
			d += (uint64_t)w;
			bool lost = rand_uniform(1000) < lose * 1000;
			back_at[k] = lost ? 0 : now + d + 1;
		}
		int c = loopmon_tick(m, now, wait, false);
		if (c == 1 && r->raised++ == 0)
			r->first_raise_ms = now - t0_ms;
		r->cleared += c == -1;
		if (m->wn >= LOOPMON_MIN && loopmon_ratio(m) < r->min_ratio)
			r->min_ratio = loopmon_ratio(m);
	}
}

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	rand_set_deterministic(11);
	memset(back_at, 0, sizeof(back_at));
	next_key = 0;
}

TestSuite(client_loopmon, .init = setup, .fini = rand_set_system);

Test(client_loopmon, healthy_then_lossy_then_healthy)
{
	static struct loopmon m;
	struct sched s;
	struct sched_rates rates;
	struct run r;

	loopmon_init(&m);
	sched_rates_from_milli(&rates, 2000, 500, 500, 4000);
	sched_init(&s, &rates, NULL, 0);
	/* 1% of loops lost (a healthy network): no alarm in 20 minutes. */
	simulate(&m, &s, 0, 1200, 0.01, &r);
	cr_log_info("healthy: judged %llu, lost %llu, min ratio %.2f",
		    (unsigned long long)m.judged, (unsigned long long)m.lost,
		    r.min_ratio);
	cr_assert_gt(m.judged, 500);
	cr_assert_eq(r.raised, 0, "min ratio %f", r.min_ratio);
	cr_assert_geq(r.min_ratio, 0.9);
	cr_assert_not(m.alarm);
	/* A third lost: the alarm, within about the window's 200 s. */
	simulate(&m, &s, 1200000, 600, 0.33, &r);
	cr_log_info("lossy: raised after %llu ms, min ratio %.2f",
		    (unsigned long long)r.first_raise_ms, r.min_ratio);
	cr_assert_eq(r.raised, 1);
	cr_assert_lt(r.first_raise_ms, 200000);
	cr_assert(m.alarm);
	cr_assert_lt(loopmon_ratio(&m), LOOPMON_THRESHOLD);
	/* Healthy again: the alarm goes off once the window recovers. */
	simulate(&m, &s, 1800000, 600, 0.0, &r);
	cr_assert_eq(r.cleared, 1);
	cr_assert_not(m.alarm);
	cr_assert_eq(m.raised, 1);
}

Test(client_loopmon, window_verdict_and_bounds)
{
	static struct loopmon m;
	loopmon_init(&m);
	/* Held (the gateway has a backlog for us): nothing is judged. */
	loopmon_sent(&m, 7, 0);
	cr_assert_eq(loopmon_tick(&m, 100000, 1000, true), 0);
	cr_assert_eq(m.n, 1);
	cr_assert_eq(m.judged, 0);
	cr_assert(loopmon_back(&m, 7), "still pending: it may come");
	cr_assert_eq(loopmon_tick(&m, 100000, 1000, false), 0);
	cr_assert_eq(m.judged, 1);
	cr_assert_eq(m.wback, 1);
	loopmon_init(&m);
	/* No verdict before LOOPMON_MIN judged loops, even if all lost. */
	for (uint64_t k = 0; k < LOOPMON_MIN - 1; k++)
		loopmon_sent(&m, k, k);
	cr_assert_eq(loopmon_tick(&m, 100000, 1000, false), 0);
	cr_assert_not(m.alarm);
	cr_assert_eq(m.wn, LOOPMON_MIN - 1);
	loopmon_sent(&m, 99, 10);
	cr_assert_eq(loopmon_tick(&m, 100000, 1000, false), 1);
	/* A return after its judgement does not count. */
	cr_assert_not(loopmon_back(&m, 99));
	/* 100 returned loops push the lost ones out of the window. */
	for (uint64_t k = 1000; k < 1100; k++) {
		loopmon_sent(&m, k, 200000 + k);
		cr_assert(loopmon_back(&m, k));
		cr_assert_not(loopmon_back(&m, k), "counted once");
	}
	cr_assert_eq(loopmon_tick(&m, 400000, 1000, false), -1);
	cr_assert_eq(m.wn, LOOPMON_WINDOW);
	cr_assert_eq(m.wback, LOOPMON_WINDOW);
	/* Far more pending than the ring holds: the oldest are judged. */
	for (uint64_t k = 0; k < 3 * LOOPMON_PENDING; k++)
		loopmon_sent(&m, k, 500000);
	cr_assert_eq(m.n, LOOPMON_PENDING);
	cr_assert_eq(m.judged, LOOPMON_MIN + 100 + 2 * LOOPMON_PENDING);
	cr_assert_eq(loopmon_tick(&m, 500001, 1000, false), 1, "all of them lost");
}

Test(client_loopmon, measured_round_trip_quantiles)
{
	static struct loopmon m;
	loopmon_init(&m);
	cr_assert_eq(loopmon_rtt_quantile(&m, 0.5), -1.0);
	/* 1..2000 ms: the ring keeps the last 1024, 977..2000. */
	for (int i = 1; i <= 2000; i++)
		loopmon_rtt(&m, (double)i);
	cr_assert_eq(m.rtt_n, LOOPMON_RTT_SAMPLES);
	cr_assert_eq(loopmon_rtt_quantile(&m, 0.0), 977.0);
	cr_assert_eq(loopmon_rtt_quantile(&m, 1.0), 2000.0);
	double p50 = loopmon_rtt_quantile(&m, 0.5);
	cr_assert(p50 >= 1487.0 && p50 <= 1489.0, "p50 %f", p50);
	cr_assert_eq(loopmon_rtt_quantile(&m, 1.5), -1.0);
}
