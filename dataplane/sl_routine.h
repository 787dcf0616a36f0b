/* sl_routine.h — the routine framework of a worker lcore (DESIGN.md "Peer
   routines"): the dp-private state of each session slot, the session-frame
   demux (session id -> slot -> stream -> routine), frame sending, events
   to ctrl, and THE teardown path every exit kind goes through.

   Owner: the worker lcore (single thread, no atomics).  The per-slot state
   (sl_peer_t, about 4.5 KiB with the phi ring) is allocated once per lcore
   at start-up with rte_zmalloc_socket, never per frame.  A slot is
     FREE        nothing installed;
     CONNECTING  an outbound connect in progress (sl_connect.c): not in the
                 shared session table yet, found by sid through this state;
     LIVE        installed in the shared session table (sl_session.h).
   Streams run by routines: 0 session (sl_sess_stream.c), 1 discovery
   (sl_discovery.c), 5 header-sync (sl_hsync.c: serving side and park). */
#ifndef SL_ROUTINE_H
#define SL_ROUTINE_H

#include "sl_backoff.h"
#include "sl_cmdq.h"
#include "sl_evq.h"
#include "sl_hsync.h"
#include "sl_lcore.h"
#include "sl_msg.h"
#include "sl_net.h"
#include "sl_phi.h"
#include "sl_ratelimit.h"
#include "sl_session.h"
#include "sl_wire.h"

enum { SL_PEER_FREE = 0, SL_PEER_CONNECTING = 1, SL_PEER_LIVE = 2 };

#define SL_RT_DRAIN_NS (500000000ull) /* at exit: how long ctrl may take the event backlog */
enum { SL_DISC_IDLE = 0, SL_DISC_ASKED = 1, SL_DISC_DONE = 2 };

/* dp-private state of one slot (owner: the lcore). */
typedef struct sl_peer {
	uint8_t state;    /* SL_PEER_* */
	uint8_t outbound; /* 1: we connected */
	uint8_t disc;     /* SL_DISC_* */
	uint8_t down_sent;
	uint16_t vlan_tci;
	uint16_t peer_port;
	uint32_t peer_ip;
	uint32_t sid; /* our id for it */
	uint32_t gen; /* ctrl's generation (the cmdq's) */
	uint32_t remote_sid;
	uint32_t streams; /* CONNECTING: offered; LIVE: negotiated */
	sl_mac_t peer_mac;
	uint8_t mac_known;
	uint8_t rsvd;
	uint64_t nonce;
	uint64_t corr; /* the HELLO's corr (ACCEPT; echoed on a repeat) */
	uint8_t node_id[32];
	/* connect (outbound, CONNECTING) */
	uint64_t conn_deadline_ns, conn_next_ns, conn_gap_ns;
	uint32_t conn_tries;
	/* session stream */
	uint64_t next_ping_ns;
	uint64_t live_ns;      /* when the session became live (sl_ss_start) */
	uint64_t ping_sent_ns; /* sender_time_ns of our latest PING, 0 none */
	uint64_t pong_echo_ns; /* latest of our PINGs whose PONG was a heartbeat */
	uint64_t settle_ns;    /* discovery settle deadline, 0 none */
	uint32_t peer_best_height;
	uint16_t disc_max; /* the max we asked for */
	sl_hs_peer_t hs;   /* header-sync routine (zeroed on install, like all above) */
	sl_backoff_peer_t bo;
	sl_backoff_quiet_t quiet;
	sl_rtt_t rtt;
	sl_phi_t phi;
} sl_peer_t;

/* Per-lcore routine state. */
typedef struct sl_rt {
	sl_session_table_t *tab; /* this lcore's table in the region */
	sl_cmdq_t cmdq;
	sl_phi_cfg_t phi_cfg;
	sl_backoff_cfg_t bo_cfg;
	bool over_mark;         /* ingress over the BACKOFF mark (this cycle, held) */
	bool rxq_count_ok;      /* the PMD answers rte_eth_rx_queue_count */
	uint32_t rx_cap;        /* RX capacity the depth is compared with */
	sl_backoff_load_t load; /* over-the-mark signal with its hold */
	uint64_t next_tick_ns;  /* deadlines / liveness scan */
	uint32_t n_conn;
	uint16_t conn[SL_SESSIONS_PER_LCORE]; /* CONNECTING slots */
	sl_hs_lcore_t hs;                     /* header-sync: the local STATUS seen */
	sl_evq_t evq;                         /* events to ctrl (backlog: rte_zmalloc'd) */
	sl_ratelimit_t hello_rl;
	sl_peer_t peer[SL_SESSIONS_PER_LCORE];
} sl_rt_t;

/* sl_rt_create allocates and prepares lcore lc's routine state on its
   socket (rte_zmalloc_socket); lc->rt is set.  Returns 0, or -1 with a log
   line. */
int sl_rt_create(sl_lcore_t *lc);

/* sl_rt_destroy frees lc->rt (after the loop ended). */
void sl_rt_destroy(sl_lcore_t *lc);

/* sl_rt_peer: the state of slot `slot` (< SL_SESSIONS_PER_LCORE). */
static inline sl_peer_t *sl_rt_peer(sl_lcore_t *lc, uint32_t slot)
{
	return &lc->rt->peer[slot];
}

static inline uint32_t sl_rt_slot(const sl_lcore_t *lc, const sl_peer_t *p)
{
	return (uint32_t)(p - lc->rt->peer);
}

/* sl_rt_send builds and queues a frame to peer (dst_ip, dst_port) with
   header *h (length set here) and message *msg.  dst_mac NULL: next hop by
   ARP (sl_arp_send_ipv4).  Returns 0 or -1 (counted: NO_MBUF,
   NEIGH_UNRESOLVED). */
int sl_rt_send(sl_lcore_t *lc, uint32_t dst_ip, uint16_t dst_port, const sl_mac_t *dst_mac,
               uint16_t vlan_tci, sl_wire_hdr_t *h, const sl_wire_msg_t *msg);

/* sl_rt_build encodes the frame sl_rt_send would send into a fresh mbuf
   and returns it without queueing it (the caller hands it to sl_lcore_tx,
   sl_arp_send_ipv4 or sl_rt_xmit_sess, or frees it); NULL when the pool is
   empty (counted NO_MBUF) or the message does not encode. */
struct rte_mbuf *sl_rt_build(sl_lcore_t *lc, uint32_t dst_ip, uint16_t dst_port,
                             const sl_mac_t *dst_mac, uint16_t vlan_tci, sl_wire_hdr_t *h,
                             const sl_wire_msg_t *msg);

/* sl_rt_build_sess builds (stream, type, msg) for live session p with its
   next seq and `corr`, not yet queued (a frame freed instead of sent just
   leaves a gap in the seq, which receivers accept).  Does not look at a
   received BACKOFF: the caller decides (sl_backoff_should_send).  NULL on
   seq exhaustion or no mbuf. */
struct rte_mbuf *sl_rt_build_sess(sl_lcore_t *lc, sl_peer_t *p, uint8_t stream, uint8_t type,
                                  uint64_t corr, const sl_wire_msg_t *msg);

/* sl_rt_xmit_sess queues a frame sl_rt_build_sess built for p (its MAC, or
   ARP) and counts the session's tx counters.  Returns 0 or -1 (the frame
   was dropped and counted). */
int sl_rt_xmit_sess(sl_lcore_t *lc, sl_peer_t *p, struct rte_mbuf *m);

/* sl_rt_send_sess sends (stream, type, msg) on live session p with its
   next seq and `corr`; honours a received BACKOFF (non-session streams
   held back: returns -1).  Counts the session's tx counters. */
int sl_rt_send_sess(sl_lcore_t *lc, sl_peer_t *p, uint8_t stream, uint8_t type, uint64_t corr,
                    const sl_wire_msg_t *msg);

/* sl_rt_event sends an event record to ctrl (payload len bytes) through
   the lcore's event outbox (sl_evq.h): a critical event is never lost (it
   waits in the backlog when the ring is full); an advisory one is refused
   when the ring is down to its reserve.  Returns 0 when the event is on
   the ring or in the backlog (ctrl will see it), -1 when it was refused
   (counted; the caller undoes what ctrl would not know). */
int sl_rt_event(sl_lcore_t *lc, uint16_t type, uint32_t session, uint32_t gen, const void *payload,
                uint16_t len);

/* sl_rt_event_corr is sl_rt_event with msg.corr = corr (header-sync
   events naming their GET_HEADERS request). */
int sl_rt_event_corr(sl_lcore_t *lc, uint16_t type, uint32_t session, uint32_t gen, uint64_t corr,
                     const void *payload, uint16_t len);

/* sl_rt_session_up: p just became LIVE (both directions): SESSION_UP event,
   session_up probe, routines started (keepalive, discovery). */
void sl_rt_session_up(sl_lcore_t *lc, sl_peer_t *p, uint32_t best_height,
                      const uint8_t best_hash[32]);

/* sl_rt_teardown is the one exit path (DESIGN.md): sends GOODBYE(goodbye)
   first when non-zero and the session is live, releases the per-peer state,
   detaches the command block, tears the session table slot down, emits
   SESSION_DOWN exactly once and fires session_down.  A FREE slot is left
   alone (idempotent). */
void sl_rt_teardown(sl_lcore_t *lc, sl_peer_t *p, sl_exit_t exit, uint16_t goodbye,
                    uint16_t goodbye_rx);

/* sl_rt_misbehave: protocol-class misbehaviour of p on (stream, type):
   MISBEHAVIOR event, misbehavior probe, GOODBYE(PROTOCOL) and teardown
   (exit PROTOCOL). */
void sl_rt_misbehave(sl_lcore_t *lc, sl_peer_t *p, sl_misb_t kind, uint8_t stream, uint8_t type);

/* sl_rt_check (after every routine run for LIVE session `sid`, slot s):
   the routine invariants of p — still LIVE (or ended by the routine), its
   session-table slot still names sid, header-sync expectations within
   [sync] inflight, liveness times ordered.  A broken one is a bug of ours:
   routine_faults +1, one SL_ERR naming the session and the invariant, and
   sl_rt_teardown(SL_EXIT_FAULT, GOODBYE SHUTDOWN).  Other peers untouched.
   Compiled only with CONFIG_SL_INVARIANTS (test and debug builds); a
   no-op otherwise. */
#if SL_INVARIANTS
void sl_rt_check(sl_lcore_t *lc, sl_peer_t *p, sl_session_t *s, uint32_t sid);
#else
static inline void sl_rt_check(sl_lcore_t *lc, sl_peer_t *p, sl_session_t *s, uint32_t sid)
{
	(void)lc, (void)p, (void)s, (void)sid;
}
#endif

/* sl_rt_frame is the demux of a frame whose session != 0 (header h decoded,
   payload at pl): session lookup (connecting slots included), stream
   bitmap, anti-replay, a parked header-sync service (its stream-5 frames
   dropped: hs_parked), payload decode, backpressure, then the stream's
   routine.  Takes ownership of m. */
void sl_rt_frame(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *pkt, const sl_wire_hdr_t *h,
                 const uint8_t *pl);

/* sl_rt_hello_allowed: the per-source HELLO rate limiter ([dataplane]
   hello_rate / hello_burst). */
bool sl_rt_hello_allowed(sl_lcore_t *lc, uint32_t src_ip);

/* sl_rt_rx_capacity (once, when the loop starts; control path) sets
   lc->rt->rx_cap to what the RX path can actually hold: the queue's ring
   size (rte_eth_rx_queue_info_get; for net_af_packet, which does not
   report it, its framecnt devarg, default 512; else SL_RX_DESC), capped by
   the per-cycle gather array (SL_RX_GATHER).  Also probes whether the PMD
   supports rte_eth_rx_queue_count. */
void sl_rt_rx_capacity(sl_lcore_t *lc);

/* sl_rt_backpressure (phase 6's decision, taken in the RX phase before the
   drain so it applies to the frames it measured): `depth` frames were
   waiting (gathered off the queue, plus rte_eth_rx_queue_count when the
   gather array filled and the PMD supports it); sets rt->over_mark with
   sl_backoff_load_update (held SL_BACKOFF_HOLD_NS_DEFAULT, so it recovers
   once the load has stayed under the mark that long). */
void sl_rt_backpressure(sl_lcore_t *lc, uint32_t depth);

/* sl_rt_shutdown: GOODBYE(SHUTDOWN) and teardown (exit NORMAL) of every
   live session, teardown of every connect in progress, then up to
   SL_RT_DRAIN_NS for ctrl to take the events still in the backlog (only
   while it is attached and beating).  At loop exit. */
void sl_rt_shutdown(sl_lcore_t *lc);

#endif /* SL_ROUTINE_H */
