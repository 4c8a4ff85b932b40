/*
 * End-to-end codecs: gateway addresses, first-contact payloads, frames and
 * padded plaintext. Layouts in docs/e2e.md; all integers big-endian.
 */
#include "wire/e2e_msg.h"

#include <string.h>

#include "lib/bytes.h"

#include "crypto/ratchet.h"

_Static_assert(E2E_RATCHET_HDR_LEN == RATCHET_ENC_HEADER_LEN,
	       "frame header size is the ratchet's encrypted header");
_Static_assert(E2E_TAG_LEN == RATCHET_TAG_LEN, "ratchet tag size");
_Static_assert(E2E_PAD_MAX <= RATCHET_MAX_PLAINTEXT, "padded size fits");

const size_t e2e_pad_classes[E2E_PAD_CLASSES] = {256, 1024, 4096, 16384, 65536};

const char *
e2e_strerror(enum e2e_err e)
{
	switch (e) {
	case E2E_OK:
		return "ok";
	case E2E_ERR_TRUNCATED:
		return "message truncated";
	case E2E_ERR_TRAILING:
		return "trailing bytes after the message";
	case E2E_ERR_VERSION:
		return "unknown version";
	case E2E_ERR_TYPE:
		return "unknown frame type";
	case E2E_ERR_HOST:
		return "invalid gateway host";
	case E2E_ERR_PORT:
		return "invalid gateway port";
	case E2E_ERR_NAME:
		return "invalid name (1-64 bytes of UTF-8, no control "
		       "characters)";
	case E2E_ERR_SIZE:
		return "length not allowed";
	case E2E_ERR_PADDING:
		return "padding not zero";
	case E2E_ERR_KIND:
		return "unknown message kind";
	}
	return "unknown error";
}

static bool
host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':';
}

static enum e2e_err
host_check(const char *h, size_t len)
{
	if (len == 0 || len > E2E_HOST_MAX)
		return E2E_ERR_HOST;
	for (size_t i = 0; i < len; i++)
		if (!host_char_ok(h[i]))
			return E2E_ERR_HOST;
	return E2E_OK;
}

enum e2e_err
e2e_gateway_check(const struct e2e_gateway *g)
{
	size_t len = strnlen(g->host, sizeof(g->host));

	if (len == sizeof(g->host) || host_check(g->host, len) != E2E_OK)
		return E2E_ERR_HOST;
	if (g->port == 0)
		return E2E_ERR_PORT;
	return E2E_OK;
}

void
e2e_gateway_put(struct buf *b, const struct e2e_gateway *g)
{
	size_t len = strnlen(g->host, E2E_HOST_MAX);

	buf_append(b, g->key, E2E_KEY_LEN);
	buf_append_u8(b, (uint8_t)len);
	buf_append(b, g->host, len);
	buf_append_u16be(b, g->port);
}

enum e2e_err
e2e_gateway_get(struct rd *r, struct e2e_gateway *g)
{
	const uint8_t *host;
	size_t len;

	memset(g, 0, sizeof(*g));
	rd_bytes(r, g->key, E2E_KEY_LEN);
	len = rd_u8(r);
	host = rd_ptr(r, len);
	g->port = rd_u16be(r);
	if (!rd_ok(r))
		return E2E_ERR_TRUNCATED;
	if (host_check((const char *)host, len) != E2E_OK)
		return E2E_ERR_HOST;
	memcpy(g->host, host, len);
	if (g->port == 0)
		return E2E_ERR_PORT;
	return E2E_OK;
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t
utf8_seq(const uint8_t *s, size_t n)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80)
		return (c >= 0x20 && c != 0x7f) ? 1 : 0;
	if ((c & 0xe0) == 0xc0) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3fu);
	}
	/* overlong, surrogates, beyond Unicode, C1 controls */
	if (c < min || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff ||
	    (c >= 0x80 && c < 0xa0))
		return 0;
	return len;
}

bool
e2e_name_valid(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, n;

	if (len == 0 || len > E2E_NAME_MAX)
		return false;
	while (i < len) {
		n = utf8_seq(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

enum e2e_err
e2e_name_get(struct rd *r, char out[E2E_NAME_MAX + 1])
{
	size_t len = rd_u8(r);
	const uint8_t *p = rd_ptr(r, len);

	memset(out, 0, E2E_NAME_MAX + 1);
	if (!rd_ok(r))
		return E2E_ERR_TRUNCATED;
	if (!e2e_name_valid((const char *)p, len))
		return E2E_ERR_NAME;
	memcpy(out, p, len);
	return E2E_OK;
}

void
e2e_name_put(struct buf *b, const char *name)
{
	size_t len = strnlen(name, E2E_NAME_MAX);

	buf_append_u8(b, (uint8_t)len);
	buf_append(b, name, len);
}

int
e2e_hello_encode(const struct e2e_hello *h, struct buf *out)
{
	size_t nlen = strnlen(h->name, sizeof(h->name));

	if (e2e_gateway_check(&h->gw) != E2E_OK ||
	    !e2e_name_valid(h->name, nlen))
		return -1;
	buf_append_u8(out, E2E_VERSION);
	buf_append(out, h->identity_pub, E2E_KEY_LEN);
	e2e_gateway_put(out, &h->gw);
	buf_append(out, h->reply_queue, E2E_QUEUE_ID_LEN);
	e2e_name_put(out, h->name);
	buf_append(out, h->msg_id, E2E_MSG_ID_LEN);
	return 0;
}

enum e2e_err
e2e_hello_decode(const uint8_t *in, size_t len, struct e2e_hello *out)
{
	struct rd r;
	enum e2e_err e;

	memset(out, 0, sizeof(*out));
	rd_init(&r, in, len);
	if (len == 0)
		return E2E_ERR_TRUNCATED;
	if (rd_u8(&r) != E2E_VERSION)
		return E2E_ERR_VERSION;
	rd_bytes(&r, out->identity_pub, E2E_KEY_LEN);
	e = e2e_gateway_get(&r, &out->gw);
	if (e != E2E_OK)
		goto done;
	rd_bytes(&r, out->reply_queue, E2E_QUEUE_ID_LEN);
	e = e2e_name_get(&r, out->name);
	if (e != E2E_OK)
		goto done;
	rd_bytes(&r, out->msg_id, E2E_MSG_ID_LEN);
	if (!rd_ok(&r))
		e = E2E_ERR_TRUNCATED;
	else if (rd_remaining(&r) != 0)
		e = E2E_ERR_TRAILING;
done:
	if (e != E2E_OK)
		memset(out, 0, sizeof(*out));
	return e;
}

void
e2e_welcome_encode(const struct e2e_welcome *w, uint8_t out[E2E_WELCOME_LEN])
{
	out[0] = E2E_VERSION;
	memcpy(out + 1, w->identity_pub, E2E_KEY_LEN);
	memcpy(out + 1 + E2E_KEY_LEN, w->ratchet_pub, E2E_KEY_LEN);
	memcpy(out + 1 + 2 * E2E_KEY_LEN, w->seed, E2E_SEED_LEN);
	memcpy(out + 1 + 2 * E2E_KEY_LEN + E2E_SEED_LEN, w->msg_id,
	       E2E_MSG_ID_LEN);
}

enum e2e_err
e2e_welcome_decode(const uint8_t *in, size_t len, struct e2e_welcome *out)
{
	memset(out, 0, sizeof(*out));
	if (len < E2E_WELCOME_LEN)
		return len == 0 || in[0] == E2E_VERSION ? E2E_ERR_TRUNCATED
							: E2E_ERR_VERSION;
	if (in[0] != E2E_VERSION)
		return E2E_ERR_VERSION;
	if (len > E2E_WELCOME_LEN)
		return E2E_ERR_TRAILING;
	memcpy(out->identity_pub, in + 1, E2E_KEY_LEN);
	memcpy(out->ratchet_pub, in + 1 + E2E_KEY_LEN, E2E_KEY_LEN);
	memcpy(out->seed, in + 1 + 2 * E2E_KEY_LEN, E2E_SEED_LEN);
	memcpy(out->msg_id, in + 1 + 2 * E2E_KEY_LEN + E2E_SEED_LEN,
	       E2E_MSG_ID_LEN);
	return E2E_OK;
}

size_t
e2e_pad_size(size_t content_len)
{
	for (size_t i = 0; i < E2E_PAD_CLASSES; i++)
		if (content_len <= e2e_pad_classes[i] - E2E_PLAIN_HDR_LEN)
			return e2e_pad_classes[i];
	return 0;
}

static bool
is_pad_class(size_t n)
{
	for (size_t i = 0; i < E2E_PAD_CLASSES; i++)
		if (n == e2e_pad_classes[i])
			return true;
	return false;
}

enum e2e_err
e2e_frame_parse(const uint8_t *in, size_t len, struct e2e_frame *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return E2E_ERR_TRUNCATED;
	switch (in[0]) {
	case E2E_FRAME_HELLO:
		if (len - 1 < E2E_HELLO_NOISE_MIN)
			return E2E_ERR_TRUNCATED;
		if (len - 1 > E2E_HELLO_NOISE_MAX)
			return E2E_ERR_SIZE;
		break;
	case E2E_FRAME_WELCOME:
		if (len - 1 < E2E_WELCOME_NOISE_LEN)
			return E2E_ERR_TRUNCATED;
		if (len - 1 > E2E_WELCOME_NOISE_LEN)
			return E2E_ERR_TRAILING;
		break;
	case E2E_FRAME_RATCHET:
		if (len < 1 + E2E_RATCHET_HDR_LEN + E2E_TAG_LEN)
			return E2E_ERR_TRUNCATED;
		if (!is_pad_class(len - 1 - E2E_RATCHET_HDR_LEN - E2E_TAG_LEN))
			return E2E_ERR_SIZE;
		out->type = E2E_FRAME_RATCHET;
		out->hdr = in + 1;
		out->body = in + 1 + E2E_RATCHET_HDR_LEN;
		out->body_len = len - 1 - E2E_RATCHET_HDR_LEN;
		return E2E_OK;
	default:
		return E2E_ERR_TYPE;
	}
	out->type = (enum e2e_frame_type)in[0];
	out->noise = in + 1;
	out->noise_len = len - 1;
	return E2E_OK;
}

void
e2e_frame_put_noise(struct buf *b, enum e2e_frame_type type, const uint8_t *msg,
		    size_t len)
{
	buf_append_u8(b, (uint8_t)type);
	buf_append(b, msg, len);
}

void
e2e_frame_put_ratchet(struct buf *b, const uint8_t *hdr, const uint8_t *body,
		      size_t blen)
{
	buf_append_u8(b, E2E_FRAME_RATCHET);
	buf_append(b, hdr, E2E_RATCHET_HDR_LEN);
	buf_append(b, body, blen);
}

static bool
kind_valid(unsigned k)
{
	return k >= E2E_KIND_TEXT && k <= E2E_KIND_CONTROL;
}

int
e2e_plain_encode(enum e2e_kind kind, const uint8_t id[E2E_MSG_ID_LEN],
		 const uint8_t *content, size_t len, struct buf *out)
{
	size_t size = e2e_pad_size(len), start = out->len;

	if (size == 0 || !kind_valid(kind))
		return -1;
	buf_reserve(out, size);
	buf_append_u8(out, (uint8_t)kind);
	buf_append(out, id, E2E_MSG_ID_LEN);
	buf_append_u32be(out, (uint32_t)len);
	if (len > 0)
		buf_append(out, content, len);
	memset(out->data + out->len, 0, size - (out->len - start));
	out->len = start + size;
	return 0;
}

enum e2e_err
e2e_plain_decode(const uint8_t *in, size_t len, struct e2e_plain *out)
{
	uint32_t clen;
	uint8_t acc = 0;

	memset(out, 0, sizeof(*out));
	if (!is_pad_class(len))
		return E2E_ERR_SIZE;
	if (!kind_valid(in[0]))
		return E2E_ERR_KIND;
	clen = be32_get(in + 1 + E2E_MSG_ID_LEN);
	/* the smallest class that holds it, and no other */
	if (clen > len - E2E_PLAIN_HDR_LEN || e2e_pad_size(clen) != len)
		return E2E_ERR_SIZE;
	for (size_t i = E2E_PLAIN_HDR_LEN + clen; i < len; i++)
		acc |= in[i];
	if (acc != 0)
		return E2E_ERR_PADDING;
	out->kind = (enum e2e_kind)in[0];
	memcpy(out->msg_id, in + 1, E2E_MSG_ID_LEN);
	out->content = in + E2E_PLAIN_HDR_LEN;
	out->content_len = clen;
	return E2E_OK;
}
