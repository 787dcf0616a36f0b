/* sl_time.h — clocks.  sl_now_ns is CLOCK_MONOTONIC through the vDSO (no
   syscall), usable from the dataplane hot path and from ctrl alike. */
#ifndef SL_TIME_H
#define SL_TIME_H

#include <time.h>
#include "sl_base.h"

#define SL_NS_PER_US 1000ULL
#define SL_NS_PER_MS 1000000ULL
#define SL_NS_PER_S  1000000000ULL

static inline uint64_t sl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SL_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* sl_wall_unix returns seconds since the epoch (for last_seen fields). */
static inline uint32_t sl_wall_unix(void)
{
	return (uint32_t)time(NULL);
}

#endif /* SL_TIME_H */
