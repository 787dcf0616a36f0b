/* sl_region.c — the shared control region (sl_region.h, layout in
   sl_region_private.h).  The region lays out, maps and validates; it
   formats no object (the creator does, sl_dpregion.c).  No EAL. */
#include "sl_region.h"
#include "sl_region_private.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <rte_ring.h>

#include "sl_cmdq.h"
#include "sl_log.h"
#include "sl_msgq.h"
#include "sl_pbook.h"
#include "sl_rangeq.h"
#include "sl_session.h"
#include "sl_status.h"
#include "sl_time.h"

_Static_assert(RTE_CACHE_LINE_SIZE <= SL_REGION_ALIGN, "region blocks must be cache aligned");
_Static_assert(SL_IS_POW2(SL_CMD_RING_DEPTH), "SL_CMD_RING_DEPTH must be a power of two");
_Static_assert(SL_IS_POW2(SL_EVENT_RING_DEPTH), "SL_EVENT_RING_DEPTH must be a power of two");

/* Byte offsets of everything, computed from n_lcores alone. */
typedef struct {
	uint64_t lcore[SL_MAX_LCORES];
	uint64_t cmd[SL_MAX_LCORES];
	uint64_t evt[SL_MAX_LCORES];
	uint64_t rangeq;
	uint64_t sess[SL_MAX_LCORES];
	uint64_t cmdq;
	uint64_t status;
	uint64_t pbook;
	uint64_t end; /* bytes used, before rounding to the page */
} sl_region_layout_t;

static size_t sl_ring_bytes(uint32_t depth)
{
	return sl_msgq_footprint(depth);
}

static void sl_region_layout(uint32_t n, sl_region_layout_t *l)
{
	uint64_t off = SL_ALIGN_UP((uint64_t)sizeof(sl_region_hdr_t), SL_REGION_ALIGN);
	for (uint32_t i = 0; i < n; i++) {
		l->lcore[i] = off;
		off = SL_ALIGN_UP(off + sizeof(sl_region_lcore_t), SL_REGION_ALIGN);
	}
	for (uint32_t i = 0; i < n; i++) {
		l->cmd[i] = off;
		off = SL_ALIGN_UP(off + sl_ring_bytes(SL_CMD_RING_DEPTH), SL_REGION_ALIGN);
		l->evt[i] = off;
		off = SL_ALIGN_UP(off + sl_ring_bytes(SL_EVENT_RING_DEPTH), SL_REGION_ALIGN);
	}
	l->rangeq = off;
	off = SL_ALIGN_UP(off + sl_rangeq_footprint(SL_RANGE_WINDOW), SL_REGION_ALIGN);
	for (uint32_t i = 0; i < n; i++) {
		l->sess[i] = off;
		off = SL_ALIGN_UP(off + sl_session_table_footprint(), SL_REGION_ALIGN);
	}
	l->cmdq = off;
	off = SL_ALIGN_UP(off + sl_cmdq_footprint(n), SL_REGION_ALIGN);
	l->status = off;
	off = SL_ALIGN_UP(off + sl_status_footprint(), SL_REGION_ALIGN);
	l->pbook = off;
	l->end = off + sl_pbook_footprint();
}

const char *sl_region_life_str(uint32_t life)
{
	switch (life) {
	case SL_LIFE_REGISTERING:
		return "registering";
	case SL_LIFE_READY:
		return "ready";
	case SL_LIFE_SHUTTING_DOWN:
		return "shutting_down";
	default:
		return "?";
	}
}

size_t sl_region_footprint(uint32_t n_lcores, size_t page)
{
	if (n_lcores == 0 || n_lcores > SL_MAX_LCORES || !SL_IS_POW2(page))
		return 0;
	if (sl_ring_bytes(SL_CMD_RING_DEPTH) == 0 || sl_ring_bytes(SL_EVENT_RING_DEPTH) == 0 ||
	    sl_rangeq_footprint(SL_RANGE_WINDOW) == 0 || sl_cmdq_footprint(n_lcores) == 0 ||
	    sl_session_table_align() > SL_REGION_ALIGN || sl_status_align() > SL_REGION_ALIGN ||
	    sl_pbook_align() > SL_REGION_ALIGN)
		return 0;
	sl_region_layout_t l;
	sl_region_layout(n_lcores, &l);
	return SL_ALIGN_UP((size_t)l.end, page);
}

int sl_region_path(char *out, size_t out_sz, const char *dir, const char *instance)
{
	if (SL_UNLIKELY(instance[0] == '\0' || strchr(instance, '/') != NULL))
		return -EINVAL;
	int n = snprintf(out, out_sz, "%s/sluice-%s.region", dir, instance);
	if (SL_UNLIKELY(n < 0 || (size_t)n >= out_sz))
		return -ENAMETOOLONG;
	return 0;
}

/* ---- create --------------------------------------------------------------- */

static bool sl_pid_alive(uint32_t pid)
{
	if (pid == 0 || pid > INT32_MAX)
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* sl_region_owner_pid maps an existing file at `path` and returns the
   dataplane pid recorded in it (0 if none, or the file is not a region). */
static uint32_t sl_region_owner_pid(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint32_t pid = 0;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(sl_region_hdr_t)) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED) {
			pid = atomic_load_explicit(&((sl_region_hdr_t *)p)->dp_pid,
			                           memory_order_acquire);
			munmap(p, (size_t)st.st_size);
		}
	}
	close(fd);
	return pid;
}

/* sl_region_open_excl creates `path`, replacing a stale region once. */
static int sl_region_open_excl(const char *path)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, SL_REGION_MODE);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST) {
			int e = errno;
			SL_ERR("region %s: cannot create: %s (check that the directory exists "
			       "and is writable)",
			       path, strerror(e));
			return -e;
		}
		uint32_t pid = sl_region_owner_pid(path);
		if (sl_pid_alive(pid)) {
			SL_ERR("region %s is in use by a live sluice-dp (pid %u): stop it first, "
			       "or give this node another [instance] name",
			       path, pid);
			return -EEXIST;
		}
		SL_WARN("region %s: replacing a stale region (sluice-dp pid %u is gone)", path,
		        pid);
		if (unlink(path) != 0 && errno != ENOENT) {
			int e = errno;
			SL_ERR("region %s: cannot remove the stale region: %s (remove it by hand)",
			       path, strerror(e));
			return -e;
		}
	}
	SL_ERR("region %s: another process keeps creating it: stop the other sluice-dp", path);
	return -EEXIST;
}

/* sl_region_page: the huge page size on hugetlbfs, else SL_REGION_PAGE. */
static size_t sl_region_page(int fd)
{
	struct statfs sfs;
	if (fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == HUGETLBFS_MAGIC &&
	    SL_IS_POW2((size_t)sfs.f_bsize))
		return (size_t)sfs.f_bsize;
	return SL_REGION_PAGE;
}

/* sl_region_header writes the header of a fresh (zero-filled) region: its
   geometry, every object's offset, the dataplane's identity, life =
   registering.  No object is formatted and no magic written: the creator
   formats the objects at these offsets, then sl_region_mark_formatted. */
static void sl_region_header(sl_region_hdr_t *h, size_t size, uint32_t n, const char *instance)
{
	sl_region_layout_t l;
	sl_region_layout(n, &l);
	h->layout_version = SL_REGION_LAYOUT;
	h->hdr_size = sizeof(sl_region_hdr_t);
	h->size = size;
	h->n_lcores = n;
	h->msg_size = SL_MSG_SIZE;
	h->cmd_ring_depth = SL_CMD_RING_DEPTH;
	h->event_ring_depth = SL_EVENT_RING_DEPTH;
	for (uint32_t i = 0; i < n; i++) {
		sl_region_lcore_t *lc = (sl_region_lcore_t *)((char *)h + l.lcore[i]);
		h->off_lcore[i] = l.lcore[i];
		lc->off_cmd_ring = l.cmd[i];
		lc->off_event_ring = l.evt[i];
		h->off_sess[i] = l.sess[i];
	}
	h->off_rangeq = l.rangeq;
	h->off_cmdq = l.cmdq;
	h->off_status = l.status;
	h->off_pbook = l.pbook;
	snprintf(h->instance, sizeof h->instance, "%s", instance);
	atomic_store_explicit(&h->life, SL_LIFE_REGISTERING, memory_order_relaxed);
	atomic_store_explicit(&h->dp_pid, (uint32_t)getpid(), memory_order_relaxed);
	atomic_store_explicit(&h->dp_heartbeat_ns, sl_now_ns(), memory_order_relaxed);
}

int sl_region_create(sl_region_t *r, const char *path, uint32_t n_lcores, const char *instance)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	if (SL_UNLIKELY(n_lcores == 0 || n_lcores > SL_MAX_LCORES ||
	                strlen(instance) >= sizeof(r->hdr->instance) ||
	                strlen(path) >= sizeof r->path)) {
		SL_ERR("region %s: bad arguments (lcores %u, 1..%d; instance '%s', < 32 chars)",
		       path, n_lcores, SL_MAX_LCORES, instance);
		return -EINVAL;
	}
	int fd = sl_region_open_excl(path);
	if (SL_UNLIKELY(fd < 0))
		return fd;
	size_t size = sl_region_footprint(n_lcores, sl_region_page(fd));
	void *p = MAP_FAILED;
	int rc = size == 0 ? -EINVAL : 0;
	if (rc == 0 && ftruncate(fd, (off_t)size) != 0)
		rc = -errno;
	if (rc == 0 && (p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
	                         0)) == MAP_FAILED)
		rc = -errno;
	if (SL_UNLIKELY(rc != 0)) {
		SL_ERR("region %s: cannot size or map %zu bytes: %s (on hugetlbfs: "
		       "reserve more huge pages, or use region_dir = /dev/shm)",
		       path, size, strerror(-rc));
		if (p != MAP_FAILED)
			munmap(p, size);
		unlink(path);
		close(fd);
		return rc;
	}
	sl_region_header(p, size, n_lcores, instance);
	r->hdr = p;
	r->size = size;
	r->fd = fd;
	r->owner = true;
	snprintf(r->path, sizeof r->path, "%s", path);
	return 0;
}

void sl_region_mark_formatted(sl_region_t *r)
{
	/* Every object the creator formatted is visible to whoever sees the
	   magic. */
	__atomic_store_n(&r->hdr->magic, SL_REGION_MAGIC, __ATOMIC_RELEASE);
}

/* ---- open ----------------------------------------------------------------- */

static bool sl_in_bounds(uint64_t off, uint64_t len, uint64_t size)
{
	return off % SL_REGION_ALIGN == 0 && off <= size && len <= size - off;
}

static bool sl_ring_ok(const sl_region_hdr_t *h, uint64_t off, uint32_t depth)
{
	if (!sl_in_bounds(off, sl_ring_bytes(depth), h->size) || off < h->hdr_size)
		return false;
	return sl_msgq_join((char *)h + off, depth) != NULL;
}

/* sl_region_check_v2 validates the layout-2 blocks: session tables, the
   command blocks, the status and the peer book. */
static const char *sl_region_check_v2(const sl_region_hdr_t *h, uint64_t fsize)
{
	for (uint32_t i = 0; i < h->n_lcores; i++) {
		if (!sl_in_bounds(h->off_sess[i], sl_session_table_footprint(), fsize) ||
		    h->off_sess[i] < h->hdr_size)
			return "a session table lies outside the region";
		sl_session_table_t *t = sl_session_table_join((char *)h + h->off_sess[i]);
		if (t == NULL || t->lcore != i)
			return "a session table is not formatted";
	}
	if (!sl_in_bounds(h->off_cmdq, sl_cmdq_footprint(h->n_lcores), fsize) ||
	    h->off_cmdq < h->hdr_size)
		return "the command blocks lie outside the region";
	sl_region_t tmp = {.hdr = (sl_region_hdr_t *)h, .size = fsize, .fd = -1};
	sl_cmdq_t q;
	if (sl_region_cmdq_join(&tmp, &q) != 0)
		return "the command blocks are not formatted";
	if (!sl_in_bounds(h->off_status, sl_status_footprint(), fsize) ||
	    h->off_status < h->hdr_size)
		return "the status lies outside the region";
	if (sl_status_join((char *)h + h->off_status) == NULL)
		return "the status is not formatted";
	if (!sl_in_bounds(h->off_pbook, sl_pbook_footprint(), fsize) || h->off_pbook < h->hdr_size)
		return "the peer book lies outside the region";
	if (sl_pbook_join((char *)h + h->off_pbook) == NULL)
		return "the peer book is not formatted";
	return NULL;
}

/* sl_region_check validates a mapped header against `fsize` file bytes;
   returns NULL if fine, else what is wrong. */
static const char *sl_region_check(const sl_region_hdr_t *h, uint64_t fsize)
{
	if (h->layout_version != SL_REGION_LAYOUT)
		return "layout version differs (rebuild sluice-dp and sluice-ctrl together)";
	if (h->hdr_size != sizeof(sl_region_hdr_t) || h->msg_size != SL_MSG_SIZE ||
	    h->cmd_ring_depth != SL_CMD_RING_DEPTH || h->event_ring_depth != SL_EVENT_RING_DEPTH)
		return "header, record or ring size differs (built with another .config)";
	if (h->size != fsize)
		return "size in the header differs from the file size (truncated?)";
	if (h->n_lcores == 0 || h->n_lcores > SL_MAX_LCORES)
		return "lcore count out of range";
	for (uint32_t i = 0; i < h->n_lcores; i++) {
		if (!sl_in_bounds(h->off_lcore[i], sizeof(sl_region_lcore_t), fsize) ||
		    h->off_lcore[i] < h->hdr_size)
			return "an lcore block lies outside the region";
		const sl_region_lcore_t *lc =
		    (const sl_region_lcore_t *)((const char *)h + h->off_lcore[i]);
		if (!sl_ring_ok(h, lc->off_cmd_ring, SL_CMD_RING_DEPTH) ||
		    !sl_ring_ok(h, lc->off_event_ring, SL_EVENT_RING_DEPTH))
			return "a ring lies outside the region or is not formatted";
	}
	if (!sl_in_bounds(h->off_rangeq, sl_rangeq_footprint(SL_RANGE_WINDOW), fsize) ||
	    h->off_rangeq < h->hdr_size)
		return "the range table lies outside the region";
	if (sl_rangeq_join((char *)h + h->off_rangeq) == NULL)
		return "the range table is not formatted";
	return sl_region_check_v2(h, fsize);
}

/* sl_region_map_existing maps `path`; returns the mapping in *p, *size. */
static int sl_region_map_existing(const char *path, int *fd, void **p, size_t *size)
{
	struct stat st;
	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		if (e == ENOENT)
			SL_DEBUG("region %s does not exist yet (is sluice-dp running?)", path);
		else
			SL_ERR("region %s: cannot open: %s", path, strerror(e));
		return -e;
	}
	if (fstat(*fd, &st) != 0 || st.st_size == 0) {
		SL_DEBUG("region %s is being created (empty); retry", path);
		return -ENOENT;
	}
	if ((size_t)st.st_size < sizeof(sl_region_hdr_t)) {
		SL_ERR("region %s: %lld bytes, shorter than a header: not a region (remove it)",
		       path, (long long)st.st_size);
		return -EPROTO;
	}
	*size = (size_t)st.st_size;
	*p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, *fd, 0);
	if (*p == MAP_FAILED) {
		int e = errno;
		SL_ERR("region %s: cannot map %zu bytes: %s", path, *size, strerror(e));
		return -e;
	}
	return 0;
}

int sl_region_open(sl_region_t *r, const char *path)
{
	int fd = -1;
	void *p = MAP_FAILED;
	size_t size = 0;
	memset(r, 0, sizeof *r);
	r->fd = -1;
	if (SL_UNLIKELY(strlen(path) >= sizeof r->path))
		return -ENAMETOOLONG;
	int rc = sl_region_map_existing(path, &fd, &p, &size);
	if (rc == 0) {
		const sl_region_hdr_t *h = p;
		uint64_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
		const char *why = NULL;
		if (magic == 0) {
			SL_DEBUG("region %s is not formatted yet (sluice-dp starting); retry",
			         path);
			rc = -ENOENT;
		} else if (magic != SL_REGION_MAGIC) {
			why = "bad magic: not a sluice region";
		} else {
			why = sl_region_check(h, size);
		}
		if (why != NULL) {
			SL_ERR("region %s: %s (stop sluice-dp and remove the file)", path, why);
			rc = -EPROTO;
		}
	}
	if (SL_UNLIKELY(rc != 0)) {
		if (p != MAP_FAILED)
			munmap(p, size);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	r->hdr = p;
	r->size = size;
	r->fd = fd;
	r->owner = false;
	snprintf(r->path, sizeof r->path, "%s", path);
	return 0;
}

void sl_region_close(sl_region_t *r)
{
	if (r->hdr == NULL)
		return;
	if (r->owner) {
		/* Unlink only our own file, never a successor created after a
		   stale replacement. */
		struct stat mine, now;
		if (fstat(r->fd, &mine) == 0 && stat(r->path, &now) == 0 &&
		    mine.st_dev == now.st_dev && mine.st_ino == now.st_ino)
			unlink(r->path);
	}
	munmap(r->hdr, r->size);
	close(r->fd);
	r->hdr = NULL;
	r->size = 0;
	r->fd = -1;
	r->owner = false;
}

/* ---- accessors -------------------------------------------------------------- */

sl_region_lcore_t *sl_region_lcore(const sl_region_t *r, uint32_t i)
{
	return (sl_region_lcore_t *)((char *)r->hdr + r->hdr->off_lcore[i]);
}

static uint64_t sl_region_obj_off(const sl_region_t *r, sl_region_obj_t which, uint32_t idx)
{
	const sl_region_hdr_t *h = r->hdr;
	bool per_lcore = which == SL_REGION_OBJ_CMD_RING || which == SL_REGION_OBJ_EVENT_RING ||
	                 which == SL_REGION_OBJ_SESS;
	if (SL_UNLIKELY(per_lcore ? idx >= h->n_lcores : idx != 0))
		return 0;
	switch (which) {
	case SL_REGION_OBJ_CMD_RING:
		return sl_region_lcore(r, idx)->off_cmd_ring;
	case SL_REGION_OBJ_EVENT_RING:
		return sl_region_lcore(r, idx)->off_event_ring;
	case SL_REGION_OBJ_SESS:
		return h->off_sess[idx];
	case SL_REGION_OBJ_RANGEQ:
		return h->off_rangeq;
	case SL_REGION_OBJ_CMDQ:
		return h->off_cmdq;
	case SL_REGION_OBJ_STATUS:
		return h->off_status;
	case SL_REGION_OBJ_PBOOK:
		return h->off_pbook;
	}
	return 0; /* not a kind */
}

void *sl_region_obj(const sl_region_t *r, sl_region_obj_t which, uint32_t idx)
{
	uint64_t off = sl_region_obj_off(r, which, idx);
	return SL_UNLIKELY(off == 0) ? NULL : (char *)r->hdr + off;
}

struct rte_ring *sl_region_cmd_ring(const sl_region_t *r, uint32_t i)
{
	return sl_msgq_of((char *)r->hdr + sl_region_lcore(r, i)->off_cmd_ring);
}

struct rte_ring *sl_region_event_ring(const sl_region_t *r, uint32_t i)
{
	return sl_msgq_of((char *)r->hdr + sl_region_lcore(r, i)->off_event_ring);
}

struct sl_session_table *sl_region_sess(const sl_region_t *r, uint32_t i)
{
	return (struct sl_session_table *)((char *)r->hdr + r->hdr->off_sess[i]);
}

int sl_region_cmdq_join(const sl_region_t *r, sl_cmdq_t *q)
{
	struct rte_ring *rings[SL_MAX_LCORES];
	uint32_t n = r->hdr->n_lcores;
	for (uint32_t i = 0; i < n; i++)
		rings[i] = sl_region_cmd_ring(r, i);
	return sl_cmdq_join(q, sl_region_obj(r, SL_REGION_OBJ_CMDQ, 0), rings, n);
}

/* ---- lifecycle ------------------------------------------------------------- */

uint32_t sl_region_life(const sl_region_t *r)
{
	return atomic_load_explicit(&r->hdr->life, memory_order_acquire);
}

int sl_region_life_advance(sl_region_t *r, sl_life_t to)
{
	if (SL_UNLIKELY((uint32_t)to > SL_LIFE_SHUTTING_DOWN))
		return -1;
	uint32_t cur = atomic_load_explicit(&r->hdr->life, memory_order_acquire);
	do {
		if (SL_UNLIKELY((uint32_t)to < cur))
			return -1;
		if ((uint32_t)to == cur)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(
	    &r->hdr->life, &cur, (uint32_t)to, memory_order_release, memory_order_acquire));
	return 0;
}

bool sl_region_dp_alive(const sl_region_t *r, uint64_t max_age_ns)
{
	if (!sl_pid_alive(atomic_load_explicit(&r->hdr->dp_pid, memory_order_acquire)))
		return false;
	uint64_t hb = atomic_load_explicit(&r->hdr->dp_heartbeat_ns, memory_order_acquire);
	uint64_t now = sl_now_ns();
	return now <= hb || now - hb <= max_age_ns;
}
