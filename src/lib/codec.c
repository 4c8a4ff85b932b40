#include "lib/codec.h"

#include <string.h>

const char *
codec_strerror(int err)
{
	switch (err) {
	case CODEC_OK:
		return "ok";
	case CODEC_ERR_LENGTH:
		return "impossible length for this encoding";
	case CODEC_ERR_CHAR:
		return "character outside the alphabet";
	case CODEC_ERR_NONCANONICAL:
		return "non-canonical encoding (nonzero padding bits)";
	case CODEC_ERR_SPACE:
		return "decoded value too long";
	default:
		return "unknown codec error";
	}
}

/*
 * The helpers below return 1 or 0 without branching on their argument:
 * x < y for 0 <= x, y < 2^31 is the sign bit of x - y.
 */
static uint32_t
ct_lt(uint32_t x, uint32_t y)
{
	return (x - y) >> 31;
}

static uint32_t
ct_in(uint32_t x, uint32_t lo, uint32_t hi)
{
	return (ct_lt(x, lo) ^ 1) & ct_lt(x, hi + 1);
}

static uint32_t
ct_mask(uint32_t bit)
{
	return 0U - bit;
}

static char
hex_char(uint32_t v)
{
	/* 0-9 -> '0'.., 10-15 -> 'a'.. */
	return (char)(v + 48 + (ct_mask(ct_lt(9, v)) & 39));
}

int
hex_encode(char *out, size_t outcap, const void *in, size_t len)
{
	const uint8_t *p = in;
	if (len > (SIZE_MAX - 1) / 2 || outcap < HEX_ENCODED_LEN(len) + 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_char(p[i] >> 4);
		out[2 * i + 1] = hex_char(p[i] & 15U);
	}
	out[2 * len] = '\0';
	return 0;
}

/* Returns the nibble of c, and clears *ok when c is no hex digit. */
static uint32_t
hex_value(uint8_t c, uint32_t *ok)
{
	uint32_t is_d = ct_in(c, '0', '9');
	uint32_t lc = c | 0x20U;
	uint32_t is_l = ct_in(lc, 'a', 'f');
	*ok &= is_d | is_l;
	return ((c - 48U) & ct_mask(is_d)) | ((lc - 87U) & ct_mask(is_l));
}

int
hex_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
	   size_t inlen)
{
	*outlen = 0;
	if (inlen % 2 != 0)
		return CODEC_ERR_LENGTH;
	if (inlen / 2 > outcap)
		return CODEC_ERR_SPACE;
	uint32_t ok = 1;
	for (size_t i = 0; i < inlen / 2; i++) {
		uint32_t hi = hex_value((uint8_t)in[2 * i], &ok);
		uint32_t lo = hex_value((uint8_t)in[2 * i + 1], &ok);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!ok) {
		memset(out, 0, inlen / 2);
		return CODEC_ERR_CHAR;
	}
	*outlen = inlen / 2;
	return CODEC_OK;
}

int
hex_decode_exact(uint8_t *out, size_t n, const char *in)
{
	size_t got;
	if (strlen(in) != 2 * n)
		return CODEC_ERR_LENGTH;
	return hex_decode(out, n, &got, in, 2 * n);
}

static char
base32_char(uint32_t v)
{
	/* 0-25 -> 'a'.., 26-31 -> '2'.. */
	return (char)(v + 97 - (ct_mask(ct_lt(25, v)) & 73));
}

int
base32_encode(char *out, size_t outcap, const void *in, size_t len)
{
	const uint8_t *p = in;
	if (len > SIZE_MAX / 8 - 1 || outcap < BASE32_ENCODED_LEN(len) + 1)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = base32_char((acc >> bits) & 31U);
		}
	}
	if (bits > 0)
		out[o++] = base32_char((acc << (5 - bits)) & 31U);
	out[o] = '\0';
	return 0;
}

static uint32_t
base32_value(uint8_t c, uint32_t *ok)
{
	uint32_t lc = c | 0x20U;
	uint32_t is_l = ct_in(lc, 'a', 'z');
	uint32_t is_d = ct_in(c, '2', '7');
	*ok &= is_l | is_d;
	return ((lc - 97U) & ct_mask(is_l)) | ((c - 24U) & ct_mask(is_d));
}

int
base32_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
	      size_t inlen)
{
	*outlen = 0;
	size_t n = inlen * 5 / 8;
	/* lengths 1, 3, 6 (mod 8) cannot come from whole bytes */
	size_t r = inlen % 8;
	if (r == 1 || r == 3 || r == 6)
		return CODEC_ERR_LENGTH;
	if (n > outcap)
		return CODEC_ERR_SPACE;
	uint32_t ok = 1, acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < inlen; i++) {
		acc = (acc << 5) | base32_value((uint8_t)in[i], &ok);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* leftover bits must be zero: one encoding per byte string */
	uint32_t canon = ct_lt(acc & ((1U << bits) - 1), 1);
	if (!(ok & canon)) {
		memset(out, 0, n);
		return ok ? CODEC_ERR_NONCANONICAL : CODEC_ERR_CHAR;
	}
	*outlen = n;
	return CODEC_OK;
}

static char
base64_char(uint32_t v)
{
	uint32_t c = v + 65;
	c += ct_mask(ct_lt(25, v)) & 6;
	c -= ct_mask(ct_lt(51, v)) & 75;
	c -= ct_mask(ct_lt(61, v)) & 15;
	c += ct_mask(ct_lt(62, v)) & 3;
	return (char)c;
}

int
base64_encode(char *out, size_t outcap, const void *in, size_t len)
{
	const uint8_t *p = in;
	if (len > SIZE_MAX / 2 || outcap < BASE64_ENCODED_LEN(len) + 1)
		return -1;
	size_t o = 0, i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v =
		    (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = base64_char(v >> 18);
		out[o++] = base64_char((v >> 12) & 63U);
		out[o++] = base64_char((v >> 6) & 63U);
		out[o++] = base64_char(v & 63U);
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = base64_char(v >> 18);
		out[o++] = base64_char((v >> 12) & 63U);
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = base64_char(v >> 18);
		out[o++] = base64_char((v >> 12) & 63U);
		out[o++] = base64_char((v >> 6) & 63U);
		out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

static uint32_t
base64_value(uint8_t c, uint32_t *ok)
{
	uint32_t up = ct_in(c, 'A', 'Z'), lo = ct_in(c, 'a', 'z');
	uint32_t dg = ct_in(c, '0', '9');
	uint32_t pl = ct_in(c, '+', '+'), sl = ct_in(c, '/', '/');
	*ok &= up | lo | dg | pl | sl;
	return ((c - 65U) & ct_mask(up)) | ((c - 71U) & ct_mask(lo)) |
	       ((c + 4U) & ct_mask(dg)) | (62U & ct_mask(pl)) |
	       (63U & ct_mask(sl));
}

int
base64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
	      size_t inlen)
{
	*outlen = 0;
	if (inlen % 4 != 0)
		return CODEC_ERR_LENGTH;
	/* Padding is public (it gives the length), so it may be branched on. */
	size_t pad = 0;
	if (inlen >= 4 && in[inlen - 1] == '=')
		pad = in[inlen - 2] == '=' ? 2 : 1;
	size_t n = inlen / 4 * 3 - pad;
	if (n > outcap)
		return CODEC_ERR_SPACE;
	uint32_t ok = 1, canon = 1;
	size_t o = 0;
	for (size_t i = 0; i < inlen; i += 4) {
		size_t valid = (i + 4 == inlen) ? 4 - pad : 4;
		uint32_t v = 0;
		for (size_t j = 0; j < 4; j++) {
			uint32_t x = j < valid
					 ? base64_value((uint8_t)in[i + j], &ok)
					 : 0;
			v = v << 6 | x;
		}
		uint8_t t[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8),
				(uint8_t)v};
		size_t take = valid - 1;
		if (valid == 4)
			take = 3;
		/* Non-canonical: the bits under the padding must be zero. */
		if (valid == 3)
			canon &= ct_lt(v & 0xffU, 1);
		if (valid == 2)
			canon &= ct_lt(v & 0xffffU, 1);
		memcpy(out + o, t, take);
		o += take;
	}
	if (!(ok & canon)) {
		memset(out, 0, n);
		return ok ? CODEC_ERR_NONCANONICAL : CODEC_ERR_CHAR;
	}
	*outlen = n;
	return CODEC_OK;
}
