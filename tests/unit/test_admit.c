/* test_admit.c — unit tests of ctrl's admission policy (ctrl/sl_admit.h,
   suite "admit"): one test per SPEC §4 REJECT reason, the accept path and
   its stream intersection, the order of checks, bans (expiry, unban, list),
   per-address and per-lcore capacity, commit / remove, the 10 s idempotent
   repeat, the pending sweep, and a randomized admit/remove loop checked
   against simple counts (seed printed; set SL_TEST_SEED to replay). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_admit.h"
#include "sl_auth.h"

#define S  1000000000ULL
#define T0 (1000 * S)
#define IP 0x0a630003u /* 10.99.0.3 */

static sl_admit_t st;
static sl_admit_cfg_t cfg;
static uint64_t next_nonce = 1000;

static uint32_t seed_get(void)
{
	const char *s = getenv("SL_TEST_SEED");
	uint32_t seed = s ? (uint32_t)strtoul(s, NULL, 0) : (uint32_t)time(NULL);
	printf("admit: seed %u (SL_TEST_SEED=%u to replay)\n", seed, seed);
	return seed;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void node(uint8_t id[SL_WIRE_HASH_LEN], uint32_t n)
{
	memset(id, 0x5a, SL_WIRE_HASH_LEN);
	memcpy(id, &n, sizeof n);
}

/* hello builds a valid HELLO from node number n with a fresh nonce. */
static sl_wire_hello_t hello(uint32_t n)
{
	sl_wire_hello_t h = {.proto_min = 1, .proto_max = 1, .streams_offered = 0x23};
	memset(h.chain_id, 0xc1, SL_WIRE_HASH_LEN);
	node(h.node_id, n);
	h.nonce = next_nonce++;
	h.reply_session = 77;
	return h;
}

static void init_with(const sl_admit_cfg_t *c)
{
	sl_admit_fini(&st);
	ck_assert_int_eq(sl_admit_init(&st, c), SL_ADMIT_OK);
	sl_admit_set_ready(&st, true);
}

static void teardown(void)
{
	sl_admit_fini(&st);
}

static void setup(void)
{
	ck_assert_int_eq(sl_auth_init(), 0);
	sl_admit_cfg_defaults(&cfg);
	memset(cfg.chain_id, 0xc1, SL_WIRE_HASH_LEN);
	memset(cfg.node_id, 0xee, SL_WIRE_HASH_LEN);
	cfg.n_lcores = 4;
	cfg.hello_rate_per_s = 1000;
	cfg.hello_burst = 1000;
	cfg.hash_seed = 0x1234;
	init_with(&cfg);
}

static sl_admit_decision_t decide_at(const sl_wire_hello_t *h, uint32_t ip, uint16_t lcore,
                                     uint64_t now)
{
	sl_admit_decision_t d;
	memset(&d, 0xff, sizeof d);
	sl_admit_decide(&st, h, ip, 9747, lcore, now, &d);
	return d;
}

static void assert_reject(const sl_admit_decision_t *d, uint16_t reason)
{
	ck_assert_msg(d->verdict == SL_ADMIT_REJECT && d->reason == reason,
	              "want REJECT %s, got verdict %u reason %s", sl_admit_reason_str(reason),
	              d->verdict, sl_admit_reason_str(d->reason));
}

static void assert_accept(const sl_admit_decision_t *d)
{
	ck_assert_msg(d->verdict == SL_ADMIT_ACCEPT, "want ACCEPT, got REJECT %s",
	              sl_admit_reason_str(d->reason));
	ck_assert_uint_eq(d->reason, 0);
}

static void expect_reject(const sl_wire_hello_t *h, uint32_t ip, uint16_t lcore, uint64_t now,
                          uint16_t reason)
{
	sl_admit_decision_t d = decide_at(h, ip, lcore, now);
	assert_reject(&d, reason);
}

static void expect_accept(const sl_wire_hello_t *h, uint32_t ip, uint16_t lcore, uint64_t now)
{
	sl_admit_decision_t d = decide_at(h, ip, lcore, now);
	assert_accept(&d);
}

START_TEST(test_init_rejects_bad_config)
{
	sl_admit_cfg_t c = cfg;
	c.max_peers = 0;
	ck_assert_int_eq(sl_admit_init(&st, &c), SL_ADMIT_ERR_ARG);
	c = cfg;
	c.max_peers = SL_ADMIT_PEERS_MAX + 1;
	ck_assert_int_eq(sl_admit_init(&st, &c), SL_ADMIT_ERR_ARG);
	c = cfg;
	c.n_lcores = SL_MAX_LCORES + 1;
	ck_assert_int_eq(sl_admit_init(&st, &c), SL_ADMIT_ERR_ARG);
	c = cfg;
	c.max_per_lcore = SL_SESSIONS_PER_LCORE + 1;
	ck_assert_int_eq(sl_admit_init(&st, &c), SL_ADMIT_ERR_ARG);
	c = cfg;
	c.max_per_addr = 0;
	ck_assert_int_eq(sl_admit_init(&st, &c), SL_ADMIT_ERR_ARG);
	c = cfg;
	c.hello_rate_per_s = 0;
	ck_assert_int_eq(sl_admit_init(&st, &c), SL_ADMIT_ERR_ARG);
	ck_assert_int_eq(sl_admit_init(NULL, &cfg), SL_ADMIT_ERR_ARG);
	ck_assert_str_eq(sl_admit_err_str(SL_ADMIT_ERR_FULL), "full");
	ck_assert_str_eq(sl_admit_err_str(SL_ADMIT_ERR_CNT), "?");
	ck_assert_str_eq(sl_admit_reason_str(SL_WIRE_REJECT_NOT_READY), "not_ready");
	ck_assert_str_eq(sl_admit_reason_str(0), "?");
	ck_assert_str_eq(sl_admit_reason_str(SL_WIRE_REJECT_MAX + 1), "?");
}
END_TEST

START_TEST(test_accept_intersects_streams)
{
	sl_wire_hello_t h = hello(1);
	h.streams_offered = (1u << 1) | (1u << 5) | (1u << 6) | (1u << 9); /* no bit 0 */
	sl_admit_decision_t d = decide_at(&h, IP, 2, T0);
	assert_accept(&d);
	ck_assert(!d.repeat);
	ck_assert_uint_eq(d.streams, (1u << 0) | (1u << 1) | (1u << 5));
	ck_assert_uint_eq(d.lcore, 2);
	ck_assert_uint_eq(d.session, 0);
	const sl_admit_peer_t *p = sl_admit_find(&st, h.node_id);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->state, SL_ADMIT_PEER_PENDING);
	ck_assert_uint_eq(p->ip, IP);
	ck_assert_uint_eq(p->port, 9747);
	ck_assert_uint_eq(p->streams, d.streams);
	ck_assert_uint_eq(sl_admit_count(&st), 1);
	ck_assert_uint_eq(sl_admit_count_lcore(&st, 2), 1);
	ck_assert_uint_eq(sl_admit_count_addr(&st, IP), 1);

	/* stream 0 only, and nothing we share */
	sl_wire_hello_t h2 = hello(2);
	h2.streams_offered = 1u << 6;
	d = decide_at(&h2, IP + 1, 0, T0);
	assert_accept(&d);
	ck_assert_uint_eq(d.streams, 1);
}
END_TEST

START_TEST(test_reject_not_ready)
{
	sl_admit_set_ready(&st, false);
	sl_wire_hello_t h = hello(1);
	sl_admit_decision_t d = decide_at(&h, IP, 0, T0);
	assert_reject(&d, SL_WIRE_REJECT_NOT_READY);
	ck_assert_uint_eq(d.retry_after_s, SL_ADMIT_RETRY_NOT_READY);
	ck_assert_uint_eq(sl_admit_count(&st), 0);
	sl_admit_set_ready(&st, true);
	sl_wire_hello_t h2 = hello(1);
	d = decide_at(&h2, IP, 0, T0);
	assert_accept(&d);
}
END_TEST

START_TEST(test_reject_banned)
{
	ck_assert_int_eq(sl_admit_ban(&st, IP, 60, T0), SL_ADMIT_OK);
	sl_wire_hello_t h = hello(1);
	sl_admit_decision_t d = decide_at(&h, IP, 0, T0 + 15 * S);
	assert_reject(&d, SL_WIRE_REJECT_BANNED);
	ck_assert_uint_eq(d.retry_after_s, 45);
	sl_wire_hello_t h2 = hello(1); /* another address is not banned */
	d = decide_at(&h2, IP + 1, 0, T0 + 15 * S);
	assert_accept(&d);
}
END_TEST

START_TEST(test_reject_rate_limited)
{
	sl_admit_cfg_t c = cfg;
	c.hello_rate_per_s = 1;
	c.hello_burst = 2;
	init_with(&c);
	sl_wire_hello_t a = hello(1), b = hello(2), x = hello(3);
	a.proto_max = 0; /* judged past the limiter: VERSION, but charged */
	expect_reject(&a, IP, 0, T0, SL_WIRE_REJECT_VERSION);
	expect_accept(&b, IP, 0, T0);
	sl_admit_decision_t d = decide_at(&x, IP, 0, T0);
	assert_reject(&d, SL_WIRE_REJECT_RATE_LIMITED);
	ck_assert_uint_eq(d.retry_after_s, 1);
	sl_wire_hello_t y = hello(4); /* another address has its own bucket */
	expect_accept(&y, IP + 1, 0, T0);
	sl_wire_hello_t z = hello(3); /* a second later a token is back */
	expect_accept(&z, IP, 0, T0 + S);
}
END_TEST

START_TEST(test_reject_version)
{
	sl_wire_hello_t h = hello(1);
	h.proto_min = 2;
	h.proto_max = 5;
	sl_admit_decision_t d = decide_at(&h, IP, 0, T0);
	assert_reject(&d, SL_WIRE_REJECT_VERSION);
	ck_assert_uint_eq(d.retry_after_s, 0);
	h = hello(1);
	h.proto_min = 0;
	h.proto_max = 0;
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_VERSION);
	h = hello(1); /* overlap at 1 is enough */
	h.proto_min = 0;
	h.proto_max = 3;
	expect_accept(&h, IP, 0, T0);
}
END_TEST

START_TEST(test_reject_chain_mismatch)
{
	sl_wire_hello_t h = hello(1);
	h.chain_id[31] ^= 1;
	sl_admit_decision_t d = decide_at(&h, IP, 0, T0);
	assert_reject(&d, SL_WIRE_REJECT_CHAIN_MISMATCH);
	ck_assert_uint_eq(sl_admit_count(&st), 0);
}
END_TEST

START_TEST(test_reject_self_by_node_id)
{
	sl_wire_hello_t h = hello(1);
	memcpy(h.node_id, cfg.node_id, SL_WIRE_HASH_LEN);
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_SELF);
}
END_TEST

START_TEST(test_reject_self_by_nonce)
{
	ck_assert_int_eq(sl_admit_nonce_add(&st, 0, T0 + S, T0), SL_ADMIT_ERR_ARG);
	ck_assert_int_eq(sl_admit_nonce_add(&st, 0xabcdef, T0 + 30 * S, T0), SL_ADMIT_OK);
	sl_wire_hello_t h = hello(1);
	h.nonce = 0xabcdef;
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_SELF);
	/* after the outbound connect is done, the nonce is not ours any more */
	ck_assert_int_eq(sl_admit_nonce_del(&st, 0xabcdef), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_nonce_del(&st, 0xabcdef), SL_ADMIT_ERR_NOT_FOUND);
	h.node_id[0] ^= 1; /* a different (node_id, nonce): not a repeat */
	expect_accept(&h, IP, 0, T0);
	/* an expired outbound nonce does not count either */
	ck_assert_int_eq(sl_admit_nonce_add(&st, 0x777, T0 + S, T0), SL_ADMIT_OK);
	sl_wire_hello_t g = hello(9);
	g.nonce = 0x777;
	expect_accept(&g, IP + 1, 0, T0 + 2 * S);
}
END_TEST

START_TEST(test_nonce_table_full)
{
	for (uint64_t i = 1; i <= SL_ADMIT_NONCES_MAX; i++)
		ck_assert_int_eq(sl_admit_nonce_add(&st, i, T0 + S, T0), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_nonce_add(&st, 999, T0 + S, T0), SL_ADMIT_ERR_FULL);
	/* re-adding a known nonce only moves its deadline */
	ck_assert_int_eq(sl_admit_nonce_add(&st, 5, T0 + 9 * S, T0), SL_ADMIT_OK);
	/* once the others expired, their room is reused */
	ck_assert_int_eq(sl_admit_nonce_add(&st, 999, T0 + 9 * S, T0 + 2 * S), SL_ADMIT_OK);
	sl_wire_hello_t h = hello(1);
	h.nonce = 5;
	expect_reject(&h, IP, 0, T0 + 2 * S, SL_WIRE_REJECT_SELF);
}
END_TEST

/* signed_hello: a HELLO with auth_mode 1 from the identity of seed byte
   `who`, signed as SPEC §8 says (bad: one bit of the signature flipped). */
static sl_wire_hello_t signed_hello(uint8_t who, bool bad)
{
	uint8_t seed[SL_AUTH_SEED_LEN];
	memset(seed, who, sizeof seed);
	sl_auth_id_t id;
	sl_auth_id_from_seed(&id, seed);
	sl_auth_eph_t e;
	sl_auth_eph_new(&e);
	sl_wire_hello_t h = hello(1);
	memcpy(h.node_id, id.pk, SL_WIRE_HASH_LEN);
	h.auth_mode = SL_WIRE_AUTH_X25519_CHACHA20POLY1305;
	h.has_auth = true;
	memcpy(h.eph_pubkey, e.pk, sizeof h.eph_pubkey);
	sl_auth_hello_sign(&id, cfg.chain_id, h.eph_pubkey, h.nonce, h.sig);
	if (bad)
		h.sig[17] ^= 0x04;
	return h;
}

START_TEST(test_reject_auth_required)
{
	/* auth = required: mode 0 and undefined modes are REJECT AUTH, a
	   validly signed mode-1 HELLO is admitted, a bad signature is not */
	sl_admit_cfg_t c = cfg;
	c.auth = SL_CFG_AUTH_REQUIRED;
	init_with(&c);
	sl_wire_hello_t h = hello(1);
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_AUTH);
	h = hello(1);
	h.auth_mode = 7;
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_AUTH);
	h = signed_hello(3, true);
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_AUTH);
	h = signed_hello(3, false);
	h.nonce += 1000; /* the nonce is signed: another nonce breaks the signature */
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_AUTH);
	ck_assert_uint_eq(sl_admit_count(&st), 0);
	h = signed_hello(3, false);
	expect_accept(&h, IP, 0, T0);
}
END_TEST

START_TEST(test_reject_auth_mode_not_none)
{
	/* auth off: mode 1 (even validly signed) and undefined modes are
	   REJECT AUTH, permanently; mode 0 is admitted */
	static const uint16_t modes[] = {SL_WIRE_AUTH_X25519_CHACHA20POLY1305, 2, 7, 0xffff};
	for (size_t i = 0; i < SL_ARRAY_LEN(modes); i++) {
		sl_wire_hello_t h = modes[i] == 1 ? signed_hello(4, false) : hello(1);
		h.auth_mode = modes[i];
		sl_admit_decision_t d = decide_at(&h, IP, 0, T0);
		assert_reject(&d, SL_WIRE_REJECT_AUTH);
		ck_assert_uint_eq(d.retry_after_s, SL_ADMIT_RETRY_PERMANENT);
	}
	ck_assert_uint_eq(sl_admit_count(&st), 0);
	sl_wire_hello_t h = hello(1);
	expect_accept(&h, IP, 0, T0);
}
END_TEST

START_TEST(test_auth_optional)
{
	/* auth = optional: mode 0 and signed mode 1 both admitted; a bad
	   signature is still REJECT AUTH */
	sl_admit_cfg_t c = cfg;
	c.auth = SL_CFG_AUTH_OPTIONAL;
	init_with(&c);
	sl_wire_hello_t h = signed_hello(5, true);
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_AUTH);
	h = signed_hello(5, false);
	expect_accept(&h, IP, 0, T0);
	h = hello(2);
	expect_accept(&h, IP + 1, 0, T0);
}
END_TEST

START_TEST(test_reject_auth_allowlist)
{
	uint8_t ok_id[SL_WIRE_HASH_LEN];
	node(ok_id, 7);
	ck_assert_int_eq(sl_admit_allow_add(&st, ok_id), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_allow_add(&st, ok_id), SL_ADMIT_OK);
	ck_assert_uint_eq(st.n_allow, 1);
	sl_wire_hello_t h = hello(8);
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_AUTH);
	h = hello(7);
	expect_accept(&h, IP, 0, T0);
	sl_admit_allow_clear(&st);
	h = hello(8);
	expect_accept(&h, IP, 0, T0);
}
END_TEST

START_TEST(test_allowlist_full)
{
	uint8_t id[SL_WIRE_HASH_LEN];
	for (uint32_t i = 0; i < SL_ADMIT_ALLOW_MAX; i++) {
		node(id, 100 + i);
		ck_assert_int_eq(sl_admit_allow_add(&st, id), SL_ADMIT_OK);
	}
	node(id, 1);
	ck_assert_int_eq(sl_admit_allow_add(&st, id), SL_ADMIT_ERR_FULL);
}
END_TEST

START_TEST(test_reject_duplicate_node_id)
{
	sl_wire_hello_t a = hello(1), b = hello(1);
	sl_admit_decision_t d = decide_at(&a, IP, 0, T0);
	assert_accept(&d);
	/* the same node with another nonce, even from elsewhere, pending or up */
	d = decide_at(&b, IP + 1, 1, T0 + S);
	assert_reject(&d, SL_WIRE_REJECT_DUPLICATE);
	ck_assert_uint_eq(d.retry_after_s, SL_ADMIT_RETRY_DUPLICATE);
	ck_assert_int_eq(sl_admit_commit(&st, a.node_id, 0x101), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_prove(&st, 0x101), SL_ADMIT_OK);
	sl_wire_hello_t c = hello(1);
	expect_reject(&c, IP, 0, T0 + 2 * S, SL_WIRE_REJECT_DUPLICATE);
	ck_assert_uint_eq(sl_admit_count(&st), 1);
	/* once it is gone the node is welcome again */
	ck_assert_int_eq(sl_admit_remove_session(&st, 0x101), SL_ADMIT_OK);
	sl_wire_hello_t e = hello(1);
	expect_accept(&e, IP, 0, T0 + 3 * S);
}
END_TEST

START_TEST(test_reject_full_max_peers)
{
	sl_admit_cfg_t c = cfg;
	c.max_peers = 3;
	init_with(&c);
	for (uint32_t i = 0; i < 3; i++) {
		sl_wire_hello_t h = hello(i);
		expect_accept(&h, IP + i, (uint16_t)i, T0);
		ck_assert_int_eq(sl_admit_commit(&st, h.node_id, 0x100 + i), SL_ADMIT_OK);
		ck_assert_int_eq(sl_admit_prove(&st, 0x100 + i), SL_ADMIT_OK);
	}
	sl_wire_hello_t h = hello(10);
	sl_admit_decision_t d = decide_at(&h, IP + 10, 3, T0);
	assert_reject(&d, SL_WIRE_REJECT_FULL);
	ck_assert_uint_eq(d.retry_after_s, SL_ADMIT_RETRY_FULL);
	uint8_t id[SL_WIRE_HASH_LEN];
	node(id, 1);
	ck_assert_int_eq(sl_admit_remove(&st, id), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_remove(&st, id), SL_ADMIT_ERR_NOT_FOUND);
	h = hello(10);
	expect_accept(&h, IP + 10, 3, T0);
}
END_TEST

/* admit_up: node n from ip on lcore 0 accepted and committed as session
   sid (unproven). */
static sl_admit_decision_t admit_up(uint32_t n, uint32_t ip, uint32_t sid, uint64_t now)
{
	sl_wire_hello_t h = hello(n);
	sl_admit_decision_t d = decide_at(&h, ip, 0, now);
	assert_accept(&d);
	ck_assert_int_eq(sl_admit_commit(&st, h.node_id, sid), SL_ADMIT_OK);
	return d;
}

START_TEST(test_unproven_pool_evicts_oldest)
{
	sl_admit_cfg_t c = cfg;
	c.max_unproven = 3;
	init_with(&c);
	for (uint32_t i = 0; i < 3; i++) {
		sl_admit_decision_t d = admit_up(i, IP + i, 0x201 + i, T0);
		ck_assert_uint_eq(d.evict, 0);
	}
	ck_assert_uint_eq(sl_admit_count_unproven(&st), 3);
	/* the pool is full: a fourth HELLO displaces the oldest */
	sl_admit_decision_t d = admit_up(3, IP + 3, 0x204, T0 + 1);
	ck_assert_uint_eq(d.evict, 0x201);
	ck_assert_ptr_null(sl_admit_find_session(&st, 0x201));
	ck_assert_uint_eq(sl_admit_count_unproven(&st), 3);
	/* a proven peer leaves the pool and is never evicted */
	ck_assert_int_eq(sl_admit_prove(&st, 0x202), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_prove(&st, 0x202), SL_ADMIT_OK);
	ck_assert_uint_eq(sl_admit_count_unproven(&st), 2);
	ck_assert_uint_eq(sl_admit_count(&st), 3);
	d = admit_up(4, IP + 4, 0x205, T0 + 2);
	ck_assert_uint_eq(d.evict, 0);
	d = admit_up(5, IP + 5, 0x206, T0 + 3);
	ck_assert_uint_eq(d.evict, 0x203);
	ck_assert_ptr_nonnull(sl_admit_find_session(&st, 0x202));
	ck_assert_int_eq(sl_admit_prove(&st, 0x203), SL_ADMIT_ERR_NOT_FOUND);
	/* the ones not yet installed have no session to close: FULL */
	ck_assert_int_eq(sl_admit_remove_session(&st, 0x204), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_remove_session(&st, 0x205), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_remove_session(&st, 0x206), SL_ADMIT_OK);
	for (uint32_t i = 10; i < 13; i++) {
		sl_wire_hello_t h = hello(i);
		expect_accept(&h, IP + i, 0, T0 + 4);
	}
	sl_wire_hello_t h = hello(13);
	d = decide_at(&h, IP + 13, 0, T0 + 4);
	assert_reject(&d, SL_WIRE_REJECT_FULL);
	ck_assert_uint_eq(d.evict, 0);
}
END_TEST

/* heard_sessions: the sessions the fake dataplane has accepted a frame on. */
static uint32_t heard_sessions[4];
static uint32_t heard_asked;

static bool heard_fake(void *ctx, uint32_t session)
{
	ck_assert_ptr_eq(ctx, &st);
	heard_asked++;
	for (size_t i = 0; i < sizeof heard_sessions / sizeof heard_sessions[0]; i++)
		if (heard_sessions[i] == session)
			return true;
	return false;
}

/* A peer the dataplane heard from (its SESSION_PROVEN still on the way)
   is proven at eviction time and passed over; with every candidate heard
   from, the pool has room again and the HELLO is taken without an
   eviction (the hello_flood race: honest sessions displaced while their
   proof waited behind the flood's HELLO events). */
START_TEST(test_unproven_heard_not_evicted)
{
	sl_admit_cfg_t c = cfg;
	c.max_unproven = 3;
	init_with(&c);
	memset(heard_sessions, 0, sizeof heard_sessions);
	heard_asked = 0;
	sl_admit_set_heard(&st, heard_fake, &st);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_uint_eq(admit_up(i, IP + i, 0x201 + i, T0).evict, 0);
	ck_assert_uint_eq(heard_asked, 0); /* asked only when evicting */
	heard_sessions[0] = 0x201;
	sl_admit_decision_t d = admit_up(3, IP + 3, 0x204, T0 + 1);
	ck_assert_uint_eq(d.evict, 0x202);
	ck_assert_ptr_nonnull(sl_admit_find_session(&st, 0x201));
	ck_assert_uint_eq(sl_admit_count_unproven(&st), 2); /* 0x203, 0x204 */
	ck_assert_uint_eq(sl_admit_count(&st), 3);
	ck_assert_int_eq(sl_admit_prove(&st, 0x201), SL_ADMIT_OK); /* its event, late */
	/* fill the pool again, every candidate heard from: no eviction */
	ck_assert_uint_eq(admit_up(4, IP + 4, 0x205, T0 + 2).evict, 0);
	heard_sessions[1] = 0x203, heard_sessions[2] = 0x204, heard_sessions[3] = 0x205;
	d = admit_up(5, IP + 5, 0x206, T0 + 3);
	ck_assert_uint_eq(d.evict, 0);
	ck_assert_uint_eq(sl_admit_count_unproven(&st), 1); /* 0x206 */
	ck_assert_uint_eq(sl_admit_count(&st), 5);
}
END_TEST

/* A peer's time in the unproven pool starts at its install (our HELLO_ACK
   goes out then), not at its HELLO: one accepted first but installed last
   is the newest, and the oldest installed one is evicted. */
START_TEST(test_unproven_order_is_install_order)
{
	sl_admit_cfg_t c = cfg;
	c.max_unproven = 2;
	init_with(&c);
	sl_wire_hello_t a = hello(0);
	sl_admit_decision_t d = decide_at(&a, IP, 0, T0);
	assert_accept(&d); /* A accepted first, its install still on the way */
	ck_assert_uint_eq(admit_up(1, IP + 1, 0x302, T0 + 1).evict, 0);
	ck_assert_int_eq(sl_admit_commit(&st, a.node_id, 0x301), SL_ADMIT_OK);
	d = admit_up(2, IP + 2, 0x303, T0 + 2);
	ck_assert_uint_eq(d.evict, 0x302);
	ck_assert_ptr_nonnull(sl_admit_find_session(&st, 0x301));
}
END_TEST

START_TEST(test_unproven_outside_max_peers)
{
	sl_admit_cfg_t c = cfg;
	c.max_peers = 2;
	c.max_unproven = 8;
	init_with(&c);
	/* unproven peers do not use max_peers ... */
	for (uint32_t i = 0; i < 5; i++)
		admit_up(i, IP + i, 0x301 + i, T0);
	ck_assert_uint_eq(sl_admit_count(&st), 5);
	/* ... proofs do, and the third one finds it full */
	ck_assert_int_eq(sl_admit_prove(&st, 0x301), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_prove(&st, 0x302), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_prove(&st, 0x303), SL_ADMIT_ERR_FULL);
	ck_assert_uint_eq(sl_admit_count_unproven(&st), 3);
	sl_wire_hello_t h = hello(9);
	expect_reject(&h, IP + 9, 0, T0, SL_WIRE_REJECT_FULL);
	/* adopted sessions count as proven */
	ck_assert_int_eq(sl_admit_remove_session(&st, 0x302), SL_ADMIT_OK);
	uint8_t id[SL_WIRE_HASH_LEN];
	node(id, 40);
	ck_assert_int_eq(sl_admit_adopt(&st, id, 0x340, IP + 40, 1, 0, 1, true, T0), SL_ADMIT_OK);
	ck_assert_uint_eq(sl_admit_count_unproven(&st), 3);
	ck_assert_int_eq(sl_admit_prove(&st, 0x303), SL_ADMIT_ERR_FULL);
}
END_TEST

/* A HELLO replayed from another address (the node's real one) displaces
   the unproven admission its first sighting made; from the same address
   it is a repeat. */
START_TEST(test_unproven_duplicate_displaced)
{
	sl_wire_hello_t a = hello(7);
	sl_admit_decision_t d = decide_at(&a, IP + 100, 0, T0);
	assert_accept(&d);
	ck_assert_int_eq(sl_admit_commit(&st, a.node_id, 0x401), SL_ADMIT_OK);
	d = decide_at(&a, IP + 100, 0, T0 + 1);
	ck_assert(d.repeat);
	ck_assert_uint_eq(d.session, 0x401);
	ck_assert_uint_eq(d.evict, 0);
	/* the same HELLO from elsewhere */
	d = decide_at(&a, IP, 0, T0 + 2);
	assert_accept(&d);
	ck_assert(!d.repeat);
	ck_assert_uint_eq(d.evict, 0x401);
	ck_assert_uint_eq(sl_admit_find(&st, a.node_id)->ip, IP);
	ck_assert_int_eq(sl_admit_commit(&st, a.node_id, 0x402), SL_ADMIT_OK);
	/* a new nonce from elsewhere again: displaced while unproven ... */
	sl_wire_hello_t b = hello(7);
	d = decide_at(&b, IP + 101, 0, T0 + 3);
	assert_accept(&d);
	ck_assert_uint_eq(d.evict, 0x402);
	ck_assert_int_eq(sl_admit_commit(&st, b.node_id, 0x403), SL_ADMIT_OK);
	/* ... DUPLICATE once proven */
	ck_assert_int_eq(sl_admit_prove(&st, 0x403), SL_ADMIT_OK);
	sl_wire_hello_t e = hello(7);
	d = decide_at(&e, IP + 102, 0, T0 + 4);
	assert_reject(&d, SL_WIRE_REJECT_DUPLICATE);
	ck_assert_uint_eq(d.evict, 0);
}
END_TEST

START_TEST(test_reject_full_per_lcore)
{
	sl_admit_cfg_t c = cfg;
	c.max_per_lcore = 2;
	init_with(&c);
	for (uint32_t i = 0; i < 2; i++) {
		sl_wire_hello_t h = hello(i);
		expect_accept(&h, IP + i, 1, T0);
	}
	sl_wire_hello_t h = hello(5);
	expect_reject(&h, IP + 5, 1, T0, SL_WIRE_REJECT_FULL);
	ck_assert_uint_eq(sl_admit_count_lcore(&st, 1), 2);
	/* another lcore still has room */
	h = hello(5);
	expect_accept(&h, IP + 5, 2, T0);
	ck_assert_uint_eq(sl_admit_count_lcore(&st, 2), 1);
	/* an lcore we do not run is no room at all */
	h = hello(6);
	expect_reject(&h, IP + 6, 4, T0, SL_WIRE_REJECT_FULL);
	ck_assert_uint_eq(sl_admit_count_lcore(&st, 4), 0);
	ck_assert_uint_eq(sl_admit_count_lcore(&st, 60000), 0);
}
END_TEST

START_TEST(test_reject_full_per_address)
{
	sl_admit_cfg_t c = cfg;
	c.max_per_addr = 2;
	init_with(&c);
	for (uint32_t i = 0; i < 2; i++) {
		sl_wire_hello_t h = hello(i);
		expect_accept(&h, IP, 0, T0);
	}
	sl_wire_hello_t h = hello(2);
	expect_reject(&h, IP, 0, T0, SL_WIRE_REJECT_FULL);
	ck_assert_uint_eq(sl_admit_count_addr(&st, IP), 2);
	ck_assert_uint_eq(sl_admit_count_addr(&st, IP + 1), 0);
	h = hello(2);
	expect_accept(&h, IP + 1, 0, T0);
	uint8_t id[SL_WIRE_HASH_LEN];
	node(id, 0);
	ck_assert_int_eq(sl_admit_remove(&st, id), SL_ADMIT_OK);
	ck_assert_uint_eq(sl_admit_count_addr(&st, IP), 1);
	h = hello(3);
	expect_accept(&h, IP, 0, T0);
}
END_TEST

START_TEST(test_check_order)
{
	/* A HELLO wrong in every way gets the reason earliest in the order;
	   fixing that one reveals the next. */
	sl_admit_cfg_t c = cfg;
	c.max_peers = 1;
	init_with(&c);
	sl_wire_hello_t ok = hello(50);
	expect_accept(&ok, IP + 50, 0, T0);
	ck_assert_int_eq(sl_admit_commit(&st, ok.node_id, 0x50), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_prove(&st, 0x50), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_ban(&st, IP, 0, T0), SL_ADMIT_OK);
	sl_admit_set_ready(&st, false);
	static const uint16_t order[] = {SL_WIRE_REJECT_NOT_READY, SL_WIRE_REJECT_BANNED,
	                                 SL_WIRE_REJECT_VERSION,   SL_WIRE_REJECT_CHAIN_MISMATCH,
	                                 SL_WIRE_REJECT_SELF,      SL_WIRE_REJECT_AUTH,
	                                 SL_WIRE_REJECT_DUPLICATE, SL_WIRE_REJECT_FULL};
	for (size_t i = 0; i < SL_ARRAY_LEN(order); i++) {
		sl_wire_hello_t h = hello(50); /* duplicate of the admitted node */
		h.auth_mode = 7;               /* undefined: AUTH */
		h.proto_min = h.proto_max = 9;
		h.chain_id[0] ^= 1;
		ck_assert_int_eq(sl_admit_nonce_add(&st, h.nonce, T0 + S, T0), SL_ADMIT_OK);
		if (i > 0)
			sl_admit_set_ready(&st, true);
		if (i > 1)
			sl_admit_unban(&st, IP);
		if (i > 2)
			h.proto_min = h.proto_max = 1;
		if (i > 3)
			h.chain_id[0] ^= 1;
		if (i > 4)
			sl_admit_nonce_del(&st, h.nonce);
		if (i > 5)
			h.auth_mode = SL_WIRE_AUTH_NONE;
		if (i > 6)
			node(h.node_id, 51);
		expect_reject(&h, IP, 0, T0, order[i]);
	}
}
END_TEST

START_TEST(test_ban_expires)
{
	ck_assert_int_eq(sl_admit_ban(&st, IP, 10, T0), SL_ADMIT_OK);
	uint32_t rem = 0;
	ck_assert(sl_admit_banned(&st, IP, T0, &rem));
	ck_assert_uint_eq(rem, 10);
	ck_assert(sl_admit_banned(&st, IP, T0 + 9 * S + 1, &rem));
	ck_assert_uint_eq(rem, 1);
	ck_assert(!sl_admit_banned(&st, IP, T0 + 10 * S, NULL));
	sl_admit_ban_t out[4];
	ck_assert_uint_eq(sl_admit_bans(&st, T0 + 5 * S, out, 4), 1);
	ck_assert_uint_eq(out[0].ip, IP);
	ck_assert_uint_eq(out[0].until_ns, T0 + 10 * S);
	ck_assert_uint_eq(sl_admit_bans(&st, T0 + 10 * S, out, 4), 0);
	ck_assert_int_eq(sl_admit_unban(&st, IP), SL_ADMIT_ERR_NOT_FOUND);
	sl_wire_hello_t h = hello(1);
	expect_accept(&h, IP, 0, T0 + 10 * S);
}
END_TEST

START_TEST(test_unban)
{
	ck_assert_int_eq(sl_admit_ban(&st, 0, 10, T0), SL_ADMIT_ERR_ARG);
	ck_assert_int_eq(sl_admit_ban(&st, IP, 0, T0), SL_ADMIT_OK); /* until unbanned */
	ck_assert_int_eq(sl_admit_ban(&st, IP + 1, 100, T0), SL_ADMIT_OK);
	uint32_t rem;
	ck_assert(sl_admit_banned(&st, IP, T0 + 1000000 * S, &rem));
	ck_assert_uint_eq(rem, UINT32_MAX);
	sl_wire_hello_t h = hello(1);
	sl_admit_decision_t d = decide_at(&h, IP, 0, T0);
	assert_reject(&d, SL_WIRE_REJECT_BANNED);
	ck_assert_uint_eq(d.retry_after_s, UINT16_MAX);
	ck_assert_int_eq(sl_admit_unban(&st, IP), SL_ADMIT_OK);
	ck_assert(!sl_admit_banned(&st, IP, T0, NULL));
	ck_assert(sl_admit_banned(&st, IP + 1, T0, NULL));
	h = hello(1);
	expect_accept(&h, IP, 0, T0);
	/* re-banning replaces the expiry */
	ck_assert_int_eq(sl_admit_ban(&st, IP + 1, 5, T0), SL_ADMIT_OK);
	ck_assert(!sl_admit_banned(&st, IP + 1, T0 + 6 * S, NULL));
	ck_assert_uint_eq(sl_admit_bans(&st, T0, NULL, 0), 1);
}
END_TEST

START_TEST(test_ban_list_full)
{
	for (uint32_t i = 0; i < SL_ADMIT_BANS_MAX; i++)
		ck_assert_int_eq(sl_admit_ban(&st, 0x0b000000 + i, 1 + (i & 1), T0), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_ban(&st, IP, 60, T0), SL_ADMIT_ERR_FULL);
	/* re-banning a listed address still works when full */
	ck_assert_int_eq(sl_admit_ban(&st, 0x0b000000, 60, T0), SL_ADMIT_OK);
	/* after the short bans expired, there is room again */
	ck_assert_int_eq(sl_admit_ban(&st, IP, 60, T0 + 1 * S), SL_ADMIT_OK);
	ck_assert(sl_admit_banned(&st, IP, T0 + S, NULL));
	ck_assert_uint_eq(sl_admit_bans(&st, T0 + S, NULL, 0), SL_ADMIT_BANS_MAX / 2 + 2);
}
END_TEST

START_TEST(test_commit_and_sessions)
{
	sl_wire_hello_t a = hello(1), b = hello(2);
	expect_accept(&a, IP, 0, T0);
	expect_accept(&b, IP, 1, T0);
	uint8_t ghost[SL_WIRE_HASH_LEN];
	node(ghost, 99);
	ck_assert_int_eq(sl_admit_commit(&st, ghost, 5), SL_ADMIT_ERR_NOT_FOUND);
	ck_assert_int_eq(sl_admit_commit(&st, a.node_id, 0), SL_ADMIT_ERR_ARG);
	ck_assert_int_eq(sl_admit_commit(&st, a.node_id, 0x11), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_commit(&st, a.node_id, 0x12), SL_ADMIT_ERR_STATE);
	ck_assert_int_eq(sl_admit_commit(&st, b.node_id, 0x11), SL_ADMIT_ERR_ARG);
	ck_assert_ptr_null(sl_admit_find_session(&st, 0x22));
	uint32_t sids[4];
	/* only UP peers have sessions to disconnect */
	ck_assert_uint_eq(sl_admit_sessions_from(&st, IP, sids, 4), 1);
	ck_assert_uint_eq(sids[0], 0x11);
	ck_assert_int_eq(sl_admit_commit(&st, b.node_id, 0x22), SL_ADMIT_OK);
	ck_assert_uint_eq(sl_admit_sessions_from(&st, IP, sids, 1), 2);
	ck_assert_uint_eq(sl_admit_sessions_from(&st, IP + 1, sids, 4), 0);
	const sl_admit_peer_t *p = sl_admit_find_session(&st, 0x22);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->state, SL_ADMIT_PEER_UP);
	ck_assert_uint_eq(p->lcore, 1);
	ck_assert_int_eq(memcmp(p->node_id, b.node_id, SL_WIRE_HASH_LEN), 0);
	ck_assert_int_eq(sl_admit_remove_session(&st, 0x22), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_remove_session(&st, 0x22), SL_ADMIT_ERR_NOT_FOUND);
	ck_assert_int_eq(sl_admit_remove_session(&st, 0), SL_ADMIT_ERR_NOT_FOUND);
	ck_assert_ptr_null(sl_admit_find(&st, b.node_id));
	ck_assert_ptr_nonnull(sl_admit_find_session(&st, 0x11));
	ck_assert_uint_eq(sl_admit_count(&st), 1);
	ck_assert_uint_eq(sl_admit_count_lcore(&st, 1), 0);
	ck_assert_uint_eq(sl_admit_count_addr(&st, IP), 1);
}
END_TEST

START_TEST(test_repeat_within_10s_same_answer)
{
	sl_wire_hello_t h = hello(1);
	sl_admit_decision_t first = decide_at(&h, IP, 2, T0);
	assert_accept(&first);
	/* pending: the same answer, flagged as a repeat, nothing installed twice */
	sl_admit_decision_t again = decide_at(&h, IP, 2, T0 + S);
	ck_assert(again.repeat);
	assert_accept(&again);
	ck_assert_uint_eq(again.streams, first.streams);
	ck_assert_uint_eq(again.lcore, 2);
	ck_assert_uint_eq(again.session, 0);
	ck_assert_uint_eq(sl_admit_count(&st), 1);
	/* committed, and policy changed meanwhile: still the same answer, now
	   with the session id to put in the HELLO_ACK again */
	ck_assert_int_eq(sl_admit_commit(&st, h.node_id, 0x4242), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_ban(&st, IP, 0, T0), SL_ADMIT_OK);
	sl_admit_set_ready(&st, false);
	again = decide_at(&h, IP, 2, T0 + 9 * S);
	ck_assert(again.repeat);
	assert_accept(&again);
	ck_assert_uint_eq(again.session, 0x4242);

	/* a REJECT repeats too, even once its cause is gone */
	sl_wire_hello_t r = hello(2);
	r.chain_id[0] ^= 1;
	sl_admit_set_ready(&st, true);
	sl_admit_unban(&st, IP);
	sl_admit_decision_t rej = decide_at(&r, IP, 0, T0);
	assert_reject(&rej, SL_WIRE_REJECT_CHAIN_MISMATCH);
	r.chain_id[0] ^= 1;
	again = decide_at(&r, IP, 0, T0 + 9 * S);
	ck_assert(again.repeat);
	assert_reject(&again, SL_WIRE_REJECT_CHAIN_MISMATCH);
}
END_TEST

START_TEST(test_repeat_does_not_charge_rate)
{
	sl_admit_cfg_t c = cfg;
	c.hello_rate_per_s = 1;
	c.hello_burst = 1;
	init_with(&c);
	sl_wire_hello_t h = hello(1);
	expect_accept(&h, IP, 0, T0);
	for (int i = 0; i < 20; i++) {
		sl_admit_decision_t d = decide_at(&h, IP, 0, T0 + (uint64_t)i);
		ck_assert(d.repeat);
		assert_accept(&d);
	}
}
END_TEST

START_TEST(test_repeat_after_10s_reevaluated)
{
	sl_wire_hello_t h = hello(1);
	expect_accept(&h, IP, 0, T0);
	ck_assert_int_eq(sl_admit_commit(&st, h.node_id, 0x9), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_prove(&st, 0x9), SL_ADMIT_OK);
	/* 10 s later the same (node_id, nonce) is a new HELLO: the node is
	   admitted (and proven) already, so it is a duplicate */
	sl_admit_decision_t d = decide_at(&h, IP, 0, T0 + SL_ADMIT_REPEAT_NS);
	ck_assert(!d.repeat);
	assert_reject(&d, SL_WIRE_REJECT_DUPLICATE);
	/* and a REJECT is re-judged once its 10 s are over */
	sl_wire_hello_t r = hello(2);
	sl_admit_set_ready(&st, false);
	expect_reject(&r, IP, 0, T0, SL_WIRE_REJECT_NOT_READY);
	sl_admit_set_ready(&st, true);
	expect_reject(&r, IP, 0, T0 + 10 * S - 1, SL_WIRE_REJECT_NOT_READY);
	d = decide_at(&r, IP, 0, T0 + 10 * S);
	ck_assert(!d.repeat);
	assert_accept(&d);
}
END_TEST

START_TEST(test_repeat_after_removal_reevaluated)
{
	/* an ACCEPT whose peer is gone is not replayed (its HELLO_ACK would
	   name a dead session) */
	sl_wire_hello_t h = hello(1);
	expect_accept(&h, IP, 0, T0);
	ck_assert_int_eq(sl_admit_commit(&st, h.node_id, 0x9), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_remove_session(&st, 0x9), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_ban(&st, IP, 60, T0), SL_ADMIT_OK);
	sl_admit_decision_t d = decide_at(&h, IP, 0, T0 + S);
	ck_assert(!d.repeat);
	assert_reject(&d, SL_WIRE_REJECT_BANNED);

	/* nor is it when the node came back under another nonce meanwhile:
	   the old HELLO is judged afresh (a duplicate now) */
	sl_wire_hello_t a = hello(2), b = hello(2);
	expect_accept(&a, IP + 1, 0, T0);
	ck_assert_int_eq(sl_admit_remove(&st, a.node_id), SL_ADMIT_OK);
	expect_accept(&b, IP + 1, 0, T0 + S);
	d = decide_at(&a, IP + 1, 0, T0 + 2 * S);
	ck_assert(!d.repeat);
	assert_reject(&d, SL_WIRE_REJECT_DUPLICATE);
}
END_TEST

START_TEST(test_sweep_drops_stale_pending)
{
	sl_wire_hello_t a = hello(1), b = hello(2), c = hello(3);
	expect_accept(&a, IP, 0, T0);
	expect_accept(&c, IP, 0, T0);
	expect_accept(&b, IP, 0, T0 + 5 * S);
	ck_assert_int_eq(sl_admit_commit(&st, a.node_id, 0x31), SL_ADMIT_OK);
	/* c pending since T0: gone; b pending since T0+5: kept; a up: kept */
	ck_assert_uint_eq(sl_admit_sweep(&st, T0 + 8 * S, 5 * S), 1);
	ck_assert_ptr_null(sl_admit_find(&st, c.node_id));
	ck_assert_ptr_nonnull(sl_admit_find(&st, b.node_id));
	ck_assert_ptr_nonnull(sl_admit_find(&st, a.node_id));
	ck_assert_uint_eq(sl_admit_count(&st), 2);
	ck_assert_uint_eq(sl_admit_sweep(&st, T0 + 11 * S, 5 * S), 1);
	ck_assert_uint_eq(sl_admit_count(&st), 1);
	ck_assert_uint_eq(sl_admit_count_addr(&st, IP), 1);
	/* a swept node may come back (its old nonce is stale, not replayed) */
	expect_accept(&c, IP, 0, T0 + 12 * S);
}
END_TEST

START_TEST(test_random_admit_remove_consistent)
{
	/* Random HELLOs, commits and removals over few addresses and lcores;
	   the counts must match a plain model and every index must agree. */
	uint32_t seed = seed_get(), s = seed ? seed : 1;
	sl_admit_cfg_t c = cfg;
	c.max_peers = 200;
	c.max_per_lcore = 64;
	c.max_per_addr = 8;
	c.hello_rate_per_s = 1000000;
	c.hello_burst = 1000000;
	c.max_unproven = 50;
	init_with(&c);
	enum { N = 400 };
	static uint8_t up[N]; /* 0 out, 1 pending, 2 up unproven, 3 up proven */
	static uint32_t ipof[N], lcof[N], sidof[N];
	memset(up, 0, sizeof up);
	uint64_t now = T0;
	uint32_t next_sid = 1;
	for (int step = 0; step < 100000; step++) {
		now += 1000;
		uint32_t n = xorshift(&s) % N, op = xorshift(&s) % 5;
		uint8_t id[SL_WIRE_HASH_LEN];
		node(id, n);
		if (op == 0 || op == 1) {
			sl_wire_hello_t h = hello(n);
			uint32_t ip = 0x0a000001 + xorshift(&s) % 40;
			uint16_t lc = (uint16_t)(xorshift(&s) % 4);
			sl_admit_decision_t d = decide_at(&h, ip, lc, now);
			if (d.evict != 0) {
				uint32_t m = 0;
				while (m < N && !(up[m] == 2 && sidof[m] == d.evict))
					m++;
				ck_assert_msg(m < N, "seed %u: evicted %u is no unproven peer",
				              seed, d.evict);
				up[m] = 0;
			}
			if (d.verdict == SL_ADMIT_ACCEPT) {
				ck_assert_msg(up[n] == 0, "seed %u: node %u admitted twice", seed,
				              n);
				up[n] = 1;
				ipof[n] = ip;
				lcof[n] = lc;
			} else {
				ck_assert_msg(up[n] != 0 || d.reason == SL_WIRE_REJECT_FULL,
				              "seed %u: node %u rejected %s", seed, n,
				              sl_admit_reason_str(d.reason));
			}
		} else if (op == 2) {
			sl_admit_err_t e = sl_admit_commit(&st, id, next_sid);
			ck_assert_int_eq(e, up[n] == 1   ? SL_ADMIT_OK
			                    : up[n] >= 2 ? SL_ADMIT_ERR_STATE
			                                 : SL_ADMIT_ERR_NOT_FOUND);
			if (e == SL_ADMIT_OK) {
				up[n] = 2;
				sidof[n] = next_sid++;
			}
		} else if (op == 3) {
			if (up[n] < 2)
				continue;
			sl_admit_err_t e = sl_admit_prove(&st, sidof[n]);
			ck_assert_msg(e == SL_ADMIT_OK || (e == SL_ADMIT_ERR_FULL && up[n] == 2),
			              "seed %u: prove %s", seed, sl_admit_err_str(e));
			if (e == SL_ADMIT_OK)
				up[n] = 3;
		} else {
			ck_assert_int_eq(sl_admit_remove(&st, id),
			                 up[n] ? SL_ADMIT_OK : SL_ADMIT_ERR_NOT_FOUND);
			up[n] = 0;
		}
	}
	uint32_t total = 0, unproven = 0, per_lc[4] = {0}, per_ip[40] = {0};
	for (uint32_t n = 0; n < N; n++) {
		uint8_t id[SL_WIRE_HASH_LEN];
		node(id, n);
		const sl_admit_peer_t *p = sl_admit_find(&st, id);
		ck_assert_msg((p != NULL) == (up[n] != 0), "seed %u: node %u", seed, n);
		if (p == NULL)
			continue;
		ck_assert_uint_eq(p->state, up[n] >= 2 ? SL_ADMIT_PEER_UP : SL_ADMIT_PEER_PENDING);
		ck_assert_uint_eq(p->proven, up[n] == 3);
		if (up[n] >= 2)
			ck_assert_ptr_eq(sl_admit_find_session(&st, p->session), p);
		unproven += up[n] < 3;
		total++;
		per_lc[lcof[n]]++;
		per_ip[ipof[n] - 0x0a000001]++;
	}
	ck_assert_uint_eq(sl_admit_count(&st), total);
	ck_assert_uint_eq(sl_admit_count_unproven(&st), unproven);
	for (uint16_t l = 0; l < 4; l++)
		ck_assert_uint_eq(sl_admit_count_lcore(&st, l), per_lc[l]);
	for (uint32_t i = 0; i < 40; i++) {
		ck_assert_uint_eq(sl_admit_count_addr(&st, 0x0a000001 + i), per_ip[i]);
		ck_assert_uint_le(per_ip[i], 8);
	}
}
END_TEST

START_TEST(test_adopt_makes_hello_duplicate)
{
	/* an outbound session, registered once up, makes that node's HELLO
	   DUPLICATE and counts against capacity, lcore and address */
	uint8_t id[SL_WIRE_HASH_LEN];
	node(id, 3);
	ck_assert_int_eq(sl_admit_adopt(&st, id, 0x301, IP + 3, 9747, 0, 0x23, true, T0),
	                 SL_ADMIT_OK);
	const sl_admit_peer_t *p = sl_admit_find(&st, id);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->state, SL_ADMIT_PEER_UP);
	ck_assert_uint_eq(p->outbound, 1);
	ck_assert_ptr_eq(sl_admit_find_session(&st, 0x301), p);
	ck_assert_uint_eq(sl_admit_count(&st), 1);
	ck_assert_uint_eq(sl_admit_count_lcore(&st, 0), 1);
	ck_assert_uint_eq(sl_admit_count_addr(&st, IP + 3), 1);
	sl_wire_hello_t h = hello(3);
	expect_reject(&h, IP + 3, 0, T0, SL_WIRE_REJECT_DUPLICATE);
	h = hello(3);
	expect_reject(&h, IP + 9, 1, T0, SL_WIRE_REJECT_DUPLICATE); /* from elsewhere too */
	/* once its session is gone the node is welcome again */
	ck_assert_int_eq(sl_admit_remove_session(&st, 0x301), SL_ADMIT_OK);
	ck_assert_uint_eq(sl_admit_count(&st), 0);
	h = hello(3);
	expect_accept(&h, IP + 3, 0, T0);
}
END_TEST

START_TEST(test_adopt_refuses_conflicts)
{
	uint8_t a[SL_WIRE_HASH_LEN], b[SL_WIRE_HASH_LEN];
	node(a, 1);
	node(b, 2);
	ck_assert_int_eq(sl_admit_adopt(&st, a, 0, IP, 1, 0, 1, true, T0), SL_ADMIT_ERR_ARG);
	ck_assert_int_eq(sl_admit_adopt(&st, a, 5, IP, 1, (uint16_t)cfg.n_lcores, 1, true, T0),
	                 SL_ADMIT_ERR_ARG);
	ck_assert_int_eq(sl_admit_adopt(&st, a, 5, IP, 1, 0, 1, true, T0), SL_ADMIT_OK);
	/* the same session id for another node, the same node again */
	ck_assert_int_eq(sl_admit_adopt(&st, b, 5, IP, 1, 0, 1, true, T0), SL_ADMIT_ERR_ARG);
	ck_assert_int_eq(sl_admit_adopt(&st, a, 6, IP, 1, 0, 1, false, T0), SL_ADMIT_ERR_STATE);
	/* a node admitted by HELLO (pending, then up) cannot be adopted either */
	sl_wire_hello_t h = hello(2);
	expect_accept(&h, IP, 1, T0);
	ck_assert_int_eq(sl_admit_adopt(&st, b, 7, IP, 1, 0, 1, true, T0), SL_ADMIT_ERR_STATE);
	ck_assert_int_eq(sl_admit_commit(&st, b, 8), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_adopt(&st, b, 7, IP, 1, 0, 1, true, T0), SL_ADMIT_ERR_STATE);
	ck_assert_uint_eq(sl_admit_count(&st), 2);
	ck_assert_uint_eq(sl_admit_find(&st, a)->session, 5);
	ck_assert_uint_eq(sl_admit_find(&st, b)->session, 8);
}
END_TEST

START_TEST(test_adopt_ignores_limits_until_table_full)
{
	/* the session exists: max_peers / per-lcore / per-address do not stop
	   it (but it counts, so the next HELLO is FULL); the table's size does */
	sl_admit_cfg_t c = cfg;
	c.max_peers = 1;
	c.max_per_addr = 1;
	init_with(&c);
	uint8_t id[SL_WIRE_HASH_LEN];
	for (uint32_t i = 0; i < 3; i++) {
		node(id, 10 + i);
		ck_assert_int_eq(sl_admit_adopt(&st, id, 0x100 + i, IP, 1, 0, 1, true, T0),
		                 SL_ADMIT_OK);
	}
	ck_assert_uint_eq(sl_admit_count_addr(&st, IP), 3);
	sl_wire_hello_t h = hello(20);
	expect_reject(&h, IP + 1, 0, T0, SL_WIRE_REJECT_FULL);
	init_with(&cfg);
	for (uint32_t i = 0; i < SL_ADMIT_PEERS_MAX; i++) {
		node(id, 1000 + i);
		ck_assert_int_eq(sl_admit_adopt(&st, id, 1 + i, IP + i % 64, 1,
		                                (uint16_t)(i % cfg.n_lcores), 1, false, T0),
		                 SL_ADMIT_OK);
	}
	node(id, 999);
	ck_assert_int_eq(sl_admit_adopt(&st, id, 0x7fffffff, IP, 1, 0, 1, false, T0),
	                 SL_ADMIT_ERR_FULL);
	ck_assert_int_eq(sl_admit_remove_session(&st, 77), SL_ADMIT_OK);
	ck_assert_int_eq(sl_admit_adopt(&st, id, 0x7fffffff, IP, 1, 0, 1, false, T0),
	                 SL_ADMIT_OK); /* the record given back is the one taken */
}
END_TEST

START_TEST(test_records_given_back_are_taken_first)
{
	/* the table's pages past the most peers ever held are never touched:
	   a record comes from those given back before a fresh one */
	init_with(&cfg);
	uint8_t id[SL_WIRE_HASH_LEN];
	for (uint32_t round = 0; round < 50; round++) {
		for (uint32_t i = 0; i < 8; i++) {
			node(id, 100 * round + i);
			ck_assert_int_eq(
			    sl_admit_adopt(&st, id, 1 + i, IP + i, 1, 0, 1, false, T0 + round),
			    SL_ADMIT_OK);
		}
		for (uint32_t i = 0; i < 8; i++)
			ck_assert_int_eq(sl_admit_remove_session(&st, 1 + i), SL_ADMIT_OK);
	}
	ck_assert_uint_eq(st.peers_hwm, 8);
	ck_assert_uint_eq(st.n_peers, 0);
}
END_TEST

START_TEST(test_keep_ours_lower_node_id)
{
	/* both ends of a cross-dial must pick the same session: the one
	   dialled by the lower node id */
	uint8_t lo[SL_WIRE_HASH_LEN], hi[SL_WIRE_HASH_LEN];
	memset(lo, 0x10, sizeof lo);
	memset(hi, 0x10, sizeof hi);
	hi[31] = 0x11; /* differs in the last byte only */
	sl_admit_cfg_t c = cfg;
	memcpy(c.node_id, lo, sizeof lo);
	sl_admit_t *a = &st;
	init_with(&c);
	ck_assert(sl_admit_keep_ours(a, hi)); /* we are lower: keep what we dialled */
	memcpy(c.node_id, hi, sizeof hi);
	init_with(&c);
	ck_assert(!sl_admit_keep_ours(a, lo)); /* we are higher: keep what it dialled */
	/* randomized: exactly one of the two ends keeps its own dial */
	uint32_t seed = seed_get(), s = seed ? seed : 1;
	static sl_admit_t other;
	for (int i = 0; i < 200; i++) {
		uint8_t x[SL_WIRE_HASH_LEN], y[SL_WIRE_HASH_LEN];
		for (int k = 0; k < SL_WIRE_HASH_LEN; k++) {
			x[k] = (uint8_t)xorshift(&s);
			y[k] = k < 30 ? x[k] : (uint8_t)xorshift(&s);
		}
		if (memcmp(x, y, sizeof x) == 0)
			continue;
		memcpy(c.node_id, x, sizeof x);
		init_with(&c);
		memcpy(c.node_id, y, sizeof y);
		sl_admit_fini(&other);
		ck_assert_int_eq(sl_admit_init(&other, &c), SL_ADMIT_OK);
		ck_assert_msg(sl_admit_keep_ours(&st, y) != sl_admit_keep_ours(&other, x),
		              "seed %u: both ends keep the same side", seed);
	}
}
END_TEST

static Suite *admit_suite(void)
{
	Suite *s = suite_create("admit");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_init_rejects_bad_config);
	tcase_add_test(tc, test_records_given_back_are_taken_first);
	tcase_add_test(tc, test_accept_intersects_streams);
	tcase_add_test(tc, test_reject_not_ready);
	tcase_add_test(tc, test_reject_banned);
	tcase_add_test(tc, test_reject_rate_limited);
	tcase_add_test(tc, test_reject_version);
	tcase_add_test(tc, test_reject_chain_mismatch);
	tcase_add_test(tc, test_reject_self_by_node_id);
	tcase_add_test(tc, test_reject_self_by_nonce);
	tcase_add_test(tc, test_nonce_table_full);
	tcase_add_test(tc, test_reject_auth_required);
	tcase_add_test(tc, test_reject_auth_mode_not_none);
	tcase_add_test(tc, test_auth_optional);
	tcase_add_test(tc, test_reject_auth_allowlist);
	tcase_add_test(tc, test_allowlist_full);
	tcase_add_test(tc, test_reject_duplicate_node_id);
	tcase_add_test(tc, test_reject_full_max_peers);
	tcase_add_test(tc, test_reject_full_per_lcore);
	tcase_add_test(tc, test_unproven_pool_evicts_oldest);
	tcase_add_test(tc, test_unproven_heard_not_evicted);
	tcase_add_test(tc, test_unproven_order_is_install_order);
	tcase_add_test(tc, test_unproven_outside_max_peers);
	tcase_add_test(tc, test_unproven_duplicate_displaced);
	tcase_add_test(tc, test_reject_full_per_address);
	tcase_add_test(tc, test_check_order);
	tcase_add_test(tc, test_ban_expires);
	tcase_add_test(tc, test_unban);
	tcase_add_test(tc, test_ban_list_full);
	tcase_add_test(tc, test_commit_and_sessions);
	tcase_add_test(tc, test_repeat_within_10s_same_answer);
	tcase_add_test(tc, test_repeat_does_not_charge_rate);
	tcase_add_test(tc, test_repeat_after_10s_reevaluated);
	tcase_add_test(tc, test_repeat_after_removal_reevaluated);
	tcase_add_test(tc, test_sweep_drops_stale_pending);
	tcase_add_test(tc, test_random_admit_remove_consistent);
	tcase_add_test(tc, test_adopt_makes_hello_duplicate);
	tcase_add_test(tc, test_adopt_refuses_conflicts);
	tcase_add_test(tc, test_adopt_ignores_limits_until_table_full);
	tcase_add_test(tc, test_keep_ours_lower_node_id);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(admit_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
