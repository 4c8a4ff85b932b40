#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "lib/buf.h"

#include "node/metrics.h"

static char *
render(struct metrics *m)
{
	struct buf b;
	buf_init(&b);
	metrics_render(m, &b);
	buf_append_u8(&b, 0);
	return (char *)b.data;
}

Test(metrics, counters_and_labels_render)
{
	struct metrics *m = metrics_new();
	struct metric_counter *in = metrics_counter(
	    m, "bc_packets_in_total", "packets received", NULL, NULL);
	struct metric_counter *replay = metrics_counter(
	    m, "bc_packets_dropped_total", "drops", "reason", "replay");
	struct metric_counter *mac = metrics_counter(
	    m, "bc_packets_dropped_total", "drops", "reason", "mac");
	cr_assert(in && replay && mac);
	cr_assert_neq(replay, mac);
	/* Asking again gives the same handle. */
	cr_assert_eq(metrics_counter(m, "bc_packets_dropped_total", "drops",
				     "reason", "mac"),
		     mac);
	metric_counter_add(in, 5);
	metric_counter_inc(replay);
	metric_counter_add(mac, 3);
	metric_counter_inc(NULL); /* tolerated */
	char *t = render(m);
	cr_assert(strstr(t, "# HELP bc_packets_in_total packets received\n"
			    "# TYPE bc_packets_in_total counter\n"
			    "bc_packets_in_total 5\n"));
	cr_assert(strstr(t, "bc_packets_dropped_total{reason=\"replay\"} 1\n"));
	cr_assert(strstr(t, "bc_packets_dropped_total{reason=\"mac\"} 3\n"));
	/* One TYPE line per name, however many series. */
	const char *first = strstr(t, "# TYPE bc_packets_dropped_total");
	cr_assert(first);
	cr_assert_null(strstr(first + 1, "# TYPE bc_packets_dropped_total"));
	free(t);
	metrics_free(m);
	cr_assert_null(m);
}

Test(metrics, gauges_and_escaping)
{
	struct metrics *m = metrics_new();
	struct metric_gauge *g = metrics_gauge(
	    m, "bc_queue_depth", "line1\nline2 \\", "hop", "a\"b\\c\nd");
	cr_assert_not_null(g);
	metric_gauge_set(g, 10);
	metric_gauge_add(g, -2.5);
	cr_assert_float_eq(metric_gauge_get(g), 7.5, 1e-12);
	char *t = render(m);
	cr_assert(strstr(t, "# HELP bc_queue_depth line1\\nline2 \\\\\n"), "%s",
		  t);
	cr_assert(strstr(t, "bc_queue_depth{hop=\"a\\\"b\\\\c\\nd\"} 7.5\n"),
		  "%s", t);
	free(t);
	metrics_free(m);
}

Test(metrics, refuses_bad_names_and_type_clash)
{
	struct metrics *m = metrics_new();
	cr_assert_null(metrics_counter(m, "9bad", "", NULL, NULL));
	cr_assert_null(metrics_counter(m, "bad name", "", NULL, NULL));
	cr_assert_null(metrics_counter(m, "", "", NULL, NULL));
	cr_assert_null(metrics_counter(m, "ok", "", "bad-key", "v"));
	cr_assert_null(metrics_counter(m, "ok", "", "key", NULL));
	cr_assert_not_null(metrics_counter(m, "ok", "", NULL, NULL));
	cr_assert_null(metrics_gauge(m, "ok", "", NULL, NULL));
	uint64_t bad[] = {5, 5};
	cr_assert_null(metrics_histogram(m, "h_seconds", "", bad, 2));
	cr_assert_null(metrics_histogram(m, "h_seconds", "", bad, 0));
	metrics_free(m);
}

Test(metrics, histogram_buckets_are_cumulative)
{
	struct metrics *m = metrics_new();
	uint64_t bounds[] = {1000, 10000, 100000};
	struct metric_histogram *h =
	    metrics_histogram(m, "bc_unwrap_seconds", "unwrap time", bounds, 3);
	cr_assert_not_null(h);
	metric_histogram_observe_ns(h, 500);     /* <= 1us */
	metric_histogram_observe_ns(h, 1000);    /* le is inclusive */
	metric_histogram_observe_ns(h, 5000);    /* <= 10us */
	metric_histogram_observe_ns(h, 1000000); /* +Inf */
	cr_assert_eq(metric_histogram_count(h), 4);
	char *t = render(m);
	cr_assert(strstr(t, "# TYPE bc_unwrap_seconds histogram\n"));
	cr_assert(strstr(t, "bc_unwrap_seconds_bucket{le=\"1e-06\"} 2\n"), "%s",
		  t);
	cr_assert(strstr(t, "bc_unwrap_seconds_bucket{le=\"1e-05\"} 3\n"), "%s",
		  t);
	cr_assert(strstr(t, "bc_unwrap_seconds_bucket{le=\"0.0001\"} 3\n"),
		  "%s", t);
	cr_assert(strstr(t, "bc_unwrap_seconds_bucket{le=\"+Inf\"} 4\n"));
	cr_assert(strstr(t, "bc_unwrap_seconds_count 4\n"));
	cr_assert(strstr(t, "bc_unwrap_seconds_sum 0.0010065"), "%s", t);
	free(t);
	metrics_free(m);
}

struct worker_arg {
	struct metric_counter *c;
	struct metric_histogram *h;
	struct metric_gauge *g;
};

static void *
hammer(void *p)
{
	struct worker_arg *a = p;
	for (int i = 0; i < 100000; i++) {
		metric_counter_inc(a->c);
		metric_histogram_observe_ns(a->h, (uint64_t)i);
		metric_gauge_add(a->g, 1);
	}
	return NULL;
}

Test(metrics, updates_from_threads_are_not_lost)
{
	struct metrics *m = metrics_new();
	uint64_t bounds[] = {100, 1000};
	struct worker_arg a = {
	    metrics_counter(m, "c_total", "", NULL, NULL),
	    metrics_histogram(m, "h_seconds", "", bounds, 2),
	    metrics_gauge(m, "g", "", NULL, NULL),
	};
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, &a);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(metric_counter_get(a.c), 400000);
	cr_assert_eq(metric_histogram_count(a.h), 400000);
	cr_assert_float_eq(metric_gauge_get(a.g), 400000.0, 1e-9);
	metrics_free(m);
}
