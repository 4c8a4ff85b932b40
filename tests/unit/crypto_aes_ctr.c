#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

#include "common/osslheap.h"
#include "crypto/aes_ctr.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "wire/sphinx_keys.h"

static void setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(aes_ctr, .init = setup);

/* Reference: AES-256-ECB of explicit counter blocks, +1 as a 128-bit BE int. */
static void ref_ctr(uint8_t *out, const uint8_t *in, size_t len,
		    const uint8_t key[32], const uint8_t iv[16])
{
	uint8_t ctr[16], ks[16];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl;

	cr_assert_not_null(c);
	cr_assert_eq(EVP_EncryptInit_ex(c, EVP_aes_256_ecb(), NULL, key, NULL),
		     1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	memcpy(ctr, iv, 16);
	for (size_t off = 0; off < len; off += 16) {
		cr_assert_eq(EVP_EncryptUpdate(c, ks, &outl, ctr, 16), 1);
		for (size_t i = 0; i < 16 && off + i < len; i++)
			out[off + i] = in[off + i] ^ ks[i];
		for (int i = 15; i >= 0; i--)
			if (++ctr[i] != 0)
				break;
	}
	EVP_CIPHER_CTX_free(c);
}

static void check_iv(const uint8_t iv[16], size_t len)
{
	uint8_t key[32], in[1024], want[1024], got[1024];

	cr_assert_leq(len, sizeof(in));
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < len; i++)
		in[i] = (uint8_t)(i * 13);
	ref_ctr(want, in, len, key, iv);
	aes256_ctr(got, in, len, key, iv);
	cr_assert_arr_eq(want, got, len, "one-shot differs from reference");

	/* Reused context, stream continued across uneven pieces. */
	struct aes_ctr *c = aes_ctr_new();
	size_t off = 0, step = 5;
	aes_ctr_init(c, key, iv);
	while (off < len) {
		size_t n = step < len - off ? step : len - off;
		aes_ctr_xor(c, got + off, in + off, n);
		off += n;
		step += 11;
	}
	cr_assert_arr_eq(want, got, len, "pieces differ from reference");
	AES_CTR_FREE(c);
	cr_assert_null(c);
}

/* The 2^64 boundary: the carry must reach byte 7 (a 64-bit CTR would not). */
Test(aes_ctr, carry_across_2_64)
{
	uint8_t iv[16] = { 0 };

	memset(iv + 8, 0xff, 8);
	iv[15] = 0xfe; /* two blocks before the carry */
	check_iv(iv, 16 * 6);
	iv[7] = 0x41;
	check_iv(iv, 16 * 6 + 5);
}

/* AES-NI runs a 32-bit counter; OpenSSL must carry out of it itself. */
Test(aes_ctr, carry_across_2_32)
{
	uint8_t iv[16] = { 0 };

	memset(iv + 12, 0xff, 4);
	iv[15] = 0xfd;
	check_iv(iv, 16 * 40);
}

Test(aes_ctr, wraps_at_2_128)
{
	uint8_t iv[16];

	memset(iv, 0xff, 16);
	check_iv(iv, 16 * 3);
}

Test(aes_ctr, sphinx_header_sizes)
{
	uint8_t iv[16];

	for (int i = 0; i < 16; i++)
		iv[i] = (uint8_t)(0x80 + i);
	check_iv(iv, 492);
	check_iv(iv, 1);
}

Test(aes_ctr, rekey_reuse_inplace_and_keystream)
{
	uint8_t k1[32], k2[32], iv[16] = { 1 }, buf[100], ks[100], ref[100];
	struct aes_ctr *c = aes_ctr_new();

	memset(k1, 1, 32);
	memset(k2, 2, 32);
	memset(buf, 0, sizeof(buf));
	aes_ctr_init(c, k1, iv);
	aes_ctr_xor(c, ks, NULL, sizeof(ks)); /* raw keystream */
	ref_ctr(ref, buf, sizeof(ref), k1, iv);
	cr_assert_arr_eq(ks, ref, sizeof(ks));

	aes_ctr_init(c, k2, iv); /* a new key restarts the stream */
	memset(buf, 0x5a, sizeof(buf));
	aes_ctr_xor(c, buf, buf, sizeof(buf)); /* in place */
	memset(ref, 0x5a, sizeof(ref));
	ref_ctr(ref, ref, sizeof(ref), k2, iv);
	cr_assert_arr_eq(buf, ref, sizeof(buf));

	aes_ctr_wipe(c); /* still usable after a wipe */
	aes_ctr_init(c, k1, iv);
	aes_ctr_xor(c, buf, NULL, sizeof(buf));
	cr_assert_arr_eq(buf, ks, sizeof(buf));
	aes_ctr_free(c);
	aes_ctr_free(NULL);
}

/*
 * OpenSSL keeps the key schedule (whose first two round keys are the key)
 * in its ordinary heap: after a wipe, a whole stream (aes_ctr_once) and a
 * Sphinx hop's header stream, no live OpenSSL block may hold the key, and
 * the context still gives the right keystream for the next key.
 */
Test(aes_ctr, no_key_copy_in_openssl_after_wipe)
{
	struct sphinx_hop_keys hk;
	uint8_t k[32], iv[16], buf[492], ref[492];

	cr_assert(osslheap_hooks_ok(),
		  "OpenSSL allocated before the constructor ran");
	osslheap_track(true);
	rand_bytes(k, sizeof(k));
	rand_bytes(iv, sizeof(iv));
	osslheap_watch(k);
	struct aes_ctr *c = aes_ctr_new();

	/* The scan sees a keyed context (as a schedule, whatever the AES). */
	aes_ctr_init(c, k, iv);
	cr_assert(osslheap_has_key(k), "scan does not find a keyed context");
	aes_ctr_wipe(c);
	cr_assert(!osslheap_has_key(k), "key left after aes_ctr_wipe");

	memset(buf, 0x33, sizeof(buf));
	memset(ref, 0x33, sizeof(ref));
	aes_ctr_once(c, buf, buf, sizeof(buf), k, iv);
	cr_assert(!osslheap_has_key(k), "key left after aes_ctr_once");
	ref_ctr(ref, ref, sizeof(ref), k, iv);
	cr_assert_arr_eq(buf, ref, sizeof(buf));

	/* The Sphinx header stream, as every hop runs it. */
	rand_bytes(&hk, sizeof(hk));
	sphinx_header_stream(c, &hk, buf, NULL, sizeof(buf));
	cr_assert(!osslheap_has_key(hk.hdr_key),
		  "the hop's header key left in OpenSSL's heap");
	memset(ref, 0, sizeof(ref));
	ref_ctr(ref, ref, sizeof(ref), hk.hdr_key, hk.hdr_iv);
	cr_assert_arr_eq(buf, ref, sizeof(buf));

	aes_ctr_free(c);
	cr_assert(!osslheap_freed_with_key(), "a freed block held the key");
	cr_assert(!osslheap_overflow(),
		  "more OpenSSL blocks than the table holds");
	osslheap_track(false);
	osslheap_watch(NULL);
}
