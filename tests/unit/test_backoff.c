/* test_backoff.c — backpressure (sl_backoff.h): the 75 % mark, at most one
   BACKOFF per window, K notices then silent drops, recovery when load falls
   (silent mode never sticks), per-sender independence, and honouring a
   received BACKOFF.  Seeds: BACKOFF_SEED=<n> replays the randomized run. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sl_backoff.h"
#include "sl_time.h"

#define S  SL_NS_PER_S
#define MS SL_NS_PER_MS

static sl_backoff_cfg_t dflt(void)
{
	sl_backoff_cfg_t cfg;
	sl_backoff_cfg_default(&cfg);
	ck_assert_int_eq(sl_backoff_cfg_check(&cfg), SL_BACKOFF_ERR_OK);
	return cfg;
}

/* One frame of `p` at `t`; asserts the action, returns the announced ms. */
static uint32_t expect(const sl_backoff_cfg_t *cfg, sl_backoff_peer_t *p, uint64_t t, bool over,
                       sl_backoff_action_t want)
{
	uint32_t ms = 0;
	sl_backoff_action_t got = sl_backoff_step(cfg, p, t, over, &ms);
	ck_assert_msg(got == want, "t=%llu ms over=%d: got %s want %s",
	              (unsigned long long)(t / MS), over, sl_backoff_action_str(got),
	              sl_backoff_action_str(want));
	return ms;
}

/* Drives `p` into silent mode from a fresh window at t0 (notices at t0,
   t0 + 1 s, t0 + 2 s); returns the time of the last notice. */
static uint64_t make_silent(const sl_backoff_cfg_t *cfg, sl_backoff_peer_t *p, uint64_t t0)
{
	uint64_t t = t0;
	for (uint32_t i = 0; i < cfg->notices; i++, t += S)
		ck_assert_uint_eq(expect(cfg, p, t, true, SL_BACKOFF_SEND), cfg->backoff_ms);
	ck_assert(sl_backoff_silent(cfg, p));
	return t - S;
}

/* ---- configuration and the mark ------------------------------------------ */

START_TEST(test_cfg_check_rejects_bad)
{
	sl_backoff_cfg_t c = dflt();
	ck_assert_uint_eq(c.mark_pct, 75);
	ck_assert_uint_eq(c.notices, 3);
	ck_assert_uint_eq(c.backoff_ms, 1000);
	c.mark_pct = 0;
	ck_assert_int_eq(sl_backoff_cfg_check(&c), SL_BACKOFF_ERR_MARK);
	c.mark_pct = 101;
	ck_assert_int_eq(sl_backoff_cfg_check(&c), SL_BACKOFF_ERR_MARK);
	c = dflt();
	c.notices = 0;
	ck_assert_int_eq(sl_backoff_cfg_check(&c), SL_BACKOFF_ERR_NOTICES);
	c = dflt();
	c.backoff_ms = 999; /* DESIGN.md: >= 1 s */
	ck_assert_int_eq(sl_backoff_cfg_check(&c), SL_BACKOFF_ERR_MS);
	c.backoff_ms = 0;
	ck_assert_int_eq(sl_backoff_cfg_check(&c), SL_BACKOFF_ERR_MS);
	c = dflt();
	c.mark_pct = 100;
	c.backoff_ms = 1000;
	ck_assert_int_eq(sl_backoff_cfg_check(&c), SL_BACKOFF_ERR_OK);
}
END_TEST

START_TEST(test_mark_is_75_percent_of_capacity)
{
	sl_backoff_cfg_t c = dflt();
	ck_assert(!sl_backoff_over_mark(&c, 0, 1024));
	ck_assert(!sl_backoff_over_mark(&c, 767, 1024)); /* 74.9 % */
	ck_assert(sl_backoff_over_mark(&c, 768, 1024));  /* exactly 75 % */
	ck_assert(sl_backoff_over_mark(&c, 1024, 1024));
	ck_assert(!sl_backoff_over_mark(&c, 2, 4));
	ck_assert(sl_backoff_over_mark(&c, 3, 4));
	ck_assert(!sl_backoff_over_mark(&c, 5, 0)); /* no capacity: never */
	ck_assert(!sl_backoff_over_mark(&c, UINT32_MAX / 4 * 3 - 1, UINT32_MAX));
	ck_assert(sl_backoff_over_mark(&c, UINT32_MAX, UINT32_MAX)); /* no overflow */
}
END_TEST

/* ---- the meter ----------------------------------------------------------- */

START_TEST(test_below_mark_is_none)
{
	sl_backoff_cfg_t c = dflt();
	sl_backoff_peer_t p;
	sl_backoff_peer_init(&p);
	for (uint64_t t = 0; t < 10 * S; t += 10 * MS) {
		uint32_t ms = 12345;
		ck_assert_int_eq(sl_backoff_on_frame(&c, &p, t, 700, 1024, &ms), SL_BACKOFF_NONE);
		ck_assert_uint_eq(ms, 12345); /* untouched unless SEND */
	}
	ck_assert_uint_eq(p.notices, 0);
	ck_assert(!sl_backoff_silent(&c, &p));
}
END_TEST

START_TEST(test_above_mark_one_notice_per_window)
{
	sl_backoff_cfg_t c = dflt();
	c.notices = 100; /* look at the window alone */
	sl_backoff_peer_t p;
	sl_backoff_peer_init(&p);
	unsigned sends = 0;
	uint64_t t0 = 50 * S;
	for (uint64_t t = t0; t < t0 + 10 * S; t += 10 * MS) {
		uint32_t ms = 0;
		sl_backoff_action_t a = sl_backoff_on_frame(&c, &p, t, 1000, 1024, &ms);
		ck_assert_int_ne(a, SL_BACKOFF_DROP_SILENT);
		if (a == SL_BACKOFF_SEND) {
			ck_assert_uint_eq(t, t0 + sends * S); /* 0, 1 s, 2 s, ... */
			ck_assert_uint_eq(ms, 1000);
			sends++;
		}
	}
	ck_assert_uint_eq(sends, 10);
}
END_TEST

START_TEST(test_after_k_notices_drop_silent)
{
	sl_backoff_cfg_t c = dflt();
	sl_backoff_peer_t p;
	sl_backoff_peer_init(&p);
	uint64_t t = S;
	for (unsigned n = 0; n < 3; n++) {
		ck_assert_uint_eq(expect(&c, &p, t, true, SL_BACKOFF_SEND), 1000);
		ck_assert(n == 2 ? sl_backoff_silent(&c, &p) : !sl_backoff_silent(&c, &p));
		if (n == 2)
			break;
		for (unsigned k = 1; k < 10; k++) /* frames inside the window are served */
			expect(&c, &p, t + k * 100 * MS, true, SL_BACKOFF_NONE);
		t += S;
	}
	/* after the third notice: silent drops, never a fourth notice */
	for (uint64_t u = t + MS; u < t + 30 * S; u += 250 * MS)
		expect(&c, &p, u, true, SL_BACKOFF_DROP_SILENT);
	ck_assert_uint_eq(p.notices, 3);
}
END_TEST

START_TEST(test_silent_mode_recovers_when_load_falls)
{
	sl_backoff_cfg_t c = dflt();
	sl_backoff_peer_t p;
	sl_backoff_peer_init(&p);
	uint64_t t = make_silent(&c, &p, 10 * S);
	expect(&c, &p, t + 100 * MS, true, SL_BACKOFF_DROP_SILENT);
	/* first frame served in a cycle below the mark: recovered */
	ck_assert_int_eq(sl_backoff_on_frame(&c, &p, t + 200 * MS, 767, 1024, &(uint32_t){0}),
	                 SL_BACKOFF_NONE);
	ck_assert(!sl_backoff_silent(&c, &p));
	ck_assert_uint_eq(p.notices, 0);
	for (uint64_t u = t + 300 * MS; u < t + 5 * S; u += 100 * MS)
		expect(&c, &p, u, false, SL_BACKOFF_NONE);
}
END_TEST

START_TEST(test_new_overload_starts_notices_from_zero)
{
	sl_backoff_cfg_t c = dflt();
	sl_backoff_peer_t p;
	sl_backoff_peer_init(&p);
	uint64_t t = make_silent(&c, &p, 0);
	expect(&c, &p, t + 500 * MS, false, SL_BACKOFF_NONE); /* recovery */
	/* a later overload gets K fresh notices before silence again */
	uint64_t t2 = t + 20 * S;
	expect(&c, &p, t2, true, SL_BACKOFF_SEND);
	ck_assert_uint_eq(p.notices, 1);
	expect(&c, &p, t2 + 10 * MS, true, SL_BACKOFF_NONE);
	expect(&c, &p, t2 + S, true, SL_BACKOFF_SEND);
	expect(&c, &p, t2 + 2 * S, true, SL_BACKOFF_SEND);
	expect(&c, &p, t2 + 2 * S + 1, true, SL_BACKOFF_DROP_SILENT);
}
END_TEST

START_TEST(test_window_survives_recovery)
{
	sl_backoff_cfg_t c = dflt();
	sl_backoff_peer_t p;
	sl_backoff_peer_init(&p);
	/* load flapping round the mark still sees at most one notice per window */
	expect(&c, &p, 0, true, SL_BACKOFF_SEND);
	expect(&c, &p, 100 * MS, false, SL_BACKOFF_NONE);
	expect(&c, &p, 200 * MS, true, SL_BACKOFF_NONE);
	expect(&c, &p, 300 * MS, false, SL_BACKOFF_NONE);
	expect(&c, &p, S - 1, true, SL_BACKOFF_NONE);
	expect(&c, &p, S, true, SL_BACKOFF_SEND);
	ck_assert_uint_eq(p.notices, 1); /* the flap reset the count */
}
END_TEST

START_TEST(test_senders_are_independent)
{
	sl_backoff_cfg_t c = dflt();
	sl_backoff_peer_t a, b;
	sl_backoff_peer_init(&a);
	sl_backoff_peer_init(&b);
	uint64_t t = make_silent(&c, &a, 0);
	expect(&c, &b, t + 1, true, SL_BACKOFF_SEND); /* b's first notice */
	expect(&c, &a, t + 2, true, SL_BACKOFF_DROP_SILENT);
	expect(&c, &b, t + 3, true, SL_BACKOFF_NONE);
	ck_assert_uint_eq(b.notices, 1);
}
END_TEST

START_TEST(test_custom_k_and_window)
{
	sl_backoff_cfg_t c = {.mark_pct = 50, .notices = 1, .backoff_ms = 2500};
	ck_assert_int_eq(sl_backoff_cfg_check(&c), SL_BACKOFF_ERR_OK);
	sl_backoff_peer_t p;
	sl_backoff_peer_init(&p);
	uint32_t ms = 0;
	ck_assert_int_eq(sl_backoff_on_frame(&c, &p, 0, 49, 100, &ms), SL_BACKOFF_NONE);
	ck_assert_int_eq(sl_backoff_on_frame(&c, &p, 0, 50, 100, &ms), SL_BACKOFF_SEND);
	ck_assert_uint_eq(ms, 2500);
	ck_assert_int_eq(sl_backoff_on_frame(&c, &p, 1, 50, 100, &ms), SL_BACKOFF_DROP_SILENT);
	ck_assert_int_eq(sl_backoff_on_frame(&c, &p, 2, 10, 100, &ms), SL_BACKOFF_NONE);
	/* window of 2.5 s still running after recovery */
	ck_assert_int_eq(sl_backoff_on_frame(&c, &p, 2 * S, 90, 100, &ms), SL_BACKOFF_NONE);
	ck_assert_int_eq(sl_backoff_on_frame(&c, &p, 2500 * MS, 90, 100, &ms), SL_BACKOFF_SEND);
}
END_TEST

/* Random load pattern against the rules, checked as properties:
   below the mark -> NONE; DROP_SILENT iff over and K notices since the
   last below-mark frame; two notices at least one window apart. */
START_TEST(test_random_load_obeys_the_rules)
{
	unsigned seed = getenv("BACKOFF_SEED") ? (unsigned)strtoul(getenv("BACKOFF_SEED"), NULL, 0)
	                                       : (unsigned)time(NULL);
	printf("test_random_load_obeys_the_rules: BACKOFF_SEED=%u\n", seed);
	srand(seed);
	sl_backoff_cfg_t c = dflt();
	sl_backoff_peer_t p;
	sl_backoff_peer_init(&p);
	uint64_t t = 0, last_send = 0;
	unsigned since_recovery = 0, sends = 0, drops = 0, recoveries = 0;
	bool have_send = false, was_silent = false;
	bool over = false;
	for (unsigned i = 0; i < 200000; i++) {
		t += (uint64_t)(rand() % 50) * MS;
		if (rand() % 200 == 0)
			over = !over; /* long runs of either */
		uint32_t cap = 1024,
		         depth = over ? 768 + (uint32_t)rand() % 257 : (uint32_t)rand() % 768;
		uint32_t ms = 0;
		sl_backoff_action_t a = sl_backoff_on_frame(&c, &p, t, depth, cap, &ms);
		if (!over) {
			ck_assert_msg(a == SL_BACKOFF_NONE, "seed %u i %u", seed, i);
			recoveries += was_silent;
			was_silent = false;
			since_recovery = 0;
			continue;
		}
		bool silent = since_recovery >= c.notices;
		ck_assert_msg((a == SL_BACKOFF_DROP_SILENT) == silent, "seed %u i %u", seed, i);
		if (a == SL_BACKOFF_SEND) {
			ck_assert_msg(!have_send || t - last_send >= 1000 * MS, "seed %u i %u",
			              seed, i);
			ck_assert_uint_eq(ms, 1000);
			last_send = t;
			have_send = true;
			since_recovery++;
			sends++;
		}
		drops += a == SL_BACKOFF_DROP_SILENT;
		was_silent = since_recovery >= c.notices;
	}
	printf("  sends %u drops %u recoveries from silence %u\n", sends, drops, recoveries);
	ck_assert_uint_gt(sends, 0);
	ck_assert_uint_gt(drops, 0);
	ck_assert_uint_gt(recoveries, 0);
}
END_TEST

/* ---- receive side -------------------------------------------------------- */

/* ---- load signal with hold ----------------------------------------------- */

#define HOLD (100 * MS)

START_TEST(test_load_below_mark_never_over)
{
	sl_backoff_cfg_t cfg;
	sl_backoff_cfg_default(&cfg);
	sl_backoff_load_t l = {0};
	for (uint32_t t = 0; t < 1000; t++) /* 74 % of 512 = 378.88: below */
		ck_assert(!sl_backoff_load_update(&cfg, &l, t * MS, 378, 512, HOLD));
	ck_assert(!sl_backoff_load_update(&cfg, &l, 5 * S, 0, 0, HOLD)); /* no capacity */
	ck_assert_uint_eq(l.over_until_ns, 0);
}
END_TEST

START_TEST(test_load_hold_bridges_bursty_overload)
{
	/* A full ring every 22 ms (an lcore that sleeps 20 ms between drains)
	   and small drains between: over all along, not flapping. */
	sl_backoff_cfg_t cfg;
	sl_backoff_cfg_default(&cfg);
	sl_backoff_load_t l = {0};
	uint64_t t0 = 7 * S;
	for (uint64_t t = t0; t < t0 + 2 * S; t += MS) {
		uint32_t depth = (t - t0) % (22 * MS) == 0 ? 512 : 20;
		ck_assert_msg(sl_backoff_load_update(&cfg, &l, t, depth, 512, HOLD),
		              "not over at +%llu ms", (unsigned long long)((t - t0) / MS));
	}
	/* and a sender that ignores the notices reaches silent mode */
	sl_backoff_peer_t p;
	sl_backoff_peer_init(&p);
	uint32_t ms;
	unsigned sent = 0;
	for (uint64_t t = t0; t < t0 + 4 * S; t += MS) {
		bool over =
		    sl_backoff_load_update(&cfg, &l, t, (t - t0) % (22 * MS) ? 20 : 512, 512, HOLD);
		sent += sl_backoff_step(&cfg, &p, t, over, &ms) == SL_BACKOFF_SEND;
	}
	ck_assert_uint_eq(sent, cfg.notices);
	ck_assert(sl_backoff_silent(&cfg, &p));
}
END_TEST

START_TEST(test_load_recovers_after_hold_and_silent_mode_ends)
{
	sl_backoff_cfg_t cfg;
	sl_backoff_cfg_default(&cfg);
	sl_backoff_load_t l = {0};
	ck_assert(sl_backoff_load_update(&cfg, &l, S, 384, 512, HOLD)); /* exactly 75 % */
	ck_assert(sl_backoff_load_update(&cfg, &l, S + HOLD - 1, 0, 512, HOLD));
	ck_assert(!sl_backoff_load_update(&cfg, &l, S + HOLD, 0, 512, HOLD));
	ck_assert(!sl_backoff_load_update(&cfg, &l, S + HOLD + MS, 383, 512, HOLD));
	/* silent sender recovers at its first frame once the load fell */
	sl_backoff_peer_t p = {.notices = cfg.notices};
	uint32_t ms;
	ck_assert(sl_backoff_silent(&cfg, &p));
	bool over = sl_backoff_load_update(&cfg, &l, 2 * S, 10, 512, HOLD);
	ck_assert_int_eq(sl_backoff_step(&cfg, &p, 2 * S, over, &ms), SL_BACKOFF_NONE);
	ck_assert(!sl_backoff_silent(&cfg, &p));
}
END_TEST

START_TEST(test_quiet_init_allows_everything)
{
	sl_backoff_quiet_t q;
	sl_backoff_quiet_init(&q);
	for (unsigned s = 0; s < 8; s++)
		ck_assert(sl_backoff_should_send(&q, (uint8_t)s, 0));
}
END_TEST

START_TEST(test_honoured_backoff_blocks_stream5_not_stream0)
{
	sl_backoff_quiet_t q;
	sl_backoff_quiet_init(&q);
	uint64_t now = 10 * S;
	ck_assert_uint_eq(sl_backoff_honour(&q, now, 1500), now + 1500 * MS);
	ck_assert(sl_backoff_should_send(&q, 0, now)); /* session frames always */
	ck_assert(!sl_backoff_should_send(&q, 5, now));
	ck_assert(!sl_backoff_should_send(&q, 1, now));
	ck_assert(sl_backoff_should_send(&q, 0, now + 1500 * MS - 1));
	ck_assert(!sl_backoff_should_send(&q, 5, now + 1500 * MS - 1));
	ck_assert(sl_backoff_should_send(&q, 5, now + 1500 * MS)); /* deadline passed */
	ck_assert(sl_backoff_should_send(&q, 1, now + 2 * S));
}
END_TEST

START_TEST(test_honour_keeps_the_later_deadline)
{
	sl_backoff_quiet_t q;
	sl_backoff_quiet_init(&q);
	ck_assert_uint_eq(sl_backoff_honour(&q, S, 5000), 6 * S);
	ck_assert_uint_eq(sl_backoff_honour(&q, 2 * S, 1000), 6 * S); /* shorter: ignored */
	ck_assert_uint_eq(sl_backoff_honour(&q, 3 * S, 0), 6 * S);    /* 0: nothing */
	ck_assert_uint_eq(sl_backoff_honour(&q, 5 * S, 2000), 7 * S); /* later: extends */
	ck_assert(!sl_backoff_should_send(&q, 5, 7 * S - 1));
}
END_TEST

START_TEST(test_honour_caps_a_hostile_backoff)
{
	sl_backoff_quiet_t q;
	sl_backoff_quiet_init(&q);
	uint64_t now = 100 * S;
	ck_assert_uint_eq(sl_backoff_honour(&q, now, UINT32_MAX),
	                  now + (uint64_t)SL_BACKOFF_HONOUR_MAX_MS * MS);
	ck_assert(sl_backoff_should_send(&q, 5, now + 60 * S));
}
END_TEST

START_TEST(test_strings)
{
	ck_assert_str_eq(sl_backoff_err_str(SL_BACKOFF_ERR_OK), "ok");
	ck_assert_str_eq(sl_backoff_err_str(SL_BACKOFF_ERR_MS), "ms");
	ck_assert_str_eq(sl_backoff_err_str(SL_BACKOFF_ERR_CNT), "?");
	ck_assert_str_eq(sl_backoff_action_str(SL_BACKOFF_DROP_SILENT), "drop_silent");
	ck_assert_str_eq(sl_backoff_action_str((sl_backoff_action_t)3), "?");
}
END_TEST

static Suite *backoff_suite(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("meter");
	tcase_add_test(tc, test_cfg_check_rejects_bad);
	tcase_add_test(tc, test_mark_is_75_percent_of_capacity);
	tcase_add_test(tc, test_below_mark_is_none);
	tcase_add_test(tc, test_above_mark_one_notice_per_window);
	tcase_add_test(tc, test_after_k_notices_drop_silent);
	tcase_add_test(tc, test_silent_mode_recovers_when_load_falls);
	tcase_add_test(tc, test_new_overload_starts_notices_from_zero);
	tcase_add_test(tc, test_window_survives_recovery);
	tcase_add_test(tc, test_senders_are_independent);
	tcase_add_test(tc, test_custom_k_and_window);
	tcase_add_test(tc, test_random_load_obeys_the_rules);
	tcase_add_test(tc, test_strings);
	suite_add_tcase(s, tc);
	TCase *ld = tcase_create("load");
	tcase_add_test(ld, test_load_below_mark_never_over);
	tcase_add_test(ld, test_load_hold_bridges_bursty_overload);
	tcase_add_test(ld, test_load_recovers_after_hold_and_silent_mode_ends);
	suite_add_tcase(s, ld);

	TCase *hq = tcase_create("honour");
	tcase_add_test(hq, test_quiet_init_allows_everything);
	tcase_add_test(hq, test_honoured_backoff_blocks_stream5_not_stream0);
	tcase_add_test(hq, test_honour_keeps_the_later_deadline);
	tcase_add_test(hq, test_honour_caps_a_hostile_backoff);
	suite_add_tcase(s, hq);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(backoff_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
