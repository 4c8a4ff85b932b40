/*
 * Fuzz target: the link command decoder. The first byte picks a geometry
 * (packet lengths 64..318, or the default 3082 for 255); the rest, zero
 * filled or cut to the frame plaintext size, is decoded. Whatever decodes
 * must re-encode to the identical bytes (one encoding per command), and a
 * buffer of the wrong size must be refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/link_cmd.h"
#include "wire/link_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t pl = data[0] == 255 ? LINK_PACKET_LEN_DEFAULT
				   : LINK_PACKET_LEN_MIN + data[0];
	size_t n = link_frame_plain_len(pl);
	struct link_cmd cmd;
	/* The exact input, whatever its size. */
	enum link_err e = link_cmd_decode(&cmd, pl, data + 1, size - 1);
	if (size - 1 != n && e != LINK_ERR_LENGTH)
		abort();
	uint8_t *buf = calloc(1, n), *again = malloc(n);
	if (buf == NULL || again == NULL)
		abort();
	memcpy(buf, data + 1, size - 1 < n ? size - 1 : n);
	e = link_cmd_decode(&cmd, pl, buf, n);
	if (e == LINK_OK) {
		if (link_cmd_encode(&cmd, pl, again, n) != LINK_OK ||
		    memcmp(again, buf, n) != 0)
			abort();
	} else if (e >= LINK_ERR_COUNT_ || e == LINK_ERR_AGAIN) {
		abort();
	}
	free(buf);
	free(again);
	return 0;
}
