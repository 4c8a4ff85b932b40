/*
 * Internal to src/crypto: the OpenSSL digest handles fetched once per
 * process, and EVP helpers that abort on OOM instead of returning NULL.
 */
#ifndef BC_CRYPTO_MD_H
#define BC_CRYPTO_MD_H

#include <openssl/evp.h>

enum crypto_md_id {
	CRYPTO_MD_SHA256,
	CRYPTO_MD_SHA512,
	CRYPTO_MD_SHA512_256,
};

/* The fetched digest; never NULL (aborts if OpenSSL lacks it). */
const EVP_MD *crypto_md(enum crypto_md_id id);

/* A digest context initialised for id; never NULL. */
EVP_MD_CTX *crypto_md_ctx_new(enum crypto_md_id id);

/* Feed / finish, aborting on the (allocation-only) failures of OpenSSL. */
void crypto_md_update(EVP_MD_CTX *c, const void *in, size_t len);
void crypto_md_final(EVP_MD_CTX *c, unsigned char *out);

#endif /* BC_CRYPTO_MD_H */
