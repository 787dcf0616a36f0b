/* sl_hdrmap.h — the header store's read side as the dataplane maps it
   ([ctrl] store, sl_store.h reader): one reader shared read-only by every
   lcore (dp->store), opened by the main lcore's housekeeping once ctrl
   has created the store, closed after every lcore ended.  Routines read
   it (header-sync serving and anchors); none opens it.

   Owner: the main lcore (open, publish with a release store); readers
   load it with acquire. */
#ifndef SL_HDRMAP_H
#define SL_HDRMAP_H

#include "sl_dp.h"
#include "sl_store.h"

#define SL_HDRMAP_RETRY_NS (10000000ull) /* main lcore: store open retry (10 ms) */

/* sl_hdrmap_get: the shared reader, NULL until it is open. */
static inline const sl_store_reader_t *sl_hdrmap_get(const sl_dp_t *dp)
{
	return atomic_load_explicit(&dp->store, memory_order_acquire);
}

/* sl_hdrmap_try_open (main lcore, housekeeping; every SL_HDRMAP_RETRY_NS
   until it works): opens the reader once ctrl created the store (its view
   file exists), so a node whose ctrl is not up yet does not log every
   time.  O(1) once open. */
void sl_hdrmap_try_open(sl_dp_t *dp, uint64_t now_ns);

/* sl_hdrmap_close (after every lcore ended): closes the shared reader. */
void sl_hdrmap_close(sl_dp_t *dp);

#endif /* SL_HDRMAP_H */
