/*
 * The authority's sign log: the promise "at most one document per epoch"
 * must survive a crash, so the record is on disk (fsync'd) before the
 * signature is served to anyone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/codec.h"
#include "lib/log.h"

#include "dir/authority_state.h"
#include "dir/tally.h"

static void
log_path(const struct authority *a, char *out, size_t cap)
{
	snprintf(out, cap, "%s/signed.log", a->cfg.data_dir);
}

static void
remember(struct authority *a, uint64_t epoch, const uint8_t hash[32])
{
	if (a->n_signed == AUTH_SIGNLOG_MAX) {
		memmove(&a->signed_epoch[0], &a->signed_epoch[1],
			(AUTH_SIGNLOG_MAX - 1) * sizeof(a->signed_epoch[0]));
		memmove(&a->signed_hash[0], &a->signed_hash[1],
			(AUTH_SIGNLOG_MAX - 1) * sizeof(a->signed_hash[0]));
		a->n_signed--;
	}
	a->signed_epoch[a->n_signed] = epoch;
	memcpy(a->signed_hash[a->n_signed], hash, 32);
	a->n_signed++;
}

int
auth_signlog_load(struct authority *a, char *err, size_t errlen)
{
	char path[300], line[128];
	FILE *f;
	unsigned n = 0;

	log_path(a, path, sizeof(path));
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long e;
		char hex[80];
		uint8_t h[32];
		n++;
		if (sscanf(line, "%llu %79s", &e, hex) != 2 ||
		    strlen(hex) != 64 || hex_decode_exact(h, 32, hex) < 0) {
			snprintf(err, errlen,
				 "%s line %u: corrupt; refusing "
				 "to run without knowing what was signed",
				 path, n);
			fclose(f);
			return -1;
		}
		remember(a, e, h);
	}
	fclose(f);
	return 0;
}

int
auth_signlog_find(const struct authority *a, uint64_t epoch, uint8_t hash[32])
{
	for (size_t i = a->n_signed; i-- > 0;)
		if (a->signed_epoch[i] == epoch) {
			memcpy(hash, a->signed_hash[i], 32);
			return 1;
		}
	return 0;
}

int
auth_signlog_record(struct authority *a, uint64_t epoch, const uint8_t hash[32])
{
	char path[300], hex[65], line[100];
	int fd, n, rc = -1;

	log_path(a, path, sizeof(path));
	dir_hash_hex(hash, hex);
	n = snprintf(line, sizeof(line), "%llu %s\n", (unsigned long long)epoch,
		     hex);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_err("sign log %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, line, (size_t)n) == n && fsync(fd) == 0)
		rc = 0;
	else
		log_err("sign log %s: write failed: %s", path, strerror(errno));
	close(fd);
	if (rc == 0) {
		/* The file may be new: make its directory entry durable. */
		int dfd = open(a->cfg.data_dir, O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		remember(a, epoch, hash);
	}
	return rc;
}
