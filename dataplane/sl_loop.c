/* sl_loop.c — the worker poll loop (see sl_loop.h, DESIGN.md). */
#include "sl_loop.h"

#include <sched.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "sl_cmd.h"
#include "sl_connect.h"
#include "sl_hdrmap.h"
#include "sl_ingress.h"
#include "sl_log.h"
#include "sl_port.h"
#include "sl_routine.h"
#include "sl_time.h"

/* sl_loop_rx_run hands waiting frames to ingress while the budget lasts. */
static void sl_loop_rx_run(sl_lcore_t *lc)
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

/* sl_loop_rx_gather moves frames left from the last cycle to the front,
   then pulls bursts off the queue until it runs dry (a short burst) or the
   gather array has no room for another burst.  Returns the frames waiting
   (the ingress depth before the drain, as far as the array can see); *full
   when it stopped for room, i.e. the queue may hold more. */
static uint32_t sl_loop_rx_gather(sl_lcore_t *lc, bool *full)
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
static void sl_loop_phase_events(sl_lcore_t *lc)
{
	if (sl_evq_flush(&lc->rt->evq) != 0)
		lc->work++;
}

/* Phase 1a: frames other workers received for sessions this one owns
   (sl_handoff.h), before new ones from the queue: they waited longer. */
static void sl_loop_phase_handoff(sl_lcore_t *lc)
{
	lc->work += sl_ingress_handoff(lc);
}

/* Phase 1, first half: gather (frames left from the last cycle first,
   then bursts); returns the ingress depth (plus the queue's own count when
   the array filled and the PMD tells). */
static uint32_t sl_loop_phase_gather(sl_lcore_t *lc)
{
	bool full;
	uint32_t depth = sl_loop_rx_gather(lc, &full);
	if (full && lc->rt->rxq_count_ok) {
		int more = rte_eth_rx_queue_count(lc->dp->port_id, (uint16_t)lc->idx);
		if (more > 0)
			depth += (uint32_t)more;
	}
	return depth;
}

/* Phase 6: the BACKOFF mark judged on the depth just gathered (taken
   before the drain so it applies to the frames it measured). */
static void sl_loop_phase_backpressure(sl_lcore_t *lc, uint32_t depth)
{
	sl_routine_backpressure(lc, depth);
}

/* Phase 1, second half: serve while the budget lasts; the rest waits for
   the next cycle. */
static void sl_loop_phase_rx(sl_lcore_t *lc)
{
	sl_loop_rx_run(lc);
}

/* Phase 2: drain this lcore's command ring (bounded; sl_cmd.h). */
static void sl_loop_phase_commands(sl_lcore_t *lc)
{
	sl_cmd_phase(lc);
}

/* sl_loop_link_check: the main lcore saw the link come (back) up since
   this lcore last looked, so what the down link swallowed goes again now
   rather than a backoff gap later: ARP requests and connecting HELLOs. */
static void sl_loop_link_check(sl_lcore_t *lc)
{
	uint32_t e = atomic_load_explicit(&lc->dp->link_epoch, memory_order_acquire);
	if (SL_LIKELY(e == lc->link_epoch))
		return;
	lc->link_epoch = e;
	sl_neigh_rearm(&lc->neigh);
	sl_connect_rearm(lc);
}

/* Phase 3: connect retries and deadlines, then every live session's
   descriptors' tick (keepalive PINGs, discovery settle timeouts,
   header-sync request deadlines), walking sessions downward
   (teardown-safe).  Deadlines before completions: an answer that phase 1
   meets checks its own request's deadline first (sl_hsync.h), so a
   request that expired before this scan ran still fails as a timeout and
   its answer counts as late. */
static void sl_loop_phase_deadlines(sl_lcore_t *lc)
{
	sl_loop_link_check(lc);
	sl_connect_tick(lc);
	sl_routine_deadlines(lc);
}

/* Phase 4: liveness transitions (the descriptors' liveness hooks). */
static void sl_loop_phase_liveness(sl_lcore_t *lc)
{
	sl_routine_liveness(lc);
}

/* Phase 5: every descriptor's pull (STATUS push on a moved local status,
   work pull on a moved work epoch: coalesced, O(1) when nothing moved). */
static void sl_loop_phase_pull(sl_lcore_t *lc)
{
	sl_routine_pull(lc);
}

/* Housekeeping (main lcore only): open the header store's reader once
   ctrl created it (retried), read the link (sl_port_link_poll), wake a
   sleeping ctrl when events wait for it (sl_bell.h), publish liveness,
   and decide to stop on a signal or on ctrl's shutdown request. */
static void sl_loop_phase_housekeeping(sl_lcore_t *lc)
{
	if (!lc->is_main)
		return;
	sl_hdrmap_try_open(lc->dp, lc->now_ns);
	sl_bell_check(&lc->dp->bell, &lc->dp->region, sl_ingress_ctrl_present(lc));
	sl_port_link_poll(lc->dp, lc->now_ns);
	sl_region_hdr_t *h = lc->dp->region.hdr;
	atomic_store_explicit(&h->dp_heartbeat_ns, lc->now_ns, memory_order_relaxed);
	bool req = atomic_load_explicit(&h->shutdown_req, memory_order_relaxed) != 0;
	if (SL_LIKELY(!req && !sl_dp_signalled()))
		return;
	SL_INFO("shutting down (%s)", req ? "ctrl asked" : "signal");
	sl_region_life_advance(&lc->dp->region, SL_LIFE_SHUTTING_DOWN);
	atomic_store_explicit(&lc->dp->stop, 1, memory_order_release);
}

/* Phase 7: flush TX, free the frames consumed, count the cycle. */
static void sl_loop_phase_tx(sl_lcore_t *lc)
{
	sl_lcore_tx_flush(lc);
	sl_lcore_consumed_flush(lc);
	SL_CNT_ADD(&lc->cnt->cycles, 1);
}

/* Idle: once the lcore has found nothing to do for [dataplane]
   idle_sleep_us, it sleeps that long per empty cycle.  Before that, as
   long as a sleep would last, each empty cycle yields the core instead:
   a lull between bursts (a request's round trip) costs no sleep's wake-up
   latency, and whatever shares the core (ctrl, another node: the reason
   idle_sleep_us is set) runs in it rather than waiting for a spin to end.
   On the VM this was measured on, a sleep costs 13 us of CPU, a yield
   1.5 us. */
static void sl_loop_phase_idle(sl_lcore_t *lc)
{
#if SL_TEST_HOOKS
	if (SL_UNLIKELY(lc->dp->cfg.fault_slow_us != 0))
		rte_delay_us_sleep(lc->dp->cfg.fault_slow_us);
#endif
	uint32_t us = lc->dp->cfg.idle_sleep_us;
	if (lc->work != 0 || us == 0) {
		lc->idle_since_ns = 0;
		return;
	}
	if (lc->idle_since_ns == 0)
		lc->idle_since_ns = lc->now_ns;
	if (lc->now_ns - lc->idle_since_ns < (uint64_t)us * 1000u) {
		sched_yield();
		return;
	}
	SL_CNT_ADD(&lc->cnt->idle_sleeps, 1);
	rte_delay_us_sleep(us);
}

static void sl_loop_cycle_begin(sl_lcore_t *lc)
{
	lc->now_ns = sl_now_ns();
	lc->budget_left = SL_ROUTINE_BUDGET;
	lc->work = 0;
}

/* sl_loop_release frees frames still held when the loop ends. */
static void sl_loop_release(sl_lcore_t *lc)
{
	sl_lcore_tx_flush(lc);
	sl_lcore_consumed_flush(lc);
	for (uint16_t i = lc->rx_pos; i < lc->rx_n; i++)
		rte_pktmbuf_free(lc->rx[i]);
	lc->rx_n = lc->rx_pos = 0;
}

int sl_loop_main(void *arg)
{
	sl_lcore_t *lc = arg;
	atomic_store_explicit(&lc->blk->running, 1, memory_order_release);
	sl_routine_rx_capacity(lc);
	SL_DEBUG("worker %u on lcore %u: polling queue %u", lc->idx, lc->lcore_id, lc->idx);
	while (!sl_dp_stop_requested(lc->dp)) {
		sl_loop_cycle_begin(lc);
		sl_loop_phase_events(lc);  /* backlog of never-lost events, in order */
		sl_loop_phase_handoff(lc); /* frames other workers handed to us */
		uint32_t depth = sl_loop_phase_gather(lc);
		sl_loop_phase_backpressure(lc, depth); /* phase 6, judged on this depth */
		sl_loop_phase_rx(lc);                  /* parse -> demux -> descriptor input */
		sl_loop_phase_commands(lc);            /* ctrl -> this lcore */
		if (sl_routine_tick_due(lc)) {
			sl_loop_phase_deadlines(lc); /* expire before completing */
			sl_loop_phase_liveness(lc);  /* phi-accrual transitions */
		}
		sl_loop_phase_pull(lc);         /* status / work epoch moved -> push, pull */
		sl_loop_phase_housekeeping(lc); /* main: store open, heartbeat, stop */
		sl_loop_phase_tx(lc);           /* flush, counters */
		sl_loop_phase_idle(lc);         /* optional sleep after an empty cycle */
	}
	lc->now_ns = sl_now_ns();
	sl_routine_shutdown(lc); /* GOODBYE(SHUTDOWN) + SESSION_DOWN for every session */
	sl_loop_release(lc);
	atomic_store_explicit(&lc->blk->running, 0, memory_order_release);
	return 0;
}
