/*
 * `backchannel authority`: run a directory authority, or make its key.
 *   backchannel authority --config FILE
 *   backchannel authority --init KEYFILE   (prints the public key)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lib/codec.h"
#include "lib/keyfile.h"
#include "lib/log.h"

#include "crypto/ed25519.h"
#include "crypto/rand.h"
#include "crypto/secret.h"

#include "dir/authority.h"
#include "dir/fetch.h"

#include "app/command.h"

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: backchannel authority --config FILE\n"
		   "       backchannel authority --init KEYFILE\n\n"
		   "Runs a directory authority (docs/directory.md). --init "
		   "writes a new Ed25519\nidentity key (mode 0600) unless the "
		   "file exists, and prints its public key\nfor the "
		   "'authorities' lists of every config.\n\nconfig keys:\n");
	config_print_help(f, authority_config_keys, authority_config_nkeys);
}

/* Writes (if missing) and prints an Ed25519 identity key. */
static int
init_key(const char *path)
{
	struct secret32 *seed = secret32_new();
	uint8_t pub[32], *sk = secret_alloc(ED25519_SECRET_LEN);
	char err[256], b64[64];
	int rc = 1;

	if (keyfile_read_private(path, "ed25519", seed->b, 32, err,
				 sizeof(err)) < 0) {
		FILE *f = fopen(path, "r");
		if (f != NULL) {
			fclose(f);
			fprintf(stderr, "authority: %s\n", err);
			goto done;
		}
		rand_bytes(seed->b, 32);
		if (keyfile_write_private(path, "ed25519", seed->b, 32, err,
					  sizeof(err)) < 0) {
			fprintf(stderr, "authority: %s\n", err);
			goto done;
		}
	}
	ed25519_keypair_from_seed(pub, sk, seed->b);
	if (base64_encode(b64, sizeof(b64), pub, 32) == 0) {
		printf("%s\n", b64);
		rc = 0;
	}
done:
	secret32_wipe(seed);
	secret_free(seed);
	secret_wipe(sk, ED25519_SECRET_LEN);
	secret_free(sk);
	return rc;
}

static int
run(const char *path)
{
	struct authority_config cfg;
	struct authority *a;
	enum log_level lvl;
	char err[300];
	int rc = EXIT_USAGE;

	memset(&cfg, 0, sizeof(cfg)); /* the load sets the defaults */
	if (config_load_file(path, authority_config_keys,
			     authority_config_nkeys, &cfg, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, "authority: %s\n", err);
		goto done;
	}
	if (log_level_parse(cfg.log_level, &lvl) < 0) {
		fprintf(stderr, "authority: bad log_level '%s'\n",
			cfg.log_level);
		goto done;
	}
	log_init("authority", lvl);
	if (dir_http_init() < 0) {
		log_err("cannot initialise libcurl");
		rc = 1;
		goto done;
	}
	a = authority_start(&cfg, err, sizeof(err));
	if (a == NULL) {
		log_err("%s", err);
		rc = 1;
		goto done;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	authority_run(a, &stop_flag);
	log_notice("stopping");
	authority_free(a);
	rc = 0;
done:
	config_free(authority_config_keys, authority_config_nkeys, &cfg);
	return rc;
}

static int
cmd_authority(int argc, char **argv)
{
	if (command_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--config") == 0)
		return run(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--init") == 0)
		return init_key(argv[2]);
	usage(stderr);
	return EXIT_USAGE;
}

COMMAND(authority, "run a directory authority", cmd_authority)
