/* test_thp.c — unit tests of memory laid out for transparent huge pages
   (dataplane/lib/sl_thp.h, suite "thp"): alignment, rounding, zeroed
   memory, and — where the kernel has THP on — huge pages behind a
   written buffer (read back from /proc/self/smaps). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sl_thp.h"

/* thp_mode: 1 when /sys/kernel/mm/transparent_hugepage/enabled is not
   "[never]", 0 when it is, -1 when the kernel has no THP. */
static int thp_mode(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, "[never]") == NULL;
}

/* anon_huge_kb: AnonHugePages of the mapping that starts at p. */
static long anon_huge_kb(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	ck_assert_ptr_nonnull(f);
	char line[512];
	int in = 0;
	long kb = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo == (uintptr_t)p;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		if (p[i] != 0)
			return 0;
	return p[len - 1] == 0;
}

START_TEST(test_large_is_aligned_zeroed_and_huge)
{
	size_t len = 3 * SL_THP_PAGE + 12345; /* rounded up to 4 huge pages */
	uint8_t *p = sl_thp_alloc(len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % SL_THP_PAGE, 0);
	ck_assert(all_zero(p, 4 * (size_t)SL_THP_PAGE));
	memset(p, 0xa5, 4 * (size_t)SL_THP_PAGE); /* the rounding is ours to use */
	long kb = anon_huge_kb(p);
	int mode = thp_mode();
	printf("thp: mode %d, %ld kB of 8192 on huge pages\n", mode, kb);
	if (mode == 1)
		ck_assert_int_ge(kb, 2048); /* at least one; the rest as the kernel has them */
	sl_thp_free(p, len);
}
END_TEST

START_TEST(test_small_is_zeroed_and_freed)
{
	uint8_t *p = sl_thp_alloc(80 * 256);
	ck_assert_ptr_nonnull(p);
	ck_assert(all_zero(p, 80 * 256));
	memset(p, 1, 80 * 256);
	sl_thp_free(p, 80 * 256);
	sl_thp_free(NULL, 123); /* nothing */
	/* a freed range is gone from the map */
	ck_assert_int_eq(anon_huge_kb(p), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("thp");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_large_is_aligned_zeroed_and_huge);
	tcase_add_test(tc, test_small_is_zeroed_and_freed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
