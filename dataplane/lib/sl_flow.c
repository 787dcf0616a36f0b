/* sl_flow.c — header-sync requester flow control (see sl_flow.h). */
#include "sl_flow.h"

#include <string.h>

void sl_flow_init(sl_flow_t *f, uint32_t max)
{
	memset(f, 0, sizeof *f);
	f->max = (uint16_t)SL_MIN(SL_MAX(max, 1u), 65535u);
	f->win = 1;
	f->thresh = f->max;
}

void sl_flow_ok(sl_flow_t *f)
{
	f->busy = 0;
	if (f->win >= f->max)
		return;
	if (f->win < f->thresh) {
		f->win++; /* slow start */
		f->acked = 0;
		return;
	}
	if (++f->acked >= f->win) {
		f->win++;
		f->acked = 0;
	}
}

static void sl_flow_halve(sl_flow_t *f)
{
	f->win = (uint16_t)SL_MAX(f->win / 2u, 1u);
	f->thresh = f->win;
	f->acked = 0;
}

uint64_t sl_flow_busy(sl_flow_t *f, uint64_t now)
{
	if (now < f->hold_ns)
		return f->hold_ns; /* the same burst answering: one step per episode */
	sl_flow_halve(f);
	uint64_t d = SL_FLOW_BUSY_BASE_NS << SL_MIN((uint32_t)f->busy, 30u);
	if (d > SL_FLOW_BUSY_MAX_NS)
		d = SL_FLOW_BUSY_MAX_NS;
	else
		f->busy++;
	f->hold_ns = now + d;
	return f->hold_ns;
}

void sl_flow_loss(sl_flow_t *f)
{
	sl_flow_halve(f);
}
