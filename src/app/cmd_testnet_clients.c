/*
 * The clients of `backchannel testnet up --clients N`: alice at gw1, bob at
 * gw2, carol at gw1, ... each with DIR/NAME/ holding its store, the key file
 * locking it (so no passphrase prompt), its control socket, and DIR/NAME.ini
 * (whose [client] name, the name its invitations carry, is NAME).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/keyfile.h"
#include "lib/time.h"

#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "net/ctlsock.h"

#include "app/testnet.h"

static const char *const client_names[] = {"alice", "bob",   "carol", "dave",
					   "erin",  "frank", "grace", "heidi",
					   "ivan",  "judy"};
#define N_NAMES (sizeof(client_names) / sizeof(client_names[0]))

int
testnet_client_socket(const char *dir, const char *name, char *out, size_t cap)
{
	struct sockaddr_un a;
	int n = snprintf(out, cap, "%s/%s/client.sock", dir, name);
	return n < 0 || (size_t)n >= cap || (size_t)n >= sizeof(a.sun_path) ? -1
									    : 0;
}

/* The base64 X25519 public key of a node's link key file. */
static int
link_pub(const char *dir, const char *node, char *b64, size_t cap)
{
	char path[600], err[256];
	uint8_t pub[32];
	struct secret32 *k = secret32_new();
	snprintf(path, sizeof(path), "%s/%s/link.key", dir, node);
	int rc =
	    keyfile_read_private(path, "x25519", k->b, 32, err, sizeof(err));
	if (rc == 0) {
		x25519_base(pub, k->b);
		rc = base64_encode(b64, cap, pub, sizeof(pub));
	} else {
		fprintf(stderr, "testnet: %s\n", err);
	}
	SECRET_FREE(k);
	return rc;
}

/* DIR/NAME/ with a fresh store key and DIR/NAME.ini. */
static int
client_files(const struct testnet_state *st, const char *dir,
	     const struct testnet_proc *p, const struct testnet_proc *gw,
	     const char *log_level)
{
	char sub[600], path[700], sock[600], gwkey[64], err[256];
	struct buf b;
	snprintf(sub, sizeof(sub), "%s/%s", dir, p->name);
	if (testnet_client_socket(dir, p->name, sock, sizeof(sock)) != 0) {
		fprintf(stderr, "testnet: %s is too long for a socket path\n",
			dir);
		return -1;
	}
	if ((mkdir(sub, 0700) != 0 && errno != EEXIST) ||
	    link_pub(dir, gw->name, gwkey, sizeof(gwkey)) != 0)
		return -1;
	struct secret32 *k = secret32_new();
	rand_bytes(k->b, 32);
	snprintf(path, sizeof(path), "%s/store.key", sub);
	int rc =
	    keyfile_write_private(path, "x25519", k->b, 32, err, sizeof(err));
	SECRET_FREE(k);
	if (rc != 0) {
		fprintf(stderr, "testnet: %s\n", err);
		return -1;
	}
	buf_init(&b);
	buf_printf(&b,
		   "[client]\nname = %s\ngateway = %s\ngateway_key = %s\n"
		   "authorities = %s\nstore = %s/client.db\n"
		   "key_file = %s/store.key\ncontrol_socket = %s\n"
		   "log_level = %s\n",
		   p->name, gw->listen, gwkey, st->authorities, sub, sub, sock,
		   log_level);
	snprintf(path, sizeof(path), "%s/%s.ini", dir, p->name);
	rc = testnet_write_text(path, (const char *)b.data);
	buf_free(&b);
	return rc;
}

int
testnet_clients_add(struct testnet_state *st, const char *dir, long n,
		    const char *log_level)
{
	size_t gws[TESTNET_MAX_PROCS], n_gw = 0;
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->p[i].kind, "gateway") == 0)
			gws[n_gw++] = i;
	if (n_gw == 0 || st->n + (size_t)n > TESTNET_MAX_PROCS)
		return -1;
	for (long i = 0; i < n; i++) {
		struct testnet_proc *p = &st->p[st->n];
		const struct testnet_proc *gw = &st->p[gws[(size_t)i % n_gw]];
		char name[32];
		if ((size_t)i < N_NAMES)
			snprintf(name, sizeof(name), "%s", client_names[i]);
		else
			snprintf(name, sizeof(name), "client%ld", i + 1);
		memset(p, 0, sizeof(*p));
		snprintf(p->kind, sizeof(p->kind), "client");
		memcpy(p->name, name, sizeof(name));
		memcpy(p->listen, gw->name, sizeof(gw->name));
		snprintf(p->metrics, sizeof(p->metrics), "-");
		snprintf(p->key, sizeof(p->key), "-");
		snprintf(p->log, sizeof(p->log), "%s/%s.log", dir, name);
		if (client_files(st, dir, p, gw, log_level) != 0)
			return -1;
		st->n++;
	}
	return 0;
}

int
testnet_clients_start(struct testnet_state *st, const char *dir,
		      const char *self)
{
	char cfg[700];
	for (size_t i = 0; i < st->n; i++) {
		struct testnet_proc *p = &st->p[i];
		if (strcmp(p->kind, "client") != 0 || p->pid > 0)
			continue;
		snprintf(cfg, sizeof(cfg), "%s/%s.ini", dir, p->name);
		p->pid = testnet_spawn(self, p->kind, cfg, p->log);
		if (p->pid < 0)
			return -1;
	}
	return 0;
}

/* A client's status answer, or NULL when it does not answer. */
static json_t *
client_status(const char *dir, const char *name)
{
	char sock[600], err[300];
	struct buf r;
	json_t *j = NULL;
	if (testnet_client_socket(dir, name, sock, sizeof(sock)) != 0)
		return NULL;
	buf_init(&r);
	if (ctlsock_request(sock, "{\"cmd\":\"status\"}", &r, 2000, err,
			    sizeof(err)) == 0)
		j = json_loadb((const char *)r.data, r.len, 0, NULL);
	buf_free(&r);
	if (j && !json_is_true(json_object_get(j, "ok"))) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static const char *
link_state(json_t *j)
{
	const char *s = json_string_value(
	    json_object_get(json_object_get(j, "gateway"), "state"));
	return s ? s : "?";
}

int
testnet_clients_wait(const struct testnet_state *st, const char *dir,
		     int timeout_s)
{
	int64_t end = time_mono_ms() + (int64_t)timeout_s * 1000;
	for (size_t i = 0; i < st->n; i++) {
		const struct testnet_proc *p = &st->p[i];
		bool ready = false;
		if (strcmp(p->kind, "client") != 0)
			continue;
		while (!ready && time_mono_ms() < end) {
			json_t *j = client_status(dir, p->name);
			ready = j && strcmp(link_state(j), "ready") == 0;
			json_decref(j);
			if (!ready)
				time_sleep_ms(250);
		}
		if (!ready) {
			fprintf(stderr,
				"testnet: client %s not ready at %s within "
				"%d s (log: %s)\n",
				p->name, p->listen, timeout_s, p->log);
			return -1;
		}
		printf("testnet: client %s ready at %s\n", p->name, p->listen);
	}
	return 0;
}

void
testnet_client_status(const char *dir, const struct testnet_proc *p)
{
	json_t *j = client_status(dir, p->name);
	json_t *l = json_object_get(j, "loops");
	if (!j) {
		printf("%-10s %-9s %-7ld %-6s %-8s at %s, no answer on its "
		       "control socket\n",
		       p->name, p->kind, (long)p->pid, "up", "-", p->listen);
		return;
	}
	printf("%-10s %-9s %-7ld %-6s %-8s at %s, loops back %lld/%lld\n",
	       p->name, p->kind, (long)p->pid, "up", link_state(j), p->listen,
	       json_integer_value(json_object_get(l, "back")),
	       json_integer_value(json_object_get(l, "sent")));
	json_decref(j);
}
