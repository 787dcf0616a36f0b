/* test_flow.c — header-sync requester flow control (sl_flow.h): the window
   starts at 1, slow-starts to the threshold, then grows one per window of
   complete answers, never past max; BUSY and losses halve it; BUSY holds
   start in milliseconds, grow only while BUSY continues (one step per
   episode), are capped, and reset on a complete answer.  Seeds:
   FLOW_SEED=<n> replays the randomized run. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sl_flow.h"
#include "sl_time.h"

#define MS SL_NS_PER_MS

START_TEST(test_init_starts_at_one)
{
	sl_flow_t f;
	sl_flow_init(&f, 16);
	ck_assert_uint_eq(sl_flow_window(&f), 1);
	ck_assert(!sl_flow_held(&f, 0));
	sl_flow_init(&f, 0);
	ck_assert_uint_eq(f.max, 1);
	ck_assert_uint_eq(sl_flow_window(&f), 1);
}
END_TEST

START_TEST(test_slow_start_reaches_max_and_stays)
{
	sl_flow_t f;
	sl_flow_init(&f, 16);
	for (uint32_t i = 1; i < 16; i++) {
		sl_flow_ok(&f);
		ck_assert_uint_eq(sl_flow_window(&f), i + 1);
	}
	for (uint32_t i = 0; i < 100; i++)
		sl_flow_ok(&f);
	ck_assert_uint_eq(sl_flow_window(&f), 16);
}
END_TEST

START_TEST(test_busy_halves_and_holds_milliseconds)
{
	sl_flow_t f;
	sl_flow_init(&f, 16);
	for (int i = 0; i < 15; i++)
		sl_flow_ok(&f);
	uint64_t t = 1000 * MS;
	uint64_t until = sl_flow_busy(&f, t);
	ck_assert_uint_eq(until, t + SL_FLOW_BUSY_BASE_NS);
	ck_assert_uint_le(SL_FLOW_BUSY_BASE_NS, 10 * MS);
	ck_assert_uint_eq(sl_flow_window(&f), 8);
	ck_assert(sl_flow_held(&f, t));
	ck_assert(!sl_flow_held(&f, until));
}
END_TEST

START_TEST(test_busy_burst_is_one_step)
{
	sl_flow_t f;
	sl_flow_init(&f, 16);
	for (int i = 0; i < 15; i++)
		sl_flow_ok(&f);
	uint64_t t = 5 * MS;
	uint64_t until = sl_flow_busy(&f, t);
	for (int i = 0; i < 15; i++) /* the rest of the window answers BUSY too */
		ck_assert_uint_eq(sl_flow_busy(&f, t + 1000), until);
	ck_assert_uint_eq(sl_flow_window(&f), 8);
}
END_TEST

START_TEST(test_busy_grows_while_it_continues_and_is_capped)
{
	sl_flow_t f;
	sl_flow_init(&f, 16);
	uint64_t t = 0, prev = 0;
	for (int i = 0; i < 40; i++) {
		uint64_t until = sl_flow_busy(&f, t);
		uint64_t d = until - t;
		if (i > 0)
			ck_assert_uint_eq(d, SL_MIN(prev * 2, SL_FLOW_BUSY_MAX_NS));
		ck_assert_uint_le(d, SL_FLOW_BUSY_MAX_NS);
		prev = d;
		t = until;
		ck_assert_uint_eq(sl_flow_window(&f), 1);
	}
	ck_assert_uint_eq(prev, SL_FLOW_BUSY_MAX_NS);
}
END_TEST

START_TEST(test_success_resets_the_busy_delay)
{
	sl_flow_t f;
	sl_flow_init(&f, 16);
	uint64_t t = 0;
	for (int i = 0; i < 5; i++)
		t = sl_flow_busy(&f, t);
	sl_flow_ok(&f);
	ck_assert_uint_eq(sl_flow_busy(&f, t) - t, SL_FLOW_BUSY_BASE_NS);
}
END_TEST

START_TEST(test_loss_halves_then_grows_linearly)
{
	sl_flow_t f;
	sl_flow_init(&f, 16);
	for (int i = 0; i < 15; i++)
		sl_flow_ok(&f);
	sl_flow_loss(&f);
	ck_assert_uint_eq(sl_flow_window(&f), 8);
	ck_assert(!sl_flow_held(&f, 0));
	for (int i = 0; i < 7; i++)
		sl_flow_ok(&f);
	ck_assert_uint_eq(sl_flow_window(&f), 8); /* one per window, not per answer */
	sl_flow_ok(&f);
	ck_assert_uint_eq(sl_flow_window(&f), 9);
	sl_flow_init(&f, 4);
	sl_flow_loss(&f);
	ck_assert_uint_eq(sl_flow_window(&f), 1);
}
END_TEST

START_TEST(test_random_stays_in_bounds)
{
	unsigned seed =
	    getenv("FLOW_SEED") ? (unsigned)atoi(getenv("FLOW_SEED")) : (unsigned)time(NULL);
	printf("test_flow: FLOW_SEED=%u\n", seed);
	srand(seed);
	for (int run = 0; run < 100; run++) {
		sl_flow_t f;
		uint32_t max = 1 + (uint32_t)(rand() % SL_INFLIGHT_MAX);
		sl_flow_init(&f, max);
		uint64_t t = 0;
		for (int i = 0; i < 1000; i++) {
			t += (uint64_t)(rand() % 5) * MS;
			int op = rand() % 4;
			if (op < 2) {
				sl_flow_ok(&f);
			} else if (op == 2) {
				uint64_t until = sl_flow_busy(&f, t);
				ck_assert_uint_ge(until, t);
				ck_assert_uint_le(until - t, SL_FLOW_BUSY_MAX_NS);
			} else {
				sl_flow_loss(&f);
			}
			ck_assert_uint_ge(sl_flow_window(&f), 1);
			ck_assert_uint_le(sl_flow_window(&f), max);
		}
	}
}
END_TEST

static Suite *flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *w = tcase_create("window");
	tcase_add_test(w, test_init_starts_at_one);
	tcase_add_test(w, test_slow_start_reaches_max_and_stays);
	tcase_add_test(w, test_loss_halves_then_grows_linearly);
	tcase_add_test(w, test_random_stays_in_bounds);
	suite_add_tcase(s, w);
	TCase *b = tcase_create("busy");
	tcase_add_test(b, test_busy_halves_and_holds_milliseconds);
	tcase_add_test(b, test_busy_burst_is_one_step);
	tcase_add_test(b, test_busy_grows_while_it_continues_and_is_capped);
	tcase_add_test(b, test_success_resets_the_busy_delay);
	suite_add_tcase(s, b);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(flow_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
