/* sl_msgq.c — a message ring of sl_msg_t records (sl_msgq.h). */
#include "sl_msgq.h"

#include <errno.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#define SL_MSGQ_FLAGS (RING_F_SP_ENQ | RING_F_SC_DEQ)

size_t sl_msgq_footprint(uint32_t depth)
{
	if (depth < 2 || !SL_IS_POW2(depth))
		return 0;
	ssize_t n = rte_ring_get_memsize_elem(SL_MSG_SIZE, depth);
	return n < 0 ? 0 : (size_t)n;
}

struct rte_ring *sl_msgq_new(void *mem, uint32_t depth)
{
	if (SL_UNLIKELY(mem == NULL || sl_msgq_footprint(depth) == 0 ||
	                (uintptr_t)mem % RTE_CACHE_LINE_SIZE != 0))
		return NULL;
	struct rte_ring *q = mem;
	if (SL_UNLIKELY(rte_ring_init(q, "sl_msgq", depth, SL_MSGQ_FLAGS) != 0))
		return NULL;
	return q;
}

struct rte_ring *sl_msgq_join(void *mem, uint32_t depth)
{
	struct rte_ring *q = mem;
	if (SL_UNLIKELY(q == NULL || q->size != depth || q->mask != depth - 1 ||
	                q->prod.sync_type != RTE_RING_SYNC_ST ||
	                q->cons.sync_type != RTE_RING_SYNC_ST))
		return NULL;
	return q;
}

int sl_msgq_send(struct rte_ring *q, const sl_msg_t *m)
{
	if (SL_UNLIKELY(rte_ring_enqueue_elem(q, (void *)(uintptr_t)m, SL_MSG_SIZE) != 0))
		return -ENOBUFS;
	return 0;
}

int sl_msgq_recv(struct rte_ring *q, sl_msg_t *m)
{
	return rte_ring_dequeue_elem(q, m, SL_MSG_SIZE) == 0 ? 0 : -ENOENT;
}

uint32_t sl_msgq_room(const struct rte_ring *q)
{
	return rte_ring_free_count(q);
}
