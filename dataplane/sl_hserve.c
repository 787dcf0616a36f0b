/* sl_hserve.c — serving GET_HEADERS from the mapped chain (see
   sl_hserve.h). */
#include "sl_hserve.h"

#include <string.h>

#include "sl_chain.h"
#include "sl_hdrmap.h"
#include "sl_log.h"

void sl_hserve_init(sl_hserve_lcore_t *g, const sl_cfg_t *cfg, bool is_main)
{
	g->rate = SL_MAX(cfg->serve_rate, 1u);
	g->burst = SL_MAX(cfg->serve_burst, 1u);
	g->total = SL_MAX(cfg->serve_total, 1u);
	g->asking = 0;
#if SL_TEST_HOOKS
	g->fault_bad_pow = cfg->fault_bad_pow;
	if (g->fault_bad_pow != 0 && is_main)
		SL_WARN("TEST ONLY fault_bad_pow = %u: every %u-th GET_HEADERS answer carries an "
		        "invalid proof of work",
		        g->fault_bad_pow, g->fault_bad_pow);
#else
	(void)is_main;
#endif
}

void sl_hserve_start(const sl_hserve_lcore_t *g, sl_hserve_peer_t *s, uint64_t now_ns)
{
	s->ns = now_ns;
	s->milli = (uint64_t)g->burst * 1000u;
}

void sl_hserve_quiet(sl_hserve_lcore_t *g, sl_hserve_peer_t *s)
{
	if (s->asking) {
		s->asking = 0;
		g->asking--;
	}
}

void sl_hserve_tick(sl_hserve_lcore_t *g, sl_hserve_peer_t *s, uint64_t now_ns)
{
	if (s->asking && now_ns - s->ask_ns > SL_HSERVE_ASKING_NS)
		sl_hserve_quiet(g, s);
}

/* sl_hserve_rate: s's refill rate, its fair share of the lcore's serving
   budget among the sessions asking now (requests/s). */
static uint64_t sl_hserve_rate(sl_hserve_lcore_t *g, sl_hserve_peer_t *s, uint64_t now_ns)
{
	s->ask_ns = now_ns;
	if (!s->asking) {
		s->asking = 1;
		g->asking++;
	}
	return SL_MIN(g->rate, SL_MAX(1u, g->total / g->asking));
}

/* sl_hserve_budget takes one request from s's bucket; false when empty. */
static bool sl_hserve_budget(sl_hserve_lcore_t *g, sl_hserve_peer_t *s, uint64_t now_ns)
{
	uint64_t cap = (uint64_t)g->burst * 1000u;
	uint64_t rate = sl_hserve_rate(g, s, now_ns);
	uint64_t add = (now_ns - s->ns) * rate / 1000000u;
	if (add > 0) {
		s->milli = SL_MIN(cap, s->milli + add);
		s->ns = now_ns;
	}
	if (s->milli < 1000u)
		return false;
	s->milli -= 1000u;
	return true;
}

static void sl_hserve_not_found(sl_lcore_t *lc, sl_routine_peer_t *p, uint64_t corr, uint32_t start,
                                uint16_t reason)
{
	sl_wire_msg_t msg = {.not_found = {.start_height = start, .reason = reason}};
	if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_NOT_FOUND, corr, &msg) != 0)
		return;
	SL_CNT_ADD(&lc->cnt->hs_not_found_tx, 1);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_not_found_tx, 1);
	if (reason == SL_WIRE_NF_BUSY)
		SL_CNT_ADD(&lc->cnt->hs_busy, 1);
}

#if SL_TEST_HOOKS
/* sl_hserve_fault_due ([dataplane] fault_bad_pow = n): whether this answer
   is the n-th since the last corrupted one. */
static bool sl_hserve_fault_due(sl_lcore_t *lc, sl_hserve_lcore_t *g)
{
	if (SL_LIKELY(g->fault_bad_pow == 0) || ++g->fault_n < g->fault_bad_pow)
		return false;
	g->fault_n = 0;
	SL_CNT_ADD(&lc->cnt->hs_fault_bad_pow, 1);
	return true;
}
#else
static inline bool sl_hserve_fault_due(sl_lcore_t *lc, sl_hserve_lcore_t *g)
{
	(void)lc;
	(void)g;
	return false;
}
#endif

/* sl_hserve_corrupt copies k headers to buf with the first one's bits
   raised out of reach (0x1800ffff): its proof of work fails against its
   own target whatever the profile. */
static const uint8_t *sl_hserve_corrupt(const uint8_t *hdrs, uint32_t k, uint8_t *buf)
{
	static const uint8_t bits[4] = {0xff, 0xff, 0x00, 0x18}; /* little-endian */
	memcpy(buf, hdrs, (size_t)k * SL_CHAIN_HDR_LEN);
	memcpy(buf + 72, bits, sizeof bits);
	return buf;
}

/* sl_hserve_build builds the HEADERS frames of heights start .. start+n-1
   from the map into f[]; returns the frames built (fewer than needed only
   when the pool ran dry or the seq is exhausted). */
static uint32_t sl_hserve_build(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hserve_lcore_t *g,
                                const sl_store_reader_t *r, uint64_t corr, uint32_t start,
                                uint32_t n, struct rte_mbuf **f)
{
	uint8_t bad[SL_WIRE_HEADERS_MAX * SL_CHAIN_HDR_LEN];
	bool fault = sl_hserve_fault_due(lc, g);
	uint32_t nf = 0;
	for (uint32_t done = 0; done < n; nf++) {
		uint32_t k = SL_MIN(n - done, (uint32_t)SL_WIRE_HEADERS_MAX);
		const uint8_t *hdrs = sl_store_reader_ptr(r, start + done);
		sl_wire_msg_t msg = {
		    .headers = {.start_height = start + done,
		                .n = (uint8_t)k,
		                .flags = done + k == n ? SL_WIRE_HEADERS_F_LAST : 0,
		                .hdrs = SL_UNLIKELY(fault && done == 0)
		                            ? sl_hserve_corrupt(hdrs, k, bad)
		                            : hdrs}};
		f[nf] = sl_routine_build_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_HEADERS, corr,
		                              &msg);
		if (SL_UNLIKELY(f[nf] == NULL))
			break;
		done += k;
	}
	return nf;
}

/* sl_hserve_answer: the store's verdict on a request within budget and count. */
static void sl_hserve_answer(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hserve_lcore_t *g,
                             uint64_t corr, const sl_wire_get_headers_t *gh)
{
	static const uint8_t zero[SL_WIRE_HASH_LEN];
	const sl_store_reader_t *r = sl_hdrmap_get(lc->dp);
	if (SL_UNLIKELY(r == NULL)) {
		sl_hserve_not_found(lc, p, corr, gh->start_height, SL_WIRE_NF_BUSY);
		return;
	}
	uint32_t count;
	uint64_t epoch;
	sl_store_reader_begin(r, &count, &epoch);
	if (gh->start_height >= count) {
		sl_hserve_not_found(lc, p, corr, gh->start_height, SL_WIRE_NF_BEYOND_TIP);
		return;
	}
	/* Header start's prev field is the hash of header start-1. */
	if (memcmp(gh->anchor_hash, zero, sizeof zero) != 0 &&
	    memcmp(sl_store_reader_ptr(r, gh->start_height) + 4, gh->anchor_hash, 32) != 0) {
		bool same = sl_store_reader_end(r, epoch);
		sl_hserve_not_found(lc, p, corr, gh->start_height,
		                    same ? SL_WIRE_NF_UNKNOWN_ANCHOR : SL_WIRE_NF_BUSY);
		return;
	}
	uint32_t n = SL_MIN((uint32_t)gh->count, count - gh->start_height);
	uint32_t want = (n + SL_WIRE_HEADERS_MAX - 1) / SL_WIRE_HEADERS_MAX;
	struct rte_mbuf *f[SL_WIRE_REPLY_FRAMES_MAX];
	uint32_t nf = sl_hserve_build(lc, p, g, r, corr, gh->start_height, n, f);
	if (SL_UNLIKELY(!sl_store_reader_end(r, epoch) || nf != want)) {
		for (uint32_t i = 0; i < nf; i++) /* a truncation raced the copy, or no mbufs */
			rte_pktmbuf_free(f[i]);
		sl_hserve_not_found(lc, p, corr, gh->start_height, SL_WIRE_NF_BUSY);
		return;
	}
	uint32_t sent = 0;
	for (uint32_t i = 0; i < nf; i++)
		sent += sl_routine_xmit_sess(lc, p, f[i]) == 0;
	SL_CNT_ADD(&lc->cnt->hs_headers_tx, sent);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_headers_tx, sent);
}

void sl_hserve_get_headers(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hserve_lcore_t *g,
                           sl_hserve_peer_t *s, sl_hrec_t *rec, const sl_wire_hdr_t *h,
                           const sl_wire_get_headers_t *gh, bool too_many)
{
	SL_CNT_ADD(&lc->cnt->hs_get_headers_rx, 1);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_get_headers_rx, 1);
	if (!sl_backoff_should_send(&p->quiet, SL_WIRE_STREAM_HSYNC, lc->now_ns))
		return; /* the peer asked us to hold stream 5 back */
	if (SL_UNLIKELY(!sl_hserve_budget(g, s, lc->now_ns))) {
		sl_hrec_spam(lc, p, rec, SL_WIRE_T_GET_HEADERS);
		sl_hserve_not_found(lc, p, h->corr, gh->start_height, SL_WIRE_NF_BUSY);
		return;
	}
	if (SL_UNLIKELY(too_many)) {
		sl_hrec_spam(lc, p, rec, SL_WIRE_T_GET_HEADERS);
		sl_hserve_not_found(lc, p, h->corr, gh->start_height, SL_WIRE_NF_TOO_MANY);
		return;
	}
	sl_hserve_answer(lc, p, g, h->corr, gh);
}
