#include "lib/time.h"

#include <errno.h>
#include <time.h>

static int64_t
time_read_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
time_mono_ns(void)
{
	return time_read_ns(CLOCK_MONOTONIC);
}

int64_t
time_mono_ms(void)
{
	return time_mono_ns() / 1000000;
}

int64_t
time_wall_ms(void)
{
	return time_read_ns(CLOCK_REALTIME) / 1000000;
}

int64_t
time_wall_s(void)
{
	return time_read_ns(CLOCK_REALTIME) / 1000000000;
}

void
time_sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
