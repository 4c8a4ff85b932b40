/*
 * HMAC-SHA256 / HMAC-SHA512 against Wycheproof MacTest files. Groups with a
 * tagSize below the digest size hold truncated tags: the first tagSize/8
 * bytes of our tag are compared. "invalid" cases (modified tags) must not
 * match. Every case is also run through the incremental API in two pieces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/hmac.h"
#include "crypto/secret.h"

struct ctx {
	struct vec_tally t;
	int sha512;
	unsigned long truncated;
};

static void mac_pieces(int sha512, uint8_t *out, const uint8_t *key,
		       size_t keylen, const uint8_t *msg, size_t len)
{
	struct hmac_sha256_ctx c256;
	struct hmac_sha512_ctx c512;
	size_t half = len / 2;

	if (sha512) {
		hmac_sha512_init(&c512, key, keylen);
		hmac_sha512_update(&c512, msg, half);
		hmac_sha512_update(&c512, msg + half, len - half);
		hmac_sha512_final(&c512, out);
	} else {
		hmac_sha256_init(&c256, key, keylen);
		hmac_sha256_update(&c256, msg, half);
		hmac_sha256_update(&c256, msg + half, len - half);
		hmac_sha256_final(&c256, out);
	}
}

static void check(const json_t *g, const json_t *v, void *arg)
{
	struct ctx *x = arg;
	const char *res = vec_str(v, "result");
	uint8_t *key = NULL, *msg = NULL, *tag = NULL;
	size_t keylen, msglen, taglen, full = x->sha512 ? 64 : 32;
	uint8_t mac[64], mac2[64];
	long long id = -1, bits;
	bool match;

	(void)vec_int(v, "tcId", &id);
	if (vec_int(g, "tagSize", &bits) != 0 || bits % 8 != 0 ||
	    bits <= 0 || (size_t)bits / 8 > full || !res ||
	    vec_hex(v, "key", &key, &keylen) != 0 ||
	    vec_hex(v, "msg", &msg, &msglen) != 0 ||
	    vec_hex(v, "tag", &tag, &taglen) != 0) {
		vec_fail(&x->t, "tcId %lld: malformed vector", id);
		goto done;
	}
	if (x->sha512)
		hmac_sha512(mac, key, keylen, msg, msglen);
	else
		hmac_sha256(mac, key, keylen, msg, msglen);
	mac_pieces(x->sha512, mac2, key, keylen, msg, msglen);
	if (!vec_check(&x->t, secret_eq(mac, mac2, full),
		       "tcId %lld: incremental MAC differs", id))
		goto done;
	if ((size_t)bits / 8 < full)
		x->truncated++;
	match = taglen == (size_t)bits / 8 && secret_eq(mac, tag, taglen);
	if (strcmp(res, "valid") == 0)
		vec_check(&x->t, match, "tcId %lld: tag mismatch", id);
	else
		vec_check(&x->t, !match, "tcId %lld: %s tag accepted", id,
			  res);
done:
	free(key);
	free(msg);
	free(tag);
}

int main(int argc, char **argv)
{
	struct ctx x = { { 0, 0 }, 0, 0 };
	json_t *root = vec_start(argc, argv);
	const char *alg;

	if (!root)
		return 2;
	alg = vec_str(root, "algorithm");
	if (alg && strcmp(alg, "HMACSHA512") == 0)
		x.sha512 = 1;
	else if (!alg || strcmp(alg, "HMACSHA256") != 0)
		vec_fail(&x.t, "unsupported algorithm %s", alg ? alg : "(none)");
	if (vec_wycheproof_each(root, check, &x) != 0)
		vec_fail(&x.t, "malformed Wycheproof file");
	printf("%lu cases with truncated tags (prefix compared)\n",
	       x.truncated);
	json_decref(root);
	return vec_finish(&x.t);
}
