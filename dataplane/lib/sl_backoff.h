/* sl_backoff.h — backpressure (DESIGN.md poll cycle step 6, SPEC §4
   BACKOFF), both directions.  Pure logic: no I/O, no clock reads, no
   allocation; time is CLOCK_MONOTONIC nanoseconds passed in.

   Send side — the overload meter.  Each poll cycle the lcore samples its
   ingress depth before the drain against the capacity; "over the mark" is
   depth >= mark_pct % of capacity.  Per sender (one sl_backoff_peer_t
   embedded in its session, owned by the session's lcore), each frame
   served gets an action:
     - not over the mark: NONE, and the sender RECOVERS: its notice count
       and silent mode are cleared at once (the first frame of that sender
       served in a cycle below the mark), so silent mode never outlives the
       overload;
     - over the mark, fewer than `notices` (K) notices sent: SEND_BACKOFF
       (backoff_ms >= 1 s) if the sender's back-off window has passed (at
       most one notice per backoff_ms window; the window survives recovery,
       so a load flapping round the mark still gets at most one notice per
       window), else NONE (the frame is served);
     - over the mark after K notices: DROP_SILENT (drop, count, no reply).
   The meter does not look at streams: the caller may exempt session-stream
   frames (PING/PONG/GOODBYE) from DROP_SILENT.

   Receive side — honouring a BACKOFF(ms) from a peer: a "quiet until"
   deadline per session; until it passes only stream 0 (session) frames are
   sent to that peer. */
#ifndef SL_BACKOFF_H
#define SL_BACKOFF_H

#include "sl_base.h"

#define SL_BACKOFF_MIN_MS        1000u  /* DESIGN.md: a notice asks for >= 1 s */
#define SL_BACKOFF_MS_DEFAULT    1000u  /* announced back-off and notice window */
#define SL_BACKOFF_HONOUR_MAX_MS 60000u /* a received BACKOFF is capped to this */

/* ---- errors -------------------------------------------------------------- */

#define SL_BACKOFF_ERR_LIST(X)                                                                     \
	X(OK, "ok")                                                                                \
	X(MARK, "mark")       /* mark_pct not in 1..100 */                                         \
	X(NOTICES, "notices") /* notices (K) is 0 */                                               \
	X(MS, "ms")           /* backoff_ms below SL_BACKOFF_MIN_MS */

/* clang-format off */
typedef enum sl_backoff_err {
#define SL_BACKOFF_ERR_ENUM(e, s) SL_BACKOFF_ERR_##e,
	SL_BACKOFF_ERR_LIST(SL_BACKOFF_ERR_ENUM)
#undef SL_BACKOFF_ERR_ENUM
	SL_BACKOFF_ERR_CNT
} sl_backoff_err_t;
/* clang-format on */

/* sl_backoff_err_str names an error ("mark"); "?" when out of range. */
const char *sl_backoff_err_str(sl_backoff_err_t err);

/* ---- send side: the overload meter --------------------------------------- */

typedef struct sl_backoff_cfg {
	uint32_t mark_pct;   /* over the mark at depth >= mark_pct % of capacity */
	uint32_t notices;    /* K: notices to a sender before silent drops */
	uint32_t backoff_ms; /* announced in each notice; also the notice window */
} sl_backoff_cfg_t;

typedef enum sl_backoff_action {
	SL_BACKOFF_NONE = 0,        /* serve the frame */
	SL_BACKOFF_SEND = 1,        /* serve it, and send BACKOFF(*backoff_ms) to the sender */
	SL_BACKOFF_DROP_SILENT = 2, /* drop it silently (counted by the caller) */
} sl_backoff_action_t;

/* Per-sender meter state (16 bytes). */
typedef struct sl_backoff_peer {
	uint64_t next_notice_ns; /* no notice to this sender before this time */
	uint32_t notices;        /* notices sent since the last recovery */
	uint32_t pad_;
} sl_backoff_peer_t;

/* sl_backoff_cfg_default fills *cfg from the build config: mark
   SL_BACKOFF_MARK_PCT (75), K = SL_BACKOFF_NOTICES (3), 1000 ms. */
void sl_backoff_cfg_default(sl_backoff_cfg_t *cfg);

/* sl_backoff_cfg_check validates a configuration (run-time config input). */
sl_backoff_err_t sl_backoff_cfg_check(const sl_backoff_cfg_t *cfg);

/* sl_backoff_over_mark says whether `depth` (ingress depth before the
   drain) is at or above cfg->mark_pct % of `capacity`; false when capacity
   is 0.  Computed once per poll cycle.  Precondition: cfg checked. */
bool sl_backoff_over_mark(const sl_backoff_cfg_t *cfg, uint32_t depth, uint32_t capacity);

/* The lcore's load signal with a hold: a cycle over the mark keeps the
   lcore "over" for hold_ns after it, so a queue that fills in bursts (an
   lcore that sleeps or stalls between drains) reads as one overload rather
   than flapping over/under every cycle — a flapping signal would recover
   every sender at once and silent mode would never be reached.  Load falls
   (recovery) once hold_ns pass with no cycle over the mark: silent mode
   ends a bounded time after the overload does. */
#define SL_BACKOFF_HOLD_NS_DEFAULT (100ull * 1000000ull) /* 100 ms */

typedef struct sl_backoff_load {
	uint64_t over_until_ns; /* "over" until this time (0: never was) */
} sl_backoff_load_t;

/* sl_backoff_load_update takes one poll cycle's sample (depth before the
   drain vs capacity) at now_ns and returns whether the lcore is over the
   mark: this sample is (sl_backoff_over_mark), or one was less than
   hold_ns before now_ns.  Precondition: cfg checked; *l zeroed at start. */
bool sl_backoff_load_update(const sl_backoff_cfg_t *cfg, sl_backoff_load_t *l, uint64_t now_ns,
                            uint32_t depth, uint32_t capacity, uint64_t hold_ns);

/* sl_backoff_peer_init formats a sender's state: no notices, window open. */
void sl_backoff_peer_init(sl_backoff_peer_t *peer);

/* sl_backoff_step is the per-frame decision for a frame of `peer` served at
   now_ns in a cycle that is (`over`) or is not over the mark; see the rules
   at the top.  On SL_BACKOFF_SEND *backoff_ms is set to cfg->backoff_ms.
   Precondition: cfg checked.  O(1), no side effect but *peer. */
sl_backoff_action_t sl_backoff_step(const sl_backoff_cfg_t *cfg, sl_backoff_peer_t *peer,
                                    uint64_t now_ns, bool over, uint32_t *backoff_ms);

/* sl_backoff_on_frame is sl_backoff_step with `over` computed from (depth,
   capacity) by sl_backoff_over_mark. */
sl_backoff_action_t sl_backoff_on_frame(const sl_backoff_cfg_t *cfg, sl_backoff_peer_t *peer,
                                        uint64_t now_ns, uint32_t depth, uint32_t capacity,
                                        uint32_t *backoff_ms);

/* sl_backoff_silent says whether `peer` is in silent mode (K notices sent
   and not yet recovered). */
static inline bool sl_backoff_silent(const sl_backoff_cfg_t *cfg, const sl_backoff_peer_t *peer)
{
	return peer->notices >= cfg->notices;
}

/* sl_backoff_action_str names an action ("send"); "?" when out of range. */
const char *sl_backoff_action_str(sl_backoff_action_t a);

/* ---- receive side: honouring a peer's BACKOFF ---------------------------- */

typedef struct sl_backoff_quiet {
	uint64_t until_ns; /* only session frames to this peer before this time */
} sl_backoff_quiet_t;

/* sl_backoff_quiet_init formats *q as not quiet. */
void sl_backoff_quiet_init(sl_backoff_quiet_t *q);

/* sl_backoff_honour takes a BACKOFF(backoff_ms) received at now_ns: the
   quiet deadline becomes now + backoff_ms (capped to
   SL_BACKOFF_HONOUR_MAX_MS), or stays where it is if that is later.
   backoff_ms 0 changes nothing.  Returns the deadline in force. */
uint64_t sl_backoff_honour(sl_backoff_quiet_t *q, uint64_t now_ns, uint32_t backoff_ms);

/* sl_backoff_should_send says whether a frame on `stream` may be sent to
   the peer at now_ns: always for stream 0 (session), otherwise only once
   the quiet deadline has passed (now_ns >= until_ns). */
static inline bool sl_backoff_should_send(const sl_backoff_quiet_t *q, uint8_t stream,
                                          uint64_t now_ns)
{
	return stream == 0 || now_ns >= q->until_ns;
}

#endif /* SL_BACKOFF_H */
