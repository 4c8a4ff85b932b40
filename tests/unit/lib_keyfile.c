#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/keyfile.h"

static char dir[] = "/tmp/bc-keyfile-XXXXXX";

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static void
path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void
write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

TestSuite(keyfile, .init = setup, .fini = teardown);

Test(keyfile, private_round_trip_mode_0600)
{
	char p[256], err[256];
	uint8_t key[32], back[32];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(i * 7);
	path_in(p, sizeof(p), "id.key");
	cr_assert_eq(keyfile_write_private(p, "x25519", key, 32, err,
					   sizeof(err)),
		     0, "%s", err);
	struct stat st;
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(keyfile_read_private(p, "x25519", back, 32, err,
					  sizeof(err)),
		     0, "%s", err);
	cr_assert_arr_eq(key, back, 32);
	cr_assert_eq(keyfile_write_private(p, "x25519", key, 32, err,
					   sizeof(err)),
		     -1, "never overwrites a key");
	cr_assert(strstr(err, "exists already") != NULL);
}

Test(keyfile, refuses_readable_by_others)
{
	char p[256], err[256];
	uint8_t key[32] = {1}, back[32];
	path_in(p, sizeof(p), "open.key");
	cr_assert_eq(keyfile_write_private(p, "ed25519", key, 32, err,
					   sizeof(err)),
		     0);
	chmod(p, 0644);
	cr_assert_eq(keyfile_read_private(p, "ed25519", back, 32, err,
					  sizeof(err)),
		     -1);
	cr_assert(strstr(err, "readable by others (mode 644)") != NULL, "%s",
		  err);
	chmod(p, 0640);
	cr_assert_eq(keyfile_read_private(p, "ed25519", back, 32, err,
					  sizeof(err)),
		     -1);
}

Test(keyfile, public_and_wrong_type)
{
	char p[256], err[256];
	uint8_t key[32] = {9}, back[32];
	path_in(p, sizeof(p), "id.pub");
	cr_assert_eq(keyfile_write_public(p, "ed25519", key, 32, err,
					  sizeof(err)),
		     0);
	cr_assert_eq(keyfile_read_public(p, "ed25519", back, 32, err,
					 sizeof(err)),
		     0, "%s", err);
	cr_assert_arr_eq(key, back, 32);
	cr_assert_eq(keyfile_read_public(p, "x25519", back, 32, err,
					 sizeof(err)),
		     -1);
	cr_assert(strstr(err, "wrong key type") != NULL);
	cr_assert_eq(keyfile_read_private(p, "ed25519", back, 32, err,
					  sizeof(err)),
		     -1, "a public file is no private key");
}

Test(keyfile, malformed_files)
{
	static const char *bad[] = {
		"type x25519\nprivate AAAA\n",		   /* too short */
		"type x25519\nprivate !!!!\n",		   /* not base64 */
		"private AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"type x25519\n",			   /* no key */
		"type x25519\nfoo bar\n",		   /* junk line */
		("type x25519\ntype x25519\nprivate "
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
		"",
	};
	char p[256], err[256];
	uint8_t back[32];
	path_in(p, sizeof(p), "bad.key");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(p, bad[i], 0600);
		cr_assert_eq(keyfile_read_private(p, "x25519", back, 32, err,
						  sizeof(err)),
			     -1, "case %zu", i);
		for (int j = 0; j < 32; j++)
			cr_assert_eq(back[j], 0, "wiped on failure");
	}
	write_text(p,
		   "# c\n\ntype x25519\r\nprivate "
		   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		   0600);
	cr_assert_eq(keyfile_read_private(p, "x25519", back, 32, err,
					  sizeof(err)),
		     0, "%s", err);
	path_in(p, sizeof(p), "missing.key");
	cr_assert_eq(keyfile_read_private(p, "x25519", back, 32, err,
					  sizeof(err)),
		     -1);
}
