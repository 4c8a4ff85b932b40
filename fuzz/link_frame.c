/*
 * Fuzz target: the link frame parser over a byte stream. The first two
 * bytes choose the body length the link expects; the rest is the stream,
 * parsed frame after frame exactly as link_sm does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "wire/link_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t want = (size_t)data[0] << 8 | data[1];
	const uint8_t *in = data + 2;
	size_t len = size - 2;
	for (;;) {
		const uint8_t *body = NULL;
		size_t flen = 0;
		enum link_err e = link_frame_parse(in, len, want, &body, &flen);
		if (e == LINK_ERR_AGAIN || e == LINK_ERR_LENGTH)
			break;
		if (e != LINK_OK || flen != LINK_FRAME_HDR_LEN + want ||
		    flen > len || body != in + LINK_FRAME_HDR_LEN)
			abort();
		/* The prefix we would write for this body is the one read. */
		uint8_t hdr[LINK_FRAME_HDR_LEN];
		if (link_frame_put_hdr(hdr, want) != 0 || hdr[0] != in[0] ||
		    hdr[1] != in[1])
			abort();
		volatile uint8_t sink = 0;
		for (size_t i = 0; i < want; i++)
			sink ^= body[i]; /* every body byte is readable */
		(void)sink;
		in += flen;
		len -= flen;
		if (want == 0 && len == 0)
			break;
	}
	return 0;
}
