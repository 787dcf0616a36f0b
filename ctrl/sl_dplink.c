/* sl_dplink.c — see sl_dplink.h. */
#include "sl_dplink.h"
#include "sl_bell.h"
#include "sl_msgq.h"
#include "sl_msg.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_time.h"

int sl_dplink_init(sl_dplink_t *l, const char *region_dir, const char *instance)
{
	memset(l, 0, sizeof *l);
	l->region.fd = -1;
	l->last_err = 1; /* nothing logged yet */
	if (SL_UNLIKELY(sl_region_path(l->path, sizeof l->path, region_dir, instance) < 0)) {
		SL_ERR("region path for instance '%s' in '%s' is too long (max %zu bytes)",
		       instance, region_dir, sizeof l->path - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

int sl_dplink_life(const sl_dplink_t *l)
{
	return l->attached ? (int)sl_region_life(&l->region) : -1;
}

int64_t sl_dplink_heartbeat_age_ns(const sl_dplink_t *l, uint64_t now_ns)
{
	if (!l->attached)
		return -1;
	uint64_t hb = atomic_load_explicit(&l->region.hdr->dp_heartbeat_ns, memory_order_acquire);
	return now_ns > hb ? (int64_t)(now_ns - hb) : 0;
}

/* Remember the file just refused so it is not re-opened every tick. */
static void dplink_refuse(sl_dplink_t *l, dev_t dev, ino_t ino, uint64_t now_ns)
{
	l->have_bad = true;
	l->bad_dev = dev;
	l->bad_ino = ino;
	l->retry_ns = now_ns + SL_DPLINK_RETRY_NS;
}

static bool dplink_is_refused(const sl_dplink_t *l, const struct stat *st, uint64_t now_ns)
{
	return l->have_bad && st->st_dev == l->bad_dev && st->st_ino == l->bad_ino &&
	       now_ns < l->retry_ns;
}

/* Give up ctrl_pid if it is still ours; then unmap. */
static void dplink_detach(sl_dplink_t *l)
{
	uint32_t me = (uint32_t)getpid();
	if (l->attached && l->on_attach != NULL)
		l->on_attach(l->hook_ctx, &l->region, false, 0);
	sl_reconcile_fini(&l->rec);
	if (l->region.hdr != NULL) {
		atomic_compare_exchange_strong(&l->region.hdr->ctrl_pid, &me, 0);
		sl_region_close(&l->region);
	}
	memset(&l->region, 0, sizeof l->region);
	l->region.fd = -1;
	if (l->attached)
		l->detaches++;
	l->attached = false;
}

/* Another live ctrl already owns this region? */
static bool dplink_other_ctrl(sl_region_hdr_t *h, uint32_t *pid_out)
{
	uint32_t pid = atomic_load(&h->ctrl_pid);
	*pid_out = pid;
	if (pid == 0 || pid == (uint32_t)getpid())
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Claim ctrl_pid, then re-check the gate (post-insert fence): a dataplane
   that began shutting down meanwhile is left alone.  Returns true if the
   claim stands. */
static bool dplink_claim(sl_dplink_t *l)
{
	sl_region_hdr_t *h = l->region.hdr;
	uint32_t other;
	if (SL_UNLIKELY(dplink_other_ctrl(h, &other))) {
		SL_WARN("region %s is already served by sluice-ctrl pid %u; not attaching", l->path,
		        other);
		return false;
	}
	uint32_t me = (uint32_t)getpid();
	if (SL_UNLIKELY(!atomic_compare_exchange_strong(&h->ctrl_pid, &other, me)))
		return false; /* raced another ctrl: let the next try decide */
	atomic_thread_fence(memory_order_seq_cst);
	if (SL_UNLIKELY(sl_region_life(&l->region) == SL_LIFE_SHUTTING_DOWN)) {
		atomic_compare_exchange_strong(&h->ctrl_pid, &me, 0);
		SL_INFO("dataplane pid %u is shutting down; not attaching",
		        atomic_load(&h->dp_pid));
		return false;
	}
	return true;
}

static void dplink_try_attach(sl_dplink_t *l, uint64_t now_ns)
{
	struct stat st;
	if (stat(l->path, &st) != 0) {
		if (l->last_err != -ENOENT)
			SL_DEBUG("no dataplane region at %s yet; waiting", l->path);
		l->last_err = -ENOENT;
		return;
	}
	if (dplink_is_refused(l, &st, now_ns))
		return;
	int rc = sl_region_open(&l->region, l->path);
	if (rc != 0) {
		if (rc != l->last_err && rc != -ENOENT)
			SL_WARN("cannot attach region %s: %s; retrying", l->path, strerror(-rc));
		l->last_err = rc;
		memset(&l->region, 0, sizeof l->region);
		l->region.fd = -1;
		/* -ENOENT here: the file exists but is not formatted yet. */
		dplink_refuse(l, st.st_dev, st.st_ino, now_ns);
		if (rc == -ENOENT)
			l->retry_ns = now_ns + SL_DPLINK_FORMAT_RETRY_NS;
		return;
	}
	l->last_err = 0;
	if (!sl_region_dp_alive(&l->region, SL_DPLINK_DP_MAX_AGE_NS) || !dplink_claim(l)) {
		bool logged = l->have_bad && l->bad_dev == st.st_dev && l->bad_ino == st.st_ino;
		if (!logged)
			SL_INFO("region %s: dataplane pid %u not available (dead, shutting down "
			        "or owned); waiting for a new one",
			        l->path, atomic_load(&l->region.hdr->dp_pid));
		dplink_detach(l);
		dplink_refuse(l, st.st_dev, st.st_ino, now_ns);
		return;
	}
	if (sl_reconcile_init(&l->rec, l->region.hdr->n_lcores) != 0)
		SL_WARN("region %s: no reconcile belt (lost events would not be noticed)", l->path);
	l->attached = true;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->have_bad = false;
	l->attaches++;
	atomic_store(&l->region.hdr->ctrl_heartbeat_ns, now_ns);
	if (l->on_attach != NULL)
		l->on_attach(l->hook_ctx, &l->region, true, now_ns);
	SL_INFO("attached to dataplane pid %u (%u lcores, life %s) at %s",
	        atomic_load(&l->region.hdr->dp_pid), l->region.hdr->n_lcores,
	        sl_region_life_str(sl_region_life(&l->region)), l->path);
}

/* Still the same, living dataplane? */
static bool dplink_still_valid(sl_dplink_t *l, uint64_t now_ns)
{
	struct stat st;
	if (stat(l->path, &st) != 0 || st.st_dev != l->dev || st.st_ino != l->ino) {
		SL_WARN("region %s was removed or replaced; re-attaching", l->path);
		return false;
	}
	if (!sl_region_dp_alive(&l->region, SL_DPLINK_DP_MAX_AGE_NS)) {
		SL_WARN("dataplane pid %u is gone (dead or no heartbeat for %llu ms); waiting "
		        "for a new one",
		        atomic_load(&l->region.hdr->dp_pid),
		        (unsigned long long)(SL_DPLINK_DP_MAX_AGE_NS / SL_NS_PER_MS));
		dplink_refuse(l, st.st_dev, st.st_ino, now_ns);
		return false;
	}
	return true;
}

void sl_dplink_set_hooks(sl_dplink_t *l, sl_dplink_event_fn on_event, sl_dplink_attach_fn on_attach,
                         void *ctx)
{
	l->on_event = on_event;
	l->on_attach = on_attach;
	l->hook_ctx = ctx;
}

static uint32_t dplink_drain(sl_dplink_t *l, uint64_t now_ns)
{
	uint32_t n = l->region.hdr->n_lcores, drained = 0;
	sl_msg_t m;
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t k = 0; k < SL_DPLINK_DRAIN_MAX; k++) {
			if (sl_msgq_recv(sl_region_event_ring(&l->region, i), &m) != 0)
				break;
			l->events_drained++;
			drained++;
			sl_reconcile_seen(&l->rec, &m);
			if (l->on_event != NULL)
				l->on_event(l->hook_ctx, &m, now_ns);
			SL_DEBUG("event %s from lcore %u session %u gen %u (%u bytes)",
			         sl_evt_type_str(m.type), m.lcore, m.session, m.gen, m.len);
		}
	}
	return drained;
}

bool sl_dplink_pending(const sl_dplink_t *l)
{
	return l->attached && sl_bell_waiting(&l->region);
}

bool sl_dplink_bell_arm(sl_dplink_t *l, bool *waiting)
{
	*waiting = false;
	if (!l->attached)
		return false;
	*waiting = sl_bell_arm(&l->region);
	return true;
}

bool sl_dplink_bell_trusted(const sl_dplink_t *l)
{
	return l->attached && sl_bell_trusted(&l->region);
}

void sl_dplink_bell_disarm(sl_dplink_t *l)
{
	if (l->attached)
		sl_bell_disarm(&l->region);
}

uint32_t sl_dplink_tick(sl_dplink_t *l, uint64_t now_ns)
{
	if (l->attached && now_ns >= l->check_ns) {
		l->check_ns = now_ns + SL_DPLINK_CHECK_NS;
		if (!dplink_still_valid(l, now_ns))
			dplink_detach(l);
	}
	if (!l->attached)
		dplink_try_attach(l, now_ns);
	if (!l->attached)
		return 0;
	atomic_store_explicit(&l->region.hdr->ctrl_heartbeat_ns, now_ns, memory_order_release);
	uint32_t drained = dplink_drain(l, now_ns);
	sl_reconcile_sweep(&l->rec, &l->region, now_ns, l->on_event, l->hook_ctx);
	return drained;
}

bool sl_dplink_request_shutdown(sl_dplink_t *l)
{
	if (!l->attached)
		return false;
	atomic_store_explicit(&l->region.hdr->shutdown_req, 1, memory_order_release);
	SL_INFO("asked dataplane pid %u to shut down", atomic_load(&l->region.hdr->dp_pid));
	return true;
}

void sl_dplink_fini(sl_dplink_t *l)
{
	if (l->attached || l->region.hdr != NULL)
		dplink_detach(l);
}
