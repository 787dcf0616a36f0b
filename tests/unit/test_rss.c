/* test_rss.c — Toeplitz flow placement (sl_rss.h): the hash equals the
   published RSS verification vectors (the ones DPDK's rte_softrss and NICs
   reproduce), and sl_rss_worker maps a session's flow (peer -> us) through
   the redirection table, or places nothing without one. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sl_rss.h"

/* The verification key of the RSS specification. */
static const uint8_t key[SL_RSS_KEY_LEN] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* 66.9.149.187:2794 -> 161.142.100.80:1766 */
START_TEST(test_vectors)
{
	uint32_t w[3] = {IP(66, 9, 149, 187), IP(161, 142, 100, 80), 2794u << 16 | 1766u};
	ck_assert_uint_eq(sl_rss_toeplitz(w, 2, key), 0x323e8fc2u);
	ck_assert_uint_eq(sl_rss_toeplitz(w, 3, key), 0x51ccc178u);
	/* a second vector: 199.92.111.2:14230 -> 65.69.140.83:4739 */
	uint32_t v[3] = {IP(199, 92, 111, 2), IP(65, 69, 140, 83), 14230u << 16 | 4739u};
	ck_assert_uint_eq(sl_rss_toeplitz(v, 2, key), 0xd718262au);
	ck_assert_uint_eq(sl_rss_toeplitz(v, 3, key), 0xc626b0eau);
}
END_TEST

START_TEST(test_worker_through_reta)
{
	sl_rss_t r;
	memset(&r, 0, sizeof r);
	memcpy(r.key, key, sizeof key);
	ck_assert_int_eq(sl_rss_worker(&r, IP(66, 9, 149, 187), 2794, IP(161, 142, 100, 80), 1766),
	                 -1); /* no table: no placement */
	r.reta_n = 128;
	r.l4 = 1;
	for (unsigned i = 0; i < r.reta_n; i++)
		r.reta[i] = (uint8_t)(i % 4);
	/* 0x51ccc178 % 128 = 0x78 = 120 -> 120 % 4 = 0; the 2-tuple hash
	   0x323e8fc2 % 128 = 0x42 = 66 -> 2 */
	ck_assert_int_eq(sl_rss_worker(&r, IP(66, 9, 149, 187), 2794, IP(161, 142, 100, 80), 1766),
	                 0);
	r.l4 = 0;
	ck_assert_int_eq(sl_rss_worker(&r, IP(66, 9, 149, 187), 2794, IP(161, 142, 100, 80), 1766),
	                 2);
	r.reta_n = SL_RSS_RETA_MAX + 1; /* corrupt: nothing */
	ck_assert_int_eq(sl_rss_worker(&r, 1, 2, 3, 4), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rss");
	TCase *t = tcase_create("toeplitz");
	tcase_add_test(t, test_vectors);
	tcase_add_test(t, test_worker_through_reta);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
