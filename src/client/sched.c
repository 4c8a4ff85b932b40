/* The four Poisson streams of a client (sched.h). */
#include "client/sched.h"

#include <math.h>
#include <stddef.h>

#include "crypto/rand.h"

static double
sched_draw(const struct sched *s, double mean)
{
	if (s->rng.exp != NULL)
		return s->rng.exp(s->rng.ctx, mean);
	return rand_exp(mean);
}

/* One exponential gap in microseconds for a stream of rate per_s, >= 1. */
static uint64_t
sched_gap_us(const struct sched *s, double per_s)
{
	double us = sched_draw(s, 1e6 / per_s);

	if (!(us >= 1.0))
		return 1;
	if (us > 1e15) /* keeps the sum far from overflow */
		return (uint64_t)1e15;
	return (uint64_t)llround(us);
}

static void
sched_start(struct sched *s, enum sched_stream st, uint64_t now)
{
	double r = s->rates.per_s[st];

	if (!(r > 0.0) || !isfinite(r)) {
		s->next_us[st] = UINT64_MAX;
		return;
	}
	s->next_us[st] = now + sched_gap_us(s, r);
}

void
sched_rates_from_milli(struct sched_rates *r, uint32_t lambda_p,
		       uint32_t lambda_l, uint32_t lambda_d, uint32_t lambda_f)
{
	r->per_s[SCHED_SEND] = lambda_p / 1000.0;
	r->per_s[SCHED_LOOP] = lambda_l / 1000.0;
	r->per_s[SCHED_DROP] = lambda_d / 1000.0;
	r->per_s[SCHED_FETCH] = lambda_f / 1000.0;
}

void
sched_init(struct sched *s, const struct sched_rates *r,
	   const struct sched_rng *rng, uint64_t now_us)
{
	*s = (struct sched){0};
	if (rng != NULL)
		s->rng = *rng;
	sched_set_rates(s, r, now_us);
}

void
sched_set_rates(struct sched *s, const struct sched_rates *r, uint64_t now_us)
{
	s->rates = *r;
	for (int i = 0; i < SCHED_NSTREAMS; i++)
		sched_start(s, (enum sched_stream)i, now_us);
}

uint64_t
sched_next_us(const struct sched *s)
{
	uint64_t m = UINT64_MAX;

	for (int i = 0; i < SCHED_NSTREAMS; i++)
		if (s->next_us[i] < m)
			m = s->next_us[i];
	return m;
}

bool
sched_pop(struct sched *s, uint64_t now_us, enum sched_stream *out)
{
	int best = -1;

	for (int i = 0; i < SCHED_NSTREAMS; i++) {
		if (s->next_us[i] > now_us)
			continue;
		if (best < 0 || s->next_us[i] < s->next_us[best])
			best = i;
	}
	if (best < 0)
		return false;
	/*
	 * The next event follows the scheduled time, not now: a late event
	 * loop then does not slow the process down. Only a long lag restarts
	 * the stream from now.
	 */
	uint64_t base = s->next_us[best];
	if (now_us - base > SCHED_MAX_LAG_US) {
		base = now_us;
		s->restarted++;
	}
	s->next_us[best] = base + sched_gap_us(s, s->rates.per_s[best]);
	s->fired[best]++;
	*out = (enum sched_stream)best;
	return true;
}

const char *
sched_stream_name(enum sched_stream st)
{
	switch (st) {
	case SCHED_SEND:
		return "send";
	case SCHED_LOOP:
		return "loop";
	case SCHED_DROP:
		return "drop";
	case SCHED_FETCH:
		return "fetch";
	case SCHED_NSTREAMS:
		break;
	}
	return "?";
}
