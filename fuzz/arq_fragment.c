/*
 * Fuzz target: a fragment plaintext as a contact could send it (client/
 * arq.h). The input is decoded; fragments that decode are fed to a
 * receiver, which must never hand up a message other than in sequence,
 * and whatever it hands up must be its announced length.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/arq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arq_rx r;
	struct arq_frag_view v;
	size_t off = 0;

	arq_rx_init(&r, 1);
	/* Several fragments: each is a 2-byte length then that many bytes. */
	while (off + 2 <= size) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (n > size - off)
			n = size - off;
		if (arq_frag_decode(&v, data + off, n) == ARQ_RX_OK)
			(void)arq_rx_add(&r, &v);
		off += n;
		uint8_t *msg;
		size_t len;
		uint64_t seq, want = r.next_seq;
		while (arq_rx_pop(&r, &msg, &len, &seq)) {
			if (seq != want++ || len == 0)
				abort();
			free(msg);
		}
	}
	arq_rx_free(&r);
	return 0;
}
