/* sl_heap.c — see sl_heap.h. */
#include "sl_heap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "sl_log.h"
#include "sl_thp.h"

#define SL_HEAP_NAME      "sl_thp"
#define SL_HEAP_CHUNK_MIN (32u << 20) /* a worker's routine state fits */

/* sl_heap_add gives EAL [base, base+len) for the heap, each page's IOVA
   its address.  Returns 0 or -rte_errno. */
static int sl_heap_add(void *base, size_t len)
{
	unsigned n = (unsigned)(len / SL_THP_PAGE);
	rte_iova_t *iova = calloc(n, sizeof *iova);
	if (iova == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		iova[i] = (rte_iova_t)(uintptr_t)base + (rte_iova_t)i * SL_THP_PAGE;
	int rc = rte_malloc_heap_memory_add(SL_HEAP_NAME, base, len, iova, n, SL_THP_PAGE);
	rc = rc == 0 ? 0 : -rte_errno;
	free(iova);
	return rc;
}

void sl_heap_create(sl_heap_t *h)
{
	memset(h, 0, sizeof *h);
	if (rte_eal_has_hugepages() || rte_eal_iova_mode() != RTE_IOVA_VA)
		return;
	if (SL_UNLIKELY(rte_malloc_heap_create(SL_HEAP_NAME) != 0)) {
		SL_WARN("start-up heap: EAL refused a heap (%s); the mbuf pool and routine state "
		        "stay on EAL's 4 KiB pages",
		        rte_strerror(rte_errno));
		return;
	}
	h->on = true;
	h->socket = rte_malloc_heap_get_socket(SL_HEAP_NAME);
	SL_INFO("memory: no hugepages; the mbuf pool and routine state go on transparent "
	        "huge pages");
}

int sl_heap_reserve(sl_heap_t *h, size_t bytes)
{
	if (!h->on)
		return -1;
	if (h->n == SL_HEAP_CHUNKS) {
		SL_DEBUG("start-up heap: all %u chunks taken", SL_HEAP_CHUNKS);
		return -1;
	}
	size_t len = RTE_ALIGN_CEIL(SL_MAX(bytes + SL_THP_PAGE, (size_t)SL_HEAP_CHUNK_MIN),
	                            (size_t)SL_THP_PAGE);
	void *base = sl_thp_alloc(len);
	if (SL_UNLIKELY(base == NULL)) {
		SL_DEBUG("start-up heap: cannot map %zu MiB: %s", len >> 20, strerror(errno));
		return -1;
	}
	int rc = sl_heap_add(base, len);
	if (SL_UNLIKELY(rc != 0)) {
		SL_DEBUG("start-up heap: EAL refused %zu MiB: %s", len >> 20, rte_strerror(-rc));
		sl_thp_free(base, len);
		return -1;
	}
	h->base[h->n] = base;
	h->len[h->n++] = len;
	return 0;
}

void *sl_heap_zalloc(sl_heap_t *h, const char *what, size_t bytes, int fallback)
{
	void *m = NULL;
	if (h->on) {
		m = rte_zmalloc_socket(what, bytes, RTE_CACHE_LINE_SIZE, h->socket);
		if (m == NULL && sl_heap_reserve(h, bytes) == 0)
			m = rte_zmalloc_socket(what, bytes, RTE_CACHE_LINE_SIZE, h->socket);
	}
	if (m == NULL)
		m = rte_zmalloc_socket(what, bytes, RTE_CACHE_LINE_SIZE, fallback);
	return m != NULL ? m : rte_zmalloc(what, bytes, RTE_CACHE_LINE_SIZE);
}

void sl_heap_destroy(sl_heap_t *h)
{
	if (!h->on)
		return;
	while (h->n > 0) {
		unsigned i = h->n - 1;
		if (rte_malloc_heap_memory_remove(SL_HEAP_NAME, h->base[i], h->len[i]) != 0) {
			SL_WARN("start-up heap: %zu MiB still in use at exit (%s); left mapped",
			        h->len[i] >> 20, rte_strerror(rte_errno));
			return;
		}
		sl_thp_free(h->base[i], h->len[i]);
		h->n = i;
	}
	rte_malloc_heap_destroy(SL_HEAP_NAME);
	h->on = false;
}
