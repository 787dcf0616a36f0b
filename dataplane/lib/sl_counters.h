/* sl_counters.h — per-lcore dataplane counters, living in the shared
   control region.  Owner: the lcore (single writer, SL_CNT_ADD); readers:
   telemetry on the main lcore and sluice-ctrl, any time.  Every dropped
   frame moves exactly one drop counter, named by an sl_drop_t reason; the
   same reason is the `frame_drop` probe argument.  Adding a reason or a
   counter is one line below. */
#ifndef SL_COUNTERS_H
#define SL_COUNTERS_H

#include "sl_base.h"

/* Drop reasons: X(ENUM_SUFFIX, "name").  Names are the telemetry / API keys
   (prefixed "drop_").  Order is ABI of the region: append only. */
#define SL_DROP_LIST(X)                                                                            \
	X(ETH_SHORT, "eth_short")       /* shorter than an Ethernet header */                      \
	X(ETH_DST, "eth_dst")           /* not our MAC, not broadcast */                           \
	X(ETH_TYPE, "eth_type")         /* not IPv4 / ARP (after 802.1Q) */                        \
	X(VLAN_STACKED, "vlan_stacked") /* more than one 802.1Q tag */                             \
	X(ARP_MALFORMED, "arp_malformed")                                                          \
	X(ARP_NOT_FOR_US, "arp_not_for_us")                                                        \
	X(IP_SHORT, "ip_short")                                                                    \
	X(IP_VERSION, "ip_version")                                                                \
	X(IP_OPTIONS, "ip_options")                                                                \
	X(IP_LENGTH, "ip_length") /* total length vs frame */                                      \
	X(IP_CSUM, "ip_csum")                                                                      \
	X(IP_FRAGMENT, "ip_fragment")                                                              \
	X(IP_NOT_FOR_US, "ip_not_for_us")                                                          \
	X(IP_PROTO, "ip_proto")                                                                    \
	X(ICMP_MALFORMED, "icmp_malformed")                                                        \
	X(ICMP_CSUM, "icmp_csum")                                                                  \
	X(ICMP_TYPE, "icmp_type") /* not an echo request */                                        \
	X(UDP_SHORT, "udp_short")                                                                  \
	X(UDP_LENGTH, "udp_length") /* UDP length disagrees with IP */                             \
	X(UDP_CSUM, "udp_csum")                                                                    \
	X(UDP_PORT, "udp_port") /* not our sluice port */                                          \
	X(SL_SHORT, "sl_short") /* shorter than the 24-byte header */                              \
	X(SL_MAGIC, "sl_magic")                                                                    \
	X(SL_VERSION, "sl_version")                                                                \
	X(SL_LENGTH, "sl_length")               /* header length vs UDP size */                    \
	X(SL_FLAGS, "sl_flags")                 /* reserved flag bits set */                       \
	X(SL_OVERSIZE, "sl_oversize")           /* UDP payload over 1472 bytes */                  \
	X(SL_NO_SESSION, "sl_no_session")       /* not a live session: silent */                   \
	X(SL_NO_CTRL, "sl_no_ctrl")             /* HELLO while ctrl is absent */                   \
	X(SL_STREAM, "sl_stream")               /* stream not negotiated */                        \
	X(SL_REPLAY, "sl_replay")               /* duplicate or too-old seq */                     \
	X(SL_PAYLOAD, "sl_payload")             /* undecodable payload */                          \
	X(NEIGH_UNRESOLVED, "neigh_unresolved") /* next hop has no ARP entry yet */                \
	X(TX_FULL, "tx_full")                   /* TX queue refused the frame */                   \
	X(NO_MBUF, "no_mbuf")                   /* mempool empty building a reply */               \
	X(EVENT_RING_FULL, "event_ring_full")   /* event to ctrl did not fit */                    \
	X(HELLO_RATE, "hello_rate")             /* HELLO over the per-source rate */               \
	X(HELLO_BUDGET, "hello_budget")         /* HELLO over the lcore's budget for all */        \
	X(BACKOFF_SILENT, "backoff_silent")     /* sender in silent mode (overload) */             \
	X(SL_AUTH, "sl_auth")                   /* AUTH flag on a session without auth */          \
	X(HS_PARKED, "hs_parked")               /* stream 5 of a parked header-sync service */     \
	X(HANDOFF_FULL, "handoff_full")         /* owner lcore's handoff ring full */              \
	X(AUTH_MISSING, "auth_missing")         /* no AUTH flag on an authenticated session */     \
	X(AUTH_TAG, "auth_tag")                 /* AUTH tag is not the sender's (SPEC §8) */      \
	X(AUTH_ACK, "auth_ack")                 /* HELLO_ACK with a bad signature or key */

typedef enum {
#define SL_DROP_ENUM(e, s) SL_DROP_##e,
	SL_DROP_LIST(SL_DROP_ENUM)
#undef SL_DROP_ENUM
	    SL_DROP_CNT
} sl_drop_t;

/* Other counters: X(field, "name"). Append only. */
#define SL_LCORE_CNT_LIST(X)                                                                       \
	X(rx_pkts, "rx_pkts")                                                                      \
	X(rx_bytes, "rx_bytes")                                                                    \
	X(rx_bursts, "rx_bursts") /* non-empty RX bursts */                                        \
	X(tx_pkts, "tx_pkts")                                                                      \
	X(tx_bytes, "tx_bytes")                                                                    \
	X(arp_rx, "arp_rx")                                                                        \
	X(arp_reply_tx, "arp_reply_tx")                                                            \
	X(arp_request_tx, "arp_request_tx")                                                        \
	X(icmp_echo_reply_tx, "icmp_echo_reply_tx")                                                \
	X(sl_frames_rx, "sl_frames_rx") /* valid sluice frames */                                  \
	X(cycles, "cycles")             /* poll-cycle iterations */                                \
	X(idle_sleeps, "idle_sleeps")                                                              \
	X(budget_exceeded, "budget_exceeded")                                                      \
	X(cmds_rx, "cmds_rx")                                                                      \
	X(events_tx, "events_tx")                                                                  \
	X(events_lost, "events_lost")             /* events that never reached ctrl (sl_evq.h) */  \
	X(backoff_tx, "backoff_tx")               /* BACKOFF notices sent */                       \
	X(cmds_stale, "cmds_stale")               /* per-peer commands stale / parked / invalid */ \
	X(hs_get_headers_rx, "hs_get_headers_rx") /* GET_HEADERS decoded (count > 2000 too) */     \
	X(hs_headers_tx, "hs_headers_tx")         /* HEADERS frames sent */                        \
	X(hs_not_found_tx, "hs_not_found_tx")     /* NOT_FOUND frames sent */                      \
	X(hs_busy, "hs_busy")           /* GET_HEADERS answered BUSY (budget, epoch, no store) */  \
	X(hs_status_tx, "hs_status_tx") /* STATUS frames sent */                                   \
	X(hs_status_rx, "hs_status_rx") /* STATUS accepted from peers */                           \
	X(hs_spam, "hs_spam")           /* record-only SPAM: STATUS / GET_HEADERS over budget */   \
	X(hs_parks, "hs_parks")         /* header-sync services found parked (state dropped) */    \
	X(hs_parked_drop, "hs_parked_drop") /* stream-5 frames of parked services dropped */       \
	X(hs_req_tx, "hs_req_tx")           /* GET_HEADERS requests sent (pull) */                 \
	X(hs_busy_rx, "hs_busy_rx")         /* NOT_FOUND(BUSY) to our pull: window halved, held */ \
	X(hs_headers_rx, "hs_headers_rx")   /* headers accepted from HEADERS answers */            \
	X(hs_invalid, "hs_invalid")         /* HEADERS batches refused (range, PoW, link) */       \
	/* answer frames (HEADERS, NOT_FOUND) by sl_expect_check's reason, in its order */         \
	X(hs_answer_ok, "hs_answer_ok")           /* open, in time, some heights new */            \
	X(hs_answer_dup, "hs_answer_dup")         /* open, in time, nothing new */                 \
	X(hs_answer_late, "hs_answer_late")       /* for an expectation this session ended */      \
	X(hs_answer_expired, "hs_answer_expired") /* past its deadline: ended, not credited */     \
	X(hs_answer_unsolicited, "hs_answer_unsolicited") /* for nothing this session asked */     \
	X(hs_answer_outside, "hs_answer_outside") /* heights outside the request: BAD_DATA */      \
	X(routine_faults, "routine_faults") /* sessions ended by a routine-invariant fault */      \
	X(hs_partial, "hs_partial")         /* answers ended with heights missing (LAST, quiet) */ \
	X(hs_new_block_rx, "hs_new_block_rx")   /* NEW_BLOCK accepted from peers (PoW ok) */       \
	X(hs_new_block_tx, "hs_new_block_tx")   /* NEW_BLOCK frames sent (FORWARD_NEW_BLOCK) */    \
	X(hs_fetch_tx, "hs_fetch_tx")           /* GET_HEADERS sent for a ctrl fetch */            \
	X(hs_fault_bad_pow, "hs_fault_bad_pow") /* TEST ONLY: answers corrupted on purpose */      \
	X(hs_exp_dropped,                                                                          \
	  "hs_exp_dropped")               /* expectations ended: the table no longer holds them */ \
	X(hs_no_answer, "hs_no_answer")   /* requests without any answer frame in 1 s */           \
	X(hs_event_full, "hs_event_full") /* header-sync work given back: event ring full */       \
	X(hs_pull_deferred, "hs_pull_deferred") /* pulls put off: event ring short of room */      \
	X(evt_backlogged, "evt_backlogged")     /* critical events put in the backlog */           \
	X(evt_backlog_flushed, "evt_backlog_flushed") /* backlog records moved to the ring */      \
	X(evt_backlog_depth, "evt_backlog_depth")     /* gauge: records in the backlog now */      \
	X(evt_backlog_max, "evt_backlog_max")         /* gauge: the most it ever held */           \
	X(evt_refused_reserve, "evt_refused_reserve") /* advisory refused: ring at its reserve */  \
	X(evt_refused_full, "evt_refused_full")       /* advisory refused: ring full */            \
	X(evt_refused_backlog, "evt_refused_backlog") /* advisory refused: backlog not empty */    \
	X(evt_critical_lost, "evt_critical_lost") /* critical lost: backlog overflow (a bug) */    \
	X(handoff_out, "handoff_out") /* frames handed to the lcore owning their session */        \
	X(handoff_in, "handoff_in")   /* frames handed to us by the lcore that received them */    \
	X(rt_frames, "rt_frames")     /* frames given to this lcore's sessions (routine input) */  \
	X(seq_closes, "seq_closes")   /* sessions closed before their seq would wrap (SPEC §8) */

/* The entries of SL_LCORE_CNT_LIST that are levels, not counts (they go
   down as well as up): X(field).  Prometheus exports them as gauges. */
#define SL_LCORE_GAUGE_LIST(X) X(evt_backlog_depth) X(evt_backlog_max)

typedef struct SL_CACHE_ALIGN {
#define SL_CNT_FIELD(f, s) sl_cnt_t f;
	SL_LCORE_CNT_LIST(SL_CNT_FIELD)
#undef SL_CNT_FIELD
	sl_cnt_t drop[SL_DROP_CNT];
} sl_lcore_cnt_t;

/* sl_lcore_cnt_is_gauge: the counter at byte offset `off` of
   sl_lcore_cnt_t is one of SL_LCORE_GAUGE_LIST. */
static inline bool sl_lcore_cnt_is_gauge(size_t off)
{
#define SL_CNT_GAUGE_AT(f)                                                                         \
	if (off == offsetof(sl_lcore_cnt_t, f))                                                    \
		return true;
	SL_LCORE_GAUGE_LIST(SL_CNT_GAUGE_AT)
#undef SL_CNT_GAUGE_AT
	return false;
}

/* sl_drop_str names a reason ("sl_magic"); "?" when out of range. */
static inline const char *sl_drop_str(unsigned reason)
{
	static const char *const names[] = {
#define SL_DROP_NAME(e, s) s,
	    SL_DROP_LIST(SL_DROP_NAME)
#undef SL_DROP_NAME
	};
	return reason < SL_DROP_CNT ? names[reason] : "?";
}

#endif /* SL_COUNTERS_H */
