/* sl_arp.c — ARP responder / resolver (see sl_arp.h). */
#include "sl_arp.h"

#include <string.h>

static const sl_mac_t *sl_arp_our_mac(const sl_lcore_t *lc)
{
	return (const sl_mac_t *)&lc->dp->mac;
}

/* sl_arp_set_len sets a single-segment mbuf's frame length. */
static void sl_arp_set_len(struct rte_mbuf *m, uint32_t len)
{
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
}

/* Room for an in-place reply: from the frame start to the buffer end. */
static uint32_t sl_arp_cap(const struct rte_mbuf *m)
{
	return (uint32_t)(m->buf_len - m->data_off);
}

void sl_arp_input(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p)
{
	SL_CNT_ADD(&lc->cnt->arp_rx, 1);
	if (p->arp.tpa != lc->dp->ipv4) {
		sl_lcore_drop(lc, m, SL_DROP_ARP_NOT_FOR_US);
		return;
	}
	sl_neigh_learn(&lc->neigh, p->arp.spa, &p->arp.sha, lc->now_ns);
	if (p->arp.op != SL_ARP_OP_REQUEST) {
		rte_pktmbuf_free(m); /* a reply: learned, consumed */
		return;
	}
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len =
	    sl_net_build_arp_reply(f, sl_arp_cap(m), p, sl_arp_our_mac(lc), lc->dp->ipv4);
	if (SL_UNLIKELY(len == 0)) {
		sl_lcore_drop(lc, m, SL_DROP_ARP_MALFORMED);
		return;
	}
	sl_arp_set_len(m, len);
	SL_CNT_ADD(&lc->cnt->arp_reply_tx, 1);
	sl_lcore_tx(lc, m);
}

void sl_arp_request(sl_lcore_t *lc, uint32_t ip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->dp->pool);
	if (SL_UNLIKELY(m == NULL)) {
		sl_lcore_count_drop(lc, SL_DROP_NO_MBUF);
		return;
	}
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = sl_net_build_arp_request(f, rte_pktmbuf_tailroom(m), sl_arp_our_mac(lc),
	                                        lc->dp->ipv4, ip, SL_NET_VLAN_NONE);
	if (SL_UNLIKELY(len == 0)) {
		rte_pktmbuf_free(m);
		return;
	}
	sl_arp_set_len(m, len);
	SL_CNT_ADD(&lc->cnt->arp_request_tx, 1);
	sl_lcore_tx(lc, m);
}

/* sl_arp_hop_mac: dst_ip's next hop into *hop (0: no route) and 1 with
 *mac filled when that hop is resolved, else 0. */
static int sl_arp_hop_mac(const sl_lcore_t *lc, uint32_t dst_ip, uint32_t *hop, sl_mac_t *mac)
{
	const sl_dp_t *dp = lc->dp;
	*hop = sl_neigh_next_hop(dp->ipv4, dp->cfg.prefix_len, dp->gateway, dst_ip);
	return *hop != 0 && sl_neigh_lookup(&lc->neigh, *hop, mac);
}

bool sl_arp_resolved(const sl_lcore_t *lc, uint32_t dst_ip)
{
	uint32_t hop;
	sl_mac_t mac;
	return sl_arp_hop_mac(lc, dst_ip, &hop, &mac) != 0;
}

int sl_arp_send_ipv4(sl_lcore_t *lc, struct rte_mbuf *m, uint32_t dst_ip)
{
	uint32_t hop;
	sl_mac_t mac;
	if (SL_UNLIKELY(!sl_arp_hop_mac(lc, dst_ip, &hop, &mac))) {
		sl_lcore_drop(lc, m, SL_DROP_NEIGH_UNRESOLVED);
		if (hop != 0 && sl_neigh_want_request(&lc->neigh, hop, lc->now_ns))
			sl_arp_request(lc, hop);
		return -1;
	}
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(f, mac.b, 6);
	memcpy(f + 6, sl_arp_our_mac(lc)->b, 6);
	sl_lcore_tx(lc, m);
	return 0;
}
