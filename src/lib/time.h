#ifndef BC_LIB_TIME_H
#define BC_LIB_TIME_H

#include <stdint.h>

/* Monotonic clock: for timeouts, delays and measurements. */
int64_t time_mono_ns(void);
int64_t time_mono_ms(void);

/* Wall clock (UTC, Unix epoch): for epochs and document validity only. */
int64_t time_wall_ms(void);
int64_t time_wall_s(void);

/* Sleeps for ms milliseconds, resuming after signals. */
void time_sleep_ms(int64_t ms);

#endif
