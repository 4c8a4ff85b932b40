#ifndef BC_APP_BENCH_CRYPTO_H
#define BC_APP_BENCH_CRYPTO_H

#include <stdio.h>

/*
 * Measure each primitive at the sizes the packet format uses and print a
 * table to out: microseconds per operation (best batch) and the cost as a
 * multiple of one X25519 measured in the same run. budget_ms is the time
 * spent on each row (>= 20). Used by `backchannel bench crypto` and by
 * bench/crypto.c. Returns 0, or -1 if crypto_init() fails or an operation
 * reported failure while being measured.
 */
int bench_crypto_run(FILE *out, int budget_ms);

#endif /* BC_APP_BENCH_CRYPTO_H */
