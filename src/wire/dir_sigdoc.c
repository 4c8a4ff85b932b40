/* Signature document codec: see dir_sigdoc.h. */
#include "wire/dir_sigdoc.h"

#include <string.h>

#include "lib/codec.h"

#include "wire/dir_text.h"

static const char *const sig_keys[] = {
    "backchannel-signature", "epoch", "consensus-hash",
    "authority-signature",   NULL,
};

int
dir_sigdoc_encode(const struct dir_sigdoc *s, struct buf *b)
{
	char hex[65], id[100], sig[100];

	if (s->epoch > DIR_EPOCH_MAX ||
	    hex_encode(hex, sizeof(hex), s->hash, 32) < 0)
		return -1;
	dir_b64(id, sizeof(id), s->sig.authority, DIR_KEY_LEN);
	dir_b64(sig, sizeof(sig), s->sig.sig, DIR_SIG_LEN);
	buf_printf(b, "backchannel-signature 1\n");
	dir_put_u64(b, "epoch", s->epoch);
	buf_printf(b, "consensus-hash %s\n", hex);
	buf_printf(b, "authority-signature %s %s\n", id, sig);
	return 0;
}

static int
parse_hash(struct dir_cursor *c, const char *v, size_t n, uint8_t out[32])
{
	char again[65];
	size_t got = 0;

	/* Lower-case only: one spelling per hash. */
	if (n != 64 || hex_decode(out, 32, &got, v, 64) < 0 || got != 32 ||
	    hex_encode(again, sizeof(again), out, 32) < 0 ||
	    memcmp(again, v, 64) != 0)
		return dir_cursor_fail(c, "consensus-hash must be 64 "
					  "lower-case hex digits");
	return 0;
}

int
dir_sigdoc_parse(const char *text, size_t len, struct dir_sigdoc *out,
		 char *err, size_t errlen)
{
	struct dir_cursor c;
	const char *v, *t;
	size_t n, hn, tn;

	memset(out, 0, sizeof(*out));
	dir_cursor_init(&c, text, len, sig_keys, err, errlen);
	if (len > DIR_SIGDOC_MAX)
		return dir_cursor_fail(&c,
				       "signature document longer than "
				       "%d bytes",
				       DIR_SIGDOC_MAX);
	if (dir_cursor_expect(&c, "backchannel-signature", &v, &n) < 0)
		return -1;
	if (!dir_value_is(v, n, "1"))
		return dir_cursor_fail(&c, "unsupported signature version");
	if (dir_cursor_expect(&c, "epoch", &v, &n) < 0 ||
	    dir_parse_u64(&c, v, n, DIR_EPOCH_MAX, &out->epoch) < 0)
		return -1;
	if (dir_cursor_expect(&c, "consensus-hash", &v, &n) < 0 ||
	    parse_hash(&c, v, n, out->hash) < 0)
		return -1;
	if (dir_cursor_expect(&c, "authority-signature", &v, &n) < 0)
		return -1;
	if (dir_split(v, n, &hn, &t, &tn) < 0)
		return dir_cursor_fail(&c, "authority-signature needs "
					   "'KEY SIGNATURE'");
	if (dir_parse_key(&c, v, hn, out->sig.authority, DIR_KEY_LEN) < 0 ||
	    dir_parse_key(&c, t, tn, out->sig.sig, DIR_SIG_LEN) < 0)
		return -1;
	if (!dir_cursor_done(&c)) {
		c.line++;
		return dir_cursor_fail(&c, "trailing data after "
					   "authority-signature");
	}
	return 0;
}
