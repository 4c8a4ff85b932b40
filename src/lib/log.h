#ifndef BC_LIB_LOG_H
#define BC_LIB_LOG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Leveled logging to standard error: one line per event, with a UTC
 * timestamp, the program's identity and the level.  Never log secrets, packet
 * bytes or the network addresses of clients.
 */
enum log_level {
	LOG_LVL_ERR,
	LOG_LVL_WARN,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

void log_init(const char *ident, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);
/* Parses "err", "warn", "notice", "info" or "debug"; -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...)    log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * Rate limiting for events a peer can trigger at will (garbage on a port):
 * at most one line per interval; the next line says how many were dropped.
 *   static struct log_ratelim rl = LOG_RATELIM_INIT(60000);
 *   log_ratelim(&rl, LOG_LVL_WARN, "dropped malformed frame");
 */
struct log_ratelim {
	int64_t interval_ms;
	int64_t last_ms;
	uint64_t suppressed;
};

#define LOG_RATELIM_INIT(ms)                                               \
	{                                                                  \
		.interval_ms = (ms), .last_ms = INT64_MIN, .suppressed = 0 \
	}

void log_ratelim(struct log_ratelim *rl, enum log_level level, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));

#endif
