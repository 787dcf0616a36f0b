/* test_opkind.c — suite "opkind": the op kinds (ctrl/sl_opkind.h) over the
   real domain (peer manager on a region in /dev/shm, a regtest chain
   store, header sync) and the op table: each kind ends on its domain
   outcome, at once when refused, on cancel and on its deadline, and a
   cancelled connect is torn down and never ends twice. */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_chain.h"
#include "sl_dpregion.h"
#include "sl_op.h"
#include "sl_opkind.h"
#include "sl_peermgr.h"
#include "sl_sha256d.h"
#include "sl_sync.h"
#include "sl_time.h"

#define NOW    (100ULL * SL_NS_PER_S)
#define LCORES 1u
#define IP_B   0x0a630003u

static pid_t suite_pid;
static char rpath[256], sdir[64];
static sl_region_t reg;
static sl_cmdq_t dpq;
static sl_cfg_t cfg;
static sl_peermgr_t pm;
static sl_chainstore_t *cs;
static sl_sync_t sync_;
static const sl_chain_profile_t *prof;
static sl_op_table_t ops;
static sl_opkind_t kinds;
static uint64_t clock_ns;
static uint32_t ends;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return clock_ns;
}

static void on_end(void *ctx, const sl_op_t *op)
{
	(void)ctx;
	(void)op;
	ends++;
}

static void setup(void)
{
	char inst[48];
	snprintf(inst, sizeof inst, "ok%d-%d", (int)suite_pid, (int)getpid());
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
	snprintf(sdir, sizeof sdir, "/tmp/sl-test-opkind-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sdir));
	sl_chainstore_opts_t o = {.dir = sdir, .profile = "regtest"};
	sl_chainstore_err_t e;
	cs = sl_chainstore_open(&o, &e);
	ck_assert_ptr_nonnull(cs);
	sl_sync_init(&sync_, cs, &pm);
	ck_assert_int_eq(sl_op_table_init(&ops, 0), SL_OP_OK);
	clock_ns = NOW;
	sl_op_set_clock(&ops, fake_clock, NULL);
	sl_op_set_end_hook(&ops, on_end, NULL);
	sl_opkind_init(&kinds, &ops, &pm, &sync_, cs);
	ends = 0;
}

static void teardown(void)
{
	sl_op_table_fini(&ops);
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

static sl_op_t *start(sl_op_kind_t k, uint64_t deadline_ms)
{
	sl_op_t *op = NULL;
	ck_assert_int_eq(sl_op_start(&ops, k, 0, 0, deadline_ms, &op), SL_OP_OK);
	return op;
}

static void session_up(uint32_t sid)
{
	sl_msg_t m;
	memset(&m, 0, sizeof m);
	m.type = SL_EVT_SESSION_UP;
	m.session = sid;
	sl_evt_session_up_t u = {.peer_ip = IP_B, .peer_port = 9747, .outbound = 1, .streams = 3};
	u.node_id[0] = 0xbb;
	m.len = sizeof u;
	memcpy(m.payload, &u, sizeof u);
	sl_peermgr_event(&pm, &m, NOW);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* append_block: commit one valid regtest header on the tip. */
static void append_block(void)
{
	sl_chainstore_tip_t t;
	uint8_t hdr[80] = {0}, hash[32], target[32];
	sl_chainstore_tip(cs, &t);
	ck_assert_int_eq(sl_chain_compact_decode(prof->pow_limit_bits, target), 0);
	put32(hdr, 0x20000000);
	memcpy(hdr + 4, t.hash, 32);
	put32(hdr + 68, sl_chain_hdr_time(prof->genesis) + 600 * (t.height + 1));
	put32(hdr + 72, prof->pow_limit_bits);
	for (uint32_t nonce = 0;; nonce++) {
		put32(hdr + 76, nonce);
		sl_sha256d_hdr(hdr, hash);
		if (sl_chain_hash_meets(hash, target))
			break;
	}
	uint32_t done = 0;
	sl_chainstore_fail_t f;
	ck_assert_int_eq(sl_chainstore_append(cs, t.height + 1, hdr, 1, &done, &f),
	                 SL_CHAINSTORE_OK);
}

/* Refused at once (no dataplane): failed before the call returns. */
START_TEST(test_connect_refused_at_once)
{
	sl_op_t *op = start(SL_OP_KIND_PEER_CONNECT, 0);
	sl_opkind_peer_connect(&kinds, op, IP_B, 9747);
	ck_assert_uint_eq(op->state, SL_OP_FAILED);
	ck_assert_int_eq(op->code, SL_CODE_NOT_READY);
	ck_assert_uint_eq(ends, 1);
}
END_TEST

/* SESSION_UP completes the op with the peer. */
START_TEST(test_connect_completes_on_up)
{
	attach();
	sl_op_t *op = start(SL_OP_KIND_PEER_CONNECT, 0);
	sl_opkind_peer_connect(&kinds, op, IP_B, 9747);
	ck_assert_uint_eq(op->state, SL_OP_RUNNING);
	ck_assert_uint_eq(op->attempts, 1);
	uint32_t sid = sl_opkind_connect_of(op)->sid;
	ck_assert_uint_ne(sid, 0);
	session_up(sid);
	ck_assert_uint_eq(op->state, SL_OP_DONE);
	ck_assert_uint_eq(sl_opkind_connect_of(op)->peer.sid, sid);
	ck_assert_str_eq(sl_opkind_connect_of(op)->peer.state, "up");
	ck_assert_uint_eq(ends, 1);
}
END_TEST

/* Cancel tears the connect down; its later SESSION_UP ends nothing. */
START_TEST(test_connect_cancel_abandons)
{
	attach();
	sl_op_t *op = start(SL_OP_KIND_PEER_CONNECT, 0);
	sl_opkind_peer_connect(&kinds, op, IP_B, 9747);
	uint32_t sid = sl_opkind_connect_of(op)->sid;
	ck_assert_int_eq(sl_op_cancel(&ops, op->tx), SL_OP_OK);
	ck_assert_uint_eq(op->state, SL_OP_CANCELLED);
	sl_peermgr_detail_t d;
	sl_peermgr_err_t e;
	ck_assert_int_eq(sl_peermgr_show(&pm, sid, NOW, &d, &e), 0);
	ck_assert_str_eq(d.v.state, "closing");
	session_up(sid);
	ck_assert_uint_eq(op->state, SL_OP_CANCELLED);
	ck_assert_uint_eq(ends, 1);
}
END_TEST

/* The default deadline (30 s) ends a connect nobody answers. */
START_TEST(test_connect_deadline)
{
	attach();
	sl_op_t *op = start(SL_OP_KIND_PEER_CONNECT, 0);
	sl_opkind_peer_connect(&kinds, op, IP_B, 9747);
	ck_assert_uint_eq(op->deadline_ms, 30000);
	clock_ns += 29999 * SL_NS_PER_MS;
	sl_op_tick(&ops);
	ck_assert_uint_eq(op->state, SL_OP_RUNNING);
	clock_ns += SL_NS_PER_MS;
	sl_op_tick(&ops);
	ck_assert_int_eq(op->code, SL_CODE_TIMEOUT);
	session_up(sl_opkind_connect_of(op)->sid);
	ck_assert_uint_eq(ends, 1);
}
END_TEST

/* sync.start to a height already reached ends at once. */
START_TEST(test_sync_start_reached)
{
	attach();
	sl_op_t *op = start(SL_OP_KIND_SYNC_START, 0);
	sl_opkind_sync_start(&kinds, op, 0);
	ck_assert_uint_eq(op->state, SL_OP_DONE);
	ck_assert_uint_eq(sl_opkind_sync_of(op)->tip.height, 0);
	ck_assert_uint_eq(sl_opkind_sync_of(op)->headers, 0);
	/* without to_height and no peer: the best claimed tip is ours */
	op = start(SL_OP_KIND_SYNC_START, 0);
	sl_opkind_sync_start(&kinds, op, SL_REACTOR_NO_TARGET);
	ck_assert_uint_eq(op->state, SL_OP_DONE);
}
END_TEST

/* sync.start waits for the tip, then reports how far it moved. */
START_TEST(test_sync_start_waits_for_tip)
{
	attach();
	sl_op_t *op = start(SL_OP_KIND_SYNC_START, 0);
	sl_opkind_sync_start(&kinds, op, 2);
	ck_assert_uint_eq(op->state, SL_OP_RUNNING);
	sl_sync_status_t st;
	sl_sync_status(&sync_, &st);
	ck_assert_uint_eq(st.st.target, 2);
	append_block();
	sl_op_tick(&ops);
	ck_assert_uint_eq(op->state, SL_OP_RUNNING);
	append_block();
	clock_ns += 1500 * SL_NS_PER_MS;
	sl_op_tick(&ops);
	ck_assert_uint_eq(op->state, SL_OP_DONE);
	ck_assert_uint_eq(sl_opkind_sync_of(op)->tip.height, 2);
	ck_assert_uint_eq(sl_opkind_sync_of(op)->headers, 2);
	ck_assert(sl_opkind_sync_of(op)->seconds > 1.4);
}
END_TEST

/* sync.start has no default deadline but honours one it is given. */
START_TEST(test_sync_start_deadline)
{
	attach();
	sl_op_t *op = start(SL_OP_KIND_SYNC_START, 100);
	sl_opkind_sync_start(&kinds, op, 5);
	clock_ns += 100 * SL_NS_PER_MS;
	sl_op_tick(&ops);
	ck_assert_int_eq(op->code, SL_CODE_TIMEOUT);
}
END_TEST

START_TEST(test_import_missing_file)
{
	sl_op_t *op = start(SL_OP_KIND_HEADER_IMPORT, 0);
	sl_opkind_header_import(&kinds, op, "/nonexistent/headers");
	ck_assert_int_eq(op->code, SL_CODE_NOT_FOUND);
	ck_assert_uint_eq(op->state, SL_OP_FAILED);
}
END_TEST

/* export then import of the same file: done, nothing new. */
START_TEST(test_export_then_import)
{
	char path[128];
	append_block();
	snprintf(path, sizeof path, "%s/out.headers", sdir);
	sl_op_t *ex = start(SL_OP_KIND_HEADER_EXPORT, 0);
	sl_opkind_header_export(&kinds, ex, path, 0, 1);
	ck_assert_uint_eq(ex->state, SL_OP_DONE);
	ck_assert_uint_eq(sl_opkind_export_of(ex)->to, 1);
	sl_op_t *im = start(SL_OP_KIND_HEADER_IMPORT, 0);
	sl_opkind_header_import(&kinds, im, path);
	ck_assert_uint_eq(im->state, SL_OP_DONE);
	ck_assert_uint_eq(sl_opkind_import_of(im)->imported, 0);
	ck_assert_uint_eq(sl_opkind_import_of(im)->tip.height, 1);
	sl_op_t *bad = start(SL_OP_KIND_HEADER_EXPORT, 0);
	snprintf(path, sizeof path, "%s/no/such/dir/x", sdir);
	sl_opkind_header_export(&kinds, bad, path, 0, 1);
	ck_assert_int_eq(bad->code, SL_CODE_INTERNAL);
}
END_TEST

static void sweep(void)
{
	char pat[128];
	glob_t g;
	snprintf(pat, sizeof pat, "/dev/shm/sluice-ok%d-*.region", (int)suite_pid);
	if (glob(pat, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		unlink(g.gl_pathv[i]);
	globfree(&g);
}

static Suite *opkind_suite(void)
{
	Suite *s = suite_create("opkind");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_connect_refused_at_once);
	tcase_add_test(t, test_connect_completes_on_up);
	tcase_add_test(t, test_connect_cancel_abandons);
	tcase_add_test(t, test_connect_deadline);
	tcase_add_test(t, test_sync_start_reached);
	tcase_add_test(t, test_sync_start_waits_for_tip);
	tcase_add_test(t, test_sync_start_deadline);
	tcase_add_test(t, test_import_missing_file);
	tcase_add_test(t, test_export_then_import);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	suite_pid = getpid();
	SRunner *r = srunner_create(opkind_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	sweep();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
