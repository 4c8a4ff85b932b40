/*
 * Fuzz target: the end-to-end decoders (wire/e2e_msg.c). The first byte
 * picks one: 0 hello payload, 1 welcome payload, 2 frame, 3 padded
 * plaintext; the rest is its input. Invariants: what decodes re-encodes to
 * the same bytes (one encoding per value) and points only inside the input.
 */
#include "wire/e2e_msg.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const struct buf *b, const uint8_t *in, size_t len)
{
	if (b->len != len || memcmp(b->data, in, len) != 0)
		abort();
}

static void
fuzz_hello(const uint8_t *in, size_t len)
{
	struct e2e_hello h;
	struct buf b;

	if (e2e_hello_decode(in, len, &h) != E2E_OK)
		return;
	buf_init(&b);
	if (e2e_hello_encode(&h, &b) != 0)
		abort();
	same(&b, in, len);
	buf_free(&b);
}

static void
fuzz_welcome(const uint8_t *in, size_t len)
{
	struct e2e_welcome w;
	uint8_t out[E2E_WELCOME_LEN];

	if (e2e_welcome_decode(in, len, &w) != E2E_OK)
		return;
	e2e_welcome_encode(&w, out);
	if (len != sizeof(out) || memcmp(out, in, len) != 0)
		abort();
}

static void
fuzz_frame(const uint8_t *in, size_t len)
{
	struct e2e_frame f;
	struct buf b;

	if (e2e_frame_parse(in, len, &f) != E2E_OK)
		return;
	buf_init(&b);
	if (f.type == E2E_FRAME_RATCHET)
		e2e_frame_put_ratchet(&b, f.hdr, f.body, f.body_len);
	else
		e2e_frame_put_noise(&b, f.type, f.noise, f.noise_len);
	same(&b, in, len);
	buf_free(&b);
}

static void
fuzz_plain(const uint8_t *in, size_t len)
{
	struct e2e_plain p;
	struct buf b;

	if (e2e_plain_decode(in, len, &p) != E2E_OK)
		return;
	if (p.content < in || p.content + p.content_len > in + len)
		abort();
	buf_init(&b);
	if (e2e_plain_encode(p.kind, p.msg_id, p.content, p.content_len, &b) !=
	    0)
		abort();
	same(&b, in, len);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_hello(data + 1, size - 1);
		break;
	case 1:
		fuzz_welcome(data + 1, size - 1);
		break;
	case 2:
		fuzz_frame(data + 1, size - 1);
		break;
	default:
		fuzz_plain(data + 1, size - 1);
		break;
	}
	return 0;
}
