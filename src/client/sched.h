/*
 * The client's traffic scheduler: four independent Poisson processes (the
 * sending stream at lambda_p, loops at lambda_l, drops at lambda_d, fetches
 * at lambda_f), as DESIGN.md "Traffic" asks. The sending stream fires at
 * its own rate whatever the queue holds; the caller fills each slot with a
 * queued real packet when there is one and a cover packet otherwise, so the
 * gateway sees the same process whether or not the user talks.
 *
 * Pure logic: time is passed in (microseconds on any monotonic clock, real
 * or simulated) and the exponential draws come from an injectable source
 * (default: crypto/rand.h, which tests switch to its deterministic mode).
 * Nothing here sleeps, allocates or does I/O.
 */
#ifndef BC_CLIENT_SCHED_H
#define BC_CLIENT_SCHED_H

#include <stdbool.h>
#include <stdint.h>

enum sched_stream {
	SCHED_SEND = 0, /* real packet if queued, else cover to an echo */
	SCHED_LOOP,     /* loop through the network back to us */
	SCHED_DROP,     /* packet no one answers */
	SCHED_FETCH,    /* one fetch request frame */
	SCHED_NSTREAMS,
};

/* Events per second for each stream; 0 turns a stream off. */
struct sched_rates {
	double per_s[SCHED_NSTREAMS];
};

/*
 * The random source: an exponential sample with the given mean (> 0).
 * NULL fn means crypto/rand.h's rand_exp().
 */
struct sched_rng {
	double (*exp)(void *ctx, double mean);
	void *ctx;
};

/*
 * If the caller falls this far behind a stream (a suspended laptop, a
 * stopped process), the stream restarts from now instead of firing the
 * missed events in a burst that would stand out.
 */
#define SCHED_MAX_LAG_US 2000000ull

struct sched {
	struct sched_rates rates;
	struct sched_rng rng;
	uint64_t next_us[SCHED_NSTREAMS]; /* UINT64_MAX: stream off */
	uint64_t fired[SCHED_NSTREAMS];
	uint64_t restarted; /* streams restarted after a lag */
};

/* Rates per second from the consensus' thousandths per second. */
void sched_rates_from_milli(struct sched_rates *r, uint32_t lambda_p,
			    uint32_t lambda_l, uint32_t lambda_d,
			    uint32_t lambda_f);

/* Start every stream at now_us (first events one exponential later). */
void sched_init(struct sched *s, const struct sched_rates *r,
		const struct sched_rng *rng, uint64_t now_us);

/*
 * New rates (a new consensus): every stream draws its next event afresh
 * from now_us. Memorylessness makes this indistinguishable from a process
 * that always had the new rate.
 */
void sched_set_rates(struct sched *s, const struct sched_rates *r,
		     uint64_t now_us);

/* When the earliest stream is due next; UINT64_MAX when all are off. */
uint64_t sched_next_us(const struct sched *s);

/*
 * If a stream is due at now_us, store the earliest in *out, schedule its
 * next event and return true; false when nothing is due. Call until false.
 */
bool sched_pop(struct sched *s, uint64_t now_us, enum sched_stream *out);

/* "send", "loop", "drop", "fetch". */
const char *sched_stream_name(enum sched_stream st);

#endif /* BC_CLIENT_SCHED_H */
