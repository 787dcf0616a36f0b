/* sl_cmdtab.h — the one command table of the control API (SPEC.md §9),
   the face's list that both sides are generated from: sl_api.c builds its
   dispatch (one handler per row, api_<id>) and its argument checks from
   it, and sluicectl builds its command list, usage text, argument parsing
   and reply timeouts from it.  Adding a command is one row here plus its
   handler in sl_api.c.  Owner: nobody (constant data, no state).

   A row: X(ID, id, "name", flags, wait_s, "help", (args...)) with each
   argument SL_CMDTAB_ARG(key, TYPE, required).  wait_s: how long sluicectl
   waits for the reply by default (0: SL_CMDTAB_WAIT_S).  Rows flagged
   SL_CMDTAB_F_OP are operations (SPEC §9 "Operations"): they also accept
   the arguments deadline_ms and wait, and a "tx" next to "id". */
#ifndef SL_CMDTAB_H
#define SL_CMDTAB_H

#include "sl_base.h"

#define SL_CMDTAB_F_DP     1u /* needs an attached dataplane (else NOT_READY) */
#define SL_CMDTAB_F_OP     2u /* an operation: tx, deadline_ms, wait */
#define SL_CMDTAB_F_ONE_OF 4u /* exactly one of its arguments (header.get) */

#define SL_CMDTAB_WAIT_S   10u /* sluicectl's default reply timeout */
#define SL_CMDTAB_ARGS_MAX 4u  /* most arguments of one command */

typedef enum {
	SL_CMDTAB_ARG_INT,  /* a non-negative integer */
	SL_CMDTAB_ARG_STR,  /* a non-empty string */
	SL_CMDTAB_ARG_PATH, /* a file path (sluicectl sends it absolute) */
	SL_CMDTAB_ARG_LIST, /* a list of strings (sluicectl: a,b,c) */
	SL_CMDTAB_ARG_ADDR, /* "a.b.c.d[:port]" */
	SL_CMDTAB_ARG_BOOL, /* true / false */
} sl_cmdtab_arg_type_t;

#define SL_CMDTAB_ARG(key, type, req) {#key, SL_CMDTAB_ARG_##type, req},

/* clang-format off */
#define SL_CMDTAB_LIST(X)                                                                          \
	X(STATUS, status, "status", 0, 0, "node state, tip, peers, chain, dataplane", ())          \
	X(STATS, stats, "stats", 0, 0, "dataplane counters (summed and per lcore) and ctrl's own", ()) \
	X(SHUTDOWN, shutdown, "shutdown", 0, 0, "shut the dataplane and sluice-ctrl down", ())      \
	X(PEERS, peers, "peers", SL_CMDTAB_F_DP, 0, "list sessions", ())                          \
	X(PEER_SHOW, peer_show, "peer.show", SL_CMDTAB_F_DP, 0, "one session",                    \
	  (SL_CMDTAB_ARG(session, INT, true)))                                                     \
	X(PEER_DISCONNECT, peer_disconnect, "peer.disconnect", SL_CMDTAB_F_DP, 0, "close a session", \
	  (SL_CMDTAB_ARG(session, INT, true)))                                                     \
	X(PEER_PARK, peer_park, "peer.park", SL_CMDTAB_F_DP, 0,                                   \
	  "park a session's header-sync service (the session stays)",                             \
	  (SL_CMDTAB_ARG(session, INT, true)))                                                     \
	X(PEER_PING, peer_ping, "peer.ping", SL_CMDTAB_F_DP | SL_CMDTAB_F_OP | SL_CMDTAB_F_ONE_OF, \
	  15, "PING a session (session=N) or every live one (all=true), answer the RTTs",          \
	  (SL_CMDTAB_ARG(session, INT, false) SL_CMDTAB_ARG(all, BOOL, false)))                    \
	X(PEER_BAN, peer_ban, "peer.ban", 0, 0,                                                    \
	  "ban an address (seconds=0: until unban), close its sessions",                           \
	  (SL_CMDTAB_ARG(addr, ADDR, true) SL_CMDTAB_ARG(seconds, INT, true)))                     \
	X(PEER_UNBAN, peer_unban, "peer.unban", 0, 0, "lift a ban",                                \
	  (SL_CMDTAB_ARG(addr, ADDR, true)))                                                       \
	X(PEER_CONNECT, peer_connect, "peer.connect", SL_CMDTAB_F_DP | SL_CMDTAB_F_OP, 60,         \
	  "connect to a.b.c.d[:port] (waits for the outcome)",                                     \
	  (SL_CMDTAB_ARG(addr, ADDR, true)))                                                       \
	X(SYNC_START, sync_start, "sync.start", SL_CMDTAB_F_DP | SL_CMDTAB_F_OP, 86400,            \
	  "sync up to a height (default: the best peer tip) and wait for it",                      \
	  (SL_CMDTAB_ARG(to_height, INT, false)))                                                  \
	X(SYNC_STATUS, sync_status, "sync.status", 0, 0, "header sync progress", ())              \
	X(HEADER_GET, header_get, "header.get", SL_CMDTAB_F_ONE_OF, 0,                             \
	  "one header by height or hash",                                                          \
	  (SL_CMDTAB_ARG(height, INT, false) SL_CMDTAB_ARG(hash, STR, false)))                     \
	X(HEADER_FETCH, header_fetch, "header.fetch", SL_CMDTAB_F_OP, 15,                          \
	  "one header by height: the store, else a peer whose STATUS claims it",                   \
	  (SL_CMDTAB_ARG(height, INT, true)))                                                      \
	X(HEADER_IMPORT, header_import, "header.import", SL_CMDTAB_F_OP, 3600,                     \
	  "import a header file", (SL_CMDTAB_ARG(path, PATH, true)))                               \
	X(HEADER_EXPORT, header_export, "header.export", SL_CMDTAB_F_OP, 3600,                     \
	  "export headers to a file",                                                              \
	  (SL_CMDTAB_ARG(path, PATH, true) SL_CMDTAB_ARG(from, INT, false)                         \
	   SL_CMDTAB_ARG(to, INT, false)))                                                         \
	X(OPS, ops, "ops", 0, 0, "operations running or ended in the last 60 s", ())              \
	X(OP_CANCEL, op_cancel, "op.cancel", 0, 0, "cancel an operation and its children",        \
	  (SL_CMDTAB_ARG(tx, INT, true)))                                                          \
	X(RANGES, ranges, "ranges", 0, 0, "the header-sync range table", ())                      \
	X(WATCH, watch, "watch", 0, 0, "stream events (topics=a,b)",                               \
	  (SL_CMDTAB_ARG(topics, LIST, true)))
/* clang-format on */

typedef enum {
#define SL_CMDTAB_ENUM(ID, id, name, flags, wait_s, help, args) SL_CMDTAB_##ID,
	SL_CMDTAB_LIST(SL_CMDTAB_ENUM)
#undef SL_CMDTAB_ENUM
	    SL_CMDTAB_CNT
} sl_cmdtab_id_t;

typedef struct {
	const char *key; /* NULL ends the list */
	sl_cmdtab_arg_type_t type;
	bool required;
} sl_cmdtab_arg_t;

typedef struct {
	sl_cmdtab_id_t id;
	const char *name;
	uint32_t flags;  /* SL_CMDTAB_F_* */
	uint32_t wait_s; /* sluicectl's reply timeout; 0: SL_CMDTAB_WAIT_S */
	const char *help;
	sl_cmdtab_arg_t args[SL_CMDTAB_ARGS_MAX + 1];
} sl_cmdtab_t;

/* The arguments every operation takes besides its own. */
extern const sl_cmdtab_arg_t sl_cmdtab_op_args[3];

/* sl_cmdtab holds the rows in list order, indexed by sl_cmdtab_id_t. */
extern const sl_cmdtab_t sl_cmdtab[SL_CMDTAB_CNT];

/* sl_cmdtab_find returns the row named `name`, or NULL. */
const sl_cmdtab_t *sl_cmdtab_find(const char *name);

/* sl_cmdtab_arg returns the argument `key` (len bytes, not terminated)
   that row `c` accepts, its own or (an operation) deadline_ms / wait, or
   NULL. */
const sl_cmdtab_arg_t *sl_cmdtab_arg(const sl_cmdtab_t *c, const char *key, size_t len);

#endif /* SL_CMDTAB_H */
