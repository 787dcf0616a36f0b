/* sl_permit.h — bounded permit pools for the header store (DESIGN.md
   "Control plane" → Header store): read permits (SL_READ_PERMITS), stream
   permits (SL_STREAM_PERMITS) and the write permit (a pool of 1).
   Owner: ctrl (API handlers, the reactor).  Not for the dataplane hot path:
   a pool is a mutex + condition variable on CLOCK_MONOTONIC.
   Deadlines are absolute sl_now_ns() values; 0 means "do not wait".
   A drain (truncation) blocks new acquirers and waits until every permit is
   back; it can be cancelled.  close (shutdown) fails every waiter at once
   and every later acquire. */
#ifndef SL_PERMIT_H
#define SL_PERMIT_H

#include <pthread.h>

#include "sl_base.h"

typedef enum {
	SL_PERMIT_OK = 0,
	SL_PERMIT_ERR_ARG,       /* bad capacity, or a second concurrent drain */
	SL_PERMIT_ERR_TIMEOUT,   /* the deadline passed */
	SL_PERMIT_ERR_CLOSED,    /* the pool is closed (shutting down) */
	SL_PERMIT_ERR_CANCELLED, /* drain: sl_permit_cancel_drain was called */
	SL_PERMIT_ERR__COUNT
} sl_permit_err_t;

/* sl_permit_err_str names a reason ("timeout", ...). */
const char *sl_permit_err_str(sl_permit_err_t e);

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint32_t cap, held;
	bool closed, draining, cancel;
} sl_permit_pool_t;

/* sl_permit_init makes an open pool of `cap` (>= 1) free permits. */
sl_permit_err_t sl_permit_init(sl_permit_pool_t *p, uint32_t cap);
void sl_permit_fini(sl_permit_pool_t *p);

/* sl_permit_acquire takes one permit, waiting until deadline_ns at most
   (also while a drain is in progress).  OK, TIMEOUT or CLOSED. */
sl_permit_err_t sl_permit_acquire(sl_permit_pool_t *p, uint64_t deadline_ns);

/* sl_permit_release gives back a permit taken by acquire (precondition:
   the caller holds one).  Wakes waiters and a drainer. */
void sl_permit_release(sl_permit_pool_t *p);

/* sl_permit_drain blocks new acquirers and waits until no permit is held.
   OK: the pool stays drained until sl_permit_undrain.  CANCELLED, TIMEOUT
   or CLOSED: the drain is abandoned and acquirers proceed again.  One
   drainer at a time (a second gets ARG). */
sl_permit_err_t sl_permit_drain(sl_permit_pool_t *p, uint64_t deadline_ns);
void sl_permit_undrain(sl_permit_pool_t *p);

/* sl_permit_cancel_drain makes a drain in progress return CANCELLED. */
void sl_permit_cancel_drain(sl_permit_pool_t *p);

/* sl_permit_close fails every waiter (CLOSED) and every later acquire or
   drain; held permits may still be released. */
void sl_permit_close(sl_permit_pool_t *p);

/* sl_permit_held returns how many permits are out (for stats). */
uint32_t sl_permit_held(sl_permit_pool_t *p);

/* sl_permit_draining says whether a drain is in progress or holds the pool
   drained (new acquirers wait) — for stats and tests. */
bool sl_permit_draining(sl_permit_pool_t *p);

#endif /* SL_PERMIT_H */
