/* sl_sess_stream.h — the session-stream routine (stream 0, SPEC §4) of a
   live session: PING every [dataplane] keepalive_ms, PONG answers, RTT
   (sl_rtt) and phi-accrual heartbeats on PING/PONG arrivals, liveness
   transitions (suspect/up events; down -> GOODBYE(TIMEOUT) + teardown
   LIVENESS), GOODBYE received (teardown NORMAL, no reply), BACKOFF received
   (honoured: only session frames to that peer until it passes).
   Runs on the owning worker lcore only.

   Liveness design.  The phi-accrual detector needs regular arrivals, so its
   heartbeats are keepalive-driven only: a heartbeat is a PONG that answers
   one of OUR PINGs (echoed sender_time_ns between the session start and our
   latest PING, each PING counted once — a repeated or forged echo is RTT
   noise at most, never a heartbeat).  The peer's own PINGs are answered but
   are not heartbeats: their timing is the peer's (both sides PING at session
   start, a peer may PING in bursts), and one PING right after HELLO_ACK
   used to give a ~1 ms interval that became the mean and took the session
   down ~37 ms later.  Our PINGs go out every keepalive_ms, so PONG
   inter-arrivals are ~keepalive.  Belt and braces, the detector's mean
   starts at keepalive and is floored at keepalive / 2
   (sl_phi_cfg_keepalive): DOWN never comes sooner than 16 · ln 10 ·
   keepalive / 2 of silence. */
#ifndef SL_SESS_STREAM_H
#define SL_SESS_STREAM_H

#include "sl_phi.h"
#include "sl_routine.h"

/* The routine's state of one session (its block in sl_routine.h). */
typedef struct {
	uint64_t next_ping_ns;
	uint64_t live_ns;      /* when the session became live (start) */
	uint64_t ping_sent_ns; /* sender_time_ns of our latest PING, 0 none */
	uint64_t pong_echo_ns; /* latest of our PINGs whose PONG was a heartbeat */
	sl_rtt_t rtt;
	sl_phi_t phi;
} sl_sess_stream_peer_t;

/* The descriptor (registered at start-up).  Hooks:
     start     liveness state reset: phi clock starts now, first PING due
               now (the framework resets the BACKOFF state);
     input     one decoded stream-0 message; may tear the session down;
     tick      PING when due;
     command   SEND_FRAME PING for ctrl (sl_cmd_ping_t): PING with ctrl's
               corr; the PONG carrying it goes to ctrl as SL_EVT_PONG
               (round trip on this lcore's clock), a failed send as
               SL_EVT_PONG status SEND.  Such a PONG is not a phi
               heartbeat.  A stale command (not live, other generation,
               bad payload) is counted;
     liveness  phi transitions; may tear the session down.
   Per lcore: the phi configuration (keepalive). */
extern const sl_stream_t sl_sess_stream_desc;

#endif /* SL_SESS_STREAM_H */
