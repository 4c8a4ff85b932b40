/* Link command codec (wire/link_cmd.h, docs/link.md "Commands"). */
#include "wire/link_cmd.h"

#include <stdbool.h>
#include <string.h>

#include "wire/link_frame.h"

/* Fixed header bytes of the commands with variable parts. */
#define HDR_PACKET     3  /* type, u16 len */
#define HDR_FETCH      6  /* type, u32 seq, u8 count */
#define HDR_FETCH_RESP 10 /* type, u32 seq, u32 remaining, u8 count */
#define HDR_ITEM       18 /* id, u16 len */
#define HDR_CONSENSUS  21 /* type, u64, u16, u16, u32, u16 */

/*
 * A bounded cursor with a sticky error: once a read or write would cross the
 * end, every later one is a no-op and ok stays false, so a codec checks once.
 */
struct cur {
	uint8_t *w;       /* writer: output, or NULL */
	const uint8_t *r; /* reader: input, or NULL */
	size_t len, pos;
	bool ok;
};

static bool
cur_take(struct cur *c, size_t n)
{
	if (!c->ok || c->len - c->pos < n) {
		c->ok = false;
		return false;
	}
	return true;
}

static void
put_bytes(struct cur *c, const void *p, size_t n)
{
	if (!cur_take(c, n))
		return;
	if (n > 0)
		memcpy(c->w + c->pos, p, n);
	c->pos += n;
}

static void
put_uint(struct cur *c, uint64_t v, size_t n)
{
	uint8_t b[8];
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	put_bytes(c, b, n);
}

static const uint8_t *
get_bytes(struct cur *c, size_t n)
{
	if (!cur_take(c, n))
		return NULL;
	const uint8_t *p = c->r + c->pos;
	c->pos += n;
	return p;
}

static uint64_t
get_uint(struct cur *c, size_t n)
{
	const uint8_t *p = get_bytes(c, n);
	uint64_t v = 0;
	if (p == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

size_t
link_cmd_chunk_max(size_t packet_len)
{
	return link_frame_plain_len(packet_len) - HDR_CONSENSUS;
}

size_t
link_cmd_items_fit(size_t packet_len, size_t item_len)
{
	size_t room = link_frame_plain_len(packet_len) - HDR_FETCH_RESP;
	size_t n = room / (HDR_ITEM + item_len);
	return n > LINK_FETCH_MAX_ITEMS ? LINK_FETCH_MAX_ITEMS : n;
}

size_t
link_cmd_fetch_confirms_fit(size_t packet_len)
{
	size_t n = (link_frame_plain_len(packet_len) - HDR_FETCH) / LINK_ID_LEN;
	return n > LINK_CONFIRM_MAX ? LINK_CONFIRM_MAX : n;
}

static enum link_err
encode_fetch(const struct link_cmd *cmd, size_t packet_len, struct cur *c)
{
	if (cmd->u.fetch.count > link_cmd_fetch_confirms_fit(packet_len))
		return LINK_ERR_FIELD;
	put_uint(c, cmd->u.fetch.seq, 4);
	put_uint(c, cmd->u.fetch.count, 1);
	for (size_t i = 0; i < cmd->u.fetch.count; i++)
		put_bytes(c, cmd->u.fetch.ids[i], LINK_ID_LEN);
	return LINK_OK;
}

static enum link_err
decode_fetch(struct link_cmd *cmd, size_t packet_len, struct cur *c)
{
	cmd->u.fetch.seq = (uint32_t)get_uint(c, 4);
	uint64_t n = get_uint(c, 1);
	if (!c->ok)
		return LINK_ERR_TRUNCATED;
	if (n > link_cmd_fetch_confirms_fit(packet_len))
		return LINK_ERR_FIELD;
	cmd->u.fetch.count = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *id = get_bytes(c, LINK_ID_LEN);
		if (id == NULL)
			return LINK_ERR_TRUNCATED;
		memcpy(cmd->u.fetch.ids[i], id, LINK_ID_LEN);
	}
	return LINK_OK;
}

static enum link_err
encode_fetch_resp(const struct link_cmd *cmd, size_t packet_len, struct cur *c)
{
	if (cmd->u.fetch_resp.count > LINK_FETCH_MAX_ITEMS)
		return LINK_ERR_FIELD;
	put_uint(c, cmd->u.fetch_resp.seq, 4);
	put_uint(c, cmd->u.fetch_resp.remaining, 4);
	put_uint(c, cmd->u.fetch_resp.count, 1);
	for (size_t i = 0; i < cmd->u.fetch_resp.count; i++) {
		const struct link_item *it = &cmd->u.fetch_resp.items[i];
		if (it->len == 0 || it->len > packet_len)
			return LINK_ERR_FIELD;
		put_bytes(c, it->id, LINK_ID_LEN);
		put_uint(c, it->len, 2);
		put_bytes(c, it->data, it->len);
	}
	return LINK_OK;
}

static enum link_err
encode_body(const struct link_cmd *cmd, size_t packet_len, struct cur *c)
{
	switch (cmd->type) {
	case LINK_CMD_NOOP:
		return LINK_OK;
	case LINK_CMD_SEND_PACKET:
		if (cmd->u.packet.len != packet_len)
			return LINK_ERR_LENGTH;
		put_uint(c, packet_len, 2);
		put_bytes(c, cmd->u.packet.data, packet_len);
		return LINK_OK;
	case LINK_CMD_FETCH:
		return encode_fetch(cmd, packet_len, c);
	case LINK_CMD_FETCH_RESPONSE:
		return encode_fetch_resp(cmd, packet_len, c);
	case LINK_CMD_CONFIRM:
		if (cmd->u.confirm.count == 0 ||
		    cmd->u.confirm.count > LINK_CONFIRM_MAX)
			return LINK_ERR_FIELD;
		put_uint(c, cmd->u.confirm.count, 1);
		put_bytes(c, cmd->u.confirm.ids,
			  (size_t)cmd->u.confirm.count * LINK_ID_LEN);
		return LINK_OK;
	case LINK_CMD_REGISTER:
		if (cmd->u.reg.len > LINK_TOKEN_MAX)
			return LINK_ERR_FIELD;
		put_uint(c, cmd->u.reg.len, 2);
		put_bytes(c, cmd->u.reg.token, cmd->u.reg.len);
		return LINK_OK;
	case LINK_CMD_GET_CONSENSUS:
		put_uint(c, cmd->u.get_consensus.epoch, 8);
		put_uint(c, cmd->u.get_consensus.chunk, 2);
		return LINK_OK;
	case LINK_CMD_CONSENSUS:
		if (cmd->u.consensus.nchunks == 0 ||
		    cmd->u.consensus.chunk >= cmd->u.consensus.nchunks ||
		    cmd->u.consensus.len > cmd->u.consensus.total ||
		    cmd->u.consensus.len > link_cmd_chunk_max(packet_len))
			return LINK_ERR_FIELD;
		put_uint(c, cmd->u.consensus.epoch, 8);
		put_uint(c, cmd->u.consensus.chunk, 2);
		put_uint(c, cmd->u.consensus.nchunks, 2);
		put_uint(c, cmd->u.consensus.total, 4);
		put_uint(c, cmd->u.consensus.len, 2);
		put_bytes(c, cmd->u.consensus.data, cmd->u.consensus.len);
		return LINK_OK;
	case LINK_CMD_TIME:
		put_uint(c, cmd->u.time.wall_ms, 8);
		return LINK_OK;
	case LINK_CMD_DISCONNECT:
		if (cmd->u.disconnect.reason >= LINK_ERR_COUNT_)
			return LINK_ERR_FIELD;
		put_uint(c, cmd->u.disconnect.reason, 1);
		return LINK_OK;
	case LINK_CMD_ERROR:
		if (cmd->u.error.code >= LINK_ERR_COUNT_)
			return LINK_ERR_FIELD;
		put_uint(c, cmd->u.error.code, 1);
		return LINK_OK;
	case LINK_CMD_QUEUE_CREATE:
	case LINK_CMD_QUEUE_DELETE:
		put_bytes(c, cmd->u.queue.id, LINK_QUEUE_ID_LEN);
		return LINK_OK;
	}
	return LINK_ERR_TYPE;
}

enum link_err
link_cmd_encode(const struct link_cmd *cmd, size_t packet_len, uint8_t *out,
		size_t out_len)
{
	if (!link_frame_packet_len_ok(packet_len) ||
	    out_len != link_frame_plain_len(packet_len))
		return LINK_ERR_LENGTH;
	struct cur c = {.w = out, .len = out_len, .ok = true};
	put_uint(&c, (uint64_t)cmd->type, 1);
	enum link_err e = encode_body(cmd, packet_len, &c);
	if (e != LINK_OK)
		return e;
	if (!c.ok)
		return LINK_ERR_LENGTH;
	memset(out + c.pos, 0, out_len - c.pos);
	return LINK_OK;
}

static enum link_err
decode_fetch_resp(struct link_cmd *cmd, size_t packet_len, struct cur *c)
{
	cmd->u.fetch_resp.seq = (uint32_t)get_uint(c, 4);
	cmd->u.fetch_resp.remaining = (uint32_t)get_uint(c, 4);
	uint64_t n = get_uint(c, 1);
	if (!c->ok)
		return LINK_ERR_TRUNCATED;
	if (n > LINK_FETCH_MAX_ITEMS)
		return LINK_ERR_FIELD;
	cmd->u.fetch_resp.count = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		struct link_item *it = &cmd->u.fetch_resp.items[i];
		const uint8_t *id = get_bytes(c, LINK_ID_LEN);
		size_t len = (size_t)get_uint(c, 2);
		if (!c->ok)
			return LINK_ERR_TRUNCATED;
		if (len == 0 || len > packet_len)
			return LINK_ERR_FIELD;
		memcpy(it->id, id, LINK_ID_LEN);
		it->len = len;
		it->data = get_bytes(c, len);
		if (!c->ok)
			return LINK_ERR_TRUNCATED;
	}
	return LINK_OK;
}

static enum link_err
decode_consensus(struct link_cmd *cmd, size_t packet_len, struct cur *c)
{
	cmd->u.consensus.epoch = get_uint(c, 8);
	cmd->u.consensus.chunk = (uint16_t)get_uint(c, 2);
	cmd->u.consensus.nchunks = (uint16_t)get_uint(c, 2);
	cmd->u.consensus.total = (uint32_t)get_uint(c, 4);
	cmd->u.consensus.len = (size_t)get_uint(c, 2);
	if (!c->ok)
		return LINK_ERR_TRUNCATED;
	if (cmd->u.consensus.nchunks == 0 ||
	    cmd->u.consensus.chunk >= cmd->u.consensus.nchunks ||
	    cmd->u.consensus.len > cmd->u.consensus.total ||
	    cmd->u.consensus.len > link_cmd_chunk_max(packet_len))
		return LINK_ERR_FIELD;
	cmd->u.consensus.data = get_bytes(c, cmd->u.consensus.len);
	return c->ok ? LINK_OK : LINK_ERR_TRUNCATED;
}

static enum link_err
decode_code(uint8_t *dst, struct cur *c)
{
	uint64_t v = get_uint(c, 1);
	if (!c->ok)
		return LINK_ERR_TRUNCATED;
	if (v >= LINK_ERR_COUNT_)
		return LINK_ERR_FIELD;
	*dst = (uint8_t)v;
	return LINK_OK;
}

static enum link_err
decode_body(struct link_cmd *cmd, size_t packet_len, struct cur *c)
{
	uint64_t n;
	switch (cmd->type) {
	case LINK_CMD_NOOP:
		return LINK_OK;
	case LINK_CMD_SEND_PACKET:
		if (get_uint(c, 2) != packet_len)
			return c->ok ? LINK_ERR_LENGTH : LINK_ERR_TRUNCATED;
		cmd->u.packet.len = packet_len;
		cmd->u.packet.data = get_bytes(c, packet_len);
		break;
	case LINK_CMD_FETCH:
		return decode_fetch(cmd, packet_len, c);
	case LINK_CMD_FETCH_RESPONSE:
		return decode_fetch_resp(cmd, packet_len, c);
	case LINK_CMD_CONFIRM:
		n = get_uint(c, 1);
		if (c->ok && (n == 0 || n > LINK_CONFIRM_MAX))
			return LINK_ERR_FIELD;
		cmd->u.confirm.count = (uint8_t)n;
		for (size_t i = 0; i < n && c->ok; i++) {
			const uint8_t *id = get_bytes(c, LINK_ID_LEN);
			if (id != NULL)
				memcpy(cmd->u.confirm.ids[i], id, LINK_ID_LEN);
		}
		break;
	case LINK_CMD_REGISTER:
		n = get_uint(c, 2);
		if (c->ok && n > LINK_TOKEN_MAX)
			return LINK_ERR_FIELD;
		cmd->u.reg.len = (size_t)n;
		cmd->u.reg.token = get_bytes(c, (size_t)n);
		break;
	case LINK_CMD_GET_CONSENSUS:
		cmd->u.get_consensus.epoch = get_uint(c, 8);
		cmd->u.get_consensus.chunk = (uint16_t)get_uint(c, 2);
		break;
	case LINK_CMD_CONSENSUS:
		return decode_consensus(cmd, packet_len, c);
	case LINK_CMD_TIME:
		cmd->u.time.wall_ms = get_uint(c, 8);
		break;
	case LINK_CMD_DISCONNECT:
		return decode_code(&cmd->u.disconnect.reason, c);
	case LINK_CMD_ERROR:
		return decode_code(&cmd->u.error.code, c);
	case LINK_CMD_QUEUE_CREATE:
	case LINK_CMD_QUEUE_DELETE: {
		const uint8_t *id = get_bytes(c, LINK_QUEUE_ID_LEN);
		if (id != NULL)
			memcpy(cmd->u.queue.id, id, LINK_QUEUE_ID_LEN);
		break;
	}
	default:
		return LINK_ERR_TYPE;
	}
	return c->ok ? LINK_OK : LINK_ERR_TRUNCATED;
}

enum link_err
link_cmd_decode(struct link_cmd *cmd, size_t packet_len, const uint8_t *in,
		size_t in_len)
{
	if (!link_frame_packet_len_ok(packet_len) ||
	    in_len != link_frame_plain_len(packet_len))
		return LINK_ERR_LENGTH;
	memset(cmd, 0, sizeof(*cmd));
	struct cur c = {.r = in, .len = in_len, .ok = true};
	uint64_t t = get_uint(&c, 1);
	if (t > LINK_CMD_QUEUE_DELETE)
		return LINK_ERR_TYPE;
	cmd->type = (enum link_cmd_type)t;
	enum link_err e = decode_body(cmd, packet_len, &c);
	if (e != LINK_OK)
		return e;
	/* Padding must be zero: one encoding per command, nothing hidden. */
	uint8_t acc = 0;
	for (size_t i = c.pos; i < in_len; i++)
		acc |= in[i];
	return acc == 0 ? LINK_OK : LINK_ERR_PADDING;
}

const char *
link_cmd_name(int type)
{
	static const char *const names[] = {
	    "noop",         "send_packet", "fetch",         "fetch_response",
	    "confirm",      "register",    "get_consensus", "consensus",
	    "time",         "disconnect",  "error",         "queue_create",
	    "queue_delete",
	};
	if (type < 0 || (size_t)type >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[type];
}
