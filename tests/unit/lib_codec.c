#include <criterion/criterion.h>
#include <string.h>

#include "lib/codec.h"

Test(codec, hex_round_trip_all_bytes)
{
	uint8_t in[256], back[256];
	char txt[513];
	size_t n;
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	cr_assert_eq(hex_encode(txt, sizeof(txt), in, sizeof(in)), 0);
	cr_assert_eq(strncmp(txt, "000102", 6), 0);
	cr_assert_eq(strcmp(txt + 500, "fafbfcfdfeff"), 0);
	cr_assert_eq(hex_decode(back, sizeof(back), &n, txt, 512), 0);
	cr_assert_eq(n, 256);
	cr_assert_arr_eq(in, back, 256);
}

Test(codec, hex_accepts_upper_case_rejects_garbage)
{
	uint8_t out[4];
	size_t n = 99;
	cr_assert_eq(hex_decode(out, 4, &n, "DEADbeef", 8), 0);
	cr_assert_eq(out[0], 0xde);
	cr_assert_eq(out[3], 0xef);
	cr_assert_eq(hex_decode(out, 4, &n, "abc", 3), CODEC_ERR_LENGTH, "odd length");
	cr_assert_eq(hex_decode(out, 4, &n, "zz", 2), CODEC_ERR_CHAR, "bad digit");
	cr_assert_eq(n, 0);
	cr_assert_eq(hex_decode(out, 4, &n, "0g", 2), CODEC_ERR_CHAR);
	cr_assert_eq(hex_decode(out, 4, &n, "/0", 2), CODEC_ERR_CHAR);
	cr_assert_eq(hex_decode(out, 4, &n, ":0", 2), CODEC_ERR_CHAR);
	cr_assert_eq(hex_decode(out, 4, &n, "`0", 2), CODEC_ERR_CHAR);
	cr_assert_eq(hex_decode(out, 2, &n, "00112233", 8), CODEC_ERR_SPACE, "too long");
	cr_assert_eq(hex_decode_exact(out, 2, "0011"), 0);
	cr_assert_eq(hex_decode_exact(out, 2, "001122"), -1);
	char small[4];
	cr_assert_eq(hex_encode(small, sizeof(small), "ab", 2), -1);
}

/* RFC 4648 section 10 test vectors (lower-case, unpadded for base32). */
Test(codec, rfc4648_vectors)
{
	static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba",
				   "foobar"};
	static const char *b32[] = {"",	    "my",	  "mzxq",
				    "mzxw6", "mzxw6yq",	  "mzxw6ytb",
				    "mzxw6ytboi"};
	static const char *b64[] = {"",	    "Zg==",	"Zm8=",	    "Zm9v",
				    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < 7; i++) {
		char t[32];
		uint8_t back[16];
		size_t n;
		size_t len = strlen(in[i]);
		cr_assert_eq(base32_encode(t, sizeof(t), in[i], len), 0);
		cr_assert_str_eq(t, b32[i]);
		cr_assert_eq(base32_decode(back, sizeof(back), &n, t,
					   strlen(t)),
			     0);
		cr_assert_eq(n, len);
		cr_assert_eq(memcmp(back, in[i], len), 0);
		cr_assert_eq(base64_encode(t, sizeof(t), in[i], len), 0);
		cr_assert_str_eq(t, b64[i]);
		cr_assert_eq(base64_decode(back, sizeof(back), &n, t,
					   strlen(t)),
			     0);
		cr_assert_eq(n, len);
		cr_assert_eq(memcmp(back, in[i], len), 0);
	}
}

Test(codec, base32_upper_case_and_rejections)
{
	uint8_t out[16];
	size_t n;
	cr_assert_eq(base32_decode(out, sizeof(out), &n, "MZXW6", 5), 0);
	cr_assert_eq(memcmp(out, "foo", 3), 0);
	cr_assert_eq(base32_decode(out, sizeof(out), &n, "mzxw1", 5), CODEC_ERR_CHAR,
		     "1 is not in the alphabet");
	cr_assert_eq(base32_decode(out, sizeof(out), &n, "m", 1), CODEC_ERR_LENGTH,
		     "impossible length");
	cr_assert_eq(base32_decode(out, sizeof(out), &n, "mz", 2), CODEC_ERR_NONCANONICAL,
		     "nonzero trailing bits");
	cr_assert_eq(base32_decode(out, sizeof(out), &n, "my=", 3), CODEC_ERR_LENGTH);
}

Test(codec, base64_rejections)
{
	uint8_t out[16];
	size_t n;
	cr_assert_eq(base64_decode(out, sizeof(out), &n, "Zg=", 3), CODEC_ERR_LENGTH);
	cr_assert_eq(base64_decode(out, sizeof(out), &n, "Zh==", 4), CODEC_ERR_NONCANONICAL,
		     "non-canonical trailing bits");
	cr_assert_eq(base64_decode(out, sizeof(out), &n, "Z===", 4), CODEC_ERR_CHAR);
	cr_assert_eq(base64_decode(out, sizeof(out), &n, "====", 4), CODEC_ERR_CHAR);
	cr_assert_eq(base64_decode(out, sizeof(out), &n, "Zg==Zg==", 8), CODEC_ERR_CHAR,
		     "padding in the middle");
	cr_assert_eq(base64_decode(out, sizeof(out), &n, "Zm9*", 4), CODEC_ERR_CHAR);
	cr_assert_eq(base64_decode(out, 2, &n, "Zm9v", 4), CODEC_ERR_SPACE, "too long");
	cr_assert_eq(base64_decode(out, sizeof(out), &n, "+/+/", 4), 0);
	cr_assert_eq(out[0], 0xfb);
	cr_assert_eq(out[1], 0xff);
	cr_assert_eq(out[2], 0xbf);
}

Test(codec, errors_have_words)
{
	cr_assert_str_eq(codec_strerror(CODEC_ERR_CHAR),
			 "character outside the alphabet");
	cr_assert_str_neq(codec_strerror(CODEC_ERR_LENGTH),
			  codec_strerror(CODEC_ERR_SPACE));
	cr_assert_str_eq(codec_strerror(-99), "unknown codec error");
}

Test(codec, base64_random_round_trips)
{
	uint32_t x = 12345;
	for (int len = 0; len < 100; len++) {
		uint8_t in[100], back[100];
		char t[200];
		size_t n;
		for (int i = 0; i < len; i++) {
			x = x * 1103515245 + 12345;
			in[i] = (uint8_t)(x >> 16);
		}
		cr_assert_eq(base64_encode(t, sizeof(t), in, (size_t)len), 0);
		cr_assert_eq(base64_decode(back, sizeof(back), &n, t,
					   strlen(t)),
			     0);
		cr_assert_eq(n, (size_t)len);
		cr_assert_eq(memcmp(in, back, (size_t)len), 0);
		cr_assert_eq(base32_encode(t, sizeof(t), in, (size_t)len), 0);
		cr_assert_eq(base32_decode(back, sizeof(back), &n, t,
					   strlen(t)),
			     0);
		cr_assert_eq(n, (size_t)len);
		cr_assert_eq(memcmp(in, back, (size_t)len), 0);
	}
}
