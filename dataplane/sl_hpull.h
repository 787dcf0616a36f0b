/* sl_hpull.h — the requesting side of header sync (DESIGN.md "The range
   table", routine pull): a session with a known peer tip takes ranges
   from the shared range table and asks its peer for them; each request
   is an expectation in the session's ordered sl_expect table (its range
   in a side array by the same index).

   Requests.  The pull phase (coalesced: the table's work epoch moved, an
   expectation ended, a retry delay passed, a new peer tip, or once a
   second) lets every live, unparked session with a known tip, room in its
   flow window (sl_flow.h: starts at 1, grows while complete answers come
   back, halves on BUSY and lost answers, bounded by [sync] inflight and
   by what half the RX path can take), no BUSY hold, no BACKOFF from the
   peer and its empty-retry delay passed take a range (sl_rangeq_take, cap
   2000), while the lcore's event outbox has room above its reserve for a
   whole answer to every open request of the lcore and this one (answers
   we asked for never overflow the ring; else the pull waits for ctrl:
   hs_pull_deferred), and ask
   for it: take -> GET_HEADERS (anchor: hash of our committed header
   start-1 when mapped, else zero) -> expectation -> WORK_ASSIGNED
   (msg.corr = the request's corr), in one step; a send failure returns
   the range at once (SEND_FAIL + WORK_RETURNED, SL_HPULL_EVENT_WAIT_NS).

   Answers, by sl_expect_check's reason (each counted, sl_hanswer.h):
     UNSOLICITED HEADERS        protocol: GOODBYE(PROTOCOL), teardown
     UNSOLICITED / LATE other   dropped silently (a straggler of ours)
     EXPIRED                    the expectation ends as its deadline would
                                have ended it; the answer is not credited
     OUTSIDE, or PoW / linkage  record-only BAD_DATA, batch discarded, the
                                range back INVALID, empty-retry delay
     DUP                        heard from, nothing delivered
     OK                         SL_EVT_HEADERS to ctrl (a full event ring:
                                the range goes back CANCEL, hs_event_full,
                                and the pull waits SL_HPULL_EVENT_WAIT_NS:
                                local pressure, not the peer's fault)
   All heights in: the expectation ends (the flow window grows).  LAST with
   heights missing, or an answer quiet for SL_HANSWER_QUIET_NS: the range
   goes back (NOT_FOUND, hs_partial) — at once when frames were lost on
   the way, after the empty-retry delay when the peer cut it short.
   NOT_FOUND: the range goes back with the peer's reason (UNKNOWN_ANCHOR
   tells the reactor the peer is on another branch); BUSY holds the flow
   briefly, anything else waits the empty-retry delay.
   Deadlines (the tick): no frame of an answer in SL_HANSWER_NOANSWER_NS:
   lost, the range goes back (hs_no_answer) and may be asked again at once;
   quiet as above; open SL_HANSWER_STALE_NS: back as TIMEOUT.  An
   expectation whose hold the table no longer has (the reactor covered,
   reset or took the range back) ends without WORK_RETURNED
   (hs_exp_dropped).  DROP_EXPECTATION ends the overlapping one (CANCEL).
   Ends other than a whole answer remember the corr: its stragglers are
   LATE, never UNSOLICITED (sl_expect.h).  Teardown and park return every
   outstanding range (each with WORK_RETURNED) and forget the session's
   holds.

   Owner: the lcore owning the session (single thread). */
#ifndef SL_HPULL_H
#define SL_HPULL_H

#include "sl_chain.h"
#include "sl_expect.h"
#include "sl_flow.h"
#include "sl_rangeq.h"
#include "sl_routine.h"

#define SL_HPULL_RETRY_NS         (1000000000ull) /* empty-retry delay */
#define SL_HPULL_IDLE_NS          (1000000000ull) /* pull scan at least this often */
#define SL_HPULL_TIP_NS           (50000000ull)   /* pull this long after a new peer tip */
#define SL_HPULL_EVENT_WAIT_NS    (1000000ull)    /* retry the pull this soon when short */
/* Event ring room to take work: a whole answer and some. */
/* Event ring room a new request needs with `open` requests of the lcore
   open: a whole answer to each, and to it, plus a margin. */
#define SL_HPULL_EVENT_ROOM(open) (((open) + 1u) * SL_WIRE_REPLY_FRAMES_MAX + 16u)

/* Per-session pull state (zeroed with the routine's block). */
typedef struct {
	uint8_t tip_known;  /* a STATUS was accepted */
	uint32_t peer_best; /* the peer's tip from its STATUS */
	uint64_t corr_next; /* request ids: fresh per session */
	uint64_t retry_ns;  /* empty-retry: no pull before this, 0 none */
	sl_flow_t flow;     /* request window and BUSY hold */
} sl_hpull_peer_t;

/* Per-lcore: the range table, each slot's expectation table, the
   coalescing of the pull scan. */
typedef struct {
	const sl_chain_profile_t *profile; /* [chain] profile, for PoW */
	sl_rangeq_t *q;                    /* the region's range table */
	uint32_t inflight;                 /* [sync] inflight: entries per table */
	size_t tab_sz;                     /* bytes per slot's table */
	uint8_t *tabs;                     /* SL_SESSIONS_PER_LCORE tables */
	sl_range_t *rng;                   /* the take behind each entry, slot x inflight */
	uint64_t epoch_seen;               /* work epoch at the last pull scan */
	uint64_t pull_at_ns;               /* next pull scan at the latest */
	uint32_t open;                     /* open expectations, all slots */
} sl_hpull_lcore_t;

/* sl_hpull_init: the tables for every slot on lc's socket; 0, or -1 with
   a log line. */
int sl_hpull_init(sl_lcore_t *lc, sl_hpull_lcore_t *g, const sl_chain_profile_t *profile);

/* sl_hpull_fini frees what init made. */
void sl_hpull_fini(sl_hpull_lcore_t *g);

/* sl_hpull_start: p's table empty, its flow window at 1. */
void sl_hpull_start(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp);

/* sl_hpull_release returns every outstanding range of p (why, each with
   WORK_RETURNED) and forgets p's holds and marks in the table. */
void sl_hpull_release(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                      sl_range_why_t why);

/* sl_hpull_tip records the peer's tip from an accepted STATUS; a new one
   brings the pull scan forward (never right away: the reactor makes the
   work first). */
void sl_hpull_tip(sl_lcore_t *lc, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp, uint32_t best);

/* sl_hpull_due: whether the coalesced pull scan runs this cycle (O(1)). */
bool sl_hpull_due(sl_lcore_t *lc, sl_hpull_lcore_t *g);

/* sl_hpull_peer fills p's flow window while the gates allow (p live, its
   service on and not parked: the caller's). */
void sl_hpull_peer(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp);

/* sl_hpull_headers / sl_hpull_not_found: an answer frame under corr (a
   pull's corr space: SL_FETCH_CORR_BIT clear). */
void sl_hpull_headers(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                      sl_hpull_peer_t *pp, uint64_t corr, const sl_wire_headers_t *hd);
void sl_hpull_not_found(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g,
                        sl_hpull_peer_t *pp, uint64_t corr, const sl_wire_not_found_t *nf);

/* sl_hpull_drop (DROP_EXPECTATION): the reactor took [start, start+count)
   back: the overlapping expectation ends (the range returned CANCEL,
   a no-op unless a newer take raced the command); none: cmds_stale. */
void sl_hpull_drop(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g, uint32_t start,
                   uint32_t count);

/* sl_hpull_tick: p's expectations against the table and their deadlines. */
void sl_hpull_tick(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hpull_lcore_t *g, sl_hpull_peer_t *pp);

/* sl_hpull_open: p's outstanding expectations. */
uint32_t sl_hpull_open(const sl_lcore_t *lc, const sl_routine_peer_t *p, const sl_hpull_lcore_t *g);

#endif /* SL_HPULL_H */
