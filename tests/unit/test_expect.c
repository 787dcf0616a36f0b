/* test_expect.c — the expectation table (sl_expect.h): issue / find /
   end, coverage bitmaps and the check's one reason, deadlines before
   completions (an answer past a deadline is EXPIRED), the late memory (a
   straggler to an expectation this session ended is LATE, never
   UNSOLICITED, even after the memory wrapped), unordered tables (ctrl's
   fetches), overlap / oldest, negative cases, and a randomized run against
   a model.  EXPECT_SEED=<n> replays it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_expect.h"

#define CAP 16u
#define MS  1000000ull

static const sl_expect_limits_t lim = {
    .quiet_ns = 300 * MS, .noanswer_ns = 1000 * MS, .stale_ns = 60000 * MS};

/* A table of CAP entries in static memory. */
static sl_expect_tab_t *tab(bool ordered)
{
	static uint64_t mem[2][(sizeof(sl_expect_tab_t) + CAP * sizeof(sl_expect_t)) / 8 + 1];
	sl_expect_tab_t *t = sl_expect_init(mem[ordered], CAP, ordered, &lim);
	ck_assert_ptr_nonnull(t);
	return t;
}

START_TEST(test_issue_find_end)
{
	sl_expect_tab_t *t = tab(true);
	sl_expect_t *e = sl_expect_issue(t, 5, 100, 50, 1);
	ck_assert_ptr_nonnull(e);
	ck_assert_ptr_eq(sl_expect_find(t, 5), e);
	ck_assert_uint_eq(t->n, 1);
	ck_assert_uint_eq(sl_expect_idx(t, e), 0);
	sl_expect_end(t, e, false);
	ck_assert_ptr_null(sl_expect_find(t, 5));
	ck_assert_uint_eq(t->n, 0);
	sl_expect_end(t, e, true); /* a free entry: nothing */
	ck_assert_uint_eq(t->n, 0);
	ck_assert_uint_eq(sl_expect_footprint(0), 0);
	ck_assert_uint_eq(sl_expect_footprint(SL_EXPECT_CAP_MAX + 1), 0);
	ck_assert_ptr_null(sl_expect_init(t, 0, true, &lim));
}
END_TEST

START_TEST(test_issue_refuses_bad_arguments)
{
	sl_expect_tab_t *t = tab(true);
	ck_assert_ptr_null(sl_expect_issue(t, 0, 1, 1, 0));                     /* corr 0 */
	ck_assert_ptr_null(sl_expect_issue(t, 1, 1, 0, 0));                     /* empty */
	ck_assert_ptr_null(sl_expect_issue(t, 1, 1, SL_EXPECT_LEN_MAX + 1, 0)); /* too long */
	ck_assert_ptr_nonnull(sl_expect_issue(t, 7, 1, 1, 0));
	ck_assert_ptr_null(sl_expect_issue(t, 7, 1, 1, 0)); /* not increasing */
	ck_assert_ptr_null(sl_expect_issue(t, 6, 1, 1, 0));
	for (uint64_t c = 8; c < 8 + CAP - 1; c++)
		ck_assert_ptr_nonnull(sl_expect_issue(t, c, 1, 1, 0));
	ck_assert_ptr_null(sl_expect_issue(t, 100, 1, 1, 0)); /* full */
	sl_expect_reset(t);
	ck_assert_uint_eq(t->n, 0);
	ck_assert_uint_eq(t->cap, CAP);
	/* the reset touches the header only: entries keep their bytes (an idle
	   session's entries stay untouched) yet nothing is open any more */
	ck_assert_uint_eq(t->e[0].corr, 7);
	ck_assert_ptr_null(sl_expect_find(t, 7));
	ck_assert_ptr_null(sl_expect_next(t, 0));
	ck_assert_ptr_null(sl_expect_oldest(t));
	ck_assert_ptr_nonnull(sl_expect_issue(t, 1, 1, 1, 0)); /* a new session starts over */
}
END_TEST

START_TEST(test_check_reasons)
{
	sl_expect_tab_t *t = tab(true);
	sl_expect_t *e = sl_expect_issue(t, 3, 1000, 34, 0), *got;
	ck_assert_int_eq(sl_expect_check(t, 3, 1000, 17, 1, &got), SL_EXPECT_OK);
	ck_assert_ptr_eq(got, e);
	ck_assert_uint_eq(sl_expect_credit(e, 1000, 17, 2), 17);
	ck_assert_uint_eq(e->last_ns, 2);
	ck_assert_int_eq(sl_expect_check(t, 3, 1000, 17, 3, &got), SL_EXPECT_DUP);
	ck_assert_int_eq(sl_expect_check(t, 3, 999, 2, 3, &got), SL_EXPECT_OUTSIDE);
	ck_assert_int_eq(sl_expect_check(t, 3, 1030, 5, 3, &got), SL_EXPECT_OUTSIDE);
	ck_assert_int_eq(sl_expect_check(t, 3, 1000, 0, 3, &got), SL_EXPECT_OK); /* NOT_FOUND */
	ck_assert_int_eq(sl_expect_check(t, 99, 1000, 1, 3, &got), SL_EXPECT_UNSOLICITED);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(sl_expect_check(t, 3, 1016, 18, 3, &got), SL_EXPECT_OK); /* one new */
	ck_assert_uint_eq(sl_expect_credit(e, 1016, 18, 4), 17);
	ck_assert(sl_expect_done(e));
	ck_assert_str_eq(sl_expect_reason_str(SL_EXPECT_LATE), "late");
	ck_assert_str_eq(sl_expect_reason_str(SL_EXPECT_EXPIRED), "expired");
	ck_assert_str_eq(sl_expect_reason_str(SL_EXPECT_REASON_CNT), "?");
}
END_TEST

/* Deadlines before completions: each deadline, judged by sl_expect_due
   and by the check (an answer in hand after the deadline is EXPIRED). */
START_TEST(test_deadlines_before_completions)
{
	sl_expect_tab_t *t = tab(true);
	sl_expect_t *e = sl_expect_issue(t, 1, 0, 100, 10 * MS), *got;
	ck_assert_int_eq(sl_expect_due(t, e, 10 * MS + lim.noanswer_ns), SL_EXPECT_DUE_OPEN);
	ck_assert_int_eq(sl_expect_due(t, e, 11 * MS + lim.noanswer_ns), SL_EXPECT_DUE_NOANSWER);
	ck_assert_int_eq(sl_expect_check(t, 1, 0, 17, 11 * MS + lim.noanswer_ns, &got),
	                 SL_EXPECT_EXPIRED);
	ck_assert_ptr_eq(got, e);
	ck_assert_int_eq(sl_expect_check(t, 1, 0, 0, 11 * MS + lim.noanswer_ns, &got),
	                 SL_EXPECT_EXPIRED);  /* a NOT_FOUND too */
	sl_expect_credit(e, 0, 17, 500 * MS); /* answered in time */
	ck_assert_int_eq(sl_expect_due(t, e, 500 * MS + lim.quiet_ns), SL_EXPECT_DUE_OPEN);
	ck_assert_int_eq(sl_expect_due(t, e, 501 * MS + lim.quiet_ns), SL_EXPECT_DUE_QUIET);
	/* heard from steadily, but open longer than stale_ns */
	sl_expect_credit(e, 17, 1, lim.stale_ns + 11 * MS);
	ck_assert_int_eq(sl_expect_due(t, e, lim.stale_ns + 11 * MS), SL_EXPECT_DUE_STALE);
}
END_TEST

START_TEST(test_straggler_is_late_never_unsolicited)
{
	sl_expect_tab_t *t = tab(true);
	sl_expect_t *e = sl_expect_issue(t, 1, 0, 100, 0), *got;
	sl_expect_end(t, e, true); /* dropped by this session */
	ck_assert_int_eq(sl_expect_check(t, 1, 0, 17, 0, &got), SL_EXPECT_LATE);
	/* the memory wraps many times over: still ours, still late */
	for (uint64_t c = 2; c < 2 + 5 * SL_EXPECT_LATE_MAX; c++)
		sl_expect_end(t, sl_expect_issue(t, c, 0, 1, 0), true);
	ck_assert_int_eq(sl_expect_check(t, 1, 0, 17, 0, &got), SL_EXPECT_LATE);
	/* ended whole (not late) and a straggler duplicates: still ours */
	sl_expect_end(t, sl_expect_issue(t, 500, 0, 1, 0), false);
	ck_assert_int_eq(sl_expect_check(t, 500, 0, 1, 0, &got), SL_EXPECT_LATE);
	/* never issued: unsolicited */
	ck_assert_int_eq(sl_expect_check(t, 501, 0, 1, 0, &got), SL_EXPECT_UNSOLICITED);
	ck_assert_int_eq(sl_expect_check(t, 0, 0, 1, 0, &got), SL_EXPECT_UNSOLICITED);
}
END_TEST

/* An unordered table (ctrl chooses the corrs): any order of issue, late
   by the memory alone, the oldest found for replacement. */
START_TEST(test_unordered_fetches)
{
	sl_expect_tab_t *t = tab(false);
	sl_expect_t *a = sl_expect_issue(t, 900, 10, 1, 5), *got;
	sl_expect_t *b = sl_expect_issue(t, 40, 20, 2, 6);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(sl_expect_issue(t, 40, 20, 2, 7)); /* open already */
	ck_assert_ptr_eq(sl_expect_oldest(t), a);
	sl_expect_credit(a, 10, 1, 8);
	ck_assert_ptr_eq(sl_expect_oldest(t), b); /* a was heard from since */
	sl_expect_end(t, b, true);
	ck_assert_int_eq(sl_expect_check(t, 40, 20, 1, 9, &got), SL_EXPECT_LATE);
	/* below the highest issued but never issued: not ours */
	ck_assert_int_eq(sl_expect_check(t, 41, 20, 1, 9, &got), SL_EXPECT_UNSOLICITED);
	sl_expect_end(t, a, false);
	ck_assert_ptr_null(sl_expect_oldest(t));
}
END_TEST

START_TEST(test_next_walks_the_open_ones)
{
	sl_expect_tab_t *t = tab(true);
	sl_expect_t *e[5];
	for (uint64_t c = 1; c <= 5; c++)
		e[c - 1] = sl_expect_issue(t, c, (uint32_t)c * 10, 1, 0);
	sl_expect_end(t, e[1], false);
	sl_expect_end(t, e[3], false);
	uint64_t seen = 0;
	for (sl_expect_t *x = sl_expect_next(t, 0); x;
	     x = sl_expect_next(t, sl_expect_idx(t, x) + 1)) {
		seen = seen * 10 + x->corr;
		sl_expect_end(t, x, true); /* ending the current one while walking */
	}
	ck_assert_uint_eq(seen, 135);
	ck_assert_uint_eq(t->n, 0);
	ck_assert_ptr_eq(sl_expect_issue(t, 6, 0, 1, 0), e[0]); /* the lowest free entry */
}
END_TEST

START_TEST(test_overlap)
{
	sl_expect_tab_t *t = tab(true);
	sl_expect_t *a = sl_expect_issue(t, 1, 100, 50, 0);
	sl_expect_t *b = sl_expect_issue(t, 2, 200, 50, 0);
	ck_assert_ptr_eq(sl_expect_overlap(t, 149, 1), a);
	ck_assert_ptr_null(sl_expect_overlap(t, 150, 50));
	ck_assert_ptr_eq(sl_expect_overlap(t, 150, 51), b);
	ck_assert_ptr_eq(sl_expect_overlap(t, 0, 1000), a);
	ck_assert_ptr_null(sl_expect_overlap(t, 250, 10));
}
END_TEST

START_TEST(test_random_against_model)
{
	unsigned seed =
	    getenv("EXPECT_SEED") ? (unsigned)atoi(getenv("EXPECT_SEED")) : (unsigned)time(NULL);
	printf("test_expect: EXPECT_SEED=%u\n", seed);
	srand(seed);
	sl_expect_tab_t *t = tab(true);
	uint64_t corr = 0;
	static uint8_t seen[CAP][SL_EXPECT_LEN_MAX];
	for (int step = 0; step < 20000; step++) {
		int op = rand() % 4;
		if (op == 0) {
			uint32_t len = 1 + (uint32_t)rand() % SL_EXPECT_LEN_MAX;
			uint32_t open = t->n;
			sl_expect_t *e =
			    sl_expect_issue(t, ++corr, (uint32_t)rand() % 100000, len, 0);
			ck_assert((e == NULL) == (open == CAP));
			if (e != NULL)
				memset(seen[e - t->e], 0, sizeof seen[0]);
		} else if (op == 1 && t->n > 0) {
			sl_expect_t *e = &t->e[rand() % CAP];
			if (e->corr != 0)
				sl_expect_end(t, e, rand() & 1);
		} else {
			sl_expect_t *e = &t->e[rand() % CAP], *got;
			uint64_t c = e->corr != 0 ? e->corr : 1 + (uint64_t)rand() % (corr + 1);
			uint32_t st = e->corr != 0 ? e->start + (uint32_t)rand() % e->len : 0;
			uint32_t n = 1 + (uint32_t)rand() % 17;
			sl_expect_reason_t r = sl_expect_check(t, c, st, n, 0, &got);
			if (e->corr == 0) {
				if (sl_expect_find(t, c) != NULL)
					continue; /* open in another slot */
				ck_assert_int_eq(r, c <= t->corr_hi ? SL_EXPECT_LATE
				                                    : SL_EXPECT_UNSOLICITED);
				continue;
			}
			if (st - e->start + n > e->len) {
				ck_assert_int_eq(r, SL_EXPECT_OUTSIDE);
				continue;
			}
			uint32_t fresh = 0;
			for (uint32_t k = st - e->start; k < st - e->start + n; k++)
				fresh += seen[e - t->e][k] == 0;
			ck_assert_int_eq(r, fresh > 0 ? SL_EXPECT_OK : SL_EXPECT_DUP);
			uint32_t before = e->got;
			ck_assert_uint_eq(sl_expect_credit(e, st, n, 0), fresh);
			ck_assert_uint_eq(e->got, before + fresh);
			for (uint32_t k = st - e->start; k < st - e->start + n; k++)
				seen[e - t->e][k] = 1;
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
	tcase_add_test(c, test_deadlines_before_completions);
	tcase_add_test(c, test_straggler_is_late_never_unsolicited);
	tcase_add_test(c, test_unordered_fetches);
	tcase_add_test(c, test_next_walks_the_open_ones);
	tcase_add_test(c, test_overlap);
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
