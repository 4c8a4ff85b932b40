/*
 * The node configuration table and its checks.  See node_config.h.
 */
#include "node/node_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"

#define K(sec, name, type, field, def, min, max, help)                     \
	{                                                                  \
		sec, name, type, offsetof(struct node_config, field), def, \
		    min, max, help                                         \
	}

static const struct config_key node_keys[] = {
    K("node", "role", CONFIG_STRING, role_name, NULL, 0, 0, "mix or gateway"),
    K("node", "data_dir", CONFIG_STRING, data_dir, NULL, 0, 0,
      "directory for keys, replay tags and state (created 0700)"),
    K("node", "listen", CONFIG_STRING, listen, NULL, 0, 0,
      "host:port for links from other nodes (and clients at a gateway)"),
    K("node", "address", CONFIG_STRING, address, "", 0, 0,
      "host:port published in the descriptor; empty: the listen address"),
    K("node", "identity_key", CONFIG_STRING, identity_key, "identity.key", 0, 0,
      "Ed25519 identity key file (relative: under data_dir)"),
    K("node", "link_key", CONFIG_STRING, link_key, "link.key", 0, 0,
      "X25519 link (Noise static) key file (relative: under data_dir)"),
    K("node", "workers", CONFIG_INT, workers, "0", 0, 64,
      "unwrap threads; 0: one per core"),
    K("node", "queue_capacity", CONFIG_INT, queue_capacity, "100000", 16,
      16777216, "packets the delay queue holds; beyond, random drops"),
    K("node", "metrics_listen", CONFIG_STRING, metrics_listen, "", 0, 0,
      "host:port of the Prometheus exporter; empty: none"),
    K("node", "log_level", CONFIG_STRING, log_level, "notice", 0, 0,
      "err, warn, notice, info or debug"),
    K("node", "authorities", CONFIG_STRING, authorities, NULL, 0, 0,
      "the directory authorities: KEY@host:port, separated by commas"),
    K("node", "dir_step", CONFIG_DURATION_MS, dir_step_ms, "2s", 100, 600000,
      "time between directory rounds (upload, fetch, keys)"),
    K("network", "genesis", CONFIG_INT, genesis, "1767225600", 0,
      1099511627776.0, "unix time at which epoch 0 starts"),
    K("network", "epoch_length", CONFIG_DURATION_MS, epoch_length_ms, "20m",
      10000, 604800000, "length of an epoch (whole seconds)"),
    K("network", "grace", CONFIG_DURATION_MS, grace_ms, "2m", 1000, 604800000,
      "previous packet key kept this long (whole seconds)"),
    K("gateway", "admission", CONFIG_STRING, gw_admission, "open", 0, 0,
      "open (any client may register) or invite (a token from "
      "gateway-invite)"),
    K("gateway", "retention", CONFIG_DURATION_MS, gw_retention_ms, "21d", 1000,
      31536000000.0, "stored items older than this are deleted"),
    K("gateway", "queue_max_items", CONFIG_INT, gw_queue_max_items, "4096", 1,
      1048576, "items one queue holds; beyond, packets are dropped"),
    K("gateway", "account_max_items", CONFIG_INT, gw_account_max_items, "16384",
      1, 16777216, "items one account holds over its queues"),
    K("gateway", "account_max_queues", CONFIG_INT, gw_account_max_queues, "256",
      1, 65536, "queues (contacts) one account may create"),
    K("gateway", "rate_slack", CONFIG_DOUBLE, gw_rate_slack, "2.0", 1.0, 100.0,
      "a client may send this many times the consensus rates"),
    K("gateway", "rate_burst", CONFIG_INT, gw_rate_burst, "16", 1, 100000,
      "packets a client may send at once (token bucket depth)"),
};
#define N_KEYS (sizeof(node_keys) / sizeof(node_keys[0]))

int
node_addr_split(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -1;
	const char *h = s;
	size_t hl = (size_t)(colon - s);
	if (s[0] == '[') {
		if (hl < 3 || s[hl - 1] != ']')
			return -1;
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	for (size_t i = 0; i < hl; i++) {
		char ch = h[i];
		bool ok = (ch >= '0' && ch <= '9') || ch == '.' || ch == ':' ||
			  (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
		if (!ok)
			return -1;
	}
	char *end = NULL;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p > 65535 || colon[1] == '-' ||
	    colon[1] == '+')
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

static int
check_addr(const char *key, const char *v, bool empty_ok, char *err,
	   size_t errlen)
{
	char host[64];
	uint16_t port;
	if (empty_ok && v[0] == '\0')
		return 0;
	if (node_addr_split(v, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen,
			 "[node] %s: '%s' is not a numeric host:port", key, v);
		return -1;
	}
	return 0;
}

static int
finish(struct node_config *c, char *err, size_t errlen)
{
	enum log_level lvl;
	if (strcmp(c->role_name, "mix") == 0) {
		c->role = NODE_ROLE_MIX;
	} else if (strcmp(c->role_name, "gateway") == 0) {
		c->role = NODE_ROLE_GATEWAY;
	} else {
		snprintf(err, errlen, "[node] role: '%s' is not mix or gateway",
			 c->role_name);
		return -1;
	}
	if (strcmp(c->gw_admission, "open") != 0 &&
	    strcmp(c->gw_admission, "invite") != 0) {
		snprintf(err, errlen,
			 "[gateway] admission: '%s' is not open or invite",
			 c->gw_admission);
		return -1;
	}
	if (c->data_dir[0] == '\0') {
		snprintf(err, errlen, "[node] data_dir: empty");
		return -1;
	}
	if (check_addr("listen", c->listen, false, err, errlen) ||
	    check_addr("address", c->address, true, err, errlen) ||
	    check_addr("metrics_listen", c->metrics_listen, true, err, errlen))
		return -1;
	if (log_level_parse(c->log_level, &lvl) != 0) {
		snprintf(err, errlen,
			 "[node] log_level: '%s' is not one of "
			 "err, warn, notice, info, debug",
			 c->log_level);
		return -1;
	}
	if (c->authorities[0] == '\0') {
		snprintf(err, errlen, "[node] authorities: empty");
		return -1;
	}
	if (c->epoch_length_ms % 1000 || c->grace_ms % 1000 ||
	    c->grace_ms > c->epoch_length_ms) {
		snprintf(err, errlen, "[network] %s: must be whole seconds%s",
			 c->epoch_length_ms % 1000 ? "epoch_length" : "grace",
			 c->epoch_length_ms % 1000 ? ""
						   : ", at most epoch_length");
		return -1;
	}
	return 0;
}

int
node_config_load(const char *path, struct node_config *c, char *err,
		 size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (config_load_file(path, node_keys, N_KEYS, c, err, errlen) != 0 ||
	    finish(c, err, errlen) != 0) {
		node_config_free(c);
		return -1;
	}
	return 0;
}

int
node_config_load_string(const char *text, struct node_config *c, char *err,
			size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (config_load_string(text, node_keys, N_KEYS, c, err, errlen) != 0 ||
	    finish(c, err, errlen) != 0) {
		node_config_free(c);
		return -1;
	}
	return 0;
}

void
node_config_free(struct node_config *c)
{
	config_free(node_keys, N_KEYS, c);
}

void
node_config_print_help(FILE *f)
{
	config_print_help(f, node_keys, N_KEYS);
}

char *
node_config_path(const struct node_config *c, const char *path)
{
	if (path[0] == '/')
		return bc_strdup(path);
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s/%s", c->data_dir, path);
	return (char *)b.data;
}
