/* sl_hfetch.c — ctrl's fetches run by the header-sync routine (see
   sl_hfetch.h). */
#include "sl_hfetch.h"

#include <string.h>

#include <rte_malloc.h>

#include "sl_hanswer.h"
#include "sl_hrec.h"
#include "sl_log.h"

static sl_expect_tab_t *sl_hfetch_tab(const sl_lcore_t *lc, const sl_routine_peer_t *p,
                                      const sl_hfetch_lcore_t *g)
{
	return (sl_expect_tab_t *)(g->tabs + (size_t)sl_routine_slot(lc, p) * g->tab_sz);
}

int sl_hfetch_init(sl_lcore_t *lc, sl_hfetch_lcore_t *g)
{
	/* a fetch has no "no answer" deadline of its own: stale covers it */
	static const sl_expect_limits_t lim = {.quiet_ns = SL_HANSWER_QUIET_NS,
	                                       .noanswer_ns = SL_HANSWER_STALE_NS,
	                                       .stale_ns = SL_HANSWER_STALE_NS};
	g->tab_sz = RTE_ALIGN_CEIL(sl_expect_footprint(SL_HFETCH_MAX), RTE_CACHE_LINE_SIZE);
	size_t bytes = g->tab_sz * SL_SESSIONS_PER_LCORE;
	g->tabs = sl_lcore_zalloc(lc, "sl_hfetch_tabs", bytes);
	if (SL_UNLIKELY(g->tabs == NULL)) {
		SL_ERR("worker %u: header sync: %zu bytes of fetch tables unusable", lc->idx,
		       bytes);
		return -1;
	}
	for (uint32_t s = 0; s < SL_SESSIONS_PER_LCORE; s++)
		sl_expect_init(g->tabs + (size_t)s * g->tab_sz, SL_HFETCH_MAX, false, &lim);
	return 0;
}

void sl_hfetch_fini(sl_hfetch_lcore_t *g)
{
	rte_free(g->tabs);
	g->tabs = NULL;
}

void sl_hfetch_start(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g)
{
	sl_expect_reset(sl_hfetch_tab(lc, p, g));
}

/* sl_hfetch_end ends fetch e of p: reason 0 (every height came) is
   silent, any other goes to ctrl as FETCH_END.  Stragglers are late. */
static void sl_hfetch_end(sl_lcore_t *lc, sl_routine_peer_t *p, sl_expect_tab_t *t, sl_expect_t *e,
                          uint16_t reason)
{
	if (reason != 0) {
		sl_evt_fetch_end_t ev = {.start = e->start, .reason = reason};
		sl_routine_event_corr(lc, SL_EVT_FETCH_END, p->sid, sl_sid_gen(p->sid), e->corr,
		                      &ev, sizeof ev);
	}
	sl_expect_end(t, e, true);
}

void sl_hfetch_send(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g,
                    const sl_cmd_fetch_t *cmd)
{
	sl_expect_tab_t *t = sl_hfetch_tab(lc, p, g);
	if (SL_UNLIKELY(cmd->kind != SL_SEND_FETCH || cmd->count == 0 ||
	                cmd->count > SL_WIRE_GET_HEADERS_MAX ||
	                (cmd->corr & SL_FETCH_CORR_BIT) == 0 || sl_expect_find(t, cmd->corr))) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	if (t->n == t->cap) /* replaced: its stragglers become late */
		sl_expect_end(t, sl_expect_oldest(t), true);
	sl_expect_t *e = sl_expect_issue(t, cmd->corr, cmd->start, cmd->count, lc->now_ns);
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	msg.get_headers.start_height = cmd->start;
	msg.get_headers.count = cmd->count;
	memcpy(msg.get_headers.anchor_hash, cmd->anchor, 32);
	if (SL_UNLIKELY(sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_GET_HEADERS,
	                                     cmd->corr, &msg) != 0)) {
		sl_hfetch_end(lc, p, t, e, SL_FETCH_END_SEND);
		return;
	}
	SL_CNT_ADD(&lc->cnt->hs_fetch_tx, 1);
}

/* sl_hfetch_take_in: an OK batch of fetch e: checked and delivered to
   ctrl flagged FETCH, credited.  False when e ended on the way. */
static bool sl_hfetch_take_in(sl_lcore_t *lc, sl_routine_peer_t *p, sl_expect_tab_t *t,
                              sl_expect_t *e, const sl_chain_profile_t *prof,
                              const sl_wire_headers_t *hd)
{
	sl_evt_headers_t ev;
	const char *why = sl_hanswer_check(prof, hd, &ev);
	if (SL_UNLIKELY(why != NULL)) {
		SL_DEBUG("worker %u: session %08x: fetch %u+%u refused: %s", lc->idx, p->sid,
		         e->start, e->len, why);
		sl_hrec_bad(lc, p, SL_WIRE_T_HEADERS);
		sl_hfetch_end(lc, p, t, e, SL_FETCH_END_BAD);
		return false;
	}
	if (SL_UNLIKELY(sl_hanswer_deliver(lc, p, e->corr, hd, &ev, SL_EVT_HEADERS_F_FETCH,
	                                   e->start, e->len) != 0)) {
		sl_hfetch_end(lc, p, t, e, SL_FETCH_END_SHORT); /* ctrl asks again */
		return false;
	}
	sl_expect_credit(e, hd->start_height, hd->n, lc->now_ns);
	return true;
}

void sl_hfetch_headers(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g,
                       const sl_chain_profile_t *prof, uint64_t corr, const sl_wire_headers_t *hd)
{
	sl_expect_tab_t *t = sl_hfetch_tab(lc, p, g);
	sl_expect_t *e;
	sl_expect_reason_t r = sl_expect_check(t, corr, hd->start_height, hd->n, lc->now_ns, &e);
	sl_hanswer_count(lc, p, r);
	switch (r) {
	case SL_EXPECT_OK:
		if (!sl_hfetch_take_in(lc, p, t, e, prof, hd))
			return;
		break;
	case SL_EXPECT_DUP:
		sl_expect_credit(e, hd->start_height, hd->n, lc->now_ns); /* heard from */
		break;
	case SL_EXPECT_EXPIRED: /* deadlines before completions */
		sl_hfetch_end(lc, p, t, e, SL_FETCH_END_SHORT);
		return;
	case SL_EXPECT_OUTSIDE:
		sl_hrec_bad(lc, p, SL_WIRE_T_HEADERS);
		sl_hfetch_end(lc, p, t, e, SL_FETCH_END_BAD);
		return;
	case SL_EXPECT_UNSOLICITED: /* matches no request of ours: protocol (SPEC §5) */
		sl_routine_misbehave(lc, p, SL_MISB_UNSOLICITED, SL_WIRE_STREAM_HSYNC,
		                     SL_WIRE_T_HEADERS);
		return;
	default: /* LATE */
		return;
	}
	if (sl_expect_done(e))
		sl_hfetch_end(lc, p, t, e, 0);
	else if ((hd->flags & SL_WIRE_HEADERS_F_LAST) != 0)
		sl_hfetch_end(lc, p, t, e, SL_FETCH_END_SHORT);
}

void sl_hfetch_not_found(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g, uint64_t corr,
                         const sl_wire_not_found_t *nf)
{
	sl_expect_tab_t *t = sl_hfetch_tab(lc, p, g);
	sl_expect_t *e;
	sl_expect_reason_t r = sl_expect_check(t, corr, nf->start_height, 0, lc->now_ns, &e);
	sl_hanswer_count(lc, p, r);
	if (r == SL_EXPECT_EXPIRED)
		sl_hfetch_end(lc, p, t, e, SL_FETCH_END_SHORT);
	else if (r == SL_EXPECT_OK)
		sl_hfetch_end(lc, p, t, e, nf->reason != 0 ? nf->reason : SL_FETCH_END_SHORT);
}

void sl_hfetch_tick(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g)
{
	sl_expect_tab_t *t = sl_hfetch_tab(lc, p, g);
	for (sl_expect_t *e = sl_expect_next(t, 0); e != NULL;
	     e = sl_expect_next(t, sl_expect_idx(t, e) + 1))
		if (sl_expect_due(t, e, lc->now_ns) != SL_EXPECT_DUE_OPEN)
			sl_hfetch_end(lc, p, t, e, SL_FETCH_END_SHORT);
}
