/* Argon2id through libsodium (pwkdf.h). */
#include "crypto/pwkdf.h"

#include <sodium.h>

void
pwkdf_cost_default(struct pwkdf_cost *c)
{
	c->ops = crypto_pwhash_OPSLIMIT_MODERATE;
	c->mem_kib = (uint32_t)(crypto_pwhash_MEMLIMIT_MODERATE / 1024);
}

void
pwkdf_cost_min(struct pwkdf_cost *c)
{
	c->ops = crypto_pwhash_OPSLIMIT_MIN;
	c->mem_kib = (uint32_t)(crypto_pwhash_MEMLIMIT_MIN / 1024);
}

int
pwkdf_cost_check(const struct pwkdf_cost *c)
{
	uint64_t mem = (uint64_t)c->mem_kib * 1024;

	if (c->ops < crypto_pwhash_OPSLIMIT_MIN ||
	    c->ops > crypto_pwhash_OPSLIMIT_SENSITIVE * 4)
		return -1;
	if (mem < crypto_pwhash_MEMLIMIT_MIN ||
	    mem > (uint64_t)crypto_pwhash_MEMLIMIT_SENSITIVE * 4)
		return -1;
	return 0;
}

int
pwkdf_derive(uint8_t *out, size_t outlen, const char *pass, size_t passlen,
	     const uint8_t salt[static PWKDF_SALT_LEN],
	     const struct pwkdf_cost *c)
{
	if (outlen < 16 || outlen > 64 || pwkdf_cost_check(c) < 0)
		return -1;
	return crypto_pwhash(out, outlen, pass, passlen, salt, c->ops,
			     (size_t)c->mem_kib * 1024,
			     crypto_pwhash_ALG_ARGON2ID13) == 0
		   ? 0
		   : -1;
}
