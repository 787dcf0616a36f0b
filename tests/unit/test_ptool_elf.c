/* test_ptool_elf.c — the USDT notes sluice-probe reads (bpf/sl_ptool_elf.h):
   sluice-dp and sluice-ctrl carry the probes of sl_probe.h (the ones each
   process fires), a binary without .note.stapsdt says so (the
   CONFIG_SL_USDT=n error), a missing file and a non-ELF file are told
   apart.  SLUICE_DP / SLUICE_CTRL name the binaries of this build; in a
   CONFIG_SL_USDT=n build both must say "no notes" instead. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_probe.h"
#include "sl_ptool_elf.h"

static char names[64][SL_PTOOL_ELF_NAME_MAX];

static const char *env_bin(const char *var)
{
	const char *p = getenv(var);
	ck_assert_msg(p != NULL, "%s not set (meson passes it)", var);
	return p;
}

#if !SL_USDT
START_TEST(test_nousdt_build_has_no_notes)
{
	int n = -1;
	ck_assert_int_eq(sl_ptool_elf_probes(env_bin("SLUICE_DP"), "sluice", names, 64, &n),
	                 SL_PTOOL_ELF_ERR_NO_NOTE);
	ck_assert_int_eq(sl_ptool_elf_probes(env_bin("SLUICE_CTRL"), "sluice", names, 64, &n),
	                 SL_PTOOL_ELF_ERR_NO_NOTE);
}
END_TEST
#else
START_TEST(test_dp_has_every_dataplane_probe)
{
	int n = -1;
	ck_assert_int_eq(sl_ptool_elf_probes(env_bin("SLUICE_DP"), "sluice", names, 64, &n),
	                 SL_PTOOL_ELF_OK);
	const char *dp[] = {"rx_burst",    "frame_drop", "session_up",   "session_down",
	                    "routine_run", "range_take", "range_return", "misbehavior",
	                    "cmd_park",    "headers_rx"};
	for (unsigned i = 0; i < sizeof dp / sizeof dp[0]; i++)
		ck_assert_msg(sl_ptool_elf_has(names, n, dp[i]), "sluice-dp lacks %s", dp[i]);
		/* each name once, and only names of sl_probe.h */
#define SL_T_NAME(p) #p,
	const char *all[] = {SL_PROBE_LIST(SL_T_NAME)};
#undef SL_T_NAME
	for (int i = 0; i < n; i++) {
		int known = 0;
		for (unsigned k = 0; k < sizeof all / sizeof all[0]; k++)
			known |= strcmp(names[i], all[k]) == 0;
		ck_assert_msg(known, "sluice-dp has unknown probe %s", names[i]);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(names[i], names[j]);
	}
}
END_TEST

START_TEST(test_ctrl_has_store_and_op_probes)
{
	int n = -1;
	ck_assert_int_eq(sl_ptool_elf_probes(env_bin("SLUICE_CTRL"), "sluice", names, 64, &n),
	                 SL_PTOOL_ELF_OK);
	ck_assert(sl_ptool_elf_has(names, n, "store_commit"));
	ck_assert(sl_ptool_elf_has(names, n, "op_start"));
	ck_assert(sl_ptool_elf_has(names, n, "op_done"));
	ck_assert(sl_ptool_elf_has(names, n, "range_covered"));
	ck_assert(!sl_ptool_elf_has(names, n, "rx_burst"));
}
END_TEST

START_TEST(test_other_provider_is_empty)
{
	int n = -1;
	ck_assert_int_eq(sl_ptool_elf_probes(env_bin("SLUICE_DP"), "nosuch", names, 64, &n),
	                 SL_PTOOL_ELF_OK);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_max_bounds_the_list)
{
	int n = -1;
	ck_assert_int_eq(sl_ptool_elf_probes(env_bin("SLUICE_DP"), "sluice", names, 2, &n),
	                 SL_PTOOL_ELF_OK);
	ck_assert_int_eq(n, 2);
}
END_TEST

#endif /* SL_USDT */

START_TEST(test_binary_without_notes)
{
	int n = -1;
	/* this test program is built without <sys/sdt.h> probes */
	ck_assert_int_eq(sl_ptool_elf_probes("/proc/self/exe", "sluice", names, 64, &n),
	                 SL_PTOOL_ELF_ERR_NO_NOTE);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(test_missing_and_not_elf)
{
	int n = -1;
	ck_assert_int_eq(sl_ptool_elf_probes("/nonexistent/sluice-dp", "sluice", names, 64, &n),
	                 SL_PTOOL_ELF_ERR_OPEN);
	ck_assert_int_eq(errno, ENOENT);
	char path[] = "/tmp/test_ptool_elf.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	ck_assert_int_eq(sl_ptool_elf_probes(path, "sluice", names, 64, &n),
	                 SL_PTOOL_ELF_ERR_NOT_ELF);
	unlink(path);
}
END_TEST

static Suite *ptool_elf_suite(void)
{
	Suite *s = suite_create("ptool_elf");
	TCase *tc = tcase_create("notes");
#if !SL_USDT
	tcase_add_test(tc, test_nousdt_build_has_no_notes);
#else
	tcase_add_test(tc, test_dp_has_every_dataplane_probe);
	tcase_add_test(tc, test_ctrl_has_store_and_op_probes);
	tcase_add_test(tc, test_other_provider_is_empty);
	tcase_add_test(tc, test_max_bounds_the_list);
#endif
	tcase_add_test(tc, test_binary_without_notes);
	tcase_add_test(tc, test_missing_and_not_elf);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ptool_elf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
