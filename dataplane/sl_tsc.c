/* sl_tsc.c — see sl_tsc.h. */
#include "sl_tsc.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sl_time.h"

#if defined(__x86_64__)
#include <x86intrin.h>

#define SL_TSC_BRACKETS   8     /* tries per end of the measurement */
#define SL_TSC_BRACKET_NS 20000 /* a wider bracket was preempted: unusable */

uint64_t sl_tsc_hz_kernel(void)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.type = PERF_TYPE_SOFTWARE;
	a.size = sizeof a;
	a.config = PERF_COUNT_SW_DUMMY;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	struct perf_event_mmap_page *pg = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (pg == MAP_FAILED)
		return 0;
	uint64_t hz = 0;
	if (pg->cap_user_time && pg->time_mult != 0 && pg->time_shift < 64)
		/* ns = ticks * mult >> shift, so ticks per second = 1e9 << shift / mult */
		hz = (uint64_t)(((unsigned __int128)SL_NS_PER_S << pg->time_shift) / pg->time_mult);
	munmap(pg, len);
	return hz;
}

static uint64_t raw_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * SL_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* bracket: a (tsc, ns) pair read together: the clock between two rdtscs,
   the tightest of SL_TSC_BRACKETS tries, its tsc the middle.  false if no
   try was tighter than SL_TSC_BRACKET_NS worth of ticks at 10 GHz. */
static bool bracket(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < SL_TSC_BRACKETS; i++) {
		uint64_t t0 = __rdtsc(), n = raw_ns(), t1 = __rdtsc();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*ns = n;
		}
	}
	return best < SL_TSC_BRACKET_NS * 10;
}

uint64_t sl_tsc_hz_measure(uint64_t span_ns)
{
	uint64_t t0, n0, t1, n1;
	if (!bracket(&t0, &n0))
		return 0;
	struct timespec d = {.tv_sec = (time_t)(span_ns / SL_NS_PER_S),
	                     .tv_nsec = (long)(span_ns % SL_NS_PER_S)};
	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
	if (!bracket(&t1, &n1) || n1 <= n0 || t1 <= t0)
		return 0;
	uint64_t hz = (uint64_t)((unsigned __int128)(t1 - t0) * SL_NS_PER_S / (n1 - n0));
	return (hz + SL_TSC_ROUND_HZ / 2) / SL_TSC_ROUND_HZ * SL_TSC_ROUND_HZ;
}

#else /* no TSC to read: EAL's own way */

uint64_t sl_tsc_hz_kernel(void)
{
	return 0;
}

uint64_t sl_tsc_hz_measure(uint64_t span_ns)
{
	(void)span_ns;
	return 0;
}

#endif

uint64_t sl_tsc_hz(sl_tsc_from_t *from)
{
	uint64_t hz = sl_tsc_hz_kernel();
	*from = SL_TSC_FROM_KERNEL;
	if (hz == 0) {
		hz = sl_tsc_hz_measure(SL_TSC_CAL_NS);
		*from = SL_TSC_FROM_MEASURE;
	}
	if (hz == 0)
		*from = SL_TSC_FROM_NONE;
	return hz;
}
