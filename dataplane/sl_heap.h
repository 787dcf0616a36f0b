/* sl_heap.h — where sluice-dp's start-up memory comes from: the mbuf pool
   and every worker's routine state.  With hugepages that is EAL's own
   heap.  Without them (--no-huge: a VM or a container, a kernel without
   hugetlbfs) EAL's memory is a memfd of 4 KiB pages, and the first write
   to each page is a fault: ~10 us a page on the VM this was measured on,
   where the pool and the routines' tables (~6,000 pages for one worker)
   were most of the time from start to ready.  Then sluice-dp keeps an
   external malloc heap on anonymous memory advised for transparent huge
   pages: one fault per 2 MiB, and 512 times fewer TLB entries for the
   frames.  The heap grows by chunks while the dataplane starts (EAL zeroes
   each chunk as it takes it, so a chunk is made only when an allocation
   does not fit); at most SL_HEAP_CHUNKS chunks, then allocations go to
   EAL's heap as before.  Where transparent huge pages are off the heap
   still works, on 4 KiB pages.  Owner: the main lcore, before the launch
   and after the workers ended; read-only in between. */
#ifndef SL_HEAP_H
#define SL_HEAP_H

#include <stddef.h>

#include "sl_base.h"

#define SL_HEAP_CHUNKS 16

typedef struct sl_heap {
	bool on;    /* the external heap is in use */
	int socket; /* its socket id, when on */
	unsigned n; /* chunks added */
	void *base[SL_HEAP_CHUNKS];
	size_t len[SL_HEAP_CHUNKS];
} sl_heap_t;

/* sl_heap_create turns h on when EAL runs without hugepages and with IOVA
   as VA (a chunk's IOVA is its address); otherwise, or when EAL refuses
   the heap (logged), h stays off and every call below falls back to
   EAL's heap. */
void sl_heap_create(sl_heap_t *h);

/* sl_heap_socket: the socket id to allocate start-up memory on — the
   heap's when on, else `fallback` (a NUMA socket). */
static inline int sl_heap_socket(const sl_heap_t *h, int fallback)
{
	return h->on ? h->socket : fallback;
}

/* sl_heap_reserve adds a chunk that holds at least `bytes` in one piece
   (a huge page of slack included for the heap's own headers).  Returns 0
   when it did; -1 when h is off or full or the chunk could not be made
   (logged at debug; callers fall back to EAL's heap). */
int sl_heap_reserve(sl_heap_t *h, size_t bytes);

/* sl_heap_zalloc: `bytes` of zeroed, cache-line aligned memory named
   `what` from h (adding a chunk when they do not fit), else from EAL's
   heap on `fallback`, else anywhere; NULL when nothing has them.  Freed
   with rte_free. */
void *sl_heap_zalloc(sl_heap_t *h, const char *what, size_t bytes, int fallback);

/* sl_heap_destroy gives the chunks back once everything allocated on them
   was freed (else it logs and keeps them until exit) and turns h off. */
void sl_heap_destroy(sl_heap_t *h);

#endif /* SL_HEAP_H */
