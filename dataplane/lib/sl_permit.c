/* sl_permit.c — see sl_permit.h. */
#include "sl_permit.h"

#include <errno.h>
#include <time.h>

#include "sl_time.h"

static const char *const sl_permit_err_names[SL_PERMIT_ERR__COUNT] = {
    [SL_PERMIT_OK] = "ok",
    [SL_PERMIT_ERR_ARG] = "bad_argument",
    [SL_PERMIT_ERR_TIMEOUT] = "timeout",
    [SL_PERMIT_ERR_CLOSED] = "closed",
    [SL_PERMIT_ERR_CANCELLED] = "cancelled",
};

const char *sl_permit_err_str(sl_permit_err_t e)
{
	if ((unsigned)e >= SL_PERMIT_ERR__COUNT)
		return "unknown";
	return sl_permit_err_names[e];
}

sl_permit_err_t sl_permit_init(sl_permit_pool_t *p, uint32_t cap)
{
	if (SL_UNLIKELY(p == NULL || cap == 0))
		return SL_PERMIT_ERR_ARG;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	p->cap = cap;
	p->held = 0;
	p->closed = p->draining = p->cancel = false;
	return SL_PERMIT_OK;
}

void sl_permit_fini(sl_permit_pool_t *p)
{
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
}

/* wait_until sleeps on the pool's condition; returns false once the
   deadline has passed.  Called with the mutex held. */
static bool wait_until(sl_permit_pool_t *p, uint64_t deadline_ns)
{
	if (sl_now_ns() >= deadline_ns)
		return false;
	struct timespec ts = {.tv_sec = (time_t)(deadline_ns / SL_NS_PER_S),
	                      .tv_nsec = (long)(deadline_ns % SL_NS_PER_S)};
	int rc = pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	return rc != ETIMEDOUT || sl_now_ns() < deadline_ns;
}

sl_permit_err_t sl_permit_acquire(sl_permit_pool_t *p, uint64_t deadline_ns)
{
	sl_permit_err_t e = SL_PERMIT_OK;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (SL_UNLIKELY(p->closed)) {
			e = SL_PERMIT_ERR_CLOSED;
			break;
		}
		if (!p->draining && p->held < p->cap) {
			p->held++;
			break;
		}
		if (!wait_until(p, deadline_ns)) {
			e = SL_PERMIT_ERR_TIMEOUT;
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return e;
}

void sl_permit_release(sl_permit_pool_t *p)
{
	pthread_mutex_lock(&p->mu);
	if (SL_LIKELY(p->held > 0))
		p->held--;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

sl_permit_err_t sl_permit_drain(sl_permit_pool_t *p, uint64_t deadline_ns)
{
	sl_permit_err_t e = SL_PERMIT_OK;
	pthread_mutex_lock(&p->mu);
	if (SL_UNLIKELY(p->draining)) {
		pthread_mutex_unlock(&p->mu);
		return SL_PERMIT_ERR_ARG;
	}
	p->draining = true;
	p->cancel = false;
	for (;;) {
		if (SL_UNLIKELY(p->closed)) {
			e = SL_PERMIT_ERR_CLOSED;
			break;
		}
		if (SL_UNLIKELY(p->cancel)) {
			e = SL_PERMIT_ERR_CANCELLED;
			break;
		}
		if (p->held == 0)
			break;
		if (!wait_until(p, deadline_ns)) {
			e = SL_PERMIT_ERR_TIMEOUT;
			break;
		}
	}
	if (e != SL_PERMIT_OK) { /* abandoned: let acquirers in again */
		p->draining = false;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return e;
}

void sl_permit_undrain(sl_permit_pool_t *p)
{
	pthread_mutex_lock(&p->mu);
	p->draining = false;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void sl_permit_cancel_drain(sl_permit_pool_t *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->draining)
		p->cancel = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void sl_permit_close(sl_permit_pool_t *p)
{
	pthread_mutex_lock(&p->mu);
	p->closed = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

uint32_t sl_permit_held(sl_permit_pool_t *p)
{
	pthread_mutex_lock(&p->mu);
	uint32_t h = p->held;
	pthread_mutex_unlock(&p->mu);
	return h;
}

bool sl_permit_draining(sl_permit_pool_t *p)
{
	pthread_mutex_lock(&p->mu);
	bool d = p->draining;
	pthread_mutex_unlock(&p->mu);
	return d;
}
