/* test_chainstore.c — ctrl's header chain (ctrl/sl_chainstore.h): import
   of real testnet3 headers ($SL_TEST_DATA = tests/data; a missing file
   fails the test), byte-identical export, reopen,
   typed refusals at the exact height, regtest headers from sluice-chaingen
   ($SL_CHAINGEN), get by height and hash, publishing to the region, and
   branch_check (a branch judged without touching the store: its valid
   prefix and the chainwork a real append of it reaches). */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sl_chainstore.h"
#include "sl_dpregion.h"
#include "sl_region.h"
#include "sl_sha256d.h"
#include "sl_time.h"

#define HS         80u
#define T3_FILE    "bitcoin-test3-0-9999.headers"
#define T3_TIP     "000000001655e2a7293f28383a2965b2f0add77fd6ac383986e90971a07467d4"
#define T3_GENESIS "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"

/* ---- helpers ------------------------------------------------------------- */

/* MKDIR_TMP declares `dir`, a fresh temporary directory of this scope. */
#define MKDIR_TMP(dir)                                                                             \
	char dir##_buf[256];                                                                       \
	const char *dir = mkdir_tmp(dir##_buf, sizeof(dir##_buf))

static const char *mkdir_tmp(char *buf, size_t n)
{
	const char *base = getenv("SL_TEST_TMP");
	snprintf(buf, n, "%s/chainstore-test-XXXXXX", base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(buf));
	return buf;
}

/* rm_tree removes a flat directory made by mkdir_tmp (store dirs inside it
   hold only files). */
static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) != 0)
			rm_tree(p);
	}
	closedir(d);
	rmdir(dir);
}

static void path_in(char *p, size_t n, const char *dir, const char *name)
{
	snprintf(p, n, "%s/%s", dir, name);
}

/* load reads a whole file; NULL (and *len 0) if it cannot. */
static uint8_t *load(const char *path, size_t *len)
{
	*len = 0;
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void save(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, len, f), len);
	fclose(f);
}

/* data_path gives $SL_TEST_DATA/name (tests/data); a missing file fails
   the test (the data lives in the tree). */
static const char *data_path(const char *name)
{
	static char p[512];
	const char *dir = getenv("SL_TEST_DATA");
	ck_assert_msg(dir != NULL, "SL_TEST_DATA not set (meson sets it to tests/data): %s", name);
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	ck_assert_msg(access(p, R_OK) == 0, "test data %s missing", p);
	return p;
}

static sl_chainstore_t *open_cs(const char *dir, const char *profile)
{
	sl_chainstore_opts_t o = {.dir = dir, .profile = profile};
	sl_chainstore_err_t e = SL_CHAINSTORE_ERR__COUNT;
	sl_chainstore_t *cs = sl_chainstore_open(&o, &e);
	ck_assert_msg(cs != NULL, "open %s: %s", dir, sl_chainstore_err_str(e));
	ck_assert_int_eq(e, SL_CHAINSTORE_OK);
	return cs;
}

static void tip_display(const sl_chainstore_t *cs, uint32_t *height, char d[65])
{
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	*height = t.height;
	sl_chain_hash_display(t.hash, d);
}

/* import_t3 imports the testnet3 file into store `sub` of dir. */
static sl_chainstore_t *import_t3(const char *src, const char *dir, char *store, size_t n)
{
	path_in(store, n, dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	uint32_t imported = 0;
	sl_chainstore_fail_t f;
	sl_chainstore_err_t e = sl_chainstore_import(cs, src, &imported, &f);
	ck_assert_msg(e == SL_CHAINSTORE_OK, "import: %s at %u (%s)", sl_chainstore_err_str(e),
	              f.height, sl_chainstore_reason(&f));
	ck_assert_uint_eq(imported, 9999); /* genesis was there from open */
	return cs;
}

/* import_fail imports `file` into a fresh `profile` store and checks that it
   stops at `height` with `reason`, keeping exactly heights 0..height-1. */
static void import_fail(const char *file, const char *profile, uint32_t height, const char *reason)
{
	char store[512], d[65];
	uint32_t imported = 12345, tip;
	sl_chainstore_fail_t f;
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, profile);
	sl_chainstore_err_t e = sl_chainstore_import(cs, file, &imported, &f);
	ck_assert_int_eq(e, SL_CHAINSTORE_ERR_INVALID);
	ck_assert_uint_eq(f.height, height);
	ck_assert_str_eq(sl_chainstore_reason(&f), reason);
	ck_assert_uint_eq(imported, height - 1);
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, height - 1);
	ck_assert_uint_eq(sl_store_committed(sl_chainstore_store(cs)), height);
	sl_chainstore_close(cs);
	/* what was committed survives a reopen, the refused header does not */
	cs = open_cs(store, profile);
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, height - 1);
	ck_assert_int_eq(sl_chainstore_get(cs, height, NULL, NULL), SL_CHAINSTORE_ERR_NOT_FOUND);
	sl_chainstore_close(cs);
	rm_tree(dir);
}

static int run_chaingen(const char *args, const char *out)
{
	const char *exe = getenv("SL_CHAINGEN");
	char cmd[2048];
	ck_assert_msg(exe != NULL, "SL_CHAINGEN not set (meson sets it to sluice-chaingen)");
	snprintf(cmd, sizeof(cmd), "%s %s -o %s 2>/dev/null", exe, args, out);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* ---- negative cases ------------------------------------------------------ */

START_TEST(test_open_refuses_bad_arguments)
{
	sl_chainstore_err_t e = SL_CHAINSTORE_OK;
	ck_assert_ptr_null(sl_chainstore_open(NULL, &e));
	ck_assert_int_eq(e, SL_CHAINSTORE_ERR_ARG);
	MKDIR_TMP(dir);
	sl_chainstore_opts_t o = {.dir = dir, .profile = "bitcoin-nope"};
	e = SL_CHAINSTORE_OK;
	ck_assert_ptr_null(sl_chainstore_open(&o, &e));
	ck_assert_int_eq(e, SL_CHAINSTORE_ERR_ARG);
	o = (sl_chainstore_opts_t){.dir = "/proc/no/such/dir", .profile = "regtest"};
	ck_assert_ptr_null(sl_chainstore_open(&o, &e));
	ck_assert_int_eq(e, SL_CHAINSTORE_ERR_STORE);
	rm_tree(dir);
}
END_TEST

START_TEST(test_open_refuses_another_chains_store)
{
	char store[512], hp[600];
	size_t len;
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_close(open_cs(store, "bitcoin-test3"));
	path_in(hp, sizeof(hp), store, "headers");
	uint8_t *before = load(hp, &len);
	ck_assert_uint_eq(len, HS);

	sl_chainstore_opts_t o = {.dir = store, .profile = "regtest"};
	sl_chainstore_err_t e = SL_CHAINSTORE_OK;
	ck_assert_ptr_null(sl_chainstore_open(&o, &e));
	ck_assert_int_eq(e, SL_CHAINSTORE_ERR_WRONG_CHAIN);
	/* refused, not truncated: the testnet3 store is untouched */
	size_t len2;
	uint8_t *after = load(hp, &len2);
	ck_assert_uint_eq(len2, HS);
	ck_assert_mem_eq(before, after, HS);
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	uint32_t tip;
	char d[65];
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 0);
	ck_assert_str_eq(d, T3_GENESIS);
	sl_chainstore_close(cs);
	free(before);
	free(after);
	rm_tree(dir);
}
END_TEST

START_TEST(test_import_missing_file_is_io)
{
	char store[512];
	uint32_t imported = 7;
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "regtest");
	ck_assert_int_eq(sl_chainstore_import(cs, "/nonexistent/file", &imported, NULL),
	                 SL_CHAINSTORE_ERR_IO);
	ck_assert_uint_eq(imported, 0);
	sl_chainstore_close(cs);
	rm_tree(dir);
}
END_TEST

START_TEST(test_mutated_nonce_refused_at_its_height_as_pow)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	unsigned seed0 = (unsigned)time(NULL), seed = seed0;
	uint32_t heights[] = {5000, 1 + (uint32_t)(rand_r(&seed) % 9999)};
	printf("test_mutated_nonce: seed %u, heights %u %u\n", seed0, heights[0], heights[1]);
	MKDIR_TMP(dir);
	char mut[512];
	for (size_t i = 0; i < SL_ARRAY_LEN(heights); i++) {
		uint32_t h = heights[i];
		path_in(mut, sizeof(mut), dir, "mutated");
		b[(size_t)h * HS + 76] ^= 0x01; /* one nonce bit */
		save(mut, b, len);
		b[(size_t)h * HS + 76] ^= 0x01;
		import_fail(mut, "bitcoin-test3", h, "pow");
	}
	rm_tree(dir);
	free(b);
}
END_TEST

START_TEST(test_mutated_bits_time_and_linkage_refused_with_their_reason)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	MKDIR_TMP(dir);
	char mut[512];
	path_in(mut, sizeof(mut), dir, "mutated");

	uint8_t *c = malloc(len);
	memcpy(c, b, len); /* bits: a harder target than required at 3000 */
	c[3000 * HS + 72] = 0xfe;
	save(mut, c, len);
	import_fail(mut, "bitcoin-test3", 3000, "bits");

	memcpy(c, b, len); /* time: not after the median of the last 11 */
	memset(c + 4000 * HS + 68, 0, 4);
	save(mut, c, len);
	import_fail(mut, "bitcoin-test3", 4000, "time_mtp");

	memcpy(c, b, len); /* linkage: two headers swapped */
	memcpy(c + 6000 * HS, b + 6001 * HS, HS);
	memcpy(c + 6001 * HS, b + 6000 * HS, HS);
	save(mut, c, len);
	import_fail(mut, "bitcoin-test3", 6000, "linkage");

	save(mut, b, 2500 * HS + 40); /* a partial last header */
	import_fail(mut, "bitcoin-test3", 2500, "truncated");
	free(c);
	free(b);
	rm_tree(dir);
}
END_TEST

START_TEST(test_future_header_refused)
{
	MKDIR_TMP(dir);
	char file[512], args[128];
	path_in(file, sizeof(file), dir, "future");
	snprintf(args, sizeof(args), "-n 20 --start-time %lld", (long long)time(NULL) + 3 * 3600);
	int rc = run_chaingen(args, file);
	ck_assert_int_eq(rc, 0);
	import_fail(file, "regtest", 1, "time_future");
	rm_tree(dir);
}
END_TEST

START_TEST(test_conflicting_header_refused)
{
	MKDIR_TMP(dir);
	char a[512], b[512], store[512];
	path_in(a, sizeof(a), dir, "a");
	path_in(b, sizeof(b), dir, "b");
	int rc = run_chaingen("-n 300 --seed 1 --start-time 1700000000", a);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(run_chaingen("-n 300 --seed 2 --start-time 1700000000", b), 0);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "regtest");
	ck_assert_int_eq(sl_chainstore_import(cs, a, NULL, NULL), SL_CHAINSTORE_OK);
	sl_chainstore_fail_t f;
	uint32_t imported = 99;
	ck_assert_int_eq(sl_chainstore_import(cs, b, &imported, &f), SL_CHAINSTORE_ERR_INVALID);
	ck_assert_uint_eq(f.height, 1);
	ck_assert_str_eq(sl_chainstore_reason(&f), "conflict");
	ck_assert_uint_eq(imported, 0);
	uint32_t tip;
	char d[65];
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 299);
	/* re-importing the same file adds nothing and is fine */
	ck_assert_int_eq(sl_chainstore_import(cs, a, &imported, NULL), SL_CHAINSTORE_OK);
	ck_assert_uint_eq(imported, 0);
	sl_chainstore_close(cs);
	rm_tree(dir);
}
END_TEST

START_TEST(test_get_and_find_out_of_range_not_found)
{
	char store[512];
	uint8_t hdr[HS], hash[32], zero[32] = {0};
	uint32_t h = 77;
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "regtest");
	ck_assert_int_eq(sl_chainstore_get(cs, 0, hdr, hash), SL_CHAINSTORE_OK);
	ck_assert_mem_eq(hdr, sl_chain_profile("regtest")->genesis, HS);
	ck_assert_int_eq(sl_chainstore_get(cs, 1, hdr, hash), SL_CHAINSTORE_ERR_NOT_FOUND);
	ck_assert_int_eq(sl_chainstore_get(cs, UINT32_MAX, hdr, hash), SL_CHAINSTORE_ERR_NOT_FOUND);
	ck_assert_int_eq(sl_chainstore_find(cs, zero, &h), SL_CHAINSTORE_ERR_NOT_FOUND);
	ck_assert_uint_eq(h, 77);
	ck_assert_int_eq(sl_chainstore_export(cs, "/tmp/x", 1, 0), SL_CHAINSTORE_ERR_ARG);
	ck_assert_int_eq(sl_chainstore_export(cs, "/tmp/x", 0, 1), SL_CHAINSTORE_ERR_ARG);
	sl_chainstore_close(cs);
	rm_tree(dir);
}
END_TEST

/* ---- positive cases ------------------------------------------------------ */

START_TEST(test_fresh_store_starts_at_genesis)
{
	char store[512], d[65];
	uint32_t tip = 9;
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 0);
	ck_assert_str_eq(d, T3_GENESIS);
	ck_assert_str_eq(sl_chainstore_profile(cs)->name, "bitcoin-test3");
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	uint8_t w[32];
	sl_chain_work(0x1d00ffffu, w);
	ck_assert_mem_eq(t.chainwork, w, 32);
	sl_chainstore_close(cs);
	rm_tree(dir);
}
END_TEST

START_TEST(test_import_testnet3_to_tip_and_export_identical)
{
	const char *src = data_path(T3_FILE);
	char store[512], out[512], d[65];
	MKDIR_TMP(dir);
	uint64_t c0 = (uint64_t)clock(), t0 = sl_now_ns();
	sl_chainstore_t *cs = import_t3(src, dir, store, sizeof(store));
	printf("test_import_testnet3: 9999 headers in %.1f ms wall, %.1f ms cpu\n",
	       (double)(sl_now_ns() - t0) / 1e6,
	       (double)((uint64_t)clock() - c0) * 1000.0 / CLOCKS_PER_SEC);
	uint32_t tip;
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 9999);
	ck_assert_str_eq(d, T3_TIP);
	sl_store_stats_t st;
	sl_store_stats(sl_chainstore_store(cs), &st);
	ck_assert_uint_le(st.commits, 1 + (9999 + SL_CHAINSTORE_GROUP - 1) / SL_CHAINSTORE_GROUP);

	size_t a_len, b_len;
	uint8_t *a = load(src, &a_len);
	path_in(out, sizeof(out), dir, "export");
	ck_assert_int_eq(sl_chainstore_export(cs, out, 0, UINT32_MAX), SL_CHAINSTORE_OK);
	uint8_t *b = load(out, &b_len);
	ck_assert_uint_eq(a_len, b_len);
	ck_assert_int_eq(memcmp(a, b, a_len), 0);
	free(b);
	/* a sub-range is the same slice */
	ck_assert_int_eq(sl_chainstore_export(cs, out, 100, 199), SL_CHAINSTORE_OK);
	b = load(out, &b_len);
	ck_assert_uint_eq(b_len, 100 * HS);
	ck_assert_int_eq(memcmp(a + 100 * HS, b, b_len), 0);
	free(b);
	free(a);
	sl_chainstore_close(cs);
	rm_tree(dir);
}
END_TEST

START_TEST(test_reopen_keeps_tip_and_drops_torn_tail)
{
	const char *src = data_path(T3_FILE);
	char store[512], hp[600], d[65];
	MKDIR_TMP(dir);
	sl_chainstore_t *cs = import_t3(src, dir, store, sizeof(store));
	sl_chainstore_tip_t t1, t2;
	sl_chainstore_tip(cs, &t1);
	sl_chainstore_close(cs);

	path_in(hp, sizeof(hp), store, "headers");
	int fd = open(hp, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	uint8_t junk[HS + 40];
	memset(junk, 0xa5, sizeof(junk));
	ck_assert_int_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);

	cs = open_cs(store, "bitcoin-test3");
	sl_chainstore_tip(cs, &t2);
	ck_assert_uint_eq(t2.height, 9999);
	ck_assert_mem_eq(t1.hash, t2.hash, 32);
	ck_assert_mem_eq(t1.chainwork, t2.chainwork, 32);
	sl_chain_hash_display(t2.hash, d);
	ck_assert_str_eq(d, T3_TIP);
	struct stat st;
	ck_assert_int_eq(stat(hp, &st), 0);
	ck_assert_int_eq(st.st_size, 10000 * HS);
	/* the context was rebuilt: the next import continues from the tip */
	ck_assert_int_eq(sl_chainstore_import(cs, src, NULL, NULL), SL_CHAINSTORE_OK);
	sl_chainstore_close(cs);
	rm_tree(dir);
}
END_TEST

START_TEST(test_reopen_cuts_an_invalid_committed_header)
{
	const char *src = data_path(T3_FILE);
	char store[512], hp[600];
	MKDIR_TMP(dir);
	sl_chainstore_close(import_t3(src, dir, store, sizeof(store)));
	/* corrupt height 7000's bits on disk (its hash changes, so 7001 would
	   not link either): open must cut the chain at 7000 */
	path_in(hp, sizeof(hp), store, "headers");
	int fd = open(hp, O_WRONLY);
	uint8_t x = 0xfe;
	ck_assert_int_eq(pwrite(fd, &x, 1, 7000 * HS + 72), 1);
	close(fd);
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	ck_assert_uint_eq(t.height, 6999);
	/* a re-import heals it */
	uint32_t imported;
	ck_assert_int_eq(sl_chainstore_import(cs, src, &imported, NULL), SL_CHAINSTORE_OK);
	ck_assert_uint_eq(imported, 3000);
	sl_chainstore_tip(cs, &t);
	ck_assert_uint_eq(t.height, 9999);
	sl_chainstore_close(cs);
	rm_tree(dir);
}
END_TEST

START_TEST(test_get_by_height_and_hash)
{
	const char *src = data_path(T3_FILE);
	char store[512], d[65];
	size_t len;
	uint8_t *a = load(src, &len);
	MKDIR_TMP(dir);
	sl_chainstore_t *cs = import_t3(src, dir, store, sizeof(store));
	unsigned seed = (unsigned)time(NULL);
	printf("test_get_by_height_and_hash: seed %u\n", seed);
	for (int i = 0; i < 200; i++) {
		uint32_t h = (uint32_t)(rand_r(&seed) % 10000), back = UINT32_MAX;
		uint8_t hdr[HS], hash[32], want[32];
		ck_assert_int_eq(sl_chainstore_get(cs, h, hdr, hash), SL_CHAINSTORE_OK);
		ck_assert_int_eq(memcmp(hdr, a + (size_t)h * HS, HS), 0);
		sl_sha256d_hdr(hdr, want);
		ck_assert_mem_eq(hash, want, 32);
		ck_assert_int_eq(sl_chainstore_find(cs, hash, &back), SL_CHAINSTORE_OK);
		ck_assert_uint_eq(back, h);
	}
	uint8_t tip_hash[32];
	uint32_t h = 0;
	ck_assert_int_eq(sl_chain_hash_from_display(T3_TIP, tip_hash), 0);
	ck_assert_int_eq(sl_chainstore_find(cs, tip_hash, &h), SL_CHAINSTORE_OK);
	ck_assert_uint_eq(h, 9999);
	ck_assert_int_eq(sl_chainstore_get(cs, 10000, NULL, NULL), SL_CHAINSTORE_ERR_NOT_FOUND);
	uint8_t hash0[32];
	ck_assert_int_eq(sl_chainstore_get(cs, 0, NULL, hash0), SL_CHAINSTORE_OK);
	sl_chain_hash_display(hash0, d);
	ck_assert_str_eq(d, T3_GENESIS);
	sl_chainstore_close(cs);
	free(a);
	rm_tree(dir);
}
END_TEST

START_TEST(test_import_chaingen_regtest)
{
	MKDIR_TMP(dir);
	char file[512], store[512];
	path_in(file, sizeof(file), dir, "regtest.headers");
	int rc = run_chaingen("-n 5000", file);
	ck_assert_int_eq(rc, 0);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "regtest");
	uint32_t imported = 0;
	sl_chainstore_fail_t f;
	sl_chainstore_err_t e = sl_chainstore_import(cs, file, &imported, &f);
	ck_assert_msg(e == SL_CHAINSTORE_OK, "import: %s at %u (%s)", sl_chainstore_err_str(e),
	              f.height, sl_chainstore_reason(&f));
	ck_assert_uint_eq(imported, 4999);
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	ck_assert_uint_eq(t.height, 4999);
	size_t len;
	uint8_t *a = load(file, &len), want[32];
	sl_sha256d_hdr(a + 4999 * HS, want);
	ck_assert_mem_eq(t.hash, want, 32);
	/* chainwork: 5000 headers of regtest work */
	uint8_t one[32], sum[32] = {0};
	sl_chain_work(0x207fffffu, one);
	for (int i = 0; i < 5000; i++)
		sl_chain_work_add(sum, one);
	ck_assert_mem_eq(t.chainwork, sum, 32);
	/* the testnet3 file is another chain: conflict at height 0 */
	const char *t3 = data_path(T3_FILE);
	ck_assert_int_eq(sl_chainstore_import(cs, t3, NULL, &f), SL_CHAINSTORE_ERR_INVALID);
	ck_assert_uint_eq(f.height, 0);
	ck_assert_str_eq(sl_chainstore_reason(&f), "conflict");
	free(a);
	sl_chainstore_close(cs);
	rm_tree(dir);
}
END_TEST

START_TEST(test_status_published_to_region_after_each_commit)
{
	char rpath[256], store[512], file[512];
	snprintf(rpath, sizeof(rpath), "/dev/shm/sluice-utcs%d.region", (int)getpid());
	sl_region_t r;
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sl_dpregion_create(&r, rpath, 1, "utcs"), 0);
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	path_in(file, sizeof(file), dir, "regtest.headers");
	sl_chainstore_t *cs = open_cs(store, "regtest");

	sl_status_t *rs = sl_status_join(sl_region_obj(&r, SL_REGION_OBJ_STATUS, 0));
	ck_assert_ptr_nonnull(rs);
	sl_local_status_t st;
	ck_assert_uint_eq(sl_status_read(rs, &st), 0); /* nothing yet */
	sl_chainstore_attach_status(cs, rs);
	uint64_t v0 = sl_status_read(rs, &st);
	ck_assert_uint_gt(v0, 0);
	ck_assert_uint_eq(st.best_height, 0);
	ck_assert_str_eq(sl_chainstore_profile(cs)->name, "regtest");
	uint8_t g[32];
	sl_chainstore_get(cs, 0, NULL, g);
	ck_assert_mem_eq(st.best_hash, g, 32);

	int rc = run_chaingen("-n 4500", file);
	ck_assert_int_eq(rc, 0);
	uint64_t p0 = sl_chainstore_publish(cs);
	ck_assert_int_eq(sl_chainstore_import(cs, file, NULL, NULL), SL_CHAINSTORE_OK);
	/* 4499 new headers in groups of 2000: 3 commits, 3 publishes */
	ck_assert_uint_eq(sl_chainstore_publish(cs) - p0, 3 + 1);
	ck_assert_uint_gt(sl_status_read(rs, &st), v0);
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	ck_assert_uint_eq(st.best_height, 4499);
	ck_assert_mem_eq(st.best_hash, t.hash, 32);
	ck_assert_mem_eq(st.chainwork, t.chainwork, 32);
	ck_assert_uint_eq(st.finalized_height, 0);
	/* detached: no more publishes */
	sl_chainstore_attach_status(cs, NULL);
	uint64_t v1 = sl_status_read(rs, &st);
	uint64_t p1 = sl_chainstore_publish(cs);
	ck_assert_uint_eq(sl_chainstore_publish(cs), p1);
	ck_assert_uint_eq(sl_status_read(rs, &st), v1);
	sl_chainstore_close(cs);
	sl_region_close(&r);
	rm_tree(dir);
}
END_TEST

/* ---- append / truncate (the reactor's chain) ------------------------------ */

START_TEST(test_append_refuses_a_start_that_is_not_tip_plus_one)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	char store[512], d[65];
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	uint32_t done = 77, tip;
	sl_chainstore_fail_t f;
	ck_assert_int_eq(sl_chainstore_append(cs, 2, b + 2 * HS, 5, &done, &f),
	                 SL_CHAINSTORE_ERR_ARG);
	ck_assert_uint_eq(done, 0);
	ck_assert_int_eq(sl_chainstore_append(cs, 0, b, 1, &done, &f), SL_CHAINSTORE_ERR_ARG);
	ck_assert_int_eq(sl_chainstore_append(cs, 1, NULL, 3, &done, &f), SL_CHAINSTORE_ERR_ARG);
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 0);
	ck_assert_uint_eq(sl_store_committed(sl_chainstore_store(cs)), 1);
	sl_chainstore_close(cs);
	rm_tree(dir);
	free(b);
}
END_TEST

START_TEST(test_append_commits_the_valid_prefix_and_names_the_refused_height)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	unsigned seed0 = (unsigned)time(NULL), seed = seed0;
	uint32_t h = 2 + (uint32_t)(rand_r(&seed) % 2990);
	printf("test_append_valid_prefix: seed %u, bad height %u\n", seed0, h);
	b[(size_t)h * HS + 76] ^= 0x01; /* one nonce bit: proof of work */
	char store[512], d[65];
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	uint32_t done = 0, tip;
	sl_chainstore_fail_t f;
	ck_assert_int_eq(sl_chainstore_append(cs, 1, b + HS, 3000, &done, &f),
	                 SL_CHAINSTORE_ERR_INVALID);
	ck_assert_uint_eq(done, h - 1);
	ck_assert_uint_eq(f.height, h);
	ck_assert_str_eq(sl_chainstore_reason(&f), "pow");
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, h - 1);
	ck_assert_uint_eq(sl_store_committed(sl_chainstore_store(cs)), h);
	/* a header that does not link to the tip: linkage, nothing committed */
	ck_assert_int_eq(sl_chainstore_append(cs, h, b + (size_t)(h + 1) * HS, 1, &done, &f),
	                 SL_CHAINSTORE_ERR_INVALID);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(f.height, h);
	ck_assert_str_eq(sl_chainstore_reason(&f), "linkage");
	sl_chainstore_close(cs);
	/* the prefix is durable */
	cs = open_cs(store, "bitcoin-test3");
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, h - 1);
	sl_chainstore_close(cs);
	rm_tree(dir);
	free(b);
}
END_TEST

/* ---- append with the hashes carried from where the headers entered ------- */

/* hash_all fills hs[32 * i] with the hashes of b's headers 0..n-1. */
static uint8_t *hash_all(const uint8_t *b, uint32_t n)
{
	uint8_t *hs = malloc((size_t)n * 32);
	sl_sha256d_hdrs(b, n, hs);
	return hs;
}

START_TEST(test_append_hashed_hashes_each_call_not_each_header)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	uint8_t *hs = hash_all(b, 10000);
	char store[512], d[65];
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	uint32_t done = 0, tip, calls = 0;
	sl_chainstore_fail_t f;
	uint64_t c0 = sl_sha256d_hdr_calls();
	for (uint32_t h = 1; h <= 9999; h += done, calls++) {
		uint32_t n = SL_MIN(2000u, 10000 - h);
		ck_assert_int_eq(sl_chainstore_append_hashed(cs, h, b + (size_t)h * HS,
		                                             hs + (size_t)h * 32, n, &done, &f),
		                 SL_CHAINSTORE_OK);
		ck_assert_uint_eq(done, n);
	}
	uint64_t used = sl_sha256d_hdr_calls() - c0;
	printf("test_append_hashed: 9999 headers, %u calls, %llu SHA-256d\n", calls,
	       (unsigned long long)used);
	ck_assert_uint_eq(used, calls); /* the last of each call, nothing else */
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 9999);
	ck_assert_str_eq(d, T3_TIP);
	/* the index by hash holds the carried hashes */
	uint32_t at = 0;
	ck_assert_int_eq(sl_chainstore_find(cs, hs + 4321 * 32, &at), SL_CHAINSTORE_OK);
	ck_assert_uint_eq(at, 4321);
	sl_chainstore_close(cs);
	/* untrusted callers (NULL hashes) are hashed once per header */
	rm_tree(dir);
	MKDIR_TMP(dir2);
	path_in(store, sizeof(store), dir2, "store");
	cs = open_cs(store, "bitcoin-test3");
	c0 = sl_sha256d_hdr_calls();
	ck_assert_int_eq(sl_chainstore_append(cs, 1, b + HS, 2000, &done, &f), SL_CHAINSTORE_OK);
	ck_assert_uint_eq(sl_sha256d_hdr_calls() - c0, 2000);
	sl_chainstore_close(cs);
	rm_tree(dir2);
	free(hs);
	free(b);
}
END_TEST

/* A wrong carried hash is never stored nor blamed on the headers: ARG,
   nothing committed, wherever it sits (inside the batch, its last header,
   or a header the rules refuse). */
START_TEST(test_append_hashed_refuses_a_wrong_supplied_hash)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	uint8_t *hs = hash_all(b, 10000);
	unsigned seed0 = (unsigned)time(NULL) ^ 0x7e57, seed = seed0;
	char store[512], d[65];
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	uint32_t done = 77, tip;
	sl_chainstore_fail_t f;
	uint32_t mid = 1 + (uint32_t)(rand_r(&seed) % 98);
	printf("test_append_hashed_wrong: seed %u, wrong hash at %u\n", seed0, mid);
	uint32_t wrong[] = {mid, 100, 1}; /* inside, the last, the first */
	for (uint32_t k = 0; k < SL_ARRAY_LEN(wrong); k++) {
		uint8_t *w = hs + (size_t)wrong[k] * 32;
		w[k * 7 % 32] ^= 0x40;
		ck_assert_int_eq(
		    sl_chainstore_append_hashed(cs, 1, b + HS, hs + 32, 100, &done, &f),
		    SL_CHAINSTORE_ERR_ARG);
		ck_assert_uint_eq(done, 0);
		w[k * 7 % 32] ^= 0x40;
		tip_display(cs, &tip, d);
		ck_assert_uint_eq(tip, 0);
		ck_assert_uint_eq(sl_store_count(sl_chainstore_store(cs)), 1);
		ck_assert_int_eq(sl_chainstore_find(cs, hs + (size_t)wrong[k] * 32, NULL),
		                 SL_CHAINSTORE_ERR_NOT_FOUND);
	}
	/* a header the rules refuse, carried with a wrong hash: still ours */
	b[50 * HS + 76] ^= 0x01; /* header 50 fails its proof of work */
	uint8_t real50[32];
	sl_sha256d_hdr(b + 50 * HS, real50);
	memset(hs + 50 * 32, 0xff, 32); /* above any target: refused as pow */
	ck_assert_int_eq(sl_chainstore_append_hashed(cs, 1, b + HS, hs + 32, 100, &done, &f),
	                 SL_CHAINSTORE_ERR_ARG);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(sl_store_count(sl_chainstore_store(cs)), 1);
	/* with its real hash the header is the peer's fault: pow, prefix kept */
	memcpy(hs + 50 * 32, real50, 32);
	ck_assert_int_eq(sl_chainstore_append_hashed(cs, 1, b + HS, hs + 32, 100, &done, &f),
	                 SL_CHAINSTORE_ERR_INVALID);
	ck_assert_uint_eq(done, 49);
	ck_assert_uint_eq(f.height, 50);
	ck_assert_str_eq(sl_chainstore_reason(&f), "pow");
	sl_chainstore_close(cs);
	rm_tree(dir);
	free(hs);
	free(b);
}
END_TEST

/* Broken linkage with true carried hashes is refused as linkage: the
   check judges the header's prev field against the carried hash of the
   one below. */
START_TEST(test_append_hashed_still_refuses_broken_linkage)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	uint8_t *hs = hash_all(b, 10000);
	char store[512], d[65];
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	uint32_t done = 0, tip;
	sl_chainstore_fail_t f;
	/* heights 1..30 then 32.. (31 left out): 32 does not link to 30 */
	uint8_t *hh = malloc(60 * HS), *hx = malloc(60 * 32);
	memcpy(hh, b + HS, 30 * HS);
	memcpy(hh + 30 * HS, b + 32 * HS, 30 * HS);
	memcpy(hx, hs + 32, 30 * 32);
	memcpy(hx + 30 * 32, hs + 32 * 32, 30 * 32);
	ck_assert_int_eq(sl_chainstore_append_hashed(cs, 1, hh, hx, 60, &done, &f),
	                 SL_CHAINSTORE_ERR_INVALID);
	ck_assert_uint_eq(done, 30);
	ck_assert_uint_eq(f.height, 31);
	ck_assert_str_eq(sl_chainstore_reason(&f), "linkage");
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 30);
	/* and the next header must link to the real 30: 32 still does not */
	ck_assert_int_eq(
	    sl_chainstore_append_hashed(cs, 31, hh + 30 * HS, hx + 30 * 32, 30, &done, &f),
	    SL_CHAINSTORE_ERR_INVALID);
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(f.height, 31);
	ck_assert_str_eq(sl_chainstore_reason(&f), "linkage");
	free(hh);
	free(hx);
	sl_chainstore_close(cs);
	rm_tree(dir);
	free(hs);
	free(b);
}
END_TEST

/* append_all appends heights from..9999 of the file in random groups. */
static void append_all(sl_chainstore_t *cs, const uint8_t *b, uint32_t from, unsigned *seed)
{
	uint32_t h = from;
	while (h <= 9999) {
		uint32_t n = 1 + (uint32_t)(rand_r(seed) % 2000), done = 0;
		n = SL_MIN(n, 10000 - h);
		sl_chainstore_fail_t f;
		sl_chainstore_err_t e =
		    sl_chainstore_append(cs, h, b + (size_t)h * HS, n, &done, &f);
		ck_assert_msg(e == SL_CHAINSTORE_OK, "append %u+%u: %s at %u (%s)", h, n,
		              sl_chainstore_err_str(e), f.height, sl_chainstore_reason(&f));
		ck_assert_uint_eq(done, n);
		h += n;
	}
}

START_TEST(test_append_in_groups_reaches_the_tip_one_commit_each)
{
	const char *src = data_path(T3_FILE);
	size_t len, out_len;
	uint8_t *b = load(src, &len);
	unsigned seed0 = (unsigned)time(NULL) ^ 0x5a5a, seed = seed0;
	printf("test_append_in_groups: seed %u\n", seed0);
	char store[512], out[512], d[65];
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	sl_store_stats_t s0, s1;
	sl_store_stats(sl_chainstore_store(cs), &s0);
	append_all(cs, b, 1, &seed);
	sl_store_stats(sl_chainstore_store(cs), &s1);
	uint32_t tip;
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 9999);
	ck_assert_str_eq(d, T3_TIP);
	ck_assert_uint_ge(s1.commits - s0.commits, 5); /* groups of at most 2000 */
	ck_assert_uint_le(s1.commits - s0.commits, 9999);
	path_in(out, sizeof(out), dir, "export");
	ck_assert_int_eq(sl_chainstore_export(cs, out, 0, UINT32_MAX), SL_CHAINSTORE_OK);
	uint8_t *x = load(out, &out_len);
	ck_assert_uint_eq(out_len, len);
	ck_assert_int_eq(memcmp(x, b, len), 0);
	free(x);
	sl_chainstore_close(cs);
	rm_tree(dir);
	free(b);
}
END_TEST

/* The sync's group commit: appends are accepted at once (the tip moves)
   while the committed tip, what status publishes and what reads see, moves
   only when a group's sync is done; appends go on while a group syncs, so
   the groups grow (fewer commits than appends); the last group is
   committed by a step, and reopen finds everything. */
START_TEST(test_append_group_commits_off_the_caller_in_growing_groups)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	uint8_t *hs = hash_all(b, 10000);
	char rpath[256], store[512], d[65];
	snprintf(rpath, sizeof(rpath), "/dev/shm/sluice-utcg%d.region", (int)getpid());
	sl_region_t r;
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(sl_dpregion_create(&r, rpath, 1, "utcg"), 0);
	sl_status_t *rs = sl_status_join(sl_region_obj(&r, SL_REGION_OBJ_STATUS, 0));
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	sl_chainstore_attach_status(cs, rs);
	sl_store_stats_t s0, s1;
	sl_store_stats(sl_chainstore_store(cs), &s0);
	sl_chainstore_tip_t t, dt;
	sl_local_status_t st;
	uint32_t appends = 0, behind = 0;
	for (uint32_t h = 1; h <= 9999; h += 100, appends++) {
		uint32_t n = SL_MIN(100u, 10000 - h), done = 0;
		sl_chainstore_fail_t f;
		ck_assert_int_eq(sl_chainstore_append_group(cs, h, b + (size_t)h * HS,
		                                            hs + (size_t)h * 32, n, &done, &f),
		                 SL_CHAINSTORE_OK);
		ck_assert_uint_eq(done, n);
		sl_chainstore_tip(cs, &t);
		sl_chainstore_durable(cs, &dt);
		ck_assert_uint_eq(t.height, h + n - 1);
		ck_assert_uint_le(dt.height, t.height);
		behind += dt.height < t.height;
		/* only the committed tip is published or readable */
		sl_status_read(rs, &st);
		ck_assert_uint_eq(st.best_height, dt.height);
		ck_assert_int_eq(sl_chainstore_get(cs, dt.height + 1, NULL, NULL),
		                 SL_CHAINSTORE_ERR_NOT_FOUND);
	}
	ck_assert_uint_gt(behind, 0);
	for (int i = 0; i < 100000 && (sl_chainstore_durable(cs, &dt), dt.height < 9999); i++) {
		ck_assert_int_eq(sl_chainstore_group_step(cs), SL_CHAINSTORE_OK);
		usleep(100);
	}
	ck_assert_uint_eq(dt.height, 9999);
	sl_status_read(rs, &st);
	ck_assert_uint_eq(st.best_height, 9999);
	sl_store_stats(sl_chainstore_store(cs), &s1);
	printf("append_group: %u appends of 100, %llu commits\n", appends,
	       (unsigned long long)(s1.commits - s0.commits));
	ck_assert_uint_lt(s1.commits - s0.commits, appends);
	sl_chainstore_close(cs);
	cs = open_cs(store, "bitcoin-test3");
	uint32_t tip;
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 9999);
	ck_assert_str_eq(d, T3_TIP);
	sl_chainstore_close(cs);
	sl_region_close(&r);
	rm_tree(dir);
	free(hs);
	free(b);
}
END_TEST

/* close commits what was accepted: nothing a group held is lost. */
START_TEST(test_close_commits_accepted_headers)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	uint8_t *hs = hash_all(b, 3000);
	char store[512];
	MKDIR_TMP(dir);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "bitcoin-test3");
	uint32_t done = 0;
	sl_chainstore_fail_t f;
	/* the first group starts syncing; the second waits for it (pending) */
	for (uint32_t h = 1; h < 1999; h += 999)
		ck_assert_int_eq(sl_chainstore_append_group(cs, h, b + (size_t)h * HS,
		                                            hs + (size_t)h * 32, 999, &done, &f),
		                 SL_CHAINSTORE_OK);
	sl_chainstore_close(cs);
	cs = open_cs(store, "bitcoin-test3");
	sl_chainstore_tip_t t;
	sl_chainstore_durable(cs, &t);
	ck_assert_uint_eq(t.height, 1998);
	sl_chainstore_close(cs);
	rm_tree(dir);
	free(hs);
	free(b);
}
END_TEST

START_TEST(test_truncate_rebuilds_the_context_at_the_height)
{
	const char *src = data_path(T3_FILE);
	size_t len;
	uint8_t *b = load(src, &len);
	unsigned seed0 = (unsigned)time(NULL) ^ 0x1234, seed = seed0;
	uint32_t cut = 1 + (uint32_t)(rand_r(&seed) % 9000);
	printf("test_truncate: seed %u, cut at %u\n", seed0, cut);
	char store[512], d[65];
	MKDIR_TMP(dir);
	sl_chainstore_t *cs = import_t3(src, dir, store, sizeof(store));
	uint32_t tip, done = 0;
	ck_assert_int_eq(sl_chainstore_truncate(cs, 20000), SL_CHAINSTORE_OK); /* beyond: no-op */
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 9999);
	ck_assert_int_eq(sl_chainstore_truncate(cs, cut), SL_CHAINSTORE_OK);
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	ck_assert_uint_eq(t.height, cut);
	uint8_t want[32];
	sl_sha256d_hdr(b + (size_t)cut * HS, want);
	ck_assert_mem_eq(t.hash, want, 32);
	ck_assert_int_eq(sl_chainstore_get(cs, cut + 1, NULL, NULL), SL_CHAINSTORE_ERR_NOT_FOUND);
	/* the old next height is refused now; the cut's next is accepted, and the
	   context (retargets, MTP) carries the chain back to its tip */
	sl_chainstore_fail_t f;
	ck_assert_int_eq(sl_chainstore_append(cs, 10000, b, 1, &done, &f), SL_CHAINSTORE_ERR_ARG);
	append_all(cs, b, cut + 1, &seed);
	tip_display(cs, &tip, d);
	ck_assert_uint_eq(tip, 9999);
	ck_assert_str_eq(d, T3_TIP);
	sl_chainstore_close(cs);
	rm_tree(dir);
	free(b);
}
END_TEST

/* ---- branch_check (judging a branch without touching the store) ----------- */

/* A store snapshot: what branch_check must leave as it was. */
typedef struct {
	sl_chainstore_tip_t tip;
	uint32_t committed;
	uint64_t epoch;
	sl_store_stats_t st;
} cs_snap_t;

static cs_snap_t cs_snap(sl_chainstore_t *cs)
{
	cs_snap_t s;
	memset(&s, 0, sizeof(s));
	sl_chainstore_tip(cs, &s.tip);
	s.committed = sl_store_committed(sl_chainstore_store(cs));
	s.epoch = sl_store_epoch(sl_chainstore_store(cs));
	sl_store_stats(sl_chainstore_store(cs), &s.st);
	return s;
}

static void cs_unchanged(sl_chainstore_t *cs, const cs_snap_t *a)
{
	cs_snap_t b = cs_snap(cs);
	ck_assert_uint_eq(b.tip.height, a->tip.height);
	ck_assert_mem_eq(b.tip.hash, a->tip.hash, 32);
	ck_assert_mem_eq(b.tip.chainwork, a->tip.chainwork, 32);
	ck_assert_uint_eq(b.committed, a->committed);
	ck_assert_uint_eq(b.epoch, a->epoch);
	ck_assert_uint_eq(b.st.commits, a->st.commits);
	ck_assert_uint_eq(b.st.headers_committed, a->st.headers_committed);
}

/* The branch fixture: chain A = seed 1, heights 0..800, imported in `cs`;
   B = seed 1 forked at 600 with seed 2, heights 0..1000; E = seed 1,
   heights 0..1000 (A extended).  One --start-time for all.  *bf gets B's
   bytes, *ef E's. */
#define BR_FORK 600u
#define BR_TIP  800u
#define BR_N    1001u

static sl_chainstore_t *branch_fixture(const char *dir, uint8_t **bf, uint8_t **ef)
{
	char a[512], b[512], e[512], store[512], args[160];
	long long t0 = (long long)time(NULL) - 2 * BR_N;
	path_in(a, sizeof(a), dir, "a");
	path_in(b, sizeof(b), dir, "b");
	path_in(e, sizeof(e), dir, "e");
	snprintf(args, sizeof(args), "-n %u --seed 1 --start-time %lld", BR_TIP + 1, t0);
	int rc = run_chaingen(args, a);
	ck_assert_int_eq(rc, 0);
	snprintf(args, sizeof(args), "-n %u --seed 1 --fork-at %u --fork-seed 2 --start-time %lld",
	         BR_N, BR_FORK, t0);
	ck_assert_int_eq(run_chaingen(args, b), 0);
	snprintf(args, sizeof(args), "-n %u --seed 1 --start-time %lld", BR_N, t0);
	ck_assert_int_eq(run_chaingen(args, e), 0);
	size_t len;
	*bf = load(b, &len);
	ck_assert_uint_eq(len, (size_t)BR_N * HS);
	*ef = load(e, &len);
	ck_assert_uint_eq(len, (size_t)BR_N * HS);
	/* B leaves A (= E's prefix) right after the fork */
	ck_assert_int_eq(memcmp(*bf, *ef, (size_t)(BR_FORK + 1) * HS), 0);
	ck_assert_int_ne(
	    memcmp(*bf + (size_t)(BR_FORK + 1) * HS, *ef + (size_t)(BR_FORK + 1) * HS, HS), 0);
	path_in(store, sizeof(store), dir, "store");
	sl_chainstore_t *cs = open_cs(store, "regtest");
	ck_assert_int_eq(sl_chainstore_import(cs, a, NULL, NULL), SL_CHAINSTORE_OK);
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	ck_assert_uint_eq(t.height, BR_TIP);
	return cs;
}

/* real_work gives the chainwork a second store (`name` in dir, holding A
   imported from dir/a) reaches after truncate to `fork` and a real append of
   hdrs[0..n) (which must all be valid). */
static void real_work(const char *dir, const char *name, uint32_t fork, const uint8_t *hdrs,
                      uint32_t n, uint8_t work[32])
{
	char a[512], store[512];
	path_in(a, sizeof(a), dir, "a");
	path_in(store, sizeof(store), dir, name);
	sl_chainstore_t *cs = open_cs(store, "regtest");
	ck_assert_int_eq(sl_chainstore_import(cs, a, NULL, NULL), SL_CHAINSTORE_OK);
	ck_assert_int_eq(sl_chainstore_truncate(cs, fork), SL_CHAINSTORE_OK);
	uint32_t done = 0;
	sl_chainstore_fail_t f;
	if (n > 0) {
		sl_chainstore_err_t e = sl_chainstore_append(cs, fork + 1, hdrs, n, &done, &f);
		ck_assert_msg(e == SL_CHAINSTORE_OK, "append: %s at %u (%s)",
		              sl_chainstore_err_str(e), f.height, sl_chainstore_reason(&f));
		ck_assert_uint_eq(done, n);
	}
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	ck_assert_uint_eq(t.height, fork + n);
	memcpy(work, t.chainwork, 32);
	sl_chainstore_close(cs);
}

/* A valid branch (fork 600, 400 headers, heavier than our tip 800) and a
   valid extension (fork = tip 800, 200 headers): OK, *valid = n, and the
   work is the chainwork a real truncate + append of the same headers
   reaches; the store is untouched. */
START_TEST(test_branch_check_valid_branch_work_equals_real_append)
{
	MKDIR_TMP(dir);
	uint8_t *b = NULL, *e = NULL;
	sl_chainstore_t *cs = branch_fixture(dir, &b, &e);
	cs_snap_t s0 = cs_snap(cs);
	uint32_t valid = 12345;
	uint8_t work[32], want[32];
	sl_chainstore_fail_t f = {77, SL_STORE_OK, 0};
	const uint32_t n = BR_N - 1 - BR_FORK;
	ck_assert_int_eq(sl_chainstore_branch_check(cs, BR_FORK, b + (size_t)(BR_FORK + 1) * HS, n,
	                                            &valid, work, &f),
	                 SL_CHAINSTORE_OK);
	ck_assert_uint_eq(valid, n);
	cs_unchanged(cs, &s0);
	real_work(dir, "s2", BR_FORK, b + (size_t)(BR_FORK + 1) * HS, n, want);
	ck_assert_mem_eq(work, want, 32);
	ck_assert_int_gt(sl_chain_work_cmp(work, s0.tip.chainwork), 0);
	/* fork = tip: the extension */
	const uint32_t m = BR_N - 1 - BR_TIP;
	ck_assert_int_eq(sl_chainstore_branch_check(cs, BR_TIP, e + (size_t)(BR_TIP + 1) * HS, m,
	                                            &valid, work, &f),
	                 SL_CHAINSTORE_OK);
	ck_assert_uint_eq(valid, m);
	cs_unchanged(cs, &s0);
	real_work(dir, "s3", BR_TIP, e + (size_t)(BR_TIP + 1) * HS, m, want);
	ck_assert_mem_eq(work, want, 32);
	/* a shorter branch is judged the same way (its work below ours) */
	ck_assert_int_eq(sl_chainstore_branch_check(cs, BR_FORK, b + (size_t)(BR_FORK + 1) * HS, 50,
	                                            &valid, work, &f),
	                 SL_CHAINSTORE_OK);
	ck_assert_uint_eq(valid, 50);
	real_work(dir, "s4", BR_FORK, b + (size_t)(BR_FORK + 1) * HS, 50, want);
	ck_assert_mem_eq(work, want, 32);
	ck_assert_int_lt(sl_chain_work_cmp(work, s0.tip.chainwork), 0);
	cs_unchanged(cs, &s0);
	sl_chainstore_close(cs);
	free(b);
	free(e);
	rm_tree(dir);
}
END_TEST

/* check_invalid runs branch_check on B's branch with header k broken by
   `breaker` and checks INVALID, *valid = k, fail.height = fork + 1 + k with
   `reason`, the work of the valid prefix (as a real append reaches) and an
   untouched store. */
static void check_invalid(sl_chainstore_t *cs, const char *dir, const uint8_t *b, uint32_t k,
                          void (*breaker)(uint8_t *branch, uint32_t k), const char *reason)
{
	const uint32_t n = BR_N - 1 - BR_FORK;
	uint8_t *br = malloc((size_t)n * HS), work[32], want[32];
	memcpy(br, b + (size_t)(BR_FORK + 1) * HS, (size_t)n * HS);
	breaker(br, k);
	cs_snap_t s0 = cs_snap(cs);
	uint32_t valid = 12345;
	sl_chainstore_fail_t f;
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(sl_chainstore_branch_check(cs, BR_FORK, br, n, &valid, work, &f),
	                 SL_CHAINSTORE_ERR_INVALID);
	ck_assert_uint_eq(valid, k);
	ck_assert_uint_eq(f.height, BR_FORK + 1 + k);
	ck_assert_str_eq(sl_chainstore_reason(&f), reason);
	cs_unchanged(cs, &s0);
	char name[32];
	snprintf(name, sizeof(name), "w%s%u", reason, k);
	real_work(dir, name, BR_FORK, br, k, want);
	ck_assert_mem_eq(work, want, 32);
	free(br);
}

static void break_pow(uint8_t *br, uint32_t k)
{
	uint8_t *h = br + (size_t)k * HS, target[32], hash[32];
	ck_assert_int_eq(sl_chain_compact_decode(sl_chain_hdr_bits(h), target), SL_CHAIN_OK);
	do { /* next nonce until the hash misses the target (~1 in 2) */
		uint32_t nonce = sl_chain_hdr_nonce(h) + 1;
		memcpy(h + 76, &nonce, 4);
		sl_sha256d_hdr(h, hash);
	} while (sl_chain_hash_meets(hash, target));
}

static void break_mtp(uint8_t *br, uint32_t k)
{
	uint8_t *h = br + (size_t)k * HS, hash[32];
	memcpy(h + 68, h - 20 * (int)HS + 68, 4); /* the time of 20 below */
	memset(h + 76, 0, 4);
	ck_assert_uint_gt(sl_chain_mine(h, 1u << 24, hash), 0);
}

static void break_link(uint8_t *br, uint32_t k)
{
	uint8_t *h = br + (size_t)k * HS, hash[32];
	h[4] ^= 0xff;
	memset(h + 76, 0, 4);
	ck_assert_uint_gt(sl_chain_mine(h, 1u << 24, hash), 0);
}

/* A header the rules refuse at branch index k (proof of work, time not
   after the median of the last 11, or a prev hash that is not its
   predecessor's): INVALID, *valid = k, fail.height = fork + 1 + k with its
   reason, work = the chainwork of the valid prefix (at the fork for k = 0);
   the store is untouched. */
START_TEST(test_branch_check_invalid_header_names_its_height)
{
	MKDIR_TMP(dir);
	uint8_t *b = NULL, *e = NULL;
	sl_chainstore_t *cs = branch_fixture(dir, &b, &e);
	unsigned seed0 = (unsigned)time(NULL) ^ 0x77, seed = seed0;
	uint32_t k = 21 + (uint32_t)(rand_r(&seed) % 370);
	printf("test_branch_check_invalid: seed %u, k %u\n", seed0, k);
	check_invalid(cs, dir, b, 0, break_pow, "pow");
	check_invalid(cs, dir, b, k, break_pow, "pow");
	check_invalid(cs, dir, b, 399, break_pow, "pow");
	check_invalid(cs, dir, b, 50, break_mtp, "time_mtp");
	check_invalid(cs, dir, b, k, break_link, "linkage");
	check_invalid(cs, dir, b, 0, break_link, "linkage");
	sl_chainstore_close(cs);
	free(b);
	free(e);
	rm_tree(dir);
}
END_TEST

/* A fork above our tip, NULL headers or a NULL chain: ARG, *valid = 0, and
   the store is untouched. */
START_TEST(test_branch_check_refuses_a_fork_above_the_tip)
{
	MKDIR_TMP(dir);
	uint8_t *b = NULL, *e = NULL;
	sl_chainstore_t *cs = branch_fixture(dir, &b, &e);
	cs_snap_t s0 = cs_snap(cs);
	uint32_t valid = 12345;
	uint8_t work[32];
	sl_chainstore_fail_t f;
	ck_assert_int_eq(sl_chainstore_branch_check(cs, BR_TIP + 1, e + (size_t)(BR_TIP + 2) * HS,
	                                            10, &valid, work, &f),
	                 SL_CHAINSTORE_ERR_ARG);
	ck_assert_uint_eq(valid, 0);
	valid = 12345;
	ck_assert_int_eq(sl_chainstore_branch_check(cs, UINT32_MAX, b, 1, &valid, work, &f),
	                 SL_CHAINSTORE_ERR_ARG);
	ck_assert_uint_eq(valid, 0);
	valid = 12345;
	ck_assert_int_eq(sl_chainstore_branch_check(cs, BR_FORK, NULL, 10, &valid, work, &f),
	                 SL_CHAINSTORE_ERR_ARG);
	ck_assert_uint_eq(valid, 0);
	valid = 12345;
	ck_assert_int_eq(sl_chainstore_branch_check(NULL, BR_FORK, b, 10, &valid, work, &f),
	                 SL_CHAINSTORE_ERR_ARG);
	ck_assert_uint_eq(valid, 0);
	cs_unchanged(cs, &s0);
	sl_chainstore_close(cs);
	free(b);
	free(e);
	rm_tree(dir);
}
END_TEST

static Suite *chainstore_suite(void)
{
	Suite *s = suite_create("chainstore");
	TCase *neg = tcase_create("refusals");
	tcase_add_test(neg, test_open_refuses_bad_arguments);
	tcase_add_test(neg, test_open_refuses_another_chains_store);
	tcase_add_test(neg, test_import_missing_file_is_io);
	tcase_add_test(neg, test_mutated_nonce_refused_at_its_height_as_pow);
	tcase_add_test(neg, test_mutated_bits_time_and_linkage_refused_with_their_reason);
	tcase_add_test(neg, test_future_header_refused);
	tcase_add_test(neg, test_conflicting_header_refused);
	tcase_add_test(neg, test_get_and_find_out_of_range_not_found);
	tcase_add_test(neg, test_append_refuses_a_start_that_is_not_tip_plus_one);
	tcase_add_test(neg, test_append_commits_the_valid_prefix_and_names_the_refused_height);
	tcase_add_test(neg, test_append_hashed_refuses_a_wrong_supplied_hash);
	tcase_add_test(neg, test_append_hashed_still_refuses_broken_linkage);
	tcase_add_test(neg, test_branch_check_invalid_header_names_its_height);
	tcase_add_test(neg, test_branch_check_refuses_a_fork_above_the_tip);
	suite_add_tcase(s, neg);
	TCase *pos = tcase_create("chain");
	tcase_add_test(pos, test_fresh_store_starts_at_genesis);
	tcase_add_test(pos, test_import_testnet3_to_tip_and_export_identical);
	tcase_add_test(pos, test_reopen_keeps_tip_and_drops_torn_tail);
	tcase_add_test(pos, test_reopen_cuts_an_invalid_committed_header);
	tcase_add_test(pos, test_get_by_height_and_hash);
	tcase_add_test(pos, test_import_chaingen_regtest);
	tcase_add_test(pos, test_status_published_to_region_after_each_commit);
	tcase_add_test(pos, test_append_in_groups_reaches_the_tip_one_commit_each);
	tcase_add_test(pos, test_append_hashed_hashes_each_call_not_each_header);
	tcase_add_test(pos, test_append_group_commits_off_the_caller_in_growing_groups);
	tcase_add_test(pos, test_close_commits_accepted_headers);
	tcase_add_test(pos, test_truncate_rebuilds_the_context_at_the_height);
	tcase_add_test(pos, test_branch_check_valid_branch_work_equals_real_append);
	suite_add_tcase(s, pos);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(chainstore_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
