/* Library start-up for everything under src/crypto. */
#ifndef BC_CRYPTO_CRYPTO_H
#define BC_CRYPTO_CRYPTO_H

/*
 * Initialise libsodium (and through it the CPU feature detection and the
 * system random source). Idempotent and thread-safe: every program and every
 * test calls it first. Returns 0, or -1 if the library cannot start (then
 * nothing in src/crypto may be used).
 */
int crypto_init(void);

#endif /* BC_CRYPTO_CRYPTO_H */
