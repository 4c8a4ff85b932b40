/* The scheduler and route selection (client/sched.h, client/route.h). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "client/route.h"
#include "client/sched.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(client_sched, .init = setup, .fini = rand_set_system);

/* A fixed "random" source: every gap is exactly the mean. */
static double mean_exp(void *ctx, double mean)
{
	(void)ctx;
	return mean;
}

Test(client_sched, injected_rng_gives_exact_times)
{
	struct sched s;
	struct sched_rates r = { { 2.0, 0.5, 0.0, 1.0 } };
	struct sched_rng rng = { mean_exp, NULL };
	enum sched_stream st;

	sched_init(&s, &r, &rng, 1000);
	cr_assert_eq(sched_next_us(&s), 1000 + 500000);
	cr_assert(!sched_pop(&s, 500999, &st));
	cr_assert(sched_pop(&s, 501000, &st));
	cr_assert_eq(st, SCHED_SEND);
	cr_assert(!sched_pop(&s, 501000, &st));
	/* At 1.001 s both send (2nd) and fetch (1st) are due: earliest first,
	 * the drop stream (rate 0) never. */
	cr_assert(sched_pop(&s, 1001000, &st));
	cr_assert(sched_pop(&s, 1001000, &st));
	cr_assert(!sched_pop(&s, 1001000, &st));
	cr_assert_eq(s.fired[SCHED_SEND], 2);
	cr_assert_eq(s.fired[SCHED_FETCH], 1);
	cr_assert_eq(s.fired[SCHED_DROP], 0);
	cr_assert_eq(s.next_us[SCHED_DROP], UINT64_MAX);
}

Test(client_sched, late_loop_keeps_rate_long_lag_restarts)
{
	struct sched s;
	struct sched_rates r = { { 10.0, 0, 0, 0 } };
	struct sched_rng rng = { mean_exp, NULL };
	enum sched_stream st;
	int n = 0;

	sched_init(&s, &r, &rng, 0);
	/* 1 s late: the 10 events due still fire, on their own schedule. */
	while (sched_pop(&s, 1000000, &st))
		n++;
	cr_assert_eq(n, 10);
	cr_assert_eq(s.restarted, 0);
	/* 10 s later: one event, then the stream restarts from now. */
	n = 0;
	while (sched_pop(&s, 11000000, &st))
		n++;
	cr_assert_eq(n, 1);
	cr_assert_eq(s.restarted, 1);
	cr_assert_eq(sched_next_us(&s), 11100000);
}

Test(client_sched, empirical_rates_match)
{
	struct sched s;
	struct sched_rates r;
	enum sched_stream st;

	rand_set_deterministic(7);
	sched_rates_from_milli(&r, 2000, 500, 500, 1000);
	sched_init(&s, &r, NULL, 0);
	const uint64_t end = 10000ull * 1000000; /* 10,000 s simulated */
	for (uint64_t t = sched_next_us(&s); t < end; t = sched_next_us(&s))
		while (sched_pop(&s, t, &st))
			;
	/* Poisson counts: sd = sqrt(20000) ~ 141; 5 sd bounds. */
	cr_assert(fabs((double)s.fired[SCHED_SEND] - 20000) < 710);
	cr_assert(fabs((double)s.fired[SCHED_LOOP] - 5000) < 360);
	cr_assert(fabs((double)s.fired[SCHED_DROP] - 5000) < 360);
	cr_assert(fabs((double)s.fired[SCHED_FETCH] - 10000) < 500);
	cr_assert_str_eq(sched_stream_name(SCHED_FETCH), "fetch");
}

Test(client_sched, delays_are_capped_exponentials)
{
	rand_set_deterministic(9);
	double sum = 0;
	int capped = 0;
	for (int i = 0; i < 20000; i++) {
		uint32_t d = route_delay_ms(50.0, 200);
		cr_assert_leq(d, 200);
		capped += d == 200;
		sum += d;
	}
	/* P(Exp(50) > 200) = e^-4 = 1.8 %: 366 expected. */
	cr_assert(capped > 250 && capped < 480, "capped %d", capped);
	/* E[min(X, 200)] = 50 (1 - e^-4) = 49.08. */
	cr_assert(fabs(sum / 20000 - 49.08) < 1.5, "mean %f", sum / 20000);
	cr_assert_eq(route_delay_ms(0.0, 100), 0);
}

Test(client_sched, rtt_quantile_matches_closed_forms)
{
	/* One uncapped exponential: p99 = mean * ln 100. */
	double q = route_rtt_quantile_ms(100.0, 1e5, 1, 0, 0.99);
	cr_assert(fabs(q - 460.5) < 30.0, "q %f", q);
	/* Erlang(7, 50): p99 = 50 * 16.5 = ~825 ms (the chi-square 0.99
	 * quantile with 14 d.f. is 29.14, halved). */
	q = route_rtt_quantile_ms(50.0, 1e4, 7, 0, 0.99);
	cr_assert(q >= 728.0 && q < 728.0 + 8 * 1e4 * 7 / 4095.0 + 1,
		  "q %f", q);
	/* A cap at 60 ms on 7 hops: never more than 420. */
	q = route_rtt_quantile_ms(50.0, 60.0, 7, 0, 0.99);
	cr_assert(q <= 420.0 + 1e-9 && q > 300.0, "q %f", q);
	/* Defaults, with the fetch wait: larger than without. */
	double a = route_rtt_quantile_ms(50.0, 1000.0, 7, 0, 0.99);
	double b = route_rtt_quantile_ms(50.0, 1000.0, 7, 1000.0, 0.99);
	cr_assert(b > a + 3000.0, "a %f b %f", a, b);
	/* The default fetch rate, 4/s (mean wait 250 ms): the fetch wait's own
	 * p99 is 250 ln 100 = 1151 ms, so the sum lies between the larger
	 * part and the two p99s added; far below the 1/s figure. */
	double c = route_rtt_quantile_ms(50.0, 1000.0, 7, 250.0, 0.99);
	cr_assert(c > a && c > 1151.0 && c < a + 1151.0 + 1.0 && c < b - 3000.0,
		  "a %f c %f b %f", a, c, b);
	cr_assert_lt(route_rtt_quantile_ms(0, 1, 1, 0, 0.99), 0);
	cr_assert_lt(route_rtt_quantile_ms(1, 1, 1, 0, 1.0), 0);
}
