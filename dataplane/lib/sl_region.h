/* sl_region.h — the shared control region (DESIGN.md "Processes and shared
   memory").  One named shared-memory file, created and sized by sluice-dp
   (the DPDK primary), mapped by sluice-ctrl (no EAL).  Position independent:
   everything inside is reached by offsets from the base, never pointers.
   A workspace of objects: the region names each object's offset
   (sl_region_obj) and holds the header (lifecycle, heartbeats, identity);
   the creator formats each object with its own new() (sl_dpregion.h) and
   every process joins it with its own join().

   Layout: header | per-lcore blocks | rings | range table | session tables |
   command blocks | published status | peer book (sl_region_private.h).
   Per-lcore block: counters (owner: that lcore), a command ring (ctrl ->
   lcore, single producer ctrl, single consumer the lcore) and an event ring
   (lcore -> ctrl, single producer the lcore, single consumer ctrl): sl_msgq
   rings of fixed-size sl_msg_t records.

   Field owners (one writer each):
     life, dp_pid, dp_heartbeat_ns, n_lcores, dp identity,
     dp_bell_pid                                           -> sluice-dp
     ctrl_pid, ctrl_heartbeat_ns, shutdown_req             -> sluice-ctrl
     ctrl_bell: armed by sluice-ctrl, cleared by either     (sl_bell.h)
     the status and the peer book (seqlocks)               -> sluice-ctrl
     lcore[i].cnt                                          -> lcore i */
#ifndef SL_REGION_H
#define SL_REGION_H

#include "sl_base.h"
#include "sl_counters.h"
#include "sl_rss.h"
#include "sl_msgq.h"

struct rte_ring;
struct sl_session_table;

/* Lifecycle gate (DESIGN.md).  Moves forward only. */
typedef enum {
	SL_LIFE_REGISTERING = 0,
	SL_LIFE_READY = 1,
	SL_LIFE_SHUTTING_DOWN = 2,
} sl_life_t;

/* sl_region_life_str: "registering" | "ready" | "shutting_down" | "?". */
const char *sl_region_life_str(uint32_t life);

typedef struct SL_CACHE_ALIGN {
	sl_lcore_cnt_t cnt;        /* owner: lcore */
	uint64_t off_cmd_ring;     /* rte_ring, ctrl -> lcore */
	uint64_t off_event_ring;   /* rte_ring, lcore -> ctrl */
	_Atomic uint32_t lcore_id; /* DPDK lcore id, set by dp at start */
	_Atomic uint32_t running;  /* 1 while the poll loop runs (owner: lcore) */
} sl_region_lcore_t;

typedef struct SL_CACHE_ALIGN {
	uint64_t magic;          /* SL_REGION_MAGIC, written last by create */
	uint32_t layout_version; /* SL_REGION_LAYOUT */
	uint32_t hdr_size;       /* sizeof(sl_region_hdr_t) */
	uint64_t size;           /* bytes in the whole region */
	uint32_t n_lcores;       /* worker lcores (blocks in use) */
	uint32_t msg_size;       /* SL_MSG_SIZE */
	uint32_t cmd_ring_depth;
	uint32_t event_ring_depth;
	uint64_t off_lcore[SL_MAX_LCORES];
	uint64_t off_rangeq;
	uint64_t off_sess[SL_MAX_LCORES]; /* sl_session_table_t, owner: lcore i */
	uint64_t off_cmdq;                /* sl_cmdq blocks (sl_cmdq.h) */
	uint64_t off_status;              /* sl_status (sl_status.h), owner: ctrl */
	uint64_t off_pbook;               /* sl_pbook (sl_pbook.h), owner: ctrl */

	/* owner: sluice-dp */
	_Atomic uint32_t life;
	_Atomic uint32_t dp_pid;
	_Atomic uint64_t dp_heartbeat_ns; /* sl_now_ns() of the main lcore */
	uint32_t dp_ipv4;                 /* host order */
	uint16_t dp_udp_port;
	uint8_t dp_mac[6];
	char instance[32];
	sl_rss_t rss;                 /* flow placement over the workers; written before READY */
	_Atomic uint32_t dp_bell_pid; /* the ctrl its bell reaches, 0: none (sl_bell.h) */

	/* owner: sluice-ctrl, written at attach before it first sends a
	   command (the dataplane reads them to build HELLO / HELLO_ACK) */
	uint8_t node_id[32];  /* this node's id (SPEC §4) */
	uint8_t chain_id[32]; /* genesis header hash, wire order */

	/* owner: sluice-ctrl */
	_Atomic uint32_t ctrl_pid;
	_Atomic uint32_t shutdown_req; /* ctrl asks dp to shut down */
	_Atomic uint64_t ctrl_heartbeat_ns;
	_Atomic uint32_t ctrl_bell; /* 1: ctrl sleeps, wake it for an event (sl_bell.h) */
} sl_region_hdr_t;

/* Process-local handle (not in shared memory). */
typedef struct sl_region {
	sl_region_hdr_t *hdr;
	size_t size;
	int fd;
	bool owner; /* created (and so unlinks) */
	char path[256];
} sl_region_t;

/* sl_region_footprint: bytes a region with `n_lcores` worker lcores needs
   (rounded up to `page` bytes, a power of two: 4096 for /dev/shm, the huge
   page size on hugetlbfs); 0 if n_lcores is 0 or over SL_MAX_LCORES. */
size_t sl_region_footprint(uint32_t n_lcores, size_t page);

/* sl_region_path builds the region file path for `instance` in `dir`
   ("/dev/shm" or a hugetlbfs mount): "<dir>/sluice-<instance>.region". */
int sl_region_path(char *out, size_t out_sz, const char *dir, const char *instance);

/* sl_region_create (sluice-dp) creates, sizes and maps a region at `path`
   for `n_lcores` lcores and writes its header: geometry, the offset of
   every object (sl_region_obj), zero counters, life = registering.  It
   formats no object and writes no magic: the creator formats each object
   with its own new() at sl_region_obj, then calls sl_region_mark_formatted
   (until then sl_region_open answers -ENOENT).  A stale file left by a dead dataplane
   (its dp_pid no longer alive) is replaced; a live one is refused (-EEXIST).
   Works on /dev/shm and on hugetlbfs (size rounded to the huge page).
   Every page is allocated and mapped here (MAP_POPULATE): the lcores'
   first lap of their rings takes no page fault.  Returns 0 and fills *r,
   or a negative errno with one log line naming the path and the fix. */
int sl_region_create(sl_region_t *r, const char *path, uint32_t n_lcores, const char *instance);

/* sl_region_mark_formatted (the creator, once every object is formatted)
   writes the magic, release: a process that opens the region sees every
   object formatted. */
void sl_region_mark_formatted(sl_region_t *r);

/* sl_region_open (sluice-ctrl) maps an existing region read-write, every
   page mapped at once (no fault on ctrl's first lap of a ring), and
   validates magic, layout version, header size, size against the file,
   every offset against the size and every object with its own join.
   Returns 0, -ENOENT (no dataplane yet:
   no file, or a file not formatted yet — retry), or -EPROTO (not a region
   of this layout: bad magic, version, sizes, truncated, offsets out of
   bounds), logging the cause once. */
int sl_region_open(sl_region_t *r, const char *path);

/* sl_region_close unmaps; the creator also unlinks the file (so nothing is
   left behind).  Safe on a zeroed handle. */
void sl_region_close(sl_region_t *r);

/* The objects the region places (one kind per shared object; the creator
   formats each with its own new(), every process joins it with its own
   join()).  Per-lcore kinds take idx < n_lcores, the others idx 0. */
typedef enum {
	SL_REGION_OBJ_CMD_RING,   /* sl_msgq, ctrl -> lcore idx, SL_CMD_RING_DEPTH */
	SL_REGION_OBJ_EVENT_RING, /* sl_msgq, lcore idx -> ctrl, SL_EVENT_RING_DEPTH */
	SL_REGION_OBJ_SESS,       /* sl_session table of lcore idx */
	SL_REGION_OBJ_RANGEQ,     /* sl_rangeq, SL_RANGE_WINDOW ranges */
	SL_REGION_OBJ_CMDQ,       /* sl_cmdq blocks of every lcore */
	SL_REGION_OBJ_STATUS,     /* sl_status, the published local status */
	SL_REGION_OBJ_PBOOK,      /* sl_pbook, the GET_PEERS snapshot */
} sl_region_obj_t;

/* sl_region_obj: the memory of object `which` number `idx` in r (its
   footprint bytes, SL_REGION_ALIGN aligned), or NULL for an idx out of
   range or an unknown kind.  Not a join: nothing is checked. */
void *sl_region_obj(const sl_region_t *r, sl_region_obj_t which, uint32_t idx);

/* Accessors; i < hdr->n_lcores. */
sl_region_lcore_t *sl_region_lcore(const sl_region_t *r, uint32_t i);
/* Lcore i's command ring (ctrl -> lcore) and event ring (lcore -> ctrl),
   for a caller that holds a region open validated (sl_msgq_of: no
   checks); their traffic goes through sl_msgq_send / _recv / _room, each
   side holding the ring. */
struct rte_ring *sl_region_cmd_ring(const sl_region_t *r, uint32_t i);
struct rte_ring *sl_region_event_ring(const sl_region_t *r, uint32_t i);
/* The session table of lcore i (sl_session.h), for a caller that holds a
   region open validated. */
struct sl_session_table *sl_region_sess(const sl_region_t *r, uint32_t i);

/* sl_region_cmdq_join fills *q with a handle on r's command blocks and its
   lcores' command rings (sl_cmdq_join).  Returns 0 or -EPROTO. */
struct sl_cmdq;
int sl_region_cmdq_join(const sl_region_t *r, struct sl_cmdq *q);

/* Lifecycle.  sl_region_life_advance moves the gate forward only (a
   backward move is refused, returns -1); release ordering, so everything
   written before is visible to a reader that sees the new state. */
uint32_t sl_region_life(const sl_region_t *r);
int sl_region_life_advance(sl_region_t *r, sl_life_t to);

/* sl_region_dp_alive: the dataplane's pid exists and its heartbeat is
   younger than `max_age_ns`. */
bool sl_region_dp_alive(const sl_region_t *r, uint64_t max_age_ns);

#endif /* SL_REGION_H */
