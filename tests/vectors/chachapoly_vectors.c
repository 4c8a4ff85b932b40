/*
 * crypto/chachapoly.h against Wycheproof's ChaCha20-Poly1305 file:
 *
 *   chachapoly_vectors FILE --path=ctx|sodium
 *
 * --path=ctx sends every message, whatever its length, through the OpenSSL
 * context (the file's messages are all shorter than CHACHAPOLY_CTX_MIN, so
 * by default they would take the libsodium path); --path=sodium through
 * libsodium. "valid" cases must seal to exactly ct || tag and open back, out
 * of place and in place; "invalid" ones (modified tags, ciphertexts) must be
 * refused with the output all zeros. Groups with another nonce size than 96
 * bits are not this function's and are counted as skipped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/chachapoly.h"
#include "crypto/secret.h"

#include "common/vecfile.h"

struct ctx {
	struct vec_tally t;
	struct chachapoly *cp;
	unsigned long skipped;
};

struct tc {
	uint8_t key[32], nonce[12];
	uint8_t *msg, *ad, *ct, *tag;
	size_t msglen, adlen, ctlen, taglen;
};

static void
tc_free(struct tc *c)
{
	free(c->msg);
	free(c->ad);
	free(c->ct);
	free(c->tag);
}

/* Seal out of place and in place; both must give ct || tag. */
static void
check_seal(struct ctx *x, const struct tc *c, uint8_t *box, long long id)
{
	size_t n = c->msglen;

	chachapoly_seal(x->cp, c->key, c->nonce, c->ad, c->adlen, c->msg, n,
			box);
	vec_check(&x->t,
		  memcmp(box, c->ct, n) == 0 &&
		      memcmp(box + n, c->tag, 16) == 0,
		  "tcId %lld: seal differs", id);
	memcpy(box, c->msg, n);
	chachapoly_seal(x->cp, c->key, c->nonce, c->ad, c->adlen, box, n, box);
	vec_check(&x->t,
		  memcmp(box, c->ct, n) == 0 &&
		      memcmp(box + n, c->tag, 16) == 0,
		  "tcId %lld: in-place seal differs", id);
}

/* Open ct || tag out of place and in place. */
static void
check_open(struct ctx *x, const struct tc *c, bool valid, uint8_t *box,
	   uint8_t *out, long long id)
{
	size_t n = c->ctlen;
	int r;

	memcpy(box, c->ct, n);
	memcpy(box + n, c->tag, c->taglen);
	memset(out, 0xa5, n + 1);
	r = chachapoly_open(x->cp, c->key, c->nonce, c->ad, c->adlen, box,
			    n + c->taglen, n > 0 ? out : NULL);
	if (valid)
		vec_check(&x->t, r == 0 && memcmp(out, c->msg, n) == 0,
			  "tcId %lld: open failed or differs", id);
	else
		vec_check(&x->t, r == -1 && secret_is_zero(out, n),
			  "tcId %lld: invalid case opened or left output", id);
	r = chachapoly_open(x->cp, c->key, c->nonce, c->ad, c->adlen, box,
			    n + c->taglen, n > 0 ? box : NULL);
	if (valid)
		vec_check(&x->t, r == 0 && memcmp(box, c->msg, n) == 0,
			  "tcId %lld: in-place open failed or differs", id);
	else
		vec_check(&x->t, r == -1 && secret_is_zero(box, n),
			  "tcId %lld: invalid case opened in place", id);
}

static void
check(const json_t *g, const json_t *v, void *arg)
{
	struct ctx *x = arg;
	const char *res = vec_str(v, "result");
	struct tc c = {.msg = NULL};
	long long id = -1, ivbits = 0;
	uint8_t *box = NULL, *out = NULL;

	(void)vec_int(v, "tcId", &id);
	if (vec_int(g, "ivSize", &ivbits) == 0 && ivbits != 96) {
		x->skipped++;
		return;
	}
	if (res == NULL || vec_hex_fixed(v, "key", c.key, 32) != 0 ||
	    vec_hex_fixed(v, "iv", c.nonce, 12) != 0 ||
	    vec_hex(v, "msg", &c.msg, &c.msglen) != 0 ||
	    vec_hex(v, "aad", &c.ad, &c.adlen) != 0 ||
	    vec_hex(v, "ct", &c.ct, &c.ctlen) != 0 ||
	    vec_hex(v, "tag", &c.tag, &c.taglen) != 0 || c.ctlen != c.msglen ||
	    c.taglen != 16) {
		vec_fail(&x->t, "tcId %lld: malformed vector", id);
		goto done;
	}
	box = malloc(c.msglen + 16);
	out = malloc(c.msglen + 1);
	if (box == NULL || out == NULL) {
		vec_fail(&x->t, "tcId %lld: out of memory", id);
		goto done;
	}
	if (strcmp(res, "valid") == 0)
		check_seal(x, &c, box, id);
	check_open(x, &c, strcmp(res, "valid") == 0, box, out, id);
done:
	free(box);
	free(out);
	tc_free(&c);
}

int
main(int argc, char **argv)
{
	struct ctx x = {.t = {0, 0}, .cp = NULL, .skipped = 0};
	json_t *root;

	if (argc != 3 || (strcmp(argv[2], "--path=ctx") != 0 &&
			  strcmp(argv[2], "--path=sodium") != 0)) {
		fprintf(stderr, "usage: %s FILE --path=ctx|sodium\n", argv[0]);
		return 2;
	}
	root = vec_start(argc, argv);
	if (root == NULL)
		return 2;
	chachapoly_set_ctx_min(strcmp(argv[2], "--path=ctx") == 0 ? 0
								  : SIZE_MAX);
	x.cp = chachapoly_new();
	if (vec_wycheproof_each(root, check, &x) != 0)
		vec_fail(&x.t, "malformed Wycheproof file");
	printf("path %s; %lu cases of other nonce sizes skipped\n", argv[2] + 7,
	       x.skipped);
	CHACHAPOLY_FREE(x.cp);
	json_decref(root);
	return vec_finish(&x.t);
}
