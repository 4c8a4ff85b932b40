#ifndef BC_APP_BENCH_SPHINX_H
#define BC_APP_BENCH_SPHINX_H

#include <stdio.h>

/*
 * Sphinx at the default geometry (3,082-byte packets), all in one run: one
 * X25519 (libsodium), unwrap of a forward hop, packet creation for 5 hops,
 * and each step of unwrap on its own. Prints microseconds per operation
 * (best batch) and ends with the line `ratio unwrap/x25519 = R`. budget_ms
 * is the time spent per row (>= 20). Used by `backchannel bench sphinx` and
 * bench/sphinx.c. Returns 0, or -1 when the crypto library will not start
 * or a packet does not unwrap.
 */
int bench_sphinx_run(FILE *out, int budget_ms);

#endif /* BC_APP_BENCH_SPHINX_H */
