/* sl_probe.c — the USDT semaphores (one per probe, in .probes, as
   <sys/sdt.h> expects).  Tracers increment them on attach. */
#include "sl_probe.h"

#if SL_USDT
#define SL_PROBE_SEM_DEFINE(name)                                                                  \
	volatile unsigned short sluice_##name##_semaphore __attribute__((section(".probes")));
SL_PROBE_LIST(SL_PROBE_SEM_DEFINE)
#endif
