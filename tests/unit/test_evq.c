/* test_evq.c — suite "evq": the event outbox of a worker lcore (sl_evq.h)
   on a real region's event ring: classes, the reserve, the backlog, order,
   overflow and the pull gate. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_dpregion.h"
#include "sl_evq.h"
#include "sl_region.h"

static sl_region_t reg;
static char rpath[256];
static sl_evq_rec_t *mem;
static sl_lcore_cnt_t *cnt;

/* usable ring records: a ring of depth D holds D - 1 */
#define RING_CAP (SL_EVENT_RING_DEPTH - 1u)

static void setup(void)
{
	char inst[48];
	snprintf(inst, sizeof inst, "utevq%d", (int)getpid());
	ck_assert_int_eq(sl_region_path(rpath, sizeof rpath, "/dev/shm", inst), 0);
	unlink(rpath);
	ck_assert_int_eq(sl_dpregion_create(&reg, rpath, 1, "unit"), 0);
	cnt = &sl_region_lcore(&reg, 0)->cnt;
	mem = NULL;
}

static void teardown(void)
{
	free(mem);
	sl_region_close(&reg);
	unlink(rpath);
}

static void init_q(sl_evq_t *q, uint32_t cap)
{
	mem = calloc(cap, sizeof *mem);
	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(sl_evq_init(q, &reg, 0, cnt, mem, cap, SL_EVQ_RESERVE), 0);
}

static sl_msg_t ev(uint16_t type, uint32_t session)
{
	sl_msg_t m;
	memset(&m, 0, offsetof(sl_msg_t, payload));
	m.type = type;
	m.session = session;
	m.gen = session ^ 0x5a5a;
	m.corr = (uint64_t)session << 20;
	m.len = sizeof(sl_evt_work_t);
	memset(m.payload, (int)(session & 0xff), m.len);
	return m;
}

static uint64_t c(sl_cnt_t *x)
{
	return SL_CNT_GET(x);
}

/* drain takes up to `max` records off the ring (ctrl's side). */
static uint32_t drain(uint32_t max, sl_msg_t *last)
{
	sl_msg_t m;
	uint32_t n = 0;
	while (n < max && sl_msgq_recv(sl_region_event_ring(&reg, 0), &m) == 0) {
		if (last != NULL)
			*last = m;
		n++;
	}
	return n;
}

START_TEST(test_class_of_every_type)
{
	static const uint16_t critical[] = {SL_EVT_SESSION_UP, SL_EVT_SESSION_DOWN,
	                                    SL_EVT_CONNECT_FAILED, SL_EVT_WORK_RETURNED,
	                                    SL_EVT_FETCH_END};
	uint32_t ncrit = 0;
	for (uint16_t t = 0; t < SL_EVT_TYPE_CNT + 3; t++) {
		bool want = false;
		for (size_t i = 0; i < SL_ARRAY_LEN(critical); i++)
			want |= critical[i] == t;
		ck_assert_int_eq(sl_evq_class(t), want ? SL_EVQ_CRITICAL : SL_EVQ_ADVISORY);
		ncrit += sl_evq_class(t) == SL_EVQ_CRITICAL;
	}
	ck_assert_uint_eq(ncrit, SL_ARRAY_LEN(critical));
	ck_assert_str_eq(sl_evq_res_str(SL_EVQ_BACKLOGGED), "backlogged");
	ck_assert_str_eq(sl_evq_res_str((sl_evq_res_t)99), "?");
}
END_TEST

START_TEST(test_init_rejects_bad_arguments)
{
	sl_evq_t q;
	sl_evq_rec_t r[4];
	ck_assert_int_eq(sl_evq_init(&q, &reg, 1, cnt, r, 4, 8), -1);            /* lcore */
	ck_assert_int_eq(sl_evq_init(&q, &reg, 0, cnt, r, 0, 8), -1);            /* cap */
	ck_assert_int_eq(sl_evq_init(&q, &reg, 0, cnt, NULL, 4, 8), -1);         /* mem */
	ck_assert_int_eq(sl_evq_init(&q, &reg, 0, cnt, r, 4, RING_CAP), -1);     /* reserve */
	ck_assert_int_eq(sl_evq_init(&q, &reg, 0, cnt, r, 4, RING_CAP - 1u), 0); /* just fits */
}
END_TEST

/* Advisory events stop at the reserve, and say why. */
START_TEST(test_advisory_stops_at_the_reserve)
{
	sl_evq_t q;
	init_q(&q, 64);
	uint32_t sent = 0;
	for (uint32_t i = 0; i < RING_CAP; i++) {
		sl_msg_t m = ev(SL_EVT_PEER_STATUS, i);
		sl_evq_res_t r = sl_evq_send(&q, &m);
		if (r != SL_EVQ_SENT) {
			ck_assert_int_eq(r, SL_EVQ_REFUSED_RESERVE);
			break;
		}
		sent++;
	}
	ck_assert_uint_eq(sent, RING_CAP - SL_EVQ_RESERVE);
	ck_assert_uint_eq(sl_msgq_room(sl_region_event_ring(&reg, 0)), SL_EVQ_RESERVE);
	ck_assert_uint_eq(c(&cnt->events_tx), sent);
	ck_assert_uint_eq(c(&cnt->evt_refused_reserve), 1);
	ck_assert_uint_eq(c(&cnt->events_lost), 1);
	ck_assert_uint_eq(c(&cnt->evt_backlogged), 0);
}
END_TEST

/* Critical events use the reserve, then the backlog; never refused. */
START_TEST(test_critical_uses_reserve_then_backlog)
{
	sl_evq_t q;
	init_q(&q, 256);
	for (uint32_t i = 0; i < RING_CAP + 100u; i++) {
		sl_msg_t m = ev(SL_EVT_SESSION_DOWN, i);
		sl_evq_res_t r = sl_evq_send(&q, &m);
		ck_assert_int_eq(r, i < RING_CAP ? SL_EVQ_SENT : SL_EVQ_BACKLOGGED);
	}
	ck_assert_uint_eq(sl_evq_pending(&q), 100);
	ck_assert_uint_eq(c(&cnt->evt_backlogged), 100);
	ck_assert_uint_eq(c(&cnt->evt_backlog_depth), 100);
	ck_assert_uint_eq(c(&cnt->evt_backlog_max), 100);
	ck_assert_uint_eq(c(&cnt->events_lost), 0);
	/* a full ring with nothing drained: the flush moves nothing */
	ck_assert_uint_eq(sl_evq_flush(&q), 0);
	ck_assert_uint_eq(sl_evq_pending(&q), 100);
}
END_TEST

/* While the backlog holds anything: new critical events queue behind it,
   advisory ones are refused (reason backlog) even when the ring has room. */
START_TEST(test_backlog_keeps_order_and_blocks_advisory)
{
	sl_evq_t q;
	init_q(&q, 256);
	uint32_t i = 0;
	for (; i < RING_CAP + 10u; i++) {
		sl_msg_t m = ev(SL_EVT_WORK_RETURNED, i);
		sl_evq_send(&q, &m);
	}
	ck_assert_uint_eq(drain(RING_CAP, NULL), RING_CAP); /* ctrl empties the ring */
	sl_msg_t a = ev(SL_EVT_HEADERS, 999999);
	ck_assert_int_eq(sl_evq_send(&q, &a), SL_EVQ_REFUSED_BACKLOG);
	ck_assert_uint_eq(c(&cnt->evt_refused_backlog), 1);
	sl_msg_t late = ev(SL_EVT_SESSION_DOWN, i++);
	ck_assert_int_eq(sl_evq_send(&q, &late), SL_EVQ_BACKLOGGED); /* behind the 10 */
	ck_assert_uint_eq(sl_evq_flush(&q), 11);
	ck_assert_uint_eq(sl_evq_pending(&q), 0);
	ck_assert_uint_eq(c(&cnt->evt_backlog_flushed), 11);
	ck_assert_uint_eq(c(&cnt->evt_backlog_depth), 0);
	ck_assert_uint_eq(c(&cnt->evt_backlog_max), 11);
	sl_msg_t m;
	for (uint32_t k = RING_CAP; k < i; k++) {
		ck_assert_int_eq(sl_msgq_recv(sl_region_event_ring(&reg, 0), &m), 0);
		ck_assert_uint_eq(m.session, k);
		ck_assert_uint_eq(m.gen, k ^ 0x5a5a);
		ck_assert_uint_eq(m.corr, (uint64_t)k << 20);
		ck_assert_uint_eq(m.len, sizeof(sl_evt_work_t));
		ck_assert_uint_eq(m.payload[m.len - 1], k & 0xff);
	}
	ck_assert_int_eq(sl_msgq_recv(sl_region_event_ring(&reg, 0), &m), -ENOENT);
	/* backlog empty again: advisory events flow */
	ck_assert_int_eq(sl_evq_send(&q, &a), SL_EVQ_SENT);
	ck_assert_uint_eq(c(&cnt->events_tx), i + 1u);
}
END_TEST

/* A partial flush moves what fits, oldest first; the rest waits. */
START_TEST(test_partial_flush_in_order)
{
	sl_evq_t q;
	init_q(&q, 64);
	for (uint32_t i = 0; i < RING_CAP + 40u; i++) {
		sl_msg_t m = ev(SL_EVT_FETCH_END, i);
		sl_evq_send(&q, &m);
	}
	ck_assert_uint_eq(drain(15, NULL), 15);
	ck_assert_uint_eq(sl_evq_flush(&q), 15);
	ck_assert_uint_eq(sl_evq_pending(&q), 25);
	sl_msg_t last;
	ck_assert_uint_eq(drain(RING_CAP, &last), RING_CAP);
	ck_assert_uint_eq(last.session, RING_CAP + 14u);
	ck_assert_uint_eq(sl_evq_flush(&q), 25);
	ck_assert_uint_eq(drain(RING_CAP, &last), 25);
	ck_assert_uint_eq(last.session, RING_CAP + 39u);
}
END_TEST

/* Overflow of the backlog: counted lost (and logged), never silent. */
START_TEST(test_overflow_is_counted_lost)
{
	sl_evq_t q;
	init_q(&q, 8);
	for (uint32_t i = 0; i < RING_CAP + 8u + 3u; i++) {
		sl_msg_t m = ev(SL_EVT_SESSION_UP, i);
		sl_evq_res_t r = sl_evq_send(&q, &m);
		ck_assert_int_eq(r, i < RING_CAP        ? SL_EVQ_SENT
		                    : i < RING_CAP + 8u ? SL_EVQ_BACKLOGGED
		                                        : SL_EVQ_LOST);
	}
	ck_assert_uint_eq(c(&cnt->evt_critical_lost), 3);
	ck_assert_uint_eq(c(&cnt->events_lost), 3);
	/* too big for a backlog record: lost too (cannot happen for the types
	   sl_msg.h defines: static asserts) */
	sl_msg_t big = ev(SL_EVT_SESSION_DOWN, 1);
	big.len = SL_EVQ_PAYLOAD_MAX + 1u;
	ck_assert_uint_eq(drain(RING_CAP, NULL), RING_CAP);
	ck_assert_uint_eq(sl_evq_flush(&q), 8);
	ck_assert_uint_eq(drain(RING_CAP, NULL), 8);
	for (uint32_t i = 0; i < RING_CAP; i++) {
		sl_msg_t m = ev(SL_EVT_SESSION_DOWN, i);
		sl_evq_send(&q, &m);
	}
	ck_assert_int_eq(sl_evq_send(&q, &big), SL_EVQ_LOST);
}
END_TEST

/* The pull gate: room for n advisory events above the reserve, no backlog. */
START_TEST(test_room_gate)
{
	sl_evq_t q;
	init_q(&q, 16);
	ck_assert(sl_evq_room(&q, RING_CAP - SL_EVQ_RESERVE));
	ck_assert(!sl_evq_room(&q, RING_CAP - SL_EVQ_RESERVE + 1u));
	uint32_t n = 0;
	while (sl_evq_room(&q, 10)) {
		sl_msg_t m = ev(SL_EVT_HEADERS, n++);
		ck_assert_int_eq(sl_evq_send(&q, &m), SL_EVQ_SENT);
	}
	/* exactly 9 more advisory events would still be sent */
	for (uint32_t k = 0; k < 9; k++) {
		sl_msg_t m = ev(SL_EVT_HEADERS, n++);
		ck_assert_int_eq(sl_evq_send(&q, &m), SL_EVQ_SENT);
	}
	sl_msg_t m = ev(SL_EVT_HEADERS, n++);
	ck_assert_int_eq(sl_evq_send(&q, &m), SL_EVQ_REFUSED_RESERVE);
	/* a backlog closes the gate whatever the room */
	while (sl_msgq_room(sl_region_event_ring(&reg, 0)) > 0) {
		sl_msg_t d = ev(SL_EVT_SESSION_DOWN, n++);
		ck_assert_int_eq(sl_evq_send(&q, &d), SL_EVQ_SENT);
	}
	sl_msg_t d = ev(SL_EVT_SESSION_DOWN, n++);
	ck_assert_int_eq(sl_evq_send(&q, &d), SL_EVQ_BACKLOGGED);
	ck_assert_uint_eq(drain(RING_CAP, NULL), RING_CAP);
	ck_assert(!sl_evq_room(&q, 1));
	sl_evq_flush(&q);
	ck_assert(sl_evq_room(&q, 1));
}
END_TEST

/* Random mix of sends, ctrl drains (in spells: ctrl stalls for 10000
   rounds, then drains) and flushes (a printed seed): every
   critical event reaches ctrl exactly once, in emission order; advisory
   events are either delivered or counted refused; nothing is lost while
   the backlog is large enough. */
START_TEST(test_random_never_loses_critical)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	printf("test_random_never_loses_critical: seed %u\n", seed);
	srand(seed);
	sl_evq_t q;
	init_q(&q, 1u << 16);
	uint32_t crit_sent = 0, crit_seen = 0, adv_ok = 0, adv_seen = 0, adv_refused = 0;
	sl_msg_t m;
	for (uint32_t round = 0; round < 200000; round++) {
		int op = rand() % 100;
		if (op < 45) {
			sl_msg_t e = ev(SL_EVT_SESSION_DOWN, crit_sent++);
			sl_evq_res_t r = sl_evq_send(&q, &e);
			ck_assert(r == SL_EVQ_SENT || r == SL_EVQ_BACKLOGGED);
		} else if (op < 90) {
			sl_msg_t e = ev(SL_EVT_PEER_STATUS, 0);
			if (sl_evq_send(&q, &e) == SL_EVQ_SENT)
				adv_ok++;
			else
				adv_refused++;
		} else if (op < 97) {
			if ((round / 10000u) % 2u == 0)
				continue; /* ctrl stalled: nothing drains (the ring fills) */
			uint32_t k = (uint32_t)(rand() % 64);
			while (k-- > 0 && sl_msgq_recv(sl_region_event_ring(&reg, 0), &m) == 0) {
				if (m.type == SL_EVT_SESSION_DOWN) {
					ck_assert_uint_eq(m.session, crit_seen);
					crit_seen++;
				} else {
					adv_seen++;
				}
			}
		} else {
			sl_evq_flush(&q);
		}
	}
	for (int spin = 0; spin < 1000 && (sl_evq_pending(&q) > 0 || crit_seen < crit_sent);
	     spin++) {
		sl_evq_flush(&q);
		while (sl_msgq_recv(sl_region_event_ring(&reg, 0), &m) == 0) {
			if (m.type == SL_EVT_SESSION_DOWN)
				ck_assert_uint_eq(m.session, crit_seen++);
			else
				adv_seen++;
		}
	}
	/* advisory events sent after the last critical one are still in the
	   ring: take them too before counting */
	while (sl_msgq_recv(sl_region_event_ring(&reg, 0), &m) == 0) {
		ck_assert_uint_ne(m.type, SL_EVT_SESSION_DOWN);
		adv_seen++;
	}
	ck_assert_uint_eq(crit_seen, crit_sent);
	ck_assert_uint_eq(adv_seen, adv_ok);
	ck_assert_uint_eq(c(&cnt->evt_critical_lost), 0);
	ck_assert_uint_eq(c(&cnt->events_lost), adv_refused);
	ck_assert_uint_eq(c(&cnt->evt_refused_reserve) + c(&cnt->evt_refused_full) +
	                      c(&cnt->evt_refused_backlog),
	                  adv_refused);
	ck_assert_uint_eq(c(&cnt->events_tx), crit_sent + adv_ok);
	ck_assert_uint_gt(c(&cnt->evt_backlogged), 0);
	ck_assert_uint_gt(adv_refused, 0);
}
END_TEST

static Suite *evq_suite(void)
{
	Suite *s = suite_create("evq");
	TCase *t = tcase_create("outbox");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, test_class_of_every_type);
	tcase_add_test(t, test_init_rejects_bad_arguments);
	tcase_add_test(t, test_advisory_stops_at_the_reserve);
	tcase_add_test(t, test_critical_uses_reserve_then_backlog);
	tcase_add_test(t, test_backlog_keeps_order_and_blocks_advisory);
	tcase_add_test(t, test_partial_flush_in_order);
	tcase_add_test(t, test_overflow_is_counted_lost);
	tcase_add_test(t, test_room_gate);
	tcase_add_test(t, test_random_never_loses_critical);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(evq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
