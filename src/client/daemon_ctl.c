/* The control socket's requests (docs/client-api.md). */
#include <jansson.h>
#include <string.h>

#include "lib/time.h"

#include "client/daemon_internal.h"

static json_t *
ctl_status(const struct daemon *d)
{
	double up = (double)(time_mono_ms() - d->start_ms) / 1000.0;
	uint64_t loops = d->sent[SCHED_LOOP];
	json_t *rates = json_object(), *sent = json_object();

	for (int i = 0; i < SCHED_NSTREAMS; i++) {
		const char *n = sched_stream_name((enum sched_stream)i);
		json_object_set_new(
		    rates, n,
		    json_real(d->sched_on ? d->sched.rates.per_s[i] : 0.0));
		json_object_set_new(sent, n,
				    json_integer((json_int_t)d->sent[i]));
	}
	json_t *j = json_pack(
	    "{s:b, s:{s:s, s:s, s:I, s:I, s:I}, s:{s:I, s:I, s:I},"
	    " s:{s:I, s:I, s:I, s:I}, s:o, s:o,"
	    " s:{s:I, s:I, s:f, s:b, s:f, s:I},"
	    " s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:f, s:f, s:f},"
	    " s:f}",
	    "ok", 1, "gateway", "link",
	    d->conn != NULL && link_conn_is_open(d->conn) ? "up" : "down",
	    "state", gwlink_state_name(d->gw.state), "connects",
	    (json_int_t)d->connects, "disconnects", (json_int_t)d->disconnects,
	    "clock_skew_ms", (json_int_t)d->gw.skew_ms, "consensus", "epoch",
	    (json_int_t)(d->have_cons ? d->cons.epoch : 0), "nodes",
	    (json_int_t)(d->have_cons ? d->cons.n_nodes : 0), "rtt_p99_ms",
	    (json_int_t)d->rtt_p99_ms, "queues", "outbox", (json_int_t)d->arq.n,
	    "inbox_kept", (json_int_t)d->items_kept, "inbox_waiting",
	    (json_int_t)d->ss.rxb.parked, "inbox_given_up",
	    (json_int_t)d->ss.park_dropped, "rates_per_s", rates, "sent", sent,
	    "loops", "sent", (json_int_t)loops, "back",
	    (json_int_t)d->loops_back, "return_ratio",
	    loops ? (double)d->loops_back / (double)loops : 0.0, "alarm",
	    d->loopmon.alarm, "window_ratio", loopmon_ratio(&d->loopmon),
	    "window", (json_int_t)d->loopmon.wn, "replies", "total",
	    (json_int_t)d->replies, "unknown", (json_int_t)d->replies_unknown,
	    "fetches", (json_int_t)d->gw.fetches, "round_trip_ms",
	    "predicted_p99", (json_int_t)d->rtt_p99_ms, "timeout",
	    (json_int_t)d->arq.p.timeout_ms, "n", (json_int_t)d->loopmon.rtt_n,
	    "p50", loopmon_rtt_quantile(&d->loopmon, 0.5), "p90",
	    loopmon_rtt_quantile(&d->loopmon, 0.9), "p99",
	    loopmon_rtt_quantile(&d->loopmon, 0.99), "uptime_s", up);
	if (j != NULL)
		json_object_set_new(j, "old_gateway", daemon_drain_status(d));
	return j;
}

static void
ctl_error(struct buf *reply, const char *msg)
{
	json_t *j = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
	char *s = json_dumps(j, JSON_COMPACT);

	buf_append(reply, s, strlen(s));
	free(s);
	json_decref(j);
}

void
daemon_ctl_handle(void *ctx, const char *line, size_t len, struct buf *reply)
{
	struct daemon *d = ctx;
	json_error_t je;
	json_t *req = json_loadb(line, len, 0, &je);
	const char *cmd = NULL;

	if (req == NULL || json_unpack(req, "{s:s}", "cmd", &cmd) != 0) {
		ctl_error(reply,
			  "expected a JSON object with a \"cmd\" string");
		json_decref(req);
		return;
	}
	if (strcmp(cmd, "status") == 0) {
		json_t *st = ctl_status(d);
		char *s = st != NULL ? json_dumps(st, JSON_COMPACT) : NULL;
		if (s != NULL)
			buf_append(reply, s, strlen(s));
		else
			ctl_error(reply, "internal error");
		free(s);
		json_decref(st);
	} else if (!daemon_msgctl(d, cmd, req, reply)) {
		ctl_error(reply, "unknown command");
	}
	json_decref(req);
}
