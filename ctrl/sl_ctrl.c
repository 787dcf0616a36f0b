/* sl_ctrl.c — see sl_ctrl.h. */
#include "sl_ctrl.h"

const char *sl_ctrl_state(const sl_ctrl_t *c)
{
	int life = sl_dplink_life(&c->dp);
	if (c->shutting_down || life == SL_LIFE_SHUTTING_DOWN)
		return sl_region_life_str(SL_LIFE_SHUTTING_DOWN);
	if (life == SL_LIFE_READY)
		return sl_region_life_str(SL_LIFE_READY);
	return sl_region_life_str(SL_LIFE_REGISTERING);
}
