/* test_ratelimit.c — unit tests of the per-source token bucket table
   (dataplane/lib/sl_ratelimit.h, suite "ratelimit"): argument checks, burst
   then refill at the rate, independent sources, address 0, wait_ns, table
   churn with eviction, and a randomized comparison against a reference
   bucket per source (seed printed; set SL_TEST_SEED to replay). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sl_ratelimit.h"
#include "sl_time.h"

static sl_ratelimit_t rl;

static uint32_t seed_get(void)
{
	const char *s = getenv("SL_TEST_SEED");
	uint32_t seed = s ? (uint32_t)strtoul(s, NULL, 0) : (uint32_t)time(NULL);
	printf("ratelimit: seed %u (SL_TEST_SEED=%u to replay)\n", seed, seed);
	return seed;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* take counts how many of n calls at one instant are allowed. */
static uint32_t take(uint32_t ip, uint64_t now, uint32_t n)
{
	uint32_t ok = 0;
	for (uint32_t i = 0; i < n; i++)
		ok += sl_ratelimit_allow(&rl, ip, now);
	return ok;
}

START_TEST(test_init_rejects_bad_arguments)
{
	ck_assert_int_eq(sl_ratelimit_init(NULL, 1, 1, 0), -1);
	ck_assert_int_eq(sl_ratelimit_init(&rl, 0, 1, 0), -1);
	ck_assert_int_eq(sl_ratelimit_init(&rl, 1000000001u, 1, 0), -1);
	ck_assert_int_eq(sl_ratelimit_init(&rl, 1, 0, 0), -1);
	ck_assert_int_eq(sl_ratelimit_init(&rl, 1, SL_RATELIMIT_BURST_MAX + 1, 0), -1);
	ck_assert_int_eq(sl_ratelimit_init(&rl, 1000000000u, SL_RATELIMIT_BURST_MAX, 0), 0);
	ck_assert_int_eq(sl_ratelimit_init(&rl, 1, 1, 0), 0);
}
END_TEST

START_TEST(test_ip_zero_always_refused)
{
	ck_assert_int_eq(sl_ratelimit_init(&rl, 100, 10, 7), 0);
	ck_assert(!sl_ratelimit_allow(&rl, 0, 0));
	ck_assert(!sl_ratelimit_allow(&rl, 0, 100 * SL_NS_PER_S));
	ck_assert_uint_eq(sl_ratelimit_wait_ns(&rl, 0, 0), UINT64_MAX);
	ck_assert_uint_eq(sl_ratelimit_tracked(&rl), 0);
	ck_assert_uint_eq(rl.n_limited, 2);
}
END_TEST

START_TEST(test_burst_then_limited)
{
	ck_assert_int_eq(sl_ratelimit_init(&rl, 2, 5, 1), 0);
	uint64_t t0 = 1000 * SL_NS_PER_S;
	ck_assert_uint_eq(take(0x0a000001, t0, 5), 5);
	ck_assert(!sl_ratelimit_allow(&rl, 0x0a000001, t0));
	ck_assert(!sl_ratelimit_allow(&rl, 0x0a000001, t0 + 499 * SL_NS_PER_MS));
	ck_assert_uint_eq(rl.n_allowed, 5);
	ck_assert_uint_eq(rl.n_limited, 2);
}
END_TEST

START_TEST(test_refill_at_rate)
{
	/* 2/s: one token every 500 ms, never more than the burst. */
	ck_assert_int_eq(sl_ratelimit_init(&rl, 2, 3, 1), 0);
	uint32_t ip = 0xc0a80001;
	uint64_t t = 5 * SL_NS_PER_S;
	ck_assert_uint_eq(take(ip, t, 10), 3);
	ck_assert_uint_eq(sl_ratelimit_wait_ns(&rl, ip, t), 500 * SL_NS_PER_MS);
	ck_assert_uint_eq(take(ip, t + 499 * SL_NS_PER_MS, 1), 0);
	ck_assert_uint_eq(sl_ratelimit_wait_ns(&rl, ip, t + 499 * SL_NS_PER_MS), SL_NS_PER_MS);
	ck_assert_uint_eq(take(ip, t + 500 * SL_NS_PER_MS, 10), 1);
	ck_assert_uint_eq(take(ip, t + 1000 * SL_NS_PER_MS, 10), 1);
	/* a long pause refills to the burst, not beyond */
	ck_assert_uint_eq(sl_ratelimit_wait_ns(&rl, ip, t + 60 * SL_NS_PER_S), 0);
	ck_assert_uint_eq(take(ip, t + 60 * SL_NS_PER_S, 10), 3);
	/* sustained: one call every 500 ms always passes */
	uint64_t u = t + 120 * SL_NS_PER_S;
	ck_assert_uint_eq(take(ip, u, 3), 3);
	for (int i = 1; i <= 100; i++)
		ck_assert_uint_eq(take(ip, u + (uint64_t)i * 500 * SL_NS_PER_MS, 2), 1);
}
END_TEST

START_TEST(test_sources_independent)
{
	ck_assert_int_eq(sl_ratelimit_init(&rl, 1, 2, 3), 0);
	ck_assert_uint_eq(take(0x0a000001, 0, 5), 2);
	ck_assert_uint_eq(take(0x0a000002, 0, 5), 2);
	ck_assert_uint_eq(take(0x0a000001, 0, 1), 0);
	ck_assert_uint_eq(sl_ratelimit_wait_ns(&rl, 0x0a000003, 0), 0);
	ck_assert_uint_eq(take(0x0a000003, 0, 1), 1);
	ck_assert_uint_eq(sl_ratelimit_tracked(&rl), 3);
}
END_TEST

START_TEST(test_table_churn_keeps_working)
{
	/* Far more sources than slots: every newcomer gets its burst, the
	   table stays bounded, and a source being limited right now is not
	   forgotten while one-shot sources churn around it. */
	ck_assert_int_eq(sl_ratelimit_init(&rl, 1, 4, 99), 0);
	uint32_t hot = 0x0b000001;
	uint64_t t = SL_NS_PER_S;
	ck_assert_uint_eq(take(hot, t, 4), 4);
	for (uint32_t i = 0; i < 20 * SL_RATELIMIT_SIZE; i++) {
		uint64_t now = t + i; /* 1 ns apart: nobody refills */
		ck_assert_msg(sl_ratelimit_allow(&rl, 0x0c000000 + i, now), "newcomer %u refused",
		              i);
		ck_assert_msg(!sl_ratelimit_allow(&rl, hot, now), "hot source forgotten at %u", i);
	}
	ck_assert_uint_le(sl_ratelimit_tracked(&rl), SL_RATELIMIT_SIZE);
	ck_assert_uint_gt(rl.n_evicted, 0);
	/* still exact after the churn */
	ck_assert_uint_eq(take(hot, t + 20 * SL_RATELIMIT_SIZE + SL_NS_PER_S, 5), 1);
}
END_TEST

START_TEST(test_thousand_flood_sources_never_look_quiet)
{
	/* A HELLO flood from 1,000 addresses (issue 12's test), each far over
	   the dataplane's default per-source rate: every address stays tracked
	   (no eviction), so none looks quiet again and drains the budget kept
	   for newcomers (sl_routine_hello_gate); a newcomer still does. */
	ck_assert_int_eq(sl_ratelimit_init(&rl, 10, 20, 7), 0);
	uint64_t t = SL_NS_PER_S;
	for (uint32_t round = 0; round < 40; round++)
		for (uint32_t i = 0; i < 1000; i++) {
			uint64_t now = t + (uint64_t)round * SL_NS_PER_MS + i;
			uint32_t ip = 0x0a000101 + i;
			if (round > 0)
				ck_assert_msg(!sl_ratelimit_idle(&rl, ip, now),
				              "flood source %u quiet in round %u", i, round);
			sl_ratelimit_allow(&rl, ip, now);
		}
	ck_assert_uint_eq(rl.n_evicted, 0);
	ck_assert_uint_eq(sl_ratelimit_tracked(&rl), 1000);
	ck_assert(sl_ratelimit_idle(&rl, 0x0a000015, t + 40 * SL_NS_PER_MS));
}
END_TEST

/* Reference: one GCRA bucket per source in a direct array (sources are a
   small dense set, so the table never evicts and must agree exactly). */
#define REF_N 64
/* idle: a source that has not drawn on its bucket, or whose bucket refilled. */
START_TEST(test_idle_means_a_full_bucket)
{
	ck_assert_int_eq(sl_ratelimit_init(&rl, 10, 2, 7), 0);
	const uint64_t t = 1000000000ull;
	ck_assert(sl_ratelimit_idle(&rl, 42, t)); /* never seen */
	ck_assert(!sl_ratelimit_idle(&rl, 0, t));
	ck_assert(sl_ratelimit_allow(&rl, 42, t));
	ck_assert(!sl_ratelimit_idle(&rl, 42, t)); /* drew a token */
	ck_assert(!sl_ratelimit_idle(&rl, 42, t + 50000000ull));
	ck_assert(sl_ratelimit_idle(&rl, 42, t + 100000000ull)); /* refilled after 1/rate */
}
END_TEST

/* A single bucket: burst, then one per interval. */
START_TEST(test_single_bucket)
{
	sl_ratelimit_bucket_t b;
	ck_assert_int_eq(sl_ratelimit_bucket_init(&b, 0, 1), -1);
	ck_assert_int_eq(sl_ratelimit_bucket_init(&b, 100, 3), 0);
	const uint64_t t = 5000000000ull;
	for (int i = 0; i < 3; i++)
		ck_assert(sl_ratelimit_bucket_take(&b, t));
	ck_assert(!sl_ratelimit_bucket_take(&b, t));
	ck_assert(!sl_ratelimit_bucket_take(&b, t + 9000000ull));
	ck_assert(sl_ratelimit_bucket_take(&b, t + 10000000ull)); /* 1/100 s later: one more */
	ck_assert(!sl_ratelimit_bucket_take(&b, t + 10000000ull));
}
END_TEST

START_TEST(test_random_against_reference)
{
	uint32_t seed = seed_get(), s = seed ? seed : 1;
	uint32_t rate = 1 + xorshift(&s) % 50, burst = 1 + xorshift(&s) % 8;
	ck_assert_int_eq(sl_ratelimit_init(&rl, rate, burst, xorshift(&s)), 0);
	uint64_t T = 1000000000ULL / rate, tau = (uint64_t)(burst - 1) * T;
	uint64_t tat[REF_N] = {0};
	bool seen[REF_N] = {0};
	uint64_t now = 1, span = 1;
	for (int i = 0; i < 200000; i++) {
		/* every 1000 calls a new load: each source calls every T/2 .. 4T */
		if (i % 1000 == 0)
			span = T * (1 + xorshift(&s) % 8) / REF_N + 1;
		now += xorshift(&s) % span;
		uint32_t k = xorshift(&s) % REF_N;
		if (!seen[k]) {
			seen[k] = true;
			tat[k] = now;
		}
		bool want = tat[k] <= now + tau;
		if (want)
			tat[k] = SL_MAX(tat[k], now) + T;
		bool got = sl_ratelimit_allow(&rl, 0x0a010000 + k, now);
		ck_assert_msg(got == want, "seed %u step %d source %u: got %d want %d", seed, i, k,
		              got, want);
	}
	ck_assert_uint_eq(rl.n_evicted, 0);
	ck_assert_uint_gt(rl.n_allowed, 0);
	ck_assert_uint_gt(rl.n_limited, 0);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_init_rejects_bad_arguments);
	tcase_add_test(tc, test_ip_zero_always_refused);
	tcase_add_test(tc, test_burst_then_limited);
	tcase_add_test(tc, test_refill_at_rate);
	tcase_add_test(tc, test_sources_independent);
	tcase_add_test(tc, test_table_churn_keeps_working);
	tcase_add_test(tc, test_thousand_flood_sources_never_look_quiet);
	tcase_add_test(tc, test_idle_means_a_full_bucket);
	tcase_add_test(tc, test_single_bucket);
	tcase_add_test(tc, test_random_against_reference);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ratelimit_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
