/*
 * build/bench/crypto: the primitive-cost table of `backchannel bench crypto`
 * (the same code: src/app/bench_crypto.c is included, because bench/ links
 * only libbc.a, not the app's objects), then a library comparison: where
 * libsodium and OpenSSL both offer a primitive, both are timed at our sizes
 * in the same run. src/crypto uses the faster one; docs/crypto.md records
 * the figures. Usage: build/bench/crypto [budget-ms-per-row]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "app/bench_crypto.c"

/* libsodium counterparts of what src/crypto does with OpenSSL. */
static void alt_sha256_32(struct bench_state *s)
{
	crypto_hash_sha256(s->out, s->key, 32);
}

static void alt_sha256_444(struct bench_state *s)
{
	crypto_hash_sha256(s->out, s->buf, SPHINX_MAC_IN);
}

static void op_sha512_444(struct bench_state *s)
{
	sha512(s->out, s->buf, SPHINX_MAC_IN);
}

static void alt_sha512_444(struct bench_state *s)
{
	crypto_hash_sha512(s->out, s->buf, SPHINX_MAC_IN);
}

static void alt_hmac(struct bench_state *s)
{
	crypto_auth_hmacsha256(s->out, s->buf, SPHINX_MAC_IN, s->key);
}

static void op_hmac512(struct bench_state *s)
{
	hmac_sha512(s->out, s->key, 32, s->buf, SPHINX_MAC_IN);
}

static void alt_hmac512(struct bench_state *s)
{
	crypto_auth_hmacsha512_state st;

	crypto_auth_hmacsha512_init(&st, s->key, 32);
	crypto_auth_hmacsha512_update(&st, s->buf, SPHINX_MAC_IN);
	crypto_auth_hmacsha512_final(&st, s->out);
}

/* HKDF-Expand over libsodium HMAC: key once, copy the state per block. */
static void alt_hkdf(struct bench_state *s)
{
	static const char info[] = "katzenpost-kdf-v0-hkdf-sha256";
	crypto_auth_hmacsha256_state keyed, st;
	uint8_t okm[SPHINX_KDF_LEN], t[32];
	uint8_t i;

	crypto_auth_hmacsha256_init(&keyed, s->key, 32);
	for (i = 1; i <= SPHINX_KDF_LEN / 32; i++) {
		st = keyed;
		if (i > 1)
			crypto_auth_hmacsha256_update(&st, t, 32);
		crypto_auth_hmacsha256_update(&st, (const uint8_t *)info,
					      sizeof(info) - 1);
		crypto_auth_hmacsha256_update(&st, &i, 1);
		crypto_auth_hmacsha256_final(&st, t);
		memcpy(okm + 32 * (i - 1), t, 32);
	}
	s->out[0] ^= okm[0];
}

/* Where secrets live: the pool of secret.c against a sodium_malloc each. */
static void op_secret(struct bench_state *s)
{
	uint8_t *p = secret_alloc(32);

	p[0] = s->key[0];
	secret_free(p);
}

static void alt_secret(struct bench_state *s)
{
	uint8_t *p = sodium_malloc(32);

	if (!p)
		abort();
	p[0] = s->key[0];
	sodium_free(p);
}

struct pair {
	const char *name;
	size_t size;
	void (*ours)(struct bench_state *s);
	void (*sodium)(struct bench_state *s);
};

static const struct pair pairs[] = {
	{ "SHA-256", 32, op_sha256_32, alt_sha256_32 },
	{ "SHA-256", SPHINX_MAC_IN, op_sha256_444, alt_sha256_444 },
	{ "SHA-512", SPHINX_MAC_IN, op_sha512_444, alt_sha512_444 },
	{ "HMAC-SHA256", SPHINX_MAC_IN, op_hmac, alt_hmac },
	{ "HMAC-SHA512", SPHINX_MAC_IN, op_hmac512, alt_hmac512 },
	{ "HKDF-SHA256 Expand", SPHINX_KDF_LEN, op_hkdf, alt_hkdf },
	{ "secret alloc+free", 32, op_secret, alt_secret },
};

static void compare(int budget_ms)
{
	struct bench_state s;
	struct bench_row r = { NULL, 0, NULL, 0, false };
	double a, b, t;
	size_t i;
	int round;

	bench_state_init(&s);
	printf("\nlibrary comparison (same run; src/crypto = OpenSSL EVP for "
	       "SHA-2,\nits own pool over sodium_malloc chunks for secrets)\n");
	printf("%-20s %6s %12s %12s %12s\n", "primitive", "bytes",
	       "ours us", "sodium us", "sodium/ours");
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		a = b = 1e30;
		/* Alternate three times: a burst of load hits both sides. */
		for (round = 0; round < 3; round++) {
			r.fn = pairs[i].ours;
			t = bench_time(&r, &s, budget_ms / 3) / 1000.0;
			a = t < a ? t : a;
			r.fn = pairs[i].sodium;
			t = bench_time(&r, &s, budget_ms / 3) / 1000.0;
			b = t < b ? t : b;
		}
		printf("%-20s %6zu %12.3f %12.3f %12.2f\n", pairs[i].name,
		       pairs[i].size, a, b, b / a);
	}
	bench_state_wipe(&s);
}

int main(int argc, char **argv)
{
	int budget = 150;
	char *end;
	long v;

	if (argc > 1) {
		v = strtol(argv[1], &end, 10);
		if (*end != '\0' || v < 20 || v > 10000) {
			fprintf(stderr, "usage: %s [budget-ms-per-row]\n",
				argv[0]);
			return 2;
		}
		budget = (int)v;
	}
	if (bench_crypto_run(stdout, budget) != 0)
		return 1;
	compare(budget);
	return 0;
}
