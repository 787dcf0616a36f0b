/* test_expect.c — the expectation table (sl_expect.h): issue / find /
   end, coverage bitmaps and the batch check's one reason, the late
   memory (a straggler to an expectation this session ended is LATE,
   never UNSOLICITED, even after the memory wrapped), negative cases, and
   a randomized run against a model.  EXPECT_SEED=<n> replays it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_expect.h"

START_TEST(test_issue_find_end)
{
	sl_expect_tab_t t;
	sl_expect_init(&t);
	sl_expect_t *e = sl_expect_issue(&t, 5, 100, 50);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_eq(sl_expect_find(&t, 5), e);
	ck_assert_uint_eq(t.n, 1);
	sl_expect_end(&t, e, false);
	ck_assert_ptr_null(sl_expect_find(&t, 5));
	ck_assert_uint_eq(t.n, 0);
}
END_TEST

START_TEST(test_issue_refuses_bad_arguments)
{
	sl_expect_tab_t t;
	sl_expect_init(&t);
	ck_assert_ptr_null(sl_expect_issue(&t, 0, 1, 1));                     /* corr 0 */
	ck_assert_ptr_null(sl_expect_issue(&t, 1, 1, 0));                     /* empty */
	ck_assert_ptr_null(sl_expect_issue(&t, 1, 1, SL_EXPECT_LEN_MAX + 1)); /* too long */
	ck_assert_ptr_nonnull(sl_expect_issue(&t, 7, 1, 1));
	ck_assert_ptr_null(sl_expect_issue(&t, 7, 1, 1)); /* not increasing */
	ck_assert_ptr_null(sl_expect_issue(&t, 6, 1, 1));
	for (uint64_t c = 8; c < 8 + SL_EXPECT_MAX - 1; c++)
		ck_assert_ptr_nonnull(sl_expect_issue(&t, c, 1, 1));
	ck_assert_ptr_null(sl_expect_issue(&t, 100, 1, 1)); /* full */
}
END_TEST

START_TEST(test_check_reasons)
{
	sl_expect_tab_t t;
	sl_expect_init(&t);
	sl_expect_t *e = sl_expect_issue(&t, 3, 1000, 34), *got;
	ck_assert_int_eq(sl_expect_check(&t, 3, 1000, 17, &got), SL_EXPECT_OK);
	ck_assert_ptr_eq(got, e);
	ck_assert_uint_eq(sl_expect_credit(e, 1000, 17), 17);
	ck_assert_int_eq(sl_expect_check(&t, 3, 1000, 17, &got), SL_EXPECT_DUP);
	ck_assert_int_eq(sl_expect_check(&t, 3, 999, 2, &got), SL_EXPECT_OUTSIDE);
	ck_assert_int_eq(sl_expect_check(&t, 3, 1030, 5, &got), SL_EXPECT_OUTSIDE);
	ck_assert_int_eq(sl_expect_check(&t, 3, 1000, 0, &got), SL_EXPECT_OUTSIDE);
	ck_assert_int_eq(sl_expect_check(&t, 99, 1000, 1, &got), SL_EXPECT_UNSOLICITED);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(sl_expect_check(&t, 3, 1016, 18, &got), SL_EXPECT_OK); /* one new */
	ck_assert_uint_eq(sl_expect_credit(e, 1016, 18), 17);
	ck_assert(sl_expect_done(e));
	ck_assert_str_eq(sl_expect_reason_str(SL_EXPECT_LATE), "late");
}
END_TEST

START_TEST(test_straggler_is_late_never_unsolicited)
{
	sl_expect_tab_t t;
	sl_expect_init(&t);
	sl_expect_t *e = sl_expect_issue(&t, 1, 0, 100), *got;
	sl_expect_end(&t, e, true); /* dropped by this session */
	ck_assert_int_eq(sl_expect_check(&t, 1, 0, 17, &got), SL_EXPECT_LATE);
	/* the memory wraps many times over: still ours, still late */
	for (uint64_t c = 2; c < 2 + 5 * SL_EXPECT_LATE_MAX; c++)
		sl_expect_end(&t, sl_expect_issue(&t, c, 0, 1), true);
	ck_assert_int_eq(sl_expect_check(&t, 1, 0, 17, &got), SL_EXPECT_LATE);
	/* ended whole (not late) and a straggler duplicates: still ours */
	sl_expect_end(&t, sl_expect_issue(&t, 500, 0, 1), false);
	ck_assert_int_eq(sl_expect_check(&t, 500, 0, 1, &got), SL_EXPECT_LATE);
	/* never issued: unsolicited */
	ck_assert_int_eq(sl_expect_check(&t, 501, 0, 1, &got), SL_EXPECT_UNSOLICITED);
	ck_assert_int_eq(sl_expect_check(&t, 0, 0, 1, &got), SL_EXPECT_UNSOLICITED);
}
END_TEST

START_TEST(test_random_against_model)
{
	unsigned seed =
	    getenv("EXPECT_SEED") ? (unsigned)atoi(getenv("EXPECT_SEED")) : (unsigned)time(NULL);
	printf("test_expect: EXPECT_SEED=%u\n", seed);
	srand(seed);
	sl_expect_tab_t t;
	sl_expect_init(&t);
	uint64_t corr = 0;
	uint8_t seen[SL_EXPECT_MAX][SL_EXPECT_LEN_MAX];
	for (int step = 0; step < 20000; step++) {
		int op = rand() % 4;
		if (op == 0) {
			uint32_t len = 1 + (uint32_t)rand() % SL_EXPECT_LEN_MAX;
			sl_expect_t *e =
			    sl_expect_issue(&t, ++corr, (uint32_t)rand() % 100000, len);
			ck_assert((e == NULL) == (t.n == SL_EXPECT_MAX && e == NULL));
			if (e != NULL)
				memset(seen[e - t.e], 0, sizeof seen[0]);
		} else if (op == 1 && t.n > 0) {
			sl_expect_t *e = &t.e[rand() % SL_EXPECT_MAX];
			if (e->corr != 0)
				sl_expect_end(&t, e, rand() & 1);
		} else {
			sl_expect_t *e = &t.e[rand() % SL_EXPECT_MAX], *got;
			uint64_t c = e->corr != 0 ? e->corr : 1 + (uint64_t)rand() % (corr + 1);
			uint32_t st = e->corr != 0 ? e->start + (uint32_t)rand() % e->len : 0;
			uint32_t n = 1 + (uint32_t)rand() % 17;
			sl_expect_reason_t r = sl_expect_check(&t, c, st, n, &got);
			if (e->corr == 0) {
				if (sl_expect_find(&t, c) != NULL)
					continue; /* open in another slot */
				ck_assert_int_eq(r, c <= t.corr_hi ? SL_EXPECT_LATE
				                                   : SL_EXPECT_UNSOLICITED);
				continue;
			}
			if (st - e->start + n > e->len) {
				ck_assert_int_eq(r, SL_EXPECT_OUTSIDE);
				continue;
			}
			uint32_t fresh = 0;
			for (uint32_t k = st - e->start; k < st - e->start + n; k++)
				fresh += seen[e - t.e][k] == 0;
			ck_assert_int_eq(r, fresh > 0 ? SL_EXPECT_OK : SL_EXPECT_DUP);
			uint32_t before = e->got;
			ck_assert_uint_eq(sl_expect_credit(e, st, n), fresh);
			ck_assert_uint_eq(e->got, before + fresh);
			for (uint32_t k = st - e->start; k < st - e->start + n; k++)
				seen[e - t.e][k] = 1;
		}
	}
}
END_TEST

static Suite *expect_suite(void)
{
	Suite *s = suite_create("expect");
	TCase *c = tcase_create("table");
	tcase_add_test(c, test_issue_find_end);
	tcase_add_test(c, test_issue_refuses_bad_arguments);
	tcase_add_test(c, test_check_reasons);
	tcase_add_test(c, test_straggler_is_late_never_unsolicited);
	tcase_add_test(c, test_random_against_model);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(expect_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
