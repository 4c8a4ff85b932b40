/*
 * Unit tests for crypto/noise.h: round trips with random keys (XK, IKpsk2),
 * authentication failures (wrong responder key, tampering, truncation),
 * state machine misuse, nonce exhaustion and rekey, name parsing, and the
 * wiping of secrets. The known-answer tests are in tests/vectors/.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/noise.h"
#include "crypto/rand.h"
#include "crypto/secret.h"

#define XK     "Noise_XK_25519_ChaChaPoly_BLAKE2b"
#define IKPSK2 "Noise_IKpsk2_25519_ChaChaPoly_SHA256"
#define MAXM   NOISE_MAX_MSG_LEN

static const uint8_t prologue[] = "backchannel test prologue";

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	rand_set_deterministic(0x6e6f697365ULL);
}

static void
teardown(void)
{
	rand_set_system();
}

TestSuite(noise, .init = setup, .fini = teardown);

struct keys {
	uint8_t is_pub[32], is_priv[32]; /* initiator static */
	uint8_t rs_pub[32], rs_priv[32]; /* responder static */
	uint8_t psk[32];
};

static void
keys_make(struct keys *k)
{
	noise_keypair_generate(k->is_pub, k->is_priv);
	noise_keypair_generate(k->rs_pub, k->rs_priv);
	rand_bytes(k->psk, sizeof(k->psk));
}

/* Initiator and responder of name with the keys the pattern asks for. */
static void
pair_new(const char *name, const struct keys *k, struct noise_hs **i,
	 struct noise_hs **r)
{
	*i = noise_hs_new(name, true, prologue, sizeof(prologue));
	*r = noise_hs_new(name, false, prologue, sizeof(prologue));
	cr_assert_not_null(*i);
	cr_assert_not_null(*r);
	if (noise_hs_needs_s(*i))
		cr_assert_eq(noise_hs_set_s(*i, k->is_priv), 0);
	if (noise_hs_needs_s(*r))
		cr_assert_eq(noise_hs_set_s(*r, k->rs_priv), 0);
	if (noise_hs_needs_rs(*i))
		cr_assert_eq(noise_hs_set_rs(*i, k->rs_pub), 0);
	if (noise_hs_needs_rs(*r))
		cr_assert_eq(noise_hs_set_rs(*r, k->is_pub), 0);
	for (size_t n = 0; n < noise_hs_psks_needed(*i); n++) {
		cr_assert_eq(noise_hs_add_psk(*i, k->psk), 0);
		cr_assert_eq(noise_hs_add_psk(*r, k->psk), 0);
	}
}

/* One handshake message from s to r carrying a payload; returns its size. */
static size_t
step(struct noise_hs *s, struct noise_hs *r, const char *payload)
{
	static uint8_t msg[MAXM], got[MAXM];
	size_t mlen, glen, plen = strlen(payload);

	cr_assert(noise_hs_is_my_turn(s));
	cr_assert_not(noise_hs_is_my_turn(r));
	cr_assert_eq(noise_hs_write(s, (const uint8_t *)payload, plen, msg,
				    sizeof(msg), &mlen),
		     0);
	cr_assert_eq(noise_hs_read(r, msg, mlen, got, sizeof(got), &glen), 0);
	cr_assert_eq(glen, plen);
	cr_assert_eq(memcmp(got, payload, plen), 0);
	return mlen;
}

/* Transport in both directions, then compare hashes and remote keys. */
static void
check_transport(struct noise_hs *i, struct noise_hs *r)
{
	struct noise_cipher *itx, *irx, *rtx, *rrx;
	uint8_t hi[64], hr[64], ct[128], pt[128];
	size_t li, lr, cl, pl;

	cr_assert(noise_hs_done(i));
	cr_assert(noise_hs_done(r));
	cr_assert_eq(noise_hs_split(i, &itx, &irx), 0);
	cr_assert_eq(noise_hs_split(r, &rtx, &rrx), 0);
	cr_assert_eq(noise_hs_get_handshake_hash(i, hi, sizeof(hi), &li), 0);
	cr_assert_eq(noise_hs_get_handshake_hash(r, hr, sizeof(hr), &lr), 0);
	cr_assert_eq(li, lr);
	cr_assert_eq(memcmp(hi, hr, li), 0);
	for (int n = 0; n < 10; n++) {
		const char *m = n % 2 ? "to the initiator" : "to the responder";
		struct noise_cipher *tx = n % 2 ? rtx : itx;
		struct noise_cipher *rx = n % 2 ? irx : rrx;

		cr_assert_eq(noise_cipher_encrypt(tx, NULL, 0,
						  (const uint8_t *)m, strlen(m),
						  ct, sizeof(ct), &cl),
			     0);
		cr_assert_eq(cl, strlen(m) + NOISE_TAG_LEN);
		cr_assert_neq(memcmp(ct, m, strlen(m)), 0);
		cr_assert_eq(noise_cipher_decrypt(rx, NULL, 0, ct, cl, pt,
						  sizeof(pt), &pl),
			     0);
		cr_assert_eq(pl, strlen(m));
		cr_assert_eq(memcmp(pt, m, pl), 0);
	}
	cr_assert_eq(noise_cipher_get_nonce(itx), 5);
	cr_assert_eq(noise_cipher_get_nonce(rrx), 5);
	NOISE_CIPHER_FREE(itx);
	NOISE_CIPHER_FREE(irx);
	NOISE_CIPHER_FREE(rtx);
	NOISE_CIPHER_FREE(rrx);
	cr_assert_null(itx);
}

Test(noise, xk_round_trip)
{
	struct noise_hs *i, *r;
	struct keys k;
	uint8_t got[32];

	keys_make(&k);
	pair_new(XK, &k, &i, &r);
	cr_assert(noise_hs_needs_rs(i));
	cr_assert_not(noise_hs_needs_rs(r));
	/* Until message 3 the responder does not know who is calling. */
	cr_assert_eq(noise_hs_get_remote_static(r, got), -1);
	cr_assert_eq(step(i, r, "one"), 32 + 3 + 16);
	cr_assert_eq(step(r, i, "two"), 32 + 3 + 16);
	cr_assert_eq(noise_hs_get_remote_static(r, got), -1);
	cr_assert_not(noise_hs_done(i));
	cr_assert_eq(step(i, r, "three"), 48 + 5 + 16);
	cr_assert_eq(noise_hs_get_remote_static(r, got), 0);
	cr_assert_eq(memcmp(got, k.is_pub, 32), 0);
	cr_assert_eq(noise_hs_get_remote_static(i, got), 0);
	cr_assert_eq(memcmp(got, k.rs_pub, 32), 0);
	check_transport(i, r);
	/* After split h and rs stay readable. */
	cr_assert_eq(noise_hs_get_remote_static(r, got), 0);
	NOISE_HS_FREE(i);
	NOISE_HS_FREE(r);
	cr_assert_null(i);
}

Test(noise, ikpsk2_round_trip)
{
	struct noise_hs *i, *r;
	struct keys k;
	uint8_t got[32];

	keys_make(&k);
	pair_new(IKPSK2, &k, &i, &r);
	cr_assert_eq(noise_hs_psks_needed(i), 1);
	/* 0-RTT: the responder learns the initiator in message 1. */
	cr_assert_eq(step(i, r, "hello"), 32 + 48 + 5 + 16);
	cr_assert_eq(noise_hs_get_remote_static(r, got), 0);
	cr_assert_eq(memcmp(got, k.is_pub, 32), 0);
	cr_assert_eq(step(r, i, ""), 32 + 16);
	check_transport(i, r);
	noise_hs_free(i);
	noise_hs_free(r);
}

Test(noise, ikpsk2_wrong_psk_fails)
{
	struct noise_hs *i, *r;
	struct keys k;
	uint8_t msg[256], pl[256];
	size_t ml, pln;

	keys_make(&k);
	i = noise_hs_new(IKPSK2, true, NULL, 0);
	r = noise_hs_new(IKPSK2, false, NULL, 0);
	cr_assert_eq(noise_hs_set_s(i, k.is_priv), 0);
	cr_assert_eq(noise_hs_set_rs(i, k.rs_pub), 0);
	cr_assert_eq(noise_hs_add_psk(i, k.psk), 0);
	cr_assert_eq(noise_hs_set_s(r, k.rs_priv), 0);
	k.psk[0] ^= 1;
	cr_assert_eq(noise_hs_add_psk(r, k.psk), 0);
	cr_assert_eq(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &ml), 0);
	cr_assert_eq(noise_hs_read(r, msg, ml, pl, sizeof(pl), &pln), 0);
	cr_assert_eq(noise_hs_write(r, NULL, 0, msg, sizeof(msg), &ml), 0);
	/* psk2 is mixed in at the end of message 2: that is where it fails. */
	cr_assert_eq(noise_hs_read(i, msg, ml, pl, sizeof(pl), &pln), -1);
	cr_assert(noise_hs_dead(i));
	noise_hs_free(i);
	noise_hs_free(r);
}

/*
 * The initiator believes the responder's key is rs_pub; an impostor holding
 * another key cannot read message 1, and the best message 2 it can make (an
 * honest one from a session it can complete) fails at the initiator.
 */
Test(noise, xk_wrong_responder_key_fails_initiator)
{
	struct noise_hs *i, *imp, *imp_i;
	struct keys k, other;
	uint8_t m1[256], m2[256], pl[256], got[32];
	size_t l1, l2, pln;

	keys_make(&k);
	keys_make(&other);
	i = noise_hs_new(XK, true, prologue, sizeof(prologue));
	cr_assert_eq(noise_hs_set_s(i, k.is_priv), 0);
	cr_assert_eq(noise_hs_set_rs(i, k.rs_pub), 0);
	imp = noise_hs_new(XK, false, prologue, sizeof(prologue));
	cr_assert_eq(noise_hs_set_s(imp, other.rs_priv), 0);

	cr_assert_eq(noise_hs_write(i, NULL, 0, m1, sizeof(m1), &l1), 0);
	cr_assert_eq(noise_hs_read(imp, m1, l1, pl, sizeof(pl), &pln), -1);
	cr_assert(noise_hs_dead(imp));
	NOISE_HS_FREE(imp);

	/* The impostor's own session, whose message 2 it can produce. */
	imp = noise_hs_new(XK, false, prologue, sizeof(prologue));
	imp_i = noise_hs_new(XK, true, prologue, sizeof(prologue));
	cr_assert_eq(noise_hs_set_s(imp, other.rs_priv), 0);
	cr_assert_eq(noise_hs_set_s(imp_i, other.is_priv), 0);
	cr_assert_eq(noise_hs_set_rs(imp_i, other.rs_pub), 0);
	step(imp_i, imp, "");
	cr_assert_eq(noise_hs_write(imp, NULL, 0, m2, sizeof(m2), &l2), 0);

	cr_assert_eq(noise_hs_read(i, m2, l2, pl, sizeof(pl), &pln), -1);
	cr_assert(noise_hs_dead(i));
	cr_assert_not(noise_hs_done(i));
	cr_assert_eq(noise_hs_get_remote_static(i, got), -1);
	cr_assert_eq(noise_hs_write(i, NULL, 0, m1, sizeof(m1), &l1), -1);
	noise_hs_free(i);
	noise_hs_free(imp);
	noise_hs_free(imp_i);
}

/* Run XK to just before message idx, flip one bit of it, expect refusal. */
static void
tamper_at(size_t idx, size_t byte)
{
	static uint8_t msg[MAXM], pl[MAXM];
	struct noise_hs *i, *r, *hs[2];
	struct keys k;
	size_t ml, pln;

	keys_make(&k);
	pair_new(XK, &k, &i, &r);
	hs[0] = i;
	hs[1] = r;
	for (size_t m = 0; m < idx; m++)
		step(hs[m % 2], hs[(m + 1) % 2], "payload");
	cr_assert_eq(noise_hs_write(hs[idx % 2], (const uint8_t *)"payload", 7,
				    msg, sizeof(msg), &ml),
		     0);
	cr_assert_lt(byte, ml);
	msg[byte] ^= 0x80;
	cr_assert_eq(
	    noise_hs_read(hs[(idx + 1) % 2], msg, ml, pl, sizeof(pl), &pln), -1,
	    "message %zu byte %zu flipped was accepted", idx, byte);
	cr_assert(noise_hs_dead(hs[(idx + 1) % 2]));
	noise_hs_free(i);
	noise_hs_free(r);
}

Test(noise, tampered_handshake_rejected)
{
	/* Sizes with a 7-byte payload: 55, 55, 71. */
	static const size_t len[3] = {55, 55, 71};

	for (size_t m = 0; m < 3; m++)
		for (size_t b = 0; b < len[m]; b++)
			tamper_at(m, b);
}

Test(noise, truncated_and_oversized_handshake_rejected)
{
	static uint8_t msg[MAXM + 8], pl[MAXM];
	struct noise_hs *i, *r;
	struct keys k;
	size_t ml, pln;

	keys_make(&k);
	for (size_t cut = 0; cut < 55; cut++) {
		pair_new(XK, &k, &i, &r);
		cr_assert_eq(noise_hs_write(i, (const uint8_t *)"payload", 7,
					    msg, sizeof(msg), &ml),
			     0);
		cr_assert_eq(ml, 55);
		cr_assert_eq(noise_hs_read(r, msg, cut, pl, sizeof(pl), &pln),
			     -1);
		noise_hs_free(i);
		noise_hs_free(r);
	}
	/* Longer than any Noise message. */
	pair_new(XK, &k, &i, &r);
	cr_assert_eq(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &ml), 0);
	cr_assert_eq(noise_hs_read(r, msg, MAXM + 1, pl, sizeof(pl), &pln), -1);
	noise_hs_free(i);
	noise_hs_free(r);
	/* A payload buffer too small is refused before anything is read. */
	pair_new(XK, &k, &i, &r);
	cr_assert_eq(noise_hs_write(i, (const uint8_t *)"payload", 7, msg,
				    sizeof(msg), &ml),
		     0);
	cr_assert_eq(noise_hs_read(r, msg, ml, pl, 6, &pln), -1);
	noise_hs_free(i);
	noise_hs_free(r);
}

Test(noise, write_limits)
{
	static uint8_t big[MAXM], out[MAXM];
	struct noise_hs *i, *r;
	struct keys k;
	size_t ml;

	keys_make(&k);
	pair_new(XK, &k, &i, &r);
	/* Output buffer one byte short. */
	cr_assert_eq(noise_hs_write(i, big, 10, out, 32 + 10 + 16 - 1, &ml),
		     -1);
	cr_assert(noise_hs_dead(i));
	noise_hs_free(i);
	noise_hs_free(r);
	/* The largest payload that fits in 65535 bytes, and one more. */
	pair_new(XK, &k, &i, &r);
	cr_assert_eq(noise_hs_write(i, big, MAXM - 48, out, sizeof(out), &ml),
		     0);
	cr_assert_eq(ml, MAXM);
	noise_hs_free(i);
	noise_hs_free(r);
	pair_new(XK, &k, &i, &r);
	cr_assert_eq(noise_hs_write(i, big, MAXM - 47, out, sizeof(out), &ml),
		     -1);
	noise_hs_free(i);
	noise_hs_free(r);
}

Test(noise, state_machine_refuses_misuse)
{
	uint8_t msg[256] = {0}, pl[256];
	struct noise_cipher *a, *b;
	struct noise_hs *i, *r;
	struct keys k;
	size_t ml, pln;

	keys_make(&k);
	/* Out of turn: the responder cannot write first. */
	pair_new(XK, &k, &i, &r);
	cr_assert_eq(noise_hs_write(r, NULL, 0, msg, sizeof(msg), &ml), -1);
	cr_assert(noise_hs_dead(r));
	noise_hs_free(i);
	noise_hs_free(r);
	/* ... nor the initiator read first. */
	pair_new(XK, &k, &i, &r);
	cr_assert_eq(noise_hs_read(i, msg, 48, pl, sizeof(pl), &pln), -1);
	noise_hs_free(i);
	noise_hs_free(r);
	/* Split before the end. */
	pair_new(XK, &k, &i, &r);
	step(i, r, "");
	cr_assert_eq(noise_hs_split(i, &a, &b), -1);
	noise_hs_free(i);
	noise_hs_free(r);
	/* Past the end: no more handshake messages, one split only. */
	pair_new(XK, &k, &i, &r);
	step(i, r, "");
	step(r, i, "");
	step(i, r, "");
	cr_assert_not(noise_hs_is_my_turn(i));
	cr_assert_not(noise_hs_is_my_turn(r));
	cr_assert_eq(noise_hs_write(r, NULL, 0, msg, sizeof(msg), &ml), -1);
	cr_assert_eq(noise_hs_read(i, msg, 48, pl, sizeof(pl), &pln), -1);
	cr_assert_eq(noise_hs_split(i, &a, &b), -1);
	noise_hs_free(i);
	noise_hs_free(r);
	pair_new(XK, &k, &i, &r);
	step(i, r, "");
	step(r, i, "");
	step(i, r, "");
	cr_assert_eq(noise_hs_split(i, &a, &b), 0);
	NOISE_CIPHER_FREE(a);
	NOISE_CIPHER_FREE(b);
	cr_assert_eq(noise_hs_split(i, &a, &b), -1);
	cr_assert_eq(noise_hs_write(i, NULL, 0, msg, sizeof(msg), &ml), -1);
	noise_hs_free(i);
	noise_hs_free(r);
}

Test(noise, setters_checked)
{
	struct noise_hs *hs;
	struct keys k;
	uint8_t msg[256];
	size_t ml;

	keys_make(&k);
	/* XX learns rs from the handshake: setting it is a mistake. */
	hs = noise_hs_new("Noise_XX_25519_ChaChaPoly_SHA512", true, NULL, 0);
	cr_assert_not(noise_hs_needs_rs(hs));
	cr_assert_eq(noise_hs_set_rs(hs, k.rs_pub), -1);
	noise_hs_free(hs);
	/* NN has no static keys at all. */
	hs = noise_hs_new("Noise_NN_25519_ChaChaPoly_SHA512", true, NULL, 0);
	cr_assert_eq(noise_hs_set_s(hs, k.is_priv), -1);
	noise_hs_free(hs);
	/* A psk too many. */
	hs = noise_hs_new(IKPSK2, true, NULL, 0);
	cr_assert_eq(noise_hs_add_psk(hs, k.psk), 0);
	cr_assert_eq(noise_hs_add_psk(hs, k.psk), -1);
	noise_hs_free(hs);
	/* Missing keys are caught at the first message. */
	hs = noise_hs_new(XK, true, NULL, 0);
	cr_assert_eq(noise_hs_set_s(hs, k.is_priv), 0);
	cr_assert_eq(noise_hs_write(hs, NULL, 0, msg, sizeof(msg), &ml), -1);
	noise_hs_free(hs);
	hs = noise_hs_new(IKPSK2, true, NULL, 0);
	cr_assert_eq(noise_hs_set_s(hs, k.is_priv), 0);
	cr_assert_eq(noise_hs_set_rs(hs, k.rs_pub), 0);
	cr_assert_eq(noise_hs_write(hs, NULL, 0, msg, sizeof(msg), &ml), -1);
	noise_hs_free(hs);
	/* Keys cannot change once the handshake has started. */
	hs = noise_hs_new("Noise_NN_25519_ChaChaPoly_SHA256", true, NULL, 0);
	cr_assert_eq(noise_hs_write(hs, NULL, 0, msg, sizeof(msg), &ml), 0);
	cr_assert_eq(noise_hs_set_e(hs, k.is_priv), -1);
	noise_hs_free(hs);
}

Test(noise, low_order_ephemeral_rejected)
{
	/* A zero point gives an all-zero DH result, which must be refused. */
	uint8_t msg[256] = {0}, pl[256];
	struct noise_hs *r;
	size_t pln;

	r = noise_hs_new("Noise_NN_25519_ChaChaPoly_SHA256", false, NULL, 0);
	cr_assert_eq(noise_hs_read(r, msg, 32, pl, sizeof(pl), &pln), 0);
	cr_assert_eq(noise_hs_write(r, NULL, 0, msg, sizeof(msg), &pln), -1);
	cr_assert(noise_hs_dead(r));
	noise_hs_free(r);
}

Test(noise, protocol_names)
{
	static const char *good[] = {
	    "Noise_N_25519_ChaChaPoly_SHA256",
	    "Noise_XXpsk0+psk1+psk2+psk3_25519_ChaChaPoly_BLAKE2b",
	    "Noise_I1X1_25519_ChaChaPoly_SHA512",
	    "Noise_Xpsk1_25519_ChaChaPoly_SHA256",
	};
	static const char *bad[] = {
	    "",
	    "Noise_",
	    "Noise_XK_448_ChaChaPoly_BLAKE2b",
	    "Noise_XK_25519_AESGCM_BLAKE2b",
	    "Noise_XK_25519_ChaChaPoly_BLAKE2s",
	    "Noise_XK_25519_ChaChaPoly_BLAKE2b_",
	    "Noise_XK_25519_ChaChaPoly_BLAKE2bx",
	    "Noise_XQ_25519_ChaChaPoly_SHA256",
	    "Noise_XKpsk4_25519_ChaChaPoly_SHA256", /* XK has 3 messages */
	    "Noise_XKpsk0+psk0_25519_ChaChaPoly_SHA256",
	    "Noise_XKpsk0+_25519_ChaChaPoly_SHA256",
	    "Noise_XKpsk_25519_ChaChaPoly_SHA256",
	    "Noise_XKpsk10_25519_ChaChaPoly_SHA256",
	    "Noise_XKfallback_25519_ChaChaPoly_SHA256",
	    "Noise_XKhfs_25519+Kyber1024_ChaChaPoly_SHA256",
	    "noise_XK_25519_ChaChaPoly_SHA256",
	    "Noise_XK1X_25519_ChaChaPoly_SHA256",
	};
	struct noise_hs *hs;

	for (size_t n = 0; n < sizeof(good) / sizeof(good[0]); n++) {
		hs = noise_hs_new(good[n], true, NULL, 0);
		cr_assert_not_null(hs, "%s refused", good[n]);
		noise_hs_free(hs);
	}
	for (size_t n = 0; n < sizeof(bad) / sizeof(bad[0]); n++)
		cr_assert_null(noise_hs_new(bad[n], true, NULL, 0),
			       "%s accepted", bad[n]);
	cr_assert_null(noise_hs_new(NULL, true, NULL, 0));
	cr_assert_null(noise_hs_new(XK, true, NULL, 5));
}

Test(noise, transport_tamper_kills_cipher)
{
	uint8_t key[32], ct[64], pt[64];
	struct noise_cipher *tx, *rx;
	size_t cl, pl;

	rand_bytes(key, sizeof(key));
	tx = noise_cipher_new(key);
	rx = noise_cipher_new(key);
	cr_assert_eq(noise_cipher_encrypt(tx, NULL, 0, (const uint8_t *)"abc",
					  3, ct, sizeof(ct), &cl),
		     0);
	ct[1] ^= 1;
	cr_assert_eq(
	    noise_cipher_decrypt(rx, NULL, 0, ct, cl, pt, sizeof(pt), &pl), -1);
	ct[1] ^= 1;
	/* Dead: even the genuine message is refused now. */
	cr_assert_eq(
	    noise_cipher_decrypt(rx, NULL, 0, ct, cl, pt, sizeof(pt), &pl), -1);
	cr_assert_eq(noise_cipher_rekey(rx), -1);
	noise_cipher_free(rx);
	/* Too short to hold a tag, and too long for Noise. */
	rx = noise_cipher_new(key);
	cr_assert_eq(
	    noise_cipher_decrypt(rx, NULL, 0, ct, 15, pt, sizeof(pt), &pl), -1);
	noise_cipher_free(rx);
	rx = noise_cipher_new(key);
	cr_assert_eq(noise_cipher_decrypt(rx, NULL, 0, ct, MAXM + 1, pt,
					  sizeof(pt), &pl),
		     -1);
	noise_cipher_free(rx);
	/* In place, with associated data. */
	rx = noise_cipher_new(key);
	memcpy(pt, "in place", 8);
	cr_assert_eq(noise_cipher_encrypt(tx, (const uint8_t *)"ad", 2, pt, 8,
					  pt, sizeof(pt), &cl),
		     0);
	cr_assert_eq(noise_cipher_set_nonce(rx, 1), 0);
	cr_assert_eq(noise_cipher_decrypt(rx, (const uint8_t *)"ad", 2, pt, cl,
					  pt, sizeof(pt), &pl),
		     0);
	cr_assert_eq(memcmp(pt, "in place", 8), 0);
	noise_cipher_free(tx);
	noise_cipher_free(rx);
}

Test(noise, nonce_exhaustion)
{
	uint8_t key[32], ct[64], pt[64];
	struct noise_cipher *tx, *rx;
	size_t cl, pl;

	rand_bytes(key, sizeof(key));
	tx = noise_cipher_new(key);
	rx = noise_cipher_new(key);
	cr_assert_eq(noise_cipher_set_nonce(tx, UINT64_MAX - 1), 0);
	cr_assert_eq(noise_cipher_set_nonce(rx, UINT64_MAX - 1), 0);
	/* 2^64-2 is the last usable nonce ... */
	cr_assert_eq(noise_cipher_encrypt(tx, NULL, 0, (const uint8_t *)"x", 1,
					  ct, sizeof(ct), &cl),
		     0);
	cr_assert_eq(
	    noise_cipher_decrypt(rx, NULL, 0, ct, cl, pt, sizeof(pt), &pl), 0);
	cr_assert_eq(noise_cipher_get_nonce(tx), UINT64_MAX);
	/* ... 2^64-1 is reserved (section 5.1). */
	cr_assert_eq(noise_cipher_encrypt(tx, NULL, 0, (const uint8_t *)"x", 1,
					  ct, sizeof(ct), &cl),
		     -1);
	cr_assert_eq(
	    noise_cipher_decrypt(rx, NULL, 0, ct, cl, pt, sizeof(pt), &pl), -1);
	noise_cipher_free(tx);
	noise_cipher_free(rx);
}

Test(noise, rekey)
{
	static const uint8_t zeros[32];
	uint8_t key[32], expect[48], nonce[12], ct[64], ct2[64], pt[64];
	struct noise_cipher *tx, *rx, *ref;
	size_t cl, cl2, pl;

	rand_bytes(key, sizeof(key));
	/* REKEY(k) computed independently: ENCRYPT(k, 2^64-1, "", zeros). */
	memset(nonce, 0, 4);
	memset(nonce + 4, 0xff, 8);
	crypto_aead_chacha20poly1305_ietf_encrypt(expect, NULL, zeros, 32, NULL,
						  0, NULL, nonce, key);
	tx = noise_cipher_new(key);
	rx = noise_cipher_new(key);
	ref = noise_cipher_new(expect);
	cr_assert_eq(noise_cipher_rekey(tx), 0);
	/* The nonce is kept; encryption now matches a cipher on k'. */
	cr_assert_eq(noise_cipher_encrypt(tx, NULL, 0, (const uint8_t *)"msg",
					  3, ct, sizeof(ct), &cl),
		     0);
	cr_assert_eq(noise_cipher_encrypt(ref, NULL, 0, (const uint8_t *)"msg",
					  3, ct2, sizeof(ct2), &cl2),
		     0);
	cr_assert_eq(cl, cl2);
	cr_assert_eq(memcmp(ct, ct2, cl), 0);
	/* A receiver that has not rekeyed cannot read it ... */
	cr_assert_eq(
	    noise_cipher_decrypt(rx, NULL, 0, ct, cl, pt, sizeof(pt), &pl), -1);
	noise_cipher_free(rx);
	/* ... one that has, can. */
	rx = noise_cipher_new(key);
	cr_assert_eq(noise_cipher_rekey(rx), 0);
	cr_assert_eq(
	    noise_cipher_decrypt(rx, NULL, 0, ct, cl, pt, sizeof(pt), &pl), 0);
	cr_assert_eq(memcmp(pt, "msg", 3), 0);
	cr_assert_eq(noise_cipher_get_nonce(rx), 1);
	noise_cipher_free(tx);
	noise_cipher_free(rx);
	noise_cipher_free(ref);
}

static size_t hook_calls, hook_dirty;

static void
wipe_hook(const void *p, size_t n)
{
	hook_calls++;
	if (!secret_is_zero(p, n))
		hook_dirty++;
}

Test(noise, secrets_wiped_on_free)
{
	struct noise_cipher *a, *b;
	struct noise_hs *i, *r;
	struct keys k;

	keys_make(&k);
	pair_new(XK, &k, &i, &r);
	step(i, r, "");
	step(r, i, "");
	step(i, r, "");
	cr_assert_eq(noise_hs_split(i, &a, &b), 0);
	hook_calls = hook_dirty = 0;
	secret_set_free_hook(wipe_hook);
	noise_hs_free(i);
	noise_hs_free(r);
	noise_cipher_free(a);
	noise_cipher_free(b);
	secret_set_free_hook(NULL);
	cr_assert_eq(hook_calls, 4);
	cr_assert_eq(hook_dirty, 0);
}

/* Every supported pattern completes with random keys, both ways round. */
Test(noise, every_pattern_round_trips)
{
	static const char *pats[] = {
	    "N",   "K",   "X",    "NN",          "NK",     "NX",  "XN",
	    "XK",  "XX",  "KN",   "KK",          "KX",     "IN",  "IK",
	    "IX",  "NK1", "NX1",  "X1N",         "X1K",    "XK1", "X1K1",
	    "X1X", "XX1", "X1X1", "K1N",         "K1K",    "KK1", "K1K1",
	    "K1X", "KX1", "K1X1", "I1N",         "I1K",    "IK1", "I1K1",
	    "I1X", "IX1", "I1X1", "NNpsk0+psk2", "XXpsk3",
	};
	char name[128];
	struct keys k;

	keys_make(&k);
	for (size_t p = 0; p < sizeof(pats) / sizeof(pats[0]); p++) {
		struct noise_hs *hs[2];
		size_t m = 0;

		snprintf(name, sizeof(name), "Noise_%s_25519_ChaChaPoly_SHA256",
			 pats[p]);
		pair_new(name, &k, &hs[0], &hs[1]);
		while (!noise_hs_done(hs[0])) {
			bool one_way = strlen(pats[p]) == 1;
			size_t s = one_way ? 0 : m % 2;

			cr_assert_lt(m, 4, "%s does not end", name);
			step(hs[s], hs[1 - s], "x");
			m++;
		}
		cr_assert(noise_hs_done(hs[1]), "%s", name);
		check_transport(hs[0], hs[1]);
		noise_hs_free(hs[0]);
		noise_hs_free(hs[1]);
	}
}
