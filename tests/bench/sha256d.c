/* sha256d.c — bench: double SHA-256 of 80-byte headers on one core, for
   every implementation sl_sha256d offers plus libsodium (the baseline),
   the mining midstate, and full contextual validation (sl_chain) of the
   mainnet 0-9999 file when its directory is given.  Prints figures and
   ratios, never pass/fail; the last line is
   `sha256d headers_per_s=<x> impl=<name>` for the default implementation.
   usage: sha256d [DATA_DIR] [N] */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

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

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("SL_TEST_DATA");
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : 2000000;
	uint8_t sink[32] = {0};
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	(void)sched_setaffinity(0, sizeof(one), &one); /* one core */
	if (sodium_init() < 0)
		return 1;
	double base = run(via_sodium, 0, n, sink);
	printf("sha256d %-20s %12.0f headers/s  x%.2f (baseline)\n", "libsodium", base, 1.0);
	double best = 0;
	for (int i = 0; i < SL_SHA256D_IMPL_COUNT; i++) {
		double r = run(via_impl, i, n, sink);
		printf("sha256d %-20s %12.0f headers/s  x%.2f vs libsodium\n",
		       sl_sha256d_impl_str((sl_sha256d_impl_t)i), r, r / base);
		if (i == SL_SHA256D_IMPL_TRANSFORM)
			best = r;
	}
	double mid = run(via_midstate, 0, n, sink);
	printf("sha256d %-20s %12.0f headers/s  x%.2f vs libsodium (mining: nonce-only changes)\n",
	       "midstate", mid, mid / base);
	if (dir != NULL) {
		double v = validate_rate(dir);
		printf(
		    "chain   %-20s %12.0f headers/s  x%.2f vs bare sha256d (mainnet 0-9999, full "
		    "contextual validation)\n",
		    "sl_chain_ctx_run", v, best > 0 ? v / best : 0);
	}
	printf("(sink %02x)\n", sink[0] ^ sink[7]);
	printf("sha256d headers_per_s=%.0f impl=%s\n", best,
	       sl_sha256d_impl_str(SL_SHA256D_IMPL_TRANSFORM));
	return 0;
}
