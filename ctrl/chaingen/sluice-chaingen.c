/* sluice-chaingen — writes N valid regtest headers (SPEC.md §7 header file:
   raw 80-byte headers from genesis, height 0 = the regtest genesis) for
   tests and benchmarks.  Deterministic for a given --seed and
   --start-time: header h (h >= 1) has time start + h, a merkle root drawn
   from (seed, h), version 0x20000000, bits 0x207fffff, and the first nonce
   from 0 up whose hash meets the target (midstate mining, ~2 tries each).
   --fork-at H --fork-seed S2 writes a branch: the same headers up to H,
   others above (for reorg tests).
   Prints the tip and the rate on stderr.  Exit: 0 ok, 1 I/O, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_chain.h"
#include "sl_sha256d.h"
#include "sl_time.h"

#define CHAINGEN_BATCH   4096 /* headers per write */
#define CHAINGEN_VERSION 0x20000000u

typedef struct {
	uint64_t n;
	const char *out;
	uint64_t seed;
	int64_t start;
	bool have_start;
	uint64_t fork_at; /* heights above this use fork_seed (a branch) */
	uint64_t fork_seed;
	bool have_fork;
} chaingen_opts_t;

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice-chaingen -n N [-o FILE] [--start-time UNIX] [--seed S]\n"
	           "                      [--fork-at H --fork-seed S2]\n"
	           "  writes N regtest headers (heights 0..N-1) to FILE (default stdout)\n"
	           "  header h has time start+h; start defaults to now - N\n"
	           "  --fork-at H --fork-seed S2: heights 0..H are those of --seed S, the\n"
	           "  ones above draw from S2: a branch of the --seed S chain leaving it\n"
	           "  after height H (give both runs the same --start-time)\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* parse_opts returns 0, or 2 (usage) after printing why. */
static int parse_opts(int argc, char **argv, chaingen_opts_t *o)
{
	static const struct option longs[] = {{"start-time", required_argument, NULL, 't'},
	                                      {"seed", required_argument, NULL, 's'},
	                                      {"fork-at", required_argument, NULL, 'f'},
	                                      {"fork-seed", required_argument, NULL, 'F'},
	                                      {"help", no_argument, NULL, 'h'},
	                                      {NULL, 0, NULL, 0}};
	uint64_t v;
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "n:o:h", longs, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (parse_u64(optarg, &o->n) != 0 || o->n == 0 || o->n > UINT32_MAX) {
				fprintf(stderr, "sluice-chaingen: -n wants 1..%u\n", UINT32_MAX);
				return 2;
			}
			break;
		case 'o':
			o->out = optarg;
			break;
		case 's':
			if (parse_u64(optarg, &o->seed) != 0) {
				fprintf(stderr, "sluice-chaingen: bad --seed\n");
				return 2;
			}
			break;
		case 'f':
			if (parse_u64(optarg, &o->fork_at) != 0 || o->fork_at > UINT32_MAX) {
				fprintf(stderr, "sluice-chaingen: bad --fork-at\n");
				return 2;
			}
			o->have_fork = true;
			break;
		case 'F':
			if (parse_u64(optarg, &o->fork_seed) != 0) {
				fprintf(stderr, "sluice-chaingen: bad --fork-seed\n");
				return 2;
			}
			break;
		case 't':
			if (parse_u64(optarg, &v) != 0 || v > UINT32_MAX) {
				fprintf(stderr, "sluice-chaingen: bad --start-time\n");
				return 2;
			}
			o->start = (int64_t)v;
			o->have_start = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || o->n == 0) {
		usage(stderr);
		return 2;
	}
	if (o->have_fork && o->fork_seed == o->seed) {
		fprintf(stderr,
		        "sluice-chaingen: --fork-at needs a --fork-seed other than --seed\n");
		return 2;
	}
	return 0;
}

/* check_times: every header must be after the genesis (MTP) and fit in a
   32-bit time; returns 0 or 2. */
static int check_times(chaingen_opts_t *o, const sl_chain_profile_t *p)
{
	int64_t now = (int64_t)time(NULL);
	int64_t genesis = sl_chain_hdr_time(p->genesis);

	if (!o->have_start)
		o->start = SL_MAX(now - (int64_t)o->n, genesis);
	if (o->start < genesis || o->start + (int64_t)o->n > (int64_t)UINT32_MAX) {
		fprintf(stderr,
		        "sluice-chaingen: start time %" PRId64 " must be >= %" PRId64
		        " (genesis) with start+N < 2^32\n",
		        o->start, genesis);
		return 2;
	}
	if (o->have_start && o->start + (int64_t)o->n > now + SL_CHAIN_MAX_FUTURE_S)
		fprintf(stderr, "sluice-chaingen: note: the tip will be more than 2 h ahead of "
		                "this clock (valid only against a later `now`)\n");
	if (!o->have_start && o->start + (int64_t)o->n > now + SL_CHAIN_MAX_FUTURE_S) {
		fprintf(stderr, "sluice-chaingen: N too large for one header per second\n");
		return 2;
	}
	return 0;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* make_header fills the template for height h on top of prev_hash. */
static void make_header(uint8_t *hdr, const chaingen_opts_t *o, uint64_t h,
                        const uint8_t *prev_hash)
{
	uint64_t seed = o->have_fork && h > o->fork_at ? o->fork_seed : o->seed;
	uint64_t x = seed ^ (h * 0xd1342543de82ef95ULL);

	put_le32(hdr, CHAINGEN_VERSION);
	memcpy(hdr + 4, prev_hash, SL_CHAIN_HASH_LEN);
	for (int i = 0; i < 4; i++) {
		uint64_t r = splitmix64(&x);
		memcpy(hdr + 36 + 8 * i, &r, 8);
	}
	put_le32(hdr + 68, (uint32_t)(o->start + (int64_t)h));
	put_le32(hdr + 72, 0x207fffff);
	put_le32(hdr + 76, 0);
}

static int generate(const chaingen_opts_t *o, const sl_chain_profile_t *p, FILE *f,
                    uint8_t tip[SL_CHAIN_HASH_LEN])
{
	static uint8_t buf[CHAINGEN_BATCH * SL_CHAIN_HDR_LEN];
	size_t fill = 1;

	memcpy(buf, p->genesis, SL_CHAIN_HDR_LEN);
	sl_sha256d_hdr(p->genesis, tip);
	for (uint64_t h = 1; h < o->n; h++) {
		uint8_t *hdr = buf + fill * SL_CHAIN_HDR_LEN;
		make_header(hdr, o, h, tip);
		if (SL_UNLIKELY(sl_chain_mine(hdr, UINT32_MAX, tip) == 0)) {
			fprintf(stderr, "sluice-chaingen: no nonce at height %" PRIu64 "\n", h);
			return 1;
		}
		if (++fill == CHAINGEN_BATCH) {
			if (fwrite(buf, SL_CHAIN_HDR_LEN, fill, f) != fill)
				return 1;
			fill = 0;
		}
	}
	if (fill != 0 && fwrite(buf, SL_CHAIN_HDR_LEN, fill, f) != fill)
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	const sl_chain_profile_t *p = sl_chain_profile("regtest");
	chaingen_opts_t o;
	uint8_t tip[SL_CHAIN_HASH_LEN];
	char disp[SL_CHAIN_DISPLAY_LEN];
	int rc = parse_opts(argc, argv, &o);

	if (rc == 0)
		rc = check_times(&o, p);
	if (rc != 0)
		return rc;
	FILE *f = o.out ? fopen(o.out, "wb") : stdout;
	if (f == NULL) {
		fprintf(stderr, "sluice-chaingen: %s: %s\n", o.out, strerror(errno));
		return 1;
	}
	uint64_t t0 = sl_now_ns();
	rc = generate(&o, p, f, tip);
	if (fflush(f) != 0 || (f != stdout && fclose(f) != 0) || rc != 0) {
		fprintf(stderr, "sluice-chaingen: write failed: %s\n", strerror(errno));
		return 1;
	}
	double s = (double)(sl_now_ns() - t0) / 1e9;
	sl_chain_hash_display(tip, disp);
	fprintf(stderr,
	        "sluice-chaingen: n=%" PRIu64 " tip_height=%" PRIu64 " tip=%s seconds=%.3f "
	        "headers_per_s=%.0f\n",
	        o.n, o.n - 1, disp, s, s > 0 ? (double)o.n / s : 0.0);
	return 0;
}
