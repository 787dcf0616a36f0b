/* sl_branch.h — fetching a heavier branch and switching the chain to it
   (DESIGN.md "Control plane": the reactor chooses the best chain by
   cumulative work and reorgs through reset_above and store truncation;
   "Operations": every request an attempt with its own id and deadline,
   retries kept in the op).  Owner: the ctrl loop (single threaded).

   A FORK (the reactor's output: a peer advertises more work on another
   branch) starts a branch fetch from that peer, one at a time; later FORKs
   wait in a small queue (SL_BRANCH_QUEUE; more are dropped, counted).  A
   fetch is a run of attempts, each one GET_HEADERS sent by the peer's
   routine for us (SEND_FRAME, sl_cmd_fetch_t: our corr, our anchor) whose
   answer comes back as SL_EVT_HEADERS flagged FETCH and SL_EVT_FETCH_END:
     locate  ask from height s (first min(our tip, peer tip)) with anchor =
             our hash at s-1.  UNKNOWN_ANCHOR: the branch left ours below
             s-1: s steps back by 1, 2, 4, ... heights.  Headers: the first
             height whose hash differs from ours is fork + 1; when none
             differs up to our tip the peer only extends our chain (the
             fetch ends: the pull gets the rest).
     fetch   ask for the rest of the branch from its last header (anchor =
             that hash) up to the peer's tip, at most SL_BRANCH_MAX headers.
   Each attempt is one expectation (sl_expect.h, the table the routine
   keeps its own requests in): an answer is judged by sl_expect_check.
   An attempt ends when all its heights came, on FETCH_END, or at its
   deadline (SL_BRANCH_ATTEMPT_NS) — an answer found past the deadline
   ends it as the deadline would have (deadlines before completions); a
   partial answer goes on from where it stopped; SL_BRANCH_TRIES attempts
   in a row without progress, the peer going down, or the fetch's deadline
   (SL_BRANCH_DEADLINE_NS) give up.  Answers of other attempts, peers or
   generations, and heights outside the attempt, are ignored (counted
   late).

   The branch is then judged without touching the store
   (sl_chainstore_branch_check: chain rules from the fork, chainwork of
   the valid prefix): more work than our chain now -> the switch call
   (truncate to the fork, commit the branch); otherwise it is dropped. */
#ifndef SL_BRANCH_H
#define SL_BRANCH_H

#include "sl_base.h"
#include "sl_chainstore.h"
#include "sl_msg.h"

#define SL_BRANCH_MAX         100000u /* headers of a branch kept (8 MB) */
#define SL_BRANCH_QUEUE       8u      /* FORKs waiting for the running fetch */
#define SL_BRANCH_TRIES       3u      /* attempts in a row without progress */
#define SL_BRANCH_ATTEMPT_NS  (2ull * 1000000000ull)
#define SL_BRANCH_DEADLINE_NS (120ull * 1000000000ull)

typedef struct {
	sl_chainstore_t *cs; /* our chain: read only here */
	void *ctx;
	/* send queues fetch f to the routine of (sess, gen); 0, or -1 when
	   it cannot be delivered (the fetch gives up on that peer). */
	int (*send)(void *ctx, uint32_t sess, uint32_t gen, const sl_cmd_fetch_t *f);
	/* switch_to makes the chain end at `fork` and commits hdrs[0..n) as
	   heights fork+1..; returns the headers committed, or -1. */
	int (*switch_to)(void *ctx, uint32_t fork, const uint8_t *hdrs, uint32_t n);
} sl_branch_opts_t;

typedef struct {
	uint64_t forks;     /* FORKs taken (started or queued) */
	uint64_t dropped;   /* FORKs dropped: queue full */
	uint64_t attempts;  /* requests sent */
	uint64_t late;      /* answers of attempts that had ended */
	uint64_t extends;   /* the peer only extended our chain */
	uint64_t gave_up;   /* fetches given up (no progress, peer gone, deadline) */
	uint64_t invalid;   /* branches with a header the chain rules refuse */
	uint64_t lighter;   /* branches judged not heavier: dropped */
	uint64_t switched;  /* switches made */
	uint64_t last_fork; /* fork height of the last switch */
	uint64_t last_len;  /* headers committed by the last switch */
} sl_branch_cnt_t;

typedef struct sl_branch sl_branch_t;

/* sl_branch_new allocates the branch buffer (SL_BRANCH_MAX headers).  NULL
   on bad options or no memory. */
sl_branch_t *sl_branch_new(const sl_branch_opts_t *o);

/* sl_branch_delete frees b; NULL is a no-op. */
void sl_branch_delete(sl_branch_t *b);

/* sl_branch_fork takes a FORK: (sess, gen) advertises tip peer_tip with
   more work than ours.  Starts a fetch now, or queues it. */
void sl_branch_fork(sl_branch_t *b, uint32_t sess, uint32_t gen, uint32_t peer_tip,
                    uint64_t now_ns);

/* sl_branch_on_headers takes an SL_EVT_HEADERS flagged FETCH (msg corr). */
void sl_branch_on_headers(sl_branch_t *b, uint32_t sess, uint32_t gen, uint64_t corr,
                          const sl_evt_headers_t *e, uint64_t now_ns);

/* sl_branch_on_end takes an SL_EVT_FETCH_END (msg corr). */
void sl_branch_on_end(sl_branch_t *b, uint32_t sess, uint32_t gen, uint64_t corr,
                      const sl_evt_fetch_end_t *e, uint64_t now_ns);

/* sl_branch_session_down: a fetch from (sess, gen) gives up, a queued one
   is forgotten. */
void sl_branch_session_down(sl_branch_t *b, uint32_t sess, uint32_t gen, uint64_t now_ns);

/* sl_branch_tick ends attempts past their deadline (and the fetch past
   its own). */
void sl_branch_tick(sl_branch_t *b, uint64_t now_ns);

/* sl_branch_busy: a fetch is running. */
bool sl_branch_busy(const sl_branch_t *b);

/* sl_branch_counters reads the counters. */
void sl_branch_counters(const sl_branch_t *b, sl_branch_cnt_t *out);

#endif /* SL_BRANCH_H */
