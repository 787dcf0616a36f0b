/* sl_rtt.h — the per-session RTT estimator (SPEC §4 PING/PONG, RFC 6298
   smoothing).  Pure logic: no I/O, no clock reads, no allocation; time is
   passed in as CLOCK_MONOTONIC nanoseconds (sl_now_ns).  Embedded in a
   session and owned by the lcore that owns the session (single writer).
   sizeof(sl_rtt_t) = 40 bytes. */
#ifndef SL_RTT_H
#define SL_RTT_H

#include "sl_base.h"

/* RTT samples above this are refused (a PONG echoing a time we never sent). */
#define SL_RTT_MAX_NS (60ULL * 1000000000ULL)

#define SL_RTT_ERR_LIST(X)                                                                         \
	X(OK, "ok")                                                                                \
	X(FUTURE, "future") /* echoed sender_time_ns is after now */                               \
	X(RANGE, "range")   /* now - echoed exceeds SL_RTT_MAX_NS */

/* clang-format off */
typedef enum sl_rtt_err {
#define SL_RTT_ERR_ENUM(e, s) SL_RTT_ERR_##e,
	SL_RTT_ERR_LIST(SL_RTT_ERR_ENUM)
#undef SL_RTT_ERR_ENUM
	SL_RTT_ERR_CNT
} sl_rtt_err_t;
/* clang-format on */

/* sl_rtt_err_str names an error ("future"); "?" when out of range. */
const char *sl_rtt_err_str(sl_rtt_err_t err);

/* Round-trip time of one session, from PING sender_time_ns echoed in PONG.
   Smoothing is RFC 6298 (alpha 1/8, beta 1/4) in integer nanoseconds. */
typedef struct sl_rtt {
	uint64_t latest_ns; /* last accepted sample */
	uint64_t srtt_ns;   /* smoothed RTT */
	uint64_t rttvar_ns; /* RTT variation */
	uint64_t min_ns;    /* smallest sample (UINT64_MAX before any) */
	uint32_t samples;   /* accepted samples */
	uint32_t pad_;
} sl_rtt_t;

/* sl_rtt_init formats *r with no samples. */
void sl_rtt_init(sl_rtt_t *r);

/* sl_rtt_sample takes R = now_ns - echoed_ns from a PONG received at now_ns.
   First sample: SRTT = R, RTTVAR = R/2.  Later: RTTVAR = 3/4 RTTVAR +
   1/4 |SRTT - R|, then SRTT = 7/8 SRTT + 1/8 R.  Updates latest and min.
   Refuses (state untouched) an echo from the future or an RTT over
   SL_RTT_MAX_NS: PONG payloads come off the network. */
sl_rtt_err_t sl_rtt_sample(sl_rtt_t *r, uint64_t now_ns, uint64_t echoed_ns);

/* sl_rtt_rto_ns returns SRTT + max(1 µs, 4·RTTVAR) clamped to
   [min_ns, max_ns], or init_ns (clamped likewise) before any sample: an
   attempt timeout for requests to this peer. */
uint64_t sl_rtt_rto_ns(const sl_rtt_t *r, uint64_t init_ns, uint64_t min_ns, uint64_t max_ns);

/* Microsecond views for `rtt_us` (SPEC §9 peers); 0 before any sample.
   rtt_us reported by the API is the smoothed one. */
static inline uint32_t sl_rtt_ns_to_us_(uint64_t ns)
{
	uint64_t us = ns / 1000u;
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}
static inline uint32_t sl_rtt_srtt_us(const sl_rtt_t *r)
{
	return sl_rtt_ns_to_us_(r->srtt_ns);
}
static inline uint32_t sl_rtt_latest_us(const sl_rtt_t *r)
{
	return sl_rtt_ns_to_us_(r->latest_ns);
}
static inline uint32_t sl_rtt_min_us(const sl_rtt_t *r)
{
	return r->samples ? sl_rtt_ns_to_us_(r->min_ns) : 0u;
}
static inline uint32_t sl_rtt_var_us(const sl_rtt_t *r)
{
	return sl_rtt_ns_to_us_(r->rttvar_ns);
}

#endif /* SL_RTT_H */
