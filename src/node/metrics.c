/*
 * Metrics registry and Prometheus text rendering.  See metrics.h.
 */
#include "node/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/log.h"

struct metric_counter {
	_Atomic uint64_t v;
};

/* A double kept as its bit pattern so it can live in an atomic integer. */
struct metric_gauge {
	_Atomic uint64_t bits;
};

struct metric_histogram {
	size_t n_bounds;
	uint64_t bounds_ns[METRICS_MAX_BUCKETS];
	_Atomic uint64_t buckets[METRICS_MAX_BUCKETS + 1]; /* last: +Inf */
	_Atomic uint64_t sum_ns;
	_Atomic uint64_t count;
};

enum series_kind {
	SERIES_COUNTER,
	SERIES_GAUGE,
	SERIES_HISTOGRAM,
};

struct series {
	enum series_kind kind;
	char name[96];
	char label_key[48];
	char *label_val; /* NULL: unlabelled */
	char *help;
	union {
		struct metric_counter counter;
		struct metric_gauge gauge;
		struct metric_histogram hist;
	} u;
};

struct metrics {
	pthread_mutex_t lock;
	struct series *series[METRICS_MAX_SERIES];
	size_t n;
};

struct metrics *
metrics_new(void)
{
	struct metrics *m = bc_calloc(1, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
metrics_free_(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->series[i]->label_val);
		free(m->series[i]->help);
		free(m->series[i]);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static bool
name_valid(const char *s, bool colon_ok, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     c == '_' || (colon_ok && c == ':');
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool
same_label(const struct series *s, const char *key, const char *val)
{
	if (!key)
		return s->label_val == NULL;
	return s->label_val && strcmp(s->label_key, key) == 0 &&
	       strcmp(s->label_val, val) == 0;
}

/* Finds or creates a series; called with the lock held. */
static struct series *
series_get(struct metrics *m, enum series_kind kind, const char *name,
	   const char *help, const char *key, const char *val)
{
	if (!name_valid(name, true, sizeof(((struct series *)0)->name)) ||
	    (key &&
	     (!val || !name_valid(key, false, 48) || strlen(val) > 256)) ||
	    (!key && val)) {
		log_err("metrics: invalid metric name or label for %s", name);
		return NULL;
	}
	for (size_t i = 0; i < m->n; i++) {
		struct series *s = m->series[i];
		if (strcmp(s->name, name) != 0)
			continue;
		if (s->kind != kind) {
			log_err("metrics: %s registered with another type",
				name);
			return NULL;
		}
		if (same_label(s, key, val))
			return s;
	}
	if (m->n == METRICS_MAX_SERIES) {
		log_err("metrics: registry full, %s not exported", name);
		return NULL;
	}
	struct series *s = bc_calloc(1, sizeof(*s));
	s->kind = kind;
	memcpy(s->name, name, strlen(name) + 1);
	if (key) {
		memcpy(s->label_key, key, strlen(key) + 1);
		s->label_val = bc_strdup(val);
	}
	s->help = bc_strdup(help ? help : "");
	m->series[m->n++] = s;
	return s;
}

struct metric_counter *
metrics_counter(struct metrics *m, const char *name, const char *help,
		const char *label_key, const char *label_val)
{
	pthread_mutex_lock(&m->lock);
	struct series *s =
	    series_get(m, SERIES_COUNTER, name, help, label_key, label_val);
	pthread_mutex_unlock(&m->lock);
	return s ? &s->u.counter : NULL;
}

struct metric_gauge *
metrics_gauge(struct metrics *m, const char *name, const char *help,
	      const char *label_key, const char *label_val)
{
	pthread_mutex_lock(&m->lock);
	struct series *s =
	    series_get(m, SERIES_GAUGE, name, help, label_key, label_val);
	pthread_mutex_unlock(&m->lock);
	return s ? &s->u.gauge : NULL;
}

struct metric_histogram *
metrics_histogram(struct metrics *m, const char *name, const char *help,
		  const uint64_t *bounds_ns, size_t n_bounds)
{
	if (n_bounds == 0 || n_bounds > METRICS_MAX_BUCKETS)
		return NULL;
	for (size_t i = 1; i < n_bounds; i++)
		if (bounds_ns[i] <= bounds_ns[i - 1])
			return NULL;
	pthread_mutex_lock(&m->lock);
	struct series *s =
	    series_get(m, SERIES_HISTOGRAM, name, help, NULL, NULL);
	if (s && s->u.hist.n_bounds == 0) {
		s->u.hist.n_bounds = n_bounds;
		memcpy(s->u.hist.bounds_ns, bounds_ns,
		       n_bounds * sizeof(*bounds_ns));
	}
	pthread_mutex_unlock(&m->lock);
	return s ? &s->u.hist : NULL;
}

void
metric_counter_add(struct metric_counter *c, uint64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}

uint64_t
metric_counter_get(const struct metric_counter *c)
{
	return c ? atomic_load_explicit(&c->v, memory_order_relaxed) : 0;
}

static uint64_t
dbl_bits(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof(b));
	return b;
}

static double
bits_dbl(uint64_t b)
{
	double v;
	memcpy(&v, &b, sizeof(v));
	return v;
}

void
metric_gauge_set(struct metric_gauge *g, double v)
{
	if (g)
		atomic_store_explicit(&g->bits, dbl_bits(v),
				      memory_order_relaxed);
}

void
metric_gauge_add(struct metric_gauge *g, double d)
{
	if (!g)
		return;
	uint64_t old = atomic_load_explicit(&g->bits, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(
	    &g->bits, &old, dbl_bits(bits_dbl(old) + d), memory_order_relaxed,
	    memory_order_relaxed))
		;
}

double
metric_gauge_get(const struct metric_gauge *g)
{
	return g ? bits_dbl(
		       atomic_load_explicit(&g->bits, memory_order_relaxed))
		 : 0.0;
}

void
metric_histogram_observe_ns(struct metric_histogram *h, uint64_t ns)
{
	if (!h)
		return;
	size_t i = 0;
	while (i < h->n_bounds && ns > h->bounds_ns[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

uint64_t
metric_histogram_count(const struct metric_histogram *h)
{
	return h ? atomic_load_explicit(&h->count, memory_order_relaxed) : 0;
}

/* Label values: backslash, double quote and newline are escaped; HELP text:
 * backslash and newline (the exposition format's two escaping rules). */
static void
append_escaped(struct buf *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_append_str(out, "\\\\");
		else if (*s == '\n')
			buf_append_str(out, "\\n");
		else if (quote && *s == '"')
			buf_append_str(out, "\\\"");
		else
			buf_append_u8(out, (uint8_t)*s);
	}
}

static void
append_double(struct buf *out, double v)
{
	if (isnan(v))
		buf_append_str(out, "NaN");
	else if (isinf(v))
		buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
	else
		buf_printf(out, "%.15g", v);
}

static void
render_labels(struct buf *out, const struct series *s)
{
	if (!s->label_val)
		return;
	buf_printf(out, "{%s=\"", s->label_key);
	append_escaped(out, s->label_val, true);
	buf_append_str(out, "\"}");
}

static void
render_histogram(struct buf *out, const struct series *s)
{
	const struct metric_histogram *h = &s->u.hist;
	uint64_t cum = 0;
	for (size_t i = 0; i <= h->n_bounds; i++) {
		cum +=
		    atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
		buf_printf(out, "%s_bucket{le=\"", s->name);
		if (i < h->n_bounds)
			append_double(out, (double)h->bounds_ns[i] / 1e9);
		else
			buf_append_str(out, "+Inf");
		buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	buf_printf(out, "%s_sum ", s->name);
	append_double(out, (double)atomic_load_explicit(&h->sum_ns,
							memory_order_relaxed) /
			       1e9);
	/* _count equals the +Inf bucket, as the format requires. */
	buf_printf(out, "\n%s_count %llu\n", s->name, (unsigned long long)cum);
}

static void
render_series(struct buf *out, const struct series *s)
{
	switch (s->kind) {
	case SERIES_COUNTER:
		buf_append_str(out, s->name);
		render_labels(out, s);
		buf_printf(
		    out, " %llu\n",
		    (unsigned long long)metric_counter_get(&s->u.counter));
		break;
	case SERIES_GAUGE:
		buf_append_str(out, s->name);
		render_labels(out, s);
		buf_append_u8(out, ' ');
		append_double(out, metric_gauge_get(&s->u.gauge));
		buf_append_u8(out, '\n');
		break;
	case SERIES_HISTOGRAM:
		render_histogram(out, s);
		break;
	}
}

static const char *
kind_name(enum series_kind k)
{
	switch (k) {
	case SERIES_COUNTER:
		return "counter";
	case SERIES_GAUGE:
		return "gauge";
	case SERIES_HISTOGRAM:
		return "histogram";
	}
	return "untyped";
}

void
metrics_render(struct metrics *m, struct buf *out)
{
	pthread_mutex_lock(&m->lock);
	/* Every series of one name goes under one HELP/TYPE block. */
	for (size_t i = 0; i < m->n; i++) {
		const struct series *s = m->series[i];
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(m->series[j]->name, s->name) == 0;
		if (seen)
			continue;
		buf_printf(out, "# HELP %s ", s->name);
		append_escaped(out, s->help, false);
		buf_printf(out, "\n# TYPE %s %s\n", s->name,
			   kind_name(s->kind));
		for (size_t j = i; j < m->n; j++)
			if (strcmp(m->series[j]->name, s->name) == 0)
				render_series(out, m->series[j]);
	}
	pthread_mutex_unlock(&m->lock);
}
