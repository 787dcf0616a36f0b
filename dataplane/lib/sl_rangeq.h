/* sl_rangeq.h — the header-sync range table (DESIGN.md "The range table").
   Lives in the shared control region; position independent (no pointers).
   Producer: the ctrl reactor.  Consumers: header-sync routines on any lcore.
   Every transition is one CAS naming the generation it expects.

   Shape.  Heights are cut into buckets of range_len heights (bucket k is
   [k*range_len, (k+1)*range_len)); bucket k lives in slot k & (window-1).
   A slot holds at most one live range (a sub-interval of its bucket), its
   holders (at most fanout (session, generation) words) and a few timed-out
   marks.  Every producer change that drops holders gives the range a new
   incarnation `tag`; a consumer's take or return names the tag it saw, so
   a stale return changes nothing.

   Threads.  ensure, mark_covered, reset_above and check are producer calls
   (one thread at a time: the reactor).  take, return, forget_peer, epoch,
   stats and range_at are safe from any thread of any process mapping the
   table, concurrently with the producer.  A session id is used by one
   thread at a time (its owning lcore). */
#ifndef SL_RANGEQ_H
#define SL_RANGEQ_H

#include "sl_base.h"

typedef struct sl_rangeq sl_rangeq_t;

/* Largest fanout a table supports (Kconfig SL_FANOUT is 1..8). */
#define SL_RANGEQ_MAX_FANOUT 8
/* Window bounds (ranges a table holds; a power of two). */
#define SL_RANGEQ_WINDOW_MIN 64u
#define SL_RANGEQ_WINDOW_MAX (1u << 20)
/* Longest range: the GET_HEADERS maximum. */
#define SL_RANGEQ_LEN_MAX    2000u

typedef enum {
	SL_RANGE_FWD = 0, /* forward: from the committed tip toward peer tips */
	SL_RANGE_BWD = 1, /* backward: down from a trusted checkpoint */
} sl_range_dir_t;

/* One assignment (what take gives out and return gives back).  start/len
   are what the peer should be asked for (possibly narrowed); slot and tag
   name the table range it came from and are opaque to callers. */
typedef struct {
	uint32_t start;
	uint32_t len;
	uint8_t dir;       /* sl_range_dir_t */
	uint8_t finalized; /* never narrowed */
	uint16_t tag;      /* incarnation of the table range */
	uint32_t slot;
} sl_range_t;

/* Results of the table calls. */
#define SL_RANGEQ_RES_LIST(X)                                                                      \
	X(OK, "ok")             /* the change was made */                                          \
	X(NOOP, "noop")         /* already queued, held or covered */                              \
	X(STALE, "stale")       /* not held by this (session, gen) any more */                     \
	X(ERR_ARGS, "err_args") /* bad arguments */                                                \
	X(ERR_FULL, "err_full") /* slot busy with a range `window` buckets away */

typedef enum {
#define SL_RANGEQ_RES_ENUM(e, s) SL_RANGEQ_##e,
	SL_RANGEQ_RES_LIST(SL_RANGEQ_RES_ENUM)
#undef SL_RANGEQ_RES_ENUM
	    SL_RANGEQ_RES_CNT
} sl_rangeq_res_t;

/* Why a holder gives a range back (the `why` of the range_return probe). */
#define SL_RANGE_WHY_LIST(X)                                                                       \
	X(TIMEOUT, "timeout")       /* re-queued; this peer stays marked */                        \
	X(DISCONNECT, "disconnect") /* session went down */                                        \
	X(PARK, "park")             /* header-sync service parked */                               \
	X(INVALID, "invalid")       /* invalid data in the answer */                               \
	X(NOT_FOUND, "not_found")   /* peer answered NOT_FOUND */                                  \
	X(SEND_FAIL, "send_fail")   /* the request could not be sent */                            \
	X(CANCEL, "cancel")         /* dropped by the routine (shutdown, reset) */

typedef enum {
	SL_RANGE_WHY_NONE = 0,
#define SL_RANGE_WHY_ENUM(e, s) SL_RANGE_WHY_##e,
	SL_RANGE_WHY_LIST(SL_RANGE_WHY_ENUM)
#undef SL_RANGE_WHY_ENUM
	    SL_RANGE_WHY_CNT
} sl_range_why_t;

/* A hold removed by reset_above: ctrl sends DROP_EXPECTATION{gen, range}
   to the routine of `sess`. */
typedef struct {
	uint32_t sess;
	uint32_t gen;
	sl_range_t range; /* the table range as it was (whole, not narrowed) */
} sl_range_hold_t;

/* Snapshot of the table (for tests, the ctrl sweeper and `ranges`). */
typedef struct {
	uint32_t window, range_len, fanout;
	uint32_t queued;        /* live ranges with no holder */
	uint32_t held;          /* live ranges with >= 1 holder */
	uint32_t covered;       /* slots whose bucket is fully covered */
	uint32_t holds;         /* (session, gen) holds in all ranges */
	uint32_t marks;         /* timed-out marks in all ranges */
	uint64_t live_heights;  /* heights queued or held */
	uint64_t ensured;       /* heights ever added by ensure */
	uint64_t covered_total; /* heights credited by mark_covered */
	uint64_t dropped;       /* heights removed by reset_above */
	uint64_t epoch;         /* work epoch */
} sl_rangeq_stats_t;

/* Per-range view for the `ranges` API. */
typedef struct {
	sl_range_t range; /* the whole live range */
	uint32_t n_holds;
	uint32_t sess[SL_RANGEQ_MAX_FANOUT];
	uint32_t gen[SL_RANGEQ_MAX_FANOUT];
} sl_range_info_t;

/* Invariant violations reported by sl_rangeq_check (negated). */
typedef enum {
	SL_RANGEQ_BAD_NONE = 0,
	SL_RANGEQ_BAD_HEADER,       /* magic / geometry damaged */
	SL_RANGEQ_BAD_SLOT,         /* a range outside its bucket or slot */
	SL_RANGEQ_BAD_HOLD,         /* a hold on a non-live slot or past fanout */
	SL_RANGEQ_BAD_DUP,          /* one session holds a range twice */
	SL_RANGEQ_BAD_CONSERVATION, /* ensured != live + covered + dropped */
} sl_rangeq_bad_t;

/* sl_rangeq_align: the alignment new and join require (a cache line). */
size_t sl_rangeq_align(void);

/* sl_rangeq_footprint returns the bytes a table of `window` ranges needs,
   or 0 if `window` is not a power of two in [64, 1<<20]. */
size_t sl_rangeq_footprint(uint32_t window);

/* sl_rangeq_new formats `mem` (footprint bytes, 64-byte aligned) as an
   empty table and returns it; NULL (and a log line) on bad arguments
   (window as for footprint, range_len in [1, 2000], fanout in [1, 8]). */
sl_rangeq_t *sl_rangeq_new(void *mem, uint32_t window, uint32_t range_len, uint32_t fanout);

/* sl_rangeq_join checks magic and layout version of an existing table
   (possibly created by another process) and returns a handle, or NULL. */
sl_rangeq_t *sl_rangeq_join(void *mem);

/* sl_rangeq_leave drops a handle (nothing to undo: the table lives on) and
   returns the table's memory; NULL for a NULL handle. */
void *sl_rangeq_leave(sl_rangeq_t *q);

/* sl_rangeq_delete unformats a table (magic cleared: later joins fail) and
   returns its memory; NULL when `mem` is not a table.  The creator only,
   once no process uses it. */
void *sl_rangeq_delete(void *mem);

/* sl_rangeq_window / _range_len / _fanout: the geometry given to new. */
uint32_t sl_rangeq_window(const sl_rangeq_t *q);
uint32_t sl_rangeq_range_len(const sl_rangeq_t *q);
uint32_t sl_rangeq_fanout(const sl_rangeq_t *q);

/* sl_rangeq_ensure (producer; rule 1) queues heights [start, start+len)
   as `dir` work, one range per bucket touched.  A bucket whose range
   already queues, holds or has covered those heights is left alone (a
   live range is only extended by heights new to its bucket, keeping its
   holders).  Returns OK if anything was queued (the work epoch moves),
   NOOP if nothing was new, ERR_FULL if some bucket's slot is busy with a
   range `window` buckets away (other buckets were still processed),
   ERR_ARGS for len 0, a wrapping interval or a bad dir. */
sl_rangeq_res_t sl_rangeq_ensure(sl_rangeq_t *q, uint32_t start, uint32_t len, sl_range_dir_t dir,
                                 bool finalized);

/* sl_rangeq_take gives `sess` (generation `gen`) the lowest queued range it
   can serve: start <= peer_tip, fewer than fanout holders, not already held
   by `sess`, no timed-out mark of (sess, gen).  A range nobody holds comes
   first; a further holder is added only on the lowest live range (the one
   the commit waits for: the end game's hedge), so two peers never fetch
   the same heights while fresh work waits.  Forward work before
   backward.  A range ending past peer_tip is narrowed to end at it, and
   the count is clamped to `cap`; a finalized range that would be narrowed
   either way is skipped instead.  Returns 1 and fills *out, or 0 when
   nothing is eligible.  Lock-free; safe from any thread or process.
   Preconditions: sess != 0, cap >= 1. */
int sl_rangeq_take(sl_rangeq_t *q, uint32_t sess, uint32_t gen, uint32_t peer_tip, uint32_t cap,
                   sl_range_t *out);

/* sl_rangeq_return (rule 3) gives back `r` (as filled by take) held by
   (sess, gen).  A range that is no longer held by exactly (sess, gen) in
   the incarnation `r` names is STALE: nothing changes (an old generation
   never touches a newer generation's hold).  why = TIMEOUT frees the hold
   for others but leaves a mark so this (sess, gen) does not take the range
   straight back (marks never count against fanout; see expire_marks);
   every other reason just clears the hold.  OK moves the work epoch.  Any
   thread. */
sl_rangeq_res_t sl_rangeq_return(sl_rangeq_t *q, uint32_t sess, uint32_t gen, const sl_range_t *r,
                                 sl_range_why_t why);

/* sl_rangeq_mark_covered (producer; rule 4) credits heights [start,
   start+len) as committed.  A range covered whole leaves the table with
   all its holders; a range covered at its low or high end shrinks to the
   rest, which is re-queued (holders dropped, new incarnation, epoch
   moves).  A cover strictly inside a range leaves it whole (credited when
   the rest arrives).  Covered heights are remembered per bucket so a later
   ensure of them is a no-op.  Returns the number of live heights that left
   the table. */
uint32_t sl_rangeq_mark_covered(sl_rangeq_t *q, uint32_t start, uint32_t len);

/* sl_rangeq_reset_above (producer; rule 5) removes every height > h from
   forward work (ranges and covered memory; a straddling range is cut to
   end at h) with all holds on the affected ranges.  The removed holds are
   written to out[0..cap) for DROP_EXPECTATION; returns how many were
   removed (more than cap means some went unreported). */
uint32_t sl_rangeq_reset_above(sl_rangeq_t *q, uint32_t h, sl_range_hold_t *out, uint32_t cap);

/* sl_rangeq_forget_peer (rule 6) drops every hold and timed-out mark of
   exactly (sess, gen); other generations of sess are untouched.  Returns
   the holds dropped; moves the epoch when any was.  The caller guarantees
   no take by (sess, gen) runs concurrently (the session's owner calls it,
   or the session is already gone from its lcore). */
uint32_t sl_rangeq_forget_peer(sl_rangeq_t *q, uint32_t sess, uint32_t gen);

/* sl_rangeq_expire_marks drops all timed-out marks (the reactor calls it
   once per timeout sweep, so a lone peer gets its range back after one
   sweep interval).  Returns the marks dropped. */
uint32_t sl_rangeq_expire_marks(sl_rangeq_t *q);

/* sl_rangeq_epoch (rule 8) reads the work epoch: it moves (acquire) after
   ensure, return and forget_peer change the table. */
uint64_t sl_rangeq_epoch(const sl_rangeq_t *q);

/* sl_rangeq_stats fills a snapshot; exact only while the table is quiet,
   approximate (never torn per field) otherwise.  Any thread. */
void sl_rangeq_stats(const sl_rangeq_t *q, sl_rangeq_stats_t *out);

/* sl_rangeq_check (producer, with consumers quiet) verifies the invariant:
   every ensured height is queued, held or covered (ensured == live +
   covered + dropped), ranges sit in their own buckets, holds only on live
   ranges, at most fanout and no session twice.  Returns 0 or
   -sl_rangeq_bad_t; fills *out when non-NULL. */
int sl_rangeq_check(const sl_rangeq_t *q, sl_rangeq_stats_t *out);

/* sl_rangeq_holds: whether (sess, gen) still holds range r as take gave
   it (same slot and incarnation, still live).  False once the producer
   covered, reset or re-incarnated it, or the hold was returned.  Any
   thread; a snapshot. */
bool sl_rangeq_holds(const sl_rangeq_t *q, uint32_t sess, uint32_t gen, const sl_range_t *r);

/* sl_rangeq_range_at reads slot `slot`: 1 and *out if it holds a live
   range, 0 otherwise.  Any thread; a snapshot. */
int sl_rangeq_range_at(const sl_rangeq_t *q, uint32_t slot, sl_range_info_t *out);

/* Names for logs, counters and the API; "?" when out of range. */
const char *sl_rangeq_res_str(sl_rangeq_res_t res);
const char *sl_rangeq_why_str(sl_range_why_t why);
const char *sl_rangeq_bad_str(int bad);

#endif /* SL_RANGEQ_H */
