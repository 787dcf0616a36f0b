/* sl_cmdq.h — per-peer commands, ctrl -> routines (DESIGN.md "Commands to
   routines").  Built on each lcore's single SP/SC command ring in the
   shared region (sl_msgq.h, fixed sl_msg_t records): the
   ring is shared by every session of that lcore, and a per-session command
   block bounds each peer to SL_CMD_DEPTH records in flight, so a full queue
   for one peer never affects another.

   Lives in shared memory (placed by the lead inside the region, or any
   mapping both processes see); position independent (offsets, no
   pointers).  One block per (lcore, slot), slot < SL_SESSIONS_PER_LCORE:
     sent       ring commands ctrl queued for this peer      owner: ctrl
     consumed   of those, taken off the ring by the lcore    owner: lcore
                (depth = sent - consumed <= SL_CMD_DEPTH, wrap-safe u32)
     gen        the routine's current session generation, 0 = gone.
                ctrl stores it on install, CASes it to 0 on teardown; the
                lcore CASes it to 0 when a routine ends on its own
                (sl_cmdq_detach).  A CAS names the generation it expects.
     parked     generation whose header-sync service is parked, 0 = none
                                                              owner: ctrl
     wake       WAKE counter (coalesced)                      owner: ctrl
     status     STATUS single slot, seqlock (newest replaces unread)
                                                              owner: ctrl
   Senders: one ctrl thread.  Receivers: the owning lcore only.

   The variant table (DESIGN.md), outcome of sl_cmdq_send:
     variant             ok         per-peer/ring full  routine gone/parked
     STATUS              COALESCED  (no ring use)       NO_ROUTINE
     WAKE                COALESCED  (no ring use)       NO_ROUTINE
     FORWARD_NEW_BLOCK   QUEUED     DROPPED (counted)   NO_ROUTINE
     DROP_EXPECTATION    QUEUED     PARK_REQUIRED       PARK_REQUIRED
     SEND_FRAME          QUEUED     PARK_REQUIRED       PARK_REQUIRED
     SESSION_INSTALL     QUEUED     RETRY (ring full)   —
     SESSION_TEARDOWN    QUEUED     RETRY (ring full)   —
   A stale generation (the session was replaced) counts as gone.  The five
   routine variants belong to the header-sync service: parking it makes
   them answer the "gone" column until a new generation is installed.
   Install / teardown are never lost: they do not take per-peer credit,
   they may use the last SL_CMDQ_RING_RESERVE ring records that the
   per-peer variants leave free, and when even those are taken the send
   returns RETRY with nothing changed: ctrl keeps the command and sends it
   again on a later reactor turn (it must not be dropped).

   Ring records: type = the variant (these values are meant to become the
   SL_CMD_* values of sl_msg.h's sl_cmd_type_t), lcore = lcore index,
   session = slot, gen = generation, corr = a per-slot ring sequence
   (1, 2, ...; FIFO per peer), len/payload = the caller's bytes. */
#ifndef SL_CMDQ_H
#define SL_CMDQ_H

#include "sl_base.h"
#include "sl_msgq.h"

/* Bytes the STATUS slot holds (a 72-byte SPEC STATUS body fits). */
#define SL_CMDQ_STATUS_MAX   96
/* Ring records per lcore kept free for install / teardown. */
#define SL_CMDQ_RING_RESERVE 32
/* Largest payload of a ring command. */
#define SL_CMDQ_PAYLOAD_MAX  (SL_MSG_SIZE - 24)

/* Command variants.  Values are ABI of the region: append only. */
typedef enum {
	SL_CMDQ_V_NONE = 0,
	SL_CMDQ_V_STATUS = 1,            /* single slot, newest replaces unread */
	SL_CMDQ_V_WAKE = 2,              /* flag / work epoch, coalesced */
	SL_CMDQ_V_FORWARD_NEW_BLOCK = 3, /* advisory */
	SL_CMDQ_V_DROP_EXPECTATION = 4,  /* payload sl_cmdq_drop_exp_t; never drop */
	SL_CMDQ_V_SEND_FRAME = 5,        /* for an op: ping, fetch; never drop */
	SL_CMDQ_V_SESSION_INSTALL = 6,   /* never lost: ctrl retries */
	SL_CMDQ_V_SESSION_TEARDOWN = 7,  /* never lost: ctrl retries */
	SL_CMDQ_V_CNT
} sl_cmdq_variant_t;

/* Payload of DROP_EXPECTATION{gen, start, count}: the range-table
   generation of the expectation and the heights it covered. */
typedef struct {
	uint32_t range_gen;
	uint32_t start;
	uint32_t count;
} sl_cmdq_drop_exp_t;

/* Outcome of a send.  Only PARK_REQUIRED forces action (park the peer's
   header-sync service); RETRY means "keep it, send again later". */
typedef enum {
	SL_CMDQ_QUEUED = 0,
	SL_CMDQ_COALESCED,
	SL_CMDQ_DROPPED,
	SL_CMDQ_NO_ROUTINE,
	SL_CMDQ_PARK_REQUIRED,
	SL_CMDQ_RETRY,
	SL_CMDQ_INVALID, /* bad lcore / slot / gen 0 / variant / length */
	SL_CMDQ_OUTCOME_CNT
} sl_cmdq_outcome_t;

/* What the lcore does with a received record. */
typedef enum {
	SL_CMDQ_RX_EMPTY = 0, /* the ring was empty (sl_cmdq_recv only) */
	SL_CMDQ_RX_DELIVER,   /* hand it to the routine (or, for install /
	                         teardown, to the session table) */
	SL_CMDQ_RX_STALE,     /* generation no longer current: discarded */
	SL_CMDQ_RX_PARKED,    /* the service was parked meanwhile: discarded */
	SL_CMDQ_RX_INVALID,   /* unknown type or slot: discarded */
	SL_CMDQ_RX_CNT
} sl_cmdq_rx_t;

/* sl_cmdq_*_str name the enums for logs and counters ("queued", ...;
   "?" when out of range). */
const char *sl_cmdq_variant_str(unsigned v);
const char *sl_cmdq_outcome_str(unsigned o);
const char *sl_cmdq_rx_str(unsigned rx);

struct sl_cmdq_shm;

/* Process-local handle (not in shared memory). */
typedef struct sl_cmdq {
	struct sl_cmdq_shm *shm;
	/* the lcores' command rings (sl_msgq.h) that carry the records */
	struct rte_ring *ring[SL_MAX_LCORES];
	uint32_t n_rings;
} sl_cmdq_t;

/* sl_cmdq_align: the alignment new and join require (a cache line). */
size_t sl_cmdq_align(void);

/* sl_cmdq_footprint returns the bytes the blocks of `n_lcores` lcores need
   (SL_SESSIONS_PER_LCORE blocks each, 256 bytes a block, plus a header and
   per-lcore counters; a multiple of 64), or 0 if n_lcores is 0 or over
   SL_MAX_LCORES. */
size_t sl_cmdq_footprint(uint32_t n_lcores);

/* sl_cmdq_new formats `mem` (footprint bytes, 64-byte aligned, shared by
   both processes) for `n_lcores` lcores, all routines gone, and fills *q
   with a handle whose records travel on rings[0 .. n_rings-1] (lcore i's
   command ring, sl_msgq.h).  Returns 0, or -EINVAL (and a log line) on bad
   arguments (n_lcores above n_rings, misaligned mem). */
int sl_cmdq_new(sl_cmdq_t *q, void *mem, uint32_t n_lcores, struct rte_ring *const *rings,
                uint32_t n_rings);

/* sl_cmdq_join checks magic, layout version and sizes of blocks formatted
   by sl_cmdq_new (possibly in another process) and fills *q.  Returns 0,
   or -EPROTO (and a log line) when `mem` is not a table of this layout or
   has more lcores than n_rings. */
int sl_cmdq_join(sl_cmdq_t *q, void *mem, struct rte_ring *const *rings, uint32_t n_rings);

/* sl_cmdq_leave drops the handle *q (zeroed; the blocks live on) and returns
   the blocks' memory, or NULL when q holds none. */
void *sl_cmdq_leave(sl_cmdq_t *q);

/* sl_cmdq_delete unformats blocks made by sl_cmdq_new (magic cleared: later
   joins fail) and returns their memory; NULL when `mem` holds none.  The
   creator only, once no process uses them. */
void *sl_cmdq_delete(void *mem);

/* ---- sender side: the ctrl thread only ---------------------------------- */

/* sl_cmdq_send sends variant `v` to the routine of (lcore, slot) of
   generation `gen` (non-zero), with `len` payload bytes (<=
   SL_CMDQ_STATUS_MAX for STATUS, ignored for WAKE, <= SL_CMDQ_PAYLOAD_MAX
   otherwise), following the table above exactly.  SESSION_INSTALL makes
   `gen` the slot's current generation (a replaced one becomes stale, park
   cleared); SESSION_TEARDOWN ends `gen` if current (and is queued either
   way: the lcore checks its session table).  Every outcome is counted per
   lcore; FORWARD_NEW_BLOCK drops also per peer.  Non-blocking, no
   allocation. */
sl_cmdq_outcome_t sl_cmdq_send(sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen,
                               sl_cmdq_variant_t v, const void *payload, uint16_t len);

/* sl_cmdq_park marks the header-sync service of (lcore, slot, gen) parked
   (after a PARK_REQUIRED; returning its work and forget_peer are ctrl's).
   Only that peer is affected; a later install of a new generation clears
   it.  Returns 0, or -ESRCH if gen is not the slot's current generation,
   -EINVAL on a bad lcore / slot. */
int sl_cmdq_park(sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen);

/* Readers below: lcore < n_lcores and slot < SL_SESSIONS_PER_LCORE are
   preconditions (not checked). */

/* sl_cmdq_depth: ring commands in flight for (lcore, slot), sent minus
   consumed, never above SL_CMD_DEPTH.  Any thread. */
uint32_t sl_cmdq_depth(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot);

/* sl_cmdq_gen: the slot's current generation, 0 when the routine is gone.
   Any thread. */
uint32_t sl_cmdq_gen(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot);

/* sl_cmdq_peer_dropped: FORWARD_NEW_BLOCK commands dropped for this peer
   (slot) since the table was formatted.  Any thread. */
uint64_t sl_cmdq_peer_dropped(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot);

/* ---- receiver side: the owning lcore only ------------------------------- */

/* sl_cmdq_accept judges a record taken off lcore `lcore`'s command ring
   (sl_msgq_recv): a per-peer variant whose generation is no longer
   the slot's is STALE, one whose service is parked is PARKED; both are
   discarded and counted but, like DELIVER, return the peer's credit.
   Install / teardown are always DELIVER (the lcore's session table judges
   them).  Unknown types or slots are INVALID.  Counted per lcore. */
sl_cmdq_rx_t sl_cmdq_accept(sl_cmdq_t *q, uint32_t lcore, const sl_msg_t *m);

/* sl_cmdq_recv takes one record off the ring into *m and returns
   sl_cmdq_accept's verdict, or SL_CMDQ_RX_EMPTY when the ring is empty.
   The lcore loops on it up to its command budget. */
sl_cmdq_rx_t sl_cmdq_recv(sl_cmdq_t *q, uint32_t lcore, sl_msg_t *m);

/* What a routine has seen of its coalesced slots; zero it when the routine
   starts (a STATUS left by an older generation is never reported, and a
   first spurious WAKE is harmless). */
typedef struct {
	uint64_t status_ver;
	uint64_t wake;
} sl_cmdq_seen_t;

/* The newest STATUS of a routine. */
typedef struct {
	uint64_t version; /* moves on every STATUS sent to the slot */
	uint32_t gen;
	uint16_t len;
	uint8_t bytes[SL_CMDQ_STATUS_MAX];
} sl_cmdq_status_t;

#define SL_CMDQ_POLL_STATUS 1u
#define SL_CMDQ_POLL_WAKE   2u

/* sl_cmdq_poll_coalesced reports what moved since *seen for the routine of
   (lcore, slot, gen): SL_CMDQ_POLL_STATUS with the newest STATUS in *st
   (only the newest: unread older ones were replaced), SL_CMDQ_POLL_WAKE
   when at least one WAKE arrived; 0 when nothing moved.  Updates *seen.
   Bounded: if ctrl is mid-write for too long the STATUS is left for the
   next poll. */
unsigned sl_cmdq_poll_coalesced(sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen,
                                sl_cmdq_seen_t *seen, sl_cmdq_status_t *st);

/* sl_cmdq_parked: whether the header-sync service of (lcore, slot, gen) is
   parked (the lcore then cancels that service only).  Any thread. */
bool sl_cmdq_parked(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen);

/* sl_cmdq_detach (lcore): the routine of generation `gen` ended on its own
   (liveness down, GOODBYE); ctrl's next sends to it see it gone.  Returns
   0, or -ESRCH if gen was not current (nothing changed), -EINVAL on a bad
   lcore / slot or gen 0. */
int sl_cmdq_detach(sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen);

/* ---- counters ------------------------------------------------------------ */

typedef struct {
	uint64_t out[SL_CMDQ_OUTCOME_CNT]; /* sends by outcome (ctrl) */
	uint64_t rx[SL_CMDQ_RX_CNT];       /* records by verdict (lcore) */
} sl_cmdq_stats_t;

/* sl_cmdq_stats reads lcore `lcore`'s counters.  Any thread. */
void sl_cmdq_stats(const sl_cmdq_t *q, uint32_t lcore, sl_cmdq_stats_t *out);

#endif /* SL_CMDQ_H */
