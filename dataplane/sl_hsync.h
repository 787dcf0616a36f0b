/* sl_hsync.h — the header-sync routine (stream 5, SPEC §5) of a live
   session: one stream descriptor composed of its concerns, each its own
   module with its own per-session and per-lcore state:
     sl_hserve   serving GET_HEADERS from the mapped chain, the budget;
     sl_hstatus  STATUS and NEW_BLOCK, both ways;
     sl_hpull    the pull: ranges taken and asked for, their answers;
     sl_hfetch   ctrl's fetches (SEND_FRAME);
   on the expectation table (sl_expect.h, in dataplane/lib) and the
   answer checks (sl_hanswer.h); record-only misbehaviour in sl_hrec.h.
   This module routes input and commands to them and owns the park
   (DESIGN.md "Commands to routines" -> Park).  They call downward only.

   Answers are routed by corr: SL_FETCH_CORR_BIT set -> sl_hfetch, else
   sl_hpull.  An accepted STATUS gives the pull its peer tip.

   Park.  When ctrl parks the session's header-sync service (sl_cmdq_park:
   an undeliverable never-drop command, or `peer.park`), the routine drops
   its header-sync state the first time it looks (a stream-5 frame, the
   tick, the STATUS push, the pull): every outstanding range goes back
   (PARK, with WORK_RETURNED), fetches are forgotten, no STATUS goes out,
   and the session's later stream-5 frames are dropped (drop reason
   hs_parked; per-session counter hs_parked_drop).  The session and its
   other streams stay.  A new install (a reconnect) is a new generation:
   not parked.

   Owner: the lcore owning the session (single thread, no atomics), except
   the shared store reader, which any lcore reads. */
#ifndef SL_HSYNC_H
#define SL_HSYNC_H

#include "sl_hfetch.h"
#include "sl_hpull.h"
#include "sl_hrec.h"
#include "sl_hserve.h"
#include "sl_hstatus.h"
#include "sl_stream.h"

/* Per-session header-sync state (the routine's block, zeroed on install). */
typedef struct {
	uint8_t on;     /* stream 5 negotiated and not parked */
	uint8_t parked; /* the park was seen: state dropped */
	sl_hrec_t rec;
	sl_hserve_peer_t serve;
	sl_hstatus_peer_t status;
	sl_hpull_peer_t pull;
} sl_hsync_peer_t;

/* Per-lcore header-sync state. */
typedef struct {
	const sl_chain_profile_t *profile; /* [chain] profile, for PoW */
	sl_hserve_lcore_t serve;
	sl_hstatus_lcore_t status;
	sl_hpull_lcore_t pull;
	sl_hfetch_lcore_t fetch;
} sl_hsync_lcore_t;

/* The descriptor (registered at start-up).  Hooks:
     init / fini  per lcore: profile, budget, the pull's and the fetches'
                  expectation tables on the lcore's socket;
     start        stream 5 negotiated: full serving budget, empty tables,
                  the current local status out as STATUS (if published);
     stop         every outstanding range back (DISCONNECT, each with
                  WORK_RETURNED), p's holds forgotten; idempotent;
     parked       whether p's service is parked; the first time it finds
                  the park it drops p's header-sync state;
     input        one decoded stream-5 message of an unparked service;
                  tears the session down only for an unsolicited HEADERS;
     command      DROP_EXPECTATION, FORWARD_NEW_BLOCK, SEND_FRAME fetch
                  (others and malformed ones are counted stale);
     tick         a park noticed even on a silent stream 5; serving share;
                  STATUS repeat; fetch and pull deadlines;
     pull         STATUS push when the published status moved, then the
                  coalesced pull (O(1) when nothing moved). */
extern const sl_stream_t sl_hsync_desc;

#endif /* SL_HSYNC_H */
