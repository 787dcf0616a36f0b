/* test_ptool_hist.c — sluice-probe's log2 histograms (bpf/sl_ptool_hist.h):
   the bucket bounds match the BPF side's slot rule (slot 0 holds 0, slot i
   holds [2^(i-1), 2^i), the last slot is open), the JSON lists the
   non-empty buckets only, the text shows the non-empty span with bars. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_ptool_hist.h"

/* the BPF program's rule (sluice_probe.bpf.c log2_slot), restated */
static int slot_of(uint64_t v)
{
	int s = 0;
	while (v != 0) {
		v >>= 1;
		s++;
	}
	return s < SL_PTOOL_SLOTS ? s : SL_PTOOL_SLOTS - 1;
}

START_TEST(test_bounds_match_the_slot_rule)
{
	uint64_t vs[] = {0,          1,          2,         3,    4,         7,
	                 8,          1000,       1023,      1024, 123456789, (1ULL << 46) - 1,
	                 1ULL << 46, 1ULL << 47, UINT64_MAX};
	for (unsigned i = 0; i < sizeof vs / sizeof vs[0]; i++) {
		int s = slot_of(vs[i]);
		ck_assert_msg(sl_ptool_hist_lo(s) <= vs[i] && vs[i] <= sl_ptool_hist_hi(s),
		              "%llu not in slot %d [%llu, %llu]", (unsigned long long)vs[i], s,
		              sl_ptool_hist_lo(s), sl_ptool_hist_hi(s));
	}
	for (int s = 1; s < SL_PTOOL_SLOTS; s++)
		ck_assert_uint_eq(sl_ptool_hist_lo(s), sl_ptool_hist_hi(s - 1) + 1);
	ck_assert_uint_eq(sl_ptool_hist_hi(SL_PTOOL_SLOTS - 1), UINT64_MAX);
}
END_TEST

static char *render(const struct sl_ptool_hist *h, int json)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	ck_assert_ptr_nonnull(f);
	if (json)
		sl_ptool_hist_json(f, h);
	else
		sl_ptool_hist_text(f, h, "ns");
	fclose(f);
	return buf;
}

START_TEST(test_json_lists_non_empty_buckets)
{
	struct sl_ptool_hist h;
	memset(&h, 0, sizeof h);
	char *s = render(&h, 1);
	ck_assert_str_eq(s, "[]");
	free(s);
	h.slots[0] = 2;
	h.slots[11] = 5;
	s = render(&h, 1);
	ck_assert_str_eq(s,
	                 "[{\"lo\":0,\"hi\":0,\"count\":2},{\"lo\":1024,\"hi\":2047,\"count\":5}]");
	free(s);
}
END_TEST

START_TEST(test_text_bars)
{
	struct sl_ptool_hist h;
	memset(&h, 0, sizeof h);
	char *s = render(&h, 0);
	ck_assert_ptr_nonnull(strstr(s, "(no samples)"));
	free(s);
	h.slots[3] = 4;
	h.slots[5] = 2;
	s = render(&h, 0);
	/* the span 4..31: three rows, the largest with a full bar */
	ck_assert_ptr_nonnull(strstr(s, "4 -> 7"));
	ck_assert_ptr_nonnull(strstr(s, "8 -> 15"));
	ck_assert_ptr_nonnull(strstr(s, "16 -> 31"));
	ck_assert_ptr_null(strstr(s, "32 -> 63"));
	ck_assert_ptr_nonnull(strstr(s, "|****************************************|"));
	ck_assert_ptr_nonnull(strstr(s, "|********************                    |"));
	free(s);
}
END_TEST

static Suite *ptool_hist_suite(void)
{
	Suite *s = suite_create("ptool_hist");
	TCase *tc = tcase_create("hist");
	tcase_add_test(tc, test_bounds_match_the_slot_rule);
	tcase_add_test(tc, test_json_lists_non_empty_buckets);
	tcase_add_test(tc, test_text_bars);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ptool_hist_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
