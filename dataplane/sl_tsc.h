/* sl_tsc.h — the TSC's frequency, found without DPDK 22.11's 100 ms sleep.
   EAL asks the CPU first (CPUID leaf 0x15, Intel's MSR_PLATFORM_INFO);
   where neither answers (AMD, most guests) its Linux fallback sleeps 100 ms
   against CLOCK_MONOTONIC_RAW — two thirds of sluice-dp's start-up.
   sluice-dp links with --wrap=get_tsc_freq (static DPDK) so that fallback
   comes here: the kernel's own calibration when the TSC is its clocksource
   (the perf mmap page's time_mult/time_shift), else a short measurement.
   Pure: no EAL; called once, at start-up, by the main lcore. */
#ifndef SL_TSC_H
#define SL_TSC_H

#include "sl_base.h"

#define SL_TSC_CAL_NS   (2ULL * 1000000) /* the short measurement's span */
#define SL_TSC_ROUND_HZ 1000000ULL       /* a measured rate is rounded to this */

typedef enum {
	SL_TSC_FROM_NONE = 0, /* nothing worked: the caller falls back */
	SL_TSC_FROM_KERNEL,   /* the kernel's TSC clocksource (exact) */
	SL_TSC_FROM_MEASURE,  /* SL_TSC_CAL_NS against CLOCK_MONOTONIC_RAW */
} sl_tsc_from_t;

/* sl_tsc_hz_kernel: the TSC rate the kernel converts with, from a perf
   event's mmap page (cap_user_time: the clocksource is the TSC).  0 when
   the kernel does not offer it (another clocksource, perf_event_open
   refused). */
uint64_t sl_tsc_hz_kernel(void);

/* sl_tsc_hz_measure: TSC ticks over span_ns of CLOCK_MONOTONIC_RAW, per
   second, rounded to SL_TSC_ROUND_HZ.  Each end is read as the tightest of
   a few rdtsc/clock/rdtsc brackets, so a preemption at an end does not
   skew it.  0 if no bracket was tight (a machine too busy to measure). */
uint64_t sl_tsc_hz_measure(uint64_t span_ns);

/* sl_tsc_hz: the kernel's rate, else a SL_TSC_CAL_NS measurement; *from
   says which (SL_TSC_FROM_NONE and 0: neither). */
uint64_t sl_tsc_hz(sl_tsc_from_t *from);

#endif /* SL_TSC_H */
