/*
 * `backchannel testnet up|status|down|inject --dir DIR ...`: a whole network
 * on 127.0.0.1 from generated keys and configs: 3 authorities, 3 layers of
 * mixes and the gateways, each its own process with its own log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/keyfile.h"
#include "lib/time.h"

#include "crypto/ed25519.h"
#include "crypto/rand.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#include "wire/dir_consensus.h"

#include "dir/authset.h"
#include "dir/fetch.h"
#include "dir/verify.h"

#include "app/command.h"
#include "app/testnet.h"

struct up_opts {
	const char *dir;
	const char *name;
	bool sigkill;
	long mixes_per_layer;
	long gateways;
	long epoch_s;
	long clients;
	long mean_delay_ms;
	long max_delay_ms;
	const char *log_level;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: backchannel testnet up --dir DIR [--mixes-per-layer N] "
		"[--gateways N]\n"
		"                             [--clients N] [--epoch SECONDS] "
		"[--log-level LEVEL]\n"
		"                             [--mean-delay MS] "
		"[--max-delay MS]\n"
		"       backchannel testnet status --dir DIR\n"
		"       backchannel testnet down --dir DIR\n"
		"       backchannel testnet stop|start --dir DIR --name NAME "
		"[--sigkill]\n"
		"       backchannel testnet inject --dir DIR ... (inject "
		"--help)\n\n"
		"A whole network on 127.0.0.1: 3 directory authorities, 3 "
		"layers of mixes\n(default 2 per layer) and gateways "
		"(default 2), with epochs of 30 s (at\nleast 30). 'up' "
		"generates keys and configs under DIR, starts every process,\n"
		"waits for the first consensus and for the links, and prints "
		"what runs where.\n--clients N also starts N client daemons "
		"(alice at gw1, bob at gw2, ...: a\nconfig, a key-file store "
		"and DIR/NAME/client.sock each) and waits until they\nare "
		"ready. Per-hop delays: mean 10 ms, max 200 ms unless given. "
		"Client rates\nare faster than a real network's: lambda_p 5/s, "
		"lambda_l 1/s, lambda_d 1/s,\nlambda_f 10/s.\n"
		"'down' stops everything (SIGTERM, then "
		"SIGKILL after 10 s).\n'stop' stops one process, a client "
		"too (--sigkill: at once, as a crash\nwould), 'start' starts "
		"it again with its keys, config and data.\n");
}

/* A free TCP port on 127.0.0.1 (the kernel's choice, released at once). */
static uint16_t
pick_port_once(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	uint16_t port = 0;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A free port not handed out before in this run: a port is released as
 * soon as it is picked, so the kernel may offer it again (two nodes of one
 * network were once given the same one). */
static uint16_t
pick_port(void)
{
	static uint16_t given[256];
	static size_t n_given;
	for (int tries = 0; tries < 100; tries++) {
		uint16_t port = pick_port_once();
		bool dup = false;
		for (size_t i = 0; i < n_given; i++)
			dup |= given[i] == port;
		if (port == 0 || dup)
			continue;
		if (n_given < sizeof(given) / sizeof(given[0]))
			given[n_given++] = port;
		return port;
	}
	return 0;
}

int
testnet_write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

/* Writes an Ed25519 identity key (and, with link, an X25519 link key) into
 * dir; the identity's public key in base64 into pub64. */
static int
make_keys(const char *dir, bool link, char *pub64, size_t cap)
{
	char path[600], err[256];
	uint8_t pub[32];
	struct secret32 *seed = secret32_new();
	uint8_t *sk = secret_alloc(ED25519_SECRET_LEN);
	int rc = -1;
	rand_bytes(seed->b, 32);
	ed25519_keypair_from_seed(pub, sk, seed->b);
	snprintf(path, sizeof(path), "%s/identity.key", dir);
	if (keyfile_write_private(path, "ed25519", seed->b, 32, err,
				  sizeof(err)) != 0)
		goto done;
	base64_encode(pub64, cap, pub, 32);
	if (link) {
		x25519_keypair(pub, seed->b);
		snprintf(path, sizeof(path), "%s/link.key", dir);
		if (keyfile_write_private(path, "x25519", seed->b, 32, err,
					  sizeof(err)) != 0)
			goto done;
	}
	rc = 0;
done:
	if (rc != 0)
		fprintf(stderr, "testnet: %s\n", err);
	SECRET_FREE(seed);
	SECRET_FREE(sk);
	return rc;
}

/* The subcommand that runs a process of this kind. */
static const char *
kind_cmd(const char *kind)
{
	if (strcmp(kind, "authority") == 0)
		return "authority";
	return strcmp(kind, "client") == 0 ? "client" : "node";
}

pid_t
testnet_spawn(const char *self, const char *kind, const char *cfg,
	      const char *log)
{
	const char *cmd = kind_cmd(kind);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* Child: its own session, so the terminal's ^C is not its signal. */
	setsid();
	int in = open("/dev/null", O_RDONLY);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (in < 0 || out < 0)
		_exit(127);
	dup2(in, 0);
	dup2(out, 1);
	dup2(out, 2);
	close(in);
	close(out);
	char flag[] = "--config";
	char *argv[] = {(char *)(uintptr_t)self, (char *)(uintptr_t)cmd, flag,
			(char *)(uintptr_t)cfg, NULL};
	execv(self, argv);
	_exit(127);
}

/* Client rates faster than a real network's defaults (docs/client.md):
 * the demo and the tests wait less for sends, fetches and loops. */
static void
network_ini(struct buf *b, int64_t genesis, const struct up_opts *o,
	    bool authority)
{
	buf_printf(b,
		   "[network]\ngenesis = %lld\nepoch_length = %lds\n"
		   "grace = 10s\n",
		   (long long)genesis, o->epoch_s);
	if (authority)
		buf_printf(b,
			   "mean_delay = %ldms\nmax_delay = %ldms\n"
			   "mix_loop_rate = 1.0\nlambda_p = 5.0\n"
			   "lambda_l = 1.0\nlambda_d = 1.0\n"
			   "lambda_f = 10.0\n",
			   o->mean_delay_ms, o->max_delay_ms);
}

static int
state_write(const char *dir, const struct testnet_state *st)
{
	struct buf b;
	char path[600];
	buf_init(&b);
	buf_printf(&b,
		   "# backchannel testnet: kind name pid listen metrics "
		   "log key\nauthorities %s\n",
		   st->authorities);
	for (size_t i = 0; i < st->n; i++) {
		const struct testnet_proc *p = &st->p[i];
		buf_printf(&b, "%s %s %ld %s %s %s %s\n", p->kind, p->name,
			   (long)p->pid, p->listen, p->metrics, p->log, p->key);
	}
	snprintf(path, sizeof(path), "%s/testnet.state", dir);
	int rc = testnet_write_text(path, (const char *)b.data);
	buf_free(&b);
	return rc;
}

int
testnet_state_load(const char *dir, struct testnet_state *st)
{
	char path[600], line[1200];
	snprintf(path, sizeof(path), "%s/testnet.state", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	memset(st, 0, sizeof(*st));
	while (fgets(line, sizeof(line), f)) {
		struct testnet_proc *p = &st->p[st->n];
		long pid;
		if (strncmp(line, "authorities ", 12) == 0) {
			snprintf(st->authorities, sizeof(st->authorities),
				 "%.*s", (int)strcspn(line + 12, "\n"),
				 line + 12);
			continue;
		}
		if (line[0] == '#' || st->n == TESTNET_MAX_PROCS)
			continue;
		if (sscanf(line, "%15s %31s %ld %63s %63s %511s %63s", p->kind,
			   p->name, &pid, p->listen, p->metrics, p->log,
			   p->key) == 7) {
			p->pid = (pid_t)pid;
			st->n++;
		}
	}
	fclose(f);
	return st->n ? 0 : -1;
}

const struct testnet_proc *
testnet_find(const struct testnet_state *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->p[i].name, name) == 0)
			return &st->p[i];
	return NULL;
}

char *
testnet_consensus(const struct testnet_state *st, size_t *len)
{
	struct dir_authset as;
	char err[256];
	if (dir_authset_parse(&as, st->authorities, err, sizeof(err)) != 0)
		return NULL;
	for (size_t i = 0; i < as.n; i++) {
		struct buf b;
		long status = 0;
		buf_init(&b);
		if (dir_http_get(as.a[i].addr, "/consensus", DIR_DOC_MAX, 3000,
				 &b, &status, err, sizeof(err)) == 0 &&
		    status == 200) {
			struct dir_consensus c;
			uint8_t hash[32];
			memset(&c, 0, sizeof(c));
			if (dir_verify_consensus((const char *)b.data, b.len,
						 &as, time_wall_s(),
						 DIR_VERIFY_NOW, &c, hash, err,
						 sizeof(err)) == 0) {
				dir_consensus_clear(&c);
				*len = b.len;
				buf_append_u8(&b, 0);
				return (char *)b.data;
			}
		}
		buf_free(&b);
	}
	return NULL;
}

/* Makes DIR/NAME with keys and config, starts it, records it. */
static int
add_proc(struct testnet_state *st, const struct up_opts *o, const char *kind,
	 const char *name)
{
	struct testnet_proc *p = &st->p[st->n];
	char sub[600];
	bool auth = strcmp(kind, "authority") == 0;
	snprintf(p->kind, sizeof(p->kind), "%s", kind);
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(sub, sizeof(sub), "%s/%s", o->dir, name);
	snprintf(p->log, sizeof(p->log), "%s/%s.log", o->dir, name);
	if (mkdir(sub, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(p->listen, sizeof(p->listen), "127.0.0.1:%u", pick_port());
	if (!auth)
		snprintf(p->metrics, sizeof(p->metrics), "127.0.0.1:%u",
			 pick_port());
	else
		snprintf(p->metrics, sizeof(p->metrics), "-");
	if (!auth && make_keys(sub, true, p->key, sizeof(p->key)) != 0)
		return -1;
	st->n++;
	return 0;
}

static int
write_configs(struct testnet_state *st, const struct up_opts *o,
	      int64_t genesis)
{
	for (size_t i = 0; i < st->n; i++) {
		struct testnet_proc *p = &st->p[i];
		struct buf b;
		char cfg[700];
		bool auth = strcmp(p->kind, "authority") == 0;
		buf_init(&b);
		if (auth)
			buf_printf(&b,
				   "[authority]\nidentity_key = %s/%s/"
				   "identity.key\nlisten = %s\ndata_dir = "
				   "%s/%s\nauthorities = %s\n"
				   "bootstrap_delay = 5s\nvote_window = 3s\n"
				   "log_level = %s\n",
				   o->dir, p->name, p->listen, o->dir, p->name,
				   st->authorities, o->log_level);
		else
			buf_printf(&b,
				   "[node]\nrole = %s\ndata_dir = %s/%s\n"
				   "listen = %s\nmetrics_listen = %s\n"
				   "authorities = %s\ndir_step = 1s\n"
				   "queue_capacity = 20000\nlog_level = %s\n",
				   p->kind, o->dir, p->name, p->listen,
				   p->metrics, st->authorities, o->log_level);
		network_ini(&b, genesis, o, auth);
		if (strcmp(p->kind, "gateway") == 0)
			/* inject sends bursts of hundreds through gw1 as a
			 * client: a deep bucket, the consensus rate after. */
			buf_printf(&b, "\n[gateway]\nrate_burst = 100000\n");
		snprintf(cfg, sizeof(cfg), "%s/%s.ini", o->dir, p->name);
		int rc = testnet_write_text(cfg, (const char *)b.data);
		buf_free(&b);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
make_network(struct testnet_state *st, const struct up_opts *o, int64_t genesis)
{
	char name[32];
	struct buf spec;
	buf_init(&spec);
	for (int i = 1; i <= 3; i++) {
		snprintf(name, sizeof(name), "auth%d", i);
		if (add_proc(st, o, "authority", name) != 0)
			return -1;
		struct testnet_proc *p = &st->p[st->n - 1];
		char sub[600];
		snprintf(sub, sizeof(sub), "%s/%s", o->dir, name);
		if (make_keys(sub, false, p->key, sizeof(p->key)) != 0)
			return -1;
		buf_printf(&spec, "%s%s@%s", i > 1 ? ", " : "", p->key,
			   p->listen);
	}
	snprintf(st->authorities, sizeof(st->authorities), "%s",
		 (const char *)spec.data);
	buf_free(&spec);
	for (long i = 1; i <= 3 * o->mixes_per_layer; i++) {
		snprintf(name, sizeof(name), "mix%ld", i);
		if (add_proc(st, o, "mix", name) != 0)
			return -1;
	}
	for (long i = 1; i <= o->gateways; i++) {
		snprintf(name, sizeof(name), "gw%ld", i);
		if (add_proc(st, o, "gateway", name) != 0)
			return -1;
	}
	return write_configs(st, o, genesis);
}

/* The value of an unlabelled metric on a node's exporter, or -1. */
static double
metric_value(const char *addr, const char *name)
{
	struct buf b;
	char err[256];
	long status = 0;
	double v = -1;
	buf_init(&b);
	if (dir_http_get(addr, "/metrics", 1 << 20, 2000, &b, &status, err,
			 sizeof(err)) == 0 &&
	    status == 200) {
		buf_append_u8(&b, 0);
		size_t nl = strlen(name);
		for (const char *l = (const char *)b.data; l && *l;) {
			if (strncmp(l, name, nl) == 0 && l[nl] == ' ') {
				v = strtod(l + nl + 1, NULL);
				break;
			}
			l = strchr(l, '\n');
			l = l ? l + 1 : NULL;
		}
	}
	buf_free(&b);
	return v;
}

static bool
alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Waits for a consensus listing every node, then for each node's links. */
static int
wait_ready(const struct testnet_state *st, size_t n_nodes, int64_t timeout_s)
{
	int64_t end = time_mono_ms() + timeout_s * 1000;
	size_t len;
	bool listed = false;
	while (!listed && time_mono_ms() < end) {
		char *text = testnet_consensus(st, &len);
		struct dir_consensus c;
		size_t bl;
		char err[128];
		memset(&c, 0, sizeof(c));
		if (text && dir_consensus_parse(text, len, &c, &bl, err,
						sizeof(err)) == 0)
			listed = c.n_nodes == n_nodes;
		dir_consensus_clear(&c);
		free(text);
		if (!listed)
			time_sleep_ms(1000);
	}
	if (!listed) {
		fprintf(stderr,
			"testnet: no consensus listing all %zu nodes "
			"in time\n",
			n_nodes);
		return -1;
	}
	printf("testnet: consensus lists all %zu nodes\n", n_nodes);
	for (size_t i = 0; i < st->n; i++) {
		const struct testnet_proc *p = &st->p[i];
		if (strcmp(p->kind, "authority") == 0)
			continue;
		while (metric_value(p->metrics, "bc_links_open") <
			   (double)(n_nodes - 1) &&
		       time_mono_ms() < end)
			time_sleep_ms(500);
		if (metric_value(p->metrics, "bc_links_open") <
		    (double)(n_nodes - 1)) {
			fprintf(stderr,
				"testnet: %s has not linked to every "
				"node in time\n",
				p->name);
			return -1;
		}
	}
	return 0;
}

static void
print_table(const struct testnet_state *st)
{
	printf("%-10s %-9s %-7s %-21s %-36s %s\n", "name", "role", "pid",
	       "listen", "metrics", "log");
	for (size_t i = 0; i < st->n; i++) {
		const struct testnet_proc *p = &st->p[i];
		char url[128] = "-";
		if (strcmp(p->metrics, "-") != 0)
			snprintf(url, sizeof(url), "http://%s/metrics",
				 p->metrics);
		printf("%-10s %-9s %-7ld %-21s %-36s %s\n", p->name, p->kind,
		       (long)p->pid, p->listen, url, p->log);
	}
}

static int
self_path(char *out, size_t cap)
{
	ssize_t n = readlink("/proc/self/exe", out, cap - 1);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	return 0;
}

static int
testnet_up(const struct up_opts *o)
{
	static struct testnet_state st;
	char self[512], cfg[700];
	struct testnet_state old;
	if (testnet_state_load(o->dir, &old) == 0) {
		for (size_t i = 0; i < old.n; i++)
			if (alive(old.p[i].pid)) {
				fprintf(stderr,
					"testnet: %s already runs a "
					"network; 'down' first\n",
					o->dir);
				return 1;
			}
	}
	if (self_path(self, sizeof(self)) != 0 ||
	    (mkdir(o->dir, 0700) != 0 && errno != EEXIST)) {
		fprintf(stderr, "testnet: cannot prepare %s\n", o->dir);
		return 1;
	}
	memset(&st, 0, sizeof(st));
	/* Two seconds into an epoch, as a running network would be. */
	int64_t genesis = time_wall_s() - 2 - o->epoch_s * 1000;
	if (dir_http_init() != 0 || make_network(&st, o, genesis) != 0) {
		fprintf(stderr, "testnet: cannot write keys and configs\n");
		return 1;
	}
	for (size_t i = 0; i < st.n; i++) {
		struct testnet_proc *p = &st.p[i];
		snprintf(cfg, sizeof(cfg), "%s/%s.ini", o->dir, p->name);
		p->pid = testnet_spawn(self, p->kind, cfg, p->log);
		if (p->pid < 0)
			return 1;
	}
	if (state_write(o->dir, &st) != 0)
		return 1;
	printf("testnet: started %zu processes in %s\n", st.n, o->dir);
	size_t n_nodes = st.n - 3;
	if (wait_ready(&st, n_nodes, 150) != 0) {
		print_table(&st);
		return 1;
	}
	if (o->clients > 0 &&
	    (testnet_clients_add(&st, o->dir, o->clients, o->log_level) != 0 ||
	     testnet_clients_start(&st, o->dir, self) != 0 ||
	     state_write(o->dir, &st) != 0 ||
	     testnet_clients_wait(&st, o->dir, 90) != 0)) {
		print_table(&st);
		return 1;
	}
	print_table(&st);
	printf("authorities: %s\n", st.authorities);
	printf("testnet: up. 'backchannel testnet down --dir %s' stops it.\n",
	       o->dir);
	return 0;
}

static int
testnet_status(const char *dir)
{
	static struct testnet_state st;
	if (testnet_state_load(dir, &st) != 0) {
		printf("testnet: nothing in %s\n", dir);
		return 1;
	}
	size_t up = 0, len = 0;
	printf("%-10s %-9s %-7s %-6s %-8s %s\n", "name", "role", "pid", "state",
	       "links", "packets in/out");
	for (size_t i = 0; i < st.n; i++) {
		const struct testnet_proc *p = &st.p[i];
		bool a = alive(p->pid);
		up += a;
		if (a && strcmp(p->kind, "client") == 0) {
			testnet_client_status(dir, p);
			continue;
		}
		if (strcmp(p->metrics, "-") == 0 || !a) {
			printf("%-10s %-9s %-7ld %-6s\n", p->name, p->kind,
			       (long)p->pid, a ? "up" : "down");
			continue;
		}
		printf("%-10s %-9s %-7ld %-6s %-8.0f %.0f/%.0f\n", p->name,
		       p->kind, (long)p->pid, "up",
		       metric_value(p->metrics, "bc_links_open"),
		       metric_value(p->metrics, "bc_packets_in_total"),
		       metric_value(p->metrics, "bc_packets_out_total"));
	}
	(void)dir_http_init();
	char *c = testnet_consensus(&st, &len);
	struct dir_consensus dc;
	size_t bl;
	char err[128];
	memset(&dc, 0, sizeof(dc));
	if (c && dir_consensus_parse(c, len, &dc, &bl, err, sizeof(err)) == 0)
		printf("consensus: epoch %llu, %zu nodes\n",
		       (unsigned long long)dc.epoch, dc.n_nodes);
	else
		printf("consensus: none available\n");
	dir_consensus_clear(&dc);
	free(c);
	printf("testnet: %zu of %zu processes up\n", up, st.n);
	return up == st.n ? 0 : 1;
}

static int
testnet_down(const char *dir)
{
	static struct testnet_state st;
	if (testnet_state_load(dir, &st) != 0) {
		printf("testnet: nothing in %s\n", dir);
		return 0;
	}
	for (size_t i = 0; i < st.n; i++)
		if (alive(st.p[i].pid))
			kill(st.p[i].pid, SIGTERM);
	int64_t end = time_mono_ms() + 10000;
	size_t left;
	do {
		left = 0;
		for (size_t i = 0; i < st.n; i++)
			left += alive(st.p[i].pid);
		if (left)
			time_sleep_ms(100);
	} while (left && time_mono_ms() < end);
	size_t killed = 0;
	for (size_t i = 0; i < st.n; i++) {
		if (alive(st.p[i].pid)) {
			kill(st.p[i].pid, SIGKILL);
			killed++;
		}
	}
	printf("testnet: %zu processes stopped%s\n", st.n,
	       killed ? " (some needed SIGKILL)" : " cleanly");
	return killed ? 1 : 0;
}

/* Stops or starts one process of the network, keeping the state file. */
static int
testnet_one(const struct up_opts *o, bool start)
{
	static struct testnet_state st;
	char self[512], cfg[700];
	if (!o->name || testnet_state_load(o->dir, &st) != 0) {
		fprintf(stderr, "testnet: --name of a process in %s needed\n",
			o->dir);
		return EXIT_USAGE;
	}
	struct testnet_proc *p = NULL;
	for (size_t i = 0; i < st.n && !p; i++)
		if (strcmp(st.p[i].name, o->name) == 0)
			p = &st.p[i];
	if (!p) {
		fprintf(stderr, "testnet: no process %s\n", o->name);
		return EXIT_USAGE;
	}
	if (!start) {
		if (alive(p->pid))
			kill(p->pid, o->sigkill ? SIGKILL : SIGTERM);
		for (int i = 0; i < 100 && alive(p->pid); i++)
			time_sleep_ms(100);
		printf("testnet: %s stopped\n", p->name);
		return alive(p->pid) ? 1 : 0;
	}
	if (alive(p->pid)) {
		fprintf(stderr, "testnet: %s is running\n", p->name);
		return 1;
	}
	snprintf(cfg, sizeof(cfg), "%s/%s.ini", o->dir, p->name);
	if (self_path(self, sizeof(self)) != 0)
		return 1;
	p->pid = testnet_spawn(self, p->kind, cfg, p->log);
	if (p->pid < 0 || state_write(o->dir, &st) != 0)
		return 1;
	printf("testnet: %s started (pid %ld)\n", p->name, (long)p->pid);
	return 0;
}

static int
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
cmd_testnet(int argc, char **argv)
{
	struct up_opts o = {NULL, NULL, false, 2, 2, 30, 0, 10, 200, "info"};
	if (argc >= 2 && strcmp(argv[1], "inject") == 0)
		return testnet_inject(argc - 1, argv + 1);
	if (command_wants_help(argc, argv) || argc < 2) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--sigkill") == 0) {
			o.sigkill = true;
			continue;
		}
		int bad = !v;
		if (!bad && strcmp(a, "--name") == 0)
			o.name = v;
		else if (!bad && strcmp(a, "--dir") == 0)
			o.dir = v;
		else if (!bad && strcmp(a, "--mixes-per-layer") == 0)
			bad = parse_long(v, 1, 20, &o.mixes_per_layer);
		else if (!bad && strcmp(a, "--gateways") == 0)
			bad = parse_long(v, 1, 20, &o.gateways);
		else if (!bad && strcmp(a, "--epoch") == 0)
			bad = parse_long(v, 30, 86400, &o.epoch_s);
		else if (!bad && strcmp(a, "--clients") == 0)
			bad = parse_long(v, 0, TESTNET_MAX_CLIENTS, &o.clients);
		else if (!bad && strcmp(a, "--mean-delay") == 0)
			bad = parse_long(v, 0, 600000, &o.mean_delay_ms);
		else if (!bad && strcmp(a, "--max-delay") == 0)
			bad = parse_long(v, 0, 600000, &o.max_delay_ms);
		else if (!bad && strcmp(a, "--log-level") == 0)
			o.log_level = v;
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "testnet: bad argument '%s'\n", a);
			return EXIT_USAGE;
		}
		i++;
	}
	if (!o.dir) {
		fprintf(stderr, "testnet: --dir DIR is required\n");
		return EXIT_USAGE;
	}
	if (o.mean_delay_ms > o.max_delay_ms) {
		fprintf(stderr, "testnet: --mean-delay above --max-delay\n");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "up") == 0)
		return testnet_up(&o);
	if (strcmp(argv[1], "status") == 0)
		return testnet_status(o.dir);
	if (strcmp(argv[1], "down") == 0)
		return testnet_down(o.dir);
	if (strcmp(argv[1], "stop") == 0 || strcmp(argv[1], "start") == 0)
		return testnet_one(&o, strcmp(argv[1], "start") == 0);
	usage(stderr);
	return EXIT_USAGE;
}

COMMAND(testnet, "a whole network on this machine: up, status, down",
	cmd_testnet)
