/* Message rows (msgrow.h). */
#include "client/msgrow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"

#define MSGROW_VERSION 1

void
msgrow_free(struct msg_row *m)
{
	if (m == NULL)
		return;
	free(m->text);
	free(m);
}

void
msgrow_store_name(char *out, size_t cap, uint64_t row)
{
	snprintf(out, cap, "msg/%llu", (unsigned long long)row);
}

void
msgrow_encode(const struct msg_row *m, struct buf *b)
{
	buf_append_u8(b, MSGROW_VERSION);
	buf_append_u64be(b, m->row);
	buf_append_u64be(b, m->rev);
	buf_append_u64be(b, m->contact);
	buf_append_u32be(b, m->flags);
	buf_append_u8(b, (uint8_t)m->state);
	buf_append(b, m->id, sizeof(m->id));
	buf_append(b, m->arq_id, sizeof(m->arq_id));
	for (int i = 0; i < MSG_NSTATES; i++)
		buf_append_u64be(b, m->times[i]);
	buf_append_u32be(b, (uint32_t)m->len);
	buf_append(b, m->text, m->len);
}

struct msg_row *
msgrow_decode(const uint8_t *in, size_t len)
{
	struct msg_row *m = bc_calloc(1, sizeof(*m));
	struct rd r;

	rd_init(&r, in, len);
	uint8_t v = rd_u8(&r);
	m->row = rd_u64be(&r);
	m->rev = rd_u64be(&r);
	m->contact = rd_u64be(&r);
	m->flags = rd_u32be(&r);
	uint8_t st = rd_u8(&r);
	m->state = (enum msg_state)st;
	rd_bytes(&r, m->id, sizeof(m->id));
	rd_bytes(&r, m->arq_id, sizeof(m->arq_id));
	for (int i = 0; i < MSG_NSTATES; i++)
		m->times[i] = rd_u64be(&r);
	m->len = rd_u32be(&r);
	const uint8_t *t = rd_ptr(&r, m->len);
	if (!rd_ok(&r) || rd_remaining(&r) != 0 || v != MSGROW_VERSION ||
	    m->row == 0 || m->state >= MSG_NSTATES ||
	    m->len > E2E_CONTENT_MAX) {
		free(m);
		return NULL;
	}
	m->text = bc_malloc(m->len + 1);
	memcpy(m->text, t, m->len);
	m->text[m->len] = 0;
	return m;
}

static int
msgrow_rank(enum msg_state s)
{
	switch (s) {
	case MSG_QUEUED:
		return 0;
	case MSG_SENT:
		return 1;
	case MSG_ACKED:
		return 2;
	case MSG_DELIVERED:
		return 3;
	case MSG_READ:
		return 4;
	case MSG_FAILED:
		return 2; /* instead of acknowledged */
	case MSG_RECEIVED:
		return 0;
	case MSG_NSTATES:
		break;
	}
	return 0;
}

bool
msgrow_advance(struct msg_row *m, enum msg_state st, uint64_t now_ms)
{
	bool changed = false;

	if (st >= MSG_NSTATES)
		return false;
	if (m->times[st] == 0) {
		m->times[st] = now_ms ? now_ms : 1;
		changed = true;
	}
	/* A receipt may overtake an acknowledgement: keep the higher. */
	if (msgrow_rank(st) > msgrow_rank(m->state) ||
	    (st == MSG_FAILED && msgrow_rank(m->state) < 2)) {
		m->state = st;
		changed = true;
	}
	return changed;
}

const char *
msgrow_state_name(enum msg_state s)
{
	static const char *const names[MSG_NSTATES] = {
	    "queued", "sent",   "acknowledged", "delivered",
	    "read",   "failed", "received",
	};
	return s < MSG_NSTATES ? names[s] : "?";
}
