/*
 * Random numbers. In normal operation every byte comes from the operating
 * system's CSPRNG (libsodium randombytes). Every other module draws its
 * randomness through here, so that tests can make it reproducible.
 */
#ifndef BC_CRYPTO_RAND_H
#define BC_CRYPTO_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with n random bytes. */
void rand_bytes(void *buf, size_t n);

/* Uniform in [0, upper) without modulo bias; 0 when upper < 2. */
uint32_t rand_uniform(uint32_t upper);

/* A uniformly random 64-bit value. */
uint64_t rand_u64(void);

/* Uniform double in [0, 1) with 53 random bits. */
double rand_unit(void);

/*
 * A sample of the exponential distribution with the given mean (> 0): the
 * delays and send intervals of the Poisson processes in the mix design.
 * Never returns infinity: the uniform draw is taken from (0, 1].
 */
double rand_exp(double mean);

/*
 * TEST ONLY. Switch the whole process to a deterministic generator: the
 * ChaCha20 keystream (key derived from seed, zero nonce), so a test draws
 * the same bytes every run. Its output is predictable by anyone who knows the
 * seed: production code must never call this. rand_set_system() returns to
 * the operating system's generator.
 */
void rand_set_deterministic(uint64_t seed);
void rand_set_system(void);

#endif /* BC_CRYPTO_RAND_H */
