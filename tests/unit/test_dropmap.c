/* test_dropmap.c — unit tests of the dataplane's error -> drop reason
   table (dataplane/sl_dropmap.h, suite "dropmap"). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_dropmap.h"

START_TEST(test_net_ok_is_not_a_drop)
{
	ck_assert_int_eq(sl_dropmap_net(SL_NET_OK), SL_DROP_CNT);
	ck_assert_int_eq(sl_dropmap_net((sl_net_err_t)SL_NET_ERR_CNT), SL_DROP_CNT);
	ck_assert_int_eq(sl_dropmap_net((sl_net_err_t)-1), SL_DROP_CNT);
}
END_TEST

START_TEST(test_net_errors_map_to_same_name)
{
	for (unsigned e = 1; e < SL_NET_ERR_CNT; e++) {
		sl_drop_t d = sl_dropmap_net((sl_net_err_t)e);
		ck_assert_int_lt(d, SL_DROP_CNT);
		ck_assert_str_eq(sl_drop_str(d), sl_net_err_str(e));
	}
}
END_TEST

START_TEST(test_wire_ok_is_not_a_drop)
{
	ck_assert_int_eq(sl_dropmap_wire(SL_WIRE_OK), SL_DROP_CNT);
	ck_assert_int_eq(sl_dropmap_wire((sl_wire_err_t)SL_WIRE_ERR_CNT), SL_DROP_CNT);
}
END_TEST

START_TEST(test_wire_header_errors_map_to_sl_twin)
{
	const sl_wire_err_t hdr[] = {SL_WIRE_ERR_SHORT,  SL_WIRE_ERR_MAGIC, SL_WIRE_ERR_VERSION,
	                             SL_WIRE_ERR_LENGTH, SL_WIRE_ERR_FLAGS, SL_WIRE_ERR_OVERSIZE,
	                             SL_WIRE_ERR_STREAM};
	for (unsigned i = 0; i < SL_ARRAY_LEN(hdr); i++) {
		char want[64];
		snprintf(want, sizeof want, "sl_%s", sl_wire_err_str(hdr[i]));
		ck_assert_str_eq(sl_drop_str(sl_dropmap_wire(hdr[i])), want);
	}
}
END_TEST

START_TEST(test_wire_session_error_is_no_session)
{
	ck_assert_int_eq(sl_dropmap_wire(SL_WIRE_ERR_SESSION), SL_DROP_SL_NO_SESSION);
}
END_TEST

START_TEST(test_wire_payload_errors_are_sl_payload)
{
	for (unsigned e = SL_WIRE_ERR_TYPE; e < SL_WIRE_ERR_CNT; e++) {
		if (e == SL_WIRE_ERR_SESSION)
			continue;
		ck_assert_msg(sl_dropmap_wire((sl_wire_err_t)e) == SL_DROP_SL_PAYLOAD, "%s",
		              sl_wire_err_str((sl_wire_err_t)e));
	}
}
END_TEST

/* The integration check: "XX" + 30 bytes to the sluice port is sl_magic. */
START_TEST(test_bad_magic_datagram_is_sl_magic)
{
	uint8_t dgram[32] = {'X', 'X'};
	sl_wire_hdr_t h;
	sl_wire_err_t e = sl_wire_decode_hdr(dgram, sizeof dgram, &h);
	ck_assert_int_eq(sl_dropmap_wire(e), SL_DROP_SL_MAGIC);
	ck_assert_int_eq(sl_wire_decode_hdr(dgram, 3, &h), SL_WIRE_ERR_SHORT);
	ck_assert_int_eq(sl_dropmap_wire(SL_WIRE_ERR_SHORT), SL_DROP_SL_SHORT);
}
END_TEST

static Suite *dropmap_suite(void)
{
	Suite *s = suite_create("dropmap");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_net_ok_is_not_a_drop);
	tcase_add_test(tc, test_net_errors_map_to_same_name);
	tcase_add_test(tc, test_wire_ok_is_not_a_drop);
	tcase_add_test(tc, test_wire_header_errors_map_to_sl_twin);
	tcase_add_test(tc, test_wire_session_error_is_no_session);
	tcase_add_test(tc, test_wire_payload_errors_are_sl_payload);
	tcase_add_test(tc, test_bad_magic_datagram_is_sl_magic);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dropmap_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
