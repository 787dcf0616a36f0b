/* sl_lcore.c — the worker poll cycle (see sl_lcore.h, DESIGN.md). */
#include "sl_lcore.h"

#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "sl_cmd.h"
#include "sl_connect.h"
#include "sl_discovery.h"
#include "sl_hsync.h"
#include "sl_ingress.h"
#include "sl_log.h"
#include "sl_routine.h"
#include "sl_sess_stream.h"
#include "sl_time.h"

#define SL_TICK_NS (1000000ull) /* deadlines / liveness scan period: 1 ms */

int sl_lcore_init(sl_lcore_t *lc, sl_dp_t *dp, uint32_t idx, uint32_t lcore_id, bool is_main)
{
	memset(lc, 0, sizeof *lc);
	lc->dp = dp;
	lc->idx = idx;
	lc->lcore_id = lcore_id;
	lc->is_main = is_main;
	lc->blk = sl_region_lcore(&dp->region, idx);
	lc->cnt = &lc->blk->cnt;
	sl_neigh_init(&lc->neigh);
	atomic_store_explicit(&lc->blk->lcore_id, lcore_id, memory_order_relaxed);
	return sl_rt_create(lc);
}

void sl_lcore_tx_flush(sl_lcore_t *lc)
{
	uint16_t n = lc->tx_n;
	if (n == 0)
		return;
	uint64_t bytes = 0;
	for (uint16_t i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(lc->tx[i]);
	/* Summed before the burst: the driver may free sent frames at once. */
	uint16_t sent = rte_eth_tx_burst(lc->dp->port_id, (uint16_t)lc->idx, lc->tx, n);
	for (uint16_t i = sent; i < n; i++) {
		bytes -= rte_pktmbuf_pkt_len(lc->tx[i]);
		sl_lcore_drop(lc, lc->tx[i], SL_DROP_TX_FULL);
	}
	SL_CNT_ADD(&lc->cnt->tx_pkts, sent);
	SL_CNT_ADD(&lc->cnt->tx_bytes, bytes);
	lc->tx_n = 0;
}

/* sl_rx_run hands waiting frames to ingress while the budget lasts. */
static void sl_rx_run(sl_lcore_t *lc)
{
	while (lc->rx_pos < lc->rx_n) {
		if (SL_UNLIKELY(lc->budget_left == 0)) {
			SL_CNT_ADD(&lc->cnt->budget_exceeded, 1);
			return;
		}
		lc->budget_left--;
		lc->work++;
		sl_ingress_frame(lc, lc->rx[lc->rx_pos++]);
	}
	lc->rx_n = lc->rx_pos = 0;
}

/* sl_rx_gather moves frames left from the last cycle to the front, then
   pulls bursts off the queue until it runs dry (a short burst) or the
   gather array has no room for another burst.  Returns the frames waiting
   (the ingress depth before the drain, as far as the array can see); *full
   when it stopped for room, i.e. the queue may hold more. */
static uint32_t sl_rx_gather(sl_lcore_t *lc, bool *full)
{
	uint16_t left = (uint16_t)(lc->rx_n - lc->rx_pos);
	if (left != 0 && lc->rx_pos != 0)
		memmove(lc->rx, lc->rx + lc->rx_pos, left * sizeof lc->rx[0]);
	lc->rx_n = left;
	lc->rx_pos = 0;
	*full = false;
	while (SL_RX_GATHER - lc->rx_n >= SL_BURST) {
		uint16_t n = rte_eth_rx_burst(lc->dp->port_id, (uint16_t)lc->idx, lc->rx + lc->rx_n,
		                              SL_BURST);
		if (n != 0) {
			SL_PROBE_RX_BURST(lc->lcore_id, n);
			SL_CNT_ADD(&lc->cnt->rx_bursts, 1);
			lc->rx_n = (uint16_t)(lc->rx_n + n);
		}
		if (n < SL_BURST)
			return lc->rx_n;
	}
	*full = true;
	return lc->rx_n;
}

/* Phase 0: never-lost events first — the backlog of critical events the
   full ring refused earlier goes to ctrl, in order, before this cycle
   emits anything (sl_evq.h). */
static void sl_phase_events(sl_lcore_t *lc)
{
	if (sl_evq_flush(&lc->rt->evq) != 0)
		lc->work++;
}

/* Phase 1a: frames other workers received for sessions this one owns
   (sl_handoff.h), before new ones from the queue: they waited longer. */
static void sl_phase_handoff(sl_lcore_t *lc)
{
	lc->work += sl_ingress_handoff(lc);
}

/* Phase 1: gather (frames left from the last cycle first, then bursts),
   judge the depth against the BACKOFF mark (phase 6's decision, taken here
   so it applies to the frames it measured), then serve while the budget
   lasts; the rest waits for the next cycle. */
static void sl_phase_rx(sl_lcore_t *lc)
{
	bool full;
	uint32_t depth = sl_rx_gather(lc, &full);
	if (full && lc->rt->rxq_count_ok) {
		int more = rte_eth_rx_queue_count(lc->dp->port_id, (uint16_t)lc->idx);
		if (more > 0)
			depth += (uint32_t)more;
	}
	sl_rt_backpressure(lc, depth);
	sl_rx_run(lc);
}

/* Phase 2: drain this lcore's command ring (bounded; sl_cmd.h). */
static void sl_phase_commands(sl_lcore_t *lc)
{
	sl_cmd_phase(lc);
}

/* sl_tick_ns: the period of the deadline / liveness scans: SL_TICK_NS, or
   [dataplane] fault_tick_ms in a test build (CONFIG_SL_TEST_HOOKS). */
static uint64_t sl_tick_ns(const sl_lcore_t *lc)
{
#if SL_TEST_HOOKS
	if (SL_UNLIKELY(lc->dp->cfg.fault_tick_ms != 0))
		return (uint64_t)lc->dp->cfg.fault_tick_ms * 1000000ull;
#else
	(void)lc;
#endif
	return SL_TICK_NS;
}

/* sl_tick_due: the deadline / liveness scans run once per sl_tick_ns. */
static bool sl_tick_due(sl_lcore_t *lc)
{
	if (lc->now_ns < lc->rt->next_tick_ns)
		return false;
	lc->rt->next_tick_ns = lc->now_ns + sl_tick_ns(lc);
	return true;
}

/* Phase 3: connect retries and deadlines, keepalive PINGs, discovery
   settle timeouts, header-sync request deadlines.  Walks live sessions
   downward (teardown-safe).  Deadlines before completions: an answer that
   phase 1 meets checks its own request's deadline first (sl_hsync.h), so
   a request that expired before this scan ran still fails as a timeout
   and its answer counts as late. */
static void sl_phase_deadlines(sl_lcore_t *lc)
{
	sl_rt_t *rt = lc->rt;
	sl_conn_tick(lc);
	for (uint32_t i = sl_session_count(rt->tab); i-- > 0;) {
		sl_session_t *s = sl_session_live_at(rt->tab, i);
		sl_peer_t *p = sl_rt_peer(lc, sl_session_slot_of(rt->tab, s));
		sl_hs_tick(lc, p); /* a park, even on a silent stream 5 */
		sl_ss_deadline(lc, p);
		sl_disc_deadline(lc, p);
	}
}

/* Phase 4: phi-accrual liveness transitions. */
static void sl_phase_liveness(sl_lcore_t *lc)
{
	sl_rt_t *rt = lc->rt;
	for (uint32_t i = sl_session_count(rt->tab); i-- > 0;) {
		sl_session_t *s = sl_session_live_at(rt->tab, i);
		sl_ss_liveness(lc, sl_rt_peer(lc, sl_session_slot_of(rt->tab, s)));
	}
}

/* Phase 5: STATUS push when the published local status moved (coalesced),
   the header store's open retry (main lcore); work pull on a moved work
   epoch comes with the requesting side. */
static void sl_phase_pull(sl_lcore_t *lc)
{
	sl_hs_pull(lc);
}

/* sl_lcore_heartbeat (main lcore only): publish liveness, and decide to
   stop on a signal or on ctrl's shutdown request. */
static void sl_lcore_heartbeat(sl_lcore_t *lc)
{
	sl_region_hdr_t *h = lc->dp->region.hdr;
	atomic_store_explicit(&h->dp_heartbeat_ns, lc->now_ns, memory_order_relaxed);
	bool req = atomic_load_explicit(&h->shutdown_req, memory_order_relaxed) != 0;
	if (SL_LIKELY(!req && !sl_dp_signalled()))
		return;
	SL_INFO("shutting down (%s)", req ? "ctrl asked" : "signal");
	sl_region_life_advance(&lc->dp->region, SL_LIFE_SHUTTING_DOWN);
	atomic_store_explicit(&lc->dp->stop, 1, memory_order_release);
}

/* Phase 7: flush TX, count the cycle, heartbeat. */
static void sl_phase_tx(sl_lcore_t *lc)
{
	sl_lcore_tx_flush(lc);
	SL_CNT_ADD(&lc->cnt->cycles, 1);
	if (lc->is_main)
		sl_lcore_heartbeat(lc);
}

/* After an empty cycle, yield the CPU for [dataplane] idle_sleep_us. */
static void sl_phase_idle(sl_lcore_t *lc)
{
	uint32_t us = lc->dp->cfg.idle_sleep_us;
	if (lc->work != 0 || us == 0)
		return;
	SL_CNT_ADD(&lc->cnt->idle_sleeps, 1);
	rte_delay_us_sleep(us);
}

static void sl_cycle_begin(sl_lcore_t *lc)
{
	lc->now_ns = sl_now_ns();
	lc->budget_left = SL_ROUTINE_BUDGET;
	lc->work = 0;
}

/* sl_lcore_release frees frames still held when the loop ends. */
static void sl_lcore_release(sl_lcore_t *lc)
{
	sl_lcore_tx_flush(lc);
	for (uint16_t i = lc->rx_pos; i < lc->rx_n; i++)
		rte_pktmbuf_free(lc->rx[i]);
	lc->rx_n = lc->rx_pos = 0;
}

int sl_lcore_main(void *arg)
{
	sl_lcore_t *lc = arg;
	atomic_store_explicit(&lc->blk->running, 1, memory_order_release);
	sl_rt_rx_capacity(lc);
	SL_DEBUG("worker %u on lcore %u: polling queue %u", lc->idx, lc->lcore_id, lc->idx);
	while (!sl_dp_stop_requested(lc->dp)) {
		sl_cycle_begin(lc);
		sl_phase_events(lc);   /* backlog of never-lost events, in order */
		sl_phase_handoff(lc);  /* frames other workers handed to us */
		sl_phase_rx(lc);       /* burst -> parse -> demux -> handler */
		sl_phase_commands(lc); /* ctrl -> this lcore */
		if (sl_tick_due(lc)) {
			sl_phase_deadlines(lc); /* expire before completing */
			sl_phase_liveness(lc);  /* phi-accrual transitions */
		}
		sl_phase_pull(lc); /* work epoch moved -> pull */
		/* phase 6 (BACKOFF / silent mode) is judged in sl_phase_rx */
		sl_phase_tx(lc);   /* flush, counters, heartbeat */
		sl_phase_idle(lc); /* optional sleep after an empty cycle */
	}
	lc->now_ns = sl_now_ns();
	sl_rt_shutdown(lc); /* GOODBYE(SHUTDOWN) + SESSION_DOWN for every session */
	sl_lcore_release(lc);
	atomic_store_explicit(&lc->blk->running, 0, memory_order_release);
	return 0;
}
