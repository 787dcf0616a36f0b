/* sl_hsync.c — the header-sync routine: serving, STATUS, park (see
   sl_hsync.h). */
#include "sl_hsync.h"

#include <string.h>

#include <rte_malloc.h>

#include "sl_hdrmap.h"
#include "sl_log.h"
#include "sl_routine.h"
#include "sl_sha256d.h"

#define SL_HSYNC_SPAM_EVENT_NS (1000000000ull) /* one SPAM event per second per session */
#define SL_HSYNC_STATUS_WIN_NS (1000000000ull)

static bool sl_hsync_parked(sl_lcore_t *lc, struct sl_routine_peer *p);

/* A session that asked within this long shares the serving budget. */
#define SL_HSYNC_ASKING_NS (1000ull * 1000000ull)

/* ---- small helpers ----------------------------------------------------------- */

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

static sl_session_t *sl_hsync_sess(sl_lcore_t *lc, struct sl_routine_peer *p)
{
	return sl_routine_sess(lc, p);
}

/* sl_hsync_spam records record-only SPAM of p on message `type`: counted
   always, a MISBEHAVIOR event (disconnect 0) and the probe at most once a
   second. */
static void sl_hsync_spam(sl_lcore_t *lc, struct sl_routine_peer *p, uint8_t type)
{
	SL_CNT_ADD(&lc->cnt->hs_spam, 1);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_spam, 1);
	if (sl_hsync_of(lc, p)->spam_ev_ns != 0 &&
	    lc->now_ns - sl_hsync_of(lc, p)->spam_ev_ns < SL_HSYNC_SPAM_EVENT_NS)
		return;
	sl_hsync_of(lc, p)->spam_ev_ns = lc->now_ns;
	sl_evt_misbehavior_t e = {
	    .kind = SL_MISB_SPAM, .stream = SL_WIRE_STREAM_HSYNC, .type = type, .disconnect = 0};
	sl_routine_event(lc, SL_EVT_MISBEHAVIOR, p->sid, p->gen, &e, sizeof e);
	SL_PROBE_MISBEHAVIOR(p->sid, SL_MISB_SPAM);
}

static void sl_hsync_not_found(sl_lcore_t *lc, struct sl_routine_peer *p, uint64_t corr,
                               uint32_t start, uint16_t reason)
{
	sl_wire_msg_t msg = {.not_found = {.start_height = start, .reason = reason}};
	if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_NOT_FOUND, corr, &msg) != 0)
		return;
	SL_CNT_ADD(&lc->cnt->hs_not_found_tx, 1);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_not_found_tx, 1);
	if (reason == SL_WIRE_NF_BUSY)
		SL_CNT_ADD(&lc->cnt->hs_busy, 1);
}

/* sl_hsync_serve_quiet: hs no longer counts among the sessions asking
   (quiet for SL_HSYNC_ASKING_NS, or gone). */
static void sl_hsync_serve_quiet(sl_hsync_lcore_t *g, sl_hsync_peer_t *hs)
{
	if (hs->serve_asking) {
		hs->serve_asking = 0;
		g->serve_asking--;
	}
}

/* sl_hsync_serve_rate: p's refill rate, its fair share of the lcore's
   serving budget among the sessions asking now (requests/s). */
static uint64_t sl_hsync_serve_rate(sl_hsync_lcore_t *g, sl_hsync_peer_t *hs, uint64_t now_ns)
{
	hs->serve_ask_ns = now_ns;
	if (!hs->serve_asking) {
		hs->serve_asking = 1;
		g->serve_asking++;
	}
	return SL_MIN(g->serve_rate, SL_MAX(1u, g->serve_total / g->serve_asking));
}

/* sl_hsync_budget takes one request from p's serving bucket; false when empty. */
static bool sl_hsync_budget(sl_lcore_t *lc, struct sl_routine_peer *p)
{
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	uint64_t cap = (uint64_t)g->serve_burst * 1000u;
	uint64_t rate = sl_hsync_serve_rate(g, hs, lc->now_ns);
	uint64_t add = (lc->now_ns - hs->serve_ns) * rate / 1000000u;
	if (add > 0) {
		hs->serve_milli = SL_MIN(cap, hs->serve_milli + add);
		hs->serve_ns = lc->now_ns;
	}
	if (hs->serve_milli < 1000u)
		return false;
	hs->serve_milli -= 1000u;
	return true;
}

/* sl_hsync_pull_soon: the next pull scan runs no later than `at`. */
static void sl_hsync_pull_soon(sl_lcore_t *lc, uint64_t at)
{
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	if (at < g->pull_at_ns)
		g->pull_at_ns = at;
}

/* ---- STATUS ---------------------------------------------------------------- */

static void sl_hsync_status_send(sl_lcore_t *lc, struct sl_routine_peer *p,
                                 const sl_local_status_t *st)
{
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	msg.status.best_height = st->best_height;
	msg.status.finalized_height = st->finalized_height;
	memcpy(msg.status.best_hash, st->best_hash, 32);
	memcpy(msg.status.chainwork, st->chainwork, 32);
	if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_STATUS, 0, &msg) != 0)
		return; /* held by a BACKOFF or dropped: the next move sends again */
	if (sl_hsync_of(lc, p)->status_sent != st->version)
		sl_hsync_of(lc, p)->status_gap_ns =
		    SL_HSYNC_REFRESH_NS; /* a new tip: repeats start over */
	sl_hsync_of(lc, p)->status_sent = st->version;
	sl_hsync_of(lc, p)->status_last_ns = lc->now_ns;
	sl_hsync_of(lc, p)->status_next_ns = lc->now_ns + sl_hsync_of(lc, p)->status_gap_ns;
	SL_CNT_ADD(&lc->cnt->hs_status_tx, 1);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_status_tx, 1);
}

/* sl_hsync_status_refresh repeats the STATUS last sent to p when its repeat
   is due, doubling the interval (see sl_hsync.h). */
static void sl_hsync_status_refresh(sl_lcore_t *lc, struct sl_routine_peer *p)
{
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	const sl_local_status_t *st = &sl_hsync_g(lc)->local;
	if (hs->status_sent == 0 || st->version == 0)
		return;
	if (hs->status_sent != st->version) { /* a newer tip held back by the gap */
		if (lc->now_ns - hs->status_last_ns >= SL_HSYNC_STATUS_GAP_NS)
			sl_hsync_status_send(lc, p, st);
		return;
	}
	if (lc->now_ns < hs->status_next_ns)
		return;
	hs->status_gap_ns = SL_MIN(hs->status_gap_ns * 2u, SL_HSYNC_REFRESH_MAX_NS);
	sl_hsync_status_send(lc, p, st);
}

/* sl_hsync_status_rx: the SPEC §5 meter (more than SL_HSYNC_STATUS_PER_S in a
   one-second window is SPAM, ignored), then the peer's tip is recorded. */
/* sl_hsync_over counts one more message on *n in p's one-second meter
   window (STATUS and NEW_BLOCK share the window, each has its count);
   true when the count passed max. */
static bool sl_hsync_over(sl_lcore_t *lc, sl_hsync_peer_t *hs, uint16_t *n, uint32_t max)
{
	if (lc->now_ns - hs->status_win >= SL_HSYNC_STATUS_WIN_NS) {
		hs->status_win = lc->now_ns;
		hs->status_n = 0;
		hs->nb_n = 0;
	}
	if (++*n <= max)
		return false;
	*n = (uint16_t)(max + 1); /* no wrap */
	return true;
}

static void sl_hsync_status_rx(sl_lcore_t *lc, struct sl_routine_peer *p,
                               const sl_wire_status_t *st)
{
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	if (sl_hsync_over(lc, hs, &hs->status_n, SL_HSYNC_STATUS_PER_S)) {
		sl_hsync_spam(lc, p, SL_WIRE_T_STATUS);
		return;
	}
	SL_CNT_ADD(&lc->cnt->hs_status_rx, 1);
	sl_evt_peer_status_t e = {.best_height = st->best_height,
	                          .finalized_height = st->finalized_height};
	memcpy(e.best_hash, st->best_hash, 32);
	memcpy(e.chainwork, st->chainwork, 32);
	sl_routine_event(lc, SL_EVT_PEER_STATUS, p->sid, sl_sid_gen(p->sid), &e, sizeof e);
	bool news = !hs->peer_status || st->best_height > sl_hsync_of(lc, p)->peer_best_height;
	sl_hsync_of(lc, p)->peer_best_height = st->best_height;
	hs->peer_status = 1;
	/* Never pull right after a STATUS (rule 8): the reactor makes the work
	   first and the epoch moves; a deferred scan covers work already queued. */
	if (news)
		sl_hsync_pull_soon(lc, lc->now_ns + SL_HSYNC_STATUS_PULL_NS);
}

/* ---- NEW_BLOCK ---------------------------------------------------------------- */

static void sl_hsync_record_bad(sl_lcore_t *lc, struct sl_routine_peer *p, uint8_t type);

/* sl_hsync_new_block_rx: the meter, the header's own proof of work, then the
   candidate goes to ctrl (seen-cache, acceptance and relay are ctrl's). */
static void sl_hsync_new_block_rx(sl_lcore_t *lc, struct sl_routine_peer *p,
                                  const sl_wire_new_block_t *nb)
{
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	if (sl_hsync_over(lc, hs, &hs->nb_n, SL_HSYNC_NEW_BLOCK_PER_S)) {
		sl_hsync_spam(lc, p, SL_WIRE_T_NEW_BLOCK);
		return;
	}
	sl_evt_new_block_t e = {.height = nb->height};
	memcpy(e.hdr, nb->header, sizeof e.hdr);
	sl_sha256d_hdr(e.hdr, e.hash);
	if (SL_UNLIKELY(sl_chain_check_pow(sl_hsync_g(lc)->profile, e.hdr, e.hash) !=
	                SL_CHAIN_OK)) {
		sl_hsync_record_bad(lc, p, SL_WIRE_T_NEW_BLOCK);
		return;
	}
	SL_CNT_ADD(&lc->cnt->hs_new_block_rx, 1);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_new_block_rx, 1);
	sl_routine_event(lc, SL_EVT_NEW_BLOCK, p->sid, sl_sid_gen(p->sid), &e, sizeof e);
}

/* sl_hsync_new_block_tx (FORWARD_NEW_BLOCK): advisory, so a send held back
   by the peer's BACKOFF is simply not made. */
static void sl_hsync_new_block_tx(sl_lcore_t *lc, struct sl_routine_peer *p,
                                  const sl_cmd_new_block_t *c)
{
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	msg.new_block.height = c->height;
	memcpy(msg.new_block.header, c->hdr, sizeof msg.new_block.header);
	if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_NEW_BLOCK, 0, &msg) != 0)
		return;
	SL_CNT_ADD(&lc->cnt->hs_new_block_tx, 1);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_new_block_tx, 1);
}

/* ---- serving GET_HEADERS ----------------------------------------------------- */

static void sl_hsync_free_frames(struct rte_mbuf **f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		rte_pktmbuf_free(f[i]);
}

/* sl_hsync_build_reply builds the HEADERS frames of heights start ..
   start+n-1 from the map into f[]; returns the frames built (fewer than
   needed only when the pool ran dry or the seq is exhausted). */
#if SL_TEST_HOOKS
/* sl_hsync_fault_due ([dataplane] fault_bad_pow = n): whether this answer is
   the n-th since the last corrupted one. */
static bool sl_hsync_fault_due(sl_lcore_t *lc)
{
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	if (SL_LIKELY(g->fault_bad_pow == 0) || ++g->fault_n < g->fault_bad_pow)
		return false;
	g->fault_n = 0;
	SL_CNT_ADD(&lc->cnt->hs_fault_bad_pow, 1);
	return true;
}
#else
static inline bool sl_hsync_fault_due(sl_lcore_t *lc)
{
	(void)lc;
	return false;
}
#endif

/* sl_hsync_corrupt copies k headers to buf with the first one's bits raised
   out of reach (0x1800ffff): its proof of work fails against its own
   target whatever the profile. */
static const uint8_t *sl_hsync_corrupt(const uint8_t *hdrs, uint32_t k, uint8_t *buf)
{
	static const uint8_t bits[4] = {0xff, 0xff, 0x00, 0x18}; /* little-endian */
	memcpy(buf, hdrs, (size_t)k * SL_CHAIN_HDR_LEN);
	memcpy(buf + 72, bits, sizeof bits);
	return buf;
}

static uint32_t sl_hsync_build_reply(sl_lcore_t *lc, struct sl_routine_peer *p,
                                     const sl_store_reader_t *r, uint64_t corr, uint32_t start,
                                     uint32_t n, struct rte_mbuf **f)
{
	uint8_t bad[SL_WIRE_HEADERS_MAX * SL_CHAIN_HDR_LEN];
	bool fault = sl_hsync_fault_due(lc);
	uint32_t nf = 0;
	for (uint32_t done = 0; done < n; nf++) {
		uint32_t k = SL_MIN(n - done, (uint32_t)SL_WIRE_HEADERS_MAX);
		const uint8_t *hdrs = sl_store_reader_ptr(r, start + done);
		sl_wire_msg_t msg = {
		    .headers = {.start_height = start + done,
		                .n = (uint8_t)k,
		                .flags = done + k == n ? SL_WIRE_HEADERS_F_LAST : 0,
		                .hdrs = SL_UNLIKELY(fault && done == 0)
		                            ? sl_hsync_corrupt(hdrs, k, bad)
		                            : hdrs}};
		f[nf] = sl_routine_build_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_HEADERS, corr,
		                              &msg);
		if (SL_UNLIKELY(f[nf] == NULL))
			break;
		done += k;
	}
	return nf;
}

/* sl_hsync_answer: the store's verdict on a request within budget and count. */
static void sl_hsync_answer(sl_lcore_t *lc, struct sl_routine_peer *p, uint64_t corr,
                            const sl_wire_get_headers_t *g)
{
	static const uint8_t zero[SL_WIRE_HASH_LEN];
	const sl_store_reader_t *r = sl_hdrmap_get(lc->dp);
	if (SL_UNLIKELY(r == NULL)) {
		sl_hsync_not_found(lc, p, corr, g->start_height, SL_WIRE_NF_BUSY);
		return;
	}
	uint32_t count;
	uint64_t epoch;
	sl_store_reader_begin(r, &count, &epoch);
	if (g->start_height >= count) {
		sl_hsync_not_found(lc, p, corr, g->start_height, SL_WIRE_NF_BEYOND_TIP);
		return;
	}
	/* Header start's prev field is the hash of header start-1. */
	if (memcmp(g->anchor_hash, zero, sizeof zero) != 0 &&
	    memcmp(sl_store_reader_ptr(r, g->start_height) + 4, g->anchor_hash, 32) != 0) {
		bool same = sl_store_reader_end(r, epoch);
		sl_hsync_not_found(lc, p, corr, g->start_height,
		                   same ? SL_WIRE_NF_UNKNOWN_ANCHOR : SL_WIRE_NF_BUSY);
		return;
	}
	uint32_t n = SL_MIN((uint32_t)g->count, count - g->start_height);
	uint32_t want = (n + SL_WIRE_HEADERS_MAX - 1) / SL_WIRE_HEADERS_MAX;
	struct rte_mbuf *f[SL_HSYNC_REPLY_FRAMES];
	uint32_t nf = sl_hsync_build_reply(lc, p, r, corr, g->start_height, n, f);
	if (SL_UNLIKELY(!sl_store_reader_end(r, epoch) || nf != want)) {
		sl_hsync_free_frames(f, nf); /* a truncation raced the copy, or no mbufs */
		sl_hsync_not_found(lc, p, corr, g->start_height, SL_WIRE_NF_BUSY);
		return;
	}
	uint32_t sent = 0;
	for (uint32_t i = 0; i < nf; i++)
		sent += sl_routine_xmit_sess(lc, p, f[i]) == 0;
	SL_CNT_ADD(&lc->cnt->hs_headers_tx, sent);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_headers_tx, sent);
}

static void sl_hsync_get_headers(sl_lcore_t *lc, struct sl_routine_peer *p, const sl_wire_hdr_t *h,
                                 const sl_wire_get_headers_t *g, bool too_many)
{
	SL_CNT_ADD(&lc->cnt->hs_get_headers_rx, 1);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_get_headers_rx, 1);
	if (!sl_backoff_should_send(&p->quiet, SL_WIRE_STREAM_HSYNC, lc->now_ns))
		return; /* the peer asked us to hold stream 5 back */
	if (SL_UNLIKELY(!sl_hsync_budget(lc, p))) {
		sl_hsync_spam(lc, p, SL_WIRE_T_GET_HEADERS);
		sl_hsync_not_found(lc, p, h->corr, g->start_height, SL_WIRE_NF_BUSY);
		return;
	}
	if (SL_UNLIKELY(too_many)) {
		sl_hsync_spam(lc, p, SL_WIRE_T_GET_HEADERS);
		sl_hsync_not_found(lc, p, h->corr, g->start_height, SL_WIRE_NF_TOO_MANY);
		return;
	}
	sl_hsync_answer(lc, p, h->corr, g);
}

/* ---- pulling: expectations ---------------------------------------------- */

/* sl_hsync_exps: p's expectation slots (inflight of them) in the lcore pool. */
static sl_hsync_exp_t *sl_hsync_exps(sl_lcore_t *lc, struct sl_routine_peer *p)
{
	return &sl_hsync_g(lc)->exp[(size_t)sl_routine_slot(lc, p) * sl_hsync_g(lc)->inflight];
}

static uint32_t sl_hsync_gen(const struct sl_routine_peer *p)
{
	return sl_sid_gen(p->sid);
}

static sl_hsync_exp_t *sl_hsync_exp_find(sl_lcore_t *lc, struct sl_routine_peer *p, uint64_t corr)
{
	sl_hsync_exp_t *x = sl_hsync_exps(lc, p);
	for (uint32_t i = 0; corr != 0 && i < sl_hsync_g(lc)->inflight; i++)
		if (x[i].corr == corr)
			return &x[i];
	return NULL;
}

static bool sl_hsync_closed_has(const sl_hsync_peer_t *hs, uint64_t corr)
{
	for (uint32_t i = 0; i < SL_HSYNC_CLOSED_MAX; i++)
		if (corr != 0 && hs->closed[i] == corr)
			return true;
	return false;
}

/* sl_hsync_late: a reply to an expectation that ended early; silent. */
static void sl_hsync_late(sl_lcore_t *lc, struct sl_routine_peer *p)
{
	SL_CNT_ADD(&lc->cnt->hs_late_drop, 1);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_late_drop, 1);
}

/* sl_hsync_work_event_nf: WORK_ASSIGNED / WORK_RETURNED for range r; nf: the
   peer's NOT_FOUND reason when that is why it came back. */
static int sl_hsync_work_event_nf(sl_lcore_t *lc, struct sl_routine_peer *p, uint16_t type,
                                  uint64_t corr, const sl_range_t *r, sl_range_why_t why,
                                  uint16_t nf)
{
	sl_evt_work_t w = {.start = r->start,
	                   .len = r->len,
	                   .why = (uint16_t)why,
	                   .dir = r->dir,
	                   .nf_reason = (uint8_t)nf,
	                   .tag = r->tag,
	                   .slot = r->slot};
	return sl_routine_event_corr(lc, type, p->sid, sl_hsync_gen(p), corr, &w, sizeof w);
}

/* sl_hsync_work_event: WORK_ASSIGNED / WORK_RETURNED for range r; 0, or -1
   when the event ring was full. */
static int sl_hsync_work_event(sl_lcore_t *lc, struct sl_routine_peer *p, uint16_t type,
                               uint64_t corr, const sl_range_t *r, sl_range_why_t why)
{
	return sl_hsync_work_event_nf(lc, p, type, corr, r, why, 0);
}

/* sl_hsync_close_corr remembers corr as ended early: its stragglers are
   dropped silently (late credits), not called unsolicited. */
static void sl_hsync_close_corr(sl_hsync_peer_t *hs, uint64_t corr)
{
	hs->closed[hs->closed_at] = corr;
	hs->closed_at = (uint8_t)((hs->closed_at + 1u) % SL_HSYNC_CLOSED_MAX);
}

/* sl_hsync_end frees expectation e; `late` keeps its corr so stragglers of an
   answer cut short are dropped silently.  The slot is free: pull soon. */
static void sl_hsync_end(sl_lcore_t *lc, struct sl_routine_peer *p, sl_hsync_exp_t *e, bool late)
{
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	if (late)
		sl_hsync_close_corr(hs, e->corr);
	e->corr = 0;
	hs->n_exp--;
	sl_hsync_pull_soon(lc, lc->now_ns);
}

/* sl_hsync_return gives e's range back to the table (WORK_RETURNED when the
   hold was still ours) and ends e. */
static void sl_hsync_return(sl_lcore_t *lc, struct sl_routine_peer *p, sl_hsync_exp_t *e,
                            sl_range_why_t why)
{
	sl_rangeq_t *q = sl_hsync_g(lc)->q;
	if (sl_rangeq_return(q, p->sid, sl_hsync_gen(p), &e->r, why) == SL_RANGEQ_OK)
		sl_hsync_work_event(lc, p, SL_EVT_WORK_RETURNED, e->corr, &e->r, why);
	sl_hsync_end(lc, p, e, true);
}

/* sl_hsync_retry_later: an empty or partial answer (or a send failure): no
   pull for p before SL_HSYNC_RETRY_NS. */
static void sl_hsync_retry_later(sl_lcore_t *lc, struct sl_routine_peer *p)
{
	sl_hsync_of(lc, p)->retry_ns = lc->now_ns + SL_HSYNC_RETRY_NS;
	sl_hsync_pull_soon(lc, sl_hsync_of(lc, p)->retry_ns);
}

/* sl_hsync_release returns every outstanding range of p (why) and forgets
   p's holds and marks in the table. */
static void sl_hsync_release(sl_lcore_t *lc, struct sl_routine_peer *p, sl_range_why_t why)
{
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	if (g->q == NULL || !sl_hsync_of(lc, p)->on)
		return;
	sl_hsync_exp_t *x = sl_hsync_exps(lc, p);
	for (uint32_t i = 0; sl_hsync_of(lc, p)->n_exp > 0 && i < g->inflight; i++)
		if (x[i].corr != 0)
			sl_hsync_return(lc, p, &x[i], why);
	sl_rangeq_forget_peer(g->q, p->sid, sl_hsync_gen(p));
}

static void sl_hsync_stop(sl_lcore_t *lc, struct sl_routine_peer *p, void *st)
{
	(void)st;
	sl_hsync_serve_quiet(sl_hsync_g(lc), sl_hsync_of(lc, p));
	if (sl_hsync_of(lc, p)->parked)
		return; /* released when the park was found */
	sl_hsync_release(lc, p, SL_RANGE_WHY_DISCONNECT);
	sl_hsync_of(lc, p)->on = 0;
}

/* ---- pulling: answers --------------------------------------------------- */

/* sl_hsync_record_bad: record-only BAD_DATA of p on message `type` (SPEC
   §5): counted, a MISBEHAVIOR event (disconnect 0), the probe. */
static void sl_hsync_record_bad(sl_lcore_t *lc, struct sl_routine_peer *p, uint8_t type)
{
	SL_CNT_ADD(&lc->cnt->hs_invalid, 1);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_invalid, 1);
	sl_evt_misbehavior_t m = {.kind = SL_MISB_BAD_DATA,
	                          .stream = SL_WIRE_STREAM_HSYNC,
	                          .type = type,
	                          .disconnect = 0};
	sl_routine_event(lc, SL_EVT_MISBEHAVIOR, p->sid, sl_hsync_gen(p), &m, sizeof m);
	SL_PROBE_MISBEHAVIOR(p->sid, SL_MISB_BAD_DATA);
}

/* sl_hsync_bad: record-only BAD_DATA on a pull's answer: recorded, batch
   discarded, the range re-queued (INVALID). */
static void sl_hsync_bad(sl_lcore_t *lc, struct sl_routine_peer *p, sl_hsync_exp_t *e,
                         const char *what)
{
	SL_DEBUG("worker %u: session %08x: HEADERS for %u+%u refused: %s", lc->idx, p->sid,
	         e->r.start, e->r.len, what);
	sl_hsync_record_bad(lc, p, SL_WIRE_T_HEADERS);
	sl_hsync_return(lc, p, e, SL_RANGE_WHY_INVALID);
	sl_hsync_retry_later(lc, p); /* do not hammer a peer that just sent bad data */
}

/* sl_hsync_short: e's answer ended (LAST, or quiet for SL_HSYNC_QUIET_NS) with
   heights missing: the range goes back (NOT_FOUND: this peer's hold is
   cleared).  `cut`: the peer itself ended it early (LAST before the end of
   the request: that is all it has), so p waits the empty-retry delay, as
   after an empty answer; otherwise frames were lost on the way and the
   rest may be asked again at once. */
static void sl_hsync_short(sl_lcore_t *lc, struct sl_routine_peer *p, sl_hsync_exp_t *e, bool cut)
{
	bool wait = cut || e->got == 0;
	SL_CNT_ADD(&lc->cnt->hs_partial, 1);
	sl_hsync_return(lc, p, e, SL_RANGE_WHY_NOT_FOUND);
	if (wait)
		sl_hsync_retry_later(lc, p);
}

/* Deadlines of an expectation (the deadline phase and the answer path
   judge them with the same function: deadlines before completions). */
typedef enum {
	SL_HSYNC_DUE_OPEN = 0, /* still running */
	SL_HSYNC_DUE_QUIET,    /* its answer went quiet (its LAST was lost) */
	SL_HSYNC_DUE_NOANSWER, /* no frame of an answer in SL_HSYNC_NOANSWER_NS */
	SL_HSYNC_DUE_STALE,    /* older than SL_HSYNC_EXP_STALE_NS */
} sl_hsync_due_t;

/* sl_hsync_exp_due: which deadline of e has passed at lc->now_ns, if any. */
static sl_hsync_due_t sl_hsync_exp_due(const sl_lcore_t *lc, const sl_hsync_exp_t *e)
{
	if (e->last_ns != 0 && lc->now_ns - e->last_ns > SL_HSYNC_QUIET_NS)
		return SL_HSYNC_DUE_QUIET;
	if (e->last_ns == 0 && lc->now_ns - e->sent_ns > SL_HSYNC_NOANSWER_NS)
		return SL_HSYNC_DUE_NOANSWER;
	if (lc->now_ns - e->sent_ns > SL_HSYNC_EXP_STALE_NS)
		return SL_HSYNC_DUE_STALE;
	return SL_HSYNC_DUE_OPEN;
}

/* sl_hsync_expire ends e for the deadline `due` that passed. */
static void sl_hsync_expire(sl_lcore_t *lc, struct sl_routine_peer *p, sl_hsync_exp_t *e,
                            sl_hsync_due_t due)
{
	if (due != SL_HSYNC_DUE_OPEN)
		sl_flow_loss(&sl_hsync_of(lc, p)->flow); /* an answer lost: a smaller window */
	switch (due) {
	case SL_HSYNC_DUE_QUIET:
		sl_hsync_short(lc, p, e, false); /* its LAST was lost */
		break;
	case SL_HSYNC_DUE_NOANSWER:
		/* the request or its whole answer was lost: ask again (the
		   reactor's timeout may never come: the heights can be delivered
		   meanwhile by an earlier answer) */
		SL_CNT_ADD(&lc->cnt->hs_no_answer, 1);
		sl_hsync_return(lc, p, e, SL_RANGE_WHY_NOT_FOUND);
		break;
	case SL_HSYNC_DUE_STALE:
		SL_INFO("worker %u: session %08x: expectation %u+%u stale, dropped", lc->idx,
		        p->sid, e->r.start, e->r.len);
		sl_hsync_return(lc, p, e, SL_RANGE_WHY_TIMEOUT);
		break;
	case SL_HSYNC_DUE_OPEN:
		break;
	}
}

/* sl_hsync_expired_answer (answer path, before anything is credited): when
   e's deadline has passed — the deadline phase just has not looked yet —
   e ends as the deadline phase would have ended it and the answer in hand
   is late (hs_late_drop).  True when that happened. */
static bool sl_hsync_expired_answer(sl_lcore_t *lc, struct sl_routine_peer *p, sl_hsync_exp_t *e)
{
	sl_hsync_due_t due = sl_hsync_exp_due(lc, e);
	if (SL_LIKELY(due == SL_HSYNC_DUE_OPEN))
		return false;
	sl_hsync_expire(lc, p, e, due);
	sl_hsync_late(lc, p);
	return true;
}

/* sl_hsync_check hashes the batch into ev (one batch call: the only hash of
   these headers on the sync path; ctrl carries it to the chain and the
   store) and checks PoW against each header's own bits and the linkage
   inside the batch; NULL or what broke. */
static const char *sl_hsync_check(const sl_chain_profile_t *prof, const sl_wire_headers_t *hd,
                                  sl_evt_headers_t *ev)
{
	memcpy(ev->hdr[0], hd->hdrs, (size_t)hd->n * SL_CHAIN_HDR_LEN);
	sl_sha256d_hdrs(ev->hdr[0], hd->n, ev->hash[0]);
	for (uint32_t i = 0; i < hd->n; i++) {
		if (sl_chain_check_pow(prof, ev->hdr[i], ev->hash[i]) != SL_CHAIN_OK)
			return "proof of work";
		if (i > 0 && memcmp(ev->hdr[i] + 4, ev->hash[i - 1], SL_CHAIN_HASH_LEN) != 0)
			return "linkage";
	}
	return NULL;
}

/* sl_hsync_fresh: how many of heights [start, start+n) e has not had yet. */
static uint32_t sl_hsync_fresh(const sl_hsync_exp_t *e, uint32_t start, uint32_t n)
{
	uint32_t fresh = 0;
	for (uint32_t k = start - e->r.start, end = k + n; k < end; k++)
		fresh += (e->bits[k >> 6] & (1ull << (k & 63))) == 0;
	return fresh;
}

/* sl_hsync_credit marks heights [start, start+n) of e received; returns how
   many were new. */
static uint32_t sl_hsync_credit(sl_hsync_exp_t *e, uint32_t start, uint32_t n)
{
	uint32_t fresh = 0;
	for (uint32_t k = start - e->r.start, end = k + n; k < end; k++) {
		uint64_t bit = 1ull << (k & 63);
		if ((e->bits[k >> 6] & bit) == 0) {
			e->bits[k >> 6] |= bit;
			fresh++;
		}
	}
	e->got += fresh;
	return fresh;
}

/* sl_hsync_deliver hands a checked HEADERS frame (headers and hashes already
   in ev) to ctrl as SL_EVT_HEADERS answering request [rstart, rstart+rlen)
   with `flags`, plus the headers_rx probe and counters.  -1 when the event
   ring refused it (counted hs_event_full; nothing else moves). */
static int sl_hsync_deliver(sl_lcore_t *lc, struct sl_routine_peer *p, uint64_t corr,
                            const sl_wire_headers_t *hd, sl_evt_headers_t *ev, uint16_t flags,
                            uint32_t rstart, uint32_t rlen)
{
	ev->start = hd->start_height;
	ev->n = hd->n;
	ev->last = (hd->flags & SL_WIRE_HEADERS_F_LAST) != 0;
	ev->flags = flags;
	ev->range_start = rstart;
	ev->range_len = rlen;
	if (SL_UNLIKELY(sl_routine_event_corr(lc, SL_EVT_HEADERS, p->sid, sl_hsync_gen(p), corr, ev,
	                                      sizeof *ev) != 0)) {
		SL_CNT_ADD(&lc->cnt->hs_event_full, 1);
		return -1;
	}
	SL_PROBE_HEADERS_RX(p->sid, hd->start_height, hd->n);
	SL_CNT_ADD(&lc->cnt->hs_headers_rx, hd->n);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_headers_rx, hd->n);
	return 0;
}

/* ---- fetches for ctrl (SEND_FRAME) -------------------------------------- */

/* sl_hsync_fetch_find: p's fetch with this corr, or NULL. */
static sl_hsync_fetch_t *sl_hsync_fetch_find(sl_lcore_t *lc, struct sl_routine_peer *p,
                                             uint64_t corr)
{
	for (uint32_t i = 0; corr != 0 && i < SL_HSYNC_FETCH_MAX; i++)
		if (sl_hsync_of(lc, p)->f[i].corr == corr)
			return &sl_hsync_of(lc, p)->f[i];
	return NULL;
}

/* sl_hsync_fetch_end ends fetch f of p: reason 0 (every height came) is
   silent, any other goes to ctrl as FETCH_END.  Stragglers are dropped as
   late. */
static void sl_hsync_fetch_end(sl_lcore_t *lc, struct sl_routine_peer *p, sl_hsync_fetch_t *f,
                               uint16_t reason)
{
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	if (reason != 0) {
		sl_evt_fetch_end_t e = {.start = f->start, .reason = reason};
		sl_routine_event_corr(lc, SL_EVT_FETCH_END, p->sid, sl_hsync_gen(p), f->corr, &e,
		                      sizeof e);
	}
	sl_hsync_close_corr(hs, f->corr);
	memset(f, 0, sizeof *f);
}

/* sl_hsync_fetch_headers: a HEADERS frame of p's fetch f: the pull's checks,
   then the headers go to ctrl flagged FETCH. */
static void sl_hsync_fetch_headers(sl_lcore_t *lc, struct sl_routine_peer *p, sl_hsync_fetch_t *f,
                                   const sl_wire_headers_t *hd)
{
	sl_evt_headers_t ev;
	uint64_t end = (uint64_t)hd->start_height + hd->n;
	const char *why = hd->start_height < f->start || end > (uint64_t)f->start + f->count
	                      ? "heights outside the request"
	                      : sl_hsync_check(sl_hsync_g(lc)->profile, hd, &ev);
	if (SL_UNLIKELY(why != NULL)) {
		SL_DEBUG("worker %u: session %08x: fetch %u+%u refused: %s", lc->idx, p->sid,
		         f->start, f->count, why);
		sl_hsync_record_bad(lc, p, SL_WIRE_T_HEADERS);
		sl_hsync_fetch_end(lc, p, f, SL_FETCH_END_BAD);
		return;
	}
	if (SL_UNLIKELY(sl_hsync_deliver(lc, p, f->corr, hd, &ev, SL_EVT_HEADERS_F_FETCH, f->start,
	                                 f->count) != 0)) {
		sl_hsync_fetch_end(lc, p, f, SL_FETCH_END_SHORT); /* ctrl asks again */
		return;
	}
	bool last = ev.last;
	f->got += hd->n;
	f->last_ns = lc->now_ns;
	if (f->got >= f->count)
		sl_hsync_fetch_end(lc, p, f, 0);
	else if (last)
		sl_hsync_fetch_end(lc, p, f, SL_FETCH_END_SHORT);
}

/* sl_hsync_fetch (SEND_FRAME, kind FETCH): send ctrl's GET_HEADERS in a free
   fetch slot; with none free the oldest is replaced (its stragglers
   become late). */
static void sl_hsync_fetch(sl_lcore_t *lc, struct sl_routine_peer *p, const sl_cmd_fetch_t *cmd)
{
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	if (SL_UNLIKELY(cmd->kind != SL_SEND_FETCH || cmd->count == 0 ||
	                cmd->count > SL_WIRE_GET_HEADERS_MAX ||
	                (cmd->corr & SL_FETCH_CORR_BIT) == 0)) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	sl_hsync_fetch_t *f = &hs->f[0];
	for (uint32_t i = 0; i < SL_HSYNC_FETCH_MAX && f->corr != 0; i++)
		if (hs->f[i].corr == 0 || hs->f[i].last_ns < f->last_ns)
			f = &hs->f[i];
	if (f->corr != 0) {
		sl_hsync_close_corr(hs, f->corr);
		memset(f, 0, sizeof *f);
	}
	f->corr = cmd->corr;
	f->start = cmd->start;
	f->count = cmd->count;
	f->got = 0;
	f->last_ns = lc->now_ns;
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	msg.get_headers.start_height = cmd->start;
	msg.get_headers.count = cmd->count;
	memcpy(msg.get_headers.anchor_hash, cmd->anchor, 32);
	if (SL_UNLIKELY(sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_GET_HEADERS,
	                                     cmd->corr, &msg) != 0)) {
		sl_hsync_fetch_end(lc, p, f, SL_FETCH_END_SEND);
		return;
	}
	SL_CNT_ADD(&lc->cnt->hs_fetch_tx, 1);
}

/* sl_hsync_fetch_due: fetch f has passed its deadline (its answer went
   quiet, or none came in SL_HSYNC_EXP_STALE_NS). */
static bool sl_hsync_fetch_due(const sl_lcore_t *lc, const sl_hsync_fetch_t *f)
{
	uint64_t quiet = f->got > 0 ? SL_HSYNC_QUIET_NS : SL_HSYNC_EXP_STALE_NS;
	return f->corr != 0 && lc->now_ns - f->last_ns > quiet;
}

/* sl_hsync_fetch_tick ends fetches past their deadline (SHORT). */
static void sl_hsync_fetch_tick(sl_lcore_t *lc, struct sl_routine_peer *p)
{
	for (uint32_t i = 0; i < SL_HSYNC_FETCH_MAX; i++)
		if (sl_hsync_fetch_due(lc, &sl_hsync_of(lc, p)->f[i]))
			sl_hsync_fetch_end(lc, p, &sl_hsync_of(lc, p)->f[i], SL_FETCH_END_SHORT);
}

/* sl_hsync_fetch_expired_answer: the fetch's twin of sl_hsync_expired_answer —
   a fetch past its deadline ends (SHORT) before its answer is looked at,
   and the answer is late. */
static bool sl_hsync_fetch_expired_answer(sl_lcore_t *lc, struct sl_routine_peer *p,
                                          sl_hsync_fetch_t *f)
{
	if (SL_LIKELY(!sl_hsync_fetch_due(lc, f)))
		return false;
	sl_hsync_fetch_end(lc, p, f, SL_FETCH_END_SHORT);
	sl_hsync_late(lc, p);
	return true;
}

/* ---- pulling: answers (continued) ------------------------------------------ */

static void sl_hsync_headers(sl_lcore_t *lc, struct sl_routine_peer *p, uint64_t corr,
                             const sl_wire_headers_t *hd)
{
	sl_hsync_fetch_t *f = sl_hsync_fetch_find(lc, p, corr);
	if (f != NULL) {
		if (!sl_hsync_fetch_expired_answer(lc, p, f))
			sl_hsync_fetch_headers(lc, p, f, hd);
		return;
	}
	sl_hsync_exp_t *e = sl_hsync_exp_find(lc, p, corr);
	if (e == NULL) {
		if (sl_hsync_closed_has(sl_hsync_of(lc, p), corr))
			sl_hsync_late(lc, p);
		else /* matches no request of ours: protocol (SPEC §5) */
			sl_routine_misbehave(lc, p, SL_MISB_UNSOLICITED, SL_WIRE_STREAM_HSYNC,
			                     SL_WIRE_T_HEADERS);
		return;
	}
	if (sl_hsync_expired_answer(lc, p, e))
		return; /* deadlines before completions: never credited */
	uint64_t end = (uint64_t)hd->start_height + hd->n;
	if (SL_UNLIKELY(hd->start_height < e->r.start || end > (uint64_t)e->r.start + e->r.len)) {
		sl_hsync_bad(lc, p, e, "heights outside the request");
		return;
	}
	sl_evt_headers_t ev;
	const char *why = sl_hsync_check(sl_hsync_g(lc)->profile, hd, &ev);
	if (SL_UNLIKELY(why != NULL)) {
		sl_hsync_bad(lc, p, e, why);
		return;
	}
	bool last = (hd->flags & SL_WIRE_HEADERS_F_LAST) != 0;
	e->last_ns = lc->now_ns;
	if (sl_hsync_fresh(e, hd->start_height, hd->n) > 0) {
		if (SL_UNLIKELY(sl_hsync_deliver(lc, p, corr, hd, &ev, 0, e->r.start, e->r.len) !=
		                0)) {
			/* ctrl cannot take them now (event ring full): the range goes
			   back rather than be credited unseen (local, not the peer's) */
			sl_hsync_return(lc, p, e, SL_RANGE_WHY_CANCEL);
			sl_hsync_retry_later(lc, p);
			return;
		}
		sl_hsync_credit(e, hd->start_height, hd->n);
	}
	if (e->got == e->r.len) {
		sl_hsync_end(lc, p, e, false); /* delivered whole: the reactor credits it */
		sl_flow_ok(&sl_hsync_of(lc, p)->flow);
	} else if (last) {
		/* frames lost on the way, or the peer cut its answer short */
		sl_hsync_short(lc, p, e, end < (uint64_t)e->r.start + e->r.len);
	}
}

/* sl_hsync_nf_rx: NOT_FOUND for an outstanding request: the range goes back
   and p waits the empty-retry delay (BUSY: the flow's short hold); for p's fetch: FETCH_END with
   the reason.  A NOT_FOUND for anything else is dropped silently (counted late). */
static void sl_hsync_nf_rx(sl_lcore_t *lc, struct sl_routine_peer *p, uint64_t corr,
                           const sl_wire_not_found_t *nf)
{
	sl_hsync_fetch_t *f = sl_hsync_fetch_find(lc, p, corr);
	if (f != NULL) {
		if (!sl_hsync_fetch_expired_answer(lc, p, f))
			sl_hsync_fetch_end(lc, p, f,
			                   nf->reason != 0 ? nf->reason : SL_FETCH_END_SHORT);
		return;
	}
	sl_hsync_exp_t *e = sl_hsync_exp_find(lc, p, corr);
	if (e == NULL) {
		sl_hsync_late(lc, p);
		return;
	}
	if (sl_hsync_expired_answer(lc, p, e))
		return; /* it ended as a timeout, not as this NOT_FOUND */
	/* the reason rides on WORK_RETURNED: UNKNOWN_ANCHOR tells the reactor
	   the peer is on another branch */
	if (sl_rangeq_return(sl_hsync_g(lc)->q, p->sid, sl_hsync_gen(p), &e->r,
	                     SL_RANGE_WHY_NOT_FOUND) == SL_RANGEQ_OK)
		sl_hsync_work_event_nf(lc, p, SL_EVT_WORK_RETURNED, e->corr, &e->r,
		                       SL_RANGE_WHY_NOT_FOUND, nf->reason);
	sl_hsync_end(lc, p, e, true);
	if (nf->reason == SL_WIRE_NF_BUSY) {
		/* the peer's serving budget: a short hold growing only while
		   BUSY continues, and a smaller window (sl_flow.h) */
		SL_CNT_ADD(&lc->cnt->hs_busy_rx, 1);
		sl_hsync_pull_soon(lc, sl_flow_busy(&sl_hsync_of(lc, p)->flow, lc->now_ns));
	} else {
		sl_hsync_retry_later(lc, p);
	}
}

/* ---- pulling: requests ---------------------------------------------------- */

/* sl_hsync_anchor: hash of our committed header start-1 when the map has it
   (and no truncation raced the read), else zero (no check). */
static void sl_hsync_anchor(sl_lcore_t *lc, uint32_t start, uint8_t out[32])
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

/* sl_hsync_request: take -> GET_HEADERS -> record -> WORK_ASSIGNED into the
   free slot e, in one step.  False when nothing was taken or the send
   failed (the range is back in the table). */
static bool sl_hsync_request(sl_lcore_t *lc, struct sl_routine_peer *p, sl_hsync_exp_t *e)
{
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	sl_range_t r;
	if (!sl_evq_room(&lc->rt->evq, SL_HSYNC_EVENT_ROOM)) {
		SL_CNT_ADD(&lc->cnt->hs_pull_deferred, 1); /* ctrl is behind: no new work */
		sl_hsync_pull_soon(lc, lc->now_ns + SL_HSYNC_EVENT_WAIT_NS);
		return false;
	}
	if (!sl_rangeq_take(g->q, p->sid, sl_hsync_gen(p), sl_hsync_of(lc, p)->peer_best_height,
	                    SL_WIRE_GET_HEADERS_MAX, &r))
		return false;
	uint64_t corr = ((uint64_t)sl_hsync_gen(p) << 32) | ++sl_hsync_of(lc, p)->corr_next;
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	msg.get_headers.start_height = r.start;
	msg.get_headers.count = (uint16_t)r.len;
	sl_hsync_anchor(lc, r.start, msg.get_headers.anchor_hash);
	if (SL_UNLIKELY(sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_GET_HEADERS,
	                                     corr, &msg) != 0)) {
		if (sl_rangeq_return(g->q, p->sid, sl_hsync_gen(p), &r, SL_RANGE_WHY_SEND_FAIL) ==
		    SL_RANGEQ_OK)
			sl_hsync_work_event(lc, p, SL_EVT_WORK_RETURNED, corr, &r,
			                    SL_RANGE_WHY_SEND_FAIL);
		sl_hsync_retry_later(lc, p);
		return false;
	}
	memset(e, 0, sizeof *e);
	e->corr = corr;
	e->sent_ns = lc->now_ns;
	e->r = r;
	sl_hsync_of(lc, p)->n_exp++;
	if (SL_UNLIKELY(sl_hsync_work_event(lc, p, SL_EVT_WORK_ASSIGNED, corr, &r,
	                                    SL_RANGE_WHY_NONE) != 0)) {
		/* the reactor would not know this assignment: take nothing it
		   cannot track (the answer will be dropped as late) */
		SL_CNT_ADD(&lc->cnt->hs_event_full, 1);
		sl_hsync_return(lc, p, e, SL_RANGE_WHY_CANCEL);
		sl_hsync_retry_later(lc, p);
		return false;
	}
	SL_CNT_ADD(&lc->cnt->hs_req_tx, 1);
	SL_CNT_ADD(&sl_hsync_sess(lc, p)->cnt.hs_req_tx, 1);
	return true;
}

/* sl_hsync_pull_peer fills p's free slots while the gates allow. */
static void sl_hsync_pull_peer(sl_lcore_t *lc, struct sl_routine_peer *p)
{
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	uint32_t win = sl_flow_window(&hs->flow);
	if (!hs->on || !hs->peer_status || hs->n_exp >= win || sl_hsync_parked(lc, p))
		return;
	if (lc->now_ns < hs->retry_ns) {
		sl_hsync_pull_soon(lc, hs->retry_ns);
		return;
	}
	if (sl_flow_held(&hs->flow, lc->now_ns)) {
		sl_hsync_pull_soon(lc, hs->flow.hold_ns);
		return;
	}
	if (!sl_backoff_should_send(&p->quiet, SL_WIRE_STREAM_HSYNC, lc->now_ns)) {
		sl_hsync_pull_soon(lc, p->quiet.until_ns);
		return;
	}
	sl_hsync_exp_t *x = sl_hsync_exps(lc, p);
	for (uint32_t i = 0; i < g->inflight && hs->n_exp < win; i++)
		if (x[i].corr == 0 && !sl_hsync_request(lc, p, &x[i]))
			return;
}

/* sl_hsync_pull_work: the coalesced pull scan (work epoch moved, a slot
   freed, a retry passed, or the idle period ran out). */
static void sl_hsync_pull_work(sl_lcore_t *lc)
{
	sl_routine_t *rt = lc->rt;
	sl_hsync_lcore_t *g = sl_hsync_g(lc);
	if (SL_UNLIKELY(g->q == NULL))
		return;
	uint64_t ep = sl_rangeq_epoch(g->q);
	if (SL_LIKELY(ep == g->epoch_seen && lc->now_ns < g->pull_at_ns))
		return;
	g->epoch_seen = ep;
	g->pull_at_ns = lc->now_ns + SL_HSYNC_PULL_IDLE_NS;
	for (uint32_t i = sl_session_count(rt->tab); i-- > 0;) {
		sl_session_t *s = sl_session_live_at(rt->tab, i);
		sl_hsync_pull_peer(lc, sl_routine_peer(lc, sl_session_slot_of(rt->tab, s)));
	}
	lc->work++;
}

/* ---- commands and start-up -------------------------------------------------- */

/* sl_hsync_drop_exp: DROP_EXPECTATION{gen, start, count}: the reactor took
   the range back (timeout, reset, refusal).  The overlapping expectation
   ends without a WORK_RETURNED; its late answers are dropped silently.  The
   return below is a no-op (STALE) unless the hold is a newer take of the
   same range that raced the command: that one goes back properly. */
static void sl_hsync_drop_exp(sl_lcore_t *lc, struct sl_routine_peer *p,
                              const sl_cmdq_drop_exp_t *d)
{
	sl_hsync_exp_t *x = sl_hsync_exps(lc, p);
	uint64_t lo = d->start, hi = (uint64_t)d->start + d->count;
	for (uint32_t i = 0; i < sl_hsync_g(lc)->inflight; i++) {
		sl_hsync_exp_t *e = &x[i];
		if (e->corr == 0 || e->r.start >= hi || (uint64_t)e->r.start + e->r.len <= lo)
			continue;
		if (sl_rangeq_return(sl_hsync_g(lc)->q, p->sid, sl_hsync_gen(p), &e->r,
		                     SL_RANGE_WHY_CANCEL) == SL_RANGEQ_OK)
			sl_hsync_work_event(lc, p, SL_EVT_WORK_RETURNED, e->corr, &e->r,
			                    SL_RANGE_WHY_CANCEL);
		sl_hsync_end(lc, p, e, true);
		return;
	}
	SL_CNT_ADD(&lc->cnt->cmds_stale, 1); /* already ended: nothing to drop */
}

static void sl_hsync_command(sl_lcore_t *lc, struct sl_routine_peer *p, void *st, const sl_msg_t *m)
{
	(void)st;
	if (p->state != SL_ROUTINE_LIVE || p->gen != m->gen || !sl_hsync_of(lc, p)->on ||
	    sl_hsync_parked(lc, p)) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	if (m->type == SL_CMDQ_V_DROP_EXPECTATION && m->len >= sizeof(sl_cmdq_drop_exp_t)) {
		sl_cmdq_drop_exp_t d;
		memcpy(&d, m->payload, sizeof d);
		sl_hsync_drop_exp(lc, p, &d);
	} else if (m->type == SL_CMDQ_V_FORWARD_NEW_BLOCK && m->len >= sizeof(sl_cmd_new_block_t)) {
		sl_cmd_new_block_t nb;
		memcpy(&nb, m->payload, sizeof nb);
		sl_hsync_new_block_tx(lc, p, &nb);
	} else if (m->type == SL_CMDQ_V_SEND_FRAME && m->len >= sizeof(sl_cmd_fetch_t)) {
		sl_cmd_fetch_t f;
		memcpy(&f, m->payload, sizeof f);
		sl_hsync_fetch(lc, p, &f);
	} else {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
	}
}

static int sl_hsync_init(sl_lcore_t *lc, void *lst)
{
	sl_hsync_lcore_t *g = lst;
	const sl_cfg_t *cfg = &lc->dp->cfg;
	g->profile = sl_chain_profile(cfg->profile);
	g->q = sl_rangeq_join(sl_region_obj(&lc->dp->region, SL_REGION_OBJ_RANGEQ, 0));
	g->inflight = SL_MIN(SL_MAX(cfg->inflight, 1u), (uint32_t)SL_INFLIGHT_MAX);
	g->serve_rate = SL_MAX(cfg->serve_rate, 1u);
	g->serve_burst = SL_MAX(cfg->serve_burst, 1u);
	g->serve_total = SL_MAX(cfg->serve_total, 1u);
#if SL_TEST_HOOKS
	g->fault_bad_pow = cfg->fault_bad_pow;
	if (g->fault_bad_pow != 0 && lc->is_main)
		SL_WARN("TEST ONLY fault_bad_pow = %u: every %u-th GET_HEADERS answer carries an "
		        "invalid proof of work",
		        g->fault_bad_pow, g->fault_bad_pow);
#endif
	size_t bytes = sizeof(sl_hsync_exp_t) * SL_SESSIONS_PER_LCORE * g->inflight;
	int socket = (int)rte_lcore_to_socket_id(lc->lcore_id);
	g->exp = rte_zmalloc_socket("sl_hsync_exp", bytes, RTE_CACHE_LINE_SIZE, socket);
	if (g->exp == NULL)
		g->exp = rte_zmalloc("sl_hsync_exp", bytes, RTE_CACHE_LINE_SIZE);
	if (SL_UNLIKELY(g->profile == NULL || g->q == NULL || g->exp == NULL)) {
		SL_ERR("worker %u: header sync: profile '%s', range table or %zu bytes of "
		       "expectations unusable",
		       lc->idx, cfg->profile, bytes);
		rte_free(g->exp);
		g->exp = NULL;
		return -1;
	}
	sl_routine_need_events(lc, g->inflight); /* an answer's events per expectation */
	return 0;
}

static void sl_hsync_fini(sl_lcore_t *lc, void *lst)
{
	sl_hsync_lcore_t *g = lst;
	(void)lc;
	rte_free(g->exp);
	g->exp = NULL;
}

/* ---- the routine ------------------------------------------------------------ */

/* sl_hsync_window_max: the ceiling of a session's request window.  All
   answers of a full window may arrive at once, so the window is held to
   what half the RX path can take (rx_cap / 2 frames, a full answer being
   SL_HSYNC_REPLY_FRAMES frames): more would fill our own queue, pass the
   BACKOFF mark and make us throttle the very peer we asked. */
static uint32_t sl_hsync_window_max(const sl_lcore_t *lc)
{
	uint32_t fit = lc->rt->rx_cap / (2u * SL_HSYNC_REPLY_FRAMES);
	return SL_MIN(sl_hsync_g(lc)->inflight, SL_MAX(fit, 1u));
}

static void sl_hsync_start(sl_lcore_t *lc, struct sl_routine_peer *p, void *st)
{
	(void)st;
	sl_hsync_serve_quiet(sl_hsync_g(lc), sl_hsync_of(lc, p));
	memset(sl_hsync_of(lc, p), 0, sizeof(sl_hsync_peer_t));
	if ((p->streams & (1u << SL_WIRE_STREAM_HSYNC)) == 0)
		return;
	sl_hsync_of(lc, p)->on = 1;
	memset(sl_hsync_exps(lc, p), 0, sizeof(sl_hsync_exp_t) * sl_hsync_g(lc)->inflight);
	sl_hsync_of(lc, p)->serve_ns = lc->now_ns;
	sl_hsync_of(lc, p)->serve_milli = (uint64_t)sl_hsync_g(lc)->serve_burst * 1000u;
	sl_flow_init(&sl_hsync_of(lc, p)->flow, sl_hsync_window_max(lc));
	if (sl_hsync_parked(lc, p))
		return;
	sl_local_status_t cur;
	if (sl_status_read(lc->dp->status, &cur) != 0)
		sl_hsync_status_send(lc, p, &cur);
}

static bool sl_hsync_parked(sl_lcore_t *lc, struct sl_routine_peer *p)
{
	if (sl_hsync_of(lc, p)->parked)
		return true;
	if (SL_LIKELY(!sl_cmdq_parked(&lc->rt->cmdq, lc->idx, sl_routine_slot(lc, p), p->gen)))
		return false;
	sl_hsync_release(lc, p, SL_RANGE_WHY_PARK);
	sl_hsync_serve_quiet(sl_hsync_g(lc), sl_hsync_of(lc, p));
	memset(sl_hsync_of(lc, p), 0, sizeof(sl_hsync_peer_t)); /* drop the service's state */
	sl_hsync_of(lc, p)->parked = 1;
	sl_hsync_of(lc, p)->peer_best_height = 0;
	SL_CNT_ADD(&lc->cnt->hs_parks, 1);
	SL_INFO("worker %u: session %08x: header-sync service parked (session stays)", lc->idx,
	        p->sid);
	return true;
}

static void sl_hsync_input(sl_lcore_t *lc, struct sl_routine_peer *p, void *st,
                           const sl_wire_hdr_t *h, const sl_wire_msg_t *msg, bool too_many)
{
	(void)st;
	if (SL_UNLIKELY(!sl_hsync_of(lc, p)->on))
		return; /* not started (cannot happen: stream 5 is negotiated) */
	switch (h->type) {
	case SL_WIRE_T_STATUS:
		sl_hsync_status_rx(lc, p, &msg->status);
		break;
	case SL_WIRE_T_GET_HEADERS:
		sl_hsync_get_headers(lc, p, h, &msg->get_headers, too_many);
		break;
	case SL_WIRE_T_HEADERS:
		sl_hsync_headers(lc, p, h->corr, &msg->headers);
		break;
	case SL_WIRE_T_NOT_FOUND:
		sl_hsync_nf_rx(lc, p, h->corr, &msg->not_found);
		break;
	case SL_WIRE_T_NEW_BLOCK:
		sl_hsync_new_block_rx(lc, p, &msg->new_block);
		break;
	default:
		break;
	}
}

static void sl_hsync_tick(sl_lcore_t *lc, struct sl_routine_peer *p, void *st)
{
	(void)st;
	sl_hsync_peer_t *hs = sl_hsync_of(lc, p);
	if (hs->serve_asking && lc->now_ns - hs->serve_ask_ns > SL_HSYNC_ASKING_NS)
		sl_hsync_serve_quiet(sl_hsync_g(lc), hs);
	if (!sl_hsync_of(lc, p)->on || sl_hsync_parked(lc, p))
		return;
	sl_hsync_status_refresh(lc, p);
	sl_hsync_fetch_tick(lc, p);
	sl_hsync_exp_t *x = sl_hsync_exps(lc, p);
	for (uint32_t i = 0; sl_hsync_of(lc, p)->n_exp > 0 && i < sl_hsync_g(lc)->inflight; i++) {
		if (x[i].corr == 0)
			continue;
		if (!sl_rangeq_holds(sl_hsync_g(lc)->q, p->sid, sl_hsync_gen(p), &x[i].r)) {
			/* covered (by answers to other requests), reset or taken back:
			   nothing to wait for; stragglers become late credits */
			SL_CNT_ADD(&lc->cnt->hs_exp_dropped, 1);
			sl_hsync_end(lc, p, &x[i], true);
		} else {
			sl_hsync_expire(lc, p, &x[i], sl_hsync_exp_due(lc, &x[i]));
		}
	}
}

/* sl_hsync_status_push: STATUS to every session that has not had the
   published version (when it moved). */
static void sl_hsync_status_push(sl_lcore_t *lc)
{
	sl_routine_t *rt = lc->rt;
	uint64_t seq = sl_status_seq(lc->dp->status);
	if (SL_LIKELY(seq == sl_hsync_g(lc)->seq_seen) || (seq & 1) != 0)
		return;
	if (sl_status_read(lc->dp->status, &sl_hsync_g(lc)->local) == 0)
		return; /* nothing consistent yet: next cycle */
	sl_hsync_g(lc)->seq_seen = seq;
	uint64_t ver = sl_hsync_g(lc)->local.version;
	for (uint32_t i = sl_session_count(rt->tab); i-- > 0;) {
		sl_session_t *s = sl_session_live_at(rt->tab, i);
		sl_routine_peer_t *p = sl_routine_peer(lc, sl_session_slot_of(rt->tab, s));
		if (sl_hsync_of(lc, p)->on && sl_hsync_of(lc, p)->status_sent != ver &&
		    !sl_hsync_parked(lc, p) &&
		    lc->now_ns - sl_hsync_of(lc, p)->status_last_ns >= SL_HSYNC_STATUS_GAP_NS)
			sl_hsync_status_send(lc, p,
			                     &sl_hsync_g(lc)->local); /* else the tick sends it */
	}
	lc->work++;
}

static void sl_hsync_pull(sl_lcore_t *lc, void *lst)
{
	(void)lst;
	sl_hsync_status_push(lc);
	sl_hsync_pull_work(lc);
}

/* sl_hsync_parked_hook: the descriptor's park gate (the demux drops a
   parked service's frames). */
static bool sl_hsync_parked_hook(sl_lcore_t *lc, struct sl_routine_peer *p, void *st)
{
	(void)st;
	return sl_hsync_parked(lc, p);
}

#if SL_INVARIANTS
static const char *sl_hsync_invariants(const sl_lcore_t *lc, const struct sl_routine_peer *p,
                                       const void *st)
{
	const sl_hsync_peer_t *hs = st;
	(void)p;
	if (hs->n_exp > sl_hsync_g(lc)->inflight)
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
