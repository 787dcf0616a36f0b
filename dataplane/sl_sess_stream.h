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

#include "sl_routine.h"

/* sl_ss_start resets p's liveness state when it becomes live: phi clock
   starts now, first PING due now, no BACKOFF in force. */
void sl_ss_start(sl_lcore_t *lc, sl_peer_t *p);

/* sl_ss_input runs one decoded stream-0 message of live session p.  May
   tear p down. */
void sl_ss_input(sl_lcore_t *lc, sl_peer_t *p, const sl_wire_hdr_t *h, const sl_wire_msg_t *msg);

/* sl_ss_deadline (deadlines phase): PING when due. */
void sl_ss_deadline(sl_lcore_t *lc, sl_peer_t *p);

/* sl_ss_command runs a SEND_FRAME PING for ctrl (sl_cmd_ping_t) on live
   session p: PING with ctrl's corr; the PONG carrying it goes to ctrl as
   SL_EVT_PONG (round trip on this lcore's clock), a failed send as
   SL_EVT_PONG status SEND.  Such a PONG is not a phi heartbeat.  A stale
   command (not live, other generation, bad payload) is counted. */
void sl_ss_command(sl_lcore_t *lc, sl_peer_t *p, const sl_msg_t *m);

/* sl_ss_liveness (liveness phase): phi transitions; may tear p down. */
void sl_ss_liveness(sl_lcore_t *lc, sl_peer_t *p);

#endif /* SL_SESS_STREAM_H */
