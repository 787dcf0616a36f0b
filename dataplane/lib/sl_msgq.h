/* sl_msgq.h — a message ring: fixed-size sl_msg_t records between two
   threads of possibly two processes (the command ring ctrl -> lcore, the
   event ring lcore -> ctrl).  An rte_ring formatted in place in shared
   memory (no EAL: rte_ring_init and the header-only rte_ring_*_elem
   calls), single producer, single consumer.  The producer and the consumer
   are named by whoever places the ring (sl_region.h); position
   independent, so each process reaches it at its own address. */
#ifndef SL_MSGQ_H
#define SL_MSGQ_H

#include "sl_base.h"

struct rte_ring;

/* One command or event record.  `type` is an sl_cmd_type_t / sl_evt_type_t
   (defined by the modules that use them); `len` counts payload bytes used. */
typedef struct {
	uint16_t type;
	uint16_t len;
	uint32_t lcore;
	uint32_t session;
	uint32_t gen;
	uint64_t corr;
	uint8_t payload[SL_MSG_SIZE - 24];
} sl_msg_t;
_Static_assert(sizeof(sl_msg_t) == SL_MSG_SIZE, "sl_msg_t must be SL_MSG_SIZE bytes");
_Static_assert(SL_MSG_SIZE % 8 == 0, "SL_MSG_SIZE must be a multiple of 8");

/* Lifecycle (the Firedancer-style workspace object: the creator formats,
   each process joins its own handle).  The memory holds a header line
   (magic, layout version, depth; sl_msgq_private.h) and the rte_ring. */
#define SL_MSGQ_HDR_SIZE 64u

/* sl_msgq_align: the alignment the memory of a ring needs. */
size_t sl_msgq_align(void);

/* sl_msgq_footprint: bytes a ring of `depth` records needs (depth a power
   of two >= 2), or 0 if depth is not one. */
size_t sl_msgq_footprint(uint32_t depth);

/* sl_msgq_new formats `mem` (footprint bytes, sl_msgq_align aligned) as an
   empty SP/SC ring of `depth` records, its magic written last; returns the
   ring (joined), or NULL on bad arguments. */
struct rte_ring *sl_msgq_new(void *mem, uint32_t depth);

/* sl_msgq_join checks that `mem` holds a ring formatted by sl_msgq_new
   with `depth` records and this build's layout (possibly by another
   process) and returns it, or NULL (not formatted, deleted, another layout
   or depth). */
struct rte_ring *sl_msgq_join(void *mem, uint32_t depth);

/* sl_msgq_of: the ring in `mem` without checks, for a caller that has
   joined it once (the region's accessors on the hot path). */
static inline struct rte_ring *sl_msgq_of(void *mem)
{
	return (struct rte_ring *)((char *)mem + SL_MSGQ_HDR_SIZE);
}

/* sl_msgq_leave: the memory of joined ring q (nothing else changes). */
void *sl_msgq_leave(struct rte_ring *q);

/* sl_msgq_delete unformats `mem` (its magic cleared: a later join fails)
   and returns it, or NULL when it did not hold a ring. */
void *sl_msgq_delete(void *mem);

/* sl_msgq_send (the producer only) returns 0, or -ENOBUFS when the ring is
   full (caller counts / parks / retries).  A ring of depth D holds D - 1
   records.  Non-blocking. */
int sl_msgq_send(struct rte_ring *q, const sl_msg_t *m);

/* sl_msgq_recv (the consumer only) returns 0 and fills *m, or -ENOENT when
   the ring is empty.  Non-blocking. */
int sl_msgq_recv(struct rte_ring *q, sl_msg_t *m);

/* sl_msgq_room: free records (a snapshot; exact for the producer, since
   only it adds). */
uint32_t sl_msgq_room(const struct rte_ring *q);

/* sl_msgq_pending: records waiting (a snapshot; exact for the consumer,
   since only it takes). */
uint32_t sl_msgq_pending(const struct rte_ring *q);

#endif /* SL_MSGQ_H */
