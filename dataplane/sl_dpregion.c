/* sl_dpregion.c — the creator formats the region's objects (sl_dpregion.h). */
#include "sl_dpregion.h"

#include <errno.h>

#include "sl_cmdq.h"
#include "sl_log.h"
#include "sl_msgq.h"
#include "sl_pbook.h"
#include "sl_rangeq.h"
#include "sl_session.h"
#include "sl_status.h"

/* sl_dpregion_lcores formats each lcore's two rings and session table;
   the command rings are returned in rings[] for the command blocks. */
static int sl_dpregion_lcores(sl_region_t *r, uint32_t n, struct rte_ring **rings)
{
	for (uint32_t i = 0; i < n; i++) {
		rings[i] =
		    sl_msgq_new(sl_region_obj(r, SL_REGION_OBJ_CMD_RING, i), SL_CMD_RING_DEPTH);
		if (SL_UNLIKELY(rings[i] == NULL ||
		                sl_msgq_new(sl_region_obj(r, SL_REGION_OBJ_EVENT_RING, i),
		                            SL_EVENT_RING_DEPTH) == NULL ||
		                sl_session_table_new(sl_region_obj(r, SL_REGION_OBJ_SESS, i), i) ==
		                    NULL))
			return -EINVAL;
	}
	return 0;
}

int sl_dpregion_format(sl_region_t *r)
{
	struct rte_ring *rings[SL_MAX_LCORES];
	uint32_t n = r->hdr->n_lcores;
	sl_cmdq_t q;
	if (SL_UNLIKELY(sl_dpregion_lcores(r, n, rings) != 0 ||
	                sl_rangeq_new(sl_region_obj(r, SL_REGION_OBJ_RANGEQ, 0), SL_RANGE_WINDOW,
	                              SL_RANGE_LEN, SL_FANOUT) == NULL ||
	                /* the command blocks carry their records on the command rings */
	                sl_cmdq_new(&q, sl_region_obj(r, SL_REGION_OBJ_CMDQ, 0), n, rings, n) !=
	                    0 ||
	                sl_status_new(sl_region_obj(r, SL_REGION_OBJ_STATUS, 0)) == NULL ||
	                sl_pbook_new(sl_region_obj(r, SL_REGION_OBJ_PBOOK, 0)) == NULL)) {
		SL_ERR("region %s: an object refused its geometry (rings %u/%u, range window %u): "
		       "rebuild with a consistent .config",
		       r->path, (unsigned)SL_CMD_RING_DEPTH, (unsigned)SL_EVENT_RING_DEPTH,
		       (unsigned)SL_RANGE_WINDOW);
		return -EINVAL;
	}
	sl_region_mark_formatted(r);
	return 0;
}

int sl_dpregion_create(sl_region_t *r, const char *path, uint32_t n_lcores, const char *instance)
{
	int rc = sl_region_create(r, path, n_lcores, instance);
	if (SL_UNLIKELY(rc != 0))
		return rc;
	if (SL_UNLIKELY(sl_dpregion_format(r) != 0)) {
		sl_region_close(r); /* the creator's close removes the file */
		return -EINVAL;
	}
	return 0;
}
