/* sl_prefault.h — memory a thread is about to write for the first time,
   made present by another thread first.  The first touch of a page costs
   the kernel's zeroing (and, in a VM, the host's backing): ~10 us a 4 KiB
   page here, a quarter of ctrl's thread in a 1 M header sync.  Where the
   extent is known ahead (the store's reserve, the reactor's ring), a
   short-lived thread populates it (MADV_POPULATE_WRITE, Linux 5.14) while
   the owner goes on.  Advice only: a refusal (older kernel, no memory)
   leaves the owner to fault as before.  The owner must join before the
   memory moves or is freed.  One sl_prefault_t per owner; not
   thread-safe itself. */
#ifndef SL_PREFAULT_H
#define SL_PREFAULT_H

#include <pthread.h>
#include <stddef.h>

#include "sl_base.h"

#define SL_PREFAULT_RANGES 4
#define SL_PREFAULT_MIN    (1u << 20) /* shorter ranges fault in place */

typedef struct {
	bool up; /* a thread runs or awaits its join */
	pthread_t th;
} sl_prefault_t;

/* sl_prefault_start joins a previous prefault of pf, then populates the
   pages of each of the n (<= SL_PREFAULT_RANGES) ranges p[i], len[i] at
   least SL_PREFAULT_MIN long on a new thread.  Returns whether a thread
   runs (false: nothing worth it, or no thread). */
bool sl_prefault_start(sl_prefault_t *pf, void *const *p, const size_t *len, unsigned n);

/* sl_prefault_join waits for pf's thread, if one runs. */
void sl_prefault_join(sl_prefault_t *pf);

#endif /* SL_PREFAULT_H */
