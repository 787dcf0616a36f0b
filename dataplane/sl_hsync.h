/* sl_hsync.h — the header-sync routine (stream 5, SPEC §5) of a live
   session: the serving side, the STATUS push and park (DESIGN.md "Peer
   routines", "Commands to routines" -> Park, "Header store").

   Serving.  GET_HEADERS is answered from the committed chain the dataplane
   maps read-only (sl_store.h reader on [ctrl] store, one reader shared by
   every lcore, opened by the main lcore once ctrl has created the store),
   without a round trip to ctrl:
     over the per-session serving budget (token bucket, [sync] serve_rate
       requests/s, serve_burst deep; while several sessions ask, each
       refills at min(serve_rate, serve_total / sessions asking within
       the last second))                     NOT_FOUND(BUSY) + SPAM record
     count > 2000                            NOT_FOUND(TOO_MANY) + SPAM record
     no store yet                            NOT_FOUND(BUSY)
     start > committed tip                   NOT_FOUND(BEYOND_TIP)
     anchor non-zero and not the hash of header start-1 (compared with the
       prev field of header start)           NOT_FOUND(UNKNOWN_ANCHOR)
     otherwise ceil(n/17) HEADERS frames (corr = the request's), n truncated
       at the tip, LAST on the final one.  The headers are copied from the
       map straight into the frames inside one reader_begin / reader_end
       section; when a truncation moved the chain epoch meanwhile, the
       frames are freed unsent and the answer is NOT_FOUND(BUSY).
   SPAM records are record-only (SPEC §5): never a disconnect; at most one
   MISBEHAVIOR event per session per second reaches ctrl, every one is
   counted (hs_spam).

   STATUS.  Sent from the status ctrl publishes in the region when the
   session opens and whenever the published version moves (checked once
   per poll cycle, coalesced: the latest value wins).  STATUS has no
   acknowledgement and a lost one would leave the peer blind to our tip
   until it moves, so the latest one is repeated SL_HSYNC_REFRESH_NS after it
   was sent, then at doubling intervals up to SL_HSYNC_REFRESH_MAX_NS (a new
   tip starts over).  At most one STATUS per SL_HSYNC_STATUS_GAP_NS goes to a
   peer (a syncing node's tip moves with every commit; the peer's spam
   meter allows 10/s): a newer tip waits for the gap, then goes out.  A
   peer's STATUS is
   recorded (its best height); more than SL_HSYNC_STATUS_PER_S in one second
   is SPAM and ignored.

   Park.  When ctrl parks the session's header-sync service (sl_cmdq_park:
   an undeliverable never-drop command, or `peer.park`), the routine drops
   its header-sync state the first time it looks (a stream-5 frame, the
   tick, the STATUS push), stops sending STATUS and drops the session's
   later stream-5 frames (drop reason hs_parked; per-session counter
   hs_parked_drop).  The session and its other streams stay.  A new install
   (a reconnect) is a new generation: not parked.

   Pull (the requesting side, DESIGN.md "The range table", routine pull).
   A valid STATUS emits PEER_STATUS and records the peer's tip.  The pull
   phase (coalesced: the table's work epoch moved, a slot freed, a retry
   delay passed, or once a second) lets every live, unparked session with
   a valid STATUS, a free expectation slot (at most the flow window, see
   sl_flow.h: it starts at 1, grows while complete answers come back and
   halves on BUSY and lost answers, bounded by [sync] inflight), no BUSY
   hold running and its empty-retry delay passed take a range (sl_rangeq_take, cap 2000),
   while the lcore's event outbox has room for a whole answer above its
   reserve and no backlog (sl_evq_room; else the pull waits for ctrl:
   hs_pull_deferred), and
   ask for it: take -> GET_HEADERS (anchor: hash of our committed header
   start-1 when mapped, else zero) -> record the expectation -> WORK_ASSIGNED
   (msg.corr = the request's corr), in one step; a send failure returns the
   range at once (SEND_FAIL + WORK_RETURNED, retry delay).
   HEADERS for an outstanding corr: heights inside the request, PoW of each
   header against its own bits (profile [chain] profile), linkage inside
   the batch; a failure is record-only BAD_DATA (MISBEHAVIOR disconnect 0),
   the batch is discarded, the range returned INVALID (+ WORK_RETURNED),
   and p is not asked again before the empty-retry delay.
   Otherwise HEADERS event + headers_rx probe (an event the full ring
   refuses is not credited: the range goes back, CANCEL, hs_event_full;
   the same for a WORK_ASSIGNED it refuses); all heights in, or LAST
   seen: the expectation ends (LAST with heights missing, like NOT_FOUND:
   return NOT_FOUND + WORK_RETURNED and a 1 s empty-retry delay).
   An expectation whose hold the table no longer has (the reactor covered
   the range with answers to other requests, reset it, or took it back)
   ends at the next tick without WORK_RETURNED (hs_exp_dropped): nothing
   is waited for in vain.
   A request without a single answer frame after SL_HSYNC_NOANSWER_NS was
   lost (or its answer was): the range goes back (NOT_FOUND, hs_no_answer)
   and may be asked again at once.
   Deadlines before completions: these deadlines (no answer, quiet,
   stale; a fetch's quiet / stale) are judged by one function for the
   deadline phase (sl_hsync_tick) and for the answer path, which checks them
   first: a HEADERS or NOT_FOUND for a request whose deadline passed —
   even when the deadline phase has not run since — ends the request as
   the deadline would have, and is itself a late answer (hs_late_drop),
   never credited.
   An answer whose last frame is older than SL_HSYNC_QUIET_NS (its LAST was
   lost) ends like one cut by LAST.  Heights missing after an answer that
   brought some (frames lost on the way) go back at once and may be taken
   again without the empty-retry delay; an empty answer, or one the peer
   cut short (LAST before the end of the request), waits it.
   A HEADERS / NOT_FOUND whose corr names an expectation that ended early
   (dropped by DROP_EXPECTATION, refused, cut by LAST or NOT_FOUND) is a
   late answer: dropped silently (hs_late_drop), remembered per session for
   the last SL_HSYNC_CLOSED_MAX such corrs (the "late credits").  A HEADERS
   matching neither is protocol misbehaviour: GOODBYE(PROTOCOL), teardown.
   Teardown and park return every outstanding range (DISCONNECT / PARK,
   each with WORK_RETURNED) and forget_peer the session.

   NEW_BLOCK.  A NEW_BLOCK whose header meets its own target goes to ctrl
   (SL_EVT_NEW_BLOCK); one that does not is record-only BAD_DATA; more than
   SL_HSYNC_NEW_BLOCK_PER_S in a second is SPAM, ignored.  FORWARD_NEW_BLOCK
   commands are sent as NEW_BLOCK frames (not while the peer's BACKOFF
   holds stream 5: dropped, advisory).

   Fetches.  SEND_FRAME(SL_SEND_FETCH) makes the routine send ctrl's own
   GET_HEADERS (ctrl's corr and anchor) and route its answer to ctrl
   (sl_msg.h SL_CMDQ_V_SEND_FRAME), with the same checks as a pull
   (heights inside the request, PoW, linkage in the batch).  Up to
   SL_HSYNC_FETCH_MAX fetches per session run at once, each found by its
   corr; one more replaces the oldest.

   Fault injection (CONFIG_SL_TEST_HOOKS only, [dataplane] fault_bad_pow =
   n): every n-th answer served carries one header whose bits were raised
   out of reach.

   Owner: the lcore owning the session (single thread, no atomics), except
   the shared reader, which any lcore reads. */
#ifndef SL_HSYNC_H
#define SL_HSYNC_H

#include "sl_chain.h"
#include "sl_flow.h"
#include "sl_lcore.h"
#include "sl_stream.h"
#include "sl_rangeq.h"
#include "sl_region.h"
#include "sl_wire.h"

#define SL_HSYNC_STATUS_PER_S 10u /* STATUS from a peer per second before SPAM */
/* Most HEADERS frames one reply takes: ceil(2000 / 17). */
#define SL_HSYNC_REPLY_FRAMES                                                                      \
	((SL_WIRE_GET_HEADERS_MAX + SL_WIRE_HEADERS_MAX - 1) / SL_WIRE_HEADERS_MAX)

#define SL_HSYNC_RETRY_NS        (1000000000ull)  /* empty-retry delay */
#define SL_HSYNC_PULL_IDLE_NS    (1000000000ull)  /* pull scan at least this often */
#define SL_HSYNC_STATUS_PULL_NS  (50000000ull)    /* pull this long after a new tip */
#define SL_HSYNC_EXP_STALE_NS    (60000000000ull) /* local safety net: 2 x timeout */
#define SL_HSYNC_CLOSED_MAX      16u              /* late corrs remembered per session */
#define SL_HSYNC_QUIET_NS        (300000000ull)   /* an answer silent this long has ended */
#define SL_HSYNC_NOANSWER_NS     (1000000000ull)  /* no frame of an answer this long: lost */
#define SL_HSYNC_REFRESH_NS      (1000000000ull)  /* first STATUS repeat after a send */
#define SL_HSYNC_STATUS_GAP_NS   (200000000ull)   /* at most 5 STATUS/s to a peer (SPEC: < 10) */
#define SL_HSYNC_EVENT_ROOM      (SL_HSYNC_REPLY_FRAMES + 16u) /* event ring room to take work */
#define SL_HSYNC_EVENT_WAIT_NS   (1000000ull)     /* retry the pull this soon when short */
#define SL_HSYNC_REFRESH_MAX_NS  (30000000000ull) /* repeats back off up to this */
#define SL_HSYNC_NEW_BLOCK_PER_S 10u              /* NEW_BLOCK from a peer per second before SPAM */

/* One outstanding GET_HEADERS (an expectation).  A pool of
   SL_SESSIONS_PER_LCORE x inflight of them per lcore, made at start-up. */
typedef struct {
	uint64_t corr;                                /* 0: free */
	uint64_t sent_ns;                             /* when the request went out */
	uint64_t last_ns;                             /* last frame of its answer, 0 none */
	sl_range_t r;                                 /* as take filled it */
	uint32_t got;                                 /* distinct heights received */
	uint64_t bits[(SL_RANGEQ_LEN_MAX + 63) / 64]; /* heights received, r.start based */
} sl_hsync_exp_t;

/* One fetch ctrl asked for (SEND_FRAME, kind FETCH).  A session holds up
   to SL_HSYNC_FETCH_MAX at once (the branch fetch and the ops' attempts run
   side by side); a new one when all are taken replaces the oldest, whose
   stragglers are then dropped as late. */
#define SL_HSYNC_FETCH_MAX 8u
typedef struct {
	uint64_t corr;    /* SL_FETCH_CORR_BIT set; 0: free */
	uint64_t last_ns; /* sent, or last frame of its answer */
	uint32_t start;   /* first height */
	uint32_t got;     /* headers received */
	uint16_t count;   /* heights asked */
	uint16_t rsvd[3];
} sl_hsync_fetch_t;

/* Per-session header-sync state (the routine's block, zeroed on install). */
typedef struct {
	uint8_t on;                             /* stream 5 negotiated and not parked */
	uint8_t parked;                         /* the park was seen: state dropped */
	uint16_t status_n;                      /* STATUS received in the current meter window */
	uint64_t status_win;                    /* start of that window (ns) */
	uint64_t status_sent;                   /* version of the local status last sent, 0 none */
	uint64_t status_next_ns;                /* repeat it then (STATUS may be lost) */
	uint64_t status_last_ns;                /* when a STATUS last went to this peer */
	uint64_t status_gap_ns;                 /* current repeat interval */
	uint64_t serve_ns;                      /* token bucket: time of the last refill */
	uint64_t serve_milli;                   /* tokens x 1000 */
	uint64_t serve_ask_ns;                  /* its last GET_HEADERS */
	uint8_t serve_asking;                   /* counted in serve_asking of the lcore */
	uint64_t spam_ev_ns;                    /* last SPAM event sent to ctrl, 0 none */
	uint8_t peer_status;                    /* a STATUS was accepted */
	uint8_t n_exp;                          /* outstanding expectations */
	uint8_t closed_at;                      /* next entry of closed[] to overwrite */
	uint64_t corr_next;                     /* request ids: fresh per session */
	uint64_t retry_ns;                      /* empty-retry: no pull before this, 0 none */
	sl_flow_t flow;                         /* request window and BUSY hold */
	uint64_t closed[SL_HSYNC_CLOSED_MAX];   /* corrs whose late answers are dropped */
	uint16_t nb_n;                          /* NEW_BLOCK in the current meter window */
	uint32_t peer_best_height;              /* the peer's tip from its STATUS */
	sl_hsync_fetch_t f[SL_HSYNC_FETCH_MAX]; /* ctrl's fetches (SEND_FRAME) */
} sl_hsync_peer_t;

/* Per-lcore: the local status last read from the region; the pull state. */
typedef struct {
	uint64_t seq_seen;                 /* the region's status_seq at that read */
	sl_local_status_t local;           /* its value (version 0: none yet) */
	const sl_chain_profile_t *profile; /* [chain] profile, for PoW */
	sl_rangeq_t *q;                    /* the region's range table */
	sl_hsync_exp_t *exp;               /* SL_SESSIONS_PER_LCORE x inflight */
	uint32_t inflight;                 /* [sync] inflight */
	uint64_t epoch_seen;               /* work epoch at the last pull scan */
	uint64_t pull_at_ns;               /* next pull scan at the latest */
	uint32_t serve_rate, serve_burst;  /* [sync]: the serving budget per session */
	uint32_t serve_total;              /* [sync]: shared by the sessions asking */
	uint32_t serve_asking;             /* sessions that asked within SL_HSYNC_ASKING_NS */
#if SL_TEST_HOOKS
	uint32_t fault_bad_pow; /* [dataplane] fault_bad_pow */
	uint32_t fault_n;       /* answers served since the last corruption */
#endif
} sl_hsync_lcore_t;

/* The descriptor (registered at start-up).  Hooks:
     init / fini  per lcore: profile, range table, the expectation pool
                  (SL_SESSIONS_PER_LCORE x inflight) on the lcore's socket;
     start        stream 5 negotiated: full serving budget, the current
                  local status out as STATUS (if ctrl published one);
     stop         every outstanding range back (DISCONNECT, each with
                  WORK_RETURNED), p's holds forgotten; idempotent;
     parked       whether p's service is parked; the first time it finds
                  the park it drops p's header-sync state;
     input        one decoded stream-5 message of an unparked service;
                  never tears the session down;
     command      DROP_EXPECTATION, FORWARD_NEW_BLOCK, SEND_FRAME fetch
                  (others and malformed ones are counted stale);
     tick         a park noticed even on a silent stream 5; STATUS repeat;
                  fetch and expectation deadlines;
     pull         STATUS push when the published status moved, then the
                  coalesced work pull (O(1) when nothing moved). */
extern const sl_stream_t sl_hsync_desc;

#endif /* SL_HSYNC_H */
