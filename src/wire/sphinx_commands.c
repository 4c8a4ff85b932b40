/* Sphinx routing commands: parse and encode the per-hop command list. */
#include "wire/sphinx_commands.h"

#include <string.h>

#include "lib/bytes.h"

/* Parse one command of a known type at buf (avail bytes left). */
static enum sphinx_cmd_err
parse_one(struct sphinx_commands *c, const uint8_t *buf, size_t avail,
	  size_t *used)
{
	const uint8_t *body = buf + 1;

	switch (buf[0]) {
	case SPHINX_CMD_NEXT_HOP:
		if (avail < SPHINX_CMD_NEXT_HOP_LEN)
			return SPHINX_CMD_ERR_TRUNCATED;
		if (c->has_next_hop)
			return SPHINX_CMD_ERR_DUPLICATE;
		c->has_next_hop = true;
		memcpy(c->next_hop_id, body, SPHINX_NODE_ID_LEN);
		memcpy(c->next_hop_mac, body + SPHINX_NODE_ID_LEN,
		       SPHINX_MAC_LEN);
		*used = SPHINX_CMD_NEXT_HOP_LEN;
		return SPHINX_CMD_OK;
	case SPHINX_CMD_RECIPIENT:
		if (avail < SPHINX_CMD_RECIPIENT_LEN)
			return SPHINX_CMD_ERR_TRUNCATED;
		if (c->has_recipient)
			return SPHINX_CMD_ERR_DUPLICATE;
		c->has_recipient = true;
		memcpy(c->recipient_id, body, SPHINX_RECIPIENT_ID_LEN);
		*used = SPHINX_CMD_RECIPIENT_LEN;
		return SPHINX_CMD_OK;
	case SPHINX_CMD_SURB_REPLY:
		if (avail < SPHINX_CMD_SURB_REPLY_LEN)
			return SPHINX_CMD_ERR_TRUNCATED;
		if (c->has_surb_reply)
			return SPHINX_CMD_ERR_DUPLICATE;
		c->has_surb_reply = true;
		memcpy(c->surb_id, body, SPHINX_SURB_ID_LEN);
		*used = SPHINX_CMD_SURB_REPLY_LEN;
		return SPHINX_CMD_OK;
	case SPHINX_CMD_NODE_DELAY:
		if (avail < SPHINX_CMD_NODE_DELAY_LEN)
			return SPHINX_CMD_ERR_TRUNCATED;
		if (c->has_delay)
			return SPHINX_CMD_ERR_DUPLICATE;
		c->has_delay = true;
		c->delay_ms = be32_get(body);
		*used = SPHINX_CMD_NODE_DELAY_LEN;
		return SPHINX_CMD_OK;
	default:
		return SPHINX_CMD_ERR_UNKNOWN;
	}
}

enum sphinx_cmd_err
sphinx_commands_parse(struct sphinx_commands *out, const uint8_t *buf,
		      size_t len)
{
	enum sphinx_cmd_err err = SPHINX_CMD_OK;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len && buf[i] != SPHINX_CMD_NULL) {
		size_t used = 0;
		err = parse_one(out, buf + i, len - i, &used);
		if (err != SPHINX_CMD_OK)
			goto done;
		i += used;
	}
	/* The rest is the null command's padding: zero, so one list has one
	 * encoding and nothing can hide in it. */
	for (; i < len; i++) {
		if (buf[i] != 0) {
			err = SPHINX_CMD_ERR_PADDING;
			goto done;
		}
	}
done:
	if (err != SPHINX_CMD_OK)
		memset(out, 0, sizeof(*out));
	return err;
}

size_t
sphinx_commands_encoded_len(const struct sphinx_commands *c)
{
	size_t n = 0;

	if (c->has_next_hop)
		n += SPHINX_CMD_NEXT_HOP_LEN;
	if (c->has_recipient)
		n += SPHINX_CMD_RECIPIENT_LEN;
	if (c->has_surb_reply)
		n += SPHINX_CMD_SURB_REPLY_LEN;
	if (c->has_delay)
		n += SPHINX_CMD_NODE_DELAY_LEN;
	return n;
}

int
sphinx_commands_encode(uint8_t *out, size_t len,
		       const struct sphinx_commands *c)
{
	if (sphinx_commands_encoded_len(c) > len)
		return -1;
	memset(out, 0, len);
	uint8_t *p = out;
	if (c->has_next_hop) {
		*p++ = SPHINX_CMD_NEXT_HOP;
		memcpy(p, c->next_hop_id, SPHINX_NODE_ID_LEN);
		p += SPHINX_NODE_ID_LEN;
		memcpy(p, c->next_hop_mac, SPHINX_MAC_LEN);
		p += SPHINX_MAC_LEN;
	}
	if (c->has_recipient) {
		*p++ = SPHINX_CMD_RECIPIENT;
		memcpy(p, c->recipient_id, SPHINX_RECIPIENT_ID_LEN);
		p += SPHINX_RECIPIENT_ID_LEN;
	}
	if (c->has_surb_reply) {
		*p++ = SPHINX_CMD_SURB_REPLY;
		memcpy(p, c->surb_id, SPHINX_SURB_ID_LEN);
		p += SPHINX_SURB_ID_LEN;
	}
	if (c->has_delay) {
		*p++ = SPHINX_CMD_NODE_DELAY;
		be32_put(p, c->delay_ms);
	}
	return 0;
}

const char *
sphinx_cmd_strerror(enum sphinx_cmd_err err)
{
	switch (err) {
	case SPHINX_CMD_OK:
		return "ok";
	case SPHINX_CMD_ERR_UNKNOWN:
		return "unknown routing command";
	case SPHINX_CMD_ERR_TRUNCATED:
		return "truncated routing command";
	case SPHINX_CMD_ERR_DUPLICATE:
		return "duplicate routing command";
	case SPHINX_CMD_ERR_PADDING:
		return "nonzero padding after routing commands";
	}
	return "invalid error code";
}
