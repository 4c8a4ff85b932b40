/*
 * The control socket's messaging commands (docs/client-api.md: invite,
 * accept, contacts, send, messages, read, block, receipts) and the glue
 * between the daemon and the end-to-end engine (session.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/codec.h"
#include "lib/time.h"

#include "crypto/secret.h"

#include "wire/invite.h"

#include "client/daemon_internal.h"

#define MESSAGES_MAX      500
#define MESSAGES_TEXT_MAX (2u << 20) /* text bytes per answer */

static void
reply_json(struct buf *reply, json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	if (s == NULL) {
		static const char e[] = "{\"ok\":false,\"error\":\"internal "
					"error\"}";
		buf_append(reply, e, sizeof(e) - 1);
	} else {
		buf_append(reply, s, strlen(s));
	}
	free(s);
	json_decref(j);
}

static void
reply_err(struct buf *reply, const char *msg)
{
	reply_json(reply, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

static void
reply_ok(struct buf *reply)
{
	reply_json(reply, json_pack("{s:b}", "ok", 1));
}

/* Our gateway as contacts reach it; -1 until the link is ready. */
static int
own_gateway(const struct daemon *d, struct e2e_gateway *g)
{
	if (!d->have_cons || !d->px_ok || d->gw.state != GWLINK_READY)
		return -1;
	for (size_t i = 0; i < d->cons.n_nodes; i++) {
		const struct dir_descriptor *n = &d->cons.nodes[i].desc;
		if (n->role != DIR_ROLE_GATEWAY ||
		    memcmp(n->link_key, d->gw_key, 32) != 0)
			continue;
		memset(g, 0, sizeof(*g));
		memcpy(g->key, n->identity, 32);
		snprintf(g->host, sizeof(g->host), "%s", d->gw_host);
		g->port = d->gw_port;
		return 0;
	}
	return -1;
}

static void
ctl_invite(struct daemon *d, json_t *req, struct buf *reply)
{
	const char *name = NULL;
	json_int_t exp = 7 * 86400;
	struct e2e_gateway g;
	char code[INVITE_TEXT_MAX], err[200];
	uint64_t expiry = 0;

	if (json_unpack(req, "{s:s, s?I}", "name", &name, "expires_s", &exp) !=
		0 ||
	    exp <= 0) {
		reply_err(reply, "invite needs \"name\" and a positive "
				 "\"expires_s\"");
		return;
	}
	if (own_gateway(d, &g) < 0) {
		reply_err(reply, "gateway not reachable; try again");
		return;
	}
	if (sessions_invite(&d->ss, name, &g, (uint64_t)exp, code, sizeof(code),
			    &expiry, err, sizeof(err)) < 0) {
		reply_err(reply, err);
		return;
	}
	reply_json(reply,
		   json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "code", code,
			     "contact", name, "expires", (json_int_t)expiry));
	secret_wipe(code, sizeof(code));
}

static void
ctl_accept(struct daemon *d, json_t *req, struct buf *reply)
{
	const char *code = NULL, *name = NULL;
	struct e2e_gateway g;
	char err[200];

	if (json_unpack(req, "{s:s, s:s}", "code", &code, "name", &name) != 0) {
		reply_err(reply, "accept needs \"code\" and \"name\"");
		return;
	}
	if (own_gateway(d, &g) < 0) {
		reply_err(reply, "gateway not reachable; try again");
		return;
	}
	if (sessions_accept(&d->ss, code, name, &g, err, sizeof(err)) < 0) {
		reply_err(reply, err);
		return;
	}
	reply_json(reply, json_pack("{s:b, s:s}", "ok", 1, "contact", name));
}

static void
ctl_contacts(struct daemon *d, struct buf *reply)
{
	json_t *arr = json_array();
	struct e2e_gateway own;
	bool have_own = own_gateway(d, &own) == 0;

	for (size_t i = 0; i < d->ss.nc; i++) {
		const struct contact *c = d->ss.c[i];
		char gw[E2E_HOST_MAX + 8];
		bool keys = (c->flags & CONTACT_F_HAVE_KEYS) != 0;
		bool peer = (c->flags & CONTACT_F_HAVE_PEER) != 0;
		snprintf(gw, sizeof(gw), "%s:%u", c->peer_gw.host,
			 c->peer_gw.port);
		/* One gateway serving both makes timing correlation easier
		 * for it (docs/threat-model.md): the user is told. */
		json_t *same =
		    have_own && peer
			? json_boolean(memcmp(c->peer_gw.key, own.key, 32) == 0)
			: json_null();
		json_array_append_new(
		    arr,
		    json_pack("{s:s, s:s, s:o, s:b, s:o, s:s, s:o}", "name",
			      c->name, "state", contact_state_name(c->state),
			      "safety_number",
			      keys ? json_string(c->safety) : json_null(),
			      "receipts", (c->flags & CONTACT_F_RECEIPTS) != 0,
			      "gateway", peer ? json_string(gw) : json_null(),
			      "peer_name", c->peer_name, "same_gateway", same));
	}
	reply_json(reply, json_pack("{s:b, s:o}", "ok", 1, "contacts", arr));
}

static void
ctl_send(struct daemon *d, json_t *req, struct buf *reply)
{
	const char *to = NULL, *text = NULL;
	size_t len = 0;
	uint8_t id[E2E_MSG_ID_LEN];
	char hex[2 * E2E_MSG_ID_LEN + 1], err[200];

	if (json_unpack(req, "{s:s, s:s%}", "to", &to, "text", &text, &len) !=
	    0) {
		reply_err(reply, "send needs \"to\" and \"text\"");
		return;
	}
	if (sessions_send(&d->ss, to, (const uint8_t *)text, len, id, err,
			  sizeof(err)) < 0) {
		reply_err(reply, err);
		return;
	}
	hex_encode(hex, sizeof(hex), id, sizeof(id));
	reply_json(reply, json_pack("{s:b, s:s}", "ok", 1, "id", hex));
}

static json_t *
row_json(struct daemon *d, const struct msg_row *m)
{
	static const enum msg_state keys[] = {
	    MSG_QUEUED, MSG_SENT,   MSG_ACKED,    MSG_DELIVERED,
	    MSG_READ,   MSG_FAILED, MSG_RECEIVED,
	};
	const struct contact *c = sessions_find_id(&d->ss, m->contact);
	char hex[2 * E2E_MSG_ID_LEN + 1];
	json_t *times = json_object();

	hex_encode(hex, sizeof(hex), m->id, sizeof(m->id));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (m->times[keys[i]] != 0)
			json_object_set_new(
			    times, msgrow_state_name(keys[i]),
			    json_integer((json_int_t)m->times[keys[i]]));
	return json_pack(
	    "{s:I, s:s, s:s, s:s, s:s%, s:I, s:s, s:o}", "rev",
	    (json_int_t)m->rev, "id", hex, "contact", c != NULL ? c->name : "?",
	    "dir", (m->flags & MSG_F_OUT) ? "out" : "in", "text",
	    (const char *)m->text, m->len, "bytes", (json_int_t)m->len, "state",
	    msgrow_state_name(m->state), "times", times);
}

static int
rev_cmp(const void *a, const void *b)
{
	const struct msg_row *x = *(struct msg_row *const *)a;
	const struct msg_row *y = *(struct msg_row *const *)b;
	return x->rev < y->rev ? -1 : x->rev > y->rev;
}

static void
ctl_messages(struct daemon *d, json_t *req, struct buf *reply)
{
	json_int_t since = 0;
	const char *who = NULL;
	const struct contact *only = NULL;
	struct msg_row **sel = calloc(d->ss.nm + 1, sizeof(*sel));
	size_t n = 0, bytes = 0;
	json_t *arr = NULL;

	if (json_unpack(req, "{s?I, s?s}", "since", &since, "contact", &who) !=
		0 ||
	    since < 0) {
		reply_err(reply, "messages takes \"since\" (a revision) and "
				 "\"contact\"");
		goto done;
	}
	if (who != NULL && (only = sessions_find(&d->ss, who)) == NULL) {
		reply_err(reply, "no such contact");
		goto done;
	}
	for (size_t i = 0; i < d->ss.nm; i++) {
		struct msg_row *m = d->ss.m[i];
		if (m->rev > (uint64_t)since &&
		    (only == NULL || m->contact == only->id))
			sel[n++] = m;
	}
	qsort(sel, n, sizeof(*sel), rev_cmp);
	if (n > MESSAGES_MAX)
		n = MESSAGES_MAX;
	/* The answer stays well under what a caller reads (escaped text can
	 * take 6 bytes per byte): the rest comes with the next poll. */
	for (size_t i = 0; i < n; i++) {
		bytes += sel[i]->len;
		if (i > 0 && bytes > MESSAGES_TEXT_MAX) {
			n = i;
			break;
		}
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, row_json(d, sel[i]));
	reply_json(reply, json_pack("{s:b, s:I, s:o}", "ok", 1, "next",
				    n ? (json_int_t)sel[n - 1]->rev : since,
				    "messages", arr));
done:
	free(sel);
}

static void
ctl_read(struct daemon *d, json_t *req, struct buf *reply)
{
	const char *who = NULL;
	json_t *ids = NULL;
	uint8_t(*v)[E2E_MSG_ID_LEN] = NULL;
	size_t nids = 0, marked = 0, got = 0;
	char err[200];

	if (json_unpack(req, "{s?s, s?o}", "contact", &who, "ids", &ids) != 0 ||
	    (who == NULL) == (ids == NULL) ||
	    (ids != NULL && !json_is_array(ids))) {
		reply_err(reply, "read needs \"contact\" or \"ids\"");
		return;
	}
	if (ids != NULL) {
		nids = json_array_size(ids);
		v = calloc(nids + 1, sizeof(*v));
		for (size_t i = 0; i < nids; i++) {
			const char *h =
			    json_string_value(json_array_get(ids, i));
			if (h == NULL ||
			    hex_decode(v[i], sizeof(v[i]), &got, h, strlen(h)) <
				0 ||
			    got != E2E_MSG_ID_LEN) {
				reply_err(reply, "a message id is 32 hex "
						 "characters");
				free(v);
				return;
			}
		}
	}
	if (sessions_read(&d->ss, who, (const uint8_t(*)[E2E_MSG_ID_LEN])v,
			  nids, &marked, err, sizeof(err)) < 0)
		reply_err(reply, err);
	else
		reply_json(reply, json_pack("{s:b, s:I}", "ok", 1, "marked",
					    (json_int_t)marked));
	free(v);
}

static void
ctl_block(struct daemon *d, json_t *req, struct buf *reply)
{
	const char *name = NULL;
	char err[200];

	if (json_unpack(req, "{s:s}", "name", &name) != 0)
		reply_err(reply, "block needs \"name\"");
	else if (sessions_block(&d->ss, name, err, sizeof(err)) < 0)
		reply_err(reply, err);
	else
		reply_ok(reply);
}

static void
ctl_receipts(struct daemon *d, json_t *req, struct buf *reply)
{
	const char *name = NULL;
	int on = 1;
	char err[200];

	if (json_unpack(req, "{s:s, s:b}", "name", &name, "on", &on) != 0)
		reply_err(reply, "receipts needs \"name\" and \"on\"");
	else if (sessions_receipts(&d->ss, name, on != 0, err, sizeof(err)) < 0)
		reply_err(reply, err);
	else
		reply_ok(reply);
}

bool
daemon_msgctl(struct daemon *d, const char *cmd, struct json_t *req,
	      struct buf *reply)
{
	if (strcmp(cmd, "invite") == 0)
		ctl_invite(d, req, reply);
	else if (strcmp(cmd, "accept") == 0)
		ctl_accept(d, req, reply);
	else if (strcmp(cmd, "contacts") == 0)
		ctl_contacts(d, reply);
	else if (strcmp(cmd, "send") == 0)
		ctl_send(d, req, reply);
	else if (strcmp(cmd, "messages") == 0)
		ctl_messages(d, req, reply);
	else if (strcmp(cmd, "read") == 0)
		ctl_read(d, req, reply);
	else if (strcmp(cmd, "block") == 0)
		ctl_block(d, req, reply);
	else if (strcmp(cmd, "receipts") == 0)
		ctl_receipts(d, req, reply);
	else
		return false;
	return true;
}

/* ---- glue ---- */

static int
daemon_queue_op(void *ctx, bool create, const uint8_t id[32])
{
	struct daemon *d = ctx;
	return gwlink_queue_op(&d->gw, create, id);
}

void
daemon_on_queue(void *ctx, bool create, const uint8_t id[32], uint8_t code)
{
	struct daemon *d = ctx;
	sessions_on_queue(&d->ss, create, id, code);
}

void
daemon_sessions_tick(struct daemon *d)
{
	struct e2e_gateway g;

	if (!d->ss_open)
		return;
	bool own = own_gateway(d, &g) == 0;
	if (own)
		sessions_check_gateway(&d->ss, &g, d->gw_key,
				       (uint64_t)d->cfg->old_gateway_drain_ms);
	/* Contacts are moved only once the move is recorded (the drain). */
	gwdrain_tick(&d->ss, own && d->ss.gw_checked ? &g : NULL,
		     (uint64_t)time_wall_ms());
	sessions_tick(&d->ss);
}

int
daemon_sessions_open(struct daemon *d, char *err, size_t errlen)
{
	struct session_ops ops = {daemon_queue_op, d};

	if (sessions_open(&d->ss, d->store, &d->arq, &ops, d->cfg->name, err,
			  errlen) < 0)
		return -1;
	d->ss_open = true;
	return 0;
}
