/* sl_phi.h — per-session liveness: the phi-accrual failure detector
   (DESIGN.md poll cycle step 4, SPEC §4 PING/PONG); the RTT estimator that
   goes with it is sl_rtt.h (included here).
   Pure logic: no I/O, no clock reads, no allocation; time is passed in as
   CLOCK_MONOTONIC nanoseconds (sl_now_ns).  Both objects are embedded in a
   session and owned by the lcore that owns the session (single writer).

   Detector model (exponential inter-arrivals, as DESIGN.md fixes it):
     phi(now) = elapsed_since_last_heartbeat / (mean · ln 10)
   where mean is the exact mean of the last SL_PHI_WINDOW inter-arrival
   times.  Until SL_PHI_MIN_SAMPLES intervals have been seen the configured
   initial mean (e.g. the keepalive interval) stands in; the mean used is
   never below cfg.min_mean_us (guards mean 0 and bursts of back-to-back
   arrivals).  The caller decides what a heartbeat is; feed it the peer's
   keepalive traffic (PING and PONG arrivals) rather than every data frame,
   or a burst of sync traffic makes the mean tiny and phi hair-trigger.

   Footprint (per session): sizeof(sl_phi_t) = 4 · SL_PHI_WINDOW + 72 bytes
   (u32 µs deltas in a fixed ring plus a running u64 sum): 4072 bytes for
   the default window of 1000. */
#ifndef SL_PHI_H
#define SL_PHI_H

#include "sl_base.h"
#include "sl_rtt.h"

/* Intervals seen before the window mean replaces cfg.init_mean_us.  One
   interval needs two heartbeats: the first only starts the clock. */
#define SL_PHI_MIN_SAMPLES 1u

#define SL_PHI_SUSPECT_DEFAULT  8.0   /* phi above this: SUSPECT */
#define SL_PHI_DOWN_DEFAULT     16.0  /* phi above this: DOWN */
#define SL_PHI_MIN_MEAN_DEFAULT 1000u /* µs: floor on the mean (1 ms) */
#define SL_PHI_LN10             2.302585092994045684

/* ---- errors -------------------------------------------------------------- */

#define SL_PHI_ERR_LIST(X)                                                                         \
	X(OK, "ok")                                                                                \
	X(INIT_MEAN, "init_mean") /* cfg.init_mean_us is 0 */                                      \
	X(MIN_MEAN, "min_mean")   /* cfg.min_mean_us is 0 */                                       \
	X(SUSPECT, "suspect")     /* suspect threshold not finite or <= 0 */                       \
	X(DOWN, "down")           /* down threshold not finite or <= suspect */

/* clang-format off */
typedef enum sl_phi_err {
#define SL_PHI_ERR_ENUM(e, s) SL_PHI_ERR_##e,
	SL_PHI_ERR_LIST(SL_PHI_ERR_ENUM)
#undef SL_PHI_ERR_ENUM
	SL_PHI_ERR_CNT
} sl_phi_err_t;
/* clang-format on */

/* sl_phi_err_str names an error ("down"); "?" when out of range. */
const char *sl_phi_err_str(sl_phi_err_t err);

/* ---- detector ------------------------------------------------------------ */

typedef enum sl_phi_state {
	SL_PHI_UP = 0,
	SL_PHI_SUSPECT = 1,
	SL_PHI_DOWN = 2, /* terminal until sl_phi_reset */
} sl_phi_state_t;

/* What sl_phi_check reports: a transition, or NONE when the state held. */
typedef enum sl_phi_event {
	SL_PHI_EV_NONE = 0,
	SL_PHI_EV_SUSPECT = 1, /* UP -> SUSPECT */
	SL_PHI_EV_UP = 2,      /* SUSPECT -> UP (heartbeats resumed) */
	SL_PHI_EV_DOWN = 3,    /* UP or SUSPECT -> DOWN: tear the session down */
} sl_phi_event_t;

typedef struct sl_phi_cfg {
	uint32_t init_mean_us; /* mean before SL_PHI_MIN_SAMPLES intervals (> 0) */
	uint32_t min_mean_us;  /* floor on the mean used (> 0) */
	double suspect;        /* phi above this -> SUSPECT (default 8) */
	double down;           /* phi above this -> DOWN (default 16, > suspect) */
} sl_phi_cfg_t;

typedef struct sl_phi {
	uint64_t last_ns;       /* latest heartbeat (or sl_phi_init/reset time) */
	uint64_t sum_us;        /* exact sum of the deltas in the ring */
	uint64_t suspect_after; /* elapsed ns above which phi > suspect */
	uint64_t down_after;    /* elapsed ns above which phi > down */
	double suspect, down;   /* thresholds (cfg) */
	uint32_t init_mean_us;  /* cfg */
	uint32_t min_mean_us;   /* cfg */
	uint32_t count;         /* deltas in the ring, <= SL_PHI_WINDOW */
	uint32_t head;          /* next ring slot to write */
	uint8_t state;          /* sl_phi_state_t */
	uint8_t primed;         /* a heartbeat has been seen since init/reset */
	uint8_t pad_[6];
	uint32_t delta_us[SL_PHI_WINDOW]; /* inter-arrival times, µs, saturated */
} sl_phi_t;

/* sl_phi_cfg_default fills *cfg with the DESIGN.md numbers (suspect 8,
   down 16, 1 ms mean floor) and init_mean_us = keepalive_us (1 if 0). */
void sl_phi_cfg_default(sl_phi_cfg_t *cfg, uint32_t keepalive_us);

/* A session detector fed by keepalive traffic floors its mean at the
   keepalive interval divided by this: heartbeats come at most about once
   per keepalive, so a shorter mean is an artefact (a burst right after
   HELLO_ACK, a retried PING) and must not make phi hair-trigger. */
#define SL_PHI_KEEPALIVE_FLOOR_DIV 2u

/* sl_phi_cfg_keepalive is sl_phi_cfg_default for a detector whose
   heartbeats are keepalive-driven (one per keepalive_us expected): initial
   mean keepalive_us, and a mean floor of keepalive_us /
   SL_PHI_KEEPALIVE_FLOOR_DIV (never below SL_PHI_MIN_MEAN_DEFAULT).  With
   down = 16 no silence shorter than 16 · ln 10 · keepalive / 2 (about 18
   keepalives) is judged DOWN, whatever arrived before it. */
void sl_phi_cfg_keepalive(sl_phi_cfg_t *cfg, uint32_t keepalive_us);

/* sl_phi_init checks *cfg and, when valid, formats *p as an UP detector with
   no samples whose clock starts at now_ns (a peer that never sends anything
   still goes SUSPECT then DOWN).  On error *p is untouched. */
sl_phi_err_t sl_phi_init(sl_phi_t *p, const sl_phi_cfg_t *cfg, uint64_t now_ns);

/* sl_phi_reset forgets every sample and returns to UP with the clock
   started at now_ns, keeping the configuration.  The only way out of DOWN. */
void sl_phi_reset(sl_phi_t *p, uint64_t now_ns);

/* sl_phi_heartbeat records an arrival at now_ns: from the second arrival on
   it adds the interval since the previous one to the window (evicting the
   oldest once SL_PHI_WINDOW are held; O(1)).  A time before the latest
   arrival counts as a 0 interval and does not move the clock back.
   Ignored in DOWN.  Reports nothing: transitions come from sl_phi_check. */
void sl_phi_heartbeat(sl_phi_t *p, uint64_t now_ns);

/* sl_phi_check moves the state to what phi(now_ns) says and returns the
   transition, or SL_PHI_EV_NONE if the state did not change — so a caller
   that checks every poll cycle sees each transition exactly once.  UP goes
   straight to DOWN when phi already passed the down threshold.  DOWN
   returns NONE forever.  Integer compare only (thresholds are precomputed
   at each heartbeat as elapsed-ns bounds, rounded down). */
sl_phi_event_t sl_phi_check(sl_phi_t *p, uint64_t now_ns);

/* sl_phi_value returns phi at now_ns (for telemetry; 0 before last_ns). */
double sl_phi_value(const sl_phi_t *p, uint64_t now_ns);

/* sl_phi_mean_us returns the mean in use: the exact window mean once
   SL_PHI_MIN_SAMPLES intervals are held, else the initial mean; never below
   the floor. */
double sl_phi_mean_us(const sl_phi_t *p);

static inline sl_phi_state_t sl_phi_state(const sl_phi_t *p)
{
	return (sl_phi_state_t)p->state;
}

/* sl_phi_samples returns the intervals held (<= SL_PHI_WINDOW). */
static inline uint32_t sl_phi_samples(const sl_phi_t *p)
{
	return p->count;
}

/* sl_phi_state_str / sl_phi_event_str name a state / event; "?" if bad. */
const char *sl_phi_state_str(sl_phi_state_t s);
const char *sl_phi_event_str(sl_phi_event_t e);

#endif /* SL_PHI_H */
