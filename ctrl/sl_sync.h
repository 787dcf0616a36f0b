/* sl_sync.h — sluice-ctrl's header sync: the reactor (sl_reactor.h) wired to
   the attached dataplane and the header chain (sl_chainstore.h).  Owner: the
   ctrl loop (single threaded).

   attach creates the reactor on the region's range table (ctrl is its only
   producer); detach deletes it (a restarted dataplane has a new table).
   Events: PEER_STATUS, HEADERS, WORK_ASSIGNED, WORK_RETURNED feed the
   reactor; SESSION_DOWN and parks forget the session.  Outputs, drained
   after every event and tick: DROP_EXPECTATION -> sl_cmdq_send (PARK_REQUIRED
   -> park + cmd_park probe + session down), MISBEHAVIOR -> the peer's
   record, FORK -> the branch fetch (sl_branch.h), whose switch truncates
   through sl_reactor_reorg_to and commits the branch.  Sync runs by
   default (no target: follow the best peer tip); a target stops it at a
   height.  Domain code: structs in and out, no JSON, no socket.

   NEW_BLOCK (SL_EVT_NEW_BLOCK, PoW already checked by the routine): a hash
   in the seen-cache (sl_seen.h) is counted and dropped; otherwise it is
   remembered, and a header extending our tip (height tip + 1, prev = tip
   hash) is accepted through the chain rules and relayed at once
   (FORWARD_NEW_BLOCK) to every other session with stream 5, its group
   commit finished by a later tick (sl_chainstore_append_group); one the rules
   refuse is record-only BAD_DATA of its sender; one below our tip or
   above tip + 1 is left to STATUS and the pull / branch fetch.  When the
   chain moves by at most SL_SYNC_ANNOUNCE_MAX headers outside the network
   (header.import), the new tip is announced to every session with stream
   5 (and remembered). */
#ifndef SL_SYNC_H
#define SL_SYNC_H

#include "sl_base.h"
#include "sl_chainstore.h"
#include "sl_msg.h"
#include "sl_peermgr.h"
#include "sl_reactor.h"
#include "sl_branch.h"
#include "sl_seen.h"
#include "sl_storeread.h"

#define SL_SYNC_ANNOUNCE_MAX  16u        /* tip moves announced as NEW_BLOCK */
#define SL_SYNC_RESERVE_AHEAD (1u << 21) /* heights the store grows by at a time */

typedef struct {
	uint64_t events;        /* header-sync events fed to the reactor */
	uint64_t drops_sent;    /* DROP_EXPECTATION queued */
	uint64_t drop_parks;    /* DROP_EXPECTATION answered PARK_REQUIRED: parked */
	uint64_t drop_failed;   /* DROP_EXPECTATION for a gone session (NoRoutine etc.) */
	uint64_t misbehavior;   /* MISBEHAVIOR outputs recorded */
	uint64_t forks;         /* FORK outputs (to the branch fetch) */
	uint64_t fetch_park;    /* SEND_FRAME (fetch) answered PARK_REQUIRED: parked */
	uint64_t switches;      /* branch switches (reorgs) done */
	uint64_t nb_rx;         /* NEW_BLOCK events */
	uint64_t nb_dup;        /* ... already in the seen-cache */
	uint64_t nb_accepted;   /* ... committed (extended our tip) */
	uint64_t nb_invalid;    /* ... refused by the chain rules (BAD_DATA recorded) */
	uint64_t nb_other;      /* ... not tip + 1: left to STATUS / pull */
	uint64_t nb_relayed;    /* FORWARD_NEW_BLOCK commands queued */
	uint64_t nb_relay_drop; /* ... dropped (queue full, no routine) */
	uint64_t nb_announced;  /* our own tips announced */
} sl_sync_cnt_t;

typedef struct {
	sl_chainstore_t *cs;
	sl_peermgr_t *pm;
	sl_rangeq_t *q;      /* the region's range table, joined at attach */
	sl_reactor_t *r;     /* NULL while detached */
	sl_branch_t *b;      /* NULL while detached */
	uint32_t target;     /* SL_REACTOR_NO_TARGET or sync.start's to_height */
	uint32_t reserved;   /* the store has room up to this height (sync_reserve) */
	uint64_t timeout_ns; /* [sync] timeout_ms; 0: the reactor's default */
	uint64_t now_ns;     /* of the event or tick being run */
	bool run_on;         /* a sync run is logged as started (sync_watch) */
	uint32_t run_h0;     /* its first tip */
	uint64_t run_t0;     /* and when */
	sl_seen_t seen;
	sl_sync_cnt_t cnt;
	sl_storeread_t *sr; /* NULL: a reorg truncates the store directly */
} sl_sync_t;

/* sl_sync_init prepares s (detached, no target, the reactor's default
   timeout) over chain cs and peer manager pm. */
void sl_sync_init(sl_sync_t *s, sl_chainstore_t *cs, sl_peermgr_t *pm);

/* sl_sync_set_storeread routes a reorg's store truncation through the read
   path (sl_storeread_truncate: the reads in flight finish first, new ones
   wait; 5 s at most, else the reorg fails and is retried).  NULL: direct. */
void sl_sync_set_storeread(sl_sync_t *s, sl_storeread_t *sr);

/* sl_sync_attach creates the reactor on r's range table (re-applying the
   target).  Returns 0, or -1 with a log line (sync stays off). */
int sl_sync_attach(sl_sync_t *s, sl_region_t *r);

/* sl_sync_detach deletes the reactor (safe when detached). */
void sl_sync_detach(sl_sync_t *s);

/* sl_sync_event feeds one event record (header-sync events and
   SESSION_DOWN; others are ignored).  Call after sl_peermgr_event. */
void sl_sync_event(sl_sync_t *s, const sl_msg_t *m, uint64_t now_ns);

/* sl_sync_session_down forgets session sid (park, or its end). */
void sl_sync_session_down(sl_sync_t *s, uint32_t sid);

/* sl_sync_peer_tip: the best height session sid's latest STATUS claimed;
   false when none is known (no STATUS yet, gone, or detached). */
bool sl_sync_peer_tip(const sl_sync_t *s, uint32_t sid, uint32_t *tip);

/* sl_sync_park parks session sid's header-sync service (a SEND_FRAME for
   it answered PARK_REQUIRED): cmd_park probe, sl_cmdq_park, forgotten by
   the reactor. */
void sl_sync_park(sl_sync_t *s, uint32_t sid);

/* sl_sync_chain_moved tells the reactor the chain moved outside it
   (header.import). */
void sl_sync_chain_moved(sl_sync_t *s);

/* sl_sync_tick ticks the reactor and executes its outputs. */
void sl_sync_tick(sl_sync_t *s, uint64_t now_ns);

/* sl_sync_busy: syncing (the ctrl loop keeps its fast tick). */
bool sl_sync_busy(const sl_sync_t *s);

/* sl_sync_set_target: sync up to to_height and no further
   (SL_REACTOR_NO_TARGET: follow the best peer tip, the default). */
void sl_sync_set_target(sl_sync_t *s, uint32_t to_height);

/* What `sync.status` shows: state ("detached" without a dataplane, else
   the reactor's), the reactor's status (tip and target only while
   detached), the branch fetch's counters and sync's own. */
typedef struct {
	const char *state;
	sl_reactor_status_t st;
	sl_branch_cnt_t branch;
	bool branch_busy;
	sl_sync_cnt_t cnt;
} sl_sync_status_t;

/* sl_sync_status fills *out. */
void sl_sync_status(const sl_sync_t *s, sl_sync_status_t *out);

/* sl_sync_ranges copies up to cap live ranges, lowest first, into out
   and returns how many (0 while detached). */
uint32_t sl_sync_ranges(const sl_sync_t *s, sl_range_info_t *out, uint32_t cap);

#endif /* SL_SYNC_H */
