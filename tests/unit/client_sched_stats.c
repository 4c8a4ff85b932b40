/*
 * Statistical test: the gateway cannot tell a client that talks from one
 * that does not (TESTING.md level 6).
 *
 * What the gateway sees of a client, per fixed window of W seconds: the
 * packets it sends (sending stream, loops, drops), the replies that arrive
 * for it (one per sending-stream and loop packet, after the route's delays)
 * and its fetch frames. We simulate the real scheduler (client/sched.c) and
 * real route delays (client/route.c) on a simulated clock with fixed seeds,
 * for a client with a steady conversation (bursts of messages queued every
 * few seconds) and for a silent one, and compare the per-window counts of
 * each of the three series with a two-sample Kolmogorov-Smirnov test at
 * alpha = 0.001 (critical D = 1.949 * sqrt((n + m) / (n m)); with discrete
 * counts the test is conservative, so a pass is not luck). The same test
 * must reject two leaky schedulers: one that also sends each real message
 * at once (on top of the stream), and one that sends no cover (the stream
 * fires only when a real packet is queued).
 *
 * Deterministic: the seeds are fixed, so the statistics are the same every
 * run (checked below by running one case twice).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client/route.h"
#include "client/sched.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"

#define SIM_SECONDS 4000
#define WINDOW_S 5
#define NWIN (SIM_SECONDS / WINDOW_S)
#define BURST_EVERY_S 20 /* the talking client queues a burst this often */
#define BURST_LEN 10
#define KS_C_001 1.949

enum leak { LEAK_NONE, LEAK_IMMEDIATE, LEAK_NO_COVER };

struct view {
	double sent[NWIN];
	double replies[NWIN];
	double fetches[NWIN];
	uint64_t real_sent;
	uint64_t real_queued;
};

static void count_at(double *series, uint64_t t_us)
{
	uint64_t w = t_us / (WINDOW_S * 1000000ull);
	if (w < NWIN)
		series[w] += 1.0;
}

/* A reply reaches the gateway after the 7 delayed hops of a round trip. */
static void reply_at(struct view *v, uint64_t t_us)
{
	uint64_t d = 0;
	for (int i = 0; i < ROUTE_FWD_DELAYED + ROUTE_REPLY_DELAYED; i++)
		d += route_delay_ms(50.0, 1000);
	count_at(v->replies, t_us + d * 1000ull);
}

static void sim(struct view *v, uint64_t seed, bool talks, enum leak leak)
{
	struct sched s;
	struct sched_rates r;
	uint64_t queue = 0, next_burst = 1000000ull;
	const uint64_t end = SIM_SECONDS * 1000000ull;

	memset(v, 0, sizeof(*v));
	rand_set_deterministic(seed);
	sched_rates_from_milli(&r, 2000, 500, 500, 4000); /* the defaults */
	sched_init(&s, &r, NULL, 0);
	for (;;) {
		uint64_t t = sched_next_us(&s);
		if (talks && next_burst <= t) {
			t = next_burst;
			next_burst += BURST_EVERY_S * 1000000ull;
			queue += BURST_LEN;
			v->real_queued += BURST_LEN;
			if (leak == LEAK_IMMEDIATE)
				for (int i = 0; i < BURST_LEN; i++) {
					count_at(v->sent, t);
					reply_at(v, t);
				}
			continue;
		}
		if (t >= end)
			break;
		enum sched_stream st;
		while (sched_pop(&s, t, &st)) {
			if (st == SCHED_FETCH) {
				count_at(v->fetches, t);
				continue;
			}
			if (st == SCHED_SEND && queue > 0) {
				queue--;
				v->real_sent++;
			} else if (st == SCHED_SEND && leak == LEAK_NO_COVER) {
				continue;
			}
			count_at(v->sent, t);
			if (st != SCHED_DROP)
				reply_at(v, t);
		}
	}
	rand_set_system();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Two-sample Kolmogorov-Smirnov statistic of two samples of n values. */
static double ks_stat(const double *a0, const double *b0, size_t n)
{
	double *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	memcpy(a, a0, n * sizeof(*a));
	memcpy(b, b0, n * sizeof(*b));
	qsort(a, n, sizeof(*a), cmp_double);
	qsort(b, n, sizeof(*b), cmp_double);
	size_t i = 0, j = 0;
	double d = 0.0;
	while (i < n && j < n) {
		double x = a[i] < b[j] ? a[i] : b[j];
		while (i < n && a[i] <= x)
			i++;
		while (j < n && b[j] <= x)
			j++;
		double diff = fabs((double)i / n - (double)j / n);
		if (diff > d)
			d = diff;
	}
	free(a);
	free(b);
	return d;
}

static double ks_crit(size_t n)
{
	return KS_C_001 * sqrt(2.0 / (double)n);
}

struct verdict {
	double d_sent, d_replies, d_fetches;
};

static struct verdict compare(const struct view *x, const struct view *y)
{
	struct verdict v = {
		ks_stat(x->sent, y->sent, NWIN),
		ks_stat(x->replies, y->replies, NWIN),
		ks_stat(x->fetches, y->fetches, NWIN),
	};
	return v;
}

static bool distinguishable(const struct verdict *v)
{
	double c = ks_crit(NWIN);
	return v->d_sent > c || v->d_replies > c || v->d_fetches > c;
}

static struct view silent, talking, leaky;

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(client_sched_stats, .init = setup);

Test(client_sched_stats, talking_and_silent_are_indistinguishable)
{
	sim(&silent, 1, false, LEAK_NONE);
	sim(&talking, 2, true, LEAK_NONE);
	/* The talking client really talked: nearly every message went out. */
	cr_assert_gt(talking.real_queued, 1500);
	cr_assert_geq(talking.real_sent + BURST_LEN, talking.real_queued);
	struct verdict v = compare(&silent, &talking);
	cr_log_info("KS D: sent %.4f replies %.4f fetches %.4f (crit %.4f)",
		    v.d_sent, v.d_replies, v.d_fetches, ks_crit(NWIN));
	cr_assert(!distinguishable(&v), "honest scheduler leaks: D %.4f %.4f %.4f",
		  v.d_sent, v.d_replies, v.d_fetches);
}

Test(client_sched_stats, catches_immediate_send_leak)
{
	sim(&silent, 1, false, LEAK_NONE);
	sim(&leaky, 2, true, LEAK_IMMEDIATE);
	struct verdict v = compare(&silent, &leaky);
	cr_log_info("leak (immediate) KS D: sent %.4f replies %.4f", v.d_sent,
		    v.d_replies);
	cr_assert(distinguishable(&v));
	cr_assert_gt(v.d_sent, ks_crit(NWIN));
}

Test(client_sched_stats, catches_no_cover_leak)
{
	sim(&silent, 1, false, LEAK_NONE);
	sim(&leaky, 2, true, LEAK_NO_COVER);
	struct verdict v = compare(&silent, &leaky);
	cr_log_info("leak (no cover) KS D: sent %.4f replies %.4f", v.d_sent,
		    v.d_replies);
	cr_assert(distinguishable(&v));
}

Test(client_sched_stats, silent_client_passes_also_against_itself_reseeded)
{
	static struct view other;
	sim(&silent, 1, false, LEAK_NONE);
	sim(&other, 3, false, LEAK_NONE);
	struct verdict v = compare(&silent, &other);
	cr_assert(!distinguishable(&v));
}

Test(client_sched_stats, deterministic)
{
	static struct view again;
	sim(&talking, 2, true, LEAK_NONE);
	sim(&again, 2, true, LEAK_NONE);
	cr_assert(memcmp(&talking, &again, sizeof(again)) == 0);
}

/*
 * Fetch capacity (docs/client.md): one fetch response holds one item at the
 * default geometry, and a silent client's replies alone reach its gateway
 * at lambda_p + lambda_l = 2.5/s.  Simulate the gateway's queue for that
 * client: replies arrive after their route delays, each fetch takes the
 * oldest one.  At the old lambda_f = 1/s the queue grows without bound
 * (about 1.5 items per second); at the default 4/s it stays short and the
 * wait for a fetch stays near its 250 ms mean.
 */
struct backlog {
	uint64_t arrived, fetched, left;
	double wait_p99_ms;
};

static void backlog_sim(struct backlog *b, uint32_t lambda_f_milli)
{
	enum { SECONDS = 1000, MAXR = 4 * SECONDS };
	struct sched s;
	struct sched_rates r;
	uint64_t *arr = calloc(MAXR, sizeof(*arr)), na = 0, head = 0;
	double *waits = calloc(MAXR, sizeof(*waits));
	uint64_t nw = 0, t;
	enum sched_stream st;

	memset(b, 0, sizeof(*b));
	rand_set_deterministic(7);
	sched_rates_from_milli(&r, 2000, 500, 500, lambda_f_milli);
	sched_init(&s, &r, NULL, 0);
	while ((t = sched_next_us(&s)) < SECONDS * 1000000ull) {
		while (sched_pop(&s, t, &st)) {
			if ((st == SCHED_SEND || st == SCHED_LOOP) && na < MAXR) {
				uint64_t d = 0;
				for (int i = 0; i < 7; i++)
					d += route_delay_ms(50.0, 1000);
				arr[na++] = t + d * 1000;
			}
			if (st != SCHED_FETCH)
				continue;
			/* The oldest reply that has arrived by now. */
			qsort(arr + head, na - head, sizeof(*arr), cmp_u64);
			if (head < na && arr[head] <= t) {
				waits[nw++] = (double)(t - arr[head]) / 1000.0;
				head++;
			}
		}
	}
	rand_set_system();
	b->arrived = na;
	b->fetched = head;
	b->left = na - head;
	qsort(waits, nw, sizeof(*waits), cmp_double);
	b->wait_p99_ms = nw ? waits[(size_t)(0.99 * (double)(nw - 1))] : 0;
	free(arr);
	free(waits);
}

Test(client_sched_stats, fetch_rate_drains_the_replies)
{
	struct backlog old, now;
	backlog_sim(&old, 1000);
	backlog_sim(&now, 4000);
	cr_log_info("lambda_f 1/s: %llu replies, %llu fetched, %llu left; "
		    "4/s: %llu, %llu, %llu left, wait p99 %.0f ms",
		    (unsigned long long)old.arrived,
		    (unsigned long long)old.fetched,
		    (unsigned long long)old.left,
		    (unsigned long long)now.arrived,
		    (unsigned long long)now.fetched,
		    (unsigned long long)now.left, now.wait_p99_ms);
	/* 1/s: roughly 1,000 fetched of 2,500, the rest waiting. */
	cr_assert_gt(old.arrived, 2300);
	cr_assert_lt(old.fetched, 1150);
	cr_assert_gt(old.left, 1200);
	/* 4/s: all but a handful fetched.  The wait is M/M/1's: Exp with
	 * rate 4 - 2.5 = 1.5/s, p99 = ln(100) / 1.5 = 3,070 ms (what
	 * route_fetch_wait_ms gives the daemon's timeout). */
	cr_assert_gt(now.arrived, 2300);
	cr_assert_lt(now.left, 20);
	double model = route_fetch_wait_ms(4.0, 2.5, 60000.0) * log(100.0);
	cr_assert(fabs(model - 3070.0) < 1.0, "model %f", model);
	cr_assert(fabs(now.wait_p99_ms / model - 1.0) < 0.2,
		  "measured p99 %f, model %f", now.wait_p99_ms, model);
	cr_assert_eq(route_fetch_wait_ms(1.0, 2.5, 60000.0), 60000.0);
	cr_assert_eq(route_fetch_wait_ms(0.0, 2.5, 60000.0), 0.0);
}

/*
 * Confirmations ride on FETCH (docs/link.md): the gateway's view of the
 * uplink of a client that receives messages (a burst of 10 every 20 s
 * arriving at its gateway) and of one that receives none.  With the
 * confirmations inside the fetch frames, the uplink is the streams' frames
 * whatever arrives; with a separate CONFIRM frame after every response that
 * carried an item (the former client), the uplink counts track what the
 * client received, and the same KS test tells the two apart.
 */
static void sim_uplink(double *up, uint64_t seed, bool receives,
		       bool confirm_frames)
{
	enum { MAXI = 16 * SIM_SECONDS };
	struct sched s;
	struct sched_rates r;
	uint64_t *arr = calloc(MAXI, sizeof(*arr)), na = 0, head = 0, t;
	uint64_t next_burst = 1000000ull;
	enum sched_stream st;

	memset(up, 0, NWIN * sizeof(*up));
	rand_set_deterministic(seed);
	sched_rates_from_milli(&r, 2000, 500, 500, 4000);
	sched_init(&s, &r, NULL, 0);
	while ((t = sched_next_us(&s)) < SIM_SECONDS * 1000000ull) {
		while (receives && next_burst <= t && na + BURST_LEN < MAXI) {
			/* A contact's messages: 5 delayed hops to our gateway. */
			for (int i = 0; i < BURST_LEN; i++) {
				uint64_t d = 0;
				for (int h = 0; h < ROUTE_FWD_DELAYED; h++)
					d += route_delay_ms(50.0, 1000);
				arr[na++] = next_burst + d * 1000;
			}
			next_burst += BURST_EVERY_S * 1000000ull;
		}
		while (sched_pop(&s, t, &st)) {
			count_at(up, t); /* every event is one uplink frame */
			if ((st == SCHED_SEND || st == SCHED_LOOP) && na < MAXI) {
				uint64_t d = 0;
				for (int h = 0; h < 7; h++)
					d += route_delay_ms(50.0, 1000);
				arr[na++] = t + d * 1000;
			}
			if (st != SCHED_FETCH)
				continue;
			qsort(arr + head, na - head, sizeof(*arr), cmp_u64);
			if (head < na && arr[head] <= t) {
				head++;
				if (confirm_frames) /* right after the answer */
					count_at(up, t + 1000);
			}
		}
	}
	rand_set_system();
	free(arr);
}

Test(client_sched_stats, confirmations_in_fetch_hide_what_arrives)
{
	static double quiet[NWIN], busy[NWIN];
	double c = ks_crit(NWIN);

	sim_uplink(quiet, 1, false, false);
	sim_uplink(busy, 2, true, false);
	double d_now = ks_stat(quiet, busy, NWIN);
	sim_uplink(quiet, 1, false, true);
	sim_uplink(busy, 2, true, true);
	double d_old = ks_stat(quiet, busy, NWIN);
	cr_log_info("uplink frames, receiving vs not: KS D %.4f with "
		    "confirmations in FETCH, %.4f with CONFIRM frames "
		    "(crit %.4f)", d_now, d_old, c);
	cr_assert_lt(d_now, c, "the uplink shows what arrives: D %f", d_now);
	cr_assert_gt(d_old, c, "CONFIRM frames not caught: D %f", d_old);
}
