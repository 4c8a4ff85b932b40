/*
 * The loop alarm (docs/client.md "Loop alarm"): a client's loops are echo
 * round trips through random routes back to itself, and a loop that does
 * not come back is a packet the network lost or someone dropped (an active
 * attack drops or delays packets to see what changes).  This watches the
 * last LOOPMON_WINDOW loops that should have returned by now (sent more
 * than the round trip's p99 ago) and raises the alarm when fewer than
 * LOOPMON_THRESHOLD of them did.
 *
 * It also keeps the last LOOPMON_RTT_SAMPLES measured round trips (send to
 * reply, every packet with a reply block: acknowledgements, echoes and
 * loops share one route shape), whose quantiles `status` shows next to the
 * predicted p99.
 *
 * Pure logic: time in milliseconds is passed in; loops are named by any
 * 64-bit key (the daemon uses the first 8 bytes of the SURB id).
 */
#ifndef BC_CLIENT_LOOPMON_H
#define BC_CLIENT_LOOPMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOOPMON_WINDOW      100 /* judged loops the ratio is taken over */
#define LOOPMON_MIN         20  /* judged loops before any verdict */
#define LOOPMON_THRESHOLD   0.8 /* alarm below this return ratio */
/* Loops awaiting judgement; beyond, the oldest is judged at once. */
#define LOOPMON_PENDING     1024
#define LOOPMON_RTT_SAMPLES 1024

struct loopmon_loop {
	uint64_t key, sent_ms;
	bool back;
};

struct loopmon {
	struct loopmon_loop pending[LOOPMON_PENDING]; /* oldest first, ring */
	size_t head, n;
	uint8_t window[LOOPMON_WINDOW]; /* 1: came back in time */
	size_t wpos, wn, wback;
	double threshold;
	bool alarm;
	uint64_t raised; /* times the alarm went on */
	uint64_t judged, lost;
	double rtt[LOOPMON_RTT_SAMPLES]; /* ring of measured round trips */
	size_t rtt_pos, rtt_n;
};

void loopmon_init(struct loopmon *m);
/* A loop went out. */
void loopmon_sent(struct loopmon *m, uint64_t key, uint64_t now_ms);
/* A loop came back; false if it was not pending (judged lost already). */
bool loopmon_back(struct loopmon *m, uint64_t key);
/*
 * Judge the loops sent more than wait_ms before now_ms; hold: judge none
 * now (our gateway still holds items for us, and a late loop may be among
 * them: a backlog of messages is not a loss).  Returns 1 when the alarm
 * went on, -1 when it went off, 0 when it did not change.
 */
int loopmon_tick(struct loopmon *m, uint64_t now_ms, uint64_t wait_ms,
		 bool hold);
/* Return ratio over the window (1.0 while it is empty). */
double loopmon_ratio(const struct loopmon *m);

/* One measured round trip, in ms. */
void loopmon_rtt(struct loopmon *m, double ms);
/* The q-quantile (0..1) of the recorded round trips; -1 when none. */
double loopmon_rtt_quantile(const struct loopmon *m, double q);

#endif /* BC_CLIENT_LOOPMON_H */
