/*
 * Keys from passphrases: Argon2id (libsodium crypto_pwhash), for the client
 * store. The cost is a parameter so tests can run with the minimum, and the
 * store records which cost it was created with.
 */
#ifndef BC_CRYPTO_PWKDF_H
#define BC_CRYPTO_PWKDF_H

#include <stddef.h>
#include <stdint.h>

#define PWKDF_SALT_LEN 16

/* Argon2id costs: passes over memory and the memory in KiB. */
struct pwkdf_cost {
	uint32_t ops;
	uint32_t mem_kib;
};

/* libsodium's "moderate" (3 passes, 256 MiB): the default for a store. */
void pwkdf_cost_default(struct pwkdf_cost *c);
/* The minimum Argon2id allows (1 pass, 8 KiB): tests only. */
void pwkdf_cost_min(struct pwkdf_cost *c);
/* 0 if c is within libsodium's limits. */
int pwkdf_cost_check(const struct pwkdf_cost *c);

/*
 * Derive outlen (16..64) bytes into out (secret memory, the caller's) from
 * pass (passlen bytes) and salt. Returns 0, or -1 when the costs are out of
 * range or the memory cannot be had.
 */
int pwkdf_derive(uint8_t *out, size_t outlen, const char *pass, size_t passlen,
		 const uint8_t salt[static PWKDF_SALT_LEN],
		 const struct pwkdf_cost *c)
    __attribute__((warn_unused_result));

#endif /* BC_CRYPTO_PWKDF_H */
