/* sl_evq.h — a worker lcore's event outbox: the one way its events reach
   ctrl (lcore -> ctrl event ring, sl_region.h), so that an event ctrl
   needs for its bookkeeping is never lost (DESIGN.md "Peer routines":
   SessionDown once per session; "The range table": nothing stays held by
   a dead session).

   Two classes of event (sl_evq_class):
     CRITICAL  SESSION_UP, SESSION_DOWN, CONNECT_FAILED, WORK_RETURNED,
               FETCH_END — ctrl's peer table, range holds and fetch waiters
               depend on each one.  Never lost: when the ring is full (or
               earlier critical events still wait) the record goes to the
               backlog, a FIFO of compact records sized at start-up, and
               reaches the ring, in order, at the start of a later cycle.
     ADVISORY  everything else (HELLO: the peer retries; LIVENESS, PEERS,
               MISBEHAVIOR, PEER_STATUS, NEW_BLOCK; HEADERS and
               WORK_ASSIGNED, whose senders undo what a refusal leaves
               unknown).  Sent only while the backlog is empty and the ring
               keeps more than SL_EVQ_RESERVE free slots; otherwise refused
               (counted by reason: reserve, full, backlog).
   Order: critical events reach ctrl in the order they were emitted; an
   advisory event never overtakes a critical one (it is refused while the
   backlog holds anything).

   Backlog bound.  ctrl reuses a slot only after it has seen the slot's
   SESSION_DOWN, and the header-sync routine takes no new work while the
   backlog holds anything (sl_evq_room), so while the backlog is non-empty
   it holds, per slot, at most one SESSION_UP, CONNECT_FAILED and
   SESSION_DOWN, one WORK_RETURNED per expectation ([sync] inflight) and a
   FETCH_END: sl_evq_cap(SL_SESSIONS_PER_LCORE, inflight) records.  Should
   it still overflow, the event is lost, counted (evt_critical_lost) and
   logged at error level: a bug to fix, never a silent state.

   Counters (the lcore's block in the region, sl_counters.h): events_tx
   (reached the ring, either way), evt_backlogged, evt_backlog_flushed,
   evt_backlog_depth / evt_backlog_max (gauges), evt_refused_reserve,
   evt_refused_full, evt_refused_backlog, evt_critical_lost; events_lost is
   every event that never reached ctrl (refused + critical lost).

   Owner: the worker lcore (single thread, the event ring's only
   producer).  No allocation, lock or syscall per event: the backlog memory
   is given at init.  EAL-free (header-only rte_ring through sl_region), so
   unit tests drive it on a region of their own. */
#ifndef SL_EVQ_H
#define SL_EVQ_H

#include "sl_counters.h"
#include "sl_msg.h"
#include "sl_region.h"

/* Free ring slots advisory events leave to critical ones. */
#define SL_EVQ_RESERVE (SL_EVENT_RING_DEPTH / 16u)
_Static_assert(SL_EVQ_RESERVE >= 16u, "CONFIG_SL_EVENT_RING_DEPTH too small for a reserve");

/* Payload bytes one backlog record holds: the largest critical payload. */
#define SL_EVQ_PAYLOAD_MAX 104u
_Static_assert(sizeof(sl_evt_session_up_t) <= SL_EVQ_PAYLOAD_MAX, "SESSION_UP fits the backlog");
_Static_assert(sizeof(sl_evt_session_down_t) <= SL_EVQ_PAYLOAD_MAX, "DOWN fits the backlog");
_Static_assert(sizeof(sl_evt_connect_failed_t) <= SL_EVQ_PAYLOAD_MAX, "CF fits the backlog");
_Static_assert(sizeof(sl_evt_work_t) <= SL_EVQ_PAYLOAD_MAX, "WORK fits the backlog");
_Static_assert(sizeof(sl_evt_fetch_end_t) <= SL_EVQ_PAYLOAD_MAX, "FETCH_END fits the backlog");

/* Critical events one slot can leave in the backlog besides its
   WORK_RETURNEDs: SESSION_UP, CONNECT_FAILED, SESSION_DOWN, FETCH_END. */
#define SL_EVQ_PER_SLOT 4u

typedef enum {
	SL_EVQ_ADVISORY = 0,
	SL_EVQ_CRITICAL = 1,
} sl_evq_class_t;

/* What became of one event (sl_evq_send). */
typedef enum {
	SL_EVQ_SENT = 0,        /* on the ring */
	SL_EVQ_BACKLOGGED,      /* critical, in the backlog: reaches ctrl later */
	SL_EVQ_REFUSED_RESERVE, /* advisory: the ring is down to its reserve */
	SL_EVQ_REFUSED_FULL,    /* advisory: the ring is full */
	SL_EVQ_REFUSED_BACKLOG, /* advisory: critical events still wait */
	SL_EVQ_LOST,            /* critical, backlog full (or too big): lost */
} sl_evq_res_t;

/* One backlog record: an sl_msg_t's header and a short payload. */
typedef struct {
	uint16_t type;
	uint16_t len;
	uint32_t lcore;
	uint32_t session;
	uint32_t gen;
	uint64_t corr;
	uint8_t payload[SL_EVQ_PAYLOAD_MAX];
} sl_evq_rec_t;

typedef struct {
	struct rte_ring *ring; /* the lcore's event ring (sl_msgq), joined at init */
	uint32_t lcore;        /* whose event ring */
	sl_lcore_cnt_t *cnt;   /* the lcore's counters */
	sl_evq_rec_t *rec;     /* cap records (given at init) */
	uint32_t cap;
	uint32_t head; /* oldest record */
	uint32_t n;    /* records waiting */
	uint32_t reserve;
} sl_evq_t;

/* sl_evq_class: CRITICAL for the types ctrl's bookkeeping needs, ADVISORY
   for the rest (unknown types included). */
sl_evq_class_t sl_evq_class(uint16_t type);

/* sl_evq_res_str names an outcome for logs ("sent", "backlogged", ...). */
const char *sl_evq_res_str(sl_evq_res_t r);

/* sl_evq_cap: backlog records that can never overflow for `slots`
   sessions with `inflight` expectations each (see above). */
static inline uint32_t sl_evq_cap(uint32_t slots, uint32_t inflight)
{
	return slots * (SL_EVQ_PER_SLOT + inflight);
}

/* sl_evq_init prepares q for lcore `lcore`'s event ring of `region`, with
   `mem` (cap records, owned by the caller for q's lifetime) as backlog and
   `reserve` ring slots kept for critical events (< the ring's capacity).
   Returns 0, or -1 on bad arguments. */
int sl_evq_init(sl_evq_t *q, const sl_region_t *region, uint32_t lcore, sl_lcore_cnt_t *cnt,
                sl_evq_rec_t *mem, uint32_t cap, uint32_t reserve);

/* sl_evq_send hands event *m (m->len payload bytes) to ctrl by its class
   (above).  Critical: SENT or BACKLOGGED (LOST only on a bug: overflow).
   Advisory: SENT or REFUSED_*.  Every outcome moves its counter. */
sl_evq_res_t sl_evq_send(sl_evq_t *q, const sl_msg_t *m);

/* sl_evq_flush (start of every poll cycle, before any new event) moves
   backlog records to the ring, oldest first, while it has room; returns
   how many moved.  O(1) when the backlog is empty. */
uint32_t sl_evq_flush(sl_evq_t *q);

/* sl_evq_pending: records waiting in the backlog. */
static inline uint32_t sl_evq_pending(const sl_evq_t *q)
{
	return q->n;
}

/* sl_evq_room: whether `n` advisory events in a row would all be sent
   now (the backlog is empty and the ring has more than reserve + n - 1
   free slots).  A gate for work that produces a known number of events. */
bool sl_evq_room(const sl_evq_t *q, uint32_t n);

#endif /* SL_EVQ_H */
