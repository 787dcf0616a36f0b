/* test_bell.c — suite "bell": ctrl's doorbell (sl_bell.h) on a real
   region, this process playing both sides: the flag and the event rings
   decide, one signal per armed sleep, and the signal ends a ppoll that
   waits with sl_bell_ctrl_setup's mask. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sl_bell.h"
#include "sl_dpregion.h"
#include "sl_msg.h"
#include "sl_region.h"
#include "sl_time.h"

static sl_region_t reg;
static char rpath[256];
static sl_bell_t bell;
static sigset_t wait_mask;

static void setup(void)
{
	char inst[48];
	snprintf(inst, sizeof inst, "utbell%d", (int)getpid());
	ck_assert_int_eq(sl_region_path(rpath, sizeof rpath, "/dev/shm", inst), 0);
	unlink(rpath);
	ck_assert_int_eq(sl_dpregion_create(&reg, rpath, 2, "unit"), 0);
	atomic_store(&reg.hdr->ctrl_pid, (uint32_t)getpid());
	ck_assert_int_eq(sl_bell_ctrl_setup(&wait_mask), 0);
	sl_bell_init(&bell);
}

static void teardown(void)
{
	sl_bell_fini(&bell);
	sl_region_close(&reg);
	unlink(rpath);
}

/* post: an event on lcore i's ring (the dataplane's side). */
static void post(uint32_t i)
{
	sl_msg_t m;
	memset(&m, 0, sizeof m);
	m.type = SL_EVT_NEW_BLOCK;
	ck_assert_int_eq(sl_msgq_send(sl_region_event_ring(&reg, i), &m), 0);
}

static uint32_t flag(void)
{
	return atomic_load(&reg.hdr->ctrl_bell);
}

/* sleep_ms: ctrl's ppoll with the doorbell's mask; how long it slept. */
static uint64_t sleep_ms(int *rc, int *err)
{
	struct timespec ts = {.tv_sec = 2};
	uint64_t t0 = sl_now_ns();
	*rc = ppoll(NULL, 0, &ts, &wait_mask);
	*err = errno;
	return (sl_now_ns() - t0) / 1000000u;
}

START_TEST(test_unarmed_is_silent)
{
	post(1);
	ck_assert(!sl_bell_check(&bell, &reg, true));
	ck_assert_uint_eq(bell.rung, 0);
}
END_TEST

/* A live ctrl is probed once: the region then says the bell reaches it,
   and ctrl (here the same process) may sleep until its next tick. */
START_TEST(test_live_ctrl_is_trusted)
{
	ck_assert(!sl_bell_trusted(&reg));
	sl_bell_check(&bell, &reg, true);
	ck_assert_int_ge(bell.pidfd, 0);
	ck_assert_uint_eq(atomic_load(&reg.hdr->dp_bell_pid), (uint32_t)getpid());
	ck_assert(sl_bell_trusted(&reg));
}
END_TEST

START_TEST(test_armed_without_event_is_silent)
{
	ck_assert(!sl_bell_arm(&reg)); /* nothing waits: ctrl may sleep */
	ck_assert(!sl_bell_check(&bell, &reg, true));
	ck_assert_uint_eq(flag(), 1); /* still armed for the next event */
}
END_TEST

/* An event already waiting when ctrl arms: ctrl does not sleep. */
START_TEST(test_arm_sees_a_waiting_event)
{
	post(0);
	ck_assert(sl_bell_arm(&reg));
}
END_TEST

/* Armed, then an event on any lcore's ring: one signal, which ends the
   sleep at once; the flag is cleared, so no second signal. */
START_TEST(test_event_rings_once)
{
	ck_assert(!sl_bell_arm(&reg));
	post(1);
	ck_assert(sl_bell_check(&bell, &reg, true));
	ck_assert_uint_eq(flag(), 0);
	ck_assert_uint_eq(bell.rung, 1);
	ck_assert(!sl_bell_check(&bell, &reg, true));
	int rc, err;
	uint64_t ms = sleep_ms(&rc, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err, EINTR);
	ck_assert_uint_lt(ms, 1000);
	/* the signal is spent: the next sleep lasts its timeout */
	struct timespec ts = {.tv_nsec = 50000000};
	ck_assert_int_eq(ppoll(NULL, 0, &ts, &wait_mask), 0);
}
END_TEST

/* Without the doorbell the same sleep runs to its timeout (the check above
   cannot pass by accident). */
START_TEST(test_unrung_sleep_times_out)
{
	ck_assert(!sl_bell_arm(&reg));
	struct timespec ts = {.tv_nsec = 50000000};
	ck_assert_int_eq(ppoll(NULL, 0, &ts, &wait_mask), 0);
}
END_TEST

/* A ctrl whose heartbeat is stale is not signalled, and the flag stays
   armed for a live one. */
START_TEST(test_stale_ctrl_is_not_rung)
{
	sl_bell_arm(&reg);
	post(0);
	ck_assert(!sl_bell_check(&bell, &reg, false));
	ck_assert_uint_eq(flag(), 1);
	ck_assert_int_eq(bell.pidfd, -1); /* not even opened */
	ck_assert(!sl_bell_trusted(&reg));
}
END_TEST

/* ctrl_pid of a process that is gone: no signal, no error. */
START_TEST(test_gone_ctrl)
{
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	atomic_store(&reg.hdr->ctrl_pid, (uint32_t)child);
	sl_bell_arm(&reg);
	post(0);
	ck_assert(!sl_bell_check(&bell, &reg, true));
	ck_assert_uint_eq(bell.rung, 0);
	ck_assert_uint_eq(atomic_load(&reg.hdr->dp_bell_pid), 0);
}
END_TEST

/* sl_bell_disarm: an event after it rings nobody. */
START_TEST(test_disarmed_is_silent)
{
	sl_bell_arm(&reg);
	sl_bell_disarm(&reg);
	post(0);
	ck_assert(!sl_bell_check(&bell, &reg, true));
}
END_TEST

static Suite *bell_suite(void)
{
	Suite *s = suite_create("bell");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_unarmed_is_silent);
	tcase_add_test(t, test_live_ctrl_is_trusted);
	tcase_add_test(t, test_armed_without_event_is_silent);
	tcase_add_test(t, test_arm_sees_a_waiting_event);
	tcase_add_test(t, test_event_rings_once);
	tcase_add_test(t, test_unrung_sleep_times_out);
	tcase_add_test(t, test_stale_ctrl_is_not_rung);
	tcase_add_test(t, test_gone_ctrl);
	tcase_add_test(t, test_disarmed_is_silent);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(bell_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
