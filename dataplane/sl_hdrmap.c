/* sl_hdrmap.c — the shared header store reader (see sl_hdrmap.h). */
#include "sl_hdrmap.h"

#include <stdio.h>
#include <sys/stat.h>

#include "sl_log.h"

void sl_hdrmap_try_open(sl_dp_t *dp, uint64_t now_ns)
{
	if (SL_LIKELY(sl_hdrmap_get(dp) != NULL || now_ns < dp->store_next_try_ns))
		return;
	dp->store_next_try_ns = now_ns + SL_HDRMAP_RETRY_NS;
	char view[SL_CFG_STR + 8];
	struct stat st;
	snprintf(view, sizeof view, "%s/view", dp->cfg.store);
	if (dp->cfg.store[0] == '\0' || stat(view, &st) != 0 || st.st_size == 0)
		return;
	sl_store_reader_t *r = sl_store_reader_open(dp->cfg.store);
	if (r == NULL)
		return;
	uint32_t count;
	uint64_t epoch;
	sl_store_reader_snapshot(r, &count, &epoch);
	SL_INFO("header store %s mapped: %u headers, serving GET_HEADERS", dp->cfg.store, count);
	atomic_store_explicit(&dp->store, r, memory_order_release);
}

void sl_hdrmap_close(sl_dp_t *dp)
{
	sl_store_reader_t *r = atomic_exchange(&dp->store, NULL);
	sl_store_reader_close(r);
}
