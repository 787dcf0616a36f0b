/* sl_storeread.h — the header store's read path (DESIGN.md "Control plane"
   → Header store; SPEC.md §9, last bullet of "Operations (v1.1)").

   Reads by height run on a small reader pool (pthreads) against the store's
   lock-free reader (sl_store_reader_t: the committed chain mapped read-only,
   epoch-checked).  Three permit pools (sl_permit.h) bound them:
     read    SL_READ_PERMITS.  A read takes one when it is admitted and holds
             it while queued and while a reader runs it, until it completes,
             fails or passes its deadline (default 5 s, counted from submit:
             waiting for a permit included → TIMEOUT).  The request queue has
             exactly SL_READ_PERMITS places, so a permit holder always finds
             room; nothing else throttles reads.
     stream  SL_STREAM_PERMITS.  Export and watch hold one instead of read
             permits, so saturated reads never block their setup.  A stream's
             range is resolved (clamped to the committed tip, epoch noted)
             when it is opened, before it waits; none free within the stream
             wait (default 5 s) → BUSY.
     write   one.  A truncation (reorg) takes it, then drains the read pool:
             new reads wait behind it (a writer is served before later
             readers), reads in flight finish or pass their deadline, and the
             drain ends early on cancel or shutdown.
   Waiters are admitted in FIFO order when a permit comes back.  A timer
   thread enforces deadlines: a read stuck in a reader gets TIMEOUT and its
   permit back at its deadline; the reader's late result is dropped.

   Every accepted request completes exactly once, with the caller's cookie,
   through the completion queue: the loop polls sl_storeread_fd (an
   eventfd, readable while completions wait) and takes them with
   sl_storeread_poll.  Shutdown closes the pools: waiting, queued and running
   requests complete SHUTTING_DOWN at once, and every later call fails with
   SHUTTING_DOWN without waiting.

   Owners.  The sl_storeread_t is created, polled, shut down and deleted by
   ctrl's control loop (one thread).  get, stream_open and cancel are
   thread-safe but meant for that loop; stream_read and stream_close may run
   on any thread (an export worker); truncate runs on the thread that owns
   the store's writer (the loop), cancel_truncate on any thread.  Every
   field of sl_storeread_t is private to sl_storeread.c: the table, queues
   and counters under its mutex; each reader thread owns the request it
   runs until it re-takes the mutex.  No JSON, no sockets.

   How ctrl uses it (sl_api, sl_opkind, sl_opnet, sl_watch, sl_sync):
     header.get {height}   sl_storeread_get({.height}, tx); the completion's
                           hdr/hash answer it; NOT_FOUND, TIMEOUT,
                           SHUTTING_DOWN, CANCELLED map to the API codes of
                           the same names.
     header.get {hash}     on the loop, sl_chainstore_find(hash) → height
                           (NOT_FOUND if absent), then sl_storeread_get with
                           .want_hash = hash: a reorg between the two gives
                           NOT_FOUND, never another chain's header.
     header.fetch (store)  sl_storeread_get({.height, .deadline_ns = the op's
                           deadline}, tx): OK answers with source "store";
                           NOT_FOUND starts the network half; TIMEOUT or
                           BUSY leave the op to the network half too, within
                           its own deadline.
     header.export         on the loop, resolve the args (from, to: default
                           tip) and sl_storeread_stream_open(&range, tx).
                           RANGE → BAD_REQUEST at once.  The OK completion
                           carries the stream; hand it to the export worker,
                           which reads chunks with sl_storeread_stream_read
                           (REORGED: the chain moved, fail the op), writes
                           the temp file, renames it, and calls
                           sl_storeread_stream_close on every path.  BUSY →
                           the op fails BUSY.
     watch                 sl_storeread_stream_open(NULL, tx) holds a stream
                           permit for the subscription; close it when the
                           subscriber goes.
     op.cancel             sl_storeread_cancel(sr, tx): a waiting or running
                           read completes CANCELLED at once.
     reorg truncation      the reactor's chain truncate callback (sl_sync
                           ch_truncate) becomes sl_storeread_truncate(sr,
                           fn, ctx, sl_now_ns() + SL_STOREREAD_DEADLINE_DEFAULT)
                           with fn calling sl_chainstore_truncate on the
                           loop thread (the store's writer).  The loop waits
                           only for the reads in flight: microseconds for
                           mapped reads, never past the read deadline (a
                           stuck read loses its permit then).  TIMEOUT,
                           CANCELLED or SHUTTING_DOWN mean the store was not
                           touched: return SL_CHAINSTORE_ERR_STORE so the
                           reorg is retried or abandoned.
     shutdown              sl_storeread_shutdown in the loop's shutdown
                           step, then poll once more to fail the waiting
                           ops; sl_storeread_delete after the loop ends. */
#ifndef SL_STOREREAD_H
#define SL_STOREREAD_H

#include "sl_base.h"
#include "sl_store.h"

#define SL_STOREREAD_READERS_DEFAULT     4u            /* reader threads */
#define SL_STOREREAD_REQUESTS_DEFAULT    2048u         /* requests in the table */
#define SL_STOREREAD_DEADLINE_DEFAULT    5000000000ULL /* ns: read deadline */
#define SL_STOREREAD_STREAM_WAIT_DEFAULT 5000000000ULL /* ns: wait for a stream permit */

/* One reason per failure; with OK, the same enum indexes the completion
   counters (sl_storeread_stats_t.done). */
#define SL_STOREREAD_ERR_LIST(X)                                                                   \
	X(NOT_FOUND, "not_found")         /* no header there (or not the wanted hash) */           \
	X(TIMEOUT, "timeout")             /* read: its deadline passed (waiting included) */       \
	X(BUSY, "busy")                   /* no stream permit in time; request table full */       \
	X(SHUTTING_DOWN, "shutting_down") /* the pools are closed */                               \
	X(CANCELLED, "cancelled")         /* sl_storeread_cancel, cancel_truncate */               \
	X(RANGE, "range")                 /* stream range outside the chain, or from > to */       \
	X(REORGED, "reorged")             /* a truncation moved the chain under the read */        \
	X(ARG, "bad_argument")            /* NULL, unknown stream, start outside the range */

typedef enum {
	SL_STOREREAD_OK = 0,
#define SL_STOREREAD_X_ENUM(name, str) SL_STOREREAD_ERR_##name,
	SL_STOREREAD_ERR_LIST(SL_STOREREAD_X_ENUM)
#undef SL_STOREREAD_X_ENUM
	    SL_STOREREAD_ERR__COUNT
} sl_storeread_err_t;

/* sl_storeread_err_str names a result ("timeout", ...); "unknown" if none. */
const char *sl_storeread_err_str(sl_storeread_err_t e);

/* sl_storeread_hook_fn is called by a reader thread just before it reads
   `height` (no lock held).  For tests (a gate that holds readers); NULL in
   production. */
typedef void (*sl_storeread_hook_fn)(void *ctx, uint32_t height);

typedef struct {
	const char *dir;           /* the store directory; a writer has opened it */
	uint32_t readers;          /* reader threads; 0: SL_STOREREAD_READERS_DEFAULT */
	uint32_t max_requests;     /* table size; 0: SL_STOREREAD_REQUESTS_DEFAULT */
	uint64_t read_deadline_ns; /* 0: SL_STOREREAD_DEADLINE_DEFAULT */
	uint64_t stream_wait_ns;   /* 0: SL_STOREREAD_STREAM_WAIT_DEFAULT */
	sl_storeread_hook_fn before_read;
	void *hook_ctx;
} sl_storeread_opts_t;

typedef struct sl_storeread sl_storeread_t;

/* A granted stream: the handle to read and close, and its resolved range.
   Owned by the holder until sl_storeread_stream_close. */
typedef struct {
	uint32_t id;       /* opaque: slot and generation */
	uint32_t from, to; /* inclusive heights; both 0 for a watch (no range) */
	uint64_t epoch;    /* the chain epoch the range was resolved in */
	bool has_range;
} sl_storeread_stream_t;

/* What a stream covers: heights from..to inclusive; to = UINT32_MAX means
   the committed tip at open. */
typedef struct {
	uint32_t from, to;
} sl_storeread_range_t;

/* A header read. */
typedef struct {
	uint32_t height;
	const uint8_t *want_hash; /* NULL, or 32 bytes (wire order) the header must hash to */
	uint64_t deadline_ns;     /* absolute sl_now_ns(); 0 or beyond the read deadline:
	                             submit time + read deadline */
} sl_storeread_get_t;

typedef enum { SL_STOREREAD_KIND_GET = 1, SL_STOREREAD_KIND_STREAM } sl_storeread_kind_t;

/* One completion, copied out by sl_storeread_poll. */
typedef struct {
	uint64_t cookie;
	sl_storeread_kind_t kind;
	sl_storeread_err_t err;
	uint32_t height;                  /* GET: the height asked */
	uint8_t hdr[SL_STORE_HDR_SIZE];   /* GET, OK only */
	uint8_t hash[SL_STORE_HASH_SIZE]; /* GET, OK only (wire order) */
	sl_storeread_stream_t stream;     /* STREAM, OK only */
} sl_storeread_done_t;

/* Counters and gauges (stats, tests).  done[e]: completions by result. */
typedef struct {
	uint32_t read_held, stream_held; /* permits out */
	uint32_t read_waiting, stream_waiting, queued, running;
	uint32_t abandoned; /* readers still busy with a request that completed */
	bool draining;      /* a truncation holds the write permit */
	uint64_t done[SL_STOREREAD_ERR__COUNT];
	uint64_t truncations;
} sl_storeread_stats_t;

/* sl_storeread_new opens the store's reader at o->dir (a writer must have
   opened the store), makes the pools, the queues and the eventfd, and starts
   the reader and timer threads.  NULL (one log line) on failure. */
sl_storeread_t *sl_storeread_new(const sl_storeread_opts_t *o);

/* sl_storeread_shutdown closes every pool: waiting, queued and running
   requests complete SHUTTING_DOWN now, a drain in progress ends, later
   calls fail at once.  Never waits for a reader.  Idempotent. */
void sl_storeread_shutdown(sl_storeread_t *sr);

/* sl_storeread_delete shuts down, joins the threads (a reader stuck in the
   store delays this, never shutdown) and frees everything.  Open streams
   are forgotten.  NULL is a no-op. */
void sl_storeread_delete(sl_storeread_t *sr);

/* sl_storeread_fd is an eventfd that is readable while completions wait. */
int sl_storeread_fd(const sl_storeread_t *sr);

/* sl_storeread_poll moves up to n completions, oldest first, into out and
   returns how many.  Never blocks. */
uint32_t sl_storeread_poll(sl_storeread_t *sr, sl_storeread_done_t *out, uint32_t n);

/* sl_storeread_get submits a header read.  OK: exactly one completion with
   `cookie` follows (OK, NOT_FOUND, TIMEOUT, CANCELLED, SHUTTING_DOWN; REORGED
   only if the store was truncated without sl_storeread_truncate).
   Otherwise nothing follows: SHUTTING_DOWN, BUSY (request table full) or
   ARG.  Never blocks: without a free permit the read waits in FIFO order,
   until its deadline. */
sl_storeread_err_t sl_storeread_get(sl_storeread_t *sr, const sl_storeread_get_t *q,
                                    uint64_t cookie);

/* sl_storeread_stream_open resolves `range` (NULL: a watch, no range) at
   once against the committed tip, then waits for a stream permit.  OK:
   exactly one completion follows (OK with the stream, BUSY after the stream
   wait, CANCELLED, SHUTTING_DOWN).  Otherwise nothing follows: RANGE (from >
   to, or beyond the tip), SHUTTING_DOWN, BUSY (table full) or ARG. */
sl_storeread_err_t sl_storeread_stream_open(sl_storeread_t *sr, const sl_storeread_range_t *range,
                                            uint64_t cookie);

/* sl_storeread_stream_read copies up to n headers from `start` (inside the
   stream's range) into out (n * 80 bytes) and sets *got.  OK; REORGED if
   the chain was truncated since the range was resolved (nothing usable);
   ARG (bad stream or start).  Takes no permit and no lock; any thread. */
sl_storeread_err_t sl_storeread_stream_read(sl_storeread_t *sr, const sl_storeread_stream_t *st,
                                            uint32_t start, uint32_t n, uint8_t *out,
                                            uint32_t *got);

/* sl_storeread_stream_close gives the stream permit back (any thread; also
   after shutdown).  OK, or ARG for an unknown or closed stream. */
sl_storeread_err_t sl_storeread_stream_close(sl_storeread_t *sr, const sl_storeread_stream_t *st);

/* sl_storeread_cancel completes every waiting or running request with
   `cookie` as CANCELLED now (permits back at once; a reader's late result is
   dropped).  Granted streams are not affected.  Returns how many. */
uint32_t sl_storeread_cancel(sl_storeread_t *sr, uint64_t cookie);

/* sl_storeread_truncate_fn does the truncation itself (the store's writer). */
typedef void (*sl_storeread_truncate_fn)(void *ctx);

/* sl_storeread_truncate takes the write permit, drains the read permits
   (new reads wait behind it), calls fn(ctx), then lets reads in again.
   Blocks the calling thread, at most until deadline_ns (absolute).  OK (fn
   ran); TIMEOUT, CANCELLED (sl_storeread_cancel_truncate during the drain)
   or SHUTTING_DOWN: fn did not run.  Streams are not drained (their reads
   see REORGED). */
sl_storeread_err_t sl_storeread_truncate(sl_storeread_t *sr, sl_storeread_truncate_fn fn, void *ctx,
                                         uint64_t deadline_ns);

/* sl_storeread_cancel_truncate ends a drain in progress with CANCELLED
   (any thread).  A truncation still waiting for the write permit is not
   affected. */
void sl_storeread_cancel_truncate(sl_storeread_t *sr);

/* sl_storeread_stats fills *out (a consistent snapshot). */
void sl_storeread_stats(sl_storeread_t *sr, sl_storeread_stats_t *out);

#endif /* SL_STOREREAD_H */
