/*
 * docs/link.md, checked against an initiator written from the document
 * alone: the Noise library used directly (not link_sm), the prologue,
 * framing, handshake payload, command layout and rekey schedule spelled out
 * as bytes. If the code and the document ever disagree, this fails.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/noise.h"
#include "crypto/x25519.h"
#include "net/link_sm.h"

static uint8_t ipub[32], ipriv[32], rpub[32], rpriv[32];

struct resp {
	struct link_sm *sm;
	uint8_t out[8192];
	size_t out_len;
	int opened;
	uint64_t pkts;
	uint8_t last[4096];
};

static size_t cur_pl;

static void
r_send(void *ctx, const uint8_t *b, size_t n)
{
	struct resp *r = ctx;
	cr_assert_leq(r->out_len + n, sizeof(r->out));
	memcpy(r->out + r->out_len, b, n);
	r->out_len += n;
}

static void
r_open(void *ctx)
{
	((struct resp *)ctx)->opened++;
}

static enum link_err
r_cmd(void *ctx, const struct link_cmd *cmd)
{
	struct resp *r = ctx;
	if (cmd->type == LINK_CMD_SEND_PACKET) {
		r->pkts++;
		memcpy(r->last, cmd->u.packet.data, cmd->u.packet.len);
	}
	return LINK_OK;
}

static bool
r_auth(void *ctx, const uint8_t key[32])
{
	(void)ctx;
	return memcmp(key, ipub, 32) == 0;
}

/* The document's handshake, by hand; returns the initiator's ciphers. */
static void
doc_handshake(struct resp *r, size_t pl, struct noise_cipher **tx,
	      struct noise_cipher **rx)
{
	static const uint8_t prologue[18] = {
		0x62, 0x61, 0x63, 0x6b, 0x63, 0x68, 0x61, 0x6e, 0x6e,
		0x65, 0x6c, 0x2d, 0x6c, 0x69, 0x6e, 0x6b, 0x00, 0x01};
	cr_assert_eq(crypto_init(), 0);
	x25519_keypair(ipub, ipriv);
	x25519_keypair(rpub, rpriv);
	cur_pl = pl;
	struct link_sm_cfg c = {
		.static_priv = rpriv, .packet_len = pl, .auth = r_auth,
		.ops = {r_send, r_open, r_cmd}, .ops_ctx = r,
	};
	r->sm = link_sm_new(&c);
	cr_assert_not_null(r->sm);
	struct noise_hs *hs = noise_hs_new("Noise_XK_25519_ChaChaPoly_BLAKE2b",
					   true, prologue, sizeof(prologue));
	cr_assert_not_null(hs);
	cr_assert_eq(noise_hs_set_s(hs, ipriv), 0);
	cr_assert_eq(noise_hs_set_rs(hs, rpub), 0);
	uint8_t m[200];
	size_t n = 0;
	/* Message 1: 00 30 || e || tag. */
	cr_assert_eq(noise_hs_write(hs, NULL, 0, m + 2, sizeof(m) - 2, &n), 0);
	cr_assert_eq(n, 48);
	m[0] = 0x00;
	m[1] = 0x30;
	cr_assert_eq(link_sm_feed(r->sm, m, 50), LINK_OK);
	/* Message 2: 00 30 || e || tag, empty payload. */
	cr_assert_eq(r->out_len, 50);
	cr_assert_eq(r->out[0], 0x00);
	cr_assert_eq(r->out[1], 0x30);
	uint8_t pay[64];
	size_t plen = 99;
	cr_assert_eq(noise_hs_read(hs, r->out + 2, 48, pay, sizeof(pay), &plen),
		     0);
	cr_assert_eq(plen, 0);
	r->out_len = 0;
	/* Message 3: 00 44 || s || payload (role, 0, packet length). */
	uint8_t p3[4] = {0x02, 0x00, (uint8_t)(pl >> 8), (uint8_t)pl};
	cr_assert_eq(noise_hs_write(hs, p3, 4, m + 2, sizeof(m) - 2, &n), 0);
	cr_assert_eq(n, 68);
	m[0] = 0x00;
	m[1] = 0x44;
	cr_assert_eq(link_sm_feed(r->sm, m, 70), LINK_OK);
	cr_assert_eq(r->opened, 1);
	cr_assert_eq(link_sm_peer_role(r->sm), LINK_ROLE_NODE);
	cr_assert_eq(noise_hs_split(hs, tx, rx), 0);
	noise_hs_free(hs);
}

/* A SEND_PACKET frame as the document lays it out, sealed by hand. */
static void
doc_packet_frame(struct noise_cipher *tx, size_t pl, uint8_t fill,
		 uint8_t *wire)
{
	size_t plain = pl + 64;
	uint8_t *pt = calloc(1, plain);
	pt[0] = 0x01;
	pt[1] = (uint8_t)(pl >> 8);
	pt[2] = (uint8_t)pl;
	memset(pt + 3, fill, pl);
	size_t n = 0;
	cr_assert_eq(noise_cipher_encrypt(tx, NULL, 0, pt, plain, wire + 2,
					  plain + 16, &n), 0);
	cr_assert_eq(n, pl + 80);
	wire[0] = (uint8_t)(n >> 8);
	wire[1] = (uint8_t)n;
	free(pt);
}

Test(link_interop, handshake_and_frames_as_documented)
{
	struct resp *r = calloc(1, sizeof(*r));
	struct noise_cipher *tx, *rx;
	doc_handshake(r, 3082, &tx, &rx);
	uint8_t *wire = malloc(3164);
	doc_packet_frame(tx, 3082, 0x5c, wire);
	cr_assert_eq(wire[0], 0x0c);
	cr_assert_eq(wire[1], 0x5a, "3162-byte body");
	cr_assert_eq(link_sm_feed(r->sm, wire, 3164), LINK_OK);
	cr_assert_eq(r->pkts, 1);
	cr_assert_eq(r->last[0], 0x5c);
	cr_assert_eq(r->last[3081], 0x5c);
	/* The responder's NOOP: all-zero plaintext of 3146 bytes. */
	struct link_cmd noop = {.type = LINK_CMD_NOOP};
	cr_assert_eq(link_sm_seal(r->sm, &noop, wire), LINK_OK);
	cr_assert_eq(wire[0], 0x0c);
	cr_assert_eq(wire[1], 0x5a);
	uint8_t *pt = malloc(3146);
	size_t n = 0;
	cr_assert_eq(noise_cipher_decrypt(rx, NULL, 0, wire + 2, 3162, pt, 3146,
					  &n), 0);
	cr_assert_eq(n, 3146);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(pt[i], 0);
	free(pt);
	free(wire);
	noise_cipher_free(tx);
	noise_cipher_free(rx);
	link_sm_free(r->sm);
	free(r);
}

Test(link_interop, rekey_after_65536_frames)
{
	struct resp *r = calloc(1, sizeof(*r));
	struct noise_cipher *tx, *rx;
	doc_handshake(r, 64, &tx, &rx);
	uint8_t wire[64 + 82];
	for (uint32_t k = 1; k <= 65536; k++) {
		doc_packet_frame(tx, 64, (uint8_t)k, wire);
		if (link_sm_feed(r->sm, wire, sizeof(wire)) != LINK_OK)
			cr_assert_fail("frame %u refused", k);
	}
	cr_assert_eq(r->pkts, 65536);
	/* Frame 65537 goes under the rekeyed key, the nonce runs on. */
	cr_assert_eq(noise_cipher_rekey(tx), 0);
	cr_assert_eq(noise_cipher_get_nonce(tx), 65536);
	doc_packet_frame(tx, 64, 0xee, wire);
	cr_assert_eq(link_sm_feed(r->sm, wire, sizeof(wire)), LINK_OK);
	cr_assert_eq(r->pkts, 65537);
	cr_assert_eq(r->last[0], 0xee);
	noise_cipher_free(tx);
	noise_cipher_free(rx);
	link_sm_free(r->sm);
	free(r);
}

Test(link_interop, no_rekey_is_refused_after_65536)
{
	/* Without the rekey, frame 65537 must fail: the schedule is real. */
	struct resp *r = calloc(1, sizeof(*r));
	struct noise_cipher *tx, *rx;
	doc_handshake(r, 64, &tx, &rx);
	uint8_t wire[64 + 82];
	for (uint32_t k = 1; k <= 65536; k++) {
		doc_packet_frame(tx, 64, 1, wire);
		if (link_sm_feed(r->sm, wire, sizeof(wire)) != LINK_OK)
			cr_assert_fail("frame %u refused", k);
	}
	doc_packet_frame(tx, 64, 2, wire);
	cr_assert_eq(link_sm_feed(r->sm, wire, sizeof(wire)), LINK_ERR_DECRYPT);
	noise_cipher_free(tx);
	noise_cipher_free(rx);
	link_sm_free(r->sm);
	free(r);
}
