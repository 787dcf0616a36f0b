/* test_session.c — unit tests of the per-lcore session table and the
   anti-replay window (dataplane/lib/sl_session.h, suite "session"):
   session id packing, install / lookup / teardown with their miss reasons,
   generations across slot reuse, the live list, streams and send seqs,
   torn-free snapshots against a concurrent owner, and the replay window
   against a reference model.  Randomized loops print their seed (set
   SL_TEST_SEED to replay). */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_session.h"
#include "sl_session_private.h"

static sl_session_table_t tab_mem;
static sl_session_table_t *tab;

#define LCORE 3u

static uint32_t seed_get(const char *what)
{
	const char *s = getenv("SL_TEST_SEED");
	uint32_t seed =
	    s ? (uint32_t)strtoul(s, NULL, 0) : (uint32_t)time(NULL) ^ (uint32_t)clock();
	if (seed == 0)
		seed = 1;
	printf("session/%s: seed %u (SL_TEST_SEED=%u to replay)\n", what, seed, seed);
	return seed;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* peer_of: a peer whose every field derives from k (k != 0). */
static sl_session_peer_t peer_of(uint32_t k)
{
	sl_session_peer_t p;
	memset(&p, 0, sizeof(p));
	p.peer_ip = 0x0a000000u | (k & 0xffffffu);
	p.peer_port = (uint16_t)(1000u + (k % 60000u));
	p.peer_mac = (sl_mac_t){
	    {0x02, 0, (uint8_t)(k >> 24), (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k}};
	p.streams = (1u << 0) | (1u << 1) | (1u << 5);
	p.remote_sid = k;
	memset(p.node_id, (int)(k & 0xff), sizeof(p.node_id));
	return p;
}

static uint32_t install_ok(uint32_t slot, uint32_t k, uint32_t gen)
{
	sl_session_peer_t p = peer_of(k);
	uint32_t sid = 0;
	ck_assert_int_eq(sl_session_install(tab, slot, &p, gen, &sid), SL_SESSION_OK);
	ck_assert_uint_ne(sid, 0);
	return sid;
}

static void setup(void)
{
	tab = sl_session_table_new(&tab_mem, LCORE);
	ck_assert_ptr_nonnull(tab);
}

/* ---- session ids --------------------------------------------------------- */

START_TEST(test_sid_widths_fit_config)
{
	ck_assert_int_eq(SL_SID_LCORE_BITS + SL_SID_SLOT_BITS + SL_SID_GEN_BITS, 32);
	ck_assert_uint_ge(1u << SL_SID_LCORE_BITS, SL_MAX_LCORES);
	ck_assert_uint_eq(1u << SL_SID_SLOT_BITS, SL_SESSIONS_PER_LCORE);
	ck_assert_int_ge(SL_SID_GEN_BITS, 8);
}
END_TEST

START_TEST(test_sid_round_trip_all_bounds)
{
	const uint32_t gens[] = {1, 2, 3, SL_SID_GEN_MAX / 2, SL_SID_GEN_MAX - 1, SL_SID_GEN_MAX};
	for (uint32_t lc = 0; lc < SL_MAX_LCORES; lc++) {
		for (uint32_t slot = 0; slot < SL_SESSIONS_PER_LCORE; slot++) {
			for (uint32_t g = 0; g < SL_ARRAY_LEN(gens); g++) {
				uint32_t sid = sl_sid_make(lc, slot, gens[g]);
				ck_assert_uint_ne(sid, 0);
				ck_assert_uint_eq(sl_sid_lcore(sid), lc);
				ck_assert_uint_eq(sl_sid_slot(sid), slot);
				ck_assert_uint_eq(sl_sid_gen(sid), gens[g]);
			}
		}
	}
}
END_TEST

START_TEST(test_sid_distinct_per_field)
{
	/* every field change changes the id, and max fields do not overlap */
	uint32_t lmax = SL_MAX_LCORES - 1, smax = SL_SESSIONS_PER_LCORE - 1;
	uint32_t a = sl_sid_make(lmax, smax, SL_SID_GEN_MAX);
	ck_assert_uint_eq(sl_sid_lcore(a), lmax);
	ck_assert_uint_eq(sl_sid_slot(a), smax);
	ck_assert_uint_eq(sl_sid_gen(a), SL_SID_GEN_MAX);
	ck_assert_uint_ne(sl_sid_make(0, 0, 1), sl_sid_make(0, 0, 2));
	ck_assert_uint_ne(sl_sid_make(0, 0, 1), sl_sid_make(0, 1, 1));
	if (SL_MAX_LCORES > 1)
		ck_assert_uint_ne(sl_sid_make(0, 0, 1), sl_sid_make(1, 0, 1));
	/* out-of-range inputs are masked, never spill into a neighbour field */
	uint32_t m = sl_sid_make(0, SL_SESSIONS_PER_LCORE, 1);
	ck_assert_uint_eq(sl_sid_slot(m), 0);
	ck_assert_uint_eq(sl_sid_gen(m), 1);
}
END_TEST

START_TEST(test_sid_gen_norm_never_zero)
{
	ck_assert_uint_eq(sl_sid_gen_norm(0), 1);
	ck_assert_uint_eq(sl_sid_gen_norm(SL_SID_GEN_MAX + 1u), 1);
	ck_assert_uint_eq(sl_sid_gen_norm(SL_SID_GEN_MAX), SL_SID_GEN_MAX);
	ck_assert_uint_eq(sl_sid_gen_norm(7), 7);
	uint32_t seed = seed_get("gen_norm");
	for (int i = 0; i < 100000; i++) {
		uint32_t g = sl_sid_gen_norm(xorshift(&seed));
		ck_assert_uint_ge(g, 1);
		ck_assert_uint_le(g, SL_SID_GEN_MAX);
		ck_assert_uint_ne(sl_sid_make(xorshift(&seed) % SL_MAX_LCORES,
		                              xorshift(&seed) % SL_SESSIONS_PER_LCORE, g),
		                  0);
	}
}
END_TEST

/* ---- lifecycle ----------------------------------------------------------- */

START_TEST(test_new_rejects_bad_args)
{
	ck_assert_ptr_null(sl_session_table_new(NULL, 0));
	ck_assert_ptr_null(sl_session_table_new((char *)&tab_mem + 8, 0));
	ck_assert_ptr_null(sl_session_table_new(&tab_mem, SL_MAX_LCORES));
	ck_assert_uint_ge(sl_session_table_footprint(),
	                  sizeof(sl_session_t) * SL_SESSIONS_PER_LCORE);
	ck_assert_uint_eq(sl_session_table_align() % SL_CACHE_LINE, 0);
}
END_TEST

START_TEST(test_join_checks_magic)
{
	ck_assert_ptr_eq(sl_session_table_join(&tab_mem), tab);
	ck_assert_ptr_null(sl_session_table_join(NULL));
	tab->layout = SL_SESSION_LAYOUT + 1; /* another layout version */
	ck_assert_ptr_null(sl_session_table_join(&tab_mem));
	tab->layout = SL_SESSION_LAYOUT;
	tab->magic ^= 1; /* damaged magic */
	ck_assert_ptr_null(sl_session_table_join(&tab_mem));
	ck_assert_ptr_null(sl_session_table_delete(tab));
	tab->magic ^= 1;
	ck_assert_ptr_eq(sl_session_table_leave(sl_session_table_join(&tab_mem)), &tab_mem);
	ck_assert_ptr_eq(sl_session_table_join(&tab_mem), tab); /* leave keeps it */
	ck_assert_ptr_eq(sl_session_table_delete(tab), &tab_mem);
	ck_assert_ptr_null(sl_session_table_join(&tab_mem));
	ck_assert_ptr_null(sl_session_table_delete(tab));
}
END_TEST

/* ---- install / lookup ---------------------------------------------------- */

START_TEST(test_empty_table_misses)
{
	sl_session_miss_t why;
	ck_assert_uint_eq(sl_session_count(tab), 0);
	ck_assert_ptr_null(sl_session_lookup(tab, sl_sid_make(LCORE, 0, 1), 1, 1, &why));
	ck_assert_int_eq(why, SL_SESSION_MISS_NOT_LIVE);
}
END_TEST

START_TEST(test_install_then_lookup)
{
	sl_session_peer_t p = peer_of(77);
	uint32_t sid = install_ok(SL_SESSION_SLOT_ANY, 77, 5);
	ck_assert_uint_eq(sl_sid_lcore(sid), LCORE);
	ck_assert_uint_eq(sl_sid_gen(sid), 5);
	ck_assert_uint_eq(sl_session_count(tab), 1);

	sl_session_miss_t why = SL_SESSION_MISS_CNT;
	sl_session_t *s = sl_session_lookup(tab, sid, p.peer_ip, p.peer_port, &why);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(why, SL_SESSION_MISS_NONE);
	ck_assert_ptr_eq(s, &tab->slot[sl_sid_slot(sid)]);
	ck_assert_uint_eq(sl_session_slot_of(tab, s), sl_sid_slot(sid));
	ck_assert_uint_eq(atomic_load(&s->remote_sid), 77);
	ck_assert_uint_eq(atomic_load(&s->streams), p.streams);
	ck_assert(sl_mac_eq(&s->peer_mac, &p.peer_mac));
	ck_assert_ptr_eq(sl_session_find(tab, sid, &why), s);
}
END_TEST

START_TEST(test_lookup_zero_and_other_lcore)
{
	sl_session_peer_t p = peer_of(9);
	uint32_t sid = install_ok(SL_SESSION_SLOT_ANY, 9, 1);
	sl_session_miss_t why;
	ck_assert_ptr_null(sl_session_lookup(tab, 0, p.peer_ip, p.peer_port, &why));
	ck_assert_int_eq(why, SL_SESSION_MISS_ZERO);
	if (SL_MAX_LCORES > 1) {
		uint32_t other =
		    sl_sid_make((LCORE + 1) % SL_MAX_LCORES, sl_sid_slot(sid), sl_sid_gen(sid));
		ck_assert_ptr_null(sl_session_lookup(tab, other, p.peer_ip, p.peer_port, &why));
		ck_assert_int_eq(why, SL_SESSION_MISS_LCORE);
	}
}
END_TEST

START_TEST(test_address_mismatch_rejected)
{
	sl_session_peer_t p = peer_of(42);
	uint32_t sid = install_ok(SL_SESSION_SLOT_ANY, 42, 1);
	sl_session_miss_t why;
	ck_assert_ptr_null(sl_session_lookup(tab, sid, p.peer_ip + 1, p.peer_port, &why));
	ck_assert_int_eq(why, SL_SESSION_MISS_ADDR);
	ck_assert_ptr_null(
	    sl_session_lookup(tab, sid, p.peer_ip, (uint16_t)(p.peer_port + 1), &why));
	ck_assert_int_eq(why, SL_SESSION_MISS_ADDR);
	ck_assert_ptr_null(sl_session_lookup(tab, sid, 0, 0, &why));
	ck_assert_int_eq(why, SL_SESSION_MISS_ADDR);
	/* the session itself is unharmed */
	ck_assert_ptr_nonnull(sl_session_lookup(tab, sid, p.peer_ip, p.peer_port, &why));
}
END_TEST

START_TEST(test_install_rejects_bad_args)
{
	uint32_t sid = 0xdead;
	sl_session_peer_t p = peer_of(5);
	ck_assert_int_eq(sl_session_install(tab, SL_SESSION_SLOT_ANY, NULL, 1, &sid),
	                 SL_SESSION_ERR_ARGS);
	ck_assert_int_eq(sl_session_install(tab, SL_SESSION_SLOT_ANY, &p, 1, NULL),
	                 SL_SESSION_ERR_ARGS);
	ck_assert_int_eq(sl_session_install(tab, SL_SESSIONS_PER_LCORE, &p, 1, &sid),
	                 SL_SESSION_ERR_ARGS);
	p.peer_ip = 0;
	ck_assert_int_eq(sl_session_install(tab, SL_SESSION_SLOT_ANY, &p, 1, &sid),
	                 SL_SESSION_ERR_ARGS);
	p = peer_of(5);
	p.peer_port = 0;
	ck_assert_int_eq(sl_session_install(tab, SL_SESSION_SLOT_ANY, &p, 1, &sid),
	                 SL_SESSION_ERR_ARGS);
	p = peer_of(5);
	p.remote_sid = 0;
	ck_assert_int_eq(sl_session_install(tab, SL_SESSION_SLOT_ANY, &p, 1, &sid),
	                 SL_SESSION_ERR_ARGS);
	p = peer_of(5);
	p.streams |= 1u << SL_SESSION_STREAMS;
	ck_assert_int_eq(sl_session_install(tab, SL_SESSION_SLOT_ANY, &p, 1, &sid),
	                 SL_SESSION_ERR_ARGS);
	ck_assert_uint_eq(sid, 0xdead); /* untouched on failure */
	ck_assert_uint_eq(sl_session_count(tab), 0);
}
END_TEST

START_TEST(test_install_named_slot_and_busy)
{
	uint32_t sid = install_ok(17, 1, 1);
	ck_assert_uint_eq(sl_sid_slot(sid), 17);
	sl_session_peer_t p = peer_of(2);
	uint32_t sid2 = 0;
	ck_assert_int_eq(sl_session_install(tab, 17, &p, 2, &sid2), SL_SESSION_ERR_BUSY);
	ck_assert_uint_eq(sid2, 0);
	/* "any" never picks the busy slot */
	for (uint32_t i = 0; i < 40; i++)
		ck_assert_uint_ne(sl_sid_slot(install_ok(SL_SESSION_SLOT_ANY, 100 + i, 1)), 17);
	ck_assert_uint_eq(sl_session_count(tab), 41);
}
END_TEST

START_TEST(test_table_full)
{
	uint8_t used[SL_SESSIONS_PER_LCORE] = {0};
	uint32_t sids[SL_SESSIONS_PER_LCORE];
	for (uint32_t i = 0; i < SL_SESSIONS_PER_LCORE; i++) {
		sids[i] = install_ok(SL_SESSION_SLOT_ANY, i + 1, i + 1);
		ck_assert_uint_eq(used[sl_sid_slot(sids[i])], 0);
		used[sl_sid_slot(sids[i])] = 1;
	}
	ck_assert_uint_eq(sl_session_count(tab), SL_SESSIONS_PER_LCORE);
	sl_session_peer_t p = peer_of(99999);
	uint32_t sid = 0;
	ck_assert_int_eq(sl_session_install(tab, SL_SESSION_SLOT_ANY, &p, 1, &sid),
	                 SL_SESSION_ERR_FULL);
	ck_assert_int_eq(sl_session_install(tab, 0, &p, 1, &sid), SL_SESSION_ERR_BUSY);
	/* one teardown frees exactly that slot */
	uint32_t victim = sids[SL_SESSIONS_PER_LCORE / 3];
	ck_assert_int_eq(sl_session_teardown(tab, victim), 1);
	sid = install_ok(SL_SESSION_SLOT_ANY, 99999, 1);
	ck_assert_uint_eq(sl_sid_slot(sid), sl_sid_slot(victim));
	ck_assert_uint_ne(sid, victim);
	ck_assert_int_eq(sl_session_install(tab, SL_SESSION_SLOT_ANY, &p, 1, &sid),
	                 SL_SESSION_ERR_FULL);
}
END_TEST

/* ---- teardown and generations -------------------------------------------- */

START_TEST(test_teardown_returns_live_once)
{
	sl_session_peer_t p = peer_of(8);
	uint32_t sid = install_ok(SL_SESSION_SLOT_ANY, 8, 3);
	ck_assert_int_eq(sl_session_teardown(tab, sid), 1);
	ck_assert_int_eq(sl_session_teardown(tab, sid), 0);
	ck_assert_int_eq(sl_session_teardown(tab, 0), 0);
	ck_assert_uint_eq(sl_session_count(tab), 0);
	sl_session_miss_t why;
	ck_assert_ptr_null(sl_session_lookup(tab, sid, p.peer_ip, p.peer_port, &why));
	ck_assert_int_eq(why, SL_SESSION_MISS_NOT_LIVE);
	/* the freed slot's id moved on: not the torn-down one */
	ck_assert_uint_ne(atomic_load(&tab->slot[sl_sid_slot(sid)].sid), sid);
}
END_TEST

START_TEST(test_stale_generation_after_reinstall)
{
	sl_session_peer_t p = peer_of(8);
	uint32_t old = install_ok(12, 8, 40);
	ck_assert_int_eq(sl_session_teardown(tab, old), 1);
	/* same slot, same peer, and even the same generation counter value */
	uint32_t cur = install_ok(12, 8, 40);
	ck_assert_uint_eq(sl_sid_slot(cur), 12);
	ck_assert_uint_ne(cur, old);
	ck_assert_uint_ne(sl_sid_gen(cur), sl_sid_gen(old));

	sl_session_miss_t why;
	ck_assert_ptr_null(sl_session_lookup(tab, old, p.peer_ip, p.peer_port, &why));
	ck_assert_int_eq(why, SL_SESSION_MISS_STALE);
	/* a stale teardown leaves the current incarnation alone */
	ck_assert_int_eq(sl_session_teardown(tab, old), 0);
	ck_assert_ptr_nonnull(sl_session_lookup(tab, cur, p.peer_ip, p.peer_port, &why));
	ck_assert_uint_eq(sl_session_count(tab), 1);
}
END_TEST

START_TEST(test_generation_wraps_without_zero)
{
	uint32_t a = install_ok(3, 1, SL_SID_GEN_MAX);
	ck_assert_uint_eq(sl_sid_gen(a), SL_SID_GEN_MAX);
	ck_assert_int_eq(sl_session_teardown(tab, a), 1);
	/* counter value that masks to 0 -> 1; and the dead id stays non-zero */
	ck_assert_uint_ne(atomic_load(&tab->slot[3].sid), 0);
	uint32_t b = install_ok(3, 1, SL_SID_GEN_MAX + 1u);
	ck_assert_uint_eq(sl_sid_gen(b), 1);
	ck_assert_uint_ne(a, b);
}
END_TEST

START_TEST(test_random_churn_matches_model)
{
	/* random install / teardown / lookup against a model of live ids */
	uint32_t seed = seed_get("churn");
	static uint32_t live[SL_SESSIONS_PER_LCORE]; /* model: sid per slot, 0 free */
	static uint32_t dead[SL_SESSIONS_PER_LCORE]; /* last torn-down sid per slot */
	memset(live, 0, sizeof(live));
	memset(dead, 0, sizeof(dead));
	uint32_t n = 0, gen = 1;
	for (int it = 0; it < 200000; it++) {
		uint32_t slot = xorshift(&seed) % SL_SESSIONS_PER_LCORE;
		uint32_t op = xorshift(&seed) % 4;
		sl_session_miss_t why;
		if (op == 0) {
			sl_session_peer_t p = peer_of(slot + 1);
			uint32_t sid = 0;
			sl_session_res_t r = sl_session_install(tab, slot, &p, gen++, &sid);
			ck_assert_int_eq(r, live[slot] ? SL_SESSION_ERR_BUSY : SL_SESSION_OK);
			if (r == SL_SESSION_OK) {
				ck_assert_uint_ne(sid, dead[slot]);
				live[slot] = sid;
				n++;
			}
		} else if (op == 1) {
			uint32_t sid = live[slot] ? live[slot] : dead[slot];
			int was = sl_session_teardown(tab, sid);
			ck_assert_int_eq(was, live[slot] != 0 && sid != 0);
			if (was) {
				dead[slot] = sid;
				live[slot] = 0;
				n--;
			}
		} else {
			sl_session_peer_t p = peer_of(slot + 1);
			if (live[slot]) {
				ck_assert_ptr_nonnull(sl_session_lookup(tab, live[slot], p.peer_ip,
				                                        p.peer_port, &why));
			}
			if (dead[slot]) {
				ck_assert_ptr_null(sl_session_lookup(tab, dead[slot], p.peer_ip,
				                                     p.peer_port, &why));
				ck_assert_int_eq(why, live[slot] ? SL_SESSION_MISS_STALE
				                                 : SL_SESSION_MISS_NOT_LIVE);
			}
		}
		ck_assert_uint_eq(sl_session_count(tab), n);
	}
}
END_TEST

/* ---- iteration ----------------------------------------------------------- */

START_TEST(test_iteration_visits_live_once)
{
	uint32_t sids[100];
	for (uint32_t i = 0; i < 100; i++)
		sids[i] = install_ok(SL_SESSION_SLOT_ANY, i + 1, i + 1);
	for (uint32_t i = 0; i < 100; i += 3)
		ck_assert_int_eq(sl_session_teardown(tab, sids[i]), 1);
	uint8_t seen[SL_SESSIONS_PER_LCORE] = {0};
	uint32_t n = sl_session_count(tab);
	ck_assert_uint_eq(n, 100 - 34);
	for (uint32_t i = 0; i < n; i++) {
		sl_session_t *s = sl_session_live_at(tab, i);
		ck_assert_uint_eq(atomic_load(&s->state), SL_SESSION_LIVE);
		uint32_t slot = sl_session_slot_of(tab, s);
		ck_assert_uint_eq(seen[slot], 0);
		seen[slot] = 1;
	}
	for (uint32_t i = 0; i < 100; i++)
		ck_assert_uint_eq(seen[sl_sid_slot(sids[i])], i % 3 != 0);
}
END_TEST

START_TEST(test_teardown_while_iterating_downward)
{
	for (uint32_t i = 0; i < 50; i++)
		install_ok(SL_SESSION_SLOT_ANY, i + 1, i + 1);
	/* tear down every session whose remote id is even, walking downward */
	uint32_t visited = 0, torn = 0;
	for (uint32_t i = sl_session_count(tab); i-- > 0;) {
		sl_session_t *s = sl_session_live_at(tab, i);
		visited++;
		if (atomic_load(&s->remote_sid) % 2 == 0)
			torn += (uint32_t)sl_session_teardown(tab, atomic_load(&s->sid));
	}
	ck_assert_uint_eq(visited, 50);
	ck_assert_uint_eq(torn, 25);
	ck_assert_uint_eq(sl_session_count(tab), 25);
	for (uint32_t i = 0; i < sl_session_count(tab); i++)
		ck_assert_uint_eq(atomic_load(&sl_session_live_at(tab, i)->remote_sid) % 2, 1);
}
END_TEST

/* ---- streams and sequence numbers ---------------------------------------- */

START_TEST(test_streams_negotiate)
{
	ck_assert_uint_eq(sl_streams_negotiate(0x23, 0x21), 0x21);
	ck_assert_uint_eq(sl_streams_negotiate(0x22, 0x20), 0x21); /* stream 0 forced */
	ck_assert_uint_eq(sl_streams_negotiate(0, 0), 0x1);
	ck_assert(sl_streams_has(0x21, 5));
	ck_assert(!sl_streams_has(0x21, 1));
	ck_assert(!sl_streams_has(0xffffffffu, 32));
	ck_assert(!sl_streams_has(0xffffffffu, 255));
}
END_TEST

START_TEST(test_stream_on_follows_install)
{
	sl_session_peer_t p = peer_of(4);
	p.streams = 1u << 5; /* stream 0 omitted: install forces it */
	uint32_t sid = 0;
	ck_assert_int_eq(sl_session_install(tab, SL_SESSION_SLOT_ANY, &p, 1, &sid), SL_SESSION_OK);
	sl_session_miss_t why;
	sl_session_t *s = sl_session_find(tab, sid, &why);
	for (unsigned st = 0; st < 256; st++)
		ck_assert_int_eq(sl_sess_stream_on(s, st), st == 0 || st == 5);
}
END_TEST

START_TEST(test_next_seq_per_stream)
{
	uint32_t sid = install_ok(SL_SESSION_SLOT_ANY, 4, 1);
	sl_session_miss_t why;
	sl_session_t *s = sl_session_find(tab, sid, &why);
	ck_assert_uint_eq(sl_session_next_seq(s, 0), 1);
	ck_assert_uint_eq(sl_session_next_seq(s, 0), 2);
	ck_assert_uint_eq(sl_session_next_seq(s, 5), 1);
	ck_assert_uint_eq(sl_session_next_seq(s, 0), 3);
	ck_assert_uint_eq(sl_session_next_seq(s, 1), 1);
	/* exhaustion: UINT32_MAX is the last seq, then 0 forever */
	s->next_seq[5] = UINT32_MAX - 1;
	ck_assert_uint_eq(sl_session_next_seq(s, 5), UINT32_MAX - 1);
	ck_assert_uint_eq(sl_session_next_seq(s, 5), UINT32_MAX);
	ck_assert_uint_eq(sl_session_next_seq(s, 5), 0);
	ck_assert_uint_eq(sl_session_next_seq(s, 5), 0);
	ck_assert_uint_eq(sl_session_next_seq(s, 0), 4);
}
END_TEST

START_TEST(test_reinstall_resets_flow_state)
{
	uint32_t sid = install_ok(6, 4, 1);
	sl_session_miss_t why;
	sl_session_t *s = sl_session_find(tab, sid, &why);
	sl_session_next_seq(s, 0);
	sl_session_next_seq(s, 0);
	ck_assert_int_eq(sl_replay_check_update(&s->replay[0], 10), SL_REPLAY_ACCEPT);
	sl_session_set_rtt(s, 1234);
	SL_CNT_ADD(&s->cnt.rx_frames, 5);
	SL_CNT_ADD(&s->cnt.drop_replay, 2);
	ck_assert_int_eq(sl_session_teardown(tab, sid), 1);

	sid = install_ok(6, 5, 2);
	s = sl_session_find(tab, sid, &why);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(sl_session_next_seq(s, 0), 1);
	ck_assert_int_eq(sl_replay_check(&s->replay[0], 10), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check(&s->replay[0], 1), SL_REPLAY_ACCEPT);
	ck_assert_uint_eq(atomic_load(&s->rtt_us), 0);
	ck_assert_uint_eq(SL_CNT_GET(&s->cnt.rx_frames), 0);
	ck_assert_uint_eq(SL_CNT_GET(&s->cnt.drop_replay), 0);
}
END_TEST

/* ---- snapshots ----------------------------------------------------------- */

START_TEST(test_snapshot_live_and_free)
{
	sl_session_info_t info;
	memset(&info, 0, sizeof(info));
	ck_assert_int_eq(sl_session_snapshot(tab, SL_SESSIONS_PER_LCORE, &info), 0);
	ck_assert_int_eq(sl_session_snapshot(tab, 0, NULL), 0);
	ck_assert_int_eq(sl_session_snapshot(tab, 9, &info), 0);
	ck_assert_uint_eq(info.state, SL_SESSION_FREE);

	sl_session_peer_t p = peer_of(0x123456);
	uint32_t sid = install_ok(9, 0x123456, 77);
	sl_session_miss_t why;
	sl_session_t *s = sl_session_find(tab, sid, &why);
	sl_session_set_rtt(s, 900);
	SL_CNT_ADD(&s->cnt.tx_bytes, 1500);
	ck_assert_int_eq(sl_session_snapshot(tab, 9, &info), 1);
	ck_assert_uint_eq(info.slot, 9);
	ck_assert_uint_eq(info.sid, sid);
	ck_assert_uint_eq(info.remote_sid, 0x123456);
	ck_assert_uint_eq(info.peer_ip, p.peer_ip);
	ck_assert_uint_eq(info.peer_port, p.peer_port);
	ck_assert_uint_eq(info.streams, p.streams);
	ck_assert_mem_eq(info.node_id, p.node_id, SL_SESSION_NODE_ID_LEN);
	ck_assert_uint_eq(info.rtt_us, 900);
	ck_assert_uint_eq(info.cnt.tx_bytes, 1500);
	ck_assert_int_eq(sl_session_teardown(tab, sid), 1);
	ck_assert_int_eq(sl_session_snapshot(tab, 9, &info), 0);
}
END_TEST

static atomic_int churn_stop;
static atomic_int churn_fail;
static atomic_int churn_rounds;

static void *churn_owner(void *arg)
{
	(void)arg;
	/* no ck_assert off the test's thread: failures are counted instead */
	uint32_t k = 1;
	while (!atomic_load(&churn_stop)) {
		sl_session_peer_t p = peer_of(k);
		uint32_t sid = 0;
		if (sl_session_install(tab, 0, &p, k, &sid) != SL_SESSION_OK)
			atomic_fetch_add(&churn_fail, 1);
		for (int i = 0; i < 64; i++) /* stay live a little while */
			sl_session_set_rtt(&tab->slot[0], (uint32_t)i);
		if (sl_session_teardown(tab, sid) != 1)
			atomic_fetch_add(&churn_fail, 1);
		k = k % SL_SID_GEN_MAX + 1; /* consecutive distinct generations */
		atomic_fetch_add(&churn_rounds, 1);
	}
	return NULL;
}

START_TEST(test_snapshot_torn_free_under_churn)
{
	/* the owner thread reinstalls slot 0 with peers derived from k; every
	   live snapshot must be one peer's fields, never a mix of two */
	pthread_t th;
	atomic_store(&churn_stop, 0);
	atomic_store(&churn_fail, 0);
	atomic_store(&churn_rounds, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, churn_owner, NULL), 0);
	while (atomic_load(&churn_rounds) < 100)
		sched_yield();
	uint32_t live = 0;
	int i;
	for (i = 0; live < 20000 && i < 50000000; i++) {
		sl_session_info_t info;
		if (!sl_session_snapshot(tab, 0, &info))
			continue;
		live++;
		sl_session_peer_t p = peer_of(info.remote_sid);
		ck_assert_uint_eq(info.peer_ip, p.peer_ip);
		ck_assert_uint_eq(info.peer_port, p.peer_port);
		ck_assert_mem_eq(info.node_id, p.node_id, SL_SESSION_NODE_ID_LEN);
		ck_assert_uint_eq(sl_sid_gen(info.sid), sl_sid_gen_norm(info.remote_sid));
	}
	atomic_store(&churn_stop, 1);
	pthread_join(th, NULL);
	ck_assert_int_eq(atomic_load(&churn_fail), 0);
	ck_assert_uint_gt(live, 0);
	printf("session/snapshot: %u live snapshots of %d\n", live, i);
}
END_TEST

/* ---- anti-replay --------------------------------------------------------- */

static sl_replay_t rw;

static void replay_setup(void)
{
	sl_replay_init(&rw);
}

START_TEST(test_replay_seq_zero_invalid)
{
	ck_assert_int_eq(sl_replay_check_update(&rw, 0), SL_REPLAY_INVALID);
	ck_assert_int_eq(sl_replay_check_update(&rw, 1), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check_update(&rw, 0), SL_REPLAY_INVALID);
}
END_TEST

START_TEST(test_replay_in_order_accepted)
{
	for (uint32_t s = 1; s <= 1000; s++)
		ck_assert_int_eq(sl_replay_check_update(&rw, s), SL_REPLAY_ACCEPT);
	ck_assert_uint_eq(rw.top, 1000);
}
END_TEST

START_TEST(test_replay_duplicate_rejected)
{
	for (uint32_t s = 1; s <= 100; s++)
		ck_assert_int_eq(sl_replay_check_update(&rw, s), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check_update(&rw, 100), SL_REPLAY_DUPLICATE);
	ck_assert_int_eq(sl_replay_check_update(&rw, 99), SL_REPLAY_DUPLICATE);
	ck_assert_int_eq(sl_replay_check_update(&rw, 100 - SL_REPLAY_WINDOW + 1),
	                 SL_REPLAY_DUPLICATE);
}
END_TEST

START_TEST(test_replay_too_old_rejected)
{
	ck_assert_int_eq(sl_replay_check_update(&rw, 200), SL_REPLAY_ACCEPT);
	/* never seen, but at or below top - W */
	ck_assert_int_eq(sl_replay_check_update(&rw, 200 - SL_REPLAY_WINDOW), SL_REPLAY_TOO_OLD);
	ck_assert_int_eq(sl_replay_check_update(&rw, 1), SL_REPLAY_TOO_OLD);
	/* the oldest seq still inside the window is fine, once */
	ck_assert_int_eq(sl_replay_check_update(&rw, 200 - SL_REPLAY_WINDOW + 1), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check_update(&rw, 200 - SL_REPLAY_WINDOW + 1),
	                 SL_REPLAY_DUPLICATE);
}
END_TEST

START_TEST(test_replay_out_of_order_within_window_once)
{
	ck_assert_int_eq(sl_replay_check_update(&rw, 10), SL_REPLAY_ACCEPT);
	for (uint32_t s = 9; s >= 1; s--) {
		ck_assert_int_eq(sl_replay_check_update(&rw, s), SL_REPLAY_ACCEPT);
		ck_assert_int_eq(sl_replay_check_update(&rw, s), SL_REPLAY_DUPLICATE);
	}
	ck_assert_int_eq(sl_replay_check_update(&rw, 12), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check_update(&rw, 11), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check_update(&rw, 11), SL_REPLAY_DUPLICATE);
	ck_assert_int_eq(sl_replay_check_update(&rw, 10), SL_REPLAY_DUPLICATE);
}
END_TEST

START_TEST(test_replay_check_does_not_update)
{
	ck_assert_int_eq(sl_replay_check(&rw, 5), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check(&rw, 5), SL_REPLAY_ACCEPT);
	ck_assert_uint_eq(rw.top, 0);
	sl_replay_update(&rw, 5);
	ck_assert_int_eq(sl_replay_check(&rw, 5), SL_REPLAY_DUPLICATE);
}
END_TEST

START_TEST(test_replay_jump_beyond_window)
{
	for (uint32_t s = 1; s <= 10; s++)
		sl_replay_check_update(&rw, s);
	ck_assert_int_eq(sl_replay_check_update(&rw, 10 + 1000), SL_REPLAY_ACCEPT);
	/* everything up to top - W is now too old, seen or not */
	ck_assert_int_eq(sl_replay_check_update(&rw, 10), SL_REPLAY_TOO_OLD);
	ck_assert_int_eq(sl_replay_check_update(&rw, 500), SL_REPLAY_TOO_OLD);
	/* inside the new window nothing is marked but the top */
	for (uint32_t b = 1; b < SL_REPLAY_WINDOW; b++)
		ck_assert_int_eq(sl_replay_check(&rw, 1010 - b), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check(&rw, 1010), SL_REPLAY_DUPLICATE);
	/* a jump of exactly 64 and of 63 */
	ck_assert_int_eq(sl_replay_check_update(&rw, 1010 + 63), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check(&rw, 1010),
	                 SL_REPLAY_WINDOW >= 64 ? SL_REPLAY_DUPLICATE : SL_REPLAY_TOO_OLD);
	ck_assert_int_eq(sl_replay_check_update(&rw, 1073 + 64), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check(&rw, 1073), SL_REPLAY_TOO_OLD);
	ck_assert_int_eq(sl_replay_check(&rw, 1074), SL_REPLAY_ACCEPT);
}
END_TEST

START_TEST(test_replay_top_of_range_no_misbehaviour)
{
	ck_assert_int_eq(sl_replay_check_update(&rw, UINT32_MAX - 2), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check_update(&rw, UINT32_MAX), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check_update(&rw, UINT32_MAX - 1), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check_update(&rw, UINT32_MAX), SL_REPLAY_DUPLICATE);
	/* a "wrapped" small seq is old, not new: the window never moves back */
	ck_assert_int_eq(sl_replay_check_update(&rw, 1), SL_REPLAY_TOO_OLD);
	ck_assert_int_eq(sl_replay_check_update(&rw, 0), SL_REPLAY_INVALID);
	ck_assert_uint_eq(rw.top, UINT32_MAX);
	/* from an empty window the largest seq is a jump of 2^32 - 1 */
	sl_replay_init(&rw);
	ck_assert_int_eq(sl_replay_check_update(&rw, UINT32_MAX), SL_REPLAY_ACCEPT);
	ck_assert_int_eq(sl_replay_check_update(&rw, UINT32_MAX - 1), SL_REPLAY_ACCEPT);
}
END_TEST

#define MODEL_LIMIT (1u << 23)

START_TEST(test_replay_random_vs_model)
{
	/* the model remembers every accepted seq (no bitmap) and applies the
	   window rule; the window must agree with it on every frame */
	static uint8_t seen[MODEL_LIMIT];
	memset(seen, 0, sizeof(seen));
	uint32_t seed = seed_get("replay");
	uint32_t top = 0;
	uint64_t counts[SL_REPLAY_RES_CNT] = {0};
	for (int it = 0; it < 500000; it++) {
		uint32_t r = xorshift(&seed) % 100, x = xorshift(&seed), seq;
		if (r < 30)
			seq = top + 1 + x % 3;
		else if (r < 75)
			seq = top - SL_MIN(top, x % (SL_REPLAY_WINDOW + 20));
		else if (r < 78)
			seq = top + SL_REPLAY_WINDOW - 5 + x % 150;
		else if (r < 82)
			seq = 0;
		else
			seq = top - SL_MIN(top, x % 8);
		ck_assert_uint_lt(seq, MODEL_LIMIT); /* the walk stays inside the model */

		sl_replay_res_t want;
		if (seq == 0)
			want = SL_REPLAY_INVALID;
		else if (seq > top)
			want = SL_REPLAY_ACCEPT;
		else if (top - seq >= SL_REPLAY_WINDOW)
			want = SL_REPLAY_TOO_OLD;
		else if (seen[seq])
			want = SL_REPLAY_DUPLICATE;
		else
			want = SL_REPLAY_ACCEPT;

		sl_replay_res_t got = sl_replay_check_update(&rw, seq);
		if (got != want)
			ck_abort_msg("it %d seq %u top %u: got %s want %s", it, seq, top,
			             sl_session_replay_str(got), sl_session_replay_str(want));
		counts[got]++;
		if (want == SL_REPLAY_ACCEPT) {
			seen[seq] = 1;
			top = SL_MAX(top, seq);
		}
	}
	/* the walk exercised every class */
	for (int c = 0; c < SL_REPLAY_RES_CNT; c++)
		ck_assert_uint_gt(counts[c], 100);
	printf("session/replay: accept %lu duplicate %lu too_old %lu invalid %lu (top %u)\n",
	       (unsigned long)counts[0], (unsigned long)counts[1], (unsigned long)counts[2],
	       (unsigned long)counts[3], top);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(sl_session_replay_str(SL_REPLAY_DUPLICATE), "duplicate");
	ck_assert_str_eq(sl_session_replay_str(SL_REPLAY_RES_CNT), "?");
	ck_assert_str_eq(sl_session_res_str(SL_SESSION_ERR_FULL), "err_full");
	ck_assert_str_eq(sl_session_res_str(SL_SESSION_RES_CNT), "?");
	ck_assert_str_eq(sl_session_miss_str(SL_SESSION_MISS_STALE), "stale");
	ck_assert_str_eq(sl_session_miss_str(SL_SESSION_MISS_CNT), "?");
}
END_TEST

static Suite *session_suite(void)
{
	Suite *s = suite_create("session");

	TCase *id = tcase_create("sid");
	tcase_add_test(id, test_sid_widths_fit_config);
	tcase_add_test(id, test_sid_round_trip_all_bounds);
	tcase_add_test(id, test_sid_distinct_per_field);
	tcase_add_test(id, test_sid_gen_norm_never_zero);
	tcase_add_test(id, test_names);
	suite_add_tcase(s, id);

	TCase *tb = tcase_create("table");
	tcase_add_checked_fixture(tb, setup, NULL);
	tcase_add_test(tb, test_new_rejects_bad_args);
	tcase_add_test(tb, test_join_checks_magic);
	tcase_add_test(tb, test_empty_table_misses);
	tcase_add_test(tb, test_install_then_lookup);
	tcase_add_test(tb, test_lookup_zero_and_other_lcore);
	tcase_add_test(tb, test_address_mismatch_rejected);
	tcase_add_test(tb, test_install_rejects_bad_args);
	tcase_add_test(tb, test_install_named_slot_and_busy);
	tcase_add_test(tb, test_table_full);
	tcase_add_test(tb, test_teardown_returns_live_once);
	tcase_add_test(tb, test_stale_generation_after_reinstall);
	tcase_add_test(tb, test_generation_wraps_without_zero);
	tcase_add_test(tb, test_random_churn_matches_model);
	tcase_add_test(tb, test_iteration_visits_live_once);
	tcase_add_test(tb, test_teardown_while_iterating_downward);
	tcase_add_test(tb, test_streams_negotiate);
	tcase_add_test(tb, test_stream_on_follows_install);
	tcase_add_test(tb, test_next_seq_per_stream);
	tcase_add_test(tb, test_reinstall_resets_flow_state);
	tcase_add_test(tb, test_snapshot_live_and_free);
	tcase_add_test(tb, test_snapshot_torn_free_under_churn);
	suite_add_tcase(s, tb);

	TCase *rp = tcase_create("replay");
	tcase_add_checked_fixture(rp, replay_setup, NULL);
	tcase_add_test(rp, test_replay_seq_zero_invalid);
	tcase_add_test(rp, test_replay_in_order_accepted);
	tcase_add_test(rp, test_replay_duplicate_rejected);
	tcase_add_test(rp, test_replay_too_old_rejected);
	tcase_add_test(rp, test_replay_out_of_order_within_window_once);
	tcase_add_test(rp, test_replay_check_does_not_update);
	tcase_add_test(rp, test_replay_jump_beyond_window);
	tcase_add_test(rp, test_replay_top_of_range_no_misbehaviour);
	tcase_add_test(rp, test_replay_random_vs_model);
	suite_add_tcase(s, rp);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(session_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
