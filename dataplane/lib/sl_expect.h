/* sl_expect.h — a pure expectation table for one session's header
   requests (issue 10 item 2): outstanding requests found by `corr`, the
   heights each answer covered (bitmap), a memory of corrs this session
   ended early ("late credits"), and one batch check that classifies an
   answer frame with one enum reason (one counter per reason).  No clock
   reads, no I/O: the caller passes times and owns the memory.

   Late, never unsolicited: an answer whose corr names an expectation this
   table ended early (sl_expect_end with late = true) is SL_EXPECT_LATE as
   long as that corr is among the last SL_EXPECT_LATE_MAX ended; only a
   corr the session never issued is SL_EXPECT_UNSOLICITED.  Corrs are
   issued increasing (sl_expect_issue), so a corr at or below the highest
   issued that is not open is a straggler of ours: LATE even after the
   memory wrapped — an honest slow peer is never torn down.

   Owner: the lcore owning the session (single thread). */
#ifndef SL_EXPECT_H
#define SL_EXPECT_H

#include <stdbool.h>
#include <stdint.h>

#define SL_EXPECT_MAX      16u   /* outstanding expectations at most */
#define SL_EXPECT_LATE_MAX 16u   /* ended corrs remembered */
#define SL_EXPECT_LEN_MAX  2000u /* heights per expectation */

typedef struct {
	uint64_t corr; /* 0: free */
	uint32_t start, len;
	uint32_t got; /* distinct heights received */
	uint64_t bits[(SL_EXPECT_LEN_MAX + 63) / 64];
} sl_expect_t;

typedef struct {
	uint32_t n;       /* open expectations */
	uint32_t late_at; /* next late[] slot */
	uint64_t corr_hi; /* highest corr issued, 0 none */
	uint64_t late[SL_EXPECT_LATE_MAX];
	sl_expect_t e[SL_EXPECT_MAX];
} sl_expect_tab_t;

/* The verdict on one answer frame (one counter per reason). */
typedef enum {
	SL_EXPECT_OK = 0,      /* inside an open expectation, some heights new */
	SL_EXPECT_DUP,         /* inside, nothing new */
	SL_EXPECT_LATE,        /* for an expectation this session ended */
	SL_EXPECT_UNSOLICITED, /* for nothing this session ever asked */
	SL_EXPECT_OUTSIDE,     /* heights outside the request */
	SL_EXPECT_REASON_CNT
} sl_expect_reason_t;

/* sl_expect_reason_str: a constant name for r. */
const char *sl_expect_reason_str(sl_expect_reason_t r);

/* sl_expect_init: an empty table. */
void sl_expect_init(sl_expect_tab_t *t);

/* sl_expect_issue opens an expectation for [start, start+len) under corr
   (non-zero, above every corr issued before, len 1..SL_EXPECT_LEN_MAX).
   Returns it, or NULL when the table is full or the arguments are bad. */
sl_expect_t *sl_expect_issue(sl_expect_tab_t *t, uint64_t corr, uint32_t start, uint32_t len);

/* sl_expect_find: the open expectation with this corr, or NULL. */
sl_expect_t *sl_expect_find(sl_expect_tab_t *t, uint64_t corr);

/* sl_expect_end closes e; late: its corr joins the late memory (answers
   still on the way are then LATE). */
void sl_expect_end(sl_expect_tab_t *t, sl_expect_t *e, bool late);

/* sl_expect_check classifies an answer frame (corr, heights [start,
   start+n)); sets *out to the open expectation when OK / DUP / OUTSIDE.
   Changes nothing. */
sl_expect_reason_t sl_expect_check(sl_expect_tab_t *t, uint64_t corr, uint32_t start, uint32_t n,
                                   sl_expect_t **out);

/* sl_expect_credit marks heights [start, start+n) of e received (inside
   e: checked first); returns how many were new.  e->got counts them. */
uint32_t sl_expect_credit(sl_expect_t *e, uint32_t start, uint32_t n);

/* sl_expect_done: every height of e arrived. */
static inline bool sl_expect_done(const sl_expect_t *e)
{
	return e->got == e->len;
}

#endif /* SL_EXPECT_H */
