/* sl_hserve.h — the serving side of header sync (stream 5, SPEC §5):
   GET_HEADERS answered from the committed chain the dataplane maps
   read-only (sl_hdrmap.h: one store reader shared by every lcore), without
   a round trip to ctrl:
     the peer's BACKOFF holds stream 5      not answered
     over the per-session serving budget (token bucket, [sync] serve_rate
       requests/s, serve_burst deep; while several sessions ask, each
       refills at min(serve_rate, serve_total / sessions asking within
       the last SL_HSERVE_ASKING_NS))       NOT_FOUND(BUSY) + SPAM record
     count > 2000                            NOT_FOUND(TOO_MANY) + SPAM record
     no store yet                            NOT_FOUND(BUSY)
     start > committed tip                   NOT_FOUND(BEYOND_TIP)
     anchor non-zero and not the hash of header start-1 (compared with the
       prev field of header start)           NOT_FOUND(UNKNOWN_ANCHOR)
     otherwise ceil(n/17) HEADERS frames (corr = the request's), n truncated
       at the tip, LAST on the final one.  The headers are copied from the
       map straight into the frames inside one reader_begin / reader_end
       section; when a truncation moved the chain epoch meanwhile, the
       frames are freed unsent and the answer is NOT_FOUND(BUSY).
   SPAM records are record-only (sl_hrec.h).

   Fault injection (CONFIG_SL_TEST_HOOKS only, [dataplane] fault_bad_pow =
   n): every n-th answer served carries one header whose bits were raised
   out of reach.

   Owner: the lcore owning the session (single thread); the store reader
   is shared read-only. */
#ifndef SL_HSERVE_H
#define SL_HSERVE_H

#include "sl_cfg.h"
#include "sl_hrec.h"
#include "sl_routine.h"

/* A session that asked within this long shares the serving budget. */
#define SL_HSERVE_ASKING_NS (1000ull * 1000000ull)

/* Per-session serving state (zeroed with the routine's block). */
typedef struct {
	uint64_t ns;     /* token bucket: time of the last refill */
	uint64_t milli;  /* tokens x 1000 */
	uint64_t ask_ns; /* its last GET_HEADERS */
	uint8_t asking;  /* counted in the lcore's `asking` */
} sl_hserve_peer_t;

/* Per-lcore: the budget ([sync]) and the sessions asking now. */
typedef struct {
	uint32_t rate, burst; /* per session */
	uint32_t total;       /* shared by the sessions asking */
	uint32_t asking;      /* sessions that asked within SL_HSERVE_ASKING_NS */
#if SL_TEST_HOOKS
	uint32_t fault_bad_pow; /* [dataplane] fault_bad_pow */
	uint32_t fault_n;       /* answers served since the last corruption */
#endif
} sl_hserve_lcore_t;

/* sl_hserve_init: the budget from cfg (the main lcore logs a test hook). */
void sl_hserve_init(sl_hserve_lcore_t *g, const sl_cfg_t *cfg, bool is_main);

/* sl_hserve_start: a new session's bucket, full. */
void sl_hserve_start(const sl_hserve_lcore_t *g, sl_hserve_peer_t *s, uint64_t now_ns);

/* sl_hserve_quiet: s no longer counts among the sessions asking (quiet
   for SL_HSERVE_ASKING_NS, parked or gone); idempotent. */
void sl_hserve_quiet(sl_hserve_lcore_t *g, sl_hserve_peer_t *s);

/* sl_hserve_tick: s quiet once it has not asked for SL_HSERVE_ASKING_NS. */
void sl_hserve_tick(sl_hserve_lcore_t *g, sl_hserve_peer_t *s, uint64_t now_ns);

/* sl_hserve_get_headers answers one decoded GET_HEADERS of p (corr from
   h; too_many: its count was over 2000) as the table above says. */
void sl_hserve_get_headers(sl_lcore_t *lc, sl_routine_peer_t *p, sl_hserve_lcore_t *g,
                           sl_hserve_peer_t *s, sl_hrec_t *rec, const sl_wire_hdr_t *h,
                           const sl_wire_get_headers_t *gh, bool too_many);

#endif /* SL_HSERVE_H */
