/* sl_hsync.c — the header-sync routine's descriptor: its concerns
   composed, input and commands routed, the park (see sl_hsync.h). */
#include "sl_hsync.h"

#include <string.h>

#include "sl_log.h"

/* sl_hsync_of: p's header-sync state (the routine's block). */
static inline sl_hsync_peer_t *sl_hsync_of(const sl_lcore_t *lc, const sl_routine_peer_t *p)
{
	return sl_routine_state(lc, p, SL_WIRE_STREAM_HSYNC);
}

/* sl_hsync_g: this lcore's header-sync state. */
static inline sl_hsync_lcore_t *sl_hsync_g(const sl_lcore_t *lc)
{
	return sl_routine_lcore_state(lc, SL_WIRE_STREAM_HSYNC);
}

/* sl_hsync_parked: whether p's service is parked; the first time the park
   is found, p's header-sync state is dropped (see sl_hsync.h). */
static bool sl_hsync_parked(sl_lcore_t *lc, sl_routine_peer_t *p)
{
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	if (hs->parked)
		return true;
	if (SL_LIKELY(!sl_cmdq_parked(&lc->rt->cmdq, lc->idx, sl_routine_slot(lc, p), p->gen)))
		return false;
	if (hs->on)
		sl_hpull_release(lc, p, &g->pull, SL_RANGE_WHY_PARK);
	sl_hfetch_start(lc, p, &g->fetch);
	sl_hserve_quiet(&g->serve, &hs->serve);
	memset(hs, 0, sizeof *hs); /* drop the service's state */
	hs->parked = 1;
	SL_CNT_ADD(&lc->cnt->hs_parks, 1);
	SL_INFO("worker %u: session %08x: header-sync service parked (session stays)", lc->idx,
	        p->sid);
	return true;
}

/* sl_hsync_active: p's service is on and not parked. */
static bool sl_hsync_active(sl_lcore_t *lc, sl_routine_peer_t *p)
{
	return sl_hsync_of(lc, p)->on && !sl_hsync_parked(lc, p);
}

static int sl_hsync_init(sl_lcore_t *lc, void *lst)
{
	sl_hsync_lcore_t *g = lst;
	const sl_cfg_t *cfg = &lc->dp->cfg;
	g->profile = sl_chain_profile(cfg->profile);
	if (SL_UNLIKELY(g->profile == NULL)) {
		SL_ERR("worker %u: header sync: unknown [chain] profile '%s'", lc->idx,
		       cfg->profile);
		return -1;
	}
	sl_hserve_init(&g->serve, cfg, lc->is_main);
	if (sl_hpull_init(lc, &g->pull, g->profile) != 0)
		return -1;
	if (sl_hfetch_init(lc, &g->fetch) != 0) {
		sl_hpull_fini(&g->pull);
		return -1;
	}
	return 0;
}

static void sl_hsync_fini(sl_lcore_t *lc, void *lst)
{
	sl_hsync_lcore_t *g = lst;
	(void)lc;
	sl_hpull_fini(&g->pull);
	sl_hfetch_fini(&g->fetch);
}

static void sl_hsync_start(sl_lcore_t *lc, sl_routine_peer_t *p, void *st)
{
	sl_hsync_peer_t *hs = st;
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	sl_hserve_quiet(&g->serve, &hs->serve);
	memset(hs, 0, sizeof *hs);
	if ((p->streams & (1u << SL_WIRE_STREAM_HSYNC)) == 0)
		return;
	hs->on = 1;
	sl_hserve_start(&g->serve, &hs->serve, lc->now_ns);
	sl_hpull_start(lc, p, &g->pull, &hs->pull);
	sl_hfetch_start(lc, p, &g->fetch);
	if (!sl_hsync_parked(lc, p))
		sl_hstatus_start(lc, p, &hs->status);
}

static void sl_hsync_stop(sl_lcore_t *lc, sl_routine_peer_t *p, void *st)
{
	sl_hsync_peer_t *hs = st;
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	sl_hserve_quiet(&g->serve, &hs->serve);
	if (hs->parked || !hs->on)
		return; /* released when the park was found, or never on */
	sl_hpull_release(lc, p, &g->pull, SL_RANGE_WHY_DISCONNECT);
	hs->on = 0;
}

static void sl_hsync_input(sl_lcore_t *lc, sl_routine_peer_t *p, void *st, const sl_wire_hdr_t *h,
                           const sl_wire_msg_t *msg, bool too_many)
{
	sl_hsync_peer_t *hs = st;
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	bool fetch = (h->corr & SL_FETCH_CORR_BIT) != 0;
	if (SL_UNLIKELY(!hs->on))
		return; /* not started (cannot happen: stream 5 is negotiated) */
	switch (h->type) {
	case SL_WIRE_T_STATUS:
		if (sl_hstatus_rx(lc, p, &hs->status, &hs->rec, &msg->status))
			sl_hpull_tip(lc, &g->pull, &hs->pull, msg->status.best_height);
		break;
	case SL_WIRE_T_GET_HEADERS:
		sl_hserve_get_headers(lc, p, &g->serve, &hs->serve, &hs->rec, h, &msg->get_headers,
		                      too_many);
		break;
	case SL_WIRE_T_HEADERS:
		if (fetch)
			sl_hfetch_headers(lc, p, &g->fetch, g->profile, h->corr, &msg->headers);
		else
			sl_hpull_headers(lc, p, &g->pull, &hs->pull, h->corr, &msg->headers);
		break;
	case SL_WIRE_T_NOT_FOUND:
		if (fetch)
			sl_hfetch_not_found(lc, p, &g->fetch, h->corr, &msg->not_found);
		else
			sl_hpull_not_found(lc, p, &g->pull, &hs->pull, h->corr, &msg->not_found);
		break;
	case SL_WIRE_T_NEW_BLOCK:
		sl_hstatus_new_block_rx(lc, p, &hs->status, &hs->rec, g->profile, &msg->new_block);
		break;
	default:
		break;
	}
}

static void sl_hsync_command(sl_lcore_t *lc, sl_routine_peer_t *p, void *st, const sl_msg_t *m)
{
	(void)st;
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	if (p->state != SL_ROUTINE_LIVE || p->gen != m->gen || !sl_hsync_active(lc, p)) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	if (m->type == SL_CMDQ_V_DROP_EXPECTATION && m->len >= sizeof(sl_cmdq_drop_exp_t)) {
		sl_cmdq_drop_exp_t d;
		memcpy(&d, m->payload, sizeof d);
		sl_hpull_drop(lc, p, &g->pull, d.start, d.count);
	} else if (m->type == SL_CMDQ_V_FORWARD_NEW_BLOCK && m->len >= sizeof(sl_cmd_new_block_t)) {
		sl_cmd_new_block_t nb;
		memcpy(&nb, m->payload, sizeof nb);
		sl_hstatus_new_block_tx(lc, p, &nb);
	} else if (m->type == SL_CMDQ_V_SEND_FRAME && m->len >= sizeof(sl_cmd_fetch_t)) {
		sl_cmd_fetch_t f;
		memcpy(&f, m->payload, sizeof f);
		sl_hfetch_send(lc, p, &g->fetch, &f);
	} else {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
	}
}

static void sl_hsync_tick(sl_lcore_t *lc, sl_routine_peer_t *p, void *st)
{
	sl_hsync_peer_t *hs = st;
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	sl_hserve_tick(&g->serve, &hs->serve, lc->now_ns);
	if (!sl_hsync_active(lc, p))
		return;
	sl_hstatus_refresh(lc, p, &hs->status, &g->status);
	sl_hfetch_tick(lc, p, &g->fetch);
	sl_hpull_tick(lc, p, &g->pull, &hs->pull);
}

/* sl_hsync_pull: STATUS to every session that has not had the published
   version (when it moved), then the coalesced pull scan. */
static void sl_hsync_pull(sl_lcore_t *lc, void *lst)
{
	sl_hsync_lcore_t *g = lst;
	sl_session_table_t *tab = lc->rt->tab;
	bool push = sl_hstatus_moved(lc, &g->status);
	bool pull = sl_hpull_due(lc, &g->pull);
	if (SL_LIKELY(!push && !pull))
		return;
	for (uint32_t i = sl_session_count(tab); i-- > 0;) {
		sl_session_t *s = sl_session_live_at(tab, i);
		sl_routine_peer_t *p = sl_routine_peer(lc, sl_session_slot_of(tab, s));
		if (!sl_hsync_active(lc, p))
			continue;
		if (push)
			sl_hstatus_push(lc, p, &sl_hsync_of(lc, p)->status, &g->status);
		if (pull)
			sl_hpull_peer(lc, p, &g->pull, &sl_hsync_of(lc, p)->pull);
	}
	if (push)
		lc->work++;
}

/* sl_hsync_parked_hook: the descriptor's park gate (the demux drops a
   parked service's frames). */
static bool sl_hsync_parked_hook(sl_lcore_t *lc, sl_routine_peer_t *p, void *st)
{
	(void)st;
	return sl_hsync_parked(lc, p);
}

#if SL_INVARIANTS
static const char *sl_hsync_invariants(const sl_lcore_t *lc, const sl_routine_peer_t *p,
                                       const void *st)
{
	(void)st;
	const sl_hsync_lcore_t *g = sl_hsync_g(lc);
	if (sl_hpull_open(lc, p, &g->pull) > g->pull.inflight)
		return "header-sync expectations over [sync] inflight";
	return NULL;
}
#endif

const sl_stream_t sl_hsync_desc = {
    .name = "header-sync",
    .id = SL_WIRE_STREAM_HSYNC,
    .state_sz = sizeof(sl_hsync_peer_t),
    .lcore_sz = sizeof(sl_hsync_lcore_t),
    .cmd_variants = (1u << SL_CMDQ_V_DROP_EXPECTATION) | (1u << SL_CMDQ_V_FORWARD_NEW_BLOCK) |
                    (1u << SL_CMDQ_V_SEND_FRAME),
    .send_kinds = 1u << SL_SEND_FETCH,
    .init = sl_hsync_init,
    .fini = sl_hsync_fini,
    .start = sl_hsync_start,
    .stop = sl_hsync_stop,
    .parked = sl_hsync_parked_hook,
    .input = sl_hsync_input,
    .command = sl_hsync_command,
    .tick = sl_hsync_tick,
    .pull = sl_hsync_pull,
#if SL_INVARIANTS
    .check = sl_hsync_invariants,
#endif
};
