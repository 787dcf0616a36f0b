/* test_op.c — suite "op": ctrl's op table (ctrl/sl_op.h): tx de-duplication,
   minting, waiters, cancel with children, the deadline sweep, stored
   results kept 60 s and freed after, under an injected clock. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_op.h"

static sl_op_table_t T;
static uint64_t clock_ns; /* the injected clock */

/* What the hooks saw. */
static uint32_t ends, stops, steps, child_dones;
static uint64_t last_end_tx, last_child_tx;
static sl_code_t last_end_code;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return clock_ns;
}

static void on_end(void *ctx, const sl_op_t *op)
{
	(void)ctx;
	ends++;
	last_end_tx = op->tx;
	last_end_code = op->code;
}

static void vt_step(void *ctx, sl_op_t *op, uint64_t now)
{
	(void)ctx;
	(void)now;
	steps++;
	if (op->attempts == 7) /* a kind that completes by itself */
		sl_op_end(&T, op, SL_CODE_OK, NULL);
}

static void vt_stop(void *ctx, sl_op_t *op)
{
	(void)ctx;
	(void)op;
	stops++;
}

static void vt_child_done(void *ctx, sl_op_t *op, const sl_op_t *child)
{
	(void)ctx;
	(void)op;
	child_dones++;
	last_child_tx = child->tx;
}

static const sl_op_vt_t vt = {vt_step, vt_stop, vt_child_done};

static void setup(void)
{
	ck_assert_int_eq(sl_op_table_init(&T, 1000), SL_OP_OK);
	clock_ns = 5 * 1000000000ULL;
	sl_op_set_clock(&T, fake_clock, NULL);
	sl_op_set_end_hook(&T, on_end, NULL);
	for (int k = 1; k < SL_OP_KIND_CNT; k++)
		sl_op_set_kind(&T, (sl_op_kind_t)k, &vt, NULL);
	ends = stops = steps = child_dones = 0;
	last_end_tx = last_child_tx = 0;
	last_end_code = SL_CODE_CNT;
}

static void teardown(void)
{
	sl_op_table_fini(&T);
}

static sl_op_t *start(sl_op_kind_t k, uint64_t tx, uint64_t parent, uint64_t deadline_ms)
{
	sl_op_t *op = NULL;
	ck_assert_int_eq(sl_op_start(&T, k, tx, parent, deadline_ms, &op), SL_OP_OK);
	ck_assert_ptr_nonnull(op);
	return op;
}

START_TEST(test_start_mints_distinct_tx)
{
	sl_op_t *a = start(SL_OP_KIND_HEADER_IMPORT, 0, 0, 0);
	sl_op_t *b = start(SL_OP_KIND_HEADER_IMPORT, 0, 0, 0);
	ck_assert_uint_ne(a->tx, 0);
	ck_assert_uint_ne(a->tx, b->tx);
	ck_assert_uint_eq(a->tx, 1001); /* after the seed */
	ck_assert_ptr_eq(sl_op_find(&T, a->tx), a);
	ck_assert_ptr_eq(sl_op_find(&T, b->tx), b);
	ck_assert_uint_eq(a->state, SL_OP_RUNNING);
	ck_assert_uint_eq(sl_op_running(&T), 2);
}
END_TEST

/* A minted tx skips one a client already chose. */
START_TEST(test_mint_skips_client_tx)
{
	start(SL_OP_KIND_SYNC_START, 1001, 0, 0);
	sl_op_t *b = start(SL_OP_KIND_SYNC_START, 0, 0, 0);
	ck_assert_uint_eq(b->tx, 1002);
}
END_TEST

/* A tx never starts a second op, running or ended. */
START_TEST(test_replayed_tx_is_deduplicated)
{
	sl_op_t *a = start(SL_OP_KIND_PEER_CONNECT, 42, 0, 0), *dup = NULL;
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_PEER_CONNECT, 42, 0, 0, &dup),
	                 SL_OP_ERR_EXISTS);
	ck_assert_ptr_eq(dup, a);
	sl_op_end(&T, a, SL_CODE_OK, NULL);
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_PEER_CONNECT, 42, 0, 0, &dup),
	                 SL_OP_ERR_EXISTS);
	ck_assert_ptr_eq(dup, a);
	ck_assert_uint_eq(a->state, SL_OP_DONE);
	ck_assert_uint_eq(T.cnt.started, 1);
	ck_assert_uint_eq(T.cnt.replays, 2);
}
END_TEST

START_TEST(test_start_rejects_bad_args)
{
	sl_op_t *op = (sl_op_t *)&op;
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_NONE, 0, 0, 0, &op), SL_OP_ERR_ARG);
	ck_assert_ptr_null(op);
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_CNT, 0, 0, 0, &op), SL_OP_ERR_ARG);
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_SYNC_START, SL_OP_TX_MAX + 1, 0, 0, &op),
	                 SL_OP_ERR_ARG);
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_SYNC_START, 0, 99, 0, &op), SL_OP_ERR_PARENT);
	sl_op_t *p = start(SL_OP_KIND_PEER_PING, 5, 0, 0);
	sl_op_end(&T, p, SL_CODE_OK, NULL);
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_PEER_PING, 0, 5, 0, &op), SL_OP_ERR_PARENT);
	ck_assert_uint_eq(T.n_ops, 1);
}
END_TEST

/* Per-kind default deadlines (SPEC §9); an explicit one wins. */
START_TEST(test_deadline_defaults_per_kind)
{
	ck_assert_uint_eq(start(SL_OP_KIND_HEADER_FETCH, 0, 0, 0)->deadline_ms, 10000);
	ck_assert_uint_eq(start(SL_OP_KIND_PEER_PING, 0, 0, 0)->deadline_ms, 10000);
	ck_assert_uint_eq(start(SL_OP_KIND_PEER_CONNECT, 0, 0, 0)->deadline_ms, 30000);
	sl_op_t *s = start(SL_OP_KIND_SYNC_START, 0, 0, 0);
	ck_assert_uint_eq(s->deadline_ms, 0);
	ck_assert_uint_eq(s->deadline_ns, 0);
	ck_assert_uint_eq(start(SL_OP_KIND_HEADER_IMPORT, 0, 0, 0)->deadline_ns, 0);
	sl_op_t *e = start(SL_OP_KIND_HEADER_EXPORT, 0, 0, 250);
	ck_assert_uint_eq(e->deadline_ns, clock_ns + 250 * 1000000ULL);
}
END_TEST

/* The sweep ends an op at its deadline, not before, whatever it awaits. */
START_TEST(test_deadline_sweep_times_out)
{
	sl_op_t *a = start(SL_OP_KIND_PEER_CONNECT, 0, 0, 100);
	sl_op_t *b = start(SL_OP_KIND_SYNC_START, 0, 0, 0);
	clock_ns += 99 * 1000000ULL;
	sl_op_tick(&T);
	ck_assert_uint_eq(a->state, SL_OP_RUNNING);
	clock_ns += 1000000ULL;
	sl_op_tick(&T);
	ck_assert_uint_eq(a->state, SL_OP_FAILED);
	ck_assert_int_eq(a->code, SL_CODE_TIMEOUT);
	ck_assert_uint_eq(stops, 1); /* its kind was told to let go */
	ck_assert_uint_eq(ends, 1);
	ck_assert_uint_eq(last_end_tx, a->tx);
	ck_assert_uint_eq(b->state, SL_OP_RUNNING); /* no deadline: never swept */
	clock_ns += 3600 * 1000000000ULL;
	sl_op_tick(&T);
	ck_assert_uint_eq(b->state, SL_OP_RUNNING);
	ck_assert_uint_eq(T.cnt.timeouts, 1);
}
END_TEST

/* Deadlines before completions: an op whose kind would complete it in
   this very tick still fails TIMEOUT once its deadline passed. */
START_TEST(test_deadline_before_completion)
{
	sl_op_t *a = start(SL_OP_KIND_HEADER_FETCH, 0, 0, 10);
	a->attempts = 7; /* vt_step would end it OK */
	clock_ns += 10 * 1000000ULL;
	sl_op_tick(&T);
	ck_assert_int_eq(a->code, SL_CODE_TIMEOUT);
	sl_op_t *b = start(SL_OP_KIND_HEADER_FETCH, 0, 0, 10);
	b->attempts = 7;
	sl_op_tick(&T);
	ck_assert_uint_eq(b->state, SL_OP_DONE);
}
END_TEST

/* Cancel ends the op and its children (stop hooks first), and the end
   hook runs once per op; an unknown or ended tx is refused. */
START_TEST(test_cancel_ends_children)
{
	sl_op_t *p = start(SL_OP_KIND_PEER_PING, 0, 0, 0);
	sl_op_t *c1 = start(SL_OP_KIND_PEER_PING, 0, p->tx, 0);
	sl_op_t *c2 = start(SL_OP_KIND_PEER_PING, 0, p->tx, 0);
	sl_op_t *g = start(SL_OP_KIND_PEER_PING, 0, c1->tx, 0); /* a grandchild */
	sl_op_t *other = start(SL_OP_KIND_PEER_PING, 0, 0, 0);
	ck_assert_uint_eq(p->n_children, 2);
	ck_assert_int_eq(sl_op_cancel(&T, p->tx), SL_OP_OK);
	ck_assert_uint_eq(p->state, SL_OP_CANCELLED);
	ck_assert_uint_eq(c1->state, SL_OP_CANCELLED);
	ck_assert_uint_eq(c2->state, SL_OP_CANCELLED);
	ck_assert_uint_eq(g->state, SL_OP_CANCELLED);
	ck_assert_int_eq(c2->code, SL_CODE_CANCELLED);
	ck_assert_uint_eq(other->state, SL_OP_RUNNING);
	ck_assert_uint_eq(stops, 4);
	ck_assert_uint_eq(ends, 4);
	ck_assert_uint_eq(child_dones, 0); /* the parent ended first: not told */
	ck_assert_uint_eq(sl_op_running(&T), 1);
	ck_assert_int_eq(sl_op_cancel(&T, p->tx), SL_OP_ERR_UNKNOWN);
	ck_assert_int_eq(sl_op_cancel(&T, 123456), SL_OP_ERR_UNKNOWN);
	ck_assert_uint_eq(ends, 4);
}
END_TEST

/* A child ending on its own tells its running parent. */
START_TEST(test_child_done_reaches_parent)
{
	sl_op_t *p = start(SL_OP_KIND_PEER_PING, 0, 0, 0);
	sl_op_t *c = start(SL_OP_KIND_PEER_PING, 0, p->tx, 0);
	sl_op_end(&T, c, SL_CODE_TIMEOUT, "no PONG");
	ck_assert_uint_eq(child_dones, 1);
	ck_assert_uint_eq(last_child_tx, c->tx);
	ck_assert_uint_eq(p->n_children, 0);
	ck_assert_uint_eq(p->state, SL_OP_RUNNING);
	ck_assert_str_eq(c->message, "no PONG");
}
END_TEST

/* A parent's deadline ends its children too. */
START_TEST(test_parent_deadline_ends_children)
{
	sl_op_t *p = start(SL_OP_KIND_PEER_PING, 0, 0, 50);
	sl_op_t *c = start(SL_OP_KIND_PEER_PING, 0, p->tx, 1000);
	clock_ns += 50 * 1000000ULL;
	sl_op_tick(&T);
	ck_assert_int_eq(p->code, SL_CODE_TIMEOUT);
	ck_assert_uint_eq(c->state, SL_OP_CANCELLED);
	ck_assert_uint_eq(sl_op_running(&T), 0);
}
END_TEST

/* sl_op_end runs once; a second end changes nothing. */
START_TEST(test_end_is_once)
{
	sl_op_t *a = start(SL_OP_KIND_HEADER_EXPORT, 0, 0, 0);
	sl_op_end(&T, a, SL_CODE_INVALID_HEADER, "bad at %u", 7u);
	sl_op_end(&T, a, SL_CODE_OK, NULL);
	ck_assert_uint_eq(a->state, SL_OP_FAILED);
	ck_assert_int_eq(a->code, SL_CODE_INVALID_HEADER);
	ck_assert_str_eq(a->message, "bad at 7");
	ck_assert_uint_eq(ends, 1);
	ck_assert_uint_eq(T.cnt.ended, 1);
}
END_TEST

/* Ended ops stay 60 s for replays, then are freed; running ones stay. */
START_TEST(test_stored_result_expires_after_60s)
{
	sl_op_t *a = start(SL_OP_KIND_HEADER_IMPORT, 77, 0, 0);
	sl_op_t *r = start(SL_OP_KIND_SYNC_START, 78, 0, 0);
	(void)r;
	sl_op_end(&T, a, SL_CODE_OK, NULL);
	clock_ns += SL_OP_KEEP_NS;
	sl_op_tick(&T);
	ck_assert_ptr_eq(sl_op_find(&T, 77), a); /* exactly 60 s: still kept */
	clock_ns += 1;
	sl_op_tick(&T);
	ck_assert_ptr_null(sl_op_find(&T, 77));
	ck_assert_ptr_nonnull(sl_op_find(&T, 78));
	ck_assert_uint_eq(T.n_ops, 1);
	ck_assert_uint_eq(T.cnt.freed, 1);
	sl_op_t *again = NULL; /* the tx is free again: a new op */
	ck_assert_int_eq(sl_op_start(&T, SL_OP_KIND_HEADER_IMPORT, 77, 0, 0, &again), SL_OP_OK);
}
END_TEST

/* An op its own step ends during a tick is kept like any other (the
   tick's clock reading predates its end). */
static uint64_t step_clock(void *ctx)
{
	(void)ctx;
	return clock_ns++;
}

START_TEST(test_ended_in_step_is_kept)
{
	sl_op_set_clock(&T, step_clock, NULL);
	sl_op_t *a = start(SL_OP_KIND_SYNC_START, 90, 0, 0);
	a->attempts = 7; /* vt_step ends it */
	sl_op_tick(&T);
	ck_assert_ptr_eq(sl_op_find(&T, 90), a); /* before touching a: not freed */
	ck_assert_uint_eq(a->state, SL_OP_DONE);
	sl_op_tick(&T);
	ck_assert_ptr_eq(sl_op_find(&T, 90), a);
}
END_TEST

/* Waiters: attach while running, at most SL_OP_WAITERS_MAX, none once ended. */
START_TEST(test_attach_waiters)
{
	sl_op_t *a = start(SL_OP_KIND_SYNC_START, 0, 0, 0);
	for (uint32_t i = 0; i < SL_OP_WAITERS_MAX; i++)
		ck_assert_int_eq(sl_op_attach(a, (sl_op_waiter_t){i + 1, (int64_t)i}), SL_OP_OK);
	ck_assert_int_eq(sl_op_attach(a, (sl_op_waiter_t){99, 99}), SL_OP_ERR_ARG);
	ck_assert_uint_eq(a->n_waiters, SL_OP_WAITERS_MAX);
	ck_assert_uint_eq(a->waiter[3].client, 4);
	sl_op_end(&T, a, SL_CODE_OK, NULL);
	ck_assert_int_eq(sl_op_attach(a, (sl_op_waiter_t){1, 1}), SL_OP_ERR_ARG);
}
END_TEST

/* The walk sees every op in start order, kept ones included. */
START_TEST(test_walk_in_start_order)
{
	uint64_t tx[5];
	for (int i = 0; i < 5; i++)
		tx[i] = start(SL_OP_KIND_PEER_PING, 0, 0, 0)->tx;
	sl_op_end(&T, sl_op_find(&T, tx[2]), SL_CODE_OK, NULL);
	int i = 0;
	for (sl_op_t *op = sl_op_next(&T, NULL); op != NULL; op = sl_op_next(&T, op))
		ck_assert_uint_eq(op->tx, tx[i++]);
	ck_assert_int_eq(i, 5);
}
END_TEST

/* Many ops with random deadlines: none outlives its deadline by more than
   one tick period (100 ms here), and every one ends exactly once. */
START_TEST(test_random_deadlines_bounded)
{
	unsigned seed = (unsigned)time(NULL);
	printf("test_random_deadlines_bounded seed %u\n", seed);
	srand(seed);
	const int n = 2000;
	for (int i = 0; i < n; i++)
		start(SL_OP_KIND_HEADER_FETCH, 0, 0, 1 + (uint64_t)(rand() % 5000));
	uint64_t t0 = clock_ns;
	while (sl_op_running(&T) > 0) {
		clock_ns += 100 * 1000000ULL;
		sl_op_tick(&T);
		for (sl_op_t *op = sl_op_next(&T, NULL); op; op = sl_op_next(&T, op))
			if (op->state == SL_OP_RUNNING)
				ck_assert_uint_lt(clock_ns, op->deadline_ns);
			else
				ck_assert_uint_le(op->end_ns - op->deadline_ns, 100 * 1000000ULL);
		ck_assert_uint_le(clock_ns - t0, 6000 * 1000000ULL);
	}
	ck_assert_uint_eq(ends, (uint32_t)n);
	ck_assert_uint_eq(T.cnt.timeouts, (uint64_t)n);
}
END_TEST

/* Shutdown ends every running op (stop hooks first), kept ones stay. */
START_TEST(test_end_all)
{
	sl_op_t *a = start(SL_OP_KIND_SYNC_START, 0, 0, 0);
	sl_op_t *b = start(SL_OP_KIND_PEER_CONNECT, 0, 0, 0);
	sl_op_t *c = start(SL_OP_KIND_PEER_PING, 0, b->tx, 0);
	sl_op_t *d = start(SL_OP_KIND_HEADER_EXPORT, 0, 0, 0);
	sl_op_end(&T, d, SL_CODE_OK, NULL);
	ck_assert_uint_eq(sl_op_end_all(&T, SL_CODE_SHUTTING_DOWN, "ctrl shuts down"), 2);
	ck_assert_int_eq(a->code, SL_CODE_SHUTTING_DOWN);
	ck_assert_int_eq(b->code, SL_CODE_SHUTTING_DOWN);
	ck_assert_uint_eq(c->state, SL_OP_CANCELLED); /* ended with its parent */
	ck_assert_int_eq(d->code, SL_CODE_OK);
	ck_assert_str_eq(a->message, "ctrl shuts down");
	ck_assert_uint_eq(stops, 3);
	ck_assert_uint_eq(sl_op_running(&T), 0);
	ck_assert_uint_eq(sl_op_end_all(&T, SL_CODE_SHUTTING_DOWN, "again"), 0);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(sl_op_kind_str(SL_OP_KIND_PEER_CONNECT), "peer.connect");
	ck_assert_str_eq(sl_op_kind_str(SL_OP_KIND_SYNC_START), "sync.start");
	ck_assert_str_eq(sl_op_kind_str(SL_OP_KIND_CNT), "?");
	ck_assert_str_eq(sl_op_state_str(SL_OP_CANCELLED), "cancelled");
	ck_assert_str_eq(sl_code_str(SL_CODE_EXHAUSTED), "EXHAUSTED");
	ck_assert_str_eq(sl_code_str(SL_CODE_CNT), "INTERNAL");
}
END_TEST

static Suite *op_suite(void)
{
	Suite *s = suite_create("op");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_start_mints_distinct_tx);
	tcase_add_test(t, test_mint_skips_client_tx);
	tcase_add_test(t, test_replayed_tx_is_deduplicated);
	tcase_add_test(t, test_start_rejects_bad_args);
	tcase_add_test(t, test_deadline_defaults_per_kind);
	tcase_add_test(t, test_deadline_sweep_times_out);
	tcase_add_test(t, test_deadline_before_completion);
	tcase_add_test(t, test_cancel_ends_children);
	tcase_add_test(t, test_child_done_reaches_parent);
	tcase_add_test(t, test_parent_deadline_ends_children);
	tcase_add_test(t, test_end_is_once);
	tcase_add_test(t, test_stored_result_expires_after_60s);
	tcase_add_test(t, test_ended_in_step_is_kept);
	tcase_add_test(t, test_attach_waiters);
	tcase_add_test(t, test_walk_in_start_order);
	tcase_add_test(t, test_random_deadlines_bounded);
	tcase_add_test(t, test_end_all);
	tcase_add_test(t, test_names);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(op_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
