/* test_rangeq.c — the range table rules of DESIGN.md ("The range table"),
   one test per rule, plus a multi-thread stress test of the conservation
   invariant.  Seeds: RANGEQ_SEED=<n> replays a stress run. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_rangeq.h"
#include "sl_rangeq_private.h"

#define L 100u /* range_len of the small tables below */

static void *mem;

static sl_rangeq_t *mk(uint32_t window, uint32_t range_len, uint32_t fanout)
{
	size_t fp = sl_rangeq_footprint(window);
	ck_assert_uint_gt(fp, 0);
	mem = aligned_alloc(64, SL_ALIGN_UP(fp, 64));
	ck_assert_ptr_nonnull(mem);
	sl_rangeq_t *q = sl_rangeq_new(mem, window, range_len, fanout);
	ck_assert_ptr_nonnull(q);
	return q;
}

static void teardown(void)
{
	free(mem);
	mem = NULL;
}

static void assert_sane(const sl_rangeq_t *q)
{
	int rc = sl_rangeq_check(q, NULL);
	ck_assert_msg(rc == 0, "check failed: %s", sl_rangeq_bad_str(rc));
}

static sl_range_t take(sl_rangeq_t *q, uint32_t sess, uint32_t gen, uint32_t tip, uint32_t cap)
{
	sl_range_t r;
	ck_assert_int_eq(sl_rangeq_take(q, sess, gen, tip, cap, &r), 1);
	return r;
}

static void no_take(sl_rangeq_t *q, uint32_t sess, uint32_t gen, uint32_t tip, uint32_t cap)
{
	sl_range_t r;
	int got = sl_rangeq_take(q, sess, gen, tip, cap, &r);
	ck_assert_msg(got == 0, "unexpected take [%u, +%u) by %u/%u", r.start, r.len, sess, gen);
}

/* ---- construction --------------------------------------------------------- */

START_TEST(test_footprint_rejects_bad_windows)
{
	const uint32_t bad[] = {0, 1, 32, 63, 65, 100, 4095, 1u << 21, UINT32_MAX};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++)
		ck_assert_uint_eq(sl_rangeq_footprint(bad[i]), 0);
	ck_assert_uint_gt(sl_rangeq_footprint(64), 64 * sizeof(sl_rangeq_slot_t));
	ck_assert_uint_gt(sl_rangeq_footprint(1u << 20), sl_rangeq_footprint(4096));
	ck_assert_uint_eq(sl_rangeq_footprint(4096) % 64, 0);

	/* new refuses what footprint refuses, and bad geometry */
	void *m = aligned_alloc(64, sl_rangeq_footprint(64) + 64);
	ck_assert_ptr_null(sl_rangeq_new(m, 100, L, 3));
	ck_assert_ptr_null(sl_rangeq_new(m, 64, 0, 3));
	ck_assert_ptr_null(sl_rangeq_new(m, 64, 2001, 3));
	ck_assert_ptr_null(sl_rangeq_new(m, 64, L, 0));
	ck_assert_ptr_null(sl_rangeq_new(m, 64, L, 9));
	ck_assert_ptr_null(sl_rangeq_new((char *)m + 8, 64, L, 3));
	ck_assert_ptr_null(sl_rangeq_new(NULL, 64, L, 3));
	ck_assert_ptr_nonnull(sl_rangeq_new(m, 64, SL_RANGE_LEN, SL_FANOUT));
	free(m);
}
END_TEST

START_TEST(test_join_validates_magic)
{
	size_t fp = sl_rangeq_footprint(64);
	unsigned char *g = aligned_alloc(64, fp);
	srand(7);
	for (size_t i = 0; i < fp; i++)
		g[i] = (unsigned char)rand();
	ck_assert_ptr_null(sl_rangeq_join(g)); /* garbage */
	memset(g, 0, fp);
	ck_assert_ptr_null(sl_rangeq_join(g)); /* zeroes */
	ck_assert_ptr_null(sl_rangeq_join(NULL));

	sl_rangeq_t *q = sl_rangeq_new(g, 64, L, 3);
	ck_assert_ptr_eq(sl_rangeq_join(g), q);
	ck_assert_uint_eq(sl_rangeq_window(q), 64);
	ck_assert_uint_eq(sl_rangeq_range_len(q), L);
	ck_assert_uint_eq(sl_rangeq_fanout(q), 3);

	q->layout++; /* another layout version */
	ck_assert_ptr_null(sl_rangeq_join(g));
	q->layout--;
	q->magic ^= 1; /* damaged magic */
	ck_assert_ptr_null(sl_rangeq_join(g));
	ck_assert_int_eq(sl_rangeq_check(q, NULL), -SL_RANGEQ_BAD_HEADER);
	q->magic ^= 1;
	q->window = 128; /* geometry disagrees with footprint */
	ck_assert_ptr_null(sl_rangeq_join(g));
	free(g);
}
END_TEST

START_TEST(test_align_leave_delete)
{
	ck_assert_uint_eq(sl_rangeq_align(), SL_CACHE_LINE);
	ck_assert_uint_eq(sl_rangeq_footprint(64) % sl_rangeq_align(), 0);
	size_t fp = sl_rangeq_footprint(64);
	void *g = aligned_alloc(sl_rangeq_align(), fp);
	ck_assert_ptr_null(sl_rangeq_new((char *)g + 8, 64, L, 3)); /* misaligned */
	ck_assert_ptr_null(sl_rangeq_delete(g));                    /* not formatted */
	sl_rangeq_t *q = sl_rangeq_new(g, 64, L, 3);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_eq(sl_rangeq_leave(sl_rangeq_join(g)), g);
	ck_assert_ptr_eq(sl_rangeq_join(g), q); /* leave leaves the table alive */
	ck_assert_ptr_null(sl_rangeq_leave(NULL));
	ck_assert_ptr_eq(sl_rangeq_delete(g), g);
	ck_assert_ptr_null(sl_rangeq_join(g)); /* deleted: joins fail */
	ck_assert_ptr_null(sl_rangeq_delete(g));
	free(g);
}
END_TEST

/* ---- rule 1 ---------------------------------------------------------------- */

START_TEST(test_ensure_is_idempotent)
{
	sl_rangeq_t *q = mk(64, L, 3);
	ck_assert_int_eq(sl_rangeq_ensure(q, 0, 0, SL_RANGE_FWD, false), SL_RANGEQ_ERR_ARGS);
	ck_assert_int_eq(sl_rangeq_ensure(q, UINT32_MAX, 2, SL_RANGE_FWD, false),
	                 SL_RANGEQ_ERR_ARGS);
	ck_assert_int_eq(sl_rangeq_ensure(q, 0, 10, (sl_range_dir_t)2, false), SL_RANGEQ_ERR_ARGS);

	ck_assert_int_eq(sl_rangeq_ensure(q, 0, 250, SL_RANGE_FWD, false), SL_RANGEQ_OK);
	ck_assert_int_eq(sl_rangeq_ensure(q, 0, 250, SL_RANGE_FWD, false), SL_RANGEQ_NOOP);
	ck_assert_int_eq(sl_rangeq_ensure(q, 10, 50, SL_RANGE_FWD, false), SL_RANGEQ_NOOP);
	sl_rangeq_stats_t st;
	assert_sane(q);
	sl_rangeq_check(q, &st);
	ck_assert_uint_eq(st.queued, 3); /* [0,100) [100,200) [200,250) */
	ck_assert_uint_eq(st.live_heights, 250);

	/* assigned work is not queued again, and extension keeps the hold */
	sl_range_t r = take(q, 1, 1, 1000, 2000);
	ck_assert_uint_eq(r.start, 0);
	ck_assert_int_eq(sl_rangeq_ensure(q, 0, 100, SL_RANGE_FWD, false), SL_RANGEQ_NOOP);
	ck_assert_int_eq(sl_rangeq_ensure(q, 250, 30, SL_RANGE_FWD, false), SL_RANGEQ_OK);
	sl_rangeq_check(q, &st);
	ck_assert_uint_eq(st.held, 1);
	ck_assert_uint_eq(st.live_heights, 280);

	/* a bucket `window` buckets away collides with a live one */
	ck_assert_int_eq(sl_rangeq_ensure(q, 64 * L, 10, SL_RANGE_FWD, false), SL_RANGEQ_ERR_FULL);
	assert_sane(q);
	teardown();
}
END_TEST

/* ---- rule 2 ---------------------------------------------------------------- */

START_TEST(test_take_prefers_forward)
{
	sl_rangeq_t *q = mk(64, L, 3);
	no_take(q, 1, 1, 100000, 2000); /* empty table */
	sl_rangeq_ensure(q, 0, L, SL_RANGE_BWD, false);
	sl_rangeq_ensure(q, 500, L, SL_RANGE_FWD, false);
	sl_rangeq_ensure(q, 300, L, SL_RANGE_FWD, false);

	/* a peer below all forward work still gets backward work */
	sl_range_t r = take(q, 9, 1, 250, 2000);
	ck_assert_uint_eq(r.start, 0);
	ck_assert_uint_eq(r.dir, SL_RANGE_BWD);
	ck_assert_int_eq(sl_rangeq_return(q, 9, 1, &r, SL_RANGE_WHY_CANCEL), SL_RANGEQ_OK);

	r = take(q, 1, 1, 10000, 2000); /* forward first, lowest first */
	ck_assert_uint_eq(r.start, 300);
	ck_assert_uint_eq(r.len, L);
	ck_assert_uint_eq(r.dir, SL_RANGE_FWD);
	r = take(q, 1, 1, 10000, 2000);
	ck_assert_uint_eq(r.start, 500);
	r = take(q, 1, 1, 10000, 2000);
	ck_assert_uint_eq(r.start, 0);
	ck_assert_uint_eq(r.dir, SL_RANGE_BWD);
	no_take(q, 1, 1, 10000, 2000);

	/* the peer's tip: a tail range is narrowed to end at the tip */
	r = take(q, 2, 1, 349, 2000);
	ck_assert_uint_eq(r.start, 300);
	ck_assert_uint_eq(r.len, 50);
	r = take(q, 3, 1, 299, 2000); /* cannot serve 300.. → backward */
	ck_assert_uint_eq(r.dir, SL_RANGE_BWD);
	r = take(q, 4, 1, 299, 2000); /* third holder of [0,100) */
	ck_assert_uint_eq(r.start, 0);
	no_take(q, 5, 1, 299, 2000); /* fanout reached, nothing else servable */
	assert_sane(q);
	teardown();
}
END_TEST

START_TEST(test_take_dedups_and_fans_out)
{
	sl_rangeq_t *q = mk(64, L, 3);
	sl_rangeq_ensure(q, 0, L, SL_RANGE_FWD, false);
	sl_range_t r = take(q, 1, 1, 1000, 2000);
	no_take(q, 1, 1, 1000, 2000); /* never the same peer twice */
	no_take(q, 1, 2, 1000, 2000); /* nor another generation of it */
	sl_range_t r2 = take(q, 2, 1, 1000, 2000);
	sl_range_t r3 = take(q, 3, 1, 1000, 2000);
	ck_assert_uint_eq(r2.start, r.start);
	ck_assert_uint_eq(r3.start, r.start);
	no_take(q, 4, 1, 1000, 2000); /* a fourth holder at fanout 3 */

	sl_range_info_t info;
	ck_assert_int_eq(sl_rangeq_range_at(q, r.slot, &info), 1);
	ck_assert_uint_eq(info.n_holds, 3);
	/* a holder leaving lets the fourth in */
	ck_assert_int_eq(sl_rangeq_return(q, 2, 1, &r2, SL_RANGE_WHY_NOT_FOUND), SL_RANGEQ_OK);
	r = take(q, 4, 1, 1000, 2000);
	ck_assert_uint_eq(r.start, 0);
	assert_sane(q);
	teardown();
}
END_TEST

START_TEST(test_take_clamps_count_to_cap)
{
	sl_rangeq_t *q = mk(64, L, 3);
	sl_rangeq_ensure(q, 1000, L, SL_RANGE_FWD, false);
	sl_range_t r = take(q, 1, 1, 5000, 17);
	ck_assert_uint_eq(r.start, 1000);
	ck_assert_uint_eq(r.len, 17);
	r = take(q, 2, 1, 1049, 30); /* tip and cap both narrow: the smaller wins */
	ck_assert_uint_eq(r.len, 30);
	r = take(q, 3, 1, 1009, 30);
	ck_assert_uint_eq(r.len, 10);
	teardown();
}
END_TEST

START_TEST(test_take_skips_finalized_that_would_shrink)
{
	sl_rangeq_t *q = mk(64, L, 3);
	sl_rangeq_ensure(q, 100, L, SL_RANGE_FWD, true);
	sl_rangeq_ensure(q, 0, L, SL_RANGE_BWD, false);
	sl_range_t r = take(q, 1, 1, 150, 2000); /* fin [100,200) would shrink: skipped */
	ck_assert_uint_eq(r.start, 0);
	ck_assert_uint_eq(r.dir, SL_RANGE_BWD);
	no_take(q, 1, 1, 150, 2000);
	r = take(q, 2, 1, 1000, 50); /* cap would shrink it too: skipped */
	ck_assert_uint_eq(r.dir, SL_RANGE_BWD);
	ck_assert_uint_eq(r.len, 50);
	r = take(q, 2, 1, 199, 2000); /* whole fits: taken, unnarrowed */
	ck_assert_uint_eq(r.start, 100);
	ck_assert_uint_eq(r.len, L);
	ck_assert_uint_eq(r.finalized, 1);
	teardown();
}
END_TEST

START_TEST(test_take_prefers_fresh_work)
{
	sl_rangeq_t *q = mk(64, L, 3);
	sl_rangeq_ensure(q, 0, 3 * L, SL_RANGE_FWD, false);
	ck_assert_uint_eq(take(q, 1, 1, 1000, 2000).start, 0);
	ck_assert_uint_eq(take(q, 2, 1, 1000, 2000).start, 100); /* not a second [0,100) */
	ck_assert_uint_eq(take(q, 3, 1, 1000, 2000).start, 200);
	/* all held: the hedge goes to the lowest (the commit waits for it) */
	ck_assert_uint_eq(take(q, 4, 1, 1000, 2000).start, 0);
	ck_assert_uint_eq(take(q, 5, 1, 1000, 2000).start, 0);
	no_take(q, 6, 1, 1000, 2000); /* lowest at fanout: no hedge on the others */
	no_take(q, 4, 1, 1000, 2000); /* s4 holds the lowest already */
	assert_sane(q);
	teardown();
}
END_TEST

/* ---- rule 3 ---------------------------------------------------------------- */

START_TEST(test_return_timeout_keeps_mark)
{
	sl_rangeq_t *q = mk(64, L, 1); /* fanout 1: a mark must not count */
	sl_rangeq_ensure(q, 0, L, SL_RANGE_FWD, false);
	sl_range_t r = take(q, 1, 1, 1000, 2000);
	no_take(q, 2, 1, 1000, 2000); /* fanout 1 */
	ck_assert_int_eq(sl_rangeq_return(q, 1, 1, &r, SL_RANGE_WHY_TIMEOUT), SL_RANGEQ_OK);
	ck_assert_int_eq(sl_rangeq_return(q, 1, 1, &r, SL_RANGE_WHY_TIMEOUT), SL_RANGEQ_STALE);
	no_take(q, 1, 1, 1000, 2000);              /* not straight back to the slow peer */
	sl_range_t r2 = take(q, 2, 1, 1000, 2000); /* others can */
	ck_assert_uint_eq(r2.start, 0);

	/* every other reason clears the hold without a mark */
	ck_assert_int_eq(sl_rangeq_return(q, 2, 1, &r2, SL_RANGE_WHY_DISCONNECT), SL_RANGEQ_OK);
	r2 = take(q, 2, 1, 1000, 2000);
	ck_assert_int_eq(sl_rangeq_return(q, 2, 1, &r2, SL_RANGE_WHY_SEND_FAIL), SL_RANGEQ_OK);
	no_take(q, 1, 1, 1000, 2000); /* the mark persists until expired */
	ck_assert_uint_eq(sl_rangeq_expire_marks(q), 1);
	r = take(q, 1, 1, 1000, 2000);
	ck_assert_uint_eq(r.start, 0);

	/* bad arguments change nothing */
	ck_assert_int_eq(sl_rangeq_return(q, 1, 1, &r, SL_RANGE_WHY_NONE), SL_RANGEQ_ERR_ARGS);
	sl_range_t bad = r;
	bad.slot = 64;
	ck_assert_int_eq(sl_rangeq_return(q, 1, 1, &bad, SL_RANGE_WHY_PARK), SL_RANGEQ_ERR_ARGS);
	sl_rangeq_stats_t st;
	sl_rangeq_check(q, &st);
	ck_assert_uint_eq(st.holds, 1);
	ck_assert_uint_eq(st.queued + st.held, 1); /* no duplicates */
	assert_sane(q);
	teardown();
}
END_TEST

START_TEST(test_return_is_generation_scoped)
{
	sl_rangeq_t *q = mk(64, L, 3);
	sl_rangeq_ensure(q, 0, 2 * L, SL_RANGE_FWD, false);
	sl_range_t old = take(q, 7, 1, 1000, 2000); /* session 7, generation 1 */
	/* session 7 reconnects as generation 2: forget gen 1 on connect */
	ck_assert_uint_eq(sl_rangeq_forget_peer(q, 7, 1), 1);
	sl_range_t cur = take(q, 7, 2, 1000, 2000);
	ck_assert_uint_eq(cur.start, old.start);

	/* the old generation's late teardown and timeout change nothing */
	ck_assert_int_eq(sl_rangeq_return(q, 7, 1, &old, SL_RANGE_WHY_DISCONNECT), SL_RANGEQ_STALE);
	ck_assert_int_eq(sl_rangeq_return(q, 7, 1, &cur, SL_RANGE_WHY_TIMEOUT), SL_RANGEQ_STALE);
	ck_assert_uint_eq(sl_rangeq_forget_peer(q, 7, 1), 0);
	ck_assert_uint_eq(sl_rangeq_forget_peer(q, 7, 0), 0);
	sl_range_info_t info;
	ck_assert_int_eq(sl_rangeq_range_at(q, cur.slot, &info), 1);
	ck_assert_uint_eq(info.n_holds, 1);
	ck_assert_uint_eq(info.sess[0], 7);
	ck_assert_uint_eq(info.gen[0], 2);
	/* the stale timeout left no mark on generation 2 */
	sl_rangeq_stats_t st;
	sl_rangeq_check(q, &st);
	ck_assert_uint_eq(st.marks, 0);

	/* an assignment from an older incarnation is stale too */
	sl_rangeq_mark_covered(q, 0, 10);
	ck_assert_int_eq(sl_rangeq_return(q, 7, 2, &cur, SL_RANGE_WHY_INVALID), SL_RANGEQ_STALE);
	ck_assert_int_eq(sl_rangeq_return(q, 8, 1, &cur, SL_RANGE_WHY_INVALID), SL_RANGEQ_STALE);
	assert_sane(q);
	teardown();
}
END_TEST

/* ---- rule 4 ---------------------------------------------------------------- */

START_TEST(test_mark_covered_no_overfetch_no_strand)
{
	sl_rangeq_t *q = mk(64, L, 3);
	sl_rangeq_ensure(q, 0, L, SL_RANGE_FWD, false);
	sl_range_t r = take(q, 1, 1, 1000, 2000);
	take(q, 2, 1, 1000, 2000);
	/* a partial answer is credited; the rest is re-queued, holds dropped */
	ck_assert_uint_eq(sl_rangeq_mark_covered(q, 0, 40), 40);
	sl_rangeq_stats_t st;
	sl_rangeq_check(q, &st);
	ck_assert_uint_eq(st.holds, 0);
	ck_assert_uint_eq(st.queued, 1);
	ck_assert_uint_eq(st.live_heights, 60);
	ck_assert_int_eq(sl_rangeq_return(q, 1, 1, &r, SL_RANGE_WHY_TIMEOUT), SL_RANGEQ_STALE);
	r = take(q, 3, 1, 1000, 2000); /* the remainder is takeable, only it */
	ck_assert_uint_eq(r.start, 40);
	ck_assert_uint_eq(r.len, 60);

	/* a cover at the high end too */
	ck_assert_uint_eq(sl_rangeq_mark_covered(q, 90, 10), 10);
	r = take(q, 3, 1, 1000, 2000);
	ck_assert_uint_eq(r.start, 40);
	ck_assert_uint_eq(r.len, 50);

	/* fully covered: leaves the table and all holders; no over-fetch */
	ck_assert_uint_eq(sl_rangeq_mark_covered(q, 0, L), 50);
	no_take(q, 4, 1, 1000, 2000);
	ck_assert_int_eq(sl_rangeq_return(q, 3, 1, &r, SL_RANGE_WHY_TIMEOUT), SL_RANGEQ_STALE);
	ck_assert_int_eq(sl_rangeq_ensure(q, 0, L, SL_RANGE_FWD, false), SL_RANGEQ_NOOP);
	ck_assert_int_eq(sl_rangeq_ensure(q, 20, 30, SL_RANGE_FWD, false), SL_RANGEQ_NOOP);

	/* a cover strictly inside a range leaves it whole: nothing stranded */
	sl_rangeq_ensure(q, 200, L, SL_RANGE_FWD, false);
	ck_assert_uint_eq(sl_rangeq_mark_covered(q, 220, 20), 0);
	r = take(q, 4, 1, 1000, 2000);
	ck_assert_uint_eq(r.start, 200);
	ck_assert_uint_eq(r.len, L);
	/* a cover of heights never ensured is remembered */
	sl_rangeq_mark_covered(q, 400, L);
	ck_assert_int_eq(sl_rangeq_ensure(q, 400, L, SL_RANGE_FWD, false), SL_RANGEQ_NOOP);
	sl_rangeq_check(q, &st);
	ck_assert_uint_eq(st.covered_total, 100);
	ck_assert_uint_eq(st.covered, 2);
	assert_sane(q);
	teardown();
}
END_TEST

/* ---- rule 5 ---------------------------------------------------------------- */

START_TEST(test_reset_above_drops_forward)
{
	sl_rangeq_t *q = mk(64, L, 3);
	sl_rangeq_ensure(q, 0, 5 * L, SL_RANGE_FWD, false); /* 5 ranges */
	sl_rangeq_ensure(q, 2000, L, SL_RANGE_BWD, false);  /* backward, above h */
	sl_range_t a = take(q, 1, 11, 100000, 2000);        /* [0,100) */
	sl_range_t b = take(q, 1, 11, 100000, 2000);        /* [100,200) */
	sl_range_t c = take(q, 1, 11, 100000, 2000);        /* [200,300) */
	sl_range_t g = take(q, 2, 22, 100000, 2000);        /* [300,400): fresh first */
	sl_range_t h = take(q, 2, 22, 100000, 2000);        /* [400,500) */
	sl_range_t d = take(q, 2, 22, 100000, 2000);        /* [0,100): the hedge */
	ck_assert_uint_eq(c.start, 200);
	ck_assert_uint_eq(g.start, 300);
	ck_assert_uint_eq(h.start, 400);
	ck_assert_uint_eq(d.start, 0);
	(void)a, (void)b;

	sl_range_hold_t out[16];
	uint32_t n = sl_rangeq_reset_above(q, 249, out, 16);
	ck_assert_uint_eq(n, 3); /* c (cut range), g and h (gone) */
	bool saw_c = false, saw_g = false, saw_h = false;
	for (uint32_t i = 0; i < n; i++) {
		saw_c |= out[i].sess == 1 && out[i].gen == 11 && out[i].range.start == 200;
		saw_g |= out[i].sess == 2 && out[i].gen == 22 && out[i].range.start == 300;
		saw_h |= out[i].sess == 2 && out[i].gen == 22 && out[i].range.start == 400;
	}
	ck_assert(saw_c && saw_g && saw_h);
	sl_rangeq_stats_t st;
	assert_sane(q);
	sl_rangeq_check(q, &st);
	ck_assert_uint_eq(st.dropped, 250);
	ck_assert_uint_eq(st.live_heights, 250 + L);
	ck_assert_uint_eq(st.holds, 3);

	/* nothing above h is handed out; the cut range is re-queued (fresh
	   work first, then the hedge on the lowest, then backward) */
	sl_range_t r = take(q, 3, 1, 100000, 2000);
	ck_assert_uint_eq(r.start, 200);
	ck_assert_uint_eq(r.len, 50);
	r = take(q, 3, 1, 100000, 2000);
	ck_assert_uint_eq(r.start, 0);
	r = take(q, 3, 1, 100000, 2000);
	ck_assert_uint_eq(r.dir, SL_RANGE_BWD); /* backward work survives */
	no_take(q, 3, 1, 100000, 2000);
	ck_assert_int_eq(sl_rangeq_return(q, 2, 22, &g, SL_RANGE_WHY_CANCEL), SL_RANGEQ_STALE);

	/* more holds than cap: counted, cap reported */
	ck_assert_uint_eq(sl_rangeq_reset_above(q, 0, out, 1), 5); /* 3 + 1 + 1 forward holds */
	assert_sane(q);
	teardown();
}
END_TEST

/* ---- rule 6 ---------------------------------------------------------------- */

START_TEST(test_forget_peer)
{
	sl_rangeq_t *q = mk(64, L, 3);
	sl_rangeq_ensure(q, 0, 4 * L, SL_RANGE_FWD, false);
	for (int i = 0; i < 3; i++)
		take(q, 5, 3, 100000, 2000);
	sl_range_t t = take(q, 5, 3, 100000, 2000);
	sl_range_t other = take(q, 6, 3, 100000, 2000);       /* the hedge on [0,100) */
	sl_rangeq_return(q, 5, 3, &t, SL_RANGE_WHY_TIMEOUT);  /* leaves a mark */
	ck_assert_uint_eq(sl_rangeq_forget_peer(q, 5, 4), 0); /* other gen: untouched */
	ck_assert_uint_eq(sl_rangeq_forget_peer(q, 5, 3), 3);
	ck_assert_uint_eq(sl_rangeq_forget_peer(q, 5, 3), 0);
	sl_rangeq_stats_t st;
	sl_rangeq_check(q, &st);
	ck_assert_uint_eq(st.holds, 1);
	ck_assert_uint_eq(st.marks, 0);
	sl_range_info_t info;
	ck_assert_int_eq(sl_rangeq_range_at(q, other.slot, &info), 1);
	ck_assert_uint_eq(info.sess[0], 6);
	/* the forgotten generation's work is takeable again */
	for (int i = 0; i < 4; i++)
		take(q, 9, 1, 100000, 2000);
	assert_sane(q);
	teardown();
}
END_TEST

/* ---- rule 8 ---------------------------------------------------------------- */

START_TEST(test_epoch_moves_on_ensure_return_forget)
{
	sl_rangeq_t *q = mk(64, L, 3);
	uint64_t e = sl_rangeq_epoch(q);
	sl_rangeq_ensure(q, 0, L, SL_RANGE_FWD, false);
	ck_assert_uint_gt(sl_rangeq_epoch(q), e);
	e = sl_rangeq_epoch(q);
	ck_assert_int_eq(sl_rangeq_ensure(q, 0, L, SL_RANGE_FWD, false), SL_RANGEQ_NOOP);
	ck_assert_uint_eq(sl_rangeq_epoch(q), e); /* no new work, no wake */
	sl_range_t r = take(q, 1, 1, 1000, 2000);
	ck_assert_uint_eq(sl_rangeq_epoch(q), e); /* take never wakes */
	sl_rangeq_return(q, 1, 1, &r, SL_RANGE_WHY_TIMEOUT);
	ck_assert_uint_gt(sl_rangeq_epoch(q), e);
	e = sl_rangeq_epoch(q);
	sl_rangeq_return(q, 1, 1, &r, SL_RANGE_WHY_TIMEOUT); /* stale */
	ck_assert_uint_eq(sl_rangeq_epoch(q), e);
	take(q, 2, 1, 1000, 2000);
	sl_rangeq_forget_peer(q, 2, 1);
	ck_assert_uint_gt(sl_rangeq_epoch(q), e);
	teardown();
}
END_TEST

/* ---- stress ---------------------------------------------------------------- */

#define S_WINDOW   256u
#define S_LEN      50u
#define S_H        (S_WINDOW * S_LEN) /* heights in play: no bucket collides */
#define S_THREADS  2                  /* consumers; plus one producer */
#define S_SESS     4                  /* sessions per consumer */
#define S_HELD     16
#define S_OPS_PROD 300000
#define S_OPS_CONS 400000

#define S_STALE 8 /* stale returns a session remembers (a ring) */

typedef struct {
	uint32_t sess, gen;
	uint32_t n;
	sl_range_t held[S_HELD];
	/* Ranges whose return was STALE: the producer had already moved the
	   slot to a new incarnation (set_desc), and its drop_holds may not
	   have cleared our hold yet.  The audit does not count such a hold
	   while the slot's tag differs from the one we took; a hold the
	   producer never drops is caught by the final return-all check. */
	sl_range_t stale[S_STALE];
	uint32_t n_stale;
} s_sess_t;

typedef struct {
	sl_rangeq_t *q;
	uint64_t rng;
	int id;
	s_sess_t s[S_SESS];
	uint64_t takes, bad, leaks;
} s_cons_t;

static inline uint64_t xs(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void cons_return_one(s_cons_t *c, s_sess_t *s, uint32_t i, sl_range_why_t why)
{
	if (sl_rangeq_return(c->q, s->sess, s->gen, &s->held[i], why) == SL_RANGEQ_STALE)
		s->stale[s->n_stale++ % S_STALE] = s->held[i];
	s->held[i] = s->held[--s->n];
}

/* cons_pending: a hold of s at `slot` is one the producer is dropping (a
   stale return at that slot, whose incarnation `tag` has moved on). */
static bool cons_pending(const s_sess_t *s, uint32_t slot, uint16_t tag)
{
	for (uint32_t j = 0; j < SL_MIN(s->n_stale, (uint32_t)S_STALE); j++)
		if (s->stale[j].slot == slot && s->stale[j].tag != tag)
			return true;
	return false;
}

static void cons_step(s_cons_t *c)
{
	s_sess_t *s = &c->s[xs(&c->rng) % S_SESS];
	uint32_t op = xs(&c->rng) % 100;
	if (op < 55 && s->n < S_HELD) {
		uint32_t tip = (uint32_t)(xs(&c->rng) % (S_H + 100));
		uint32_t cap = 1 + (uint32_t)(xs(&c->rng) % 80);
		sl_range_t r;
		if (sl_rangeq_take(c->q, s->sess, s->gen, tip, cap, &r)) {
			c->takes++;
			c->bad += r.len == 0 || r.len > cap || r.start + r.len - 1 > tip;
			s->held[s->n++] = r;
		}
	} else if (op < 97 && s->n) {
		uint32_t why = 1 + (uint32_t)(xs(&c->rng) % (SL_RANGE_WHY_CNT - 1));
		cons_return_one(c, s, (uint32_t)(xs(&c->rng) % s->n), (sl_range_why_t)why);
	} else if (op < 99) {
		/* crash and reconnect: no returns, forget the generation */
		sl_rangeq_forget_peer(c->q, s->sess, s->gen);
		s->gen++;
		s->n = 0;
		s->n_stale = 0;
	} else {
		sl_rangeq_expire_marks(c->q);
	}
}

/* cons_audit: every hold of (sess, gen) in the table is one the session
   knows about (only its own thread adds them; others only remove). */
static void cons_audit(s_cons_t *c, const s_sess_t *s)
{
	for (uint32_t i = 0; i < S_WINDOW; i++) {
		sl_range_info_t info;
		if (!sl_rangeq_range_at(c->q, i, &info))
			continue;
		for (uint32_t h = 0; h < info.n_holds; h++) {
			if (info.sess[h] != s->sess || info.gen[h] != s->gen)
				continue;
			bool known = cons_pending(s, i, info.range.tag);
			for (uint32_t j = 0; j < s->n; j++)
				known |= s->held[j].slot == i;
			c->leaks += !known;
		}
	}
}

static void *cons_main(void *arg)
{
	s_cons_t *c = arg;
	for (int i = 0; i < S_OPS_CONS; i++) {
		cons_step(c);
		if (i % 8 == 0)
			cons_audit(c, &c->s[i / 8 % S_SESS]);
	}
	return NULL;
}

/* Producer model: 1 = ensured and owed (must be live), 2 = covered. */
static uint8_t model[S_H];

static void prod_step(sl_rangeq_t *q, uint64_t *rng)
{
	uint32_t op = xs(rng) % 100;
	/* half the ops hit the low buckets, where consumers take (races) */
	uint32_t a = (uint32_t)(xs(rng) % (xs(rng) & 1 ? S_H : 8 * S_LEN));
	uint32_t len = 1 + (uint32_t)(xs(rng) % (3 * S_LEN));
	uint32_t b = SL_MIN(a + len, S_H);
	if (op < 50) {
		sl_rangeq_res_t r = sl_rangeq_ensure(q, a, b - a, SL_RANGE_FWD, xs(rng) % 8 == 0);
		ck_assert_int_ne(r, SL_RANGEQ_ERR_FULL);
		ck_assert_int_ne(r, SL_RANGEQ_ERR_ARGS);
		for (uint32_t x = a; x < b; x++)
			if (model[x] == 0)
				model[x] = 1;
	} else if (op < 99) {
		sl_rangeq_mark_covered(q, a, b - a);
		for (uint32_t x = a; x < b; x++)
			model[x] = 2;
	} else {
		sl_range_hold_t out[64];
		sl_rangeq_reset_above(q, a, out, SL_ARRAY_LEN(out));
		for (uint32_t x = a + 1; x < S_H; x++)
			model[x] = 0;
	}
}

START_TEST(test_stress_conservation)
{
	const char *env = getenv("RANGEQ_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0)
	                    : (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 20;
	seed |= 1;
	printf("test_stress_conservation: seed %llu (RANGEQ_SEED to replay)\n",
	       (unsigned long long)seed);
	fflush(stdout);
	sl_rangeq_t *q = mk(S_WINDOW, S_LEN, 3);
	memset(model, 0, sizeof(model));

	static s_cons_t cons[S_THREADS];
	pthread_t th[S_THREADS];
	for (int t = 0; t < S_THREADS; t++) {
		cons[t] = (s_cons_t){.q = q, .rng = seed * (2 * t + 3) | 1, .id = t};
		for (int i = 0; i < S_SESS; i++)
			cons[t].s[i] = (s_sess_t){.sess = (uint32_t)(100 * (t + 1) + i), .gen = 1};
		ck_assert_int_eq(pthread_create(&th[t], NULL, cons_main, &cons[t]), 0);
	}
	uint64_t rng = seed;
	for (int i = 0; i < S_OPS_PROD; i++)
		prod_step(q, &rng);
	for (int t = 0; t < S_THREADS; t++)
		pthread_join(th[t], NULL);

	/* the invariant, the model, and no hold of a forgotten generation */
	sl_rangeq_stats_t st;
	int rc = sl_rangeq_check(q, &st);
	ck_assert_msg(rc == 0, "seed %llu: %s", (unsigned long long)seed, sl_rangeq_bad_str(rc));
	uint64_t takes = 0;
	for (int t = 0; t < S_THREADS; t++) {
		ck_assert_uint_eq(cons[t].bad, 0);
		ck_assert_msg(cons[t].leaks == 0, "seed %llu: %llu holds unknown to their owner",
		              (unsigned long long)seed, (unsigned long long)cons[t].leaks);
		takes += cons[t].takes;
	}
	ck_assert_uint_gt(takes, 1000);
	static uint8_t live[S_H];
	memset(live, 0, sizeof(live));
	for (uint32_t i = 0; i < S_WINDOW; i++) {
		sl_range_info_t info;
		if (!sl_rangeq_range_at(q, i, &info))
			continue;
		for (uint32_t x = info.range.start; x < info.range.start + info.range.len; x++)
			live[x]++;
		for (uint32_t h = 0; h < info.n_holds; h++) {
			uint32_t owner = info.sess[h] / 100 - 1, idx = info.sess[h] % 100;
			ck_assert_uint_lt(owner, S_THREADS);
			ck_assert_uint_eq(info.gen[h], cons[owner].s[idx].gen);
		}
	}
	for (uint32_t x = 0; x < S_H; x++) {
		ck_assert_msg(live[x] <= 1, "seed %llu: height %u live twice",
		              (unsigned long long)seed, x);
		ck_assert_msg(model[x] != 1 || live[x] == 1, "seed %llu: height %u lost",
		              (unsigned long long)seed, x);
	}
	/* every hold in the table is one its owner knows: return all → none */
	for (int t = 0; t < S_THREADS; t++)
		for (int i = 0; i < S_SESS; i++)
			while (cons[t].s[i].n)
				cons_return_one(&cons[t], &cons[t].s[i], 0, SL_RANGE_WHY_CANCEL);
	assert_sane(q);
	sl_rangeq_check(q, &st);
	ck_assert_uint_eq(st.holds, 0);
	printf("test_stress_conservation: %d ops, %llu takes, live %llu, covered %llu\n",
	       S_OPS_PROD + S_THREADS * S_OPS_CONS, (unsigned long long)takes,
	       (unsigned long long)st.live_heights, (unsigned long long)st.covered_total);
	teardown();
}
END_TEST

static Suite *rangeq_suite(void)
{
	Suite *s = suite_create("rangeq");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, test_footprint_rejects_bad_windows);
	tcase_add_test(tc, test_join_validates_magic);
	tcase_add_test(tc, test_align_leave_delete);
	tcase_add_test(tc, test_ensure_is_idempotent);
	tcase_add_test(tc, test_take_prefers_forward);
	tcase_add_test(tc, test_take_dedups_and_fans_out);
	tcase_add_test(tc, test_take_prefers_fresh_work);
	tcase_add_test(tc, test_take_clamps_count_to_cap);
	tcase_add_test(tc, test_take_skips_finalized_that_would_shrink);
	tcase_add_test(tc, test_return_timeout_keeps_mark);
	tcase_add_test(tc, test_return_is_generation_scoped);
	tcase_add_test(tc, test_mark_covered_no_overfetch_no_strand);
	tcase_add_test(tc, test_reset_above_drops_forward);
	tcase_add_test(tc, test_forget_peer);
	tcase_add_test(tc, test_epoch_moves_on_ensure_return_forget);
	suite_add_tcase(s, tc);
	TCase *st = tcase_create("stress");
	tcase_set_timeout(st, 120);
	tcase_add_test(st, test_stress_conservation);
	suite_add_tcase(s, st);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rangeq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
