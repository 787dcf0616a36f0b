/* sl_ratelimit.h — a per-source-IPv4 token bucket in a fixed-size table.
   The dataplane keeps one per worker lcore to rate-limit HELLOs before they
   reach ctrl (DESIGN.md "Admission"); ctrl's admission keeps one for its own
   per-address limit.  Owned by one thread: no atomics, no locks, no
   allocation after init, O(1) per call (at most SL_RATELIMIT_PROBE slots
   looked at).  Pure logic: time is passed in (ns, any monotonic origin).

   Each source is a GCRA bucket ("virtual scheduling"): rate tokens per
   second, burst tokens deep; a source unseen (or forgotten) starts full.
   The table is open addressing over a keyed hash of the address; when a
   new source finds its probe window full it evicts the entry closest to a
   full bucket (smallest theoretical arrival time): a fully refilled entry
   costs nothing to forget, and otherwise the oldest debt goes first, so a
   source that is being limited right now is the last to be forgotten.
   Size: a forgotten source comes back with a full bucket and looks quiet
   (sl_ratelimit_idle), the lane the HELLO gate keeps for newcomers, so
   the table holds a flood from thousands of forged addresses with room to
   spare (8192 entries, 128 KiB: 1,000 flooding addresses, issue 12's
   test, fill an eighth and are never evicted).
   Address 0 (0.0.0.0, never a valid source) is always refused. */
#ifndef SL_RATELIMIT_H
#define SL_RATELIMIT_H

#include "sl_base.h"

#define SL_RATELIMIT_SIZE      8192       /* sources tracked (power of two) */
#define SL_RATELIMIT_PROBE     8          /* slots looked at per call */
#define SL_RATELIMIT_BURST_MAX (1u << 20) /* largest burst accepted by init */

_Static_assert(SL_IS_POW2(SL_RATELIMIT_SIZE), "SL_RATELIMIT_SIZE must be a power of two");
_Static_assert(SL_RATELIMIT_SIZE >= SL_RATELIMIT_PROBE, "table smaller than the probe window");

typedef struct {
	uint32_t ip; /* host order; 0: free slot */
	uint32_t pad;
	uint64_t tat; /* theoretical arrival time of the next conforming call, ns */
} sl_ratelimit_entry_t;

typedef struct {
	uint64_t interval_ns; /* 1 s / rate: one token per interval */
	uint64_t tau_ns;      /* (burst - 1) * interval: how far tat may run ahead */
	uint64_t seed;        /* hash key (keeps colliding addresses unguessable) */
	uint64_t n_allowed;   /* calls answered true */
	uint64_t n_limited;   /* calls answered false (ip 0 included) */
	uint64_t n_evicted;   /* live sources forgotten to make room */
	sl_ratelimit_entry_t e[SL_RATELIMIT_SIZE];
} sl_ratelimit_t;

/* sl_ratelimit_init empties the table and sets rate_per_s tokens per second
   (1 .. 1e9) and a bucket of burst tokens (1 .. SL_RATELIMIT_BURST_MAX);
   seed keys the hash (pass something random per process).  Returns 0, or
   -1 (table untouched) on an argument out of range. */
int sl_ratelimit_init(sl_ratelimit_t *rl, uint32_t rate_per_s, uint32_t burst, uint64_t seed);

/* sl_ratelimit_allow takes one token from ip's bucket at now_ns: true when
   there was one (the call conforms), false when the source is over its
   rate (nothing is charged) or ip is 0.  now_ns must not go backwards by
   more than the bucket depth (an earlier now is simply less generous). */
bool sl_ratelimit_allow(sl_ratelimit_t *rl, uint32_t ip, uint64_t now_ns);

/* sl_ratelimit_wait_ns returns how long ip must wait from now_ns before
   sl_ratelimit_allow would return true: 0 when it would now (or ip is not
   tracked), UINT64_MAX for ip 0.  Read only. */
uint64_t sl_ratelimit_wait_ns(const sl_ratelimit_t *rl, uint32_t ip, uint64_t now_ns);

/* sl_ratelimit_idle: ip has not drawn on its bucket lately: untracked, or
   its bucket is full at now_ns (a source that sends rarely, as an honest
   peer's handshake does).  Read only. */
bool sl_ratelimit_idle(const sl_ratelimit_t *rl, uint32_t ip, uint64_t now_ns);

/* One bucket of the same rule, for a budget that is not per source. */
typedef struct {
	uint64_t interval_ns, tau_ns;
	uint64_t tat;
} sl_ratelimit_bucket_t;

/* sl_ratelimit_bucket_init: rate_per_s tokens per second (1 .. 1e9), burst
   deep (1 .. SL_RATELIMIT_BURST_MAX), full.  0, or -1 out of range. */
int sl_ratelimit_bucket_init(sl_ratelimit_bucket_t *b, uint32_t rate_per_s, uint32_t burst);

/* sl_ratelimit_bucket_take: one token at now_ns, or false (nothing taken). */
bool sl_ratelimit_bucket_take(sl_ratelimit_bucket_t *b, uint64_t now_ns);

/* sl_ratelimit_tracked: number of sources in the table (O(table); for
   tests and telemetry, not the hot path). */
uint32_t sl_ratelimit_tracked(const sl_ratelimit_t *rl);

#endif /* SL_RATELIMIT_H */
