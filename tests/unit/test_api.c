/* test_api.c — suite "api": the face (ctrl/sl_api.h) over a real control
   socket, a regtest store and the op table: a reply that waits is the
   op's completion (both the starting client and a client replaying the
   running tx get the result when it ends); wait=false answers at once;
   op.cancel ends the op and its waiting client gets CANCELLED; `ops` lists
   it; shutdown ends running ops with SHUTTING_DOWN. */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "sl_api.h"
#include "sl_chain.h"
#include "sl_ctrl.h"
#include "sl_sha256d.h"
#include "sl_time.h"

static sl_ctrl_t C; /* the peer manager inside is about 3 MB */
static char sdir[64], sock[96];
static const sl_chain_profile_t *prof;

static void setup(void)
{
	memset(&C, 0, sizeof C);
	sl_cfg_defaults(&C.cfg);
	C.cfg.n_bootstrap = 0;
	snprintf(sdir, sizeof sdir, "/tmp/sl-test-api-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sdir));
	snprintf(sock, sizeof sock, "%s/c.sock", sdir);
	prof = sl_chain_profile("regtest");
	uint8_t genesis[32];
	sl_sha256d_hdr(prof->genesis, genesis);
	sl_chainstore_opts_t o = {.dir = sdir, .profile = "regtest"};
	sl_chainstore_err_t e;
	C.chain = sl_chainstore_open(&o, &e);
	ck_assert_ptr_nonnull(C.chain);
	ck_assert_int_eq(sl_peermgr_init(&C.pm, &C.cfg, genesis, NULL), 0);
	sl_sync_init(&C.sync, C.chain, &C.pm);
	ck_assert_int_eq(sl_op_table_init(&C.ops, 0), SL_OP_OK);
	sl_op_set_end_hook(&C.ops, sl_api_op_ended, &C);
	sl_opkind_init(&C.kinds, &C.ops, &C.pm, &C.sync, C.chain);
	ck_assert_int_eq(sl_server_open(&C.srv, sock, 0, "root"), 0);
	C.dp.attached = true; /* sync.start asks for a dataplane; nothing here reads it */
}

static void teardown(void)
{
	sl_server_close(&C.srv);
	sl_op_table_fini(&C.ops);
	sl_peermgr_fini(&C.pm);
	sl_chainstore_close(C.chain);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The ctrl loop, for a few rounds: clients, then the op tick. */
static void pump(int rounds)
{
	static struct pollfd fds[SL_API_MAX_CLIENTS + 1];
	for (int i = 0; i < rounds; i++) {
		int n = sl_server_pollfds(&C.srv, fds);
		if (poll(fds, (nfds_t)n, 5) > 0)
			sl_server_service(&C.srv, fds, n, sl_api_line, &C);
		sl_op_tick(&C.ops);
	}
}

static int client(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	pump(2);
	return fd;
}

static void send_line(int fd, const char *line)
{
	ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	ck_assert_int_eq(write(fd, "\n", 1), 1);
	pump(3);
}

/* recv_reply: the next reply line on fd as JSON, or NULL when none came. */
static json_t *recv_reply(int fd)
{
	static char buf[65536];
	pump(3);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 20) <= 0)
		return NULL;
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_PEEK);
	ck_assert_int_gt(n, 0);
	char *nl = memchr(buf, '\n', (size_t)n);
	ck_assert_ptr_nonnull(nl);
	ck_assert_int_eq(recv(fd, buf, (size_t)(nl - buf) + 1, 0), nl - buf + 1);
	json_error_t e;
	return json_loadb(buf, (size_t)(nl - buf), 0, &e);
}

static json_int_t jint(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	return json_integer_value(b ? json_object_get(v, b) : v);
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	return json_string_value(b ? json_object_get(v, b) : v);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void append_block(void)
{
	sl_chainstore_tip_t t;
	uint8_t hdr[80] = {0}, hash[32], target[32];
	sl_chainstore_tip(C.chain, &t);
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
	ck_assert_int_eq(sl_chainstore_append(C.chain, t.height + 1, hdr, 1, &done, &f),
	                 SL_CHAINSTORE_OK);
}

/* A waiting reply is the op's completion; a replay of the running tx
   attaches and gets the same result; no second op starts. */
START_TEST(test_wait_and_replay_attach)
{
	int a = client(), b = client();
	send_line(a, "{\"id\":1,\"cmd\":\"sync.start\",\"tx\":70,\"args\":{\"to_height\":1}}");
	ck_assert_ptr_null(recv_reply(a)); /* waits */
	send_line(b, "{\"id\":9,\"cmd\":\"sync.start\",\"tx\":70,\"args\":{\"to_height\":5}}");
	ck_assert_ptr_null(recv_reply(b)); /* attached, waits too */
	ck_assert_uint_eq(C.ops.cnt.started, 1);
	ck_assert_uint_eq(sl_op_find(&C.ops, 70)->n_waiters, 2);
	append_block();
	json_t *ra = recv_reply(a), *rb = recv_reply(b);
	ck_assert_ptr_nonnull(ra);
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_eq(jint(ra, "id", NULL), 1);
	ck_assert_int_eq(jint(rb, "id", NULL), 9);
	ck_assert(json_is_true(json_object_get(ra, "ok")));
	ck_assert_int_eq(jint(ra, "result", "tx"), 70);
	ck_assert_int_eq(jint(ra, "result", "tip_height"), 1);
	ck_assert_int_eq(jint(rb, "result", "tip_height"), 1);
	ck_assert_int_eq(jint(ra, "result", "headers"), 1);
	json_decref(ra);
	json_decref(rb);
	/* ended: a replay gets the stored result at once */
	send_line(b, "{\"id\":10,\"cmd\":\"sync.start\",\"tx\":70}");
	rb = recv_reply(b);
	ck_assert_ptr_nonnull(rb);
	ck_assert_int_eq(jint(rb, "result", "tip_height"), 1);
	ck_assert_int_eq(jint(rb, "result", "headers"), 1); /* op 70's own result */
	json_decref(rb);
	ck_assert_uint_eq(C.ops.cnt.started, 1);
	close(a);
	close(b);
}
END_TEST

/* wait=false answers {"tx","state":"running"} at once; ops lists it. */
START_TEST(test_no_wait_then_ops)
{
	int a = client();
	send_line(a, "{\"id\":2,\"cmd\":\"sync.start\",\"args\":{\"to_height\":3,\"wait\":false,"
	             "\"deadline_ms\":60000}}");
	json_t *r = recv_reply(a);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(jstr(r, "result", "state"), "running");
	json_int_t tx = jint(r, "result", "tx");
	ck_assert_int_gt(tx, 0);
	json_decref(r);
	send_line(a, "{\"id\":3,\"cmd\":\"ops\"}");
	r = recv_reply(a);
	json_t *o = json_array_get(json_object_get(r, "result"), 0);
	ck_assert_int_eq(jint(o, "tx", NULL), tx);
	ck_assert_str_eq(jstr(o, "kind", NULL), "sync.start");
	ck_assert_str_eq(jstr(o, "state", NULL), "running");
	ck_assert_int_eq(jint(o, "deadline_ms", NULL), 60000);
	ck_assert(json_is_null(json_object_get(o, "parent")));
	ck_assert_ptr_null(json_object_get(o, "result"));
	json_decref(r);
	close(a);
}
END_TEST

/* op.cancel ends the op; its waiting client gets CANCELLED with tx. */
START_TEST(test_cancel_answers_waiter)
{
	int a = client(), b = client();
	send_line(a, "{\"id\":4,\"cmd\":\"sync.start\",\"tx\":71,\"args\":{\"to_height\":9}}");
	ck_assert_ptr_null(recv_reply(a));
	send_line(b, "{\"id\":5,\"cmd\":\"op.cancel\",\"args\":{\"tx\":71}}");
	json_t *rb = recv_reply(b), *ra = recv_reply(a);
	ck_assert_ptr_nonnull(rb);
	ck_assert_str_eq(jstr(rb, "result", "state"), "cancelled");
	ck_assert_int_eq(jint(rb, "result", "tx"), 71);
	ck_assert_ptr_nonnull(ra);
	ck_assert(json_is_false(json_object_get(ra, "ok")));
	ck_assert_str_eq(jstr(ra, "error", "code"), "CANCELLED");
	ck_assert_int_eq(jint(ra, "error", "tx"), 71);
	json_decref(ra);
	json_decref(rb);
	send_line(b, "{\"id\":6,\"cmd\":\"op.cancel\",\"args\":{\"tx\":71}}");
	rb = recv_reply(b);
	ck_assert_str_eq(jstr(rb, "error", "code"), "NOT_FOUND");
	json_decref(rb);
	close(a);
	close(b);
}
END_TEST

/* A deadline ends a waiting op with TIMEOUT, answered to its client. */
START_TEST(test_deadline_answers_waiter)
{
	int a = client();
	/* 500 ms: long enough that a loaded (or sanitized) run still looks
	   before the deadline; the op must not have answered by then */
	send_line(a, "{\"id\":7,\"cmd\":\"sync.start\",\"args\":{\"to_height\":9,"
	             "\"deadline_ms\":500}}");
	ck_assert_ptr_null(recv_reply(a));
	usleep(600000);
	json_t *r = recv_reply(a);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(jstr(r, "error", "code"), "TIMEOUT");
	json_decref(r);
	close(a);
}
END_TEST

/* shutdown ends running ops: their clients get SHUTTING_DOWN. */
START_TEST(test_shutdown_ends_ops)
{
	int a = client(), b = client();
	send_line(a, "{\"id\":8,\"cmd\":\"sync.start\",\"args\":{\"to_height\":9}}");
	ck_assert_ptr_null(recv_reply(a));
	C.dp.attached = false; /* shutdown would tell the dataplane otherwise */
	send_line(b, "{\"id\":9,\"cmd\":\"shutdown\"}");
	json_t *ra = recv_reply(a), *rb = recv_reply(b);
	ck_assert_ptr_nonnull(ra);
	ck_assert_str_eq(jstr(ra, "error", "code"), "SHUTTING_DOWN");
	ck_assert(json_is_true(json_object_get(rb, "ok")));
	ck_assert_uint_eq(sl_op_running(&C.ops), 0);
	json_decref(ra);
	json_decref(rb);
	close(a);
	close(b);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_wait_and_replay_attach);
	tcase_add_test(t, test_no_wait_then_ops);
	tcase_add_test(t, test_cancel_answers_waiter);
	tcase_add_test(t, test_deadline_answers_waiter);
	tcase_add_test(t, test_shutdown_ends_ops);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(api_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
