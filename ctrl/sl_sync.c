/* sl_sync.c — see sl_sync.h. */
#include "sl_sync.h"

#include "sl_time.h"

#include <stdlib.h>
#include <string.h>

#include "sl_log.h"
#include "sl_probe.h"
#include "sl_session.h"

/* ---- the reactor's chain: one-liners over sl_chainstore ------------------- */

static void ch_tip(void *ctx, sl_chainstore_tip_t *out)
{
	sl_chainstore_tip(((sl_sync_t *)ctx)->cs, out);
}

static uint32_t ch_durable(void *ctx)
{
	sl_chainstore_tip_t t;
	sl_chainstore_durable(((sl_sync_t *)ctx)->cs, &t);
	return t.height;
}

/* the bulk of a sync: group commits off ctrl's thread (the tick finishes
   them, sl_sync_tick) */
static sl_chainstore_err_t ch_append(void *ctx, uint32_t start, const uint8_t *hdrs,
                                     const uint8_t *hashes, uint32_t n, uint32_t *committed,
                                     sl_chainstore_fail_t *fail)
{
	return sl_chainstore_append_group(((sl_sync_t *)ctx)->cs, start, hdrs, hashes, n, committed,
	                                  fail);
}

typedef struct {
	sl_chainstore_t *cs;
	uint32_t height;
	sl_chainstore_err_t e;
} sync_trunc_t;

static void sync_trunc_fn(void *ctx)
{
	sync_trunc_t *t = ctx;
	t->e = sl_chainstore_truncate(t->cs, t->height);
}

/* A reorg's truncation: through the read path when there is one (it waits
   for the reads in flight and holds new ones back, SPEC §9); TIMEOUT,
   CANCELLED or SHUTTING_DOWN there leave the store untouched: STORE, so the
   reorg is retried or abandoned. */
static sl_chainstore_err_t ch_truncate(void *ctx, uint32_t height)
{
	sl_sync_t *s = ctx;
	if (s->sr == NULL)
		return sl_chainstore_truncate(s->cs, height);
	sync_trunc_t t = {s->cs, height, SL_CHAINSTORE_ERR_STORE};
	sl_storeread_err_t e = sl_storeread_truncate(s->sr, sync_trunc_fn, &t,
	                                             sl_now_ns() + SL_STOREREAD_DEADLINE_DEFAULT);
	if (e != SL_STOREREAD_OK) {
		SL_WARN("sync: truncation to %u not done: %s", height, sl_storeread_err_str(e));
		return SL_CHAINSTORE_ERR_STORE;
	}
	SL_INFO("sync: store truncated to %u after the reads in flight (%s)", height,
	        sl_chainstore_err_str(t.e));
	return t.e;
}

static sl_chainstore_err_t ch_get(void *ctx, uint32_t height, uint8_t hdr[80], uint8_t hash[32])
{
	return sl_chainstore_get(((sl_sync_t *)ctx)->cs, height, hdr, hash);
}

/* ---- the branch fetch's calls --------------------------------------------- */

static void sync_park(sl_sync_t *s, uint32_t sid, uint32_t gen);

static int br_send(void *ctx, uint32_t sess, uint32_t gen, const sl_cmd_fetch_t *f)
{
	sl_sync_t *s = ctx;
	sl_cmdq_outcome_t oc = sl_cmdq_send(&s->pm->cmdq, sl_sid_lcore(sess), sl_sid_slot(sess),
	                                    gen, SL_CMDQ_V_SEND_FRAME, f, (uint16_t)sizeof *f);
	if (oc == SL_CMDQ_QUEUED)
		return 0;
	if (oc == SL_CMDQ_PARK_REQUIRED) {
		s->cnt.fetch_park++;
		sync_park(s, sess, gen);
	}
	return -1;
}

/* br_switch: the reorg (DESIGN.md: reset_above + store truncation, in
   sl_reactor_reorg_to), then the branch is committed through the chain
   rules like any append. */
static int br_switch(void *ctx, uint32_t fork, const uint8_t *hdrs, uint32_t n)
{
	sl_sync_t *s = ctx;
	sl_chainstore_tip_t t;
	sl_chainstore_tip(s->cs, &t);
	if (fork < t.height) {
		sl_chainstore_err_t e = sl_reactor_reorg_to(s->r, fork);
		if (SL_UNLIKELY(e != SL_CHAINSTORE_OK)) {
			SL_ERR("sync: reorg to %u failed: %s", fork, sl_chainstore_err_str(e));
			return -1;
		}
	}
	uint32_t done = 0;
	sl_chainstore_fail_t f = {0};
	sl_chainstore_err_t e = sl_chainstore_append(s->cs, fork + 1, hdrs, n, &done, &f);
	if (SL_UNLIKELY(e != SL_CHAINSTORE_OK))
		SL_WARN("sync: branch commit after %u stopped at %u of %u: %s", fork, done, n,
		        e == SL_CHAINSTORE_ERR_INVALID ? sl_chainstore_reason(&f)
		                                       : sl_chainstore_err_str(e));
	sl_reactor_chain_moved(s->r);
	s->cnt.switches++;
	return (int)done;
}

/* ---- lifecycle ----------------------------------------------------------- */

void sl_sync_init(sl_sync_t *s, sl_chainstore_t *cs, sl_peermgr_t *pm)
{
	memset(s, 0, sizeof(*s));
	s->cs = cs;
	s->pm = pm;
	s->target = SL_REACTOR_NO_TARGET;
	sl_seen_init(&s->seen);
}

void sl_sync_set_storeread(sl_sync_t *s, sl_storeread_t *sr)
{
	s->sr = sr;
}

int sl_sync_attach(sl_sync_t *s, sl_region_t *r)
{
	sl_sync_detach(s);
	sl_rangeq_t *q = sl_rangeq_join(sl_region_obj(r, SL_REGION_OBJ_RANGEQ, 0));
	if (SL_UNLIKELY(q == NULL)) {
		SL_ERR("sync: the region has no range table; header sync is off");
		return -1;
	}
	sl_reactor_opts_t o = {.q = q,
	                       .chain = {s, ch_tip, ch_durable, ch_append, ch_truncate, ch_get},
	                       .timeout_ns = s->timeout_ns};
	sl_branch_opts_t bo = {.cs = s->cs, .ctx = s, .send = br_send, .switch_to = br_switch};
	s->q = q;
	s->r = sl_reactor_new(&o);
	s->b = sl_branch_new(&bo);
	if (SL_UNLIKELY(s->r == NULL || s->b == NULL)) {
		SL_ERR("sync: cannot create the reactor or the branch fetch; header sync is off");
		sl_sync_detach(s);
		return -1;
	}
	if (s->target != SL_REACTOR_NO_TARGET)
		sl_reactor_set_target(s->r, s->target);
	return 0;
}

void sl_sync_detach(sl_sync_t *s)
{
	sl_branch_delete(s->b);
	sl_reactor_delete(s->r);
	sl_rangeq_leave(s->q);
	s->b = NULL;
	s->r = NULL;
	s->q = NULL;
	s->run_on = false; /* a run cut by the dataplane's exit is not logged as ended */
}

/* ---- outputs ------------------------------------------------------------- */

static void sync_park(sl_sync_t *s, uint32_t sid, uint32_t gen)
{
	SL_PROBE_CMD_PARK(sid, SL_WIRE_STREAM_HSYNC);
	s->cnt.drop_parks++;
	s->pm->cnt.cmd_parks++;
	sl_cmdq_park(&s->pm->cmdq, sl_sid_lcore(sid), sl_sid_slot(sid), gen);
	SL_INFO("session %u: header-sync service parked (DROP_EXPECTATION undeliverable)", sid);
	sl_reactor_on_session_down(s->r, sid, gen);
}

static void sync_drop_exp(sl_sync_t *s, const sl_reactor_out_t *o)
{
	sl_cmdq_outcome_t oc =
	    sl_cmdq_send(&s->pm->cmdq, sl_sid_lcore(o->sess), sl_sid_slot(o->sess), o->gen,
	                 SL_CMDQ_V_DROP_EXPECTATION, &o->drop, (uint16_t)sizeof o->drop);
	if (oc == SL_CMDQ_QUEUED || oc == SL_CMDQ_COALESCED)
		s->cnt.drops_sent++;
	else if (oc == SL_CMDQ_PARK_REQUIRED)
		sync_park(s, o->sess, o->gen);
	else
		s->cnt.drop_failed++; /* the session is gone: nothing to drop */
}

/* sync_bad_data records record-only BAD_DATA (SPEC §5) of session sid. */
static void sync_bad_data(sl_sync_t *s, uint32_t sid)
{
	sl_peermgr_misbehavior(s->pm, sid, SL_MISB_BAD_DATA);
}

static void sync_misbehavior(sl_sync_t *s, const sl_reactor_out_t *o)
{
	s->cnt.misbehavior++;
	sync_bad_data(s, o->sess);
	if (o->reason == SL_REACTOR_FALSE_WORK)
		SL_INFO("session %u: its STATUS claimed more chainwork at tip %u than the headers "
		        "carry: claim cut, recorded",
		        o->sess, o->height);
	else if (o->reason == SL_REACTOR_FALSE_TIP)
		SL_INFO(
		    "session %u: its STATUS claimed tip %u but it cannot serve height %u: claim "
		    "cut to %u, recorded",
		    o->sess, o->peer_tip, o->height, o->height - 1);
	else
		SL_INFO("session %u: bad headers at height %u (reason %d), recorded", o->sess,
		        o->height, o->reason);
}

static void sync_drain(sl_sync_t *s)
{
	sl_reactor_out_t o;
	while (s->r != NULL && sl_reactor_poll_out(s->r, &o)) {
		switch (o.kind) {
		case SL_REACTOR_OUT_DROP_EXPECTATION:
			sync_drop_exp(s, &o);
			break;
		case SL_REACTOR_OUT_MISBEHAVIOR:
			sync_misbehavior(s, &o);
			break;
		case SL_REACTOR_OUT_FORK:
			s->cnt.forks++;
			SL_INFO("session %u advertises a heavier branch (tip %u; ours differs by "
			        "height %u)",
			        o.sess, o.peer_tip, o.height);
			sl_branch_fork(s->b, o.sess, o.gen, o.peer_tip, s->now_ns);
			break;
		default:
			break;
		}
	}
}

/* ---- events -------------------------------------------------------------- */

static void sync_on_status(sl_sync_t *s, const sl_msg_t *m, uint32_t gen)
{
	const sl_evt_peer_status_t *e = (const sl_evt_peer_status_t *)m->payload;
	sl_reactor_peer_status_t st = {.best_height = e->best_height};
	memcpy(st.best_hash, e->best_hash, 32);
	memcpy(st.chainwork, e->chainwork, 32);
	sl_reactor_on_status(s->r, m->session, gen, &st);
}

static void sync_on_headers(sl_sync_t *s, const sl_msg_t *m, uint32_t gen, uint64_t now_ns)
{
	const sl_evt_headers_t *e = (const sl_evt_headers_t *)m->payload;
	uint32_t n = SL_MIN((uint32_t)e->n, (uint32_t)SL_EVT_HEADERS_MAX);
	if (e->flags & SL_EVT_HEADERS_F_FETCH) {
		if ((m->corr & SL_OP_CORR_BIT) != 0)
			return; /* an op's attempt (sl_peerio) */
		sl_branch_on_headers(s->b, m->session, gen, m->corr, e, now_ns);
		return;
	}
	if (n == 0)
		return;
	sl_reactor_on_headers(s->r, m->session, gen, e->start, n, &e->hdr[0][0], &e->hash[0][0],
	                      now_ns);
}

/* sync_range rebuilds the assignment an event names.  Without tag and slot
   (an older dataplane) the slot is the bucket of start and the tag is read
   from the table: a changed tag means our hold is gone anyway. */
static sl_range_t sync_range(const sl_sync_t *s, const sl_msg_t *m)
{
	const sl_evt_work_t *w = (const sl_evt_work_t *)m->payload;
	sl_range_t r = {
	    .start = w->start, .len = w->len, .dir = w->dir, .tag = w->tag, .slot = w->slot};
	sl_rangeq_t *q = s->q;
	if (w->tag != 0 || w->slot != 0 || SL_UNLIKELY(q == NULL))
		return r;
	uint32_t rl = sl_rangeq_range_len(q);
	sl_range_info_t ri;
	r.slot = (w->start / rl) & (sl_rangeq_window(q) - 1);
	if (sl_rangeq_range_at(q, r.slot, &ri) && ri.range.start <= w->start &&
	    w->start < ri.range.start + ri.range.len) {
		r.tag = ri.range.tag;
		r.finalized = ri.range.finalized;
	}
	return r;
}

/* ---- NEW_BLOCK ---------------------------------------------------------------- */

/* sync_relay queues FORWARD_NEW_BLOCK(height, hdr) to every live session
   with stream 5 but `except`; returns how many were queued. */
static uint32_t sync_relay(sl_sync_t *s, uint32_t height, const uint8_t hdr[80], uint32_t except)
{
	sl_cmd_new_block_t c = {.height = height};
	memcpy(c.hdr, hdr, sizeof c.hdr);
	const sl_peers_t *t = &s->pm->peers;
	uint32_t queued = 0, end = t->n_lcores * SL_SESSIONS_PER_LCORE;
	for (uint32_t i = 0, up = 0; i < end && up < t->n_up; i++) {
		const sl_peers_entry_t *p = &t->e[i];
		up += p->state == SL_PEER_UP;
		if (p->state != SL_PEER_UP || p->sid == except ||
		    (p->streams & (1u << SL_WIRE_STREAM_HSYNC)) == 0)
			continue;
		sl_cmdq_outcome_t oc =
		    sl_cmdq_send(&s->pm->cmdq, sl_sid_lcore(p->sid), sl_sid_slot(p->sid), p->gen,
		                 SL_CMDQ_V_FORWARD_NEW_BLOCK, &c, (uint16_t)sizeof c);
		if (oc == SL_CMDQ_QUEUED) {
			queued++;
			s->cnt.nb_relayed++;
		} else {
			s->cnt
			    .nb_relay_drop++; /* advisory: the peer's STATUS carries the tip too */
		}
	}
	return queued;
}

static void sync_on_new_block(sl_sync_t *s, const sl_msg_t *m)
{
	const sl_evt_new_block_t *e = (const sl_evt_new_block_t *)m->payload;
	s->cnt.nb_rx++;
	if (!sl_seen_add(&s->seen, e->hash)) {
		s->cnt.nb_dup++;
		return;
	}
	sl_chainstore_tip_t t;
	sl_chainstore_tip(s->cs, &t);
	if (e->height != t.height + 1 || memcmp(sl_chain_hdr_prev(e->hdr), t.hash, 32) != 0) {
		s->cnt.nb_other++;
		return;
	}
	uint32_t done = 0;
	sl_chainstore_fail_t f = {0};
	/* The routine hashed the NEW_BLOCK where it entered: its hash rides
	   on.  Accepted is enough to relay: the header passed every chain
	   rule, and its group commit makes it durable off this thread (the
	   tick finishes it).  A synchronous commit here held every hop for
	   the commit's two fdatasyncs. */
	sl_chainstore_err_t err =
	    sl_chainstore_append_group(s->cs, e->height, e->hdr, e->hash, 1, &done, &f);
	if (err == SL_CHAINSTORE_ERR_INVALID) {
		s->cnt.nb_invalid++;
		sync_bad_data(s, m->session);
		SL_INFO("session %u: NEW_BLOCK at %u refused (%s), recorded", m->session, e->height,
		        sl_chainstore_reason(&f));
		return;
	}
	if (SL_UNLIKELY(err != SL_CHAINSTORE_OK || done != 1)) {
		SL_WARN("NEW_BLOCK at %u not accepted: %s", e->height, sl_chainstore_err_str(err));
		return;
	}
	s->cnt.nb_accepted++;
	sl_reactor_chain_moved(s->r);
	sync_relay(s, e->height, e->hdr, m->session);
}

/* sync_announce: the chain moved from tip `old` by a few headers outside
   the network: NEW_BLOCK for the new tip to every session with stream 5. */
static void sync_announce(sl_sync_t *s, uint32_t old)
{
	sl_chainstore_tip_t t;
	sl_chainstore_tip(s->cs, &t);
	if (t.height <= old || t.height - old > SL_SYNC_ANNOUNCE_MAX)
		return;
	uint8_t hdr[80];
	if (sl_chainstore_tip_header(s->cs, hdr) != SL_CHAINSTORE_OK)
		return;
	sl_seen_add(&s->seen, t.hash);
	s->cnt.nb_announced++;
	sync_relay(s, t.height, hdr, 0);
}

/* ---- events (continued) ---------------------------------------------------- */

void sl_sync_event(sl_sync_t *s, const sl_msg_t *m, uint64_t now_ns)
{
	if (s->r == NULL)
		return;
	uint32_t gen = sl_sid_gen(m->session);
	sl_range_t rg;
	s->now_ns = now_ns;
	switch (m->type) {
	case SL_EVT_PEER_STATUS:
		sync_on_status(s, m, gen);
		break;
	case SL_EVT_HEADERS:
		sync_on_headers(s, m, gen, now_ns);
		break;
	case SL_EVT_WORK_ASSIGNED:
		rg = sync_range(s, m);
		sl_reactor_on_work_assigned(s->r, m->session, gen, &rg, now_ns);
		break;
	case SL_EVT_WORK_RETURNED:
		rg = sync_range(s, m);
		sl_reactor_on_work_returned(s->r, m->session, gen, &rg,
		                            ((const sl_evt_work_t *)m->payload)->nf_reason);
		break;
	case SL_EVT_SESSION_DOWN:
		sl_reactor_on_session_down(s->r, m->session, gen);
		sl_branch_session_down(s->b, m->session, gen, now_ns);
		break;
	case SL_EVT_FETCH_END:
		if ((m->corr & SL_OP_CORR_BIT) != 0)
			return; /* an op's attempt (sl_peerio) */
		sl_branch_on_end(s->b, m->session, gen, m->corr,
		                 (const sl_evt_fetch_end_t *)m->payload, now_ns);
		break;
	case SL_EVT_NEW_BLOCK:
		sync_on_new_block(s, m);
		break;
	default:
		return;
	}
	s->cnt.events++;
	sync_drain(s);
}

void sl_sync_session_down(sl_sync_t *s, uint32_t sid)
{
	if (s->r == NULL)
		return;
	sl_reactor_on_session_down(s->r, sid, sl_sid_gen(sid));
	sl_branch_session_down(s->b, sid, sl_sid_gen(sid), s->now_ns);
	sync_drain(s);
}

bool sl_sync_peer_tip(const sl_sync_t *s, uint32_t sid, uint32_t *tip)
{
	return s->r != NULL && sl_reactor_peer_tip(s->r, sid, sl_sid_gen(sid), tip);
}

void sl_sync_park(sl_sync_t *s, uint32_t sid)
{
	if (s->r == NULL)
		return;
	s->cnt.fetch_park++;
	sync_park(s, sid, sl_sid_gen(sid));
	sync_drain(s);
}

void sl_sync_chain_moved(sl_sync_t *s)
{
	if (s->r == NULL)
		return;
	uint32_t old = sl_reactor_tip(s->r);
	sl_reactor_chain_moved(s->r);
	sync_announce(s, old);
	sync_drain(s);
}

/* sync_reserve: room in the store for the heights the sync heads for, at
   most SL_SYNC_RESERVE_AHEAD above the tip (a peer's claimed tip is not
   proof: the step bounds what a false claim costs), so the store's index
   is rebuilt once per step rather than at every doubling. */
static void sync_reserve(sl_sync_t *s)
{
	uint32_t goal = sl_reactor_goal(s->r), tip = sl_reactor_tip(s->r);
	uint32_t to = (uint32_t)SL_MIN((uint64_t)goal, (uint64_t)tip + SL_SYNC_RESERVE_AHEAD);
	if (to <= s->reserved || to <= tip)
		return;
	s->reserved = to;
	if (sl_chainstore_reserve(s->cs, to + 1) != SL_CHAINSTORE_OK)
		SL_WARN("sync: no room reserved up to height %u (out of memory): the store grows "
		        "as it goes",
		        to);
}

/* sync_watch logs a sync run's start (from where, toward what) and its
   end once its last header is durable (how many, how long, how fast):
   progress an operator sees without polling, and times the benches read
   (the API goes unanswered for a while when a sync saturates ctrl). */
static void sync_watch(sl_sync_t *s, uint64_t now_ns)
{
	uint32_t tip = sl_reactor_tip(s->r);
	bool syncing = sl_reactor_busy(s->r);
	if (syncing && !s->run_on) {
		s->run_on = true;
		s->run_h0 = tip;
		s->run_t0 = now_ns;
		SL_INFO("sync: from height %u toward %u", tip, sl_reactor_goal(s->r));
		return;
	}
	if (!s->run_on || syncing)
		return;
	sl_chainstore_tip_t d;
	sl_chainstore_durable(s->cs, &d);
	if (d.height < tip)
		return; /* its last group is still being made durable */
	s->run_on = false;
	double secs = (double)(now_ns - s->run_t0) / 1e9;
	uint32_t n = tip > s->run_h0 ? tip - s->run_h0 : 0;
	SL_INFO("sync: at height %u: %u headers in %.3f s (%.0f headers/s)", tip, n, secs,
	        secs > 0 ? n / secs : 0.0);
}

void sl_sync_tick(sl_sync_t *s, uint64_t now_ns)
{
	sl_chainstore_group_step(s->cs); /* a failure is logged; retried next tick */
	if (s->r == NULL)
		return;
	s->now_ns = now_ns;
	sync_reserve(s);
	sl_reactor_tick(s->r, now_ns);
	sl_branch_tick(s->b, now_ns);
	sync_drain(s);
	sync_watch(s, now_ns);
}

bool sl_sync_busy(const sl_sync_t *s)
{
	sl_chainstore_tip_t t, d;
	sl_chainstore_tip(s->cs, &t);
	sl_chainstore_durable(s->cs, &d);
	if (t.height != d.height) /* a group commit to finish */
		return true;
	if (s->r == NULL)
		return false;
	return sl_reactor_busy(s->r) || sl_branch_busy(s->b);
}

/* ---- calls --------------------------------------------------------------- */

void sl_sync_set_target(sl_sync_t *s, uint32_t to_height)
{
	s->target = to_height;
	if (s->r != NULL) {
		sl_reactor_set_target(s->r, to_height);
		sync_drain(s);
	}
}

void sl_sync_status(const sl_sync_t *s, sl_sync_status_t *out)
{
	memset(out, 0, sizeof *out);
	if (s->r == NULL) {
		sl_chainstore_tip_t t;
		sl_chainstore_durable(s->cs, &t);
		out->st.tip = t.height;
		out->st.target = s->target;
	} else {
		sl_reactor_status(s->r, &out->st);
	}
	out->state = s->r ? sl_reactor_state_str(out->st.state) : "detached";
	if (s->b != NULL)
		sl_branch_counters(s->b, &out->branch);
	out->branch_busy = sl_branch_busy(s->b);
	out->cnt = s->cnt;
}

uint32_t sl_sync_ranges(const sl_sync_t *s, sl_range_info_t *out, uint32_t cap)
{
	return s->r == NULL ? 0 : sl_reactor_ranges(s->r, out, cap);
}
