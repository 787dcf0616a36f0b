/* test_reactor.c — the header-sync reactor (ctrl/sl_reactor.h) against a
   real range table (heap memory, sl_rangeq_new) and a real header store in
   a temp dir validated by sl_chain (regtest).  The chain adapter below is
   what sl_chainstore_append / _truncate would be (sl_store + sl_chain_ctx);
   the end state is re-opened with the real sl_chainstore (which
   re-validates every header) and exported byte-identical to the source.
   Source headers: sluice-chaingen ($SL_CHAINGEN) when set, else mined here
   the same way (regtest target, ~2 tries a header).  Also: a NOT_FOUND
   UNKNOWN_ANCHOR from a peer advertising more work is one FORK output per
   advertised tip. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_msg.h"
#include "sl_rangeq_private.h"
#include "sl_reactor.h"
#include "sl_sha256d.h"
#include "sl_store.h"
#include "sl_time.h"
#include "sl_wire.h"

#define HS     80u
#define N      2000u /* source heights 0..N-1 */
#define RLEN   100u  /* range length */
#define WINDOW 64u
#define AHEAD  8u /* ranges ahead: commit buffer of 800 heights */
#define SEC    1000000000ull

/* ---- source chain ---------------------------------------------------------- */

static uint8_t *src; /* N headers */

/* mine_from writes n regtest headers after `prev` (at height h0 - 1). */
static void mine_from(uint8_t *out, const uint8_t prev[HS], uint32_t h0, uint32_t n, uint32_t t0,
                      uint32_t salt)
{
	uint8_t ph[32], hash[32];
	sl_sha256d_hdr(prev, ph);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *h = out + (size_t)i * HS;
		memset(h, 0, HS);
		uint32_t v = 0x20000000u, t = t0 + h0 + i, bits = 0x207fffffu,
		         m = salt * 7919u + h0 + i;
		memcpy(h, &v, 4);
		memcpy(h + 4, ph, 32);
		memcpy(h + 36, &m, 4);
		memcpy(h + 68, &t, 4);
		memcpy(h + 72, &bits, 4);
		ck_assert_uint_gt(sl_chain_mine(h, 1u << 20, hash), 0);
		memcpy(ph, hash, 32);
	}
}

static void load_source(void)
{
	src = malloc((size_t)N * HS);
	uint32_t t0 = sl_wall_unix() - 4 * N;
	const char *exe = getenv("SL_CHAINGEN");
	if (exe != NULL) {
		char f[] = "/tmp/sl_reactor_src_XXXXXX", cmd[1024];
		int fd = mkstemp(f);
		close(fd);
		snprintf(cmd, sizeof(cmd), "%s -n %u --seed 5 --start-time %u -o %s 2>/dev/null",
		         exe, N, t0, f);
		int rc = system(cmd);
		FILE *fp = fopen(f, "rb");
		size_t got = fp ? fread(src, HS, N, fp) : 0;
		if (fp)
			fclose(fp);
		unlink(f);
		if (WIFEXITED(rc) && WEXITSTATUS(rc) == 0 && got == N)
			return;
		printf("sluice-chaingen failed; mining in-process\n");
	}
	memcpy(src, sl_chain_profile("regtest")->genesis, HS);
	mine_from(src + HS, src, 1, N - 1, t0, 5);
}

/* ---- chain adapter: sl_store + sl_chain_ctx ------------------------------- */

typedef struct {
	char dir[128];
	sl_store_t *s;
	sl_chain_ctx_t ctx;
	uint32_t appends, bad_start;
} tchain_t;

static void tc_tip(void *c, sl_chainstore_tip_t *o)
{
	tchain_t *t = c;
	o->height = t->ctx.height;
	memcpy(o->hash, t->ctx.tip_hash, 32);
	memcpy(o->chainwork, t->ctx.chainwork, 32);
}

static sl_chainstore_err_t tc_append(void *c, uint32_t start, const uint8_t *h,
                                     const uint8_t *hashes, uint32_t n, uint32_t *done,
                                     sl_chainstore_fail_t *fail)
{
	tchain_t *t = c;
	*done = 0;
	ck_assert_ptr_nonnull(hashes); /* the reactor always carries them */
	t->appends++;
	if (start != t->ctx.height + 1) {
		t->bad_start++; /* commits must be strictly by height */
		return SL_CHAINSTORE_ERR_ARG;
	}
	sl_chain_ctx_t c2 = t->ctx;
	uint32_t ok = 0;
	sl_chain_err_t e = SL_CHAIN_OK;
	for (; ok < n; ok++) {
		e = sl_chain_ctx_next_hashed(&c2, h + (size_t)ok * HS, hashes + (size_t)ok * 32,
		                             sl_wall_unix());
		if (e != SL_CHAIN_OK)
			break;
	}
	if (ok > 0) {
		ck_assert_int_eq(sl_store_append_hashed(t->s, h, hashes, ok, NULL), SL_STORE_OK);
		ck_assert_int_eq(sl_store_commit(t->s), SL_STORE_OK);
		t->ctx = c2;
	}
	*done = ok;
	if (ok == n)
		return SL_CHAINSTORE_OK;
	*fail = (sl_chainstore_fail_t){start + ok, SL_STORE_ERR_INVALID, (int)e};
	if (e == SL_CHAIN_ERR_LINK)
		fail->store = SL_STORE_ERR_LINKAGE;
	return SL_CHAINSTORE_ERR_INVALID;
}

static void tc_rebuild(tchain_t *t)
{
	uint8_t h[HS], hash[32];
	sl_chain_ctx_init(&t->ctx, sl_chain_profile("regtest"));
	for (uint32_t i = 1; i < sl_store_committed(t->s); i++) {
		sl_store_get(t->s, i, h, hash);
		sl_chain_ctx_accept(&t->ctx, h, hash);
	}
}

static sl_chainstore_err_t tc_truncate(void *c, uint32_t height)
{
	tchain_t *t = c;
	if (sl_store_truncate_to(t->s, height) != SL_STORE_OK)
		return SL_CHAINSTORE_ERR_STORE;
	tc_rebuild(t);
	return SL_CHAINSTORE_OK;
}

static sl_chainstore_err_t tc_get(void *c, uint32_t height, uint8_t hdr[80], uint8_t hash[32])
{
	tchain_t *t = c;
	if (height >= sl_store_committed(t->s))
		return SL_CHAINSTORE_ERR_NOT_FOUND;
	sl_store_get(t->s, height, hdr, hash);
	return SL_CHAINSTORE_OK;
}

static void tc_open(tchain_t *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/sl_reactor_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	sl_store_opts_t o = {.dir = t->dir};
	t->s = sl_store_open(&o, NULL);
	ck_assert_ptr_nonnull(t->s);
	ck_assert_int_eq(sl_store_append(t->s, sl_chain_profile("regtest")->genesis, 1, NULL),
	                 SL_STORE_OK);
	ck_assert_int_eq(sl_store_commit(t->s), SL_STORE_OK);
	tc_rebuild(t);
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* tc_close_verify closes the store, re-opens it with the real chainstore
   (full re-validation) and checks heights 0..tip equal `want`. */
static void tc_close_verify(tchain_t *t, const uint8_t *want, uint32_t tip)
{
	sl_store_close(t->s);
	sl_chainstore_opts_t o = {.dir = t->dir, .profile = "regtest"};
	sl_chainstore_t *cs = sl_chainstore_open(&o, NULL);
	ck_assert_ptr_nonnull(cs);
	sl_chainstore_tip_t tp;
	sl_chainstore_tip(cs, &tp);
	ck_assert_uint_eq(tp.height, tip);
	char f[300];
	snprintf(f, sizeof(f), "%s.export", t->dir);
	ck_assert_int_eq(sl_chainstore_export(cs, f, 0, UINT32_MAX), SL_CHAINSTORE_OK);
	sl_chainstore_close(cs);
	FILE *fp = fopen(f, "rb");
	uint8_t *got = malloc((size_t)(tip + 2) * HS);
	size_t n = fread(got, 1, (size_t)(tip + 2) * HS, fp);
	fclose(fp);
	unlink(f);
	ck_assert_uint_eq(n, (size_t)(tip + 1) * HS);
	ck_assert_int_eq(memcmp(got, want, n), 0);
	free(got);
	rm_dir(t->dir);
}

/* ---- fixture ------------------------------------------------------------- */

typedef struct {
	void *mem;
	sl_rangeq_t *q;
	tchain_t tc;
	sl_reactor_t *r;
	uint64_t now;
} fx_t;

static void fx_open(fx_t *f, uint32_t fanout)
{
	memset(f, 0, sizeof(*f));
	f->mem = aligned_alloc(64, sl_rangeq_footprint(WINDOW));
	f->q = sl_rangeq_new(f->mem, WINDOW, RLEN, fanout);
	ck_assert_ptr_nonnull(f->q);
	tc_open(&f->tc);
	sl_reactor_opts_t o = {.q = f->q,
	                       .chain = {&f->tc, tc_tip, NULL, tc_append, tc_truncate, tc_get},
	                       .max_ahead = AHEAD,
	                       .timeout_ns = 30 * SEC,
	                       .sweep_ns = 5 * SEC};
	f->r = sl_reactor_new(&o);
	ck_assert_ptr_nonnull(f->r);
	f->now = 1000 * SEC;
}

static void fx_close(fx_t *f, bool verify)
{
	sl_reactor_delete(f->r);
	if (verify)
		tc_close_verify(&f->tc, src, f->tc.ctx.height);
	else {
		sl_store_close(f->tc.s);
		rm_dir(f->tc.dir);
	}
	ck_assert_uint_eq(f->tc.bad_start, 0);
	free(f->mem);
}

static void status_of(fx_t *f, uint32_t sess, uint32_t gen, uint32_t tip)
{
	sl_reactor_peer_status_t st = {.best_height = tip};
	sl_sha256d_hdr(src + (size_t)tip * HS, st.best_hash);
	st.chainwork[31] = (uint8_t)(tip + 2); /* only compared; ours is tip + 1 */
	st.chainwork[30] = (uint8_t)((tip + 2) >> 8);
	sl_reactor_on_status(f->r, sess, gen, &st);
}

static int take(fx_t *f, uint32_t sess, uint32_t gen, uint32_t peer_tip, sl_range_t *out)
{
	if (!sl_rangeq_take(f->q, sess, gen, peer_tip, RLEN, out))
		return 0;
	ck_assert_int_eq(sl_reactor_on_work_assigned(f->r, sess, gen, out, f->now), 0);
	return 1;
}

static void deliver(fx_t *f, uint32_t sess, uint32_t gen, const uint8_t *chain, uint32_t start,
                    uint32_t n)
{
	sl_reactor_on_headers(f->r, sess, gen, start, n, chain + (size_t)start * HS, NULL, f->now);
}

static uint32_t drain(fx_t *f, sl_reactor_out_t *outs, uint32_t cap)
{
	uint32_t n = 0;
	sl_reactor_out_t o;
	while (sl_reactor_poll_out(f->r, &o)) {
		if (n < cap)
			outs[n] = o;
		n++;
	}
	return n;
}

static uint32_t tip_of(fx_t *f)
{
	sl_reactor_status_t s;
	sl_reactor_status(f->r, &s);
	return s.tip;
}

static void setup(void)
{
	if (src == NULL)
		load_source();
}

/* ---- one hash per header --------------------------------------------------- */

static sl_chainstore_err_t cs_append(void *c, uint32_t start, const uint8_t *h,
                                     const uint8_t *hashes, uint32_t n, uint32_t *done,
                                     sl_chainstore_fail_t *fail)
{
	return sl_chainstore_append_hashed(c, start, h, hashes, n, done, fail);
}

static void cs_tip(void *c, sl_chainstore_tip_t *o)
{
	sl_chainstore_tip(c, o);
}

static sl_chainstore_err_t cs_truncate(void *c, uint32_t height)
{
	return sl_chainstore_truncate(c, height);
}

static sl_chainstore_err_t cs_get(void *c, uint32_t height, uint8_t hdr[80], uint8_t hash[32])
{
	return sl_chainstore_get(c, height, hdr, hash);
}

/* sync_counted runs heights 1..N-1 through what the sync path does, in
   HEADERS frames of SL_EVT_HEADERS_MAX: the routine's batch hash of each
   frame (carried = true) or none (an event without hashes), then the
   reactor, the chain context check and the store append of the real
   sl_chainstore.  Returns the SHA-256d computed on the whole path. */
static uint64_t sync_counted(bool carried, uint64_t *appends)
{
	char dir[] = "/tmp/sl_reactor_hash_XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sl_chainstore_opts_t co = {.dir = dir, .profile = "regtest"};
	sl_chainstore_t *cs = sl_chainstore_open(&co, NULL);
	ck_assert_ptr_nonnull(cs);
	void *mem = aligned_alloc(64, sl_rangeq_footprint(WINDOW));
	sl_rangeq_t *q = sl_rangeq_new(mem, WINDOW, RLEN, 3);
	sl_reactor_opts_t o = {.q = q,
	                       .chain = {cs, cs_tip, NULL, cs_append, cs_truncate, cs_get},
	                       .max_ahead = AHEAD};
	sl_reactor_t *r = sl_reactor_new(&o);
	ck_assert_ptr_nonnull(r);
	sl_store_stats_t s0, s1;
	sl_store_stats(sl_chainstore_store(cs), &s0);
	uint8_t hashes[SL_EVT_HEADERS_MAX * 32];
	uint64_t now = 1000 * SEC, c0 = sl_sha256d_hdr_calls();
	for (uint32_t h = 1; h < N; h += SL_EVT_HEADERS_MAX) {
		uint32_t n = SL_MIN((uint32_t)SL_EVT_HEADERS_MAX, N - h);
		const uint8_t *frame = src + (size_t)h * HS;
		if (carried)
			sl_sha256d_hdrs(frame, n, hashes); /* sl_hs_check's one hash */
		sl_reactor_on_headers(r, 7, 1, h, n, frame, carried ? hashes : NULL, now);
		if (h % 340 == 1)
			sl_reactor_tick(r, now += SEC / 10);
	}
	sl_reactor_tick(r, now + SEC);
	uint64_t used = sl_sha256d_hdr_calls() - c0;
	sl_store_stats(sl_chainstore_store(cs), &s1);
	*appends = s1.commits - s0.commits;
	ck_assert_uint_eq(sl_reactor_tip(r), N - 1);
	sl_reactor_delete(r);
	sl_chainstore_close(cs);
	free(mem);
	/* the store re-opens valid (re-checked, hashed from disk) */
	cs = sl_chainstore_open(&co, NULL);
	sl_chainstore_tip_t tp;
	sl_chainstore_tip(cs, &tp);
	ck_assert_uint_eq(tp.height, N - 1);
	uint8_t want[32];
	sl_sha256d_hdr(src + (size_t)(N - 1) * HS, want);
	ck_assert_mem_eq(tp.hash, want, 32);
	sl_chainstore_close(cs);
	rm_dir(dir);
	return used;
}

/* The hash the routine computes rides through the reactor into the chain
   check and the store: N - 1 headers cost N - 1 SHA-256d plus one per
   commit group (the chainstore hashes the last carried hash of each append
   to check it), not 3 (N - 1) as when each stage hashed again.  Without
   carried hashes the reactor hashes each header once where it enters. */
START_TEST(test_one_sha256d_per_header_on_the_sync_path)
{
	uint64_t appends = 0, used = sync_counted(true, &appends);
	printf("one hash per header: %u headers, %llu SHA-256d (%llu commit groups): %.4f per "
	       "header\n",
	       N - 1, (unsigned long long)used, (unsigned long long)appends,
	       (double)used / (N - 1));
	ck_assert_uint_gt(appends, 0);
	ck_assert_uint_eq(used, (uint64_t)(N - 1) + appends);
	ck_assert_uint_le(appends, (N - 1) / RLEN + 25); /* groups of a range, ticks */
	used = sync_counted(false, &appends);
	printf("no carried hashes: %llu SHA-256d (%llu commit groups)\n", (unsigned long long)used,
	       (unsigned long long)appends);
	ck_assert_uint_eq(used, (uint64_t)(N - 1) + appends);
}
END_TEST

/* ---- negative cases ------------------------------------------------------ */

START_TEST(test_new_refuses_bad_options)
{
	fx_t f;
	fx_open(&f, 3);
	ck_assert_ptr_null(sl_reactor_new(NULL));
	sl_reactor_opts_t o = {.q = f.q,
	                       .chain = {&f.tc, tc_tip, NULL, tc_append, tc_truncate, NULL}};
	ck_assert_ptr_null(sl_reactor_new(&o));
	o.chain.get = tc_get;
	o.max_ahead = WINDOW - 1; /* more ranges ahead than the table can hold */
	ck_assert_ptr_null(sl_reactor_new(&o));
	o.max_ahead = 4;
	sl_reactor_t *r = sl_reactor_new(&o);
	ck_assert_ptr_nonnull(r);
	sl_reactor_delete(r);
	sl_reactor_delete(NULL);
	/* reorg_to at or above the tip is refused */
	ck_assert_int_eq(sl_reactor_reorg_to(f.r, 0), SL_CHAINSTORE_ERR_ARG);
	fx_close(&f, false);
}
END_TEST

/* ---- rules --------------------------------------------------------------- */

START_TEST(test_out_of_order_commits_by_height)
{
	fx_t f;
	fx_open(&f, 3);
	for (uint32_t p = 1; p <= 3; p++)
		status_of(&f, p, p, N - 1);
	while (tip_of(&f) < N - 1) {
		sl_range_t rs[3 * AHEAD + 3];
		uint32_t n = 0;
		for (uint32_t p = 1; p <= 3; p++)
			while (n < SL_ARRAY_LEN(rs) && take(&f, p, p, N - 1, &rs[n]))
				n++;
		ck_assert_uint_gt(n, 0);
		/* answers arrive highest first, each in 17-header frames */
		uint32_t before = tip_of(&f);
		for (uint32_t i = n; i-- > 0;) {
			uint32_t s = rs[i].start, e = s + rs[i].len;
			for (uint32_t h = e; h > s;) {
				uint32_t lo = h - SL_MIN(17u, h - s);
				deliver(&f, 1 + i % 3, 1 + i % 3, src, lo, h - lo);
				h = lo;
			}
		}
		f.now += SEC;
		sl_reactor_tick(f.r, f.now);
		ck_assert_uint_gt(tip_of(&f), before);
		ck_assert_int_eq(sl_reactor_sweep(f.r, NULL), 0);
	}
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.committed, N - 1);
	ck_assert_uint_eq(s.state, SL_REACTOR_SYNCED);
	ck_assert_uint_eq(s.buffered, 0);
	ck_assert_uint_eq(s.assignments, 0);
	sl_rangeq_stats_t qs;
	ck_assert_int_eq(sl_rangeq_check(f.q, &qs), 0);
	ck_assert_uint_eq(qs.live_heights, 0);
	ck_assert_uint_eq(qs.covered_total, N - 1);
	fx_close(&f, true);
}
END_TEST

START_TEST(test_partial_answer_credits_part_requeues_rest)
{
	fx_t f;
	fx_open(&f, 1);
	status_of(&f, 1, 1, N - 1);
	status_of(&f, 2, 2, N - 1);
	sl_range_t a, b;
	ck_assert(take(&f, 1, 1, N - 1, &a));
	ck_assert_uint_eq(a.start, 1);
	deliver(&f, 1, 1, src, 1, 40);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 40);
	/* still delivering: the holder keeps its range */
	sl_rangeq_stats_t qs;
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_eq(qs.covered_total, 0);
	if (sl_rangeq_take(f.q, 2, 2, N - 1, RLEN, &b)) { /* only the next range */
		ck_assert_uint_ge(b.start, RLEN);
		ck_assert_int_eq(sl_rangeq_return(f.q, 2, 2, &b, SL_RANGE_WHY_CANCEL),
		                 SL_RANGEQ_OK);
	}
	/* the holder stops answering: its part is credited, the rest re-queued */
	f.now += 31 * SEC;
	sl_reactor_tick(f.r, f.now);
	sl_reactor_out_t o[4];
	ck_assert_uint_eq(drain(&f, o, 4), 1);
	ck_assert_uint_eq(o[0].drop.start, 1);
	ck_assert_uint_eq(o[0].drop.count, RLEN - 1);
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_eq(qs.covered_total, 40);
	ck_assert(take(&f, 2, 2, N - 1, &b));
	ck_assert_uint_eq(b.start, 41);
	ck_assert_uint_eq(b.len, RLEN - 41);
	deliver(&f, 2, 2, src, 41, RLEN - 41);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), RLEN - 1);
	ck_assert_int_eq(sl_reactor_sweep(f.r, NULL), 0);
	fx_close(&f, true);
}
END_TEST

/* A delivered range the tip cuts (its rest buffered, short of a whole range
   to commit) keeps its hold: its rest is not re-queued and fetched again. */
START_TEST(test_delivered_range_is_not_split_by_cover)
{
	fx_t f;
	fx_open(&f, 1);
	status_of(&f, 1, 1, N - 1);
	sl_range_t a, b, c;
	ck_assert(take(&f, 1, 1, N - 1, &a));
	ck_assert(take(&f, 1, 1, N - 1, &b));
	ck_assert_uint_eq(b.start, RLEN);
	deliver(&f, 1, 1, src, a.start, a.len);
	deliver(&f, 1, 1, src, RLEN, 17); /* a whole range in a run: commit */
	ck_assert_uint_eq(tip_of(&f), RLEN + 16);
	deliver(&f, 1, 1, src, RLEN + 17, RLEN - 17); /* b's rest, buffered */
	ck_assert_uint_eq(tip_of(&f), RLEN + 16);
	/* nothing below 2 * RLEN is work again */
	ck_assert(take(&f, 2, 2, N - 1, &c));
	ck_assert_uint_ge(c.start, 2 * RLEN);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 2 * RLEN - 1);
	sl_rangeq_stats_t qs;
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_eq(qs.covered_total, 2 * RLEN - 1);
	ck_assert_int_eq(sl_reactor_sweep(f.r, NULL), 0);
	fx_close(&f, false);
}
END_TEST

/* A ctrl restart that lost accepted headers (their group commit never
   finished): the range table outlived it with those heights covered.  The
   new reactor fetches them again instead of waiting for them forever. */
START_TEST(test_restart_refetches_heights_lost_before_commit)
{
	fx_t f;
	fx_open(&f, 1);
	status_of(&f, 1, 1, N - 1);
	sl_range_t a, b;
	ck_assert(take(&f, 1, 1, N - 1, &a));
	deliver(&f, 1, 1, src, a.start, a.len);
	ck_assert(take(&f, 1, 1, N - 1, &b));
	deliver(&f, 1, 1, src, b.start, b.len);
	sl_reactor_tick(f.r, f.now);
	uint32_t tip = tip_of(&f), lost_from = a.start + a.len / 2;
	ck_assert_uint_eq(tip, b.start + b.len - 1);
	/* the crash: the chain keeps less than the reactor accepted and covered */
	sl_reactor_delete(f.r);
	ck_assert_int_eq(tc_truncate(&f.tc, lost_from - 1), SL_CHAINSTORE_OK);
	sl_reactor_opts_t o = {.q = f.q,
	                       .chain = {&f.tc, tc_tip, NULL, tc_append, tc_truncate, tc_get},
	                       .max_ahead = AHEAD,
	                       .timeout_ns = 30 * SEC,
	                       .sweep_ns = 5 * SEC};
	f.r = sl_reactor_new(&o);
	ck_assert_ptr_nonnull(f.r);
	ck_assert_uint_eq(tip_of(&f), lost_from - 1);
	status_of(&f, 2, 2, N - 1);
	sl_reactor_tick(f.r, f.now);
	sl_range_t c;
	ck_assert(take(&f, 2, 2, N - 1, &c));
	ck_assert_uint_eq(c.start, lost_from);
	deliver(&f, 2, 2, src, c.start, c.len);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_ge(tip_of(&f), c.start + c.len - 1);
	ck_assert_int_eq(sl_reactor_sweep(f.r, NULL), 0);
	fx_close(&f, true);
}
END_TEST

START_TEST(test_timeout_returns_work_once)
{
	fx_t f;
	fx_open(&f, 1);
	status_of(&f, 1, 1, N - 1);
	status_of(&f, 2, 2, N - 1);
	sl_range_t a, b;
	ck_assert(take(&f, 1, 1, N - 1, &a));
	uint64_t t0 = f.now;
	f.now = t0 + 29 * SEC;
	sl_reactor_tick(f.r, f.now);
	sl_reactor_out_t o[4];
	ck_assert_uint_eq(drain(&f, o, 4), 0);
	f.now = t0 + 30 * SEC;
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(drain(&f, o, 4), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_DROP_EXPECTATION);
	ck_assert_uint_eq(o[0].sess, 1);
	ck_assert_uint_eq(o[0].drop.range_gen, 1);
	ck_assert_uint_eq(o[0].drop.start, a.start);
	ck_assert_uint_eq(o[0].drop.count, a.len);
	f.now += SEC;
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(drain(&f, o, 4), 0); /* exactly one */
	/* the timed-out peer is marked; another takes the same range */
	sl_range_t again;
	ck_assert(!sl_rangeq_take(f.q, 1, 1, a.start + a.len - 1, RLEN, &again));
	ck_assert(take(&f, 2, 2, N - 1, &b));
	ck_assert_uint_eq(b.start, a.start);
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.timeouts, 1);
	/* marks expire on a sweep: the lone peer gets work back */
	sl_reactor_sweep_t sw;
	ck_assert_int_eq(sl_reactor_sweep(f.r, &sw), 0);
	ck_assert_uint_eq(sw.marks, 1);
	fx_close(&f, false);
}
END_TEST

START_TEST(test_late_answer_after_timeout_is_used_once)
{
	fx_t f;
	fx_open(&f, 1);
	status_of(&f, 1, 1, N - 1);
	status_of(&f, 2, 2, N - 1);
	sl_range_t a, b;
	ck_assert(take(&f, 1, 1, N - 1, &a));
	f.now += 31 * SEC;
	sl_reactor_tick(f.r, f.now);
	sl_reactor_out_t o[4];
	ck_assert_uint_eq(drain(&f, o, 4), 1);
	ck_assert(take(&f, 2, 2, N - 1, &b));
	ck_assert_uint_eq(b.start, a.start);
	deliver(&f, 1, 1, src, a.start, a.len); /* late */
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), a.start + a.len - 1);
	deliver(&f, 2, 2, src, b.start, b.len); /* the new holder's answer */
	sl_reactor_tick(f.r, f.now);
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.committed, a.len);
	ck_assert_uint_eq(s.dup, b.len);
	ck_assert_uint_eq(s.assignments, 0);
	ck_assert_uint_eq(sl_store_committed(f.tc.s), a.start + a.len);
	f.now += 31 * SEC; /* nothing left to time out */
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(drain(&f, o, 4), 0);
	fx_close(&f, true);
}
END_TEST

START_TEST(test_invalid_batch_rejected_sender_reported)
{
	fx_t f;
	fx_open(&f, 1);
	status_of(&f, 1, 1, N - 1);
	status_of(&f, 2, 2, N - 1);
	sl_range_t a, b;
	ck_assert(take(&f, 1, 1, N - 1, &a));
	/* heights 1..50 where 50's time is not after the median of the last
	   11 (pow still fine: the routine would have passed it) */
	uint8_t *bad = malloc((size_t)51 * HS);
	memcpy(bad, src, (size_t)51 * HS);
	uint8_t *h50 = bad + (size_t)50 * HS, hash[32];
	uint32_t old = sl_chain_hdr_time(src + (size_t)40 * HS);
	memcpy(h50 + 68, &old, 4);
	ck_assert_uint_gt(sl_chain_mine(h50, 1u << 20, hash), 0);
	deliver(&f, 1, 1, bad, 1, 50);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 49);
	sl_reactor_out_t o[4];
	ck_assert_uint_eq(drain(&f, o, 4), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_MISBEHAVIOR);
	ck_assert_uint_eq(o[0].sess, 1);
	ck_assert_uint_eq(o[0].gen, 1);
	ck_assert_uint_eq(o[0].height, 50);
	ck_assert_int_eq(o[0].reason, SL_CHAIN_ERR_TIME_MTP);
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.invalid, 1);
	ck_assert_uint_eq(s.buffered, 0);
	/* re-queued: the rest of the range goes to another peer */
	ck_assert(take(&f, 2, 2, N - 1, &b));
	ck_assert_uint_eq(b.start, 50);
	deliver(&f, 2, 2, src, b.start, b.len);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), RLEN - 1);
	free(bad);
	ck_assert_int_eq(sl_reactor_sweep(f.r, NULL), 0);
	fx_close(&f, true);
}
END_TEST

/* A hedged range whose first holder sent a batch the chain refuses: the
   second holder's assignment is judged on every height again (its answer
   passed the refused ones before the refusal), so it is not taken for
   delivered while a height is missing and still times out. */
START_TEST(test_refused_heights_rearm_the_other_holder)
{
	fx_t f;
	fx_open(&f, 2);
	status_of(&f, 1, 1, RLEN - 1);
	status_of(&f, 2, 2, RLEN - 1);
	sl_range_t a, b;
	ck_assert(take(&f, 1, 1, RLEN - 1, &a));
	ck_assert(take(&f, 2, 2, RLEN - 1, &b)); /* the hedge: one range of work */
	ck_assert_uint_eq(b.start, a.start);
	uint8_t *bad = malloc((size_t)51 * HS);
	memcpy(bad, src, (size_t)51 * HS);
	uint8_t *h50 = bad + (size_t)50 * HS, hash[32];
	uint32_t old = sl_chain_hdr_time(src + (size_t)40 * HS);
	memcpy(h50 + 68, &old, 4);
	ck_assert_uint_gt(sl_chain_mine(h50, 1u << 20, hash), 0);
	deliver(&f, 1, 1, bad, 1, 50);
	deliver(&f, 2, 2, src, 51, 10); /* b's answer so far: 1..60 are all here */
	sl_reactor_tick(f.r, f.now);    /* 1..49 commit, 50 is refused */
	ck_assert_uint_eq(tip_of(&f), 49);
	sl_reactor_out_t o[4];
	ck_assert_uint_eq(drain(&f, o, 4), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_MISBEHAVIOR);
	deliver(&f, 2, 2, src, 61, b.start + b.len - 61); /* the rest, without 50 */
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 49);
	f.now += 31 * SEC;
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(drain(&f, o, 4), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_DROP_EXPECTATION);
	ck_assert_uint_eq(o[0].sess, 2);
	ck_assert_uint_eq(o[0].drop.start, b.start);
	free(bad);
	fx_close(&f, false);
}
END_TEST

START_TEST(test_session_down_forgets_holds)
{
	fx_t f;
	fx_open(&f, 3);
	status_of(&f, 1, 1, N - 1);
	status_of(&f, 2, 2, N - 1);
	sl_range_t a;
	for (int i = 0; i < 3; i++)
		ck_assert(take(&f, 1, 1, N - 1, &a));
	ck_assert(take(&f, 2, 2, N - 1, &a));
	sl_rangeq_stats_t qs;
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_eq(qs.holds, 4);
	sl_reactor_on_session_down(f.r, 1, 1);
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_eq(qs.holds, 1);
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.assignments, 1);
	ck_assert_uint_eq(s.peers, 1);
	/* its late events are ignored; its old generation times nothing out */
	deliver(&f, 1, 1, src, 1, RLEN - 1);
	status_of(&f, 1, 1, N - 1);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 0);
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.ignored, 2);
	ck_assert_uint_eq(s.peers, 1);
	/* a stray hold of the dead session is removed by the sweeper */
	ck_assert_int_eq(sl_rangeq_take(f.q, 1, 1, N - 1, RLEN, &a), 1);
	sl_reactor_sweep_t sw;
	ck_assert_int_eq(sl_reactor_sweep(f.r, &sw), 0);
	ck_assert_uint_eq(sw.dead_holds, 1);
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_eq(qs.holds, 1);
	/* the reconnected session (new generation) works */
	status_of(&f, 1, 7, N - 1);
	ck_assert(take(&f, 1, 7, N - 1, &a));
	fx_close(&f, false);
}
END_TEST

START_TEST(test_work_bounded_by_peer_tip_target_and_window)
{
	fx_t f;
	fx_open(&f, 3);
	sl_rangeq_stats_t qs;
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_eq(qs.ensured, 0); /* no peer: no work */
	status_of(&f, 1, 1, 250);
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_eq(qs.ensured, 250); /* heights 1..250 */
	sl_reactor_set_target(f.r, 180);
	status_of(&f, 2, 2, N - 1);
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_eq(qs.ensured, 250); /* target below: nothing new */
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.target, 180);
	ck_assert_uint_eq(s.best_peer_height, N - 1);
	ck_assert_uint_eq(s.state, SL_REACTOR_SYNCING);
	sl_reactor_set_target(f.r, SL_REACTOR_NO_TARGET);
	sl_rangeq_stats(f.q, &qs);
	/* bounded ahead of the tip, on a whole range: tip + 1 + cap = 801 taken
	   down to 800, heights 1..799 (a part of bucket 800 would be fetched
	   in two requests) */
	ck_assert_uint_eq(qs.ensured, AHEAD * RLEN - 1);
	sl_range_info_t ri[WINDOW];
	uint32_t n = sl_reactor_ranges(f.r, ri, WINDOW);
	ck_assert_uint_le(n, AHEAD + 1);
	for (uint32_t i = 1; i < n; i++)
		ck_assert_uint_gt(ri[i].range.start, ri[i - 1].range.start);
	ck_assert_uint_eq(ri[0].range.start, 1);
	/* a peer never takes beyond its own tip */
	sl_range_t a;
	ck_assert(take(&f, 3, 3, 50, &a));
	ck_assert_uint_eq(a.start + a.len - 1, 50);
	fx_close(&f, false);
}
END_TEST

/* The tip stops anywhere (here 136); the work queued ahead of it still ends
   on a whole range, so no bucket is fetched in two requests. */
START_TEST(test_work_ahead_ends_on_a_whole_range)
{
	fx_t f;
	fx_open(&f, 3);
	status_of(&f, 1, 1, N - 1);
	sl_range_t a, b;
	ck_assert(take(&f, 1, 1, N - 1, &a));
	ck_assert(take(&f, 1, 1, N - 1, &b));
	deliver(&f, 1, 1, src, 1, 136);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 136);
	sl_range_info_t ri[WINDOW];
	uint32_t n = sl_reactor_ranges(f.r, ri, WINDOW), hi = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t end = ri[i].range.start + ri[i].range.len;
		hi = SL_MAX(hi, end);
		ck_assert_msg(end % RLEN == 0, "range [%u, %u) ends inside a bucket",
		              ri[i].range.start, end);
	}
	ck_assert_uint_eq(hi, (137 + AHEAD * RLEN) / RLEN * RLEN);
	fx_close(&f, false);
}
END_TEST

START_TEST(test_commit_buffer_is_bounded)
{
	fx_t f;
	fx_open(&f, 3);
	status_of(&f, 1, 1, N - 1);
	/* everything but height 1 arrives: only the window is kept */
	deliver(&f, 1, 1, src, 2, N - 2);
	sl_reactor_tick(f.r, f.now);
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.tip, 0);
	ck_assert_uint_eq(s.buffered, AHEAD * RLEN - 1);
	ck_assert_uint_eq(s.outside, (N - 2) - (AHEAD * RLEN - 1));
	deliver(&f, 1, 1, src, 1, 1);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), AHEAD * RLEN);
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.buffered, 0);
	sl_rangeq_stats_t qs;
	sl_rangeq_stats(f.q, &qs);
	ck_assert_uint_le(qs.queued + qs.held, AHEAD + 1);
	ck_assert_uint_le(qs.live_heights, AHEAD * RLEN);
	fx_close(&f, true);
}
END_TEST

START_TEST(test_reorg_to_truncates_store_and_table)
{
	fx_t f;
	fx_open(&f, 3);
	sl_reactor_set_target(f.r, 500);
	status_of(&f, 1, 1, N - 1);
	deliver(&f, 1, 1, src, 1, 500);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 500);
	/* a branch from 300, 400 long */
	uint8_t *br = malloc((size_t)701 * HS);
	memcpy(br, src, (size_t)301 * HS);
	mine_from(br + (size_t)301 * HS, br + (size_t)300 * HS, 301, 400, sl_wall_unix() - 4 * N,
	          99);
	/* a peer with more work and another hash at a height we have */
	sl_reactor_peer_status_t st = {.best_height = 450};
	sl_sha256d_hdr(br + (size_t)450 * HS, st.best_hash);
	st.chainwork[0] = 1;
	sl_reactor_on_status(f.r, 3, 3, &st);
	sl_reactor_out_t o[16];
	ck_assert_uint_eq(drain(&f, o, 16), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_FORK);
	ck_assert_uint_eq(o[0].sess, 3);
	ck_assert_uint_eq(o[0].height, 450);
	sl_reactor_on_status(f.r, 3, 3, &st); /* reported once */
	ck_assert_uint_eq(drain(&f, o, 16), 0);
	/* work above the fork is held by someone: it gets DROP_EXPECTATION */
	sl_reactor_set_target(f.r, 700);
	sl_range_t a;
	ck_assert(take(&f, 1, 1, N - 1, &a));
	ck_assert_uint_eq(a.start, 501);
	uint64_t epoch = sl_store_epoch(f.tc.s);
	ck_assert_int_eq(sl_reactor_reorg_to(f.r, 300), SL_CHAINSTORE_OK);
	ck_assert_uint_eq(tip_of(&f), 300);
	ck_assert_uint_eq(sl_store_committed(f.tc.s), 301);
	ck_assert_uint_gt(sl_store_epoch(f.tc.s), epoch);
	ck_assert_uint_eq(drain(&f, o, 16), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_DROP_EXPECTATION);
	ck_assert_uint_eq(o[0].sess, 1);
	ck_assert_uint_eq(o[0].drop.start, 501);
	sl_range_info_t ri[WINDOW];
	uint32_t n = sl_reactor_ranges(f.r, ri, WINDOW);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(ri[0].range.start, 301); /* re-ensured from the fork */
	ck_assert_uint_eq(ri[0].n_holds, 0);
	ck_assert_int_eq(sl_reactor_sweep(f.r, NULL), 0);
	/* the branch commits on top of the fork point */
	sl_reactor_on_session_down(f.r, 1, 1);
	deliver(&f, 3, 3, br, 301, 400);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 700);
	sl_reactor_delete(f.r);
	tc_close_verify(&f.tc, br, 700);
	free(f.mem);
	free(br);
}
END_TEST

/* ---- NOT_FOUND UNKNOWN_ANCHOR: a peer on another branch -------------------- */

/* give_back takes a range for (sess, gen), has the routine give it back to
   the table (NOT_FOUND) and reports WorkReturned with nf_reason. */
static void give_back(fx_t *f, uint32_t sess, uint32_t gen, uint16_t nf)
{
	sl_range_t a;
	ck_assert(take(f, sess, gen, N - 1, &a));
	ck_assert_int_eq(sl_rangeq_return(f->q, sess, gen, &a, SL_RANGE_WHY_NOT_FOUND),
	                 SL_RANGEQ_OK);
	sl_reactor_on_work_returned(f->r, sess, gen, &a, nf);
}

/* status_work sends a STATUS of (sess, gen) at `tip` with chainwork = ours
   plus `delta` (-1, 0 or +1 in the last byte). */
static void status_work(fx_t *f, uint32_t sess, uint32_t gen, uint32_t tip, int delta)
{
	sl_reactor_peer_status_t st = {.best_height = tip};
	sl_sha256d_hdr(src + (size_t)tip * HS, st.best_hash);
	sl_chainstore_tip_t t;
	tc_tip(&f->tc, &t);
	memcpy(st.chainwork, t.chainwork, 32);
	ck_assert_uint_gt(st.chainwork[31], 1); /* regtest: 2 a header, never 0 */
	ck_assert_uint_lt(st.chainwork[31], 0xff);
	st.chainwork[31] = (uint8_t)(st.chainwork[31] + delta);
	sl_reactor_on_status(f->r, sess, gen, &st);
}

static uint64_t forks_of(fx_t *f)
{
	sl_reactor_status_t s;
	sl_reactor_status(f->r, &s);
	return s.forks;
}

/* A STATUS tip the peer then cannot serve (NOT_FOUND BEYOND_TIP at or
   below it): the claim is cut to what it can serve — no more work is made
   for it above that — and one record-only MISBEHAVIOR comes out; a
   BEYOND_TIP above the (cut) claim is no lie and says nothing. */
START_TEST(test_false_tip_is_cut_and_recorded)
{
	fx_t f;
	fx_open(&f, 3);
	status_of(&f, 1, 1, 500);
	sl_range_t a;
	ck_assert(take(&f, 1, 1, 500, &a));
	ck_assert_int_eq(sl_rangeq_return(f.q, 1, 1, &a, SL_RANGE_WHY_NOT_FOUND), SL_RANGEQ_OK);
	sl_reactor_on_work_returned(f.r, 1, 1, &a, SL_WIRE_NF_BEYOND_TIP);
	sl_reactor_out_t o[8];
	ck_assert_uint_eq(drain(&f, o, 8), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_MISBEHAVIOR);
	ck_assert_int_eq(o[0].reason, SL_REACTOR_FALSE_TIP);
	ck_assert_uint_eq(o[0].sess, 1);
	ck_assert_uint_eq(o[0].height, a.start);
	ck_assert_uint_eq(o[0].peer_tip, 500);
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.best_peer_height, a.start - 1);
	ck_assert_uint_eq(s.false_tips, 1);
	/* above the cut claim: not a lie */
	sl_range_t b = a;
	b.start = a.start + 1;
	sl_reactor_on_work_returned(f.r, 1, 1, &b, SL_WIRE_NF_BEYOND_TIP);
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	fx_close(&f, false);
}
END_TEST

/* A STATUS whose tip we hold (same height and hash) but whose chainwork
   is more than those headers carry: recorded once, the claim cut to our
   work (so no FORK comes of it); an honest claim says nothing. */
START_TEST(test_false_work_is_recorded)
{
	fx_t f;
	fx_open(&f, 3);
	status_of(&f, 1, 1, N - 1);
	deliver(&f, 1, 1, src, 1, 150);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 150);
	sl_reactor_out_t o[8];
	drain(&f, o, 8);
	status_work(&f, 2, 2, 150, 0); /* honest */
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	status_work(&f, 3, 3, 150, +1); /* more work than its headers carry */
	ck_assert_uint_eq(drain(&f, o, 8), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_MISBEHAVIOR);
	ck_assert_int_eq(o[0].reason, SL_REACTOR_FALSE_WORK);
	ck_assert_uint_eq(o[0].sess, 3);
	ck_assert_uint_eq(forks_of(&f), 0);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(drain(&f, o, 8), 0); /* once */
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.false_works, 1);
	fx_close(&f, false);
}
END_TEST

/* UNKNOWN_ANCHOR from a peer whose STATUS advertised more work than ours:
   it is on another branch, so exactly one FORK output (its session, its
   advertised tip as peer_tip, a height we have); a second UNKNOWN_ANCHOR
   for the same advertised tip yields none, a new advertised tip yields one
   more.  The assignment is forgotten every time. */
START_TEST(test_unknown_anchor_from_heavier_peer_forks_once_per_tip)
{
	fx_t f;
	fx_open(&f, 3);
	status_of(&f, 1, 1, N - 1); /* work tip + 2 > ours */
	deliver(&f, 1, 1, src, 1, 150);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 150);
	sl_reactor_out_t o[8];
	ck_assert_uint_eq(drain(&f, o, 8), 0);

	give_back(&f, 1, 1, SL_WIRE_NF_UNKNOWN_ANCHOR);
	ck_assert_uint_eq(drain(&f, o, 8), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_FORK);
	ck_assert_uint_eq(o[0].sess, 1);
	ck_assert_uint_eq(o[0].gen, 1);
	ck_assert_uint_eq(o[0].peer_tip, N - 1);
	ck_assert_uint_le(o[0].height, 150); /* a height we have */
	ck_assert_uint_eq(forks_of(&f), 1);
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.assignments, 0);

	give_back(&f, 1, 1, SL_WIRE_NF_UNKNOWN_ANCHOR); /* same tip: none */
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	ck_assert_uint_eq(forks_of(&f), 1);
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.assignments, 0);

	status_of(&f, 1, 1, N - 2); /* a new tip (above ours: no FORK by itself) */
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	give_back(&f, 1, 1, SL_WIRE_NF_UNKNOWN_ANCHOR);
	ck_assert_uint_eq(drain(&f, o, 8), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_FORK);
	ck_assert_uint_eq(o[0].peer_tip, N - 2);
	ck_assert_uint_eq(forks_of(&f), 2);
	give_back(&f, 1, 1, SL_WIRE_NF_UNKNOWN_ANCHOR);
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	ck_assert_int_eq(sl_reactor_sweep(f.r, NULL), 0);
	fx_close(&f, true);
}
END_TEST

/* No FORK from an UNKNOWN_ANCHOR of a peer advertising equal or less work
   than ours, of a peer that sent no STATUS, or of a session that went
   down; and none from a heavier peer's NOT_FOUND of another reason (0:
   none, BEYOND_TIP), which leaves its one FORK for a later
   UNKNOWN_ANCHOR. */
START_TEST(test_no_fork_without_more_work_or_unknown_anchor)
{
	fx_t f;
	fx_open(&f, 3);
	status_of(&f, 1, 1, N - 1);
	deliver(&f, 1, 1, src, 1, 150);
	sl_reactor_tick(f.r, f.now);
	ck_assert_uint_eq(tip_of(&f), 150);
	sl_reactor_out_t o[8];
	ck_assert_uint_eq(drain(&f, o, 8), 0);

	status_work(&f, 2, 2, N - 1, 0);  /* equal work */
	status_work(&f, 3, 3, N - 1, -1); /* less work */
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	give_back(&f, 2, 2, SL_WIRE_NF_UNKNOWN_ANCHOR);
	give_back(&f, 3, 3, SL_WIRE_NF_UNKNOWN_ANCHOR);
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	/* no STATUS at all */
	sl_range_t a;
	ck_assert(sl_rangeq_take(f.q, 4, 4, N - 1, RLEN, &a));
	ck_assert_int_eq(sl_rangeq_return(f.q, 4, 4, &a, SL_RANGE_WHY_NOT_FOUND), SL_RANGEQ_OK);
	sl_reactor_on_work_returned(f.r, 4, 4, &a, SL_WIRE_NF_UNKNOWN_ANCHOR);
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	/* the heavier peer: other reasons are not a branch (BEYOND_TIP below
	   its claim is a false tip: recorded, not a FORK) */
	give_back(&f, 1, 1, 0);
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	give_back(&f, 1, 1, SL_WIRE_NF_BEYOND_TIP);
	ck_assert_uint_eq(drain(&f, o, 8), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_MISBEHAVIOR);
	ck_assert_int_eq(o[0].reason, SL_REACTOR_FALSE_TIP);
	ck_assert_uint_eq(forks_of(&f), 0);
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.assignments, 0);
	/* ... and its FORK is still there to be had (its next STATUS restores
	   the claim the false tip cut) */
	status_of(&f, 1, 1, N - 1);
	give_back(&f, 1, 1, SL_WIRE_NF_UNKNOWN_ANCHOR);
	ck_assert_uint_eq(drain(&f, o, 8), 1);
	ck_assert_uint_eq(o[0].kind, SL_REACTOR_OUT_FORK);
	ck_assert_uint_eq(o[0].sess, 1);
	ck_assert_uint_eq(o[0].peer_tip, N - 1);
	/* a heavier peer that went down: ignored */
	status_of(&f, 5, 5, N - 1);
	sl_range_t b;
	ck_assert(take(&f, 5, 5, N - 1, &b));
	sl_reactor_on_session_down(f.r, 5, 5);
	sl_reactor_on_work_returned(f.r, 5, 5, &b, SL_WIRE_NF_UNKNOWN_ANCHOR);
	ck_assert_uint_eq(drain(&f, o, 8), 0);
	ck_assert_uint_eq(forks_of(&f), 1);
	fx_close(&f, true);
}
END_TEST

/* ---- randomized ------------------------------------------------------------ */

typedef struct {
	uint32_t sess, gen;
	sl_range_t r[4];
	uint32_t n;
	bool up;
} sim_peer_t;

START_TEST(test_randomized_invariant_holds)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	const char *e = getenv("SL_TEST_SEED");
	if (e)
		seed = (unsigned)strtoul(e, NULL, 0);
	printf("test_randomized_invariant_holds: seed %u\n", seed);
	srand(seed);
	fx_t f;
	fx_open(&f, 3);
	sim_peer_t p[3];
	uint32_t next_gen = 1;
	for (uint32_t i = 0; i < 3; i++) {
		p[i] = (sim_peer_t){.sess = 10 + i, .gen = next_gen++, .up = true};
		status_of(&f, p[i].sess, p[i].gen, N - 1 - (uint32_t)(rand() % 200));
	}
	uint32_t events = 0;
	for (; events < 20000 && tip_of(&f) < N - 1; events++) {
		sim_peer_t *x = &p[rand() % 3];
		int act = rand() % 100;
		if (!x->up) {
			x->gen = next_gen++;
			x->up = true;
			x->n = 0;
			status_of(&f, x->sess, x->gen, N - 1);
		} else if (act < 30 && x->n < 4) {
			if (take(&f, x->sess, x->gen, N - 1, &x->r[x->n]))
				x->n++;
		} else if (act < 75 && x->n > 0) {
			uint32_t i = (uint32_t)rand() % x->n;
			sl_range_t r = x->r[i];
			uint32_t off = (uint32_t)rand() % r.len, len = 1 + (uint32_t)rand() % 17;
			len = SL_MIN(len, r.len - off);
			if (rand() % 50 == 0) {
				uint8_t junk[HS * 17];
				memcpy(junk, src + (size_t)(r.start + off) * HS, (size_t)len * HS);
				junk[(size_t)(len - 1) * HS + 70] ^= 0x5a; /* time breaks */
				sl_reactor_on_headers(f.r, x->sess, x->gen, r.start + off, len,
				                      junk, NULL, f.now);
			} else {
				deliver(&f, x->sess, x->gen, src, r.start + off, len);
			}
			if (rand() % 6 == 0) /* the answer is over (or lost) */
				x->r[i] = x->r[--x->n];
		} else if (act < 78) {
			sl_reactor_on_session_down(f.r, x->sess, x->gen);
			x->up = false;
		} else if (act < 85 && x->n > 0) {
			uint32_t i = (uint32_t)rand() % x->n;
			if (sl_rangeq_return(f.q, x->sess, x->gen, &x->r[i],
			                     SL_RANGE_WHY_NOT_FOUND) == SL_RANGEQ_OK)
				sl_reactor_on_work_returned(f.r, x->sess, x->gen, &x->r[i], 0);
			x->r[i] = x->r[--x->n];
		} else {
			f.now += (uint64_t)(rand() % 4000) * 1000000ull;
			sl_reactor_tick(f.r, f.now);
			sl_reactor_out_t o[64];
			uint32_t n = drain(&f, o, 64);
			for (uint32_t k = 0; k < SL_MIN(n, 64u); k++) /* the routine forgets it */
				for (uint32_t j = 0; j < 3; j++)
					for (uint32_t m = 0; m < p[j].n; m++)
						if (o[k].kind == SL_REACTOR_OUT_DROP_EXPECTATION &&
						    p[j].sess == o[k].sess &&
						    p[j].gen == o[k].gen &&
						    p[j].r[m].start == o[k].drop.start)
							p[j].r[m--] = p[j].r[--p[j].n];
			sl_rangeq_stats_t qs;
			int rc = sl_rangeq_check(f.q, &qs);
			ck_assert_msg(rc == 0, "seed %u event %u: %s", seed, events,
			              sl_rangeq_bad_str(rc));
			sl_reactor_status_t s;
			sl_reactor_status(f.r, &s);
			ck_assert_uint_le(s.buffered, AHEAD * RLEN);
			/* live work: the window above the tip plus less than one range
			   of committed heights whose cover waits for their holder */
			ck_assert_uint_le(qs.live_heights, (AHEAD + 1) * RLEN);
			ck_assert_uint_le(qs.queued + qs.held, AHEAD + 2);
		}
	}
	sl_reactor_status_t fs;
	sl_reactor_status(f.r, &fs);
	printf("randomized: %u events, tip %u, timeouts %lu, invalid %lu, dup %lu\n", events,
	       fs.tip, (unsigned long)fs.timeouts, (unsigned long)fs.invalid,
	       (unsigned long)fs.dup);
	ck_assert_msg(tip_of(&f) == N - 1, "seed %u: stuck at %u", seed, tip_of(&f));
	sl_reactor_sweep_t sw;
	ck_assert_int_eq(sl_reactor_sweep(f.r, &sw), 0);
	ck_assert_uint_eq(sw.dead_holds, 0);
	ck_assert_uint_eq(f.tc.bad_start, 0);
	fx_close(&f, true);
}
END_TEST

/* CONFIG_SL_INVARIANTS (the suite's build has it): a table that lost a
   height is reported by the sweeper and by the periodic check in tick,
   each once per check; a sound table checks clean. */
START_TEST(test_invariant_check_reports_lost_heights)
{
	ck_assert_msg(SL_INVARIANTS, "the test build must have CONFIG_SL_INVARIANTS");
	fx_t f;
	fx_open(&f, 3);
	status_of(&f, 1, 1, N - 1);
	sl_reactor_tick(f.r, f.now);
	sl_reactor_status_t s;
	sl_reactor_status(f.r, &s);
	ck_assert_uint_ge(s.inv_checks, 1);
	ck_assert_uint_eq(s.inv_broken, 0);
	ck_assert_int_eq(sl_reactor_sweep(f.r, NULL), 0);
	/* lose one ensured height: conservation no longer holds */
	atomic_fetch_add(&f.q->ensured, 1);
	ck_assert_int_eq(sl_reactor_sweep(f.r, NULL), -SL_RANGEQ_BAD_CONSERVATION);
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.inv_broken, 1);
	uint64_t checks = s.inv_checks;
	f.now += SL_REACTOR_CHECK_NS;
	sl_reactor_tick(f.r, f.now);
	sl_reactor_status(f.r, &s);
	ck_assert_uint_eq(s.inv_checks, checks + 1);
	ck_assert_uint_eq(s.inv_broken, 2);
	atomic_fetch_sub(&f.q->ensured, 1);
	fx_close(&f, false);
}
END_TEST

static Suite *reactor_suite(void)
{
	Suite *s = suite_create("reactor");
	TCase *t = tcase_create("core");
	tcase_add_unchecked_fixture(t, setup, NULL);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_new_refuses_bad_options);
	tcase_add_test(t, test_one_sha256d_per_header_on_the_sync_path);
	tcase_add_test(t, test_out_of_order_commits_by_height);
	tcase_add_test(t, test_partial_answer_credits_part_requeues_rest);
	tcase_add_test(t, test_delivered_range_is_not_split_by_cover);
	tcase_add_test(t, test_restart_refetches_heights_lost_before_commit);
	tcase_add_test(t, test_timeout_returns_work_once);
	tcase_add_test(t, test_late_answer_after_timeout_is_used_once);
	tcase_add_test(t, test_invalid_batch_rejected_sender_reported);
	tcase_add_test(t, test_refused_heights_rearm_the_other_holder);
	tcase_add_test(t, test_session_down_forgets_holds);
	tcase_add_test(t, test_work_bounded_by_peer_tip_target_and_window);
	tcase_add_test(t, test_commit_buffer_is_bounded);
	tcase_add_test(t, test_work_ahead_ends_on_a_whole_range);
	tcase_add_test(t, test_reorg_to_truncates_store_and_table);
	tcase_add_test(t, test_unknown_anchor_from_heavier_peer_forks_once_per_tip);
	tcase_add_test(t, test_no_fork_without_more_work_or_unknown_anchor);
	tcase_add_test(t, test_false_tip_is_cut_and_recorded);
	tcase_add_test(t, test_false_work_is_recorded);
	tcase_add_test(t, test_randomized_invariant_holds);
	tcase_add_test(t, test_invariant_check_reports_lost_heights);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reactor_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
