/* sl_hrec.h — record-only misbehaviour of a header-sync peer (SPEC §5):
   SPAM (a meter passed: STATUS, NEW_BLOCK, GET_HEADERS over budget) and
   BAD_DATA (a HEADERS batch or NEW_BLOCK that fails its checks).  Never a
   disconnect: each is counted, reaches ctrl as a MISBEHAVIOR event
   (disconnect 0) and fires the misbehavior probe; SPAM events are held to
   one per session per second (every one is counted, hs_spam).

   Owner: the lcore owning the session (single thread). */
#ifndef SL_HREC_H
#define SL_HREC_H

#include "sl_routine.h"

#define SL_HREC_SPAM_EVENT_NS (1000000000ull) /* one SPAM event per second per session */

/* Per-session state (zeroed with the routine's block). */
typedef struct {
	uint64_t spam_ev_ns; /* last SPAM event sent to ctrl, 0 none */
} sl_hrec_t;

/* sl_hrec_spam records SPAM of p on message `type`: counted always; the
   event and the probe at most once a second. */
void sl_hrec_spam(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hrec_t *r, uint8_t type);

/* sl_hrec_bad records BAD_DATA of p on message `type`: counted
   (hs_invalid), the event and the probe. */
void sl_hrec_bad(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t type);

#endif /* SL_HREC_H */
