/*
 * A watch on OpenSSL's heap, for tests that a key is not left in memory
 * OpenSSL allocated (which is neither locked nor kept out of core dumps).
 *
 * Linking this file replaces OpenSSL's allocator, from a constructor that
 * runs before main (Criterion's own start-up already makes OpenSSL
 * allocate), by one that lists the blocks it hands out while tracking is
 * on. A key is "held" by a block that contains 8 bytes of it in a row, as
 * bytes or as 32-bit words of the other byte order (how a C AES key
 * schedule stores the key).
 */
#ifndef BC_TESTS_OSSLHEAP_H
#define BC_TESTS_OSSLHEAP_H

#include <stdbool.h>
#include <stdint.h>

/* false if OpenSSL had allocated before the hooks went in (no tracking). */
bool osslheap_hooks_ok(void);

/* Start or stop listing the blocks OpenSSL allocates (and frees). */
void osslheap_track(bool on);

/* True if a live block allocated while tracking holds the key. */
bool osslheap_has_key(const uint8_t k[32]);

/* Watch frees for this key (NULL: stop); true if a tracked block holding
 * it was freed since the last call of osslheap_watch. */
void osslheap_watch(const uint8_t *k);
bool osslheap_freed_with_key(void);

/* True if more blocks were live than the table holds (a test bug). */
bool osslheap_overflow(void);

#endif /* BC_TESTS_OSSLHEAP_H */
