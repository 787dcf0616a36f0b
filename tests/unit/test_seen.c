/* test_seen.c — the NEW_BLOCK seen-cache (ctrl/sl_seen.h, suite "seen"):
   add / has, a repeated add changes nothing, the oldest is forgotten once
   SL_SEEN_CAP are remembered (exactly the newest CAP stay), hashes whose
   first 4 bytes (the index key) collide stay findable through evictions,
   and a randomized run of adds and lookups checked against a plain FIFO
   reference model (seed printed; SL_TEST_SEED=<n> replays it). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_seen.h"

static sl_seen_t *c;

static void setup(void)
{
	c = malloc(sizeof(*c));
	ck_assert_ptr_nonnull(c);
	memset(c, 0xa5, sizeof(*c)); /* init must not rely on zeroed memory */
	sl_seen_init(c);
}

static void teardown(void)
{
	free(c);
	c = NULL;
}

static uint32_t seed_get(const char *who)
{
	const char *s = getenv("SL_TEST_SEED");
	uint32_t seed = s ? (uint32_t)strtoul(s, NULL, 0) : (uint32_t)time(NULL);
	if (seed == 0)
		seed = 1;
	printf("%s: seed %u (SL_TEST_SEED=%u to replay)\n", who, seed, seed);
	return seed;
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* mk fills h: first 4 bytes = key (the index key), the rest from id. */
static void mk(uint8_t h[32], uint32_t key, uint32_t id)
{
	memset(h, 0, 32);
	memcpy(h, &key, 4);
	for (int i = 4; i < 32; i += 4) {
		uint32_t v = id * 2654435761u + (uint32_t)i;
		memcpy(h + i, &v, 4);
	}
	memcpy(h + 28, &id, 4);
}

/* An empty cache knows nothing; an added hash is known; the all-zero hash
   (what an empty ring slot holds) is not mistaken for a remembered one. */
START_TEST(test_add_then_has)
{
	uint8_t a[32], b[32], zero[32] = {0};
	mk(a, 0x11223344u, 1);
	mk(b, 0x55667788u, 2);
	ck_assert(!sl_seen_has(c, a));
	ck_assert(!sl_seen_has(c, zero));
	ck_assert(sl_seen_add(c, a));
	ck_assert(sl_seen_has(c, a));
	ck_assert(!sl_seen_has(c, b));
	ck_assert(!sl_seen_has(c, zero));
	ck_assert_uint_eq(c->n, 1);
	ck_assert(sl_seen_add(c, zero));
	ck_assert(sl_seen_has(c, zero));
	ck_assert(sl_seen_has(c, a));
	ck_assert_uint_eq(c->n, 2);
	/* init forgets everything */
	sl_seen_init(c);
	ck_assert(!sl_seen_has(c, a));
	ck_assert(!sl_seen_has(c, zero));
	ck_assert_uint_eq(c->n, 0);
}
END_TEST

/* The whole 32 bytes are the identity, not the 4-byte index key: hashes
   that differ in any single byte (same key for bytes 4..31) are distinct. */
START_TEST(test_every_byte_counts)
{
	uint8_t base[32], v[32];
	mk(base, 0x01020304u, 42);
	ck_assert(sl_seen_add(c, base));
	for (int i = 0; i < 32; i++) {
		memcpy(v, base, 32);
		v[i] ^= 0x80;
		ck_assert_msg(!sl_seen_has(c, v), "byte %d flipped: taken for the base", i);
		ck_assert_msg(sl_seen_add(c, v), "byte %d flipped: not added", i);
	}
	ck_assert_uint_eq(c->n, 33);
	ck_assert(!sl_seen_add(c, base));
	for (int i = 0; i < 32; i++) {
		memcpy(v, base, 32);
		v[i] ^= 0x80;
		ck_assert(sl_seen_has(c, v));
		ck_assert(!sl_seen_add(c, v));
	}
}
END_TEST

/* A second add of a remembered hash returns false and changes nothing: it
   does not take a ring slot nor refresh its age (it is still evicted when
   its first insertion becomes the oldest). */
START_TEST(test_duplicate_add_returns_false)
{
	uint8_t h[32], first[32];
	mk(first, 7, 0);
	ck_assert(sl_seen_add(c, first));
	ck_assert(!sl_seen_add(c, first));
	ck_assert_uint_eq(c->n, 1);
	ck_assert_uint_eq(c->next, 1);
	for (uint32_t i = 1; i < SL_SEEN_CAP; i++) {
		mk(h, 1000 + i, i);
		ck_assert(sl_seen_add(c, h));
		ck_assert(!sl_seen_add(c, first)); /* still there, still false */
	}
	ck_assert_uint_eq(c->n, SL_SEEN_CAP);
	ck_assert(sl_seen_has(c, first));
	mk(h, 5, 99999); /* one more: `first` is the oldest and goes */
	ck_assert(sl_seen_add(c, h));
	ck_assert(!sl_seen_has(c, first));
	ck_assert(sl_seen_add(c, first)); /* forgotten: new again */
	ck_assert(sl_seen_has(c, first));
}
END_TEST

/* After CAP + K distinct adds, the newest CAP are remembered and the K
   oldest are gone, in insertion order. */
START_TEST(test_evicts_the_oldest_when_full)
{
	const uint32_t K = 300;
	uint8_t h[32];
	for (uint32_t i = 0; i < SL_SEEN_CAP + K; i++) {
		mk(h, 0x9e3779b9u * i, i);
		ck_assert(sl_seen_add(c, h));
		ck_assert_uint_eq(c->n, SL_MIN(i + 1, SL_SEEN_CAP));
		if (i >= SL_SEEN_CAP) { /* the one just pushed out is gone */
			uint32_t old = i - SL_SEEN_CAP;
			mk(h, 0x9e3779b9u * old, old);
			ck_assert_msg(!sl_seen_has(c, h), "add %u: %u still remembered", i, old);
		}
	}
	for (uint32_t i = 0; i < SL_SEEN_CAP + K; i++) {
		mk(h, 0x9e3779b9u * i, i);
		if (i < K)
			ck_assert_msg(!sl_seen_has(c, h), "%u should be evicted", i);
		else
			ck_assert_msg(sl_seen_has(c, h), "%u should be remembered", i);
	}
	/* re-adding an evicted one evicts the oldest remembered (K) */
	mk(h, 0, 0);
	ck_assert(sl_seen_add(c, h));
	mk(h, 0x9e3779b9u * K, K);
	ck_assert(!sl_seen_has(c, h));
	mk(h, 0x9e3779b9u * (K + 1), K + 1);
	ck_assert(sl_seen_has(c, h));
}
END_TEST

/* Every hash with the same first 4 bytes (one probe cluster holding the
   whole cache), then keys that differ but land in the same bucket (k and
   k + 2 * CAP) or straddle the end of the index (buckets nb - 2, nb - 1,
   0): all stay findable, and the evicted ones are not, through two full
   turns of the ring.  (The worst case of the index: ~1 ms an add.) */
START_TEST(test_colliding_keys_survive_evictions)
{
	const uint32_t nb = SL_SEEN_CAP * 2u;
	const uint32_t keys[] = {0xdeadbeefu, nb - 1, 2 * nb - 1, nb - 2, 0};
	const uint32_t total = 2 * SL_SEEN_CAP + 17;
	uint8_t h[32];
	/* 1: a single key */
	for (uint32_t i = 0; i < total; i++) {
		mk(h, keys[0], i);
		ck_assert(sl_seen_add(c, h));
		uint32_t lo = i + 1 > SL_SEEN_CAP ? i + 1 - SL_SEEN_CAP : 0;
		if (i % 97 == 0 || i + 1 == total)
			for (uint32_t j = (lo > 50 ? lo - 50 : 0); j <= i; j++) {
				mk(h, keys[0], j);
				ck_assert_msg(sl_seen_has(c, h) == (j >= lo),
				              "single key: after add %u, %u has=%d", i, j,
				              (int)sl_seen_has(c, h));
			}
	}
	/* 2: five keys colliding on buckets nb-2, nb-1 (twice), 0 */
	sl_seen_init(c);
	for (uint32_t i = 0; i < total; i++) {
		mk(h, keys[i % 5], i);
		ck_assert(sl_seen_add(c, h));
		uint32_t lo = i + 1 > SL_SEEN_CAP ? i + 1 - SL_SEEN_CAP : 0;
		if (i % 89 == 0 || i + 1 == total)
			for (uint32_t j = (lo > 50 ? lo - 50 : 0); j <= i; j++) {
				mk(h, keys[j % 5], j);
				ck_assert_msg(sl_seen_has(c, h) == (j >= lo),
				              "wrapping keys: after add %u, %u has=%d", i, j,
				              (int)sl_seen_has(c, h));
			}
	}
}
END_TEST

/* The reference: a FIFO of at most CAP hashes; has = linear search; add of
   a present hash changes nothing. */
typedef struct {
	uint8_t (*h)[32];
	uint32_t head, n; /* h[head] is the oldest */
} ref_t;

static bool ref_has(const ref_t *r, const uint8_t h[32])
{
	for (uint32_t i = 0; i < r->n; i++)
		if (memcmp(r->h[(r->head + i) % SL_SEEN_CAP], h, 32) == 0)
			return true;
	return false;
}

static bool ref_add(ref_t *r, const uint8_t h[32])
{
	if (ref_has(r, h))
		return false;
	if (r->n == SL_SEEN_CAP) {
		memcpy(r->h[r->head], h, 32);
		r->head = (r->head + 1) % SL_SEEN_CAP;
	} else {
		memcpy(r->h[(r->head + r->n) % SL_SEEN_CAP], h, 32);
		r->n++;
	}
	return true;
}

/* key_of gives pool hash `id` its index key: 16 home buckets spread over
   the index (the first two at its end and start, so their clusters wrap
   into each other), 3 distinct keys per home (k, k + nb, k + 2 nb: the
   same bucket), each key shared by ~64 hashes of the pool. */
static uint32_t key_of(uint32_t id)
{
	const uint32_t nb = SL_SEEN_CAP * 2u, g = (id / 3) % 16;
	uint32_t home = g == 0 ? nb - 1 : (g - 1) * (nb / 16);
	return home + nb * (id % 3);
}

/* 20,000 random adds and lookups over a pool of 3 x CAP hashes whose
   index keys collide (key_of): every answer equals the reference model's,
   and every 500 operations the whole pool is compared. */
START_TEST(test_random_ops_match_reference_model)
{
	const uint32_t pool = 3 * SL_SEEN_CAP;
	uint32_t seed = seed_get("test_random_ops_match_reference_model"), s = seed;
	ref_t r = {.h = malloc((size_t)SL_SEEN_CAP * 32)};
	ck_assert_ptr_nonnull(r.h);
	uint8_t h[32];
	uint32_t adds = 0, fresh = 0, evictions = 0;
	for (uint32_t op = 0; op < 20000; op++) {
		uint32_t id = xorshift(&s) % pool;
		mk(h, key_of(id), id);
		if (xorshift(&s) % 3 != 0) {
			bool full = r.n == SL_SEEN_CAP;
			bool want = ref_add(&r, h);
			bool got = sl_seen_add(c, h);
			ck_assert_msg(got == want, "seed %u op %u: add(%u) = %d, model %d", seed,
			              op, id, (int)got, (int)want);
			adds++;
			fresh += want;
			evictions += want && full;
		} else {
			bool want = ref_has(&r, h), got = sl_seen_has(c, h);
			ck_assert_msg(got == want, "seed %u op %u: has(%u) = %d, model %d", seed,
			              op, id, (int)got, (int)want);
		}
		ck_assert_uint_eq(c->n, r.n);
		if (op % 500 == 499)
			for (uint32_t j = 0; j < pool; j++) {
				mk(h, key_of(j), j);
				ck_assert_msg(sl_seen_has(c, h) == ref_has(&r, h),
				              "seed %u op %u: sweep: has(%u) = %d", seed, op, j,
				              (int)sl_seen_has(c, h));
			}
	}
	printf("random ops: %u adds, %u new, %u evictions\n", adds, fresh, evictions);
	ck_assert_uint_gt(evictions, SL_SEEN_CAP); /* the run did turn the ring over */
	ck_assert_uint_lt(fresh, adds);            /* and did see duplicates */
	free(r.h);
}
END_TEST

static Suite *seen_suite(void)
{
	Suite *s = suite_create("seen");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_then_has);
	tcase_add_test(tc, test_every_byte_counts);
	tcase_add_test(tc, test_duplicate_add_returns_false);
	tcase_add_test(tc, test_evicts_the_oldest_when_full);
	tcase_add_test(tc, test_colliding_keys_survive_evictions);
	tcase_add_test(tc, test_random_ops_match_reference_model);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(seen_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
