/* sl_hfetch.h — fetches the header-sync routine runs for ctrl
   (SEND_FRAME, kind FETCH; sl_msg.h): ctrl's own GET_HEADERS (ctrl's corr,
   SL_FETCH_CORR_BIT set, and anchor) sent to the peer, its answer checked
   as a pull's is (sl_expect_check's reason, heights inside the request,
   PoW, linkage in the batch: sl_hanswer.h) and routed to ctrl as
   SL_EVT_HEADERS flagged FETCH.  Each fetch is an expectation in the
   session's unordered sl_expect table (ctrl chooses the corrs), up to
   SL_HFETCH_MAX at once (the branch fetch and the ops' attempts run side
   by side); one more replaces the one heard from least recently, whose
   stragglers are then late.

   A fetch ends silently when every height came; otherwise with
   SL_EVT_FETCH_END to ctrl: BAD (bad data, recorded BAD_DATA), SHORT (LAST
   with heights missing, quiet for SL_HANSWER_QUIET_NS, no answer in
   SL_HANSWER_STALE_NS, or ctrl's event ring full), SEND (not sent), or the
   peer's NOT_FOUND reason.  Every end keeps the corr in the late memory.
   A HEADERS under a fetch corr this session never had is protocol
   misbehaviour (GOODBYE(PROTOCOL)); a NOT_FOUND is dropped.

   Owner: the lcore owning the session (single thread). */
#ifndef SL_HFETCH_H
#define SL_HFETCH_H

#include "sl_chain.h"
#include "sl_expect.h"
#include "sl_routine.h"

#define SL_HFETCH_MAX 8u /* fetches per session at once */

/* Per-lcore: each slot's fetch table. */
typedef struct {
	size_t tab_sz; /* bytes per slot's table */
	uint8_t *tabs; /* SL_SESSIONS_PER_LCORE tables of SL_HFETCH_MAX */
} sl_hfetch_lcore_t;

/* sl_hfetch_init: the tables on lc's socket; 0, or -1 with a log line. */
int sl_hfetch_init(sl_lcore_t *lc, sl_hfetch_lcore_t *g);

/* sl_hfetch_fini frees what init made. */
void sl_hfetch_fini(sl_hfetch_lcore_t *g);

/* sl_hfetch_start: p's table empty (a new session, or a park). */
void sl_hfetch_start(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g);

/* sl_hfetch_send (SEND_FRAME, kind FETCH): ctrl's GET_HEADERS to p.  A
   malformed command is counted stale. */
void sl_hfetch_send(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g,
                    const sl_cmd_fetch_t *cmd);

/* sl_hfetch_headers / sl_hfetch_not_found: an answer frame under corr (a
   fetch's corr space: SL_FETCH_CORR_BIT set). */
void sl_hfetch_headers(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g,
                       const sl_chain_profile_t *prof, uint64_t corr, const sl_wire_headers_t *hd);
void sl_hfetch_not_found(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g, uint64_t corr,
                         const sl_wire_not_found_t *nf);

/* sl_hfetch_tick ends p's fetches past a deadline (SHORT). */
void sl_hfetch_tick(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hfetch_lcore_t *g);

#endif /* SL_HFETCH_H */
