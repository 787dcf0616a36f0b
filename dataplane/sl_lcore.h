/* sl_lcore.h — one worker lcore: its state and its per-frame vocabulary
   (the poll cycle that drives it is sl_loop.h, DESIGN.md "The lcore poll
   cycle").  Worker i owns RX/TX queue pair i of the port,
   block i of the shared region (counters, command ring, event ring) and its
   own neighbour table.  Everything here is touched by that lcore only,
   except what the region documents as readable by others (counters).
   The helpers below are the per-frame vocabulary of the RX handlers
   (sl_ingress.c, sl_arp.c): a handler takes ownership of the mbuf it is
   given and ends it exactly one way — sl_lcore_tx, sl_lcore_drop, or
   sl_lcore_consumed (or rte_pktmbuf_free) after consuming it. */
#ifndef SL_LCORE_H
#define SL_LCORE_H

#include <rte_mbuf.h>

#include "sl_counters.h"
#include "sl_dp.h"
#include "sl_neigh.h"
#include "sl_probe.h"

#define SL_TX_BUF (2 * SL_BURST) /* frames buffered before a forced flush */

/* Frames the RX phase gathers off the queue before serving them: the
   per-cycle budget (what one cycle may serve), at least one burst.  The
   count gathered is the ingress depth the BACKOFF mark is judged on. */
#define SL_RX_GATHER (SL_ROUTINE_BUDGET > SL_BURST ? SL_ROUTINE_BUDGET : SL_BURST)
_Static_assert(SL_RX_GATHER <= UINT16_MAX, "rx_n / rx_pos are u16");

struct sl_routine;

typedef struct sl_lcore {
	sl_dp_t *dp;
	sl_lcore_cnt_t *cnt; /* region block `idx`: owner this lcore */
	sl_region_lcore_t *blk;
	struct rte_ring *cmd_ring; /* ctrl -> this lcore (sl_msgq; the consumer) */
	uint32_t idx;              /* worker index = queue id = region block */
	uint32_t lcore_id;         /* DPDK lcore id */
	bool is_main;              /* runs the heartbeat and the stop decision */
	uint64_t now_ns;           /* sl_now_ns() at the start of the cycle */
	uint32_t budget_left;      /* routine invocations left this cycle */
	uint32_t work;             /* things done this cycle; 0 = idle cycle */
	uint64_t idle_since_ns;    /* start of the current run of idle cycles (0: none) */
	uint32_t link_epoch;       /* dp->link_epoch as this lcore last acted on it */
	uint16_t rx_n, rx_pos;     /* rx[rx_pos..rx_n) wait for budget */
	uint16_t tx_n;
	uint16_t done_n; /* done[0..done_n): consumed, freed together */
	struct rte_mbuf *rx[SL_RX_GATHER];
	struct rte_mbuf *tx[SL_TX_BUF];
	struct rte_mbuf *done[SL_BURST];
	sl_neigh_t neigh;
	struct sl_routine *rt; /* sessions and routines (sl_routine.h), sl_routine_create */
} SL_CACHE_ALIGN sl_lcore_t;

/* sl_lcore_init prepares worker `idx` (DPDK lcore `lcore_id`) of `dp`,
   whose region must exist, and records the lcore id in the region (its
   routine state comes next: sl_routine_create).  Returns 0. */
int sl_lcore_init(sl_lcore_t *lc, sl_dp_t *dp, uint32_t idx, uint32_t lcore_id, bool is_main);

/* sl_lcore_zalloc: `bytes` of zeroed start-up memory named `what` for lc
   (the dataplane's heap, sl_heap.h, else lc's NUMA socket, else
   anywhere); NULL when nothing has them.  Freed with rte_free. */
void *sl_lcore_zalloc(const sl_lcore_t *lc, const char *what, size_t bytes);

/* sl_lcore_count_drop moves drop counter `why` and fires frame_drop. */
static inline void sl_lcore_count_drop(sl_lcore_t *lc, sl_drop_t why)
{
	SL_CNT_ADD(&lc->cnt->drop[why], 1);
	SL_PROBE_FRAME_DROP(lc->lcore_id, why);
}

/* sl_lcore_drop counts `m` as dropped for `why` and frees it. */
static inline void sl_lcore_drop(sl_lcore_t *lc, struct rte_mbuf *m, sl_drop_t why)
{
	sl_lcore_count_drop(lc, why);
	rte_pktmbuf_free(m);
}

/* sl_lcore_consumed_flush frees the frames sl_lcore_consumed collected,
   in one mempool operation (the cycle's end does it). */
static inline void sl_lcore_consumed_flush(sl_lcore_t *lc)
{
	if (lc->done_n != 0)
		rte_pktmbuf_free_bulk(lc->done, lc->done_n);
	lc->done_n = 0;
}

/* sl_lcore_consumed ends a received frame a handler has consumed: freed
   with the others of the cycle (a free per frame was ~10 % of the
   PING -> PONG path). */
static inline void sl_lcore_consumed(sl_lcore_t *lc, struct rte_mbuf *m)
{
	if (SL_UNLIKELY(lc->done_n == SL_BURST))
		sl_lcore_consumed_flush(lc);
	lc->done[lc->done_n++] = m;
}

/* sl_lcore_tx_flush hands the buffered frames to the TX queue; frames the
   queue refuses are dropped (TX_FULL).  Counts tx_pkts / tx_bytes. */
void sl_lcore_tx_flush(sl_lcore_t *lc);

/* sl_lcore_tx buffers a finished frame for this lcore's TX queue (flushed
   by the tx phase, or now when the buffer is full). */
static inline void sl_lcore_tx(sl_lcore_t *lc, struct rte_mbuf *m)
{
	if (SL_UNLIKELY(lc->tx_n == SL_TX_BUF))
		sl_lcore_tx_flush(lc);
	lc->tx[lc->tx_n++] = m;
}

#endif /* SL_LCORE_H */
