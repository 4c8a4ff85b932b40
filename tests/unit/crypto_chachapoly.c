/*
 * Unit tests for crypto/chachapoly.h: both paths (OpenSSL context and
 * libsodium) against libsodium's AEAD for lengths around the switch-over,
 * in place and out of place, with and without associated data; one
 * context shared by two keys and both directions; every kind of tampering
 * refused with the output zeroed; the Noise transport cipher at link frame
 * size against the Noise definition; and that OpenSSL's heap holds no copy
 * of the key between calls. The Wycheproof file is checked by
 * tests/vectors/chachapoly_vectors.c.
 */
#include <criterion/criterion.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/chachapoly.h"
#include "crypto/crypto.h"
#include "crypto/noise.h"
#include "crypto/rand.h"
#include "crypto/secret.h"
#include "common/osslheap.h"

#define BIG 65536

static uint8_t key[32], key2[32], nonce[12], ad[64];
static uint8_t *msg, *want, *got, *box;

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	rand_set_deterministic(0x63686163686170ULL);
	rand_bytes(key, sizeof(key));
	rand_bytes(key2, sizeof(key2));
	rand_bytes(nonce, sizeof(nonce));
	rand_bytes(ad, sizeof(ad));
	msg = malloc(BIG);
	want = malloc(BIG + 16);
	got = malloc(BIG + 16);
	box = malloc(BIG + 16);
	cr_assert(msg && want && got && box);
	rand_bytes(msg, BIG);
}

static void
teardown(void)
{
	chachapoly_set_ctx_min(CHACHAPOLY_CTX_MIN);
	rand_set_system();
	free(msg);
	free(want);
	free(got);
	free(box);
}

TestSuite(chachapoly, .init = setup, .fini = teardown);

static void
sodium_seal(const uint8_t *k, size_t len, size_t adlen, uint8_t *out)
{
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, msg, len, ad,
						  adlen, NULL, nonce, k);
}

static const size_t lens[] = {0,    1,    15,   16,   17,   63,   64,   65,
			      1023, 1024, 1025, 3146, 4096, 9000, 65535};

/* Every length and ad length on the path selected by min. */
static void
check_all(size_t min)
{
	struct chachapoly *c = chachapoly_new();

	chachapoly_set_ctx_min(min);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (size_t adlen = 0; adlen <= 64; adlen += 13) {
			size_t n = lens[i];
			const uint8_t *a = adlen ? ad : NULL;

			sodium_seal(key, n, adlen, want);
			chachapoly_seal(c, key, nonce, a, adlen, msg, n, got);
			cr_assert(memcmp(got, want, n + 16) == 0,
				  "seal of %zu (ad %zu) differs", n, adlen);
			memcpy(box, msg, n);
			chachapoly_seal(c, key, nonce, a, adlen, box, n, box);
			cr_assert(memcmp(box, want, n + 16) == 0,
				  "in-place seal of %zu differs", n);
			memset(got, 0, n + 1);
			cr_assert_eq(chachapoly_open(c, key, nonce, a, adlen,
						     want, n + 16,
						     n ? got : NULL),
				     0, "open of %zu (ad %zu)", n, adlen);
			cr_assert(memcmp(got, msg, n) == 0);
			cr_assert_eq(chachapoly_open(c, key, nonce, a, adlen,
						     box, n + 16,
						     n ? box : NULL),
				     0);
			cr_assert(memcmp(box, msg, n) == 0,
				  "in-place open of %zu differs", n);
		}
	}
	chachapoly_free(c);
}

Test(chachapoly, context_path_matches_libsodium)
{
	check_all(0);
}

Test(chachapoly, default_switch_matches_libsodium)
{
	check_all(CHACHAPOLY_CTX_MIN);
}

Test(chachapoly, libsodium_path_matches_libsodium)
{
	check_all(SIZE_MAX);
}

Test(chachapoly, one_context_two_keys_both_directions)
{
	struct chachapoly *c = chachapoly_new();
	size_t n = 3146;
	uint8_t want2[3146 + 16];

	chachapoly_set_ctx_min(0);
	sodium_seal(key, n, 0, want);
	sodium_seal(key2, n, 0, want2);
	for (int i = 0; i < 4; i++) {
		const uint8_t *k = i % 2 ? key2 : key;
		const uint8_t *w = i % 2 ? want2 : want;

		chachapoly_seal(c, k, nonce, NULL, 0, msg, n, got);
		cr_assert(memcmp(got, w, n + 16) == 0, "round %d", i);
		/* The other key's message opens; this key's does not. */
		cr_assert_eq(chachapoly_open(c, i % 2 ? key : key2, nonce, NULL,
					     0, i % 2 ? want : want2, n + 16,
					     box),
			     0);
		cr_assert(memcmp(box, msg, n) == 0);
		cr_assert_eq(chachapoly_open(c, k, nonce, NULL, 0,
					     i % 2 ? want : want2, n + 16, box),
			     -1);
	}
	chachapoly_free(c);
}

/* Open must fail and leave out all zeros. */
static void
refused(struct chachapoly *c, const uint8_t *k, const uint8_t *nc,
	const uint8_t *a, size_t adlen, const uint8_t *in, size_t len,
	const char *what)
{
	memset(got, 0xa5, len);
	cr_assert_eq(chachapoly_open(c, k, nc, a, adlen, in, len, got), -1,
		     "%s accepted (%zu bytes)", what, len);
	cr_assert(secret_is_zero(got, len - 16), "%s: output left", what);
}

static void
check_tamper(size_t n)
{
	struct chachapoly *c = chachapoly_new();
	uint8_t k[32], nc[12], a[13];

	sodium_seal(key, n, sizeof(a), want);
	memcpy(a, ad, sizeof(a));
	for (size_t pos = 0; pos < n + 16; pos += pos < 40 ? 1 : 997) {
		memcpy(box, want, n + 16);
		box[pos] ^= 0x01;
		refused(c, key, nonce, a, sizeof(a), box, n + 16, "bit flip");
	}
	refused(c, key, nonce, a, sizeof(a), want, n + 15, "truncation");
	memcpy(k, key, 32);
	k[31] ^= 0x80;
	refused(c, k, nonce, a, sizeof(a), want, n + 16, "wrong key");
	memcpy(nc, nonce, 12);
	nc[0] ^= 1;
	refused(c, key, nc, a, sizeof(a), want, n + 16, "wrong nonce");
	a[12] ^= 1;
	refused(c, key, nonce, a, sizeof(a), want, n + 16, "wrong ad");
	refused(c, key, nonce, NULL, 0, want, n + 16, "missing ad");
	/* In place: the buffer is zeroed, not left half decrypted. */
	memcpy(box, want, n + 16);
	box[n] ^= 1;
	cr_assert_eq(chachapoly_open(c, key, nonce, ad, 13, box, n + 16, box),
		     -1);
	cr_assert(secret_is_zero(box, n));
	/* The context still works after all that. */
	cr_assert_eq(chachapoly_open(c, key, nonce, ad, 13, want, n + 16, got),
		     0);
	cr_assert(memcmp(got, msg, n) == 0);
	chachapoly_free(c);
}

Test(chachapoly, tampering_refused_on_both_paths)
{
	chachapoly_set_ctx_min(0);
	check_tamper(100);
	check_tamper(3146);
	chachapoly_set_ctx_min(SIZE_MAX);
	check_tamper(100);
	check_tamper(3146);
}

Test(chachapoly, short_input_refused)
{
	struct chachapoly *c = chachapoly_new();

	for (size_t len = 0; len < 16; len++)
		cr_assert_eq(
		    chachapoly_open(c, key, nonce, NULL, 0, want, len, got),
		    -1);
	/* A non-empty plaintext needs somewhere to go. */
	sodium_seal(key, 1, 0, want);
	cr_assert_eq(chachapoly_open(c, key, nonce, NULL, 0, want, 17, NULL),
		     -1);
	chachapoly_free(c);
	chachapoly_free(NULL);
}

/*
 * The Noise transport cipher at the link's frame size, where it takes the
 * OpenSSL path: ENCRYPT(k, n, ad, p) with the nonce 4 zero bytes then n
 * little-endian, for a few n, against libsodium.
 */
Test(chachapoly, noise_transport_at_link_size)
{
	struct noise_cipher *tx = noise_cipher_new(key);
	struct noise_cipher *rx = noise_cipher_new(key);
	size_t n = 3146, outlen = 0;
	uint64_t ns[] = {0, 1, 255, 256, 0x0102030405060708ULL};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		uint8_t nc[12] = {0};

		for (int b = 0; b < 8; b++)
			nc[4 + b] = (uint8_t)(ns[i] >> (8 * b));
		crypto_aead_chacha20poly1305_ietf_encrypt(
		    want, NULL, msg, n, NULL, 0, NULL, nc, key);
		cr_assert_eq(noise_cipher_set_nonce(tx, ns[i]), 0);
		cr_assert_eq(noise_cipher_set_nonce(rx, ns[i]), 0);
		cr_assert_eq(noise_cipher_encrypt(tx, NULL, 0, msg, n, got,
						  n + 16, &outlen),
			     0);
		cr_assert(outlen == n + 16 && memcmp(got, want, n + 16) == 0,
			  "frame at nonce %zu differs", i);
		cr_assert_eq(noise_cipher_decrypt(rx, NULL, 0, got, n + 16, got,
						  n + 16, &outlen),
			     0);
		cr_assert(outlen == n && memcmp(got, msg, n) == 0);
	}
	NOISE_CIPHER_FREE(tx);
	NOISE_CIPHER_FREE(rx);
}

/* ---- OpenSSL's heap between calls (tests/common/osslheap.h) ---- */

Test(chachapoly, no_key_copy_in_openssl_between_calls)
{
	uint8_t k[32], nc[12] = {0}, buf[3146 + 16] = {0};

	cr_assert(osslheap_hooks_ok(),
		  "OpenSSL allocated before the constructor ran");
	osslheap_track(true);
	rand_bytes(k, sizeof(k));
	chachapoly_set_ctx_min(0);

	/*
	 * The scan works: a context keyed the plain way holds the key. And
	 * what OpenSSL 3 does, which the docs do not promise in so many
	 * words: EVP_CIPHER_CTX_reset and _free cleanse the provider
	 * context (OPENSSL_clear_free) before they release it.
	 */
	EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	cr_assert(ci != NULL && x != NULL);
	osslheap_watch(k);
	uint8_t *copy = OPENSSL_malloc(32);
	cr_assert(copy != NULL);
	memcpy(copy, k, 32);
	OPENSSL_free(copy);
	cr_assert(osslheap_freed_with_key(),
		  "the free watch misses a plain copy");
	osslheap_watch(k);
	cr_assert_eq(EVP_CipherInit_ex2(x, ci, k, nc, 1, NULL), 1);
	cr_assert(osslheap_has_key(k), "scan does not find a keyed context");
	cr_assert_eq(EVP_CIPHER_CTX_reset(x), 1);
	cr_assert(!osslheap_has_key(k) && !osslheap_freed_with_key(),
		  "reset left the key");
	cr_assert_eq(EVP_CipherInit_ex2(x, ci, k, nc, 0, NULL), 1);
	cr_assert(osslheap_has_key(k));
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(ci);
	cr_assert(!osslheap_has_key(k) && !osslheap_freed_with_key(),
		  "free left the key");

	struct chachapoly *c = chachapoly_new();
	chachapoly_seal(c, k, nc, NULL, 0, buf, 3146, buf);
	cr_assert(!osslheap_has_key(k), "key left after seal");
	cr_assert_eq(chachapoly_open(c, k, nc, NULL, 0, buf, sizeof(buf), buf),
		     0);
	cr_assert(!osslheap_has_key(k), "key left after open");
	buf[0] ^= 1;
	cr_assert_eq(chachapoly_open(c, k, nc, NULL, 0, buf, sizeof(buf), buf),
		     -1);
	cr_assert(!osslheap_has_key(k), "key left after a failed open");
	chachapoly_free(c);
	cr_assert(!osslheap_freed_with_key(), "a freed block held the key");
	cr_assert(!osslheap_overflow(),
		  "more OpenSSL blocks than the table holds");
	osslheap_track(false);
	osslheap_watch(NULL);
}
