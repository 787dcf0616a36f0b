/* sl_dpregion.h — sluice-dp makes its shared control region: the region
   module (sl_region.h) creates, sizes and maps the file and lays out the
   offsets; this module, the creator, formats every object there with the
   object's own new() (message rings, session tables, range table, command
   blocks, status, peer book) and then marks the region formatted, so
   sluice-ctrl never sees a half-made region.  Owner: the main lcore, once
   at start-up (and the unit tests that need a region).  EAL-free. */
#ifndef SL_DPREGION_H
#define SL_DPREGION_H

#include "sl_base.h"
#include "sl_region.h"

/* sl_dpregion_format formats every object of freshly created region r
   (sl_region_create) at its offset, then sl_region_mark_formatted.
   Returns 0, or -EINVAL (an object refused its geometry: a .config that
   does not hold together) with a log line; r is then not marked. */
int sl_dpregion_format(sl_region_t *r);

/* sl_dpregion_create: sl_region_create then sl_dpregion_format.  Returns
   0 and fills *r, or sl_region_create's negative errno, or -EINVAL when
   formatting failed (the file is then closed and removed). */
int sl_dpregion_create(sl_region_t *r, const char *path, uint32_t n_lcores, const char *instance);

#endif /* SL_DPREGION_H */
