/* test_sync.c — suite "sync": ctrl's header sync (ctrl/sl_sync.h) as the
   domain sees it: status and target while detached and attached, the
   NEW_BLOCK rules (extend the tip, duplicate, not next, refused), the
   announce of a small tip move, over a real region and a regtest chain
   store in a temporary directory. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_chain.h"
#include "sl_dpregion.h"
#include "sl_peermgr.h"
#include "sl_sha256d.h"
#include "sl_sync.h"
#include "sl_time.h"

#define NOW    (100ULL * SL_NS_PER_S)
#define LCORES 1u

static pid_t suite_pid;
static char rpath[256], sdir[64];
static sl_region_t reg;
static sl_cmdq_t dpq;
static sl_cfg_t cfg;
static sl_peermgr_t pm;
static sl_chainstore_t *cs;
static sl_sync_t sync_;
static const sl_chain_profile_t *prof;

static void setup(void)
{
	char inst[48];
	snprintf(inst, sizeof inst, "sy%d-%d", (int)suite_pid, (int)getpid());
	ck_assert_int_eq(sl_region_path(rpath, sizeof rpath, "/dev/shm", inst), 0);
	unlink(rpath);
	ck_assert_int_eq(sl_dpregion_create(&reg, rpath, LCORES, "unit"), 0);
	ck_assert_int_eq(sl_region_cmdq_join(&reg, &dpq), 0);
	ck_assert_int_eq(sl_region_life_advance(&reg, SL_LIFE_READY), 0);
	prof = sl_chain_profile("regtest");
	uint8_t genesis[32];
	sl_sha256d_hdr(prof->genesis, genesis);
	sl_cfg_defaults(&cfg);
	cfg.n_bootstrap = 0;
	cfg.outbound = 0;
	ck_assert_int_eq(sl_peermgr_init(&pm, &cfg, genesis, NULL), 0);
	snprintf(sdir, sizeof sdir, "/tmp/sl-test-sync-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sdir));
	sl_chainstore_opts_t o = {.dir = sdir, .profile = "regtest"};
	sl_chainstore_err_t e;
	cs = sl_chainstore_open(&o, &e);
	ck_assert_ptr_nonnull(cs);
	sl_sync_init(&sync_, cs, &pm);
}

static void teardown(void)
{
	sl_sync_detach(&sync_);
	sl_peermgr_detach(&pm);
	sl_peermgr_fini(&pm);
	sl_chainstore_close(cs);
	sl_region_close(&reg);
	unlink(rpath);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sdir);
	ck_assert_int_eq(system(cmd), 0);
}

static void attach(void)
{
	ck_assert_int_eq(sl_peermgr_attach(&pm, &reg, NOW), 0);
	sl_peermgr_tick(&pm, SL_LIFE_READY, NOW);
	ck_assert_int_eq(sl_sync_attach(&sync_, &reg), 0);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* mine: a header on `prev` with `bits` whose hash meets its own target. */
static void mine(uint8_t hdr[80], uint8_t hash[32], const uint8_t prev[32], uint32_t bits,
                 uint32_t time)
{
	uint8_t target[32];
	ck_assert_int_eq(sl_chain_compact_decode(bits, target), 0);
	memset(hdr, 0, 80);
	put32(hdr, 0x20000000);
	memcpy(hdr + 4, prev, 32);
	hdr[36] = 0x5a; /* merkle root: anything */
	put32(hdr + 68, time);
	put32(hdr + 72, bits);
	for (uint32_t nonce = 0;; nonce++) {
		put32(hdr + 76, nonce);
		sl_sha256d_hdr(hdr, hash);
		if (sl_chain_hash_meets(hash, target))
			return;
	}
}

/* next_block: a valid regtest header at tip + 1. */
static uint32_t next_block(uint8_t hdr[80], uint8_t hash[32])
{
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	mine(hdr, hash, t.hash, prof->pow_limit_bits,
	     sl_chain_hdr_time(prof->genesis) + 600 * (t.height + 1));
	return t.height + 1;
}

static void new_block(uint32_t height, const uint8_t hdr[80], const uint8_t hash[32])
{
	sl_msg_t m;
	memset(&m, 0, sizeof m);
	m.type = SL_EVT_NEW_BLOCK;
	sl_evt_new_block_t e = {.height = height};
	memcpy(e.hdr, hdr, 80);
	memcpy(e.hash, hash, 32);
	m.len = sizeof e;
	memcpy(m.payload, &e, sizeof e);
	sl_sync_event(&sync_, &m, NOW);
}

static uint32_t tip_height(void)
{
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	return t.height;
}

START_TEST(test_detached_status)
{
	sl_sync_status_t st;
	sl_sync_status(&sync_, &st);
	ck_assert_str_eq(st.state, "detached");
	ck_assert_uint_eq(st.st.tip, 0);
	ck_assert_uint_eq(st.st.target, SL_REACTOR_NO_TARGET);
	sl_range_info_t ri[4];
	ck_assert_uint_eq(sl_sync_ranges(&sync_, ri, 4), 0);
	ck_assert(!sl_sync_busy(&sync_));
}
END_TEST

/* A target set while detached is the reactor's once attached; clearing
   it follows the best peer again. */
START_TEST(test_target_survives_attach)
{
	sl_sync_status_t st;
	sl_sync_set_target(&sync_, 50);
	sl_sync_status(&sync_, &st);
	ck_assert_uint_eq(st.st.target, 50);
	attach();
	sl_sync_status(&sync_, &st);
	ck_assert_str_ne(st.state, "detached");
	ck_assert_uint_eq(st.st.target, 50);
	sl_sync_set_target(&sync_, SL_REACTOR_NO_TARGET);
	sl_sync_status(&sync_, &st);
	ck_assert_uint_eq(st.st.target, SL_REACTOR_NO_TARGET);
	ck_assert_uint_eq(st.st.peers, 0);
}
END_TEST

/* Events are ignored while detached. */
START_TEST(test_detached_ignores_events)
{
	uint8_t hdr[80], hash[32];
	uint32_t h = next_block(hdr, hash);
	new_block(h, hdr, hash);
	ck_assert_uint_eq(tip_height(), 0);
	ck_assert_uint_eq(sync_.cnt.nb_rx, 0);
}
END_TEST

/* NEW_BLOCK at tip + 1 on our tip: accepted through the chain rules and
   relayed at once; its group commit makes it durable off ctrl's thread,
   finished by a later tick (a relay that waited for the disk held every
   hop for two fdatasyncs). */
START_TEST(test_new_block_extends_tip)
{
	uint8_t hdr[80], hash[32];
	attach();
	uint32_t h = next_block(hdr, hash);
	new_block(h, hdr, hash);
	ck_assert_uint_eq(tip_height(), 1);
	ck_assert_uint_eq(sync_.cnt.nb_accepted, 1);
	ck_assert_uint_eq(sync_.cnt.nb_relayed, 0); /* nobody to relay to */
	sl_sync_status_t st;
	sl_sync_status(&sync_, &st);
	ck_assert_uint_eq(st.st.appended, 1);
	ck_assert_uint_eq(st.st.tip, 0); /* not waited for */
	ck_assert(sl_sync_busy(&sync_)); /* a group to finish: ctrl ticks fast */
	for (int i = 0; i < 5000 && st.st.tip != 1; i++) {
		usleep(1000);
		sl_sync_tick(&sync_, NOW);
		sl_sync_status(&sync_, &st);
	}
	ck_assert_uint_eq(st.st.tip, 1);
	ck_assert(!sl_sync_busy(&sync_));
}
END_TEST

/* The same hash again is a duplicate (seen-cache), not a second commit. */
START_TEST(test_new_block_duplicate)
{
	uint8_t hdr[80], hash[32];
	attach();
	uint32_t h = next_block(hdr, hash);
	new_block(h, hdr, hash);
	new_block(h, hdr, hash);
	ck_assert_uint_eq(sync_.cnt.nb_rx, 2);
	ck_assert_uint_eq(sync_.cnt.nb_dup, 1);
	ck_assert_uint_eq(sync_.cnt.nb_accepted, 1);
}
END_TEST

/* Not tip + 1, or not on our tip: left to STATUS and the pull. */
START_TEST(test_new_block_not_next)
{
	uint8_t hdr[80], hash[32];
	attach();
	uint32_t h = next_block(hdr, hash);
	new_block(h + 4, hdr, hash);
	ck_assert_uint_eq(sync_.cnt.nb_other, 1);
	uint8_t other[32] = {9};
	mine(hdr, hash, other, prof->pow_limit_bits, sl_chain_hdr_time(prof->genesis) + 600);
	new_block(1, hdr, hash);
	ck_assert_uint_eq(sync_.cnt.nb_other, 2);
	ck_assert_uint_eq(tip_height(), 0);
}
END_TEST

/* A header the chain rules refuse (wrong bits) is BAD_DATA, not committed. */
START_TEST(test_new_block_refused)
{
	uint8_t hdr[80], hash[32];
	attach();
	sl_chainstore_tip_t t;
	sl_chainstore_tip(cs, &t);
	mine(hdr, hash, t.hash, 0x2000ffff, sl_chain_hdr_time(prof->genesis) + 600);
	new_block(1, hdr, hash);
	ck_assert_uint_eq(sync_.cnt.nb_invalid, 1);
	ck_assert_uint_eq(sync_.cnt.nb_accepted, 0);
	ck_assert_uint_eq(tip_height(), 0);
}
END_TEST

/* A small move of the chain outside the network is announced; a large
   one is not. */
START_TEST(test_chain_moved_announces_small_moves)
{
	uint8_t hdr[80], hash[32];
	uint32_t done = 0;
	sl_chainstore_fail_t f;
	attach();
	uint32_t h = next_block(hdr, hash);
	ck_assert_int_eq(sl_chainstore_append(cs, h, hdr, 1, &done, &f), SL_CHAINSTORE_OK);
	sl_sync_chain_moved(&sync_);
	ck_assert_uint_eq(sync_.cnt.nb_announced, 1);
	for (uint32_t i = 0; i < SL_SYNC_ANNOUNCE_MAX + 1; i++) {
		h = next_block(hdr, hash);
		ck_assert_int_eq(sl_chainstore_append(cs, h, hdr, 1, &done, &f), SL_CHAINSTORE_OK);
	}
	sl_sync_chain_moved(&sync_);
	ck_assert_uint_eq(sync_.cnt.nb_announced, 1);
	sl_sync_status_t st;
	sl_sync_status(&sync_, &st);
	ck_assert_uint_eq(st.st.tip, SL_SYNC_ANNOUNCE_MAX + 2);
}
END_TEST

/* A tip moved by a group still on its way to disk is announced at once:
   NEW_BLOCK goes out before the commit publishes the STATUS that would
   make peers pull the same header (new_block_relay lost that race on a
   busy machine when only durable tips were announced). */
START_TEST(test_chain_moved_announces_before_durable)
{
	uint8_t hdr[80], hash[32];
	uint32_t accepted = 0;
	sl_chainstore_fail_t f;
	attach();
	uint32_t h = next_block(hdr, hash);
	ck_assert_int_eq(sl_chainstore_append_group(cs, h, hdr, hash, 1, &accepted, &f),
	                 SL_CHAINSTORE_OK);
	ck_assert_uint_eq(accepted, 1);
	sl_chainstore_tip_t d;
	sl_chainstore_durable(cs, &d);
	ck_assert_uint_eq(d.height, h - 1); /* not yet durable */
	sl_sync_chain_moved(&sync_);
	ck_assert_uint_eq(sync_.cnt.nb_announced, 1);
	uint8_t tip_hdr[80];
	ck_assert_int_eq(sl_chainstore_tip_header(cs, tip_hdr), SL_CHAINSTORE_OK);
	ck_assert_int_eq(memcmp(tip_hdr, hdr, 80), 0);
	/* sync.status tells the two heights apart: tip is durable, appended
	   is where the store's appends (and counters.committed) end */
	sl_sync_status_t st;
	sl_sync_status(&sync_, &st);
	ck_assert_uint_eq(st.st.tip, h - 1);
	ck_assert_uint_eq(st.st.appended, h);
}
END_TEST

/* Forgetting a session sync never saw is harmless, attached or not. */
START_TEST(test_session_down_unknown)
{
	sl_sync_session_down(&sync_, 12345);
	attach();
	sl_sync_session_down(&sync_, 12345);
	sl_sync_tick(&sync_, NOW + SL_NS_PER_S);
	sl_sync_status_t st;
	sl_sync_status(&sync_, &st);
	ck_assert_uint_eq(st.st.peers, 0);
	ck_assert_uint_eq(st.cnt.drops_sent, 0);
}
END_TEST

static void sweep(void)
{
	char pat[128];
	glob_t g;
	snprintf(pat, sizeof pat, "/dev/shm/sluice-sy%d-*.region", (int)suite_pid);
	if (glob(pat, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		unlink(g.gl_pathv[i]);
	globfree(&g);
}

static Suite *sync_suite(void)
{
	Suite *s = suite_create("sync");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_detached_status);
	tcase_add_test(t, test_target_survives_attach);
	tcase_add_test(t, test_detached_ignores_events);
	tcase_add_test(t, test_new_block_extends_tip);
	tcase_add_test(t, test_new_block_duplicate);
	tcase_add_test(t, test_new_block_not_next);
	tcase_add_test(t, test_new_block_refused);
	tcase_add_test(t, test_chain_moved_announces_small_moves);
	tcase_add_test(t, test_chain_moved_announces_before_durable);
	tcase_add_test(t, test_session_down_unknown);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	suite_pid = getpid();
	SRunner *r = srunner_create(sync_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	sweep();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
