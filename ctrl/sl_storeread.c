/* sl_storeread.c — see sl_storeread.h.

   One mutex (mu) guards the request table, the wait lists, the request
   queue and the done ring.  Lock order: mu, then a pool's own mutex (pool
   calls made under mu never wait: acquire with deadline 0, release,
   close).  sl_storeread_truncate blocks in the pools without mu.

   A slot's life: FREE → WAITING (in a wait list) → QUEUED (GET: holds a
   read permit, in the request queue) → RUNNING (a reader has it) → DONE
   (in the done ring until polled).  Any non-DONE slot may be completed
   early (deadline, cancel, shutdown); its permit goes back then.  A DONE
   slot returns to FREE once it is polled, no reader is inside it and (a
   stream) it is closed. */
#include "sl_storeread.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_permit.h"
#include "sl_sha256d.h"
#include "sl_time.h"

#define SR_NONE      UINT32_MAX
#define SR_MAX_SLOTS 0xffffu /* a stream id packs the slot in 16 bits */

enum { SR_FREE = 0, SR_WAITING, SR_QUEUED, SR_RUNNING, SR_DONE };

typedef struct {
	uint8_t state;
	bool in_reader; /* a reader thread is reading for it */
	bool in_doneq;  /* its completion waits in the done ring */
	bool holds;     /* holds a permit: read (GET) or stream (STREAM) */
	bool open;      /* STREAM: granted and not yet closed */
	bool has_want;
	uint16_t gen;
	uint32_t prev, next; /* wait list, or the free list (next) */
	uint64_t deadline_ns;
	uint8_t want[SL_STORE_HASH_SIZE];
	sl_storeread_done_t done; /* cookie, kind, height, stream; result */
} sr_slot_t;

typedef struct {
	uint32_t head, tail, n;
} sr_list_t;

struct sl_storeread {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;  /* readers: the request queue grew; stop */
	pthread_cond_t timer_cv; /* timer: an earlier deadline; stop */
	sl_permit_pool_t read, stream, write;
	sl_store_reader_t *reader;
	int efd;
	bool closed, stop;
	uint64_t read_deadline_ns, stream_wait_ns;
	uint64_t timer_at; /* when the timer thread wakes next (UINT64_MAX: idle) */
	sl_storeread_hook_fn before_read;
	void *hook_ctx;

	uint32_t nslots, free_head;
	sr_slot_t *slots;
	sr_list_t wait_read, wait_stream;
	uint32_t rq[SL_READ_PERMITS]; /* the request queue: one place per read permit */
	uint32_t rq_head, rq_n;
	uint32_t *dq; /* the done ring: one place per slot */
	uint32_t dq_head, dq_n;

	uint32_t nreaders;
	pthread_t *readers;
	pthread_t timer;
	bool timer_started;
	uint64_t done_cnt[SL_STOREREAD_ERR__COUNT];
	uint64_t truncations;
};

static const char *const sl_storeread_names[SL_STOREREAD_ERR__COUNT] = {
    [SL_STOREREAD_OK] = "ok",
#define SL_STOREREAD_X_STR(name, str) [SL_STOREREAD_ERR_##name] = str,
    SL_STOREREAD_ERR_LIST(SL_STOREREAD_X_STR)
#undef SL_STOREREAD_X_STR
};

const char *sl_storeread_err_str(sl_storeread_err_t e)
{
	if ((unsigned)e >= SL_STOREREAD_ERR__COUNT)
		return "unknown";
	return sl_storeread_names[e];
}

static sl_storeread_err_t sl_storeread_from_permit(sl_permit_err_t e)
{
	switch (e) {
	case SL_PERMIT_OK:
		return SL_STOREREAD_OK;
	case SL_PERMIT_ERR_TIMEOUT:
		return SL_STOREREAD_ERR_TIMEOUT;
	case SL_PERMIT_ERR_CLOSED:
		return SL_STOREREAD_ERR_SHUTTING_DOWN;
	case SL_PERMIT_ERR_CANCELLED:
		return SL_STOREREAD_ERR_CANCELLED;
	default:
		return SL_STOREREAD_ERR_ARG;
	}
}

/* ---- lists and rings (under mu) ----------------------------------------- */

static void sr_list_push(sl_storeread_t *sr, sr_list_t *l, uint32_t i)
{
	sr_slot_t *s = &sr->slots[i];
	s->prev = l->tail;
	s->next = SR_NONE;
	if (l->tail != SR_NONE)
		sr->slots[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
	l->n++;
}

static void sr_list_remove(sl_storeread_t *sr, sr_list_t *l, uint32_t i)
{
	sr_slot_t *s = &sr->slots[i];
	if (s->prev != SR_NONE)
		sr->slots[s->prev].next = s->next;
	else
		l->head = s->next;
	if (s->next != SR_NONE)
		sr->slots[s->next].prev = s->prev;
	else
		l->tail = s->prev;
	s->prev = s->next = SR_NONE;
	l->n--;
}

/* sr_rq_push: the caller holds a read permit for i, so there is room. */
static void sr_rq_push(sl_storeread_t *sr, uint32_t i)
{
	sr->rq[(sr->rq_head + sr->rq_n) % SL_READ_PERMITS] = i;
	sr->rq_n++;
	pthread_cond_signal(&sr->work_cv);
}

static uint32_t sr_rq_pop(sl_storeread_t *sr)
{
	uint32_t i = sr->rq[sr->rq_head];
	sr->rq_head = (sr->rq_head + 1) % SL_READ_PERMITS;
	sr->rq_n--;
	return i;
}

/* sr_rq_remove takes i out of the middle of the queue (its permit goes
   back now, so its place must too). */
static void sr_rq_remove(sl_storeread_t *sr, uint32_t i)
{
	uint32_t k = 0, kept = 0;
	for (; k < sr->rq_n; k++) {
		uint32_t v = sr->rq[(sr->rq_head + k) % SL_READ_PERMITS];
		if (v != i)
			sr->rq[(sr->rq_head + kept++) % SL_READ_PERMITS] = v;
	}
	sr->rq_n = kept;
}

static void sr_wake_loop(sl_storeread_t *sr)
{
	uint64_t one = 1;
	if (SL_UNLIKELY(write(sr->efd, &one, sizeof one) != (ssize_t)sizeof one))
		SL_WARN("storeread: eventfd write: %s", strerror(errno));
}

/* ---- the request table (under mu) --------------------------------------- */

static uint32_t sr_slot_alloc(sl_storeread_t *sr)
{
	uint32_t i = sr->free_head;
	if (i == SR_NONE)
		return SR_NONE;
	sr->free_head = sr->slots[i].next;
	sr_slot_t *s = &sr->slots[i];
	uint16_t gen = s->gen;
	memset(s, 0, sizeof *s);
	s->gen = gen;
	s->prev = s->next = SR_NONE;
	return i;
}

static void sr_slot_maybe_free(sl_storeread_t *sr, uint32_t i)
{
	sr_slot_t *s = &sr->slots[i];
	if (s->state != SR_DONE || s->in_reader || s->in_doneq || s->open)
		return;
	s->state = SR_FREE;
	s->gen++;
	s->next = sr->free_head;
	sr->free_head = i;
}

static sl_permit_pool_t *sr_pool_of(sl_storeread_t *sr, const sr_slot_t *s)
{
	return s->done.kind == SL_STOREREAD_KIND_GET ? &sr->read : &sr->stream;
}

/* sr_complete ends slot i with `err`: out of its list or queue, permit back
   (a granted stream keeps its own), completion into the done ring, the
   loop woken.  Waiters are admitted by the caller (sr_admit). */
static void sr_complete(sl_storeread_t *sr, uint32_t i, sl_storeread_err_t err)
{
	sr_slot_t *s = &sr->slots[i];
	bool granted = err == SL_STOREREAD_OK && s->done.kind == SL_STOREREAD_KIND_STREAM;
	if (s->state == SR_WAITING)
		sr_list_remove(
		    sr, s->done.kind == SL_STOREREAD_KIND_GET ? &sr->wait_read : &sr->wait_stream,
		    i);
	else if (s->state == SR_QUEUED)
		sr_rq_remove(sr, i);
	if (s->holds && !granted) {
		sl_permit_release(sr_pool_of(sr, s));
		s->holds = false;
	}
	s->open = granted;
	s->state = SR_DONE;
	s->done.err = err;
	s->in_doneq = true;
	sr->dq[(sr->dq_head + sr->dq_n) % sr->nslots] = i;
	sr->dq_n++;
	sr->done_cnt[err]++;
	sr_wake_loop(sr);
}

/* sr_admit hands free permits to waiters, oldest first: a read goes to the
   request queue, a stream is granted (completes OK).  A drain or a closed
   pool admits nobody. */
static void sr_admit(sl_storeread_t *sr)
{
	while (sr->wait_read.n > 0 && sl_permit_acquire(&sr->read, 0) == SL_PERMIT_OK) {
		uint32_t i = sr->wait_read.head;
		sr_list_remove(sr, &sr->wait_read, i);
		sr->slots[i].holds = true;
		sr->slots[i].state = SR_QUEUED;
		sr_rq_push(sr, i);
	}
	while (sr->wait_stream.n > 0 && sl_permit_acquire(&sr->stream, 0) == SL_PERMIT_OK) {
		uint32_t i = sr->wait_stream.head;
		sr->slots[i].holds = true;
		sr_complete(sr, i, SL_STOREREAD_OK); /* out of the wait list, granted */
	}
}

static bool sr_pending(const sr_slot_t *s)
{
	return s->state == SR_WAITING || s->state == SR_QUEUED || s->state == SR_RUNNING;
}

/* sr_enter puts a filled slot at the tail of its wait list, admits, and
   tells the timer if its deadline is the earliest. */
static void sr_enter(sl_storeread_t *sr, uint32_t i, sr_list_t *l)
{
	sr->slots[i].state = SR_WAITING;
	sr_list_push(sr, l, i);
	sr_admit(sr);
	if (sr->slots[i].deadline_ns < sr->timer_at)
		pthread_cond_signal(&sr->timer_cv);
}

/* ---- threads ------------------------------------------------------------- */

/* sr_read_one reads header `height` from the mapped chain. */
static sl_storeread_err_t sr_read_one(sl_storeread_t *sr, uint32_t height, const uint8_t *want,
                                      uint8_t hdr[80], uint8_t hash[32])
{
	int rc = sl_store_reader_range(sr->reader, height, 1, hdr, NULL);
	if (rc == -(int)SL_STORE_ERR_EPOCH)
		return SL_STOREREAD_ERR_REORGED;
	if (rc != 1)
		return SL_STOREREAD_ERR_NOT_FOUND;
	sl_sha256d_hdr(hdr, hash);
	if (want != NULL && memcmp(want, hash, SL_STORE_HASH_SIZE) != 0)
		return SL_STOREREAD_ERR_NOT_FOUND;
	return SL_STOREREAD_OK;
}

/* sr_run takes queued slot i out of the lock, reads, and completes it
   unless its deadline, a cancel or shutdown came first.  Called and
   returns with mu held. */
static void sr_run(sl_storeread_t *sr, uint32_t i)
{
	sr_slot_t *s = &sr->slots[i];
	uint32_t height = s->done.height;
	uint8_t want[SL_STORE_HASH_SIZE], hdr[SL_STORE_HDR_SIZE], hash[SL_STORE_HASH_SIZE];
	bool has_want = s->has_want;
	memcpy(want, s->want, sizeof want);
	s->state = SR_RUNNING;
	s->in_reader = true;
	pthread_mutex_unlock(&sr->mu);

	if (sr->before_read != NULL)
		sr->before_read(sr->hook_ctx, height);
	sl_storeread_err_t err = sr_read_one(sr, height, has_want ? want : NULL, hdr, hash);

	pthread_mutex_lock(&sr->mu);
	s->in_reader = false;
	if (s->state != SR_RUNNING) { /* completed without us: drop the result */
		sr_slot_maybe_free(sr, i);
		return;
	}
	if (err == SL_STOREREAD_OK) {
		memcpy(s->done.hdr, hdr, sizeof hdr);
		memcpy(s->done.hash, hash, sizeof hash);
	}
	sr_complete(sr, i, err);
	sr_admit(sr);
}

static void *sr_reader_main(void *arg)
{
	sl_storeread_t *sr = arg;
	pthread_mutex_lock(&sr->mu);
	for (;;) {
		while (!sr->stop && sr->rq_n == 0)
			pthread_cond_wait(&sr->work_cv, &sr->mu);
		if (sr->stop)
			break;
		sr_run(sr, sr_rq_pop(sr));
	}
	pthread_mutex_unlock(&sr->mu);
	return NULL;
}

/* sr_expire completes every request past its deadline (a read: TIMEOUT; a
   stream still waiting: BUSY) and returns the next deadline. */
static uint64_t sr_expire(sl_storeread_t *sr, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	bool any = false;
	for (uint32_t i = 0; i < sr->nslots; i++) {
		sr_slot_t *s = &sr->slots[i];
		if (!sr_pending(s))
			continue;
		if (s->deadline_ns > now) {
			next = SL_MIN(next, s->deadline_ns);
			continue;
		}
		sr_complete(sr, i,
		            s->done.kind == SL_STOREREAD_KIND_GET ? SL_STOREREAD_ERR_TIMEOUT
		                                                  : SL_STOREREAD_ERR_BUSY);
		any = true;
	}
	if (any)
		sr_admit(sr);
	return next;
}

static void *sr_timer_main(void *arg)
{
	sl_storeread_t *sr = arg;
	pthread_mutex_lock(&sr->mu);
	while (!sr->stop) {
		sr->timer_at = sr_expire(sr, sl_now_ns());
		if (sr->timer_at == UINT64_MAX) {
			pthread_cond_wait(&sr->timer_cv, &sr->mu);
			continue;
		}
		struct timespec ts = {.tv_sec = (time_t)(sr->timer_at / SL_NS_PER_S),
		                      .tv_nsec = (long)(sr->timer_at % SL_NS_PER_S)};
		pthread_cond_timedwait(&sr->timer_cv, &sr->mu, &ts);
	}
	pthread_mutex_unlock(&sr->mu);
	return NULL;
}

/* ---- lifecycle ----------------------------------------------------------- */

static bool sr_init_sync(sl_storeread_t *sr)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&sr->mu, NULL);
	pthread_cond_init(&sr->work_cv, NULL);
	pthread_cond_init(&sr->timer_cv, &ca);
	pthread_condattr_destroy(&ca);
	return sl_permit_init(&sr->read, SL_READ_PERMITS) == SL_PERMIT_OK &&
	       sl_permit_init(&sr->stream, SL_STREAM_PERMITS) == SL_PERMIT_OK &&
	       sl_permit_init(&sr->write, 1) == SL_PERMIT_OK;
}

static bool sr_init_table(sl_storeread_t *sr, uint32_t n)
{
	sr->nslots = n;
	sr->slots = calloc(n, sizeof *sr->slots);
	sr->dq = calloc(n, sizeof *sr->dq);
	if (sr->slots == NULL || sr->dq == NULL)
		return false;
	for (uint32_t i = 0; i < n; i++)
		sr->slots[i].next = i + 1 < n ? i + 1 : SR_NONE;
	sr->free_head = 0;
	sr->wait_read = sr->wait_stream = (sr_list_t){SR_NONE, SR_NONE, 0};
	sr->timer_at = UINT64_MAX;
	return true;
}

/* sr_start_threads starts the timer and `want` readers; sr->nreaders
   counts the readers started (delete joins those). */
static bool sr_start_threads(sl_storeread_t *sr, uint32_t want)
{
	sr->readers = calloc(want, sizeof *sr->readers);
	if (sr->readers == NULL)
		return false;
	if (pthread_create(&sr->timer, NULL, sr_timer_main, sr) != 0)
		return false;
	sr->timer_started = true;
	for (; sr->nreaders < want; sr->nreaders++)
		if (pthread_create(&sr->readers[sr->nreaders], NULL, sr_reader_main, sr) != 0)
			return false;
	return true;
}

sl_storeread_t *sl_storeread_new(const sl_storeread_opts_t *o)
{
	if (SL_UNLIKELY(o == NULL || o->dir == NULL || o->max_requests > SR_MAX_SLOTS)) {
		SL_ERR("storeread: bad options");
		return NULL;
	}
	sl_storeread_t *sr = calloc(1, sizeof *sr);
	if (SL_UNLIKELY(sr == NULL))
		return NULL;
	sr->efd = -1;
	sr->read_deadline_ns =
	    o->read_deadline_ns ? o->read_deadline_ns : SL_STOREREAD_DEADLINE_DEFAULT;
	sr->stream_wait_ns =
	    o->stream_wait_ns ? o->stream_wait_ns : SL_STOREREAD_STREAM_WAIT_DEFAULT;
	sr->before_read = o->before_read;
	sr->hook_ctx = o->hook_ctx;
	bool ok =
	    sr_init_sync(sr) &&
	    sr_init_table(sr, o->max_requests ? o->max_requests : SL_STOREREAD_REQUESTS_DEFAULT) &&
	    (sr->reader = sl_store_reader_open(o->dir)) != NULL &&
	    (sr->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) >= 0 &&
	    sr_start_threads(sr, o->readers ? o->readers : SL_STOREREAD_READERS_DEFAULT);
	if (SL_UNLIKELY(!ok)) {
		SL_ERR("storeread: cannot start the read path on %s", o->dir);
		sl_storeread_delete(sr);
		return NULL;
	}
	return sr;
}

void sl_storeread_shutdown(sl_storeread_t *sr)
{
	if (sr == NULL)
		return;
	pthread_mutex_lock(&sr->mu);
	if (!sr->closed) {
		sr->closed = true;
		sl_permit_close(&sr->read);
		sl_permit_close(&sr->stream);
		sl_permit_close(&sr->write);
		for (uint32_t i = 0; i < sr->nslots; i++)
			if (sr_pending(&sr->slots[i]))
				sr_complete(sr, i, SL_STOREREAD_ERR_SHUTTING_DOWN);
	}
	sr->stop = true;
	pthread_cond_broadcast(&sr->work_cv);
	pthread_cond_broadcast(&sr->timer_cv);
	pthread_mutex_unlock(&sr->mu);
}

void sl_storeread_delete(sl_storeread_t *sr)
{
	if (sr == NULL)
		return;
	if (sr->slots != NULL)
		sl_storeread_shutdown(sr);
	for (uint32_t k = 0; k < sr->nreaders && sr->readers != NULL; k++)
		pthread_join(sr->readers[k], NULL);
	if (sr->timer_started)
		pthread_join(sr->timer, NULL);
	if (sr->reader != NULL)
		sl_store_reader_close(sr->reader);
	if (sr->efd >= 0)
		close(sr->efd);
	sl_permit_fini(&sr->read);
	sl_permit_fini(&sr->stream);
	sl_permit_fini(&sr->write);
	pthread_cond_destroy(&sr->work_cv);
	pthread_cond_destroy(&sr->timer_cv);
	pthread_mutex_destroy(&sr->mu);
	free(sr->readers);
	free(sr->slots);
	free(sr->dq);
	free(sr);
}

/* ---- the control loop's calls ------------------------------------------- */

int sl_storeread_fd(const sl_storeread_t *sr)
{
	return sr->efd;
}

uint32_t sl_storeread_poll(sl_storeread_t *sr, sl_storeread_done_t *out, uint32_t n)
{
	uint64_t v;
	uint32_t k = 0;
	pthread_mutex_lock(&sr->mu);
	if (read(sr->efd, &v, sizeof v) < 0 && errno != EAGAIN)
		SL_WARN("storeread: eventfd read: %s", strerror(errno));
	for (; k < n && sr->dq_n > 0; k++) {
		uint32_t i = sr->dq[sr->dq_head];
		sr->dq_head = (sr->dq_head + 1) % sr->nslots;
		sr->dq_n--;
		out[k] = sr->slots[i].done;
		sr->slots[i].in_doneq = false;
		sr_slot_maybe_free(sr, i);
	}
	if (sr->dq_n > 0) /* more than n: stay readable */
		sr_wake_loop(sr);
	pthread_mutex_unlock(&sr->mu);
	return k;
}

/* sr_deadline clamps a caller's deadline to now + limit (0: now + limit). */
static uint64_t sr_deadline(uint64_t want, uint64_t limit)
{
	uint64_t lim = sl_now_ns() + limit;
	return want == 0 || want > lim ? lim : want;
}

sl_storeread_err_t sl_storeread_get(sl_storeread_t *sr, const sl_storeread_get_t *q,
                                    uint64_t cookie)
{
	if (SL_UNLIKELY(sr == NULL || q == NULL))
		return SL_STOREREAD_ERR_ARG;
	sl_storeread_err_t e = SL_STOREREAD_OK;
	pthread_mutex_lock(&sr->mu);
	uint32_t i = sr->closed ? SR_NONE : sr_slot_alloc(sr);
	if (SL_UNLIKELY(i == SR_NONE)) {
		e = sr->closed ? SL_STOREREAD_ERR_SHUTTING_DOWN : SL_STOREREAD_ERR_BUSY;
	} else {
		sr_slot_t *s = &sr->slots[i];
		s->done.cookie = cookie;
		s->done.kind = SL_STOREREAD_KIND_GET;
		s->done.height = q->height;
		s->has_want = q->want_hash != NULL;
		if (s->has_want)
			memcpy(s->want, q->want_hash, SL_STORE_HASH_SIZE);
		s->deadline_ns = sr_deadline(q->deadline_ns, sr->read_deadline_ns);
		sr_enter(sr, i, &sr->wait_read);
	}
	pthread_mutex_unlock(&sr->mu);
	return e;
}

/* sr_resolve fixes a stream's range against the committed chain now. */
static sl_storeread_err_t sr_resolve(sl_storeread_t *sr, const sl_storeread_range_t *r,
                                     sl_storeread_stream_t *st)
{
	uint32_t count;
	memset(st, 0, sizeof *st);
	sl_store_reader_snapshot(sr->reader, &count, &st->epoch);
	if (r == NULL)
		return SL_STOREREAD_OK;
	uint32_t to = r->to == UINT32_MAX && count > 0 ? count - 1 : r->to;
	if (count == 0 || r->from > to || to >= count)
		return SL_STOREREAD_ERR_RANGE;
	st->from = r->from;
	st->to = to;
	st->has_range = true;
	return SL_STOREREAD_OK;
}

sl_storeread_err_t sl_storeread_stream_open(sl_storeread_t *sr, const sl_storeread_range_t *range,
                                            uint64_t cookie)
{
	if (SL_UNLIKELY(sr == NULL))
		return SL_STOREREAD_ERR_ARG;
	sl_storeread_stream_t st;
	sl_storeread_err_t e = sr_resolve(sr, range, &st);
	pthread_mutex_lock(&sr->mu);
	uint32_t i = sr->closed || e != SL_STOREREAD_OK ? SR_NONE : sr_slot_alloc(sr);
	if (sr->closed)
		e = SL_STOREREAD_ERR_SHUTTING_DOWN;
	else if (e == SL_STOREREAD_OK && i == SR_NONE)
		e = SL_STOREREAD_ERR_BUSY;
	if (i != SR_NONE) {
		sr_slot_t *s = &sr->slots[i];
		s->done.cookie = cookie;
		s->done.kind = SL_STOREREAD_KIND_STREAM;
		s->done.stream = st;
		s->done.stream.id = ((uint32_t)s->gen << 16) | i;
		s->deadline_ns = sl_now_ns() + sr->stream_wait_ns;
		sr_enter(sr, i, &sr->wait_stream);
	}
	pthread_mutex_unlock(&sr->mu);
	return e;
}

sl_storeread_err_t sl_storeread_stream_read(sl_storeread_t *sr, const sl_storeread_stream_t *st,
                                            uint32_t start, uint32_t n, uint8_t *out, uint32_t *got)
{
	if (SL_UNLIKELY(sr == NULL || st == NULL || !st->has_range || out == NULL || got == NULL ||
	                start < st->from || start > st->to))
		return SL_STOREREAD_ERR_ARG;
	*got = 0;
	n = SL_MIN(n, st->to - start + 1);
	uint64_t epoch = 0;
	int rc = sl_store_reader_range(sr->reader, start, n, out, &epoch);
	if (rc < 0 || (uint32_t)rc < n || epoch != st->epoch)
		return SL_STOREREAD_ERR_REORGED;
	*got = (uint32_t)rc;
	return SL_STOREREAD_OK;
}

sl_storeread_err_t sl_storeread_stream_close(sl_storeread_t *sr, const sl_storeread_stream_t *st)
{
	if (SL_UNLIKELY(sr == NULL || st == NULL))
		return SL_STOREREAD_ERR_ARG;
	uint32_t i = st->id & 0xffffu;
	sl_storeread_err_t e = SL_STOREREAD_ERR_ARG;
	pthread_mutex_lock(&sr->mu);
	sr_slot_t *s = i < sr->nslots ? &sr->slots[i] : NULL;
	if (s != NULL && s->open && s->gen == (uint16_t)(st->id >> 16)) {
		s->open = false;
		s->holds = false;
		sl_permit_release(&sr->stream);
		sr_slot_maybe_free(sr, i);
		sr_admit(sr);
		e = SL_STOREREAD_OK;
	}
	pthread_mutex_unlock(&sr->mu);
	return e;
}

uint32_t sl_storeread_cancel(sl_storeread_t *sr, uint64_t cookie)
{
	uint32_t n = 0;
	pthread_mutex_lock(&sr->mu);
	for (uint32_t i = 0; i < sr->nslots; i++)
		if (sr_pending(&sr->slots[i]) && sr->slots[i].done.cookie == cookie) {
			sr_complete(sr, i, SL_STOREREAD_ERR_CANCELLED);
			n++;
		}
	if (n > 0)
		sr_admit(sr);
	pthread_mutex_unlock(&sr->mu);
	return n;
}

/* ---- truncation (the store's writer thread) ------------------------------ */

sl_storeread_err_t sl_storeread_truncate(sl_storeread_t *sr, sl_storeread_truncate_fn fn, void *ctx,
                                         uint64_t deadline_ns)
{
	if (SL_UNLIKELY(sr == NULL || fn == NULL))
		return SL_STOREREAD_ERR_ARG;
	sl_permit_err_t pe = sl_permit_acquire(&sr->write, deadline_ns);
	if (pe != SL_PERMIT_OK)
		return sl_storeread_from_permit(pe);
	pe = sl_permit_drain(&sr->read, deadline_ns);
	if (pe == SL_PERMIT_OK) {
		fn(ctx);
		sl_permit_undrain(&sr->read);
	}
	sl_permit_release(&sr->write);
	pthread_mutex_lock(&sr->mu);
	sr->truncations += pe == SL_PERMIT_OK;
	sr_admit(sr); /* the reads that waited behind the drain */
	pthread_mutex_unlock(&sr->mu);
	return sl_storeread_from_permit(pe);
}

void sl_storeread_cancel_truncate(sl_storeread_t *sr)
{
	sl_permit_cancel_drain(&sr->read);
}

void sl_storeread_stats(sl_storeread_t *sr, sl_storeread_stats_t *out)
{
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&sr->mu);
	for (uint32_t i = 0; i < sr->nslots; i++) {
		const sr_slot_t *s = &sr->slots[i];
		out->running += s->state == SR_RUNNING;
		out->abandoned += s->state == SR_DONE && s->in_reader;
	}
	out->read_held = sl_permit_held(&sr->read);
	out->stream_held = sl_permit_held(&sr->stream);
	out->draining = sl_permit_draining(&sr->read);
	out->read_waiting = sr->wait_read.n;
	out->stream_waiting = sr->wait_stream.n;
	out->queued = sr->rq_n;
	memcpy(out->done, sr->done_cnt, sizeof out->done);
	out->truncations = sr->truncations;
	pthread_mutex_unlock(&sr->mu);
}
