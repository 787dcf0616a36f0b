/* sl_peerio.c — see sl_peerio.h. */
#include "sl_peerio.h"

#include <string.h>

#include "sl_session.h"

void sl_peerio_init(sl_peerio_t *io, sl_peermgr_t *pm, sl_sync_t *sync)
{
	*io = (sl_peerio_t){.pm = pm, .sync = sync};
}

void sl_peerio_set_reply_hook(sl_peerio_t *io, sl_peerio_reply_fn fn, void *ctx)
{
	io->on_reply = fn;
	io->on_reply_ctx = ctx;
}

/* peerio_up: the UP peer of session sid, or NULL. */
static const sl_peers_entry_t *peerio_up(const sl_peerio_t *io, uint32_t sid)
{
	if (io->pm->region == NULL)
		return NULL;
	const sl_peers_entry_t *p = sl_peers_by_sid(&io->pm->peers, sid);
	return p != NULL && p->state == SL_PEER_UP && p->sid == sid ? p : NULL;
}

static sl_peerio_send_t peerio_send(sl_peerio_t *io, uint32_t sid, const void *cmd, uint16_t len)
{
	const sl_peers_entry_t *p = peerio_up(io, sid);
	if (p == NULL) {
		io->cnt.gone++;
		return SL_PEERIO_GONE;
	}
	sl_cmdq_outcome_t oc = sl_cmdq_send(&io->pm->cmdq, sl_sid_lcore(sid), sl_sid_slot(sid),
	                                    p->gen, SL_CMDQ_V_SEND_FRAME, cmd, len);
	if (oc == SL_CMDQ_QUEUED)
		return SL_PEERIO_SENT;
	if (oc == SL_CMDQ_PARK_REQUIRED) {
		io->cnt.parked++;
		sl_sync_park(io->sync, sid);
		return SL_PEERIO_PARKED;
	}
	io->cnt.gone++;
	return SL_PEERIO_GONE;
}

sl_peerio_send_t sl_peerio_fetch(sl_peerio_t *io, uint32_t sid, uint64_t corr, uint32_t height,
                                 uint16_t count)
{
	sl_cmd_fetch_t f = {.kind = SL_SEND_FETCH, .count = count, .start = height, .corr = corr};
	sl_peerio_send_t r = peerio_send(io, sid, &f, (uint16_t)sizeof f);
	io->cnt.fetch_tx += r == SL_PEERIO_SENT;
	return r;
}

sl_peerio_send_t sl_peerio_ping(sl_peerio_t *io, uint32_t sid, uint64_t corr)
{
	sl_cmd_ping_t c = {.kind = SL_SEND_PING, .corr = corr};
	sl_peerio_send_t r = peerio_send(io, sid, &c, (uint16_t)sizeof c);
	io->cnt.ping_tx += r == SL_PEERIO_SENT;
	return r;
}

static void peerio_hand(sl_peerio_t *io, const sl_peerio_reply_t *r, uint64_t now_ns)
{
	io->cnt.replies++;
	if (io->on_reply != NULL)
		io->on_reply(io->on_reply_ctx, r, now_ns);
}

/* A HEADERS frame of an op's fetch: one reply per header it carries. */
static void peerio_headers(sl_peerio_t *io, const sl_msg_t *m, uint64_t now_ns)
{
	const sl_evt_headers_t *e = (const sl_evt_headers_t *)m->payload;
	uint32_t n = SL_MIN((uint32_t)e->n, (uint32_t)SL_EVT_HEADERS_MAX);
	for (uint32_t i = 0; i < n; i++) {
		sl_peerio_reply_t r = {.kind = SL_PEERIO_R_HEADER,
		                       .sid = m->session,
		                       .corr = m->corr,
		                       .height = e->start + i};
		memcpy(r.hdr, e->hdr[i], 80);
		memcpy(r.hash, e->hash[i], 32);
		peerio_hand(io, &r, now_ns);
	}
}

static void peerio_fetch_end(sl_peerio_t *io, const sl_msg_t *m, uint64_t now_ns)
{
	const sl_evt_fetch_end_t *e = (const sl_evt_fetch_end_t *)m->payload;
	sl_peerio_reply_t r = {.sid = m->session, .corr = m->corr, .height = e->start};
	switch (e->reason) {
	case SL_FETCH_END_BAD:
		r.kind = SL_PEERIO_R_BAD;
		break;
	case SL_FETCH_END_SEND:
		r.kind = SL_PEERIO_R_SEND_FAIL;
		break;
	case SL_FETCH_END_SHORT:
		r.kind = SL_PEERIO_R_SHORT;
		break;
	default:
		r.kind = SL_PEERIO_R_NOT_FOUND;
		r.nf_reason = e->reason;
		break;
	}
	peerio_hand(io, &r, now_ns);
}

static void peerio_pong(sl_peerio_t *io, const sl_msg_t *m, uint64_t now_ns)
{
	const sl_evt_pong_t *e = (const sl_evt_pong_t *)m->payload;
	sl_peerio_reply_t r = {.kind = e->status == SL_PONG_OK ? SL_PEERIO_R_PONG
	                                                       : SL_PEERIO_R_SEND_FAIL,
	                       .sid = m->session,
	                       .corr = m->corr,
	                       .rtt_ns = e->rtt_ns};
	peerio_hand(io, &r, now_ns);
}

void sl_peerio_event(sl_peerio_t *io, const sl_msg_t *m, uint64_t now_ns)
{
	bool ours = (m->corr & SL_PEERIO_CORR_BITS) == SL_PEERIO_CORR_BITS;
	switch (m->type) {
	case SL_EVT_HEADERS:
		if (ours &&
		    (((const sl_evt_headers_t *)m->payload)->flags & SL_EVT_HEADERS_F_FETCH))
			peerio_headers(io, m, now_ns);
		return;
	case SL_EVT_FETCH_END:
		if (ours)
			peerio_fetch_end(io, m, now_ns);
		return;
	case SL_EVT_PONG:
		if (ours)
			peerio_pong(io, m, now_ns);
		return;
	case SL_EVT_SESSION_DOWN: {
		sl_peerio_reply_t r = {.kind = SL_PEERIO_R_DOWN, .sid = m->session};
		peerio_hand(io, &r, now_ns);
		return;
	}
	default:
		return;
	}
}

/* peerio_walk calls want(p) for every UP peer, writing the sids it keeps. */
static uint32_t peerio_walk(const sl_peerio_t *io, uint32_t height, bool claim, uint32_t *sids,
                            uint32_t cap)
{
	const sl_peers_t *t = &io->pm->peers;
	uint32_t n = 0, end = t->n_lcores * SL_SESSIONS_PER_LCORE;
	if (io->pm->region == NULL)
		return 0;
	for (uint32_t i = 0, up = 0; i < end && up < t->n_up && n < cap; i++) {
		const sl_peers_entry_t *p = &t->e[i];
		if (p->state != SL_PEER_UP)
			continue;
		up++;
		uint32_t tip = 0;
		if (claim && ((p->streams & (1u << SL_WIRE_STREAM_HSYNC)) == 0 ||
		              !sl_sync_peer_tip(io->sync, p->sid, &tip) || tip < height))
			continue;
		sids[n++] = p->sid;
	}
	return n;
}

uint32_t sl_peerio_claimers(const sl_peerio_t *io, uint32_t height, uint32_t *sids, uint32_t cap)
{
	return peerio_walk(io, height, true, sids, cap);
}

uint32_t sl_peerio_live(const sl_peerio_t *io, uint32_t *sids, uint32_t cap)
{
	return peerio_walk(io, 0, false, sids, cap);
}

bool sl_peerio_is_live(const sl_peerio_t *io, uint32_t sid)
{
	return peerio_up(io, sid) != NULL;
}

void sl_peerio_addr(const sl_peerio_t *io, uint32_t sid, uint32_t *ip, uint16_t *port)
{
	const sl_peers_entry_t *p = sl_peers_by_sid(&io->pm->peers, sid);
	*ip = p != NULL ? p->ip : 0;
	*port = p != NULL ? p->port : 0;
}
