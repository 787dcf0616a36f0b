/* sl_hstatus.c — STATUS and NEW_BLOCK both ways (see sl_hstatus.h). */
#include "sl_hstatus.h"

#include <string.h>

#include "sl_sha256d.h"

static void sl_hstatus_send(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st,
                            const sl_local_status_t *s)
{
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	msg.status.best_height = s->best_height;
	msg.status.finalized_height = s->finalized_height;
	memcpy(msg.status.best_hash, s->best_hash, 32);
	memcpy(msg.status.chainwork, s->chainwork, 32);
	if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_STATUS, 0, &msg) != 0)
		return; /* held by a BACKOFF or dropped: the next move sends again */
	if (st->sent != s->version)
		st->gap_ns = SL_HSTATUS_REFRESH_NS; /* a new tip: repeats start over */
	st->sent = s->version;
	st->last_ns = lc->now_ns;
	st->next_ns = lc->now_ns + st->gap_ns;
	SL_CNT_ADD(&lc->cnt->hs_status_tx, 1);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_status_tx, 1);
}

void sl_hstatus_start(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st)
{
	sl_local_status_t cur;
	if (sl_status_read(lc->dp->status, &cur) != 0)
		sl_hstatus_send(lc, p, st, &cur);
}

bool sl_hstatus_moved(sl_lcore_t *lc, sl_hstatus_lcore_t *g)
{
	uint64_t seq = sl_status_seq(lc->dp->status);
	if (SL_LIKELY(seq == g->seq_seen) || (seq & 1) != 0)
		return false;
	if (sl_status_read(lc->dp->status, &g->local) == 0)
		return false; /* nothing consistent yet: next cycle */
	g->seq_seen = seq;
	return true;
}

void sl_hstatus_push(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st,
                     const sl_hstatus_lcore_t *g)
{
	if (st->sent != g->local.version && lc->now_ns - st->last_ns >= SL_HSTATUS_GAP_NS)
		sl_hstatus_send(lc, p, st, &g->local); /* else the refresh sends it */
}

void sl_hstatus_refresh(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st,
                        const sl_hstatus_lcore_t *g)
{
	const sl_local_status_t *s = &g->local;
	if (st->sent == 0 || s->version == 0)
		return;
	if (st->sent != s->version) { /* a newer tip held back by the gap */
		if (lc->now_ns - st->last_ns >= SL_HSTATUS_GAP_NS)
			sl_hstatus_send(lc, p, st, s);
		return;
	}
	if (lc->now_ns < st->next_ns)
		return;
	st->gap_ns = SL_MIN(st->gap_ns * 2u, SL_HSTATUS_REFRESH_MAX_NS);
	sl_hstatus_send(lc, p, st, s);
}

/* sl_hstatus_over counts one more message on *n in the one-second meter
   window (STATUS and NEW_BLOCK share the window, each has its count);
   true when the count passed max. */
static bool sl_hstatus_over(sl_lcore_t *lc, sl_hstatus_peer_t *st, uint16_t *n, uint32_t max)
{
	if (lc->now_ns - st->win >= SL_HSTATUS_WIN_NS) {
		st->win = lc->now_ns;
		st->status_n = 0;
		st->nb_n = 0;
	}
	if (++*n <= max)
		return false;
	*n = (uint16_t)(max + 1); /* no wrap */
	return true;
}

bool sl_hstatus_rx(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st, sl_hrec_t *rec,
                   const sl_wire_status_t *m)
{
	if (sl_hstatus_over(lc, st, &st->status_n, SL_HSTATUS_PER_S)) {
		sl_hrec_spam(lc, p, rec, SL_WIRE_T_STATUS);
		return false;
	}
	SL_CNT_ADD(&lc->cnt->hs_status_rx, 1);
	sl_evt_peer_status_t e = {.best_height = m->best_height,
	                          .finalized_height = m->finalized_height};
	memcpy(e.best_hash, m->best_hash, 32);
	memcpy(e.chainwork, m->chainwork, 32);
	sl_routine_event(lc, SL_EVT_PEER_STATUS, p->sid, sl_sid_gen(p->sid), &e, sizeof e);
	return true;
}

void sl_hstatus_new_block_rx(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st,
                             sl_hrec_t *rec, const sl_chain_profile_t *prof,
                             const sl_wire_new_block_t *nb)
{
	if (sl_hstatus_over(lc, st, &st->nb_n, SL_HSTATUS_NEW_BLOCK_PER_S)) {
		sl_hrec_spam(lc, p, rec, SL_WIRE_T_NEW_BLOCK);
		return;
	}
	sl_evt_new_block_t e = {.height = nb->height};
	memcpy(e.hdr, nb->header, sizeof e.hdr);
	sl_sha256d_hdr(e.hdr, e.hash); /* untrusted input: hashed here, once */
	if (SL_UNLIKELY(sl_chain_check_pow(prof, e.hdr, e.hash) != SL_CHAIN_OK)) {
		sl_hrec_bad(lc, p, SL_WIRE_T_NEW_BLOCK);
		return;
	}
	SL_CNT_ADD(&lc->cnt->hs_new_block_rx, 1);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_new_block_rx, 1);
	sl_routine_event(lc, SL_EVT_NEW_BLOCK, p->sid, sl_sid_gen(p->sid), &e, sizeof e);
}

void sl_hstatus_new_block_tx(sl_lcore_t *lc, sl_routine_peer_t *p, const sl_cmd_new_block_t *c)
{
	sl_wire_msg_t msg;
	memset(&msg, 0, sizeof msg);
	msg.new_block.height = c->height;
	memcpy(msg.new_block.header, c->hdr, sizeof msg.new_block.header);
	if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_HSYNC, SL_WIRE_T_NEW_BLOCK, 0, &msg) != 0)
		return;
	SL_CNT_ADD(&lc->cnt->hs_new_block_tx, 1);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_new_block_tx, 1);
}
