/*
 * The authority's configuration table: every key, its default and its help
 * in one place, so parsing, defaults and --help cannot drift apart.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "dir/authority.h"

#define OFF(f) offsetof(struct authority_config, f)

const struct config_key authority_config_keys[] = {
    {"authority", "identity_key", CONFIG_STRING, OFF(identity_key), NULL, 0, 0,
     "Ed25519 identity key file (make one: backchannel authority "
     "--init FILE)"},
    {"authority", "listen", CONFIG_STRING, OFF(listen), "127.0.0.1:7100", 0, 0,
     "IPv4 address:port of the HTTP endpoint"},
    {"authority", "data_dir", CONFIG_STRING, OFF(data_dir), NULL, 0, 0,
     "directory for the sign log and published consensuses"},
    {"authority", "authorities", CONFIG_STRING, OFF(authorities), NULL, 0, 0,
     "every authority, this one included: KEY@host:port, ... (or the "
     "path of a file holding that list)"},
    {"authority", "bootstrap_delay", CONFIG_DURATION_MS,
     OFF(bootstrap_delay_ms), "5s", 0, 3600000,
     "after start-up, wait this long for uploads, then vote on the "
     "current epoch"},
    {"authority", "vote_window", CONFIG_DURATION_MS, OFF(vote_window_ms), "10s",
     1000, 3600000, "time between voting and signing, for exchanging votes"},
    {"authority", "log_level", CONFIG_STRING, OFF(log_level), "notice", 0, 0,
     "err, warn, notice, info or debug"},
    {"network", "genesis", CONFIG_INT, OFF(genesis), "1767225600", 0,
     1099511627776.0, "unix time at which epoch 0 starts"},
    {"network", "epoch_length", CONFIG_DURATION_MS, OFF(epoch_length_ms), "20m",
     10000, 604800000, "length of an epoch (whole seconds)"},
    {"network", "grace", CONFIG_DURATION_MS, OFF(grace_ms), "2m", 1000,
     604800000, "previous packet key kept this long into an epoch"},
    {"network", "hops", CONFIG_INT, OFF(hops), "5", 1, 10,
     "Sphinx hops per route"},
    {"network", "blob_length", CONFIG_INT, OFF(blob_length), "2000", 16, 65536,
     "Sphinx payload blob bytes"},
    {"network", "mean_delay", CONFIG_DURATION_MS, OFF(mean_delay_ms), "50ms", 0,
     600000, "mean per-hop delay"},
    {"network", "max_delay", CONFIG_DURATION_MS, OFF(max_delay_ms), "1s", 0,
     600000, "maximum per-hop delay a mix accepts"},
    {"network", "lambda_p", CONFIG_DOUBLE, OFF(lambda_p), "2.0", 0, 1000,
     "client sending stream, packets per second"},
    {"network", "lambda_l", CONFIG_DOUBLE, OFF(lambda_l), "0.5", 0, 1000,
     "client loop stream, per second"},
    {"network", "lambda_d", CONFIG_DOUBLE, OFF(lambda_d), "0.5", 0, 1000,
     "client drop stream, per second"},
    {"network", "lambda_f", CONFIG_DOUBLE, OFF(lambda_f), "4.0", 0, 1000,
     "client fetches, per second (>= replies: lambda_p + lambda_l)"},
    {"network", "mix_loop_rate", CONFIG_DOUBLE, OFF(mix_loop_rate), "1.0", 0,
     1000, "loop packets each mix sends, per second"},
};

const size_t authority_config_nkeys =
    sizeof(authority_config_keys) / sizeof(authority_config_keys[0]);

static uint32_t
milli(double x)
{
	return (uint32_t)lround(x * 1000.0);
}

int
authority_config_params(const struct authority_config *cfg,
			struct dir_params *p, char *err, size_t errlen)
{
	if (cfg->epoch_length_ms % 1000 != 0 || cfg->grace_ms % 1000 != 0) {
		snprintf(err, errlen,
			 "epoch_length and grace must be whole "
			 "seconds");
		return -1;
	}
	p->genesis = (uint64_t)cfg->genesis;
	p->epoch_len_s = (uint32_t)(cfg->epoch_length_ms / 1000);
	p->grace_s = (uint32_t)(cfg->grace_ms / 1000);
	p->hops = (uint32_t)cfg->hops;
	p->blob_len = (uint32_t)cfg->blob_length;
	p->mean_delay_ms = (uint32_t)cfg->mean_delay_ms;
	p->max_delay_ms = (uint32_t)cfg->max_delay_ms;
	p->lambda_p = milli(cfg->lambda_p);
	p->lambda_l = milli(cfg->lambda_l);
	p->lambda_d = milli(cfg->lambda_d);
	p->lambda_f = milli(cfg->lambda_f);
	p->mix_loop = milli(cfg->mix_loop_rate);
	return dir_params_check(p, err, errlen);
}
