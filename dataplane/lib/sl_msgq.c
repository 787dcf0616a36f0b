/* sl_msgq.c — a message ring of sl_msg_t records (sl_msgq.h). */
#include "sl_msgq.h"
#include "sl_msgq_private.h"

#include <errno.h>
#include <stdatomic.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#define SL_MSGQ_FLAGS (RING_F_SP_ENQ | RING_F_SC_DEQ)

size_t sl_msgq_align(void)
{
	return RTE_CACHE_LINE_SIZE;
}

size_t sl_msgq_footprint(uint32_t depth)
{
	if (depth < 2 || !SL_IS_POW2(depth))
		return 0;
	ssize_t n = rte_ring_get_memsize_elem(SL_MSG_SIZE, depth);
	return n < 0 ? 0 : SL_MSGQ_HDR_SIZE + (size_t)n;
}

struct rte_ring *sl_msgq_new(void *mem, uint32_t depth)
{
	if (SL_UNLIKELY(mem == NULL || sl_msgq_footprint(depth) == 0 ||
	                (uintptr_t)mem % sl_msgq_align() != 0))
		return NULL;
	sl_msgq_shm_t *h = mem;
	struct rte_ring *q = sl_msgq_of(mem);
	if (SL_UNLIKELY(rte_ring_init(q, "sl_msgq", depth, SL_MSGQ_FLAGS) != 0))
		return NULL;
	h->layout = SL_MSGQ_LAYOUT;
	h->depth = depth;
	h->msg_size = SL_MSG_SIZE;
	atomic_store_explicit(&h->magic, SL_MSGQ_MAGIC, memory_order_release);
	return q;
}

struct rte_ring *sl_msgq_join(void *mem, uint32_t depth)
{
	const sl_msgq_shm_t *h = mem;
	if (SL_UNLIKELY(h == NULL ||
	                atomic_load_explicit(&h->magic, memory_order_acquire) != SL_MSGQ_MAGIC ||
	                h->layout != SL_MSGQ_LAYOUT || h->depth != depth ||
	                h->msg_size != SL_MSG_SIZE))
		return NULL;
	struct rte_ring *q = sl_msgq_of(mem);
	if (SL_UNLIKELY(q->size != depth || q->mask != depth - 1 ||
	                q->prod.sync_type != RTE_RING_SYNC_ST ||
	                q->cons.sync_type != RTE_RING_SYNC_ST))
		return NULL;
	return q;
}

void *sl_msgq_leave(struct rte_ring *q)
{
	return q == NULL ? NULL : (char *)q - SL_MSGQ_HDR_SIZE;
}

void *sl_msgq_delete(void *mem)
{
	sl_msgq_shm_t *h = mem;
	if (SL_UNLIKELY(h == NULL ||
	                atomic_load_explicit(&h->magic, memory_order_acquire) != SL_MSGQ_MAGIC))
		return NULL;
	atomic_store_explicit(&h->magic, 0, memory_order_release);
	return mem;
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

uint32_t sl_msgq_pending(const struct rte_ring *q)
{
	return rte_ring_count(q);
}
