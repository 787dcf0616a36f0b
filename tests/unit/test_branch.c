/* test_branch.c — fetching a heavier branch and switching to it
   (ctrl/sl_branch.h, suite "branch") against a real sl_chainstore in a temp
   dir (regtest) holding chain X (heights 0..1000, sluice-chaingen seed 1).
   The peer is simulated by the routine contract: the `send` callback
   records each sl_cmd_fetch_t, and the test answers it from the peer's
   chain the way the dataplane would (UNKNOWN_ANCHOR when the anchor is not
   its hash at start - 1, BEYOND_TIP when start is above its tip, else
   SL_EVT_HEADERS flagged FETCH in frames of up to 17 headers, truncated at
   its tip with a SHORT end).  `switch_to` does what ctrl's does (truncate
   to the fork when below the tip, then append) and records its arguments.
   Chains: A = seed 1, heights 0..1100 (X = A[0..1000]; A itself only
   extends X), B = seed 1 forked at 900 with seed 2, heights 0..5000 (the
   branch Y = B[0..1100], lighter prefixes B[0..950], B[0..1000]); all
   from $SL_CHAINGEN with one --start-time, else mined here the same way. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_branch.h"
#include "sl_sha256d.h"
#include "sl_time.h"
#include "sl_wire.h"

#define HS           80u
#define XTIP         1000u /* our chain X: heights 0..XTIP */
#define FORKH        900u  /* B leaves A after this height */
#define YTIP         1100u /* the heavier branch Y = B[0..YTIP] */
#define A_N          1101u /* A: heights 0..1100 */
#define B_N          5001u /* B: heights 0..5000 */
#define MAXLOG       64u
#define REGTEST_BITS 0x207fffffu

/* ---- source chains ---------------------------------------------------------- */

static uint8_t *A, *B;

/* remine searches a nonce (from 0) so that hdr meets its target. */
static void remine(uint8_t *hdr)
{
	uint8_t hash[32];
	memset(hdr + 76, 0, 4);
	ck_assert_uint_gt(sl_chain_mine(hdr, 1u << 24, hash), 0);
}

/* relink makes heights from..tip of chain link to their predecessor again
   (prev hash, then re-mined). */
static void relink(uint8_t *chain, uint32_t from, uint32_t tip)
{
	for (uint32_t h = from; h <= tip; h++) {
		sl_sha256d_hdr(chain + (size_t)(h - 1) * HS, chain + (size_t)h * HS + 4);
		remine(chain + (size_t)h * HS);
	}
}

/* mine_chain is the in-process stand-in for sluice-chaingen: n headers,
   heights above fork_at drawn from fork_seed (fork_at UINT32_MAX: none). */
static void mine_chain(uint8_t *out, uint32_t n, uint32_t seed, uint32_t fork_at,
                       uint32_t fork_seed, uint32_t t0)
{
	memcpy(out, sl_chain_profile("regtest")->genesis, HS);
	for (uint32_t h = 1; h < n; h++) {
		uint8_t *p = out + (size_t)h * HS;
		uint32_t v = 0x20000000u, t = t0 + h, bits = REGTEST_BITS;
		uint32_t m = (h > fork_at ? fork_seed : seed) * 7919u + h;
		memset(p, 0, HS);
		memcpy(p, &v, 4);
		memcpy(p + 36, &m, 4);
		memcpy(p + 68, &t, 4);
		memcpy(p + 72, &bits, 4);
		relink(out, h, h);
	}
}

/* gen_chain fills out (n headers) from sluice-chaingen; 0, or -1 when it
   is unavailable or failed. */
static int gen_chain(uint8_t *out, uint32_t n, const char *args, uint32_t t0)
{
	const char *exe = getenv("SL_CHAINGEN");
	if (exe == NULL)
		return -1;
	char f[] = "/tmp/sl_branch_src_XXXXXX", cmd[1024];
	int fd = mkstemp(f);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s -n %u %s --start-time %u -o %s 2>/dev/null", exe, n, args,
	         t0, f);
	int rc = system(cmd);
	FILE *fp = fopen(f, "rb");
	size_t got = fp ? fread(out, HS, n, fp) : 0;
	if (fp)
		fclose(fp);
	unlink(f);
	return WIFEXITED(rc) && WEXITSTATUS(rc) == 0 && got == n ? 0 : -1;
}

static void load_sources(void)
{
	if (A != NULL)
		return;
	A = malloc((size_t)A_N * HS);
	B = malloc((size_t)B_N * HS);
	uint32_t t0 = sl_wall_unix() - 2 * B_N;
	if (gen_chain(A, A_N, "--seed 1", t0) != 0 ||
	    gen_chain(B, B_N, "--seed 1 --fork-at 900 --fork-seed 2", t0) != 0) {
		printf("sluice-chaingen unavailable; mining in-process\n");
		mine_chain(A, A_N, 1, UINT32_MAX, 0, t0);
		mine_chain(B, B_N, 1, FORKH, 2, t0);
	}
}

static void hash_at(const uint8_t *chain, uint32_t h, uint8_t out[32])
{
	sl_sha256d_hdr(chain + (size_t)h * HS, out);
}

/* ---- the simulated peer ----------------------------------------------------- */

typedef struct {
	uint32_t sess, gen;
	const uint8_t *chain; /* NULL: knows no anchor at all */
	uint32_t tip;         /* of chain */
	uint32_t adv_tip;     /* advertised in the FORK (0: tip) */
} peer_t;

typedef struct {
	uint32_t attempt, frame; /* the attempt's index in the send log, 0-based frame */
} drop_t;

typedef struct {
	char dir[128];
	sl_chainstore_t *cs;
	sl_branch_t *b;
	uint64_t now;
	int send_rc;
	/* every fetch sent, in order */
	uint32_t sends;
	sl_cmd_fetch_t f[MAXLOG];
	uint32_t f_sess[MAXLOG], f_gen[MAXLOG];
	bool pending; /* the last one is not answered yet */
	/* switch_to calls */
	uint32_t switches, sw_fork, sw_n;
	int sw_ret;
	uint8_t *sw_hdrs;
	/* answers given */
	uint32_t unknown, beyond, shorts, frames;
	drop_t drop[4];
	uint32_t ndrop;
} fx_t;

static int fx_send(void *ctx, uint32_t sess, uint32_t gen, const sl_cmd_fetch_t *f)
{
	fx_t *x = ctx;
	ck_assert_uint_lt(x->sends, MAXLOG);
	x->f[x->sends] = *f;
	x->f_sess[x->sends] = sess;
	x->f_gen[x->sends] = gen;
	x->sends++;
	x->pending = x->send_rc == 0;
	return x->send_rc;
}

static int fx_switch(void *ctx, uint32_t fork, const uint8_t *hdrs, uint32_t n)
{
	fx_t *x = ctx;
	x->switches++;
	x->sw_fork = fork;
	x->sw_n = n;
	free(x->sw_hdrs);
	x->sw_hdrs = malloc((size_t)n * HS);
	memcpy(x->sw_hdrs, hdrs, (size_t)n * HS);
	sl_chainstore_tip_t t;
	sl_chainstore_tip(x->cs, &t);
	if (fork < t.height)
		ck_assert_int_eq(sl_chainstore_truncate(x->cs, fork), SL_CHAINSTORE_OK);
	uint32_t done = 0;
	sl_chainstore_fail_t f = {0};
	sl_chainstore_append(x->cs, fork + 1, hdrs, n, &done, &f);
	x->sw_ret = (int)done;
	return (int)done;
}

static void fx_open(fx_t *x)
{
	load_sources();
	memset(x, 0, sizeof(*x));
	const char *base = getenv("SL_TEST_TMP");
	snprintf(x->dir, sizeof(x->dir), "%s/sl_branch_XXXXXX", base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(x->dir));
	sl_chainstore_opts_t o = {.dir = x->dir, .profile = "regtest"};
	sl_chainstore_err_t e = SL_CHAINSTORE_ERR__COUNT;
	x->cs = sl_chainstore_open(&o, &e);
	ck_assert_msg(x->cs != NULL, "open %s: %s", x->dir, sl_chainstore_err_str(e));
	uint32_t done = 0;
	sl_chainstore_fail_t f = {0};
	e = sl_chainstore_append(x->cs, 1, A + HS, XTIP, &done, &f);
	ck_assert_msg(e == SL_CHAINSTORE_OK, "append X: %s at %u (%s)", sl_chainstore_err_str(e),
	              f.height, sl_chainstore_reason(&f));
	sl_branch_opts_t bo = {.cs = x->cs, .ctx = x, .send = fx_send, .switch_to = fx_switch};
	x->b = sl_branch_new(&bo);
	ck_assert_ptr_nonnull(x->b);
	x->now = 1000ull * 1000000000ull;
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void fx_close(fx_t *x)
{
	sl_branch_delete(x->b);
	sl_chainstore_close(x->cs);
	rm_dir(x->dir);
	free(x->sw_hdrs);
}

static sl_branch_cnt_t cnt(const fx_t *x)
{
	sl_branch_cnt_t c;
	sl_branch_counters(x->b, &c);
	return c;
}

/* store_is checks that the store holds exactly chain[0..tip]. */
static void store_is(const fx_t *x, const uint8_t *chain, uint32_t tip)
{
	sl_chainstore_tip_t t;
	sl_chainstore_tip(x->cs, &t);
	ck_assert_uint_eq(t.height, tip);
	uint8_t want[32], one[32], work[32] = {0};
	hash_at(chain, tip, want);
	ck_assert_mem_eq(t.hash, want, 32);
	sl_chain_work(REGTEST_BITS, one);
	for (uint32_t h = 0; h <= tip; h++)
		sl_chain_work_add(work, one);
	ck_assert_mem_eq(t.chainwork, work, 32);
	for (uint32_t h = 0; h <= tip; h++) {
		uint8_t hdr[HS];
		ck_assert_int_eq(sl_chainstore_get(x->cs, h, hdr, NULL), SL_CHAINSTORE_OK);
		ck_assert_msg(memcmp(hdr, chain + (size_t)h * HS, HS) == 0, "height %u differs", h);
	}
	ck_assert_int_eq(sl_chainstore_get(x->cs, tip + 1, NULL, NULL),
	                 SL_CHAINSTORE_ERR_NOT_FOUND);
}

static bool dropped(const fx_t *x, uint32_t attempt, uint32_t frame)
{
	for (uint32_t i = 0; i < x->ndrop; i++)
		if (x->drop[i].attempt == attempt && x->drop[i].frame == frame)
			return true;
	return false;
}

static void end_with(fx_t *x, const peer_t *p, const sl_cmd_fetch_t *f, uint16_t reason)
{
	sl_evt_fetch_end_t e = {.start = f->start, .reason = reason};
	sl_branch_on_end(x->b, p->sess, p->gen, f->corr, &e, x->now);
}

/* headers_evt builds the FETCH-flagged HEADERS event of chain[s..s+n). */
static void headers_evt(sl_evt_headers_t *e, const uint8_t *chain, uint32_t s, uint32_t n,
                        const sl_cmd_fetch_t *f, bool last)
{
	memset(e, 0, sizeof(*e));
	e->start = s;
	e->n = (uint8_t)n;
	e->last = last;
	e->flags = SL_EVT_HEADERS_F_FETCH;
	e->range_start = f->start;
	e->range_len = f->count;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(e->hdr[i], chain + (size_t)(s + i) * HS, HS);
		hash_at(chain, s + i, e->hash[i]);
	}
}

/* serve answers fetch number `k` of the log as peer p would. */
static void serve(fx_t *x, const peer_t *p, uint32_t k)
{
	const sl_cmd_fetch_t f = x->f[k];
	uint8_t zero[32] = {0}, h[32];
	ck_assert_uint_eq(x->f_sess[k], p->sess);
	ck_assert_uint_eq(x->f_gen[k], p->gen);
	ck_assert_uint_eq(f.kind, SL_SEND_FETCH);
	ck_assert(f.corr & SL_FETCH_CORR_BIT);
	ck_assert_uint_ge(f.count, 1);
	ck_assert_uint_le(f.count, SL_WIRE_GET_HEADERS_MAX);
	if (memcmp(f.anchor, zero, 32) != 0) {
		bool known = p->chain != NULL && f.start >= 1 && f.start - 1 <= p->tip;
		if (known) {
			hash_at(p->chain, f.start - 1, h);
			known = memcmp(h, f.anchor, 32) == 0;
		}
		if (!known) {
			x->unknown++;
			end_with(x, p, &f, SL_WIRE_NF_UNKNOWN_ANCHOR);
			return;
		}
	}
	if (f.start > p->tip) {
		x->beyond++;
		end_with(x, p, &f, SL_WIRE_NF_BEYOND_TIP);
		return;
	}
	uint32_t last = SL_MIN(f.start + f.count - 1, p->tip);
	sl_evt_headers_t e;
	for (uint32_t s = f.start, fr = 0; s <= last; s += SL_EVT_HEADERS_MAX, fr++) {
		uint32_t n = SL_MIN((uint32_t)SL_EVT_HEADERS_MAX, last - s + 1);
		if (dropped(x, k, fr))
			continue;
		headers_evt(&e, p->chain, s, n, &f, s + n > last);
		x->frames++;
		sl_branch_on_headers(x->b, p->sess, p->gen, f.corr, &e, x->now);
	}
	if (last < f.start + f.count - 1) {
		x->shorts++;
		end_with(x, p, &f, SL_FETCH_END_SHORT);
	}
}

/* step answers the pending fetch once (it may send the next). */
static void step(fx_t *x, const peer_t *p)
{
	ck_assert(x->pending);
	x->pending = false;
	serve(x, p, x->sends - 1);
}

/* pump answers fetches as long as the branch sends them. */
static void pump(fx_t *x, const peer_t *p)
{
	for (int guard = 0; x->pending; guard++) {
		ck_assert_int_lt(guard, (int)MAXLOG);
		step(x, p);
	}
}

static void fork_from(fx_t *x, const peer_t *p)
{
	sl_branch_fork(x->b, p->sess, p->gen, p->adv_tip ? p->adv_tip : p->tip, x->now);
}

/* tick_past moves the clock just past the last attempt's deadline. */
static void tick_past(fx_t *x)
{
	x->now += SL_BRANCH_ATTEMPT_NS + 1;
	sl_branch_tick(x->b, x->now);
}

static void setup(void)
{
	load_sources();
}

/* ---- the sources are what the tests assume ------------------------------- */

/* A and B share heights 0..900 and differ from 901 on; X's tip is A[1000]. */
START_TEST(test_sources_fork_at_900)
{
	ck_assert_int_eq(memcmp(A, B, (size_t)(FORKH + 1) * HS), 0);
	ck_assert_int_ne(memcmp(A + (size_t)(FORKH + 1) * HS, B + (size_t)(FORKH + 1) * HS, HS), 0);
	fx_t x;
	fx_open(&x);
	store_is(&x, A, XTIP);
	ck_assert(!sl_branch_busy(x.b));
	fx_close(&x);
}
END_TEST

/* ---- negative cases ------------------------------------------------------ */

/* new refuses missing options; delete(NULL) is a no-op. */
START_TEST(test_new_refuses_bad_options)
{
	fx_t x;
	fx_open(&x);
	sl_branch_opts_t o = {.cs = x.cs, .ctx = &x, .send = fx_send, .switch_to = fx_switch};
	ck_assert_ptr_null(sl_branch_new(NULL));
	o.cs = NULL;
	ck_assert_ptr_null(sl_branch_new(&o));
	o.cs = x.cs;
	o.send = NULL;
	ck_assert_ptr_null(sl_branch_new(&o));
	o.send = fx_send;
	o.switch_to = NULL;
	ck_assert_ptr_null(sl_branch_new(&o));
	sl_branch_delete(NULL);
	ck_assert(!sl_branch_busy(NULL));
	fx_close(&x);
}
END_TEST

/* (b) A branch with less work than ours (fork 900, tip 950) is fetched,
   judged lighter and dropped: switch_to is never called, the store is X. */
START_TEST(test_lighter_branch_is_dropped)
{
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 4, .gen = 2, .chain = B, .tip = 950};
	fork_from(&x, &p);
	ck_assert(sl_branch_busy(x.b));
	ck_assert_uint_eq(x.f[0].start, 950); /* min(our tip, its tip) */
	pump(&x, &p);
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.lighter, 1);
	ck_assert_uint_eq(c.switched, 0);
	ck_assert_uint_eq(c.invalid, 0);
	ck_assert_uint_eq(c.gave_up, 0);
	ck_assert_uint_eq(c.extends, 0);
	ck_assert_uint_eq(x.switches, 0);
	ck_assert(!sl_branch_busy(x.b));
	store_is(&x, A, XTIP);
	fx_close(&x);
}
END_TEST

/* (b) Equal work is not more work: a branch of the same length as ours
   (fork 900, tip 1000) is dropped too. */
START_TEST(test_equal_work_branch_is_dropped)
{
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 4, .gen = 2, .chain = B, .tip = XTIP};
	fork_from(&x, &p);
	pump(&x, &p);
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.lighter, 1);
	ck_assert_uint_eq(c.switched, 0);
	ck_assert_uint_eq(x.switches, 0);
	store_is(&x, A, XTIP);
	fx_close(&x);
}
END_TEST

/* (c) A peer whose chain only extends ours (X plus 100 headers): one
   attempt, counted as extends, no switch (the pull gets the rest). */
START_TEST(test_peer_that_only_extends_is_left_to_the_pull)
{
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 3, .gen = 1, .chain = A, .tip = A_N - 1};
	fork_from(&x, &p);
	pump(&x, &p);
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.extends, 1);
	ck_assert_uint_eq(c.attempts, 1);
	ck_assert_uint_eq(c.switched, 0);
	ck_assert_uint_eq(c.lighter, 0);
	ck_assert_uint_eq(c.gave_up, 0);
	ck_assert_uint_eq(x.unknown, 0);
	ck_assert_uint_eq(x.switches, 0);
	ck_assert(!sl_branch_busy(x.b));
	store_is(&x, A, XTIP);
	fx_close(&x);
}
END_TEST

/* (e) A peer that never answers: each attempt ends at its deadline (not
   before), SL_BRANCH_TRIES attempts in a row without progress give up, and
   the FORK queued meanwhile from another session starts then and
   switches. */
START_TEST(test_silent_peer_gives_up_and_queued_fork_starts)
{
	fx_t x;
	fx_open(&x);
	peer_t mute = {.sess = 1, .gen = 1, .chain = B, .tip = YTIP};
	peer_t good = {.sess = 2, .gen = 5, .chain = B, .tip = YTIP};
	fork_from(&x, &mute);
	fork_from(&x, &good); /* queued */
	ck_assert_uint_eq(x.sends, 1);
	ck_assert_uint_eq(cnt(&x).forks, 2);
	x.pending = false; /* mute never answers */
	for (uint32_t i = 1; i <= SL_BRANCH_TRIES; i++) {
		uint64_t t0 = x.now;
		x.now = t0 + SL_BRANCH_ATTEMPT_NS; /* at the deadline: still waiting */
		sl_branch_tick(x.b, x.now);
		ck_assert_uint_eq(x.sends, i);
		x.now = t0;
		tick_past(&x);
		ck_assert_uint_eq(x.sends, i + 1);
		x.pending = false;
		if (i < SL_BRANCH_TRIES) { /* asked again, same start, fresh corr */
			ck_assert_uint_eq(x.f_sess[i], mute.sess);
			ck_assert_uint_eq(x.f[i].start, XTIP);
			ck_assert_uint_ne(x.f[i].corr, x.f[i - 1].corr);
			ck_assert_uint_eq(cnt(&x).gave_up, 0);
		}
	}
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.gave_up, 1);
	ck_assert_uint_eq(c.attempts, SL_BRANCH_TRIES + 1);
	/* the queued FORK runs now */
	ck_assert(sl_branch_busy(x.b));
	uint32_t k = x.sends - 1;
	ck_assert_uint_eq(x.f_sess[k], good.sess);
	ck_assert_uint_eq(x.f_gen[k], good.gen);
	ck_assert_uint_eq(x.f[k].start, XTIP);
	x.pending = true;
	pump(&x, &good);
	c = cnt(&x);
	ck_assert_uint_eq(c.switched, 1);
	ck_assert_uint_eq(c.last_fork, FORKH);
	ck_assert_uint_eq(c.gave_up, 1);
	store_is(&x, B, YTIP);
	fx_close(&x);
}
END_TEST

/* The whole fetch has a deadline too (SL_BRANCH_DEADLINE_NS): past it the
   fetch gives up even with an attempt outstanding. */
START_TEST(test_fetch_deadline_gives_up)
{
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 1, .gen = 1, .chain = B, .tip = YTIP};
	fork_from(&x, &p);
	step(&x, &p); /* UNKNOWN_ANCHOR: a second attempt */
	ck_assert_uint_eq(x.sends, 2);
	x.now += SL_BRANCH_DEADLINE_NS + 1;
	sl_branch_tick(x.b, x.now);
	ck_assert(!sl_branch_busy(x.b));
	ck_assert_uint_eq(cnt(&x).gave_up, 1);
	ck_assert_uint_eq(x.sends, 2);
	ck_assert_uint_eq(x.switches, 0);
	store_is(&x, A, XTIP);
	fx_close(&x);
}
END_TEST

/* A routine that cannot take the request (send -1): the fetch gives up at
   once. */
START_TEST(test_send_failure_gives_up)
{
	fx_t x;
	fx_open(&x);
	x.send_rc = -1;
	peer_t p = {.sess = 1, .gen = 1, .chain = B, .tip = YTIP};
	fork_from(&x, &p);
	ck_assert_uint_eq(x.sends, 1);
	ck_assert(!sl_branch_busy(x.b));
	ck_assert_uint_eq(cnt(&x).gave_up, 1);
	fx_close(&x);
}
END_TEST

/* A peer that knows none of our anchors: the probe steps back 1, 2, 4, ...
   down to height 1 (clamped), and gives up after the probe at 1. */
START_TEST(test_peer_knowing_no_anchor_gives_up_at_height_1)
{
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 6, .gen = 1, .chain = NULL, .tip = YTIP};
	fork_from(&x, &p);
	pump(&x, &p);
	const uint32_t want[] = {1000, 999, 997, 993, 985, 969, 937, 873, 745, 489, 1};
	ck_assert_uint_eq(x.sends, SL_ARRAY_LEN(want));
	for (uint32_t i = 0; i < SL_ARRAY_LEN(want); i++)
		ck_assert_uint_eq(x.f[i].start, want[i]);
	ck_assert_uint_eq(x.unknown, SL_ARRAY_LEN(want));
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.gave_up, 1);
	ck_assert_uint_eq(c.switched, 0);
	ck_assert(!sl_branch_busy(x.b));
	store_is(&x, A, XTIP);
	fx_close(&x);
}
END_TEST

/* (f) Answers of an ended attempt (stale corr), of another session or of
   another generation are counted late and change nothing: no new request,
   nothing written into the branch (wrong headers injected that way never
   reach the store), and the fetch then completes exactly as without them. */
START_TEST(test_stale_and_foreign_answers_are_late)
{
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 5, .gen = 3, .chain = B, .tip = YTIP};
	fork_from(&x, &p);
	step(&x, &p); /* attempt 0: UNKNOWN_ANCHOR -> attempt 1 (start 999) */
	ck_assert_uint_eq(x.sends, 2);
	ck_assert_uint_eq(x.f[1].start, 999);
	const sl_cmd_fetch_t old = x.f[0], cur = x.f[1];
	sl_evt_fetch_end_t end = {.start = cur.start, .reason = SL_WIRE_NF_UNKNOWN_ANCHOR};
	sl_evt_headers_t e;
	/* A's headers (ours, not the branch's) at the current attempt's heights */
	headers_evt(&e, A, cur.start, SL_EVT_HEADERS_MAX, &cur, false);
	sl_branch_on_headers(x.b, p.sess, p.gen, old.corr, &e, x.now);     /* stale corr */
	sl_branch_on_headers(x.b, 9, p.gen, cur.corr, &e, x.now);          /* other session */
	sl_branch_on_headers(x.b, p.sess, p.gen + 1, cur.corr, &e, x.now); /* other gen */
	sl_branch_on_end(x.b, p.sess, p.gen, old.corr, &end, x.now);
	sl_branch_on_end(x.b, 9, p.gen, cur.corr, &end, x.now);
	sl_branch_on_end(x.b, p.sess, p.gen, cur.corr & ~SL_FETCH_CORR_BIT, &end, x.now);
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.late, 6);
	ck_assert_uint_eq(c.attempts, 2);
	ck_assert_uint_eq(x.sends, 2);
	ck_assert(sl_branch_busy(x.b));
	pump(&x, &p);
	c = cnt(&x);
	ck_assert_uint_eq(c.late, 6);
	ck_assert_uint_eq(c.switched, 1);
	ck_assert_uint_eq(c.last_fork, FORKH);
	ck_assert_uint_eq(x.sw_n, YTIP - FORKH);
	ck_assert_int_eq(memcmp(x.sw_hdrs, B + (size_t)(FORKH + 1) * HS, (size_t)x.sw_n * HS), 0);
	store_is(&x, B, YTIP);
	/* idle: any answer is late */
	sl_branch_on_end(x.b, p.sess, p.gen, x.f[x.sends - 1].corr, &end, x.now);
	ck_assert_uint_eq(cnt(&x).late, 7);
	ck_assert(!sl_branch_busy(x.b));
	ck_assert_uint_eq(x.switches, 1);
	fx_close(&x);
}
END_TEST

/* (f) session_down of the fetching session gives up at once (another
   generation of it does not); queued FORKs of a session that went down
   are forgotten, the others start in order. */
START_TEST(test_session_down_gives_up_and_forgets_queued)
{
	fx_t x;
	fx_open(&x);
	peer_t p1 = {.sess = 1, .gen = 1, .chain = B, .tip = YTIP};
	peer_t p2 = {.sess = 2, .gen = 1, .chain = B, .tip = YTIP};
	peer_t p3 = {.sess = 3, .gen = 1, .chain = B, .tip = YTIP};
	fork_from(&x, &p1);
	fork_from(&x, &p2);
	fork_from(&x, &p3);
	step(&x, &p1);
	ck_assert_uint_eq(x.sends, 2);
	sl_branch_session_down(x.b, 3, 1, x.now); /* queued: forgotten */
	sl_branch_session_down(x.b, 1, 2, x.now); /* another generation: nothing */
	ck_assert(sl_branch_busy(x.b));
	ck_assert_uint_eq(cnt(&x).gave_up, 0);
	ck_assert_uint_eq(x.sends, 2);
	sl_branch_session_down(x.b, 1, 1, x.now);
	ck_assert_uint_eq(cnt(&x).gave_up, 1);
	/* p2 starts at once */
	ck_assert(sl_branch_busy(x.b));
	ck_assert_uint_eq(x.sends, 3);
	ck_assert_uint_eq(x.f_sess[2], 2);
	ck_assert_uint_eq(x.f[2].start, XTIP);
	/* the old session's answer is late now */
	x.pending = false;
	serve(&x, &p1, 1);
	ck_assert_uint_eq(cnt(&x).late, 1);
	sl_branch_session_down(x.b, 2, 1, x.now);
	ck_assert_uint_eq(cnt(&x).gave_up, 2);
	ck_assert(!sl_branch_busy(x.b)); /* p3 was forgotten */
	ck_assert_uint_eq(x.sends, 3);
	ck_assert_uint_eq(x.switches, 0);
	store_is(&x, A, XTIP);
	fx_close(&x);
}
END_TEST

/* FORKs wait in a queue of SL_BRANCH_QUEUE; more are dropped (counted); a
   repeated FORK of a queued session updates its tip instead of taking a
   place; one of the running session is not queued. */
START_TEST(test_fork_queue_is_bounded)
{
	fx_t x;
	fx_open(&x);
	peer_t run = {.sess = 100, .gen = 1, .chain = B, .tip = YTIP};
	fork_from(&x, &run);
	sl_branch_fork(x.b, run.sess, run.gen, YTIP, x.now); /* running: ignored */
	for (uint32_t i = 0; i < SL_BRANCH_QUEUE; i++)
		sl_branch_fork(x.b, 200 + i, 1, 950, x.now);
	sl_branch_fork(x.b, 200, 1, YTIP, x.now); /* repeat: tip updated */
	sl_branch_fork(x.b, 999, 1, YTIP, x.now); /* full */
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.dropped, 1);
	ck_assert_uint_eq(c.forks, SL_BRANCH_QUEUE + 4);
	ck_assert_uint_eq(x.sends, 1);
	sl_branch_session_down(x.b, run.sess, run.gen, x.now);
	/* the first queued starts with its updated tip: first probe at
	   min(our tip, 1100) = 1000, not 950 */
	ck_assert_uint_eq(x.sends, 2);
	ck_assert_uint_eq(x.f_sess[1], 200);
	ck_assert_uint_eq(x.f[1].start, XTIP);
	/* the dropped session never gets a request */
	for (uint32_t i = 1; i <= SL_BRANCH_QUEUE; i++) {
		sl_branch_session_down(x.b, x.f_sess[x.sends - 1], 1, x.now);
		ck_assert_uint_ne(x.f_sess[x.sends - 1], 999);
	}
	ck_assert(!sl_branch_busy(x.b));
	ck_assert_uint_eq(x.sends, 1 + SL_BRANCH_QUEUE);
	fx_close(&x);
}
END_TEST

/* (g) A branch with a header the chain rules refuse at height 960 (time
   not after the median of the last 11, re-mined so PoW and links hold):
   only 901..959 are judged, lighter than ours: invalid, no switch. */
START_TEST(test_invalid_branch_judged_on_its_valid_prefix_lighter)
{
	uint8_t *y = malloc((size_t)(YTIP + 1) * HS);
	memcpy(y, B, (size_t)(YTIP + 1) * HS);
	uint8_t *h960 = y + (size_t)960 * HS;
	memcpy(h960 + 68, B + (size_t)940 * HS + 68, 4);
	remine(h960);
	relink(y, 961, YTIP);
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 7, .gen = 1, .chain = y, .tip = YTIP};
	fork_from(&x, &p);
	pump(&x, &p);
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.invalid, 1);
	ck_assert_uint_eq(c.lighter, 1);
	ck_assert_uint_eq(c.switched, 0);
	ck_assert_uint_eq(x.switches, 0);
	store_is(&x, A, XTIP);
	fx_close(&x);
	free(y);
}
END_TEST

/* (g) A branch whose header 1050 does not link to 1049 (re-mined, the rest
   re-linked above it): the valid prefix 901..1049 is heavier than ours, so
   exactly that prefix is switched to. */
START_TEST(test_invalid_branch_switches_to_a_heavier_valid_prefix)
{
	uint8_t *y = malloc((size_t)(YTIP + 1) * HS);
	memcpy(y, B, (size_t)(YTIP + 1) * HS);
	uint8_t *h1050 = y + (size_t)1050 * HS;
	hash_at(y, 1048, h1050 + 4);
	remine(h1050);
	relink(y, 1051, YTIP);
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 7, .gen = 1, .chain = y, .tip = YTIP};
	fork_from(&x, &p);
	pump(&x, &p);
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.invalid, 1);
	ck_assert_uint_eq(c.lighter, 0);
	ck_assert_uint_eq(c.switched, 1);
	ck_assert_uint_eq(c.last_fork, FORKH);
	ck_assert_uint_eq(c.last_len, 1049 - FORKH);
	ck_assert_uint_eq(x.switches, 1);
	ck_assert_uint_eq(x.sw_fork, FORKH);
	ck_assert_uint_eq(x.sw_n, 1049 - FORKH);
	store_is(&x, B, 1049);
	fx_close(&x);
	free(y);
}
END_TEST

/* ---- the switch ------------------------------------------------------------ */

/* (a) A heavier branch (fork 900, tip 1100): the locate probes start at
   min(our tip, its tip) and step back 1, 2, 4, ... heights (each anchored
   on our hash below it) until the peer knows the anchor; the fork is found
   at 900, switch_to gets fork 900 and the 200 branch headers, and the store
   then holds exactly Y. */
START_TEST(test_heavier_branch_found_and_switched)
{
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 11, .gen = 4, .chain = B, .tip = YTIP};
	fork_from(&x, &p);
	ck_assert(sl_branch_busy(x.b));
	pump(&x, &p);
	const uint32_t want[] = {1000, 999, 997, 993, 985, 969, 937, 873};
	ck_assert_uint_eq(x.sends, SL_ARRAY_LEN(want));
	for (uint32_t i = 0; i < SL_ARRAY_LEN(want); i++) {
		uint8_t anchor[32];
		hash_at(A, want[i] - 1, anchor);
		ck_assert_uint_eq(x.f[i].start, want[i]);
		ck_assert_uint_eq(x.f[i].count, YTIP - want[i] + 1);
		ck_assert_mem_eq(x.f[i].anchor, anchor, 32);
		for (uint32_t j = 0; j < i; j++)
			ck_assert_uint_ne(x.f[i].corr, x.f[j].corr);
	}
	ck_assert_uint_eq(x.unknown, SL_ARRAY_LEN(want) - 1);
	ck_assert_uint_eq(x.beyond, 0);
	ck_assert_uint_eq(x.switches, 1);
	ck_assert_uint_eq(x.sw_fork, FORKH);
	ck_assert_uint_eq(x.sw_n, YTIP - FORKH);
	ck_assert_int_eq(memcmp(x.sw_hdrs, B + (size_t)(FORKH + 1) * HS, (size_t)x.sw_n * HS), 0);
	ck_assert_int_eq(x.sw_ret, (int)(YTIP - FORKH));
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.forks, 1);
	ck_assert_uint_eq(c.attempts, SL_ARRAY_LEN(want));
	ck_assert_uint_eq(c.switched, 1);
	ck_assert_uint_eq(c.last_fork, FORKH);
	ck_assert_uint_eq(c.last_len, YTIP - FORKH);
	ck_assert_uint_eq(c.late, 0);
	ck_assert_uint_eq(c.gave_up, 0);
	ck_assert_uint_eq(c.invalid, 0);
	ck_assert_uint_eq(c.lighter, 0);
	ck_assert_uint_eq(c.extends, 0);
	ck_assert(!sl_branch_busy(x.b));
	store_is(&x, B, YTIP);
	fx_close(&x);
}
END_TEST

/* A branch longer than one GET_HEADERS (fork 900, tip 5000): the locate
   attempt brings 2000, then fetch attempts go on from the last header
   received, each anchored on it, until the peer's tip; the whole branch
   (4100 headers) is switched to. */
START_TEST(test_long_branch_fetched_in_several_attempts)
{
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 12, .gen = 1, .chain = B, .tip = B_N - 1};
	fork_from(&x, &p);
	pump(&x, &p);
	ck_assert_uint_eq(x.sends, 10);
	ck_assert_uint_eq(x.f[7].start, 873);
	ck_assert_uint_eq(x.f[7].count, SL_WIRE_GET_HEADERS_MAX);
	const uint32_t starts[] = {2873, 4873}, counts[] = {2000, 128};
	for (uint32_t i = 0; i < 2; i++) {
		uint8_t anchor[32];
		hash_at(B, starts[i] - 1, anchor);
		ck_assert_uint_eq(x.f[8 + i].start, starts[i]);
		ck_assert_uint_eq(x.f[8 + i].count, counts[i]);
		ck_assert_mem_eq(x.f[8 + i].anchor, anchor, 32);
	}
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.switched, 1);
	ck_assert_uint_eq(c.last_fork, FORKH);
	ck_assert_uint_eq(c.last_len, B_N - 1 - FORKH);
	store_is(&x, B, B_N - 1);
	fx_close(&x);
}
END_TEST

/* (d) Lost frames: a frame of the locate attempt and one of the fetch
   attempt never arrive.  At each attempt's deadline (not before) the fetch
   asks again from the first missing height, anchored on the header below
   it, and still switches to exactly Y. */
START_TEST(test_lost_frames_resumed_after_the_attempt_deadline)
{
	fx_t x;
	fx_open(&x);
	peer_t p = {.sess = 11, .gen = 4, .chain = B, .tip = YTIP};
	x.drop[0] = (drop_t){7, 4}; /* attempt 7 (start 873): heights 941..957 */
	x.drop[1] = (drop_t){8, 2}; /* attempt 8 (start 941): heights 975..991 */
	x.ndrop = 2;
	fork_from(&x, &p);
	pump(&x, &p);
	ck_assert_uint_eq(x.sends, 8);
	ck_assert_uint_eq(x.f[7].start, 873);
	ck_assert(sl_branch_busy(x.b));
	uint64_t t0 = x.now;
	x.now = t0 + SL_BRANCH_ATTEMPT_NS;
	sl_branch_tick(x.b, x.now);
	ck_assert_uint_eq(x.sends, 8); /* at the deadline: still waiting */
	x.now = t0;
	tick_past(&x);
	ck_assert_uint_eq(x.sends, 9);
	uint8_t anchor[32];
	hash_at(B, 940, anchor);
	ck_assert_uint_eq(x.f[8].start, 941);
	ck_assert_uint_eq(x.f[8].count, YTIP - 941 + 1);
	ck_assert_mem_eq(x.f[8].anchor, anchor, 32);
	pump(&x, &p);
	ck_assert_uint_eq(x.sends, 9);
	ck_assert_uint_eq(x.switches, 0);
	tick_past(&x);
	ck_assert_uint_eq(x.sends, 10);
	hash_at(B, 974, anchor);
	ck_assert_uint_eq(x.f[9].start, 975);
	ck_assert_uint_eq(x.f[9].count, YTIP - 975 + 1);
	ck_assert_mem_eq(x.f[9].anchor, anchor, 32);
	pump(&x, &p);
	sl_branch_cnt_t c = cnt(&x);
	ck_assert_uint_eq(c.switched, 1);
	ck_assert_uint_eq(c.last_fork, FORKH);
	ck_assert_uint_eq(c.last_len, YTIP - FORKH);
	ck_assert_uint_eq(c.gave_up, 0);
	ck_assert_uint_eq(x.sw_n, YTIP - FORKH);
	ck_assert_int_eq(memcmp(x.sw_hdrs, B + (size_t)(FORKH + 1) * HS, (size_t)x.sw_n * HS), 0);
	store_is(&x, B, YTIP);
	fx_close(&x);
}
END_TEST

/* A peer whose chain ends below the tip it advertised (1100 of 1101 or
   1200): the short answer and the BEYOND_TIP that follows end the fetch,
   and what it did send (heavier than ours) is switched to. */
START_TEST(test_peer_short_of_its_advertised_tip_judged_on_what_came)
{
	const uint32_t adv[] = {YTIP + 1, 1200};
	for (uint32_t i = 0; i < SL_ARRAY_LEN(adv); i++) {
		fx_t x;
		fx_open(&x);
		peer_t p = {.sess = 13, .gen = 1, .chain = B, .tip = YTIP, .adv_tip = adv[i]};
		fork_from(&x, &p);
		pump(&x, &p);
		ck_assert_uint_eq(x.shorts, 1);
		ck_assert_uint_eq(x.beyond, 1);
		ck_assert_uint_eq(x.f[x.sends - 1].start, YTIP + 1);
		ck_assert_uint_eq(x.f[x.sends - 1].count, adv[i] - YTIP);
		sl_branch_cnt_t c = cnt(&x);
		ck_assert_uint_eq(c.switched, 1);
		ck_assert_uint_eq(c.last_len, YTIP - FORKH);
		store_is(&x, B, YTIP);
		fx_close(&x);
	}
}
END_TEST

/* fork_below returns a copy of A[0..YTIP] that leaves A after `fork`
   (header fork + 1 gets another merkle root; all above re-linked). */
static uint8_t *fork_below(uint32_t fork)
{
	uint8_t *y = malloc((size_t)(YTIP + 1) * HS);
	memcpy(y, A, (size_t)(YTIP + 1) * HS);
	y[(size_t)(fork + 1) * HS + 40] ^= 0x5a;
	relink(y, fork + 1, YTIP);
	return y;
}

/* The fork at its edges: right below our tip (999: the first probe's
   anchor is known, one attempt) and at genesis (0: the probes step back
   to height 1, whose anchor is the genesis; the whole chain is replaced). */
START_TEST(test_fork_right_below_the_tip_and_at_genesis)
{
	const uint32_t forks[] = {XTIP - 1, 0}, probes[] = {1, 11};
	for (uint32_t i = 0; i < SL_ARRAY_LEN(forks); i++) {
		uint8_t *y = fork_below(forks[i]);
		fx_t x;
		fx_open(&x);
		peer_t p = {.sess = 21, .gen = 1, .chain = y, .tip = YTIP};
		fork_from(&x, &p);
		pump(&x, &p);
		ck_assert_uint_eq(x.sends, probes[i]);
		ck_assert_uint_eq(x.unknown, probes[i] - 1);
		ck_assert_uint_eq(x.f[x.sends - 1].start, forks[i] == 0 ? 1 : XTIP);
		sl_branch_cnt_t c = cnt(&x);
		ck_assert_uint_eq(c.switched, 1);
		ck_assert_uint_eq(c.last_fork, forks[i]);
		ck_assert_uint_eq(c.last_len, YTIP - forks[i]);
		ck_assert_uint_eq(x.sw_fork, forks[i]);
		ck_assert_uint_eq(x.sw_n, YTIP - forks[i]);
		store_is(&x, y, YTIP);
		fx_close(&x);
		free(y);
	}
}
END_TEST

static Suite *branch_suite(void)
{
	Suite *s = suite_create("branch");
	TCase *neg = tcase_create("refusals");
	tcase_add_unchecked_fixture(neg, setup, NULL);
	tcase_set_timeout(neg, 120);
	tcase_add_test(neg, test_sources_fork_at_900);
	tcase_add_test(neg, test_new_refuses_bad_options);
	tcase_add_test(neg, test_lighter_branch_is_dropped);
	tcase_add_test(neg, test_equal_work_branch_is_dropped);
	tcase_add_test(neg, test_peer_that_only_extends_is_left_to_the_pull);
	tcase_add_test(neg, test_silent_peer_gives_up_and_queued_fork_starts);
	tcase_add_test(neg, test_fetch_deadline_gives_up);
	tcase_add_test(neg, test_send_failure_gives_up);
	tcase_add_test(neg, test_peer_knowing_no_anchor_gives_up_at_height_1);
	tcase_add_test(neg, test_stale_and_foreign_answers_are_late);
	tcase_add_test(neg, test_session_down_gives_up_and_forgets_queued);
	tcase_add_test(neg, test_fork_queue_is_bounded);
	tcase_add_test(neg, test_invalid_branch_judged_on_its_valid_prefix_lighter);
	tcase_add_test(neg, test_invalid_branch_switches_to_a_heavier_valid_prefix);
	suite_add_tcase(s, neg);
	TCase *pos = tcase_create("switch");
	tcase_add_unchecked_fixture(pos, setup, NULL);
	tcase_set_timeout(pos, 120);
	tcase_add_test(pos, test_heavier_branch_found_and_switched);
	tcase_add_test(pos, test_long_branch_fetched_in_several_attempts);
	tcase_add_test(pos, test_lost_frames_resumed_after_the_attempt_deadline);
	tcase_add_test(pos, test_peer_short_of_its_advertised_tip_judged_on_what_came);
	tcase_add_test(pos, test_fork_right_below_the_tip_and_at_genesis);
	suite_add_tcase(s, pos);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(branch_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
