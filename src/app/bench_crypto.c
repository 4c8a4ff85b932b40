/*
 * The primitive-cost table shared by `backchannel bench crypto` and
 * build/bench/crypto (which #includes this file, since bench/ links only
 * libbc.a). Each row is timed in batches; the best batch counts, because on
 * a shared machine noise only ever adds time. Ratios to X25519 come from the
 * same run, so they hold across machines better than the absolute times.
 */
#include "app/bench_crypto.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/time.h"

#include "crypto/aes_ctr.h"
#include "crypto/aez.h"
#include "crypto/chacha.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

/* Sizes from SPHINX.md (x25519-v0, 5 hops): see docs/crypto.md. */
#define SPHINX_KDF_LEN 160
#define SPHINX_MAC_IN  444  /* AD | alpha | beta */
#define SPHINX_HDR_XOR 492  /* beta | 82 zero bytes */
#define SPHINX_PACKET  2600 /* a full payload, order of magnitude */

struct bench_state {
	uint8_t key[32], point[32], out[64], iv[16], sig[64];
	uint8_t edpub[32], edsec[64];
	uint8_t buf[SPHINX_PACKET]; /* transformed in place by the ciphers */
	uint8_t msg[1000];          /* what Ed25519 signs: stays fixed */
	struct aes_ctr *aes;
	struct aez_key aez_ni, aez_soft, aez_setup_k;
	bool have_ni;
	int sink; /* return codes land here so no call is discarded */
};

struct bench_row {
	const char *name;
	size_t size;
	void (*fn)(struct bench_state *s);
	int hop_part;  /* times counted in the per-hop sum */
	bool needs_ni; /* skipped on a CPU without AES-NI */
};

static void
op_x25519(struct bench_state *s)
{
	s->sink += x25519(s->out, s->key, s->point);
}

static void
op_hkdf(struct bench_state *s)
{
	static const char info[] = "katzenpost-kdf-v0-hkdf-sha256";
	uint8_t okm[SPHINX_KDF_LEN];

	s->sink += hkdf_sha256_expand(okm, sizeof(okm), s->key, 32, info,
				      sizeof(info) - 1);
	s->out[0] ^= okm[0];
}

static void
op_hmac(struct bench_state *s)
{
	hmac_sha256(s->out, s->key, 32, s->buf, SPHINX_MAC_IN);
}

static void
op_sha256_32(struct bench_state *s)
{
	sha256(s->out, s->key, 32);
}

static void
op_sha256_444(struct bench_state *s)
{
	sha256(s->out, s->buf, SPHINX_MAC_IN);
}

static void
op_sha512_256(struct bench_state *s)
{
	sha512_256(s->out, s->key, 32);
}

static void
op_chacha32(struct bench_state *s)
{
	static const uint8_t nonce[12];

	chacha20_keystream(s->out, 32, s->key, nonce, 0);
}

static void
op_aes_492(struct bench_state *s)
{
	aes_ctr_init(s->aes, s->key, s->iv);
	aes_ctr_xor(s->aes, s->buf, s->buf, SPHINX_HDR_XOR);
}

/* What a Sphinx hop does: the key is zeroed in the context afterwards. */
static void
op_aes_492_once(struct bench_state *s)
{
	aes_ctr_once(s->aes, s->buf, s->buf, SPHINX_HDR_XOR, s->key, s->iv);
}

static void
op_aes_492_fresh(struct bench_state *s)
{
	aes256_ctr(s->buf, s->buf, SPHINX_HDR_XOR, s->key, s->iv);
}

static void
op_aes_2600(struct bench_state *s)
{
	aes_ctr_init(s->aes, s->key, s->iv);
	aes_ctr_xor(s->aes, s->buf, s->buf, SPHINX_PACKET);
}

/* Sphinx payload: nonce = the 16-byte header IV, zero AD strings, tau 0. */
static void
aez_payload(struct bench_state *s, const struct aez_key *k)
{
	s->sink += aez_encrypt(k, s->iv, sizeof(s->iv), NULL, 0, 0, s->buf,
			       SPHINX_PACKET, s->buf);
}

static void
op_aez_ni(struct bench_state *s)
{
	aez_payload(s, &s->aez_ni);
}

static void
op_aez_soft(struct bench_state *s)
{
	aez_payload(s, &s->aez_soft);
}

/* Per hop the payload key is new: its expansion is part of the cost. */
static void
op_aez_setup(struct bench_state *s)
{
	aez_setup(&s->aez_setup_k, s->key, AEZ_KEY_LEN);
}

static void
op_ed_sign(struct bench_state *s)
{
	ed25519_sign(s->sig, s->msg, sizeof(s->msg), s->edsec);
}

static void
op_ed_verify(struct bench_state *s)
{
	s->sink += ed25519_verify(s->sig, s->msg, sizeof(s->msg), s->edpub);
}

/*
 * X25519 first: every ratio is relative to it. hop_part 2 marks the AEZ
 * row counted in the hop sum: AES-NI where the CPU has it (what
 * AEZ_IMPL_AUTO picks), else the portable one.
 */
static const struct bench_row rows[] = {
    {"X25519 shared secret", 32, op_x25519, 2, false},
    {"HKDF-SHA256 Expand", SPHINX_KDF_LEN, op_hkdf, 1, false},
    {"HMAC-SHA256", SPHINX_MAC_IN, op_hmac, 1, false},
    {"AES-256-CTR (reused ctx)", SPHINX_HDR_XOR, op_aes_492, 0, false},
    {"AES-256-CTR (reused, wiped)", SPHINX_HDR_XOR, op_aes_492_once, 1, false},
    {"AES-256-CTR (fresh ctx)", SPHINX_HDR_XOR, op_aes_492_fresh, 0, false},
    {"AES-256-CTR (reused ctx)", SPHINX_PACKET, op_aes_2600, 0, false},
    {"ChaCha20 keystream", 32, op_chacha32, 1, false},
    {"SHA-256", 32, op_sha256_32, 0, false},
    {"SHA-256", SPHINX_MAC_IN, op_sha256_444, 0, false},
    {"SHA-512/256 (replay tag)", 32, op_sha512_256, 1, false},
    {"AEZ key setup", AEZ_KEY_LEN, op_aez_setup, 1, false},
    {"AEZ encrypt (AES-NI)", SPHINX_PACKET, op_aez_ni, 0, true},
    {"AEZ encrypt (portable)", SPHINX_PACKET, op_aez_soft, 0, false},
    {"Ed25519 sign", 1000, op_ed_sign, 0, false},
    {"Ed25519 verify", 1000, op_ed_verify, 0, false},
};

/* Times row i counts in the per-hop sum. */
static int
bench_hop_part(const struct bench_state *s, size_t i)
{
	if (rows[i].fn == op_aez_ni)
		return s->have_ni ? 1 : 0;
	if (rows[i].fn == op_aez_soft)
		return s->have_ni ? 0 : 1;
	return rows[i].hop_part;
}

/* Best time per operation (ns) over batches filling about budget_ms. */
static double
bench_time(const struct bench_row *r, struct bench_state *s, int budget_ms)
{
	int64_t start, t, end;
	double best = 0, per;
	long n = 1, i;

	/* Grow the batch until it takes at least 2 ms. */
	for (;;) {
		t = time_mono_ns();
		for (i = 0; i < n; i++)
			r->fn(s);
		t = time_mono_ns() - t;
		if (t >= 2000000 || n >= (1L << 24))
			break;
		n *= 2;
	}
	best = (double)t / (double)n;
	start = time_mono_ns();
	end = start + (int64_t)budget_ms * 1000000;
	while (time_mono_ns() < end) {
		t = time_mono_ns();
		for (i = 0; i < n; i++)
			r->fn(s);
		per = (double)(time_mono_ns() - t) / (double)n;
		if (per < best)
			best = per;
	}
	return best;
}

static void
bench_state_init(struct bench_state *s)
{
	memset(s, 0, sizeof(*s));
	rand_bytes(s->key, sizeof(s->key));
	rand_bytes(s->iv, sizeof(s->iv));
	rand_bytes(s->buf, sizeof(s->buf));
	x25519_keypair(s->point, s->out);
	rand_bytes(s->msg, sizeof(s->msg));
	ed25519_keypair(s->edpub, s->edsec);
	ed25519_sign(s->sig, s->msg, sizeof(s->msg), s->edsec);
	s->aes = aes_ctr_new();
	/* Each key keeps the implementation selected when it was set up. */
	s->have_ni = aez_set_impl(AEZ_IMPL_AESNI) == 0;
	if (s->have_ni)
		aez_setup(&s->aez_ni, s->key, AEZ_KEY_LEN);
	(void)aez_set_impl(AEZ_IMPL_PORTABLE);
	aez_setup(&s->aez_soft, s->key, AEZ_KEY_LEN);
	(void)aez_set_impl(AEZ_IMPL_AUTO);
}

static void
bench_state_wipe(struct bench_state *s)
{
	AES_CTR_FREE(s->aes);
	aez_key_wipe(&s->aez_ni);
	aez_key_wipe(&s->aez_soft);
	aez_key_wipe(&s->aez_setup_k);
	secret_wipe(s, sizeof(*s));
}

#define BENCH_NROWS (sizeof(rows) / sizeof(rows[0]))

/* us[i] per row, < 0 for a row skipped on this CPU. */
static void
bench_print(FILE *out, const struct bench_state *s, const double us[], double x)
{
	double hop = 0;
	size_t i;

	fprintf(out, "%-28s %7s %10s %9s\n", "primitive", "bytes", "us/op",
		"x X25519");
	for (i = 0; i < BENCH_NROWS; i++) {
		if (us[i] < 0) {
			fprintf(out, "%-28s %7zu %10s %9s\n", rows[i].name,
				rows[i].size, "no AES-NI", "-");
			continue;
		}
		hop += us[i] * bench_hop_part(s, i);
		fprintf(out, "%-28s %7zu %10.3f %9.3f\n", rows[i].name,
			rows[i].size, us[i], us[i] / x);
	}
	fprintf(out, "%-28s %7s %10.3f %9.3f\n", "= one Sphinx hop, summed", "",
		hop, hop / x);
	fprintf(out,
		"(hop: 2 X25519, HKDF, HMAC, AES-CTR 492, ChaCha20 32, "
		"SHA-512/256,\n AEZ setup and AEZ over %d bytes on the "
		"%s path)\n",
		SPHINX_PACKET, s->have_ni ? "AES-NI" : "portable");
}

int
bench_crypto_run(FILE *out, int budget_ms)
{
	struct bench_state s;
	double us[BENCH_NROWS], again;
	size_t i;
	int rc;

	if (crypto_init() != 0)
		return -1;
	if (budget_ms < 20)
		budget_ms = 20;
	bench_state_init(&s);
	for (i = 0; i < BENCH_NROWS; i++) {
		us[i] = -1;
		if (rows[i].needs_ni && !s.have_ni)
			continue;
		us[i] = bench_time(&rows[i], &s, budget_ms) / 1000.0;
	}
	/* The reference is timed first and last; load only adds time, so the
	 * lower figure is the better one. */
	again = bench_time(&rows[0], &s, budget_ms) / 1000.0;
	if (again < us[0])
		us[0] = again;
	bench_print(out, &s, us, us[0]);
	/* Every checked call returns 0: anything else means a row measured
	 * a failure path, not the real work. */
	rc = s.sink == 0 ? 0 : -1;
	if (rc != 0)
		fprintf(out, "bench: an operation failed during measurement\n");
	bench_state_wipe(&s);
	return rc;
}
