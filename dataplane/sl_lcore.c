/* sl_lcore.c — a worker lcore's state and its TX buffer (see sl_lcore.h). */
#include "sl_lcore.h"

#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

int sl_lcore_init(sl_lcore_t *lc, sl_dp_t *dp, uint32_t idx, uint32_t lcore_id, bool is_main)
{
	memset(lc, 0, sizeof *lc);
	lc->dp = dp;
	lc->idx = idx;
	lc->lcore_id = lcore_id;
	lc->is_main = is_main;
	lc->blk = sl_region_lcore(&dp->region, idx);
	lc->cnt = &lc->blk->cnt;
	lc->cmd_ring = sl_region_cmd_ring(&dp->region, idx);
	sl_neigh_init(&lc->neigh);
	atomic_store_explicit(&lc->blk->lcore_id, lcore_id, memory_order_relaxed);
	return 0;
}

void *sl_lcore_zalloc(const sl_lcore_t *lc, const char *what, size_t bytes)
{
	return sl_heap_zalloc(&lc->dp->heap, what, bytes,
	                      (int)rte_lcore_to_socket_id(lc->lcore_id));
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
