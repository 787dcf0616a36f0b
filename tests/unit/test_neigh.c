/* test_neigh.c — unit tests of the dataplane's per-lcore neighbour table
   (dataplane/sl_neigh.h, suite "neigh"): learn / lookup, the ARP request
   rate limiter, eviction keeping recently seen entries, next-hop choice.
   One randomized loop (seed printed; set SL_TEST_SEED to replay). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sl_neigh.h"

static sl_neigh_t tab;

static sl_mac_t mac_of(uint32_t ip)
{
	sl_mac_t m = {{0x02, 0x00, (uint8_t)(ip >> 24), (uint8_t)(ip >> 16), (uint8_t)(ip >> 8),
	               (uint8_t)ip}};
	return m;
}

static uint32_t seed_get(void)
{
	const char *s = getenv("SL_TEST_SEED");
	uint32_t seed = s ? (uint32_t)strtoul(s, NULL, 0) : (uint32_t)time(NULL);
	printf("neigh: seed %u (SL_TEST_SEED=%u to replay)\n", seed, seed);
	return seed;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void setup(void)
{
	sl_neigh_init(&tab);
}

START_TEST(test_empty_table_misses)
{
	sl_mac_t m;
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0x0a4d0001, &m), 0);
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0xffffffff, &m), 0);
}
END_TEST

START_TEST(test_learn_then_lookup)
{
	sl_mac_t in = mac_of(0x0a4d0001), out = {{0}};
	sl_neigh_learn(&tab, 0x0a4d0001, &in, 100);
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0x0a4d0001, &out), 1);
	ck_assert(sl_mac_eq(&in, &out));
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0x0a4d0002, &out), 0);
}
END_TEST

START_TEST(test_learn_replaces_mac)
{
	sl_mac_t a = mac_of(1), b = mac_of(2), out;
	sl_neigh_learn(&tab, 0x0a000001, &a, 1);
	sl_neigh_learn(&tab, 0x0a000001, &b, 2);
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0x0a000001, &out), 1);
	ck_assert(sl_mac_eq(&out, &b));
}
END_TEST

START_TEST(test_learn_refuses_ip_zero_and_bad_macs)
{
	sl_mac_t good = mac_of(7), bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, zero = {{0}};
	sl_mac_t out;
	sl_neigh_learn(&tab, 0, &good, 1);
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0, &out), 0);
	sl_neigh_learn(&tab, 0x0a000007, &bcast, 1);
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0x0a000007, &out), 0);
	sl_neigh_learn(&tab, 0x0a000007, &zero, 1);
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0x0a000007, &out), 0);
}
END_TEST

START_TEST(test_request_rate_limited_per_ip)
{
	uint64_t t = 5 * SL_NEIGH_REQ_GAP_NS;
	ck_assert_int_eq(sl_neigh_want_request(&tab, 0x0a000009, t), 1);
	ck_assert_int_eq(sl_neigh_want_request(&tab, 0x0a000009, t), 0);
	ck_assert_int_eq(sl_neigh_want_request(&tab, 0x0a000009, t + SL_NEIGH_REQ_GAP0_NS - 1), 0);
	/* another IP has its own budget */
	ck_assert_int_eq(sl_neigh_want_request(&tab, 0x0a00000a, t + 1), 1);
	ck_assert_int_eq(sl_neigh_want_request(&tab, 0x0a000009, t + SL_NEIGH_REQ_GAP0_NS), 1);
}
END_TEST

/* A request lost while a link comes up is retried within milliseconds;
   the gap doubles per request up to SL_NEIGH_REQ_GAP_NS. */
START_TEST(test_request_gap_grows)
{
	uint32_t ip = 0x0a00000c;
	uint64_t t = 7 * SL_NEIGH_REQ_GAP_NS, gap = SL_NEIGH_REQ_GAP0_NS;
	ck_assert_int_eq(sl_neigh_want_request(&tab, ip, t), 1);
	for (int i = 0; i < 12; i++) {
		uint64_t want = gap < SL_NEIGH_REQ_GAP_NS ? gap : SL_NEIGH_REQ_GAP_NS;
		ck_assert_int_eq(sl_neigh_want_request(&tab, ip, t + want - 1), 0);
		ck_assert_int_eq(sl_neigh_want_request(&tab, ip, t + want), 1);
		t += want;
		gap *= 2;
	}
	/* learned, then asked for again (entry replaced): the short gap again */
	sl_mac_t m = mac_of(ip);
	sl_neigh_learn(&tab, ip, &m, t);
	ck_assert_int_eq(sl_neigh_want_request(&tab, 0x0a00000d, t), 1);
	ck_assert_int_eq(sl_neigh_want_request(&tab, 0x0a00000d, t + SL_NEIGH_REQ_GAP0_NS), 1);
}
END_TEST

/* The link came up: requests sent while it was down never left, so an
   unresolved address may be asked for at once and its gaps start short
   again; a resolved entry keeps its MAC. */
START_TEST(test_rearm_after_link_up)
{
	uint32_t ip = 0x0a00000e, known = 0x0a00000f;
	uint64_t t = 3 * SL_NEIGH_REQ_GAP_NS;
	sl_mac_t m = mac_of(known), out;
	sl_neigh_learn(&tab, known, &m, t);
	for (int i = 0; i < 6; i++)
		(void)sl_neigh_want_request(&tab, ip, t + (uint64_t)i * SL_NEIGH_REQ_GAP_NS);
	t += 5 * SL_NEIGH_REQ_GAP_NS + 1;
	ck_assert_int_eq(sl_neigh_want_request(&tab, ip, t), 0);
	sl_neigh_rearm(&tab);
	ck_assert_int_eq(sl_neigh_want_request(&tab, ip, t), 1);
	ck_assert_int_eq(sl_neigh_want_request(&tab, ip, t + SL_NEIGH_REQ_GAP0_NS - 1), 0);
	ck_assert_int_eq(sl_neigh_want_request(&tab, ip, t + SL_NEIGH_REQ_GAP0_NS), 1);
	ck_assert_int_eq(sl_neigh_lookup(&tab, known, &out), 1);
	ck_assert(sl_mac_eq(&out, &m));
	ck_assert_int_eq(sl_neigh_lookup(&tab, ip, &out), 0);
}
END_TEST

START_TEST(test_request_never_for_ip_zero)
{
	ck_assert_int_eq(sl_neigh_want_request(&tab, 0, SL_NEIGH_REQ_GAP_NS), 0);
}
END_TEST

START_TEST(test_pending_request_is_not_resolved)
{
	sl_mac_t out;
	ck_assert_int_eq(sl_neigh_want_request(&tab, 0x0a00000b, 10), 1);
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0x0a00000b, &out), 0);
	sl_mac_t m = mac_of(0x0a00000b);
	sl_neigh_learn(&tab, 0x0a00000b, &m, 20);
	ck_assert_int_eq(sl_neigh_lookup(&tab, 0x0a00000b, &out), 1);
	ck_assert(sl_mac_eq(&out, &m));
}
END_TEST

/* An entry refreshed before every insertion is never the least recently
   seen of its probe window, so it survives any number of evictions. */
START_TEST(test_recently_seen_survives_eviction)
{
	const uint32_t keep = 0x0a4d0001;
	sl_mac_t km = mac_of(keep), out;
	uint64_t t = 1;
	for (uint32_t i = 0; i < 16 * SL_NEIGH_SIZE; i++) {
		sl_neigh_learn(&tab, keep, &km, t++);
		uint32_t ip = 0x0b000000 + i;
		sl_mac_t m = mac_of(ip);
		sl_neigh_learn(&tab, ip, &m, t++);
		ck_assert_msg(sl_neigh_lookup(&tab, keep, &out) == 1, "evicted after %u", i);
		ck_assert(sl_mac_eq(&out, &km));
	}
}
END_TEST

/* Random learning far beyond capacity: the IP just learned is always
   found, and no lookup ever answers with another IP's MAC. */
START_TEST(test_random_learn_consistent)
{
	uint32_t s = seed_get() | 1;
	uint32_t seen[512];
	unsigned n_seen = 0, hits = 0;
	for (uint64_t t = 1; t <= 20000; t++) {
		uint32_t ip = (xorshift(&s) & 0x00000fff) | 0x0a000000;
		if (ip == 0x0a000000)
			continue;
		sl_mac_t m = mac_of(ip), out;
		sl_neigh_learn(&tab, ip, &m, t);
		ck_assert_int_eq(sl_neigh_lookup(&tab, ip, &out), 1);
		ck_assert(sl_mac_eq(&out, &m));
		seen[n_seen++ % 512] = ip;
		uint32_t old = seen[xorshift(&s) % SL_MIN(n_seen, 512u)];
		if (sl_neigh_lookup(&tab, old, &out)) {
			sl_mac_t want = mac_of(old);
			ck_assert(sl_mac_eq(&out, &want));
			hits++;
		}
	}
	ck_assert_uint_gt(hits, 0);
}
END_TEST

START_TEST(test_next_hop_on_link_is_destination)
{
	uint32_t me = 0x0a4d0002; /* 10.77.0.2/24 */
	ck_assert_uint_eq(sl_neigh_next_hop(me, 24, 0x0a4d0001, 0x0a4d00fe), 0x0a4d00fe);
	ck_assert_uint_eq(sl_neigh_next_hop(me, 24, 0, 0x0a4d0009), 0x0a4d0009);
}
END_TEST

START_TEST(test_next_hop_off_link_is_gateway)
{
	uint32_t me = 0x0a4d0002;
	ck_assert_uint_eq(sl_neigh_next_hop(me, 24, 0x0a4d0001, 0x0a4e0005), 0x0a4d0001);
	ck_assert_uint_eq(sl_neigh_next_hop(me, 32, 0x0a4d0001, 0x0a4d0003), 0x0a4d0001);
}
END_TEST

START_TEST(test_next_hop_off_link_without_gateway_is_none)
{
	ck_assert_uint_eq(sl_neigh_next_hop(0x0a4d0002, 24, 0, 0x08080808), 0);
	/* /0: everything is on-link */
	ck_assert_uint_eq(sl_neigh_next_hop(0x0a4d0002, 0, 0, 0x08080808), 0x08080808);
}
END_TEST

static Suite *neigh_suite(void)
{
	Suite *s = suite_create("neigh");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_empty_table_misses);
	tcase_add_test(tc, test_learn_then_lookup);
	tcase_add_test(tc, test_learn_replaces_mac);
	tcase_add_test(tc, test_learn_refuses_ip_zero_and_bad_macs);
	tcase_add_test(tc, test_request_rate_limited_per_ip);
	tcase_add_test(tc, test_rearm_after_link_up);
	tcase_add_test(tc, test_request_gap_grows);
	tcase_add_test(tc, test_request_never_for_ip_zero);
	tcase_add_test(tc, test_pending_request_is_not_resolved);
	tcase_add_test(tc, test_recently_seen_survives_eviction);
	tcase_add_test(tc, test_random_learn_consistent);
	tcase_add_test(tc, test_next_hop_on_link_is_destination);
	tcase_add_test(tc, test_next_hop_off_link_is_gateway);
	tcase_add_test(tc, test_next_hop_off_link_without_gateway_is_none);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(neigh_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
