/* test_cpulist.c — unit tests of kernel CPU lists (dataplane/sl_cpulist.h,
   suite "cpulist"): the list grammar, and that the set read from this
   machine's possible list holds exactly the CPUs sysfs has a directory
   for (what sluice-dp's EAL wraps rely on to answer without asking). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sl_cpulist.h"

static unsigned count(const sl_cpulist_t *t)
{
	unsigned n = 0;
	for (unsigned c = 0; c < SL_CPULIST_MAX; c++)
		n += sl_cpulist_has(t, c);
	return n;
}

START_TEST(test_parse_ranges_and_singles)
{
	sl_cpulist_t t;
	ck_assert_int_eq(sl_cpulist_parse(&t, "0-3,8,10-11\n"), 0);
	ck_assert_uint_eq(count(&t), 7);
	for (unsigned c = 0; c <= 3; c++)
		ck_assert(sl_cpulist_has(&t, c));
	ck_assert(!sl_cpulist_has(&t, 4));
	ck_assert(sl_cpulist_has(&t, 8));
	ck_assert(!sl_cpulist_has(&t, 9));
	ck_assert(sl_cpulist_has(&t, 11));
	ck_assert(!sl_cpulist_has(&t, 12));
	ck_assert(!sl_cpulist_has(&t, SL_CPULIST_MAX + 5));
	ck_assert_int_eq(sl_cpulist_parse(&t, "127"), 0);
	ck_assert_uint_eq(count(&t), 1);
	ck_assert(sl_cpulist_has(&t, 127)); /* a word's last bit */
	ck_assert_int_eq(sl_cpulist_parse(&t, "63-64"), 0);
	ck_assert(sl_cpulist_has(&t, 63) && sl_cpulist_has(&t, 64));
	ck_assert_int_eq(sl_cpulist_parse(&t, "\n"), 0);
	ck_assert_uint_eq(count(&t), 0);
}
END_TEST

START_TEST(test_parse_refuses_malformed)
{
	static const char *const bad[] = {
	    "3-1", "a", "1,", "1-", "-1", "1 2", "0-8192", "1,,2", "99999999999999999999"};
	sl_cpulist_t t;
	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(sl_cpulist_parse(&t, bad[i]) == -EINVAL, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(test_load_this_machine)
{
	sl_cpulist_t t;
	ck_assert_int_eq(sl_cpulist_load(&t, "/nonexistent/possible"), -ENOENT);
	ck_assert_int_eq(sl_cpulist_load(&t, SL_CPULIST_POSSIBLE), 0);
	ck_assert_uint_ge(count(&t), (unsigned)sysconf(_SC_NPROCESSORS_CONF));
	/* every CPU sysfs knows is possible; none past the list has a directory */
	for (unsigned c = 0; c < 1024; c++) {
		char path[128];
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%u", c);
		if (access(path, F_OK) == 0)
			ck_assert_msg(sl_cpulist_has(&t, c), "cpu%u has sysfs, not possible", c);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpulist");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_parse_ranges_and_singles);
	tcase_add_test(tc, test_parse_refuses_malformed);
	tcase_add_test(tc, test_load_this_machine);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
