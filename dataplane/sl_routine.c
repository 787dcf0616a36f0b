/* sl_routine.c — the routine framework: per-slot state, the live-session
   frame path, sending, events and the single teardown path (see
   sl_routine.h).  Knows routines only through sl_stream.h descriptors. */
#include "sl_routine.h"

#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "sl_arp.h"
#include "sl_log.h"
#include "sl_time.h"

#define SL_ROUTINE_TICK_NS (1000000ull) /* deadlines / liveness scan period: 1 ms */

/* sl_routine_evq_init sizes the event backlog for every slot of the lcore
   at the answers the routines declared (sl_evq.h "Backlog bound") and
   allocates it. */
static int sl_routine_evq_init(sl_lcore_t *lc)
{
	sl_routine_t *rt = lc->rt;
	uint32_t cap = sl_evq_cap(SL_SESSIONS_PER_LCORE, rt->ev_inflight);
	size_t bytes = (size_t)cap * sizeof(sl_evq_rec_t);
	sl_evq_rec_t *mem = sl_lcore_zalloc(lc, "sl_evq", bytes);
	if (SL_UNLIKELY(mem == NULL || sl_evq_init(&rt->evq, &lc->dp->region, lc->idx, lc->cnt, mem,
	                                           cap, SL_EVQ_RESERVE) != 0)) {
		SL_ERR("worker %u: cannot allocate %zu bytes of event backlog (raise [eal] -m)",
		       lc->idx, bytes);
		rte_free(mem);
		return -1;
	}
	return 0;
}

void sl_routine_need_events(sl_lcore_t *lc, uint32_t n)
{
	if (n > lc->rt->ev_inflight)
		lc->rt->ev_inflight = n;
}

/* sl_routine_streams_init lays out and allocates the routines' per-peer
   blocks and per-lcore states, then runs every descriptor's init. */
static int sl_routine_streams_init(sl_lcore_t *lc)
{
	sl_routine_t *rt = lc->rt;
	uint32_t off = 0;
	for (uint32_t i = 0; i < sl_stream_count(); i++) {
		const sl_stream_t *d = sl_stream_at(i);
		rt->st_off[d->id] = off;
		off += (d->state_sz + 63u) & ~63u;
	}
	rt->st_stride = off;
	rt->st = sl_lcore_zalloc(lc, "sl_routine_st", (size_t)SL_SESSIONS_PER_LCORE * off + 64);
	if (SL_UNLIKELY(rt->st == NULL)) {
		SL_ERR("worker %u: cannot allocate %zu bytes of routine state (raise [eal] -m)",
		       lc->idx, (size_t)SL_SESSIONS_PER_LCORE * off);
		return -1;
	}
	for (uint32_t i = 0; i < sl_stream_count(); i++) {
		const sl_stream_t *d = sl_stream_at(i);
		if (d->lcore_sz != 0) {
			rt->lst[d->id] = sl_lcore_zalloc(lc, d->name, d->lcore_sz);
			if (SL_UNLIKELY(rt->lst[d->id] == NULL)) {
				SL_ERR("worker %u: cannot allocate %s lcore state", lc->idx,
				       d->name);
				return -1;
			}
		}
		if (d->init != NULL && SL_UNLIKELY(d->init(lc, rt->lst[d->id]) != 0))
			return -1;
	}
	return 0;
}

/* sl_routine_streams_fini runs every descriptor's fini and frees what
   sl_routine_streams_init allocated (also after it failed halfway). */
static void sl_routine_streams_fini(sl_lcore_t *lc)
{
	sl_routine_t *rt = lc->rt;
	for (uint32_t i = sl_stream_count(); i-- > 0;) {
		const sl_stream_t *d = sl_stream_at(i);
		if (d->fini != NULL)
			d->fini(lc, rt->lst[d->id]);
		rte_free(rt->lst[d->id]);
		rt->lst[d->id] = NULL;
	}
	rte_free(rt->st);
	rt->st = NULL;
}

int sl_routine_create(sl_lcore_t *lc)
{
	sl_routine_t *rt = sl_lcore_zalloc(lc, "sl_routine", sizeof(sl_routine_t));
	if (SL_UNLIKELY(rt == NULL)) {
		SL_ERR("worker %u: cannot allocate %zu bytes of session state (raise [eal] -m)",
		       lc->idx, sizeof(sl_routine_t));
		return -1;
	}
	const sl_cfg_t *cfg = &lc->dp->cfg;
	rt->tab = sl_session_table_join(sl_region_sess(&lc->dp->region, lc->idx));
	if (SL_UNLIKELY(rt->tab == NULL || sl_region_cmdq_join(&lc->dp->region, &rt->cmdq) != 0 ||
	                sl_ratelimit_init(&rt->hello_rl, cfg->hello_rate, cfg->hello_burst,
	                                  sl_now_ns() ^ lc->idx) != 0 ||
	                sl_ratelimit_bucket_init(&rt->hello_all,
	                                         cfg->hello_total - cfg->hello_total / 4,
	                                         cfg->hello_total - cfg->hello_total / 4) != 0 ||
	                sl_ratelimit_bucket_init(&rt->hello_quiet, cfg->hello_total / 4,
	                                         cfg->hello_total / 4) != 0)) {
		SL_ERR("worker %u: session table, command blocks or HELLO limiter unusable",
		       lc->idx);
		rte_free(rt);
		return -1;
	}
	sl_backoff_cfg_default(&rt->bo_cfg);
	lc->rt = rt;
	if (SL_UNLIKELY(sl_routine_streams_init(lc) != 0 || sl_routine_evq_init(lc) != 0)) {
		sl_routine_streams_fini(lc);
		lc->rt = NULL;
		rte_free(rt);
		return -1;
	}
	return 0;
}

void sl_routine_destroy(sl_lcore_t *lc)
{
	if (lc->rt != NULL) {
		sl_routine_streams_fini(lc);
		rte_free(lc->rt->evq.rec);
	}
	rte_free(lc->rt);
	lc->rt = NULL;
}

void sl_routine_reset(sl_lcore_t *lc, sl_routine_peer_t *p)
{
	memset(p, 0, offsetof(sl_routine_peer_t, bo));
	memset(lc->rt->st + (size_t)sl_routine_slot(lc, p) * lc->rt->st_stride, 0,
	       lc->rt->st_stride);
}

/* ---- sending ------------------------------------------------------------- */

/* sl_routine_encode writes h + msg at f (cap bytes) and, when tx_key is
   given, flag AUTH and the §8 tag after the payload; returns the UDP
   payload length, 0 when it does not encode. */
static size_t sl_routine_encode(uint8_t *f, uint32_t cap, sl_wire_hdr_t *h,
                                const sl_wire_msg_t *msg, const uint8_t *tx_key)
{
	if (tx_key != NULL)
		h->flags |= SL_WIRE_F_AUTH;
	size_t n = sl_wire_encode_frame(f, cap, h, msg);
	if (n == 0 || tx_key == NULL)
		return n;
	sl_auth_seal(tx_key, f, n);
	return n + SL_AUTH_TAG_LEN;
}

/* sl_routine_mbuf: the buffer for a frame to send: the frame being served
   when `reply` and it was lent (sl_routine_frame), reset; else a fresh one
   (NULL: pool empty, counted NO_MBUF). */
static struct rte_mbuf *sl_routine_mbuf(sl_lcore_t *lc, bool reply)
{
	struct rte_mbuf *m = reply ? lc->rt->serving : NULL;
	if (m != NULL) {
		lc->rt->serving = NULL;
		rte_pktmbuf_reset(m);
		return m;
	}
	m = rte_pktmbuf_alloc(lc->dp->pool);
	if (SL_UNLIKELY(m == NULL))
		sl_lcore_count_drop(lc, SL_DROP_NO_MBUF);
	return m;
}

/* sl_routine_fill encodes the frame into m (empty); m, or NULL when the
   message does not encode (m freed). */
static struct rte_mbuf *sl_routine_fill(sl_lcore_t *lc, struct rte_mbuf *m, uint32_t dst_ip,
                                        uint16_t dst_port, const sl_mac_t *dst_mac,
                                        uint16_t vlan_tci, sl_wire_hdr_t *h,
                                        const sl_wire_msg_t *msg, const uint8_t *tx_key)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t cap = rte_pktmbuf_tailroom(m);
	uint32_t off = sl_net_udp_payload_off(vlan_tci);
	size_t n = cap > off ? sl_routine_encode(f + off, cap - off, h, msg, tx_key) : 0;
	static const sl_mac_t zero;
	uint32_t len =
	    n == 0 ? 0
	           : sl_net_build_udp(f, cap, (const sl_mac_t *)&lc->dp->mac,
	                              dst_mac != NULL ? dst_mac : &zero, lc->dp->ipv4, dst_ip,
	                              lc->dp->udp_port, dst_port, (uint16_t)n, vlan_tci);
	if (SL_UNLIKELY(len == 0)) {
		SL_WARN("worker %u: cannot encode stream %u type %u", lc->idx, h->stream, h->type);
		rte_pktmbuf_free(m);
		return NULL;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return m;
}

struct rte_mbuf *sl_routine_build(sl_lcore_t *lc, uint32_t dst_ip, uint16_t dst_port,
                                  const sl_mac_t *dst_mac, uint16_t vlan_tci, sl_wire_hdr_t *h,
                                  const sl_wire_msg_t *msg, const uint8_t *tx_key)
{
	struct rte_mbuf *m = sl_routine_mbuf(lc, false);
	return m != NULL
	           ? sl_routine_fill(lc, m, dst_ip, dst_port, dst_mac, vlan_tci, h, msg, tx_key)
	           : NULL;
}

int sl_routine_send(sl_lcore_t *lc, uint32_t dst_ip, uint16_t dst_port, const sl_mac_t *dst_mac,
                    uint16_t vlan_tci, sl_wire_hdr_t *h, const sl_wire_msg_t *msg)
{
	struct rte_mbuf *m =
	    sl_routine_build(lc, dst_ip, dst_port, dst_mac, vlan_tci, h, msg, NULL);
	if (SL_UNLIKELY(m == NULL))
		return -1;
	if (dst_mac != NULL) {
		sl_lcore_tx(lc, m);
		return 0;
	}
	return sl_arp_send_ipv4(lc, m, dst_ip);
}

/* sl_routine_build_in: sl_routine_build_sess, into the frame being served
   when `reply` (sl_routine_reply_sess). */
static struct rte_mbuf *sl_routine_build_in(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t stream,
                                            uint8_t type, uint64_t corr, const sl_wire_msg_t *msg,
                                            bool reply)
{
	sl_session_t *s = &lc->rt->tab->slot[sl_routine_slot(lc, p)];
	uint32_t seq = sl_session_next_seq(s, stream);
	if (SL_UNLIKELY(seq == 0))
		return NULL; /* exhausted: the session closes (SPEC §8) */
	if (SL_UNLIKELY(seq >= SL_SESSION_SEQ_CLOSE))
		p->seq_close = 1; /* the next tick closes it, before any seq wraps */
	struct rte_mbuf *m = sl_routine_mbuf(lc, reply);
	if (SL_UNLIKELY(m == NULL))
		return NULL;
	sl_wire_hdr_t h = {
	    .type = type, .stream = stream, .session = p->remote_sid, .seq = seq, .corr = corr};
	return sl_routine_fill(lc, m, p->peer_ip, p->peer_port, p->mac_known ? &p->peer_mac : NULL,
	                       p->vlan_tci, &h, msg, p->auth ? p->keys.tx : NULL);
}

struct rte_mbuf *sl_routine_build_sess(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t stream,
                                       uint8_t type, uint64_t corr, const sl_wire_msg_t *msg)
{
	return sl_routine_build_in(lc, p, stream, type, corr, msg, false);
}

int sl_routine_xmit_sess(sl_lcore_t *lc, sl_routine_peer_t *p, struct rte_mbuf *m)
{
	sl_session_t *s = &lc->rt->tab->slot[sl_routine_slot(lc, p)];
	uint32_t wire = rte_pktmbuf_pkt_len(m) - sl_net_udp_payload_off(p->vlan_tci);
	int rc = 0;
	if (p->mac_known)
		sl_lcore_tx(lc, m);
	else
		rc = sl_arp_send_ipv4(lc, m, p->peer_ip);
	if (rc == 0) {
		SL_CNT_ADD(&s->cnt.tx_frames, 1);
		SL_CNT_ADD(&s->cnt.tx_bytes, wire);
	}
	return rc;
}

/* sl_routine_send_in: sl_routine_send_sess, into the frame being served
   when `reply`. */
static int sl_routine_send_in(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t stream, uint8_t type,
                              uint64_t corr, const sl_wire_msg_t *msg, bool reply)
{
	if (!sl_backoff_should_send(&p->quiet, stream, lc->now_ns))
		return -1;
	struct rte_mbuf *m = sl_routine_build_in(lc, p, stream, type, corr, msg, reply);
	if (SL_UNLIKELY(m == NULL))
		return -1;
	return sl_routine_xmit_sess(lc, p, m);
}

int sl_routine_send_sess(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t stream, uint8_t type,
                         uint64_t corr, const sl_wire_msg_t *msg)
{
	return sl_routine_send_in(lc, p, stream, type, corr, msg, false);
}

int sl_routine_reply_sess(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t stream, uint8_t type,
                          uint64_t corr, const sl_wire_msg_t *msg)
{
	return sl_routine_send_in(lc, p, stream, type, corr, msg, true);
}

/* ---- events -------------------------------------------------------------- */

int sl_routine_event(sl_lcore_t *lc, uint16_t type, uint32_t session, uint32_t gen,
                     const void *payload, uint16_t len)
{
	return sl_routine_event_corr(lc, type, session, gen, 0, payload, len);
}

int sl_routine_event_corr(sl_lcore_t *lc, uint16_t type, uint32_t session, uint32_t gen,
                          uint64_t corr, const void *payload, uint16_t len)
{
	sl_msg_t msg;
	memset(&msg, 0, offsetof(sl_msg_t, payload));
	msg.type = type;
	msg.corr = corr;
	msg.len = len;
	msg.lcore = lc->idx;
	msg.session = session;
	msg.gen = gen;
	if (len != 0)
		memcpy(msg.payload, payload, len);
	sl_evq_res_t r = sl_evq_send(&lc->rt->evq, &msg);
	return r == SL_EVQ_SENT || r == SL_EVQ_BACKLOGGED ? 0 : -1;
}

void sl_routine_session_up(sl_lcore_t *lc, sl_routine_peer_t *p, uint32_t best_height,
                           const uint8_t best_hash[32])
{
	sl_evt_session_up_t up;
	memset(&up, 0, sizeof up);
	up.peer_ip = p->peer_ip;
	up.peer_port = p->peer_port;
	up.outbound = p->outbound;
	up.streams = p->streams;
	up.remote_sid = p->remote_sid;
	up.best_height = best_height;
	memcpy(up.node_id, p->node_id, 32);
	if (best_hash != NULL)
		memcpy(up.best_hash, best_hash, 32);
	sl_routine_event(lc, SL_EVT_SESSION_UP, p->sid, p->gen, &up, sizeof up);
	SL_PROBE_SESSION_UP(p->sid, p->peer_ip, p->peer_port, p->streams);
	sl_backoff_peer_init(&p->bo);
	sl_backoff_quiet_init(&p->quiet);
	/* registration order: the session stream, then header sync (its
	   STATUS before discovery may close the session), then discovery */
	for (uint32_t i = 0; i < sl_stream_count() && p->state == SL_ROUTINE_LIVE; i++) {
		const sl_stream_t *d = sl_stream_at(i);
		if (d->start != NULL)
			d->start(lc, p, sl_routine_state(lc, p, d->id));
	}
}

/* ---- teardown: the one exit path ------------------------------------------ */

void sl_routine_conn_add(sl_lcore_t *lc, uint32_t slot)
{
	lc->rt->conn[lc->rt->n_conn++] = (uint16_t)slot;
}

void sl_routine_conn_remove(sl_lcore_t *lc, uint32_t slot)
{
	sl_routine_t *rt = lc->rt;
	for (uint32_t i = 0; i < rt->n_conn; i++) {
		if (rt->conn[i] == slot) {
			rt->conn[i] = rt->conn[--rt->n_conn];
			return;
		}
	}
}

void sl_routine_teardown(sl_lcore_t *lc, sl_routine_peer_t *p, sl_exit_t exit, uint16_t goodbye,
                         uint16_t goodbye_rx)
{
	if (p->state == SL_ROUTINE_FREE)
		return;
	sl_routine_t *rt = lc->rt;
	uint32_t slot = sl_routine_slot(lc, p);
	uint16_t sent = 0;
	if (p->state == SL_ROUTINE_LIVE) {
		if (goodbye != 0) {
			sl_wire_msg_t msg = {.goodbye = {.reason = goodbye}};
			if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_SESSION, SL_WIRE_T_GOODBYE,
			                         0, &msg) == 0)
				sent = goodbye;
		}
		for (uint32_t i = 0; i < sl_stream_count(); i++) {
			const sl_stream_t *d = sl_stream_at(i);
			if (d->stop != NULL) /* outstanding work back, holds forgotten */
				d->stop(lc, p, sl_routine_state(lc, p, d->id));
		}
		sl_session_teardown(rt->tab, p->sid);
	} else {
		sl_routine_conn_remove(lc, slot);
	}
	sl_cmdq_detach(&rt->cmdq, lc->idx, slot, p->gen); /* -ESRCH: ctrl ended it */
	sl_evt_session_down_t d = {.exit = (uint16_t)exit,
	                           .goodbye_sent = sent,
	                           .goodbye_rx = goodbye_rx,
	                           .peer_ip = p->peer_ip,
	                           .peer_port = p->peer_port};
	sl_routine_event(lc, SL_EVT_SESSION_DOWN, p->sid, p->gen, &d, sizeof d);
	SL_PROBE_SESSION_DOWN(p->sid, exit);
	SL_DEBUG("worker %u: session %08x down (%s)", lc->idx, p->sid, sl_exit_str(exit));
	p->state = SL_ROUTINE_FREE;
}

void sl_routine_misbehave(sl_lcore_t *lc, sl_routine_peer_t *p, sl_misb_t kind, uint8_t stream,
                          uint8_t type)
{
	sl_evt_misbehavior_t e = {
	    .kind = (uint16_t)kind, .stream = stream, .type = type, .disconnect = 1};
	sl_routine_event(lc, SL_EVT_MISBEHAVIOR, p->sid, p->gen, &e, sizeof e);
	SL_PROBE_MISBEHAVIOR(p->sid, kind);
	sl_routine_teardown(lc, p, SL_EXIT_PROTOCOL, SL_WIRE_GOODBYE_PROTOCOL, 0);
}

/* ---- the live-session frame path -------------------------------------------- */

sl_routine_peer_t *sl_routine_connecting(sl_lcore_t *lc, uint32_t sid, uint32_t ip, uint16_t port)
{
	if (sl_sid_lcore(sid) != lc->idx)
		return NULL;
	sl_routine_peer_t *p = sl_routine_peer(lc, sl_sid_slot(sid));
	if (p->state != SL_ROUTINE_CONNECTING || p->sid != sid || p->peer_ip != ip ||
	    p->peer_port != port)
		return NULL;
	return p;
}

/* sl_routine_answer: the frame answers a request of ours (PONG, HEADERS,
   NOT_FOUND).  Back-pressure neither drops those nor answers them with
   BACKOFF: we asked for them, the request is spent either way, and
   throttling them under a load someone else causes (a HELLO flood) would
   starve our own sync.  One that answers nothing is the routine's to judge
   (unsolicited: misbehaviour). */
static bool sl_routine_answer(const sl_wire_hdr_t *h)
{
	if (h->stream == SL_WIRE_STREAM_SESSION)
		return h->type == SL_WIRE_T_PONG;
	return h->stream == SL_WIRE_STREAM_HSYNC &&
	       (h->type == SL_WIRE_T_HEADERS || h->type == SL_WIRE_T_NOT_FOUND);
}

/* sl_routine_pressure: anti-backpressure decision for a frame of p; false
   when it was dropped silently. */
static bool sl_routine_pressure(sl_lcore_t *lc, sl_routine_peer_t *p, struct rte_mbuf *m,
                                const sl_wire_hdr_t *h)
{
	sl_routine_t *rt = lc->rt;
	uint32_t ms = 0;
	if (sl_routine_answer(h))
		return true; /* neither dropped nor a reason to send BACKOFF */
	sl_backoff_action_t a =
	    sl_backoff_step(&rt->bo_cfg, &p->bo, lc->now_ns, rt->over_mark, &ms);
	/* Silent mode drops every frame of the sender but its GOODBYE (the
	   session must still be able to end); a PING flood is dropped too. */
	bool exempt = h->stream == SL_WIRE_STREAM_SESSION && h->type == SL_WIRE_T_GOODBYE;
	if (a == SL_BACKOFF_DROP_SILENT && !exempt) {
		sl_lcore_drop(lc, m, SL_DROP_BACKOFF_SILENT);
		return false;
	}
	if (a == SL_BACKOFF_SEND) {
		sl_wire_msg_t bo = {.backoff = {.backoff_ms = ms}};
		if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_SESSION, SL_WIRE_T_BACKOFF, 0,
		                         &bo) == 0)
			SL_CNT_ADD(&lc->cnt->backoff_tx, 1);
	}
	return true;
}

#if SL_INVARIANTS
/* sl_routine_broken names the first invariant p breaks after a routine
   ran for session `sid` (slot s), or NULL when all hold.  A peer the
   routine ended (FREE) has nothing left to check. */
static const char *sl_routine_broken(const sl_lcore_t *lc, const sl_routine_peer_t *p,
                                     sl_session_t *s, uint32_t sid)
{
	if (p->state == SL_ROUTINE_FREE)
		return NULL;
	if (p->state != SL_ROUTINE_LIVE)
		return "a live peer left the LIVE state";
	if (p->sid != sid ||
	    atomic_load_explicit(&s->state, memory_order_relaxed) != SL_SESSION_LIVE ||
	    atomic_load_explicit(&s->sid, memory_order_relaxed) != sid)
		return "session-table slot no longer names the session";
	for (uint32_t i = 0; i < sl_stream_count(); i++) {
		const sl_stream_t *d = sl_stream_at(i);
		const char *why =
		    d->check != NULL ? d->check(lc, p, sl_routine_state(lc, p, d->id)) : NULL;
		if (why != NULL)
			return why;
	}
	return NULL;
}

void sl_routine_check(sl_lcore_t *lc, sl_routine_peer_t *p, sl_session_t *s, uint32_t sid)
{
	const char *why = sl_routine_broken(lc, p, s, sid);
	if (SL_LIKELY(why == NULL))
		return;
	SL_CNT_ADD(&lc->cnt->routine_faults, 1);
	SL_ERR("worker %u: session %08x routine fault: %s", lc->idx, sid, why);
	sl_routine_teardown(lc, p, SL_EXIT_FAULT, SL_WIRE_GOODBYE_SHUTDOWN, 0);
}
#endif

/* sl_routine_auth_check: a frame of an authenticated session must carry
   flag AUTH and the sender's tag (SPEC §8); one of a session without
   authentication must not carry the flag.  Returns SL_DROP_CNT when the
   frame passes, else the drop reason.  pl is the payload, the tag right
   after it (the header's length was checked against the UDP size). */
static sl_drop_t sl_routine_auth_check(const sl_routine_peer_t *p, const sl_wire_hdr_t *h,
                                       const uint8_t *pl)
{
	bool flagged = (h->flags & SL_WIRE_F_AUTH) != 0;
	if (SL_LIKELY(!p->auth))
		return flagged ? SL_DROP_SL_AUTH : SL_DROP_CNT;
	if (SL_UNLIKELY(!flagged))
		return SL_DROP_AUTH_MISSING;
	const uint8_t *f = pl - SL_WIRE_HDR_LEN;
	return sl_auth_open(p->keys.rx, f, SL_WIRE_HDR_LEN + h->length) ? SL_DROP_CNT
	                                                                : SL_DROP_AUTH_TAG;
}

/* sl_routine_lendable: m may become the answer of the input it carries
   (sl_routine_reply_sess): this lcore's only reference, one segment, its
   own data buffer. */
static inline bool sl_routine_lendable(const struct rte_mbuf *m)
{
	return rte_mbuf_refcnt_read(m) == 1 && RTE_MBUF_DIRECT(m) && m->nb_segs == 1;
}

void sl_routine_frame(sl_lcore_t *lc, sl_routine_peer_t *p, sl_session_t *s, struct rte_mbuf *m,
                      const sl_wire_hdr_t *h, const uint8_t *pl)
{
	if (SL_UNLIKELY(!sl_sess_stream_on(s, h->stream))) {
		SL_CNT_ADD(&s->cnt.drop_stream, 1);
		sl_lcore_drop(lc, m, SL_DROP_SL_STREAM);
		return;
	}
	if (SL_UNLIKELY(sl_replay_check(&s->replay[h->stream], h->seq) != SL_REPLAY_ACCEPT)) {
		SL_CNT_ADD(&s->cnt.drop_replay, 1);
		sl_lcore_drop(lc, m, SL_DROP_SL_REPLAY);
		return;
	}
	sl_drop_t why = sl_routine_auth_check(p, h, pl);
	if (SL_UNLIKELY(why != SL_DROP_CNT)) {
		SL_CNT_ADD(&s->cnt.drop_auth, 1);
		sl_lcore_drop(lc, m, why);
		return;
	}
	sl_replay_update(&s->replay[h->stream], h->seq);
	if (SL_UNLIKELY(!p->proven)) {
		p->proven = 1;
		if (!p->outbound)
			sl_routine_event(lc, SL_EVT_SESSION_PROVEN, p->sid, p->gen, NULL, 0);
	}
	SL_CNT_ADD(&s->cnt.rx_frames, 1);
	SL_CNT_ADD(&s->cnt.rx_bytes, SL_WIRE_HDR_LEN + h->length);
	const sl_stream_t *d = sl_stream_of(h->stream);
	void *st = d != NULL ? sl_routine_state(lc, p, h->stream) : NULL;
	if (d != NULL && d->parked != NULL && SL_UNLIKELY(d->parked(lc, p, st))) {
		SL_CNT_ADD(&s->cnt.hs_parked_drop, 1);
		SL_CNT_ADD(&lc->cnt->hs_parked_drop, 1);
		sl_lcore_drop(lc, m, SL_DROP_HS_PARKED); /* the session stays (DESIGN.md Park) */
		return;
	}
	sl_wire_msg_t msg;
	sl_wire_err_t we = sl_wire_decode_msg(h->stream, h->type, pl, h->length, &msg);
	/* TOO_MANY: a fully decoded GET_HEADERS with count > 2000, record-only
	   (SPEC §5): the header-sync routine answers NOT_FOUND(TOO_MANY). */
	bool too_many = we == SL_WIRE_ERR_TOO_MANY;
	if (SL_UNLIKELY(we != SL_WIRE_OK && !too_many)) {
		sl_lcore_drop(lc, m, SL_DROP_SL_PAYLOAD);
		sl_routine_misbehave(lc, p, SL_MISB_UNDECODABLE, h->stream, h->type);
		return;
	}
	if (!sl_routine_pressure(lc, p, m, h))
		return;
	/* Timed only while a tracer is attached: two clock reads per frame
	   are not free. */
	uint64_t t0 = SL_PROBE_ENABLED(routine_run) ? sl_now_ns() : 0;
	uint32_t sid = p->sid;
	bool lent = sl_routine_lendable(m);
	lc->rt->serving = lent ? m : NULL;
	if (SL_LIKELY(d != NULL))
		d->input(lc, p, st, h, &msg, too_many);
	else
		sl_routine_misbehave(lc, p, SL_MISB_UNEXPECTED, h->stream, h->type);
	bool taken = lent && lc->rt->serving == NULL; /* m is the answer now */
	lc->rt->serving = NULL;
	SL_PROBE_ROUTINE_RUN(sid, h->stream, sl_now_ns() - t0);
	sl_routine_check(lc, p, s, sid);
	if (!taken)
		sl_lcore_consumed(lc, m);
}

/* ---- commands and phases ------------------------------------------------------ */

void sl_routine_command(sl_lcore_t *lc, const sl_msg_t *m)
{
	if (m->session >= SL_SESSIONS_PER_LCORE)
		return;
	const sl_stream_t *d = sl_stream_for_cmd(m);
	if (SL_UNLIKELY(d == NULL)) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	sl_routine_peer_t *p = sl_routine_peer(lc, m->session);
	d->command(lc, p, sl_routine_state(lc, p, d->id), m);
}

/* sl_routine_tick_ns: the period of the deadline / liveness scans:
   SL_ROUTINE_TICK_NS, or [dataplane] fault_tick_ms in a test build
   (CONFIG_SL_TEST_HOOKS). */
static uint64_t sl_routine_tick_ns(const sl_lcore_t *lc)
{
#if SL_TEST_HOOKS
	if (SL_UNLIKELY(lc->dp->cfg.fault_tick_ms != 0))
		return (uint64_t)lc->dp->cfg.fault_tick_ms * 1000000ull;
#else
	(void)lc;
#endif
	return SL_ROUTINE_TICK_NS;
}

bool sl_routine_tick_due(sl_lcore_t *lc)
{
	if (lc->now_ns < lc->rt->next_tick_ns)
		return false;
	lc->rt->next_tick_ns = lc->now_ns + sl_routine_tick_ns(lc);
	return true;
}

/* sl_routine_each_live runs one per-peer hook (the tick, or liveness) of
   every stream for every live session, walking downward (teardown-safe);
   a hook that tears the session down ends its turn. */
static void sl_routine_each_live(sl_lcore_t *lc, bool tick)
{
	sl_routine_t *rt = lc->rt;
	for (uint32_t i = sl_session_count(rt->tab); i-- > 0;) {
		sl_session_t *s = sl_session_live_at(rt->tab, i);
		sl_routine_peer_t *p = sl_routine_peer(lc, sl_session_slot_of(rt->tab, s));
		if (tick && SL_UNLIKELY(p->seq_close)) {
			SL_CNT_ADD(&lc->cnt->seq_closes, 1);
			sl_routine_teardown(lc, p, SL_EXIT_LOCAL, SL_WIRE_GOODBYE_SHUTDOWN, 0);
			continue;
		}
		for (uint32_t k = 0; k < sl_stream_count() && p->state == SL_ROUTINE_LIVE; k++) {
			const sl_stream_t *d = sl_stream_at(k);
			void (*hook)(sl_lcore_t *, struct sl_routine_peer *, void *) =
			    tick ? d->tick : d->liveness;
			if (hook != NULL)
				hook(lc, p, sl_routine_state(lc, p, d->id));
		}
	}
}

void sl_routine_deadlines(sl_lcore_t *lc)
{
	sl_routine_each_live(lc, true);
}

void sl_routine_liveness(sl_lcore_t *lc)
{
	sl_routine_each_live(lc, false);
}

void sl_routine_pull(sl_lcore_t *lc)
{
	for (uint32_t k = 0; k < sl_stream_count(); k++) {
		const sl_stream_t *d = sl_stream_at(k);
		if (d->pull != NULL)
			d->pull(lc, lc->rt->lst[d->id]);
	}
}

sl_drop_t sl_routine_hello_gate(sl_lcore_t *lc, uint32_t src_ip)
{
	sl_routine_t *rt = lc->rt;
	bool quiet = sl_ratelimit_idle(&rt->hello_rl, src_ip, lc->now_ns);
	sl_drop_t why = SL_DROP_HELLO_BUDGET;
	if (SL_UNLIKELY(!sl_ratelimit_allow(&rt->hello_rl, src_ip, lc->now_ns)))
		why = SL_DROP_HELLO_RATE;
	else if (SL_LIKELY(sl_ratelimit_bucket_take(&rt->hello_all, lc->now_ns)) ||
	         (quiet && sl_ratelimit_bucket_take(&rt->hello_quiet, lc->now_ns)))
		why = SL_DROP_CNT;
	rt->gate_drops += why != SL_DROP_CNT; /* the load sample leaves these out */
	return why;
}

/* sl_routine_af_packet_framecnt: net_af_packet's ring size from its devargs
   ("...,framecnt=N,..."), 512 (the PMD's default) when absent. */
static uint32_t sl_routine_af_packet_framecnt(const char *devargs)
{
	const char *f = strstr(devargs, "framecnt=");
	if (f == NULL)
		return 512u;
	unsigned long n = strtoul(f + strlen("framecnt="), NULL, 0);
	return n > 0 && n < UINT32_MAX ? (uint32_t)n : 512u;
}

void sl_routine_rx_capacity(sl_lcore_t *lc)
{
	sl_routine_t *rt = lc->rt;
	uint16_t port = lc->dp->port_id, q = (uint16_t)lc->idx;
	struct rte_eth_rxq_info qi;
	struct rte_eth_dev_info di;
	uint32_t ring = SL_RX_DESC;
	const char *how = "SL_RX_DESC";
	memset(&qi, 0, sizeof qi);
	if (rte_eth_rx_queue_info_get(port, q, &qi) == 0 && qi.nb_desc > 0) {
		ring = qi.nb_desc;
		how = "rx queue info";
	} else if (rte_eth_dev_info_get(port, &di) == 0 && di.driver_name != NULL &&
	           strstr(di.driver_name, "af_packet") != NULL) {
		ring = sl_routine_af_packet_framecnt(lc->dp->cfg.port);
		how = "af_packet framecnt";
	}
	rt->rx_cap = ring < SL_RX_GATHER ? ring : SL_RX_GATHER;
	rt->rxq_count_ok = rte_eth_rx_queue_count(port, q) >= 0;
	SL_DEBUG("worker %u: BACKOFF mark %u%% of %u frames (ring %u from %s; queue count %s)",
	         lc->idx, rt->bo_cfg.mark_pct, rt->rx_cap, ring, how,
	         rt->rxq_count_ok ? "supported" : "unsupported");
}

void sl_routine_backpressure(sl_lcore_t *lc, uint32_t depth)
{
	sl_routine_t *rt = lc->rt;
	uint64_t rx = SL_CNT_GET(&lc->cnt->rx_pkts);
	uint64_t seen = rx - rt->rx_sampled, gated = SL_MIN((uint64_t)rt->gate_drops, seen);
	rt->rx_sampled = rx;
	rt->gate_drops = 0;
	if (seen == 0 && depth > 0)
		return; /* no drain yet to tell work from flood: judge on the next */
	if (gated > 0)  /* the share of the queue that is work, as the last drain found it */
		depth = (uint32_t)((uint64_t)depth * (seen - gated) / seen);
	rt->over_mark = sl_backoff_load_update(&rt->bo_cfg, &rt->load, lc->now_ns, depth,
	                                       rt->rx_cap, SL_BACKOFF_HOLD_NS_DEFAULT);
}

/* sl_routine_drain (loop exit) gives ctrl up to SL_ROUTINE_DRAIN_NS to take the
   backlog while it is attached and beating; what is left is counted lost
   with one line (ctrl rebuilds its view from a restarted dataplane). */
static void sl_routine_drain(sl_lcore_t *lc)
{
	sl_evq_t *q = &lc->rt->evq;
	const sl_region_hdr_t *h = lc->dp->region.hdr;
	uint64_t end = sl_now_ns() + SL_ROUTINE_DRAIN_NS;
	while (sl_evq_pending(q) > 0) {
		sl_evq_flush(q);
		uint64_t now = sl_now_ns();
		uint64_t hb = atomic_load_explicit(&h->ctrl_heartbeat_ns, memory_order_relaxed);
		bool ctrl = atomic_load_explicit(&h->ctrl_pid, memory_order_relaxed) != 0 &&
		            (hb > now || now - hb < SL_ROUTINE_DRAIN_NS);
		if (sl_evq_pending(q) == 0 || !ctrl || now >= end)
			break;
		rte_delay_us_sleep(1000);
	}
	uint32_t left = sl_evq_pending(q);
	if (left == 0)
		return;
	SL_CNT_ADD(&lc->cnt->evt_critical_lost, left);
	SL_CNT_ADD(&lc->cnt->events_lost, left);
	SL_WARN("worker %u: %u events to ctrl left in the backlog at exit", lc->idx, left);
}

void sl_routine_shutdown(sl_lcore_t *lc)
{
	sl_routine_t *rt = lc->rt;
	if (rt == NULL)
		return;
	for (uint32_t i = sl_session_count(rt->tab); i-- > 0;) {
		sl_session_t *s = sl_session_live_at(rt->tab, i);
		sl_routine_teardown(lc, sl_routine_peer(lc, sl_session_slot_of(rt->tab, s)),
		                    SL_EXIT_NORMAL, SL_WIRE_GOODBYE_SHUTDOWN, 0);
	}
	while (rt->n_conn > 0)
		sl_routine_teardown(lc, sl_routine_peer(lc, rt->conn[rt->n_conn - 1]),
		                    SL_EXIT_NORMAL, 0, 0);
	sl_routine_drain(lc);
}
