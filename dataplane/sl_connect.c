/* sl_connect.c — session install, outbound connect (see sl_connect.h). */
#include "sl_connect.h"
#include "sl_arp.h"

#include <string.h>

#include "sl_dropmap.h"
#include "sl_log.h"

static void sl_connect_status(const sl_lcore_t *lc, uint32_t *height, uint8_t hash[32])
{
	sl_local_status_t st;
	sl_status_read(lc->dp->status, &st); /* zeroed when none */
	*height = st.best_height;
	memcpy(hash, st.best_hash, 32);
}

/* sl_connect_send_ack (re)sends the HELLO_ACK of live inbound session p
   (its §8 trailer from the install, when it authenticates). */
static void sl_connect_send_ack(sl_lcore_t *lc, sl_routine_peer_t *p, const sl_cmd_install_t *in)
{
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	sl_wire_hello_ack_t *a = &msg.hello_ack;
	a->streams_accepted = p->streams;
	a->auth_mode = p->auth ? SL_WIRE_AUTH_X25519_CHACHA20POLY1305 : SL_WIRE_AUTH_NONE;
	a->has_auth = p->auth;
	if (p->auth) {
		memcpy(a->eph_pubkey, in->eph_pk, sizeof a->eph_pubkey);
		memcpy(a->sig, in->sig, sizeof a->sig);
	}
	memcpy(a->node_id, lc->dp->region.hdr->node_id, 32);
	a->nonce = p->nonce;
	a->reply_session = p->sid;
	sl_connect_status(lc, &a->best_height, a->best_hash);
	sl_routine_send_sess(lc, p, SL_WIRE_STREAM_SESSION, SL_WIRE_T_HELLO_ACK, p->corr, &msg);
}

static void sl_connect_fill(sl_lcore_t *lc, sl_routine_peer_t *p, const sl_cmd_install_t *in,
                            uint32_t sid, uint32_t gen)
{
	sl_routine_reset(lc, p);
	p->sid = sid;
	p->gen = gen;
	p->peer_ip = in->peer_ip;
	p->peer_port = in->peer_port;
	p->vlan_tci = in->vlan_tci;
	p->streams = in->streams | 1u;
	p->nonce = in->nonce;
	p->corr = in->corr;
	p->auth = in->auth != 0;
	if (p->auth && in->mode == SL_INSTALL_ACCEPT)
		p->keys = in->keys;
	if (p->auth && in->mode == SL_INSTALL_CONNECT) {
		p->eph = in->eph;
		memcpy(p->hello_sig, in->sig, sizeof p->hello_sig);
	}
	memcpy(p->peer_mac.b, in->peer_mac, 6);
	p->mac_known = (in->peer_mac[0] | in->peer_mac[1] | in->peer_mac[2] | in->peer_mac[3] |
	                in->peer_mac[4] | in->peer_mac[5]) != 0;
}

/* sl_connect_live installs p in the session table; returns 0 or -1 (then the
   caller reports the session down). */
static int sl_connect_live(sl_lcore_t *lc, sl_routine_peer_t *p, uint32_t slot)
{
	sl_session_peer_t sp = {.peer_ip = p->peer_ip,
	                        .peer_port = p->peer_port,
	                        .streams = p->streams & SL_SESSION_STREAM_MASK,
	                        .remote_sid = p->remote_sid};
	sp.peer_mac = p->peer_mac;
	memcpy(sp.node_id, p->node_id, 32);
	uint32_t got = 0;
	sl_session_res_t r = sl_session_install(lc->rt->tab, slot, &sp, sl_sid_gen(p->sid), &got);
	if (SL_UNLIKELY(r != SL_SESSION_OK || got != p->sid)) {
		SL_WARN("worker %u: install of session %08x failed (%s, got %08x)", lc->idx, p->sid,
		        sl_session_res_str(r), got);
		if (r == SL_SESSION_OK)
			sl_session_teardown(lc->rt->tab, got);
		return -1;
	}
	p->streams = sp.streams | 1u;
	p->state = SL_ROUTINE_LIVE;
#if SL_TEST_HOOKS
	if (SL_UNLIKELY(lc->dp->cfg.fault_seq_start != 0)) /* reach the close mark soon */
		for (uint32_t i = 0; i < SL_SESSION_STREAMS; i++)
			lc->rt->tab->slot[slot].next_seq[i] = lc->dp->cfg.fault_seq_start;
#endif
	return 0;
}

static void sl_connect_accept(sl_lcore_t *lc, const sl_msg_t *m, const sl_cmd_install_t *in)
{
	uint32_t slot = m->session;
	uint32_t sid = sl_sid_make(lc->idx, slot, m->gen);
	sl_routine_peer_t *p = sl_routine_peer(lc, slot);
	if (p->state == SL_ROUTINE_LIVE && p->sid == sid && p->peer_ip == in->peer_ip &&
	    p->peer_port == in->peer_port) {
		sl_connect_send_ack(lc, p, in); /* idempotent repeat */
		return;
	}
	if (SL_UNLIKELY(p->state != SL_ROUTINE_FREE)) {
		SL_WARN("worker %u: install in busy slot %u ignored", lc->idx, slot);
		return;
	}
	sl_connect_fill(lc, p, in, sid, m->gen);
	p->remote_sid = in->remote_sid;
	memcpy(p->node_id, in->node_id, 32);
	p->state = SL_ROUTINE_CONNECTING; /* until the table has it */
	if (sl_connect_live(lc, p, slot) != 0) {
		p->state = SL_ROUTINE_CONNECTING;
		sl_routine_conn_add(lc, slot); /* teardown removes it */
		sl_routine_teardown(lc, p, SL_EXIT_LOCAL, 0, 0);
		return;
	}
	sl_connect_send_ack(lc, p, in);
	sl_routine_session_up(lc, p, 0, NULL);
}

static void sl_connect_connect(sl_lcore_t *lc, const sl_msg_t *m, const sl_cmd_install_t *in)
{
	uint32_t slot = m->session;
	sl_routine_peer_t *p = sl_routine_peer(lc, slot);
	if (SL_UNLIKELY(p->state != SL_ROUTINE_FREE)) {
		SL_WARN("worker %u: connect in busy slot %u ignored", lc->idx, slot);
		return;
	}
	sl_connect_fill(lc, p, in, sl_sid_make(lc->idx, slot, m->gen), m->gen);
	uint32_t ms = in->deadline_ms != 0 ? in->deadline_ms : lc->dp->cfg.connect_timeout_ms;
	p->outbound = 1;
	p->state = SL_ROUTINE_CONNECTING;
	p->conn_deadline_ns = lc->now_ns + (uint64_t)ms * 1000000ull;
	p->conn_next_ns = lc->now_ns;
	p->conn_gap_ns = SL_CONNECT_GAP0_NS;
	sl_routine_conn_add(lc, slot);
}

void sl_connect_install(sl_lcore_t *lc, const sl_msg_t *m)
{
	const sl_cmd_install_t *in = (const sl_cmd_install_t *)m->payload;
	if (SL_UNLIKELY(m->len < sizeof *in || m->session >= SL_SESSIONS_PER_LCORE || m->gen == 0 ||
	                in->peer_ip == 0 || in->peer_port == 0)) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	if (in->mode == SL_INSTALL_ACCEPT && in->remote_sid != 0)
		sl_connect_accept(lc, m, in);
	else if (in->mode == SL_INSTALL_CONNECT)
		sl_connect_connect(lc, m, in);
	else
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
}

/* ---- outbound ------------------------------------------------------------- */

/* sl_connect_send_hello sends (or resends) p's HELLO; returns
   sl_routine_send's result (-1: dropped, e.g. waiting for ARP). */
static int sl_connect_send_hello(sl_lcore_t *lc, sl_routine_peer_t *p)
{
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	sl_wire_hello_t *hl = &msg.hello;
	const sl_region_hdr_t *rh = lc->dp->region.hdr;
	hl->proto_min = SL_WIRE_VERSION;
	hl->proto_max = SL_WIRE_VERSION;
	hl->auth_mode = p->auth ? SL_WIRE_AUTH_X25519_CHACHA20POLY1305 : SL_WIRE_AUTH_NONE;
	hl->has_auth = p->auth;
	if (p->auth) {
		memcpy(hl->eph_pubkey, p->eph.pk, sizeof hl->eph_pubkey);
		memcpy(hl->sig, p->hello_sig, sizeof hl->sig);
	}
	hl->streams_offered = p->streams;
	memcpy(hl->chain_id, rh->chain_id, 32);
	memcpy(hl->node_id, rh->node_id, 32);
	hl->nonce = p->nonce;
	hl->reply_session = p->sid;
	sl_connect_status(lc, &hl->best_height, hl->best_hash);
	sl_wire_hdr_t h = {.type = SL_WIRE_T_HELLO,
	                   .stream = SL_WIRE_STREAM_SESSION,
	                   .session = 0,
	                   .seq = ++p->conn_tries};
	return sl_routine_send(lc, p->peer_ip, p->peer_port, p->mac_known ? &p->peer_mac : NULL,
	                       p->vlan_tci, &h, &msg);
}

static void sl_connect_failed(sl_lcore_t *lc, sl_routine_peer_t *p, uint16_t reason,
                              uint16_t retry_s)
{
	sl_evt_connect_failed_t f = {.reason = reason,
	                             .retry_after_s = retry_s,
	                             .peer_ip = p->peer_ip,
	                             .peer_port = p->peer_port};
	sl_routine_event(lc, SL_EVT_CONNECT_FAILED, p->sid, p->gen, &f, sizeof f);
	sl_routine_teardown(lc, p, SL_EXIT_LOCAL, 0, 0);
}

void sl_connect_tick(sl_lcore_t *lc)
{
	sl_routine_t *rt = lc->rt;
	for (uint32_t i = rt->n_conn; i-- > 0;) {
		sl_routine_peer_t *p = sl_routine_peer(lc, rt->conn[i]);
		if (lc->now_ns >= p->conn_deadline_ns) {
			sl_connect_failed(lc, p, 0, 0);
			continue;
		}
		/* A HELLO dropped for want of the peer's MAC goes again as soon as
		   the ARP reply is in, not a resend gap later. */
		bool arp_in = p->conn_arp_wait && sl_arp_resolved(lc, p->peer_ip);
		if (lc->now_ns < p->conn_next_ns && !arp_in)
			continue;
		p->conn_arp_wait = sl_connect_send_hello(lc, p) != 0 && !p->mac_known;
		p->conn_next_ns = lc->now_ns + p->conn_gap_ns;
		p->conn_gap_ns = SL_MIN(p->conn_gap_ns * 2, SL_CONNECT_GAP_MAX_NS);
	}
}

void sl_connect_rearm(sl_lcore_t *lc)
{
	sl_routine_t *rt = lc->rt;
	for (uint32_t i = 0; i < rt->n_conn; i++) {
		sl_routine_peer_t *p = sl_routine_peer(lc, rt->conn[i]);
		p->conn_next_ns = lc->now_ns;
		p->conn_gap_ns = SL_CONNECT_GAP0_NS;
	}
}

static void sl_connect_ack(sl_lcore_t *lc, sl_routine_peer_t *p, const sl_pkt_t *pkt,
                           const sl_wire_hello_ack_t *a)
{
	uint32_t slot = sl_routine_slot(lc, p);
	p->remote_sid = a->reply_session;
	p->streams = sl_streams_negotiate(p->streams, a->streams_accepted);
	memcpy(p->node_id, a->node_id, 32);
	p->peer_mac = pkt->src_mac;
	p->mac_known = 1;
	p->vlan_tci = pkt->has_vlan ? pkt->vlan_tci : SL_NET_VLAN_NONE;
	sl_routine_conn_remove(lc, slot);
	if (sl_connect_live(lc, p, slot) != 0) {
		sl_routine_conn_add(lc, slot);
		sl_connect_failed(lc, p, 0, 0);
		return;
	}
	sl_routine_session_up(lc, p, a->best_height, a->best_hash);
}

/* sl_connect_ack_keys checks an authenticated HELLO_ACK's signature
   against the node_id it carries and derives the session's keys; our
   ephemeral secret is wiped either way.  Returns 0, or -1 (bad signature
   or unusable key). */
static int sl_connect_ack_keys(sl_lcore_t *lc, sl_routine_peer_t *p, const sl_wire_hello_ack_t *a)
{
	const uint8_t *chain = lc->dp->region.hdr->chain_id;
	int rc = sl_auth_ack_verify(a->node_id, chain, a->eph_pubkey, p->eph.pk, p->nonce, a->sig)
	             ? sl_auth_keys_initiator(&p->keys, &p->eph, a->eph_pubkey)
	             : -1;
	sl_auth_wipe(&p->eph, sizeof p->eph);
	return rc;
}

void sl_connect_frame(sl_lcore_t *lc, sl_routine_peer_t *p, struct rte_mbuf *m, const sl_pkt_t *pkt,
                      const sl_wire_hdr_t *h, const uint8_t *pl)
{
	sl_wire_msg_t msg;
	if (h->stream != SL_WIRE_STREAM_SESSION ||
	    (h->type != SL_WIRE_T_HELLO_ACK && h->type != SL_WIRE_T_REJECT)) {
		sl_lcore_drop(lc, m, SL_DROP_SL_NO_SESSION);
		return;
	}
	sl_wire_err_t we = sl_wire_decode_msg(h->stream, h->type, pl, h->length, &msg);
	if (SL_UNLIKELY(we != SL_WIRE_OK)) {
		sl_lcore_drop(lc, m, SL_DROP_SL_PAYLOAD);
		return;
	}
	if (h->type == SL_WIRE_T_REJECT) {
		rte_pktmbuf_free(m);
		sl_connect_failed(lc, p, msg.reject.reason, msg.reject.retry_after_s);
		return;
	}
	if (SL_UNLIKELY(msg.hello_ack.nonce != p->nonce || msg.hello_ack.reply_session == 0 ||
	                msg.hello_ack.has_auth != (bool)p->auth)) {
		sl_lcore_drop(lc, m, SL_DROP_SL_PAYLOAD);
		return;
	}
	if (p->auth && SL_UNLIKELY(sl_connect_ack_keys(lc, p, &msg.hello_ack) != 0)) {
		sl_lcore_drop(lc, m, SL_DROP_AUTH_ACK);
		sl_connect_failed(lc, p, SL_WIRE_REJECT_AUTH, 0); /* SPEC §8: ends the attempt */
		return;
	}
	rte_pktmbuf_free(m);
	sl_connect_ack(lc, p, pkt, &msg.hello_ack);
}
