/* sl_ingress.c — per-frame RX path (see sl_ingress.h). */
#include "sl_ingress.h"

#include <string.h>

#include "sl_arp.h"
#include "sl_connect.h"
#include "sl_dropmap.h"
#include "sl_icmp.h"
#include "sl_net.h"
#include "sl_routine.h"

/* sl_ingress_ctrl_present: ctrl is attached and its heartbeat is fresh. */
static bool sl_ingress_ctrl_present(const sl_lcore_t *lc)
{
	const sl_region_hdr_t *h = lc->dp->region.hdr;
	if (atomic_load_explicit(&h->ctrl_pid, memory_order_relaxed) == 0)
		return false;
	uint64_t hb = atomic_load_explicit(&h->ctrl_heartbeat_ns, memory_order_relaxed);
	return hb <= lc->now_ns ? lc->now_ns - hb < SL_INGRESS_CTRL_MAX_AGE_NS : true;
}

/* sl_ingress_hello turns a valid HELLO (header h, payload at pl) into an
   event for ctrl. */
static void sl_ingress_hello(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p,
                             const sl_wire_hdr_t *h, const uint8_t *pl)
{
	sl_wire_hello_t hello;
	sl_wire_err_t we = sl_wire_decode_hello(pl, h->length, &hello);
	if (SL_UNLIKELY(we != SL_WIRE_OK)) {
		sl_lcore_drop(lc, m, sl_dropmap_wire(we));
		return;
	}
	if (SL_UNLIKELY(!sl_ingress_ctrl_present(lc))) {
		sl_lcore_drop(lc, m, SL_DROP_SL_NO_CTRL);
		return;
	}
	if (SL_UNLIKELY(!sl_routine_hello_allowed(lc, p->src_ip))) {
		sl_lcore_drop(lc, m, SL_DROP_HELLO_RATE);
		return;
	}
	sl_msg_t msg;
	memset(&msg, 0, offsetof(sl_msg_t, payload));
	msg.type = SL_EVT_HELLO;
	msg.len = sizeof(sl_evt_hello_t);
	msg.lcore = lc->idx;
	msg.corr = h->corr;
	sl_evt_hello_t *ev = (sl_evt_hello_t *)msg.payload;
	memset(ev, 0, sizeof *ev);
	ev->src_ip = p->src_ip;
	ev->src_port = p->udp.src_port;
	ev->vlan_tci = p->has_vlan ? p->vlan_tci : SL_NET_VLAN_NONE;
	memcpy(ev->src_mac, p->src_mac.b, 6);
	ev->hello_len = h->length;
	ev->seq = h->seq;
	memcpy(ev->hello, pl, h->length);
	/* advisory (the peer retries): refused when the ring is down to the
	   reserve kept for never-lost events (sl_evq.h) */
	if (SL_UNLIKELY(sl_evq_send(&lc->rt->evq, &msg) != SL_EVQ_SENT)) {
		sl_lcore_drop(lc, m, SL_DROP_EVENT_RING_FULL);
		return;
	}
	rte_pktmbuf_free(m);
}

/* sl_ingress_session is the demux of a frame whose session != 0: session
   lookup (connecting slots included: sl_connect), then the live session's
   frame path (sl_routine_frame: stream -> descriptor). */
static void sl_ingress_session(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *pkt,
                               const sl_wire_hdr_t *h, const uint8_t *pl)
{
	sl_routine_t *rt = lc->rt;
	sl_sess_miss_t why;
	sl_session_t *s = sl_sess_lookup(rt->tab, h->session, pkt->src_ip, pkt->udp.src_port, &why);
	if (SL_UNLIKELY(s == NULL)) {
		sl_routine_peer_t *cp =
		    why == SL_SESS_MISS_NOT_LIVE
		        ? sl_routine_connecting(lc, h->session, pkt->src_ip, pkt->udp.src_port)
		        : NULL;
		if (cp != NULL)
			sl_connect_frame(lc, cp, m, pkt, h, pl);
		else
			sl_lcore_drop(lc, m, SL_DROP_SL_NO_SESSION); /* silent: no reflection */
		return;
	}
	sl_routine_frame(lc, sl_routine_peer(lc, sl_sess_slot_of(rt->tab, s)), s, m, h, pl);
}

/* sl_ingress_sluice validates the sluice header of a UDP datagram to our
   port and demuxes it. */
static void sl_ingress_sluice(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p)
{
	const uint8_t *u = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->payload_off);
	sl_wire_hdr_t h;
	sl_wire_err_t we = sl_wire_decode_hdr(u, p->payload_len, &h);
	if (SL_UNLIKELY(we != SL_WIRE_OK)) {
		sl_lcore_drop(lc, m, sl_dropmap_wire(we));
		return;
	}
	SL_CNT_ADD(&lc->cnt->sl_frames_rx, 1);
	if (h.session != 0) {
		sl_ingress_session(lc, m, p, &h, u + SL_WIRE_HDR_LEN);
		return;
	}
	/* Session 0: only HELLO goes anywhere.  Silent. */
	if (h.stream != SL_WIRE_STREAM_SESSION || h.type != SL_WIRE_T_HELLO) {
		sl_lcore_drop(lc, m, SL_DROP_SL_NO_SESSION);
		return;
	}
	/* HELLO opens a session: it cannot carry a session's AUTH tag. */
	if (SL_UNLIKELY(h.flags & SL_WIRE_F_AUTH)) {
		sl_lcore_drop(lc, m, SL_DROP_SL_FLAGS);
		return;
	}
	sl_ingress_hello(lc, m, p, &h, u + SL_WIRE_HDR_LEN);
}

/* sl_ingress_ipv4 dispatches a parsed IPv4 packet by destination and
   protocol. */
static void sl_ingress_ipv4(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p)
{
	if (p->dst_ip != lc->dp->ipv4) {
		sl_lcore_drop(lc, m, SL_DROP_IP_NOT_FOR_US);
		return;
	}
	if (p->l4_proto == SL_IPPROTO_ICMP) {
		sl_icmp_input(lc, m, p);
		return;
	}
	if (p->udp.dst_port != lc->dp->udp_port) {
		sl_lcore_drop(lc, m, SL_DROP_UDP_PORT);
		return;
	}
	sl_ingress_sluice(lc, m, p);
}

void sl_ingress_frame(sl_lcore_t *lc, struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	SL_CNT_ADD(&lc->cnt->rx_pkts, 1);
	SL_CNT_ADD(&lc->cnt->rx_bytes, rte_pktmbuf_pkt_len(m));
	if (SL_UNLIKELY(len < SL_ETH_HDR_LEN)) {
		sl_lcore_drop(lc, m, SL_DROP_ETH_SHORT);
		return;
	}
	/* Destination first: a frame for someone else is ETH_DST whatever
	   else is wrong with it. */
	const sl_mac_t *dst = (const sl_mac_t *)f;
	if (!sl_mac_eq(dst, (const sl_mac_t *)&lc->dp->mac) && !sl_mac_is_bcast(dst)) {
		sl_lcore_drop(lc, m, SL_DROP_ETH_DST);
		return;
	}
	sl_pkt_t p;
	sl_net_err_t e = sl_net_parse(f, len, &p);
	if (SL_UNLIKELY(e != SL_NET_OK)) {
		sl_lcore_drop(lc, m, sl_dropmap_net(e));
		return;
	}
	if (p.ethertype == SL_ETH_P_ARP)
		sl_arp_input(lc, m, &p);
	else
		sl_ingress_ipv4(lc, m, &p);
}
