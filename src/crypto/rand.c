/*
 * Randomness. System mode reads libsodium's randombytes (getrandom(2)).
 * Deterministic mode, for tests only, is a ChaCha20 keystream DRBG: key =
 * BLAKE2b-256("backchannel-test-drbg" || seed little-endian), zero nonce,
 * consumed block by block; it is guarded by a mutex so tests with threads
 * still get one well-defined stream.
 */
#include "crypto/rand.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "crypto/crypto.h"

struct drbg {
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint8_t block[64];
	size_t used;      /* bytes of block already handed out */
	uint64_t counter; /* next block number */
};

static atomic_bool det_mode;
static pthread_mutex_t det_lock = PTHREAD_MUTEX_INITIALIZER;
static struct drbg det;

static void
drbg_refill(struct drbg *d)
{
	static const uint8_t zero_nonce[crypto_stream_chacha20_NONCEBYTES];

	memset(d->block, 0, sizeof(d->block));
	crypto_stream_chacha20_xor_ic(d->block, d->block, sizeof(d->block),
				      zero_nonce, d->counter, d->key);
	d->counter++;
	d->used = 0;
}

static void
drbg_read(struct drbg *d, uint8_t *out, size_t n)
{
	size_t k;

	while (n > 0) {
		if (d->used == sizeof(d->block))
			drbg_refill(d);
		k = sizeof(d->block) - d->used;
		if (k > n)
			k = n;
		memcpy(out, d->block + d->used, k);
		/* Bytes handed out are forgotten, as in any DRBG. */
		sodium_memzero(d->block + d->used, k);
		d->used += k;
		out += k;
		n -= k;
	}
}

void
rand_set_deterministic(uint64_t seed)
{
	static const char label[] = "backchannel-test-drbg";
	uint8_t in[sizeof(label) - 1 + 8];
	int i;

	(void)crypto_init();
	memcpy(in, label, sizeof(label) - 1);
	for (i = 0; i < 8; i++)
		in[sizeof(label) - 1 + (size_t)i] = (uint8_t)(seed >> (8 * i));
	pthread_mutex_lock(&det_lock);
	crypto_generichash(det.key, sizeof(det.key), in, sizeof(in), NULL, 0);
	det.counter = 0;
	det.used = sizeof(det.block);
	atomic_store(&det_mode, true);
	pthread_mutex_unlock(&det_lock);
}

void
rand_set_system(void)
{
	pthread_mutex_lock(&det_lock);
	atomic_store(&det_mode, false);
	sodium_memzero(&det, sizeof(det));
	pthread_mutex_unlock(&det_lock);
}

void
rand_bytes(void *buf, size_t n)
{
	if (n == 0)
		return;
	if (atomic_load(&det_mode)) {
		pthread_mutex_lock(&det_lock);
		drbg_read(&det, buf, n);
		pthread_mutex_unlock(&det_lock);
		return;
	}
	randombytes_buf(buf, n);
}

uint64_t
rand_u64(void)
{
	uint8_t b[8];
	uint64_t v = 0;
	int i;

	rand_bytes(b, sizeof(b));
	for (i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint32_t
rand_u32(void)
{
	uint8_t b[4];

	rand_bytes(b, sizeof(b));
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

/*
 * Rejection sampling: draws below 2^32 mod upper are refused, so every
 * residue is equally likely.
 */
uint32_t
rand_uniform(uint32_t upper)
{
	uint32_t min, r;

	if (upper < 2)
		return 0;
	min = (uint32_t)(-upper) % upper;
	do {
		r = rand_u32();
	} while (r < min);
	return r % upper;
}

double
rand_unit(void)
{
	return (double)(rand_u64() >> 11) * 0x1.0p-53;
}

double
rand_exp(double mean)
{
	/* u in (0, 1]: log(u) is finite and <= 0. */
	double u = (double)((rand_u64() >> 11) + 1) * 0x1.0p-53;

	return -mean * log(u);
}
