/* Epoch arithmetic and the packet-key schedule: keys ahead, the previous
 * key kept for the grace window only, files private and erased. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"

#include "dir/keysched.h"

static char dir[64];

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/bc-keysched.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(dir_keysched, .init = setup, .fini = teardown);

static bool
file_exists(uint64_t e, mode_t *mode)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/keys/packet-%llu.key", dir,
		 (unsigned long long)e);
	if (stat(path, &st) != 0)
		return false;
	if (mode != NULL)
		*mode = st.st_mode & 0777;
	return true;
}

Test(dir_keysched, epoch_arithmetic)
{
	cr_assert_eq(dir_epoch_at(1000, 30, 999), 0);
	cr_assert_eq(dir_epoch_at(1000, 30, 1000), 0);
	cr_assert_eq(dir_epoch_at(1000, 30, 1029), 0);
	cr_assert_eq(dir_epoch_at(1000, 30, 1030), 1);
	cr_assert_eq(dir_epoch_at(1000, 1200, 1000 + 1200 * 77 + 5), 77);
	cr_assert_eq(dir_epoch_start(1000, 30, 4), 1120);
}

Test(dir_keysched, keys_ahead_grace_and_erasure)
{
	struct keysched ks;
	char err[256], kd[96];
	const uint64_t G = 1000000, L = 30, grace = 10;
	mode_t mode;
	uint8_t pub5[32];

	snprintf(kd, sizeof(kd), "%s/keys", dir);
	cr_assert_eq(keysched_open(&ks, kd, G, L, grace, err, sizeof(err)), 0);
	/* In epoch 5: keys 5..8, files private. */
	cr_assert_eq(
	    keysched_update(&ks, (int64_t)(G + 5 * L + 1), err, sizeof(err)), 0,
	    "%s", err);
	for (uint64_t e = 5; e <= 5 + KEYSCHED_AHEAD; e++) {
		cr_assert_not_null(keysched_get(&ks, e), "epoch %llu",
				   (unsigned long long)e);
		cr_assert(file_exists(e, &mode));
		cr_assert_eq(mode, 0600);
	}
	cr_assert_null(keysched_get(&ks, 4));
	cr_assert_null(keysched_get(&ks, 9));
	memcpy(pub5, keysched_get(&ks, 5)->pub, 32);
	cr_assert_neq(memcmp(pub5, keysched_get(&ks, 6)->pub, 32), 0);

	/* Epoch 6, inside the grace window: 5 is still held. */
	cr_assert_eq(keysched_update(&ks, (int64_t)(G + 6 * L + grace - 1), err,
				     sizeof(err)),
		     0);
	cr_assert_not_null(keysched_get(&ks, 5));
	cr_assert_not_null(keysched_get(&ks, 9));
	cr_assert(file_exists(5, NULL));
	/* Past the grace: erased from memory and disk. */
	cr_assert_eq(keysched_update(&ks, (int64_t)(G + 6 * L + grace), err,
				     sizeof(err)),
		     0);
	cr_assert_null(keysched_get(&ks, 5));
	cr_assert_not(file_exists(5, NULL));
	keysched_close(&ks);

	/* A restart loads the same keys it published. */
	uint8_t pub7[32];
	cr_assert_eq(keysched_open(&ks, kd, G, L, grace, err, sizeof(err)), 0);
	cr_assert_eq(
	    keysched_update(&ks, (int64_t)(G + 6 * L + 20), err, sizeof(err)),
	    0);
	memcpy(pub7, keysched_get(&ks, 7)->pub, 32);
	keysched_close(&ks);
	cr_assert_eq(keysched_open(&ks, kd, G, L, grace, err, sizeof(err)), 0);
	cr_assert_eq(
	    keysched_update(&ks, (int64_t)(G + 6 * L + 21), err, sizeof(err)),
	    0);
	cr_assert_eq(memcmp(pub7, keysched_get(&ks, 7)->pub, 32), 0);
	keysched_close(&ks);

	/* Down for many epochs: every stale file goes, new keys come. */
	cr_assert_eq(keysched_open(&ks, kd, G, L, grace, err, sizeof(err)), 0);
	cr_assert_eq(
	    keysched_update(&ks, (int64_t)(G + 20 * L), err, sizeof(err)), 0);
	for (uint64_t e = 5; e < 20; e++)
		cr_assert_not(file_exists(e, NULL), "epoch %llu left",
			      (unsigned long long)e);
	cr_assert(file_exists(20, NULL));
	keysched_close(&ks);
}

Test(dir_keysched, readable_key_file_refused)
{
	struct keysched ks;
	char err[256], kd[96], path[160];
	const uint64_t G = 1000000, L = 30;

	snprintf(kd, sizeof(kd), "%s/keys", dir);
	cr_assert_eq(keysched_open(&ks, kd, G, L, 10, err, sizeof(err)), 0);
	cr_assert_eq(keysched_update(&ks, (int64_t)(G + 1), err, sizeof(err)),
		     0);
	keysched_close(&ks);
	snprintf(path, sizeof(path), "%s/packet-1.key", kd);
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_eq(keysched_open(&ks, kd, G, L, 10, err, sizeof(err)), 0);
	cr_assert_eq(keysched_update(&ks, (int64_t)(G + 2), err, sizeof(err)),
		     -1);
	cr_assert_not_null(strstr(err, "packet-1.key"), "%s", err);
	keysched_close(&ks);
}
