/*
 * AEZ v5 known answers: aez_vectors FILE [--impl=aesni|portable]
 *
 * The kind of each case is told by its fields:
 *   {k, nonce, data, tau, m, c}  Encrypt (and Decrypt back, and a tampered
 *                                ciphertext refused when tau > 0)
 *   {a, b}                       Extract
 *   {k, tau, data, v}            AEZ-hash of ([tau]_128, data...)
 *   {k, delta, tau, r}           AEZ-prf, tau bytes
 * "data" is the list of strings; [] is zero strings, which is not the same
 * tweak as [""]. In the hash files tau is already the 128-bit integer (the
 * bit count), as AEZ-hash receives it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bytes.h"

#include "crypto/aez.h"
#include "crypto/secret.h"

#include "common/vecfile.h"

struct strs {
	struct aez_data *d;
	uint8_t **bufs;
	size_t n;
};

static void
strs_free(struct strs *s)
{
	for (size_t q = 0; q < s->n; q++)
		free(s->bufs[q]);
	free(s->bufs);
	free(s->d);
	s->n = 0;
}

/* The "data" array of case v; -1 if it is missing or malformed. */
static int
strs_load(const json_t *v, size_t extra, struct strs *s)
{
	const json_t *arr = json_object_get(v, "data"), *e;
	size_t q, n;

	if (!json_is_array(arr))
		return -1;
	n = json_array_size(arr);
	s->n = 0;
	s->d = calloc(n + extra + 1, sizeof(*s->d));
	s->bufs = calloc(n + 1, sizeof(*s->bufs));
	if (!s->d || !s->bufs)
		abort();
	json_array_foreach(arr, q, e)
	{
		size_t len;

		if (!json_is_string(e) ||
		    vec_hex_str(json_string_value(e), &s->bufs[q], &len) != 0) {
			strs_free(s);
			return -1;
		}
		s->n = q + 1;
		s->d[q + extra].data = s->bufs[q];
		s->d[q + extra].len = len;
	}
	return 0;
}

static bool
tau_get(const json_t *v, long long max, unsigned *tau)
{
	long long t;

	if (vec_int(v, "tau", &t) != 0 || t < 0 || t > max)
		return false;
	*tau = (unsigned)t;
	return true;
}

static void
check_roundtrip(struct vec_tally *t, size_t i, const struct aez_key *k,
		const uint8_t *n, size_t nlen, const struct strs *ad,
		unsigned tau, const uint8_t *m, size_t mlen, const uint8_t *c)
{
	uint8_t *back = malloc(mlen + 1), *bad = malloc(mlen + tau + 1);

	if (!back || !bad)
		abort();
	vec_check(t,
		  aez_decrypt(k, n, nlen, ad->d, ad->n, tau, c, mlen + tau,
			      back) == 0 &&
		      secret_eq(back, m, mlen),
		  "case %zu (len %zu, tau %u): decrypt mismatch", i, mlen, tau);
	if (tau > 0) {
		memcpy(bad, c, mlen + tau);
		bad[(i * 7) % (mlen + tau)] ^= (uint8_t)(1u << (i % 8));
		vec_check(t,
			  aez_decrypt(k, n, nlen, ad->d, ad->n, tau, bad,
				      mlen + tau, back) == -1,
			  "case %zu (len %zu, tau %u): tampered accepted", i,
			  mlen, tau);
	}
	free(back);
	free(bad);
}

static void
check_encrypt(struct vec_tally *t, size_t i, const json_t *v)
{
	uint8_t *key = NULL, *n = NULL, *m = NULL, *c = NULL, *out = NULL;
	size_t klen, nlen, mlen, clen;
	struct strs ad = {0};
	struct aez_key k;
	unsigned tau;

	if (vec_hex(v, "k", &key, &klen) || vec_hex(v, "nonce", &n, &nlen) ||
	    vec_hex(v, "m", &m, &mlen) || vec_hex(v, "c", &c, &clen) ||
	    !tau_get(v, 1 << 20, &tau) || strs_load(v, 0, &ad) ||
	    clen != mlen + tau) {
		vec_fail(t, "case %zu: malformed encrypt case", i);
		goto done;
	}
	aez_setup(&k, key, klen);
	out = malloc(clen + 1);
	if (!out)
		abort();
	vec_check(t,
		  aez_encrypt(&k, n, nlen, ad.d, ad.n, tau, m, mlen, out) ==
			  0 &&
		      secret_eq(out, c, clen),
		  "case %zu (len %zu, tau %u, %zu ad): encrypt mismatch", i,
		  mlen, tau, ad.n);
	check_roundtrip(t, i, &k, n, nlen, &ad, tau, m, mlen, c);
	aez_key_wipe(&k);
done:
	strs_free(&ad);
	free(key);
	free(n);
	free(m);
	free(c);
	free(out);
}

static void
check_extract(struct vec_tally *t, size_t i, const json_t *v)
{
	uint8_t *a = NULL, want[AEZ_KEY_LEN], got[AEZ_KEY_LEN];
	size_t alen;

	if (vec_hex(v, "a", &a, &alen) ||
	    vec_hex_fixed(v, "b", want, sizeof(want))) {
		vec_fail(t, "case %zu: malformed extract case", i);
		free(a);
		return;
	}
	aez_extract(got, a, alen);
	vec_check(t, secret_eq(got, want, sizeof(want)),
		  "case %zu (key len %zu): extract mismatch", i, alen);
	free(a);
}

static void
check_hash(struct vec_tally *t, size_t i, const json_t *v)
{
	uint8_t *key = NULL, want[16], got[16], tb[16] = {0};
	size_t klen;
	struct strs s = {0};
	struct aez_key k;
	unsigned tau;

	if (vec_hex(v, "k", &key, &klen) ||
	    vec_hex_fixed(v, "v", want, sizeof(want)) ||
	    !tau_get(v, 0xffffffffLL, &tau) || strs_load(v, 1, &s)) {
		vec_fail(t, "case %zu: malformed hash case", i);
		free(key);
		return;
	}
	be32_put(tb + 12, tau);
	s.d[0].data = tb;
	s.d[0].len = sizeof(tb);
	aez_setup(&k, key, klen);
	aez_hash(&k, s.d, s.n + 1, got);
	vec_check(t, secret_eq(got, want, sizeof(want)),
		  "case %zu (%zu strings): hash mismatch", i, s.n);
	aez_key_wipe(&k);
	strs_free(&s);
	free(key);
}

static void
check_prf(struct vec_tally *t, size_t i, const json_t *v)
{
	uint8_t *key = NULL, *r = NULL, *got = NULL, delta[16];
	size_t klen, rlen;
	struct aez_key k;
	unsigned tau;

	if (vec_hex(v, "k", &key, &klen) || vec_hex(v, "r", &r, &rlen) ||
	    vec_hex_fixed(v, "delta", delta, sizeof(delta)) ||
	    !tau_get(v, 1 << 20, &tau) || rlen != tau) {
		vec_fail(t, "case %zu: malformed prf case", i);
		goto done;
	}
	got = malloc(rlen + 1);
	if (!got)
		abort();
	aez_setup(&k, key, klen);
	aez_prf(&k, delta, got, rlen);
	vec_check(t, secret_eq(got, r, rlen),
		  "case %zu (%zu bytes): prf mismatch", i, rlen);
	aez_key_wipe(&k);
done:
	free(key);
	free(r);
	free(got);
}

static void
check_case(struct vec_tally *t, size_t i, const json_t *v)
{
	if (json_object_get(v, "m") && json_object_get(v, "c"))
		check_encrypt(t, i, v);
	else if (json_object_get(v, "a") && json_object_get(v, "b"))
		check_extract(t, i, v);
	else if (json_object_get(v, "v"))
		check_hash(t, i, v);
	else if (json_object_get(v, "delta") && json_object_get(v, "r"))
		check_prf(t, i, v);
	else
		vec_fail(t, "case %zu: unknown kind of case", i);
}

/* --impl=NAME anywhere after the file; -1 on a bad argument. */
static int
impl_arg(int argc, char **argv, enum aez_impl *impl)
{
	*impl = AEZ_IMPL_AUTO;
	for (int a = 2; a < argc; a++) {
		if (strcmp(argv[a], "--impl=aesni") == 0)
			*impl = AEZ_IMPL_AESNI;
		else if (strcmp(argv[a], "--impl=portable") == 0)
			*impl = AEZ_IMPL_PORTABLE;
		else if (strcmp(argv[a], "--impl=auto") != 0)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct vec_tally t = {0, 0};
	enum aez_impl impl;
	json_t *root, *v;
	size_t i;

	if (impl_arg(argc, argv, &impl) != 0) {
		fprintf(stderr, "usage: %s FILE [--impl=aesni|portable]\n",
			argv[0]);
		return 2;
	}
	root = vec_start(argc, argv);
	if (!root)
		return 2;
	if (aez_set_impl(impl) != 0) {
		/* Not a failure of AEZ: this CPU cannot run that path. */
		printf("AES-NI not available on this CPU: cases skipped\n");
		json_decref(root);
		printf("0 passed, 0 failed\n");
		return 0;
	}
	printf("implementation: %s\n",
	       aez_get_impl() == AEZ_IMPL_AESNI ? "aesni" : "portable");
	if (!json_is_array(root))
		vec_fail(&t, "expected a JSON array of cases");
	json_array_foreach(root, i, v) check_case(&t, i, v);
	json_decref(root);
	return vec_finish(&t);
}
