/*
 * Fuzz target: the Sphinx routing-command parser. Any byte string must parse
 * or fail with an error (never crash or read out of bounds); whatever parses
 * must re-encode into the same slot and parse back to the same commands.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/sphinx_commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sphinx_commands c, again;
	uint8_t enc[SPHINX_PER_HOP_RI_LEN];

	/* Exactly as long as the input: a read past it is a finding. */
	if (sphinx_commands_parse(&c, data, size) != SPHINX_CMD_OK) {
		/* A failed parse leaves nothing behind. */
		static const struct sphinx_commands zero;
		if (memcmp(&c, &zero, sizeof(c)) != 0)
			abort();
		return 0;
	}
	if (size > sizeof(enc))
		return 0;
	if (sphinx_commands_encode(enc, size, &c) != 0)
		abort();
	if (sphinx_commands_parse(&again, enc, size) != SPHINX_CMD_OK ||
	    memcmp(&c, &again, sizeof(c)) != 0)
		abort();
	return 0;
}
