/* sl_routine.h — the routine framework of a worker lcore (DESIGN.md "Peer
   routines"): the framework's state of each session slot, per-stream
   state owned by the routines (sl_stream.h descriptors), the live-session
   frame path (stream bitmap, anti-replay, park, decode, backpressure, the
   stream's input), frame sending, events to ctrl, and THE teardown path
   every exit kind goes through.  It calls routines only through their
   descriptors; routines call it (send, emit, teardown), never the reverse.

   Owner: the worker lcore (single thread, no atomics).  The per-slot
   state (sl_routine_peer_t, and the routines' state blocks) is allocated
   once per lcore at start-up with rte_zmalloc_socket, never per frame.
   A slot is
     FREE        nothing installed;
     CONNECTING  an outbound connect in progress (sl_connect.c): not in the
                 shared session table yet, found by sid through this state;
     LIVE        installed in the shared session table (sl_session.h). */
#ifndef SL_ROUTINE_H
#define SL_ROUTINE_H

#include "sl_auth.h"
#include "sl_backoff.h"
#include "sl_cmdq.h"
#include "sl_evq.h"
#include "sl_lcore.h"
#include "sl_msg.h"
#include "sl_net.h"
#include "sl_ratelimit.h"
#include "sl_session.h"
#include "sl_stream.h"
#include "sl_wire.h"

enum { SL_ROUTINE_FREE = 0, SL_ROUTINE_CONNECTING = 1, SL_ROUTINE_LIVE = 2 };

#define SL_ROUTINE_DRAIN_NS (500000000ull) /* at exit: how long ctrl may take the event backlog */
#define SL_ROUTINE_IDS      32u            /* wire stream ids */

/* The framework's state of one slot (owner: the lcore).  Routines read it
   and may honour a BACKOFF in `quiet`; their own per-peer state is in
   their block (sl_routine_state). */
typedef struct sl_routine_peer {
	uint8_t state;    /* SL_ROUTINE_* */
	uint8_t outbound; /* 1: we connected */
	uint16_t vlan_tci;
	uint16_t peer_port;
	uint16_t rsvd0;
	uint32_t peer_ip;
	uint32_t sid; /* our id for it */
	uint32_t gen; /* ctrl's generation (the cmdq's) */
	uint32_t remote_sid;
	uint32_t streams; /* CONNECTING: offered; LIVE: negotiated */
	sl_mac_t peer_mac;
	uint8_t mac_known;
	uint8_t conn_arp_wait; /* CONNECTING: the last HELLO waited for ARP */
	uint64_t nonce;
	uint64_t corr; /* the HELLO's corr (ACCEPT; echoed on a repeat) */
	uint8_t node_id[32];
	/* connect (outbound, CONNECTING; sl_connect.c) */
	uint64_t conn_deadline_ns, conn_next_ns, conn_gap_ns;
	uint32_t conn_tries;
	/* authentication (SPEC §8) */
	uint8_t auth;        /* 1: every frame of the session carries a tag */
	uint8_t seq_close;   /* a seq past SL_SESSION_SEQ_CLOSE was used: close it */
	uint8_t proven;      /* a valid frame came from the peer (SL_EVT_SESSION_PROVEN) */
	sl_auth_keys_t keys; /* LIVE with auth: the direction keys */
	sl_auth_eph_t eph;   /* CONNECTING with auth: our ephemeral pair (wiped once up) */
	uint8_t hello_sig[SL_AUTH_SIG_LEN]; /* CONNECTING with auth: our HELLO's signature */
	/* zeroed on install up to here */
	sl_backoff_peer_t bo;     /* ingress pressure from this peer (reset at session up) */
	sl_backoff_quiet_t quiet; /* a BACKOFF it sent us (reset at session up) */
} sl_routine_peer_t;

/* Per-lcore framework state. */
typedef struct sl_routine {
	sl_session_table_t *tab; /* this lcore's table in the region */
	sl_cmdq_t cmdq;
	sl_backoff_cfg_t bo_cfg;
	bool over_mark;         /* ingress over the BACKOFF mark (this cycle, held) */
	bool rxq_count_ok;      /* the PMD answers rte_eth_rx_queue_count */
	uint32_t rx_cap;        /* RX capacity the depth is compared with */
	sl_backoff_load_t load; /* over-the-mark signal with its hold */
	uint64_t next_tick_ns;  /* deadlines / liveness scan */
	uint32_t n_conn;
	uint16_t conn[SL_SESSIONS_PER_LCORE]; /* CONNECTING slots */
	uint32_t ev_inflight;     /* answers a session may have outstanding (event backlog) */
	sl_evq_t evq;             /* events to ctrl (backlog: rte_zmalloc'd) */
	struct rte_mbuf *serving; /* the frame an input serves, lent for its answer
	                             (sl_routine_reply_sess); NULL: none, or taken */
	sl_ratelimit_t hello_rl;  /* per source */
	sl_ratelimit_bucket_t hello_all;   /* the lcore's budget, 3/4 of hello_total */
	sl_ratelimit_bucket_t hello_quiet; /* 1/4 of it, for sources that were quiet */
	uint32_t gate_drops;               /* HELLOs the gate dropped since the last load sample */
	uint64_t rx_sampled;               /* rx_pkts at the last load sample */
	uint32_t st_stride;                /* bytes of routine state per slot */
	uint32_t st_off[SL_ROUTINE_IDS];   /* by wire stream id */
	uint8_t *st;                       /* SL_SESSIONS_PER_LCORE x st_stride */
	void *lst[SL_ROUTINE_IDS];         /* per-lcore routine state, by id */
	sl_routine_peer_t peer[SL_SESSIONS_PER_LCORE];
} sl_routine_t;

/* sl_routine_create allocates and prepares lcore lc's framework state and
   every registered routine's state on its socket (rte_zmalloc_socket),
   running the descriptors' init; lc->rt is set.  Returns 0, or -1 with a
   log line. */
int sl_routine_create(sl_lcore_t *lc);

/* sl_routine_destroy runs the descriptors' fini and frees lc->rt (after
   the loop ended). */
void sl_routine_destroy(sl_lcore_t *lc);

/* sl_routine_need_events (from a descriptor's init): a session may have
   up to n answers outstanding whose events must never be lost; the event
   backlog is sized for the largest such n (sl_evq_cap). */
void sl_routine_need_events(sl_lcore_t *lc, uint32_t n);

/* sl_routine_peer: the state of slot `slot` (< SL_SESSIONS_PER_LCORE). */
static inline sl_routine_peer_t *sl_routine_peer(sl_lcore_t *lc, uint32_t slot)
{
	return &lc->rt->peer[slot];
}

static inline uint32_t sl_routine_slot(const sl_lcore_t *lc, const sl_routine_peer_t *p)
{
	return (uint32_t)(p - lc->rt->peer);
}

/* sl_routine_state: the per-peer state block of stream `id`'s routine for
   p (the routine's own type; zeroed on install). */
static inline void *sl_routine_state(const sl_lcore_t *lc, const sl_routine_peer_t *p, uint8_t id)
{
	const sl_routine_t *rt = lc->rt;
	return rt->st + (size_t)(p - rt->peer) * rt->st_stride + rt->st_off[id];
}

/* sl_routine_lcore_state: stream `id`'s per-lcore state. */
static inline void *sl_routine_lcore_state(const sl_lcore_t *lc, uint8_t id)
{
	return lc->rt->lst[id];
}

/* sl_routine_sess: p's slot in the shared session table. */
static inline sl_session_t *sl_routine_sess(const sl_lcore_t *lc, const sl_routine_peer_t *p)
{
	return &lc->rt->tab->slot[sl_routine_slot(lc, p)];
}

/* sl_routine_reset (install): the framework's fields up to `bo` and every
   routine's state block of p zeroed. */
void sl_routine_reset(sl_lcore_t *lc, sl_routine_peer_t *p);

/* sl_routine_send builds and queues a frame to peer (dst_ip, dst_port)
   with header *h (length set here) and message *msg.  dst_mac NULL: next
   hop by ARP (sl_arp_send_ipv4).  Returns 0 or -1 (counted: NO_MBUF,
   NEIGH_UNRESOLVED). */
int sl_routine_send(sl_lcore_t *lc, uint32_t dst_ip, uint16_t dst_port, const sl_mac_t *dst_mac,
                    uint16_t vlan_tci, sl_wire_hdr_t *h, const sl_wire_msg_t *msg);

/* sl_routine_build encodes the frame sl_routine_send would send into a
   fresh mbuf and returns it without queueing it (the caller hands it to
   sl_lcore_tx, sl_arp_send_ipv4 or sl_routine_xmit_sess, or frees it);
   NULL when the pool is empty (counted NO_MBUF) or the message does not
   encode.  With tx_key (an authenticated session's, SPEC §8) the frame
   carries flag AUTH and its tag. */
struct rte_mbuf *sl_routine_build(sl_lcore_t *lc, uint32_t dst_ip, uint16_t dst_port,
                                  const sl_mac_t *dst_mac, uint16_t vlan_tci, sl_wire_hdr_t *h,
                                  const sl_wire_msg_t *msg, const uint8_t *tx_key);

/* sl_routine_build_sess builds (stream, type, msg) for live session p with
   its next seq and `corr`, not yet queued (a frame freed instead of sent
   just leaves a gap in the seq, which receivers accept).  Does not look at
   a received BACKOFF: the caller decides (sl_backoff_should_send).  NULL
   on seq exhaustion or no mbuf. */
struct rte_mbuf *sl_routine_build_sess(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t stream,
                                       uint8_t type, uint64_t corr, const sl_wire_msg_t *msg);

/* sl_routine_xmit_sess queues a frame sl_routine_build_sess built for p
   (its MAC, or ARP) and counts the session's tx counters.  Returns 0 or -1
   (the frame was dropped and counted). */
int sl_routine_xmit_sess(sl_lcore_t *lc, sl_routine_peer_t *p, struct rte_mbuf *m);

/* sl_routine_send_sess sends (stream, type, msg) on live session p with
   its next seq and `corr`; honours a received BACKOFF (non-session streams
   held back: returns -1).  Counts the session's tx counters. */
int sl_routine_send_sess(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t stream, uint8_t type,
                         uint64_t corr, const sl_wire_msg_t *msg);

/* sl_routine_reply_sess: sl_routine_send_sess for an answer to the frame a
   descriptor's input is serving, built in that frame's buffer when it can
   be (no allocation, no free: the PING -> PONG path).  The frame's bytes,
   and any view the decoded message holds into them (HEADERS' hdrs), are
   gone once it returns; outside an input it is sl_routine_send_sess. */
int sl_routine_reply_sess(sl_lcore_t *lc, sl_routine_peer_t *p, uint8_t stream, uint8_t type,
                          uint64_t corr, const sl_wire_msg_t *msg);

/* sl_routine_event sends an event record to ctrl (payload len bytes)
   through the lcore's event outbox (sl_evq.h): a critical event is never
   lost (it waits in the backlog when the ring is full); an advisory one is
   refused when the ring is down to its reserve.  Returns 0 when the event
   is on the ring or in the backlog (ctrl will see it), -1 when it was
   refused (counted; the caller undoes what ctrl would not know). */
int sl_routine_event(sl_lcore_t *lc, uint16_t type, uint32_t session, uint32_t gen,
                     const void *payload, uint16_t len);

/* sl_routine_event_corr is sl_routine_event with msg.corr = corr
   (header-sync events naming their GET_HEADERS request). */
int sl_routine_event_corr(sl_lcore_t *lc, uint16_t type, uint32_t session, uint32_t gen,
                          uint64_t corr, const void *payload, uint16_t len);

/* sl_routine_session_up: p just became LIVE (both directions): SESSION_UP
   event, session_up probe, BACKOFF state reset, then every descriptor's
   start in registration order. */
void sl_routine_session_up(sl_lcore_t *lc, sl_routine_peer_t *p, uint32_t best_height,
                           const uint8_t best_hash[32]);

/* sl_routine_teardown is the one exit path (DESIGN.md): sends
   GOODBYE(goodbye) first when non-zero and the session is live, stops
   every routine (descriptors' stop), detaches the command block, tears the
   session table slot down, emits SESSION_DOWN exactly once and fires
   session_down.  A FREE slot is left alone (idempotent). */
void sl_routine_teardown(sl_lcore_t *lc, sl_routine_peer_t *p, sl_exit_t exit, uint16_t goodbye,
                         uint16_t goodbye_rx);

/* sl_routine_misbehave: protocol-class misbehaviour of p on (stream,
   type): MISBEHAVIOR event, misbehavior probe, GOODBYE(PROTOCOL) and
   teardown (exit PROTOCOL). */
void sl_routine_misbehave(sl_lcore_t *lc, sl_routine_peer_t *p, sl_misb_t kind, uint8_t stream,
                          uint8_t type);

/* sl_routine_connecting: the CONNECTING slot `sid` names for a frame from
   (ip, port), or NULL (the demux's second look after a table miss). */
sl_routine_peer_t *sl_routine_connecting(sl_lcore_t *lc, uint32_t sid, uint32_t ip, uint16_t port);

/* sl_routine_conn_add / _conn_remove: slot joins / leaves the CONNECTING
   list the connect tick walks. */
void sl_routine_conn_add(sl_lcore_t *lc, uint32_t slot);
void sl_routine_conn_remove(sl_lcore_t *lc, uint32_t slot);

/* sl_routine_frame runs a frame of LIVE session s (slot of p; header h
   decoded, payload at pl): AUTH flag, stream bitmap, anti-replay, a parked
   stream (dropped: hs_parked), payload decode, backpressure, then the
   stream's descriptor input, then the invariants (sl_routine_check).
   Takes ownership of m. */
void sl_routine_frame(sl_lcore_t *lc, sl_routine_peer_t *p, sl_session_t *s, struct rte_mbuf *m,
                      const sl_wire_hdr_t *h, const uint8_t *pl);

/* sl_routine_command runs a per-session command sl_cmdq delivered
   (other than install / teardown) with the descriptor that claims it;
   unclaimed or out-of-range ones are counted stale. */
void sl_routine_command(sl_lcore_t *lc, const sl_msg_t *m);

/* sl_routine_tick_due: the deadline / liveness scans run once per tick
   period (1 ms, or [dataplane] fault_tick_ms in a test build). */
bool sl_routine_tick_due(sl_lcore_t *lc);

/* sl_routine_deadlines (deadlines phase): every live session, downward
   (teardown-safe), every descriptor's tick while the session stays live. */
void sl_routine_deadlines(sl_lcore_t *lc);

/* sl_routine_liveness (liveness phase): every live session's descriptors'
   liveness hooks. */
void sl_routine_liveness(sl_lcore_t *lc);

/* sl_routine_pull (pull phase): every descriptor's per-lcore pull. */
void sl_routine_pull(sl_lcore_t *lc);

/* sl_routine_check (after every routine run for LIVE session `sid`, slot
   s): the invariants of p — still LIVE (or ended by the routine), its
   session-table slot still names sid, and each descriptor's check.  A
   broken one is a bug of ours: routine_faults +1, one SL_ERR naming the
   session and the invariant, and sl_routine_teardown(SL_EXIT_FAULT,
   GOODBYE SHUTDOWN).  Other peers untouched.  Compiled only with
   CONFIG_SL_INVARIANTS (test and debug builds); a no-op otherwise. */
#if SL_INVARIANTS
void sl_routine_check(sl_lcore_t *lc, sl_routine_peer_t *p, sl_session_t *s, uint32_t sid);
#else
static inline void sl_routine_check(sl_lcore_t *lc, sl_routine_peer_t *p, sl_session_t *s,
                                    uint32_t sid)
{
	(void)lc, (void)p, (void)s, (void)sid;
}
#endif

/* sl_routine_hello_gate: whether a HELLO from src_ip goes on to ctrl
   (SL_DROP_CNT), or the reason it is dropped.  Per source: [dataplane]
   hello_rate / hello_burst (HELLO_RATE).  Then the lcore's budget for all
   sources, hello_total per second: three quarters for anyone, a quarter
   kept for sources that were quiet (their own bucket full: a peer's
   handshake, not a flood's stream), so a flood from many addresses cannot
   take all of it (HELLO_BUDGET). */
sl_drop_t sl_routine_hello_gate(sl_lcore_t *lc, uint32_t src_ip);

/* sl_routine_rx_capacity (once, when the loop starts; control path) sets
   lc->rt->rx_cap to what the RX path can actually hold: the queue's ring
   size (rte_eth_rx_queue_info_get; for net_af_packet, which does not
   report it, its framecnt devarg, default 512; else SL_RX_DESC), capped by
   the per-cycle gather array (SL_RX_GATHER).  Also probes whether the PMD
   supports rte_eth_rx_queue_count. */
void sl_routine_rx_capacity(sl_lcore_t *lc);

/* sl_routine_backpressure (phase 6's decision, taken in the RX phase
   before the drain so it applies to the frames it measured): `depth`
   frames were waiting (gathered off the queue, plus rte_eth_rx_queue_count
   when the gather array filled and the PMD supports it); sets
   rt->over_mark with sl_backoff_load_update (held
   SL_BACKOFF_HOLD_NS_DEFAULT, so it recovers once the load has stayed
   under the mark that long).  `depth` counts only the share of frames
   that are work, as the previous drain found it (frames received since the
   last sample, less the HELLOs the gate dropped; with no frame drained
   since, the mark is left as it was): a HELLO flood costs a
   hash lookup a frame and no BACKOFF can slow forged sources, so it must
   not make the lcore throttle its own peers. */
void sl_routine_backpressure(sl_lcore_t *lc, uint32_t depth);

/* sl_routine_shutdown: GOODBYE(SHUTDOWN) and teardown (exit NORMAL) of
   every live session, teardown of every connect in progress, then up to
   SL_ROUTINE_DRAIN_NS for ctrl to take the events still in the backlog
   (only while it is attached and beating).  At loop exit. */
void sl_routine_shutdown(sl_lcore_t *lc);

#endif /* SL_ROUTINE_H */
