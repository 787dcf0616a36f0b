/* sl_sess_stream.c — the session-stream routine (see sl_sess_stream.h). */
#include "sl_sess_stream.h"

#include <math.h>
#include <string.h>

#include "sl_log.h"

static uint64_t sl_ss_keepalive_ns(const sl_lcore_t *lc)
{
	return (uint64_t)lc->dp->cfg.keepalive_ms * 1000000ull;
}

void sl_ss_start(sl_lcore_t *lc, sl_peer_t *p)
{
	if (sl_phi_init(&p->phi, &lc->rt->phi_cfg, lc->now_ns) != SL_PHI_ERR_OK)
		SL_WARN("worker %u: phi configuration refused", lc->idx);
	sl_rtt_init(&p->rtt);
	sl_backoff_peer_init(&p->bo);
	sl_backoff_quiet_init(&p->quiet);
	p->next_ping_ns = lc->now_ns;
	p->live_ns = lc->now_ns;
	p->ping_sent_ns = 0;
	p->pong_echo_ns = 0;
}

/* sl_ss_pong: RTT sample, and a phi heartbeat when the PONG answers one of
   our PINGs not answered before (see the liveness design in the header). */
static void sl_ss_pong(sl_lcore_t *lc, sl_peer_t *p, uint64_t echo_ns)
{
	bool ours = p->ping_sent_ns != 0 && echo_ns >= p->live_ns && echo_ns <= p->ping_sent_ns &&
	            echo_ns > p->pong_echo_ns;
	if (!ours)
		return;
	if (sl_rtt_sample(&p->rtt, lc->now_ns, echo_ns) != SL_RTT_ERR_OK)
		return;
	p->pong_echo_ns = echo_ns;
	sl_phi_heartbeat(&p->phi, lc->now_ns);
	sl_session_set_rtt(&lc->rt->tab->slot[sl_rt_slot(lc, p)], sl_rtt_srtt_us(&p->rtt));
}

/* sl_ss_op_pong: the PONG of a ctrl PING goes back to ctrl (its corr). */
static void sl_ss_op_pong(sl_lcore_t *lc, sl_peer_t *p, uint64_t corr, uint64_t echo_ns)
{
	sl_evt_pong_t e = {.status = SL_PONG_OK,
	                   .rtt_ns = echo_ns <= lc->now_ns ? lc->now_ns - echo_ns : 0};
	sl_rt_event_corr(lc, SL_EVT_PONG, p->sid, p->gen, corr, &e, sizeof e);
}

void sl_ss_command(sl_lcore_t *lc, sl_peer_t *p, const sl_msg_t *m)
{
	sl_cmd_ping_t c;
	if (p->state != SL_PEER_LIVE || p->gen != m->gen || m->len < sizeof c) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	memcpy(&c, m->payload, sizeof c);
	if (SL_UNLIKELY(c.kind != SL_SEND_PING || (c.corr & SL_FETCH_CORR_BIT) == 0)) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	sl_wire_msg_t ping = {.ping = {.sender_time_ns = lc->now_ns}};
	if (sl_rt_send_sess(lc, p, SL_WIRE_STREAM_SESSION, SL_WIRE_T_PING, c.corr, &ping) != 0) {
		sl_evt_pong_t e = {.status = SL_PONG_SEND};
		sl_rt_event_corr(lc, SL_EVT_PONG, p->sid, p->gen, c.corr, &e, sizeof e);
	}
}

static void sl_ss_liveness_event(sl_lcore_t *lc, sl_peer_t *p, uint16_t state)
{
	double phi = sl_phi_value(&p->phi, lc->now_ns);
	sl_evt_liveness_t e = {.state = state,
	                       .phi_milli = isfinite(phi) && phi < 4e6 ? (uint32_t)(phi * 1000.0)
	                                                               : UINT32_MAX,
	                       .rtt_us = sl_rtt_srtt_us(&p->rtt)};
	sl_rt_event(lc, SL_EVT_LIVENESS, p->sid, p->gen, &e, sizeof e);
}

#if SL_TEST_HOOKS
/* sl_ss_fault_inject ([dataplane] fault_inject_ping): a PING whose sender
   time is the configured value breaks p's own routine state (a live time
   in the future) so that sl_rt_check, the real detection path, faults the
   session.  True when it did. */
static bool sl_ss_fault_inject(sl_lcore_t *lc, sl_peer_t *p, uint64_t sender_time_ns)
{
	uint64_t v = lc->dp->cfg.fault_inject_ping;
	if (SL_LIKELY(v == 0 || sender_time_ns != v))
		return false;
	p->live_ns = UINT64_MAX;
	return true;
}
#else
static inline bool sl_ss_fault_inject(sl_lcore_t *lc, sl_peer_t *p, uint64_t sender_time_ns)
{
	(void)lc, (void)p, (void)sender_time_ns;
	return false;
}
#endif

void sl_ss_input(sl_lcore_t *lc, sl_peer_t *p, const sl_wire_hdr_t *h, const sl_wire_msg_t *msg)
{
	switch (h->type) {
	case SL_WIRE_T_PING: { /* answered; not a heartbeat (header) */
		if (SL_UNLIKELY(sl_ss_fault_inject(lc, p, msg->ping.sender_time_ns)))
			return;
		sl_wire_msg_t pong = {.ping = msg->ping};
		sl_rt_send_sess(lc, p, SL_WIRE_STREAM_SESSION, SL_WIRE_T_PONG, h->corr, &pong);
		return;
	}
	case SL_WIRE_T_PONG:
		if ((h->corr & SL_FETCH_CORR_BIT) != 0) {
			sl_ss_op_pong(lc, p, h->corr, msg->ping.sender_time_ns);
			return;
		}
		sl_ss_pong(lc, p, msg->ping.sender_time_ns);
		return;
	case SL_WIRE_T_GOODBYE:
		sl_rt_teardown(lc, p, SL_EXIT_NORMAL, 0, msg->goodbye.reason);
		return;
	case SL_WIRE_T_BACKOFF:
		sl_backoff_honour(&p->quiet, lc->now_ns, msg->backoff.backoff_ms);
		return;
	case SL_WIRE_T_HELLO_ACK:
		return; /* a repeated answer to a retried HELLO: harmless */
	default:        /* HELLO or REJECT inside a session */
		sl_rt_misbehave(lc, p, SL_MISB_UNEXPECTED, h->stream, h->type);
		return;
	}
}

void sl_ss_deadline(sl_lcore_t *lc, sl_peer_t *p)
{
	if (lc->now_ns < p->next_ping_ns)
		return;
	p->next_ping_ns = lc->now_ns + sl_ss_keepalive_ns(lc);
	sl_wire_msg_t ping = {.ping = {.sender_time_ns = lc->now_ns}};
	if (sl_rt_send_sess(lc, p, SL_WIRE_STREAM_SESSION, SL_WIRE_T_PING, 0, &ping) == 0)
		p->ping_sent_ns = lc->now_ns;
}

void sl_ss_liveness(sl_lcore_t *lc, sl_peer_t *p)
{
	switch (sl_phi_check(&p->phi, lc->now_ns)) {
	case SL_PHI_EV_SUSPECT:
		sl_ss_liveness_event(lc, p, 1);
		return;
	case SL_PHI_EV_UP:
		sl_ss_liveness_event(lc, p, 0);
		return;
	case SL_PHI_EV_DOWN:
		sl_rt_teardown(lc, p, SL_EXIT_LIVENESS, SL_WIRE_GOODBYE_TIMEOUT, 0);
		return;
	default:
		return;
	}
}
