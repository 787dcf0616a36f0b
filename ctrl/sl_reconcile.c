/* sl_reconcile.c — see sl_reconcile.h. */
#include "sl_reconcile.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sl_msgq.h"
#include "sl_log.h"
#include "sl_session.h"

int sl_reconcile_init(sl_reconcile_t *rc, uint32_t n_lcores)
{
	memset(rc, 0, sizeof *rc);
	if (n_lcores == 0 || n_lcores > SL_MAX_LCORES) {
		SL_ERR("reconcile: %u lcores (1..%u)", n_lcores, (unsigned)SL_MAX_LCORES);
		return -1;
	}
	size_t n = (size_t)n_lcores * SL_SESSIONS_PER_LCORE;
	rc->sid = calloc(n, sizeof *rc->sid);
	rc->gone = calloc(n, sizeof *rc->gone);
	if (rc->sid == NULL || rc->gone == NULL) {
		SL_ERR("reconcile: cannot allocate the session record of %u lcores", n_lcores);
		sl_reconcile_fini(rc);
		return -1;
	}
	rc->n_lcores = n_lcores;
	return 0;
}

void sl_reconcile_fini(sl_reconcile_t *rc)
{
	free(rc->sid);
	free(rc->gone);
	memset(rc, 0, sizeof *rc);
}

/* reconcile_idx: the record index of session `sid`, or -1. */
static long reconcile_idx(const sl_reconcile_t *rc, uint32_t sid)
{
	uint32_t lc = sl_sid_lcore(sid);
	if (sid == 0 || lc >= rc->n_lcores)
		return -1;
	return (long)lc * SL_SESSIONS_PER_LCORE + (long)sl_sid_slot(sid);
}

void sl_reconcile_seen(sl_reconcile_t *rc, const sl_msg_t *m)
{
	if (rc->sid == NULL || (m->type != SL_EVT_SESSION_UP && m->type != SL_EVT_SESSION_DOWN))
		return;
	long i = reconcile_idx(rc, m->session);
	if (i < 0)
		return;
	if (m->type == SL_EVT_SESSION_UP) {
		rc->sid[i] = m->session;
		rc->gone[i] = 0;
	} else if (rc->sid[i] == m->session) {
		rc->sid[i] = 0;
		rc->gone[i] = 0;
	}
}

/* reconcile_quiet: lcore i has nothing left to deliver: its event ring is
   empty and its backlog (sl_evq) holds nothing. */
static bool reconcile_quiet(const sl_region_t *r, uint32_t i)
{
	const sl_lcore_cnt_t *c = &sl_region_lcore(r, i)->cnt;
	return SL_CNT_GET(&c->evt_backlog_depth) == 0 &&
	       sl_msgq_room(sl_region_event_ring(r, i)) == r->hdr->event_ring_depth - 1u;
}

static void reconcile_down(sl_reconcile_t *rc, uint32_t lcore, uint32_t sid, uint64_t now_ns,
                           sl_reconcile_emit_fn emit, void *ctx)
{
	sl_msg_t m;
	memset(&m, 0, offsetof(sl_msg_t, payload));
	sl_evt_session_down_t d = {.exit = SL_EXIT_FAULT};
	m.type = SL_EVT_SESSION_DOWN;
	m.len = sizeof d;
	m.lcore = lcore;
	m.session = sid;
	m.gen = sl_sid_gen(sid);
	memcpy(m.payload, &d, sizeof d);
	rc->reconciled++;
	SL_WARN("session %u: the dataplane ended it but its SESSION_DOWN never came; "
	        "reported down now (%" PRIu64 " so far)",
	        sid, rc->reconciled);
	if (emit != NULL)
		emit(ctx, &m, now_ns);
}

uint32_t sl_reconcile_sweep(sl_reconcile_t *rc, const sl_region_t *r, uint64_t now_ns,
                            sl_reconcile_emit_fn emit, void *ctx)
{
	if (rc->sid == NULL || now_ns < rc->next_ns)
		return 0;
	rc->next_ns = now_ns + SL_RECONCILE_NS;
	uint32_t emitted = 0;
	uint32_t n = SL_MIN(rc->n_lcores, r->hdr->n_lcores);
	for (uint32_t i = 0; i < n; i++) {
		const sl_session_table_t *t = sl_region_sess(r, i);
		bool quiet = reconcile_quiet(r, i);
		for (uint32_t slot = 0; slot < SL_SESSIONS_PER_LCORE; slot++) {
			size_t k = (size_t)i * SL_SESSIONS_PER_LCORE + slot;
			uint32_t sid = rc->sid[k];
			if (sid == 0)
				continue;
			sl_session_info_t in;
			if (sl_session_snapshot(t, slot, &in) == 1 && in.sid == sid) {
				rc->gone[k] = 0;
				continue;
			}
			if (!rc->gone[k] || !quiet) {
				rc->gone[k] = 1; /* a DOWN may still be on its way */
				continue;
			}
			rc->sid[k] = 0;
			rc->gone[k] = 0;
			reconcile_down(rc, i, sid, now_ns, emit, ctx);
			emitted++;
		}
	}
	return emitted;
}
