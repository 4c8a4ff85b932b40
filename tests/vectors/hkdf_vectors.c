/*
 * HKDF known answers. Two file shapes: RFC 5869 transcriptions
 * ({"vectors": [{hash, ikm, salt, info, L, prk, okm}]}) and Wycheproof
 * (testGroups/tests with ikm, salt, info, size, okm, result; "invalid" means
 * the size is over 255 * HashLen and must be refused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/hkdf.h"
#include "crypto/secret.h"

struct ctx {
	struct vec_tally t;
	int sha512; /* 0: SHA-256, 1: SHA-512 */
};

struct hkdf_case {
	uint8_t *ikm, *salt, *info, *okm;
	size_t ikmlen, saltlen, infolen, okmlen;
};

static void case_free(struct hkdf_case *c)
{
	free(c->ikm);
	free(c->salt);
	free(c->info);
	free(c->okm);
}

static int case_load(const json_t *v, struct hkdf_case *c)
{
	memset(c, 0, sizeof(*c));
	if (vec_hex(v, "ikm", &c->ikm, &c->ikmlen) != 0 ||
	    vec_hex(v, "salt", &c->salt, &c->saltlen) != 0 ||
	    vec_hex(v, "info", &c->info, &c->infolen) != 0 ||
	    vec_hex(v, "okm", &c->okm, &c->okmlen) != 0)
		return -1;
	return 0;
}

static int run_hkdf(int sha512, uint8_t *out, size_t len,
		    const struct hkdf_case *c)
{
	if (sha512)
		return hkdf_sha512(out, len, c->salt, c->saltlen, c->ikm,
				   c->ikmlen, c->info, c->infolen);
	return hkdf_sha256(out, len, c->salt, c->saltlen, c->ikm, c->ikmlen,
			   c->info, c->infolen);
}

/* Check Extract and Expand separately against the RFC's PRK. */
static void check_prk(struct ctx *x, const json_t *v, const char *name,
		      const struct hkdf_case *c)
{
	uint8_t prk[32], *want, *okm;
	size_t wantlen;

	if (vec_hex(v, "prk", &want, &wantlen) != 0)
		return;
	hkdf_sha256_extract(prk, c->salt, c->saltlen, c->ikm, c->ikmlen);
	vec_check(&x->t, wantlen == 32 && secret_eq(prk, want, 32),
		  "%s: PRK mismatch", name);
	okm = malloc(c->okmlen + 1);
	vec_check(&x->t,
		  hkdf_sha256_expand(okm, c->okmlen, prk, 32, c->info,
				     c->infolen) == 0 &&
			  secret_eq(okm, c->okm, c->okmlen),
		  "%s: Expand(PRK) mismatch", name);
	free(okm);
	free(want);
}

static void check_rfc(struct ctx *x, const json_t *root)
{
	const json_t *vs = json_object_get(root, "vectors"), *v;
	struct hkdf_case c;
	const char *src;
	long long L;
	uint8_t *out;
	size_t i;

	json_array_foreach(vs, i, v) {
		src = vec_str(v, "source") ? vec_str(v, "source") : "?";
		if (case_load(v, &c) != 0 || vec_int(v, "L", &L) != 0 ||
		    (size_t)L != c.okmlen) {
			vec_fail(&x->t, "%s: malformed vector", src);
			case_free(&c);
			continue;
		}
		out = malloc(c.okmlen + 1);
		vec_check(&x->t,
			  run_hkdf(0, out, c.okmlen, &c) == 0 &&
				  secret_eq(out, c.okm, c.okmlen),
			  "%s: OKM mismatch", src);
		free(out);
		check_prk(x, v, src, &c);
		case_free(&c);
	}
}

static void check_wp(const json_t *g, const json_t *v, void *arg)
{
	struct ctx *x = arg;
	const char *res = vec_str(v, "result");
	struct hkdf_case c;
	long long id = -1, size;
	uint8_t *out;
	int rc;

	(void)g;
	(void)vec_int(v, "tcId", &id);
	if (case_load(v, &c) != 0 || vec_int(v, "size", &size) != 0 ||
	    size < 0 || !res) {
		vec_fail(&x->t, "tcId %lld: malformed vector", id);
		case_free(&c);
		return;
	}
	out = calloc(1, (size_t)size + 1);
	rc = run_hkdf(x->sha512, out, (size_t)size, &c);
	if (strcmp(res, "invalid") == 0)
		vec_check(&x->t, rc == -1, "tcId %lld: size %lld accepted", id,
			  size);
	else
		vec_check(&x->t,
			  rc == 0 && (size_t)size == c.okmlen &&
				  secret_eq(out, c.okm, c.okmlen),
			  "tcId %lld: OKM mismatch", id);
	free(out);
	case_free(&c);
}

int main(int argc, char **argv)
{
	struct ctx x = { { 0, 0 }, 0 };
	json_t *root = vec_start(argc, argv);
	const char *alg;

	if (!root)
		return 2;
	if (json_object_get(root, "testGroups")) {
		alg = vec_str(root, "algorithm");
		if (alg && strcmp(alg, "HKDF-SHA-512") == 0)
			x.sha512 = 1;
		else if (!alg || strcmp(alg, "HKDF-SHA-256") != 0)
			vec_fail(&x.t, "unsupported algorithm %s",
				 alg ? alg : "(none)");
		if (vec_wycheproof_each(root, check_wp, &x) != 0)
			vec_fail(&x.t, "malformed Wycheproof file");
	} else if (json_is_array(json_object_get(root, "vectors"))) {
		check_rfc(&x, root);
	} else {
		vec_fail(&x.t, "unknown file shape");
	}
	json_decref(root);
	return vec_finish(&x.t);
}
