/* sl_cmd.c — the command phase (see sl_cmd.h). */
#include "sl_cmd.h"

#include <string.h>

#include "sl_msgq.h"
#include "sl_connect.h"
#include "sl_log.h"
#include "sl_routine.h"

static void sl_cmd_reject(sl_lcore_t *lc, const sl_msg_t *m)
{
	const sl_cmd_reject_t *r = (const sl_cmd_reject_t *)m->payload;
	if (SL_UNLIKELY(m->len < sizeof *r || r->peer_ip == 0 || r->peer_port == 0 ||
	                r->reply_session == 0)) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	sl_wire_msg_t msg = {.reject = {.reason = r->reason, .retry_after_s = r->retry_after_s}};
	sl_wire_hdr_t h = {.type = SL_WIRE_T_REJECT,
	                   .stream = SL_WIRE_STREAM_SESSION,
	                   .session = r->reply_session,
	                   .seq = 1,
	                   .corr = r->corr};
	sl_mac_t mac;
	memcpy(mac.b, r->peer_mac, 6);
	bool known = (mac.b[0] | mac.b[1] | mac.b[2] | mac.b[3] | mac.b[4] | mac.b[5]) != 0;
	sl_routine_send(lc, r->peer_ip, r->peer_port, known ? &mac : NULL, r->vlan_tci, &h, &msg);
}

static void sl_cmd_teardown(sl_lcore_t *lc, const sl_msg_t *m)
{
	const sl_cmd_teardown_t *t = (const sl_cmd_teardown_t *)m->payload;
	if (SL_UNLIKELY(m->len < sizeof *t || m->session >= SL_SESSIONS_PER_LCORE)) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		return;
	}
	sl_routine_peer_t *p = sl_routine_peer(lc, m->session);
	if (p->state == SL_ROUTINE_FREE || p->gen != m->gen) {
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1); /* already gone: its DOWN was sent */
		return;
	}
	sl_exit_t ex = t->exit < SL_EXIT_CNT ? (sl_exit_t)t->exit : SL_EXIT_CANCEL;
	sl_routine_teardown(lc, p, ex, t->goodbye <= SL_WIRE_GOODBYE_MAX ? t->goodbye : 0, 0);
}

/* sl_cmd_session handles a per-session record sl_cmdq_accept delivered. */
static void sl_cmd_session(sl_lcore_t *lc, const sl_msg_t *m)
{
	switch (m->type) {
	case SL_CMDQ_V_SESSION_INSTALL:
		sl_connect_install(lc, m);
		return;
	case SL_CMDQ_V_SESSION_TEARDOWN:
		sl_cmd_teardown(lc, m);
		return;
	default: /* a routine's variant: its descriptor (sl_stream.h) */
		sl_routine_command(lc, m);
		return;
	}
}

void sl_cmd_phase(sl_lcore_t *lc)
{
	sl_msg_t m;
	for (uint32_t i = 0; i < SL_CMD_DRAIN_MAX; i++) {
		if (sl_msgq_recv(lc->cmd_ring, &m) != 0)
			return;
		SL_CNT_ADD(&lc->cnt->cmds_rx, 1);
		lc->work++;
		if (m.type == SL_CMD_REJECT) {
			sl_cmd_reject(lc, &m);
			continue;
		}
		sl_cmdq_rx_t v = sl_cmdq_accept(&lc->rt->cmdq, lc->idx, &m);
		if (v == SL_CMDQ_RX_DELIVER) {
			sl_cmd_session(lc, &m);
			continue;
		}
		SL_CNT_ADD(&lc->cnt->cmds_stale, 1);
		if (v == SL_CMDQ_RX_PARKED)
			SL_PROBE_CMD_PARK(sl_sid_make(lc->idx, m.session, m.gen),
			                  SL_WIRE_STREAM_HSYNC);
	}
}
