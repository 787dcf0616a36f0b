/* sl_dplink.h — sluice-ctrl's attachment to the dataplane's shared control
   region (DESIGN.md "Processes and shared memory").  Owner: the ctrl loop
   (single threaded).  The dataplane creates the region; ctrl only maps it,
   keeps its own fields (ctrl_pid, ctrl_heartbeat_ns, shutdown_req, the
   published status) and drains the lcores' event rings.  Either process may
   die: a dead or replaced dataplane is noticed on the next tick and ctrl
   re-attaches to the next one without a restart. */
#ifndef SL_DPLINK_H
#define SL_DPLINK_H

#include <sys/types.h>

#include "sl_base.h"
#include "sl_reconcile.h"
#include "sl_region.h"

/* A dataplane whose heartbeat is older than this is taken for dead. */
#define SL_DPLINK_DP_MAX_AGE_NS   (3ULL * 1000000000ULL)
/* A region file refused once (stale, another ctrl, shutting down, bad
   layout) is looked at again after this long. */
#define SL_DPLINK_RETRY_NS        (1000ULL * 1000000ULL)
/* A region file still being formatted is looked at again after this long
   (start-up: ctrl and the dataplane start together; do not wait long). */
#define SL_DPLINK_FORMAT_RETRY_NS (2ULL * 1000000ULL)
/* The attached region's file and the dataplane's heartbeat are checked at
   most this often (the tick itself may run every millisecond). */
#define SL_DPLINK_CHECK_NS        (10ULL * 1000000ULL)
/* Most event records drained from one lcore's ring per tick. */
#define SL_DPLINK_DRAIN_MAX       4096u

/* Hooks: every drained event record, and attach / detach (called right
   after attaching, before the first drain; and right before unmapping). */
typedef void (*sl_dplink_event_fn)(void *ctx, const sl_msg_t *m, uint64_t now_ns);
typedef void (*sl_dplink_attach_fn)(void *ctx, sl_region_t *r, bool attached, uint64_t now_ns);

typedef struct {
	sl_region_t region;
	sl_dplink_event_fn on_event;
	sl_dplink_attach_fn on_attach;
	void *hook_ctx;
	bool attached;
	char path[256]; /* sl_region_path(region_dir, instance) */
	dev_t dev;      /* identity of the attached file */
	ino_t ino;
	dev_t bad_dev; /* identity of the file refused last */
	ino_t bad_ino;
	bool have_bad;
	uint64_t retry_ns; /* do not re-open the refused file before this */
	uint64_t check_ns; /* next validity check of the attached region */
	int last_err;      /* last sl_region_open result, to log changes once */
	uint64_t events_drained;
	uint64_t attaches;
	uint64_t detaches;
	sl_reconcile_t rec; /* sessions seen up, checked against the session tables */
} sl_dplink_t;

/* sl_dplink_init prepares `l` (detached) for the region of `instance` in
   `region_dir`.  Returns 0, or -ENAMETOOLONG with a log line naming the
   path.  The local status is published by the header chain at attach. */
int sl_dplink_init(sl_dplink_t *l, const char *region_dir, const char *instance);

/* sl_dplink_set_hooks installs the event and attach hooks (either NULL). */
void sl_dplink_set_hooks(sl_dplink_t *l, sl_dplink_event_fn on_event, sl_dplink_attach_fn on_attach,
                         void *ctx);

/* sl_dplink_tick runs one ctrl tick: attach if detached (no region yet is
   normal and quiet), detach from a dead or replaced dataplane and look for
   the next (checked at most every SL_DPLINK_CHECK_NS), write
   ctrl_heartbeat_ns, drain every lcore's event ring (bounded per tick),
   then the reconcile sweep (sl_reconcile.h: a SESSION_DOWN that never
   came is reported through the event hook).
   Never blocks.  Returns the number of event records drained (the caller
   ticks faster while events flow). */
uint32_t sl_dplink_tick(sl_dplink_t *l, uint64_t now_ns);

/* sl_dplink_pending: attached and some lcore's event ring holds a
   record (a few loads: cheap enough to look between ticks). */
bool sl_dplink_pending(const sl_dplink_t *l);

/* sl_dplink_bell_arm, before an idle sleep: asks the attached dataplane
   to wake ctrl when an event is posted (sl_bell.h); true when armed (false:
   detached), *waiting when an event already waits (then do not sleep).
   sl_dplink_bell_disarm after the sleep. */
bool sl_dplink_bell_arm(sl_dplink_t *l, bool *waiting);
void sl_dplink_bell_disarm(sl_dplink_t *l);

/* sl_dplink_bell_trusted: attached, and the dataplane says its bell
   reaches this process (it probed it): an idle sleep may then last until
   the next tick, without looks at the rings in between. */
bool sl_dplink_bell_trusted(const sl_dplink_t *l);

/* sl_dplink_life: the attached region's lifecycle gate (sl_life_t), or -1
   when detached. */
int sl_dplink_life(const sl_dplink_t *l);

/* sl_dplink_heartbeat_age_ns: how long ago (sl_now_ns clock, shared by
   both processes) the attached dataplane last wrote its heartbeat; 0 when
   it is in the future, -1 when detached. */
int64_t sl_dplink_heartbeat_age_ns(const sl_dplink_t *l, uint64_t now_ns);

/* sl_dplink_request_shutdown sets shutdown_req in the attached region (the
   dataplane then shuts down).  Returns true if a dataplane was told. */
bool sl_dplink_request_shutdown(sl_dplink_t *l);

/* sl_dplink_fini detaches: clears ctrl_pid (if still ours) and unmaps.  It
   never stops the dataplane.  Safe when detached. */
void sl_dplink_fini(sl_dplink_t *l);

#endif /* SL_DPLINK_H */
