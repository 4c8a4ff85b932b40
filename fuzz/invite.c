/*
 * Fuzz target: the invitation line decoder (wire/invite.c). Invariants: an
 * accepted line re-encodes to the same text up to case (one encoding per
 * invitation), a refused one leaves the output zeroed, every error has a
 * message.
 */
#include "wire/invite.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct invite inv;
	char line[INVITE_TEXT_MAX];
	enum invite_err e;

	if (!init) {
		if (crypto_init() != 0)
			abort();
		init = 1;
	}
	e = invite_decode((const char *)data, size, &inv);
	if (invite_strerror(e) == NULL)
		abort();
	if (e != INVITE_OK) {
		if (!secret_is_zero(&inv, sizeof(inv)))
			abort();
		return 0;
	}
	if (invite_encode(&inv, line, sizeof(line)) != 0 ||
	    strlen(line) != size)
		abort();
	for (size_t i = 0; i < size; i++)
		if (lower((char)data[i]) != line[i])
			abort();
	return 0;
}
