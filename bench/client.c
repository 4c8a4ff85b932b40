/*
 * Client benchmark: the CPU a client spends at the network's default rates
 * (DESIGN.md: under 1 percent of one core).
 *
 * The real scheduler (client/sched.c) runs on a simulated clock over an
 * interval of simulated time (default 60 s) and every event does the work a
 * client does for it, for real: a packet built along a fresh route with a
 * reply block (client/cpacket.c: 9 X25519 and the AEZ layers), an ARQ
 * fragment sealed (XChaCha20-Poly1305) for sending-stream packets, each
 * reply's payload opened with its token (sphinx_surb_decrypt), and per
 * packet and per fetch the link's frame seal/open (XChaCha20-Poly1305 of one
 * frame stands in for the link's ChaCha20-Poly1305 of the same size).
 * The CPU time of all that work, divided by the simulated interval, is the
 * share of one core a client needs; the same run also times one X25519, so
 * the per-packet cost is printed as a multiple of it.
 *
 * Then the round trip of acknowledgements, on the simulated clock over an
 * hour: the same scheduler; every sending-stream and loop packet's reply
 * reaches our gateway after 7 hop delays drawn by the real route code
 * (route_delay_ms), waits there in a first-in first-out queue with all our
 * other replies, and leaves with the next fetch that finds it at the head.
 * The measured p50/p90/p99 of send -> acknowledgement are printed against
 * route_rtt_quantile_ms()'s prediction (the ARQ timeout) as ratios, and
 * against the naive prediction that ignores the queue.
 *
 *   build/bench/client [simulated-seconds]    (default 60)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/arq.h"
#include "client/cpacket.h"
#include "client/route.h"
#include "client/sched.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "crypto/xaead.h"
#include "wire/sphinx_packet.h"
#include "wire/sphinx_surb.h"

#define NNODES 8

static struct dir_consensus cons;
static struct dir_node nodes[NNODES];
static uint8_t priv[NNODES][32];

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void make_consensus(void)
{
	for (int i = 0; i < NNODES; i++) {
		struct dir_node *n = &nodes[i];
		n->layer = i < 2 ? 0 : (uint32_t)(1 + (i - 2) / 2);
		n->desc.role = i < 2 ? DIR_ROLE_GATEWAY : DIR_ROLE_MIX;
		n->desc.services = i < 2 ? DIR_SERVICE_ECHO : 0;
		n->desc.identity[0] = (uint8_t)(i + 1);
		x25519_keypair(n->desc.packet_keys[0], priv[i]);
	}
	cons.nodes = nodes;
	cons.n_nodes = NNODES;
	cons.params = (struct dir_params){
		.hops = 5, .blob_len = 2000, .mean_delay_ms = 50,
		.max_delay_ms = 1000, .lambda_p = 2000, .lambda_l = 500,
		.lambda_d = 500, .lambda_f = 4000,
	};
}

/* One real reply payload and its token, opened again for every reply. */
static uint8_t reply_payload[4096], reply_token[CPACKET_TOKEN_LEN];

static int make_reply(const struct cpacket_ctx *x, uint8_t *pkt)
{
	uint8_t surb_id[16], first[32], blob[16] = { 0 };
	struct sphinx_unwrap_result res;
	struct sphinx_unwrap_ctx *u = sphinx_unwrap_ctx_new(&x->g);
	struct sphinx_fwd_view v;
	uint8_t *surb = malloc(x->g.surb_len);
	enum sphinx_err e;
	int at = 0, rc = -1;

	if (cpacket_build(x, &nodes[1], CPACKET_ECHO_ID, blob, sizeof(blob),
			  true, pkt, surb_id, reply_token) < 0)
		goto done;
	for (;;) {
		if (sphinx_unwrap(u, priv[at], pkt, x->g.packet_len, 1000,
				  &res) != SPHINX_OK)
			goto done;
		if (res.kind != SPHINX_HOP_FORWARD)
			break;
		at = res.cmds.next_hop_id[0] - 1;
	}
	/* The reply is written over pkt: copy the reply block out first. */
	if (sphinx_fwd_decode(&x->g, pkt + res.payload_off, &v) < 0 ||
	    v.surb == NULL)
		goto done;
	memcpy(surb, v.surb, x->g.surb_len);
	e = sphinx_surb_packet(&x->g, surb, blob, sizeof(blob), pkt, first);
	if (e != SPHINX_OK)
		goto done;
	at = first[0] - 1;
	for (;;) {
		if (sphinx_unwrap(u, priv[at], pkt, x->g.packet_len, 1000,
				  &res) != SPHINX_OK)
			goto done;
		if (res.kind != SPHINX_HOP_FORWARD)
			break;
		at = res.cmds.next_hop_id[0] - 1;
	}
	memcpy(reply_payload, pkt + res.payload_off, x->g.payload_len);
	rc = 0;
done:
	free(surb);
	sphinx_unwrap_ctx_free(u);
	return rc;
}

struct tally {
	unsigned long packets, replies, fetches, failures;
};

/* The work of one scheduler event. */
static void do_event(const struct cpacket_ctx *x, enum sched_stream st,
		     uint8_t *pkt, uint8_t *frame, uint8_t *scratch,
		     struct tally *t)
{
	uint8_t surb_id[16], token[CPACKET_TOKEN_LEN], blob[2000] = { 0 };
	uint8_t plain[2000 - XAEAD_OVERHEAD], key[32] = { 9 };
	size_t fl = x->g.packet_len;

	if (st == SCHED_FETCH) {
		/* Request sealed, response opened (one frame each). */
		xaead_seal(frame, scratch, fl, NULL, 0, key);
		t->failures += xaead_open(scratch, frame, fl + XAEAD_OVERHEAD,
					  NULL, 0, key) != 0;
		t->fetches++;
		return;
	}
	memset(plain, 0, sizeof(plain));
	if (st == SCHED_SEND)
		arq_wrap(blob, sizeof(blob), plain, key);
	if (cpacket_build(x, &nodes[1], CPACKET_ECHO_ID, blob, sizeof(blob),
			  st != SCHED_DROP, pkt, surb_id, token) < 0)
		t->failures++;
	xaead_seal(frame, pkt, fl, NULL, 0, key);
	t->packets++;
	if (st == SCHED_DROP)
		return;
	/* Its reply: one frame opened, the payload decrypted with a token. */
	xaead_seal(frame, pkt, fl, NULL, 0, key);
	t->failures += xaead_open(scratch, frame, fl + XAEAD_OVERHEAD, NULL,
				  0, key) != 0;
	memcpy(scratch, reply_payload, x->g.payload_len);
	t->failures += sphinx_surb_decrypt(&x->g, reply_token,
					   sizeof(reply_token),
					   scratch) != SPHINX_OK;
	t->replies++;
}

/* Replies waiting to reach or leave our gateway: a min-heap on arrival. */
struct pending {
	uint64_t at_us, sent_us;
};
static struct pending *heap;
static size_t nheap, capheap;

static void heap_push(struct pending p)
{
	if (nheap == capheap) {
		capheap = capheap ? 2 * capheap : 1024;
		heap = realloc(heap, capheap * sizeof(*heap));
		if (heap == NULL)
			abort();
	}
	size_t i = nheap++;
	while (i > 0 && heap[(i - 1) / 2].at_us > p.at_us) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = p;
}

static struct pending heap_pop(void)
{
	struct pending top = heap[0], last = heap[--nheap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= nheap)
			break;
		if (c + 1 < nheap && heap[c + 1].at_us < heap[c].at_us)
			c++;
		if (heap[c].at_us >= last.at_us)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (nheap > 0)
		heap[i] = last;
	return top;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Measured round trips (ms) of sim_s simulated seconds, sorted; *n. */
static double *round_trips(const struct dir_params *p, double sim_s,
			   size_t *n)
{
	struct sched s;
	struct sched_rates r;
	enum sched_stream st;
	size_t cap = (size_t)(sim_s * 4) + 16;
	double *rtt = malloc(cap * sizeof(*rtt));
	uint64_t end = (uint64_t)(sim_s * 1e6), now;

	*n = 0;
	sched_rates_from_milli(&r, p->lambda_p, p->lambda_l, p->lambda_d,
			       p->lambda_f);
	sched_init(&s, &r, NULL, 0);
	while ((now = sched_next_us(&s)) < end) {
		while (sched_pop(&s, now, &st)) {
			if (st == SCHED_FETCH) {
				/* One item per response: the oldest there. */
				if (nheap > 0 && heap[0].at_us <= now &&
				    *n < cap) {
					struct pending q = heap_pop();
					double us = (double)(now - q.sent_us);
					rtt[(*n)++] = us / 1000.0;
				}
				continue;
			}
			if (st == SCHED_DROP)
				continue;
			uint64_t d = 0;
			for (int i = 0; i < ROUTE_FWD_DELAYED +
						ROUTE_REPLY_DELAYED; i++)
				d += route_delay_ms(p->mean_delay_ms,
						    p->max_delay_ms);
			heap_push((struct pending){ now + d * 1000, now });
		}
	}
	qsort(rtt, *n, sizeof(*rtt), cmp_double);
	nheap = 0;
	return rtt;
}

static void print_round_trips(const struct dir_params *p)
{
	const double qs[3] = { 0.5, 0.9, 0.99 };
	double sim_s = 3600.0, lf = p->lambda_f / 1000.0;
	double arrivals = (p->lambda_p + p->lambda_l) / 1000.0;
	double wait = route_fetch_wait_ms(lf, arrivals, 60000.0);
	size_t n;
	double *rtt = round_trips(p, sim_s, &n);

	printf("round trip send -> ack over %.0f s simulated (%zu acks and "
	       "loops; route_delay_ms hops, FIFO queue at our gateway, one "
	       "item per fetch)\n", sim_s, n);
	for (int i = 0; i < 3 && n > 0; i++) {
		double m = rtt[(size_t)(qs[i] * (double)(n - 1))];
		double pred = route_rtt_quantile_ms(
			p->mean_delay_ms, p->max_delay_ms,
			ROUTE_FWD_DELAYED + ROUTE_REPLY_DELAYED, wait, qs[i]);
		double naive = route_rtt_quantile_ms(
			p->mean_delay_ms, p->max_delay_ms,
			ROUTE_FWD_DELAYED + ROUTE_REPLY_DELAYED, 1000.0 / lf,
			qs[i]);
		printf("  p%-2.0f measured %6.0f ms, predicted %6.0f ms "
		       "(ratio %.3f); without the queue %6.0f ms (ratio "
		       "%.3f)\n", 100 * qs[i], m, pred, m / pred, naive,
		       m / naive);
	}
	free(rtt);
}

static double x25519_cost(int n)
{
	uint8_t out[32], s[32] = { 1 }, p[32];
	x25519_base(p, s);
	double t0 = cpu_s();
	for (int i = 0; i < n; i++)
		if (x25519(out, s, p) == 0)
			s[0] ^= out[0];
	return (cpu_s() - t0) / n;
}

int main(int argc, char **argv)
{
	double sim_s = argc > 1 ? strtod(argv[1], NULL) : 60.0;
	struct cpacket_ctx x;
	struct sched s;
	struct sched_rates r;
	struct tally t = { 0 };
	uint8_t queue[32] = { 7 };
	enum sched_stream st;

	if (crypto_init() != 0 || !(sim_s > 0 && sim_s < 1e6))
		return 1;
	make_consensus();
	if (cpacket_ctx_init(&x, &cons, 0, &nodes[0], queue) < 0)
		return 1;
	uint8_t *pkt = malloc(x.g.packet_len);
	uint8_t *frame = malloc(x.g.packet_len + XAEAD_OVERHEAD);
	uint8_t *scratch = calloc(1, x.g.packet_len + XAEAD_OVERHEAD);
	if (make_reply(&x, pkt) < 0) {
		fprintf(stderr, "bench client: reply set-up failed\n");
		return 1;
	}
	double xc = x25519_cost(2000);
	sched_rates_from_milli(&r, cons.params.lambda_p, cons.params.lambda_l,
			       cons.params.lambda_d, cons.params.lambda_f);
	sched_init(&s, &r, NULL, 0);
	uint64_t end = (uint64_t)(sim_s * 1e6);
	double t0 = cpu_s();
	for (uint64_t now = sched_next_us(&s); now < end;
	     now = sched_next_us(&s))
		while (sched_pop(&s, now, &st))
			do_event(&x, st, pkt, frame, scratch, &t);
	double cpu = cpu_s() - t0;
	xc = (xc + x25519_cost(2000)) / 2; /* timed before and after */
	double share = 100.0 * cpu / sim_s;
	printf("client at default rates (lambda P 2/s, L 0.5/s, D 0.5/s, "
	       "F 4/s) over %.0f s simulated\n", sim_s);
	printf("  packets %lu, replies %lu, fetches %lu, failures %lu\n",
	       t.packets, t.replies, t.fetches, t.failures);
	printf("  cpu %.4f s; per packet %.1f us = %.1f X25519 (%.1f us)\n",
	       cpu, 1e6 * cpu / (double)(t.packets ? t.packets : 1),
	       cpu / (double)(t.packets ? t.packets : 1) / xc, 1e6 * xc);
	print_round_trips(&cons.params);
	printf("ratio cpu/core = %.5f (%.3f %% of one core; target < 1 %%: "
	       "%s)\n", share / 100.0, share, share < 1.0 ? "met" : "NOT met");
	free(pkt);
	free(frame);
	free(scratch);
	free(heap);
	return t.failures == 0 ? 0 : 1;
}
