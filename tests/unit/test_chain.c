/* test_chain.c — chain profiles and header validity (SPEC.md §7) against
   real Bitcoin data in $SL_TEST_DATA (tests/data; a missing file fails the
   test), and sluice-chaingen ($SL_CHAINGEN)
   output.  Randomized heights print their seed; SL_TEST_SEED replays. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_chain.h"
#include "sl_sha256d.h"

#define HDR SL_CHAIN_HDR_LEN

static uint32_t seed_get(const char *who)
{
	const char *s = getenv("SL_TEST_SEED");
	uint32_t seed = s ? (uint32_t)strtoul(s, NULL, 0) : (uint32_t)time(NULL);
	printf("chain %s: seed %u (SL_TEST_SEED=%u to replay)\n", who, seed, seed);
	return seed;
}

/* load reads a data file of $SL_TEST_DATA (tests/data) whole; a missing
   file fails the test (the data lives in the tree). */
static uint8_t *load(const char *name, size_t *len)
{
	const char *dir = getenv("SL_TEST_DATA");
	char path[1024];
	FILE *f;
	uint8_t *buf;
	long sz;

	ck_assert_msg(dir != NULL, "SL_TEST_DATA not set (meson sets it to tests/data): %s", name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "test data %s missing", path);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)sz + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	buf[sz] = 0;
	fclose(f);
	*len = (size_t)sz;
	return buf;
}

static uint8_t *load_headers(const char *name, size_t *n)
{
	size_t len = 0;
	uint8_t *b = load(name, &len);
	ck_assert_uint_eq(len % HDR, 0);
	*n = len / HDR;
	return b;
}

static void display_of(const uint8_t *hash, char *out)
{
	sl_chain_hash_display(hash, out);
}

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- reasons, profiles, hex ---------------------------------------------- */

START_TEST(test_err_strings)
{
	ck_assert_str_eq(sl_chain_err_str(SL_CHAIN_OK), "ok");
	ck_assert_str_eq(sl_chain_err_str(SL_CHAIN_ERR_POW), "POW");
	ck_assert_str_eq(sl_chain_err_str(SL_CHAIN_ERR_TIME_MTP), "TIME_MTP");
	ck_assert_str_eq(sl_chain_err_str(SL_CHAIN_ERR_COUNT), "?");
	ck_assert_str_eq(sl_chain_err_desc((sl_chain_err_t)-1), "?");
	for (int i = 1; i < SL_CHAIN_ERR_COUNT; i++) {
		ck_assert_uint_gt(strlen(sl_chain_err_desc((sl_chain_err_t)i)), 5);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(sl_chain_err_str((sl_chain_err_t)i),
			                 sl_chain_err_str((sl_chain_err_t)j));
	}
}
END_TEST

START_TEST(test_profiles_lookup)
{
	ck_assert_ptr_null(sl_chain_profile("bitcoin"));
	ck_assert_ptr_null(sl_chain_profile(""));
	ck_assert_ptr_null(sl_chain_profile(NULL));
	ck_assert_ptr_null(sl_chain_profile_at(3));
	const char *names[] = {"bitcoin-main", "bitcoin-test3", "regtest"};
	for (size_t i = 0; i < 3; i++) {
		const sl_chain_profile_t *p = sl_chain_profile(names[i]);
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_eq(p, sl_chain_profile_at(i));
		ck_assert_str_eq(p->name, names[i]);
		ck_assert_uint_eq(sl_chain_compact_encode(p->pow_limit), p->pow_limit_bits);
		ck_assert_uint_eq(sl_chain_hdr_bits(p->genesis), p->pow_limit_bits);
	}
	ck_assert(sl_chain_profile("regtest")->no_retarget);
	ck_assert(sl_chain_profile("bitcoin-test3")->min_difficulty);
	ck_assert(!sl_chain_profile("bitcoin-main")->min_difficulty);
}
END_TEST

START_TEST(test_genesis_matches_profile_and_data)
{
	for (size_t i = 0; sl_chain_profile_at(i) != NULL; i++) {
		const sl_chain_profile_t *p = sl_chain_profile_at(i);
		uint8_t h[32];
		char d[SL_CHAIN_DISPLAY_LEN];
		sl_sha256d_hdr(p->genesis, h);
		display_of(h, d);
		ck_assert_str_eq(d, p->genesis_display);
	}
	const char *files[][2] = {{"bitcoin-main-0-9999.headers", "bitcoin-main"},
	                          {"bitcoin-test3-0-9999.headers", "bitcoin-test3"}};
	for (size_t i = 0; i < 2; i++) {
		size_t n;
		uint8_t *b = load_headers(files[i][0], &n);
		ck_assert_mem_eq(b, sl_chain_profile(files[i][1])->genesis, HDR);
		free(b);
	}
}
END_TEST

START_TEST(test_display_hex_roundtrip_and_rejects)
{
	const char *g = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
	uint8_t h[32];
	char d[SL_CHAIN_DISPLAY_LEN];

	ck_assert_int_eq(sl_chain_hash_from_display(g, h), 0);
	ck_assert_uint_eq(h[31], 0x00);
	ck_assert_uint_eq(h[0], 0x6f);
	display_of(h, d);
	ck_assert_str_eq(d, g);
	ck_assert_int_eq(sl_chain_hash_from_display("00", h), -1);
	ck_assert_int_eq(sl_chain_hash_from_display(NULL, h), -1);
	ck_assert_int_eq(sl_chain_hash_from_display(
	                     "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26g", h),
	                 -1);
	ck_assert_int_eq(
	    sl_chain_hash_from_display(
	        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f0", h),
	    -1);
}
END_TEST

/* ---- compact targets ----------------------------------------------------- */

/* target_hex gives the big-endian target as 64 hex digits. */
static void target_hex(const uint8_t t[32], char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", t[i]);
}

START_TEST(test_compact_vectors)
{
	/* Bitcoin Core's arith_uint256 SetCompact/GetCompact vectors. */
	static const struct {
		uint32_t bits;
		const char *target; /* trailing part of 64 hex digits */
		uint32_t back;
	} v[] = {
	    {0x01123456, "12", 0x01120000},
	    {0x02123456, "1234", 0x02123400},
	    {0x03123456, "123456", 0x03123456},
	    {0x04123456, "12345600", 0x04123456},
	    {0x05009234, "92340000", 0x05009234},
	    {0x1d00ffff, "ffff0000000000000000000000000000000000000000000000000000", 0x1d00ffff},
	    {0x20123456, "1234560000000000000000000000000000000000000000000000000000000000",
	     0x20123456},
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(v); i++) {
		uint8_t t[32];
		char hex[65], want[65];
		ck_assert_int_eq(sl_chain_compact_decode(v[i].bits, t), SL_CHAIN_OK);
		target_hex(t, hex);
		memset(want, '0', 64);
		want[64] = 0;
		memcpy(want + 64 - strlen(v[i].target), v[i].target, strlen(v[i].target));
		ck_assert_str_eq(hex, want);
		ck_assert_uint_eq(sl_chain_compact_encode(t), v[i].back);
	}
	/* 0x22000001 = 2^248: size 34 is still in range for a 1-byte word. */
	uint8_t t[32];
	ck_assert_int_eq(sl_chain_compact_decode(0x22000001, t), SL_CHAIN_OK);
	ck_assert_uint_eq(t[0], 0x01);
	ck_assert_uint_eq(sl_chain_compact_encode(t), 0x20010000);
	memset(t, 0, 32);
	ck_assert_uint_eq(sl_chain_compact_encode(t), 0);
	t[31] = 0x80; /* 0x80 needs a sign byte: size grows */
	ck_assert_uint_eq(sl_chain_compact_encode(t), 0x02008000);
}
END_TEST

START_TEST(test_compact_range_errors)
{
	uint8_t t[32];
	static const uint32_t bad[] = {
	    0x04923456, /* negative */
	    0x01fedcba, /* negative after the size shift */
	    0x00000000, /* zero */
	    0x00123456, /* size 0: shifts to zero */
	    0x01003456, /* zero */
	    0x23000001, /* size 35 */
	    0x22000100, /* 2-byte word at size 34 */
	    0x21010000, /* 3-byte word at size 33 */
	    0xff123456, /* overflow */
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++)
		ck_assert_msg(sl_chain_compact_decode(bad[i], t) == SL_CHAIN_ERR_TARGET_RANGE,
		              "0x%08x", bad[i]);
	/* the largest in-range forms decode */
	ck_assert_int_eq(sl_chain_compact_decode(0x2100ffff, t), SL_CHAIN_OK);
	ck_assert_int_eq(sl_chain_compact_decode(0x207fffff, t), SL_CHAIN_OK);
}
END_TEST

START_TEST(test_compact_roundtrip_random)
{
	uint32_t seed = seed_get("compact");
	srand(seed);
	for (int n = 0; n < 5000; n++) {
		uint8_t t[32] = {0}, d[32];
		int lead = rand() % 32;
		for (int i = lead; i < 32; i++)
			t[i] = (uint8_t)rand();
		uint32_t c = sl_chain_compact_encode(t);
		if (c == 0)
			continue;
		ck_assert_msg(sl_chain_compact_decode(c, d) == SL_CHAIN_OK, "seed %u", seed);
		ck_assert_msg(memcmp(d, t, 32) <= 0, "decoded above original, seed %u", seed);
		ck_assert_msg(sl_chain_compact_encode(d) == c, "seed %u", seed);
		ck_assert_msg((c & 0x00800000) == 0, "sign bit set, seed %u", seed);
	}
}
END_TEST

START_TEST(test_hash_meets_boundary)
{
	uint8_t t[32], h[32];

	ck_assert_int_eq(sl_chain_compact_decode(0x1d00ffff, t), SL_CHAIN_OK);
	memset(h, 0, 32);
	h[27] = 0xff; /* little-endian: bytes 26,27 are the ffff at 2^208 */
	h[26] = 0xff;
	ck_assert(sl_chain_hash_meets(h, t)); /* equal */
	h[0] = 1;
	ck_assert(!sl_chain_hash_meets(h, t)); /* one above */
	h[0] = 0;
	h[25] = 0xff;
	ck_assert(!sl_chain_hash_meets(h, t));
	h[25] = 0;
	h[26] = 0xfe;
	h[25] = 0xff;
	ck_assert(sl_chain_hash_meets(h, t));
}
END_TEST

/* ---- work ---------------------------------------------------------------- */

static uint64_t be_low64(const uint8_t w[32])
{
	uint64_t v = 0;
	for (int i = 24; i < 32; i++)
		v = v << 8 | w[i];
	for (int i = 0; i < 24; i++)
		ck_assert_uint_eq(w[i], 0);
	return v;
}

START_TEST(test_work_values)
{
	uint8_t w[32], acc[32] = {0};

	sl_chain_work(0x1d00ffff, w);
	ck_assert_uint_eq(be_low64(w), 0x100010001ULL);
	sl_chain_work(0x207fffff, w);
	ck_assert_uint_eq(be_low64(w), 2); /* regtest genesis chainwork */
	sl_chain_work(0x04923456, w);
	ck_assert_uint_eq(be_low64(w), 0);
	sl_chain_work(0, w);
	ck_assert_uint_eq(be_low64(w), 0);
	sl_chain_work(0x03000001, w); /* target 1: 2^255 */
	ck_assert_uint_eq(w[0], 0x80);
	sl_chain_work(0x170371b1, w); /* harder target, more work */
	uint8_t easy[32];
	sl_chain_work(0x1d00ffff, easy);
	ck_assert_int_gt(sl_chain_work_cmp(w, easy), 0);
	/* carries across bytes */
	memset(acc + 24, 0xff, 8);
	uint8_t one[32] = {0};
	one[31] = 1;
	sl_chain_work_add(acc, one);
	ck_assert_uint_eq(acc[23], 1);
	ck_assert_uint_eq(acc[31], 0);
	ck_assert_int_eq(sl_chain_work_cmp(acc, acc), 0);
	/* against a byte-at-a-time reference: carries within and across the
	   64-bit words, and off the top */
	uint32_t x = 12345;
	for (int n = 0; n < 2000; n++) {
		uint8_t a[32], b[32], want[32];
		for (int i = 0; i < 32; i++) {
			x = x * 1103515245u + 12345u;
			a[i] = (uint8_t)(x >> 16);
			x = x * 1103515245u + 12345u;
			b[i] = n % 3 == 0 ? (uint8_t)(0xff - a[i] + (i == 31)) : (uint8_t)(x >> 16);
		}
		unsigned carry = 0;
		for (int i = 31; i >= 0; i--) {
			unsigned s = (unsigned)a[i] + b[i] + carry;
			want[i] = (uint8_t)s;
			carry = s >> 8;
		}
		sl_chain_work_add(a, b);
		ck_assert_mem_eq(a, want, 32);
	}
}
END_TEST

/* ---- context-free pow and retarget -------------------------------------- */

START_TEST(test_check_pow_context_free)
{
	const sl_chain_profile_t *p = sl_chain_profile("bitcoin-main");
	uint8_t hdr[80], h[32];

	memcpy(hdr, p->genesis, 80);
	sl_sha256d_hdr(hdr, h);
	ck_assert_int_eq(sl_chain_check_pow(p, hdr, h), SL_CHAIN_OK);
	hdr[76] ^= 1;
	sl_sha256d_hdr(hdr, h);
	ck_assert_int_eq(sl_chain_check_pow(p, hdr, h), SL_CHAIN_ERR_POW);
	memcpy(hdr, p->genesis, 80);
	hdr[74] = 0x01; /* 0x1d01ffff: above the pow limit */
	sl_sha256d_hdr(hdr, h);
	ck_assert_int_eq(sl_chain_check_pow(p, hdr, h), SL_CHAIN_ERR_TARGET_RANGE);
	hdr[74] = 0x80; /* negative */
	ck_assert_int_eq(sl_chain_check_pow(p, hdr, h), SL_CHAIN_ERR_TARGET_RANGE);
	/* regtest's limit is looser: mainnet genesis passes regtest's range */
	memcpy(hdr, p->genesis, 80);
	sl_sha256d_hdr(hdr, h);
	ck_assert_int_eq(sl_chain_check_pow(sl_chain_profile("regtest"), hdr, h), SL_CHAIN_OK);
	/* the same bits judged under each profile's own limit, whichever
	   asked last (the decoded target is remembered per profile and bits) */
	hdr[74] = 0x01; /* 0x1d01ffff: within regtest's limit, above mainnet's */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(sl_chain_check_pow(p, hdr, h), SL_CHAIN_ERR_TARGET_RANGE);
		ck_assert_int_ne(sl_chain_check_pow(sl_chain_profile("regtest"), hdr, h),
		                 SL_CHAIN_ERR_TARGET_RANGE);
	}
}
END_TEST

START_TEST(test_retarget_clamps_and_limit)
{
	const sl_chain_profile_t *p = sl_chain_profile("bitcoin-main");
	uint32_t ts = p->timespan;

	/* on schedule: unchanged */
	ck_assert_uint_eq(sl_chain_retarget(p, 0x1c3fffc0, 1000, 1000 + ts), 0x1c3fffc0);
	/* slower than 4x: clamped at 4x, then capped at the limit */
	ck_assert_uint_eq(sl_chain_retarget(p, 0x1d00ffff, 0, 100 * ts), 0x1d00ffff);
	ck_assert_uint_eq(sl_chain_retarget(p, 0x1c3fffc0, 0, 100 * ts), 0x1d00ffff);
	/* faster than 4x (even time going backwards): clamped at /4 */
	ck_assert_uint_eq(sl_chain_retarget(p, 0x1d00ffff, 5000, 5000), 0x1c3fffc0);
	ck_assert_uint_eq(sl_chain_retarget(p, 0x1d00ffff, 5000, 10), 0x1c3fffc0);
	ck_assert_uint_eq(sl_chain_retarget(p, 0x1d00ffff, 0, ts / 4), 0x1c3fffc0);
	/* just inside the clamp differs from the clamp */
	ck_assert_uint_ne(sl_chain_retarget(p, 0x1d00ffff, 0, ts / 4 + 600), 0x1c3fffc0);
	ck_assert_uint_eq(sl_chain_retarget(p, 0x1c3fffc0, 0, 4 * ts), 0x1d00ffff);
	ck_assert_uint_eq(sl_chain_retarget(p, 0x1c3fffc0, 0, 2 * ts), 0x1c7fff80);
}
END_TEST

/* ---- whole files --------------------------------------------------------- */

START_TEST(test_main_0_9999_validates_to_tip)
{
	size_t n, done;
	uint8_t *b = load_headers("bitcoin-main-0-9999.headers", &n);
	sl_chain_ctx_t c;
	char d[SL_CHAIN_DISPLAY_LEN];

	ck_assert_uint_eq(n, 10000);
	sl_chain_ctx_init(&c, sl_chain_profile("bitcoin-main"));
	ck_assert_int_eq(sl_chain_ctx_run(&c, b + HDR, n - 1, now_s(), &done), SL_CHAIN_OK);
	ck_assert_uint_eq(done, 9999);
	ck_assert_uint_eq(c.height, 9999);
	display_of(c.tip_hash, d);
	ck_assert_str_eq(d, "00000000fbc97cc6c599ce9c24dd4a2243e2bfd518eda56e1d5e47d29e29c3a7");
	ck_assert_uint_eq(c.tip_bits, 0x1d00ffff);
	ck_assert_uint_eq(be_low64(c.chainwork), 10000ULL * 0x100010001ULL);
	free(b);
}
END_TEST

/* check_hashed judges the caller's hash and never hashes: a true hash
   validates the file without one SHA-256d; a hash above the target is
   POW; the accepted hash is the tip the next header must link to, so a
   wrong one is LINK at the next header. */
START_TEST(test_check_hashed_judges_the_supplied_hash)
{
	size_t n;
	uint8_t *b = load_headers("bitcoin-main-0-9999.headers", &n);
	uint8_t *hs = malloc(n * 32), bad[32];
	sl_chain_ctx_t c, c2;

	sl_sha256d_hdrs(b, (uint32_t)n, hs);
	sl_chain_ctx_init(&c, sl_chain_profile("bitcoin-main"));
	uint64_t c0 = sl_sha256d_hdr_calls();
	for (size_t h = 1; h < 5000; h++)
		ck_assert_int_eq(sl_chain_ctx_next_hashed(&c, b + h * HDR, hs + h * 32, now_s()),
		                 SL_CHAIN_OK);
	ck_assert_uint_eq(sl_sha256d_hdr_calls() - c0, 0);
	ck_assert_mem_eq(c.tip_hash, hs + 4999 * 32, 32);
	memset(bad, 0xff, sizeof(bad));
	ck_assert_int_eq(sl_chain_ctx_check_hashed(&c, b + 5000 * HDR, bad, now_s()),
	                 SL_CHAIN_ERR_POW);
	memcpy(bad, hs + 5000 * 32, 32);
	bad[0] ^= 0x01; /* still meets the target: taken as the header's hash */
	c2 = c;
	ck_assert_int_eq(sl_chain_ctx_next_hashed(&c2, b + 5000 * HDR, bad, now_s()), SL_CHAIN_OK);
	ck_assert_int_eq(sl_chain_ctx_check_hashed(&c2, b + 5001 * HDR, hs + 5001 * 32, now_s()),
	                 SL_CHAIN_ERR_LINK);
	free(hs);
	free(b);
}
END_TEST

START_TEST(test_test3_0_9999_validates_to_tip)
{
	size_t n;
	uint8_t *b = load_headers("bitcoin-test3-0-9999.headers", &n);
	const sl_chain_profile_t *p = sl_chain_profile("bitcoin-test3");
	sl_chain_ctx_t c;
	char d[SL_CHAIN_DISPLAY_LEN];
	uint32_t rule20 = 0;

	ck_assert_uint_eq(n, 10000);
	sl_chain_ctx_init(&c, p);
	for (size_t i = 1; i < n; i++) {
		const uint8_t *h = b + i * HDR;
		uint8_t hash[32];
		/* the 20-minute rule changed the outcome: min difficulty where the
		   normal rule asks for more */
		if (i % p->interval != 0 && sl_chain_hdr_time(h) > c.tip_time + 1200 &&
		    c.last_nonmin_bits != p->pow_limit_bits) {
			rule20++;
			ck_assert_uint_eq(sl_chain_hdr_bits(h), p->pow_limit_bits);
		}
		sl_chain_err_t e = sl_chain_ctx_next(&c, h, now_s(), hash);
		ck_assert_msg(e == SL_CHAIN_OK, "height %zu: %s", i, sl_chain_err_str(e));
	}
	display_of(c.tip_hash, d);
	ck_assert_str_eq(d, "000000001655e2a7293f28383a2965b2f0add77fd6ac383986e90971a07467d4");
	ck_assert_uint_eq(sl_chain_hdr_bits(b + 4032 * HDR), 0x1c3fffc0);
	/* the 4032 retarget is the 4x clamp: the period took < timespan / 4 */
	uint32_t span = sl_chain_hdr_time(b + 4031 * HDR) - sl_chain_hdr_time(b + 2016 * HDR);
	ck_assert_uint_lt(span, p->timespan / 4);
	ck_assert_uint_eq(rule20, 177);
	free(b);
}
END_TEST

START_TEST(test_retarget_boundaries_file)
{
	size_t len;
	char *txt = (char *)load("bitcoin-main-retarget-boundaries.txt", &len);
	const sl_chain_profile_t *p = sl_chain_profile("bitcoin-main");
	enum { KMAX = 1000 };
	static uint8_t at_start[KMAX][80], at_last[KMAX][80];
	static bool have_start[KMAX], have_last[KMAX];
	uint32_t checked = 0, clamped = 0, clamp_height = 0, changed = 0;

	memset(have_start, 0, sizeof(have_start));
	memset(have_last, 0, sizeof(have_last));
	for (char *line = strtok(txt, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		unsigned height;
		char hex[161];
		uint8_t h[80];
		ck_assert_int_eq(sscanf(line, "%u %160s", &height, hex), 2);
		ck_assert_uint_eq(strlen(hex), 160);
		for (int i = 0; i < 80; i++) {
			unsigned x;
			ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &x), 1);
			h[i] = (uint8_t)x;
		}
		if (height % 2016 == 0) {
			ck_assert_uint_lt(height / 2016, KMAX);
			memcpy(at_start[height / 2016], h, 80);
			have_start[height / 2016] = true;
		} else {
			ck_assert_uint_eq(height % 2016, 2015);
			memcpy(at_last[height / 2016], h, 80);
			have_last[height / 2016] = true;
		}
	}
	for (uint32_t k = 1; k < KMAX; k++) {
		if (!have_start[k])
			continue;
		ck_assert(have_start[k - 1] && have_last[k - 1]);
		const uint8_t *first = at_start[k - 1], *last = at_last[k - 1], *now = at_start[k];
		uint8_t hl[32], hn[32];
		int64_t actual = (int64_t)sl_chain_hdr_time(last) - sl_chain_hdr_time(first);
		uint32_t want = sl_chain_retarget(
		    p, sl_chain_hdr_bits(last), sl_chain_hdr_time(first), sl_chain_hdr_time(last));
		ck_assert_msg(want == sl_chain_hdr_bits(now),
		              "height %u: computed 0x%08x file 0x%08x", k * 2016, want,
		              sl_chain_hdr_bits(now));
		/* the boundary header links to its parent and meets its target */
		sl_sha256d_hdr(last, hl);
		sl_sha256d_hdr(now, hn);
		ck_assert_mem_eq(sl_chain_hdr_prev(now), hl, 32);
		ck_assert_int_eq(sl_chain_check_pow(p, now, hn), SL_CHAIN_OK);
		/* a validator with only the parent cannot judge the MTP: CONTEXT */
		sl_chain_ctx_t c;
		uint8_t hash[32];
		sl_chain_ctx_init_at(&c, p, k * 2016 - 1, last);
		sl_chain_ctx_set_period_start(&c, sl_chain_hdr_time(first));
		ck_assert_int_eq(sl_chain_ctx_check(&c, now, now_s(), hash), SL_CHAIN_ERR_CONTEXT);
		sl_chain_err_t e;
		ck_assert_uint_eq(sl_chain_ctx_next_bits(&c, sl_chain_hdr_time(now), &e), want);
		ck_assert_int_eq(e, SL_CHAIN_OK);
		if (actual < p->timespan / 4 || actual > 4 * (int64_t)p->timespan) {
			clamped++;
			clamp_height = k * 2016;
		}
		changed += sl_chain_hdr_bits(now) != sl_chain_hdr_bits(last);
		checked++;
	}
	printf("chain boundaries: %u retargets checked, %u changed bits, %u clamped\n", checked,
	       changed, clamped);
	ck_assert_uint_eq(checked, 413);
	ck_assert_uint_eq(clamped, 1);
	ck_assert_uint_eq(clamp_height, 68544);
	ck_assert_uint_gt(changed, 350);
	free(txt);
}
END_TEST

/* boundary_time finds the time of header `height` (a multiple of 2016) in
   the retarget-boundaries file; false when absent. */
static bool boundary_time(uint32_t height, uint32_t *t)
{
	size_t len;
	char *txt = (char *)load("bitcoin-main-retarget-boundaries.txt", &len);
	char key[32];
	bool found = false;

	snprintf(key, sizeof(key), "\n%u ", height);
	char *at = strstr(txt, key);
	if (at != NULL) {
		uint8_t h[80];
		const char *hex = at + strlen(key);
		for (int i = 0; i < 80; i++) {
			unsigned x;
			ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &x), 1);
			h[i] = (uint8_t)x;
		}
		*t = sl_chain_hdr_time(h);
		found = true;
	}
	free(txt);
	return found;
}

/* validate_from_checkpoint seeds a validator with the file's first 11
   headers (trusted) and the period start's time from the boundaries file,
   and validates the rest. */
static void validate_from_checkpoint(const char *file, uint32_t first_height, const char *tip,
                                     uint32_t *retargets, sl_chain_ctx_t *c)
{
	size_t n, done;
	uint8_t *b = load_headers(file, &n);
	const sl_chain_profile_t *p = sl_chain_profile("bitcoin-main");
	char d[SL_CHAIN_DISPLAY_LEN];

	*retargets = 0;
	sl_chain_ctx_init_at(c, p, first_height, b);
	for (size_t i = 1; i < 11; i++)
		sl_chain_ctx_push_trusted(c, b + i * HDR);
	uint32_t start_time;
	if (first_height % 2016 != 0 &&
	    boundary_time(first_height - first_height % 2016, &start_time))
		sl_chain_ctx_set_period_start(c, start_time);
	for (size_t i = 11; i < n; i++) {
		uint32_t h = first_height + (uint32_t)i;
		if (h % 2016 == 0 && sl_chain_hdr_bits(b + i * HDR) != c->tip_bits)
			(*retargets)++;
		sl_chain_err_t e = sl_chain_ctx_run(c, b + i * HDR, 1, now_s(), &done);
		ck_assert_msg(e == SL_CHAIN_OK, "height %u: %s", h, sl_chain_err_str(e));
	}
	ck_assert_uint_eq(c->height, first_height + n - 1);
	if (tip != NULL) {
		display_of(c->tip_hash, d);
		ck_assert_str_eq(d, tip);
	}
	free(b);
}

START_TEST(test_main_30000_39999_validates)
{
	sl_chain_ctx_t c = {0};
	uint32_t r;

	validate_from_checkpoint("bitcoin-main-30000-39999.headers", 30000, NULL, &r, &c);
	ck_assert_uint_eq(c.height, 39999);
	ck_assert_uint_eq(r, 4); /* 32256, 34272, 36288, 38304 */
	size_t n;
	uint8_t *b = load_headers("bitcoin-main-30000-39999.headers", &n);
	ck_assert_uint_eq(sl_chain_hdr_bits(b + (32256 - 30000) * HDR), 0x1d00d86a);
	free(b);
}
END_TEST

START_TEST(test_main_822528_830592_validates)
{
	sl_chain_ctx_t c = {0};
	uint32_t r;

	validate_from_checkpoint("bitcoin-main-822528-830592.headers", 822528,
	                         "00000000000000000000506183a8b30fa3224b85e82a70416e1d594bdb632fdb",
	                         &r, &c);
	ck_assert_uint_eq(r, 4);
	ck_assert_uint_eq(c.tip_bits, 0x170371b1);
}
END_TEST

/* ---- mutations rejected at their exact height ---------------------------- */

typedef int64_t (*mutate_fn)(uint8_t *hdr, const sl_chain_ctx_t *c);

static int64_t mut_nonce(uint8_t *hdr, const sl_chain_ctx_t *c)
{
	(void)c;
	hdr[76] ^= 0x10;
	return now_s();
}

static int64_t mut_bits(uint8_t *hdr, const sl_chain_ctx_t *c)
{
	(void)c;
	hdr[72] ^= 0x01; /* 0x1d00ffff -> 0x1d00fffe: harder, still in range */
	return now_s();
}

static int64_t mut_prev(uint8_t *hdr, const sl_chain_ctx_t *c)
{
	(void)c;
	hdr[4 + 31] ^= 0x80;
	return now_s();
}

static void set_time(uint8_t *hdr, uint32_t t)
{
	hdr[68] = (uint8_t)t;
	hdr[69] = (uint8_t)(t >> 8);
	hdr[70] = (uint8_t)(t >> 16);
	hdr[71] = (uint8_t)(t >> 24);
}

/* median_before computes the MTP of header hdr's parent straight from the
   file (independently of the validator): the median of up to 11 times. */
static uint32_t median_before(const uint8_t *hdr, const uint8_t *file_start)
{
	uint32_t v[11], n = 0;
	for (const uint8_t *q = hdr - HDR; q >= file_start && n < 11; q -= HDR)
		v[n++] = sl_chain_hdr_time(q);
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++)
			if (v[j] < v[i]) {
				uint32_t t = v[i];
				v[i] = v[j];
				v[j] = t;
			}
	return v[n / 2];
}

static const uint8_t *mut_file_start;

static int64_t mut_time_mtp(uint8_t *hdr, const sl_chain_ctx_t *c)
{
	uint32_t mtp = median_before(hdr, mut_file_start);
	ck_assert_uint_eq(sl_chain_ctx_mtp(c), mtp);
	set_time(hdr, mtp); /* equal to the MTP is too old */
	return now_s();
}

static int64_t mut_time_above_mtp(uint8_t *hdr, const sl_chain_ctx_t *c)
{
	(void)c;
	set_time(hdr, median_before(hdr, mut_file_start) + 1); /* time rule passes */
	return now_s();
}

static int64_t mut_time_future(uint8_t *hdr, const sl_chain_ctx_t *c)
{
	(void)c;
	int64_t now = sl_chain_hdr_time(hdr); /* the clock as it was then */
	set_time(hdr, (uint32_t)(now + SL_CHAIN_MAX_FUTURE_S + 1));
	return now;
}

/* expect_reject mutates header h of a file from genesis and checks that
   everything below h validates and h fails with exactly `want`. */
static void expect_reject(const char *file, const char *profile, uint32_t h, mutate_fn mut,
                          sl_chain_err_t want)
{
	size_t n, done;
	uint8_t *b = load_headers(file, &n);
	sl_chain_ctx_t c;

	ck_assert_uint_lt(h, n);
	sl_chain_ctx_init(&c, sl_chain_profile(profile));
	ck_assert_int_eq(sl_chain_ctx_run(&c, b + HDR, h - 1, now_s(), &done), SL_CHAIN_OK);
	ck_assert_uint_eq(done, h - 1);
	mut_file_start = b;
	int64_t now = mut(b + (size_t)h * HDR, &c);
	sl_chain_err_t e = sl_chain_ctx_run(&c, b + (size_t)h * HDR, n - h, now, &done);
	ck_assert_msg(e == want, "%s height %u: got %s want %s", file, h, sl_chain_err_str(e),
	              sl_chain_err_str(want));
	ck_assert_uint_eq(done, 0);
	ck_assert_uint_eq(c.height + 1, h);
	free(b);
}

static uint32_t pick_height(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return 1 + (*seed >> 8) % 9998;
}

START_TEST(test_flipped_nonce_is_pow)
{
	uint32_t s = seed_get("nonce");
	for (int i = 0; i < 3; i++) {
		expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", pick_height(&s),
		              mut_nonce, SL_CHAIN_ERR_POW);
		expect_reject("bitcoin-test3-0-9999.headers", "bitcoin-test3", pick_height(&s),
		              mut_nonce, SL_CHAIN_ERR_POW);
	}
	expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", 1, mut_nonce,
	              SL_CHAIN_ERR_POW);
	expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", 9999, mut_nonce,
	              SL_CHAIN_ERR_POW);
}
END_TEST

START_TEST(test_wrong_bits_is_bits)
{
	uint32_t s = seed_get("bits");
	for (int i = 0; i < 3; i++)
		expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", pick_height(&s),
		              mut_bits, SL_CHAIN_ERR_BITS);
	expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", 2016, mut_bits,
	              SL_CHAIN_ERR_BITS);
}
END_TEST

START_TEST(test_broken_prev_is_link)
{
	uint32_t s = seed_get("link");
	for (int i = 0; i < 3; i++) {
		expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", pick_height(&s),
		              mut_prev, SL_CHAIN_ERR_LINK);
		expect_reject("bitcoin-test3-0-9999.headers", "bitcoin-test3", pick_height(&s),
		              mut_prev, SL_CHAIN_ERR_LINK);
	}
}
END_TEST

START_TEST(test_time_at_mtp_is_time_mtp)
{
	uint32_t s = seed_get("mtp");
	for (int i = 0; i < 3; i++)
		expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", pick_height(&s),
		              mut_time_mtp, SL_CHAIN_ERR_TIME_MTP);
	expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", 1, mut_time_mtp,
	              SL_CHAIN_ERR_TIME_MTP); /* one second later the time rule passes; the changed
	                                         hash fails PoW */
	for (int i = 0; i < 3; i++)
		expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", pick_height(&s),
		              mut_time_above_mtp, SL_CHAIN_ERR_POW);
}
END_TEST

START_TEST(test_time_past_2h_is_time_future)
{
	uint32_t s = seed_get("future");
	for (int i = 0; i < 3; i++)
		expect_reject("bitcoin-main-0-9999.headers", "bitcoin-main", pick_height(&s),
		              mut_time_future, SL_CHAIN_ERR_TIME_FUTURE);
}
END_TEST

START_TEST(test_time_exactly_2h_ahead_is_not_future)
{
	const sl_chain_profile_t *p = sl_chain_profile("regtest");
	sl_chain_ctx_t c;
	uint8_t hdr[80], hash[32];
	int64_t now = 1700000000;

	sl_chain_ctx_init(&c, p);
	memset(hdr, 0, sizeof(hdr));
	hdr[0] = 0x04;
	memcpy(hdr + 4, c.tip_hash, 32);
	memcpy(hdr + 72, p->genesis + 72, 4);
	set_time(hdr, (uint32_t)(now + SL_CHAIN_MAX_FUTURE_S));
	ck_assert_uint_gt(sl_chain_mine(hdr, 1000000, hash), 0);
	ck_assert_int_eq(sl_chain_ctx_check(&c, hdr, now, hash), SL_CHAIN_OK);
	ck_assert_int_eq(sl_chain_ctx_check(&c, hdr, now - 1, hash), SL_CHAIN_ERR_TIME_FUTURE);
}
END_TEST

START_TEST(test_test3_min_difficulty_misuse_is_bits)
{
	size_t n;
	uint8_t *b = load_headers("bitcoin-test3-0-9999.headers", &n);
	const sl_chain_profile_t *p = sl_chain_profile("bitcoin-test3");
	sl_chain_ctx_t c;
	uint8_t hash[32], hdr[80];
	uint32_t tried_min = 0, tried_normal = 0;

	sl_chain_ctx_init(&c, p);
	for (size_t i = 1; i < n; i++) {
		const uint8_t *h = b + i * HDR;
		if (i > 4032 && i % 2016 != 0) {
			memcpy(hdr, h, 80);
			if (sl_chain_hdr_time(h) <= c.tip_time + 1200 && tried_normal < 20) {
				hdr[72] = 0xff, hdr[73] = 0xff, hdr[74] = 0x00, hdr[75] = 0x1d;
				ck_assert_int_eq(sl_chain_ctx_check(&c, hdr, now_s(), hash),
				                 SL_CHAIN_ERR_BITS);
				tried_normal++;
			} else if (sl_chain_hdr_time(h) > c.tip_time + 1200) {
				memcpy(hdr + 72, &c.last_nonmin_bits, 4);
				ck_assert_int_eq(sl_chain_ctx_check(&c, hdr, now_s(), hash),
				                 SL_CHAIN_ERR_BITS);
				tried_min++;
			}
		}
		ck_assert_int_eq(sl_chain_ctx_next(&c, h, now_s(), hash), SL_CHAIN_OK);
	}
	ck_assert_uint_eq(tried_normal, 20);
	ck_assert_uint_gt(tried_min, 100);
	free(b);
}
END_TEST

/* mine_regtest appends n-1 mined headers after the regtest genesis. */
static void mine_regtest(uint8_t *out, size_t n, int32_t version)
{
	const sl_chain_profile_t *p = sl_chain_profile("regtest");
	uint8_t hash[32];

	memcpy(out, p->genesis, 80);
	sl_sha256d_hdr(out, hash);
	for (size_t i = 1; i < n; i++) {
		uint8_t *h = out + i * HDR;
		uint32_t t = sl_chain_hdr_time(p->genesis) + (uint32_t)i;
		memset(h, 0, 80);
		memcpy(h, &version, 4);
		memcpy(h + 4, hash, 32);
		memcpy(h + 36, &i, sizeof(i));
		set_time(h, t);
		memcpy(h + 72, p->genesis + 72, 4);
		ck_assert_uint_gt(sl_chain_mine(h, 1u << 20, hash), 0);
	}
}

START_TEST(test_version_too_old_is_version)
{
	uint8_t buf[3 * 80];
	sl_chain_ctx_t c;
	size_t done;

	mine_regtest(buf, 3, 1);
	sl_chain_ctx_init(&c, sl_chain_profile("regtest"));
	ck_assert_int_eq(sl_chain_ctx_run(&c, buf + HDR, 2, now_s(), &done), SL_CHAIN_ERR_VERSION);
	ck_assert_uint_eq(done, 0);
	mine_regtest(buf, 3, 2); /* BIP66 needs 3 */
	ck_assert_int_eq(sl_chain_ctx_run(&c, buf + HDR, 2, now_s(), &done), SL_CHAIN_ERR_VERSION);
	mine_regtest(buf, 3, 3); /* BIP65 needs 4 */
	ck_assert_int_eq(sl_chain_ctx_run(&c, buf + HDR, 2, now_s(), &done), SL_CHAIN_ERR_VERSION);
	mine_regtest(buf, 3, -1); /* signed: 0xffffffff is below 4 */
	ck_assert_int_eq(sl_chain_ctx_run(&c, buf + HDR, 2, now_s(), &done), SL_CHAIN_ERR_VERSION);
	mine_regtest(buf, 3, 4);
	ck_assert_int_eq(sl_chain_ctx_run(&c, buf + HDR, 2, now_s(), &done), SL_CHAIN_OK);
	ck_assert_uint_eq(done, 2);
}
END_TEST

START_TEST(test_mine_refuses_bad_bits_and_budget)
{
	uint8_t hdr[80] = {0}, hash[32];

	memcpy(hdr + 72, "\x56\x34\x92\x04", 4); /* 0x04923456 negative */
	ck_assert_uint_eq(sl_chain_mine(hdr, 100, hash), 0);
	memcpy(hdr + 72, "\xff\xff\x00\x1d", 4); /* mainnet difficulty: not in 10 tries */
	ck_assert_uint_eq(sl_chain_mine(hdr, 10, hash), 0);
}
END_TEST

/* ---- context ------------------------------------------------------------- */

START_TEST(test_checkpoint_without_history_needs_context)
{
	size_t n, done;
	uint8_t *b = load_headers("bitcoin-main-822528-830592.headers", &n);
	const sl_chain_profile_t *p = sl_chain_profile("bitcoin-main");
	sl_chain_ctx_t c;
	uint8_t hash[32];

	/* start one past the period start: its time is unknown */
	sl_chain_ctx_init_at(&c, p, 822529, b + HDR);
	ck_assert(!sl_chain_ctx_mtp_known(&c));
	ck_assert_int_eq(sl_chain_ctx_check(&c, b + 2 * HDR, now_s(), hash), SL_CHAIN_ERR_CONTEXT);
	for (size_t i = 2; i < 12; i++)
		sl_chain_ctx_push_trusted(&c, b + i * HDR);
	ck_assert(sl_chain_ctx_mtp_known(&c));
	ck_assert_int_eq(sl_chain_ctx_run(&c, b + 12 * HDR, n - 12, now_s(), &done),
	                 SL_CHAIN_ERR_CONTEXT);
	ck_assert_uint_eq(c.height + 1, 822528 + 2016); /* stops at the boundary */
	sl_chain_ctx_set_period_start(&c, sl_chain_hdr_time(b));
	size_t at = 2016;
	ck_assert_int_eq(sl_chain_ctx_run(&c, b + at * HDR, n - at, now_s(), &done), SL_CHAIN_OK);
	ck_assert_uint_eq(c.height, 830592);
	free(b);
}
END_TEST

START_TEST(test_test3_unknown_last_bits_needs_context)
{
	const sl_chain_profile_t *p = sl_chain_profile("bitcoin-test3");
	sl_chain_ctx_t c;
	uint8_t hdr[80], hash[32];
	sl_chain_err_t e;

	/* a checkpoint and history made only of min-difficulty headers */
	memcpy(hdr, p->genesis, 80);
	sl_chain_ctx_init_at(&c, p, 5000, hdr);
	for (int i = 0; i < 10; i++) {
		set_time(hdr, sl_chain_hdr_time(hdr) + 1300);
		sl_chain_ctx_push_trusted(&c, hdr);
	}
	ck_assert(sl_chain_ctx_mtp_known(&c));
	ck_assert(!c.nonmin_known);
	ck_assert(c.period_known == false);
	(void)sl_chain_ctx_next_bits(&c, c.tip_time + 600, &e);
	ck_assert_int_eq(e, SL_CHAIN_ERR_CONTEXT);
	/* 20 minutes later the minimum is allowed whatever came before */
	ck_assert_uint_eq(sl_chain_ctx_next_bits(&c, c.tip_time + 1201, &e), 0x1d00ffff);
	ck_assert_int_eq(e, SL_CHAIN_OK);
	memcpy(hdr + 4, c.tip_hash, 32);
	set_time(hdr, c.tip_time + 600);
	ck_assert_int_eq(sl_chain_ctx_check(&c, hdr, now_s(), hash), SL_CHAIN_ERR_CONTEXT);
	set_time(hdr, c.tip_time + 1201);
	ck_assert_int_eq(sl_chain_ctx_check(&c, hdr, now_s(), hash), SL_CHAIN_ERR_POW);
	/* a non-minimum header makes it known */
	hdr[72] = 0xc0, hdr[73] = 0xff, hdr[74] = 0x3f, hdr[75] = 0x1c;
	sl_chain_ctx_push_trusted(&c, hdr);
	ck_assert_uint_eq(sl_chain_ctx_next_bits(&c, c.tip_time + 600, &e), 0x1c3fffc0);
	ck_assert_int_eq(e, SL_CHAIN_OK);
}
END_TEST

/* The per-header MTP check counts instead of sorting: it must agree with
   the median itself on every window (short ones near a checkpoint
   included), ties and times equal to the median most of all. */
START_TEST(test_after_mtp_agrees_with_median)
{
	uint32_t r = seed_get("after_mtp") | 1;
	sl_chain_ctx_t c;
	sl_chain_ctx_init(&c, sl_chain_profile("regtest"));
	for (int k = 0; k < 20000; k++) {
		r = r * 1103515245u + 12345u;
		c.ntimes = 1 + (r >> 8) % SL_CHAIN_MTP_SPAN;
		c.height = c.ntimes - 1 + (r >> 16) % 50;
		for (uint32_t i = 0; i < SL_CHAIN_MTP_SPAN; i++) {
			r = r * 1103515245u + 12345u;
			c.times[i] = 1000 + (r >> 12) % 8; /* a narrow range: many ties */
		}
		uint32_t mtp = sl_chain_ctx_mtp(&c);
		for (uint32_t t = 998; t <= 1009; t++)
			ck_assert_msg(sl_chain_ctx_after_mtp(&c, t) == (t > mtp),
			              "ntimes %u height %u time %u mtp %u", c.ntimes, c.height, t,
			              mtp);
	}
}
END_TEST

START_TEST(test_genesis_ctx_and_chainwork)
{
	sl_chain_ctx_t c;

	sl_chain_ctx_init(&c, sl_chain_profile("regtest"));
	ck_assert_uint_eq(c.height, 0);
	ck_assert(sl_chain_ctx_mtp_known(&c));
	ck_assert_uint_eq(be_low64(c.chainwork), 2);
	ck_assert_uint_eq(sl_chain_ctx_mtp(&c), sl_chain_hdr_time(c.p->genesis));
	uint8_t w[32] = {0};
	w[0] = 9;
	sl_chain_ctx_set_chainwork(&c, w);
	ck_assert_mem_eq(c.chainwork, w, 32);
}
END_TEST

START_TEST(test_mined_regtest_chain_validates)
{
	enum { N = 5000 };
	uint8_t *buf = malloc((size_t)N * HDR);
	sl_chain_ctx_t c;
	size_t done;

	mine_regtest(buf, N, 0x20000000);
	sl_chain_ctx_init(&c, sl_chain_profile("regtest"));
	ck_assert_int_eq(sl_chain_ctx_run(&c, buf + HDR, N - 1, now_s(), &done), SL_CHAIN_OK);
	ck_assert_uint_eq(c.height, N - 1);
	ck_assert_uint_eq(be_low64(c.chainwork), 2ULL * N);
	free(buf);
}
END_TEST

/* ---- sluice-chaingen ----------------------------------------------------- */

static int run_chaingen(const char *args, const char *out, const char *err)
{
	const char *exe = getenv("SL_CHAINGEN");
	char cmd[2048];

	ck_assert_msg(exe != NULL, "SL_CHAINGEN not set (meson sets it to sluice-chaingen)");
	snprintf(cmd, sizeof(cmd), "%s %s -o %s 2>%s", exe, args, out, err);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

START_TEST(test_chaingen_output_validates)
{
	char out[] = "/tmp/sl_chaingen_XXXXXX", err[64];
	int fd = mkstemp(out);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(err, sizeof(err), "%s.err", out);
	int rc = run_chaingen("-n 5000 --seed 7", out, err);
	ck_assert_int_eq(rc, 0);

	FILE *f = fopen(out, "rb");
	uint8_t *b = malloc(5001 * HDR);
	size_t n = fread(b, 1, 5001 * HDR, f);
	fclose(f);
	ck_assert_uint_eq(n, 5000 * HDR);
	ck_assert_mem_eq(b, sl_chain_profile("regtest")->genesis, HDR);
	sl_chain_ctx_t c;
	size_t done;
	sl_chain_ctx_init(&c, sl_chain_profile("regtest"));
	sl_chain_err_t e = sl_chain_ctx_run(&c, b + HDR, 4999, now_s(), &done);
	ck_assert_msg(e == SL_CHAIN_OK, "height %zu: %s", done + 1, sl_chain_err_str(e));
	ck_assert_uint_eq(c.height, 4999);

	/* the tip it printed is the tip we computed */
	char d[SL_CHAIN_DISPLAY_LEN], line[512], want[128];
	bool found = false;
	display_of(c.tip_hash, d);
	snprintf(want, sizeof(want), "tip=%s", d);
	f = fopen(err, "r");
	while (fgets(line, sizeof(line), f) != NULL)
		found |= strstr(line, want) != NULL;
	fclose(f);
	ck_assert_msg(found, "stderr lacks %s", want);
	free(b);
	unlink(out);
	unlink(err);
}
END_TEST

START_TEST(test_chaingen_is_deterministic_and_checks_usage)
{
	char a[] = "/tmp/sl_chaingen_a_XXXXXX", b[] = "/tmp/sl_chaingen_b_XXXXXX";
	close(mkstemp(a));
	close(mkstemp(b));
	int rc = run_chaingen("-n 300 --seed 9 --start-time 1600000000", a, "/dev/null");
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(run_chaingen("-n 300 --seed 9 --start-time 1600000000", b, "/dev/null"),
	                 0);
	size_t la, lb;
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	uint8_t *x = malloc(300 * HDR), *y = malloc(300 * HDR);
	la = fread(x, 1, 300 * HDR, fa);
	lb = fread(y, 1, 300 * HDR, fb);
	fclose(fa);
	fclose(fb);
	ck_assert_uint_eq(la, 300 * HDR);
	ck_assert_uint_eq(lb, la);
	ck_assert_mem_eq(x, y, la);
	ck_assert_uint_eq(sl_chain_hdr_time(x + HDR), 1600000001);
	/* another seed gives another chain */
	ck_assert_int_eq(run_chaingen("-n 300 --seed 10 --start-time 1600000000", b, "/dev/null"),
	                 0);
	fb = fopen(b, "rb");
	lb = fread(y, 1, 300 * HDR, fb);
	fclose(fb);
	ck_assert(memcmp(x + HDR, y + HDR, HDR) != 0);
	/* usage errors exit 2 */
	ck_assert_int_eq(run_chaingen("-n 0", b, "/dev/null"), 2);
	ck_assert_int_eq(run_chaingen("-n abc", b, "/dev/null"), 2);
	ck_assert_int_eq(run_chaingen("--bogus", b, "/dev/null"), 2);
	ck_assert_int_eq(run_chaingen("-n 5 --start-time 100", b, "/dev/null"), 2);
	free(x);
	free(y);
	unlink(a);
	unlink(b);
}
END_TEST

static Suite *chain_suite(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, test_err_strings);
	tcase_add_test(tc, test_profiles_lookup);
	tcase_add_test(tc, test_genesis_matches_profile_and_data);
	tcase_add_test(tc, test_display_hex_roundtrip_and_rejects);
	tcase_add_test(tc, test_compact_range_errors);
	tcase_add_test(tc, test_compact_vectors);
	tcase_add_test(tc, test_compact_roundtrip_random);
	tcase_add_test(tc, test_hash_meets_boundary);
	tcase_add_test(tc, test_work_values);
	tcase_add_test(tc, test_check_pow_context_free);
	tcase_add_test(tc, test_retarget_clamps_and_limit);
	tcase_add_test(tc, test_genesis_ctx_and_chainwork);
	tcase_add_test(tc, test_after_mtp_agrees_with_median);
	suite_add_tcase(s, tc);

	TCase *data = tcase_create("data");
	tcase_set_timeout(data, 120);
	tcase_add_test(data, test_main_0_9999_validates_to_tip);
	tcase_add_test(data, test_check_hashed_judges_the_supplied_hash);
	tcase_add_test(data, test_test3_0_9999_validates_to_tip);
	tcase_add_test(data, test_retarget_boundaries_file);
	tcase_add_test(data, test_main_30000_39999_validates);
	tcase_add_test(data, test_main_822528_830592_validates);
	tcase_add_test(data, test_checkpoint_without_history_needs_context);
	tcase_add_test(data, test_test3_unknown_last_bits_needs_context);
	suite_add_tcase(s, data);

	TCase *mut = tcase_create("mutations");
	tcase_set_timeout(mut, 120);
	tcase_add_test(mut, test_flipped_nonce_is_pow);
	tcase_add_test(mut, test_wrong_bits_is_bits);
	tcase_add_test(mut, test_broken_prev_is_link);
	tcase_add_test(mut, test_time_at_mtp_is_time_mtp);
	tcase_add_test(mut, test_time_past_2h_is_time_future);
	tcase_add_test(mut, test_time_exactly_2h_ahead_is_not_future);
	tcase_add_test(mut, test_test3_min_difficulty_misuse_is_bits);
	tcase_add_test(mut, test_version_too_old_is_version);
	tcase_add_test(mut, test_mine_refuses_bad_bits_and_budget);
	suite_add_tcase(s, mut);

	TCase *gen = tcase_create("chaingen");
	tcase_set_timeout(gen, 120);
	tcase_add_test(gen, test_mined_regtest_chain_validates);
	tcase_add_test(gen, test_chaingen_output_validates);
	tcase_add_test(gen, test_chaingen_is_deterministic_and_checks_usage);
	suite_add_tcase(s, gen);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(chain_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
