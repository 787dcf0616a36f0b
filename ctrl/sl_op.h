/* sl_op.h — ctrl's operations and the op table (DESIGN.md "Operations",
   SPEC.md §9 "Operations (v1.1)").  The middle layer of ctrl: the face
   starts, finds, lists and cancels ops; the op kinds (sl_opkind.h) drive
   them over the domain.

   An op is one sl_op_t that owns all its state: kind, tx, state, deadline,
   parent, attempts, its waiting clients, its result or error, and the
   kind's own state (kst, laid out by the kind).  The table maps tx -> op
   only to find, cancel and sweep ops; there is no map per kind.  An op
   ends exactly once (sl_op_end): its running children end with it, its
   kind is told to let go of what it awaits (stop), the table's end hook
   hands the result to the waiting clients, and the op_done probe fires.
   An ended op stays SL_OP_KEEP_NS for replays and `ops`, then is freed.
   Probes (SPEC §11): op_start(tx, kind) at sl_op_start; op_done(tx, kind,
   status, ns) at its end, status = the sl_code_t it ended with (0 done),
   ns = its age.

   Time comes from the table's clock (sl_now_ns unless a test injects
   one).  Owner: the ctrl loop (single threaded); nothing here blocks. */
#ifndef SL_OP_H
#define SL_OP_H

#include "sl_base.h"
#include "sl_code.h"

#define SL_OP_KEEP_NS     (60ULL * 1000000000ULL) /* ended ops kept this long */
#define SL_OP_WAITERS_MAX 8u                      /* clients waiting on one op */
#define SL_OP_MAX         65536u                  /* ops in the table, running or kept */
#define SL_OP_KST_MAX     1280u                   /* bytes of kind state per op */
#define SL_OP_MSG_MAX     200u
#define SL_OP_TX_MAX      ((uint64_t)INT64_MAX) /* tx fits a JSON integer */

/* The kinds (SPEC §9): X(ID, "command name", default deadline in ms or 0
   for none).  The enum value is the kind number of the op probes. */
#define SL_OP_KIND_LIST(X)                                                                         \
	X(SYNC_START, "sync.start", 0)                                                             \
	X(HEADER_FETCH, "header.fetch", 10000)                                                     \
	X(HEADER_IMPORT, "header.import", 0)                                                       \
	X(HEADER_EXPORT, "header.export", 0)                                                       \
	X(PEER_PING, "peer.ping", 10000)                                                           \
	X(PEER_CONNECT, "peer.connect", 30000)

typedef enum {
	SL_OP_KIND_NONE = 0,
#define SL_OP_KIND_ENUM(ID, name, ms) SL_OP_KIND_##ID,
	SL_OP_KIND_LIST(SL_OP_KIND_ENUM)
#undef SL_OP_KIND_ENUM
	    SL_OP_KIND_CNT
} sl_op_kind_t;

typedef enum { SL_OP_RUNNING = 0, SL_OP_DONE, SL_OP_FAILED, SL_OP_CANCELLED } sl_op_state_t;

typedef enum {
	SL_OP_OK = 0,
	SL_OP_ERR_ARG,     /* unknown kind, tx out of range, or no waiter room */
	SL_OP_ERR_EXISTS,  /* start: the tx is in the table already (*out is that op) */
	SL_OP_ERR_FULL,    /* SL_OP_MAX ops in the table */
	SL_OP_ERR_NOMEM,   /* allocation failed */
	SL_OP_ERR_PARENT,  /* start: the parent is not a running op */
	SL_OP_ERR_UNKNOWN, /* cancel: no running op with this tx */
	SL_OP_ERR_CNT
} sl_op_err_t;

/* A client waiting for an op's result: the face's address for the reply
   (client serial, request id); the op layer never looks inside. */
typedef struct {
	uint64_t client;
	int64_t req_id;
} sl_op_waiter_t;

typedef struct sl_op sl_op_t;
typedef struct sl_op_table sl_op_table_t;

struct sl_op {
	uint64_t tx;
	uint64_t parent; /* the parent's tx, 0: none */
	sl_op_kind_t kind;
	sl_op_state_t state;
	uint32_t attempts;    /* the kind counts its tries (network ops) */
	uint32_t n_children;  /* children still running */
	uint64_t start_ns;    /* table clock */
	uint64_t end_ns;      /* 0 while running */
	uint64_t deadline_ms; /* 0: none */
	uint64_t deadline_ns; /* start_ns + deadline_ms; 0: none */
	uint32_t n_waiters;
	sl_op_waiter_t waiter[SL_OP_WAITERS_MAX];
	sl_code_t code; /* SL_CODE_OK when done, else why it failed */
	char message[SL_OP_MSG_MAX];
	_Alignas(16) uint8_t kst[SL_OP_KST_MAX]; /* the kind's state and result */
	/* the table's links */
	sl_op_t *hnext;
	sl_op_t *prev, *next;
};

/* What a kind does for the table (every hook may be NULL).
   step: advance a running op; called for every running op of the kind on
     each sl_op_tick (after the deadline sweep); may end it.
   stop: the op ended from outside its kind (cancel, deadline, its parent
     ended) while the domain may still work for it: let go of that.
   child_done: a child of this running op ended (child->state, ->code). */
typedef struct {
	void (*step)(void *ctx, sl_op_t *op, uint64_t now_ns);
	void (*stop)(void *ctx, sl_op_t *op);
	void (*child_done)(void *ctx, sl_op_t *op, const sl_op_t *child);
} sl_op_vt_t;

/* The table's end hook: op just ended (result or error set); the face
   answers op->waiter[] from it.  Called once per op. */
typedef void (*sl_op_end_fn)(void *ctx, const sl_op_t *op);

/* The table's notice hooks (watch, SPEC §9 `ops` topic): an op started
   (after its kind may have set it up: sl_op_started), or its kind reports
   progress (sl_op_progress).  Called on the loop; must not start or end
   ops. */
typedef void (*sl_op_note_fn)(void *ctx, const sl_op_t *op);
typedef uint64_t (*sl_op_clock_fn)(void *ctx);

typedef struct {
	uint64_t started, ended, timeouts, cancelled, replays, freed;
	uint64_t started_by_kind[SL_OP_KIND_CNT];                    /* started, by sl_op_kind_t */
	uint64_t ended_by_kind[SL_OP_KIND_CNT][SL_OP_CANCELLED + 1]; /* ended: [kind][state] */
} sl_op_cnt_t;

struct sl_op_table {
	sl_op_t **bucket; /* tx -> op chains */
	uint32_t n_buckets;
	sl_op_t *head, *tail; /* every op, in start order */
	uint32_t n_ops, n_running;
	uint64_t next_tx;
	sl_op_clock_fn clock;
	void *clock_ctx;
	sl_op_end_fn on_end;
	void *on_end_ctx;
	sl_op_note_fn on_start, on_progress;
	void *note_ctx;
	const sl_op_vt_t *vt[SL_OP_KIND_CNT];
	void *vt_ctx[SL_OP_KIND_CNT];
	sl_op_cnt_t cnt;
};

/* sl_op_table_init prepares an empty table; minted tx values start after
   tx_seed (a random seed keeps a restarted ctrl from repeating them).
   Returns SL_OP_OK or SL_OP_ERR_NOMEM. */
sl_op_err_t sl_op_table_init(sl_op_table_t *t, uint64_t tx_seed);

/* sl_op_table_fini frees every op (no hooks run).  Safe twice. */
void sl_op_table_fini(sl_op_table_t *t);

/* sl_op_set_clock injects the clock (NULL: sl_now_ns). */
void sl_op_set_clock(sl_op_table_t *t, sl_op_clock_fn clock, void *ctx);

/* sl_op_set_end_hook installs the end hook (NULL: none). */
void sl_op_set_end_hook(sl_op_table_t *t, sl_op_end_fn fn, void *ctx);

/* sl_op_set_note_hooks installs the start and progress hooks (either may
   be NULL) with one ctx. */
void sl_op_set_note_hooks(sl_op_table_t *t, sl_op_note_fn on_start, sl_op_note_fn on_progress,
                          void *ctx);

/* sl_op_set_kind installs the hooks of `kind` (vt may be NULL). */
void sl_op_set_kind(sl_op_table_t *t, sl_op_kind_t kind, const sl_op_vt_t *vt, void *ctx);

/* sl_op_now: the table's clock. */
uint64_t sl_op_now(const sl_op_table_t *t);

/* sl_op_start creates a running op of `kind` with transaction id tx (0:
   mint a fresh one), parent tx (0: none; else it must be running, and it
   counts this child) and deadline_ms (0: the kind's default, which may be
   none).  The op_start probe fires and the start hook is called.  Returns SL_OP_OK with *out set;
   or SL_OP_ERR_EXISTS with *out = the op that has this tx (running or kept: a tx never starts a
   second op); or ERR_ARG / ERR_FULL / ERR_NOMEM / ERR_PARENT with *out NULL. */
sl_op_err_t sl_op_start(sl_op_table_t *t, sl_op_kind_t kind, uint64_t tx, uint64_t parent,
                        uint64_t deadline_ms, sl_op_t **out);

/* sl_op_progress: op's kind moved its progress (kst); the progress hook
   is called if op is running.  Kinds call it at most a few times a
   second. */
void sl_op_progress(sl_op_table_t *t, const sl_op_t *op);

/* sl_op_find returns the op with this tx (running, or ended and kept), or
   NULL. */
sl_op_t *sl_op_find(const sl_op_table_t *t, uint64_t tx);

/* sl_op_attach adds a waiting client to a running op (its result goes to
   every waiter when it ends).  SL_OP_OK, or SL_OP_ERR_ARG when the op has
   ended or SL_OP_WAITERS_MAX wait already. */
sl_op_err_t sl_op_attach(sl_op_t *op, sl_op_waiter_t w);

/* sl_op_end ends a running op with `code` (SL_CODE_OK: done; CANCELLED:
   cancelled; any other: failed) and a message (printf; NULL: none), in
   this order: state and end time set; running children end CANCELLED;
   the end hook; the op_done probe; the parent's child_done.  It does not
   call the op's own stop hook (its kind ends it).  Ending an ended op
   does nothing.  The op stays valid until a later sl_op_tick frees it. */
void sl_op_end(sl_op_table_t *t, sl_op_t *op, sl_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* sl_op_cancel ends the running op `tx` and its children with CANCELLED
   (each one's stop hook first).  SL_OP_OK, or SL_OP_ERR_UNKNOWN when no
   op has this tx or it has ended. */
sl_op_err_t sl_op_cancel(sl_op_table_t *t, uint64_t tx);

/* sl_op_end_all ends every running op with `code` (each after its stop
   hook), e.g. SHUTTING_DOWN when ctrl shuts down; returns how many. */
uint32_t sl_op_end_all(sl_op_table_t *t, sl_code_t code, const char *why);

/* sl_op_tick runs, in this order: the deadline sweep (every running op
   past its deadline ends TIMEOUT after its stop hook, whatever it awaits:
   deadlines before completions), the step of every running op, and the
   freeing of ops ended more than SL_OP_KEEP_NS ago.  Call it at least
   every 100 ms: no op then outlives its deadline by more than that. */
void sl_op_tick(sl_op_table_t *t);

/* sl_op_next walks the table in start order: sl_op_next(t, NULL) is the
   oldest op, NULL after the last.  Do not end or start ops while walking. */
sl_op_t *sl_op_next(const sl_op_table_t *t, const sl_op_t *op);

/* sl_op_running: ops not yet ended. */
uint32_t sl_op_running(const sl_op_table_t *t);

/* sl_op_kind_str / sl_op_state_str / sl_op_err_str name things for the API
   and logs ("peer.connect", "running", ...); "?" out of range. */
const char *sl_op_kind_str(sl_op_kind_t k);
const char *sl_op_state_str(sl_op_state_t s);
const char *sl_op_err_str(sl_op_err_t e);

/* sl_op_kind_deadline_ms: the kind's default deadline (0: none). */
uint64_t sl_op_kind_deadline_ms(sl_op_kind_t k);

#endif /* SL_OP_H */
