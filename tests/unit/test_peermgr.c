/* test_peermgr.c — suite "peermgr": the peer manager (ctrl/sl_peermgr.h)
   over a real region in /dev/shm, driven with the events a dataplane
   would send: connect outcomes reach the connect_end hook once, with the
   caller's token, the peer or the right code; an abandoned connect is
   torn down and never reported; queries answer plain structs. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_dpregion.h"
#include "sl_peermgr.h"
#include "sl_session.h"
#include "sl_time.h"

#define IP_B   0x0a630003u /* 10.99.0.3 */
#define IP_C   0x0a630004u
#define NOW    (100ULL * SL_NS_PER_S)
#define LCORES 1u

static pid_t suite_pid;
static char rpath[256];
static sl_region_t reg;
static sl_cmdq_t dpq; /* the dataplane's side of the command blocks */
static sl_cfg_t cfg;
static sl_peermgr_t pm; /* about 3 MB */
static char store[64];  /* [ctrl] store: where the ban list goes */
static const uint8_t genesis[32] = {0x06, 0x22};

/* What the connect_end hook saw. */
static uint32_t ends;
static uint64_t end_token;
static sl_peermgr_connect_end_t end_e;

static void on_connect_end(void *ctx, uint64_t token, const sl_peermgr_connect_end_t *e)
{
	(void)ctx;
	ends++;
	end_token = token;
	end_e = *e;
}

static void setup(void)
{
	char inst[48];
	snprintf(inst, sizeof inst, "pm%d-%d", (int)suite_pid, (int)getpid());
	ck_assert_int_eq(sl_region_path(rpath, sizeof rpath, "/dev/shm", inst), 0);
	unlink(rpath);
	ck_assert_int_eq(sl_dpregion_create(&reg, rpath, LCORES, "unit"), 0);
	ck_assert_int_eq(sl_region_cmdq_join(&reg, &dpq), 0);
	ck_assert_int_eq(sl_region_life_advance(&reg, SL_LIFE_READY), 0);
	sl_cfg_defaults(&cfg);
	snprintf(store, sizeof store, "/tmp/test_peermgr.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(store));
	snprintf(cfg.store, sizeof cfg.store, "%s", store);
	cfg.n_bootstrap = 0;
	cfg.outbound = 0; /* no dialer: only the connects a test starts */
	ck_assert_int_eq(sl_peermgr_init(&pm, &cfg, genesis, NULL), 0);
	sl_peermgr_set_connect_hook(&pm, on_connect_end, NULL);
	ends = 0;
	end_token = 0;
	memset(&end_e, 0, sizeof end_e);
}

static void teardown(void)
{
	sl_peermgr_detach(&pm);
	sl_peermgr_fini(&pm);
	sl_region_close(&reg);
	unlink(rpath);
	char path[128];
	snprintf(path, sizeof path, "%s/bans", store);
	unlink(path);
	rmdir(store);
}

static void attach_ready(void)
{
	ck_assert_int_eq(sl_peermgr_attach(&pm, &reg, NOW), 0);
	sl_peermgr_tick(&pm, SL_LIFE_READY, NOW);
}

static void event(uint16_t type, uint32_t sid, const void *payload, size_t len)
{
	sl_msg_t m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.session = sid;
	m.lcore = sl_sid_lcore(sid);
	m.len = (uint16_t)len;
	memcpy(m.payload, payload, len);
	sl_peermgr_event(&pm, &m, NOW);
}

static void session_up(uint32_t sid, uint32_t ip, uint8_t id0)
{
	sl_evt_session_up_t u = {.peer_ip = ip, .peer_port = 9747, .outbound = 1, .streams = 0x23};
	u.node_id[0] = id0;
	event(SL_EVT_SESSION_UP, sid, &u, sizeof u);
}

static uint32_t connect_ok(uint32_t ip, uint64_t token)
{
	uint32_t sid = 0;
	sl_peermgr_err_t e = {0};
	ck_assert_int_eq(sl_peermgr_connect(&pm, ip, 9747, token, NOW, &sid, &e), 0);
	ck_assert_uint_ne(sid, 0);
	return sid;
}

/* Negative first: no dataplane, then no ready gate. */
START_TEST(test_connect_not_ready)
{
	uint32_t sid = 0;
	sl_peermgr_err_t e = {0};
	ck_assert_int_eq(sl_peermgr_connect(&pm, IP_B, 9747, 7, NOW, &sid, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_NOT_READY);
	ck_assert_int_eq(sl_peermgr_attach(&pm, &reg, NOW), 0);
	ck_assert_int_eq(sl_peermgr_connect(&pm, IP_B, 9747, 7, NOW, &sid, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_NOT_READY);
	ck_assert_uint_eq(ends, 0); /* a refused start never calls the hook */
}
END_TEST

/* A HELLO drained in the very tick that attached, before that tick's
   sl_peermgr_tick saw the dataplane READY, is judged on the region's life:
   accepted, not REJECT(NOT_READY) with a 5 s retry (a peer dialling the
   instant our link came up hit this). */
START_TEST(test_hello_in_the_attach_tick_is_judged_ready)
{
	ck_assert_int_eq(sl_peermgr_attach(&pm, &reg, NOW), 0); /* no tick yet */
	sl_wire_hello_t h = {.proto_min = 1,
	                     .proto_max = 1,
	                     .streams_offered = 0x23,
	                     .nonce = 77,
	                     .reply_session = 0x1234};
	memcpy(h.chain_id, genesis, sizeof genesis);
	h.node_id[0] = 9;
	sl_evt_hello_t ev = {.src_ip = IP_B, .src_port = 9747};
	ev.hello_len = (uint16_t)sl_wire_encode_hello(ev.hello, sizeof ev.hello, &h);
	ck_assert_uint_gt(ev.hello_len, 0);
	event(SL_EVT_HELLO, 0, &ev, sizeof ev);
	ck_assert_uint_eq(pm.cnt.hello_rx, 1);
	ck_assert_uint_eq(pm.cnt.hello_bad, 0);
	ck_assert_uint_eq(pm.cnt.rejects, 0);
	ck_assert(pm.ready);
}
END_TEST

START_TEST(test_connect_refuses_bad_addresses)
{
	uint32_t sid;
	sl_peermgr_err_t e = {0};
	attach_ready();
	ck_assert_int_eq(sl_peermgr_connect(&pm, 0, 9747, 7, NOW, &sid, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_BAD_REQUEST);
	ck_assert_int_eq(sl_peermgr_ban(&pm, IP_C, 60, NOW, &e), 0);
	ck_assert_int_eq(sl_peermgr_connect(&pm, IP_C, 9747, 7, NOW, &sid, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_BAD_REQUEST);
	ck_assert_ptr_nonnull(strstr(e.message, "banned"));
	ck_assert_uint_eq(ends, 0);
}
END_TEST

/* pbook_has: ip is in the GET_PEERS snapshot the dataplane serves. */
static bool pbook_has(uint32_t ip)
{
	sl_pbook_peer_t out[SL_PBOOK_MAX];
	uint32_t n = sl_pbook_read(pm.pbook, out, SL_PBOOK_MAX);
	for (uint32_t i = 0; i < n; i++)
		if (out[i].ipv4 == ip)
			return true;
	return false;
}

/* A ban is never gossiped (the GET_PEERS snapshot drops the address at
   once) and survives a restart (the ban list in the store directory). */
START_TEST(test_ban_not_gossiped_and_persisted)
{
	sl_peermgr_err_t e = {0};
	attach_ready();
	ck_assert_int_ge(sl_book_add(&pm.book, IP_C, 9747, 0, 0, NULL, 1700000000u), 0);
	ck_assert_int_eq(sl_peermgr_ban(&pm, IP_B, 60, NOW, &e), 0); /* publishes the book */
	ck_assert(pbook_has(IP_C));
	ck_assert_int_eq(sl_peermgr_ban(&pm, IP_C, 3600, NOW, &e), 0);
	ck_assert(!pbook_has(IP_C));
	sl_peermgr_detach(&pm);
	sl_peermgr_fini(&pm);
	ck_assert_int_eq(sl_peermgr_init(&pm, &cfg, genesis, NULL), 0); /* a restart */
	uint32_t left = 0;
	ck_assert(sl_admit_banned(&pm.admit, IP_C, sl_now_ns(), &left));
	ck_assert_uint_gt(left, 3500);
	ck_assert(sl_admit_banned(&pm.admit, IP_B, sl_now_ns(), NULL));
	ck_assert_int_eq(sl_peermgr_unban(&pm, IP_C, &e), 0);
	sl_peermgr_fini(&pm);
	ck_assert_int_eq(sl_peermgr_init(&pm, &cfg, genesis, NULL), 0);
	ck_assert(!sl_admit_banned(&pm.admit, IP_C, sl_now_ns(), NULL)); /* the unban was saved */
}
END_TEST

/* SESSION_UP ends the awaited connect with the peer, once, with its token. */
START_TEST(test_connect_up_reports_peer)
{
	attach_ready();
	uint32_t sid = connect_ok(IP_B, 77);
	ck_assert_uint_eq(ends, 0);
	session_up(sid, IP_B, 0xbb);
	ck_assert_uint_eq(ends, 1);
	ck_assert_uint_eq(end_token, 77);
	ck_assert_int_eq(end_e.err.code, SL_CODE_OK);
	ck_assert_uint_eq(end_e.sid, sid);
	ck_assert_uint_eq(end_e.peer.sid, sid);
	ck_assert_uint_eq(end_e.peer.ip, IP_B);
	ck_assert_uint_eq(end_e.peer.port, 9747);
	ck_assert_str_eq(end_e.peer.state, "up");
	ck_assert(end_e.peer.outbound);
	ck_assert_uint_eq(end_e.peer.node_id[0], 0xbb);
	session_up(sid, IP_B, 0xbb); /* a repeat reports nothing more */
	ck_assert_uint_eq(ends, 1);
	ck_assert_uint_eq(sl_peermgr_live(&pm), 1);
}
END_TEST

/* A dialled connect (token 0) is never reported. */
START_TEST(test_connect_without_token_silent)
{
	attach_ready();
	uint32_t sid = connect_ok(IP_B, 0);
	session_up(sid, IP_B, 0xbb);
	ck_assert_uint_eq(ends, 0);
}
END_TEST

/* CONNECT_FAILED maps the REJECT reason to the code the API answers. */
START_TEST(test_connect_failed_codes)
{
	static const struct {
		uint16_t reason;
		sl_code_t code;
	} cases[] = {{SL_WIRE_REJECT_FULL, SL_CODE_BUSY},
	             {SL_WIRE_REJECT_BANNED, SL_CODE_NOT_FOUND},
	             {0, SL_CODE_TIMEOUT}};
	attach_ready();
	for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++) {
		uint32_t sid = connect_ok(IP_B + (uint32_t)i, 100 + i);
		sl_evt_connect_failed_t f = {.reason = cases[i].reason, .retry_after_s = 9};
		event(SL_EVT_CONNECT_FAILED, sid, &f, sizeof f);
		ck_assert_uint_eq(ends, i + 1);
		ck_assert_uint_eq(end_token, 100 + i);
		ck_assert_int_eq(end_e.err.code, cases[i].code);
		ck_assert_ptr_nonnull(end_e.err.reject_reason);
		ck_assert_uint_eq(end_e.err.retry_after_s, 9);
	}
	ck_assert_str_eq(end_e.err.reject_reason, "timeout");
}
END_TEST

/* A connect to an address we dialled already (connecting, then up) is
   refused BUSY before any HELLO: at the other end a second HELLO of ours
   reads as a restart and closes the live session, while this end would
   close the new one as a duplicate.  Once the session is down, the
   address may be dialled again. */
START_TEST(test_connect_dialled_twice_refused)
{
	uint32_t sid2 = 0;
	sl_peermgr_err_t e = {0};
	attach_ready();
	uint32_t sid = connect_ok(IP_B, 11);
	ck_assert_int_eq(sl_peermgr_connect(&pm, IP_B, 9747, 12, NOW, &sid2, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_BUSY);
	ck_assert_ptr_nonnull(strstr(e.message, "dialled it already"));
	session_up(sid, IP_B, 0xbb);
	ck_assert_uint_eq(ends, 1);
	ck_assert_int_eq(sl_peermgr_connect(&pm, IP_B, 9747, 13, NOW, &sid2, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_BUSY);
	ck_assert_uint_eq(ends, 1); /* a refused start never calls the hook */
	ck_assert_uint_eq(sl_peermgr_live(&pm), 1);
	/* another port of the same host is another address */
	ck_assert_int_eq(sl_peermgr_connect(&pm, IP_B, 9748, 14, NOW, &sid2, &e), 0);
	sl_evt_session_down_t d = {.exit = SL_EXIT_NORMAL};
	event(SL_EVT_SESSION_DOWN, sid, &d, sizeof d);
	connect_ok(IP_B, 15);
}
END_TEST

/* SESSION_DOWN before UP fails the connect: LOCAL exit -> TIMEOUT. */
START_TEST(test_connect_down_before_up)
{
	attach_ready();
	uint32_t sid = connect_ok(IP_B, 5);
	sl_evt_session_down_t d = {.exit = SL_EXIT_LOCAL};
	event(SL_EVT_SESSION_DOWN, sid, &d, sizeof d);
	ck_assert_uint_eq(ends, 1);
	ck_assert_int_eq(end_e.err.code, SL_CODE_TIMEOUT);
	sid = connect_ok(IP_C, 6);
	d.exit = SL_EXIT_PROTOCOL;
	event(SL_EVT_SESSION_DOWN, sid, &d, sizeof d);
	ck_assert_int_eq(end_e.err.code, SL_CODE_NOT_FOUND);
}
END_TEST

/* An abandoned connect is torn down and never reported. */
START_TEST(test_connect_abandon)
{
	attach_ready();
	uint32_t sid = connect_ok(IP_B, 9);
	sl_peermgr_connect_abandon(&pm, sid, 8); /* not its token: nothing */
	sl_peermgr_view_t v;
	ck_assert_uint_ne(sl_peermgr_next(&pm, 0, NOW, &v), 0);
	ck_assert_str_eq(v.state, "connecting");
	sl_peermgr_connect_abandon(&pm, sid, 9);
	ck_assert_uint_ne(sl_peermgr_next(&pm, 0, NOW, &v), 0);
	ck_assert_str_eq(v.state, "closing");
	session_up(sid, IP_B, 0xbb);
	ck_assert_uint_eq(ends, 0);
}
END_TEST

/* ctrl's own guard: no report from the dataplane past the deadline. */
START_TEST(test_connect_guard_timeout)
{
	attach_ready();
	connect_ok(IP_B, 11);
	uint64_t late = NOW + (uint64_t)cfg.connect_timeout_ms * SL_NS_PER_MS +
	                SL_PEERMGR_CONNECT_GRACE_NS + SL_NS_PER_S + 1;
	sl_peermgr_tick(&pm, SL_LIFE_READY, late - 2 * SL_NS_PER_S);
	ck_assert_uint_eq(ends, 0);
	sl_peermgr_tick(&pm, SL_LIFE_READY, late);
	ck_assert_uint_eq(ends, 1);
	ck_assert_int_eq(end_e.err.code, SL_CODE_TIMEOUT);
}
END_TEST

/* Losing the dataplane fails every awaited connect NOT_READY. */
START_TEST(test_detach_fails_connects)
{
	attach_ready();
	connect_ok(IP_B, 1);
	connect_ok(IP_C, 2);
	sl_peermgr_detach(&pm);
	ck_assert_uint_eq(ends, 2);
	ck_assert_int_eq(end_e.err.code, SL_CODE_NOT_READY);
}
END_TEST

START_TEST(test_queries_unknown_session)
{
	sl_peermgr_err_t e = {0};
	sl_peermgr_detail_t d;
	attach_ready();
	ck_assert_int_eq(sl_peermgr_show(&pm, 12345, NOW, &d, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_NOT_FOUND);
	ck_assert_int_eq(sl_peermgr_disconnect(&pm, 12345, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_NOT_FOUND);
	ck_assert_int_eq(sl_peermgr_park(&pm, 12345, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_NOT_FOUND);
	ck_assert_int_eq(sl_peermgr_unban(&pm, IP_B, &e), -1);
	ck_assert_int_eq(e.code, SL_CODE_NOT_FOUND);
	sl_peermgr_view_t v;
	ck_assert_uint_eq(sl_peermgr_next(&pm, 0, NOW, &v), 0);
}
END_TEST

/* The walk and the detail of live sessions; a ban closes its sessions. */
START_TEST(test_views_show_and_ban)
{
	sl_peermgr_err_t e = {0};
	attach_ready();
	uint32_t b = connect_ok(IP_B, 1), c = connect_ok(IP_C, 2);
	session_up(b, IP_B, 0xbb);
	session_up(c, IP_C, 0xcc);
	sl_peermgr_view_t v;
	uint32_t n = 0, seen = 0;
	for (uint32_t i = sl_peermgr_next(&pm, 0, NOW, &v); i;
	     i = sl_peermgr_next(&pm, i, NOW, &v)) {
		n++;
		seen |= (v.sid == b) | (v.sid == c) << 1;
	}
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(seen, 3);
	sl_peermgr_detail_t d;
	ck_assert_int_eq(sl_peermgr_show(&pm, c, NOW, &d, &e), 0);
	ck_assert_uint_eq(d.v.ip, IP_C);
	ck_assert_uint_eq(d.generation, sl_sid_gen(c));
	ck_assert_uint_eq(d.lcore, 0);
	ck_assert_int_eq(sl_peermgr_ban(&pm, IP_B, 0, NOW, &e), 1);
	ck_assert_int_eq(sl_peermgr_show(&pm, b, NOW, &d, &e), 0);
	ck_assert_str_eq(d.v.state, "closing");
	sl_peermgr_stats_t st;
	sl_peermgr_stats(&pm, &st);
	ck_assert_uint_eq(st.cnt.connects, 2);
	ck_assert_uint_eq(st.cnt.sessions_up, 2);
	ck_assert_uint_eq(st.sessions_live, 1);
	ck_assert_int_eq(sl_peermgr_unban(&pm, IP_B, &e), 0);
}
END_TEST

/* SESSION_DOWN counts once per session by exit kind. */
START_TEST(test_down_counted_once)
{
	attach_ready();
	uint32_t b = connect_ok(IP_B, 1);
	session_up(b, IP_B, 0xbb);
	sl_evt_session_down_t d = {.exit = SL_EXIT_LIVENESS};
	event(SL_EVT_SESSION_DOWN, b, &d, sizeof d);
	event(SL_EVT_SESSION_DOWN, b, &d, sizeof d);
	sl_peermgr_stats_t st;
	sl_peermgr_stats(&pm, &st);
	ck_assert_uint_eq(st.down_by_exit[SL_EXIT_LIVENESS], 1);
	ck_assert_uint_eq(st.down_total, 1);
	ck_assert_uint_eq(st.down_repeated, 1);
	ck_assert_uint_eq(st.sessions_live, 0);
}
END_TEST

static void sweep(void)
{
	char pat[128];
	glob_t g;
	snprintf(pat, sizeof pat, "/dev/shm/sluice-pm%d-*.region", (int)suite_pid);
	if (glob(pat, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		unlink(g.gl_pathv[i]);
	globfree(&g);
}

static Suite *peermgr_suite(void)
{
	Suite *s = suite_create("peermgr");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_connect_not_ready);
	tcase_add_test(t, test_hello_in_the_attach_tick_is_judged_ready);
	tcase_add_test(t, test_connect_refuses_bad_addresses);
	tcase_add_test(t, test_ban_not_gossiped_and_persisted);
	tcase_add_test(t, test_connect_up_reports_peer);
	tcase_add_test(t, test_connect_without_token_silent);
	tcase_add_test(t, test_connect_failed_codes);
	tcase_add_test(t, test_connect_dialled_twice_refused);
	tcase_add_test(t, test_connect_down_before_up);
	tcase_add_test(t, test_connect_abandon);
	tcase_add_test(t, test_connect_guard_timeout);
	tcase_add_test(t, test_detach_fails_connects);
	tcase_add_test(t, test_queries_unknown_session);
	tcase_add_test(t, test_views_show_and_ban);
	tcase_add_test(t, test_down_counted_once);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	suite_pid = getpid();
	SRunner *r = srunner_create(peermgr_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	sweep();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
