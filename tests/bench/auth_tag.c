/* auth_tag.c — what the SPEC §8 tag costs one core per frame: sl_auth_seal
   and sl_auth_open over a full HEADERS frame (24 + 8 + 17 * 80 bytes, the
   frame a sync moves), against the SHA-256d of the 17 headers it carries
   (the work a receiver does anyway), measured in the same run.  Medians of
   RUNS runs of ITERS frames each.  Prints per run and, last, exactly one
   line
     auth_tag frame_bytes=<n> seal_ns=<x> open_ns=<x> sha256d_17_ns=<x>
              tag_share=<x>
   tag_share = (seal + open) / (seal + open + 17 SHA-256d): the part of the
   per-frame crypto the tags add on a node that both sends and receives.
   Usage: auth_tag [RUNS] [ITERS]  (default 5, 200000).  Never pass/fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_auth.h"
#include "sl_sha256d.h"

#define FRAME_LEN (24 + 8 + 17 * 80)

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	long iters = argc > 2 ? atol(argv[2]) : 200000;
	if (runs < 1 || runs > 99 || iters < 1 || sl_auth_init() != 0)
		return 2;
	static uint8_t f[FRAME_LEN + SL_AUTH_TAG_LEN];
	uint8_t key[SL_AUTH_KEY_LEN], h[32];
	sl_auth_random(key, sizeof key);
	sl_auth_random(f, sizeof f);
	f[4] = 5;
	double seal[99], open[99], sha[99];
	unsigned ok = 0;
	for (int r = 0; r < runs; r++) {
		double t0 = now_s();
		for (long i = 0; i < iters; i++) {
			f[12] = (uint8_t)i; /* a new seq, a new nonce */
			sl_auth_seal(key, f, FRAME_LEN);
		}
		double t1 = now_s();
		for (long i = 0; i < iters; i++)
			ok += sl_auth_open(key, f, FRAME_LEN);
		double t2 = now_s();
		for (long i = 0; i < iters; i++)
			for (int k = 0; k < 17; k++)
				sl_sha256d_hdr(f + 32 + 80 * k, h), f[40] ^= h[0];
		double t3 = now_s();
		seal[r] = (t1 - t0) / iters * 1e9;
		open[r] = (t2 - t1) / iters * 1e9;
		sha[r] = (t3 - t2) / iters * 1e9;
		printf("auth_tag_run %d seal_ns=%.0f open_ns=%.0f sha256d_17_ns=%.0f\n", r + 1,
		       seal[r], open[r], sha[r]);
	}
	qsort(seal, (size_t)runs, sizeof *seal, cmp_d);
	qsort(open, (size_t)runs, sizeof *open, cmp_d);
	qsort(sha, (size_t)runs, sizeof *sha, cmp_d);
	double s = seal[runs / 2], o = open[runs / 2], d = sha[runs / 2];
	printf("auth_tag frame_bytes=%d seal_ns=%.0f open_ns=%.0f sha256d_17_ns=%.0f "
	       "tag_share=%.3f (opened %u)\n",
	       FRAME_LEN, s, o, d, (s + o) / (s + o + d), ok);
	return 0;
}
