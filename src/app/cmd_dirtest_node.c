/*
 * `backchannel dirtest-node`: a descriptor-uploading test node for the
 * directory tests (tests/net/directory.sh), and a consensus checker.
 *   backchannel dirtest-node --config FILE               run: upload, fetch
 *   backchannel dirtest-node --config FILE --print-descriptor [KEYFILE]
 *   backchannel dirtest-node --config FILE --verify FILE...
 *   backchannel dirtest-node --config FILE --forge KEYFILE,... FILE
 * --print-descriptor prints this node's signed descriptor of the next
 * epoch (the one uploaded ahead) (signed by KEYFILE instead, if given: a
 * wrong-key test). --verify checks consensus files as a node would, including
 * the equivocation check across them. --forge re-signs FILE with a changed
 * parameter using the given authority keys: a conflicting consensus, for tests
 * only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/config.h"
#include "lib/keyfile.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/ed25519.h"
#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "dir/authset.h"
#include "dir/fetch.h"
#include "dir/keysched.h"
#include "dir/node_dir.h"
#include "dir/tally.h"
#include "dir/verify.h"

#include "app/command.h"

struct tn_config {
	char *identity_key;
	char *data_dir;
	char *address;
	char *role;
	char *authorities;
	char *log_level;
	int64_t step_ms;
	int64_t genesis;
	int64_t epoch_length_ms;
	int64_t grace_ms;
};

#define OFF(f) offsetof(struct tn_config, f)

static const struct config_key tn_keys[] = {
    {"node", "identity_key", CONFIG_STRING, OFF(identity_key), NULL, 0, 0,
     "Ed25519 identity key file (created if missing)"},
    {"node", "data_dir", CONFIG_STRING, OFF(data_dir), NULL, 0, 0,
     "directory for packet keys"},
    {"node", "address", CONFIG_STRING, OFF(address), "127.0.0.1:7200", 0, 0,
     "host:port published in the descriptor"},
    {"node", "role", CONFIG_STRING, OFF(role), "mix", 0, 0,
     "mix or gateway (a gateway offers echo and drop)"},
    {"node", "authorities", CONFIG_STRING, OFF(authorities), NULL, 0, 0,
     "the directory authorities: KEY@host:port, ... (or a file of them)"},
    {"node", "log_level", CONFIG_STRING, OFF(log_level), "notice", 0, 0,
     "err, warn, notice, info or debug"},
    {"node", "step", CONFIG_DURATION_MS, OFF(step_ms), "2s", 100, 600000,
     "time between directory rounds"},
    {"network", "genesis", CONFIG_INT, OFF(genesis), "1767225600", 0,
     1099511627776.0, "unix time at which epoch 0 starts"},
    {"network", "epoch_length", CONFIG_DURATION_MS, OFF(epoch_length_ms), "20m",
     10000, 604800000, "length of an epoch"},
    {"network", "grace", CONFIG_DURATION_MS, OFF(grace_ms), "2m", 1000,
     604800000, "previous packet key kept this long"},
};

#define NKEYS (sizeof(tn_keys) / sizeof(tn_keys[0]))

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
	fprintf(f, "usage: backchannel dirtest-node --config FILE "
		   "[--print-descriptor [KEYFILE] | --verify FILE... |\n"
		   "                                               --forge "
		   "KEYFILE,... FILE]\n\n"
		   "A test node for the directory: uploads its descriptor "
		   "every epoch, fetches and\nverifies the consensus, stops "
		   "on clock skew or conflicting consensuses.\n\n"
		   "config keys:\n");
	config_print_help(f, tn_keys, NKEYS);
}

/* Reads an Ed25519 key file, making it first if it does not exist. */
static int
ensure_key(const char *path, const char *type, uint8_t pub[32])
{
	struct secret32 *s = secret32_new();
	char err[256];
	int rc = -1;
	FILE *f = fopen(path, "r");

	if (f != NULL) {
		fclose(f);
		if (keyfile_read_private(path, type, s->b, 32, err,
					 sizeof(err)) < 0)
			goto fail;
	} else {
		rand_bytes(s->b, 32);
		if (keyfile_write_private(path, type, s->b, 32, err,
					  sizeof(err)) < 0)
			goto fail;
	}
	if (strcmp(type, "x25519") == 0) {
		x25519_base(pub, s->b);
	} else {
		uint8_t *sk = secret_alloc(ED25519_SECRET_LEN);
		ed25519_keypair_from_seed(pub, sk, s->b);
		secret_free(sk);
	}
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "dirtest-node: %s\n", err);
done:
	secret32_wipe(s);
	secret_free(s);
	return rc;
}

static int
read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char tmp[4096];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "dirtest-node: cannot open %s\n", path);
		return -1;
	}
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0 &&
	       out->len < DIR_DOC_MAX + 1)
		buf_append(out, tmp, n);
	fclose(f);
	return 0;
}

/* Verifies each file as a node would; equivocation across them stops. */
static int
verify_files(const struct dir_authset *as, int n, char **files)
{
	struct dir_seen seen;
	int bad = 0;

	memset(&seen, 0, sizeof(seen));
	for (int i = 0; i < n; i++) {
		struct buf b;
		struct dir_consensus c;
		uint8_t hash[32];
		char err[400], hex[65];

		buf_init(&b);
		if (read_file(files[i], &b) < 0) {
			bad++;
		} else if (dir_verify_consensus((const char *)b.data, b.len, as,
						time_wall_s(),
						DIR_VERIFY_FUTURE, &c, hash,
						err, sizeof(err)) < 0) {
			printf("%s: rejected: %s\n", files[i], err);
			bad++;
		} else {
			int conflict = dir_seen_check(&seen, c.epoch, hash, err,
						      sizeof(err));
			dir_hash_hex(hash, hex);
			dir_consensus_clear(&c);
			if (conflict < 0) {
				printf("%s: FATAL: %s\n", files[i], err);
				buf_free(&b);
				return 3;
			}
			printf("%s: valid, epoch %llu, %s\n", files[i],
			       (unsigned long long)c.epoch, hex);
		}
		buf_free(&b);
	}
	return bad ? 1 : 0;
}

/* Signs a changed copy of a consensus with the given authority keys. */
static int
forge(const char *keys, const char *file)
{
	struct buf in, body, out;
	struct dir_consensus c;
	char err[300], list[1024];
	size_t blen;
	int rc = 1;

	buf_init(&in);
	buf_init(&body);
	buf_init(&out);
	if (read_file(file, &in) < 0 ||
	    dir_consensus_parse((const char *)in.data, in.len, &c, &blen, err,
				sizeof(err)) < 0) {
		fprintf(stderr, "dirtest-node: cannot read %s\n", file);
		goto done;
	}
	c.params.lambda_p += 1; /* a different document, equally valid */
	c.n_sigs = 0;
	if (dir_consensus_encode_body(&c, &body) < 0)
		goto clear;
	snprintf(list, sizeof(list), "%s", keys);
	for (char *k = list, *next; k != NULL && *k != '\0'; k = next) {
		next = strchr(k, ',');
		if (next != NULL)
			*next++ = '\0';
		struct secret32 *seed = secret32_new();
		uint8_t *sk = secret_alloc(ED25519_SECRET_LEN);
		struct dir_signature s;
		int ok = keyfile_read_private(k, "ed25519", seed->b, 32, err,
					      sizeof(err)) == 0;
		if (ok) {
			ed25519_keypair_from_seed(s.authority, sk, seed->b);
			ed25519_sign(s.sig, body.data, body.len, sk);
			ok = dir_consensus_add_sig(&c, &s) == 0;
		}
		secret32_wipe(seed);
		secret_free(seed);
		secret_wipe(sk, ED25519_SECRET_LEN);
		secret_free(sk);
		if (!ok)
			goto clear;
	}
	if (dir_consensus_encode(&c, &out) == 0 &&
	    fwrite(out.data, 1, out.len, stdout) == out.len)
		rc = 0;
clear:
	dir_consensus_clear(&c);
done:
	buf_free(&in);
	buf_free(&body);
	buf_free(&out);
	return rc;
}

static struct node_dir *
open_node(const struct tn_config *cfg, char *keydir, size_t cap)
{
	struct node_dir_config nc;
	char err[300], link_path[300];

	memset(&nc, 0, sizeof(nc));
	snprintf(keydir, cap, "%s/keys", cfg->data_dir);
	snprintf(link_path, sizeof(link_path), "%s/link.key", cfg->data_dir);
	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "dirtest-node: %s: %s\n", cfg->data_dir,
			strerror(errno));
		return NULL;
	}
	uint8_t idpub[32];
	if (ensure_key(cfg->identity_key, "ed25519", idpub) < 0 ||
	    ensure_key(link_path, "x25519", nc.link_key) < 0)
		return NULL;
	nc.authorities = cfg->authorities;
	nc.genesis = (uint64_t)cfg->genesis;
	nc.epoch_len = (uint32_t)(cfg->epoch_length_ms / 1000);
	nc.grace = (uint32_t)(cfg->grace_ms / 1000);
	nc.identity_key = cfg->identity_key;
	nc.key_dir = keydir;
	nc.address = cfg->address;
	nc.role =
	    strcmp(cfg->role, "gateway") == 0 ? DIR_ROLE_GATEWAY : DIR_ROLE_MIX;
	nc.services = nc.role == DIR_ROLE_GATEWAY
			  ? DIR_SERVICE_ECHO | DIR_SERVICE_DROP
			  : 0;
	nc.version = BC_VERSION;
	struct node_dir *nd = node_dir_open(&nc, err, sizeof(err));
	if (nd == NULL)
		fprintf(stderr, "dirtest-node: %s\n", err);
	return nd;
}

static int
run_node(struct node_dir *nd, const struct tn_config *cfg)
{
	char err[512];

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	log_notice("test node %s (%s) started", cfg->address, cfg->role);
	while (!stop_flag) {
		if (node_dir_step(nd, time_wall_s(), err, sizeof(err)) ==
		    NODE_DIR_FATAL) {
			log_err("FATAL: %s", err);
			return 1;
		}
		for (int64_t t = 0; t < cfg->step_ms && !stop_flag; t += 100)
			time_sleep_ms(100);
	}
	log_notice("stopping");
	return 0;
}

static int
print_descriptor(struct node_dir *nd, const struct tn_config *cfg,
		 const char *other)
{
	struct buf b;
	char err[300];
	int64_t now = time_wall_s();
	uint64_t e =
	    dir_epoch_at((uint64_t)cfg->genesis,
			 (uint32_t)(cfg->epoch_length_ms / 1000), now) +
	    1;
	int rc = 1;

	buf_init(&b);
	if (node_dir_update_keys(nd, now, err, sizeof(err)) == 0 &&
	    node_dir_descriptor(nd, e, other, &b, err, sizeof(err)) == 0 &&
	    fwrite(b.data, 1, b.len, stdout) == b.len)
		rc = 0;
	else
		fprintf(stderr, "dirtest-node: %s\n", err);
	buf_free(&b);
	return rc;
}

static int
cmd_dirtest_node(int argc, char **argv)
{
	struct tn_config cfg;
	struct dir_authset as;
	enum log_level lvl;
	char err[300], keydir[300];
	struct node_dir *nd = NULL;
	int rc = EXIT_USAGE;

	if (command_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "--config") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	memset(&cfg, 0, sizeof(cfg)); /* the load sets the defaults */
	if (config_load_file(argv[2], tn_keys, NKEYS, &cfg, err, sizeof(err)) <
		0 ||
	    log_level_parse(cfg.log_level, &lvl) < 0 ||
	    dir_authset_load(&as, cfg.authorities, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirtest-node: %s\n", err);
		goto done;
	}
	log_init("dirtest-node", lvl);
	if (argc >= 4 && strcmp(argv[3], "--verify") == 0) {
		rc = verify_files(&as, argc - 4, argv + 4);
		goto done;
	}
	if (argc == 6 && strcmp(argv[3], "--forge") == 0) {
		rc = forge(argv[4], argv[5]);
		goto done;
	}
	rc = 1;
	if (dir_http_init() < 0 ||
	    (nd = open_node(&cfg, keydir, sizeof(keydir))) == NULL)
		goto done;
	if (argc >= 4 && strcmp(argv[3], "--print-descriptor") == 0)
		rc = print_descriptor(nd, &cfg, argc >= 5 ? argv[4] : NULL);
	else if (argc == 3)
		rc = run_node(nd, &cfg);
	else
		rc = EXIT_USAGE;
done:
	node_dir_free(nd);
	config_free(tn_keys, NKEYS, &cfg);
	return rc;
}

/* Registered by hand: COMMAND() cannot spell a name with a dash. */
static const struct command command_dirtest_node = {
    "dirtest-node", "directory test node (for tests)", cmd_dirtest_node};

__attribute__((constructor)) static void
command_reg_dirtest_node(void)
{
	command_register(&command_dirtest_node);
}
