/*
 * X25519 against Wycheproof XdhComp files. A computed result must equal
 * "shared". libsodium refuses an all-zero result (low-order public keys):
 * such a refusal passes when the expected shared secret is all zeros (an
 * expected rejection, counted and printed), and fails otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

struct ctx {
	struct vec_tally t;
	unsigned long rejected;   /* expected rejections (all-zero output) */
	unsigned long acceptable; /* "acceptable" cases that matched */
};

static void check(const json_t *g, const json_t *v, void *arg)
{
	struct ctx *x = arg;
	const char *res = vec_str(v, "result");
	uint8_t priv[32], pub[32], want[32], out[32];
	long long id = -1;
	int rc;

	(void)g;
	(void)vec_int(v, "tcId", &id);
	if (!res || vec_hex_fixed(v, "private", priv, 32) != 0 ||
	    vec_hex_fixed(v, "public", pub, 32) != 0 ||
	    vec_hex_fixed(v, "shared", want, 32) != 0) {
		/* Wrong-length keys are not X25519 inputs at all. */
		vec_check(&x->t, res && strcmp(res, "invalid") == 0,
			  "tcId %lld: malformed vector", id);
		return;
	}
	rc = x25519(out, priv, pub);
	if (rc != 0) {
		if (vec_check(&x->t, secret_is_zero(want, 32),
			      "tcId %lld: rejected, expected a result", id))
			x->rejected++;
		return;
	}
	if (strcmp(res, "invalid") == 0) {
		vec_check(&x->t, !secret_eq(out, want, 32),
			  "tcId %lld: invalid case produced its result", id);
		return;
	}
	if (vec_check(&x->t, secret_eq(out, want, 32),
		      "tcId %lld: shared secret mismatch (%s)", id, res) &&
	    strcmp(res, "acceptable") == 0)
		x->acceptable++;
}

int main(int argc, char **argv)
{
	struct ctx x = { { 0, 0 }, 0, 0 };
	json_t *root = vec_start(argc, argv);

	if (!root)
		return 2;
	if (vec_wycheproof_each(root, check, &x) != 0)
		vec_fail(&x.t, "malformed Wycheproof file");
	printf("%lu expected rejections (all-zero shared secret refused), "
	       "%lu acceptable cases computed as listed\n",
	       x.rejected, x.acceptable);
	json_decref(root);
	return vec_finish(&x.t);
}
