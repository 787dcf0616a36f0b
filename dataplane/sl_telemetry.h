/* sl_telemetry.h — DPDK telemetry commands of sluice-dp (SPEC.md §11),
   readable with the stock client (`echo /sluice/stats | dpdk-telemetry.py
   -f <file-prefix>`):
     /sluice/stats     dict: every sl_lcore_cnt_t counter summed over the
                       worker lcores, plus drop_<reason> for every sl_drop_t
     /sluice/lcores    dict keyed by worker index ("0", "1", ...): the same
                       fields for that lcore plus lcore_id; with a parameter
                       (/sluice/lcores,2) only that worker's dict
     /sluice/sessions  list of live sessions (empty: no sessions yet)
   Callbacks run on DPDK's telemetry thread and only read counters
   (SL_CNT_GET).  DPDK cannot unregister a command, so the region is
   reached through a pointer that sl_telemetry_detach clears (and waits
   for callbacks in flight) before the region is unmapped. */
#ifndef SL_TELEMETRY_H
#define SL_TELEMETRY_H

#include "sl_region.h"

/* sl_telemetry_register points the commands at `r` and registers them
   (once per process; later calls only re-point).  Returns 0, or -1 with a
   log line. */
int sl_telemetry_register(const sl_region_t *r);

/* sl_telemetry_detach makes the commands answer with an error from now on
   and returns once no callback still reads the region. */
void sl_telemetry_detach(void);

#endif /* SL_TELEMETRY_H */
