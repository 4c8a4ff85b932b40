/* Library start-up and the shared OpenSSL digest handles. */
#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/md.h"

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static EVP_MD *md_sha512;
static EVP_MD *md_sha512_256;

/*
 * Fetch each digest once: OpenSSL 3 looks the implementation up again on
 * every EVP_DigestInit_ex() given EVP_sha256(), which costs more than hashing
 * 32 bytes (docs/crypto.md). The handles live for the whole process.
 */
static void
md_fetch_all(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	md_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
	md_sha512_256 = EVP_MD_fetch(NULL, "SHA2-512/256", NULL);
	if (!md_sha256 || !md_sha512 || !md_sha512_256) {
		fputs("crypto: OpenSSL lacks SHA-2 digests\n", stderr);
		abort();
	}
}

const EVP_MD *
crypto_md(enum crypto_md_id id)
{
	pthread_once(&md_once, md_fetch_all);
	switch (id) {
	case CRYPTO_MD_SHA256:
		return md_sha256;
	case CRYPTO_MD_SHA512:
		return md_sha512;
	case CRYPTO_MD_SHA512_256:
		return md_sha512_256;
	}
	abort();
}

static atomic_bool crypto_ready;

int
crypto_init(void)
{
	if (atomic_load(&crypto_ready))
		return 0;
	if (sodium_init() < 0)
		return -1;
	pthread_once(&md_once, md_fetch_all);
	atomic_store(&crypto_ready, true);
	return 0;
}
