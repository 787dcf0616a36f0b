/* test_book.c — suite "book": ctrl's address book (ctrl/sl_book.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_book.h"

static sl_book_t B;

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

START_TEST(test_invalid_addresses_refused)
{
	sl_book_init(&B);
	ck_assert_int_eq(sl_book_add(&B, 0, 9747, 0, 0, NULL, 0), -1);
	ck_assert_int_eq(sl_book_add(&B, IP(10, 0, 0, 1), 0, 0, 0, NULL, 0), -1);
	ck_assert_int_eq(sl_book_add(&B, IP(127, 0, 0, 1), 9747, 0, 0, NULL, 0), -1);
	ck_assert_int_eq(sl_book_add(&B, IP(224, 0, 0, 1), 9747, 0, 0, NULL, 0), -1);
	ck_assert_int_eq(sl_book_add(&B, IP(255, 255, 255, 255), 9747, 0, 0, NULL, 0), -1);
	ck_assert_uint_eq(B.n, 0);
	ck_assert_uint_eq(B.rejected, 5);
}
END_TEST

START_TEST(test_self_never_added)
{
	sl_book_init(&B);
	ck_assert_int_eq(sl_book_add(&B, IP(10, 0, 0, 2), 9747, 0, 0, NULL, 0), 1);
	sl_book_set_self(&B, IP(10, 0, 0, 2), 9747); /* drops it */
	ck_assert_uint_eq(B.n, 0);
	ck_assert_int_eq(sl_book_add(&B, IP(10, 0, 0, 2), 9747, 0, 0, NULL, 0), -1);
	ck_assert_int_eq(sl_book_add(&B, IP(10, 0, 0, 2), 9748, 0, 0, NULL, 0), 1);
}
END_TEST

START_TEST(test_dedup_refreshes)
{
	uint8_t id[32] = {7};
	sl_book_init(&B);
	ck_assert_int_eq(sl_book_add(&B, IP(10, 0, 0, 3), 9747, 0, 0, NULL, 100), 1);
	ck_assert_int_eq(sl_book_add(&B, IP(10, 0, 0, 3), 9747, 0, 5, id, 50), 0);
	ck_assert_uint_eq(B.n, 1);
	sl_book_entry_t *e = sl_book_find(&B, IP(10, 0, 0, 3), 9747);
	ck_assert_uint_eq(e->last_seen_unix, 100); /* the newer one stays */
	ck_assert_uint_eq(e->node_id[0], 7);
	ck_assert_uint_eq(e->wire_flags, 5);
}
END_TEST

/* Bounded: the least recently seen non-bootstrap entry makes room. */
START_TEST(test_bounded_evicts_oldest_not_bootstrap)
{
	sl_book_init(&B);
	ck_assert_int_eq(sl_book_add(&B, IP(10, 9, 9, 9), 1, SL_BOOK_F_BOOTSTRAP, 0, NULL, 0), 1);
	for (uint32_t i = 1; i < SL_BOOK_MAX; i++)
		ck_assert_int_eq(
		    sl_book_add(&B, IP(10, 1, i >> 8, i & 255), 9747, 0, 0, NULL, 1000 + i), 1);
	ck_assert_uint_eq(B.n, SL_BOOK_MAX);
	ck_assert_int_eq(sl_book_add(&B, IP(10, 2, 0, 1), 9747, 0, 0, NULL, 5000), 1);
	ck_assert_uint_eq(B.n, SL_BOOK_MAX);
	ck_assert_ptr_nonnull(sl_book_find(&B, IP(10, 9, 9, 9), 1)); /* bootstrap kept */
	ck_assert_ptr_null(sl_book_find(&B, IP(10, 1, 0, 1), 9747)); /* oldest gone */
	ck_assert_ptr_nonnull(sl_book_find(&B, IP(10, 1, 0, 2), 9747));
	ck_assert_ptr_nonnull(sl_book_find(&B, IP(10, 2, 0, 1), 9747));
}
END_TEST

START_TEST(test_full_of_bootstrap_refuses)
{
	sl_book_init(&B);
	for (uint32_t i = 0; i < SL_BOOK_MAX; i++)
		ck_assert_int_eq(sl_book_add(&B, IP(10, 1, i >> 8, i & 255), 9747,
		                             SL_BOOK_F_BOOTSTRAP, 0, NULL, 0),
		                 1);
	ck_assert_int_eq(sl_book_add(&B, IP(10, 2, 0, 1), 9747, 0, 0, NULL, 5000), -1);
}
END_TEST

static bool skip_port_1(void *ctx, uint32_t ip, uint16_t port)
{
	(void)ctx;
	(void)ip;
	return port == 1;
}

/* pick: round robin, skipping backoff, the predicate and ourselves. */
START_TEST(test_pick_round_robin_and_backoff)
{
	sl_book_init(&B);
	sl_book_add(&B, IP(10, 0, 0, 1), 1, 0, 0, NULL, 0);
	sl_book_add(&B, IP(10, 0, 0, 2), 2, 0, 0, NULL, 0);
	sl_book_add(&B, IP(10, 0, 0, 3), 3, 0, 0, NULL, 0);
	const sl_book_entry_t *a = sl_book_pick(&B, 10, NULL, NULL);
	const sl_book_entry_t *b = sl_book_pick(&B, 10, NULL, NULL);
	const sl_book_entry_t *c = sl_book_pick(&B, 10, NULL, NULL);
	ck_assert(a != b && b != c && a != c);
	ck_assert_ptr_eq(sl_book_pick(&B, 10, NULL, NULL), a);
	sl_book_backoff(&B, IP(10, 0, 0, 2), 2, 100, true);
	ck_assert_uint_eq(sl_book_find(&B, IP(10, 0, 0, 2), 2)->fails, 1);
	for (int i = 0; i < 6; i++) {
		const sl_book_entry_t *e = sl_book_pick(&B, 50, skip_port_1, NULL);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->port, 3);
	}
	sl_book_backoff(&B, IP(10, 0, 0, 3), 3, 100, false);
	ck_assert_ptr_null(sl_book_pick(&B, 50, skip_port_1, NULL));
	ck_assert_ptr_nonnull(sl_book_pick(&B, 100, skip_port_1, NULL)); /* backoff over */
	sl_book_backoff(&B, IP(10, 0, 0, 3), 3, 10, false);              /* earlier: no effect */
	ck_assert_uint_eq(sl_book_find(&B, IP(10, 0, 0, 3), 3)->redial_ns, 100);
	sl_book_connected(&B, IP(10, 0, 0, 2), 2, 7);
	ck_assert_uint_eq(sl_book_find(&B, IP(10, 0, 0, 2), 2)->fails, 0);
	/* backoff of an unknown address does not add it to the dial list */
	uint32_t n_before = B.n;
	sl_book_backoff(&B, IP(10, 0, 0, 4), 4, 100, true);
	ck_assert_ptr_null(sl_book_find(&B, IP(10, 0, 0, 4), 4));
	ck_assert_uint_eq(B.n, n_before);
	sl_book_init(&B);
	ck_assert_ptr_null(sl_book_pick(&B, 0, NULL, NULL));
}
END_TEST

/* snapshot: connected first, then newest first, no address twice, bounded. */
START_TEST(test_snapshot_order)
{
	sl_book_init(&B);
	for (uint32_t i = 0; i < 100; i++)
		sl_book_add(&B, IP(10, 3, 0, i + 1), 9747, 0, 0, NULL, 500 + (i * 37) % 100);
	sl_pbook_peer_t first[2] = {{.ipv4 = IP(10, 3, 0, 5), .port = 9747, .last_seen_unix = 1},
	                            {.ipv4 = IP(10, 4, 0, 1), .port = 9747}};
	sl_pbook_peer_t out[SL_PBOOK_MAX];
	uint32_t n = sl_book_snapshot(&B, first, 2, out, SL_PBOOK_MAX);
	ck_assert_uint_eq(n, SL_PBOOK_MAX);
	ck_assert_uint_eq(out[0].ipv4, IP(10, 3, 0, 5));
	ck_assert_uint_eq(out[1].ipv4, IP(10, 4, 0, 1));
	for (uint32_t i = 2; i < n; i++) {
		ck_assert_uint_ne(out[i].ipv4, IP(10, 3, 0, 5));
		if (i > 2)
			ck_assert_uint_le(out[i].last_seen_unix, out[i - 1].last_seen_unix);
		for (uint32_t j = 0; j < i; j++)
			ck_assert(out[i].ipv4 != out[j].ipv4);
	}
	ck_assert_uint_eq(out[2].last_seen_unix, 599);
	ck_assert_uint_eq(sl_book_snapshot(&B, NULL, 0, out, 3), 3);
	sl_book_init(&B);
	ck_assert_uint_eq(sl_book_snapshot(&B, NULL, 0, out, SL_PBOOK_MAX), 0);
}
END_TEST

/* Random adds: never more than SL_BOOK_MAX, never a duplicate address. */
START_TEST(test_random_adds_bounded_unique)
{
	unsigned seed = (unsigned)time(NULL);
	printf("test_random_adds_bounded_unique seed %u\n", seed);
	srand(seed);
	sl_book_init(&B);
	for (int i = 0; i < 5000; i++)
		sl_book_add(&B, IP(10, 5, rand() % 8, rand() % 256), (uint16_t)(1 + rand() % 2), 0,
		            0, NULL, (uint32_t)rand());
	ck_assert_uint_le(B.n, SL_BOOK_MAX);
	for (uint32_t i = 0; i < B.n; i++)
		for (uint32_t j = i + 1; j < B.n; j++)
			ck_assert(B.e[i].ip != B.e[j].ip || B.e[i].port != B.e[j].port);
}
END_TEST

static Suite *book_suite(void)
{
	Suite *s = suite_create("book");
	TCase *t = tcase_create("core");
	tcase_add_test(t, test_invalid_addresses_refused);
	tcase_add_test(t, test_self_never_added);
	tcase_add_test(t, test_dedup_refreshes);
	tcase_add_test(t, test_bounded_evicts_oldest_not_bootstrap);
	tcase_add_test(t, test_full_of_bootstrap_refuses);
	tcase_add_test(t, test_pick_round_robin_and_backoff);
	tcase_add_test(t, test_snapshot_order);
	tcase_add_test(t, test_random_adds_bounded_unique);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(book_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
