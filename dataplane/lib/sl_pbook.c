/* sl_pbook.c — the peer book, a seqlock (sl_pbook.h). */
#include "sl_pbook.h"
#include "sl_pbook_private.h"

#include <string.h>

#include <rte_pause.h>

#include "sl_log.h"

size_t sl_pbook_align(void)
{
	return SL_CACHE_LINE;
}

size_t sl_pbook_footprint(void)
{
	return SL_ALIGN_UP(sizeof(struct sl_pbook), (size_t)SL_CACHE_LINE);
}

sl_pbook_t *sl_pbook_new(void *mem)
{
	if (SL_UNLIKELY(mem == NULL || (uintptr_t)mem % sl_pbook_align() != 0)) {
		SL_ERR("pbook: bad memory for sl_pbook_new (%p, %zu-byte alignment needed)", mem,
		       sl_pbook_align());
		return NULL;
	}
	sl_pbook_t *b = mem;
	memset(b, 0, sizeof *b);
	b->layout = SL_PBOOK_LAYOUT;
	b->max = SL_PBOOK_MAX;
	b->peer_size = sizeof(sl_pbook_peer_t);
	atomic_store_explicit(&b->magic, SL_PBOOK_MAGIC, memory_order_release);
	return b;
}

sl_pbook_t *sl_pbook_join(void *mem)
{
	sl_pbook_t *b = mem;
	if (SL_UNLIKELY(b == NULL ||
	                atomic_load_explicit(&b->magic, memory_order_acquire) != SL_PBOOK_MAGIC ||
	                b->layout != SL_PBOOK_LAYOUT || b->max != SL_PBOOK_MAX ||
	                b->peer_size != sizeof(sl_pbook_peer_t)))
		return NULL;
	return b;
}

void *sl_pbook_leave(sl_pbook_t *b)
{
	return b;
}

void *sl_pbook_delete(void *mem)
{
	sl_pbook_t *b = mem;
	if (SL_UNLIKELY(b == NULL ||
	                atomic_load_explicit(&b->magic, memory_order_acquire) != SL_PBOOK_MAGIC))
		return NULL;
	atomic_store_explicit(&b->magic, 0, memory_order_release);
	return mem;
}

void sl_pbook_publish(sl_pbook_t *b, const sl_pbook_peer_t *p, uint32_t n)
{
	sl_pbook_rec_t next;
	uint64_t src[SL_PBOOK_WORDS];
	uint64_t *dst = (uint64_t *)&b->rec;
	memset(&next, 0, sizeof next);
	next.n = SL_MIN(n, (uint32_t)SL_PBOOK_MAX);
	if (next.n > 0)
		memcpy(next.peer, p, next.n * sizeof(*p));
	memcpy(src, &next, sizeof src);

	uint64_t seq = atomic_load_explicit(&b->seq, memory_order_relaxed);
	seq += seq & 1; /* a writer that died mid-publish left it odd */
	atomic_store_explicit(&b->seq, seq + 1, memory_order_relaxed);
	/* The odd seq is ordered before every data store below. */
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < SL_PBOOK_WORDS; i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
	/* Data stores are ordered before the even seq. */
	atomic_store_explicit(&b->seq, seq + 2, memory_order_release);
}

uint32_t sl_pbook_read(const sl_pbook_t *b, sl_pbook_peer_t *out, uint32_t max)
{
	const uint64_t *src = (const uint64_t *)&b->rec;
	sl_pbook_rec_t copy;
	uint64_t *buf = (uint64_t *)&copy;
	for (uint32_t spin = 0; spin < SL_PBOOK_SPIN_MAX; spin++) {
		uint64_t s1 = atomic_load_explicit(&b->seq, memory_order_acquire);
		if (s1 & 1) {
			rte_pause();
			continue;
		}
		for (size_t i = 0; i < SL_PBOOK_WORDS; i++)
			buf[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		/* Data loads are ordered before the second seq load. */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&b->seq, memory_order_relaxed) == s1) {
			uint32_t n = SL_MIN(SL_MIN(copy.n, (uint32_t)SL_PBOOK_MAX), max);
			if (n > 0)
				memcpy(out, copy.peer, n * sizeof(*out));
			return n;
		}
		rte_pause();
	}
	return 0;
}
