/* sl_session.h — the per-lcore session table and the per-(session, stream)
   anti-replay window (SPEC §2-§3, DESIGN.md "Demux and sessions").

   Session id.  The `session` u32 of a frame is the receiver's own index:
     bits 0 .. L-1        lcore index   (L = SL_SID_LCORE_BITS, from SL_MAX_LCORES)
     bits L .. L+S-1      slot          (S = SL_SID_SLOT_BITS = log2 SL_SESSIONS_PER_LCORE)
     bits L+S .. 31       generation    (G = 32 - L - S bits, never 0)
   With the default 16 lcores and 1024 slots: 4 + 10 + 18 bits.  Generation
   0 is never used, so a session id is never 0 (0 means HELLO).  Demux is an
   array index plus one compare of the whole id; a reused slot gets a new
   generation, so frames naming the old incarnation are dropped.

   Table.  One sl_session_table_t per worker lcore, SL_SESSIONS_PER_LCORE slots
   in one fixed block (no pointers, no allocation; caller memory, formatted
   by new).  Owner: that lcore — it alone installs, tears down, looks up and
   writes every field.  Other threads of the process (telemetry, the main
   lcore) may read, torn-free, these fields of any slot:
     - identity (state, sid, remote_sid, streams, peer address, node_id),
       consistent as a whole through sl_session_snapshot (a per-slot seqlock);
     - rtt_us and the per-session counters, each a relaxed atomic;
     - the number of live sessions (sl_session_count).
   Everything else (peer MAC, next_seq, replay windows, the live list) is
   owner-only.  Addresses are host order. */
#ifndef SL_SESSION_H
#define SL_SESSION_H

#include "sl_base.h"
#include "sl_net.h"

/* ---- session id ---------------------------------------------------------- */

/* SL__BITS_FOR(n): bits needed to index n things (n <= 65536). */
#define SL__BITS_FOR(n)                                                                            \
	((n) <= 1       ? 0                                                                        \
	 : (n) <= 2     ? 1                                                                        \
	 : (n) <= 4     ? 2                                                                        \
	 : (n) <= 8     ? 3                                                                        \
	 : (n) <= 16    ? 4                                                                        \
	 : (n) <= 32    ? 5                                                                        \
	 : (n) <= 64    ? 6                                                                        \
	 : (n) <= 128   ? 7                                                                        \
	 : (n) <= 256   ? 8                                                                        \
	 : (n) <= 512   ? 9                                                                        \
	 : (n) <= 1024  ? 10                                                                       \
	 : (n) <= 2048  ? 11                                                                       \
	 : (n) <= 4096  ? 12                                                                       \
	 : (n) <= 8192  ? 13                                                                       \
	 : (n) <= 16384 ? 14                                                                       \
	 : (n) <= 32768 ? 15                                                                       \
	                : 16)

#define SL_SID_LCORE_BITS SL__BITS_FOR(SL_MAX_LCORES)
#define SL_SID_SLOT_BITS  SL__BITS_FOR(SL_SESSIONS_PER_LCORE)
#define SL_SID_GEN_BITS   (32 - SL_SID_LCORE_BITS - SL_SID_SLOT_BITS)
#define SL_SID_SLOT_SHIFT SL_SID_LCORE_BITS
#define SL_SID_GEN_SHIFT  (SL_SID_LCORE_BITS + SL_SID_SLOT_BITS)
#define SL_SID_LCORE_MASK ((1u << SL_SID_LCORE_BITS) - 1u)
#define SL_SID_SLOT_MASK  ((1u << SL_SID_SLOT_BITS) - 1u)
#define SL_SID_GEN_MAX    ((uint32_t)((1ull << SL_SID_GEN_BITS) - 1u)) /* also the mask */

_Static_assert(SL_IS_POW2(SL_SESSIONS_PER_LCORE), "SL_SESSIONS_PER_LCORE: a power of two");
_Static_assert(SL_SESSIONS_PER_LCORE <= 65536, "SL_SESSIONS_PER_LCORE <= 65536");
_Static_assert((1u << SL_SID_SLOT_BITS) == SL_SESSIONS_PER_LCORE, "slot bits index every slot");
_Static_assert(SL_MAX_LCORES >= 1 && SL_MAX_LCORES <= (1 << SL_SID_LCORE_BITS), "lcore bits");
_Static_assert(SL_SID_GEN_BITS >= 8, "at least 8 generation bits (fewer lcores or slots)");

/* sl_sid_make packs a session id.  Preconditions: lcore < SL_MAX_LCORES,
   slot < SL_SESSIONS_PER_LCORE, 1 <= gen <= SL_SID_GEN_MAX (then the id is
   never 0).  Out-of-range bits are masked off, never spill into a neighbour. */
static inline uint32_t sl_sid_make(uint32_t lcore, uint32_t slot, uint32_t gen)
{
	return (gen & SL_SID_GEN_MAX) << SL_SID_GEN_SHIFT |
	       (slot & SL_SID_SLOT_MASK) << SL_SID_SLOT_SHIFT | (lcore & SL_SID_LCORE_MASK);
}

/* sl_sid_lcore / sl_sid_slot / sl_sid_gen unpack an id (any u32). */
static inline uint32_t sl_sid_lcore(uint32_t sid)
{
	return sid & SL_SID_LCORE_MASK;
}
static inline uint32_t sl_sid_slot(uint32_t sid)
{
	return (sid >> SL_SID_SLOT_SHIFT) & SL_SID_SLOT_MASK;
}
static inline uint32_t sl_sid_gen(uint32_t sid)
{
	return (uint32_t)((uint64_t)sid >> SL_SID_GEN_SHIFT) & SL_SID_GEN_MAX;
}

/* sl_sid_gen_norm maps any counter value (e.g. a process-wide fetch-add)
   into the generation range [1, SL_SID_GEN_MAX]: masked, 0 becomes 1. */
static inline uint32_t sl_sid_gen_norm(uint32_t counter)
{
	uint32_t g = counter & SL_SID_GEN_MAX;
	return g ? g : 1u;
}

/* ---- anti-replay window -------------------------------------------------- */

/* One window per (session, stream, receive direction): SPEC §2, RFC 4303
   style.  `top` is the highest seq accepted (0: none yet); bit i of `bits`
   says top - i was accepted.  A seq is accepted when it is above top, or
   within the last SL_REPLAY_WINDOW seqs (top - seq < W) and not yet seen.
   seq 0 is never valid.  Seqs do not wrap (SPEC §8: the session closes
   first); after top = UINT32_MAX every lower seq is simply old. */
_Static_assert(SL_REPLAY_WINDOW >= 1 && SL_REPLAY_WINDOW <= 64, "SL_REPLAY_WINDOW in 1..64");

typedef struct {
	uint32_t top;
	uint32_t rsvd;
	uint64_t bits;
} sl_replay_t;

#define SL_REPLAY_RES_LIST(X)                                                                      \
	X(ACCEPT, "accept")       /* new: deliver it */                                            \
	X(DUPLICATE, "duplicate") /* seen already, inside the window */                            \
	X(TOO_OLD, "too_old")     /* at or below top - W */                                        \
	X(INVALID, "invalid")     /* seq 0 */

typedef enum {
#define SL_REPLAY_RES_ENUM(e, s) SL_REPLAY_##e,
	SL_REPLAY_RES_LIST(SL_REPLAY_RES_ENUM)
#undef SL_REPLAY_RES_ENUM
	    SL_REPLAY_RES_CNT
} sl_replay_res_t;

/* sl_session_replay_str names a result ("duplicate"); "?" out of range. */
const char *sl_session_replay_str(unsigned res);

/* sl_replay_init empties a window (nothing seen). */
static inline void sl_replay_init(sl_replay_t *r)
{
	r->top = 0;
	r->rsvd = 0;
	r->bits = 0;
}

/* sl_replay_check classifies seq without changing the window (use it before
   an expensive check such as the AUTH tag, then sl_replay_update). */
static inline sl_replay_res_t sl_replay_check(const sl_replay_t *r, uint32_t seq)
{
	if (SL_UNLIKELY(seq == 0))
		return SL_REPLAY_INVALID;
	if (seq > r->top)
		return SL_REPLAY_ACCEPT;
	uint32_t back = r->top - seq;
	if (SL_UNLIKELY(back >= SL_REPLAY_WINDOW))
		return SL_REPLAY_TOO_OLD;
	if (SL_UNLIKELY((r->bits >> back) & 1u))
		return SL_REPLAY_DUPLICATE;
	return SL_REPLAY_ACCEPT;
}

/* sl_replay_update records seq as seen.  Precondition: sl_replay_check
   just returned SL_REPLAY_ACCEPT for it.  A jump of W or more clears the
   window; a smaller one slides it. */
static inline void sl_replay_update(sl_replay_t *r, uint32_t seq)
{
	if (seq > r->top) {
		uint32_t shift = seq - r->top;
		r->bits = shift >= 64 ? 1u : (r->bits << shift) | 1u;
		r->top = seq;
	} else {
		r->bits |= 1ull << (r->top - seq);
	}
}

/* sl_replay_check_update: check, and on ACCEPT record; returns the class. */
static inline sl_replay_res_t sl_replay_check_update(sl_replay_t *r, uint32_t seq)
{
	sl_replay_res_t res = sl_replay_check(r, seq);
	if (SL_LIKELY(res == SL_REPLAY_ACCEPT))
		sl_replay_update(r, seq);
	return res;
}

/* ---- streams ------------------------------------------------------------- */

/* Streams a session can carry: ids 0 .. SL_SESSION_STREAMS-1 (SPEC §3 defines
   0, 1, 5, 6).  A stream bitmap has bit n = stream n; stream 0 always on. */
#define SL_SESSION_STREAMS     8
#define SL_SESSION_STREAM_MASK ((1u << SL_SESSION_STREAMS) - 1u)

/* sl_streams_negotiate: what a session carries — offered & accepted, plus
   stream 0. */
static inline uint32_t sl_streams_negotiate(uint32_t offered, uint32_t accepted)
{
	return (offered & accepted) | 1u;
}

/* sl_streams_has: stream (any value off the wire) is in the bitmap. */
static inline bool sl_streams_has(uint32_t streams, unsigned stream)
{
	return stream < 32 && ((streams >> stream) & 1u);
}

/* ---- the session --------------------------------------------------------- */

#define SL_SESSION_NODE_ID_LEN 32

/* Per-session counters: X(field, "name").  Owner writes (SL_CNT_ADD), any
   thread reads (SL_CNT_GET).  Append only. */
#define SL_SESSION_CNT_LIST(X)                                                                     \
	X(rx_frames, "rx_frames") /* accepted by demux and replay */                               \
	X(rx_bytes, "rx_bytes")                                                                    \
	X(tx_frames, "tx_frames")                                                                  \
	X(tx_bytes, "tx_bytes")                                                                    \
	X(drop_replay, "drop_replay") /* duplicate / too old / seq 0 */                            \
	X(drop_stream, "drop_stream") /* stream not negotiated */                                  \
	X(hs_get_headers_rx, "hs_get_headers_rx")                                                  \
	X(hs_headers_tx, "hs_headers_tx")                                                          \
	X(hs_not_found_tx, "hs_not_found_tx")                                                      \
	X(hs_status_tx, "hs_status_tx")                                                            \
	X(hs_spam, "hs_spam")                 /* record-only SPAM of this peer */                  \
	X(hs_parked_drop, "hs_parked_drop")   /* stream-5 frames dropped while parked */           \
	X(hs_req_tx, "hs_req_tx")             /* GET_HEADERS requests sent (pull) */               \
	X(hs_headers_rx, "hs_headers_rx")     /* headers accepted from HEADERS answers */          \
	X(hs_invalid, "hs_invalid")           /* HEADERS batches refused (range, PoW, link) */     \
	X(hs_late_drop, "hs_late_drop")       /* late answers of dropped expectations */           \
	X(hs_new_block_rx, "hs_new_block_rx") /* NEW_BLOCK accepted from this peer */              \
	X(hs_new_block_tx, "hs_new_block_tx") /* NEW_BLOCK sent to this peer */                    \
	X(drop_auth, "drop_auth")             /* no or a bad AUTH tag (SPEC §8) */

typedef struct {
#define SL_SESSION_CNT_FIELD(f, s) sl_cnt_t f;
	SL_SESSION_CNT_LIST(SL_SESSION_CNT_FIELD)
#undef SL_SESSION_CNT_FIELD
} sl_session_cnt_t;

typedef struct {
#define SL_SESSION_CNT_VAL(f, s) uint64_t f;
	SL_SESSION_CNT_LIST(SL_SESSION_CNT_VAL)
#undef SL_SESSION_CNT_VAL
} sl_session_cnt_vals_t;

enum { SL_SESSION_FREE = 0, SL_SESSION_LIVE = 1 };

/* One slot.  Shared fields (relaxed atomics, owner writes only):
   identity under `ver` (seqlock: odd while the owner rewrites it), rtt_us
   and cnt independent.  Owner-only fields below them. */
typedef struct SL_CACHE_ALIGN {
	_Atomic uint32_t ver;        /* seqlock over the identity fields */
	_Atomic uint32_t state;      /* SL_SESSION_FREE / SL_SESSION_LIVE */
	_Atomic uint32_t sid;        /* our id (LIVE); a bumped, dead id when FREE */
	_Atomic uint32_t remote_sid; /* what we put in frames we send */
	_Atomic uint32_t streams;    /* negotiated bitmap, bit 0 set */
	_Atomic uint32_t peer_ip;    /* host order */
	_Atomic uint32_t peer_port;  /* host order, < 65536 */
	_Atomic uint32_t rtt_us;     /* latest RTT estimate; 0: none yet */
	_Atomic uint64_t node_id[SL_SESSION_NODE_ID_LEN / 8];
	sl_session_cnt_t cnt;

	/* owner only */
	sl_mac_t peer_mac;
	uint16_t rsvd;
	uint32_t last_gen;                      /* generation of the latest incarnation */
	uint32_t next_seq[SL_SESSION_STREAMS];  /* next seq to send; 0: exhausted */
	sl_replay_t replay[SL_SESSION_STREAMS]; /* receive windows */
} sl_session_t;

/* The table.  perm[0 .. live_n) are the live slots (any order), the rest
   the free ones, pos[] its inverse: install and teardown are O(1).  The
   tag `struct sl_session_table` is what sl_region.h forward-declares. */
typedef struct SL_CACHE_ALIGN sl_session_table {
	uint64_t magic;
	uint32_t layout;
	uint32_t lcore;
	_Atomic uint32_t live_n;
	uint32_t rsvd;
	uint16_t perm[SL_SESSIONS_PER_LCORE];
	uint16_t pos[SL_SESSIONS_PER_LCORE];
	sl_session_t slot[SL_SESSIONS_PER_LCORE];
} sl_session_table_t;

/* What install needs to know about the peer (from the admission decision). */
typedef struct {
	uint32_t peer_ip;    /* host order, not 0 */
	uint16_t peer_port;  /* host order, not 0 */
	sl_mac_t peer_mac;   /* next-hop MAC frames to the peer go to */
	uint32_t streams;    /* negotiated, within SL_SESSION_STREAM_MASK */
	uint32_t remote_sid; /* the peer's id for this session, not 0 */
	uint8_t node_id[SL_SESSION_NODE_ID_LEN];
} sl_session_peer_t;

/* A consistent copy of one slot, for telemetry and the API. */
typedef struct {
	uint32_t slot;
	uint32_t state;
	uint32_t sid;
	uint32_t remote_sid;
	uint32_t streams;
	uint32_t peer_ip;
	uint16_t peer_port;
	uint32_t rtt_us;
	uint8_t node_id[SL_SESSION_NODE_ID_LEN];
	sl_session_cnt_vals_t cnt;
} sl_session_info_t;

/* Results of install. */
#define SL_SESSION_RES_LIST(X)                                                                     \
	X(OK, "ok")                                                                                \
	X(ERR_ARGS, "err_args") /* bad slot / address / streams / remote id */                     \
	X(ERR_FULL, "err_full") /* no free slot */                                                 \
	X(ERR_BUSY, "err_busy") /* the named slot is live */

typedef enum {
#define SL_SESSION_RES_ENUM(e, s) SL_SESSION_##e,
	SL_SESSION_RES_LIST(SL_SESSION_RES_ENUM)
#undef SL_SESSION_RES_ENUM
	    SL_SESSION_RES_CNT
} sl_session_res_t;

/* Why a lookup found no session (all are the silent SL_DROP_SL_NO_SESSION). */
#define SL_SESSION_MISS_LIST(X)                                                                    \
	X(NONE, "none")         /* found */                                                        \
	X(ZERO, "zero")         /* id 0: a HELLO, not a session */                                 \
	X(LCORE, "lcore")       /* id names another lcore */                                       \
	X(NOT_LIVE, "not_live") /* slot free */                                                    \
	X(STALE, "stale")       /* slot live with another generation */                            \
	X(ADDR, "addr")         /* source address is not the peer's */

typedef enum {
#define SL_SESSION_MISS_ENUM(e, s) SL_SESSION_MISS_##e,
	SL_SESSION_MISS_LIST(SL_SESSION_MISS_ENUM)
#undef SL_SESSION_MISS_ENUM
	    SL_SESSION_MISS_CNT
} sl_session_miss_t;

/* sl_session_res_str / sl_session_miss_str name a result / reason; "?" out of range. */
const char *sl_session_res_str(unsigned res);
const char *sl_session_miss_str(unsigned why);

/* Slot argument of install meaning "any free slot". */
#define SL_SESSION_SLOT_ANY UINT32_MAX

/* sl_session_table_align / _footprint: alignment and bytes of a table. */
size_t sl_session_table_align(void);
size_t sl_session_table_footprint(void);

/* sl_session_table_new formats `mem` (footprint bytes, align-aligned) as the
   empty table of lcore `lcore` and returns it; NULL (and a log line) when
   mem is NULL or misaligned or lcore >= SL_MAX_LCORES.  Every slot starts
   FREE with generation 0 (never handed out). */
sl_session_table_t *sl_session_table_new(void *mem, uint32_t lcore);

/* sl_session_table_join checks magic and layout of a formatted table and
   returns it, or NULL. */
sl_session_table_t *sl_session_table_join(void *mem);

/* sl_session_table_leave drops a handle (the table lives on) and returns its
   memory; NULL for a NULL handle. */
void *sl_session_table_leave(sl_session_table_t *t);

/* sl_session_table_delete unformats a table (magic cleared) and returns its
   memory; NULL when t is not a table.  Owner only, no session in use. */
void *sl_session_table_delete(sl_session_table_t *t);

/* sl_session_install makes a session live in `slot` (must be free) or, with
   SL_SESSION_SLOT_ANY, in some free slot.  `gen` is the caller's process-wide
   generation counter value; the slot uses sl_sid_gen_norm(gen), moved on by
   one if that equals the slot's previous generation, so a reused slot never
   repeats the id it had just before.  Resets next_seq (1 on every stream),
   the replay windows, rtt and counters; stream 0 is forced on.  On OK sets
   *sid to the new local id.  Owner only. */
sl_session_res_t sl_session_install(sl_session_table_t *t, uint32_t slot,
                                    const sl_session_peer_t *peer, uint32_t gen, uint32_t *sid);

/* sl_session_find returns the live session `sid` names, or NULL with *why set
   (ZERO, LCORE, NOT_LIVE, STALE).  O(1): index + one compare.  Owner only;
   for commands that name a session.  Frames use sl_session_lookup. */
static inline sl_session_t *sl_session_find(sl_session_table_t *t, uint32_t sid,
                                            sl_session_miss_t *why)
{
	if (SL_UNLIKELY(sid == 0)) {
		*why = SL_SESSION_MISS_ZERO;
		return NULL;
	}
	if (SL_UNLIKELY(sl_sid_lcore(sid) != t->lcore)) {
		*why = SL_SESSION_MISS_LCORE;
		return NULL;
	}
	sl_session_t *s = &t->slot[sl_sid_slot(sid)];
	if (SL_UNLIKELY(atomic_load_explicit(&s->state, memory_order_relaxed) != SL_SESSION_LIVE)) {
		*why = SL_SESSION_MISS_NOT_LIVE;
		return NULL;
	}
	if (SL_UNLIKELY(atomic_load_explicit(&s->sid, memory_order_relaxed) != sid)) {
		*why = SL_SESSION_MISS_STALE;
		return NULL;
	}
	*why = SL_SESSION_MISS_NONE;
	return s;
}

/* sl_session_lookup is the per-frame demux: sl_session_find plus the source
   address check (ADDR).  src_ip / src_port host order.  Owner only. */
static inline sl_session_t *sl_session_lookup(sl_session_table_t *t, uint32_t sid, uint32_t src_ip,
                                              uint16_t src_port, sl_session_miss_t *why)
{
	sl_session_t *s = sl_session_find(t, sid, why);
	if (SL_UNLIKELY(s == NULL))
		return NULL;
	if (SL_UNLIKELY(atomic_load_explicit(&s->peer_ip, memory_order_relaxed) != src_ip ||
	                atomic_load_explicit(&s->peer_port, memory_order_relaxed) != src_port)) {
		*why = SL_SESSION_MISS_ADDR;
		return NULL;
	}
	return s;
}

/* sl_session_teardown ends the live session `sid`: the slot becomes free and
   its id moves to the next generation, so frames naming `sid` now miss.
   Returns 1 when sid was live (exactly once per session), 0 otherwise
   (0, other lcore, free, or a stale id: the current incarnation is left
   alone).  Owner only; see sl_session_live_at for teardown while iterating. */
int sl_session_teardown(sl_session_table_t *t, uint32_t sid);

/* sl_session_count: live sessions.  Any thread (relaxed). */
static inline uint32_t sl_session_count(const sl_session_table_t *t)
{
	return atomic_load_explicit(&t->live_n, memory_order_relaxed);
}

/* sl_session_live_at returns the i-th live session, i < sl_session_count (order
   unspecified).  Owner only.  Teardown moves the last live session into
   the freed position, so to tear down while iterating walk i downward:
     for (uint32_t i = sl_session_count(t); i-- > 0;) { s = sl_session_live_at(t, i); ... } */
static inline sl_session_t *sl_session_live_at(sl_session_table_t *t, uint32_t i)
{
	return &t->slot[t->perm[i]];
}

/* sl_session_slot_of: the slot index of a session of t. */
static inline uint32_t sl_session_slot_of(const sl_session_table_t *t, const sl_session_t *s)
{
	return (uint32_t)(s - t->slot);
}

/* sl_sess_stream_on: the session negotiated `stream` (any wire value).
   True implies stream < SL_SESSION_STREAMS, so replay[stream] and
   next_seq[stream] are valid. */
static inline bool sl_sess_stream_on(const sl_session_t *s, unsigned stream)
{
	return sl_streams_has(atomic_load_explicit(&s->streams, memory_order_relaxed), stream);
}

/* A session closes once it has used a seq at or past this mark on any
   stream (SPEC §8: before any seq would wrap): the rest leaves room for
   the frames already being built and the GOODBYE. */
#define SL_SESSION_SEQ_CLOSE (UINT32_MAX - 65536u)

/* sl_session_next_seq returns the seq for the next frame we send on `stream`
   (1, 2, ...) and advances it; 0 once UINT32_MAX has been used (the
   session must close: SPEC §8).  Precondition: stream < SL_SESSION_STREAMS. */
static inline uint32_t sl_session_next_seq(sl_session_t *s, unsigned stream)
{
	uint32_t v = s->next_seq[stream];
	if (SL_LIKELY(v != 0))
		s->next_seq[stream] = v + 1; /* UINT32_MAX + 1 = 0: exhausted */
	return v;
}

/* sl_session_set_rtt publishes the latest RTT estimate (µs).  Owner only. */
static inline void sl_session_set_rtt(sl_session_t *s, uint32_t rtt_us)
{
	atomic_store_explicit(&s->rtt_us, rtt_us, memory_order_relaxed);
}

/* sl_session_snapshot copies slot `slot` consistently (identity fields from
   one incarnation; rtt and counters as of about then).  Any thread.
   Returns 1 when the slot was live, 0 when free or slot out of range (out
   then holds the free slot's state, or is untouched for a bad slot). */
int sl_session_snapshot(const sl_session_table_t *t, uint32_t slot, sl_session_info_t *out);

#endif /* SL_SESSION_H */
