/*
 * `backchannel keygen [--type ed25519|x25519] FILE`: writes a new private
 * key file (mode 0600; an existing file is never overwritten) and prints
 * the public key in base64.  Nodes need an ed25519 identity key and an
 * x25519 link key.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/codec.h"
#include "lib/keyfile.h"

#include "crypto/ed25519.h"
#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "app/command.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: backchannel keygen [--type ed25519|x25519] FILE\n\n"
		   "Writes a new private key to FILE (mode 0600, refused if "
		   "FILE exists) and\nprints its public key in base64. "
		   "ed25519 (the default): a node's identity\nkey. x25519: a "
		   "node's link key.\n");
}

static int
write_key(const char *path, const char *type)
{
	char err[256], b64[64];
	uint8_t pub[32];
	struct secret32 *seed = secret32_new();
	uint8_t *sk = secret_alloc(ED25519_SECRET_LEN);
	int rc = 1;
	struct stat st;
	if (stat(path, &st) == 0) {
		fprintf(stderr,
			"backchannel keygen: %s exists; not "
			"overwriting a key\n",
			path);
		goto done;
	}
	if (strcmp(type, "ed25519") == 0) {
		rand_bytes(seed->b, 32);
		ed25519_keypair_from_seed(pub, sk, seed->b);
	} else {
		x25519_keypair(pub, seed->b);
	}
	if (keyfile_write_private(path, type, seed->b, 32, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "backchannel keygen: %s\n", err);
		goto done;
	}
	base64_encode(b64, sizeof(b64), pub, sizeof(pub));
	printf("%s\n", b64);
	rc = 0;
done:
	SECRET_FREE(seed);
	SECRET_FREE(sk);
	return rc;
}

static int
cmd_keygen(int argc, char **argv)
{
	const char *type = "ed25519";
	if (command_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	int i = 1;
	if (argc == 4 && strcmp(argv[1], "--type") == 0) {
		type = argv[2];
		i = 3;
	}
	if (i != argc - 1 ||
	    (strcmp(type, "ed25519") != 0 && strcmp(type, "x25519") != 0)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return write_key(argv[i], type);
}

COMMAND(keygen, "write a new key file (mode 0600)", cmd_keygen)
