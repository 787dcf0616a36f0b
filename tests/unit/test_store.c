/* test_store.c — the header store (sl_store.h): crash-safe open, group
   commit, import/export, reorg truncation and the epoch-guarded reader. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl_sha256d.h"
#include "sl_store.h"
#include "sl_time.h"

#define HS 80u

/* ---- fdatasync counter (linked with -Wl,--wrap=fdatasync) ---------------- */

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
static _Atomic uint64_t n_fdatasync;
static _Atomic int fdatasync_fails; /* the next this many fail with EIO */

int __wrap_fdatasync(int fd)
{
	atomic_fetch_add(&n_fdatasync, 1);
	if (atomic_load(&fdatasync_fails) > 0) {
		atomic_fetch_sub(&fdatasync_fails, 1);
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

/* ---- helpers ------------------------------------------------------------- */

static char g_dir[256];

static const char *mkstore(void)
{
	const char *base = getenv("SL_TEST_TMP");
	snprintf(g_dir, sizeof(g_dir), "%s/store-test-XXXXXX", base ? base : ".");
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
	return g_dir;
}

static void rmstore(const char *dir)
{
	const char *names[] = {"headers", "tip", "view", "export", "import"};
	char p[512];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

static void path_in(char *p, size_t n, const char *dir, const char *name)
{
	snprintf(p, n, "%s/%s", dir, name);
}

/* gen_chain writes n linked headers at heights from..from+n-1 after
   prev_hash (zero for genesis).  The merkle field carries (branch, height)
   so a reader can tell branches apart.  *last gets the last hash. */
static void gen_chain(uint8_t *out, uint32_t from, uint32_t n, const uint8_t prev_hash[32],
                      uint32_t branch, uint8_t last[32])
{
	uint8_t prev[32];
	memcpy(prev, prev_hash, 32);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *h = out + (size_t)i * HS;
		uint32_t v = 4, height = from + i, t = 1231006505u + height * 600u;
		uint32_t bits = 0x207fffffu, nonce = branch * 7919u + height;
		memset(h, 0, HS);
		memcpy(h, &v, 4);
		memcpy(h + 4, prev, 32);
		memcpy(h + 36, &branch, 4);
		memcpy(h + 40, &height, 4);
		memcpy(h + 68, &t, 4);
		memcpy(h + 72, &bits, 4);
		memcpy(h + 76, &nonce, 4);
		sl_sha256d_hdr(h, prev);
	}
	if (last != NULL)
		memcpy(last, prev, 32);
}

static sl_store_t *open_store(const char *dir, sl_store_validate_fn v, void *ctx,
                              sl_store_open_info_t *info)
{
	sl_store_opts_t o = {.dir = dir, .validate = v, .validate_ctx = ctx};
	sl_store_t *s = sl_store_open(&o, info);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* fill_store appends n fresh headers on top of s (branch b) and commits. */
static void fill_store(sl_store_t *s, uint32_t n, uint32_t b, uint8_t *keep)
{
	uint8_t prev[32] = {0};
	uint32_t c = sl_store_count(s);
	if (c > 0)
		ck_assert_int_eq(sl_store_get(s, c - 1, NULL, prev), SL_STORE_OK);
	uint8_t *buf = malloc((size_t)n * HS);
	gen_chain(buf, c, n, prev, b, NULL);
	ck_assert_int_eq(sl_store_append(s, buf, n, NULL), SL_STORE_OK);
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	if (keep != NULL)
		memcpy(keep, buf, (size_t)n * HS);
	free(buf);
}

static off_t file_size(const char *dir, const char *name)
{
	char p[512];
	struct stat st;
	path_in(p, sizeof(p), dir, name);
	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_size;
}

static void append_raw(const char *dir, const char *name, const void *buf, size_t len)
{
	char p[512];
	path_in(p, sizeof(p), dir, name);
	int fd = open(p, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void poke_raw(const char *dir, const char *name, off_t off, const void *buf, size_t len)
{
	char p[512];
	path_in(p, sizeof(p), dir, name);
	int fd = open(p, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static size_t read_file(const char *path, uint8_t **out)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*out = malloc((size_t)n + 1);
	ck_assert_int_eq(fread(*out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return (size_t)n;
}

static void write_file(const char *path, const uint8_t *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(buf, 1, n, f), n);
	fclose(f);
}

/* test3_path: $SL_TEST_DATA (tests/data)/bitcoin-test3-0-9999.headers; a
   missing file fails the test (the data lives in the tree). */
static const char *test3_path(char *p, size_t n)
{
	const char *d = getenv("SL_TEST_DATA");
	ck_assert_msg(d != NULL, "SL_TEST_DATA not set (meson sets it to tests/data)");
	snprintf(p, n, "%s/bitcoin-test3-0-9999.headers", d);
	ck_assert_msg(access(p, R_OK) == 0, "test data %s missing", p);
	return p;
}

static void display_hex(const uint8_t h[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", h[31 - i]);
}

/* ---- negative cases ------------------------------------------------------ */

START_TEST(test_open_rejects_bad_args)
{
	sl_store_open_info_t info;
	ck_assert_ptr_null(sl_store_open(NULL, &info));
	ck_assert_int_eq(info.err, SL_STORE_ERR_ARG);
	sl_store_opts_t o = {.dir = NULL};
	ck_assert_ptr_null(sl_store_open(&o, &info));
	ck_assert_int_eq(info.err, SL_STORE_ERR_ARG);
	o.dir = "/proc/definitely/not/here";
	ck_assert_ptr_null(sl_store_open(&o, &info));
	ck_assert_int_eq(info.err, SL_STORE_ERR_IO);
	ck_assert_ptr_null(sl_store_reader_open("/nonexistent-store-dir"));
	ck_assert_str_eq(sl_store_err_str(SL_STORE_ERR_LINKAGE), "linkage");
	ck_assert_str_eq(sl_store_err_str((sl_store_err_t)999), "unknown");
}
END_TEST

START_TEST(test_empty_store_serves_nothing)
{
	const char *dir = mkstore();
	sl_store_open_info_t info;
	sl_store_t *s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 0);
	ck_assert_uint_eq(sl_store_committed(s), 0);
	uint8_t h[80];
	ck_assert_int_eq(sl_store_get(s, 0, h, NULL), SL_STORE_ERR_BEYOND_TIP);
	ck_assert_int_eq(sl_store_export(s, "x", 0, UINT32_MAX), SL_STORE_ERR_ARG);
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK); /* nothing pending: no I/O */
	sl_store_reader_t *r = sl_store_reader_open(dir);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(sl_store_reader_range(r, 0, 1, h, NULL), -SL_STORE_ERR_BEYOND_TIP);
	sl_store_reader_close(r);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

START_TEST(test_append_rejects_broken_linkage_all_or_nothing)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 10, 1, NULL);
	uint8_t prev[32], buf[5 * 80];
	sl_store_get(s, 9, NULL, prev);
	gen_chain(buf, 10, 5, prev, 1, NULL);
	buf[3 * 80 + 4] ^= 1; /* height 13 no longer links to 12 */
	sl_store_fail_t f;
	ck_assert_int_eq(sl_store_append(s, buf, 5, &f), SL_STORE_ERR_LINKAGE);
	ck_assert_uint_eq(f.height, 13);
	ck_assert_int_eq(f.err, SL_STORE_ERR_LINKAGE);
	ck_assert_uint_eq(sl_store_count(s), 10); /* 10..12 not taken either */
	buf[4] ^= 0xff;                           /* height 10 does not link to 9 */
	ck_assert_int_eq(sl_store_append(s, buf, 1, &f), SL_STORE_ERR_LINKAGE);
	ck_assert_uint_eq(f.height, 10);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* append_hashed takes the caller's hashes: no hashing, the index by hash
   holds them, and linkage is judged against them, so a wrong hash[i]
   fails header i + 1 as LINKAGE and nothing is taken. */
START_TEST(test_append_hashed_uses_the_supplied_hashes_for_linkage_and_index)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 10, 1, NULL);
	uint8_t prev[32], buf[5 * 80], hs[5 * 32];
	sl_store_get(s, 9, NULL, prev);
	gen_chain(buf, 10, 5, prev, 1, NULL);
	sl_sha256d_hdrs(buf, 5, hs);
	sl_store_fail_t f;
	hs[2 * 32 + 9] ^= 0x10; /* a wrong hash for height 12 */
	uint64_t c0 = sl_sha256d_hdr_calls();
	ck_assert_int_eq(sl_store_append_hashed(s, buf, hs, 5, &f), SL_STORE_ERR_LINKAGE);
	ck_assert_uint_eq(f.height, 13);
	ck_assert_uint_eq(sl_store_count(s), 10);
	hs[2 * 32 + 9] ^= 0x10;
	buf[3 * 80 + 4] ^= 1; /* true hashes, broken linkage: still refused */
	ck_assert_int_eq(sl_store_append_hashed(s, buf, hs, 5, &f), SL_STORE_ERR_LINKAGE);
	ck_assert_uint_eq(f.height, 13);
	ck_assert_uint_eq(sl_store_count(s), 10);
	buf[3 * 80 + 4] ^= 1;
	ck_assert_int_eq(sl_store_append_hashed(s, buf, hs, 5, &f), SL_STORE_OK);
	ck_assert_uint_eq(sl_sha256d_hdr_calls() - c0, 0); /* not one hash */
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	uint32_t h = 0;
	ck_assert(sl_store_find(s, hs + 4 * 32, &h));
	ck_assert_uint_eq(h, 14);
	uint8_t got[32];
	sl_store_get(s, 12, NULL, got);
	ck_assert_mem_eq(got, hs + 2 * 32, 32);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

START_TEST(test_reserve_ahead_then_append_and_find)
{
	/* a reserve large enough for its prefault thread, a second one that
	   moves the arrays while it may still run, appends in event-sized
	   batches, lookups of all of them, and a close that waits for it */
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	ck_assert_int_eq(sl_store_reserve(s, 100000), SL_STORE_OK);
	ck_assert_int_eq(sl_store_reserve(s, 300000), SL_STORE_OK);
	enum { N = 40000, B = 17 };
	uint8_t *buf = malloc((size_t)N * HS), *hs = malloc((size_t)N * 32), prev[32] = {0};
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(hs);
	gen_chain(buf, 0, N, prev, 1, NULL);
	sl_sha256d_hdrs(buf, N, hs);
	for (uint32_t i = 0; i < N; i += B) {
		uint32_t n = SL_MIN((uint32_t)B, (uint32_t)N - i);
		ck_assert_int_eq(
		    sl_store_append_hashed(s, buf + (size_t)i * HS, hs + (size_t)i * 32, n, NULL),
		    SL_STORE_OK);
	}
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	ck_assert_uint_eq(sl_store_count(s), N);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t h = UINT32_MAX;
		ck_assert_msg(sl_store_find(s, hs + (size_t)i * 32, &h) && h == i, "height %u", i);
	}
	sl_store_close(s);
	free(buf);
	free(hs);
	rmstore(dir);
}
END_TEST

START_TEST(test_append_beyond_max_headers_is_full)
{
	const char *dir = mkstore();
	sl_store_opts_t o = {.dir = dir, .max_headers = 100};
	sl_store_t *s = sl_store_open(&o, NULL);
	ck_assert_ptr_nonnull(s);
	uint8_t *buf = malloc(101 * 80), z[32] = {0};
	gen_chain(buf, 0, 101, z, 1, NULL);
	sl_store_fail_t f;
	ck_assert_int_eq(sl_store_append(s, buf, 101, &f), SL_STORE_ERR_FULL);
	ck_assert_int_eq(sl_store_append(s, buf, 100, &f), SL_STORE_OK);
	ck_assert_int_eq(sl_store_append(s, buf + 100 * 80, 1, &f), SL_STORE_ERR_FULL);
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	free(buf);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* ---- durability and recovery --------------------------------------------- */

START_TEST(test_append_commit_reopen_keeps_everything)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	uint8_t *all = malloc(5000 * 80);
	for (int g = 0; g < 5; g++)
		fill_store(s, 1000, 1, all + (size_t)g * 1000 * 80);
	sl_store_close(s);
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 5000);
	ck_assert_uint_eq(info.tip_count, 5000);
	ck_assert_uint_eq(info.bytes_dropped, 0);
	ck_assert_uint_eq(sl_store_committed(s), 5000);
	uint8_t h[80], hash[32];
	for (uint32_t i = 0; i < 5000; i++) {
		ck_assert_int_eq(sl_store_get(s, i, h, hash), SL_STORE_OK);
		ck_assert_mem_eq(h, all + (size_t)i * 80, 80);
		uint32_t at = UINT32_MAX;
		ck_assert_int_eq(sl_store_find(s, hash, &at), 1);
		ck_assert_uint_eq(at, i);
	}
	hash[5] ^= 1;
	ck_assert_int_eq(sl_store_find(s, hash, NULL), 0);
	ck_assert_int_eq(file_size(dir, "headers"), 5000 * 80);
	free(all);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

START_TEST(test_torn_partial_header_is_truncated)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 100, 1, NULL);
	sl_store_close(s);
	uint8_t half[40];
	memset(half, 0xab, sizeof(half));
	append_raw(dir, "headers", half, sizeof(half));
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 100);
	ck_assert_uint_eq(info.bytes_dropped, 40);
	ck_assert_int_eq(file_size(dir, "headers"), 100 * 80);
	ck_assert_int_eq(sl_store_get(s, 100, NULL, NULL), SL_STORE_ERR_BEYOND_TIP);
	sl_store_reader_t *r = sl_store_reader_open(dir);
	uint8_t out[2 * 80];
	ck_assert_int_eq(sl_store_reader_range(r, 99, 2, out, NULL), 1);
	ck_assert_int_eq(sl_store_reader_range(r, 100, 1, out, NULL), -SL_STORE_ERR_BEYOND_TIP);
	sl_store_reader_close(r);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

START_TEST(test_garbage_tail_is_truncated)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 100, 1, NULL);
	sl_store_close(s);
	uint8_t junk[10 * 80 + 17];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 31 + 7);
	append_raw(dir, "headers", junk, sizeof(junk));
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 100);
	ck_assert_uint_eq(info.bytes_dropped, sizeof(junk));
	ck_assert_int_eq(file_size(dir, "headers"), 100 * 80);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

START_TEST(test_valid_tail_beyond_tip_record_is_dropped)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 100, 1, NULL);
	uint8_t prev[32], more[50 * 80];
	sl_store_get(s, 99, NULL, prev);
	sl_store_close(s);
	gen_chain(more, 100, 50, prev, 1, NULL); /* links perfectly, never committed */
	append_raw(dir, "headers", more, sizeof(more));
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 100);
	ck_assert_uint_eq(info.bytes_dropped, sizeof(more));
	ck_assert_int_eq(sl_store_get(s, 100, NULL, NULL), SL_STORE_ERR_BEYOND_TIP);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* A crash after the group's data write + fdatasync but before the tip
   update: restore the tip file as it was before the commit. */
START_TEST(test_crash_between_data_and_tip_loses_only_that_group)
{
	const char *dir = mkstore();
	char tip[512];
	path_in(tip, sizeof(tip), dir, "tip");
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 100, 1, NULL);
	uint8_t *saved;
	size_t saved_n = read_file(tip, &saved);
	fill_store(s, 50, 1, NULL);
	ck_assert_uint_eq(sl_store_committed(s), 150);
	sl_store_close(s);
	write_file(tip, saved, saved_n); /* the tip update never happened */
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 100);
	ck_assert_uint_eq(info.bytes_dropped, 50 * 80);
	fill_store(s, 10, 2, NULL); /* and the store goes on from there */
	sl_store_close(s);
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 110);
	free(saved);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* A torn tip slot write falls back to the other slot (previous commit). */
START_TEST(test_torn_tip_slot_falls_back_to_previous_commit)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 100, 1, NULL); /* tip seq 1 → slot 1 */
	fill_store(s, 30, 1, NULL);  /* tip seq 2 → slot 0 */
	sl_store_close(s);
	uint8_t junk[20];
	memset(junk, 0x5a, sizeof(junk));
	poke_raw(dir, "tip", 16, junk, sizeof(junk)); /* tear slot 0 */
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.tip_count, 100);
	ck_assert_uint_eq(info.count, 100);
	ck_assert_uint_eq(info.bytes_dropped, 30 * 80);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

static int refuse_height_60(void *ctx, uint32_t height, const uint8_t hdr[80],
                            const uint8_t hash[32])
{
	(void)hdr;
	(void)hash;
	uint32_t *seen = ctx;
	ck_assert_uint_eq(height, *seen); /* in order, once each */
	(*seen)++;
	return height == 60 ? 7 : 0;
}

START_TEST(test_invalid_header_below_tip_cuts_chain_there)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 100, 1, NULL);
	sl_store_close(s);
	uint32_t seen = 0;
	sl_store_open_info_t info;
	s = open_store(dir, refuse_height_60, &seen, &info);
	ck_assert_uint_eq(seen, 61);
	ck_assert_uint_eq(info.count, 60);
	ck_assert_uint_eq(info.fail.height, 60);
	ck_assert_int_eq(info.fail.err, SL_STORE_ERR_INVALID);
	ck_assert_int_eq(info.fail.detail, 7);
	ck_assert_int_eq(file_size(dir, "headers"), 60 * 80);
	sl_store_close(s);
	/* the cut is durable: a linkage-only open keeps 60 */
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 60);
	ck_assert_uint_eq(info.tip_count, 60);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

START_TEST(test_corrupt_header_breaks_linkage_and_moves_epoch)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 100, 1, NULL);
	uint64_t e0 = sl_store_epoch(s);
	sl_store_close(s);
	sl_store_reader_t *r = sl_store_reader_open(dir); /* a dataplane still mapped */
	ck_assert_ptr_nonnull(r);
	uint8_t flip = 0x99;
	poke_raw(dir, "headers", 50 * 80 + 77, &flip, 1); /* nonce of 50 → 51 unlinked */
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 51);
	ck_assert_uint_eq(info.fail.height, 51);
	ck_assert_int_eq(info.fail.err, SL_STORE_ERR_LINKAGE);
	ck_assert_uint_gt(sl_store_epoch(s), e0);
	uint32_t c;
	uint64_t e;
	sl_store_reader_snapshot(r, &c, &e);
	ck_assert_uint_eq(c, 51);
	ck_assert_uint_eq(e, sl_store_epoch(s));
	sl_store_reader_close(r);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* ---- import / export ----------------------------------------------------- */

START_TEST(test_export_of_imported_file_is_byte_identical)
{
	char src[512];
	test3_path(src, sizeof(src));
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	uint32_t n = 0;
	sl_store_fail_t f;
	ck_assert_int_eq(sl_store_import(s, src, NULL, NULL, &n, &f), SL_STORE_OK);
	ck_assert_uint_eq(n, 10000);
	ck_assert_uint_eq(sl_store_committed(s), 10000);
	uint8_t hash[32];
	char hex[65];
	sl_store_get(s, 9999, NULL, hash);
	display_hex(hash, hex);
	ck_assert_str_eq(hex, "000000001655e2a7293f28383a2965b2f0add77fd6ac383986e90971a07467d4");
	sl_store_get(s, 0, NULL, hash);
	display_hex(hash, hex);
	ck_assert_str_eq(hex, "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943");

	char out[512];
	path_in(out, sizeof(out), dir, "export");
	ck_assert_int_eq(sl_store_export(s, out, 0, UINT32_MAX), SL_STORE_OK);
	uint8_t *a, *b;
	size_t na = read_file(src, &a), nb = read_file(out, &b);
	ck_assert_uint_eq(na, nb);
	ck_assert_int_eq(memcmp(a, b, na), 0);
	free(b);
	ck_assert_int_eq(sl_store_export(s, out, 4032, 4131), SL_STORE_OK);
	nb = read_file(out, &b);
	ck_assert_uint_eq(nb, 100 * 80);
	ck_assert_int_eq(memcmp(a + 4032 * 80, b, nb), 0);
	free(b);
	ck_assert_int_eq(sl_store_export(s, out, 10, 10000), SL_STORE_ERR_ARG);
	ck_assert_int_eq(sl_store_export(s, out, 11, 10), SL_STORE_ERR_ARG);
	/* re-importing the same file adds nothing and is not a conflict */
	ck_assert_int_eq(sl_store_import(s, src, NULL, NULL, &n, &f), SL_STORE_OK);
	ck_assert_uint_eq(n, 0);
	free(a);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

static void make_import_file(const char *dir, uint32_t n, uint8_t **buf, char *path, size_t pn)
{
	uint8_t z[32] = {0};
	/* One spare header of zeros: tests write a torn tail past n headers. */
	*buf = calloc((size_t)n + 1, 80);
	ck_assert_ptr_nonnull(*buf);
	gen_chain(*buf, 0, n, z, 1, NULL);
	path_in(path, pn, dir, "import");
}

START_TEST(test_import_stops_at_first_broken_link_and_commits_prefix)
{
	const char *dir = mkstore();
	uint8_t *buf;
	char path[512];
	make_import_file(dir, 6000, &buf, path, sizeof(path));
	buf[5000 * 80 + 10] ^= 0x40; /* height 5000's prev hash */
	write_file(path, buf, 6000 * 80);
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	uint32_t n = 0;
	sl_store_fail_t f;
	ck_assert_int_eq(sl_store_import(s, path, NULL, NULL, &n, &f), SL_STORE_ERR_LINKAGE);
	ck_assert_uint_eq(f.height, 5000);
	ck_assert_int_eq(f.err, SL_STORE_ERR_LINKAGE);
	ck_assert_uint_eq(n, 5000);
	ck_assert_uint_eq(sl_store_committed(s), 5000);
	sl_store_close(s);
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 5000);
	free(buf);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

static int refuse_height_1234(void *ctx, uint32_t height, const uint8_t hdr[80],
                              const uint8_t hash[32])
{
	(void)ctx;
	(void)hdr;
	(void)hash;
	return height == 1234 ? 42 : 0;
}

START_TEST(test_import_reports_validator_reason_and_partial_tail)
{
	const char *dir = mkstore();
	uint8_t *buf;
	char path[512];
	make_import_file(dir, 3000, &buf, path, sizeof(path));
	write_file(path, buf, 3000 * 80 + 33); /* 33 bytes of a torn last header */
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	uint32_t n;
	sl_store_fail_t f;
	ck_assert_int_eq(sl_store_import(s, path, refuse_height_1234, NULL, &n, &f),
	                 SL_STORE_ERR_INVALID);
	ck_assert_uint_eq(f.height, 1234);
	ck_assert_int_eq(f.detail, 42);
	ck_assert_uint_eq(sl_store_committed(s), 1234);
	ck_assert_int_eq(sl_store_import(s, path, NULL, NULL, &n, &f), SL_STORE_ERR_TRUNCATED);
	ck_assert_uint_eq(f.height, 3000);
	ck_assert_uint_eq(n, 3000 - 1234);
	ck_assert_uint_eq(sl_store_committed(s), 3000);
	ck_assert_int_eq(sl_store_import(s, "/nonexistent/file", NULL, NULL, &n, &f),
	                 SL_STORE_ERR_IO);
	free(buf);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

START_TEST(test_import_conflicting_branch_is_refused)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	uint8_t *a = malloc(100 * 80), prev[32];
	fill_store(s, 100, 1, a);
	sl_store_get(s, 49, NULL, prev);
	uint8_t *b = malloc(120 * 80);
	memcpy(b, a, 50 * 80);
	gen_chain(b + 50 * 80, 50, 70, prev, 2, NULL); /* forks at 50 */
	char path[512];
	path_in(path, sizeof(path), dir, "import");
	write_file(path, b, 120 * 80);
	uint32_t n;
	sl_store_fail_t f;
	ck_assert_int_eq(sl_store_import(s, path, NULL, NULL, &n, &f), SL_STORE_ERR_CONFLICT);
	ck_assert_uint_eq(f.height, 50);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(sl_store_committed(s), 100);
	free(a);
	free(b);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* ---- reorg and the reader ------------------------------------------------ */

START_TEST(test_truncate_then_new_branch_is_what_readers_see)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	uint8_t *a = malloc(200 * 80);
	fill_store(s, 200, 1, a);
	sl_store_reader_t *r = sl_store_reader_open(dir);
	ck_assert_ptr_nonnull(r);
	uint8_t out[150 * 80], ahash[32];
	uint64_t e0, e1;
	ck_assert_int_eq(sl_store_reader_range(r, 150, 100, out, &e0), 50);
	ck_assert_int_eq(memcmp(out, a + 150 * 80, 50 * 80), 0);
	sl_store_get(s, 180, NULL, ahash);

	ck_assert_int_eq(sl_store_truncate_to(s, 149), SL_STORE_OK);
	ck_assert_uint_eq(sl_store_committed(s), 150);
	ck_assert_uint_eq(sl_store_epoch(s), e0 + 2);
	ck_assert_int_eq(sl_store_find(s, ahash, NULL), 0);
	ck_assert_int_eq(sl_store_reader_range(r, 150, 1, out, NULL), -SL_STORE_ERR_BEYOND_TIP);
	uint8_t *b = malloc(150 * 80);
	fill_store(s, 150, 2, b);
	ck_assert_int_eq(file_size(dir, "headers"), 300 * 80);
	ck_assert_int_eq(sl_store_reader_range(r, 150, 150, out, &e1), 150);
	ck_assert_uint_eq(e1, e0 + 2);
	ck_assert_int_eq(memcmp(out, b, 150 * 80), 0);
	uint8_t bhash[32];
	uint32_t at;
	sl_store_get(s, 180, NULL, bhash);
	ck_assert_int_eq(sl_store_find(s, bhash, &at), 1);
	ck_assert_uint_eq(at, 180);
	ck_assert_int_eq(sl_store_find(s, ahash, NULL), 0);
	/* truncating only pending headers does not move the epoch */
	fill_store(s, 0, 3, NULL);
	uint8_t prev[32], c3[10 * 80];
	sl_store_get(s, 299, NULL, prev);
	gen_chain(c3, 300, 10, prev, 3, NULL);
	ck_assert_int_eq(sl_store_append(s, c3, 10, NULL), SL_STORE_OK);
	ck_assert_int_eq(sl_store_truncate_to(s, 304), SL_STORE_OK);
	ck_assert_uint_eq(sl_store_count(s), 305);
	ck_assert_uint_eq(sl_store_epoch(s), e0 + 2);
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	sl_store_reader_close(r);
	sl_store_close(s);
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info); /* reopen: branch 2 + 5 of branch 3 */
	ck_assert_uint_eq(info.count, 305);
	ck_assert_uint_eq(info.bytes_dropped, 0);
	ck_assert_uint_eq(sl_store_epoch(s), e0 + 2);
	uint8_t h[80];
	sl_store_get(s, 200, h, NULL);
	ck_assert_int_eq(memcmp(h, b + 50 * 80, 80), 0);
	free(a);
	free(b);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

START_TEST(test_find_survives_many_reorgs)
{
	unsigned seed = (unsigned)time(NULL);
	printf("test_find_survives_many_reorgs: seed %u\n", seed);
	srand(seed);
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 3000, 1, NULL);
	uint8_t *buf = malloc(600 * 80);
	for (uint32_t br = 2; br < 60; br++) {
		uint32_t cut = sl_store_count(s) - 1 - (uint32_t)(rand() % 500);
		ck_assert_int_eq(sl_store_truncate_to(s, cut), SL_STORE_OK);
		fill_store(s, 1 + (uint32_t)(rand() % 600), br, NULL);
	}
	uint32_t c = sl_store_count(s);
	uint8_t hash[32], hdr[80], own[32];
	for (uint32_t i = 0; i < c; i++) {
		uint32_t at = UINT32_MAX;
		sl_store_get(s, i, hdr, hash);
		sl_sha256d_hdr(hdr, own); /* the store's hash is the header's own */
		ck_assert_int_eq(memcmp(hash, own, 32), 0);
		ck_assert_int_eq(sl_store_find(s, hash, &at), 1);
		ck_assert_uint_eq(at, i);
	}
	for (int i = 0; i < 1000; i++) {
		for (int k = 0; k < 32; k++)
			hash[k] = (uint8_t)rand();
		ck_assert_int_eq(sl_store_find(s, hash, NULL), 0);
	}
	free(buf);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* Deterministic interleaving: a reader copies half a range, the writer
   reorgs and overwrites in place, the reader copies the rest.  The copy is
   really mixed, and end() refuses it. */
START_TEST(test_read_section_detects_truncation_mid_copy)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	uint8_t *a = malloc(200 * 80), *b = malloc(100 * 80), prev[32], out[100 * 80];
	fill_store(s, 200, 1, a);
	sl_store_reader_t *r = sl_store_reader_open(dir);
	uint32_t c;
	uint64_t e;
	sl_store_reader_begin(r, &c, &e);
	ck_assert_uint_eq(c, 200);
	memcpy(out, sl_store_reader_ptr(r, 100), 50 * 80); /* heights 100..149 */
	ck_assert_int_eq(sl_store_truncate_to(s, 99), SL_STORE_OK);
	sl_store_get(s, 99, NULL, prev);
	gen_chain(b, 100, 100, prev, 2, NULL);
	ck_assert_int_eq(sl_store_append(s, b, 100, NULL), SL_STORE_OK);
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	memcpy(out + 50 * 80, sl_store_reader_ptr(r, 150), 50 * 80);      /* 150..199 */
	ck_assert_int_eq(memcmp(out, a + 100 * 80, 50 * 80), 0);          /* old branch */
	ck_assert_int_eq(memcmp(out + 50 * 80, b + 50 * 80, 50 * 80), 0); /* new one */
	ck_assert_int_eq(sl_store_reader_end(r, e), 0);                   /* refused */
	/* a fresh section is consistent again and sees branch 2 only */
	ck_assert_int_eq(sl_store_reader_range(r, 100, 100, out, &e), 100);
	ck_assert_int_eq(memcmp(out, b, 100 * 80), 0);
	ck_assert_uint_eq(e, sl_store_epoch(s));
	sl_store_reader_begin(r, &c, &e);
	fill_store(s, 10, 2, NULL); /* growth alone keeps a section valid */
	ck_assert_int_eq(sl_store_reader_end(r, e), 1);
	free(a);
	free(b);
	sl_store_reader_close(r);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

typedef struct {
	const char *dir;
	_Atomic int stop;
	uint64_t reads, races, beyond, mixed, headers;
} race_ctx_t;

/* The reader checks every copy: each header sits at the height its merkle
   field names and links to the one before it — a mix of two branches
   cannot satisfy that. */
static void *race_reader(void *arg)
{
	race_ctx_t *c = arg;
	sl_store_reader_t *r = sl_store_reader_open(c->dir);
	ck_assert_ptr_nonnull(r);
	uint8_t *out = malloc(800 * 80), hash[32];
	unsigned seed = 12345;
	while (!atomic_load(&c->stop)) {
		uint32_t cnt;
		uint64_t e;
		sl_store_reader_snapshot(r, &cnt, &e);
		uint32_t start = cnt > 1200 ? cnt - 1200 + (uint32_t)(rand_r(&seed) % 1200) : 0;
		int got = sl_store_reader_range(r, start, 800, out, NULL);
		if (got == -SL_STORE_ERR_EPOCH) {
			c->races++;
			continue;
		}
		if (got < 0) {
			c->beyond++;
			continue;
		}
		c->reads++;
		c->headers += (uint64_t)got;
		for (int i = 0; i < got; i++) {
			uint32_t ht;
			memcpy(&ht, out + (size_t)i * 80 + 40, 4);
			if (ht != start + (uint32_t)i ||
			    (i > 0 && memcmp(out + (size_t)i * 80 + 4, hash, 32) != 0)) {
				c->mixed++;
				break;
			}
			sl_sha256d_hdr(out + (size_t)i * 80, hash);
		}
	}
	free(out);
	sl_store_reader_close(r);
	return NULL;
}

START_TEST(test_reader_never_returns_a_mixed_copy_during_reorgs)
{
	unsigned seed = (unsigned)time(NULL);
	printf("test_reader_never_returns_a_mixed_copy_during_reorgs: seed %u\n", seed);
	srand(seed);
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	fill_store(s, 3000, 1, NULL);
	race_ctx_t c = {.dir = dir};
	pthread_t th;
	pthread_create(&th, NULL, race_reader, &c);
	uint64_t t_end = sl_now_ns() + 1500 * SL_NS_PER_MS;
	uint32_t br = 2, reorgs = 0;
	uint8_t *buf = malloc(700 * 80), prev[32];
	while (sl_now_ns() < t_end) {
		uint32_t cnt = sl_store_count(s);
		uint32_t cut = cnt - 1 - (uint32_t)(rand() % 600);
		ck_assert_int_eq(sl_store_truncate_to(s, cut), SL_STORE_OK);
		reorgs++;
		uint32_t n = 400 + (uint32_t)(rand() % 300);
		sl_store_get(s, cut, NULL, prev);
		gen_chain(buf, cut + 1, n, prev, br++, NULL);
		for (uint32_t g = 0; g < n; g += 100) /* several groups per branch */
			ck_assert_int_eq(
			    sl_store_append(s, buf + (size_t)g * 80, SL_MIN(100, n - g), NULL),
			    SL_STORE_OK);
		ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	}
	atomic_store(&c.stop, 1);
	pthread_join(th, NULL);
	printf("reorg race: %u reorgs, %llu reads (%llu headers), %llu epoch retries exhausted, "
	       "%llu beyond tip, %llu mixed\n",
	       reorgs, (unsigned long long)c.reads, (unsigned long long)c.headers,
	       (unsigned long long)c.races, (unsigned long long)c.beyond,
	       (unsigned long long)c.mixed);
	ck_assert_uint_eq(c.mixed, 0);
	ck_assert_uint_gt(c.reads, 100);
	ck_assert_uint_gt(reorgs, 10);
	free(buf);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* ---- group commit -------------------------------------------------------- */

START_TEST(test_group_commit_syncs_data_once)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	uint8_t *buf = malloc(2000 * 80), z[32] = {0};
	gen_chain(buf, 0, 2000, z, 1, NULL);
	uint64_t f0 = atomic_load(&n_fdatasync);
	for (int i = 0; i < 100; i++) /* 100 appends of 20 */
		ck_assert_int_eq(sl_store_append(s, buf + (size_t)i * 20 * 80, 20, NULL),
		                 SL_STORE_OK);
	ck_assert_uint_eq(atomic_load(&n_fdatasync), f0); /* appends never sync */
	ck_assert_uint_eq(sl_store_committed(s), 0);
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	/* one fdatasync of the data + one of the tip slot, for 100 appends */
	ck_assert_uint_eq(atomic_load(&n_fdatasync) - f0, 2);
	sl_store_stats_t st;
	sl_store_stats(s, &st);
	ck_assert_uint_eq(st.commits, 1);
	ck_assert_uint_eq(st.data_syncs, 1);
	ck_assert_uint_eq(st.tip_syncs, 1);
	ck_assert_uint_eq(st.headers_committed, 2000);
	ck_assert_uint_eq(sl_store_committed(s), 2000);
	free(buf);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* A commit whose syncs run on a thread: nothing is committed or visible to
   readers until finish; finish publishes it like sl_store_commit (two
   syncs); appends go on while a group syncs (they do not wait for it) and
   every height stays readable; a commit then finishes the group first;
   a reserve keeps find working; reopen keeps everything. */
START_TEST(test_async_commit_publishes_at_finish)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	sl_store_reader_t *r = sl_store_reader_open(dir);
	ck_assert_ptr_nonnull(r);
	uint8_t *buf = malloc(3000 * 80), z[32] = {0}, hash[32];
	gen_chain(buf, 0, 3000, z, 1, NULL);
	ck_assert_int_eq(sl_store_reserve(s, 3000), SL_STORE_OK);
	uint64_t f0 = atomic_load(&n_fdatasync);
	ck_assert_int_eq(sl_store_append(s, buf, 2000, NULL), SL_STORE_OK);
	ck_assert_int_eq(sl_store_commit_start(s), SL_STORE_OK);
	ck_assert_uint_eq(sl_store_committed(s), 0); /* not yet */
	uint32_t seen;
	uint64_t ep;
	sl_store_reader_snapshot(r, &seen, &ep);
	ck_assert_uint_eq(seen, 0);
	while (sl_store_commit_pending(s))
		usleep(100);
	ck_assert_uint_eq(sl_store_committed(s), 0); /* the owner publishes it */
	ck_assert_int_eq(sl_store_commit_finish(s), SL_STORE_OK);
	ck_assert_uint_eq(atomic_load(&n_fdatasync) - f0, 2);
	ck_assert_uint_eq(sl_store_committed(s), 2000);
	sl_store_reader_snapshot(r, &seen, &ep);
	ck_assert_uint_eq(seen, 2000);
	/* a second group: appends on a syncing store go on without it */
	ck_assert_int_eq(sl_store_append(s, buf + 2000 * 80, 500, NULL), SL_STORE_OK);
	ck_assert_int_eq(sl_store_commit_start(s), SL_STORE_OK);
	ck_assert_int_eq(sl_store_append(s, buf + 2500 * 80, 500, NULL), SL_STORE_OK);
	ck_assert_uint_eq(sl_store_committed(s), 2000);
	ck_assert_uint_eq(sl_store_count(s), 3000);
	uint8_t got[80];
	uint32_t hs[] = {1999, 2000, 2499, 2500, 2999}; /* each side of both edges */
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
		ck_assert_int_eq(sl_store_get(s, hs[i], got, NULL), SL_STORE_OK);
		ck_assert_mem_eq(got, buf + (size_t)hs[i] * 80, 80);
	}
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	ck_assert_uint_eq(sl_store_committed(s), 3000);
	sl_sha256d_hdr(buf + 2999 * 80, hash);
	uint32_t at = 0;
	ck_assert_int_eq(sl_store_find(s, hash, &at), 1);
	ck_assert_uint_eq(at, 2999);
	sl_store_stats_t st;
	sl_store_stats(s, &st);
	ck_assert_uint_eq(st.commits, 3);
	ck_assert_uint_eq(st.headers_committed, 3000);
	sl_store_reader_close(r);
	sl_store_close(s);
	sl_store_open_info_t info;
	s = open_store(dir, NULL, NULL, &info);
	ck_assert_uint_eq(info.count, 3000);
	ck_assert_uint_eq(info.bytes_dropped, 0);
	free(buf);
	sl_store_close(s);
	rmstore(dir);
}
END_TEST

/* A group whose sync fails comes back in front of what was appended while
   it synced: nothing is lost or reordered, readers saw none of it, and the
   next commit makes all of it durable (reopen finds every header). */
START_TEST(test_failed_async_group_stays_pending_in_order)
{
	const char *dir = mkstore();
	sl_store_t *s = open_store(dir, NULL, NULL, NULL);
	uint8_t *buf = malloc(3000 * 80), z[32] = {0}, got[80];
	gen_chain(buf, 0, 3000, z, 1, NULL);
	ck_assert_int_eq(sl_store_append(s, buf, 1000, NULL), SL_STORE_OK);
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	ck_assert_int_eq(sl_store_append(s, buf + 1000 * 80, 1000, NULL), SL_STORE_OK);
	atomic_store(&fdatasync_fails, 1);
	ck_assert_int_eq(sl_store_commit_start(s), SL_STORE_OK);
	ck_assert_int_eq(sl_store_append(s, buf + 2000 * 80, 1000, NULL), SL_STORE_OK);
	while (sl_store_commit_pending(s))
		usleep(100);
	ck_assert_int_eq(sl_store_commit_finish(s), SL_STORE_ERR_IO);
	ck_assert_uint_eq(sl_store_committed(s), 1000);
	ck_assert_uint_eq(sl_store_count(s), 3000);
	for (uint32_t h = 0; h < 3000; h += 7) {
		ck_assert_int_eq(sl_store_get(s, h, got, NULL), SL_STORE_OK);
		ck_assert_mem_eq(got, buf + (size_t)h * 80, 80);
	}
	ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
	ck_assert_uint_eq(sl_store_committed(s), 3000);
	sl_store_close(s);
	s = open_store(dir, NULL, NULL, NULL);
	ck_assert_uint_eq(sl_store_committed(s), 3000);
	for (uint32_t h = 0; h < 3000; h += 7) {
		ck_assert_int_eq(sl_store_get(s, h, got, NULL), SL_STORE_OK);
		ck_assert_mem_eq(got, buf + (size_t)h * 80, 80);
	}
	sl_store_close(s);
	free(buf);
	rmstore(dir);
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Commit throughput: 200k headers in groups of 2000, median of 3, against a
   baseline of bare pwrite + fdatasync of the same groups.  Prints figures;
   asserts only correctness. */
START_TEST(test_commit_throughput_report)
{
	const uint32_t N = 200000, G = 2000;
	uint8_t *buf = malloc((size_t)N * 80), z[32] = {0};
	gen_chain(buf, 0, N, z, 1, NULL);
	uint64_t store_ns[3], base_ns[3];
	for (int run = 0; run < 3; run++) {
		const char *dir = mkstore();
		sl_store_t *s = open_store(dir, NULL, NULL, NULL);
		uint64_t t0 = sl_now_ns();
		for (uint32_t g = 0; g < N; g += G) {
			ck_assert_int_eq(sl_store_append(s, buf + (size_t)g * 80, G, NULL),
			                 SL_STORE_OK);
			ck_assert_int_eq(sl_store_commit(s), SL_STORE_OK);
		}
		store_ns[run] = sl_now_ns() - t0;
		ck_assert_uint_eq(sl_store_committed(s), N);
		sl_store_close(s);
		char p[512];
		path_in(p, sizeof(p), dir, "export");
		int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
		t0 = sl_now_ns();
		for (uint32_t g = 0; g < N; g += G) {
			ck_assert_int_eq(
			    pwrite(fd, buf + (size_t)g * 80, (size_t)G * 80, (off_t)g * 80),
			    (ssize_t)G * 80);
			ck_assert_int_eq(fdatasync(fd), 0);
		}
		base_ns[run] = sl_now_ns() - t0;
		close(fd);
		rmstore(dir);
	}
	qsort(store_ns, 3, sizeof(uint64_t), cmp_u64);
	qsort(base_ns, 3, sizeof(uint64_t), cmp_u64);
	double st = (double)N / ((double)store_ns[1] / 1e9);
	double bs = (double)N / ((double)base_ns[1] / 1e9);
	printf("store commit throughput: %.0f headers/s (200k in groups of 2000, median of 3); "
	       "baseline pwrite+fdatasync per group %.0f headers/s; ratio %.2f\n",
	       st, bs, st / bs);
	free(buf);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *neg = tcase_create("negative");
	tcase_add_test(neg, test_open_rejects_bad_args);
	tcase_add_test(neg, test_empty_store_serves_nothing);
	tcase_add_test(neg, test_append_rejects_broken_linkage_all_or_nothing);
	tcase_add_test(neg, test_append_hashed_uses_the_supplied_hashes_for_linkage_and_index);
	tcase_add_test(neg, test_append_beyond_max_headers_is_full);
	suite_add_tcase(s, neg);
	TCase *dur = tcase_create("durability");
	tcase_add_test(dur, test_append_commit_reopen_keeps_everything);
	tcase_add_test(dur, test_reserve_ahead_then_append_and_find);
	tcase_add_test(dur, test_torn_partial_header_is_truncated);
	tcase_add_test(dur, test_garbage_tail_is_truncated);
	tcase_add_test(dur, test_valid_tail_beyond_tip_record_is_dropped);
	tcase_add_test(dur, test_crash_between_data_and_tip_loses_only_that_group);
	tcase_add_test(dur, test_torn_tip_slot_falls_back_to_previous_commit);
	tcase_add_test(dur, test_invalid_header_below_tip_cuts_chain_there);
	tcase_add_test(dur, test_corrupt_header_breaks_linkage_and_moves_epoch);
	suite_add_tcase(s, dur);
	TCase *io = tcase_create("import_export");
	tcase_add_test(io, test_export_of_imported_file_is_byte_identical);
	tcase_add_test(io, test_import_stops_at_first_broken_link_and_commits_prefix);
	tcase_add_test(io, test_import_reports_validator_reason_and_partial_tail);
	tcase_add_test(io, test_import_conflicting_branch_is_refused);
	suite_add_tcase(s, io);
	TCase *rd = tcase_create("reorg_reader");
	tcase_add_test(rd, test_truncate_then_new_branch_is_what_readers_see);
	tcase_add_test(rd, test_find_survives_many_reorgs);
	tcase_add_test(rd, test_read_section_detects_truncation_mid_copy);
	tcase_add_test(rd, test_reader_never_returns_a_mixed_copy_during_reorgs);
	suite_add_tcase(s, rd);
	TCase *gc = tcase_create("group_commit");
	tcase_set_timeout(gc, 120);
	tcase_add_test(gc, test_group_commit_syncs_data_once);
	tcase_add_test(gc, test_async_commit_publishes_at_finish);
	tcase_add_test(gc, test_failed_async_group_stays_pending_in_order);
	tcase_add_test(gc, test_commit_throughput_report);
	suite_add_tcase(s, gc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
