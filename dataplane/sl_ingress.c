/* sl_ingress.c — per-frame RX path (see sl_ingress.h). */
#include "sl_ingress.h"

#include <string.h>

#include "sl_arp.h"
#include "sl_connect.h"
#include "sl_dropmap.h"
#include "sl_handoff.h"
#include "sl_icmp.h"
#include "sl_net.h"
#include "sl_routine.h"
#include "sl_session.h"

bool sl_ingress_ctrl_present(const sl_lcore_t *lc)
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
	sl_drop_t why = sl_routine_hello_gate(lc, p->src_ip);
	if (SL_UNLIKELY(why != SL_DROP_CNT)) {
		sl_lcore_drop(lc, m, why);
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

/* sl_ingress_handoff_out passes m to worker `owner` (sl_handoff.h); a
   full ring drops it (HANDOFF_FULL). */
static void sl_ingress_handoff_out(sl_lcore_t *lc, uint32_t owner, struct rte_mbuf *m)
{
	if (SL_UNLIKELY(!sl_handoff_put(lc->dp->handoff, lc->idx, owner, m))) {
		sl_lcore_drop(lc, m, SL_DROP_HANDOFF_FULL);
		return;
	}
	SL_CNT_ADD(&lc->cnt->handoff_out, 1);
}

/* sl_ingress_session is the demux of a frame whose session != 0: session
   lookup (connecting slots included: sl_connect), then the live session's
   frame path (sl_routine_frame: stream -> descriptor). */
static void sl_ingress_session(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *pkt,
                               const sl_wire_hdr_t *h, const uint8_t *pl)
{
	sl_routine_t *rt = lc->rt;
	sl_session_miss_t why;
	sl_session_t *s =
	    sl_session_lookup(rt->tab, h->session, pkt->src_ip, pkt->udp.src_port, &why);
	if (SL_UNLIKELY(s == NULL)) {
		sl_routine_peer_t *cp =
		    why == SL_SESSION_MISS_NOT_LIVE
		        ? sl_routine_connecting(lc, h->session, pkt->src_ip, pkt->udp.src_port)
		        : NULL;
		if (cp != NULL)
			sl_connect_frame(lc, cp, m, pkt, h, pl);
		else
			sl_lcore_drop(lc, m, SL_DROP_SL_NO_SESSION); /* silent: no reflection */
		return;
	}
	sl_routine_frame(lc, sl_routine_peer(lc, sl_session_slot_of(rt->tab, s)), s, m, h, pl);
}

/* sl_ingress_sluice validates the sluice header of a UDP datagram to our
   port and demuxes it: a session of another worker goes to that worker
   (unless m was handed to us already), the rest to this lcore's table. */
static void sl_ingress_sluice(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p, bool handed)
{
	const uint8_t *u = rte_pktmbuf_mtod_offset(m, const uint8_t *, p->payload_off);
	sl_wire_hdr_t h;
	sl_wire_err_t we = sl_wire_decode_hdr(u, p->payload_len, &h);
	if (SL_UNLIKELY(we != SL_WIRE_OK)) {
		sl_lcore_drop(lc, m, sl_dropmap_wire(we));
		return;
	}
	if (!handed)
		SL_CNT_ADD(&lc->cnt->sl_frames_rx, 1);
	if (h.session != 0) {
		uint32_t owner = sl_sid_lcore(h.session);
		if (owner != lc->idx && owner < lc->dp->n_workers && !handed) {
			sl_ingress_handoff_out(lc, owner, m);
			return;
		}
		SL_CNT_ADD(&lc->cnt->rt_frames, 1);
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
static void sl_ingress_ipv4(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p, bool handed)
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
	sl_ingress_sluice(lc, m, p, handed);
}

/* sl_ingress_arp_share: an ARP reply to us teaches every worker the
   sender's MAC (each keeps its own neighbour table, and the reply may land
   on a worker other than the one that asked): the other workers get the
   same mbuf (one reference each) through the handoff rings. */
static void sl_ingress_arp_share(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p)
{
	uint32_t n = lc->dp->n_workers;
	if (n < 2 || p->arp.op == SL_ARP_OP_REQUEST || p->arp.tpa != lc->dp->ipv4)
		return;
	rte_mbuf_refcnt_update(m, (int16_t)(n - 1));
	for (uint32_t w = 0; w < n; w++) {
		if (w == lc->idx)
			continue;
		if (SL_UNLIKELY(!sl_handoff_put(lc->dp->handoff, lc->idx, w, m))) {
			sl_lcore_count_drop(lc, SL_DROP_HANDOFF_FULL);
			rte_pktmbuf_free(m); /* that worker's reference */
			continue;
		}
		SL_CNT_ADD(&lc->cnt->handoff_out, 1);
	}
}

/* sl_ingress_dispatch: L2 checks, parse, dispatch (handed: m came from
   another worker, which counted it and made the handoff choice). */
static void sl_ingress_dispatch(sl_lcore_t *lc, struct rte_mbuf *m, bool handed)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
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
	if (p.ethertype == SL_ETH_P_ARP) {
		if (!handed)
			sl_ingress_arp_share(lc, m, &p);
		sl_arp_input(lc, m, &p);
	} else {
		sl_ingress_ipv4(lc, m, &p, handed);
	}
}

void sl_ingress_frame(sl_lcore_t *lc, struct rte_mbuf *m)
{
	SL_CNT_ADD(&lc->cnt->rx_pkts, 1);
	SL_CNT_ADD(&lc->cnt->rx_bytes, rte_pktmbuf_pkt_len(m));
	sl_ingress_dispatch(lc, m, false);
}

uint32_t sl_ingress_handoff(sl_lcore_t *lc)
{
	const sl_handoff_t *ho = lc->dp->handoff;
	uint32_t done = 0;
	struct rte_mbuf *in[SL_BURST];
	for (uint32_t src = 0; ho != NULL && src < ho->n; src++) {
		if (src == lc->idx || lc->budget_left == 0)
			continue;
		uint32_t n =
		    sl_handoff_take(ho, src, lc->idx, in, SL_MIN(lc->budget_left, SL_BURST));
		lc->budget_left -= n;
		SL_CNT_ADD(&lc->cnt->handoff_in, n);
		for (uint32_t i = 0; i < n; i++)
			sl_ingress_dispatch(lc, in[i], true);
		done += n;
	}
	return done;
}
