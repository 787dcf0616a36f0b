/* sl_status.c — the published local status, a seqlock (sl_status.h). */
#include "sl_status.h"
#include "sl_status_private.h"

#include <string.h>

#include <rte_pause.h>

#include "sl_log.h"

size_t sl_status_align(void)
{
	return SL_CACHE_LINE;
}

size_t sl_status_footprint(void)
{
	return SL_ALIGN_UP(sizeof(struct sl_status), (size_t)SL_CACHE_LINE);
}

sl_status_t *sl_status_new(void *mem)
{
	if (SL_UNLIKELY(mem == NULL || (uintptr_t)mem % sl_status_align() != 0)) {
		SL_ERR("status: bad memory for sl_status_new (%p, %zu-byte alignment needed)", mem,
		       sl_status_align());
		return NULL;
	}
	sl_status_t *s = mem;
	memset(s, 0, sizeof *s);
	s->layout = SL_STATUS_LAYOUT;
	s->rec_size = sizeof(sl_local_status_t);
	atomic_store_explicit(&s->magic, SL_STATUS_MAGIC, memory_order_release);
	return s;
}

sl_status_t *sl_status_join(void *mem)
{
	sl_status_t *s = mem;
	if (SL_UNLIKELY(s == NULL ||
	                atomic_load_explicit(&s->magic, memory_order_acquire) != SL_STATUS_MAGIC ||
	                s->layout != SL_STATUS_LAYOUT || s->rec_size != sizeof(sl_local_status_t)))
		return NULL;
	return s;
}

void *sl_status_leave(sl_status_t *s)
{
	return s;
}

void *sl_status_delete(void *mem)
{
	sl_status_t *s = mem;
	if (SL_UNLIKELY(s == NULL ||
	                atomic_load_explicit(&s->magic, memory_order_acquire) != SL_STATUS_MAGIC))
		return NULL;
	atomic_store_explicit(&s->magic, 0, memory_order_release);
	return mem;
}

void sl_status_publish(sl_status_t *s, const sl_local_status_t *st)
{
	uint64_t *dst = (uint64_t *)&s->rec;
	uint64_t src[SL_STATUS_WORDS];
	uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	seq += seq & 1; /* a writer that died mid-publish left it odd */
	sl_local_status_t next = *st;
	next.version = __atomic_load_n(&s->rec.version, __ATOMIC_RELAXED) + 1;
	memcpy(src, &next, sizeof src);

	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	/* The odd seq is ordered before every data store below. */
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < SL_STATUS_WORDS; i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
	/* Data stores are ordered before the even seq. */
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

uint64_t sl_status_read(const sl_status_t *s, sl_local_status_t *out)
{
	const uint64_t *src = (const uint64_t *)&s->rec;
	uint64_t buf[SL_STATUS_WORDS];
	for (uint32_t spin = 0; spin < SL_STATUS_SPIN_MAX; spin++) {
		uint64_t s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (s1 & 1) {
			rte_pause();
			continue;
		}
		for (size_t i = 0; i < SL_STATUS_WORDS; i++)
			buf[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		/* Data loads are ordered before the second seq load. */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) == s1) {
			memcpy(out, buf, sizeof buf);
			return out->version;
		}
		rte_pause();
	}
	memset(out, 0, sizeof *out);
	return 0;
}
