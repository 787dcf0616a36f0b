/* sl_thp.c — see sl_thp.h. */
#include "sl_thp.h"

#include <stdint.h>
#include <sys/mman.h>

/* sl_thp_len: what sl_thp_alloc(len) maps. */
static size_t sl_thp_len(size_t len)
{
	return len < SL_THP_PAGE ? len : (len + SL_THP_PAGE - 1) & ~(size_t)(SL_THP_PAGE - 1);
}

void *sl_thp_alloc(size_t len)
{
	size_t want = sl_thp_len(len);
	size_t span = len < SL_THP_PAGE ? want : want + SL_THP_PAGE;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (len < SL_THP_PAGE)
		return p;
	uint8_t *a = (uint8_t *)(((uintptr_t)p + SL_THP_PAGE - 1) & ~(uintptr_t)(SL_THP_PAGE - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + want < p + span)
		munmap(a + want, (size_t)(p + span - (a + want)));
	(void)madvise(a, want, MADV_HUGEPAGE); /* refused: small pages, same memory */
	return a;
}

void sl_thp_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, sl_thp_len(len));
}
