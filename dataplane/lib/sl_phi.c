/* sl_phi.c — phi-accrual failure detector (sl_phi.h). */
#include <math.h>
#include <string.h>

#include "sl_phi.h"

_Static_assert(SL_PHI_WINDOW >= 1, "SL_PHI_WINDOW must be at least 1");
_Static_assert(sizeof(sl_phi_t) == 4u * SL_PHI_WINDOW + 72u, "sl_phi.h documents this footprint");

static const char *const phi_err_names[] = {
#define SL_PHI_ERR_NAME(e, s) s,
    SL_PHI_ERR_LIST(SL_PHI_ERR_NAME)
#undef SL_PHI_ERR_NAME
};

static const char *const phi_state_names[] = {"up", "suspect", "down"};
static const char *const phi_event_names[] = {"none", "suspect", "up", "down"};

const char *sl_phi_err_str(sl_phi_err_t err)
{
	return (unsigned)err < SL_ARRAY_LEN(phi_err_names) ? phi_err_names[err] : "?";
}

const char *sl_phi_state_str(sl_phi_state_t s)
{
	return (unsigned)s < SL_ARRAY_LEN(phi_state_names) ? phi_state_names[s] : "?";
}

const char *sl_phi_event_str(sl_phi_event_t e)
{
	return (unsigned)e < SL_ARRAY_LEN(phi_event_names) ? phi_event_names[e] : "?";
}

/* ---- detector ------------------------------------------------------------ */

void sl_phi_cfg_default(sl_phi_cfg_t *cfg, uint32_t keepalive_us)
{
	cfg->init_mean_us = keepalive_us ? keepalive_us : 1u;
	cfg->min_mean_us = SL_PHI_MIN_MEAN_DEFAULT;
	cfg->suspect = SL_PHI_SUSPECT_DEFAULT;
	cfg->down = SL_PHI_DOWN_DEFAULT;
}

void sl_phi_cfg_keepalive(sl_phi_cfg_t *cfg, uint32_t keepalive_us)
{
	sl_phi_cfg_default(cfg, keepalive_us);
	uint32_t floor_us = keepalive_us / SL_PHI_KEEPALIVE_FLOOR_DIV;
	if (floor_us > cfg->min_mean_us)
		cfg->min_mean_us = floor_us;
}

double sl_phi_mean_us(const sl_phi_t *p)
{
	double mean = p->count >= SL_PHI_MIN_SAMPLES ? (double)p->sum_us / (double)p->count
	                                             : (double)p->init_mean_us;
	return mean < (double)p->min_mean_us ? (double)p->min_mean_us : mean;
}

/* elapsed_bound converts "phi > threshold" into "elapsed ns > bound",
   saturating instead of overflowing. */
static uint64_t elapsed_bound(double threshold, double mean_us)
{
	double ns = threshold * SL_PHI_LN10 * mean_us * 1000.0;
	return ns >= 18446744073709549568.0 ? UINT64_MAX : (uint64_t)ns;
}

static void recompute_bounds(sl_phi_t *p)
{
	double mean = sl_phi_mean_us(p);
	p->suspect_after = elapsed_bound(p->suspect, mean);
	p->down_after = elapsed_bound(p->down, mean);
}

static sl_phi_err_t phi_cfg_check(const sl_phi_cfg_t *cfg)
{
	if (SL_UNLIKELY(cfg->init_mean_us == 0))
		return SL_PHI_ERR_INIT_MEAN;
	if (SL_UNLIKELY(cfg->min_mean_us == 0))
		return SL_PHI_ERR_MIN_MEAN;
	if (SL_UNLIKELY(!isfinite(cfg->suspect) || cfg->suspect <= 0.0))
		return SL_PHI_ERR_SUSPECT;
	if (SL_UNLIKELY(!isfinite(cfg->down) || cfg->down <= cfg->suspect))
		return SL_PHI_ERR_DOWN;
	return SL_PHI_ERR_OK;
}

sl_phi_err_t sl_phi_init(sl_phi_t *p, const sl_phi_cfg_t *cfg, uint64_t now_ns)
{
	sl_phi_err_t err = phi_cfg_check(cfg);
	if (SL_UNLIKELY(err != SL_PHI_ERR_OK))
		return err;
	memset(p, 0, offsetof(sl_phi_t, delta_us)); /* the ring is write-before-read */
	p->suspect = cfg->suspect;
	p->down = cfg->down;
	p->init_mean_us = cfg->init_mean_us;
	p->min_mean_us = cfg->min_mean_us;
	sl_phi_reset(p, now_ns);
	return SL_PHI_ERR_OK;
}

void sl_phi_reset(sl_phi_t *p, uint64_t now_ns)
{
	p->last_ns = now_ns;
	p->sum_us = 0;
	p->count = 0;
	p->head = 0;
	p->state = SL_PHI_UP;
	p->primed = 0;
	recompute_bounds(p);
}

static void push_delta(sl_phi_t *p, uint32_t d_us)
{
	if (p->count == SL_PHI_WINDOW)
		p->sum_us -= p->delta_us[p->head];
	else
		p->count++;
	p->delta_us[p->head] = d_us;
	p->sum_us += d_us;
	p->head = p->head + 1 == SL_PHI_WINDOW ? 0 : p->head + 1;
}

void sl_phi_heartbeat(sl_phi_t *p, uint64_t now_ns)
{
	if (SL_UNLIKELY(p->state == SL_PHI_DOWN))
		return;
	if (!p->primed) {
		p->primed = 1;
		if (now_ns > p->last_ns)
			p->last_ns = now_ns;
		return;
	}
	uint64_t d_ns = now_ns > p->last_ns ? now_ns - p->last_ns : 0;
	uint64_t d_us = d_ns / 1000u;
	push_delta(p, d_us > UINT32_MAX ? UINT32_MAX : (uint32_t)d_us);
	if (now_ns > p->last_ns)
		p->last_ns = now_ns;
	recompute_bounds(p);
}

sl_phi_event_t sl_phi_check(sl_phi_t *p, uint64_t now_ns)
{
	if (p->state == SL_PHI_DOWN)
		return SL_PHI_EV_NONE;
	uint64_t elapsed = now_ns > p->last_ns ? now_ns - p->last_ns : 0;
	if (SL_UNLIKELY(elapsed > p->down_after)) {
		p->state = SL_PHI_DOWN;
		return SL_PHI_EV_DOWN;
	}
	sl_phi_state_t next = elapsed > p->suspect_after ? SL_PHI_SUSPECT : SL_PHI_UP;
	if (SL_LIKELY(next == p->state))
		return SL_PHI_EV_NONE;
	p->state = (uint8_t)next;
	return next == SL_PHI_SUSPECT ? SL_PHI_EV_SUSPECT : SL_PHI_EV_UP;
}

double sl_phi_value(const sl_phi_t *p, uint64_t now_ns)
{
	if (now_ns <= p->last_ns)
		return 0.0;
	double elapsed_us = (double)(now_ns - p->last_ns) / 1000.0;
	return elapsed_us / (sl_phi_mean_us(p) * SL_PHI_LN10);
}
