/* test_sha256d.c — double SHA-256: known vectors, the three genesis
   hashes, every implementation (SHA-NI ones where the CPU has it), the
   batch call and the midstate agree with OpenSSL on random headers
   (seed printed; SL_TEST_SEED replays) and on every header of
   tests/data; the per-thread hash counter counts headers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_chain.h"
#include "sl_sha256d.h"

static uint32_t seed_get(void)
{
	const char *s = getenv("SL_TEST_SEED");
	uint32_t seed = s ? (uint32_t)strtoul(s, NULL, 0) : (uint32_t)time(NULL);
	printf("sha256d: seed %u (SL_TEST_SEED=%u to replay)\n", seed, seed);
	return seed;
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

START_TEST(test_known_vectors)
{
	uint8_t out[32];
	char hex[65];

	sl_sha256d("", 0, out);
	hex_of(out, 32, hex);
	ck_assert_str_eq(hex, "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
	sl_sha256d("abc", 3, out);
	hex_of(out, 32, hex);
	ck_assert_str_eq(hex, "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358");
}
END_TEST

START_TEST(test_genesis_display_hashes)
{
	static const char *const want[][2] = {
	    {"bitcoin-main", "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"},
	    {"bitcoin-test3", "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"},
	    {"regtest", "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"},
	};
	for (size_t i = 0; i < 3; i++) {
		const sl_chain_profile_t *p = sl_chain_profile(want[i][0]);
		ck_assert_ptr_nonnull(p);
		for (int impl = 0; impl < SL_SHA256D_IMPL_COUNT; impl++) {
			uint8_t h[32];
			char disp[SL_CHAIN_DISPLAY_LEN];
			ck_assert_int_eq(
			    sl_sha256d_hdr_with((sl_sha256d_impl_t)impl, p->genesis, h), 0);
			sl_chain_hash_display(h, disp);
			ck_assert_msg(strcmp(disp, want[i][1]) == 0, "%s via %s: %s", want[i][0],
			              sl_sha256d_impl_str((sl_sha256d_impl_t)impl), disp);
		}
	}
}
END_TEST

START_TEST(test_impls_and_midstate_agree_on_random_headers)
{
	uint32_t seed = seed_get();
	srand(seed);
	for (int n = 0; n < 2000; n++) {
		uint8_t hdr[80], ref[32], h[32];
		sl_sha256d_mid_t mid;
		for (int i = 0; i < 80; i++)
			hdr[i] = (uint8_t)rand();
		sl_sha256d(hdr, sizeof(hdr), ref);
		for (int impl = 0; impl < SL_SHA256D_IMPL_COUNT; impl++) {
			if (!sl_sha256d_impl_ok((sl_sha256d_impl_t)impl))
				continue; /* SHA-NI on a CPU without it */
			ck_assert_int_eq(sl_sha256d_hdr_with((sl_sha256d_impl_t)impl, hdr, h), 0);
			ck_assert_msg(memcmp(h, ref, 32) == 0, "seed %u n %d impl %s", seed, n,
			              sl_sha256d_impl_str((sl_sha256d_impl_t)impl));
		}
		sl_sha256d_mid_init(&mid, hdr);
		sl_sha256d_mid_finish(&mid, hdr + 64, h);
		ck_assert_msg(memcmp(h, ref, 32) == 0, "midstate seed %u n %d", seed, n);
	}
}
END_TEST

/* The batch call gives the per-header hashes, for every batch length the
   routine hands it (0..17 and a long run), and counts one per header. */
START_TEST(test_batch_equals_one_by_one_and_counts_headers)
{
	uint32_t seed = seed_get();
	srand(seed);
	enum { MAXN = 67 };
	uint8_t hdrs[MAXN * 80], out[MAXN * 32], ref[32];
	for (int i = 0; i < MAXN * 80; i++)
		hdrs[i] = (uint8_t)rand();
	for (uint32_t n = 0; n <= MAXN; n++) {
		uint64_t c0 = sl_sha256d_hdr_calls();
		memset(out, 0, sizeof(out));
		sl_sha256d_hdrs(hdrs, n, out);
		ck_assert_uint_eq(sl_sha256d_hdr_calls() - c0, n);
		for (uint32_t i = 0; i < n; i++) {
			sl_sha256d(hdrs + i * 80, 80, ref);
			ck_assert_msg(memcmp(out + i * 32, ref, 32) == 0, "seed %u n %u i %u", seed,
			              n, i);
		}
		for (uint32_t i = n; i < MAXN; i++) /* nothing written past n */
			ck_assert_uint_eq(out[i * 32] | out[i * 32 + 31], 0);
	}
	uint64_t c0 = sl_sha256d_hdr_calls();
	sl_sha256d_hdr(hdrs, ref);
	ck_assert_uint_eq(sl_sha256d_hdr_calls() - c0, 1);
}
END_TEST

/* Every implementation and the batch call agree with OpenSSL's SHA256()
   on the real chains of tests/data (every header of every file), and each
   hash is the next header's prev field. */
START_TEST(test_real_headers_every_impl_and_batch)
{
	static const char *const files[] = {
	    "bitcoin-main-0-9999.headers", "bitcoin-main-30000-39999.headers",
	    "bitcoin-main-822528-830592.headers", "bitcoin-test3-0-9999.headers"};
	const char *dir = getenv("SL_TEST_DATA");
	ck_assert_msg(dir != NULL, "SL_TEST_DATA not set (meson sets it to tests/data)");
	for (size_t f = 0; f < SL_ARRAY_LEN(files); f++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, files[f]);
		FILE *fp = fopen(path, "rb");
		ck_assert_msg(fp != NULL, "test data %s missing", path);
		static uint8_t buf[10000 * 80], batch[10000 * 32];
		size_t n = fread(buf, 80, 10000, fp);
		fclose(fp);
		ck_assert_uint_gt(n, 1000);
		sl_sha256d_hdrs(buf, (uint32_t)n, batch);
		for (size_t i = 0; i < n; i++) {
			uint8_t ref[32], h[32];
			sl_sha256d(buf + i * 80, 80, ref);
			ck_assert_msg(memcmp(batch + i * 32, ref, 32) == 0, "%s #%zu batch",
			              files[f], i);
			if (i + 1 < n)
				ck_assert_mem_eq(buf + (i + 1) * 80 + 4, ref, 32);
			for (int impl = 0; impl < SL_SHA256D_IMPL_COUNT; impl++) {
				if (!sl_sha256d_impl_ok((sl_sha256d_impl_t)impl))
					continue;
				ck_assert_int_eq(
				    sl_sha256d_hdr_with((sl_sha256d_impl_t)impl, buf + i * 80, h),
				    0);
				ck_assert_msg(memcmp(h, ref, 32) == 0, "%s #%zu %s", files[f], i,
				              sl_sha256d_impl_str((sl_sha256d_impl_t)impl));
			}
		}
	}
	printf("sha256d: SHA-NI %s\n",
	       sl_sha256d_impl_ok(SL_SHA256D_IMPL_SHANI) ? "used" : "absent");
}
END_TEST

START_TEST(test_midstate_is_reusable)
{
	uint8_t hdr[80], a[32], b[32];
	sl_sha256d_mid_t mid;

	memset(hdr, 0x5a, sizeof(hdr));
	sl_sha256d_mid_init(&mid, hdr);
	for (uint32_t nonce = 0; nonce < 16; nonce++) {
		memcpy(hdr + 76, &nonce, 4);
		sl_sha256d_mid_finish(&mid, hdr + 64, a);
		sl_sha256d_hdr(hdr, b);
		ck_assert_mem_eq(a, b, 32);
	}
}
END_TEST

START_TEST(test_one_bit_changes_the_hash)
{
	const sl_chain_profile_t *p = sl_chain_profile("bitcoin-main");
	uint8_t hdr[80], a[32], b[32];

	memcpy(hdr, p->genesis, 80);
	sl_sha256d_hdr(hdr, a);
	for (int bit = 0; bit < 640; bit += 7) {
		hdr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		sl_sha256d_hdr(hdr, b);
		ck_assert_msg(memcmp(a, b, 32) != 0, "bit %d", bit);
		hdr[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	sl_sha256d_hdr(hdr, b);
	ck_assert_mem_eq(a, b, 32);
}
END_TEST

START_TEST(test_bad_impl_is_refused)
{
	uint8_t hdr[80] = {0}, h[32];

	ck_assert_int_eq(sl_sha256d_hdr_with(SL_SHA256D_IMPL_COUNT, hdr, h), -1);
	ck_assert_int_eq(sl_sha256d_hdr_with((sl_sha256d_impl_t)-1, hdr, h), -1);
	ck_assert_str_eq(sl_sha256d_impl_str(SL_SHA256D_IMPL_COUNT), "?");
	ck_assert_str_eq(sl_sha256d_impl_str(SL_SHA256D_IMPL_TRANSFORM), "openssl-transform");
}
END_TEST

static Suite *sha256d_suite(void)
{
	Suite *s = suite_create("sha256d");
	TCase *tc = tcase_create("hash");
	tcase_add_test(tc, test_bad_impl_is_refused);
	tcase_add_test(tc, test_known_vectors);
	tcase_add_test(tc, test_genesis_display_hashes);
	tcase_add_test(tc, test_impls_and_midstate_agree_on_random_headers);
	tcase_add_test(tc, test_midstate_is_reusable);
	tcase_add_test(tc, test_batch_equals_one_by_one_and_counts_headers);
	tcase_add_test(tc, test_real_headers_every_impl_and_batch);
	tcase_add_test(tc, test_one_bit_changes_the_hash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sha256d_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
