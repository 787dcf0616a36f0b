/* sl_cpulist.h — a set of CPU ids read from a kernel CPU list ("0-3,8"),
   such as /sys/devices/system/cpu/possible.  sluice-dp uses it to spare
   DPDK 22.11's EAL its sysfs probes of CPUs that cannot exist:
   rte_eal_cpu_init asks eal_cpu_detected for every id below CPU_SETSIZE
   (1,024) and eal_cpu_socket_id for every id below RTE_MAX_LCORE (128,
   each up to RTE_MAX_NUMA_NODES = 32 access(2) calls): ~5,000 failing
   system calls on a 2-CPU machine, 9 ms of a 25 ms EAL start here.  With
   static DPDK sluice-dp links --wrap for both (sl_dp_main.c): an id the
   possible list does not hold has no sysfs directory, so EAL's answer is
   known (0) without asking; the others go to EAL's own probe.  Pure: no
   EAL; loaded once, at start-up, by the main thread. */
#ifndef SL_CPULIST_H
#define SL_CPULIST_H

#include "sl_base.h"

#define SL_CPULIST_POSSIBLE "/sys/devices/system/cpu/possible"
#define SL_CPULIST_MAX      8192 /* ids past this are never in the set */

typedef struct {
	uint64_t bits[SL_CPULIST_MAX / 64];
} sl_cpulist_t;

/* sl_cpulist_parse sets *t to the CPUs of list s ("0-3,8,10-11", an
   optional trailing newline; "" is no CPU).  Returns 0, or -EINVAL (a
   malformed list, a backwards range, an id past SL_CPULIST_MAX). */
int sl_cpulist_parse(sl_cpulist_t *t, const char *s);

/* sl_cpulist_load parses the list in file path.  Returns 0, or -errno
   (cannot read it) or -EINVAL (see sl_cpulist_parse). */
int sl_cpulist_load(sl_cpulist_t *t, const char *path);

/* sl_cpulist_has: cpu is in t. */
bool sl_cpulist_has(const sl_cpulist_t *t, unsigned cpu);

#endif /* SL_CPULIST_H */
