/* test_peers.c — suite "peers": ctrl's peer table and slot allocator
   (ctrl/sl_peers.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_peers.h"

static sl_peers_t T;

static const uint8_t node_a[32] = {1, 2, 3};

START_TEST(test_init_rejects_bad_lcores)
{
	ck_assert_int_eq(sl_peers_init(&T, 0, 1), -1);
	ck_assert_int_eq(sl_peers_init(&T, SL_MAX_LCORES + 1, 1), -1);
	ck_assert_int_eq(sl_peers_init(&T, 2, 1), 0);
	ck_assert_ptr_null(sl_peers_alloc(&T, 2, SL_PEER_INSTALLING, 1, 1, 0));
	ck_assert_ptr_null(
	    sl_peers_alloc(&T, 0, SL_PEER_UP, 1, 1, 0)); /* only the two start states */
	ck_assert_ptr_null(sl_peers_get(&T, 2, 0));
	ck_assert_ptr_null(sl_peers_get(&T, 0, SL_SESSIONS_PER_LCORE));
}
END_TEST

/* The sid ctrl computes names the lcore and slot of the entry, with the gen. */
START_TEST(test_alloc_sid_names_lcore_slot_gen)
{
	ck_assert_int_eq(sl_peers_init(&T, 3, 41), 0);
	sl_peers_entry_t *p = sl_peers_alloc(&T, 2, SL_PEER_INSTALLING, 0x0a000001, 9747, 5);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(sl_sid_lcore(p->sid), 2);
	ck_assert_uint_eq(sl_sid_slot(p->sid), sl_peers_slot_of(&T, p));
	ck_assert_uint_eq(sl_peers_lcore_of(&T, p), 2);
	ck_assert_uint_eq(sl_sid_gen(p->sid), p->gen);
	ck_assert_uint_eq(p->gen, sl_sid_gen_norm(42));
	ck_assert_ptr_eq(sl_peers_by_sid(&T, p->sid), p);
	ck_assert_uint_eq(p->state, SL_PEER_INSTALLING);
	ck_assert(!p->outbound);
	ck_assert_uint_eq(T.n_live, 1);
	sl_peers_entry_t *q = sl_peers_alloc(&T, 0, SL_PEER_CONNECTING, 0x0a000002, 9747, 5);
	ck_assert(q->outbound);
	ck_assert_uint_ne(q->gen, p->gen); /* process-wide counter */
}
END_TEST

/* A slot is handed out again only once it is FREE (SESSION_DOWN seen). */
START_TEST(test_slot_not_reused_until_free)
{
	ck_assert_int_eq(sl_peers_init(&T, 1, 0), 0);
	sl_peers_entry_t *first = NULL;
	for (uint32_t i = 0; i < SL_SESSIONS_PER_LCORE; i++) {
		sl_peers_entry_t *p =
		    sl_peers_alloc(&T, 0, SL_PEER_INSTALLING, 0x0a000001, (uint16_t)(i + 1), 0);
		ck_assert_ptr_nonnull(p);
		if (i == 0)
			first = p;
	}
	ck_assert_ptr_null(sl_peers_alloc(&T, 0, SL_PEER_INSTALLING, 1, 1, 0));
	sl_peers_set_state(&T, first, SL_PEER_CLOSING);
	ck_assert_ptr_null(sl_peers_alloc(&T, 0, SL_PEER_INSTALLING, 1, 1, 0)); /* still closing */
	uint32_t old_sid = first->sid;
	sl_peers_set_state(&T, first, SL_PEER_FREE);
	ck_assert_ptr_null(sl_peers_by_sid(&T, old_sid));
	sl_peers_entry_t *again = sl_peers_alloc(&T, 0, SL_PEER_INSTALLING, 1, 1, 0);
	ck_assert_ptr_eq(again, first);
	ck_assert_uint_ne(again->sid, old_sid); /* new generation */
	ck_assert_ptr_null(sl_peers_by_sid(&T, old_sid));
}
END_TEST

/* Round robin: a freed slot is not the next one handed out. */
START_TEST(test_alloc_round_robin)
{
	ck_assert_int_eq(sl_peers_init(&T, 1, 0), 0);
	sl_peers_entry_t *a = sl_peers_alloc(&T, 0, SL_PEER_INSTALLING, 1, 1, 0);
	sl_peers_set_state(&T, a, SL_PEER_FREE);
	sl_peers_entry_t *b = sl_peers_alloc(&T, 0, SL_PEER_INSTALLING, 1, 1, 0);
	ck_assert_ptr_ne(a, b);
}
END_TEST

/* Outbound placement without a flow hash: the lcore with the most free
   slots, the lowest among equals, so successive connects alternate. */
START_TEST(test_roomiest_spreads)
{
	ck_assert_int_eq(sl_peers_init(&T, 3, 0), 0);
	uint32_t got[6];
	for (int i = 0; i < 6; i++) {
		got[i] = sl_peers_roomiest(&T);
		ck_assert_ptr_nonnull(sl_peers_alloc(&T, got[i], SL_PEER_CONNECTING, 1, 1, 0));
	}
	uint32_t want[6] = {0, 1, 2, 0, 1, 2};
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(got[i], want[i]);
	/* an inbound session on lcore 1 leaves lcores 0 and 2 roomier */
	ck_assert_ptr_nonnull(sl_peers_alloc(&T, 1, SL_PEER_INSTALLING, 2, 2, 0));
	ck_assert_uint_eq(sl_peers_roomiest(&T), 0);
	sl_peers_alloc(&T, 0, SL_PEER_CONNECTING, 3, 3, 0);
	ck_assert_uint_eq(sl_peers_roomiest(&T), 2);
}
END_TEST

START_TEST(test_counters_follow_states)
{
	ck_assert_int_eq(sl_peers_init(&T, 1, 7), 0);
	sl_peers_entry_t *p = sl_peers_alloc(&T, 0, SL_PEER_CONNECTING, 0x0a000001, 9747, 0);
	ck_assert_uint_eq(sl_peers_count_outbound(&T), 1);
	ck_assert(sl_peers_has_addr(&T, 0x0a000001, 9747));
	ck_assert(!sl_peers_has_addr(&T, 0x0a000001, 9748));
	uint32_t dp_sid = sl_sid_make(0, sl_peers_slot_of(&T, p), p->gen + 1);
	sl_peers_up(&T, p, dp_sid, 0x23, node_a, 10);
	ck_assert_uint_eq(T.n_up, 1);
	ck_assert_uint_eq(p->sid, dp_sid); /* the dataplane's id is the truth */
	ck_assert_ptr_eq(sl_peers_by_sid(&T, dp_sid), p);
	ck_assert_mem_eq(p->node_id, node_a, 32);
	sl_peers_set_resend(&T, p, SL_PEER_RESEND_TEARDOWN);
	sl_peers_set_resend(&T, p, SL_PEER_RESEND_INSTALL);
	ck_assert_uint_eq(T.n_resend, 1);
	sl_peers_clear_resend(&T, p, SL_PEER_RESEND_INSTALL);
	ck_assert_uint_eq(T.n_resend, 1);
	sl_peers_set_state(&T, p, SL_PEER_FREE); /* resend dropped with the entry */
	ck_assert_uint_eq(T.n_resend, 0);
	ck_assert_uint_eq(T.n_up, 0);
	ck_assert_uint_eq(T.n_live, 0);
	ck_assert_uint_eq(sl_peers_count_outbound(&T), 0);
	ck_assert(!sl_peers_has_addr(&T, 0x0a000001, 9747));
}
END_TEST

/* A repeated HELLO finds the inbound entry by (node_id, nonce) on its lcore only. */
START_TEST(test_find_nonce)
{
	ck_assert_int_eq(sl_peers_init(&T, 2, 0), 0);
	sl_peers_entry_t *p = sl_peers_alloc(&T, 1, SL_PEER_INSTALLING, 1, 1, 0);
	memcpy(p->node_id, node_a, 32);
	p->nonce = 99;
	ck_assert_ptr_eq(sl_peers_find_nonce(&T, 1, node_a, 99), p);
	ck_assert_ptr_null(sl_peers_find_nonce(&T, 1, node_a, 98));
	ck_assert_ptr_null(sl_peers_find_nonce(&T, 0, node_a, 99));
	ck_assert_ptr_null(sl_peers_find_nonce(&T, 5, node_a, 99));
}
END_TEST

/* Adopting a live session found in the region: only into a FREE slot. */
START_TEST(test_adopt)
{
	ck_assert_int_eq(sl_peers_init(&T, 1, 0), 0);
	uint32_t sid = sl_sid_make(0, 17, 5);
	sl_peers_entry_t *p = sl_peers_adopt(&T, sid, 0x0a000009, 9747, 3, node_a, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->state, SL_PEER_UP);
	ck_assert_uint_eq(sl_peers_slot_of(&T, p), 17);
	ck_assert_ptr_null(sl_peers_adopt(&T, sid, 0x0a000009, 9747, 3, node_a, 1));
	ck_assert_ptr_null(sl_peers_adopt(&T, sl_sid_make(1, 0, 5), 1, 1, 3, node_a, 1));
	/* the allocator skips it */
	for (uint32_t i = 0; i < SL_SESSIONS_PER_LCORE - 1; i++)
		ck_assert_ptr_ne(sl_peers_alloc(&T, 0, SL_PEER_INSTALLING, 1, 1, 0), p);
	ck_assert_ptr_null(sl_peers_alloc(&T, 0, SL_PEER_INSTALLING, 1, 1, 0));
}
END_TEST

/* reset forgets every session but keeps counting generations. */
START_TEST(test_reset_keeps_generation_counter)
{
	ck_assert_int_eq(sl_peers_init(&T, 1, 100), 0);
	sl_peers_entry_t *p = sl_peers_alloc(&T, 0, SL_PEER_INSTALLING, 1, 1, 0);
	uint32_t g = p->gen;
	ck_assert_int_eq(sl_peers_reset(&T, 0), -1);
	ck_assert_uint_eq(T.n_live, 1);
	ck_assert_int_eq(sl_peers_reset(&T, 4), 0);
	ck_assert_uint_eq(T.n_live, 0);
	ck_assert_uint_eq(T.n_lcores, 4);
	p = sl_peers_alloc(&T, 3, SL_PEER_INSTALLING, 1, 1, 0);
	ck_assert_uint_eq(p->gen, sl_sid_gen_norm(g + 1));
}
END_TEST

/* reset writes the slots of its lcores only: in zeroed memory the rest of
   the table (SL_MAX_LCORES worth) is never touched; a slot of a returning
   lcore is empty again. */
START_TEST(test_reset_touches_only_its_lcores)
{
	memset(&T, 0xab, sizeof T);
	ck_assert_int_eq(sl_peers_init(&T, 2, 7), 0);
	const uint8_t *past = (const uint8_t *)&T.e[2 * SL_SESSIONS_PER_LCORE];
	const uint8_t *end = (const uint8_t *)(&T + 1);
	const uint8_t *b = past;
	while (b < end && *b == 0xab)
		b++;
	ck_assert_msg(b == end, "byte %td past the two lcores' slots written", b - past);
	sl_peers_entry_t *p = sl_peers_alloc(&T, 1, SL_PEER_INSTALLING, 1, 1, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sl_peers_reset(&T, 1), 0);
	ck_assert_int_eq(sl_peers_reset(&T, 2), 0);
	ck_assert_uint_eq(p->state, SL_PEER_FREE);
	ck_assert_uint_eq(p->sid, 0);
	ck_assert_uint_eq(T.n_free[1], SL_SESSIONS_PER_LCORE);
}
END_TEST

START_TEST(test_misbehavior_record)
{
	sl_peers_entry_t p;
	memset(&p, 0, sizeof p);
	sl_peers_misbehavior(&p, SL_MISB_SPAM);
	sl_peers_misbehavior(&p, SL_MISB_SPAM);
	sl_peers_misbehavior(&p, 999); /* unknown kind: counted in the total only */
	ck_assert_uint_eq(p.misb_total, 3);
	ck_assert_uint_eq(p.misb_kind[SL_MISB_SPAM], 2);
	ck_assert_uint_eq(p.misb_last, 999);
	ck_assert_str_eq(sl_peers_state_str(SL_PEER_UP), "up");
	ck_assert_str_eq(sl_peers_state_str(77), "?");
}
END_TEST

/* Random alloc / free: counters agree with a recount, ids are unique. */
START_TEST(test_random_alloc_free)
{
	unsigned seed = (unsigned)time(NULL);
	printf("test_random_alloc_free seed %u\n", seed);
	srand(seed);
	ck_assert_int_eq(sl_peers_init(&T, 2, (uint32_t)rand()), 0);
	for (int step = 0; step < 20000; step++) {
		uint32_t lcore = (uint32_t)rand() % 2;
		if (rand() % 3 != 0) {
			sl_peers_entry_t *p =
			    sl_peers_alloc(&T, lcore, SL_PEER_INSTALLING, 1, 1, 0);
			if (p != NULL)
				ck_assert_ptr_eq(sl_peers_by_sid(&T, p->sid), p);
		} else {
			sl_peers_entry_t *p =
			    sl_peers_get(&T, lcore, (uint32_t)rand() % SL_SESSIONS_PER_LCORE);
			if (p->state != SL_PEER_FREE)
				sl_peers_set_state(&T, p, SL_PEER_FREE);
		}
	}
	uint32_t live = 0, free0 = 0;
	for (uint32_t i = 0; i < 2 * SL_SESSIONS_PER_LCORE; i++) {
		live += T.e[i].state != SL_PEER_FREE;
		free0 += i < SL_SESSIONS_PER_LCORE && T.e[i].state == SL_PEER_FREE;
	}
	ck_assert_uint_eq(live, T.n_live);
	ck_assert_uint_eq(free0, T.n_free[0]);
}
END_TEST

static Suite *peers_suite(void)
{
	Suite *s = suite_create("peers");
	TCase *t = tcase_create("core");
	tcase_add_test(t, test_init_rejects_bad_lcores);
	tcase_add_test(t, test_alloc_sid_names_lcore_slot_gen);
	tcase_add_test(t, test_slot_not_reused_until_free);
	tcase_add_test(t, test_alloc_round_robin);
	tcase_add_test(t, test_roomiest_spreads);
	tcase_add_test(t, test_counters_follow_states);
	tcase_add_test(t, test_find_nonce);
	tcase_add_test(t, test_adopt);
	tcase_add_test(t, test_reset_keeps_generation_counter);
	tcase_add_test(t, test_reset_touches_only_its_lcores);
	tcase_add_test(t, test_misbehavior_record);
	tcase_add_test(t, test_random_alloc_free);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(peers_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
