/* sl_prefault.c — see sl_prefault.h. */
#include "sl_prefault.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
	unsigned n;
	uintptr_t lo[SL_PREFAULT_RANGES], hi[SL_PREFAULT_RANGES];
} prefault_job_t;

static void *prefault_run(void *arg)
{
	prefault_job_t *j = arg;
	for (unsigned i = 0; i < j->n; i++)
		(void)madvise((void *)j->lo[i], j->hi[i] - j->lo[i], MADV_POPULATE_WRITE);
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
