/* sl_sess_stream.c — the session-stream routine (see sl_sess_stream.h). */
#include "sl_sess_stream.h"

#include <math.h>
#include <string.h>

#include "sl_log.h"

/* sl_sess_stream_phi_cfg: the lcore's detector configuration. */
static const sl_phi_cfg_t *sl_sess_stream_phi_cfg(const sl_lcore_t *lc)
{
	return sl_routine_lcore_state(lc, SL_WIRE_STREAM_SESSION);
}

static uint64_t sl_sess_stream_keepalive_ns(const sl_lcore_t *lc)
{
	return (uint64_t)lc->dp->cfg.keepalive_ms * 1000000ull;
}

static void sl_sess_stream_start(sl_lcore_t *lc, sl_routine_peer_t *p, void *st)
{
	sl_sess_stream_peer_t *ss = st;
	(void)p;
	if (sl_phi_init(&ss->phi, sl_sess_stream_phi_cfg(lc), lc->now_ns) != SL_PHI_ERR_OK)
		SL_WARN("worker %u: phi configuration refused", lc->idx);
	sl_rtt_init(&ss->rtt);
	ss->next_ping_ns = lc->now_ns;
	ss->live_ns = lc->now_ns;
	ss->ping_sent_ns = 0;
	ss->pong_echo_ns = 0;
}

/* sl_sess_stream_pong: RTT sample, and a phi heartbeat when the PONG answers one of
   our PINGs not answered before (see the liveness design in the header). */
static void sl_sess_stream_pong(sl_lcore_t *lc, sl_routine_peer_t *p, sl_sess_stream_peer_t *ss,
                                uint64_t echo_ns)
{
	bool ours = ss->ping_sent_ns != 0 && echo_ns >= ss->live_ns &&
	            echo_ns <= ss->ping_sent_ns && echo_ns > ss->pong_echo_ns;
	if (!ours)
		return;
	if (sl_rtt_sample(&ss->rtt, lc->now_ns, echo_ns) != SL_RTT_ERR_OK)
		return;
	ss->pong_echo_ns = echo_ns;
	sl_phi_heartbeat(&ss->phi, lc->now_ns);
	sl_session_set_rtt(sl_routine_sess(lc, p), sl_rtt_srtt_us(&ss->rtt));
}

/* sl_sess_stream_op_pong: the PONG of a ctrl PING goes back to ctrl (its corr). */
static void sl_sess_stream_op_pong(sl_lcore_t *lc, sl_routine_peer_t *p, uint64_t corr,
                                   uint64_t echo_ns)
{
	sl_evt_pong_t e = {.status = SL_PONG_OK,
	                   .rtt_ns = echo_ns <= lc->now_ns ? lc->now_ns - echo_ns : 0};
	sl_routine_event_corr(lc, SL_EVT_PONG, p->sid, p->gen, corr, &e, sizeof e);
}

static void sl_sess_stream_command(sl_lcore_t *lc, sl_routine_peer_t *p, void *st,
                                   const sl_msg_t *m)
{
	(void)st;
	sl_cmd_ping_t c;
	if (p->state != SL_ROUTINE_LIVE || p->gen != m->gen || m->len < sizeof c) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	memcpy(&c, m->payload, sizeof c);
	if (SL_UNLIKELY(c.kind != SL_SEND_PING || (c.corr & SL_FETCH_CORR_BIT) == 0)) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	sl_wire_msg_t ping = {.ping = {.sender_time_ns = lc->now_ns}};
	if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_SESSION, SL_WIRE_T_PING, c.corr, &ping) !=
	    0) {
		sl_evt_pong_t e = {.status = SL_PONG_SEND};
		sl_routine_event_corr(lc, SL_EVT_PONG, p->sid, p->gen, c.corr, &e, sizeof e);
	}
}

static void sl_sess_stream_liveness_event(sl_lcore_t *lc, sl_routine_peer_t *p,
                                          const sl_sess_stream_peer_t *ss, uint16_t state)
{
	double phi = sl_phi_value(&ss->phi, lc->now_ns);
	sl_evt_liveness_t e = {.state = state,
	                       .phi_milli = isfinite(phi) && phi < 4e6 ? (uint32_t)(phi * 1000.0)
	                                                               : UINT32_MAX,
	                       .rtt_us = sl_rtt_srtt_us(&ss->rtt)};
	sl_routine_event(lc, SL_EVT_LIVENESS, p->sid, p->gen, &e, sizeof e);
}

#if SL_TEST_HOOKS
/* sl_sess_stream_fault_inject ([dataplane] fault_inject_ping): a PING whose sender
   time is the configured value breaks p's own routine state (a live time
   in the future) so that sl_routine_check, the real detection path, faults the
   session.  True when it did. */
static bool sl_sess_stream_fault_inject(sl_lcore_t *lc, sl_sess_stream_peer_t *ss,
                                        uint64_t sender_time_ns)
{
	uint64_t v = lc->dp->cfg.fault_inject_ping;
	if (SL_LIKELY(v == 0 || sender_time_ns != v))
		return false;
	ss->live_ns = UINT64_MAX;
	return true;
}
#else
static inline bool sl_sess_stream_fault_inject(sl_lcore_t *lc, sl_sess_stream_peer_t *ss,
                                               uint64_t sender_time_ns)
{
	(void)lc, (void)ss, (void)sender_time_ns;
	return false;
}
#endif

static void sl_sess_stream_input(sl_lcore_t *lc, sl_routine_peer_t *p, void *st,
                                 const sl_wire_hdr_t *h, const sl_wire_msg_t *msg, bool too_many)
{
	(void)too_many;
	switch (h->type) {
	case SL_WIRE_T_PING: { /* answered; not a heartbeat (header) */
		if (SL_UNLIKELY(sl_sess_stream_fault_inject(lc, st, msg->ping.sender_time_ns)))
			return;
		sl_wire_msg_t pong; /* only .ping is encoded: no 1.4 KB union to clear */
		pong.ping = msg->ping;
		sl_routine_reply_sess(lc, p, SL_WIRE_STREAM_SESSION, SL_WIRE_T_PONG, h->corr,
		                      &pong);
		return;
	}
	case SL_WIRE_T_PONG:
		if ((h->corr & SL_FETCH_CORR_BIT) != 0) {
			sl_sess_stream_op_pong(lc, p, h->corr, msg->ping.sender_time_ns);
			return;
		}
		sl_sess_stream_pong(lc, p, st, msg->ping.sender_time_ns);
		return;
	case SL_WIRE_T_GOODBYE:
		sl_routine_teardown(lc, p, SL_EXIT_NORMAL, 0, msg->goodbye.reason);
		return;
	case SL_WIRE_T_BACKOFF:
		sl_backoff_honour(&p->quiet, lc->now_ns, msg->backoff.backoff_ms);
		return;
	case SL_WIRE_T_HELLO_ACK:
		return; /* a repeated answer to a retried HELLO: harmless */
	default:        /* HELLO or REJECT inside a session */
		sl_routine_misbehave(lc, p, SL_MISB_UNEXPECTED, h->stream, h->type);
		return;
	}
}

static void sl_sess_stream_tick(sl_lcore_t *lc, sl_routine_peer_t *p, void *st)
{
	sl_sess_stream_peer_t *ss = st;
	if (lc->now_ns < ss->next_ping_ns)
		return;
	ss->next_ping_ns = lc->now_ns + sl_sess_stream_keepalive_ns(lc);
	sl_wire_msg_t ping = {.ping = {.sender_time_ns = lc->now_ns}};
	if (sl_routine_send_sess(lc, p, SL_WIRE_STREAM_SESSION, SL_WIRE_T_PING, 0, &ping) == 0)
		ss->ping_sent_ns = lc->now_ns;
}

static void sl_sess_stream_liveness(sl_lcore_t *lc, sl_routine_peer_t *p, void *st)
{
	sl_sess_stream_peer_t *ss = st;
	switch (sl_phi_check(&ss->phi, lc->now_ns)) {
	case SL_PHI_EV_SUSPECT:
		sl_sess_stream_liveness_event(lc, p, ss, 1);
		return;
	case SL_PHI_EV_UP:
		sl_sess_stream_liveness_event(lc, p, ss, 0);
		return;
	case SL_PHI_EV_DOWN:
		sl_routine_teardown(lc, p, SL_EXIT_LIVENESS, SL_WIRE_GOODBYE_TIMEOUT, 0);
		return;
	default:
		return;
	}
}

static int sl_sess_stream_init(sl_lcore_t *lc, void *lst)
{
	sl_phi_cfg_keepalive(lst, lc->dp->cfg.keepalive_ms * 1000u);
	return 0;
}

#if SL_INVARIANTS
static const char *sl_sess_stream_check(const sl_lcore_t *lc, const sl_routine_peer_t *p,
                                        const void *st)
{
	const sl_sess_stream_peer_t *ss = st;
	(void)p;
	if (ss->live_ns > lc->now_ns)
		return "session live time in the future";
	if (ss->pong_echo_ns > ss->ping_sent_ns)
		return "heartbeat echo newer than the latest PING";
	return NULL;
}
#endif

const sl_stream_t sl_sess_stream_desc = {
    .name = "session",
    .id = SL_WIRE_STREAM_SESSION,
    .state_sz = sizeof(sl_sess_stream_peer_t),
    .lcore_sz = sizeof(sl_phi_cfg_t),
    .send_kinds = 1u << SL_SEND_PING,
    .cmd_variants = 1u << SL_CMDQ_V_SEND_FRAME,
    .init = sl_sess_stream_init,
    .start = sl_sess_stream_start,
    .input = sl_sess_stream_input,
    .command = sl_sess_stream_command,
    .tick = sl_sess_stream_tick,
    .liveness = sl_sess_stream_liveness,
#if SL_INVARIANTS
    .check = sl_sess_stream_check,
#endif
};
