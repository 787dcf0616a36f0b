/* sl_store.c — see sl_store.h for the file layout and the epoch protocol. */
#include "sl_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_prefault.h"
#include "sl_probe.h"
#include "sl_sha256d.h"
#include "sl_thp.h"
#include "sl_time.h"

#define HS SL_STORE_HDR_SIZE

#define SL_STORE_TIP_MAGIC       0x31504954534c5355ull /* "USLSTIP1" */
#define SL_STORE_VIEW_MAGIC      0x31574956534c5355ull /* "USLSVIW1" */
#define SL_STORE_LAYOUT          1u
#define SL_STORE_TIP_SLOT_OFF    512u
#define SL_STORE_VIEW_SIZE       4096u
#define SL_STORE_IMPORT_GROUP    2000u
#define SL_STORE_READ_TRIES      4
#define SL_STORE_SHRINK_GRACE_NS (10 * SL_NS_PER_MS)

#if defined(__x86_64__) || defined(__i386__)
#define SL_CPU_PAUSE() __builtin_ia32_pause()
#else
#define SL_CPU_PAUSE() SL_COMPILER_BARRIER()
#endif

/* The tip record slot (little-endian host layout; 64 bytes). */
typedef struct {
	uint64_t magic;
	uint32_t version;
	uint32_t count; /* committed headers */
	uint64_t seq;   /* commit sequence; slot = seq & 1 */
	uint64_t epoch;
	uint8_t tip_hash[32]; /* hash of header count-1 (zero when empty) */
} sl_store_tip_body_t;

typedef struct {
	sl_store_tip_body_t b;
	uint32_t crc; /* crc32c of b */
	uint32_t pad;
} sl_store_tip_t;
_Static_assert(sizeof(sl_store_tip_t) == 72, "tip slot layout");

/* The shared view record (mmap'd by every process; no pointers). */
typedef struct {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	uint32_t max_headers;
	uint32_t writer_pid;
	_Atomic uint64_t epoch; /* odd while a truncation is being published */
	_Atomic uint32_t count; /* committed headers readers may copy */
	uint32_t pad;
} sl_store_view_rec_t;

struct sl_store {
	int dfd, hfd, tfd, vfd;
	const uint8_t *map; /* headers, PROT_READ, max_headers * 80 bytes */
	size_t map_len;
	sl_store_view_rec_t *view;
	sl_store_hash_fn hash;
	uint32_t max_headers;
	uint32_t committed; /* durable and published */
	uint32_t count;     /* committed + pending */
	uint64_t epoch;
	uint64_t tip_seq;
	bool broken;           /* a truncation could not be made durable */
	uint8_t last_hash[32]; /* header count-1's (any other's: hash_at) */
	uint8_t *pend;         /* headers pend_from..count-1 */
	uint32_t pend_cap;     /* headers pend holds */
	uint32_t pend_from;    /* committed, or sync_count while a commit is in flight */
	uint32_t *idx;         /* open addressing: height+1, 0 = empty */
	uint32_t idx_mask, idx_used;
	sl_store_stats_t st;
	/* a commit whose syncs run on `syncer` (sl_store_commit_start): the
	   group committed..sync_count-1 sits in sbuf, handed over from pend.
	   The thread lives from the first commit_start to close and waits on
	   sync_go between groups; it posts sync_fin after each. */
	bool syncing;
	uint8_t *sbuf;
	uint32_t sbuf_cap;
	bool syncer_up;
	pthread_t syncer;
	sem_t sync_go, sync_fin;
	atomic_bool sync_quit;
	atomic_bool sync_done;
	int sync_rc; /* errno of the syncer, 0 */
	uint32_t sync_count, sync_n;
	uint64_t sync_t0;
	sl_store_tip_t sync_tip; /* the tip record the syncer writes, at sync_off */
	off_t sync_off;
	sl_prefault_t pf; /* reserve's: joined before idx moves or goes */
};

struct sl_store_reader {
	const sl_store_view_rec_t *view;
	const uint8_t *map;
	uint32_t max_headers;
};

static const char *const sl_store_err_names[SL_STORE_ERR__COUNT] = {
    [SL_STORE_OK] = "ok",
    [SL_STORE_ERR_ARG] = "bad_argument",
    [SL_STORE_ERR_IO] = "io",
    [SL_STORE_ERR_NOMEM] = "nomem",
    [SL_STORE_ERR_FULL] = "full",
    [SL_STORE_ERR_LINKAGE] = "linkage",
    [SL_STORE_ERR_INVALID] = "invalid",
    [SL_STORE_ERR_TRUNCATED] = "truncated",
    [SL_STORE_ERR_CONFLICT] = "conflict",
    [SL_STORE_ERR_CORRUPT] = "corrupt",
    [SL_STORE_ERR_BEYOND_TIP] = "beyond_tip",
    [SL_STORE_ERR_EPOCH] = "epoch_moved",
};

const char *sl_store_err_str(sl_store_err_t e)
{
	if ((unsigned)e >= SL_STORE_ERR__COUNT)
		return "unknown";
	return sl_store_err_names[e];
}

static void set_fail(sl_store_fail_t *f, uint32_t height, sl_store_err_t err, int detail)
{
	if (f != NULL)
		*f = (sl_store_fail_t){.height = height, .err = err, .detail = detail};
}

static void sl_store_default_hash(const uint8_t hdr[80], uint8_t out[32])
{
	sl_sha256d_hdr(hdr, out);
}

/* ---- small helpers ------------------------------------------------------- */

static uint32_t crc32c(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
	}
	return ~c;
}

static int write_full(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t w = pwrite(fd, p, len, off);
		if (SL_UNLIKELY(w < 0)) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

static int read_full(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, p + got, len - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return (int)got;
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* ---- the writer's arrays ------------------------------------------------- */

/* Commit-group buffers a reserve sizes ahead (2.6 MB each): a 1 M header
   sync's largest groups were ~35 k headers (one fdatasync's worth). */
#define SL_STORE_GROUP_RESERVE (1u << 15)

/* idx_bytes: the index's size (0 before the first rebuild). */
static size_t idx_bytes(const sl_store_t *s)
{
	return s->idx != NULL ? ((size_t)s->idx_mask + 1) * sizeof *s->idx : 0;
}

/* prefault_start: the index, populated on a helper thread while the sync
   starts (sl_prefault.h): appends write it at random from the first
   header on, 8 MB of fresh memory for a 1 M header sync. */
static void prefault_start(sl_store_t *s)
{
	void *p[1] = {s->idx};
	size_t len[1] = {idx_bytes(s)};
	sl_prefault_start(&s->pf, p, len, 1);
}

/* buf_hold grows a header buffer (*buf, *cap headers) to hold n headers
   (no-op when it does); false, the buffer unchanged, when out of memory. */
static bool buf_hold(uint8_t **buf, uint32_t *cap, uint32_t n)
{
	if (n <= *cap)
		return true;
	uint8_t *q = sl_thp_alloc((size_t)n * HS); /* whole huge pages: a group fills it */
	if (SL_UNLIKELY(q == NULL))
		return false;
	if (*buf != NULL)
		memcpy(q, *buf, (size_t)*cap * HS);
	sl_thp_free(*buf, (size_t)*cap * HS);
	*buf = q;
	*cap = n;
	return true;
}

/* ---- headers and their hashes --------------------------------------------- */

/* hdr_at: header h (< count), committed (the map) or pending. */
static const uint8_t *hdr_at(const sl_store_t *s, uint32_t h)
{
	if (h < s->committed)
		return s->map + (size_t)h * HS;
	if (h < s->pend_from) /* in the group a commit is syncing */
		return s->sbuf + (size_t)(h - s->committed) * HS;
	return s->pend + (size_t)(h - s->pend_from) * HS;
}

/* hash_at: the hash of header h (< count), the prev field of header h + 1
   (the store appends only linked headers), or the last one's. */
static const uint8_t *hash_at(const sl_store_t *s, uint32_t h)
{
	return h + 1 < s->count ? hdr_at(s, h + 1) + 4 : s->last_hash;
}

/* ---- hash index ---------------------------------------------------------- */

/* idx_cap_for returns the table size for n live entries (load <= 1/2). */
static uint32_t idx_cap_for(uint32_t n)
{
	uint32_t cap = 1024;
	while (cap / 2 < n + 1)
		cap <<= 1;
	return cap;
}

/* idx_rebuild re-indexes heights 0..count-1 into a fresh table of `cap`
   slots (a power of two), dropping stale entries. */
static sl_store_err_t idx_rebuild(sl_store_t *s, uint32_t cap)
{
	uint32_t *t = sl_thp_alloc((size_t)cap * sizeof(*t)); /* written at random */
	if (SL_UNLIKELY(t == NULL))
		return SL_STORE_ERR_NOMEM;
	sl_prefault_join(&s->pf);
	sl_thp_free(s->idx, idx_bytes(s));
	s->idx = t;
	s->idx_mask = cap - 1;
	s->idx_used = 0;
	for (uint32_t h = 0; h < s->count; h++) {
		uint32_t pos = (uint32_t)load64(hash_at(s, h)) & s->idx_mask;
		while (s->idx[pos] != 0)
			pos = (pos + 1) & s->idx_mask;
		s->idx[pos] = h + 1;
		s->idx_used++;
	}
	return SL_STORE_OK;
}

/* idx_insert indexes header h (< count) by its hash.  Stale entries
   (heights since truncated or overwritten) are never deleted: lookups
   verify them, and a rebuild (at most doubling) drops them. */
static sl_store_err_t idx_insert(sl_store_t *s, uint32_t h, const uint8_t hash[32])
{
	if (SL_UNLIKELY((s->idx_used + 1) * 2 > s->idx_mask + 1)) {
		uint32_t cap = s->idx_mask + 1; /* purge stale entries, or double */
		if (SL_UNLIKELY(idx_rebuild(s, s->count * 4 > cap ? cap * 2 : cap) != SL_STORE_OK))
			return SL_STORE_ERR_NOMEM;
		return SL_STORE_OK; /* rebuild indexed 0..count-1, h included */
	}
	uint32_t pos = (uint32_t)load64(hash) & s->idx_mask;
	while (s->idx[pos] != 0)
		pos = (pos + 1) & s->idx_mask;
	s->idx[pos] = h + 1;
	s->idx_used++;
	return SL_STORE_OK;
}

int sl_store_find(const sl_store_t *s, const uint8_t hash[32], uint32_t *height)
{
	uint32_t pos = (uint32_t)load64(hash) & s->idx_mask;
	for (uint32_t v; (v = s->idx[pos]) != 0; pos = (pos + 1) & s->idx_mask) {
		uint32_t h = v - 1;
		if (h < s->count && memcmp(hash_at(s, h), hash, 32) == 0) {
			if (height != NULL)
				*height = h;
			return 1;
		}
	}
	return 0;
}

static sl_store_err_t reserve(sl_store_t *s, uint32_t total)
{
	uint32_t pend = total - s->pend_from, cap = s->pend_cap ? s->pend_cap : 256;
	while (cap < pend)
		cap *= 2;
	return buf_hold(&s->pend, &s->pend_cap, cap) ? SL_STORE_OK : SL_STORE_ERR_NOMEM;
}

/* ---- view publication (seqlock writer side) ------------------------------ */

static void view_publish_count(sl_store_t *s)
{
	atomic_store_explicit(&s->view->count, s->committed, memory_order_release);
}

/* view_publish_shrink: epoch odd → count lowered → epoch even (+2). */
static void view_publish_shrink(sl_store_t *s)
{
	atomic_store_explicit(&s->view->epoch, s->epoch + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&s->view->count, s->committed, memory_order_relaxed);
	s->epoch += 2;
	atomic_store_explicit(&s->view->epoch, s->epoch, memory_order_release);
	atomic_thread_fence(memory_order_seq_cst); /* before any overwrite */
}

/* ---- tip record ---------------------------------------------------------- */

static int tip_read_slot(int fd, unsigned slot, sl_store_tip_body_t *out)
{
	sl_store_tip_t t;
	if (read_full(fd, &t, sizeof(t), (off_t)slot * SL_STORE_TIP_SLOT_OFF) != (int)sizeof(t))
		return 0;
	if (t.b.magic != SL_STORE_TIP_MAGIC || t.b.version != SL_STORE_LAYOUT)
		return 0;
	if (t.crc != crc32c(&t.b, sizeof(t.b)) || (t.b.seq & 1u) != slot)
		return 0;
	*out = t.b;
	return 1;
}

/* tip_build fills the tip record claiming `count` headers (epoch, hash of
   count-1) for the slot after the current one; *off is that slot. */
static void tip_build(const sl_store_t *s, uint32_t count, sl_store_tip_t *t, off_t *off)
{
	memset(t, 0, sizeof(*t));
	t->b.magic = SL_STORE_TIP_MAGIC;
	t->b.version = SL_STORE_LAYOUT;
	t->b.count = count;
	t->b.seq = s->tip_seq + 1;
	t->b.epoch = s->epoch;
	if (count > 0)
		memcpy(t->b.tip_hash, hash_at(s, count - 1), 32);
	t->crc = crc32c(&t->b, sizeof(t->b));
	*off = (off_t)(t->b.seq & 1u) * SL_STORE_TIP_SLOT_OFF;
}

/* tip_write makes (committed, epoch, hash of committed-1) durable in the
   slot after the current one. */
static sl_store_err_t tip_write(sl_store_t *s)
{
	sl_store_tip_t t;
	off_t off;
	tip_build(s, s->committed, &t, &off);
	if (SL_UNLIKELY(write_full(s->tfd, &t, sizeof(t), off) != 0 || fdatasync(s->tfd) != 0)) {
		SL_ERR("store: tip write: %s", strerror(errno));
		return SL_STORE_ERR_IO;
	}
	s->st.tip_syncs++;
	s->tip_seq = t.b.seq;
	return SL_STORE_OK;
}

/* ---- open ---------------------------------------------------------------- */

static int open_at(int dfd, const char *name)
{
	return openat(dfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

static sl_store_err_t open_files(sl_store_t *s, const char *dir)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		goto io;
	s->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dfd < 0)
		goto io;
	s->hfd = open_at(s->dfd, "headers");
	s->tfd = open_at(s->dfd, "tip");
	s->vfd = open_at(s->dfd, "view");
	if (s->hfd < 0 || s->tfd < 0 || s->vfd < 0)
		goto io;
	if (fsync(s->dfd) != 0)
		goto io;
	return SL_STORE_OK;
io:
	SL_ERR("store: open %s: %s", dir, strerror(errno));
	return SL_STORE_ERR_IO;
}

static sl_store_err_t map_files(sl_store_t *s)
{
	struct stat st;
	if (fstat(s->vfd, &st) != 0)
		return SL_STORE_ERR_IO;
	if (st.st_size < (off_t)SL_STORE_VIEW_SIZE && ftruncate(s->vfd, SL_STORE_VIEW_SIZE) != 0)
		return SL_STORE_ERR_IO;
	void *v = mmap(NULL, SL_STORE_VIEW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, s->vfd, 0);
	if (v == MAP_FAILED)
		return SL_STORE_ERR_IO;
	s->view = v;
	s->map_len = (size_t)s->max_headers * HS;
	void *m = mmap(NULL, s->map_len, PROT_READ, MAP_SHARED, s->hfd, 0);
	if (m == MAP_FAILED)
		return SL_STORE_ERR_IO;
	s->map = m;
	return SL_STORE_OK;
}

/* view_init formats the view when it is new or foreign; keeps an existing
   one (readers may have it mapped) and continues its epoch. */
static void view_init(sl_store_t *s)
{
	sl_store_view_rec_t *v = s->view;
	bool ours =
	    v->magic == SL_STORE_VIEW_MAGIC && v->version == SL_STORE_LAYOUT && v->hdr_size == HS;
	if (!ours) {
		atomic_store(&v->count, 0);
		atomic_store(&v->epoch, 0);
		v->hdr_size = HS;
		v->version = SL_STORE_LAYOUT;
		atomic_thread_fence(memory_order_release);
		v->magic = SL_STORE_VIEW_MAGIC;
	}
	v->max_headers = s->max_headers;
	v->writer_pid = (uint32_t)getpid();
	uint64_t ve = atomic_load(&v->epoch);
	ve = (ve + 1) & ~1ull;
	if (ve > s->epoch)
		s->epoch = ve;
}

/* recover_scan re-hashes and checks heights 0..limit-1; returns the length
   k of the valid linked prefix, with last_hash the hash of header k-1. */
static uint32_t recover_scan(sl_store_t *s, const sl_store_opts_t *o, uint32_t limit,
                             sl_store_fail_t *fail)
{
	uint8_t hash[32];
	for (uint32_t h = 0; h < limit; h++) {
		const uint8_t *hdr = s->map + (size_t)h * HS;
		if (h > 0 && memcmp(hdr + 4, s->last_hash, 32) != 0) {
			set_fail(fail, h, SL_STORE_ERR_LINKAGE, 0);
			return h;
		}
		s->hash(hdr, hash);
		int why = o->validate ? o->validate(o->validate_ctx, h, hdr, hash) : 0;
		if (why != 0) {
			set_fail(fail, h, SL_STORE_ERR_INVALID, why);
			return h;
		}
		memcpy(s->last_hash, hash, 32);
	}
	return limit;
}

static sl_store_err_t recover(sl_store_t *s, const sl_store_opts_t *o, sl_store_open_info_t *info)
{
	sl_store_tip_body_t a, b, *tip = NULL;
	int ha = tip_read_slot(s->tfd, 0, &a), hb = tip_read_slot(s->tfd, 1, &b);
	if (ha && (!hb || a.seq > b.seq))
		tip = &a;
	else if (hb)
		tip = &b;
	uint32_t tip_count = tip ? tip->count : 0;
	if (tip) {
		s->tip_seq = tip->seq;
		s->epoch = tip->epoch & ~1ull;
	}
	view_init(s);
	info->tip_count = tip_count;

	struct stat st;
	if (fstat(s->hfd, &st) != 0)
		return SL_STORE_ERR_IO;
	uint64_t n_file = (uint64_t)st.st_size / HS;
	uint32_t limit = (uint32_t)SL_MIN((uint64_t)tip_count, n_file);
	if (limit > s->max_headers)
		limit = s->max_headers;
	if (reserve(s, limit) != SL_STORE_OK)
		return SL_STORE_ERR_NOMEM;
	uint32_t k = recover_scan(s, o, limit, &info->fail);
	if (k < tip_count && info->fail.err == SL_STORE_OK)
		set_fail(&info->fail, k, SL_STORE_ERR_TRUNCATED, 0);
	if (k == tip_count && k > 0 && memcmp(s->last_hash, tip->tip_hash, 32) != 0)
		SL_WARN("store: tip hash differs at height %u; keeping the valid chain", k - 1);
	s->committed = s->count = s->pend_from = k;

	if (k < atomic_load(&s->view->count)) { /* readers may be copying above k */
		view_publish_shrink(s);
		struct timespec ts = {0, (long)SL_STORE_SHRINK_GRACE_NS};
		nanosleep(&ts, NULL);
	} else if (k < tip_count) {
		s->epoch += 2;
	}
	if ((uint64_t)st.st_size != (uint64_t)k * HS) {
		info->bytes_dropped = (uint64_t)st.st_size - (uint64_t)k * HS;
		SL_WARN("store: dropping %llu bytes past height %u (tip record: %u headers)",
		        (unsigned long long)info->bytes_dropped, k, tip_count);
		if (ftruncate(s->hfd, (off_t)k * HS) != 0 || fdatasync(s->hfd) != 0)
			return SL_STORE_ERR_IO;
	}
	if (k != tip_count || (tip && tip->epoch != s->epoch)) {
		sl_store_err_t e = tip_write(s);
		if (e != SL_STORE_OK)
			return e;
	}
	atomic_store_explicit(&s->view->epoch, s->epoch, memory_order_release);
	view_publish_count(s);
	info->count = k;
	return idx_rebuild(s, idx_cap_for(k));
}

sl_store_t *sl_store_open(const sl_store_opts_t *o, sl_store_open_info_t *info)
{
	sl_store_open_info_t dummy;
	if (info == NULL)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	if (SL_UNLIKELY(o == NULL || o->dir == NULL)) {
		info->err = SL_STORE_ERR_ARG;
		return NULL;
	}
	sl_store_t *s = calloc(1, sizeof(*s));
	if (SL_UNLIKELY(s == NULL)) {
		info->err = SL_STORE_ERR_NOMEM;
		return NULL;
	}
	s->dfd = s->hfd = s->tfd = s->vfd = -1;
	s->hash = o->hash ? o->hash : sl_store_default_hash;
	s->max_headers = o->max_headers ? o->max_headers : SL_STORE_MAX_HEADERS_DEFAULT;
	sl_store_err_t e = open_files(s, o->dir);
	if (e == SL_STORE_OK)
		e = map_files(s);
	if (e == SL_STORE_OK)
		e = recover(s, o, info);
	if (SL_UNLIKELY(e != SL_STORE_OK)) {
		SL_ERR("store: open %s failed: %s", o->dir, sl_store_err_str(e));
		info->err = e;
		sl_store_close(s);
		return NULL;
	}
	SL_INFO("store: %s open, %u headers, epoch %llu", o->dir, s->committed,
	        (unsigned long long)s->epoch);
	return s;
}

static void syncer_stop(sl_store_t *s);

void sl_store_close(sl_store_t *s)
{
	if (s != NULL && s->syncing)
		sl_store_commit_finish(s);
	if (s == NULL)
		return;
	syncer_stop(s);
	sl_prefault_join(&s->pf);
	if (s->map != NULL)
		munmap((void *)s->map, s->map_len);
	if (s->view != NULL)
		munmap(s->view, SL_STORE_VIEW_SIZE);
	int fds[] = {s->hfd, s->tfd, s->vfd, s->dfd};
	for (size_t i = 0; i < SL_ARRAY_LEN(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	sl_thp_free(s->pend, (size_t)s->pend_cap * HS);
	sl_thp_free(s->sbuf, (size_t)s->sbuf_cap * HS);
	sl_thp_free(s->idx, idx_bytes(s));
	free(s);
}

/* ---- write side ---------------------------------------------------------- */

/* push_one appends a header that links to the last one, with its hash. */
static sl_store_err_t push_one(sl_store_t *s, const uint8_t *hdr, const uint8_t hash[32])
{
	memcpy(s->pend + (size_t)(s->count - s->pend_from) * HS, hdr, HS);
	memcpy(s->last_hash, hash, 32);
	s->count++;
	return idx_insert(s, s->count - 1, hash);
}

sl_store_err_t sl_store_append(sl_store_t *s, const uint8_t *hdrs, uint32_t n,
                               sl_store_fail_t *fail)
{
	return sl_store_append_hashed(s, hdrs, NULL, n, fail);
}

sl_store_err_t sl_store_append_hashed(sl_store_t *s, const uint8_t *hdrs, const uint8_t *hashes,
                                      uint32_t n, sl_store_fail_t *fail)
{
	if (n == 0)
		return SL_STORE_OK;
	if (SL_UNLIKELY(n > s->max_headers - s->count)) {
		set_fail(fail, s->max_headers, SL_STORE_ERR_FULL, 0);
		return SL_STORE_ERR_FULL;
	}
	if (SL_UNLIKELY(reserve(s, s->count + n) != SL_STORE_OK))
		return SL_STORE_ERR_NOMEM;
	/* check all before taking any; prev: the hash header i must link to */
	const uint8_t *prev = s->count > 0 ? s->last_hash : NULL;
	uint8_t own[32];
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *hdr = hdrs + (size_t)i * HS;
		if (prev != NULL && memcmp(hdr + 4, prev, 32) != 0) {
			set_fail(fail, s->count + i, SL_STORE_ERR_LINKAGE, 0);
			return SL_STORE_ERR_LINKAGE;
		}
		if (hashes != NULL) {
			prev = hashes + (size_t)i * 32;
		} else {
			s->hash(hdr, own);
			prev = own;
		}
		/* the index slot push_one writes: a cache miss each in a 1 M
		   header index, overlapped here rather than taken one by one */
		__builtin_prefetch(&s->idx[(uint32_t)load64(prev) & s->idx_mask], 1);
	}
	/* header i's hash is header i + 1's prev field (checked equal above);
	   the last one's is prev (hashes[n - 1] or own: neither moves) */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *hdr = hdrs + (size_t)i * HS;
		const uint8_t *hash = i + 1 < n ? hdr + HS + 4 : prev;
		if (SL_UNLIKELY(push_one(s, hdr, hash) != SL_STORE_OK))
			return SL_STORE_ERR_NOMEM;
	}
	return SL_STORE_OK;
}

/* commit_due: finish a commit in flight, then *n = headers waiting to be
   committed.  OK (maybe *n == 0) or IO (the finish failed, or the store
   is broken). */
static sl_store_err_t commit_due(sl_store_t *s, uint32_t *n)
{
	*n = 0;
	if (s->syncing && sl_store_commit_finish(s) != SL_STORE_OK)
		return SL_STORE_ERR_IO;
	*n = s->count - s->committed;
	if (SL_UNLIKELY(*n != 0 && s->broken))
		return SL_STORE_ERR_IO;
	return SL_STORE_OK;
}

sl_store_err_t sl_store_commit(sl_store_t *s)
{
	uint32_t n;
	sl_store_err_t e = commit_due(s, &n);
	if (e != SL_STORE_OK || n == 0)
		return e;
	uint64_t t0 = sl_now_ns();
	if (SL_UNLIKELY(write_full(s->hfd, s->pend, (size_t)n * HS, (off_t)s->committed * HS) !=
	                    0 ||
	                fdatasync(s->hfd) != 0)) {
		SL_ERR("store: commit of %u headers at %u: %s", n, s->committed, strerror(errno));
		return SL_STORE_ERR_IO;
	}
	s->st.data_syncs++;
	uint32_t before = s->committed;
	s->committed = s->count;
	if (SL_UNLIKELY(tip_write(s) != SL_STORE_OK)) {
		s->committed = before; /* data is there but not claimed: retry later */
		return SL_STORE_ERR_IO;
	}
	s->pend_from = s->committed;
	view_publish_count(s);
	s->st.commits++;
	s->st.headers_committed += n;
	SL_PROBE_STORE_COMMIT(s->committed - 1, n, sl_now_ns() - t0);
	return SL_STORE_OK;
}

/* ---- a commit whose syncs run off the owner's thread ---------------------- */

/* sync_take_back returns a group that did not become durable (its thread
   failed or never started) to the front of the pending headers, those
   appended since after it: pend holds committed..count-1 again.  OK, or
   NOMEM (the store is then broken: nothing more commits). */
static sl_store_err_t sync_take_back(sl_store_t *s)
{
	uint32_t group = s->pend_from - s->committed, later = s->count - s->pend_from;
	if (SL_UNLIKELY(!buf_hold(&s->sbuf, &s->sbuf_cap, group + later))) {
		s->broken = true;
		return SL_STORE_ERR_NOMEM;
	}
	memcpy(s->sbuf + (size_t)group * HS, s->pend, (size_t)later * HS);
	SL_SWAP(s->pend, s->sbuf);
	SL_SWAP(s->pend_cap, s->sbuf_cap);
	s->pend_from = s->committed;
	return SL_STORE_OK;
}

static void sem_wait_full(sem_t *sem)
{
	while (sem_wait(sem) != 0 && errno == EINTR)
		;
}

/* syncer_group makes one group durable: touches only the files, sync_rc
   and the done flag; sbuf, committed and the sync_* fields are not touched
   by the owner while it runs (appends go to pend; every other writer call
   finishes the sync first). */
static void syncer_group(sl_store_t *s)
{
	int rc = 0;
	errno = 0;
	if (write_full(s->hfd, s->sbuf, (size_t)s->sync_n * HS, (off_t)s->committed * HS) != 0 ||
	    fdatasync(s->hfd) != 0 ||
	    write_full(s->tfd, &s->sync_tip, sizeof(s->sync_tip), s->sync_off) != 0 ||
	    fdatasync(s->tfd) != 0)
		rc = errno != 0 ? errno : EIO;
	s->sync_rc = rc;
	atomic_store_explicit(&s->sync_done, true, memory_order_release);
}

/* The syncer thread: one group per sync_go until sync_quit. */
static void *store_syncer(void *arg)
{
	sl_store_t *s = arg;
	for (;;) {
		sem_wait_full(&s->sync_go);
		if (atomic_load_explicit(&s->sync_quit, memory_order_acquire))
			return NULL;
		syncer_group(s);
		sem_post(&s->sync_fin);
	}
}

/* syncer_start: the thread, once per store (a thread per group cost a
   clone and an exit per commit).  False when it cannot run. */
static bool syncer_start(sl_store_t *s)
{
	if (s->syncer_up)
		return true;
	if (SL_UNLIKELY(sem_init(&s->sync_go, 0, 0) != 0))
		return false;
	if (SL_UNLIKELY(sem_init(&s->sync_fin, 0, 0) != 0)) {
		sem_destroy(&s->sync_go);
		return false;
	}
	atomic_store_explicit(&s->sync_quit, false, memory_order_relaxed);
	if (SL_UNLIKELY(pthread_create(&s->syncer, NULL, store_syncer, s) != 0)) {
		sem_destroy(&s->sync_go);
		sem_destroy(&s->sync_fin);
		return false;
	}
	s->syncer_up = true;
	return true;
}

static void syncer_stop(sl_store_t *s)
{
	if (!s->syncer_up)
		return;
	atomic_store_explicit(&s->sync_quit, true, memory_order_release);
	sem_post(&s->sync_go);
	pthread_join(s->syncer, NULL);
	sem_destroy(&s->sync_go);
	sem_destroy(&s->sync_fin);
	s->syncer_up = false;
}

/* group_bufs grows the pending buffer and the syncer's to hold n headers
   each (a commit group), so that appends mid-sync do not grow them. */
static sl_store_err_t group_bufs(sl_store_t *s, uint32_t n)
{
	return buf_hold(&s->pend, &s->pend_cap, n) && buf_hold(&s->sbuf, &s->sbuf_cap, n)
	           ? SL_STORE_OK
	           : SL_STORE_ERR_NOMEM;
}

sl_store_err_t sl_store_reserve(sl_store_t *s, uint32_t total)
{
	if (total > s->max_headers)
		total = s->max_headers;
	if (s->syncing && sl_store_commit_finish(s) != SL_STORE_OK)
		return SL_STORE_ERR_IO;
	if ((uint64_t)(total + 1) * 2 > (uint64_t)s->idx_mask + 1 &&
	    idx_rebuild(s, idx_cap_for(total)) != SL_STORE_OK)
		return SL_STORE_ERR_NOMEM;
	if (total <= s->count)
		return SL_STORE_OK;
	/* Before the prefault starts: its populate holds the address space's
	   lock for a page's zeroing at a time, and a thread's stack or a
	   buffer's growth (mmap, mremap) would wait for it mid-sync. */
	(void)syncer_start(s); /* commit_start retries, or commits in place */
	uint32_t group = SL_MIN(total - s->count, SL_STORE_GROUP_RESERVE);
	if (group_bufs(s, group) != SL_STORE_OK)
		return SL_STORE_ERR_NOMEM;
	prefault_start(s);
	return SL_STORE_OK;
}

sl_store_err_t sl_store_commit_start(sl_store_t *s)
{
	uint32_t n;
	sl_store_err_t e = commit_due(s, &n);
	if (e != SL_STORE_OK || n == 0)
		return e;
	if (SL_UNLIKELY(!syncer_start(s)))
		return sl_store_commit(s); /* no thread: sync here */
	s->sync_t0 = sl_now_ns();
	tip_build(s, s->count, &s->sync_tip, &s->sync_off);
	s->sync_count = s->count;
	s->sync_n = n;
	s->sync_rc = 0;
	atomic_store_explicit(&s->sync_done, false, memory_order_relaxed);
	SL_SWAP(s->pend, s->sbuf); /* the group goes to the syncer, appends to the spare */
	SL_SWAP(s->pend_cap, s->sbuf_cap);
	s->pend_from = s->count;
	s->syncing = true;
	sem_post(&s->sync_go);
	return SL_STORE_OK;
}

bool sl_store_commit_pending(const sl_store_t *s)
{
	return s->syncing && !atomic_load_explicit(&s->sync_done, memory_order_acquire);
}

sl_store_err_t sl_store_commit_finish(sl_store_t *s)
{
	if (!s->syncing)
		return SL_STORE_OK;
	sem_wait_full(&s->sync_fin);
	s->syncing = false;
	if (SL_UNLIKELY(s->sync_rc != 0)) {
		SL_ERR("store: commit of %u headers at %u: %s", s->sync_n, s->committed,
		       strerror(s->sync_rc));
		return sync_take_back(s) == SL_STORE_OK
		           ? SL_STORE_ERR_IO /* the group stays pending: retry later */
		           : SL_STORE_ERR_NOMEM;
	}
	s->st.data_syncs++;
	s->st.tip_syncs++;
	s->tip_seq++;
	s->committed = s->sync_count;
	view_publish_count(s);
	s->st.commits++;
	s->st.headers_committed += s->sync_n;
	SL_PROBE_STORE_COMMIT(s->committed - 1, s->sync_n, sl_now_ns() - s->sync_t0);
	return SL_STORE_OK;
}

sl_store_err_t sl_store_truncate_to(sl_store_t *s, uint32_t height)
{
	if (s->syncing && sl_store_commit_finish(s) != SL_STORE_OK)
		return SL_STORE_ERR_IO;
	if (s->count == 0 || height >= s->count - 1)
		return SL_STORE_OK;
	uint32_t keep = height + 1;
	memcpy(s->last_hash, hash_at(s, height), 32); /* before the count drops */
	if (keep >= s->committed) {                   /* only pending headers go */
		s->count = keep;
		return SL_STORE_OK;
	}
	s->count = s->committed = s->pend_from = keep;
	view_publish_shrink(s);
	if (SL_UNLIKELY(tip_write(s) != SL_STORE_OK)) {
		/* the old tip is still the durable one: never overwrite its data */
		s->broken = true;
		return SL_STORE_ERR_IO;
	}
	return SL_STORE_OK;
}

uint32_t sl_store_committed(const sl_store_t *s)
{
	return s->committed;
}

uint32_t sl_store_count(const sl_store_t *s)
{
	return s->count;
}

uint64_t sl_store_epoch(const sl_store_t *s)
{
	return s->epoch;
}

void sl_store_stats(const sl_store_t *s, sl_store_stats_t *out)
{
	*out = s->st;
}

sl_store_err_t sl_store_get(const sl_store_t *s, uint32_t height, uint8_t out[80], uint8_t hash[32])
{
	if (SL_UNLIKELY(height >= s->count))
		return SL_STORE_ERR_BEYOND_TIP;
	if (out != NULL)
		memcpy(out, hdr_at(s, height), HS);
	if (hash != NULL)
		memcpy(hash, hash_at(s, height), 32);
	return SL_STORE_OK;
}

uint32_t sl_store_get_range(const sl_store_t *s, uint32_t start, uint32_t n, uint8_t *out)
{
	if (start >= s->count)
		return 0;
	n = SL_MIN(n, s->count - start);
	for (uint32_t i = 0; i < n; i++)
		memcpy(out + (size_t)i * HS, hdr_at(s, start + i), HS);
	return n;
}

/* ---- export / import ----------------------------------------------------- */

sl_store_err_t sl_store_export(const sl_store_t *s, const char *path, uint32_t from, uint32_t to)
{
	if (to == UINT32_MAX && s->committed > 0)
		to = s->committed - 1;
	if (SL_UNLIKELY(path == NULL || from > to || to >= s->committed))
		return SL_STORE_ERR_ARG;
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return SL_STORE_ERR_ARG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (SL_UNLIKELY(fd < 0))
		goto io;
	size_t len = (size_t)(to - from + 1) * HS;
	if (write_full(fd, s->map + (size_t)from * HS, len, 0) != 0 || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		goto io;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		goto io;
	}
	return SL_STORE_OK;
io:
	SL_ERR("store: export to %s: %s", path, strerror(errno));
	return SL_STORE_ERR_IO;
}

/* import_one checks file header `h` against the store and appends it if
   new.  Returns OK or the reason (with *fail). */
static sl_store_err_t import_one(sl_store_t *s, uint32_t h, const uint8_t *hdr,
                                 sl_store_validate_fn v, void *ctx, sl_store_fail_t *fail)
{
	uint8_t hash[32];
	if (h < s->count) { /* already stored: must be the same header */
		s->hash(hdr, hash);
		if (memcmp(hash, hash_at(s, h), 32) != 0) {
			set_fail(fail, h, SL_STORE_ERR_CONFLICT, 0);
			return SL_STORE_ERR_CONFLICT;
		}
		return SL_STORE_OK;
	}
	if (SL_UNLIKELY(h >= s->max_headers)) {
		set_fail(fail, h, SL_STORE_ERR_FULL, 0);
		return SL_STORE_ERR_FULL;
	}
	if (h > 0 && memcmp(hdr + 4, s->last_hash, 32) != 0) { /* h == count */
		set_fail(fail, h, SL_STORE_ERR_LINKAGE, 0);
		return SL_STORE_ERR_LINKAGE;
	}
	if (SL_UNLIKELY(reserve(s, h + 1) != SL_STORE_OK))
		return SL_STORE_ERR_NOMEM;
	s->hash(hdr, hash);
	int why = v ? v(ctx, h, hdr, hash) : 0;
	if (why != 0) {
		set_fail(fail, h, SL_STORE_ERR_INVALID, why);
		return SL_STORE_ERR_INVALID;
	}
	return push_one(s, hdr, hash);
}

sl_store_err_t sl_store_import(sl_store_t *s, const char *path, sl_store_validate_fn v, void *ctx,
                               uint32_t *imported, sl_store_fail_t *fail)
{
	sl_store_fail_t dummy;
	fail = fail ? fail : &dummy;
	set_fail(fail, 0, SL_STORE_OK, 0);
	uint32_t before = s->count;
	if (imported != NULL)
		*imported = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (SL_UNLIKELY(fd < 0)) {
		SL_ERR("store: import %s: %s", path, strerror(errno));
		return SL_STORE_ERR_IO;
	}
	uint8_t *buf = malloc((size_t)SL_STORE_IMPORT_GROUP * HS);
	sl_store_err_t e = buf ? SL_STORE_OK : SL_STORE_ERR_NOMEM;
	uint32_t h = 0;
	off_t off = 0;
	while (e == SL_STORE_OK) {
		int got = read_full(fd, buf, (size_t)SL_STORE_IMPORT_GROUP * HS, off);
		if (got <= 0)
			break;
		off += got;
		uint32_t whole = (uint32_t)got / HS;
		for (uint32_t i = 0; i < whole && e == SL_STORE_OK; i++, h++)
			e = import_one(s, h, buf + (size_t)i * HS, v, ctx, fail);
		if (e == SL_STORE_OK && (uint32_t)got % HS != 0) {
			set_fail(fail, h, SL_STORE_ERR_TRUNCATED, 0);
			e = SL_STORE_ERR_TRUNCATED;
		}
		sl_store_err_t c = sl_store_commit(s); /* one group per chunk */
		if (e == SL_STORE_OK)
			e = c;
	}
	free(buf);
	close(fd);
	if (imported != NULL)
		*imported = s->committed > before ? s->committed - before : 0;
	if (e != SL_STORE_OK && e != SL_STORE_ERR_NOMEM && e != SL_STORE_ERR_IO)
		SL_INFO("store: import %s stopped at height %u: %s", path, fail->height,
		        sl_store_err_str(e));
	return e;
}

/* ---- read side ----------------------------------------------------------- */

sl_store_reader_t *sl_store_reader_open(const char *dir)
{
	char p[PATH_MAX];
	sl_store_reader_t *r = calloc(1, sizeof(*r));
	int vfd = -1, hfd = -1;
	if (r == NULL)
		return NULL;
	errno = 0;
	snprintf(p, sizeof(p), "%s/view", dir);
	vfd = open(p, O_RDONLY | O_CLOEXEC);
	snprintf(p, sizeof(p), "%s/headers", dir);
	hfd = open(p, O_RDONLY | O_CLOEXEC);
	if (vfd < 0 || hfd < 0)
		goto fail;
	void *v = mmap(NULL, SL_STORE_VIEW_SIZE, PROT_READ, MAP_SHARED, vfd, 0);
	if (v == MAP_FAILED)
		goto fail;
	r->view = v;
	if (r->view->magic != SL_STORE_VIEW_MAGIC || r->view->version != SL_STORE_LAYOUT ||
	    r->view->hdr_size != HS || r->view->max_headers == 0)
		goto fail;
	r->max_headers = r->view->max_headers;
	void *m = mmap(NULL, (size_t)r->max_headers * HS, PROT_READ, MAP_SHARED, hfd, 0);
	if (m == MAP_FAILED)
		goto fail;
	r->map = m;
	close(vfd);
	close(hfd);
	return r;
fail:
	SL_ERR("store: reader cannot map %s (%s)", dir, errno ? strerror(errno) : "bad view");
	if (vfd >= 0)
		close(vfd);
	if (hfd >= 0)
		close(hfd);
	sl_store_reader_close(r);
	return NULL;
}

void sl_store_reader_close(sl_store_reader_t *r)
{
	if (r == NULL)
		return;
	if (r->map != NULL)
		munmap((void *)r->map, (size_t)r->max_headers * HS);
	if (r->view != NULL)
		munmap((void *)r->view, SL_STORE_VIEW_SIZE);
	free(r);
}

void sl_store_reader_snapshot(const sl_store_reader_t *r, uint32_t *count, uint64_t *epoch)
{
	sl_store_view_rec_t *v = (sl_store_view_rec_t *)r->view;
	for (;;) {
		uint64_t e1 = atomic_load_explicit(&v->epoch, memory_order_acquire);
		if (SL_UNLIKELY(e1 & 1u)) {
			SL_CPU_PAUSE();
			continue;
		}
		uint32_t c = atomic_load_explicit(&v->count, memory_order_acquire);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&v->epoch, memory_order_relaxed) == e1) {
			*count = SL_MIN(c, r->max_headers);
			*epoch = e1;
			return;
		}
	}
}

void sl_store_reader_begin(const sl_store_reader_t *r, uint32_t *count, uint64_t *epoch)
{
	sl_store_reader_snapshot(r, count, epoch);
}

const uint8_t *sl_store_reader_ptr(const sl_store_reader_t *r, uint32_t height)
{
	return r->map + (size_t)height * HS;
}

int sl_store_reader_end(const sl_store_reader_t *r, uint64_t epoch)
{
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&r->view->epoch, memory_order_relaxed) == epoch;
}

int sl_store_reader_range(const sl_store_reader_t *r, uint32_t start, uint32_t n, uint8_t *out,
                          uint64_t *epoch)
{
	for (int attempt = 0; attempt < SL_STORE_READ_TRIES; attempt++) {
		uint32_t c;
		uint64_t e1;
		sl_store_reader_begin(r, &c, &e1);
		if (SL_UNLIKELY(start >= c))
			return -SL_STORE_ERR_BEYOND_TIP;
		uint32_t m = SL_MIN(n, c - start);
		memcpy(out, sl_store_reader_ptr(r, start), (size_t)m * HS);
		if (SL_LIKELY(sl_store_reader_end(r, e1))) {
			if (epoch != NULL)
				*epoch = e1;
			return (int)m;
		}
	}
	return -SL_STORE_ERR_EPOCH;
}
