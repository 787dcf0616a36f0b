/* sl_hrec.c — record-only misbehaviour of a header-sync peer (see sl_hrec.h). */
#include "sl_hrec.h"

void sl_hrec_spam(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hrec_t *r, uint8_t type)
{
	SL_CNT_ADD(&lc->cnt->hs_spam, 1);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_spam, 1);
	if (r->spam_ev_ns != 0 && lc->now_ns - r->spam_ev_ns < SL_HREC_SPAM_EVENT_NS)
		return;
	r->spam_ev_ns = lc->now_ns;
	sl_evt_misbehavior_t e = {
	    .kind = SL_MISB_SPAM, .stream = SL_WIRE_STREAM_HSYNC, .type = type, .disconnect = 0};
	sl_routine_event(lc, SL_EVT_MISBEHAVIOR, p->sid, p->gen, &e, sizeof e);
	SL_PROBE_MISBEHAVIOR(p->sid, SL_MISB_SPAM);
}

void sl_hrec_bad(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t type)
{
	SL_CNT_ADD(&lc->cnt->hs_invalid, 1);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_invalid, 1);
	sl_evt_misbehavior_t m = {.kind = SL_MISB_BAD_DATA,
	                          .stream = SL_WIRE_STREAM_HSYNC,
	                          .type = type,
	                          .disconnect = 0};
	sl_routine_event(lc, SL_EVT_MISBEHAVIOR, p->sid, sl_sid_gen(p->sid), &m, sizeof m);
	SL_PROBE_MISBEHAVIOR(p->sid, SL_MISB_BAD_DATA);
}
