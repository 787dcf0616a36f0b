/* sl_hsync.c — the header-sync routine: serving, STATUS, park (see
   sl_hsync.h). */
#include "sl_hsync.h"

#include <string.h>
#include <sys/stat.h>

#include "sl_log.h"
#include "sl_routine.h"
#include "sl_store.h"

#define SL_HS_SPAM_EVENT_NS (1000000000ull) /* one SPAM event per second per session */
#define SL_HS_STATUS_WIN_NS (1000000000ull)

/* ---- the shared store reader ---------------------------------------------- */

static const sl_store_reader_t *sl_hs_reader(const sl_dp_t *dp)
{
	return atomic_load_explicit(&dp->store, memory_order_acquire);
}

/* sl_hs_store_try (main lcore, at most once a second until it works):
   opens the reader once ctrl created the store (its view file exists), so
   a node whose ctrl is not up yet does not log every second. */
static void sl_hs_store_try(sl_lcore_t *lc)
{
	sl_dp_t *dp = lc->dp;
	if (SL_LIKELY(sl_hs_reader(dp) != NULL || lc->now_ns < dp->store_next_try_ns))
		return;
	dp->store_next_try_ns = lc->now_ns + SL_HS_STORE_RETRY_NS;
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

void sl_hs_store_close(sl_dp_t *dp)
{
	sl_store_reader_t *r = atomic_exchange(&dp->store, NULL);
	sl_store_reader_close(r);
}

/* ---- small helpers ----------------------------------------------------------- */

static sl_session_t *sl_hs_sess(sl_lcore_t *lc, struct sl_peer *p)
{
	return &lc->rt->tab->slot[sl_rt_slot(lc, p)];
}

/* sl_hs_spam records record-only SPAM of p on message `type`: counted
   always, a MISBEHAVIOR event (disconnect 0) and the probe at most once a
   second. */
static void sl_hs_spam(sl_lcore_t *lc, struct sl_peer *p, uint8_t type)
{
	SL_CNT_ADD(&lc->cnt->hs_spam, 1);
	SL_CNT_ADD(&sl_hs_sess(lc, p)->cnt.hs_spam, 1);
	if (p->hs.spam_ev_ns != 0 && lc->now_ns - p->hs.spam_ev_ns < SL_HS_SPAM_EVENT_NS)
		return;
	p->hs.spam_ev_ns = lc->now_ns;
	sl_evt_misbehavior_t e = {
	    .kind = SL_MISB_SPAM, .stream = SL_WIRE_STREAM_HSYNC, .type = type, .disconnect = 0};
	sl_rt_event(lc, SL_EVT_MISBEHAVIOR, p->sid, p->gen, &e, sizeof e);
	SL_PROBE_MISBEHAVIOR(p->sid, SL_MISB_SPAM);
}

static void sl_hs_not_found(sl_lcore_t *lc, struct sl_peer *p, uint64_t corr, uint32_t start,
                            uint16_t reason)
{
	sl_wire_msg_t msg = {.not_found = {.start_height = start, .reason = reason}};
	if (sl_rt_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_NOT_FOUND, corr, &msg) != 0)
		return;
	SL_CNT_ADD(&lc->cnt->hs_not_found_tx, 1);
	SL_CNT_ADD(&sl_hs_sess(lc, p)->cnt.hs_not_found_tx, 1);
	if (reason == SL_WIRE_NF_BUSY)
		SL_CNT_ADD(&lc->cnt->hs_busy, 1);
}

/* sl_hs_budget takes one request from p's serving bucket; false when empty. */
static bool sl_hs_budget(sl_lcore_t *lc, struct sl_peer *p)
{
	sl_hs_peer_t *hs = &p->hs;
	uint64_t cap = (uint64_t)SL_HS_SERVE_BURST * 1000u;
	uint64_t add = (lc->now_ns - hs->serve_ns) * SL_HS_SERVE_RATE / 1000000u;
	if (add > 0) {
		hs->serve_milli = SL_MIN(cap, hs->serve_milli + add);
		hs->serve_ns = lc->now_ns;
	}
	if (hs->serve_milli < 1000u)
		return false;
	hs->serve_milli -= 1000u;
	return true;
}

/* ---- STATUS ---------------------------------------------------------------- */

static void sl_hs_status_send(sl_lcore_t *lc, struct sl_peer *p, const sl_local_status_t *st)
{
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	msg.status.best_height = st->best_height;
	msg.status.finalized_height = st->finalized_height;
	memcpy(msg.status.best_hash, st->best_hash, 32);
	memcpy(msg.status.chainwork, st->chainwork, 32);
	if (sl_rt_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_STATUS, 0, &msg) != 0)
		return; /* held by a BACKOFF or dropped: the next move sends again */
	p->hs.status_sent = st->version;
	SL_CNT_ADD(&lc->cnt->hs_status_tx, 1);
	SL_CNT_ADD(&sl_hs_sess(lc, p)->cnt.hs_status_tx, 1);
}

/* sl_hs_status_rx: the SPEC §5 meter (more than SL_HS_STATUS_PER_S in a
   one-second window is SPAM, ignored), then the peer's tip is recorded. */
static void sl_hs_status_rx(sl_lcore_t *lc, struct sl_peer *p, const sl_wire_status_t *st)
{
	sl_hs_peer_t *hs = &p->hs;
	if (lc->now_ns - hs->status_win >= SL_HS_STATUS_WIN_NS) {
		hs->status_win = lc->now_ns;
		hs->status_n = 0;
	}
	if (++hs->status_n > SL_HS_STATUS_PER_S) {
		hs->status_n = SL_HS_STATUS_PER_S + 1; /* no wrap */
		sl_hs_spam(lc, p, SL_WIRE_T_STATUS);
		return;
	}
	SL_CNT_ADD(&lc->cnt->hs_status_rx, 1);
	p->peer_best_height = st->best_height;
	hs->peer_status = 1;
}

/* ---- serving GET_HEADERS ----------------------------------------------------- */

static void sl_hs_free_frames(struct rte_mbuf **f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		rte_pktmbuf_free(f[i]);
}

/* sl_hs_build_reply builds the HEADERS frames of heights start ..
   start+n-1 from the map into f[]; returns the frames built (fewer than
   needed only when the pool ran dry or the seq is exhausted). */
static uint32_t sl_hs_build_reply(sl_lcore_t *lc, struct sl_peer *p, const sl_store_reader_t *r,
                                  uint64_t corr, uint32_t start, uint32_t n, struct rte_mbuf **f)
{
	uint32_t nf = 0;
	for (uint32_t done = 0; done < n; nf++) {
		uint32_t k = SL_MIN(n - done, (uint32_t)SL_WIRE_HEADERS_MAX);
		sl_wire_msg_t msg = {
		    .headers = {.start_height = start + done,
		                .n = (uint8_t)k,
		                .flags = done + k == n ? SL_WIRE_HEADERS_F_LAST : 0,
		                .hdrs = sl_store_reader_ptr(r, start + done)}};
		f[nf] =
		    sl_rt_build_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_HEADERS, corr, &msg);
		if (SL_UNLIKELY(f[nf] == NULL))
			break;
		done += k;
	}
	return nf;
}

/* sl_hs_answer: the store's verdict on a request within budget and count. */
static void sl_hs_answer(sl_lcore_t *lc, struct sl_peer *p, uint64_t corr,
                         const sl_wire_get_headers_t *g)
{
	static const uint8_t zero[SL_WIRE_HASH_LEN];
	const sl_store_reader_t *r = sl_hs_reader(lc->dp);
	if (SL_UNLIKELY(r == NULL)) {
		sl_hs_not_found(lc, p, corr, g->start_height, SL_WIRE_NF_BUSY);
		return;
	}
	uint32_t count;
	uint64_t epoch;
	sl_store_reader_begin(r, &count, &epoch);
	if (g->start_height >= count) {
		sl_hs_not_found(lc, p, corr, g->start_height, SL_WIRE_NF_BEYOND_TIP);
		return;
	}
	/* Header start's prev field is the hash of header start-1. */
	if (memcmp(g->anchor_hash, zero, sizeof zero) != 0 &&
	    memcmp(sl_store_reader_ptr(r, g->start_height) + 4, g->anchor_hash, 32) != 0) {
		bool same = sl_store_reader_end(r, epoch);
		sl_hs_not_found(lc, p, corr, g->start_height,
		                same ? SL_WIRE_NF_UNKNOWN_ANCHOR : SL_WIRE_NF_BUSY);
		return;
	}
	uint32_t n = SL_MIN((uint32_t)g->count, count - g->start_height);
	uint32_t want = (n + SL_WIRE_HEADERS_MAX - 1) / SL_WIRE_HEADERS_MAX;
	struct rte_mbuf *f[SL_HS_REPLY_FRAMES];
	uint32_t nf = sl_hs_build_reply(lc, p, r, corr, g->start_height, n, f);
	if (SL_UNLIKELY(!sl_store_reader_end(r, epoch) || nf != want)) {
		sl_hs_free_frames(f, nf); /* a truncation raced the copy, or no mbufs */
		sl_hs_not_found(lc, p, corr, g->start_height, SL_WIRE_NF_BUSY);
		return;
	}
	uint32_t sent = 0;
	for (uint32_t i = 0; i < nf; i++)
		sent += sl_rt_xmit_sess(lc, p, f[i]) == 0;
	SL_CNT_ADD(&lc->cnt->hs_headers_tx, sent);
	SL_CNT_ADD(&sl_hs_sess(lc, p)->cnt.hs_headers_tx, sent);
}

static void sl_hs_get_headers(sl_lcore_t *lc, struct sl_peer *p, const sl_wire_hdr_t *h,
                              const sl_wire_get_headers_t *g, bool too_many)
{
	SL_CNT_ADD(&lc->cnt->hs_get_headers_rx, 1);
	SL_CNT_ADD(&sl_hs_sess(lc, p)->cnt.hs_get_headers_rx, 1);
	if (!sl_backoff_should_send(&p->quiet, SL_WIRE_STREAM_HSYNC, lc->now_ns))
		return; /* the peer asked us to hold stream 5 back */
	if (SL_UNLIKELY(!sl_hs_budget(lc, p))) {
		sl_hs_spam(lc, p, SL_WIRE_T_GET_HEADERS);
		sl_hs_not_found(lc, p, h->corr, g->start_height, SL_WIRE_NF_BUSY);
		return;
	}
	if (SL_UNLIKELY(too_many)) {
		sl_hs_spam(lc, p, SL_WIRE_T_GET_HEADERS);
		sl_hs_not_found(lc, p, h->corr, g->start_height, SL_WIRE_NF_TOO_MANY);
		return;
	}
	sl_hs_answer(lc, p, h->corr, g);
}

/* ---- the routine ------------------------------------------------------------ */

void sl_hs_start(sl_lcore_t *lc, struct sl_peer *p)
{
	memset(&p->hs, 0, sizeof p->hs);
	if ((p->streams & (1u << SL_WIRE_STREAM_HSYNC)) == 0)
		return;
	p->hs.on = 1;
	p->hs.serve_ns = lc->now_ns;
	p->hs.serve_milli = (uint64_t)SL_HS_SERVE_BURST * 1000u;
	if (sl_hs_parked(lc, p))
		return;
	sl_local_status_t st;
	if (sl_region_status_read(&lc->dp->region, &st) != 0)
		sl_hs_status_send(lc, p, &st);
}

bool sl_hs_parked(sl_lcore_t *lc, struct sl_peer *p)
{
	if (p->hs.parked)
		return true;
	if (SL_LIKELY(!sl_cmdq_parked(&lc->rt->cmdq, lc->idx, sl_rt_slot(lc, p), p->gen)))
		return false;
	memset(&p->hs, 0, sizeof p->hs); /* drop the service's state */
	p->hs.parked = 1;
	p->peer_best_height = 0;
	SL_CNT_ADD(&lc->cnt->hs_parks, 1);
	SL_INFO("worker %u: session %08x: header-sync service parked (session stays)", lc->idx,
	        p->sid);
	return true;
}

void sl_hs_input(sl_lcore_t *lc, struct sl_peer *p, const sl_wire_hdr_t *h,
                 const sl_wire_msg_t *msg, bool too_many)
{
	if (SL_UNLIKELY(!p->hs.on))
		return; /* not started (cannot happen: stream 5 is negotiated) */
	switch (h->type) {
	case SL_WIRE_T_STATUS:
		sl_hs_status_rx(lc, p, &msg->status);
		break;
	case SL_WIRE_T_GET_HEADERS:
		sl_hs_get_headers(lc, p, h, &msg->get_headers, too_many);
		break;
	default:
		/* HEADERS / NOT_FOUND / NEW_BLOCK: the requesting side (later) */
		break;
	}
}

void sl_hs_tick(sl_lcore_t *lc, struct sl_peer *p)
{
	if (p->hs.on)
		(void)sl_hs_parked(lc, p);
}

void sl_hs_pull(sl_lcore_t *lc)
{
	if (lc->is_main)
		sl_hs_store_try(lc);
	sl_rt_t *rt = lc->rt;
	uint64_t seq = atomic_load_explicit(&lc->dp->region.hdr->status_seq, memory_order_acquire);
	if (SL_LIKELY(seq == rt->hs.seq_seen) || (seq & 1) != 0)
		return;
	if (sl_region_status_read(&lc->dp->region, &rt->hs.local) == 0)
		return; /* nothing consistent yet: next cycle */
	rt->hs.seq_seen = seq;
	uint64_t ver = rt->hs.local.version;
	for (uint32_t i = sl_sess_count(rt->tab); i-- > 0;) {
		sl_session_t *s = sl_sess_live_at(rt->tab, i);
		sl_peer_t *p = sl_rt_peer(lc, sl_sess_slot_of(rt->tab, s));
		if (p->hs.on && p->hs.status_sent != ver && !sl_hs_parked(lc, p))
			sl_hs_status_send(lc, p, &rt->hs.local);
	}
	lc->work++;
}
