/*
 * clock.h - monotonic time for timeouts and rate buckets, wall time for
 * stamps.  Never use wall time to measure an interval.
 */
#ifndef PARLEY_CORE_CLOCK_H
#define PARLEY_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A monotonic millisecond clock as a parameter, so that a module's
 * arithmetic over time can be tested with a clock the test moves. */
typedef uint64_t (*clock_ms_fn)(void);

static inline int64_t clock_wall_s(void)
{
	return (int64_t)time(NULL);
}

#endif
