#ifndef BC_NODE_NODE_CONFIG_H
#define BC_NODE_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The configuration of `backchannel node` (mix or gateway), one INI file.
 * Every key, its default and its bounds live in one table (node_config.c);
 * docs/node.md lists them and `backchannel node --help` prints them.
 */
enum node_role {
	NODE_ROLE_MIX = 1,
	NODE_ROLE_GATEWAY = 2,
};

struct node_config {
	/* [node] */
	char *role_name;
	char *data_dir;
	char *listen;       /* links: host:port */
	char *address;      /* advertised; "" = listen */
	char *identity_key; /* relative paths are under data_dir */
	char *link_key;
	int64_t workers;        /* 0 = one per core */
	int64_t queue_capacity; /* packets held at most */
	char *metrics_listen;   /* "" = no exporter */
	char *log_level;
	char *authorities;
	int64_t dir_step_ms;
	/* [network]: must match the authorities' (epochs before a consensus) */
	int64_t genesis;
	int64_t epoch_length_ms;
	int64_t grace_ms;
	/* [gateway] (docs/gateway.md; ignored by a mix) */
	char *gw_admission; /* "open" or "invite" */
	int64_t gw_retention_ms;
	int64_t gw_queue_max_items, gw_account_max_items, gw_account_max_queues;
	double gw_rate_slack; /* client rate = slack x consensus rates */
	int64_t gw_rate_burst;
	/* derived by node_config_load */
	enum node_role role;
};

/*
 * Loads path.  On error returns -1 with one line in err naming the key and
 * the reason (the caller exits with status 2).  Checks beyond the table: the
 * role, address syntax, log level.
 */
int node_config_load(const char *path, struct node_config *c, char *err,
		     size_t errlen);
int node_config_load_string(const char *text, struct node_config *c, char *err,
			    size_t errlen);
void node_config_free(struct node_config *c);
void node_config_print_help(FILE *f);

/* Splits "host:port" (numeric IPv4, or [IPv6]); 0 or -1. */
int node_addr_split(const char *s, char *host, size_t hostlen, uint16_t *port);

/* path itself if absolute, else data_dir/path; caller frees. */
char *node_config_path(const struct node_config *c, const char *path);

#endif
