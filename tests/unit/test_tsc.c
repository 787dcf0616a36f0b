/* test_tsc.c — unit tests of the TSC rate sluice-dp gives EAL
   (dataplane/sl_tsc.h, suite "tsc"): the short measurement and the
   kernel's rate agree with a long reference measurement made here. */
#include <check.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

#include "sl_time.h"
#include "sl_tsc.h"

#define REF_NS (300ULL * SL_NS_PER_MS) /* the reference measurement's span */

static uint64_t raw_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * SL_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ref_hz: TSC ticks per second over REF_NS of busy waiting (no sleep:
   nothing here depends on what sl_tsc does). */
static double ref_hz(void)
{
	uint64_t n0 = raw_ns(), t0 = __rdtsc(), n1;
	while ((n1 = raw_ns()) - n0 < REF_NS)
		;
	uint64_t t1 = __rdtsc();
	return (double)(t1 - t0) * 1e9 / (double)(n1 - n0);
}

static void assert_near(uint64_t hz, double ref, const char *what)
{
	double err = ((double)hz - ref) / ref;
	printf("tsc: %s %llu Hz, reference %.0f Hz, error %.2e\n", what, (unsigned long long)hz,
	       ref, err);
	ck_assert_msg(err < 1e-3 && err > -1e-3, "%s: %llu Hz vs %.0f Hz", what,
	              (unsigned long long)hz, ref);
}

START_TEST(test_measure_matches_reference)
{
	double ref = ref_hz();
	uint64_t hz = sl_tsc_hz_measure(SL_TSC_CAL_NS);
	ck_assert_uint_ne(hz, 0);
	ck_assert_uint_eq(hz % SL_TSC_ROUND_HZ, 0);
	assert_near(hz, ref, "SL_TSC_CAL_NS measurement");
	/* half the span still lands within the rounding of the long one */
	assert_near(sl_tsc_hz_measure(SL_TSC_CAL_NS / 2), ref, "half-span measurement");
}
END_TEST

START_TEST(test_kernel_rate_when_offered)
{
	uint64_t k = sl_tsc_hz_kernel();
	sl_tsc_from_t from;
	uint64_t hz = sl_tsc_hz(&from);
	double ref = ref_hz();
	if (k != 0) { /* the TSC is the kernel's clocksource */
		assert_near(k, ref, "kernel");
		ck_assert_int_eq(from, SL_TSC_FROM_KERNEL);
		ck_assert_uint_eq(hz, k);
	} else { /* another clocksource (kvm-clock, hpet): measured */
		printf("tsc: the kernel offers no TSC rate (clocksource is not tsc)\n");
		ck_assert_int_eq(from, SL_TSC_FROM_MEASURE);
	}
	assert_near(hz, ref, "sl_tsc_hz");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tsc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_measure_matches_reference);
	tcase_add_test(tc, test_kernel_rate_when_offered);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
