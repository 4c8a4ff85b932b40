#ifndef BC_NODE_METRICS_H
#define BC_NODE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/*
 * Node metrics: counters, gauges and histograms, rendered in the Prometheus
 * text exposition format (version 0.0.4).  Aggregates only: a label may name
 * a drop reason or a next-hop node, never a client, a queue or a packet.
 *
 * Registration (metrics_counter/_gauge/_histogram) takes a lock and returns a
 * handle that lives as long as the registry; asking again for the same name
 * and label returns the same handle.  Updates through a handle are lock-free
 * atomics, safe from any thread.  Rendering takes the lock and reads each
 * value atomically (a scrape sees each series consistent, not all of them at
 * one instant, as Prometheus expects).
 *
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; a label is one key
 * ([a-zA-Z_][a-zA-Z0-9_]*) and a value that is escaped on output.
 */
struct metrics;
struct metric_counter;
struct metric_gauge;
struct metric_histogram;

#define METRICS_MAX_SERIES  512
#define METRICS_MAX_BUCKETS 24

struct metrics *metrics_new(void);
void metrics_free_(struct metrics *m);
#define metrics_free(m)           \
	do {                      \
		metrics_free_(m); \
		(m) = NULL;       \
	} while (0)

/*
 * label_key and label_val may both be NULL for an unlabelled series.  Returns
 * NULL (and logs) on an invalid name or label, a name already registered with
 * another type, or a full registry; callers treat NULL as "not counted" and
 * every update function accepts NULL.
 */
struct metric_counter *metrics_counter(struct metrics *m, const char *name,
				       const char *help, const char *label_key,
				       const char *label_val);
struct metric_gauge *metrics_gauge(struct metrics *m, const char *name,
				   const char *help, const char *label_key,
				   const char *label_val);
/* bounds_ns: strictly increasing upper bounds in nanoseconds, rendered in
 * seconds (the metric name should end in _seconds); +Inf is implicit. */
struct metric_histogram *metrics_histogram(struct metrics *m, const char *name,
					   const char *help,
					   const uint64_t *bounds_ns,
					   size_t n_bounds);

void metric_counter_add(struct metric_counter *c, uint64_t n);
static inline void
metric_counter_inc(struct metric_counter *c)
{
	metric_counter_add(c, 1);
}
uint64_t metric_counter_get(const struct metric_counter *c);

void metric_gauge_set(struct metric_gauge *g, double v);
void metric_gauge_add(struct metric_gauge *g, double d);
double metric_gauge_get(const struct metric_gauge *g);

void metric_histogram_observe_ns(struct metric_histogram *h, uint64_t ns);
uint64_t metric_histogram_count(const struct metric_histogram *h);

/* Appends the whole exposition to out. */
void metrics_render(struct metrics *m, struct buf *out);

/* The Content-Type of what metrics_render produces. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
