/* sl_prefault.c — see sl_prefault.h. */
#include "sl_prefault.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Populate a step at a time: the populate holds the address space's lock
   (for reading) while it zeroes, and the owner's mmap or mremap (a
   thread's stack, a buffer's growth) waits for it; one step is a huge
   page's zeroing, not the whole range's. */
#define SL_PREFAULT_STEP (2u << 20)

typedef struct {
	unsigned n;
	uintptr_t lo[SL_PREFAULT_RANGES], hi[SL_PREFAULT_RANGES];
} prefault_job_t;

static void *prefault_run(void *arg)
{
	prefault_job_t *j = arg;
	for (unsigned i = 0; i < j->n; i++)
		for (uintptr_t a = j->lo[i]; a < j->hi[i]; a += SL_PREFAULT_STEP) {
			size_t l =
			    j->hi[i] - a < SL_PREFAULT_STEP ? j->hi[i] - a : SL_PREFAULT_STEP;
			(void)madvise((void *)a, l, MADV_POPULATE_WRITE);
		}
	free(j);
	return NULL;
}

void sl_prefault_join(sl_prefault_t *pf)
{
	if (!pf->up)
		return;
	pthread_join(pf->th, NULL);
	pf->up = false;
}

bool sl_prefault_start(sl_prefault_t *pf, void *const *p, const size_t *len, unsigned n)
{
	sl_prefault_join(pf);
	prefault_job_t *j = calloc(1, sizeof *j);
	if (SL_UNLIKELY(j == NULL))
		return false;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (unsigned i = 0; i < n && i < SL_PREFAULT_RANGES; i++) {
		if (p[i] == NULL || len[i] < SL_PREFAULT_MIN)
			continue;
		j->lo[j->n] = (uintptr_t)p[i] & ~(pg - 1);
		j->hi[j->n] = ((uintptr_t)p[i] + len[i] + pg - 1) & ~(pg - 1);
		j->n++;
	}
	if (j->n == 0 || pthread_create(&pf->th, NULL, prefault_run, j) != 0) {
		free(j);
		return false;
	}
	pf->up = true;
	return true;
}
