/*
 * Invitation line: round trip, every single-character alteration refused
 * with a clear error, truncation, case folding, strict fields.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/codec.h"

#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/rand.h"

#include "wire/invite.h"

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(invite, .init = setup);

static void
sample(struct invite *inv)
{
	memset(inv, 0, sizeof(*inv));
	rand_bytes(inv->gw.key, 32);
	memcpy(inv->gw.host, "gw1.example.net", 15);
	inv->gw.port = 29483;
	rand_bytes(inv->queue_id, 32);
	rand_bytes(inv->otk_pub, 32);
	rand_bytes(inv->secret, 16);
	inv->expiry = 1795000000;
	memcpy(inv->name, "Zoë from work", strlen("Zoë from work"));
}

static void
assert_same_invite(const struct invite *a, const struct invite *b)
{
	cr_assert(memcmp(a->gw.key, b->gw.key, 32) == 0);
	cr_assert_str_eq(a->gw.host, b->gw.host);
	cr_assert_eq(a->gw.port, b->gw.port);
	cr_assert(memcmp(a->queue_id, b->queue_id, 32) == 0);
	cr_assert(memcmp(a->otk_pub, b->otk_pub, 32) == 0);
	cr_assert(memcmp(a->secret, b->secret, 16) == 0);
	cr_assert_eq(a->expiry, b->expiry);
	cr_assert_str_eq(a->name, b->name);
}

Test(invite, round_trip_and_size)
{
	struct invite a, b;
	char line[INVITE_TEXT_MAX];

	sample(&a);
	cr_assert_eq(invite_encode(&a, line, sizeof(line)), 0);
	cr_assert(strncmp(line, "bc1", 3) == 0);
	cr_assert_lt(strlen(line), 300, "compact: %zu chars", strlen(line));
	for (size_t i = 3; line[i]; i++)
		cr_assert(strchr("abcdefghijklmnopqrstuvwxyz234567", line[i]),
			  "one pasteable line of base32");
	cr_assert_eq(invite_decode(line, strlen(line), &b), INVITE_OK);
	assert_same_invite(&a, &b);
	/* upper case (retyped from a screen) is the same invitation */
	for (size_t i = 0; line[i]; i++)
		if (line[i] >= 'a' && line[i] <= 'z')
			line[i] = (char)(line[i] - 'a' + 'A');
	cr_assert_eq(invite_decode(line, strlen(line), &b), INVITE_OK);
	assert_same_invite(&a, &b);
	/* the longest invitation fits INVITE_TEXT_MAX */
	memset(a.gw.host, 'h', E2E_HOST_MAX);
	memset(a.name, 'n', E2E_NAME_MAX);
	cr_assert_eq(invite_encode(&a, line, sizeof(line)), 0);
	cr_assert_eq(invite_decode(line, strlen(line), &b), INVITE_OK);
	assert_same_invite(&a, &b);
	cr_assert_eq(invite_encode(&a, line, strlen(line)), -1, "cap short");
}

Test(invite, every_single_character_change_refused)
{
	struct invite a, b;
	char line[INVITE_TEXT_MAX], bad[INVITE_TEXT_MAX];
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	size_t len, checksum = 0, encoding = 0, prefix = 0;

	sample(&a);
	cr_assert_eq(invite_encode(&a, line, sizeof(line)), 0);
	len = strlen(line);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(alpha) - 1; k++) {
			if (alpha[k] == line[i])
				continue;
			memcpy(bad, line, len + 1);
			bad[i] = alpha[k];
			enum invite_err e = invite_decode(bad, len, &b);
			cr_assert_neq(e, INVITE_OK, "pos %zu -> %c accepted", i,
				      alpha[k]);
			cr_assert_str_neq(invite_strerror(e), "ok");
			checksum += e == INVITE_ERR_CHECKSUM;
			encoding += e == INVITE_ERR_ENCODING;
			prefix += e == INVITE_ERR_PREFIX;
			cr_assert_eq(b.expiry, 0, "zeroed on error");
		}
	}
	cr_assert_gt(checksum, 0);
	cr_assert_gt(prefix, 0);
	/* the last character carries unused bits: those are encoding errors */
	cr_assert_gt(encoding, 0);
	cr_assert_str_eq(invite_strerror(INVITE_ERR_CHECKSUM),
			 "invitation damaged: checksum mismatch (a typo?)");
}

Test(invite, truncated_extended_and_junk)
{
	struct invite a, b;
	char line[INVITE_TEXT_MAX + 8];
	size_t len;

	sample(&a);
	cr_assert_eq(invite_encode(&a, line, sizeof(line)), 0);
	len = strlen(line);
	for (size_t n = 0; n < len; n++)
		cr_assert_neq(invite_decode(line, n, &b), INVITE_OK, "%zu", n);
	cr_assert_eq(invite_decode(line, 2, &b), INVITE_ERR_PREFIX);
	line[len] = 'a';
	cr_assert_neq(invite_decode(line, len + 1, &b), INVITE_OK);
	line[len] = '\n';
	cr_assert_eq(invite_decode(line, len + 1, &b), INVITE_ERR_ENCODING);
	cr_assert_eq(invite_decode("hello", 5, &b), INVITE_ERR_PREFIX);
	cr_assert_eq(invite_decode("bc1", 3, &b), INVITE_ERR_FORMAT);
	cr_assert_eq(invite_decode("bc1!!!!!!!!", 11, &b), INVITE_ERR_ENCODING);
}

/* Build a line from raw body bytes (a valid checksum appended). */
static void
line_from_body(char *line, size_t cap, const struct buf *body)
{
	uint8_t bin[INVITE_BIN_MAX + 64], sum[32];

	memcpy(bin, body->data, body->len);
	sha256(sum, body->data, body->len);
	memcpy(bin + body->len, sum, 4);
	memcpy(line, "bc1", 3);
	cr_assert_eq(base32_encode(line + 3, cap - 3, bin, body->len + 4), 0);
}

Test(invite, strict_fields_behind_a_valid_checksum)
{
	struct invite a, b;
	struct buf body;
	char line[INVITE_TEXT_MAX + 128];
	uint8_t zero[32] = {0};

	sample(&a);
	/* version 2 */
	buf_init(&body);
	buf_append_u8(&body, 2);
	e2e_gateway_put(&body, &a.gw);
	line_from_body(line, sizeof(line), &body);
	cr_assert_eq(invite_decode(line, strlen(line), &b), INVITE_ERR_VERSION);
	/* port 0 */
	buf_reset(&body);
	buf_append_u8(&body, 1);
	a.gw.port = 0;
	e2e_gateway_put(&body, &a.gw);
	a.gw.port = 1;
	line_from_body(line, sizeof(line), &body);
	cr_assert_eq(invite_decode(line, strlen(line), &b), INVITE_ERR_GATEWAY);
	/* bad host character */
	buf_reset(&body);
	buf_append_u8(&body, 1);
	buf_append(&body, a.gw.key, 32);
	buf_append_u8(&body, 3);
	buf_append(&body, "a/b", 3);
	buf_append_u16be(&body, 80);
	line_from_body(line, sizeof(line), &body);
	cr_assert_eq(invite_decode(line, strlen(line), &b), INVITE_ERR_GATEWAY);
	/* name not UTF-8, then a zero one-time key, then trailing bytes */
	for (int c = 0; c < 3; c++) {
		buf_reset(&body);
		buf_append_u8(&body, 1);
		e2e_gateway_put(&body, &a.gw);
		buf_append(&body, a.queue_id, 32);
		buf_append(&body, c == 1 ? zero : a.otk_pub, 32);
		buf_append(&body, a.secret, 16);
		buf_append_u64be(&body, a.expiry);
		buf_append_u8(&body, 2);
		buf_append(&body, c == 0 ? "\xc3\x28" : "ok", 2);
		if (c == 2)
			buf_append_u8(&body, 0);
		line_from_body(line, sizeof(line), &body);
		cr_assert_eq(invite_decode(line, strlen(line), &b),
			     c == 0   ? INVITE_ERR_NAME
			     : c == 1 ? INVITE_ERR_KEY
				      : INVITE_ERR_FORMAT,
			     "case %d", c);
	}
	buf_free(&body);
	/* the encoder refuses what the decoder would */
	sample(&a);
	a.name[0] = '\0';
	cr_assert_eq(invite_encode(&a, line, sizeof(line)), -1);
	sample(&a);
	memset(a.otk_pub, 0, 32);
	cr_assert_eq(invite_encode(&a, line, sizeof(line)), -1);
}
