#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/time.h"

static const char *const level_names[] = {"err", "warn", "notice", "info",
					  "debug"};
static char log_ident[32] = "backchannel";
static enum log_level log_level_cur = LOG_LVL_NOTICE;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_init(const char *ident, enum log_level level)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_level_cur = level;
}

void
log_set_level(enum log_level level)
{
	log_level_cur = level;
}

enum log_level
log_get_level(void)
{
	return log_level_cur;
}

bool
log_enabled(enum log_level level)
{
	return level <= log_level_cur;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void log_vemit(enum log_level level, const char *prefix, const char *fmt,
		      va_list ap) __attribute__((format(printf, 3, 0)));

static void
log_vemit(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int64_t ms = time_wall_ms();
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line under a lock: threads' lines never interleave. */
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s.%03dZ %s [%s] %s%s\n", stamp, (int)(ms % 1000),
		log_ident, level_names[level], prefix, line);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vemit(level, "", fmt, ap);
	va_end(ap);
}

void
log_ratelim(struct log_ratelim *rl, enum log_level level, const char *fmt, ...)
{
	if (!log_enabled(level))
		return;
	int64_t now = time_mono_ms();
	pthread_mutex_lock(&log_lock);
	bool emit =
	    rl->last_ms == INT64_MIN || now - rl->last_ms >= rl->interval_ms;
	uint64_t dropped = 0;
	if (emit) {
		rl->last_ms = now;
		dropped = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&log_lock);
	if (!emit)
		return;
	char prefix[64] = "";
	if (dropped)
		snprintf(prefix, sizeof(prefix), "(%llu similar suppressed) ",
			 (unsigned long long)dropped);
	va_list ap;
	va_start(ap, fmt);
	log_vemit(level, prefix, fmt, ap);
	va_end(ap);
}
