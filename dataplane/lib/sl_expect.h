/* sl_expect.h — a pure expectation table: one session's outstanding
   header requests (the routine's pull, and the fetches it runs for ctrl).
   Requests found by `corr`, the heights each answer covered (bitmap),
   when it was sent and last heard from, a memory of corrs this session
   ended early ("late credits"), and one check that classifies an answer
   frame with one enum reason (the caller keeps one counter per reason).
   No clock reads, no I/O: the caller passes times and owns the memory.

   Deadlines before completions.  An open expectation past one of its
   deadlines (sl_expect_limits_t) is EXPIRED to the check even when the
   caller's deadline phase has not run since: the answer in hand is late
   and the caller ends the expectation as its deadline phase would have
   (sl_expect_due says which deadline).

   Late, never unsolicited.  An answer whose corr names an expectation
   this table ended is LATE while that corr is among the last
   SL_EXPECT_LATE_MAX ended early.  In an ordered table (corrs issued
   increasing: the pull's own) a corr at or below the highest issued that
   is not open is a straggler of ours too: LATE even after the memory
   wrapped, so an honest slow peer is never torn down.  Only a corr the
   session never issued is UNSOLICITED.  An unordered table (corrs chosen
   by someone else: ctrl's fetches) knows its stragglers by the memory
   alone.

   Owner: the lcore owning the session (single thread). */
#ifndef SL_EXPECT_H
#define SL_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SL_EXPECT_LATE_MAX 16u   /* ended corrs remembered */
#define SL_EXPECT_LEN_MAX  2000u /* heights per expectation */
#define SL_EXPECT_CAP_MAX  64u   /* expectations per table at most */

/* When an open expectation has ended without its answer (all in ns). */
typedef struct {
	uint64_t quiet_ns;    /* its answer began, then nothing for this long */
	uint64_t noanswer_ns; /* not one frame of an answer for this long */
	uint64_t stale_ns;    /* open this long at all */
} sl_expect_limits_t;

typedef struct {
	uint64_t corr;    /* 0: free */
	uint64_t sent_ns; /* issued */
	uint64_t last_ns; /* last frame of its answer, 0 none */
	uint32_t start, len;
	uint32_t got; /* distinct heights received */
	uint32_t rsvd;
	uint64_t bits[(SL_EXPECT_LEN_MAX + 63) / 64];
} sl_expect_t;

typedef struct {
	uint32_t cap;     /* entries in e[] */
	uint32_t n;       /* open expectations */
	uint32_t late_at; /* next late[] slot */
	uint32_t ordered; /* corrs are issued increasing */
	uint64_t used;    /* bit i: e[i] is open (an entry is touched only while
	                     open, so an idle session's entries stay untouched) */
	uint64_t corr_hi; /* highest corr issued, 0 none */
	sl_expect_limits_t lim;
	uint64_t late[SL_EXPECT_LATE_MAX];
	sl_expect_t e[];
} sl_expect_tab_t;

/* The verdict on one answer frame (one counter per reason). */
#define SL_EXPECT_REASON_LIST(X)                                                                   \
	X(OK, "ok")                   /* open, in time, inside, some heights new */                \
	X(DUP, "dup")                 /* open, in time, inside, nothing new */                     \
	X(LATE, "late")               /* for an expectation this session ended */                  \
	X(EXPIRED, "expired")         /* open but past a deadline: late, ends it */                \
	X(UNSOLICITED, "unsolicited") /* for nothing this session ever asked */                    \
	X(OUTSIDE, "outside")         /* heights outside the request */

#define SL_EXPECT_REASON_ENUM(e, s) SL_EXPECT_##e,
typedef enum {
	SL_EXPECT_REASON_LIST(SL_EXPECT_REASON_ENUM) SL_EXPECT_REASON_CNT
} sl_expect_reason_t;
#undef SL_EXPECT_REASON_ENUM

/* Which deadline of an open expectation has passed. */
typedef enum {
	SL_EXPECT_DUE_OPEN = 0, /* none: still running */
	SL_EXPECT_DUE_QUIET,    /* its answer went quiet (its last frame was lost) */
	SL_EXPECT_DUE_NOANSWER, /* no frame of an answer in time (request or answer lost) */
	SL_EXPECT_DUE_STALE,    /* open too long at all */
} sl_expect_due_t;

/* sl_expect_reason_str: a constant name for r ("ok", "late", ...). */
const char *sl_expect_reason_str(sl_expect_reason_t r);

/* sl_expect_footprint: bytes a table of cap entries takes (0 when cap is
   0 or over SL_EXPECT_CAP_MAX); 8-byte aligned memory. */
size_t sl_expect_footprint(uint32_t cap);

/* sl_expect_init formats an empty table of cap entries in mem
   (sl_expect_footprint(cap) bytes); ordered: see above.  NULL on a bad
   cap. */
sl_expect_tab_t *sl_expect_init(void *mem, uint32_t cap, bool ordered,
                                const sl_expect_limits_t *lim);

/* sl_expect_reset: empty again (a new session): nothing open, no memory;
   touches the header only. */
void sl_expect_reset(sl_expect_tab_t *t);

/* sl_expect_issue opens an expectation for [start, start+len) under corr
   at now_ns (corr non-zero and not open; in an ordered table above every
   corr issued before; len 1..SL_EXPECT_LEN_MAX).  Returns it, or NULL
   when the table is full or the arguments are bad. */
sl_expect_t *sl_expect_issue(sl_expect_tab_t *t, uint64_t corr, uint32_t start, uint32_t len,
                             uint64_t now_ns);

/* sl_expect_find: the open expectation with this corr, or NULL. */
sl_expect_t *sl_expect_find(sl_expect_tab_t *t, uint64_t corr);

/* sl_expect_end closes e; late: its corr joins the late memory (answers
   still on the way are then LATE).  Ending a free entry does nothing. */
void sl_expect_end(sl_expect_tab_t *t, sl_expect_t *e, bool late);

/* sl_expect_due: which deadline of open expectation e has passed at now. */
sl_expect_due_t sl_expect_due(const sl_expect_tab_t *t, const sl_expect_t *e, uint64_t now_ns);

/* sl_expect_check classifies an answer frame under corr at now_ns that
   carries heights [start, start+n); n = 0 for an answer without heights
   (NOT_FOUND: only corr and the deadlines are judged).  Sets *out to the
   open expectation (OK / DUP / EXPIRED / OUTSIDE), else NULL.  Changes
   nothing. */
sl_expect_reason_t sl_expect_check(sl_expect_tab_t *t, uint64_t corr, uint32_t start, uint32_t n,
                                   uint64_t now_ns, sl_expect_t **out);

/* sl_expect_credit marks heights [start, start+n) of e received at now_ns
   (inside e: checked first) and e heard from; returns how many were new.
   e->got counts them. */
uint32_t sl_expect_credit(sl_expect_t *e, uint32_t start, uint32_t n, uint64_t now_ns);

/* sl_expect_overlap: the first open expectation sharing a height with
   [start, start+count), or NULL. */
sl_expect_t *sl_expect_overlap(sl_expect_tab_t *t, uint32_t start, uint32_t count);

/* sl_expect_oldest: the open expectation heard from least recently (its
   last frame, else when it was sent), or NULL when none is open. */
sl_expect_t *sl_expect_oldest(sl_expect_tab_t *t);

/* sl_expect_next: the first open entry at index >= i, or NULL.  Walk the
   open ones with for (e = sl_expect_next(t, 0); e; e = sl_expect_next(t,
   sl_expect_idx(t, e) + 1)); ending the current one is allowed. */
sl_expect_t *sl_expect_next(sl_expect_tab_t *t, uint32_t i);

/* sl_expect_idx: e's index in t->e (0 .. cap-1; side arrays use it). */
static inline uint32_t sl_expect_idx(const sl_expect_tab_t *t, const sl_expect_t *e)
{
	return (uint32_t)(e - t->e);
}

/* sl_expect_done: every height of e arrived. */
static inline bool sl_expect_done(const sl_expect_t *e)
{
	return e->got == e->len;
}

#endif /* SL_EXPECT_H */
