/* sl_hpull.c — the pull: ranges taken, asked for, answered, ended (see
   sl_hpull.h). */
#include "sl_hpull.h"

#include <string.h>

#include <rte_malloc.h>

#include "sl_hanswer.h"
#include "sl_hdrmap.h"
#include "sl_hrec.h"
#include "sl_log.h"
#include "sl_sha256d.h"

/* ---- tables ------------------------------------------------------------------ */

static sl_expect_tab_t *sl_hpull_tab(const sl_lcore_t *lc, const sl_routine_peer_t *p,
                                     const sl_hpull_lcore_t *g)
{
	return (sl_expect_tab_t *)(g->tabs + (size_t)sl_routine_slot(lc, p) * g->tab_sz);
}

/* sl_hpull_range: the take behind expectation e of p. */
static sl_range_t *sl_hpull_range(const sl_lcore_t *lc, const sl_routine_peer_t *p,
                                  const sl_hpull_lcore_t *g, const sl_expect_tab_t *t,
                                  const sl_expect_t *e)
{
	return &g->rng[(size_t)sl_routine_slot(lc, p) * g->inflight + sl_expect_idx(t, e)];
}

static uint32_t sl_hpull_gen(const sl_routine_peer_t *p)
{
	return sl_sid_gen(p->sid);
}

int sl_hpull_init(sl_lcore_t *lc, sl_hpull_lcore_t *g, const sl_chain_profile_t *profile)
{
	const sl_cfg_t *cfg = &lc->dp->cfg;
	static const sl_expect_limits_t lim = {.quiet_ns = SL_HANSWER_QUIET_NS,
	                                       .noanswer_ns = SL_HANSWER_NOANSWER_NS,
	                                       .stale_ns = SL_HANSWER_STALE_NS};
	g->profile = profile;
	g->q = sl_rangeq_join(sl_region_obj(&lc->dp->region, SL_REGION_OBJ_RANGEQ, 0));
	g->inflight = SL_MIN(SL_MAX(cfg->inflight, 1u), (uint32_t)SL_INFLIGHT_MAX);
	g->tab_sz = RTE_ALIGN_CEIL(sl_expect_footprint(g->inflight), RTE_CACHE_LINE_SIZE);
	size_t tabs = g->tab_sz * SL_SESSIONS_PER_LCORE;
	size_t rng = sizeof(sl_range_t) * SL_SESSIONS_PER_LCORE * g->inflight;
	g->tabs = sl_lcore_zalloc(lc, "sl_hpull_tabs", tabs);
	g->rng = sl_lcore_zalloc(lc, "sl_hpull_rng", rng);
	if (SL_UNLIKELY(g->q == NULL || g->tabs == NULL || g->rng == NULL)) {
		SL_ERR("worker %u: header sync: range table or %zu bytes of expectations unusable",
		       lc->idx, tabs + rng);
		sl_hpull_fini(g);
		return -1;
	}
	for (uint32_t s = 0; s < SL_SESSIONS_PER_LCORE; s++)
		sl_expect_init(g->tabs + (size_t)s * g->tab_sz, g->inflight, true, &lim);
	sl_routine_need_events(lc, g->inflight); /* an answer's events per expectation */
	return 0;
}

void sl_hpull_fini(sl_hpull_lcore_t *g)
{
	rte_free(g->tabs);
	rte_free(g->rng);
	g->tabs = NULL;
	g->rng = NULL;
}

/* sl_hpull_window_max: the ceiling of a session's request window.  All
   answers of a full window may arrive at once, so the window is held to
   what half the RX path can take (rx_cap / 2 frames, a full answer being
   SL_WIRE_REPLY_FRAMES_MAX frames): more would fill our own queue, pass
   the BACKOFF mark and make us throttle the very peer we asked. */
static uint32_t sl_hpull_window_max(const sl_lcore_t *lc, const sl_hpull_lcore_t *g)
{
	uint32_t fit = lc->rt->rx_cap / (2u * SL_WIRE_REPLY_FRAMES_MAX);
	return SL_MIN(g->inflight, SL_MAX(fit, 1u));
}

void sl_hpull_start(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp)
{
	sl_expect_tab_t *t = sl_hpull_tab(lc, p, g);
	g->open -= SL_MIN(g->open, t->n); /* release ended them all: n is 0 */
	sl_expect_reset(t);
	sl_flow_init(&pp->flow, sl_hpull_window_max(lc, g));
}

uint32_t sl_hpull_open(const sl_lcore_t *lc, const sl_routine_peer_t *p, const sl_hpull_lcore_t *g)
{
	return sl_hpull_tab(lc, p, g)->n;
}

/* ---- scheduling -------------------------------------------------------------- */

/* sl_hpull_soon: the next pull scan runs no later than `at`. */
static void sl_hpull_soon(sl_hpull_lcore_t *g, uint64_t at)
{
	if (at < g->pull_at_ns)
		g->pull_at_ns = at;
}

/* sl_hpull_wait: no pull for pp before `ns` from now. */
static void sl_hpull_wait(sl_lcore_t *lc, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp, uint64_t ns)
{
	pp->retry_ns = lc->now_ns + ns;
	sl_hpull_soon(g, pp->retry_ns);
}

/* sl_hpull_retry_later: an empty or cut answer, bad data: the peer's
   doing, SL_HPULL_RETRY_NS. */
static void sl_hpull_retry_later(sl_lcore_t *lc, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp)
{
	sl_hpull_wait(lc, g, pp, SL_HPULL_RETRY_NS);
}

/* sl_hpull_retry_soon: local pressure (our event ring or TX path full):
   the peer did nothing wrong, SL_HPULL_EVENT_WAIT_NS. */
static void sl_hpull_retry_soon(sl_lcore_t *lc, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp)
{
	sl_hpull_wait(lc, g, pp, SL_HPULL_EVENT_WAIT_NS);
}

void sl_hpull_tip(sl_lcore_t *lc, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp, uint32_t best)
{
	bool news = !pp->tip_known || best > pp->peer_best;
	pp->peer_best = best;
	pp->tip_known = 1;
	/* Never pull right after a STATUS (rule 8): the reactor makes the work
	   first and the epoch moves; a deferred scan covers work already queued. */
	if (news)
		sl_hpull_soon(g, lc->now_ns + SL_HPULL_TIP_NS);
}

bool sl_hpull_due(sl_lcore_t *lc, sl_hpull_lcore_t *g)
{
	if (SL_UNLIKELY(g->q == NULL))
		return false;
	uint64_t ep = sl_rangeq_epoch(g->q);
	if (SL_LIKELY(ep == g->epoch_seen && lc->now_ns < g->pull_at_ns))
		return false;
	g->epoch_seen = ep;
	g->pull_at_ns = lc->now_ns + SL_HPULL_IDLE_NS;
	lc->work++;
	return true;
}

/* ---- ending expectations ------------------------------------------------------ */

/* sl_hpull_work_event: WORK_ASSIGNED / WORK_RETURNED for range r; nf: the
   peer's NOT_FOUND reason when that is why it came back.  0, or -1 when
   the event ring was full. */
static int sl_hpull_work_event(sl_lcore_t *lc, sl_routine_peer_t *p, uint16_t type, uint64_t corr,
                               const sl_range_t *r, sl_range_why_t why, uint16_t nf)
{
	sl_evt_work_t w = {.start = r->start,
	                   .len = r->len,
	                   .why = (uint16_t)why,
	                   .dir = r->dir,
	                   .nf_reason = (uint8_t)nf,
	                   .tag = r->tag,
	                   .slot = r->slot};
	return sl_routine_event_corr(lc, type, p->sid, sl_hpull_gen(p), corr, &w, sizeof w);
}

/* sl_hpull_end frees e; `late` keeps its corr so stragglers of an answer
   cut short are late.  The window has room: pull soon. */
static void sl_hpull_end(sl_lcore_t *lc, sl_hpull_lcore_t *g, sl_expect_tab_t *t, sl_expect_t *e,
                         bool late)
{
	sl_expect_end(t, e, late);
	g->open--;
	sl_hpull_soon(g, lc->now_ns);
}

/* sl_hpull_return gives e's range back to the table (WORK_RETURNED with
   the peer's NOT_FOUND reason nf when the hold was still ours) and ends e. */
static void sl_hpull_return(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                            sl_expect_tab_t *t, sl_expect_t *e, sl_range_why_t why, uint16_t nf)
{
	sl_range_t *r = sl_hpull_range(lc, p, g, t, e);
	if (sl_rangeq_return(g->q, p->sid, sl_hpull_gen(p), r, why) == SL_RANGEQ_OK)
		sl_hpull_work_event(lc, p, SL_EVT_WORK_RETURNED, e->corr, r, why, nf);
	sl_hpull_end(lc, g, t, e, true);
}

void sl_hpull_release(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g, sl_range_why_t why)
{
	if (g->q == NULL)
		return;
	sl_expect_tab_t *t = sl_hpull_tab(lc, p, g);
	for (sl_expect_t *e = sl_expect_next(t, 0); e != NULL;
	     e = sl_expect_next(t, sl_expect_idx(t, e) + 1))
		sl_hpull_return(lc, p, g, t, e, why, 0);
	sl_rangeq_forget_peer(g->q, p->sid, sl_hpull_gen(p));
}

/* sl_hpull_short: e's answer ended (LAST, or quiet) with heights missing:
   the range goes back (NOT_FOUND: this peer's hold is cleared).  `cut`:
   the peer itself ended it early (LAST before the end of the request: that
   is all it has), so p waits the empty-retry delay, as after an empty
   answer; otherwise frames were lost on the way and the rest may be asked
   again at once. */
static void sl_hpull_short(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                           sl_hpull_peer_t *pp, sl_expect_tab_t *t, sl_expect_t *e, bool cut)
{
	bool wait = cut || e->got == 0;
	SL_CNT_ADD(&lc->cnt->hs_partial, 1);
	sl_hpull_return(lc, p, g, t, e, SL_RANGE_WHY_NOT_FOUND, 0);
	if (wait)
		sl_hpull_retry_later(lc, g, pp);
}

/* sl_hpull_expire ends e for the deadline `due` that passed (the tick and
   the answer path judge with the same sl_expect_due). */
static void sl_hpull_expire(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                            sl_hpull_peer_t *pp, sl_expect_tab_t *t, sl_expect_t *e,
                            sl_expect_due_t due)
{
	if (due != SL_EXPECT_DUE_OPEN)
		sl_flow_loss(&pp->flow); /* an answer lost: a smaller window */
	switch (due) {
	case SL_EXPECT_DUE_QUIET:
		sl_hpull_short(lc, p, g, pp, t, e, false); /* its LAST was lost */
		break;
	case SL_EXPECT_DUE_NOANSWER:
		/* the request or its whole answer was lost: ask again (the
		   reactor's timeout may never come: the heights can be delivered
		   meanwhile by an earlier answer) */
		SL_CNT_ADD(&lc->cnt->hs_no_answer, 1);
		sl_hpull_return(lc, p, g, t, e, SL_RANGE_WHY_NOT_FOUND, 0);
		break;
	case SL_EXPECT_DUE_STALE:
		SL_INFO("worker %u: session %08x: expectation %u+%u stale, dropped", lc->idx,
		        p->sid, e->start, e->len);
		sl_hpull_return(lc, p, g, t, e, SL_RANGE_WHY_TIMEOUT, 0);
		break;
	case SL_EXPECT_DUE_OPEN:
		break;
	}
}

/* sl_hpull_bad: record-only BAD_DATA on an answer: recorded, batch
   discarded, the range re-queued (INVALID), the peer not asked again
   before the empty-retry delay. */
static void sl_hpull_bad(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                         sl_hpull_peer_t *pp, sl_expect_tab_t *t, sl_expect_t *e, const char *what)
{
	SL_DEBUG("worker %u: session %08x: HEADERS for %u+%u refused: %s", lc->idx, p->sid,
	         e->start, e->len, what);
	sl_hrec_bad(lc, p, SL_WIRE_T_HEADERS);
	sl_hpull_return(lc, p, g, t, e, SL_RANGE_WHY_INVALID, 0);
	sl_hpull_retry_later(lc, g, pp);
}

/* ---- answers ------------------------------------------------------------------ */

/* sl_hpull_take_in: an OK batch: checked, delivered, credited.  False
   when e ended on the way (bad data, or ctrl could not take it). */
static bool sl_hpull_take_in(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                             sl_hpull_peer_t *pp, sl_expect_tab_t *t, sl_expect_t *e,
                             const sl_wire_headers_t *hd)
{
	sl_evt_headers_t ev;
	const char *why = sl_hanswer_check(g->profile, hd, &ev);
	if (SL_UNLIKELY(why != NULL)) {
		sl_hpull_bad(lc, p, g, pp, t, e, why);
		return false;
	}
	if (SL_UNLIKELY(sl_hanswer_deliver(lc, p, e->corr, hd, &ev, 0, e->start, e->len) != 0)) {
		/* ctrl cannot take them now (event ring full): the range goes
		   back rather than be credited unseen (local, not the peer's) */
		sl_hpull_return(lc, p, g, t, e, SL_RANGE_WHY_CANCEL, 0);
		sl_hpull_retry_soon(lc, g, pp);
		return false;
	}
	sl_expect_credit(e, hd->start_height, hd->n, lc->now_ns);
	return true;
}

void sl_hpull_headers(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                      sl_hpull_peer_t *pp, uint64_t corr, const sl_wire_headers_t *hd)
{
	sl_expect_tab_t *t = sl_hpull_tab(lc, p, g);
	sl_expect_t *e;
	sl_expect_reason_t r = sl_expect_check(t, corr, hd->start_height, hd->n, lc->now_ns, &e);
	sl_hanswer_count(lc, p, r);
	switch (r) {
	case SL_EXPECT_OK:
		if (!sl_hpull_take_in(lc, p, g, pp, t, e, hd))
			return;
		break;
	case SL_EXPECT_DUP:
		sl_expect_credit(e, hd->start_height, hd->n, lc->now_ns); /* heard from */
		break;
	case SL_EXPECT_EXPIRED: /* deadlines before completions: never credited */
		sl_hpull_expire(lc, p, g, pp, t, e, sl_expect_due(t, e, lc->now_ns));
		return;
	case SL_EXPECT_OUTSIDE:
		sl_hpull_bad(lc, p, g, pp, t, e, "heights outside the request");
		return;
	case SL_EXPECT_UNSOLICITED: /* matches no request of ours: protocol (SPEC §5) */
		sl_routine_misbehave(lc, p, SL_MISB_UNSOLICITED, SL_WIRE_STREAM_HSYNC,
		                     SL_WIRE_T_HEADERS);
		return;
	default: /* LATE: a straggler of ours, dropped */
		return;
	}
	if (sl_expect_done(e)) {
		sl_hpull_end(lc, g, t, e, false); /* delivered whole: the reactor credits it */
		sl_flow_ok(&pp->flow);
	} else if ((hd->flags & SL_WIRE_HEADERS_F_LAST) != 0) {
		/* frames lost on the way, or the peer cut its answer short */
		uint64_t end = (uint64_t)hd->start_height + hd->n;
		sl_hpull_short(lc, p, g, pp, t, e, end < (uint64_t)e->start + e->len);
	}
}

void sl_hpull_not_found(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                        sl_hpull_peer_t *pp, uint64_t corr, const sl_wire_not_found_t *nf)
{
	sl_expect_tab_t *t = sl_hpull_tab(lc, p, g);
	sl_expect_t *e;
	sl_expect_reason_t r = sl_expect_check(t, corr, nf->start_height, 0, lc->now_ns, &e);
	sl_hanswer_count(lc, p, r);
	if (r == SL_EXPECT_EXPIRED) { /* it ended as a timeout, not as this NOT_FOUND */
		sl_hpull_expire(lc, p, g, pp, t, e, sl_expect_due(t, e, lc->now_ns));
		return;
	}
	if (r != SL_EXPECT_OK)
		return; /* late or for nothing of ours: dropped silently */
	/* the reason rides on WORK_RETURNED: UNKNOWN_ANCHOR tells the reactor
	   the peer is on another branch */
	sl_hpull_return(lc, p, g, t, e, SL_RANGE_WHY_NOT_FOUND, nf->reason);
	if (nf->reason == SL_WIRE_NF_BUSY) {
		/* the peer's serving budget: a short hold growing only while
		   BUSY continues, and a smaller window (sl_flow.h) */
		SL_CNT_ADD(&lc->cnt->hs_busy_rx, 1);
		sl_hpull_soon(g, sl_flow_busy(&pp->flow, lc->now_ns));
	} else {
		sl_hpull_retry_later(lc, g, pp);
	}
}

/* ---- requests ------------------------------------------------------------------ */

/* sl_hpull_anchor: hash of our committed header start-1 when the map has
   it (and no truncation raced the read), else zero (no check). */
static void sl_hpull_anchor(sl_lcore_t *lc, uint32_t start, uint8_t out[32])
{
	memset(out, 0, 32);
	const sl_store_reader_t *r = sl_hdrmap_get(lc->dp);
	if (start == 0 || r == NULL)
		return;
	uint32_t count;
	uint64_t epoch;
	sl_store_reader_begin(r, &count, &epoch);
	if (start - 1 >= count)
		return;
	uint8_t hdr[SL_CHAIN_HDR_LEN];
	memcpy(hdr, sl_store_reader_ptr(r, start - 1), sizeof hdr);
	if (sl_store_reader_end(r, epoch))
		sl_sha256d_hdr(hdr, out);
}

/* sl_hpull_send: GET_HEADERS for r under corr; 0 or the send's error. */
static int sl_hpull_send(sl_lcore_t *lc, sl_routine_peer_t *p, uint64_t corr, const sl_range_t *r)
{
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	msg.get_headers.start_height = r->start;
	msg.get_headers.count = (uint16_t)r->len;
	sl_hpull_anchor(lc, r->start, msg.get_headers.anchor_hash);
	return sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_GET_HEADERS, corr, &msg);
}

/* sl_hpull_request: take -> GET_HEADERS -> expectation -> WORK_ASSIGNED, in
   one step.  False when nothing was taken or the send failed (the range
   is back in the table). */
static bool sl_hpull_request(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                             sl_hpull_peer_t *pp, sl_expect_tab_t *t)
{
	sl_range_t r;
	if (!sl_evq_room(&lc->rt->evq, SL_HPULL_EVENT_ROOM(g->open))) {
		SL_CNT_ADD(&lc->cnt->hs_pull_deferred, 1); /* ctrl is behind: no new work */
		sl_hpull_soon(g, lc->now_ns + SL_HPULL_EVENT_WAIT_NS);
		return false;
	}
	if (!sl_rangeq_take(g->q, p->sid, sl_hpull_gen(p), pp->peer_best, SL_WIRE_GET_HEADERS_MAX,
	                    &r))
		return false;
	uint64_t corr = ((uint64_t)sl_hpull_gen(p) << 32) | ++pp->corr_next;
	sl_expect_t *e = NULL;
	if (SL_UNLIKELY(sl_hpull_send(lc, p, corr, &r) != 0 ||
	                (e = sl_expect_issue(t, corr, r.start, r.len, lc->now_ns)) == NULL)) {
		if (sl_rangeq_return(g->q, p->sid, sl_hpull_gen(p), &r, SL_RANGE_WHY_SEND_FAIL) ==
		    SL_RANGEQ_OK)
			sl_hpull_work_event(lc, p, SL_EVT_WORK_RETURNED, corr, &r,
			                    SL_RANGE_WHY_SEND_FAIL, 0);
		sl_hpull_retry_soon(lc, g, pp);
		return false;
	}
	g->open++;
	*sl_hpull_range(lc, p, g, t, e) = r;
	if (SL_UNLIKELY(sl_hpull_work_event(lc, p, SL_EVT_WORK_ASSIGNED, corr, &r,
	                                    SL_RANGE_WHY_NONE, 0) != 0)) {
		/* the reactor would not know this assignment: take nothing it
		   cannot track (the answer will be dropped as late) */
		SL_CNT_ADD(&lc->cnt->hs_event_full, 1);
		sl_hpull_return(lc, p, g, t, e, SL_RANGE_WHY_CANCEL, 0);
		sl_hpull_retry_soon(lc, g, pp);
		return false;
	}
	SL_CNT_ADD(&lc->cnt->hs_req_tx, 1);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_req_tx, 1);
	return true;
}

void sl_hpull_peer(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp)
{
	sl_expect_tab_t *t = sl_hpull_tab(lc, p, g);
	uint32_t win = sl_flow_window(&pp->flow);
	if (!pp->tip_known || t->n >= win)
		return;
	if (lc->now_ns < pp->retry_ns) {
		sl_hpull_soon(g, pp->retry_ns);
		return;
	}
	if (sl_flow_held(&pp->flow, lc->now_ns)) {
		sl_hpull_soon(g, pp->flow.hold_ns);
		return;
	}
	if (!sl_backoff_should_send(&p->quiet, SL_WIRE_STREAM_HSYNC, lc->now_ns)) {
		sl_hpull_soon(g, p->quiet.until_ns);
		return;
	}
	while (t->n < win && sl_hpull_request(lc, p, g, pp, t))
		;
}

/* ---- commands and deadlines ------------------------------------------------------ */

void sl_hpull_drop(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g, uint32_t start,
                   uint32_t count)
{
	sl_expect_tab_t *t = sl_hpull_tab(lc, p, g);
	sl_expect_t *e = sl_expect_overlap(t, start, count);
	if (e == NULL) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1); /* already ended: nothing to drop */
		return;
	}
	sl_hpull_return(lc, p, g, t, e, SL_RANGE_WHY_CANCEL, 0);
}

void sl_hpull_tick(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp)
{
	sl_expect_tab_t *t = sl_hpull_tab(lc, p, g);
	for (sl_expect_t *e = sl_expect_next(t, 0); e != NULL;
	     e = sl_expect_next(t, sl_expect_idx(t, e) + 1)) {
		if (!sl_rangeq_holds(g->q, p->sid, sl_hpull_gen(p),
		                     sl_hpull_range(lc, p, g, t, e))) {
			/* covered (by answers to other requests), reset or taken back:
			   nothing to wait for; stragglers are late */
			SL_CNT_ADD(&lc->cnt->hs_exp_dropped, 1);
			sl_hpull_end(lc, g, t, e, true);
		} else {
			sl_hpull_expire(lc, p, g, pp, t, e, sl_expect_due(t, e, lc->now_ns));
		}
	}
}
