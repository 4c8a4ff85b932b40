/*
 * Noise handshake patterns and protocol names (Noise revision 34, sections
 * 7 and 8): the table of patterns this code knows, and the parser that turns
 * "Noise_XKpsk3_25519_ChaChaPoly_BLAKE2b" into pre-messages, token lists and
 * a hash choice. Internal to crypto/noise*.c.
 */
#ifndef BC_CRYPTO_NOISE_PATTERN_H
#define BC_CRYPTO_NOISE_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/noise_hash.h"

enum noise_token {
	NOISE_TOK_E = 1,
	NOISE_TOK_S,
	NOISE_TOK_EE,
	NOISE_TOK_ES,
	NOISE_TOK_SE,
	NOISE_TOK_SS,
	NOISE_TOK_PSK,
};

/* Bounds of the known patterns (X1X1 has 4 messages), with room for psks. */
#define NOISE_PATTERN_MAX_MSGS   4
#define NOISE_PATTERN_MAX_TOKENS 8
#define NOISE_PROTOCOL_NAME_MAX  127

struct noise_pattern {
	/* Pre-messages: only static keys occur in the supported patterns. */
	bool pre_init_s;
	bool pre_resp_s;
	/* Message i is sent by the initiator when i is even. */
	size_t nmsgs;
	size_t ntokens[NOISE_PATTERN_MAX_MSGS];
	uint8_t tokens[NOISE_PATTERN_MAX_MSGS][NOISE_PATTERN_MAX_TOKENS];
	/* Number of psk tokens, and whether only the initiator ever sends. */
	size_t npsk;
	bool one_way;
};

struct noise_protocol {
	char name[NOISE_PROTOCOL_NAME_MAX + 1];
	struct noise_pattern pattern;
	enum noise_hash_id hash;
};

/*
 * Parse a full protocol name. Supported: every one-way, fundamental and
 * deferred pattern of revision 34 with any psk modifiers, DH 25519, cipher
 * ChaChaPoly, hash SHA256, SHA512 or BLAKE2b. Returns 0, or -1 for anything
 * else (unknown pattern, modifier, algorithm, or malformed name).
 */
int noise_protocol_parse(const char *name, struct noise_protocol *out);

#endif /* BC_CRYPTO_NOISE_PATTERN_H */
