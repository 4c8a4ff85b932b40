/*
 * Ed25519 verification against Wycheproof EddsaVerify files: "valid" must
 * verify, "invalid" must not; "acceptable" cases pass either way and are
 * reported with what we did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/ed25519.h"

struct ctx {
	struct vec_tally t;
	unsigned long acceptable;
};

static void check(const json_t *g, const json_t *v, void *arg)
{
	struct ctx *x = arg;
	const json_t *key = json_object_get(g, "publicKey");
	const char *res = vec_str(v, "result");
	uint8_t pk[32], *msg = NULL, *sig = NULL;
	size_t msglen, siglen;
	long long id = -1;
	int rc = -1;

	(void)vec_int(v, "tcId", &id);
	if (!res || vec_hex_fixed(key, "pk", pk, 32) != 0 ||
	    vec_hex(v, "msg", &msg, &msglen) != 0 ||
	    vec_hex(v, "sig", &sig, &siglen) != 0) {
		vec_fail(&x->t, "tcId %lld: malformed vector", id);
		goto done;
	}
	/* A signature of the wrong length is refused before verification. */
	if (siglen == ED25519_SIG_LEN)
		rc = ed25519_verify(sig, msg, msglen, pk);
	if (strcmp(res, "valid") == 0) {
		vec_check(&x->t, rc == 0, "tcId %lld: valid signature refused",
			  id);
	} else if (strcmp(res, "invalid") == 0) {
		vec_check(&x->t, rc != 0,
			  "tcId %lld: invalid signature accepted", id);
	} else {
		x->acceptable++;
		printf("tcId %lld: acceptable case, %s\n", id,
		       rc == 0 ? "accepted" : "refused");
		vec_pass(&x->t);
	}
done:
	free(msg);
	free(sig);
}

int main(int argc, char **argv)
{
	struct ctx x = { { 0, 0 }, 0 };
	json_t *root = vec_start(argc, argv);

	if (!root)
		return 2;
	if (vec_wycheproof_each(root, check, &x) != 0)
		vec_fail(&x.t, "malformed Wycheproof file");
	printf("%lu acceptable cases (passed whatever we did)\n",
	       x.acceptable);
	json_decref(root);
	return vec_finish(&x.t);
}
