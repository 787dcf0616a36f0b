/* sl_handoff.h — frames that arrive on a worker lcore which does not own
   their session, carried to the lcore that does (VPP's worker handoff;
   DESIGN.md "Demux and sessions").

   Every session is owned by one worker lcore (its id encodes the lcore,
   sl_session.h) and every frame of it is handled there.  The port decides
   which RX queue a frame lands on (RSS on a NIC, the kernel's fanout hash
   on af_packet, the peer's queue choice on memif), so a frame may reach
   another worker; that worker passes the mbuf on through a lock-free ring
   instead of dropping it.

   One single-producer / single-consumer rte_ring per ordered pair of
   workers (src -> dst, src != dst), SL_HANDOFF_RING entries each: no
   atomics shared by more than two threads, and frames from one queue stay
   in order.  Owner: the main lcore creates every ring before the workers
   are launched (sl_handoff_create) and frees them after they all returned
   (sl_handoff_destroy); the table of rings is read-only in between.  The
   producer end of ring (src, dst) belongs to worker src, the consumer end
   to worker dst.  With one worker there are no rings and nothing is ever
   handed off.  An mbuf in a ring belongs to the ring: the consumer takes
   ownership when it dequeues it; at shutdown sl_handoff_destroy frees what
   is left. */
#ifndef SL_HANDOFF_H
#define SL_HANDOFF_H

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "sl_dp.h"

/* Entries per (src, dst) ring: a power of two (rte_ring's usable size is
   one less).  Ample for bursts of SL_BURST between two drains. */
#define SL_HANDOFF_RING 1024u

typedef struct sl_handoff {
	uint32_t n;                                          /* workers */
	struct rte_ring *ring[SL_MAX_LCORES][SL_MAX_LCORES]; /* [src][dst]; NULL on the diagonal */
} sl_handoff_t;

/* sl_handoff_create makes the rings for dp->n_workers workers and sets
   dp->handoff.  Main lcore, before the launch.  Returns 0, or -1 with one
   log line (dp->handoff stays NULL). */
int sl_handoff_create(sl_dp_t *dp);

/* sl_handoff_destroy frees every frame still queued and every ring, and
   clears dp->handoff.  Main lcore, after every worker returned; safe when
   create failed or never ran. */
void sl_handoff_destroy(sl_dp_t *dp);

/* sl_handoff_put offers frame m from worker src to worker dst (src != dst,
   both < n).  Returns true when queued (the ring owns m now), false when
   the ring is full (the caller still owns m and counts the drop). */
static inline bool sl_handoff_put(const sl_handoff_t *ho, uint32_t src, uint32_t dst,
                                  struct rte_mbuf *m)
{
	return rte_ring_sp_enqueue(ho->ring[src][dst], m) == 0;
}

/* sl_handoff_take moves up to `max` frames worker src handed to worker
   dst into out (consumer end: worker dst only).  Returns the number taken;
   the caller owns them. */
static inline uint32_t sl_handoff_take(const sl_handoff_t *ho, uint32_t src, uint32_t dst,
                                       struct rte_mbuf **out, uint32_t max)
{
	return rte_ring_sc_dequeue_burst(ho->ring[src][dst], (void **)out, max, NULL);
}

#endif /* SL_HANDOFF_H */
