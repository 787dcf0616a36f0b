/* test_reconcile.c — suite "reconcile": ctrl's belt under never-lost
   events (ctrl/sl_reconcile.h) against a real region's session tables. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_dpregion.h"
#include "sl_reconcile.h"
#include "sl_session.h"

#define S (1000ULL * 1000000ULL)

static sl_region_t reg;
static char rpath[256];
static sl_reconcile_t rc;
static sl_session_table_t *tab;
static sl_msg_t got[8];
static uint32_t n_got;

static void emit(void *ctx, const sl_msg_t *m, uint64_t now_ns)
{
	(void)ctx, (void)now_ns;
	ck_assert_uint_lt(n_got, 8);
	got[n_got++] = *m;
}

static void setup(void)
{
	char inst[48];
	snprintf(inst, sizeof inst, "utrec%d", (int)getpid());
	ck_assert_int_eq(sl_region_path(rpath, sizeof rpath, "/dev/shm", inst), 0);
	unlink(rpath);
	ck_assert_int_eq(sl_dpregion_create(&reg, rpath, 2, "unit"), 0);
	tab = sl_session_table_join(sl_region_sess(&reg, 1));
	ck_assert_ptr_nonnull(tab);
	ck_assert_int_eq(sl_reconcile_init(&rc, 2), 0);
	n_got = 0;
}

static void teardown(void)
{
	sl_reconcile_fini(&rc);
	sl_region_close(&reg);
	unlink(rpath);
}

/* install makes a live session in slot `slot` of lcore 1; its sid. */
static uint32_t install(uint32_t slot, uint32_t gen)
{
	sl_session_peer_t p;
	memset(&p, 0, sizeof p);
	p.peer_ip = 0x0a000001;
	p.peer_port = 9747;
	p.remote_sid = 7;
	uint32_t sid = 0;
	ck_assert_int_eq(sl_session_install(tab, slot, &p, gen, &sid), SL_SESSION_OK);
	return sid;
}

static sl_msg_t evt(uint16_t type, uint32_t sid)
{
	sl_msg_t m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.lcore = sl_sid_lcore(sid);
	m.session = sid;
	m.gen = sl_sid_gen(sid);
	return m;
}

START_TEST(test_init_bounds)
{
	sl_reconcile_t x;
	ck_assert_int_eq(sl_reconcile_init(&x, 0), -1);
	ck_assert_int_eq(sl_reconcile_init(&x, SL_MAX_LCORES + 1u), -1);
	sl_reconcile_fini(&x); /* safe on what a failed init left */
	sl_reconcile_t z;
	memset(&z, 0, sizeof z);
	sl_reconcile_fini(&z);
	sl_msg_t m = evt(SL_EVT_SESSION_UP, sl_sid_make(1, 3, 5));
	sl_reconcile_seen(&z, &m); /* a zeroed record ignores events */
	ck_assert_uint_eq(sl_reconcile_sweep(&z, &reg, 10 * S, emit, NULL), 0);
}
END_TEST

/* A live session is never reported; a session that ended with its
   SESSION_DOWN seen is not either. */
START_TEST(test_live_and_reported_are_left_alone)
{
	uint32_t a = install(3, 11), b = install(4, 12);
	sl_msg_t up_a = evt(SL_EVT_SESSION_UP, a), up_b = evt(SL_EVT_SESSION_UP, b);
	sl_reconcile_seen(&rc, &up_a);
	sl_reconcile_seen(&rc, &up_b);
	ck_assert_int_eq(sl_session_teardown(tab, b), 1);
	sl_msg_t down_b = evt(SL_EVT_SESSION_DOWN, b);
	sl_reconcile_seen(&rc, &down_b);
	for (uint64_t t = 1; t <= 5; t++)
		ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, t * S, emit, NULL), 0);
	ck_assert_uint_eq(n_got, 0);
	ck_assert_uint_eq(rc.reconciled, 0);
}
END_TEST

/* A session gone from its table without a SESSION_DOWN is reported on the
   second sweep that finds it gone, once, as SESSION_DOWN(FAULT). */
START_TEST(test_missing_down_is_reported_once)
{
	uint32_t a = install(9, 21);
	sl_msg_t up = evt(SL_EVT_SESSION_UP, a);
	sl_reconcile_seen(&rc, &up);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 1 * S, emit, NULL), 0);
	ck_assert_int_eq(sl_session_teardown(tab, a), 1);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 2 * S, emit, NULL), 0); /* first sighting */
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 2 * S + 1, emit, NULL), 0); /* too soon */
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 3 * S, emit, NULL), 1);
	ck_assert_uint_eq(n_got, 1);
	ck_assert_uint_eq(got[0].type, SL_EVT_SESSION_DOWN);
	ck_assert_uint_eq(got[0].session, a);
	ck_assert_uint_eq(got[0].gen, sl_sid_gen(a));
	ck_assert_uint_eq(got[0].lcore, 1);
	ck_assert_uint_eq(got[0].len, sizeof(sl_evt_session_down_t));
	sl_evt_session_down_t d;
	memcpy(&d, got[0].payload, sizeof d);
	ck_assert_uint_eq(d.exit, SL_EXIT_FAULT);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 4 * S, emit, NULL), 0);
	ck_assert_uint_eq(rc.reconciled, 1);
}
END_TEST

/* A DOWN that arrives between the sweeps wins: nothing synthetic. */
START_TEST(test_down_between_sweeps_wins)
{
	uint32_t a = install(1, 31);
	sl_msg_t up = evt(SL_EVT_SESSION_UP, a), down = evt(SL_EVT_SESSION_DOWN, a);
	sl_reconcile_seen(&rc, &up);
	ck_assert_int_eq(sl_session_teardown(tab, a), 1);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 1 * S, emit, NULL), 0);
	sl_reconcile_seen(&rc, &down);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 2 * S, emit, NULL), 0);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 3 * S, emit, NULL), 0);
	ck_assert_uint_eq(n_got, 0);
}
END_TEST

/* While the lcore still has events to deliver (ring or backlog), a gone
   session waits: its SESSION_DOWN may be among them. */
START_TEST(test_waits_while_events_pending)
{
	uint32_t a = install(2, 41);
	sl_msg_t up = evt(SL_EVT_SESSION_UP, a);
	sl_reconcile_seen(&rc, &up);
	ck_assert_int_eq(sl_session_teardown(tab, a), 1);
	sl_msg_t other = evt(SL_EVT_PEER_STATUS, a);
	ck_assert_int_eq(sl_msgq_send(sl_region_event_ring(&reg, 1), &other), 0); /* undrained */
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 1 * S, emit, NULL), 0);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 2 * S, emit, NULL), 0);
	sl_msg_t m;
	ck_assert_int_eq(sl_msgq_recv(sl_region_event_ring(&reg, 1), &m), 0);
	sl_lcore_cnt_t *c = &sl_region_lcore(&reg, 1)->cnt;
	atomic_store(&c->evt_backlog_depth, 3); /* the dataplane's backlog holds some */
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 3 * S, emit, NULL), 0);
	atomic_store(&c->evt_backlog_depth, 0);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 4 * S, emit, NULL), 1);
	ck_assert_uint_eq(got[0].session, a);
}
END_TEST

/* A reused slot: the new incarnation's SESSION_UP replaces the old record;
   an old incarnation's DOWN does not clear the new one. */
START_TEST(test_reused_slot_tracks_the_new_session)
{
	uint32_t a = install(5, 51);
	sl_msg_t up_a = evt(SL_EVT_SESSION_UP, a), down_a = evt(SL_EVT_SESSION_DOWN, a);
	sl_reconcile_seen(&rc, &up_a);
	ck_assert_int_eq(sl_session_teardown(tab, a), 1);
	sl_reconcile_seen(&rc, &down_a);
	uint32_t b = install(5, 52);
	ck_assert_uint_ne(a, b);
	sl_msg_t up_b = evt(SL_EVT_SESSION_UP, b);
	sl_reconcile_seen(&rc, &up_b);
	sl_reconcile_seen(&rc, &down_a); /* a repeat of the old one */
	ck_assert_int_eq(sl_session_teardown(tab, b), 1);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 1 * S, emit, NULL), 0);
	ck_assert_uint_eq(sl_reconcile_sweep(&rc, &reg, 2 * S, emit, NULL), 1);
	ck_assert_uint_eq(got[0].session, b);
}
END_TEST

static Suite *reconcile_suite(void)
{
	Suite *s = suite_create("reconcile");
	TCase *t = tcase_create("belt");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_init_bounds);
	tcase_add_test(t, test_live_and_reported_are_left_alone);
	tcase_add_test(t, test_missing_down_is_reported_once);
	tcase_add_test(t, test_down_between_sweeps_wins);
	tcase_add_test(t, test_waits_while_events_pending);
	tcase_add_test(t, test_reused_slot_tracks_the_new_session);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(reconcile_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
