/*
 * Fuzz target: a Noise_XK_25519_ChaChaPoly_BLAKE2b responder (the link's
 * handshake) fed arbitrary first and third messages.
 *
 * Input: byte 0 = flags, bytes 1-2 = split point (little-endian, taken
 * modulo the rest), then the rest is cut into A and B.
 *   flags & 1: message 1 is an honest initiator's, with payload A;
 *              otherwise message 1 is A itself.
 *   flags & 2: message 3 is the honest initiator's (payload empty) with B
 *              XORed over its start; flags & 4 also truncates it to |B|.
 *              Otherwise message 3 is B itself.
 * All keys, ephemerals included, are fixed, so every input replays the same
 * way. Invariants checked (abort = finding): an honest, unmodified exchange
 * completes and both sides agree; a failed read leaves the state dead and
 * refusing; a payload never exceeds its message.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/noise.h"

#define PROTO "Noise_XK_25519_ChaChaPoly_BLAKE2b"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t prologue[] = "backchannel link v1";

/* Fixed private keys: fuzzing needs repeatability, not secrecy. */
static const uint8_t i_s[32] = {1, 2, 3}, i_e[32] = {4, 5, 6};
static const uint8_t r_s[32] = {7, 8, 9}, r_e[32] = {10, 11, 12};

static uint8_t m1[NOISE_MAX_MSG_LEN], m2[NOISE_MAX_MSG_LEN];
static uint8_t m3[NOISE_MAX_MSG_LEN], pl[NOISE_MAX_MSG_LEN];

static struct noise_hs *
initiator_new(void)
{
	uint8_t r_pub[32];
	struct noise_hs *hs =
	    noise_hs_new(PROTO, true, prologue, sizeof(prologue));

	noise_pubkey_from_private(r_pub, r_s);
	if (hs == NULL || noise_hs_set_s(hs, i_s) != 0 ||
	    noise_hs_set_rs(hs, r_pub) != 0 || noise_hs_set_e(hs, i_e) != 0)
		abort();
	return hs;
}

static struct noise_hs *
responder_new(void)
{
	struct noise_hs *hs =
	    noise_hs_new(PROTO, false, prologue, sizeof(prologue));

	if (hs == NULL || noise_hs_set_s(hs, r_s) != 0 ||
	    noise_hs_set_e(hs, r_e) != 0)
		abort();
	return hs;
}

/* A failed read must leave the handshake dead and refusing everything. */
static void
check_dead(struct noise_hs *hs)
{
	size_t n;
	uint8_t k[32];

	if (!noise_hs_dead(hs) || noise_hs_done(hs) ||
	    noise_hs_is_my_turn(hs) ||
	    noise_hs_write(hs, NULL, 0, m2, sizeof(m2), &n) != -1 ||
	    noise_hs_get_remote_static(hs, k) != -1)
		abort();
}

/* The responder finished: split and check one transport message. */
static void
finish(struct noise_hs *r, struct noise_hs *i, bool honest)
{
	struct noise_cipher *rtx, *rrx, *itx = NULL, *irx = NULL;
	uint8_t k[32], pub[32], ct[64];
	size_t n;

	if (noise_hs_get_remote_static(r, k) != 0)
		abort();
	noise_pubkey_from_private(pub, i_s);
	/* Only the initiator's key can have completed the handshake. */
	if (memcmp(k, pub, 32) != 0)
		abort();
	if (noise_hs_split(r, &rtx, &rrx) != 0)
		abort();
	if (honest) {
		if (noise_hs_split(i, &itx, &irx) != 0 ||
		    noise_cipher_encrypt(itx, NULL, 0, (const uint8_t *)"ping",
					 4, ct, sizeof(ct), &n) != 0 ||
		    noise_cipher_decrypt(rrx, NULL, 0, ct, n, pl, sizeof(pl),
					 &n) != 0 ||
		    n != 4 || memcmp(pl, "ping", 4) != 0)
			abort();
	}
	noise_cipher_free(rtx);
	noise_cipher_free(rrx);
	noise_cipher_free(itx);
	noise_cipher_free(irx);
}

/*
 * Messages 2 and 3: returns the length of message 3 to give the responder;
 * *honest says whether it is exactly what the honest initiator wrote.
 */
static size_t
third_message(struct noise_hs *i, const uint8_t *m2buf, size_t l2,
	      uint8_t flags, const uint8_t *b, size_t blen, bool *honest)
{
	size_t n, l3;

	*honest = false;
	if (i == NULL || !(flags & 2)) {
		memcpy(m3, b, blen);
		return blen;
	}
	if (noise_hs_read(i, m2buf, l2, pl, sizeof(pl), &n) != 0 || n != 0 ||
	    noise_hs_write(i, NULL, 0, m3, sizeof(m3), &l3) != 0)
		abort();
	*honest = true;
	for (size_t j = 0; j < blen && j < l3; j++) {
		m3[j] ^= b[j];
		*honest = *honest && b[j] == 0;
	}
	if ((flags & 4) && blen < l3) {
		l3 = blen;
		*honest = false;
	}
	return l3;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct noise_hs *i = NULL, *r;
	const uint8_t *a, *b;
	size_t alen, blen, l1, l2, l3, n, cut;
	uint8_t flags;
	bool honest;

	if (size < 3 || crypto_init() != 0)
		return 0;
	flags = data[0];
	cut = (size_t)(data[1] | data[2] << 8) % (size - 3 + 1);
	a = data + 3;
	alen = cut;
	b = a + cut;
	blen = size - 3 - cut;
	if (alen > NOISE_MAX_MSG_LEN - 48 || blen > NOISE_MAX_MSG_LEN)
		return 0;
	r = responder_new();
	if (flags & 1) {
		i = initiator_new();
		if (noise_hs_write(i, a, alen, m1, sizeof(m1), &l1) != 0)
			abort();
	} else {
		memcpy(m1, a, alen);
		l1 = alen;
	}
	if (noise_hs_read(r, m1, l1, pl, sizeof(pl), &n) != 0) {
		if (flags & 1)
			abort(); /* an honest message 1 must be accepted */
		check_dead(r);
		goto done;
	}
	if (n > l1 || noise_hs_write(r, NULL, 0, m2, sizeof(m2), &l2) != 0)
		abort();
	l3 = third_message(i, m2, l2, flags, b, blen, &honest);
	if (noise_hs_read(r, m3, l3, pl, sizeof(pl), &n) != 0) {
		if (honest)
			abort();
		check_dead(r);
		goto done;
	}
	/* A modified honest message 3 that passes would be a forgery. */
	if (n > l3 || !noise_hs_done(r) ||
	    (i != NULL && (flags & 2) && !honest))
		abort();
	finish(r, i, honest);
done:
	noise_hs_free(r);
	noise_hs_free(i);
	return 0;
}
