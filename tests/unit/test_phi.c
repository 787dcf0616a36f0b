/* test_phi.c — the phi-accrual detector and the RTT estimator (sl_phi.h):
   thresholds crossed at the analytically expected times, events only on
   transitions, recovery, DOWN terminal, exact window mean across wrap, RFC
   6298 numbers.  Seeds: PHI_SEED=<n> replays the randomized window test. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_phi.h"
#include "sl_time.h"

#define S  SL_NS_PER_S
#define MS SL_NS_PER_MS
#define US SL_NS_PER_US

static sl_phi_t det; /* 4 KiB: static, not on the stack */

static sl_phi_cfg_t cfg_1s(void)
{
	sl_phi_cfg_t cfg;
	sl_phi_cfg_default(&cfg, 1000000u); /* 1 s keepalive */
	return cfg;
}

/* Heartbeats at t0, t0 + 1 s, ..., t0 + n s; returns the last one. */
static uint64_t beat_every_second(sl_phi_t *p, uint64_t t0, unsigned n)
{
	for (unsigned i = 0; i <= n; i++) {
		sl_phi_heartbeat(p, t0 + i * S);
		ck_assert_int_eq(sl_phi_check(p, t0 + i * S), SL_PHI_EV_NONE);
	}
	return t0 + n * S;
}

/* ---- configuration ------------------------------------------------------- */

START_TEST(test_init_rejects_bad_cfg)
{
	struct {
		uint32_t init, min;
		double suspect, down;
		sl_phi_err_t want;
	} bad[] = {
	    {0, 1000, 8, 16, SL_PHI_ERR_INIT_MEAN},
	    {1000, 0, 8, 16, SL_PHI_ERR_MIN_MEAN},
	    {1000, 1000, 0, 16, SL_PHI_ERR_SUSPECT},
	    {1000, 1000, -1, 16, SL_PHI_ERR_SUSPECT},
	    {1000, 1000, NAN, 16, SL_PHI_ERR_SUSPECT},
	    {1000, 1000, INFINITY, 1e9, SL_PHI_ERR_SUSPECT},
	    {1000, 1000, 8, 8, SL_PHI_ERR_DOWN},
	    {1000, 1000, 8, 4, SL_PHI_ERR_DOWN},
	    {1000, 1000, 8, NAN, SL_PHI_ERR_DOWN},
	    {1000, 1000, 8, INFINITY, SL_PHI_ERR_DOWN},
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		sl_phi_cfg_t cfg = {bad[i].init, bad[i].min, bad[i].suspect, bad[i].down};
		memset(&det, 0xA5, sizeof(det));
		ck_assert_int_eq(sl_phi_init(&det, &cfg, 5 * S), bad[i].want);
		ck_assert_uint_eq(det.last_ns, 0xA5A5A5A5A5A5A5A5ull); /* untouched */
	}
}
END_TEST

START_TEST(test_cfg_default_is_design_numbers)
{
	sl_phi_cfg_t cfg;
	sl_phi_cfg_default(&cfg, 250000u);
	ck_assert_uint_eq(cfg.init_mean_us, 250000u);
	ck_assert_uint_eq(cfg.min_mean_us, SL_PHI_MIN_MEAN_DEFAULT);
	ck_assert(cfg.suspect == 8.0);
	ck_assert(cfg.down == 16.0);
	sl_phi_cfg_default(&cfg, 0);
	ck_assert_uint_eq(cfg.init_mean_us, 1u); /* never a 0 mean */
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_UP);
	ck_assert_uint_eq(sl_phi_samples(&det), 0);
}
END_TEST

/* ---- phi and thresholds -------------------------------------------------- */

START_TEST(test_phi_grows_linearly_with_silence)
{
	sl_phi_cfg_t cfg = cfg_1s();
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	uint64_t last = beat_every_second(&det, 100 * S, 20);
	ck_assert_uint_eq(sl_phi_samples(&det), 20);
	ck_assert_double_eq_tol(sl_phi_mean_us(&det), 1e6, 1e-9);
	ck_assert_double_eq(sl_phi_value(&det, last), 0.0);
	for (unsigned t = 1; t <= 40; t++) /* phi = t / ln 10 for a 1 s mean */
		ck_assert_double_eq_tol(sl_phi_value(&det, last + t * S), t / M_LN10, 1e-9);
	ck_assert_double_eq(sl_phi_value(&det, last - 1), 0.0);
}
END_TEST

START_TEST(test_regular_heartbeat_crosses_8_then_16_at_expected_times)
{
	sl_phi_cfg_t cfg = cfg_1s();
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	uint64_t last = beat_every_second(&det, 7 * S, 30);
	/* Mean 1 s: phi > 8 after 8·ln10 s = 18.420680744 s, > 16 after twice. */
	uint64_t t8 = (uint64_t)(8.0 * M_LN10 * 1e9);
	uint64_t t16 = (uint64_t)(16.0 * M_LN10 * 1e9);
	ck_assert_uint_eq(t8 / MS, 18420);
	ck_assert_uint_eq(t16 / MS, 36841);

	ck_assert_int_eq(sl_phi_check(&det, last + t8 - US), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_UP);
	ck_assert(sl_phi_value(&det, last + t8 - US) < 8.0);
	ck_assert_int_eq(sl_phi_check(&det, last + t8 + US), SL_PHI_EV_SUSPECT);
	ck_assert(sl_phi_value(&det, last + t8 + US) > 8.0);
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_SUSPECT);
	ck_assert_int_eq(sl_phi_check(&det, last + t16 - US), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_SUSPECT);
	ck_assert_int_eq(sl_phi_check(&det, last + t16 + US), SL_PHI_EV_DOWN);
	ck_assert(sl_phi_value(&det, last + t16 + US) > 16.0);
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_DOWN);
}
END_TEST

START_TEST(test_transitions_reported_exactly_once)
{
	sl_phi_cfg_t cfg = cfg_1s();
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	uint64_t last = beat_every_second(&det, 0, 10);
	unsigned n[4] = {0};
	uint64_t at[4] = {0};
	for (uint64_t t = last; t <= last + 60 * S; t += 10 * MS) {
		sl_phi_event_t ev = sl_phi_check(&det, t);
		ck_assert_int_lt(ev, 4);
		if (n[ev]++ == 0)
			at[ev] = t - last;
	}
	ck_assert_uint_eq(n[SL_PHI_EV_SUSPECT], 1);
	ck_assert_uint_eq(n[SL_PHI_EV_DOWN], 1);
	ck_assert_uint_eq(n[SL_PHI_EV_UP], 0);
	ck_assert_uint_eq(at[SL_PHI_EV_SUSPECT], 18430 * MS); /* first 10 ms tick past 18.42 s */
	ck_assert_uint_eq(at[SL_PHI_EV_DOWN], 36850 * MS);
}
END_TEST

START_TEST(test_up_goes_straight_to_down)
{
	sl_phi_cfg_t cfg = cfg_1s();
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	uint64_t last = beat_every_second(&det, 0, 5);
	ck_assert_int_eq(sl_phi_check(&det, last + 40 * S), SL_PHI_EV_DOWN);
	ck_assert_int_eq(sl_phi_check(&det, last + 41 * S), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_DOWN);
}
END_TEST

START_TEST(test_suspect_recovers_to_up_when_heartbeats_resume)
{
	sl_phi_cfg_t cfg = cfg_1s();
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	uint64_t last = beat_every_second(&det, 0, 9); /* 9 intervals of 1 s */
	ck_assert_int_eq(sl_phi_check(&det, last + 19 * S), SL_PHI_EV_SUSPECT);
	sl_phi_heartbeat(&det, last + 20 * S);
	/* the heartbeat itself reports nothing; the next check does, once */
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_SUSPECT);
	ck_assert_int_eq(sl_phi_check(&det, last + 20 * S + MS), SL_PHI_EV_UP);
	ck_assert_int_eq(sl_phi_check(&det, last + 20 * S + 2 * MS), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_UP);
	/* the 20 s gap is a sample: mean (9·1 + 20) / 10 = 2.9 s */
	ck_assert_uint_eq(sl_phi_samples(&det), 10);
	ck_assert_double_eq_tol(sl_phi_mean_us(&det), 2.9e6, 1e-6);
	/* so the next suspicion needs 8·ln10·2.9 s = 53.42 s of silence */
	uint64_t t8 = (uint64_t)(8.0 * M_LN10 * 2.9e9);
	ck_assert_int_eq(sl_phi_check(&det, last + 20 * S + t8 - US), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_check(&det, last + 20 * S + t8 + US), SL_PHI_EV_SUSPECT);
}
END_TEST

START_TEST(test_down_is_terminal_until_reset)
{
	sl_phi_cfg_t cfg = cfg_1s();
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	uint64_t last = beat_every_second(&det, 0, 5);
	ck_assert_int_eq(sl_phi_check(&det, last + 40 * S), SL_PHI_EV_DOWN);
	for (unsigned i = 1; i <= 5; i++) { /* a late peer does not revive it */
		sl_phi_heartbeat(&det, last + (40 + i) * S);
		ck_assert_int_eq(sl_phi_check(&det, last + (40 + i) * S), SL_PHI_EV_NONE);
	}
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_DOWN);
	ck_assert_uint_eq(sl_phi_samples(&det), 5);

	uint64_t t0 = last + 100 * S;
	sl_phi_reset(&det, t0);
	ck_assert_int_eq(sl_phi_state(&det), SL_PHI_UP);
	ck_assert_uint_eq(sl_phi_samples(&det), 0);
	ck_assert_double_eq_tol(sl_phi_mean_us(&det), 1e6, 1e-9); /* back to the initial mean */
	ck_assert_int_eq(sl_phi_check(&det, t0 + 18 * S), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_check(&det, t0 + 19 * S), SL_PHI_EV_SUSPECT);
}
END_TEST

START_TEST(test_initial_mean_until_first_interval)
{
	sl_phi_cfg_t cfg;
	sl_phi_cfg_default(&cfg, 2000000u); /* 2 s keepalive */
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 10 * S), SL_PHI_ERR_OK);
	/* silent peer from install: suspect after 8·ln10·2 s = 36.84 s */
	uint64_t t8 = (uint64_t)(8.0 * M_LN10 * 2e9);
	ck_assert_int_eq(sl_phi_check(&det, 10 * S + t8 - US), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_check(&det, 10 * S + t8 + US), SL_PHI_EV_SUSPECT);
	/* first heartbeat only starts the clock: no interval, still 2 s */
	sl_phi_heartbeat(&det, 50 * S);
	ck_assert_uint_eq(sl_phi_samples(&det), 0);
	ck_assert_double_eq_tol(sl_phi_mean_us(&det), 2e6, 1e-9);
	ck_assert_int_eq(sl_phi_check(&det, 50 * S), SL_PHI_EV_UP);
	/* second heartbeat: one interval of 0.5 s replaces the initial mean */
	sl_phi_heartbeat(&det, 50 * S + 500 * MS);
	ck_assert_uint_eq(sl_phi_samples(&det), SL_PHI_MIN_SAMPLES);
	ck_assert_double_eq_tol(sl_phi_mean_us(&det), 5e5, 1e-9);
	ck_assert_int_eq(sl_phi_check(&det, 50 * S + 500 * MS + 9300 * MS), SL_PHI_EV_SUSPECT);
}
END_TEST

START_TEST(test_zero_intervals_use_the_floor)
{
	sl_phi_cfg_t cfg = {.init_mean_us = 1000000u, .min_mean_us = 1u, .suspect = 8, .down = 16};
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	for (unsigned i = 0; i < 50; i++) /* back-to-back arrivals: all intervals 0 */
		sl_phi_heartbeat(&det, 5 * S);
	ck_assert_uint_eq(sl_phi_samples(&det), 49);
	ck_assert_uint_eq(det.sum_us, 0);
	ck_assert_double_eq(sl_phi_mean_us(&det), 1.0); /* floor, not 0 */
	ck_assert(isfinite(sl_phi_value(&det, 6 * S)));
	ck_assert_int_eq(sl_phi_check(&det, 5 * S), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_check(&det, 5 * S + 18 * US), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_check(&det, 5 * S + 19 * US), SL_PHI_EV_SUSPECT);
	/* default floor (1 ms) keeps a 0-mean peer from going down in µs */
	sl_phi_cfg_default(&cfg, 1000000u);
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	for (unsigned i = 0; i < 50; i++)
		sl_phi_heartbeat(&det, 5 * S);
	ck_assert_double_eq(sl_phi_mean_us(&det), 1000.0);
	ck_assert_int_eq(sl_phi_check(&det, 5 * S + 18 * MS), SL_PHI_EV_NONE);
}
END_TEST

START_TEST(test_cfg_keepalive_floors_mean_at_half_keepalive)
{
	sl_phi_cfg_t cfg;
	sl_phi_cfg_keepalive(&cfg, 100000u); /* 100 ms keepalive */
	ck_assert_uint_eq(cfg.init_mean_us, 100000u);
	ck_assert_uint_eq(cfg.min_mean_us, 100000u / SL_PHI_KEEPALIVE_FLOOR_DIV);
	ck_assert(cfg.suspect == 8.0 && cfg.down == 16.0);
	sl_phi_cfg_keepalive(&cfg, 1000u); /* 1 ms keepalive: the 1 ms floor stands */
	ck_assert_uint_eq(cfg.min_mean_us, SL_PHI_MIN_MEAN_DEFAULT);
	sl_phi_cfg_keepalive(&cfg, 0);
	ck_assert_uint_eq(cfg.init_mean_us, 1u);
	ck_assert_uint_eq(cfg.min_mean_us, SL_PHI_MIN_MEAN_DEFAULT);
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
}
END_TEST

/* Heartbeats 1 ms apart right after start (both sides PING at session
   start, a retried PING), then regular keepalive arrivals every 100 ms
   for 10 keepalives, checked every 1 ms: returns the state at the end
   (DOWN is terminal) and counts the transitions seen in *events. */
static sl_phi_state_t early_burst_then_regular(const sl_phi_cfg_t *cfg, uint64_t t0,
                                               unsigned *events)
{
	ck_assert_int_eq(sl_phi_init(&det, cfg, t0), SL_PHI_ERR_OK);
	*events = 0;
	uint64_t t = t0;
	for (unsigned i = 1; i <= 10; i++) {
		t = t0 + i * MS;
		sl_phi_heartbeat(&det, t);
		ck_assert_int_eq(sl_phi_check(&det, t), SL_PHI_EV_NONE);
	}
	uint64_t last = t;
	for (unsigned k = 1; k <= 10; k++) {
		uint64_t next = last + 100 * MS;
		for (uint64_t c = last + MS; c < next; c += MS)
			*events += sl_phi_check(&det, c) != SL_PHI_EV_NONE;
		sl_phi_heartbeat(&det, next);
		last = next;
	}
	return sl_phi_state(&det);
}

START_TEST(test_early_burst_does_not_hair_trigger)
{
	sl_phi_cfg_t cfg;
	/* the defect: with only the 1 ms floor, the burst's ~1 ms mean takes a
	   perfectly regular 100 ms peer DOWN within its first keepalive gap */
	unsigned events;
	sl_phi_cfg_default(&cfg, 100000u);
	ck_assert_int_eq(early_burst_then_regular(&cfg, 3 * S, &events), SL_PHI_DOWN);
	ck_assert_uint_eq(events, 2); /* SUSPECT, DOWN */
	/* the fix: the keepalive floor keeps it UP, not even SUSPECT */
	sl_phi_cfg_keepalive(&cfg, 100000u);
	ck_assert_int_eq(early_burst_then_regular(&cfg, 3 * S, &events), SL_PHI_UP);
	ck_assert_uint_eq(events, 0);

	/* burst, then silence: DOWN only after 16 · ln 10 · 50 ms = 1842.07 ms */
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	for (unsigned i = 1; i <= 10; i++)
		sl_phi_heartbeat(&det, i * MS);
	ck_assert_double_eq_tol(sl_phi_mean_us(&det), 50000.0, 1e-9); /* the floor */
	uint64_t last = 10 * MS;
	ck_assert_int_eq(sl_phi_check(&det, last + 921 * MS), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_check(&det, last + 922 * MS), SL_PHI_EV_SUSPECT);
	ck_assert_int_eq(sl_phi_check(&det, last + 1842 * MS), SL_PHI_EV_NONE);
	ck_assert_int_eq(sl_phi_check(&det, last + 1843 * MS), SL_PHI_EV_DOWN);
}
END_TEST

START_TEST(test_clock_going_back_counts_zero)
{
	sl_phi_cfg_t cfg = cfg_1s();
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	sl_phi_heartbeat(&det, 10 * S);
	sl_phi_heartbeat(&det, 9 * S); /* earlier than the latest arrival */
	ck_assert_uint_eq(sl_phi_samples(&det), 1);
	ck_assert_uint_eq(det.sum_us, 0);
	ck_assert_uint_eq(det.last_ns, 10 * S);
	ck_assert_int_eq(sl_phi_check(&det, 9 * S), SL_PHI_EV_NONE); /* check before last */
}
END_TEST

START_TEST(test_huge_gap_saturates)
{
	sl_phi_cfg_t cfg = cfg_1s();
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	sl_phi_heartbeat(&det, S);
	sl_phi_heartbeat(&det, S + 10000ull * S); /* 10^10 µs > UINT32_MAX */
	ck_assert_uint_eq(sl_phi_samples(&det), 1);
	ck_assert_uint_eq(det.sum_us, UINT32_MAX);
	ck_assert_double_eq(sl_phi_mean_us(&det), (double)UINT32_MAX);
	/* thresholds far out but finite: no overflow to "already down" */
	ck_assert_int_eq(sl_phi_check(&det, S + 10001ull * S), SL_PHI_EV_NONE);
}
END_TEST

START_TEST(test_window_wrap_keeps_mean_exact)
{
	static uint32_t ref[4 * SL_PHI_WINDOW];
	unsigned seed = getenv("PHI_SEED") ? (unsigned)strtoul(getenv("PHI_SEED"), NULL, 0)
	                                   : (unsigned)time(NULL);
	printf("test_window_wrap_keeps_mean_exact: PHI_SEED=%u\n", seed);
	srand(seed);
	sl_phi_cfg_t cfg = {.init_mean_us = 1000000u, .min_mean_us = 1u, .suspect = 8, .down = 16};
	ck_assert_int_eq(sl_phi_init(&det, &cfg, 0), SL_PHI_ERR_OK);
	uint64_t t = 1000 * S;
	sl_phi_heartbeat(&det, t);
	const unsigned total = (unsigned)SL_ARRAY_LEN(ref);
	for (unsigned n = 0; n < total; n++) {
		/* intervals 0 .. ~5 s with a sub-µs part that must be truncated */
		uint64_t d = ((uint64_t)rand() % 5000000u) * US + (uint64_t)rand() % 1000u;
		if (rand() % 16 == 0)
			d = (uint64_t)rand() % 3u; /* a few near-zero intervals */
		t += d;
		ref[n] = (uint32_t)(d / US);
		sl_phi_heartbeat(&det, t);
		unsigned have = n + 1 < SL_PHI_WINDOW ? n + 1 : SL_PHI_WINDOW;
		uint64_t sum = 0;
		for (unsigned i = n + 1 - have; i <= n; i++)
			sum += ref[i];
		ck_assert_msg(sl_phi_samples(&det) == have, "seed %u n %u: samples %u != %u", seed,
		              n, sl_phi_samples(&det), have);
		ck_assert_msg(det.sum_us == sum, "seed %u n %u: sum %llu != %llu", seed, n,
		              (unsigned long long)det.sum_us, (unsigned long long)sum);
		double mean = (double)sum / have;
		ck_assert_msg(sl_phi_mean_us(&det) == (mean < 1.0 ? 1.0 : mean),
		              "seed %u n %u: mean drift", seed, n);
	}
}
END_TEST

START_TEST(test_strings)
{
	ck_assert_str_eq(sl_phi_err_str(SL_PHI_ERR_OK), "ok");
	ck_assert_str_eq(sl_phi_err_str(SL_PHI_ERR_DOWN), "down");
	ck_assert_str_eq(sl_phi_err_str(SL_PHI_ERR_CNT), "?");
	ck_assert_str_eq(sl_phi_err_str((sl_phi_err_t)-1), "?");
	ck_assert_str_eq(sl_phi_state_str(SL_PHI_SUSPECT), "suspect");
	ck_assert_str_eq(sl_phi_state_str((sl_phi_state_t)3), "?");
	ck_assert_str_eq(sl_phi_event_str(SL_PHI_EV_UP), "up");
	ck_assert_str_eq(sl_phi_event_str((sl_phi_event_t)4), "?");
	ck_assert_str_eq(sl_rtt_err_str(SL_RTT_ERR_FUTURE), "future");
	ck_assert_str_eq(sl_rtt_err_str(SL_RTT_ERR_CNT), "?");
}
END_TEST

/* ---- RTT ----------------------------------------------------------------- */

START_TEST(test_rtt_empty)
{
	sl_rtt_t r;
	sl_rtt_init(&r);
	ck_assert_uint_eq(r.samples, 0);
	ck_assert_uint_eq(sl_rtt_srtt_us(&r), 0);
	ck_assert_uint_eq(sl_rtt_latest_us(&r), 0);
	ck_assert_uint_eq(sl_rtt_min_us(&r), 0);
	ck_assert_uint_eq(sl_rtt_rto_ns(&r, S, 200 * MS, 60 * S), S);
	ck_assert_uint_eq(sl_rtt_rto_ns(&r, S, 2 * S, 60 * S), 2 * S); /* init clamped */
}
END_TEST

START_TEST(test_rtt_rejects_future_and_out_of_range)
{
	sl_rtt_t r;
	sl_rtt_init(&r);
	ck_assert_int_eq(sl_rtt_sample(&r, 10 * S, 10 * S + 1), SL_RTT_ERR_FUTURE);
	ck_assert_int_eq(sl_rtt_sample(&r, 100 * S, 100 * S - SL_RTT_MAX_NS - 1), SL_RTT_ERR_RANGE);
	ck_assert_int_eq(sl_rtt_sample(&r, 100 * S, 0), SL_RTT_ERR_RANGE); /* echo of 0 */
	ck_assert_uint_eq(r.samples, 0);
	ck_assert_uint_eq(r.srtt_ns, 0);
	ck_assert_int_eq(sl_rtt_sample(&r, 100 * S, 100 * S - SL_RTT_MAX_NS), SL_RTT_ERR_OK);
	ck_assert_int_eq(sl_rtt_sample(&r, 100 * S, 100 * S), SL_RTT_ERR_OK); /* 0 is valid */
	ck_assert_uint_eq(r.samples, 2);
	ck_assert_uint_eq(sl_rtt_min_us(&r), 0);
}
END_TEST

START_TEST(test_rtt_rfc6298_numbers)
{
	sl_rtt_t r;
	sl_rtt_init(&r);
	uint64_t now = 1000 * S;
	ck_assert_int_eq(sl_rtt_sample(&r, now, now - 100 * US), SL_RTT_ERR_OK);
	ck_assert_uint_eq(r.srtt_ns, 100 * US);  /* SRTT = R */
	ck_assert_uint_eq(r.rttvar_ns, 50 * US); /* RTTVAR = R/2 */
	now += S;
	ck_assert_int_eq(sl_rtt_sample(&r, now, now - 200 * US), SL_RTT_ERR_OK);
	/* RTTVAR = 3/4·50 + 1/4·|100-200| = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5 */
	ck_assert_uint_eq(r.rttvar_ns, 62500);
	ck_assert_uint_eq(r.srtt_ns, 112500);
	ck_assert_uint_eq(sl_rtt_srtt_us(&r), 112);
	ck_assert_uint_eq(sl_rtt_latest_us(&r), 200);
	ck_assert_uint_eq(sl_rtt_min_us(&r), 100);
	ck_assert_uint_eq(sl_rtt_var_us(&r), 62);
	now += S;
	ck_assert_int_eq(sl_rtt_sample(&r, now, now - 40 * US), SL_RTT_ERR_OK);
	/* RTTVAR = 3/4·62.5 + 1/4·72.5 = 65; SRTT = 7/8·112.5 + 1/8·40 = 103.4375 */
	ck_assert_uint_eq(r.rttvar_ns, 65000);
	ck_assert_uint_eq(r.srtt_ns, 103437);
	ck_assert_uint_eq(sl_rtt_min_us(&r), 40);
	ck_assert_uint_eq(sl_rtt_latest_us(&r), 40);
	/* RTO = SRTT + 4·RTTVAR = 363.437 µs, then clamps */
	ck_assert_uint_eq(sl_rtt_rto_ns(&r, S, 0, 60 * S), 103437 + 260000);
	ck_assert_uint_eq(sl_rtt_rto_ns(&r, S, 200 * MS, 60 * S), 200 * MS);
	ck_assert_uint_eq(sl_rtt_rto_ns(&r, S, 0, 300 * US), 300 * US);
}
END_TEST

START_TEST(test_rtt_converges_to_a_steady_rtt)
{
	sl_rtt_t r;
	sl_rtt_init(&r);
	uint64_t now = 5 * S;
	ck_assert_int_eq(sl_rtt_sample(&r, now, now - 10 * MS), SL_RTT_ERR_OK);
	for (unsigned i = 0; i < 200; i++) {
		now += S;
		ck_assert_int_eq(sl_rtt_sample(&r, now, now - 2 * MS), SL_RTT_ERR_OK);
	}
	ck_assert_uint_le(sl_rtt_srtt_us(&r), 2001);
	ck_assert_uint_ge(sl_rtt_srtt_us(&r), 2000);
	ck_assert_uint_le(sl_rtt_var_us(&r), 1);
	ck_assert_uint_eq(sl_rtt_min_us(&r), 2000);
	ck_assert_uint_eq(r.samples, 201);
}
END_TEST

static Suite *phi_suite(void)
{
	Suite *s = suite_create("phi");
	TCase *tc = tcase_create("detector");
	tcase_add_test(tc, test_init_rejects_bad_cfg);
	tcase_add_test(tc, test_cfg_default_is_design_numbers);
	tcase_add_test(tc, test_phi_grows_linearly_with_silence);
	tcase_add_test(tc, test_regular_heartbeat_crosses_8_then_16_at_expected_times);
	tcase_add_test(tc, test_transitions_reported_exactly_once);
	tcase_add_test(tc, test_up_goes_straight_to_down);
	tcase_add_test(tc, test_suspect_recovers_to_up_when_heartbeats_resume);
	tcase_add_test(tc, test_down_is_terminal_until_reset);
	tcase_add_test(tc, test_initial_mean_until_first_interval);
	tcase_add_test(tc, test_zero_intervals_use_the_floor);
	tcase_add_test(tc, test_cfg_keepalive_floors_mean_at_half_keepalive);
	tcase_add_test(tc, test_early_burst_does_not_hair_trigger);
	tcase_add_test(tc, test_clock_going_back_counts_zero);
	tcase_add_test(tc, test_huge_gap_saturates);
	tcase_add_test(tc, test_window_wrap_keeps_mean_exact);
	tcase_add_test(tc, test_strings);
	suite_add_tcase(s, tc);
	TCase *rt = tcase_create("rtt");
	tcase_add_test(rt, test_rtt_empty);
	tcase_add_test(rt, test_rtt_rejects_future_and_out_of_range);
	tcase_add_test(rt, test_rtt_rfc6298_numbers);
	tcase_add_test(rt, test_rtt_converges_to_a_steady_rtt);
	suite_add_tcase(s, rt);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(phi_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
