/* sl_hstatus.h — what header-sync peers tell each other about their tips
   (stream 5, SPEC §5): STATUS both ways and NEW_BLOCK both ways.

   STATUS out.  Sent from the status ctrl publishes in the region when the
   session opens and whenever the published version moves (checked once
   per poll cycle, coalesced: the latest value wins).  STATUS has no
   acknowledgement and a lost one would leave the peer blind to our tip
   until it moves, so the latest one is repeated SL_HSTATUS_REFRESH_NS
   after it was sent, then at doubling intervals up to
   SL_HSTATUS_REFRESH_MAX_NS (a new tip starts over).  At most one STATUS
   per SL_HSTATUS_GAP_NS goes to a peer (a syncing node's tip moves with
   every commit; the peer's spam meter allows 10/s): a newer tip waits for
   the gap, then goes out.

   STATUS in.  More than SL_HSTATUS_PER_S in one second is SPAM (record
   only, ignored); otherwise PEER_STATUS goes to ctrl and the caller
   learns the peer's tip.

   NEW_BLOCK in.  One whose header meets its own target goes to ctrl
   (SL_EVT_NEW_BLOCK: seen-cache, acceptance and relay are ctrl's); one
   that does not is record-only BAD_DATA; more than SL_HSTATUS_NEW_BLOCK_PER_S
   in a second (the STATUS meter's window) is SPAM, ignored.
   NEW_BLOCK out (FORWARD_NEW_BLOCK): advisory, not sent while the peer's
   BACKOFF holds stream 5.

   Owner: the lcore owning the session (single thread); the status object
   (sl_status.h) is ctrl's, read here under its seqlock. */
#ifndef SL_HSTATUS_H
#define SL_HSTATUS_H

#include "sl_chain.h"
#include "sl_hrec.h"
#include "sl_status.h"
#include "sl_routine.h"

#define SL_HSTATUS_PER_S           10u              /* STATUS from a peer per second before SPAM */
#define SL_HSTATUS_NEW_BLOCK_PER_S 10u              /* NEW_BLOCK ditto */
#define SL_HSTATUS_WIN_NS          (1000000000ull)  /* the meters' window */
#define SL_HSTATUS_REFRESH_NS      (1000000000ull)  /* first STATUS repeat after a send */
#define SL_HSTATUS_REFRESH_MAX_NS  (30000000000ull) /* repeats back off up to this */
#define SL_HSTATUS_GAP_NS          (200000000ull)   /* at most 5 STATUS/s to a peer (SPEC: < 10) */

/* Per-session state (zeroed with the routine's block). */
typedef struct {
	uint16_t status_n; /* STATUS received in the current meter window */
	uint16_t nb_n;     /* NEW_BLOCK received in it */
	uint64_t win;      /* start of that window (ns) */
	uint64_t sent;     /* version of the local status last sent, 0 none */
	uint64_t next_ns;  /* repeat it then */
	uint64_t last_ns;  /* when a STATUS last went to this peer */
	uint64_t gap_ns;   /* current repeat interval */
} sl_hstatus_peer_t;

/* Per-lcore: the local status last read from the region. */
typedef struct {
	uint64_t seq_seen;       /* the status object's seq at that read */
	sl_local_status_t local; /* its value (version 0: none yet) */
} sl_hstatus_lcore_t;

/* sl_hstatus_start: a new session gets the current status (if ctrl has
   published one). */
void sl_hstatus_start(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st);

/* sl_hstatus_moved: the published status moved since the last look (the
   new value is read into g); false while nothing consistent is there. */
bool sl_hstatus_moved(sl_lcore_t *lc, sl_hstatus_lcore_t *g);

/* sl_hstatus_push sends p the status in g unless p has it or the gap
   holds it back (the refresh sends it then). */
void sl_hstatus_push(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st,
                     const sl_hstatus_lcore_t *g);

/* sl_hstatus_refresh (the tick): a newer status held back by the gap, or
   the repeat of the last one when due. */
void sl_hstatus_refresh(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st,
                        const sl_hstatus_lcore_t *g);

/* sl_hstatus_rx: a STATUS from p.  True when it was accepted
   (PEER_STATUS sent to ctrl); false when the meter refused it. */
bool sl_hstatus_rx(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st, sl_hrec_t *rec,
                   const sl_wire_status_t *m);

/* sl_hstatus_new_block_rx: a NEW_BLOCK from p (meter, PoW under prof). */
void sl_hstatus_new_block_rx(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hstatus_peer_t *st,
                             sl_hrec_t *rec, const sl_chain_profile_t *prof,
                             const sl_wire_new_block_t *nb);

/* sl_hstatus_new_block_tx (FORWARD_NEW_BLOCK): NEW_BLOCK to p, advisory. */
void sl_hstatus_new_block_tx(sl_lcore_t *lc, sl_routine_peer_t *p, const sl_cmd_new_block_t *c);

#endif /* SL_HSTATUS_H */
