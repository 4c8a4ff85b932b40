/*
 * End-to-end codecs: hello and welcome payloads, frames, padded plaintext
 * (size classes, zero padding, one encoding), names and hosts.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"

#include "crypto/crypto.h"
#include "crypto/rand.h"

#include "wire/e2e_msg.h"

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(e2e_msg, .init = setup);

static void
hello_sample(struct e2e_hello *h)
{
	memset(h, 0, sizeof(*h));
	rand_bytes(h->identity_pub, 32);
	rand_bytes(h->gw.key, 32);
	memcpy(h->gw.host, "10.1.2.3", 8);
	h->gw.port = 443;
	rand_bytes(h->reply_queue, 32);
	memcpy(h->name, "Bob", 3);
	rand_bytes(h->msg_id, 16);
}

Test(e2e_msg, hello_round_trip_and_strictness)
{
	struct e2e_hello h, g;
	struct buf b;

	hello_sample(&h);
	buf_init(&b);
	cr_assert_eq(e2e_hello_encode(&h, &b), 0);
	cr_assert_eq(b.len, 1 + 32 + 32 + 1 + 8 + 2 + 32 + 1 + 3 + 16);
	cr_assert_eq(e2e_hello_decode(b.data, b.len, &g), E2E_OK);
	cr_assert(memcmp(&h, &g, sizeof(h)) == 0);
	for (size_t n = 0; n < b.len; n++)
		cr_assert_neq(e2e_hello_decode(b.data, n, &g), E2E_OK, "%zu",
			      n);
	buf_append_u8(&b, 0);
	cr_assert_eq(e2e_hello_decode(b.data, b.len, &g), E2E_ERR_TRAILING);
	b.len--;
	b.data[0] = 2;
	cr_assert_eq(e2e_hello_decode(b.data, b.len, &g), E2E_ERR_VERSION);
	b.data[0] = 1;
	b.data[1 + 32 + 32 + 1 + 2] = '_'; /* host character */
	cr_assert_eq(e2e_hello_decode(b.data, b.len, &g), E2E_ERR_HOST);
	cr_assert_eq(g.gw.port, 0, "zeroed on error");
	buf_free(&b);
	/* encoder refuses invalid fields */
	buf_init(&b);
	h.gw.port = 0;
	cr_assert_eq(e2e_hello_encode(&h, &b), -1);
	h.gw.port = 1;
	h.name[0] = '\n';
	cr_assert_eq(e2e_hello_encode(&h, &b), -1);
	cr_assert_eq(b.len, 0);
	buf_free(&b);
}

Test(e2e_msg, names)
{
	cr_assert(e2e_name_valid("Zoë", strlen("Zoë")));
	cr_assert(e2e_name_valid("日本語", strlen("日本語")));
	cr_assert(e2e_name_valid("\xf0\x9f\x98\x80", 4)); /* emoji */
	cr_assert_not(e2e_name_valid("", 0));
	cr_assert_not(e2e_name_valid("a\x01", 2));
	cr_assert_not(e2e_name_valid("a\x7f", 2));
	cr_assert_not(e2e_name_valid("\xc0\xaf", 2), "overlong");
	cr_assert_not(e2e_name_valid("\xed\xa0\x80", 3), "surrogate");
	cr_assert_not(e2e_name_valid("\xf4\x90\x80\x80", 4), "> U+10FFFF");
	cr_assert_not(e2e_name_valid("\xc2\x85", 2), "C1 control");
	cr_assert_not(e2e_name_valid("\xe6\x97", 2), "cut sequence");
	cr_assert_not(e2e_name_valid("\xff", 1));
	char n65[65];
	memset(n65, 'a', 65);
	cr_assert(e2e_name_valid(n65, 64));
	cr_assert_not(e2e_name_valid(n65, 65));
}

Test(e2e_msg, welcome_round_trip)
{
	struct e2e_welcome w, v;
	uint8_t enc[E2E_WELCOME_LEN + 1];

	rand_bytes(&w, sizeof(w));
	e2e_welcome_encode(&w, enc);
	cr_assert_eq(e2e_welcome_decode(enc, E2E_WELCOME_LEN, &v), E2E_OK);
	cr_assert(memcmp(&w, &v, sizeof(w)) == 0);
	cr_assert_eq(e2e_welcome_decode(enc, E2E_WELCOME_LEN - 1, &v),
		     E2E_ERR_TRUNCATED);
	cr_assert_eq(e2e_welcome_decode(enc, E2E_WELCOME_LEN + 1, &v),
		     E2E_ERR_TRAILING);
	enc[0] = 9;
	cr_assert_eq(e2e_welcome_decode(enc, E2E_WELCOME_LEN, &v),
		     E2E_ERR_VERSION);
	cr_assert_eq(e2e_welcome_decode(enc, 0, &v), E2E_ERR_TRUNCATED);
}

Test(e2e_msg, padding_classes)
{
	struct buf b;
	struct e2e_plain p;
	uint8_t id[16], content[E2E_CONTENT_MAX + 1];

	rand_bytes(id, 16);
	rand_bytes(content, sizeof(content));
	cr_assert_eq(e2e_pad_size(0), 256);
	cr_assert_eq(e2e_pad_size(256 - E2E_PLAIN_HDR_LEN), 256);
	cr_assert_eq(e2e_pad_size(256 - E2E_PLAIN_HDR_LEN + 1), 1024);
	cr_assert_eq(e2e_pad_size(E2E_CONTENT_MAX), 65536);
	cr_assert_eq(e2e_pad_size(E2E_CONTENT_MAX + 1), 0);
	static const size_t lens[] = {0,    1,    235,  236,
				      1003, 1004, 5000, E2E_CONTENT_MAX};
	static const size_t want[] = {256,  256,  256,   1024,
				      1024, 4096, 16384, 65536};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		buf_init(&b);
		cr_assert_eq(
		    e2e_plain_encode(E2E_KIND_TEXT, id, content, lens[i], &b),
		    0);
		cr_assert_eq(b.len, want[i], "len %zu", lens[i]);
		cr_assert_eq(e2e_plain_decode(b.data, b.len, &p), E2E_OK);
		cr_assert_eq(p.kind, E2E_KIND_TEXT);
		cr_assert_eq(p.content_len, lens[i]);
		cr_assert(memcmp(p.content, content, lens[i]) == 0);
		cr_assert(memcmp(p.msg_id, id, 16) == 0);
		buf_free(&b);
	}
	buf_init(&b);
	cr_assert_eq(e2e_plain_encode(E2E_KIND_TEXT, id, content,
				      E2E_CONTENT_MAX + 1, &b),
		     -1);
	cr_assert_eq(e2e_plain_encode((enum e2e_kind)9, id, content, 1, &b),
		     -1);
	cr_assert_eq(b.len, 0);
	/* strictness */
	cr_assert_eq(e2e_plain_encode(E2E_KIND_READ, id, content, 10, &b), 0);
	cr_assert_eq(e2e_plain_decode(b.data, 255, &p), E2E_ERR_SIZE);
	b.data[255] = 1;
	cr_assert_eq(e2e_plain_decode(b.data, 256, &p), E2E_ERR_PADDING);
	b.data[255] = 0;
	b.data[0] = 0;
	cr_assert_eq(e2e_plain_decode(b.data, 256, &p), E2E_ERR_KIND);
	b.data[0] = E2E_KIND_READ;
	b.data[1 + 16 + 3] = 236; /* longer than the class holds */
	cr_assert_eq(e2e_plain_decode(b.data, 256, &p), E2E_ERR_SIZE);
	buf_free(&b);
	/* a short content in a bigger class than needed: refused */
	buf_init(&b);
	cr_assert_eq(e2e_plain_encode(E2E_KIND_TEXT, id, content, 10, &b), 0);
	buf_reserve(&b, 1024);
	memset(b.data + 256, 0, 768);
	b.len = 1024;
	cr_assert_eq(e2e_plain_decode(b.data, 1024, &p), E2E_ERR_SIZE);
	buf_free(&b);
}

Test(e2e_msg, frames)
{
	struct e2e_frame f;
	uint8_t in[1 + 80 + 1024 + 16 + 8];

	memset(in, 0, sizeof(in));
	cr_assert_eq(e2e_frame_parse(in, 0, &f), E2E_ERR_TRUNCATED);
	in[0] = 7;
	cr_assert_eq(e2e_frame_parse(in, 10, &f), E2E_ERR_TYPE);
	in[0] = E2E_FRAME_RATCHET;
	cr_assert_eq(e2e_frame_parse(in, 1 + 80 + 256 + 16, &f), E2E_OK);
	cr_assert_eq(f.hdr, in + 1);
	cr_assert_eq(f.body, in + 81);
	cr_assert_eq(f.body_len, 256 + 16);
	cr_assert_eq(e2e_frame_parse(in, 1 + 80 + 1024 + 16, &f), E2E_OK);
	cr_assert_eq(e2e_frame_parse(in, 1 + 80 + 300 + 16, &f), E2E_ERR_SIZE);
	cr_assert_eq(e2e_frame_parse(in, 50, &f), E2E_ERR_TRUNCATED);
	in[0] = E2E_FRAME_WELCOME;
	cr_assert_eq(e2e_frame_parse(in, 1 + E2E_WELCOME_NOISE_LEN, &f),
		     E2E_OK);
	cr_assert_eq(f.noise_len, E2E_WELCOME_NOISE_LEN);
	cr_assert_eq(e2e_frame_parse(in, E2E_WELCOME_NOISE_LEN, &f),
		     E2E_ERR_TRUNCATED);
	cr_assert_eq(e2e_frame_parse(in, 2 + E2E_WELCOME_NOISE_LEN, &f),
		     E2E_ERR_TRAILING);
	in[0] = E2E_FRAME_HELLO;
	cr_assert_eq(e2e_frame_parse(in, 1 + E2E_HELLO_NOISE_MIN, &f), E2E_OK);
	cr_assert_eq(e2e_frame_parse(in, E2E_HELLO_NOISE_MIN, &f),
		     E2E_ERR_TRUNCATED);
	cr_assert_eq(e2e_frame_parse(in, 2 + E2E_HELLO_NOISE_MAX, &f),
		     E2E_ERR_SIZE);
	cr_assert_str_eq(e2e_strerror(E2E_ERR_PADDING), "padding not zero");
}
