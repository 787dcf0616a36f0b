/* test_opnet.c — suite "opnet": the network ops' attempt machinery
   (ctrl/sl_opnet.h) over a fake domain and an injected clock: a fresh id
   per attempt, the waiter registered before the send, hiccups retried on
   the same peer at most 3 times with a delay, NOT_FOUND / bad data /
   timeout / peer down moving to the next peer, EXHAUSTED and NOT_FOUND,
   deadlines before completions, cancel letting go of the waiter, the
   per-peer window, and peer.ping {all} ending once.  The store half is
   asynchronous like the read path it stands for: a read keyed by the op's
   tx whose completion the test hands to sl_opnet_store_done. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sl_opnet.h"
#include "sl_session.h"
#include "sl_time.h"

static sl_op_table_t T;
static sl_opnet_t N;
static uint64_t clock_ns;
static uint32_t ends;

/* the fake domain */
#define MAXS 16
static uint32_t claim[MAXS], n_claim;
static bool in_store;                                  /* fetch() completes reads so */
static sl_storeread_err_t read_says = SL_STOREREAD_OK; /* store_read's own answer */
static struct {
	uint32_t height;
	uint64_t deadline_ns, cookie;
} reads[4096];
static uint32_t n_reads, n_cancels;
static uint64_t cancelled;
static struct {
	uint32_t sid;
	uint64_t corr;
	bool registered; /* the waiter was there when the send happened */
} sent[4096];
static uint32_t n_sent;
static sl_peerio_send_t send_says = SL_PEERIO_SENT;

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

static sl_storeread_err_t f_store_read(void *ctx, uint32_t h, uint64_t deadline_ns, uint64_t cookie)
{
	(void)ctx;
	if (read_says == SL_STOREREAD_OK)
		reads[n_reads++] = (typeof(reads[0])){h, deadline_ns, cookie};
	return read_says;
}

static void f_store_cancel(void *ctx, uint64_t cookie)
{
	(void)ctx;
	n_cancels++;
	cancelled = cookie;
}

/* store_done completes read i with e (OK: a header of bytes h). */
static bool store_done(uint32_t i, sl_storeread_err_t e)
{
	sl_storeread_done_t d = {.cookie = reads[i].cookie,
	                         .kind = SL_STOREREAD_KIND_GET,
	                         .err = e,
	                         .height = reads[i].height};
	if (e == SL_STOREREAD_OK) {
		memset(d.hdr, (int)reads[i].height, 80);
		memset(d.hash, 7, 32);
	}
	return sl_opnet_store_done(&N, &d);
}

static uint32_t f_claimers(void *ctx, uint32_t h, uint32_t *sids, uint32_t cap)
{
	(void)ctx;
	(void)h;
	uint32_t n = SL_MIN(n_claim, cap);
	memcpy(sids, claim, n * sizeof *sids);
	return n;
}

static uint32_t f_live(void *ctx, uint32_t *sids, uint32_t cap)
{
	return f_claimers(ctx, 0, sids, cap);
}

static sl_peerio_send_t f_send(uint32_t sid, uint64_t corr)
{
	sent[n_sent].sid = sid;
	sent[n_sent].corr = corr;
	sent[n_sent].registered = sl_opnet_in_flight(&N) > 0;
	n_sent++;
	return send_says;
}

static sl_peerio_send_t f_fetch(void *ctx, uint32_t sid, uint64_t corr, uint32_t h)
{
	(void)ctx;
	(void)h;
	return f_send(sid, corr);
}

static sl_peerio_send_t f_ping(void *ctx, uint32_t sid, uint64_t corr)
{
	(void)ctx;
	return f_send(sid, corr);
}

static void f_addr(void *ctx, uint32_t sid, uint32_t *ip, uint16_t *port)
{
	(void)ctx;
	*ip = 0x0a000000u + sid;
	*port = 9747;
}

static const sl_opnet_io_t io = {.store_read = f_store_read,
                                 .store_cancel = f_store_cancel,
                                 .claimers = f_claimers,
                                 .live = f_live,
                                 .fetch = f_fetch,
                                 .ping = f_ping,
                                 .addr = f_addr};

static void setup(void)
{
	clock_ns = 1000 * SL_NS_PER_S;
	ck_assert_int_eq(sl_op_table_init(&T, 0), SL_OP_OK);
	sl_op_set_clock(&T, fake_clock, NULL);
	sl_op_set_end_hook(&T, on_end, NULL);
	ck_assert_int_eq(sl_opnet_init(&N, &T, &io, 42), 0);
	ends = n_sent = n_claim = n_reads = n_cancels = 0;
	cancelled = 0;
	in_store = false;
	read_says = SL_STOREREAD_OK;
	send_says = SL_PEERIO_SENT;
}

static void teardown(void)
{
	sl_opnet_fini(&N);
	sl_op_table_fini(&T);
}

static uint32_t sid_of(uint32_t slot)
{
	return sl_sid_make(0, slot, 1);
}

static void reply(sl_peerio_reply_kind_t k, uint32_t i, uint32_t height)
{
	sl_peerio_reply_t r = {.kind = k,
	                       .sid = sent[i].sid,
	                       .corr = sent[i].corr,
	                       .height = height,
	                       .rtt_ns = 123000};
	sl_opnet_reply(&N, &r, clock_ns);
}

/* fetch_start starts a header.fetch; its store read (if submitted) is
   left out. */
static sl_op_t *fetch_start(uint32_t height, uint64_t deadline_ms)
{
	sl_op_t *op = NULL;
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_HEADER_FETCH, 0, 0, deadline_ms, &op),
	                 SL_OP_OK);
	sl_opnet_header_fetch(&N, op, height);
	return op;
}

/* fetch starts one and completes its store read: OK if in_store, else
   NOT_FOUND (on to the peers). */
static sl_op_t *fetch(uint32_t height, uint64_t deadline_ms)
{
	uint32_t r = n_reads;
	sl_op_t *op = fetch_start(height, deadline_ms);
	if (n_reads > r)
		ck_assert(store_done(r, in_store ? SL_STOREREAD_OK : SL_STOREREAD_ERR_NOT_FOUND));
	return op;
}

static void claimers(uint32_t n)
{
	n_claim = n;
	for (uint32_t i = 0; i < n; i++)
		claim[i] = sid_of(i + 1);
}

START_TEST(test_store_first)
{
	claimers(2);
	sl_op_t *op = fetch_start(5, 1000);
	ck_assert_uint_eq(n_reads, 1); /* one read, keyed by the op, bounded by its deadline */
	ck_assert_uint_eq(reads[0].cookie, op->tx);
	ck_assert_uint_eq(reads[0].height, 5);
	ck_assert_uint_eq(reads[0].deadline_ns, op->deadline_ns);
	ck_assert_int_eq(op->state, SL_OP_RUNNING); /* asynchronous: nothing until it completes */
	ck_assert_uint_eq(n_sent, 0);
	ck_assert(store_done(0, SL_STOREREAD_OK));
	ck_assert_int_eq(op->state, SL_OP_DONE);
	ck_assert(sl_opnet_fetch_of(op)->from_store);
	ck_assert_uint_eq(sl_opnet_fetch_of(op)->hdr[0], 5);
	ck_assert_uint_eq(n_sent, 0);
	ck_assert(!store_done(0, SL_STOREREAD_OK)); /* a second completion finds nobody */
	ck_assert_uint_eq(N.cnt.store_late, 1);
}
END_TEST

/* NOT_FOUND in the store: the network half, from the completion. */
START_TEST(test_store_not_found_goes_to_peers)
{
	claimers(2);
	sl_op_t *op = fetch_start(5, 0);
	ck_assert_uint_eq(n_sent, 0);
	ck_assert(store_done(0, SL_STOREREAD_ERR_NOT_FOUND));
	ck_assert_int_eq(op->state, SL_OP_RUNNING);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert_uint_eq(sent[0].sid, sid_of(1));
	reply(SL_PEERIO_R_HEADER, 0, 5);
	ck_assert_int_eq(op->state, SL_OP_DONE);
	ck_assert(!sl_opnet_fetch_of(op)->from_store);
}
END_TEST

/* No read permit in time (TIMEOUT) or no room (BUSY, refused at submit):
   the peers, within the op's deadline; past it, TIMEOUT. */
START_TEST(test_store_timeout_or_busy_goes_to_peers)
{
	claimers(1);
	sl_op_t *op = fetch_start(5, 10000);
	clock_ns += 5 * SL_NS_PER_S;
	ck_assert(store_done(0, SL_STOREREAD_ERR_TIMEOUT));
	ck_assert_int_eq(op->state, SL_OP_RUNNING);
	ck_assert_uint_eq(n_sent, 1);
	read_says = SL_STOREREAD_ERR_BUSY;
	sl_op_t *op2 = fetch_start(6, 0);
	ck_assert_int_eq(op2->state, SL_OP_RUNNING);
	ck_assert_uint_eq(n_sent, 2);
	read_says = SL_STOREREAD_OK;
	sl_op_t *op3 = fetch_start(7, 1000);
	clock_ns += 1000 * SL_NS_PER_MS;
	ck_assert(store_done(1, SL_STOREREAD_ERR_TIMEOUT));
	ck_assert_int_eq(op3->code, SL_CODE_TIMEOUT);
	ck_assert_uint_eq(n_sent, 2);
}
END_TEST

/* op.cancel while the store read is out cancels the read; the op ends
   CANCELLED once, and the read's CANCELLED completion finds nobody. */
START_TEST(test_cancel_during_store_read)
{
	claimers(2);
	sl_op_t *op = fetch_start(5, 0);
	ck_assert_int_eq(sl_op_cancel(&T, op->tx), SL_OP_OK);
	ck_assert_int_eq(op->state, SL_OP_CANCELLED);
	ck_assert_int_eq(op->code, SL_CODE_CANCELLED);
	ck_assert_uint_eq(n_cancels, 1);
	ck_assert_uint_eq(cancelled, op->tx);
	ck_assert(!store_done(0, SL_STOREREAD_ERR_CANCELLED));
	ck_assert_uint_eq(ends, 1);
	ck_assert_uint_eq(n_sent, 0);
	sl_op_t *op2 = fetch_start(6, 1000); /* its deadline cancels the read too */
	clock_ns += 1000 * SL_NS_PER_MS;
	sl_op_tick(&T);
	ck_assert_int_eq(op2->code, SL_CODE_TIMEOUT);
	ck_assert_uint_eq(n_cancels, 2);
	ck_assert_uint_eq(cancelled, op2->tx);
	ck_assert(!store_done(1, SL_STOREREAD_ERR_CANCELLED));
	ck_assert_uint_eq(n_sent, 0);
}
END_TEST

/* CANCELLED or SHUTTING_DOWN from the read path end the op with that code. */
START_TEST(test_store_cancelled_or_shutdown_ends)
{
	claimers(2);
	sl_op_t *op = fetch_start(5, 0);
	sl_op_t *op2 = fetch_start(6, 0);
	ck_assert(store_done(0, SL_STOREREAD_ERR_CANCELLED));
	ck_assert_int_eq(op->code, SL_CODE_CANCELLED);
	ck_assert(store_done(1, SL_STOREREAD_ERR_SHUTTING_DOWN));
	ck_assert_int_eq(op2->code, SL_CODE_SHUTTING_DOWN);
	read_says = SL_STOREREAD_ERR_SHUTTING_DOWN;
	sl_op_t *op3 = fetch_start(7, 0);
	ck_assert_int_eq(op3->code, SL_CODE_SHUTTING_DOWN);
	ck_assert_uint_eq(n_sent, 0);
	ck_assert_uint_eq(n_cancels, 0);
}
END_TEST

START_TEST(test_no_claimer_is_not_found)
{
	sl_op_t *op = fetch(5, 0);
	ck_assert_int_eq(op->code, SL_CODE_NOT_FOUND);
}
END_TEST

START_TEST(test_waiter_before_send_and_fresh_ids)
{
	claimers(3);
	sl_op_t *op = fetch(5, 0);
	ck_assert_uint_eq(n_sent, 1);
	ck_assert(sent[0].registered);
	ck_assert_uint_eq(sent[0].corr & SL_PEERIO_CORR_BITS, SL_PEERIO_CORR_BITS);
	reply(SL_PEERIO_R_NOT_FOUND, 0, 5);
	ck_assert_uint_eq(n_sent, 2);
	ck_assert_uint_ne(sent[1].corr, sent[0].corr);
	ck_assert_uint_eq(sent[1].sid, sid_of(2));
	reply(SL_PEERIO_R_HEADER, 0, 5); /* the old attempt's answer: late */
	ck_assert_int_eq(op->state, SL_OP_RUNNING);
	ck_assert_uint_eq(N.cnt.late, 1);
	reply(SL_PEERIO_R_HEADER, 1, 5);
	ck_assert_int_eq(op->state, SL_OP_DONE);
	ck_assert_uint_eq(sl_opnet_fetch_of(op)->src_ip, 0x0a000000u + sid_of(2));
	ck_assert_uint_eq(op->attempts, 2);
	ck_assert_uint_eq(sl_opnet_in_flight(&N), 0);
}
END_TEST

START_TEST(test_hiccup_same_peer_three_times)
{
	claimers(2);
	sl_op_t *op = fetch(5, 0);
	for (uint32_t k = 0; k < 3; k++) {
		reply(SL_PEERIO_R_SEND_FAIL, n_sent - 1, 5);
		uint32_t before = n_sent;
		sl_op_tick(&T); /* the delay has not passed */
		ck_assert_uint_eq(n_sent, before);
		clock_ns += 2 * SL_OPNET_HICCUP_NS * (k + 1) + 1;
		sl_op_tick(&T);
		ck_assert_uint_eq(n_sent, before + 1);
		ck_assert_uint_eq(sent[n_sent - 1].sid, sid_of(1)); /* the same peer */
		ck_assert_uint_ne(sent[n_sent - 1].corr, sent[n_sent - 2].corr);
	}
	reply(SL_PEERIO_R_SEND_FAIL, n_sent - 1, 5); /* the 4th: next peer */
	ck_assert_uint_eq(sent[n_sent - 1].sid, sid_of(2));
	ck_assert_int_eq(op->state, SL_OP_RUNNING);
}
END_TEST

START_TEST(test_next_peer_then_exhausted)
{
	claimers(4);
	sl_op_t *op = fetch(5, 0);
	reply(SL_PEERIO_R_NOT_FOUND, 0, 5);
	reply(SL_PEERIO_R_BAD, 1, 5);
	clock_ns += SL_OPNET_FETCH_ATTEMPT_NS; /* attempt 3 times out */
	sl_op_tick(&T);
	ck_assert_uint_eq(n_sent, 4);
	sl_peerio_reply_t down = {.kind = SL_PEERIO_R_DOWN, .sid = sent[3].sid};
	sl_opnet_reply(&N, &down, clock_ns);
	ck_assert_int_eq(op->code, SL_CODE_EXHAUSTED);
	ck_assert_uint_eq(op->attempts, 4);
	ck_assert_uint_eq(sl_opnet_in_flight(&N), 0);
}
END_TEST

START_TEST(test_gone_peer_moves_on)
{
	claimers(2);
	send_says = SL_PEERIO_GONE;
	sl_op_t *op = fetch(5, 0);
	ck_assert_int_eq(op->code, SL_CODE_EXHAUSTED);
	ck_assert_uint_eq(n_sent, 2);
	ck_assert_uint_eq(sl_opnet_in_flight(&N), 0);
}
END_TEST

/* An answer queued behind a passed deadline does not complete the op. */
START_TEST(test_deadline_before_completion)
{
	claimers(2);
	sl_op_t *op = fetch(5, 1000);
	clock_ns += 1000 * SL_NS_PER_MS;
	reply(SL_PEERIO_R_HEADER, 0, 5);
	ck_assert_int_eq(op->code, SL_CODE_TIMEOUT);
	sl_op_t *op2 = fetch(6, 0);
	clock_ns += SL_OPNET_FETCH_ATTEMPT_NS; /* its attempt's deadline */
	reply(SL_PEERIO_R_HEADER, n_sent - 1, 6);
	ck_assert_int_eq(op2->state, SL_OP_RUNNING); /* counted a timeout: next peer */
	ck_assert_uint_eq(sent[n_sent - 1].sid, sid_of(2));
}
END_TEST

START_TEST(test_cancel_lets_go)
{
	claimers(1);
	sl_op_t *op = fetch(5, 0);
	ck_assert_uint_eq(sl_opnet_in_flight(&N), 1);
	ck_assert_int_eq(sl_op_cancel(&T, op->tx), SL_OP_OK);
	ck_assert_uint_eq(sl_opnet_in_flight(&N), 0);
	reply(SL_PEERIO_R_HEADER, 0, 5);
	ck_assert_int_eq(op->state, SL_OP_CANCELLED);
	ck_assert_uint_eq(ends, 1);
}
END_TEST

START_TEST(test_peer_window)
{
	claimers(1);
	sl_op_t *ops[SL_OPNET_PEER_INFLIGHT + 1];
	for (uint32_t i = 0; i <= SL_OPNET_PEER_INFLIGHT; i++)
		ops[i] = fetch(5, 0);
	ck_assert_uint_eq(n_sent, SL_OPNET_PEER_INFLIGHT); /* the last one waits */
	reply(SL_PEERIO_R_HEADER, 0, 5);
	sl_op_tick(&T);
	ck_assert_uint_eq(n_sent, SL_OPNET_PEER_INFLIGHT + 1);
	ck_assert_int_eq(ops[SL_OPNET_PEER_INFLIGHT]->state, SL_OP_RUNNING);
}
END_TEST

START_TEST(test_ping_all_once)
{
	claimers(3);
	sl_op_t *op = NULL;
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_PEER_PING, 0, 0, 0, &op), SL_OP_OK);
	sl_opnet_peer_ping_all(&N, op);
	ck_assert_uint_eq(n_sent, 3);
	reply(SL_PEERIO_R_PONG, 0, 0);
	reply(SL_PEERIO_R_PONG, 2, 0);
	ck_assert_int_eq(op->state, SL_OP_RUNNING);
	sl_peerio_reply_t down = {.kind = SL_PEERIO_R_DOWN, .sid = sent[1].sid};
	sl_opnet_reply(&N, &down, clock_ns);
	ck_assert_int_eq(op->state, SL_OP_DONE);
	ck_assert_uint_eq(ends, 4); /* three children, the parent once */
	const sl_opnet_ping_t *p = sl_opnet_ping_of(op);
	ck_assert_uint_eq(p->n, 3);
	ck_assert_int_eq(p->res[0].code, SL_CODE_OK);
	ck_assert_uint_eq(p->res[0].rtt_us, 123);
	ck_assert_int_eq(p->res[1].code, SL_CODE_NOT_FOUND);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("opnet");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_first);
	tcase_add_test(tc, test_store_not_found_goes_to_peers);
	tcase_add_test(tc, test_store_timeout_or_busy_goes_to_peers);
	tcase_add_test(tc, test_cancel_during_store_read);
	tcase_add_test(tc, test_store_cancelled_or_shutdown_ends);
	tcase_add_test(tc, test_no_claimer_is_not_found);
	tcase_add_test(tc, test_waiter_before_send_and_fresh_ids);
	tcase_add_test(tc, test_hiccup_same_peer_three_times);
	tcase_add_test(tc, test_next_peer_then_exhausted);
	tcase_add_test(tc, test_gone_peer_moves_on);
	tcase_add_test(tc, test_deadline_before_completion);
	tcase_add_test(tc, test_cancel_lets_go);
	tcase_add_test(tc, test_peer_window);
	tcase_add_test(tc, test_ping_all_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
