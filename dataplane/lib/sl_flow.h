/* sl_flow.h — a header-sync requester's flow control toward one peer
   (DESIGN.md "Routine pull"): how many GET_HEADERS may be outstanding now
   (the window) and how long to hold back after a NOT_FOUND(BUSY).
   Pure logic: no I/O, no clock reads, no allocation; time is
   CLOCK_MONOTONIC nanoseconds passed in.  One sl_flow_t per session,
   embedded in the header-sync routine's per-peer state and owned by the
   session's lcore.

   Window, like TCP's congestion window: it starts at 1 and grows by one
   per complete answer while below the threshold (slow start: it doubles
   per round trip), then by one per window's worth of complete answers;
   never above max ([sync] inflight, <= SL_INFLIGHT_MAX).  A BUSY or a
   lost answer halves it (at least 1) and sets the threshold there.

   BUSY retry: the first BUSY of an episode holds new requests back
   SL_FLOW_BUSY_BASE_NS, each further BUSY of the same episode twice the
   previous delay, up to SL_FLOW_BUSY_MAX_NS.  BUSY answers that arrive
   while a hold is running (the other outstanding requests of the same
   burst) neither grow the delay nor shrink the window again.  A complete
   answer ends the episode: the next BUSY starts from the base again. */
#ifndef SL_FLOW_H
#define SL_FLOW_H

#include "sl_base.h"

#define SL_FLOW_BUSY_BASE_NS (2000000ull)   /* first hold after BUSY: 2 ms */
#define SL_FLOW_BUSY_MAX_NS  (256000000ull) /* holds grow up to this */

typedef struct {
	uint16_t win;     /* requests allowed outstanding now, 1..max */
	uint16_t max;     /* the ceiling ([sync] inflight) */
	uint16_t thresh;  /* slow start below this, +1 per window above */
	uint16_t acked;   /* complete answers since the window last grew */
	uint8_t busy;     /* holds in the current BUSY episode */
	uint64_t hold_ns; /* no new request before this (0: none) */
} sl_flow_t;

/* sl_flow_init: window 1, threshold `max`, no hold.  max is clamped to
   1..65535. */
void sl_flow_init(sl_flow_t *f, uint32_t max);

/* sl_flow_window: how many requests may be outstanding now (1..max). */
static inline uint32_t sl_flow_window(const sl_flow_t *f)
{
	return f->win;
}

/* sl_flow_held: whether new requests wait at `now` (a BUSY hold runs). */
static inline bool sl_flow_held(const sl_flow_t *f, uint64_t now)
{
	return now < f->hold_ns;
}

/* sl_flow_ok: a request was answered in full: the BUSY episode ends and
   the window grows (see above). */
void sl_flow_ok(sl_flow_t *f);

/* sl_flow_busy: NOT_FOUND(BUSY) at `now`.  Outside a hold: the window
   halves, the hold is base << (holds so far) (capped) and starts now.
   Inside a hold: nothing changes.  Returns the end of the hold. */
uint64_t sl_flow_busy(sl_flow_t *f, uint64_t now);

/* sl_flow_loss: an answer was lost or went quiet (a timeout): the window
   halves (at least 1) and the threshold follows it; no hold. */
void sl_flow_loss(sl_flow_t *f);

#endif
