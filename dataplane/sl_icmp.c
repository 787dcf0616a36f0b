/* sl_icmp.c — ICMP echo responder (see sl_icmp.h). */
#include "sl_icmp.h"

/* The reply is built in place: room from the frame start to the buffer
   end. */
void sl_icmp_input(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p)
{
	if (p->icmp.type != SL_ICMP_ECHO_REQUEST || p->icmp.code != 0) {
		sl_lcore_drop(lc, m, SL_DROP_ICMP_TYPE);
		return;
	}
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = sl_net_build_icmp_echo_reply(f, (uint32_t)(m->buf_len - m->data_off), f, p,
	                                            (const sl_mac_t *)&lc->dp->mac);
	if (SL_UNLIKELY(len == 0)) {
		sl_lcore_drop(lc, m, SL_DROP_ICMP_MALFORMED);
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	SL_CNT_ADD(&lc->cnt->icmp_echo_reply_tx, 1);
	sl_lcore_tx(lc, m);
}
