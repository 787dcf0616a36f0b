/* sl_reactor.h — the header-sync reactor of sluice-ctrl (DESIGN.md
   "Control plane" → Header-sync reactor, "The range table"; SPEC.md §5,
   §7).  Owner: sluice-ctrl's main thread (single writer, nothing locked);
   it is the range table's only producer.

   Driven by events (what the routines report) and a tick; every effect on
   the world is an explicit call on an object it was given (the range table
   sl_rangeq_t, the header chain through sl_reactor_chain_t) or an output
   the caller executes (sl_reactor_poll_out: DROP_EXPECTATION commands to
   send with sl_cmdq_send, misbehaviour to record, fork suspicions).

   Work.  Forward work is kept ensured from the committed tip + 1 toward the
   best live peer tip, never past the sync target, and never more than
   max_ahead ranges (max_ahead * range_len heights) above the tip: that is
   also the bound of the commit buffer (headers outside it are dropped).

   Commit.  Headers are buffered by height (the first copy of a height
   wins) and committed strictly by height through chain.append, one group
   per contiguous run from tip + 1 (on tick, or at once when a run reaches
   a whole range).  The committed interval is marked covered in the table;
   the cover of a range the tip cuts is deferred while it is assigned
   (until its rest is committed, or the assignment is returned or timed
   out), so a partial answer is credited and only the rest goes back to the
   queue, and a delivered rest, buffered here, is never fetched again.  A header
   the chain refuses drops its whole batch, re-queues the sender's range
   (return INVALID) and yields a MISBEHAVIOR output (a LINK refusal from a
   peer advertising more work than ours yields FORK instead).

   Timeouts.  The reactor is the timeout authority: an assignment
   (PeerWorkAssigned) not delivered within timeout_ns is returned to the
   table (TIMEOUT: the peer stays marked) and yields exactly one
   DROP_EXPECTATION output; marks are expired on every sweep.  A late
   answer is still used (buffered heights are never committed twice).

   Sessions.  session_down (also used for park) forgets the peer's holds,
   tip and assignments; later events of that (session, generation) are
   ignored. */
#ifndef SL_REACTOR_H
#define SL_REACTOR_H

#include "sl_base.h"
#include "sl_chainstore.h"
#include "sl_cmdq.h"
#include "sl_rangeq.h"

#define SL_REACTOR_MAX_AHEAD_DEFAULT  32u /* ranges */
#define SL_REACTOR_MAX_PEERS_DEFAULT  64u
#define SL_REACTOR_MAX_ASSIGN_DEFAULT 1024u                   /* tracked assignments */
#define SL_REACTOR_TIMEOUT_DEFAULT    (30ull * 1000000000ull) /* ns */
#define SL_REACTOR_SWEEP_DEFAULT      (5ull * 1000000000ull)  /* ns */
#define SL_REACTOR_CHECK_NS           (250ull * 1000000ull)   /* ns, CONFIG_SL_INVARIANTS */
#define SL_REACTOR_NO_TARGET          UINT32_MAX
#define SL_REACTOR_HASH_LEN           32u /* a header hash, wire order */

/* The header chain the reactor commits to: the wiring adapter over
   sl_chainstore (which needs sl_chainstore_append / _truncate for it; see
   the report).  Called from the reactor's thread only. */
typedef struct {
	void *ctx;
	/* tip fills the chain's tip (what the next append extends). */
	void (*tip)(void *ctx, sl_chainstore_tip_t *out);
	/* durable returns the committed height: at most the tip, below it while
	   appended headers wait for their group commit (the status reports it;
	   a reactor made on a surviving table forgets its work above the tip,
	   so heights lost to a crash before their commit are fetched again).
	   NULL: append commits before it returns (durable = tip). */
	uint32_t (*durable)(void *ctx);
	/* append validates hdrs[0..n) as heights start.. (start = tip + 1)
	   with the chain rules and accepts the valid prefix: committed as one
	   group before it returns, or later (durable).  hashes[32 * i] is hdrs[80 * i]'s hash,
	   computed once where the header entered and carried here: the chain
	   must use it, not hash again (sl_chainstore_append_hashed).
	   *committed = headers committed.  OK; INVALID with *fail at the first
	   refused height; STORE when the store failed (nothing refused: the
	   reactor retries later); ARG on a wrong supplied hash. */
	sl_chainstore_err_t (*append)(void *ctx, uint32_t start, const uint8_t *hdrs,
	                              const uint8_t *hashes, uint32_t n, uint32_t *committed,
	                              sl_chainstore_fail_t *fail);
	/* truncate keeps heights 0..height (a reorg); OK or STORE. */
	sl_chainstore_err_t (*truncate)(void *ctx, uint32_t height);
	/* get copies committed header `height` and/or its hash; OK or
	   NOT_FOUND. */
	sl_chainstore_err_t (*get)(void *ctx, uint32_t height, uint8_t hdr[80], uint8_t hash[32]);
} sl_reactor_chain_t;

typedef struct {
	sl_rangeq_t *q;           /* the range table (window >= max_ahead + 2) */
	sl_reactor_chain_t chain; /* all four calls set */
	uint32_t max_ahead;       /* 0: default; ranges above the tip */
	uint32_t max_peers;       /* 0: default */
	uint32_t max_assign;      /* 0: default */
	uint64_t timeout_ns;      /* 0: default (30 s) */
	uint64_t sweep_ns;        /* 0: default (5 s, at most timeout_ns) */
} sl_reactor_opts_t;

typedef struct sl_reactor sl_reactor_t;

/* What the caller executes (sl_reactor_poll_out). */
typedef enum {
	SL_REACTOR_OUT_DROP_EXPECTATION = 1, /* sl_cmdq_send(DROP_EXPECTATION) to sess;
	                                        PARK_REQUIRED -> park + session_down */
	SL_REACTOR_OUT_MISBEHAVIOR,          /* record-only BAD_DATA of sess */
	SL_REACTOR_OUT_FORK,                 /* sess advertises a heavier branch:
	                                        fetch it, then sl_reactor_reorg_to */
} sl_reactor_out_kind_t;

typedef struct {
	uint32_t kind; /* sl_reactor_out_kind_t */
	uint32_t sess, gen;
	sl_cmdq_drop_exp_t drop; /* DROP_EXPECTATION payload: {gen, start, count} */
	uint32_t height;         /* MISBEHAVIOR: refused height; FORK: our height it differs at */
	uint32_t peer_tip;       /* FORK: the peer's advertised tip */
	int reason;              /* MISBEHAVIOR: sl_chain_err_t (or store reason + 100, or
	                            SL_REACTOR_FALSE_TIP) */
} sl_reactor_out_t;

/* MISBEHAVIOR reason: the peer answered NOT_FOUND(BEYOND_TIP) at `height`,
   at or below the tip its STATUS claimed; the claim was cut to height - 1. */
#define SL_REACTOR_FALSE_TIP  (-1)
/* MISBEHAVIOR reason: we hold the peer's STATUS tip (height and hash) and
   its headers carry less chainwork than the STATUS claimed. */
#define SL_REACTOR_FALSE_WORK (-2)

/* A peer's STATUS (SPEC §5). */
typedef struct {
	uint32_t best_height;
	uint8_t best_hash[32];
	uint8_t chainwork[32]; /* big-endian */
} sl_reactor_peer_status_t;

typedef enum {
	SL_REACTOR_IDLE = 0, /* no live peer, nothing to do */
	SL_REACTOR_SYNCING,  /* tip below min(best peer tip, target) */
	SL_REACTOR_SYNCED,   /* tip at min(best peer tip, target) */
} sl_reactor_state_t;

/* sync.status. */
typedef struct {
	uint32_t state;    /* sl_reactor_state_t */
	uint32_t tip;      /* durable: min(appended, the store's durable height) */
	uint32_t appended; /* appended to the store, durable or not (>= tip); the
	                      heights `committed` counts end here */
	uint32_t target;   /* SL_REACTOR_NO_TARGET: follow the best peer */
	uint32_t best_peer_height;
	uint32_t peers;
	uint32_t queued, held, covered; /* range table */
	uint32_t buffered;              /* heights waiting for commit */
	uint32_t assignments;           /* tracked */
	double committed_per_s;
	uint64_t committed;   /* headers committed by the reactor */
	uint64_t timeouts;    /* assignments timed out */
	uint64_t invalid;     /* batches refused by the chain */
	uint64_t dup;         /* headers already buffered or committed */
	uint64_t outside;     /* headers outside the commit window */
	uint64_t ignored;     /* events of dead sessions */
	uint64_t forks;       /* FORK outputs */
	uint64_t reorgs;      /* reorg_to done */
	uint64_t out_full;    /* outputs deferred or dropped: queue full */
	uint64_t stray_holds; /* holds of dead sessions the sweeper removed */
	uint64_t false_tips;  /* STATUS tips a peer then could not serve (claim cut) */
	uint64_t false_works; /* STATUS chainwork its tip's headers do not reach */
	uint64_t inv_checks;  /* range table conservation checks run (CONFIG_SL_INVARIANTS) */
	uint64_t inv_broken;  /* of which found the table broken */
} sl_reactor_status_t;

/* Sweep result. */
typedef struct {
	int check;           /* sl_rangeq_check: 0 or -sl_rangeq_bad_t */
	uint32_t dead_holds; /* holds of dead sessions found (and forgotten) */
	uint32_t marks;      /* marks expired */
} sl_reactor_sweep_t;

/* sl_reactor_new checks the options (table geometry, chain calls), reads
   the committed tip, credits live forward ranges at or below it and drops
   the forward work above it (a table that outlived a ctrl restart: what
   was accepted there but not committed is fetched again) and allocates
   the bounded buffers.  NULL (and a log line) on bad options or no
   memory. */
sl_reactor_t *sl_reactor_new(const sl_reactor_opts_t *o);

/* sl_reactor_delete frees the reactor (the table and chain are the
   caller's).  NULL is a no-op. */
void sl_reactor_delete(sl_reactor_t *r);

/* sl_reactor_on_status (PeerStatusUpdated) records the peer's tip, flags a
   FORK when it claims more work than ours with another hash at a height we
   have, and ensures forward work toward the best tip. */
void sl_reactor_on_status(sl_reactor_t *r, uint32_t sess, uint32_t gen,
                          const sl_reactor_peer_status_t *st);

/* sl_reactor_on_work_assigned (PeerWorkAssigned) arms the timeout of
   `range` (as take filled it) at now_ns + timeout.  When the tracking
   table is full the oldest assignment's deadline is what bounds it: the
   new one is refused and returned to the table (CANCEL) with a
   DROP_EXPECTATION output.  Returns 0, or -1 when refused. */
int sl_reactor_on_work_assigned(sl_reactor_t *r, uint32_t sess, uint32_t gen,
                                const sl_range_t *range, uint64_t now_ns);

/* sl_reactor_on_work_returned (WorkReturned) forgets an assignment the
   routine already gave back to the table itself.  nf_reason: the peer's
   NOT_FOUND reason (0 none); UNKNOWN_ANCHOR from a peer advertising more
   work than ours means it is on another branch: a FORK output (once per
   advertised tip). */
void sl_reactor_on_work_returned(sl_reactor_t *r, uint32_t sess, uint32_t gen,
                                 const sl_range_t *range, uint16_t nf_reason);

/* sl_reactor_on_headers (PeerHeadersReceived) buffers n headers (PoW and
   in-batch linkage already checked by the routine) at heights start..;
   heights committed, already buffered or beyond the window are counted
   and skipped.  `hashes` (hashes[32 * k] = sha256d of header k, as the
   routine computed it) is buffered with each header and handed to
   chain.append: no header is hashed again on the way to the store.  NULL
   hashes (a caller without them): each buffered header is hashed here,
   once.  Commits at once when the run from tip + 1 reaches range_len, else
   on tick. */
void sl_reactor_on_headers(sl_reactor_t *r, uint32_t sess, uint32_t gen, uint32_t start, uint32_t n,
                           const uint8_t *hdrs, const uint8_t *hashes, uint64_t now_ns);

/* sl_reactor_on_session_down (SessionDown, or park) forgets (sess, gen):
   its holds in the table, its tip, its assignments. */
void sl_reactor_on_session_down(sl_reactor_t *r, uint32_t sess, uint32_t gen);

/* sl_reactor_tick commits what is contiguous, expires assignments past
   their deadline, applies deferred covers, keeps forward work ensured,
   updates the commit rate and, every sweep_ns, sweeps (marks, dead
   holds, invariant).  With CONFIG_SL_INVARIANTS the range table's
   conservation check also runs every SL_REACTOR_CHECK_NS.  now_ns:
   CLOCK_MONOTONIC (sl_now_ns). */
void sl_reactor_tick(sl_reactor_t *r, uint64_t now_ns);

/* sl_reactor_poll_out pops the next output: 1 and *out, 0 when none.
   Drain after every event / tick (the queue is bounded; a full queue
   defers timeouts and drops advisory outputs, counted in out_full). */
int sl_reactor_poll_out(sl_reactor_t *r, sl_reactor_out_t *out);

/* sl_reactor_reorg_to makes the chain end at fork_height (< tip): the
   table's forward work above it is reset (DROP_EXPECTATION outputs for
   the removed holds), buffered headers and assignments above it are
   dropped, the store is truncated and work is ensured again from
   fork_height + 1.  OK, ARG (fork_height >= tip) or STORE. */
sl_chainstore_err_t sl_reactor_reorg_to(sl_reactor_t *r, uint32_t fork_height);

/* sl_reactor_chain_moved re-reads the committed tip after the chain moved
   forward outside the reactor (header.import): buffered copies of the
   heights committed meanwhile are dropped, the commit is credited in the
   table and work is ensured from the new tip.  (A truncation outside the
   reactor is not supported: use sl_reactor_reorg_to.) */
void sl_reactor_chain_moved(sl_reactor_t *r);

/* sl_reactor_set_target (sync.start {to_height?}): ensure no work above
   to_height; SL_REACTOR_NO_TARGET follows the best peer tip. */
void sl_reactor_set_target(sl_reactor_t *r, uint32_t to_height);

/* sl_reactor_busy: SYNCING without the table scan sl_reactor_status
   makes (the ctrl loop asks on every tick). */
bool sl_reactor_busy(const sl_reactor_t *r);

/* sl_reactor_goal: the height the sync heads for now, min(best live peer
   tip, target); at most the tip when there is nothing to fetch. */
uint32_t sl_reactor_goal(const sl_reactor_t *r);

/* sl_reactor_tip: the committed tip as the reactor last read it (before
   sl_reactor_chain_moved, the tip before an outside move). */
uint32_t sl_reactor_tip(const sl_reactor_t *r);

/* sl_reactor_peer_tip: the best height (sess, gen)'s latest STATUS
   claimed; false when no STATUS of it is known (or it went down). */
bool sl_reactor_peer_tip(const sl_reactor_t *r, uint32_t sess, uint32_t gen, uint32_t *tip);

/* sl_reactor_status fills sync.status (scans the table: O(window)). */
void sl_reactor_status(const sl_reactor_t *r, sl_reactor_status_t *out);

/* sl_reactor_ranges (the `ranges` API) writes up to cap live ranges of
   the table, lowest start first; returns how many were written. */
uint32_t sl_reactor_ranges(const sl_reactor_t *r, sl_range_info_t *out, uint32_t cap);

/* sl_reactor_sweep is the invariant sweeper (also run by tick): expires
   marks, forgets holds of sessions seen down and, with
   CONFIG_SL_INVARIANTS, checks the table (a broken one: inv_broken +1 and
   one SL_ERR "range table invariant broken").  Returns the check result
   (0 or -sl_rangeq_bad_t; always 0 without the option); fills *out when
   non-NULL. */
int sl_reactor_sweep(sl_reactor_t *r, sl_reactor_sweep_t *out);

/* sl_reactor_state_str: "idle", "syncing", "synced" ("?" otherwise). */
const char *sl_reactor_state_str(unsigned s);

#endif /* SL_REACTOR_H */
