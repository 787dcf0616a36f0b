/* sl_reconcile.h — a belt under never-lost events (dataplane/sl_evq.h):
   ctrl's record of the sessions it saw come up, checked once a second
   against the region's session tables.

   The dataplane tears a session's table slot down and emits its
   SESSION_DOWN in the same step; the event outbox never loses it.  Should
   one still go missing (a bug: the lcore's evt_critical_lost moves), ctrl
   would keep a ghost peer UP forever.  This module notices: a session
   whose SESSION_UP ctrl routed, whose SESSION_DOWN it has not, and whose
   slot has not held it live on two sweeps in a row while that lcore's
   event ring and backlog were empty, is reported by a synthetic
   SESSION_DOWN (exit FAULT, sl_msg.h layout) through the same hook as a
   real one, counted and logged.  A late real SESSION_DOWN after that is
   a repeat ctrl already ignores (sl_node's down_recent).

   Owner: the ctrl loop (sl_dplink), single threaded.  Memory: one u32 and
   one flag per (lcore, slot), allocated at attach (calloc; not a hot
   path).  Reads the region only (sl_session_snapshot, ring and backlog
   depths). */
#ifndef SL_RECONCILE_H
#define SL_RECONCILE_H

#include "sl_base.h"
#include "sl_msg.h"
#include "sl_region.h"

#define SL_RECONCILE_NS (1000ULL * 1000000ULL) /* sweep period */

/* Where a synthetic event goes (sl_dplink's event hook). */
typedef void (*sl_reconcile_emit_fn)(void *ctx, const sl_msg_t *m, uint64_t now_ns);

typedef struct {
	uint32_t n_lcores;
	uint32_t *sid;       /* [lcore * SL_SESSIONS_PER_LCORE + slot]: up, no DOWN yet; 0 none */
	uint8_t *gone;       /* same index: not live on the last sweep */
	uint64_t next_ns;    /* next sweep */
	uint64_t reconciled; /* synthetic SESSION_DOWNs so far */
} sl_reconcile_t;

/* sl_reconcile_init prepares rc for a region of `n_lcores` lcores (none
   tracked).  Returns 0, or -1 (log line) when out of memory or n_lcores is
   0 or over SL_MAX_LCORES. */
int sl_reconcile_init(sl_reconcile_t *rc, uint32_t n_lcores);

/* sl_reconcile_fini frees rc's memory (safe on a zeroed rc). */
void sl_reconcile_fini(sl_reconcile_t *rc);

/* sl_reconcile_seen records one event routed to ctrl: SESSION_UP starts
   tracking its session, SESSION_DOWN of the tracked one stops it; other
   types and out-of-range ids are ignored. */
void sl_reconcile_seen(sl_reconcile_t *rc, const sl_msg_t *m);

/* sl_reconcile_sweep (every tick; works at most every SL_RECONCILE_NS)
   checks every tracked session against region r (see above) and emits a
   synthetic SESSION_DOWN through emit(ctx, ...) for each one gone for two
   sweeps while its lcore had nothing left to deliver.  Call it right
   after draining the event rings.  Returns the number emitted. */
uint32_t sl_reconcile_sweep(sl_reconcile_t *rc, const sl_region_t *r, uint64_t now_ns,
                            sl_reconcile_emit_fn emit, void *ctx);

#endif /* SL_RECONCILE_H */
