/* test_score.c — misbehaviour scores (sl_score.h): weights, decay by half
   every half-life, accumulation to a ban threshold, forgetting, and the
   table's bound (a new address replaces the lowest score); and the ban file
   (sl_banfile.h): save / load round trip, expired bans and bad lines left
   out. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_banfile.h"
#include "sl_score.h"

#define HL SL_SCORE_HALF_LIFE_NS

START_TEST(test_weights)
{
	ck_assert_uint_eq(sl_score_weight(SL_MISB_NONE), 0);
	ck_assert_uint_gt(sl_score_weight(SL_MISB_UNSOLICITED), sl_score_weight(SL_MISB_BAD_DATA));
	ck_assert_uint_gt(sl_score_weight(SL_MISB_BAD_DATA), sl_score_weight(SL_MISB_SPAM));
	ck_assert_uint_gt(sl_score_weight(SL_MISB_SPAM), 0);
}
END_TEST

START_TEST(test_decay_and_accumulate)
{
	static sl_score_t t;
	sl_score_init(&t);
	ck_assert(sl_score_add(&t, 0x0a000001, 50, 1000) == 50);
	ck_assert(sl_score_add(&t, 0x0a000001, 50, 1000) == 100); /* two at once: 100 */
	double half = sl_score_get(&t, 0x0a000001, 1000 + HL);
	ck_assert(half > 49.99 && half < 50.01);
	double q = sl_score_get(&t, 0x0a000001, 1000 + 2 * HL);
	ck_assert(q > 24.99 && q < 25.01);
	/* a slow trickle of spam never reaches 100: 5 every half-life -> 10 */
	uint64_t now = 0;
	for (int i = 0; i < 100; i++, now += HL)
		sl_score_add(&t, 0x0a000002, 5, now);
	ck_assert(sl_score_get(&t, 0x0a000002, now) < 10.01);
	sl_score_forget(&t, 0x0a000001);
	ck_assert(sl_score_get(&t, 0x0a000001, now) == 0);
	ck_assert(sl_score_add(&t, 0, 50, now) == 0); /* 0.0.0.0 is never tracked */
}
END_TEST

START_TEST(test_bounded_table_replaces_the_lowest)
{
	static sl_score_t t;
	sl_score_init(&t);
	for (uint32_t i = 1; i <= SL_SCORE_MAX; i++)
		sl_score_add(&t, i, i == 7 ? 1 : 100, 0); /* address 7 has the lowest */
	ck_assert_uint_eq(t.n, SL_SCORE_MAX);
	sl_score_add(&t, 999999, 30, 0);
	ck_assert_uint_eq(t.n, SL_SCORE_MAX);
	ck_assert(sl_score_get(&t, 7, 0) == 0);
	ck_assert(sl_score_get(&t, 999999, 0) == 30);
	ck_assert(sl_score_get(&t, 8, 0) == 100);
}
END_TEST

START_TEST(test_banfile_round_trip)
{
	char dir[] = "/tmp/test_score.XXXXXX", path[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/bans", dir);
	sl_banfile_ban_t in[3] = {{0x0a000001, 0}, {0x0a000002, 5000}, {0x0a000003, 900}};
	ck_assert_int_eq(sl_banfile_save(path, in, 3), 0);
	FILE *f = fopen(path, "a");
	fputs("not an address 7\n10.0.0.9\n\n# comment\n", f);
	fclose(f);
	sl_banfile_ban_t out[8];
	ck_assert_int_eq(sl_banfile_load(path, 1000, out, 8), 2); /* 10.0.0.3 ended at 900 */
	ck_assert_uint_eq(out[0].ip, 0x0a000001);
	ck_assert_uint_eq(out[0].until_unix, 0);
	ck_assert_uint_eq(out[1].ip, 0x0a000002);
	ck_assert_uint_eq(out[1].until_unix, 5000);
	snprintf(path, sizeof path, "%s/none", dir);
	ck_assert_int_eq(sl_banfile_load(path, 1000, out, 8), 0);
	snprintf(path, sizeof path, "%s/bans", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *score_suite(void)
{
	Suite *s = suite_create("score");
	TCase *c = tcase_create("score");
	tcase_add_test(c, test_weights);
	tcase_add_test(c, test_decay_and_accumulate);
	tcase_add_test(c, test_bounded_table_replaces_the_lowest);
	tcase_add_test(c, test_banfile_round_trip);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(score_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
