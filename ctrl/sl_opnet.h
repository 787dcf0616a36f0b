/* sl_opnet.h — the network op kinds and their attempt machinery
   (DESIGN.md "Operations": send_and_await, retries in the op; SPEC.md §9
   "Operations (v1.1)": header.fetch, peer.ping).  The middle layer: the
   face starts an op (sl_op_start) and hands it here; these kinds drive it
   over the domain through an io table (sl_opnet_io_t; in sluice-ctrl the
   peer requests of sl_peerio.h and the store's read path, sl_storeread.h)
   and end it through sl_op_end.

   send_and_await(op, peer, frame) — sl_opnet_send_and_await — registers
   the op's waiter (a slot in the waiter table), then sends the frame
   with a fresh attempt id in corr (SL_PEERIO_CORR_BITS | sequence | slot:
   a retry never reuses one).  The op resumes on whichever comes first:
   the reply with that corr, the peer going down, or the attempt deadline
   (its own, shorter than the op's).  Deadlines before completions: a
   reply that arrives once the attempt's or the op's deadline has passed
   counts as that deadline, not as an answer.
   Retries live in the op (sl_opnet_attempt_t):
     transport hiccup (the routine could not send)  the same peer again
                      after a jittered 5..10 ms x try, at most
                      SL_OPNET_HICCUPS times, then the next peer
     NOT_FOUND, short or bad answer, attempt timeout, peer down, session
                      gone or its service parked   the next peer
     no peer left     EXHAUSTED (no peer claimed the height: NOT_FOUND)
   At most SL_OPNET_PEER_INFLIGHT fetch attempts are in flight to one
   session (the routine runs 8 fetches at once, the branch fetch takes
   one); a fetch that finds its peer's window full waits its turn (that
   wait is no attempt and has no attempt deadline; the op's deadline still
   holds).

   Kinds (state and result in op->kst, sl_opnet_*_of):
     header.fetch {height}   the store first, through the read path: a read
                    keyed by the op's tx holds one of the 64 read permits
                    (deadline: the op's, at most the read path's 5 s); the
                    loop hands its completion to sl_opnet_store_done.
                    OK: done, source "store".  NOT_FOUND, TIMEOUT, BUSY (or
                    REORGED): the network half, within the op's deadline.
                    CANCELLED, SHUTTING_DOWN: the op ends with that code.
                    An op that ends while its read waits (op.cancel, its
                    deadline) cancels the read.  The network half: one
                    attempt at a time to the sessions whose STATUS claims
                    the height (GET_HEADERS count 1, zero anchor, PoW
                    checked by the routine), SL_OPNET_FETCH_ATTEMPT_NS each.
     peer.ping {session}     PING with the attempt's corr; done on its PONG
                    (rtt_us); a lost PING is asked again after
                    SL_OPNET_PING_ATTEMPT_NS until the op's deadline; the
                    session going down (or unknown) fails it NOT_FOUND.
     peer.ping {all}         one child peer.ping per live session (at most
                    SL_OPNET_PING_MAX), each with a deadline 100 ms short
                    of the parent's; the parent ends once, when its last
                    child did, with one result per child (rtt or error).
   Owner: the ctrl loop (single threaded); nothing here blocks. */
#ifndef SL_OPNET_H
#define SL_OPNET_H

#include "sl_base.h"
#include "sl_op.h"
#include "sl_peerio.h"
#include "sl_storeread.h"

#define SL_OPNET_WAITERS          65536u /* attempts in flight at once (2^16: corr's slot bits) */
#define SL_OPNET_HICCUPS          3u     /* transport retries on one peer */
#define SL_OPNET_HICCUP_NS        (5ull * 1000000ull) /* x try, plus up to as much jitter */
#define SL_OPNET_FETCH_ATTEMPT_NS (2000ull * 1000000ull)
#define SL_OPNET_PING_ATTEMPT_NS  (2000ull * 1000000ull)
#define SL_OPNET_PEER_INFLIGHT    4u  /* fetch attempts in flight to one session */
#define SL_OPNET_CAND_MAX         64u /* peers one fetch may try */
#define SL_OPNET_PING_MAX         80u /* children of one peer.ping {all} */
#define SL_OPNET_CHILD_SLACK_MS   100u

/* What the kinds need from the domain. */
typedef struct {
	void *ctx;
	/* store_read submits the read of committed header `height` with
	   `cookie` (the op's tx) and an absolute deadline on the op clock (0:
	   the read path's own) — sl_storeread_get.  OK: exactly one
	   completion with that cookie follows, for sl_opnet_store_done;
	   anything else: none follows (BUSY, SHUTTING_DOWN, ARG). */
	sl_storeread_err_t (*store_read)(void *ctx, uint32_t height, uint64_t deadline_ns,
	                                 uint64_t cookie);
	/* store_cancel makes the read with `cookie` complete CANCELLED
	   (sl_storeread_cancel); its completion still comes. */
	void (*store_cancel)(void *ctx, uint64_t cookie);
	/* claimers / live: sessions (sl_peerio_claimers / _live). */
	uint32_t (*claimers)(void *ctx, uint32_t height, uint32_t *sids, uint32_t cap);
	uint32_t (*live)(void *ctx, uint32_t *sids, uint32_t cap);
	/* fetch / ping: send one request with corr (sl_peerio_fetch count 1 /
	   sl_peerio_ping). */
	sl_peerio_send_t (*fetch)(void *ctx, uint32_t sid, uint64_t corr, uint32_t height);
	sl_peerio_send_t (*ping)(void *ctx, uint32_t sid, uint64_t corr);
	/* addr: the session's peer address (for `source`). */
	void (*addr)(void *ctx, uint32_t sid, uint32_t *ip, uint16_t *port);
} sl_opnet_io_t;

typedef enum {
	SL_OPNET_A_IDLE = 0, /* no attempt */
	SL_OPNET_A_WAIT,     /* to send at retry_ns (hiccup delay, or the peer's window) */
	SL_OPNET_A_FLIGHT,   /* sent, waiting: reply, peer down or deadline */
} sl_opnet_astate_t;

/* What ended an attempt. */
typedef enum {
	SL_OPNET_OUT_REPLY = 0, /* the answer (header, PONG) */
	SL_OPNET_OUT_NOT_FOUND, /* NOT_FOUND, or an answer without the header */
	SL_OPNET_OUT_BAD,       /* bad data */
	SL_OPNET_OUT_TIMEOUT,   /* the attempt deadline passed */
	SL_OPNET_OUT_DOWN,      /* the session went down, is gone, or its service parked */
	SL_OPNET_OUT_HICCUP,    /* the routine could not send it */
	SL_OPNET_OUT_CNT
} sl_opnet_out_t;

/* One op's current attempt (its retry state lives here, in the op). */
typedef struct {
	sl_opnet_astate_t state;
	uint32_t sid;
	uint32_t slot;    /* waiter slot while in flight */
	uint32_t hiccups; /* transport retries on this peer so far */
	uint64_t corr;    /* this attempt's id, 0 before the first */
	uint64_t sent_ns;
	uint64_t deadline_ns;
	uint64_t retry_ns;
} sl_opnet_attempt_t;

typedef struct {
	uint32_t height;
	uint32_t cand[SL_OPNET_CAND_MAX]; /* the claimers when it started */
	uint32_t n_cand, next;            /* next: the next candidate to try */
	sl_opnet_attempt_t a;
	uint32_t tried, not_found, timeouts, bad, down, hiccups; /* per outcome */
	bool reading;             /* its store read is out (cookie: the tx) */
	sl_storeread_err_t store; /* how the store read ended */
	/* the result */
	bool from_store;
	uint32_t src_ip;
	uint16_t src_port;
	uint8_t hdr[80];
	uint8_t hash[32];
} sl_opnet_fetch_t;

typedef struct {
	uint32_t sid;
	uint32_t rtt_us;
	sl_code_t code; /* SL_CODE_OK: rtt_us; else the child's error */
} sl_opnet_ping_res_t;

typedef struct {
	bool all;      /* the parent of peer.ping {all} */
	bool starting; /* the parent is still starting its children */
	uint32_t sid;
	uint32_t rtt_us; /* the result (single) */
	sl_opnet_attempt_t a;
	uint32_t n, done; /* all: children started / ended */
	sl_opnet_ping_res_t res[SL_OPNET_PING_MAX];
} sl_opnet_ping_t;

typedef struct {
	uint64_t attempts, replies, late, timeouts, not_found, bad, down, hiccups, window_waits;
	uint64_t store_reads, store_hits, store_late; /* store half: submitted, OK, nobody's */
} sl_opnet_cnt_t;

typedef struct {
	uint64_t corr; /* 0: free */
	uint64_t tx;
	uint32_t sid;
} sl_opnet_waiter_t;

typedef struct {
	sl_op_table_t *ops;
	sl_opnet_io_t io;
	sl_opnet_waiter_t *w; /* SL_OPNET_WAITERS */
	uint32_t *free_slot;  /* stack of free waiter slots */
	uint32_t n_free;
	uint16_t *peer_inflight; /* by session lcore x slot */
	uint64_t seq;            /* attempt ids: sequence part */
	uint64_t rng;
	sl_opnet_cnt_t cnt;
} sl_opnet_t;

/* sl_opnet_init allocates the waiter table and installs the kinds' hooks
   (header.fetch, peer.ping) in ops.  0, or -1 out of memory. */
int sl_opnet_init(sl_opnet_t *n, sl_op_table_t *ops, const sl_opnet_io_t *io, uint64_t seed);

/* sl_opnet_fini frees the tables. */
void sl_opnet_fini(sl_opnet_t *n);

/* The domain an io table of sl_opnet_io_domain reads (owned by the
   caller, outliving the table). */
typedef struct {
	sl_peerio_t *pio;
	sl_storeread_t *sr; /* the store's read path (the loop polls its completions) */
} sl_opnet_dom_t;

/* sl_opnet_io_domain fills io with the domain's calls over d: the store's
   read path (store_read, store_cancel) and the peer requests (the rest). */
void sl_opnet_io_domain(sl_opnet_io_t *io, sl_opnet_dom_t *d);

/* sl_opnet_header_fetch / sl_opnet_peer_ping / sl_opnet_peer_ping_all
   begin a fresh op of that kind (it may have ended when they return). */
void sl_opnet_header_fetch(sl_opnet_t *n, sl_op_t *op, uint32_t height);
void sl_opnet_peer_ping(sl_opnet_t *n, sl_op_t *op, uint32_t sid);
void sl_opnet_peer_ping_all(sl_opnet_t *n, sl_op_t *op);

/* sl_opnet_store_done takes a read-path completion of kind GET whose
   cookie is a header.fetch's tx and resumes that op (OK ends it; NOT_FOUND,
   TIMEOUT, BUSY, REORGED start its network half; CANCELLED, SHUTTING_DOWN
   end it so).  Returns false, counting store_late, when no running fetch
   waits for it (it was cancelled or passed its deadline).  The loop. */
bool sl_opnet_store_done(sl_opnet_t *n, const sl_storeread_done_t *d);

/* sl_opnet_reply is the peer requests' reply hook (ctx: the sl_opnet_t). */
void sl_opnet_reply(void *ctx, const sl_peerio_reply_t *r, uint64_t now_ns);

/* sl_opnet_send_and_await: op's attempt `a` sends `frame` — a fetch of
   `height` (kind HEADER_FETCH) or a PING (kind PEER_PING) — to session
   sid after registering its waiter; deadline_ns is the attempt's.  When
   the send itself fails the attempt ends at once (its outcome goes to the
   kind).  Exposed for the unit tests; the kinds call it. */
void sl_opnet_send_and_await(sl_opnet_t *n, sl_op_t *op, sl_opnet_attempt_t *a, uint32_t sid,
                             uint64_t attempt_ns);

/* sl_opnet_busy: attempts in flight (the ctrl loop keeps its fast tick). */
bool sl_opnet_busy(const sl_opnet_t *n);

/* sl_opnet_in_flight: waiters registered now. */
uint32_t sl_opnet_in_flight(const sl_opnet_t *n);

static inline sl_opnet_fetch_t *sl_opnet_fetch_of(const sl_op_t *op)
{
	return (sl_opnet_fetch_t *)(uintptr_t)op->kst;
}
static inline sl_opnet_ping_t *sl_opnet_ping_of(const sl_op_t *op)
{
	return (sl_opnet_ping_t *)(uintptr_t)op->kst;
}

#endif /* SL_OPNET_H */
