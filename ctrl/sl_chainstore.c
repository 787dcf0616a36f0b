/* sl_chainstore.c — see sl_chainstore.h. */
#include "sl_chainstore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_sha256d.h"
#include "sl_time.h"

#define HS                     80u
/* "now" while re-validating committed headers at open: header times are
   32-bit, so nothing is ever beyond now + 2 h (the future rule is for new
   headers only; a clock step back must not truncate the chain). */
#define SL_CHAINSTORE_OPEN_NOW ((int64_t)UINT32_MAX)

struct sl_chainstore {
	const sl_chain_profile_t *p;
	sl_store_t *store;
	sl_chain_ctx_t ctx;  /* at height sl_store_count - 1 */
	sl_status_t *status; /* the attached region's, NULL when detached */
	uint64_t publishes;
	/* durable: the tip at sl_store_committed - 1, the one published and
	   reported (ctx runs ahead of it while a group commits).  inflight: the
	   tip the group commit in flight ends at (inflight_set). */
	sl_chainstore_tip_t durable, inflight;
	bool inflight_set;
};

static void durable_note(sl_chainstore_t *cs);

static const char *const sl_chainstore_err_names[SL_CHAINSTORE_ERR__COUNT] = {
    [SL_CHAINSTORE_OK] = "ok",
    [SL_CHAINSTORE_ERR_ARG] = "bad_argument",
    [SL_CHAINSTORE_ERR_WRONG_CHAIN] = "wrong_chain",
    [SL_CHAINSTORE_ERR_STORE] = "store",
    [SL_CHAINSTORE_ERR_IO] = "io",
    [SL_CHAINSTORE_ERR_INVALID] = "invalid_header",
    [SL_CHAINSTORE_ERR_NOT_FOUND] = "not_found",
};

const char *sl_chainstore_err_str(sl_chainstore_err_t e)
{
	if ((unsigned)e >= SL_CHAINSTORE_ERR__COUNT)
		return "unknown";
	return sl_chainstore_err_names[e];
}

/* Lowercase chain reasons, made once from sl_chain_err_str ("POW" -> "pow"). */
static char sl_chainstore_chain_names[SL_CHAIN_ERR_COUNT][24];

static const char *chain_reason(int e)
{
	if (e == SL_CHAINSTORE_GENESIS)
		return "genesis";
	if (e <= 0 || e >= (int)SL_CHAIN_ERR_COUNT)
		return "unknown";
	if (e == SL_CHAIN_ERR_LINK)
		return "linkage"; /* the same rule the store names */
	char *n = sl_chainstore_chain_names[e];
	if (n[0] == '\0') {
		const char *s = sl_chain_err_str((sl_chain_err_t)e);
		size_t i = 0;
		for (; s[i] != '\0' && i + 1 < sizeof(sl_chainstore_chain_names[0]); i++)
			n[i] = (char)tolower((unsigned char)s[i]);
		n[i] = '\0';
	}
	return n;
}

const char *sl_chainstore_reason(const sl_chainstore_fail_t *f)
{
	if (f->store == SL_STORE_ERR_INVALID)
		return chain_reason(f->chain);
	return sl_store_err_str(f->store);
}

/* ---- open ------------------------------------------------------------------ */

/* validate_open follows sl_store_open's re-check from height 0, building the
   context as it goes.  Returns 0 or a reason (sl_chain_err_t / GENESIS). */
static int validate_open(void *arg, uint32_t height, const uint8_t hdr[80], const uint8_t hash[32])
{
	sl_chainstore_t *cs = arg;

	if (height == 0) {
		if (memcmp(hdr, cs->p->genesis, HS) != 0)
			return SL_CHAINSTORE_GENESIS;
		sl_chain_ctx_init(&cs->ctx, cs->p);
		return 0;
	}
	if (SL_UNLIKELY(height != cs->ctx.height + 1))
		return SL_CHAIN_ERR_CONTEXT;
	/* the store hashed hdr as it read it: judge that hash, not a second */
	sl_chain_err_t e = sl_chain_ctx_check_hashed(&cs->ctx, hdr, hash, SL_CHAINSTORE_OPEN_NOW);
	if (e != SL_CHAIN_OK)
		return (int)e;
	sl_chain_ctx_accept(&cs->ctx, hdr, hash);
	return 0;
}

/* first_header_ok refuses a store whose height 0 is another chain's genesis
   before sl_store_open could truncate it.  1: fine (or nothing there). */
static int first_header_ok(const char *dir, const sl_chain_profile_t *p)
{
	char path[PATH_MAX];
	uint8_t hdr[HS];

	if (snprintf(path, sizeof(path), "%s/headers", dir) >= (int)sizeof(path))
		return 1; /* sl_store_open reports the bad path */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	ssize_t got = pread(fd, hdr, HS, 0);
	close(fd);
	return got != (ssize_t)HS || memcmp(hdr, p->genesis, HS) == 0;
}

static sl_chainstore_err_t seed_genesis(sl_chainstore_t *cs)
{
	sl_chain_ctx_init(&cs->ctx, cs->p);
	if (sl_store_append(cs->store, cs->p->genesis, 1, NULL) != SL_STORE_OK ||
	    sl_store_commit(cs->store) != SL_STORE_OK)
		return SL_CHAINSTORE_ERR_STORE;
	return SL_CHAINSTORE_OK;
}

static sl_chainstore_t *open_fail(sl_chainstore_t *cs, sl_chainstore_err_t e,
                                  sl_chainstore_err_t *err)
{
	if (err != NULL)
		*err = e;
	sl_chainstore_close(cs);
	return NULL;
}

sl_chainstore_t *sl_chainstore_open(const sl_chainstore_opts_t *o, sl_chainstore_err_t *err)
{
	if (SL_UNLIKELY(o == NULL || o->dir == NULL || o->profile == NULL))
		return open_fail(NULL, SL_CHAINSTORE_ERR_ARG, err);
	const sl_chain_profile_t *p = sl_chain_profile(o->profile);
	if (SL_UNLIKELY(p == NULL)) {
		SL_ERR("chainstore: unknown chain profile '%s'", o->profile);
		return open_fail(NULL, SL_CHAINSTORE_ERR_ARG, err);
	}
	if (SL_UNLIKELY(!first_header_ok(o->dir, p))) {
		SL_ERR("chainstore: %s holds another chain (height 0 is not the %s genesis); "
		       "point [ctrl] store at a new directory or fix [chain] profile",
		       o->dir, p->name);
		return open_fail(NULL, SL_CHAINSTORE_ERR_WRONG_CHAIN, err);
	}
	sl_chainstore_t *cs = calloc(1, sizeof(*cs));
	if (SL_UNLIKELY(cs == NULL))
		return open_fail(NULL, SL_CHAINSTORE_ERR_STORE, err);
	cs->p = p;
	sl_chain_ctx_init(&cs->ctx, p);
	sl_store_opts_t so = {.dir = o->dir,
	                      .validate = validate_open,
	                      .validate_ctx = cs,
	                      .max_headers = o->max_headers};
	sl_store_open_info_t info;
	cs->store = sl_store_open(&so, &info);
	if (SL_UNLIKELY(cs->store == NULL))
		return open_fail(cs, SL_CHAINSTORE_ERR_STORE, err);
	if (info.fail.err != SL_STORE_OK)
		SL_WARN("chainstore: %s: cut at height %u (%s)", o->dir, info.fail.height,
		        info.fail.err == SL_STORE_ERR_INVALID ? chain_reason(info.fail.detail)
		                                              : sl_store_err_str(info.fail.err));
	if (sl_store_count(cs->store) == 0 && seed_genesis(cs) != SL_CHAINSTORE_OK)
		return open_fail(cs, SL_CHAINSTORE_ERR_STORE, err);
	durable_note(cs);
	if (err != NULL)
		*err = SL_CHAINSTORE_OK;
	SL_INFO("chainstore: %s: %s tip %u", o->dir, p->name, cs->ctx.height);
	return cs;
}

void sl_chainstore_close(sl_chainstore_t *cs)
{
	if (cs == NULL)
		return;
	if (cs->store != NULL && sl_store_commit(cs->store) != SL_STORE_OK) /* accepted: kept */
		SL_ERR("chainstore: %u accepted headers could not be committed at close",
		       sl_store_count(cs->store) - sl_store_committed(cs->store));
	sl_store_close(cs->store);
	free(cs);
}

const sl_chain_profile_t *sl_chainstore_profile(const sl_chainstore_t *cs)
{
	return cs->p;
}

sl_store_t *sl_chainstore_store(sl_chainstore_t *cs)
{
	return cs->store;
}

void sl_chainstore_tip(const sl_chainstore_t *cs, sl_chainstore_tip_t *out)
{
	out->height = cs->ctx.height;
	memcpy(out->hash, cs->ctx.tip_hash, 32);
	memcpy(out->chainwork, cs->ctx.chainwork, 32);
}

void sl_chainstore_durable(const sl_chainstore_t *cs, sl_chainstore_tip_t *out)
{
	*out = cs->durable;
}

/* durable_note follows the store's committed count: all of the chain, or
   the end of the group that was in flight; otherwise durable stays. */
static void durable_note(sl_chainstore_t *cs)
{
	uint32_t c = sl_store_committed(cs->store);
	if (c == sl_store_count(cs->store)) {
		sl_chainstore_tip(cs, &cs->durable);
		cs->inflight_set = false;
	} else if (cs->inflight_set && c == cs->inflight.height + 1) {
		cs->durable = cs->inflight;
		cs->inflight_set = false;
	}
}

/* ---- status ---------------------------------------------------------------- */

void sl_chainstore_attach_status(sl_chainstore_t *cs, sl_status_t *st)
{
	cs->status = st;
	sl_chainstore_publish(cs);
}

uint64_t sl_chainstore_publish(sl_chainstore_t *cs)
{
	durable_note(cs);
	if (cs->status == NULL)
		return cs->publishes;
	sl_local_status_t st = {.best_height = cs->durable.height, .finalized_height = 0};
	memcpy(st.best_hash, cs->durable.hash, 32);
	memcpy(st.chainwork, cs->durable.chainwork, 32);
	sl_status_publish(cs->status, &st);
	return ++cs->publishes;
}

/* ---- import ---------------------------------------------------------------- */

/* ctx_replay builds *c from the stored headers 1..upto (genesis first,
   already checked when committed: accepted without the rules).  O(upto). */
static void ctx_replay(const sl_chainstore_t *cs, sl_chain_ctx_t *c, uint32_t upto)
{
	uint8_t hdr[HS], hash[32];
	sl_chain_ctx_init(c, cs->p);
	for (uint32_t h = 1; h <= upto; h++) {
		sl_store_get(cs->store, h, hdr, hash);
		sl_chain_ctx_accept(c, hdr, hash);
	}
}

/* rebuild_ctx re-derives the context from the stored chain (after a failed
   append left it ahead of the store).  Rare; O(chain). */
static void rebuild_ctx(sl_chainstore_t *cs)
{
	ctx_replay(cs, &cs->ctx, sl_store_count(cs->store) - 1);
}

/* import_one judges file header `h` (hashed once, here: a file is
   untrusted): an already stored height must match; a new one must pass
   the chain rules (the context then moves to it).  Returns 1 for a new
   header (its hash in hash[]), 0 for a matching old one, -1 refused. */
static int import_one(sl_chainstore_t *cs, uint32_t h, const uint8_t *hdr, int64_t now,
                      uint8_t hash[32], sl_chainstore_fail_t *fail)
{
	uint8_t have[32];

	if (h < sl_store_count(cs->store)) {
		sl_sha256d_hdr(hdr, hash);
		sl_store_get(cs->store, h, NULL, have);
		if (memcmp(hash, have, 32) == 0)
			return 0;
		*fail = (sl_chainstore_fail_t){h, SL_STORE_ERR_CONFLICT, SL_CHAIN_OK};
		return -1;
	}
	sl_chain_err_t e = sl_chain_ctx_check(&cs->ctx, hdr, now, hash);
	if (e == SL_CHAIN_ERR_LINK) {
		*fail = (sl_chainstore_fail_t){h, SL_STORE_ERR_LINKAGE, SL_CHAIN_OK};
		return -1;
	}
	if (e != SL_CHAIN_OK) {
		*fail = (sl_chainstore_fail_t){h, SL_STORE_ERR_INVALID, (int)e};
		return -1;
	}
	sl_chain_ctx_accept(&cs->ctx, hdr, hash);
	return 1;
}

/* commit_group appends the n new headers at hdrs (hashes: theirs, as
   import_one computed them) and commits them as one group, then
   publishes.  OK, INVALID (FULL: *fail set) or STORE. */
typedef enum {
	SL_CHAINSTORE_COMMIT_NOW = 0, /* commit and sync here */
	SL_CHAINSTORE_COMMIT_START,   /* start the commit; its syncs run on a thread */
	SL_CHAINSTORE_COMMIT_LATER,   /* leave the headers pending */
} chainstore_commit_t;

static sl_chainstore_err_t commit_group(sl_chainstore_t *cs, const uint8_t *hdrs,
                                        const uint8_t *hashes, uint32_t n,
                                        sl_chainstore_fail_t *fail, chainstore_commit_t how)
{
	if (n == 0 && (how != SL_CHAINSTORE_COMMIT_START ||
	               sl_store_count(cs->store) == sl_store_committed(cs->store)))
		return SL_CHAINSTORE_OK;
	sl_store_fail_t sf;
	sl_store_err_t e =
	    n > 0 ? sl_store_append_hashed(cs->store, hdrs, hashes, n, &sf) : SL_STORE_OK;
	if (SL_UNLIKELY(e != SL_STORE_OK)) {
		rebuild_ctx(cs);
		if (e == SL_STORE_ERR_NOMEM)
			return SL_CHAINSTORE_ERR_STORE;
		*fail = (sl_chainstore_fail_t){sf.height, sf.err, SL_CHAIN_OK};
		return SL_CHAINSTORE_ERR_INVALID;
	}
	if (how == SL_CHAINSTORE_COMMIT_LATER)
		return SL_CHAINSTORE_OK;
	if (how == SL_CHAINSTORE_COMMIT_START) /* the import step finishes it */
		return sl_store_commit_start(cs->store) == SL_STORE_OK ? SL_CHAINSTORE_OK
		                                                       : SL_CHAINSTORE_ERR_STORE;
	if (SL_UNLIKELY(sl_store_commit(cs->store) != SL_STORE_OK))
		return SL_CHAINSTORE_ERR_STORE; /* pending kept; ctx matches count */
	sl_chainstore_publish(cs);
	return SL_CHAINSTORE_OK;
}

/* import_chunk judges `whole` headers starting at height h0 and commits the
   new valid ones (new heights follow the stored ones, so they are one run;
   `hashes` holds theirs, SL_CHAINSTORE_GROUP * 32 bytes; *appended: how
   many).  Returns OK or the reason to stop. */
static sl_chainstore_err_t import_chunk(sl_chainstore_t *cs, const uint8_t *buf, uint8_t *hashes,
                                        uint32_t whole, uint32_t h0, int64_t now,
                                        sl_chainstore_fail_t *fail, uint32_t *appended,
                                        chainstore_commit_t how)
{
	uint32_t first_new = whole, n_new = 0;
	sl_chainstore_err_t e = SL_CHAINSTORE_OK;
	uint8_t hash[32];

	*appended = 0;
	for (uint32_t i = 0; i < whole; i++) {
		int r = import_one(cs, h0 + i, buf + (size_t)i * HS, now, hash, fail);
		if (r < 0) {
			e = SL_CHAINSTORE_ERR_INVALID;
			break;
		}
		if (r == 1 && n_new++ == 0)
			first_new = i;
		if (r == 1)
			memcpy(hashes + (size_t)(n_new - 1) * 32, hash, 32);
	}
	sl_chainstore_err_t c =
	    commit_group(cs, buf + (size_t)first_new * HS, hashes, n_new, fail,
	                 e == SL_CHAINSTORE_OK ? how : SL_CHAINSTORE_COMMIT_NOW);
	if (c == SL_CHAINSTORE_OK)
		*appended = n_new;
	return e != SL_CHAINSTORE_OK ? e : c;
}

static ssize_t read_full(int fd, uint8_t *buf, size_t len, off_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

sl_chainstore_err_t sl_chainstore_import_begin(const char *path, sl_chainstore_import_t *imp)
{
	struct stat st;
	memset(imp, 0, sizeof *imp);
	imp->fd = -1;
	if (SL_UNLIKELY(path == NULL))
		return SL_CHAINSTORE_ERR_ARG;
	imp->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (SL_UNLIKELY(imp->fd < 0 || fstat(imp->fd, &st) != 0)) {
		SL_ERR("chainstore: import %s: %s", path, strerror(errno));
		sl_chainstore_import_end(imp);
		return SL_CHAINSTORE_ERR_IO;
	}
	imp->buf = malloc((size_t)SL_CHAINSTORE_GROUP * (HS + 32)); /* headers, then hashes */
	if (SL_UNLIKELY(imp->buf == NULL)) {
		sl_chainstore_import_end(imp);
		return SL_CHAINSTORE_ERR_STORE;
	}
	uint64_t whole = (uint64_t)st.st_size / HS;
	imp->total = whole > UINT32_MAX ? UINT32_MAX : (uint32_t)whole;
	imp->ragged = st.st_size % HS != 0;
	imp->now = (int64_t)sl_wall_unix();
	return SL_CHAINSTORE_OK;
}

/* import_settle finishes the import's commit in flight: OK (its headers
   are counted and published), STORE, or OK with *waiting when its sync
   still runs and wait is false. */
static sl_chainstore_err_t import_settle(sl_chainstore_t *cs, sl_chainstore_import_t *imp,
                                         bool wait, bool *waiting)
{
	*waiting = false;
	if (!imp->syncing)
		return SL_CHAINSTORE_OK;
	if (!wait && sl_store_commit_pending(cs->store)) {
		*waiting = true;
		return SL_CHAINSTORE_OK;
	}
	imp->syncing = false;
	if (SL_UNLIKELY(sl_store_commit_finish(cs->store) != SL_STORE_OK))
		return SL_CHAINSTORE_ERR_STORE;
	imp->imported += imp->sync_n;
	sl_chainstore_publish(cs);
	return SL_CHAINSTORE_OK;
}

sl_chainstore_err_t sl_chainstore_import_step(sl_chainstore_t *cs, sl_chainstore_import_t *imp,
                                              uint32_t max, bool *done, sl_chainstore_fail_t *fail)
{
	sl_chainstore_fail_t dummy;
	bool waiting;
	fail = fail ? fail : &dummy;
	*fail = (sl_chainstore_fail_t){0, SL_STORE_OK, SL_CHAIN_OK};
	*done = false;
	sl_chainstore_err_t e = import_settle(cs, imp, false, &waiting);
	if (e != SL_CHAINSTORE_OK || waiting)
		return e;
	if (!imp->reserved) { /* grow the store's index once, not at every doubling */
		imp->reserved = true;
		if (sl_store_reserve(cs->store, imp->total) != SL_STORE_OK)
			SL_WARN("chainstore: import: no room reserved for %u headers", imp->total);
	}
	if (imp->next < imp->total) {
		uint32_t have = sl_store_count(cs->store);
		if (imp->next > have) /* the chain shrank under the cursor (a reorg) */
			imp->next = have;
		uint32_t n = SL_MIN(SL_MIN(max, SL_CHAINSTORE_GROUP), imp->total - imp->next);
		ssize_t got = read_full(imp->fd, imp->buf, (size_t)n * HS, (off_t)imp->next * HS);
		if (SL_UNLIKELY(got < 0 || (size_t)got != (size_t)n * HS)) {
			SL_ERR("chainstore: import: %s",
			       got < 0 ? strerror(errno) : "the file shrank");
			return SL_CHAINSTORE_ERR_IO;
		}
		/* async: steps may be small; commit a group of SL_CHAINSTORE_GROUP */
		bool last = imp->next + n >= imp->total;
		uint32_t pend = sl_store_count(cs->store) - sl_store_committed(cs->store);
		chainstore_commit_t how = !imp->async ? SL_CHAINSTORE_COMMIT_NOW
		                          : last || pend + n >= SL_CHAINSTORE_GROUP
		                              ? SL_CHAINSTORE_COMMIT_START
		                              : SL_CHAINSTORE_COMMIT_LATER;
		uint32_t appended = 0;
		e = import_chunk(cs, imp->buf, imp->buf + (size_t)SL_CHAINSTORE_GROUP * HS, n,
		                 imp->next, imp->now, fail, &appended, how);
		imp->pend_n += appended;
		if (e != SL_CHAINSTORE_OK || how == SL_CHAINSTORE_COMMIT_NOW) {
			/* committed here (an error commits the valid prefix at once) */
			if (sl_store_count(cs->store) == sl_store_committed(cs->store)) {
				imp->imported += imp->pend_n;
				imp->pend_n = 0;
			}
		} else if (how == SL_CHAINSTORE_COMMIT_START && imp->pend_n > 0) {
			imp->syncing = true; /* counted when it is durable */
			imp->sync_n = imp->pend_n;
			imp->pend_n = 0;
		}
		if (e != SL_CHAINSTORE_OK)
			return e;
		imp->next += n;
		if (imp->syncing || imp->next < imp->total)
			return SL_CHAINSTORE_OK;
	}
	if (imp->ragged) {
		*fail = (sl_chainstore_fail_t){imp->next, SL_STORE_ERR_TRUNCATED, SL_CHAIN_OK};
		return SL_CHAINSTORE_ERR_INVALID;
	}
	*done = true;
	return SL_CHAINSTORE_OK;
}

bool sl_chainstore_import_waiting(const sl_chainstore_t *cs, const sl_chainstore_import_t *imp)
{
	return imp->syncing && sl_store_commit_pending(cs->store);
}

void sl_chainstore_import_abort(sl_chainstore_t *cs, sl_chainstore_import_t *imp)
{
	bool waiting;
	if (imp->syncing)
		import_settle(cs, imp, true, &waiting);
	if (imp->pend_n > 0 && sl_store_commit(cs->store) == SL_STORE_OK) {
		imp->imported += imp->pend_n; /* what it judged stays: the ctx has it */
		imp->pend_n = 0;
		sl_chainstore_publish(cs);
	}
	sl_chainstore_import_end(imp);
}

void sl_chainstore_import_end(sl_chainstore_import_t *imp)
{
	if (imp->fd >= 0)
		close(imp->fd);
	free(imp->buf);
	imp->fd = -1;
	imp->buf = NULL;
}

sl_chainstore_err_t sl_chainstore_import(sl_chainstore_t *cs, const char *path, uint32_t *imported,
                                         sl_chainstore_fail_t *fail)
{
	sl_chainstore_fail_t dummy;
	sl_chainstore_import_t imp;
	bool done = false;
	fail = fail ? fail : &dummy;
	*fail = (sl_chainstore_fail_t){0, SL_STORE_OK, SL_CHAIN_OK};
	if (imported != NULL)
		*imported = 0;
	sl_chainstore_err_t e = sl_chainstore_import_begin(path, &imp);
	while (e == SL_CHAINSTORE_OK && !done)
		e = sl_chainstore_import_step(cs, &imp, SL_CHAINSTORE_GROUP, &done, fail);
	if (imported != NULL)
		*imported = imp.imported;
	sl_chainstore_import_end(&imp);
	if (e == SL_CHAINSTORE_ERR_INVALID)
		SL_INFO("chainstore: import %s stopped at height %u: %s", path, fail->height,
		        sl_chainstore_reason(fail));
	return e;
}

/* ---- export / get ------------------------------------------------------- */

sl_chainstore_err_t sl_chainstore_export(const sl_chainstore_t *cs, const char *path, uint32_t from,
                                         uint32_t to)
{
	uint32_t n = sl_store_committed(cs->store);
	if (to == UINT32_MAX)
		to = n - 1;
	if (SL_UNLIKELY(path == NULL || from > to || to >= n))
		return SL_CHAINSTORE_ERR_ARG;
	sl_store_err_t e = sl_store_export(cs->store, path, from, to);
	if (e == SL_STORE_OK)
		return SL_CHAINSTORE_OK;
	return e == SL_STORE_ERR_ARG ? SL_CHAINSTORE_ERR_ARG : SL_CHAINSTORE_ERR_IO;
}

sl_chainstore_err_t sl_chainstore_tip_header(const sl_chainstore_t *cs, uint8_t hdr[80])
{
	return sl_store_get(cs->store, cs->ctx.height, hdr, NULL) == SL_STORE_OK
	           ? SL_CHAINSTORE_OK
	           : SL_CHAINSTORE_ERR_NOT_FOUND;
}

sl_chainstore_err_t sl_chainstore_get(const sl_chainstore_t *cs, uint32_t height, uint8_t hdr[80],
                                      uint8_t hash[32])
{
	if (height >= sl_store_committed(cs->store))
		return SL_CHAINSTORE_ERR_NOT_FOUND;
	return sl_store_get(cs->store, height, hdr, hash) == SL_STORE_OK
	           ? SL_CHAINSTORE_OK
	           : SL_CHAINSTORE_ERR_NOT_FOUND;
}

sl_chainstore_err_t sl_chainstore_find(const sl_chainstore_t *cs, const uint8_t hash[32],
                                       uint32_t *height)
{
	uint32_t h;
	if (!sl_store_find(cs->store, hash, &h) || h >= sl_store_committed(cs->store))
		return SL_CHAINSTORE_ERR_NOT_FOUND;
	if (height != NULL)
		*height = h;
	return SL_CHAINSTORE_OK;
}

/* ---- append / truncate (the reactor's chain) ------------------------------- */

/* drop_pending forgets an uncommitted group after a failed commit so the
   context and the store agree on the committed tip again.  Rare; O(chain). */
static void drop_pending(sl_chainstore_t *cs)
{
	uint32_t committed = sl_store_committed(cs->store);
	if (sl_store_count(cs->store) > committed && committed > 0)
		sl_store_truncate_to(cs->store, committed - 1);
	rebuild_ctx(cs);
}

/* pend_chunk appends hdrs[0..n) with their hashes to the store's pending
   group (already checked).  OK, or the failure (pending dropped, context
   rebuilt): INVALID with *fail, or STORE. */
static sl_chainstore_err_t pend_chunk(sl_chainstore_t *cs, const uint8_t *hdrs,
                                      const uint8_t *hashes, uint32_t n, sl_chainstore_fail_t *fail)
{
	sl_store_fail_t sf;
	sl_store_err_t e = sl_store_append_hashed(cs->store, hdrs, hashes, n, &sf);
	if (SL_LIKELY(e == SL_STORE_OK))
		return SL_CHAINSTORE_OK;
	drop_pending(cs);
	if (e == SL_STORE_ERR_NOMEM)
		return SL_CHAINSTORE_ERR_STORE;
	*fail = (sl_chainstore_fail_t){sf.height, sf.err, SL_CHAIN_OK};
	return SL_CHAINSTORE_ERR_INVALID;
}

/* commit_pending commits the pending group (checked: ctx2 is the context
   after it), then moves the context and publishes. */
static sl_chainstore_err_t commit_pending(sl_chainstore_t *cs, const sl_chain_ctx_t *ctx2)
{
	if (SL_UNLIKELY(sl_store_commit(cs->store) != SL_STORE_OK)) {
		drop_pending(cs);
		return SL_CHAINSTORE_ERR_STORE;
	}
	cs->ctx = *ctx2;
	sl_chainstore_publish(cs);
	return SL_CHAINSTORE_OK;
}

/* check_run moves *c2 over hdrs[0..n) (hashes[32 * i] their hashes) while
   the chain rules hold; returns how many passed, *ce the first refusal. */
static uint32_t check_run(sl_chain_ctx_t *c2, const uint8_t *hdrs, const uint8_t *hashes,
                          uint32_t n, int64_t now, sl_chain_err_t *ce)
{
	uint32_t ok = 0;
	*ce = SL_CHAIN_OK;
	for (; ok < n; ok++) {
		*ce = sl_chain_ctx_next_hashed(c2, hdrs + (size_t)ok * HS, hashes + (size_t)ok * 32,
		                               now);
		if (*ce != SL_CHAIN_OK)
			break;
	}
	return ok;
}

/* check_own hashes and checks hdrs[0..n) in chunks of SL_CHAINSTORE_HCHUNK
   (the hashes of headers from an untrusted caller, computed once here),
   pending each checked chunk in the store.  Returns OK with *ok checked
   (*ce the refusal when *ok < n) or a store failure. */
#define SL_CHAINSTORE_HCHUNK 64u
static sl_chainstore_err_t check_own(sl_chainstore_t *cs, sl_chain_ctx_t *c2, const uint8_t *hdrs,
                                     uint32_t n, int64_t now, uint32_t *ok, sl_chain_err_t *ce,
                                     sl_chainstore_fail_t *fail)
{
	uint8_t own[SL_CHAINSTORE_HCHUNK * 32];
	*ok = 0;
	*ce = SL_CHAIN_OK;
	while (*ok < n && *ce == SL_CHAIN_OK) {
		const uint8_t *h = hdrs + (size_t)*ok * HS;
		uint32_t k = SL_MIN(n - *ok, SL_CHAINSTORE_HCHUNK);
		sl_sha256d_hdrs(h, k, own);
		uint32_t j = check_run(c2, h, own, k, now, ce);
		if (j > 0) {
			sl_chainstore_err_t e = pend_chunk(cs, h, own, j, fail);
			if (SL_UNLIKELY(e != SL_CHAINSTORE_OK))
				return e;
		}
		*ok += j;
	}
	return SL_CHAINSTORE_OK;
}

/* supplied_ok says whether hashes[32 * i] is really hdrs[80 * i]'s hash
   (one SHA-256d). */
static bool supplied_ok(const uint8_t *hdrs, const uint8_t *hashes, uint32_t i)
{
	uint8_t real[32];
	sl_sha256d_hdr(hdrs + (size_t)i * HS, real);
	return memcmp(real, hashes + (size_t)i * 32, 32) == 0;
}

/* check_supplied checks hdrs[0..n) with the caller's hashes and pends the
   valid prefix.  Every supplied hash in the prefix but its last is vouched
   for by the next header's prev field (the linkage check); the last, and
   the refused header's when one is refused, are hashed here (at most two
   SHA-256d per call).  A wrong supplied hash is ARG with nothing pended. */
static sl_chainstore_err_t check_supplied(sl_chainstore_t *cs, sl_chain_ctx_t *c2,
                                          const uint8_t *hdrs, const uint8_t *hashes, uint32_t n,
                                          int64_t now, uint32_t *ok, sl_chain_err_t *ce,
                                          sl_chainstore_fail_t *fail)
{
	*ok = check_run(c2, hdrs, hashes, n, now, ce);
	if (SL_UNLIKELY((*ok > 0 && !supplied_ok(hdrs, hashes, *ok - 1)) ||
	                (*ok < n && !supplied_ok(hdrs, hashes, *ok)))) {
		SL_ERR("chainstore: append at %u: a supplied hash at or below height %u is wrong",
		       cs->ctx.height + 1, cs->ctx.height + 1 + *ok);
		*ok = 0;
		return SL_CHAINSTORE_ERR_ARG;
	}
	return *ok > 0 ? pend_chunk(cs, hdrs, hashes, *ok, fail) : SL_CHAINSTORE_OK;
}

/* refused_at: OK when all n passed, else INVALID with *fail at the first
   refused height (start + ok), named as the store names linkage. */
static sl_chainstore_err_t refused_at(uint32_t start, uint32_t ok, uint32_t n, sl_chain_err_t ce,
                                      sl_chainstore_fail_t *fail)
{
	if (ok == n)
		return SL_CHAINSTORE_OK;
	*fail = (sl_chainstore_fail_t){start + ok, SL_STORE_ERR_INVALID, (int)ce};
	if (ce == SL_CHAIN_ERR_LINK)
		*fail = (sl_chainstore_fail_t){start + ok, SL_STORE_ERR_LINKAGE, SL_CHAIN_OK};
	return SL_CHAINSTORE_ERR_INVALID;
}

sl_chainstore_err_t sl_chainstore_append(sl_chainstore_t *cs, uint32_t start, const uint8_t *hdrs,
                                         uint32_t n, uint32_t *committed,
                                         sl_chainstore_fail_t *fail)
{
	return sl_chainstore_append_hashed(cs, start, hdrs, NULL, n, committed, fail);
}

sl_chainstore_err_t sl_chainstore_append_hashed(sl_chainstore_t *cs, uint32_t start,
                                                const uint8_t *hdrs, const uint8_t *hashes,
                                                uint32_t n, uint32_t *committed,
                                                sl_chainstore_fail_t *fail)
{
	sl_chainstore_fail_t dummy;
	uint32_t dummy_n;

	fail = fail ? fail : &dummy;
	committed = committed ? committed : &dummy_n;
	*fail = (sl_chainstore_fail_t){0, SL_STORE_OK, SL_CHAIN_OK};
	*committed = 0;
	if (SL_UNLIKELY(cs == NULL || (hdrs == NULL && n > 0) || start != cs->ctx.height + 1))
		return SL_CHAINSTORE_ERR_ARG;
	int64_t now = (int64_t)sl_wall_unix();
	sl_chain_ctx_t c2 = cs->ctx;
	sl_chain_err_t ce = SL_CHAIN_OK;
	uint32_t ok = 0;
	sl_chainstore_err_t e = hashes != NULL
	                            ? check_supplied(cs, &c2, hdrs, hashes, n, now, &ok, &ce, fail)
	                            : check_own(cs, &c2, hdrs, n, now, &ok, &ce, fail);
	if (SL_UNLIKELY(e != SL_CHAINSTORE_OK))
		return e;
	if (ok > 0) {
		e = commit_pending(cs, &c2);
		if (SL_UNLIKELY(e != SL_CHAINSTORE_OK))
			return e;
		*committed = ok;
	}
	return refused_at(start, ok, n, ce, fail);
}

sl_chainstore_err_t sl_chainstore_group_step(sl_chainstore_t *cs)
{
	if (sl_store_commit_pending(cs->store))
		return SL_CHAINSTORE_OK;
	sl_chainstore_tip_t was = cs->durable;
	sl_store_err_t e = sl_store_commit_finish(cs->store); /* none started: OK */
	durable_note(cs);
	if (e == SL_STORE_OK && sl_store_count(cs->store) > sl_store_committed(cs->store)) {
		sl_chainstore_tip(cs, &cs->inflight); /* the group is everything pending */
		cs->inflight_set = true;
		e = sl_store_commit_start(cs->store);
	}
	durable_note(cs);
	if (was.height != cs->durable.height || memcmp(was.hash, cs->durable.hash, 32) != 0)
		sl_chainstore_publish(cs);
	return e == SL_STORE_OK ? SL_CHAINSTORE_OK : SL_CHAINSTORE_ERR_STORE;
}

sl_chainstore_err_t sl_chainstore_append_group(sl_chainstore_t *cs, uint32_t start,
                                               const uint8_t *hdrs, const uint8_t *hashes,
                                               uint32_t n, uint32_t *accepted,
                                               sl_chainstore_fail_t *fail)
{
	*fail = (sl_chainstore_fail_t){0, SL_STORE_OK, SL_CHAIN_OK};
	*accepted = 0;
	if (SL_UNLIKELY(hdrs == NULL || hashes == NULL || start != cs->ctx.height + 1))
		return SL_CHAINSTORE_ERR_ARG;
	sl_chain_ctx_t c2 = cs->ctx;
	sl_chain_err_t ce = SL_CHAIN_OK;
	uint32_t ok = 0;
	sl_chainstore_err_t e =
	    check_supplied(cs, &c2, hdrs, hashes, n, (int64_t)sl_wall_unix(), &ok, &ce, fail);
	if (SL_UNLIKELY(e != SL_CHAINSTORE_OK))
		return e;
	if (ok > 0) {
		cs->ctx = c2; /* accepted: pending in the store, durable when its group is */
		*accepted = ok;
		if (SL_UNLIKELY(sl_chainstore_group_step(cs) != SL_CHAINSTORE_OK))
			SL_WARN("chainstore: group commit at %u failed (retried on the next step)",
			        sl_store_committed(cs->store));
	}
	return refused_at(start, ok, n, ce, fail);
}

sl_chainstore_err_t sl_chainstore_branch_check(const sl_chainstore_t *cs, uint32_t fork,
                                               const uint8_t *hdrs, uint32_t n, uint32_t *valid,
                                               uint8_t work[32], sl_chainstore_fail_t *fail)
{
	*valid = 0;
	if (SL_UNLIKELY(cs == NULL || hdrs == NULL || fork > cs->ctx.height))
		return SL_CHAINSTORE_ERR_ARG;
	sl_chain_ctx_t c;
	ctx_replay(cs, &c, fork);
	size_t done = 0;
	sl_chain_err_t e = sl_chain_ctx_run(&c, hdrs, n, (int64_t)sl_wall_unix(), &done);
	*valid = (uint32_t)done;
	memcpy(work, c.chainwork, 32);
	if (e == SL_CHAIN_OK)
		return SL_CHAINSTORE_OK;
	uint32_t h = fork + 1 + (uint32_t)done;
	*fail = e == SL_CHAIN_ERR_LINK
	            ? (sl_chainstore_fail_t){h, SL_STORE_ERR_LINKAGE, SL_CHAIN_OK}
	            : (sl_chainstore_fail_t){h, SL_STORE_ERR_INVALID, (int)e};
	return SL_CHAINSTORE_ERR_INVALID;
}

sl_chainstore_err_t sl_chainstore_reserve(sl_chainstore_t *cs, uint32_t total)
{
	return sl_store_reserve(cs->store, total) == SL_STORE_OK ? SL_CHAINSTORE_OK
	                                                         : SL_CHAINSTORE_ERR_STORE;
}

sl_chainstore_err_t sl_chainstore_truncate(sl_chainstore_t *cs, uint32_t height)
{
	if (SL_UNLIKELY(cs == NULL))
		return SL_CHAINSTORE_ERR_ARG;
	if (height >= cs->ctx.height)
		return SL_CHAINSTORE_OK;
	if (SL_UNLIKELY(sl_store_truncate_to(cs->store, height) != SL_STORE_OK)) {
		rebuild_ctx(cs);
		return SL_CHAINSTORE_ERR_STORE;
	}
	rebuild_ctx(cs);
	sl_chainstore_publish(cs);
	return SL_CHAINSTORE_OK;
}
