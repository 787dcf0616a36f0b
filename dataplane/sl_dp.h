/* sl_dp.h — the process-wide context of sluice-dp (the DPDK primary).
   One instance, owned by the main lcore: filled before the workers are
   launched and read-only for them afterwards, except `stop`, which the
   main lcore raises once (signal or ctrl's shutdown_req) and every worker
   polls once per cycle, and `store`, which the main lcore sets once.  Addresses are kept in host
   order. */
#ifndef SL_DP_H
#define SL_DP_H

#include <rte_ether.h>

#include "sl_base.h"
#include "sl_bell.h"
#include "sl_cfg.h"
#include "sl_heap.h"
#include "sl_pbook.h"
#include "sl_region.h"
#include "sl_status.h"

struct rte_mempool;
struct sl_handoff;
struct sl_store_reader;

typedef struct sl_dp {
	sl_cfg_t cfg;
	sl_region_t region;
	/* The region's published status and peer book, joined once when the
	   region is made; read by every lcore (writer: ctrl). */
	sl_status_t *status;
	sl_pbook_t *pbook;
	/* Where the pool and the routines' state live (sl_heap.h); made by
	   the main lcore before the port, removed after the workers ended. */
	sl_heap_t heap;
	struct rte_mempool *pool;
	uint16_t port_id;
	uint16_t n_workers;        /* worker lcores = RX/TX queue pairs */
	struct rte_ether_addr mac; /* our port's MAC */
	uint32_t ipv4;             /* our address (host order) */
	uint32_t netmask;          /* from prefix_len (host order) */
	uint32_t gateway;          /* 0 when none configured */
	uint16_t udp_port;
	_Atomic uint32_t stop; /* owner: main lcore; 1 = leave the poll loops */
	/* The header store's read side ([ctrl] store), shared read-only by every
	   lcore; NULL until ctrl has created the store.  Owner: the main lcore,
	   which opens it (retried every 10 ms, sl_hdrmap_try_open) and publishes
	   it with a release store; closed after the workers ended. */
	struct sl_store_reader *_Atomic store;
	uint64_t store_next_try_ns; /* main lcore only */
	/* The port's link as the main lcore last read it (sl_port_link_poll).
	   link_epoch counts the times it was seen coming up (the first time
	   included); each worker compares it once per tick and sends again at
	   once what a down link swallowed (ARP requests, HELLOs). */
	_Atomic uint32_t link_epoch; /* owner: main lcore */
	bool link_up;                /* main lcore only */
	uint64_t link_next_ns;       /* main lcore only: next read */
	/* Rings that carry a frame from the worker that received it to the
	   worker owning its session (sl_handoff.h).  Set by the main lcore
	   before the launch, read-only for the workers. */
	struct sl_handoff *handoff;
	/* ctrl's doorbell (sl_bell.h): the main lcore wakes a sleeping ctrl
	   when an event waits for it.  Main lcore only. */
	sl_bell_t bell;
} sl_dp_t;

/* sl_dp_stop_requested reads the stop flag (relaxed; one load per cycle). */
static inline bool sl_dp_stop_requested(const sl_dp_t *dp)
{
	return atomic_load_explicit(&dp->stop, memory_order_relaxed) != 0;
}

/* sl_dp_signalled is true once SIGTERM or SIGINT arrived (sl_dp_main.c). */
bool sl_dp_signalled(void);

#endif /* SL_DP_H */
