/* The client's configuration table (daemon.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/config.h"

#include "client/daemon.h"

#define K(sec, name, type, field, def, min, max, help)                       \
	{                                                                    \
		sec, name, type, offsetof(struct client_config, field), def, \
		    min, max, help                                           \
	}

static const struct config_key client_keys[] = {
    K("client", "gateway", CONFIG_STRING, gateway, NULL, 0, 0,
      "host:port of our gateway"),
    K("client", "gateway_key", CONFIG_STRING, gateway_key, NULL, 0, 0,
      "the gateway's link key (base64); it must be in the consensus"),
    K("client", "authorities", CONFIG_STRING, authorities, NULL, 0, 0,
      "the directory authorities: KEY@host:port, separated by commas"),
    K("client", "store", CONFIG_STRING, store, "client.db", 0, 0,
      "the encrypted store"),
    K("client", "passphrase_file", CONFIG_STRING, passphrase_file, "", 0, 0,
      "file holding the store passphrase (first line)"),
    K("client", "key_file", CONFIG_STRING, key_file, "", 0, 0,
      "or: a private key file (backchannel keygen) locking the store"),
    K("client", "control_socket", CONFIG_STRING, control_socket, "client.sock",
      0, 0, "Unix socket of the control API"),
    K("client", "token", CONFIG_STRING, token, "", 0, 0,
      "registration token, if the gateway asks for one"),
    K("client", "log_level", CONFIG_STRING, log_level, "notice", 0, 0,
      "err, warn, notice, info or debug"),
    K("client", "name", CONFIG_STRING, name, "anonymous", 0, 0,
      "how we call ourselves in invitations and acceptances"),
    K("client", "store_cost_mib", CONFIG_INT, store_cost_mib, "256", 1, 4096,
      "Argon2id memory for a new store's passphrase key"),
    K("client", "old_gateway_drain", CONFIG_DURATION_MS, old_gateway_drain_ms,
      "21d", 1000, 366LL * 86400 * 1000,
      "after a move, keep fetching from the old gateway this long at most"),
};
#define N_KEYS (sizeof(client_keys) / sizeof(client_keys[0]))

int
client_config_load(const char *path, struct client_config *c, char *err,
		   size_t errlen)
{
	memset(c, 0, sizeof(*c));
	if (config_load_file(path, client_keys, N_KEYS, c, err, errlen) < 0)
		return -1;
	if ((c->passphrase_file[0] == 0) == (c->key_file[0] == 0)) {
		config_free(client_keys, N_KEYS, c);
		memset(c, 0, sizeof(*c));
		snprintf(err, errlen,
			 "config: set exactly one of "
			 "passphrase_file and key_file");
		return -1;
	}
	return 0;
}

void
client_config_free(struct client_config *c)
{
	config_free(client_keys, N_KEYS, c);
}

void
client_config_help(FILE *f)
{
	config_print_help(f, client_keys, N_KEYS);
}
