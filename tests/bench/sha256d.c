/* sha256d.c — bench: double SHA-256 of 80-byte headers on one core, for
   every implementation sl_sha256d offers plus libsodium (the baseline),
   the batch call sl_sha256d_hdrs (two headers interleaved on SHA-NI) on
   HEADERS-frame batches, the multi-buffer SHA-256 of libipsec-mb (job
   API, when built with it), the mining midstate, and full contextual
   validation (sl_chain) of the mainnet 0-9999 file when its directory is
   given.  Every implementation is first checked against OpenSSL's
   SHA256() on that file (or on the genesis-derived headers without it).
   Prints figures and ratios, never pass/fail; the last line is
   `sha256d headers_per_s=<x> impl=<name>` for the fastest single-core
   implementation available here (distinct headers: the midstate, which
   only serves nonce-only changes, is not a candidate).
   usage: sha256d [DATA_DIR] [N] */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#if SL_BENCH_IPSEC_MB
#define NO_COMPAT_IMB_API_053 1
#include <intel-ipsec-mb.h>
#endif

#include "sl_chain.h"
#include "sl_sha256d.h"
#include "sl_time.h"

#define REPS 5

typedef void (*hash_fn)(const uint8_t *hdr, uint8_t *out, int impl);

static void via_impl(const uint8_t *hdr, uint8_t *out, int impl)
{
	(void)sl_sha256d_hdr_with((sl_sha256d_impl_t)impl, hdr, out);
}

static void via_sodium(const uint8_t *hdr, uint8_t *out, int impl)
{
	uint8_t first[32];
	(void)impl;
	crypto_hash_sha256(first, hdr, 80);
	crypto_hash_sha256(out, first, 32);
}

static void via_midstate(const uint8_t *hdr, uint8_t *out, int impl)
{
	static sl_sha256d_mid_t mid;
	(void)impl;
	if (hdr[76] == 0 && hdr[77] == 0 && hdr[78] == 0 && hdr[79] == 0)
		sl_sha256d_mid_init(&mid, hdr); /* once per 2^32 nonces, like a miner */
	sl_sha256d_mid_finish(&mid, hdr + 64, out);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* run hashes n headers (nonce counting up) REPS times; returns the median
   headers/s and folds every hash into *sink so nothing is optimized out. */
static double run(hash_fn fn, int impl, uint64_t n, uint8_t *sink)
{
	double rate[REPS];
	uint8_t hdr[80], out[32];

	memcpy(hdr, sl_chain_profile("bitcoin-main")->genesis, 80);
	for (int r = 0; r < REPS; r++) {
		memset(hdr + 76, 0, 4);
		uint64_t t0 = sl_now_ns();
		for (uint64_t i = 0; i < n; i++) {
			uint32_t nonce = (uint32_t)i;
			memcpy(hdr + 76, &nonce, 4);
			fn(hdr, out, impl);
			sink[i & 31] ^= out[0];
		}
		rate[r] = (double)n * 1e9 / (double)(sl_now_ns() - t0);
	}
	qsort(rate, REPS, sizeof(rate[0]), cmp_double);
	return rate[REPS / 2];
}

/* ---- batches ------------------------------------------------------------ */

#define BATCH_MAX 256

typedef int (*batch_fn)(const uint8_t *hdrs, uint32_t n, uint8_t *out);

static int batch_sl(const uint8_t *hdrs, uint32_t n, uint8_t *out)
{
	sl_sha256d_hdrs(hdrs, n, out);
	return 0;
}

#if SL_BENCH_IPSEC_MB
static IMB_MGR *imb;

/* imb_pass submits n jobs of `len` bytes (src + stride * i) and flushes;
   0 when all n completed. */
static int imb_pass(const uint8_t *src, size_t stride, uint64_t len, uint8_t *out, uint32_t n)
{
	uint32_t done = 0;
	IMB_JOB *j;
	for (uint32_t i = 0; i < n; i++) {
		j = IMB_GET_NEXT_JOB(imb);
		j->cipher_mode = IMB_CIPHER_NULL;
		j->cipher_direction = IMB_DIR_ENCRYPT;
		j->chain_order = IMB_ORDER_HASH_CIPHER;
		j->src = src + stride * i;
		j->hash_start_src_offset_in_bytes = 0;
		j->msg_len_to_hash_in_bytes = len;
		j->auth_tag_output = out + 32 * i;
		j->auth_tag_output_len_in_bytes = 32;
		j->hash_alg = IMB_AUTH_SHA_256;
		for (j = IMB_SUBMIT_JOB(imb); j != NULL; j = IMB_GET_COMPLETED_JOB(imb))
			done += j->status == IMB_STATUS_COMPLETED;
	}
	while ((j = IMB_FLUSH_JOB(imb)) != NULL)
		done += j->status == IMB_STATUS_COMPLETED;
	return done == n ? 0 : -1;
}

/* batch_imb: both SHA-256 passes of n headers as multi-buffer jobs. */
static int batch_imb(const uint8_t *hdrs, uint32_t n, uint8_t *out)
{
	static uint8_t first[BATCH_MAX * 32];
	if (imb_pass(hdrs, 80, 80, first, n) != 0)
		return -1;
	return imb_pass(first, 32, 32, out, n);
}
#endif

/* run_batch hashes n headers (nonce counting up) in calls of `b` headers,
   REPS times; returns the median headers/s (0 when fn failed). */
static double run_batch(batch_fn fn, uint32_t b, uint64_t n, uint8_t *sink)
{
	static uint8_t hdrs[BATCH_MAX * 80], out[BATCH_MAX * 32];
	double rate[REPS];

	for (uint32_t i = 0; i < b; i++)
		memcpy(hdrs + (size_t)i * 80, sl_chain_profile("bitcoin-main")->genesis, 80);
	for (int r = 0; r < REPS; r++) {
		uint64_t t0 = sl_now_ns();
		for (uint64_t i = 0; i < n; i += b) {
			for (uint32_t k = 0; k < b; k++) {
				uint32_t nonce = (uint32_t)(i + k);
				memcpy(hdrs + (size_t)k * 80 + 76, &nonce, 4);
			}
			if (fn(hdrs, b, out) != 0)
				return 0;
			sink[i & 31] ^= out[0] ^ out[(b - 1) * 32];
		}
		rate[r] = (double)n * 1e9 / (double)(sl_now_ns() - t0);
	}
	qsort(rate, REPS, sizeof(rate[0]), cmp_double);
	return rate[REPS / 2];
}

/* ---- correctness: every candidate against OpenSSL's SHA256() --------------- */

static uint8_t check_hdrs[10000 * 80];

/* check_load reads the mainnet 0-9999 file, or makes 4096 headers from
   the genesis with counting nonces; returns the count. */
static uint32_t check_load(const char *dir)
{
	char path[1024];
	FILE *f = NULL;
	size_t n = 0;
	if (dir != NULL) {
		snprintf(path, sizeof(path), "%s/bitcoin-main-0-9999.headers", dir);
		f = fopen(path, "rb");
	}
	if (f != NULL) {
		n = fread(check_hdrs, 80, 10000, f);
		fclose(f);
	}
	if (n > 0)
		return (uint32_t)n;
	for (uint32_t i = 0; i < 4096; i++) {
		memcpy(check_hdrs + (size_t)i * 80, sl_chain_profile("bitcoin-main")->genesis, 80);
		memcpy(check_hdrs + (size_t)i * 80 + 76, &i, 4);
	}
	return 4096;
}

/* check_batch: fn on the check headers in calls of b equals SHA256d. */
static bool check_batch(batch_fn fn, uint32_t b, uint32_t n)
{
	static uint8_t out[BATCH_MAX * 32];
	for (uint32_t i = 0; i + b <= n; i += b) {
		if (fn(check_hdrs + (size_t)i * 80, b, out) != 0)
			return false;
		for (uint32_t k = 0; k < b; k++) {
			uint8_t ref[32];
			sl_sha256d(check_hdrs + (size_t)(i + k) * 80, 80, ref);
			if (memcmp(ref, out + (size_t)k * 32, 32) != 0)
				return false;
		}
	}
	return true;
}

static bool check_impl(int impl, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ref[32], h[32];
		sl_sha256d(check_hdrs + (size_t)i * 80, 80, ref);
		if (sl_sha256d_hdr_with((sl_sha256d_impl_t)impl, check_hdrs + (size_t)i * 80, h) !=
		        0 ||
		    memcmp(ref, h, 32) != 0)
			return false;
	}
	return true;
}

static double validate_rate(const char *dir)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/bitcoin-main-0-9999.headers", dir);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	static uint8_t buf[10000 * 80];
	size_t n = fread(buf, 80, 10000, f) - 1;
	fclose(f);
	double rate[REPS];
	for (int r = 0; r < REPS; r++) {
		uint64_t t0 = sl_now_ns();
		for (int k = 0; k < 20; k++) {
			sl_chain_ctx_t c;
			size_t done;
			sl_chain_ctx_init(&c, sl_chain_profile("bitcoin-main"));
			if (sl_chain_ctx_run(&c, buf + 80, n, (int64_t)time(NULL), &done) !=
			    SL_CHAIN_OK)
				return -1;
		}
		rate[r] = 20.0 * (double)n * 1e9 / (double)(sl_now_ns() - t0);
	}
	qsort(rate, REPS, sizeof(rate[0]), cmp_double);
	return rate[REPS / 2];
}

/* The fastest so far (the last line). */
static double best_rate;
static char best_name[64];

static void candidate(const char *name, double r)
{
	if (r > best_rate) {
		best_rate = r;
		snprintf(best_name, sizeof(best_name), "%s", name);
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("SL_TEST_DATA");
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : 2000000;
	uint8_t sink[32] = {0};
	cpu_set_t one;
	char name[64];

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	(void)sched_setaffinity(0, sizeof(one), &one); /* one core */
	if (sodium_init() < 0)
		return 1;
	uint32_t nchk = check_load(dir);
	printf("check: %u headers (%s) against OpenSSL SHA256()\n", nchk,
	       nchk == 4096 ? "genesis, counting nonces" : "mainnet 0-9999");
	double base = run(via_sodium, 0, n, sink);
	printf("sha256d %-22s %12.0f headers/s  x%.2f (baseline)\n", "libsodium", base, 1.0);
	candidate("libsodium", base);
	double openssl = 0;
	for (int i = 0; i < SL_SHA256D_IMPL_COUNT; i++) {
		const char *nm = sl_sha256d_impl_str((sl_sha256d_impl_t)i);
		if (!sl_sha256d_impl_ok((sl_sha256d_impl_t)i)) {
			printf("sha256d %-22s (not on this CPU)\n", nm);
			continue;
		}
		if (!check_impl(i, nchk)) {
			printf("sha256d %-22s WRONG HASHES: not measured\n", nm);
			continue;
		}
		double r = run(via_impl, i, n, sink);
		if (i == SL_SHA256D_IMPL_TRANSFORM)
			openssl = r;
		bool pair = i == SL_SHA256D_IMPL_SHANI_X2; /* one header as a pair */
		printf("sha256d %-22s %12.0f headers/s  x%.2f vs libsodium  x%.2f vs openssl%s\n",
		       nm, r, r / base, openssl > 0 ? r / openssl : 0,
		       pair ? " (one header hashed twice: see the batch rows)" : "");
		if (!pair)
			candidate(nm, r);
	}
	static const uint32_t frames[] = {16, 256};
	for (size_t k = 0; k < SL_ARRAY_LEN(frames); k++) {
		uint32_t b = frames[k];
		snprintf(name, sizeof(name), "sl_sha256d_hdrs/%u", b);
		if (!check_batch(batch_sl, b, nchk)) {
			printf("sha256d %-22s WRONG HASHES: not measured\n", name);
			continue;
		}
		double r = run_batch(batch_sl, b, n, sink);
		printf("sha256d %-22s %12.0f headers/s  x%.2f vs libsodium  x%.2f vs openssl "
		       "(batch of %u: %s)\n",
		       name, r, r / base, r / openssl, b,
		       sl_sha256d_impl_ok(SL_SHA256D_IMPL_SHANI_X2) ? "sha-ni-x2" : "one by one");
		candidate(name, r);
	}
#if SL_BENCH_IPSEC_MB
	imb = alloc_mb_mgr(0);
	if (imb != NULL)
		init_mb_mgr_auto(imb, NULL);
	for (size_t k = 0; imb != NULL && k < SL_ARRAY_LEN(frames); k++) {
		uint32_t b = frames[k];
		snprintf(name, sizeof(name), "ipsec-mb/%u", b);
		if (!check_batch(batch_imb, b, nchk)) {
			printf("sha256d %-22s WRONG HASHES: not measured\n", name);
			continue;
		}
		double r = run_batch(batch_imb, b, n, sink);
		printf("sha256d %-22s %12.0f headers/s  x%.2f vs libsodium  x%.2f vs openssl "
		       "(libipsec-mb %s, arch %u, job API)\n",
		       name, r, r / base, r / openssl, imb_get_version_str(), imb->used_arch);
		candidate(name, r);
	}
#else
	printf("sha256d %-22s (not built: no libipsec-mb)\n", "ipsec-mb");
#endif
	double mid = run(via_midstate, 0, n, sink);
	printf("sha256d %-22s %12.0f headers/s  x%.2f vs libsodium (mining: nonce-only changes)\n",
	       "midstate", mid, mid / base);
	if (dir != NULL) {
		double v = validate_rate(dir);
		printf(
		    "chain   %-22s %12.0f headers/s  x%.2f vs bare sha256d (mainnet 0-9999, full "
		    "contextual validation)\n",
		    "sl_chain_ctx_run", v, best_rate > 0 ? v / best_rate : 0);
	}
	printf("(sink %02x)\n", sink[0] ^ sink[7]);
	printf("sha256d headers_per_s=%.0f impl=%s\n", best_rate, best_name);
	return 0;
}
