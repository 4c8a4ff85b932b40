#ifndef BC_LIB_CODEC_H
#define BC_LIB_CODEC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Text encodings of bytes.  All run in time that depends only on the length,
 * never on the bytes (no secret-indexed tables, no secret-dependent branches),
 * because they carry key material: hex, base32 (RFC 4648 alphabet, written
 * lower-case without padding, read in either case) and base64 (RFC 4648 with
 * padding, strict: canonical input only).
 *
 * Encoders write a NUL-terminated string and need the *_ENCODED_LEN(n) + 1
 * bytes (-1 if out is too small).  Decoders write at most outcap bytes and set
 * *outlen; they return CODEC_OK (0) or a negative enum codec_err naming the
 * problem (with out zeroed); codec_strerror() gives it in words.
 */
enum codec_err {
	CODEC_OK = 0,
	CODEC_ERR_LENGTH = -1,       /* impossible length for the encoding */
	CODEC_ERR_CHAR = -2,         /* a character outside the alphabet */
	CODEC_ERR_NONCANONICAL = -3, /* nonzero padding bits */
	CODEC_ERR_SPACE = -4,        /* decodes to more than outcap bytes */
};

const char *codec_strerror(int err);

#define HEX_ENCODED_LEN(n)    ((n)*2)
#define BASE32_ENCODED_LEN(n) (((n)*8 + 4) / 5)
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

int hex_encode(char *out, size_t outcap, const void *in, size_t len);
int hex_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
	       size_t inlen);
int base32_encode(char *out, size_t outcap, const void *in, size_t len);
int base32_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
		  size_t inlen);
int base64_encode(char *out, size_t outcap, const void *in, size_t len);
int base64_decode(uint8_t *out, size_t outcap, size_t *outlen, const char *in,
		  size_t inlen);

/* Decodes exactly n bytes of hex (2n characters) or fails. */
int hex_decode_exact(uint8_t *out, size_t n, const char *in);

#endif
