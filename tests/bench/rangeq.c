/* rangeq.c — benchmark of the range table's hot pair, take + return.
   One run prints, at 1 and 2 threads, operations per second (one op = one
   take and its return) for:
     lockfree  sl_rangeq (the real table, CAS only)
     mutex     the same API and the same algorithmic work under one
               pthread mutex (kept here as the baseline)
     rte_ring  raw MPMC rte_ring dequeue + enqueue of one slot index
   and the ratios; the last line is machine-readable (2 threads).  Never a
   pass/fail on time.  No EAL: rte_ring_init on aligned_alloc'd memory. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ring.h>

#include "sl_rangeq.h"

#define N_RANGES 64          /* queued ranges in every table */
#define RUN_NS   700000000ll /* measuring time per figure */
#define TIP      UINT32_MAX  /* peers serve everything */

static inline int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* ---- the mutex baseline: same API, same work, one lock -------------------- */

typedef struct {
	uint32_t start, len;
	uint8_t dir, fin, live;
	uint16_t tag;
	uint64_t hold[SL_RANGEQ_MAX_FANOUT];
	uint64_t mark[4];
} mx_slot_t;

typedef struct {
	pthread_mutex_t mu;
	uint32_t mask, range_len, fanout, window;
	uint32_t lo[2], hi[2];
	uint64_t epoch;
	mx_slot_t *slot;
} mx_t;

static void mx_init(mx_t *m, uint32_t window, uint32_t range_len, uint32_t fanout)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	m->window = window;
	m->mask = window - 1;
	m->range_len = range_len;
	m->fanout = fanout;
	m->lo[0] = m->lo[1] = UINT32_MAX;
	m->slot = aligned_alloc(64, window * sizeof(mx_slot_t));
	memset(m->slot, 0, window * sizeof(mx_slot_t));
}

/* mx_ensure: whole buckets only (set-up, not measured). */
static void mx_ensure(mx_t *m, uint32_t start, uint32_t n)
{
	pthread_mutex_lock(&m->mu);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = start / m->range_len + i;
		mx_slot_t *s = &m->slot[k & m->mask];
		*s = (mx_slot_t){.start = k * m->range_len,
		                 .len = m->range_len,
		                 .live = 1,
		                 .tag = (uint16_t)(s->tag + 1)};
		m->lo[0] = SL_MIN(m->lo[0], k);
		m->hi[0] = SL_MAX(m->hi[0], k);
	}
	m->epoch++;
	pthread_mutex_unlock(&m->mu);
}

static uint32_t mx_eligible(const mx_slot_t *s, uint32_t tip, uint32_t cap)
{
	if (s->start > tip)
		return 0;
	uint32_t n = s->len;
	if ((uint64_t)s->start + s->len - 1 > tip)
		n = tip - s->start + 1;
	n = SL_MIN(n, cap);
	return n < s->len && s->fin ? 0 : n;
}

static int mx_admit(const mx_t *m, const mx_slot_t *s, uint32_t sess, uint64_t w)
{
	int free_i = -2;
	for (uint32_t i = 0; i < m->fanout; i++) {
		if (s->hold[i] && (uint32_t)(s->hold[i] >> 32) == sess)
			return -1;
		if (!s->hold[i] && free_i < 0)
			free_i = (int)i;
	}
	for (uint32_t j = 0; j < 4; j++)
		if (s->mark[j] == w)
			return -1;
	return free_i;
}

static int mx_take(mx_t *m, uint32_t sess, uint32_t gen, uint32_t tip, uint32_t cap,
                   sl_range_t *out)
{
	uint64_t w = (uint64_t)sess << 32 | gen;
	pthread_mutex_lock(&m->mu);
	for (uint32_t dir = 0; dir < 2; dir++) {
		uint64_t hi = SL_MIN((uint64_t)m->hi[dir], (uint64_t)tip / m->range_len);
		for (uint64_t k = m->lo[dir], n = 0; k <= hi && n < m->window; k++, n++) {
			mx_slot_t *s = &m->slot[k & m->mask];
			if (!s->live || s->dir != dir || s->start / m->range_len != k)
				continue;
			uint32_t len = mx_eligible(s, tip, cap);
			int i = len ? mx_admit(m, s, sess, w) : -1;
			if (i < 0)
				continue;
			s->hold[i] = w;
			*out = (sl_range_t){s->start, len,    s->dir,
			                    s->fin,   s->tag, (uint32_t)(s - m->slot)};
			pthread_mutex_unlock(&m->mu);
			return 1;
		}
	}
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static int mx_return(mx_t *m, uint32_t sess, uint32_t gen, const sl_range_t *r, int why)
{
	uint64_t w = (uint64_t)sess << 32 | gen;
	int rc = 0;
	pthread_mutex_lock(&m->mu);
	mx_slot_t *s = &m->slot[r->slot];
	if (s->live && s->tag == r->tag) {
		for (uint32_t i = 0; i < m->fanout; i++) {
			if (s->hold[i] != w)
				continue;
			s->hold[i] = 0;
			if (why == SL_RANGE_WHY_TIMEOUT)
				s->mark[0] = w;
			m->epoch++;
			rc = 1;
			break;
		}
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* ---- the runs -------------------------------------------------------------- */

enum { IMPL_LOCKFREE, IMPL_MUTEX, IMPL_RING };
static const char *const impl_name[] = {"lockfree", "mutex", "rte_ring"};

typedef struct {
	int impl;
	uint32_t sess;
	sl_rangeq_t *q;
	mx_t *mx;
	struct rte_ring *ring;
	_Atomic int *go;
	uint64_t ops, misses;
} worker_t;

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	sl_range_t r;
	while (atomic_load_explicit(w->go, memory_order_acquire) == 0)
		;
	uint64_t ops = 0, misses = 0;
	while (atomic_load_explicit(w->go, memory_order_relaxed) == 1) {
		for (int b = 0; b < 64; b++) {
			if (w->impl == IMPL_LOCKFREE) {
				if (sl_rangeq_take(w->q, w->sess, 1, TIP, 2000, &r))
					sl_rangeq_return(w->q, w->sess, 1, &r, SL_RANGE_WHY_CANCEL);
				else
					misses++;
			} else if (w->impl == IMPL_MUTEX) {
				if (mx_take(w->mx, w->sess, 1, TIP, 2000, &r))
					mx_return(w->mx, w->sess, 1, &r, SL_RANGE_WHY_CANCEL);
				else
					misses++;
			} else {
				uint32_t v;
				if (rte_ring_mc_dequeue_elem(w->ring, &v, sizeof(v)) == 0)
					rte_ring_mp_enqueue_elem(w->ring, &v, sizeof(v));
				else
					misses++;
			}
			ops++;
		}
	}
	w->ops = ops;
	w->misses = misses;
	return NULL;
}

typedef struct {
	sl_rangeq_t *q;
	mx_t mx;
	struct rte_ring *ring;
} subjects_t;

static double run(subjects_t *sub, int impl, int threads)
{
	_Atomic int go = 0;
	worker_t w[2];
	pthread_t th[2];
	for (int t = 0; t < threads; t++) {
		w[t] = (worker_t){.impl = impl,
		                  .sess = (uint32_t)(t + 1),
		                  .q = sub->q,
		                  .mx = &sub->mx,
		                  .ring = sub->ring,
		                  .go = &go};
		pthread_create(&th[t], NULL, worker_main, &w[t]);
	}
	int64_t t0 = now_ns();
	atomic_store_explicit(&go, 1, memory_order_release);
	/* sleep, not spin: on a 2-core machine the workers need both cores */
	struct timespec run_ts = {RUN_NS / 1000000000ll, RUN_NS % 1000000000ll};
	while (nanosleep(&run_ts, &run_ts) != 0)
		;
	atomic_store_explicit(&go, 2, memory_order_release);
	uint64_t ops = 0, misses = 0;
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		ops += w[t].ops;
		misses += w[t].misses;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	if (threads == 2 && ops) /* an unfair lock lets one thread run alone */
		printf("threads=2  %-8s share of ops: %.0f%% / %.0f%%\n", impl_name[impl],
		       100.0 * (double)w[0].ops / (double)ops,
		       100.0 * (double)w[1].ops / (double)ops);
	if (misses)
		fprintf(stderr, "rangeq: %s: %llu empty takes\n", impl_name[impl],
		        (unsigned long long)misses);
	return (double)ops / secs;
}

static int setup(subjects_t *sub)
{
	uint32_t window = SL_RANGE_WINDOW, len = SL_RANGE_LEN, fanout = SL_FANOUT;
	void *mem = aligned_alloc(64, SL_ALIGN_UP(sl_rangeq_footprint(window), 64));
	sub->q = mem ? sl_rangeq_new(mem, window, len, fanout) : NULL;
	if (!sub->q)
		return -1;
	if (sl_rangeq_ensure(sub->q, 0, N_RANGES * len, SL_RANGE_FWD, false) != SL_RANGEQ_OK)
		return -1;
	mx_init(&sub->mx, window, len, fanout);
	mx_ensure(&sub->mx, 0, N_RANGES);

	ssize_t rsz = rte_ring_get_memsize_elem(sizeof(uint32_t), 1024);
	sub->ring = rsz > 0 ? aligned_alloc(64, SL_ALIGN_UP((size_t)rsz, 64)) : NULL;
	if (!sub->ring || rte_ring_init(sub->ring, "rangeq_bench", 1024, 0) != 0)
		return -1;
	for (uint32_t i = 0; i < N_RANGES; i++)
		rte_ring_mp_enqueue_elem(sub->ring, &i, sizeof(i));
	return 0;
}

int main(void)
{
	static subjects_t sub;
	if (setup(&sub) != 0) {
		fprintf(stderr, "rangeq: set-up failed\n");
		return 1;
	}
	printf("rangeq bench: window %u, range_len %u, fanout %u, %d queued ranges, "
	       "%.1f s per figure; op = take + return\n",
	       (unsigned)SL_RANGE_WINDOW, (unsigned)SL_RANGE_LEN, (unsigned)SL_FANOUT, N_RANGES,
	       RUN_NS / 1e9);
	double f[3][3] = {{0}};
	for (int threads = 1; threads <= 2; threads++) {
		for (int impl = 0; impl < 3; impl++)
			f[threads][impl] = run(&sub, impl, threads);
		printf("threads=%d  lockfree %12.0f ops/s\n", threads, f[threads][IMPL_LOCKFREE]);
		printf("threads=%d  mutex    %12.0f ops/s   lockfree/mutex = %.2f\n", threads,
		       f[threads][IMPL_MUTEX], f[threads][IMPL_LOCKFREE] / f[threads][IMPL_MUTEX]);
		printf("threads=%d  rte_ring %12.0f ops/s   lockfree/ring  = %.2f\n", threads,
		       f[threads][IMPL_RING], f[threads][IMPL_LOCKFREE] / f[threads][IMPL_RING]);
	}
	if (sl_rangeq_check(sub.q, NULL) != 0)
		fprintf(stderr, "rangeq: table invariant broken after the run\n");
	printf("rangeq threads=2 lockfree_ops=%.0f mutex_ops=%.0f ring_ops=%.0f vs_mutex=%.2f "
	       "vs_ring=%.2f\n",
	       f[2][IMPL_LOCKFREE], f[2][IMPL_MUTEX], f[2][IMPL_RING],
	       f[2][IMPL_LOCKFREE] / f[2][IMPL_MUTEX], f[2][IMPL_LOCKFREE] / f[2][IMPL_RING]);
	return 0;
}
