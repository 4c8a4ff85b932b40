/* The loop alarm (loopmon.h). */
#include "client/loopmon.h"

#include <stdlib.h>
#include <string.h>

void
loopmon_init(struct loopmon *m)
{
	memset(m, 0, sizeof(*m));
	m->threshold = LOOPMON_THRESHOLD;
}

/* The oldest pending loop leaves for the window, back or lost. */
static void
loopmon_judge_oldest(struct loopmon *m)
{
	bool back = m->pending[m->head].back;

	m->head = (m->head + 1) % LOOPMON_PENDING;
	m->n--;
	if (m->wn == LOOPMON_WINDOW)
		m->wback -= m->window[m->wpos];
	else
		m->wn++;
	m->window[m->wpos] = back ? 1 : 0;
	m->wback += back ? 1 : 0;
	m->wpos = (m->wpos + 1) % LOOPMON_WINDOW;
	m->judged++;
	m->lost += back ? 0 : 1;
}

void
loopmon_sent(struct loopmon *m, uint64_t key, uint64_t now_ms)
{
	if (m->n == LOOPMON_PENDING)
		loopmon_judge_oldest(m);
	size_t at = (m->head + m->n) % LOOPMON_PENDING;
	struct loopmon_loop *l = &m->pending[at];
	l->key = key;
	l->sent_ms = now_ms;
	l->back = false;
	m->n++;
}

bool
loopmon_back(struct loopmon *m, uint64_t key)
{
	for (size_t i = 0; i < m->n; i++) {
		struct loopmon_loop *l =
		    &m->pending[(m->head + i) % LOOPMON_PENDING];
		if (l->key == key && !l->back) {
			l->back = true;
			return true;
		}
	}
	return false;
}

double
loopmon_ratio(const struct loopmon *m)
{
	return m->wn ? (double)m->wback / (double)m->wn : 1.0;
}

int
loopmon_tick(struct loopmon *m, uint64_t now_ms, uint64_t wait_ms, bool hold)
{
	while (!hold && m->n > 0 &&
	       m->pending[m->head].sent_ms + wait_ms <= now_ms)
		loopmon_judge_oldest(m);
	bool on = m->wn >= LOOPMON_MIN && loopmon_ratio(m) < m->threshold;
	if (on == m->alarm)
		return 0;
	m->alarm = on;
	if (!on)
		return -1;
	m->raised++;
	return 1;
}

void
loopmon_rtt(struct loopmon *m, double ms)
{
	m->rtt[m->rtt_pos] = ms;
	m->rtt_pos = (m->rtt_pos + 1) % LOOPMON_RTT_SAMPLES;
	if (m->rtt_n < LOOPMON_RTT_SAMPLES)
		m->rtt_n++;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double
loopmon_rtt_quantile(const struct loopmon *m, double q)
{
	double v[LOOPMON_RTT_SAMPLES];

	if (m->rtt_n == 0 || !(q >= 0.0 && q <= 1.0))
		return -1.0;
	memcpy(v, m->rtt, m->rtt_n * sizeof(v[0]));
	qsort(v, m->rtt_n, sizeof(v[0]), cmp_double);
	return v[(size_t)(q * (double)(m->rtt_n - 1))];
}
