/* sl_hanswer.h — what a HEADERS answer to one of our requests (a pull's
   or a ctrl fetch's) goes through once sl_expect_check has classified
   it: the batch check (hashed once, PoW of each header against its own
   bits, linkage inside the batch), delivery to ctrl as SL_EVT_HEADERS
   with the hashes (the only hash of these headers on the sync path), and
   the count of each answer frame under its reason (one lcore counter per
   sl_expect_reason_t; LATE and EXPIRED also count hs_late_drop on the
   session).

   Owner: the lcore owning the session (single thread). */
#ifndef SL_HANSWER_H
#define SL_HANSWER_H

#include "sl_chain.h"
#include "sl_expect.h"
#include "sl_routine.h"

/* When an answer to one of our requests has ended without arriving
   whole (sl_expect_limits_t; deadlines before completions). */
#define SL_HANSWER_QUIET_NS    (300000000ull)   /* an answer silent this long has ended */
#define SL_HANSWER_NOANSWER_NS (1000000000ull)  /* no frame of a pull's answer this long: lost */
#define SL_HANSWER_STALE_NS    (60000000000ull) /* local safety net: 2 x the reactor's timeout */

/* sl_hanswer_count counts one answer frame of p under reason r. */
void sl_hanswer_count(sl_lcore_t *lc, sl_routine_peer_t *p, sl_expect_reason_t r);

/* sl_hanswer_check copies hd's headers into ev, hashes them in one batch
   call and checks PoW against each header's own bits and the linkage
   inside the batch.  NULL, or what broke ("proof of work", "linkage"). */
const char *sl_hanswer_check(const sl_chain_profile_t *prof, const sl_wire_headers_t *hd,
                             sl_evt_headers_t *ev);

/* sl_hanswer_deliver hands a checked batch (headers and hashes in ev) to
   ctrl as SL_EVT_HEADERS under corr answering request [rstart,
   rstart+rlen) with `flags`, plus the headers_rx probe and counters.  0,
   or -1 when the event ring refused it (hs_event_full; nothing else
   moves). */
int sl_hanswer_deliver(sl_lcore_t *lc, sl_routine_peer_t *p, uint64_t corr,
                       const sl_wire_headers_t *hd, sl_evt_headers_t *ev, uint16_t flags,
                       uint32_t rstart, uint32_t rlen);

#endif /* SL_HANSWER_H */
