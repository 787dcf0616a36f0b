/* test_permit.c — permit pools (sl_permit.h): bounded acquire with
   deadlines, drain for truncation (cancellable), close on shutdown. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include "sl_permit.h"
#include "sl_time.h"

#define MS SL_NS_PER_MS

START_TEST(test_init_rejects_zero_capacity)
{
	sl_permit_pool_t p;
	ck_assert_int_eq(sl_permit_init(&p, 0), SL_PERMIT_ERR_ARG);
	ck_assert_int_eq(sl_permit_init(NULL, 4), SL_PERMIT_ERR_ARG);
	ck_assert_str_eq(sl_permit_err_str(SL_PERMIT_ERR_CLOSED), "closed");
	ck_assert_str_eq(sl_permit_err_str((sl_permit_err_t)77), "unknown");
}
END_TEST

START_TEST(test_acquire_is_bounded_by_capacity)
{
	sl_permit_pool_t p;
	ck_assert_int_eq(sl_permit_init(&p, SL_READ_PERMITS), SL_PERMIT_OK);
	for (int i = 0; i < SL_READ_PERMITS; i++)
		ck_assert_int_eq(sl_permit_acquire(&p, 0), SL_PERMIT_OK);
	ck_assert_uint_eq(sl_permit_held(&p), SL_READ_PERMITS);
	ck_assert_int_eq(sl_permit_acquire(&p, 0), SL_PERMIT_ERR_TIMEOUT);
	sl_permit_release(&p);
	ck_assert_int_eq(sl_permit_acquire(&p, 0), SL_PERMIT_OK);
	sl_permit_fini(&p);
}
END_TEST

START_TEST(test_acquire_waits_until_its_deadline)
{
	sl_permit_pool_t p;
	sl_permit_init(&p, 1);
	ck_assert_int_eq(sl_permit_acquire(&p, 0), SL_PERMIT_OK);
	uint64_t t0 = sl_now_ns();
	ck_assert_int_eq(sl_permit_acquire(&p, t0 + 50 * MS), SL_PERMIT_ERR_TIMEOUT);
	uint64_t dt = sl_now_ns() - t0;
	ck_assert_uint_ge(dt, 50 * MS);
	ck_assert_uint_lt(dt, 2000 * MS);
	sl_permit_fini(&p);
}
END_TEST

typedef struct {
	sl_permit_pool_t *p;
	uint64_t deadline;
	sl_permit_err_t rc;
	uint64_t took_ns;
	int hold_ms; /* releaser: hold this long, then release `n` */
	int n;
} job_t;

static void *acquire_job(void *arg)
{
	job_t *j = arg;
	uint64_t t0 = sl_now_ns();
	j->rc = sl_permit_acquire(j->p, j->deadline);
	j->took_ns = sl_now_ns() - t0;
	return NULL;
}

static void *drain_job(void *arg)
{
	job_t *j = arg;
	uint64_t t0 = sl_now_ns();
	j->rc = sl_permit_drain(j->p, j->deadline);
	j->took_ns = sl_now_ns() - t0;
	return NULL;
}

static void *release_job(void *arg)
{
	job_t *j = arg;
	usleep((useconds_t)j->hold_ms * 1000);
	for (int i = 0; i < j->n; i++)
		sl_permit_release(j->p);
	return NULL;
}

START_TEST(test_close_fails_waiters_fast)
{
	sl_permit_pool_t p;
	sl_permit_init(&p, 1);
	sl_permit_acquire(&p, 0);
	job_t j = {.p = &p, .deadline = sl_now_ns() + 5000 * MS};
	pthread_t th;
	pthread_create(&th, NULL, acquire_job, &j);
	usleep(20000);
	sl_permit_close(&p);
	pthread_join(th, NULL);
	ck_assert_int_eq(j.rc, SL_PERMIT_ERR_CLOSED);
	ck_assert_uint_lt(j.took_ns, 1000 * MS);
	ck_assert_int_eq(sl_permit_acquire(&p, sl_now_ns() + 1000 * MS), SL_PERMIT_ERR_CLOSED);
	ck_assert_int_eq(sl_permit_drain(&p, sl_now_ns() + 1000 * MS), SL_PERMIT_ERR_CLOSED);
	sl_permit_release(&p); /* a holder may still give back */
	ck_assert_uint_eq(sl_permit_held(&p), 0);
	sl_permit_fini(&p);
}
END_TEST

START_TEST(test_drain_waits_for_holders_and_blocks_new_ones)
{
	sl_permit_pool_t p;
	sl_permit_init(&p, 8);
	sl_permit_acquire(&p, 0);
	sl_permit_acquire(&p, 0);
	job_t rel = {.p = &p, .hold_ms = 60, .n = 2};
	pthread_t th;
	pthread_create(&th, NULL, release_job, &rel);
	uint64_t t0 = sl_now_ns();
	ck_assert(!sl_permit_draining(&p));
	ck_assert_int_eq(sl_permit_drain(&p, t0 + 5000 * MS), SL_PERMIT_OK);
	ck_assert_uint_ge(sl_now_ns() - t0, 50 * MS);
	ck_assert(sl_permit_draining(&p)); /* drained until undrain */
	pthread_join(th, NULL);
	ck_assert_uint_eq(sl_permit_held(&p), 0);
	/* drained: newcomers wait (here: fail at their deadline) */
	ck_assert_int_eq(sl_permit_acquire(&p, sl_now_ns() + 20 * MS), SL_PERMIT_ERR_TIMEOUT);
	ck_assert_int_eq(sl_permit_drain(&p, 0), SL_PERMIT_ERR_ARG); /* one drainer */
	/* a waiter blocked by the drain proceeds on undrain */
	job_t w = {.p = &p, .deadline = sl_now_ns() + 5000 * MS};
	pthread_create(&th, NULL, acquire_job, &w);
	usleep(20000);
	sl_permit_undrain(&p);
	pthread_join(th, NULL);
	ck_assert_int_eq(w.rc, SL_PERMIT_OK);
	ck_assert(!sl_permit_draining(&p));
	sl_permit_fini(&p);
}
END_TEST

START_TEST(test_drain_is_cancellable_on_a_stuck_reader)
{
	sl_permit_pool_t p;
	sl_permit_init(&p, 4);
	sl_permit_acquire(&p, 0); /* a stuck reader: never released */
	job_t d = {.p = &p, .deadline = sl_now_ns() + 10000 * MS};
	pthread_t th;
	pthread_create(&th, NULL, drain_job, &d);
	usleep(30000);
	sl_permit_cancel_drain(&p);
	pthread_join(th, NULL);
	ck_assert_int_eq(d.rc, SL_PERMIT_ERR_CANCELLED);
	ck_assert_uint_lt(d.took_ns, 1000 * MS);
	ck_assert(!sl_permit_draining(&p));                       /* an abandoned drain lets go */
	ck_assert_int_eq(sl_permit_acquire(&p, 0), SL_PERMIT_OK); /* abandoned drain */
	/* and a drain against the stuck reader times out at its deadline */
	uint64_t t0 = sl_now_ns();
	ck_assert_int_eq(sl_permit_drain(&p, t0 + 40 * MS), SL_PERMIT_ERR_TIMEOUT);
	ck_assert_uint_ge(sl_now_ns() - t0, 40 * MS);
	ck_assert_int_eq(sl_permit_acquire(&p, 0), SL_PERMIT_OK);
	/* close also ends a drain in progress */
	pthread_create(&th, NULL, drain_job, &d);
	usleep(20000);
	sl_permit_close(&p);
	pthread_join(th, NULL);
	ck_assert_int_eq(d.rc, SL_PERMIT_ERR_CLOSED);
	sl_permit_fini(&p);
}
END_TEST

/* Randomized: many threads acquire/release; the count never exceeds cap. */
typedef struct {
	sl_permit_pool_t *p;
	_Atomic int *inside;
	_Atomic int *max_inside;
	unsigned seed;
} churn_t;

static void *churn_job(void *arg)
{
	churn_t *c = arg;
	for (int i = 0; i < 2000; i++) {
		if (sl_permit_acquire(c->p, sl_now_ns() + 1000 * MS) != SL_PERMIT_OK)
			continue;
		int now = atomic_fetch_add(c->inside, 1) + 1;
		int m = atomic_load(c->max_inside);
		while (now > m && !atomic_compare_exchange_weak(c->max_inside, &m, now))
			;
		if (rand_r(&c->seed) % 8 == 0)
			sched_yield();
		atomic_fetch_sub(c->inside, 1);
		sl_permit_release(c->p);
	}
	return NULL;
}

START_TEST(test_churn_never_exceeds_capacity)
{
	unsigned seed = (unsigned)time(NULL);
	printf("test_churn_never_exceeds_capacity: seed %u\n", seed);
	sl_permit_pool_t p;
	sl_permit_init(&p, 3);
	_Atomic int inside = 0, max_inside = 0;
	churn_t c[8];
	pthread_t th[8];
	for (int i = 0; i < 8; i++) {
		c[i] = (churn_t){.p = &p,
		                 .inside = &inside,
		                 .max_inside = &max_inside,
		                 .seed = seed + (unsigned)i};
		pthread_create(&th[i], NULL, churn_job, &c[i]);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_le(atomic_load(&max_inside), 3);
	ck_assert_int_ge(atomic_load(&max_inside), 1);
	ck_assert_uint_eq(sl_permit_held(&p), 0);
	sl_permit_fini(&p);
}
END_TEST

static Suite *permit_suite(void)
{
	Suite *s = suite_create("permit");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_init_rejects_zero_capacity);
	tcase_add_test(tc, test_acquire_is_bounded_by_capacity);
	tcase_add_test(tc, test_acquire_waits_until_its_deadline);
	tcase_add_test(tc, test_close_fails_waiters_fast);
	tcase_add_test(tc, test_drain_waits_for_holders_and_blocks_new_ones);
	tcase_add_test(tc, test_drain_is_cancellable_on_a_stuck_reader);
	tcase_add_test(tc, test_churn_never_exceeds_capacity);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(permit_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
