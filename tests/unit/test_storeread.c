/* test_storeread.c — the header store's read path (ctrl/sl_storeread.h)
   under concurrency, on a real store: regtest headers from sluice-chaingen
   ($SL_CHAINGEN) imported
   through sl_chainstore, read back by the reader pool.  A gate in the
   before_read hook holds reader threads inside a read, so a test can
   saturate the permits, queue more behind them, start a truncation, cancel
   or shut down at a chosen moment.  Seed 004's concurrency cases, on this
   code: reads above the cap, truncation after saturating reads, writer
   before later readers, cancel during backpressure and during a drain,
   deadline releases the permit, stream setup beside saturated reads,
   shutdown fails fast. */
#include <check.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sl_chainstore.h"
#include "sl_sha256d.h"
#include "sl_storeread.h"
#include "sl_time.h"

#define HS      80u
#define MS      SL_NS_PER_MS
#define NHDRS   400u /* chaingen headers: heights 0..399 */
#define READERS 4u

/* ---- the gate: holds reader threads inside a read ------------------------ */

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool open;
	uint32_t inside; /* readers waiting at the gate now */
} gate_t;

static void gate_hook(void *ctx, uint32_t height)
{
	gate_t *g = ctx;
	(void)height;
	pthread_mutex_lock(&g->mu);
	g->inside++;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	g->inside--;
	pthread_mutex_unlock(&g->mu);
}

static void gate_set(gate_t *g, bool open)
{
	pthread_mutex_lock(&g->mu);
	g->open = open;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static uint32_t gate_inside(gate_t *g)
{
	pthread_mutex_lock(&g->mu);
	uint32_t n = g->inside;
	pthread_mutex_unlock(&g->mu);
	return n;
}

/* ---- the fixture: a real store, its chain file, the read path ------------ */

typedef struct {
	char dir[256], store[300], file[300];
	uint8_t *hdrs; /* the chain file, height 0 first */
	uint32_t n;    /* headers in it */
	sl_chainstore_t *cs;
	sl_storeread_t *sr;
	gate_t gate;
} fx_t;

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* fx_chain writes a regtest chain with sluice-chaingen ($SL_CHAINGEN, set
   by meson; a missing one fails the test) and returns its profile. */
static const char *fx_chain(fx_t *f)
{
	const char *exe = getenv("SL_CHAINGEN");
	char cmd[1024];
	ck_assert_msg(exe != NULL, "SL_CHAINGEN not set (meson sets it to sluice-chaingen)");
	snprintf(f->file, sizeof f->file, "%s/chain.headers", f->dir);
	snprintf(cmd, sizeof cmd, "%s -n %u -o %s 2>/dev/null", exe, NHDRS, f->file);
	ck_assert_int_eq(system(cmd), 0);
	return "regtest";
}

static void fx_load(fx_t *f)
{
	FILE *fp = fopen(f->file, "rb");
	ck_assert_ptr_nonnull(fp);
	fseek(fp, 0, SEEK_END);
	long len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	f->hdrs = malloc((size_t)len);
	ck_assert_ptr_nonnull(f->hdrs);
	ck_assert_uint_eq(fread(f->hdrs, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	f->n = (uint32_t)((size_t)len / HS);
}

/* fx_open builds the store and starts the read path with `o` (dir and hook
   filled in here); the gate starts open. */
static void fx_open(fx_t *f, sl_storeread_opts_t o)
{
	memset(f, 0, sizeof *f);
	const char *base = getenv("SL_TEST_TMP");
	snprintf(f->dir, sizeof f->dir, "%s/storeread-test-XXXXXX", base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	const char *profile = fx_chain(f);
	fx_load(f);
	snprintf(f->store, sizeof f->store, "%s/store", f->dir);
	sl_chainstore_opts_t co = {.dir = f->store, .profile = profile};
	f->cs = sl_chainstore_open(&co, NULL);
	ck_assert_ptr_nonnull(f->cs);
	ck_assert_int_eq(sl_chainstore_import(f->cs, f->file, NULL, NULL), SL_CHAINSTORE_OK);
	pthread_mutex_init(&f->gate.mu, NULL);
	pthread_cond_init(&f->gate.cv, NULL);
	f->gate.open = true;
	o.dir = f->store;
	o.readers = o.readers ? o.readers : READERS;
	o.before_read = gate_hook;
	o.hook_ctx = &f->gate;
	f->sr = sl_storeread_new(&o);
	ck_assert_ptr_nonnull(f->sr);
}

static void fx_close(fx_t *f)
{
	gate_set(&f->gate, true);
	sl_storeread_delete(f->sr);
	sl_chainstore_close(f->cs);
	free(f->hdrs);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static sl_storeread_stats_t fx_stats(fx_t *f)
{
	sl_storeread_stats_t s;
	sl_storeread_stats(f->sr, &s);
	return s;
}

static uint32_t fx_tip(fx_t *f)
{
	sl_chainstore_tip_t t;
	sl_chainstore_tip(f->cs, &t);
	return t.height;
}

/* WAIT_FOR spins (1 ms steps) until cond holds, failing after `ms`. */
#define WAIT_FOR(cond, ms)                                                                         \
	do {                                                                                       \
		uint64_t end_ = sl_now_ns() + (uint64_t)(ms)*MS;                                   \
		while (!(cond) && sl_now_ns() < end_)                                              \
			usleep(1000);                                                              \
		ck_assert_msg((cond), "waited %d ms for: %s", (int)(ms), #cond);                   \
	} while (0)

/* collect polls the eventfd until `want` completions arrived or `ms`
   passed; returns how many. */
static uint32_t collect(fx_t *f, sl_storeread_done_t *out, uint32_t want, int ms)
{
	uint32_t got = 0;
	uint64_t end = sl_now_ns() + (uint64_t)ms * MS;
	while (got < want) {
		uint64_t now = sl_now_ns();
		if (now >= end)
			break;
		struct pollfd p = {.fd = sl_storeread_fd(f->sr), .events = POLLIN};
		if (poll(&p, 1, (int)((end - now) / MS) + 1) > 0)
			got += sl_storeread_poll(f->sr, out + got, want - got);
	}
	return got;
}

static void get(fx_t *f, uint32_t height, uint64_t cookie)
{
	sl_storeread_get_t q = {.height = height};
	ck_assert_int_eq(sl_storeread_get(f->sr, &q, cookie), SL_STOREREAD_OK);
}

/* saturate: SL_READ_PERMITS reads (cookies 0..) of heights from `h0` up,
   gate closed, until every reader thread sits at the gate. */
static void saturate(fx_t *f, uint32_t h0)
{
	gate_set(&f->gate, false);
	for (uint32_t i = 0; i < SL_READ_PERMITS; i++)
		get(f, h0 + i, i);
	WAIT_FOR(gate_inside(&f->gate) == READERS, 2000);
	sl_storeread_stats_t s = fx_stats(f);
	ck_assert_uint_eq(s.read_held, SL_READ_PERMITS);
	ck_assert_uint_eq(s.running, READERS);
	ck_assert_uint_eq(s.queued, SL_READ_PERMITS - READERS);
}

static void expect_header(fx_t *f, const sl_storeread_done_t *d)
{
	uint8_t hash[32];
	ck_assert_int_eq(d->kind, SL_STOREREAD_KIND_GET);
	ck_assert_msg(d->err == SL_STOREREAD_OK, "height %u: %s", d->height,
	              sl_storeread_err_str(d->err));
	ck_assert_mem_eq(d->hdr, f->hdrs + (size_t)d->height * HS, HS);
	sl_sha256d_hdr(d->hdr, hash);
	ck_assert_mem_eq(d->hash, hash, 32);
}

/* ---- a truncation on its own thread (the store's writer) ----------------- */

typedef struct {
	fx_t *f;
	uint32_t fork;
	uint64_t deadline_ns;
	bool ran; /* fn was called */
	sl_storeread_err_t rc;
	uint64_t took_ns;
	pthread_t th;
} trunc_t;

static void trunc_fn(void *ctx)
{
	trunc_t *t = ctx;
	t->ran = true;
	ck_assert_int_eq(sl_chainstore_truncate(t->f->cs, t->fork), SL_CHAINSTORE_OK);
}

static void *trunc_main(void *arg)
{
	trunc_t *t = arg;
	uint64_t t0 = sl_now_ns();
	t->rc = sl_storeread_truncate(t->f->sr, trunc_fn, t, t->deadline_ns);
	t->took_ns = sl_now_ns() - t0;
	return NULL;
}

static void trunc_start(trunc_t *t, fx_t *f, uint32_t fork, int deadline_ms)
{
	*t = (trunc_t){
	    .f = f, .fork = fork, .deadline_ns = sl_now_ns() + (uint64_t)deadline_ms * MS};
	ck_assert_int_eq(pthread_create(&t->th, NULL, trunc_main, t), 0);
	WAIT_FOR(fx_stats(f).draining, 2000);
}

/* ---- tests ----------------------------------------------------------------- */

START_TEST(test_get_reads_the_stored_header)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){0});
	uint32_t tip = fx_tip(&f);
	ck_assert_uint_eq(tip, f.n - 1);
	uint8_t want[32], other[32] = {1};
	sl_sha256d_hdr(f.hdrs + (size_t)tip * HS, want);
	sl_storeread_get_t q[] = {{.height = 0},
	                          {.height = tip},
	                          {.height = tip + 1},
	                          {.height = tip, .want_hash = want},
	                          {.height = tip, .want_hash = other}};
	for (uint64_t i = 0; i < SL_ARRAY_LEN(q); i++)
		ck_assert_int_eq(sl_storeread_get(f.sr, &q[i], 100 + i), SL_STOREREAD_OK);
	sl_storeread_done_t d[8];
	ck_assert_uint_eq(collect(&f, d, 5, 2000), 5);
	sl_storeread_err_t expect[] = {SL_STOREREAD_OK, SL_STOREREAD_OK, SL_STOREREAD_ERR_NOT_FOUND,
	                               SL_STOREREAD_OK, SL_STOREREAD_ERR_NOT_FOUND};
	for (uint32_t i = 0; i < 5; i++) {
		uint64_t k = d[i].cookie - 100;
		ck_assert_uint_lt(k, 5);
		ck_assert_uint_eq(d[i].height, q[k].height);
		ck_assert_int_eq(d[i].err, expect[k]);
		if (d[i].err == SL_STOREREAD_OK)
			expect_header(&f, &d[i]);
	}
	ck_assert_uint_eq(sl_storeread_poll(f.sr, d, 8), 0);
	sl_storeread_stats_t s = fx_stats(&f);
	ck_assert_uint_eq(s.done[SL_STOREREAD_OK], 3);
	ck_assert_uint_eq(s.done[SL_STOREREAD_ERR_NOT_FOUND], 2);
	ck_assert_uint_eq(s.read_held, 0);
	ck_assert_int_eq(sl_storeread_get(f.sr, NULL, 1), SL_STOREREAD_ERR_ARG);
	ck_assert_str_eq(sl_storeread_err_str(SL_STOREREAD_ERR_SHUTTING_DOWN), "shutting_down");
	ck_assert_str_eq(sl_storeread_err_str((sl_storeread_err_t)99), "unknown");
	fx_close(&f);
}
END_TEST

START_TEST(test_reads_above_the_cap_do_not_deadlock)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){0});
	const uint32_t total = 2 * SL_READ_PERMITS + 8;
	saturate(&f, 0);
	for (uint32_t i = SL_READ_PERMITS; i < total; i++)
		get(&f, i % f.n, i);
	sl_storeread_stats_t s = fx_stats(&f);
	ck_assert_uint_eq(s.read_held, SL_READ_PERMITS); /* never above the cap */
	ck_assert_uint_eq(s.read_waiting, total - SL_READ_PERMITS);
	gate_set(&f.gate, true);
	sl_storeread_done_t d[2 * SL_READ_PERMITS + 8];
	ck_assert_uint_eq(collect(&f, d, total, 3000), total);
	bool seen[2 * SL_READ_PERMITS + 8] = {0};
	for (uint32_t i = 0; i < total; i++) {
		ck_assert_uint_lt(d[i].cookie, total);
		ck_assert(!seen[d[i].cookie]); /* exactly one completion each */
		seen[d[i].cookie] = true;
		expect_header(&f, &d[i]);
	}
	s = fx_stats(&f);
	ck_assert_uint_eq(s.read_held + s.read_waiting + s.queued + s.running, 0);
	fx_close(&f);
}
END_TEST

START_TEST(test_truncate_after_saturating_reads_makes_progress)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){0});
	const uint32_t fork = 100;
	saturate(&f, fork + 1);
	trunc_t t;
	trunc_start(&t, &f, fork, 3000);
	usleep(50000);
	ck_assert(!t.ran); /* reads in flight: the drain waits */
	gate_set(&f.gate, true);
	pthread_join(t.th, NULL);
	ck_assert_int_eq(t.rc, SL_STOREREAD_OK);
	ck_assert(t.ran);
	ck_assert_uint_lt(t.took_ns, 2000 * MS);
	ck_assert_uint_eq(fx_tip(&f), fork);
	sl_storeread_done_t d[SL_READ_PERMITS];
	ck_assert_uint_eq(collect(&f, d, SL_READ_PERMITS, 2000), SL_READ_PERMITS);
	for (uint32_t i = 0; i < SL_READ_PERMITS; i++)
		expect_header(&f, &d[i]); /* all read before the truncation */
	sl_storeread_stats_t s = fx_stats(&f);
	ck_assert_uint_eq(s.truncations, 1);
	ck_assert(!s.draining);
	fx_close(&f);
}
END_TEST

START_TEST(test_truncate_is_served_before_later_readers)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){0});
	const uint32_t fork = 100, later = 16;
	saturate(&f, fork + 1);
	trunc_t t;
	trunc_start(&t, &f, fork, 3000);
	/* later readers: above the fork (gone once the truncation ran) and one
	   below it (the same header on both sides) */
	for (uint32_t i = 0; i < later; i++)
		get(&f, fork + 1 + i, 1000 + i);
	get(&f, fork, 2000);
	gate_set(&f.gate, true);
	pthread_join(t.th, NULL);
	ck_assert_int_eq(t.rc, SL_STOREREAD_OK);
	const uint32_t total = SL_READ_PERMITS + later + 1;
	sl_storeread_done_t d[SL_READ_PERMITS + 17];
	ck_assert_uint_eq(collect(&f, d, total, 2000), total);
	for (uint32_t i = 0; i < total; i++) {
		if (d[i].cookie < SL_READ_PERMITS || d[i].cookie == 2000)
			expect_header(&f, &d[i]);
		else
			ck_assert_msg(d[i].err == SL_STOREREAD_ERR_NOT_FOUND,
			              "later read of %u ran before the truncation (%s)",
			              d[i].height, sl_storeread_err_str(d[i].err));
	}
	fx_close(&f);
}
END_TEST

START_TEST(test_cancel_during_reader_backpressure_shuts_down)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){0});
	const uint32_t extra = 32, total = SL_READ_PERMITS + 32;
	saturate(&f, 0);
	for (uint32_t i = 0; i < extra; i++)
		get(&f, i, SL_READ_PERMITS + i);
	ck_assert_uint_eq(fx_stats(&f).read_waiting, extra);
	uint64_t t0 = sl_now_ns();
	sl_storeread_shutdown(f.sr);
	ck_assert_uint_lt(sl_now_ns() - t0, 100 * MS);
	sl_storeread_done_t d[SL_READ_PERMITS + 32];
	ck_assert_uint_eq(collect(&f, d, total, 200), total);
	for (uint32_t i = 0; i < total; i++)
		ck_assert_int_eq(d[i].err, SL_STOREREAD_ERR_SHUTTING_DOWN);
	sl_storeread_stats_t s = fx_stats(&f);
	ck_assert_uint_eq(s.read_held + s.read_waiting + s.queued + s.running, 0);
	ck_assert_uint_eq(s.abandoned, READERS); /* still at the gate */
	sl_storeread_get_t q = {.height = 1};
	ck_assert_int_eq(sl_storeread_get(f.sr, &q, 9), SL_STOREREAD_ERR_SHUTTING_DOWN);
	gate_set(&f.gate, true); /* the stuck readers return; their results are dropped */
	WAIT_FOR(fx_stats(&f).abandoned == 0, 2000);
	ck_assert_uint_eq(sl_storeread_poll(f.sr, d, 1), 0);
	fx_close(&f);
}
END_TEST

START_TEST(test_cancel_during_truncate_drain_shuts_down)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){0});
	uint32_t tip = fx_tip(&f);
	gate_set(&f.gate, false);
	get(&f, 5, 1); /* a stuck reader, 5 s from its deadline */
	WAIT_FOR(gate_inside(&f.gate) == 1, 2000);
	/* cancel_truncate ends the drain; the store is not touched */
	trunc_t t;
	trunc_start(&t, &f, 10, 10000);
	sl_storeread_cancel_truncate(f.sr);
	pthread_join(t.th, NULL);
	ck_assert_int_eq(t.rc, SL_STOREREAD_ERR_CANCELLED);
	ck_assert(!t.ran);
	ck_assert_uint_lt(t.took_ns, 1000 * MS);
	ck_assert(!fx_stats(&f).draining);
	/* shutdown ends the next one */
	trunc_start(&t, &f, 10, 10000);
	sl_storeread_shutdown(f.sr);
	pthread_join(t.th, NULL);
	ck_assert_int_eq(t.rc, SL_STOREREAD_ERR_SHUTTING_DOWN);
	ck_assert(!t.ran);
	ck_assert_uint_lt(t.took_ns, 1000 * MS);
	ck_assert_uint_eq(fx_tip(&f), tip);
	sl_storeread_done_t d[2];
	ck_assert_uint_eq(collect(&f, d, 2, 200), 1);
	ck_assert_int_eq(d[0].err, SL_STOREREAD_ERR_SHUTTING_DOWN);
	fx_close(&f);
}
END_TEST

START_TEST(test_deadline_releases_its_permit)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){.read_deadline_ns = 200 * MS});
	gate_set(&f.gate, false);
	uint64_t t0 = sl_now_ns();
	get(&f, 7, 1);
	WAIT_FOR(gate_inside(&f.gate) == 1, 2000);
	ck_assert_uint_eq(fx_stats(&f).read_held, 1);
	sl_storeread_done_t d[2];
	ck_assert_uint_eq(collect(&f, d, 1, 2000), 1);
	uint64_t took = sl_now_ns() - t0;
	ck_assert_int_eq(d[0].err, SL_STOREREAD_ERR_TIMEOUT);
	ck_assert_uint_eq(d[0].cookie, 1);
	ck_assert_uint_ge(took, 200 * MS);
	ck_assert_uint_lt(took, 1500 * MS);
	sl_storeread_stats_t s = fx_stats(&f);
	ck_assert_uint_eq(s.read_held, 0); /* back while the reader is still stuck */
	ck_assert_uint_eq(s.abandoned, 1);
	gate_set(&f.gate, true);
	WAIT_FOR(fx_stats(&f).abandoned == 0, 2000);
	ck_assert_uint_eq(collect(&f, d, 1, 50), 0); /* the late result is dropped */
	get(&f, 7, 2);
	ck_assert_uint_eq(collect(&f, d, 1, 2000), 1);
	expect_header(&f, &d[0]);
	ck_assert_uint_eq(fx_stats(&f).done[SL_STOREREAD_ERR_TIMEOUT], 1);
	fx_close(&f);
}
END_TEST

START_TEST(test_stream_setup_is_not_blocked_by_saturated_reads)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){0});
	saturate(&f, 0);
	for (uint32_t i = 0; i < 8; i++)
		get(&f, i, SL_READ_PERMITS + i);
	uint64_t t0 = sl_now_ns();
	sl_storeread_range_t r = {.from = 0, .to = UINT32_MAX};
	ck_assert_int_eq(sl_storeread_stream_open(f.sr, &r, 77), SL_STOREREAD_OK);
	sl_storeread_done_t d[SL_READ_PERMITS + 8];
	ck_assert_uint_eq(collect(&f, d, 1, 1000), 1);
	ck_assert_uint_lt(sl_now_ns() - t0, 1000 * MS);
	ck_assert_uint_eq(d[0].cookie, 77);
	ck_assert_int_eq(d[0].kind, SL_STOREREAD_KIND_STREAM);
	ck_assert_int_eq(d[0].err, SL_STOREREAD_OK);
	sl_storeread_stream_t st = d[0].stream;
	ck_assert_uint_eq(st.from, 0);
	ck_assert_uint_eq(st.to, f.n - 1);
	/* the stream reads without a read permit, beside the saturated pool */
	uint8_t buf[100 * HS];
	uint32_t got = 0;
	ck_assert_int_eq(sl_storeread_stream_read(f.sr, &st, 50, 100, buf, &got), SL_STOREREAD_OK);
	ck_assert_uint_eq(got, 100);
	ck_assert_mem_eq(buf, f.hdrs + 50 * HS, sizeof buf);
	ck_assert_uint_eq(fx_stats(&f).stream_held, 1);
	ck_assert_int_eq(sl_storeread_stream_close(f.sr, &st), SL_STOREREAD_OK);
	ck_assert_int_eq(sl_storeread_stream_close(f.sr, &st), SL_STOREREAD_ERR_ARG);
	ck_assert_uint_eq(fx_stats(&f).stream_held, 0);
	gate_set(&f.gate, true);
	ck_assert_uint_eq(collect(&f, d, SL_READ_PERMITS + 8, 3000), SL_READ_PERMITS + 8);
	for (uint32_t i = 0; i < SL_READ_PERMITS + 8; i++)
		expect_header(&f, &d[i]);
	fx_close(&f);
}
END_TEST

/* open_streams opens n streams (cookies c0..) and collects the n grants. */
static void open_streams(fx_t *f, uint32_t n, uint64_t c0, sl_storeread_stream_t *out)
{
	sl_storeread_range_t r = {.from = 0, .to = UINT32_MAX};
	sl_storeread_done_t d[SL_STREAM_PERMITS];
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(sl_storeread_stream_open(f->sr, &r, c0 + i), SL_STOREREAD_OK);
	ck_assert_uint_eq(collect(f, d, n, 1000), n);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_int_eq(d[i].err, SL_STOREREAD_OK);
		out[i] = d[i].stream;
	}
}

START_TEST(test_shutdown_fails_fast)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){0});
	sl_storeread_stream_t st[SL_STREAM_PERMITS];
	open_streams(&f, SL_STREAM_PERMITS, 0, st);
	sl_storeread_range_t r = {.from = 0, .to = 10};
	ck_assert_int_eq(sl_storeread_stream_open(f.sr, &r, 100), SL_STOREREAD_OK);
	ck_assert_int_eq(sl_storeread_stream_open(f.sr, NULL, 101), SL_STOREREAD_OK);
	gate_set(&f.gate, false);
	get(&f, 3, 102);
	WAIT_FOR(fx_stats(&f).stream_waiting == 2 && gate_inside(&f.gate) == 1, 2000);
	uint64_t t0 = sl_now_ns();
	sl_storeread_shutdown(f.sr);
	sl_storeread_done_t d[4];
	ck_assert_uint_eq(collect(&f, d, 3, 100), 3);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_int_eq(d[i].err, SL_STOREREAD_ERR_SHUTTING_DOWN);
	/* every later call fails at once */
	sl_storeread_get_t q = {.height = 1};
	ck_assert_int_eq(sl_storeread_get(f.sr, &q, 1), SL_STOREREAD_ERR_SHUTTING_DOWN);
	ck_assert_int_eq(sl_storeread_stream_open(f.sr, &r, 2), SL_STOREREAD_ERR_SHUTTING_DOWN);
	trunc_t t = {.f = &f, .deadline_ns = sl_now_ns() + 5000 * MS};
	trunc_main(&t);
	ck_assert_int_eq(t.rc, SL_STOREREAD_ERR_SHUTTING_DOWN);
	ck_assert(!t.ran);
	ck_assert_uint_eq(sl_storeread_cancel(f.sr, 102), 0);
	ck_assert_uint_lt(sl_now_ns() - t0, 200 * MS);
	/* holders may still give their streams back */
	for (uint32_t i = 0; i < SL_STREAM_PERMITS; i++)
		ck_assert_int_eq(sl_storeread_stream_close(f.sr, &st[i]), SL_STOREREAD_OK);
	ck_assert_uint_eq(fx_stats(&f).stream_held, 0);
	ck_assert_uint_eq(collect(&f, d, 1, 50), 0);
	fx_close(&f);
}
END_TEST

START_TEST(test_stream_waits_then_busy_and_sees_a_reorg)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){.stream_wait_ns = 150 * MS});
	sl_storeread_range_t bad[] = {{.from = 5, .to = 4}, {.from = 0, .to = f.n}};
	for (uint32_t i = 0; i < SL_ARRAY_LEN(bad); i++)
		ck_assert_int_eq(sl_storeread_stream_open(f.sr, &bad[i], 1),
		                 SL_STOREREAD_ERR_RANGE);
	sl_storeread_stream_t st[SL_STREAM_PERMITS];
	open_streams(&f, SL_STREAM_PERMITS, 0, st);
	/* a ninth waits for a permit: BUSY at its wait, or granted on a close */
	ck_assert_int_eq(sl_storeread_stream_open(f.sr, NULL, 50), SL_STOREREAD_OK);
	sl_storeread_done_t d[2];
	ck_assert_uint_eq(collect(&f, d, 1, 2000), 1);
	ck_assert_int_eq(d[0].err, SL_STOREREAD_ERR_BUSY);
	ck_assert_int_eq(sl_storeread_stream_open(f.sr, NULL, 51), SL_STOREREAD_OK);
	ck_assert_int_eq(sl_storeread_stream_close(f.sr, &st[0]), SL_STOREREAD_OK);
	ck_assert_uint_eq(collect(&f, d, 1, 100), 1);
	ck_assert_int_eq(d[0].err, SL_STOREREAD_OK);
	ck_assert(!d[0].stream.has_range); /* a watch */
	st[0] = d[0].stream;
	/* a truncation does not wait for streams; their reads see it */
	trunc_t t = {.f = &f, .fork = 10, .deadline_ns = sl_now_ns() + 2000 * MS};
	trunc_main(&t); /* nothing to drain: at once */
	ck_assert_int_eq(t.rc, SL_STOREREAD_OK);
	uint8_t buf[20 * HS];
	uint32_t got = 1;
	ck_assert_int_eq(sl_storeread_stream_read(f.sr, &st[1], 0, 20, buf, &got),
	                 SL_STOREREAD_ERR_REORGED);
	ck_assert_uint_eq(got, 0);
	ck_assert_int_eq(sl_storeread_stream_read(f.sr, &st[0], 0, 20, buf, &got),
	                 SL_STOREREAD_ERR_ARG);
	for (uint32_t i = 0; i < SL_STREAM_PERMITS; i++)
		ck_assert_int_eq(sl_storeread_stream_close(f.sr, &st[i]), SL_STOREREAD_OK);
	fx_close(&f);
}
END_TEST

START_TEST(test_cancel_completes_waiting_and_running_reads)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){0});
	saturate(&f, 0);
	get(&f, 1, 500);                                      /* waiting for a permit */
	ck_assert_uint_eq(sl_storeread_cancel(f.sr, 0), 1);   /* running */
	ck_assert_uint_eq(sl_storeread_cancel(f.sr, 63), 1);  /* queued */
	ck_assert_uint_eq(sl_storeread_cancel(f.sr, 500), 1); /* admitted by the first */
	ck_assert_uint_eq(sl_storeread_cancel(f.sr, 999), 0);
	sl_storeread_done_t d[SL_READ_PERMITS + 1];
	ck_assert_uint_eq(collect(&f, d, 3, 200), 3);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_int_eq(d[i].err, SL_STOREREAD_ERR_CANCELLED);
	ck_assert_uint_eq(fx_stats(&f).read_held, SL_READ_PERMITS - 2);
	gate_set(&f.gate, true);
	ck_assert_uint_eq(collect(&f, d, SL_READ_PERMITS, 2000), SL_READ_PERMITS - 2);
	for (uint32_t i = 0; i < SL_READ_PERMITS - 2; i++)
		expect_header(&f, &d[i]);
	fx_close(&f);
}
END_TEST

/* Randomized: gets, cancels and truncations from two threads; every
   accepted read completes exactly once and every permit comes back. */
START_TEST(test_churn_completes_everything_once)
{
	fx_t f;
	fx_open(&f, (sl_storeread_opts_t){.read_deadline_ns = 100 * MS, .max_requests = 4096});
	unsigned seed = (unsigned)time(NULL);
	printf("test_churn_completes_everything_once: seed %u\n", seed);
	enum { N = 3000 };
	static uint8_t count[N];
	memset(count, 0, sizeof count);
	sl_storeread_done_t d[256];
	uint32_t got = 0, fork = f.n - 1;
	for (uint32_t i = 0; i < N; i++) {
		get(&f, (uint32_t)rand_r(&seed) % f.n, i);
		int dice = rand_r(&seed) % 64;
		if (dice == 0)
			sl_storeread_cancel(f.sr, (uint64_t)(rand_r(&seed) % (int)(i + 1)));
		if (dice == 1)
			gate_set(&f.gate, false);
		if (dice == 2 || dice == 3)
			gate_set(&f.gate, true);
		if (dice == 4 && fork > 50) {
			fork -= 10;
			gate_set(&f.gate, true);
			trunc_t t = {.f = &f, .fork = fork, .deadline_ns = sl_now_ns() + 2000 * MS};
			trunc_main(&t);
			ck_assert_int_eq(t.rc, SL_STOREREAD_OK);
		}
		for (uint32_t k = sl_storeread_poll(f.sr, d, 256); k > 0; k--, got++)
			count[d[k - 1].cookie]++;
	}
	gate_set(&f.gate, true);
	while (got < N) {
		uint32_t k = collect(&f, d, SL_MIN(256u, N - got), 3000);
		ck_assert_uint_gt(k, 0);
		for (uint32_t j = 0; j < k; j++, got++)
			count[d[j].cookie]++;
	}
	for (uint32_t i = 0; i < N; i++)
		ck_assert_uint_eq(count[i], 1);
	WAIT_FOR(fx_stats(&f).abandoned == 0, 2000);
	sl_storeread_stats_t s = fx_stats(&f);
	ck_assert_uint_eq(s.read_held + s.read_waiting + s.queued + s.running, 0);
	fx_close(&f);
}
END_TEST

static Suite *storeread_suite(void)
{
	Suite *s = suite_create("storeread");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_get_reads_the_stored_header);
	tcase_add_test(tc, test_reads_above_the_cap_do_not_deadlock);
	tcase_add_test(tc, test_truncate_after_saturating_reads_makes_progress);
	tcase_add_test(tc, test_truncate_is_served_before_later_readers);
	tcase_add_test(tc, test_cancel_during_reader_backpressure_shuts_down);
	tcase_add_test(tc, test_cancel_during_truncate_drain_shuts_down);
	tcase_add_test(tc, test_deadline_releases_its_permit);
	tcase_add_test(tc, test_stream_setup_is_not_blocked_by_saturated_reads);
	tcase_add_test(tc, test_shutdown_fails_fast);
	tcase_add_test(tc, test_stream_waits_then_busy_and_sees_a_reorg);
	tcase_add_test(tc, test_cancel_completes_waiting_and_running_reads);
	tcase_add_test(tc, test_churn_completes_everything_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(storeread_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
