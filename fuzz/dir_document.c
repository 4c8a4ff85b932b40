/*
 * Fuzz target: the directory document parsers (descriptor, vote, consensus,
 * signature document). Every input goes to all four. Whatever a parser accepts must re-encode to
 * exactly the bytes it read: the canonical-encoding promise of
 * docs/directory.md, checked on every input the fuzzer finds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#include "wire/dir_consensus.h"
#include "wire/dir_descriptor.h"
#include "wire/dir_sigdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_or_abort(const struct buf *b, const uint8_t *data, size_t size)
{
	if (b->len != size || memcmp(b->data, data, size) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	char err[200];
	size_t body;
	struct buf b;
	struct dir_descriptor d;
	struct dir_vote v;
	struct dir_consensus c;
	struct dir_sigdoc sd;

	buf_init(&b);
	if (dir_descriptor_parse(t, size, &d, &body, err, sizeof(err)) == 0) {
		if (dir_descriptor_encode(&d, &b) < 0)
			abort();
		same_or_abort(&b, data, size);
	}
	buf_reset(&b);
	if (dir_vote_parse(t, size, &v, &body, err, sizeof(err)) == 0) {
		if (dir_vote_encode(&v, &b) < 0)
			abort();
		same_or_abort(&b, data, size);
		dir_vote_clear(&v);
	}
	buf_reset(&b);
	if (dir_consensus_parse(t, size, &c, &body, err, sizeof(err)) == 0) {
		if (dir_consensus_encode(&c, &b) < 0)
			abort();
		same_or_abort(&b, data, size);
		dir_consensus_clear(&c);
	}
	buf_reset(&b);
	if (dir_sigdoc_parse(t, size, &sd, err, sizeof(err)) == 0) {
		if (dir_sigdoc_encode(&sd, &b) < 0)
			abort();
		same_or_abort(&b, data, size);
	}
	buf_free(&b);
	return 0;
}
