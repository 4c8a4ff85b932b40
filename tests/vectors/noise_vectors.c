/*
 * Noise known-answer checker: build/tests/noise_vectors FILE
 *
 * FILE is a JSON object {"vectors": [...]} in the cacophony/snow format
 * (protocol_name, init_/resp_ prologue, static, ephemeral, remote_static,
 * psks, optional handshake_hash, messages [{payload, ciphertext}]). For each
 * vector both sides run with the given keys; every message is written by
 * its sender and compared byte for byte with the expected ciphertext, then
 * read by the receiver and compared with the payload. Handshake messages
 * follow the pattern; transport messages continue the alternation from the
 * initiator (one-way patterns: everything from the initiator). Both sides'
 * handshake hashes must agree, and match the vector's when it gives one.
 * Prints one line per failure and ends with "N passed, M failed".
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/noise.h"

#include "common/vecfile.h"

#define MSG_CAP (NOISE_MAX_MSG_LEN + 1)

struct side {
	struct noise_hs *hs;
	struct noise_cipher *tx, *rx;
};

static char failure[256];

static int
fail(const char *what, size_t msg)
{
	snprintf(failure, sizeof(failure), "%s (message %zu)", what, msg);
	return -1;
}

/* Decode hex field key of o into buf (cap bytes); -1 if absent/malformed. */
static int
hex_field(const json_t *o, const char *key, uint8_t *buf, size_t cap,
	  size_t *len)
{
	uint8_t *b;
	size_t n;

	if (vec_hex(o, key, &b, &n) != 0)
		return -1;
	if (n > cap) {
		free(b);
		return -1;
	}
	memcpy(buf, b, n);
	free(b);
	*len = n;
	return 0;
}

static int
key_string(const char *hex, uint8_t out[NOISE_KEY_LEN])
{
	uint8_t *b;
	size_t n;
	int rc = -1;

	if (hex == NULL || vec_hex_str(hex, &b, &n) != 0)
		return -1;
	if (n == NOISE_KEY_LEN) {
		memcpy(out, b, n);
		rc = 0;
	}
	free(b);
	return rc;
}

static int
key_field(const json_t *o, const char *key, uint8_t out[NOISE_KEY_LEN])
{
	return vec_hex_fixed(o, key, out, NOISE_KEY_LEN);
}

/* One side's handshake with every key the vector gives for prefix p. */
static int
side_setup(json_t *v, const char *name, bool initiator, struct side *sd)
{
	const char *p = initiator ? "init_" : "resp_";
	uint8_t buf[1024], key[NOISE_KEY_LEN];
	char k[64];
	size_t n;
	json_t *psks;

	snprintf(k, sizeof(k), "%sprologue", p);
	if (hex_field(v, k, buf, sizeof(buf), &n) != 0)
		return fail("bad prologue", 0);
	sd->hs = noise_hs_new(name, initiator, buf, n);
	if (sd->hs == NULL)
		return fail("protocol name not supported", 0);
	snprintf(k, sizeof(k), "%sstatic", p);
	if (json_object_get(v, k) != NULL &&
	    (key_field(v, k, key) != 0 || noise_hs_set_s(sd->hs, key) != 0))
		return fail("static key refused", 0);
	snprintf(k, sizeof(k), "%sephemeral", p);
	if (json_object_get(v, k) != NULL &&
	    (key_field(v, k, key) != 0 || noise_hs_set_e(sd->hs, key) != 0))
		return fail("ephemeral key refused", 0);
	snprintf(k, sizeof(k), "%sremote_static", p);
	if (json_object_get(v, k) != NULL &&
	    (key_field(v, k, key) != 0 || noise_hs_set_rs(sd->hs, key) != 0))
		return fail("remote static key refused", 0);
	snprintf(k, sizeof(k), "%spsks", p);
	psks = json_object_get(v, k);
	for (size_t i = 0; i < json_array_size(psks); i++) {
		if (key_string(json_string_value(json_array_get(psks, i)),
			       key) != 0 ||
		    noise_hs_add_psk(sd->hs, key) != 0)
			return fail("psk refused", 0);
	}
	return 0;
}

/* The pattern is one-way when its base name is one letter (N, K, X). */
static bool
one_way(const char *name)
{
	const char *p = strchr(name, '_');
	size_t base = 0;

	if (p == NULL)
		return false;
	p++;
	while ((p[base] >= 'A' && p[base] <= 'Z') ||
	       (p[base] >= '0' && p[base] <= '9'))
		base++;
	return base == 1;
}

/* Both sides done: split, and compare the two handshake hashes. */
static int
finish(json_t *v, struct side *a, struct side *b, size_t i)
{
	uint8_t ha[NOISE_MAX_HASH_LEN], hb[NOISE_MAX_HASH_LEN];
	uint8_t hv[NOISE_MAX_HASH_LEN];
	size_t la, lb, lv;

	if (noise_hs_get_handshake_hash(a->hs, ha, sizeof(ha), &la) != 0 ||
	    noise_hs_get_handshake_hash(b->hs, hb, sizeof(hb), &lb) != 0)
		return fail("no handshake hash", i);
	if (la != lb || memcmp(ha, hb, la) != 0)
		return fail("handshake hashes differ between the sides", i);
	if (json_object_get(v, "handshake_hash") != NULL) {
		if (hex_field(v, "handshake_hash", hv, sizeof(hv), &lv) != 0)
			return fail("bad handshake_hash field", i);
		if (lv != la || memcmp(hv, ha, la) != 0)
			return fail("handshake hash mismatch", i);
	}
	if (noise_hs_split(a->hs, &a->tx, &a->rx) != 0 ||
	    noise_hs_split(b->hs, &b->tx, &b->rx) != 0)
		return fail("split failed", i);
	return 0;
}

/* Send message i from s to r and compare with the vector. */
static int
exchange(json_t *m, struct side *s, struct side *r, size_t i, bool handshake)
{
	static uint8_t pl[MSG_CAP], ct[MSG_CAP], out[MSG_CAP], got[MSG_CAP];
	size_t pn, cn, on, gn;
	int rc;

	if (hex_field(m, "payload", pl, sizeof(pl), &pn) != 0 ||
	    hex_field(m, "ciphertext", ct, sizeof(ct), &cn) != 0)
		return fail("bad message fields", i);
	if (handshake)
		rc = noise_hs_write(s->hs, pl, pn, out, sizeof(out), &on);
	else
		rc = noise_cipher_encrypt(s->tx, NULL, 0, pl, pn, out,
					  sizeof(out), &on);
	if (rc != 0)
		return fail("write failed", i);
	if (on != cn || memcmp(out, ct, cn) != 0)
		return fail("ciphertext mismatch", i);
	if (handshake)
		rc = noise_hs_read(r->hs, out, on, got, sizeof(got), &gn);
	else
		rc = noise_cipher_decrypt(r->rx, NULL, 0, out, on, got,
					  sizeof(got), &gn);
	if (rc != 0)
		return fail("read failed", i);
	if (gn != pn || memcmp(got, pl, pn) != 0)
		return fail("payload mismatch after read", i);
	return 0;
}

static int
run_vector(json_t *v)
{
	const char *name =
	    json_string_value(json_object_get(v, "protocol_name"));
	json_t *msgs = json_object_get(v, "messages");
	struct side in = {0}, re = {0};
	bool split = false, ow;
	int rc = -1;

	if (name == NULL || json_array_size(msgs) == 0) {
		fail("no protocol_name or messages", 0);
		goto done;
	}
	ow = one_way(name);
	if (side_setup(v, name, true, &in) != 0 ||
	    side_setup(v, name, false, &re) != 0)
		goto done;
	for (size_t i = 0; i < json_array_size(msgs); i++) {
		bool from_init = ow || i % 2 == 0;
		struct side *s = from_init ? &in : &re;
		struct side *r = from_init ? &re : &in;

		if (exchange(json_array_get(msgs, i), s, r, i, !split) != 0)
			goto done;
		if (!split && noise_hs_done(in.hs) != noise_hs_done(re.hs)) {
			fail("sides disagree on the end of the handshake", i);
			goto done;
		}
		if (!split && noise_hs_done(in.hs)) {
			if (finish(v, &in, &re, i) != 0)
				goto done;
			split = true;
		}
	}
	if (!split) {
		fail("handshake never completed", 0);
		goto done;
	}
	rc = 0;
done:
	NOISE_HS_FREE(in.hs);
	NOISE_HS_FREE(re.hs);
	NOISE_CIPHER_FREE(in.tx);
	NOISE_CIPHER_FREE(in.rx);
	NOISE_CIPHER_FREE(re.tx);
	NOISE_CIPHER_FREE(re.rx);
	return rc;
}

int
main(int argc, char **argv)
{
	struct vec_tally tally = {0, 0};
	json_t *root = vec_start(argc, argv), *vecs;
	int rc;

	vecs = json_object_get(root, "vectors");
	if (root == NULL || !json_is_array(vecs) ||
	    json_array_size(vecs) == 0) {
		vec_fail(&tally, "%s: no \"vectors\" array",
			 argc > 1 ? argv[1] : "?");
		json_decref(root);
		return vec_finish(&tally);
	}
	for (size_t i = 0; i < json_array_size(vecs); i++) {
		json_t *v = json_array_get(vecs, i);
		const char *n = vec_str(v, "protocol_name");

		if (run_vector(v) == 0)
			vec_pass(&tally);
		else
			vec_fail(&tally, "vector %zu %s: %s", i, n ? n : "?",
				 failure);
	}
	rc = vec_finish(&tally);
	json_decref(root);
	return rc;
}
