/* sl_ctrl.h — the state of one sluice-ctrl process (DESIGN.md "Control plane").
   One instance, owned by main(), wired there and read by the face
   (sl_api.c); the layers below it get pointers to their own parts only:
     face        sl_server (socket), sl_api (codec, dispatch), sl_cmdtab,
                 sl_render (JSON of results)
     face        sl_apiwatch (watch: event lines, subscriptions)
     face        sl_metrics (Prometheus /metrics over HTTP, [ctrl] metrics)
     operations  sl_op (the op table), sl_opkind (the kinds), sl_opnet
                 (the network kinds: send_and_await, retries), sl_watch
                 (watch subscribers)
     domain      sl_peermgr, sl_sync, sl_chainstore, sl_reactor, sl_branch,
                 sl_admit, sl_peers, sl_book, sl_seen, sl_peerio (an op's
                 requests to one peer), sl_storeread (the store's read
                 path: its own reader threads), sl_reconcile; sl_dplink
                 (the region)
   Each layer includes and calls only the ones below it.  Single threaded
   (the poll(2) loop in main()), so nothing here is locked; the read
   path's completions come back to the loop through its eventfd.
   Lifecycle as `status` reports it: "registering" until attached to a
   dataplane whose region life is ready, then "ready"; "shutting_down" once
   either side began shutting down. */
#ifndef SL_CTRL_H
#define SL_CTRL_H

#include "sl_base.h"
#include "sl_cfg.h"

#include "sl_chainstore.h"
#include "sl_dplink.h"
#include "sl_op.h"
#include "sl_opkind.h"
#include "sl_opnet.h"
#include "sl_peerio.h"
#include "sl_peermgr.h"
#include "sl_server.h"
#include "sl_storeread.h"
#include "sl_sync.h"
#include "sl_watch.h"

/* ctrl's API counters, reported by `stats` under "ctrl" (with the
   server's client counters and the dplink's event counters). */
typedef struct {
	uint64_t api_requests; /* request lines answered */
	uint64_t api_errors;   /* replies with ok:false */
} sl_ctrl_cnt_t;

#define SL_CTRL_READS_MAX   256u         /* header.get reads in flight */
#define SL_CTRL_READ_COOKIE (1ULL << 63) /* their storeread cookies: bit 63, not 62 */

/* A header.get waiting for its read: whom to answer. */
typedef struct {
	uint64_t cookie; /* 0: free */
	uint64_t client;
	int64_t req_id;
} sl_ctrl_read_t;

/* The `sync` watch topic's last line (at most 10 a second). */
typedef struct {
	uint64_t at_ns;
	uint32_t tip, target;
} sl_ctrl_watch_sync_t;

typedef struct sl_ctrl {
	sl_cfg_t cfg;
	const char *cfg_path;
	uint64_t start_ns;
	bool shutting_down; /* ctrl's own shutdown began (API `shutdown`) */
	sl_dplink_t dp;
	sl_server_t srv;
	sl_ctrl_cnt_t cnt;
	sl_peermgr_t pm;        /* sessions, admission, address book (sl_peermgr.h) */
	sl_chainstore_t *chain; /* the header chain at [ctrl] store (sl_chainstore.h) */
	sl_sync_t sync;         /* header sync: the reactor, wired (sl_sync.h) */
	sl_op_table_t ops;      /* running and recently ended operations (sl_op.h) */
	sl_opkind_t kinds;      /* what each op kind does over the domain (sl_opkind.h) */
	sl_peerio_t pio;        /* requests to one peer for an op, their answers (sl_peerio.h) */
	sl_opnet_dom_t net_dom; /* the domain the network ops read (sl_opnet.h) */
	sl_opnet_t net;         /* header.fetch, peer.ping: attempts and retries (sl_opnet.h) */
	sl_storeread_t *sr;     /* the store's read path; NULL: reads go to the chain */
	sl_watch_t watch;       /* watch subscribers (sl_watch.h) */
	struct sl_metrics *metrics; /* the /metrics endpoint; NULL: off (sl_metrics.h) */
	sl_ctrl_watch_sync_t watch_sync;
	uint64_t next_read; /* header.get cookies */
	sl_ctrl_read_t reads[SL_CTRL_READS_MAX];
} sl_ctrl_t;

/* sl_ctrl_state: the lifecycle word `status` reports, derived from ctrl's
   own shutdown flag and the attached region's life. */
const char *sl_ctrl_state(const sl_ctrl_t *c);

#endif /* SL_CTRL_H */
