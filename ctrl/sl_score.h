/* sl_score.h — a misbehaviour score per peer address, with decay
   (issue 12 item 3).  Each record a peer earns (sl_misb_t: protocol
   violations weigh most, record-only SPAM least) adds its weight to the
   score of the peer's IPv4 address; scores halve every
   SL_SCORE_HALF_LIFE_NS, so an honest peer's occasional slip fades while
   a persistent one climbs to [admission] ban_score and is banned
   (sl_peermgr).  At most SL_SCORE_MAX addresses are tracked: a new one
   replaces the lowest (decayed) score.  Pure: the caller passes the clock.
   Owner: the ctrl loop (single threaded). */
#ifndef SL_SCORE_H
#define SL_SCORE_H

#include "sl_base.h"
#include "sl_msg.h"

#define SL_SCORE_MAX          1024u
#define SL_SCORE_HALF_LIFE_NS (600ull * 1000000000ull) /* 10 minutes */

typedef struct {
	uint32_t ip;  /* 0: free */
	double score; /* as of at_ns */
	uint64_t at_ns;
} sl_score_entry_t;

typedef struct {
	uint32_t n; /* entries in use */
	sl_score_entry_t e[SL_SCORE_MAX];
} sl_score_t;

/* sl_score_weight: what one record of kind weighs (0 for NONE). */
uint32_t sl_score_weight(sl_misb_t kind);

/* sl_score_init: nothing tracked. */
void sl_score_init(sl_score_t *t);

/* sl_score_add decays ip's score to now_ns, adds w and returns the new
   score (ip 0 is never tracked: returns 0). */
double sl_score_add(sl_score_t *t, uint32_t ip, double w, uint64_t now_ns);

/* sl_score_get: ip's score decayed to now_ns (0 when untracked). */
double sl_score_get(const sl_score_t *t, uint32_t ip, uint64_t now_ns);

/* sl_score_forget drops ip (banned: the ban carries it now). */
void sl_score_forget(sl_score_t *t, uint32_t ip);

#endif /* SL_SCORE_H */
