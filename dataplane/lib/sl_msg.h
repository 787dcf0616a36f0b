/* sl_msg.h — the vocabulary of the region's rings: event types (lcore ->
   ctrl) and command types (ctrl -> lcore) carried in sl_msg_t.type, and the
   payload layout of each.  Shared by sluice-dp (producer of events,
   consumer of commands) and sluice-ctrl (the other way round).  Adding a
   type is one enumerator plus its payload struct here.

   Session ids (sl_session.h) are lcore . slot . generation.  ctrl is the
   allocator: it admits, picks the lcore (the one that received the HELLO;
   lcore 0 for outbound connects), a free slot of that lcore (free = no
   live session there and its SESSION_DOWN seen) and a generation from its
   process-wide counter, so it knows the session id before the dataplane
   installs it.  The dataplane installs exactly that slot and generation.

   Records: sl_msg_t.lcore = worker index.  For per-session commands and
   events sl_msg_t.session = the slot (commands, as sl_cmdq uses it) or the
   full session id (events), and sl_msg_t.gen = the generation. */
#ifndef SL_MSG_H
#define SL_MSG_H

#include "sl_auth.h"
#include "sl_region.h"
#include "sl_wire.h"
#include "sl_cmdq.h"

/* ---- events, lcore -> ctrl ---------------------------------------------- */

/* Values are ABI of the region: append only. */
#define SL_EVT_LIST(X)                                                                             \
	X(NONE, "none")                                                                            \
	X(HELLO, "hello")                   /* sl_evt_hello_t: a HELLO for admission */            \
	X(SESSION_UP, "session_up")         /* sl_evt_session_up_t */                              \
	X(SESSION_DOWN, "session_down")     /* sl_evt_session_down_t, once per session */          \
	X(CONNECT_FAILED, "connect_failed") /* sl_evt_connect_failed_t (then DOWN too) */          \
	X(LIVENESS, "liveness")             /* sl_evt_liveness_t: suspect / up transition */       \
	X(PEERS, "peers")                   /* sl_evt_peers_t: discovered addresses */             \
	X(MISBEHAVIOR, "misbehavior")       /* sl_evt_misbehavior_t */                             \
	X(PEER_STATUS, "peer_status")       /* sl_evt_peer_status_t: a valid STATUS */             \
	X(HEADERS, "headers")               /* sl_evt_headers_t: checked headers + hashes */       \
	X(WORK_ASSIGNED, "work_assigned")   /* sl_evt_work_t: a take, request sent */              \
	X(WORK_RETURNED, "work_returned")   /* sl_evt_work_t: the routine gave it back */          \
	X(NEW_BLOCK, "new_block")           /* sl_evt_new_block_t: a NEW_BLOCK, PoW checked */     \
	X(FETCH_END, "fetch_end")           /* sl_evt_fetch_end_t: a ctrl fetch ended */           \
	X(PONG, "pong")                     /* sl_evt_pong_t: the answer to a ctrl PING */         \
	X(SESSION_PROVEN, "session_proven") /* no payload: an inbound peer's first valid frame */

typedef enum {
#define SL_EVT_ENUM(e, s) SL_EVT_##e,
	SL_EVT_LIST(SL_EVT_ENUM)
#undef SL_EVT_ENUM
	    SL_EVT_TYPE_CNT
} sl_evt_type_t;

/* sl_evt_type_str names an event type for logs ("hello"), "?" if unknown. */
static inline const char *sl_evt_type_str(unsigned t)
{
	static const char *const names[] = {
#define SL_EVT_NAME(e, s) s,
	    SL_EVT_LIST(SL_EVT_NAME)
#undef SL_EVT_NAME
	};
	return t < SL_EVT_TYPE_CNT ? names[t] : "?";
}

/* Payload of SL_EVT_HELLO (msg.len = sizeof this; msg.session = 0).
   The HELLO payload is carried as received (wire bytes, hello_len of them,
   120 or 152) so ctrl decodes it with sl_wire_decode_hello; sl_msg_t.corr
   is the frame's corr, sl_msg_t.lcore the receiving worker index. */
typedef struct {
	uint32_t src_ip;   /* host order */
	uint16_t src_port; /* host order */
	uint16_t vlan_tci; /* 0 when untagged */
	uint8_t src_mac[6];
	uint16_t hello_len;
	uint32_t seq;                                        /* the frame header's seq */
	uint8_t hello[SL_WIRE_HELLO_LEN + SL_WIRE_AUTH_LEN]; /* the largest HELLO (auth_mode 1) */
} sl_evt_hello_t;

/* SL_EVT_SESSION_UP (msg.session = sid): the session is live on the lcore
   (inbound: HELLO_ACK sent; outbound: HELLO_ACK received). */
typedef struct {
	uint32_t peer_ip;
	uint16_t peer_port;
	uint8_t outbound; /* 1: we connected */
	uint8_t rsvd;
	uint32_t streams;    /* negotiated */
	uint32_t remote_sid; /* the peer's id for it */
	uint32_t best_height;
	uint8_t node_id[32]; /* the peer's */
	uint8_t best_hash[32];
} sl_evt_session_up_t;

/* SL_EVT_SESSION_PROVEN (msg.session = sid, msg.len = 0): the first frame
   of an inbound session that passed the session's checks (stream, replay,
   tag): the peer received our HELLO_ACK, so its address is its own (ctrl's
   proven admission, sl_admit.h).  Once per session; never for ours. */

/* Why a session ended: DESIGN.md's exit kinds, one teardown path for all.
   Values are ABI: append only. */
#define SL_EXIT_LIST(X)                                                                            \
	X(NORMAL, "normal")             /* peer GOODBYE(SHUTDOWN/ADMIN) or our shutdown */         \
	X(CANCEL, "cancel")             /* ctrl teardown (peer.disconnect, ban) */                 \
	X(STREAM_CLOSE, "stream_close") /* discovery-only session done / settled */                \
	X(PROTOCOL, "protocol")         /* peer misbehaved: GOODBYE(PROTOCOL) sent */              \
	X(LOCAL, "local")               /* our resources: connect failed, seq exhausted */         \
	X(LIVENESS, "liveness")         /* phi above the down threshold: GOODBYE(TIMEOUT) */       \
	X(FAULT, "fault")               /* an invariant broke in the routine */

typedef enum {
#define SL_EXIT_ENUM(e, s) SL_EXIT_##e,
	SL_EXIT_LIST(SL_EXIT_ENUM)
#undef SL_EXIT_ENUM
	    SL_EXIT_CNT
} sl_exit_t;

static inline const char *sl_exit_str(unsigned e)
{
	static const char *const names[] = {
#define SL_EXIT_NAME(e, s) s,
	    SL_EXIT_LIST(SL_EXIT_NAME)
#undef SL_EXIT_NAME
	};
	return e < SL_EXIT_CNT ? names[e] : "?";
}

/* SL_EVT_SESSION_DOWN (msg.session = sid): emitted exactly once per
   session that was installed (live or connecting), after teardown. */
typedef struct {
	uint16_t exit;         /* sl_exit_t */
	uint16_t goodbye_sent; /* GOODBYE reason we sent, 0 none */
	uint16_t goodbye_rx;   /* GOODBYE reason the peer sent, 0 none */
	uint16_t rsvd;
	uint32_t peer_ip;
	uint16_t peer_port;
	uint16_t rsvd2;
} sl_evt_session_down_t;

/* SL_EVT_CONNECT_FAILED (msg.session = sid of the connect attempt):
   reason = the REJECT reason, or 0 for "no answer before the deadline". */
typedef struct {
	uint16_t reason;
	uint16_t retry_after_s;
	uint32_t peer_ip;
	uint16_t peer_port;
	uint16_t rsvd;
} sl_evt_connect_failed_t;

/* SL_EVT_LIVENESS (msg.session = sid): a transition (state 1 suspect,
   0 up again); down is reported as SESSION_DOWN(LIVENESS). */
typedef struct {
	uint16_t state;
	uint16_t rsvd;
	uint32_t phi_milli; /* phi x 1000 at the transition */
	uint32_t rtt_us;
} sl_evt_liveness_t;

/* SL_EVT_PEERS (msg.session = sid it came from): up to
   SL_EVT_PEERS_MAX validated entries of a PEERS frame (several events for
   one frame when it carries more). */
#define SL_EVT_PEERS_MAX 5
typedef struct {
	uint8_t n;
	uint8_t rsvd[3];
	sl_wire_peer_t peer[SL_EVT_PEERS_MAX];
} sl_evt_peers_t;

/* Misbehaviour kinds (SPEC §5 classes; the `misbehavior` probe argument). */
#define SL_MISB_LIST(X)                                                                            \
	X(NONE, "none")                                                                            \
	X(UNDECODABLE, "undecodable") /* protocol: payload does not decode */                      \
	X(UNEXPECTED, "unexpected")   /* protocol: message not valid here */                       \
	X(UNSOLICITED, "unsolicited") /* protocol: reply matching no request */                    \
	X(BAD_DATA, "bad_data")       /* record-only: outside range / PoW / link */                \
	X(SPAM, "spam")               /* record-only: rate over its budget */

typedef enum {
#define SL_MISB_ENUM(e, s) SL_MISB_##e,
	SL_MISB_LIST(SL_MISB_ENUM)
#undef SL_MISB_ENUM
	    SL_MISB_CNT
} sl_misb_t;

static inline const char *sl_misb_str(unsigned k)
{
	static const char *const names[] = {
#define SL_MISB_NAME(e, s) s,
	    SL_MISB_LIST(SL_MISB_NAME)
#undef SL_MISB_NAME
	};
	return k < SL_MISB_CNT ? names[k] : "?";
}

/* SL_EVT_MISBEHAVIOR (msg.session = sid). */
typedef struct {
	uint16_t kind; /* sl_misb_t */
	uint8_t stream;
	uint8_t type;
	uint8_t disconnect; /* 1: protocol class, the session was torn down */
	uint8_t rsvd[3];
} sl_evt_misbehavior_t;

/* ---- header-sync events (DESIGN.md "Peer routines": PeerStatusUpdated,
   PeerHeadersReceived, PeerWorkAssigned, WorkReturned); msg.session = sid,
   msg.gen = the session's generation (the range-table generation), msg.corr
   = the GET_HEADERS request id where one applies. ---- */

/* SL_EVT_PEER_STATUS: a STATUS that decoded and passed the spam meter. */
typedef struct {
	uint32_t best_height;
	uint32_t finalized_height;
	uint8_t best_hash[32];
	uint8_t chainwork[32]; /* big-endian uint256 as on the wire */
} sl_evt_peer_status_t;

/* SL_EVT_HEADERS: one HEADERS frame's headers after the routine's own
   checks (correlation, heights inside the request, proof of work against
   each header's own target, linkage inside the batch), with their hashes
   (wire order).  range_start/range_len name the assignment it answers. */
#define SL_EVT_HEADERS_MAX     17
#define SL_EVT_HEADERS_F_FETCH 1u /* answers a ctrl fetch (SEND_FRAME), not a range */
typedef struct {
	uint32_t start;
	uint8_t n;
	uint8_t last;   /* the frame had the LAST flag */
	uint16_t flags; /* SL_EVT_HEADERS_F_*; with FETCH, range_* name the fetch */
	uint32_t range_start;
	uint32_t range_len;
	uint8_t hdr[SL_EVT_HEADERS_MAX][80];
	uint8_t hash[SL_EVT_HEADERS_MAX][32];
} sl_evt_headers_t;

/* SL_EVT_WORK_ASSIGNED / SL_EVT_WORK_RETURNED: a range taken from the range
   table for this session (request sent) / given back by the routine
   (why: sl_range_why_t: NOT_FOUND, SEND_FAIL, INVALID, PARK, ...). */
typedef struct {
	uint32_t start;
	uint32_t len;
	uint16_t why;
	uint8_t dir;
	uint8_t nf_reason; /* why NOT_FOUND: the peer's SPEC §5 reason, 0 when not a NOT_FOUND */
	/* (additive, syncctrl) the table range as take filled it (sl_range_t
	   .tag / .slot): ctrl's timeout return must name it, else it is stale.
	   Both 0: unknown (ctrl looks the range up in the table). */
	uint16_t tag;
	uint16_t rsvd2;
	uint32_t slot;
} sl_evt_work_t;

/* SL_EVT_NEW_BLOCK: a peer's NEW_BLOCK whose header meets its own target
   (checked by the routine; everything else is ctrl's). */
typedef struct {
	uint32_t height;
	uint8_t hdr[80];
	uint8_t hash[32];
} sl_evt_new_block_t;

/* SL_EVT_FETCH_END (msg.corr = the fetch's corr): a fetch ctrl asked for
   ended without all its heights: the peer answered NOT_FOUND (reason =
   SPEC §5 reason), sent LAST early (SL_FETCH_END_SHORT), sent data that
   failed the routine's checks (SL_FETCH_END_BAD: also recorded as
   BAD_DATA), or the request could not be sent (SL_FETCH_END_SEND).  A
   fetch that got every height ends silently. */
enum { SL_FETCH_END_SHORT = 100, SL_FETCH_END_BAD = 101, SL_FETCH_END_SEND = 102 };
typedef struct {
	uint32_t start;
	uint16_t reason;
	uint16_t rsvd;
} sl_evt_fetch_end_t;

/* SL_EVT_PONG (msg.corr = the PING's corr, SL_FETCH_CORR_BIT set): the
   session routine's answer to a ctrl PING (SEND_FRAME, SL_SEND_PING):
   status 0 with the round trip measured on the lcore's clock, or
   SL_PONG_SEND when the PING could not be sent.  A PONG whose corr lacks
   the bit is the routine's own keepalive and never reaches ctrl. */
enum { SL_PONG_OK = 0, SL_PONG_SEND = 1 };
typedef struct {
	uint64_t rtt_ns;
	uint16_t status; /* SL_PONG_* */
	uint16_t rsvd[3];
} sl_evt_pong_t;

_Static_assert(sizeof(sl_evt_headers_t) <= sizeof(((sl_msg_t *)0)->payload),
               "one HEADERS frame of headers and hashes fits an event (CONFIG_SL_MSG_SIZE)");

/* ---- commands, ctrl -> lcore -------------------------------------------- */

/* Per-session commands are the sl_cmdq variants (SL_CMDQ_V_*, 1..7) and go
   through sl_cmdq_send / sl_cmdq_recv.  Commands that name no session use
   values from SL_CMD_LCORE_BASE and go straight through
   sl_msgq_send on the lcore's command ring; when that ring is full ctrl drops them and counts it
   (the peer retries its HELLO). */
#define SL_CMD_LCORE_BASE 32
typedef enum {
	SL_CMD_REJECT = SL_CMD_LCORE_BASE, /* sl_cmd_reject_t: answer a HELLO with REJECT */
} sl_cmd_type_t;

/* SL_CMDQ_V_SESSION_INSTALL payload.  ACCEPT: install the slot for an
   admitted HELLO and answer HELLO_ACK (an install naming a slot that is
   already live with the same sid and peer just sends the HELLO_ACK again:
   the idempotent repeat of SPEC §4).  CONNECT: install the slot as
   connecting and send HELLO (reply_session = the sid) with backoff until a
   HELLO_ACK (-> SESSION_UP), a REJECT (-> CONNECT_FAILED, SESSION_DOWN) or
   deadline_ms (-> CONNECT_FAILED reason 0, SESSION_DOWN).
   With auth = 1 the session authenticates (SPEC §8).  ACCEPT: ctrl
   checked the HELLO's signature and derived the keys; eph_pk and sig are
   our HELLO_ACK's trailer.  CONNECT: eph is our ephemeral pair and sig
   our HELLO's signature; the lcore checks the HELLO_ACK's signature
   against the node_id it carries and derives the keys itself. */
enum { SL_INSTALL_ACCEPT = 1, SL_INSTALL_CONNECT = 2 };
typedef struct {
	uint8_t mode; /* SL_INSTALL_* */
	uint8_t auth; /* 1: SPEC §8 authentication, the fields at the end */
	uint16_t peer_port;
	uint32_t peer_ip;
	uint8_t peer_mac[6]; /* ACCEPT: the HELLO's source MAC; CONNECT: zero (ARP) */
	uint16_t vlan_tci;
	uint32_t remote_sid; /* ACCEPT: the HELLO's reply_session; CONNECT: 0 */
	uint32_t streams;    /* ACCEPT: negotiated; CONNECT: offered */
	uint64_t nonce;      /* ACCEPT: the HELLO's (echoed); CONNECT: ours */
	uint64_t corr;       /* ACCEPT: the HELLO frame's corr (echoed) */
	uint32_t deadline_ms;
	uint8_t node_id[32]; /* ACCEPT: the peer's */
	union {
		sl_auth_keys_t keys; /* ACCEPT: the session's direction keys */
		sl_auth_eph_t eph;   /* CONNECT: our ephemeral pair */
	};
	uint8_t eph_pk[SL_AUTH_PK_LEN]; /* ACCEPT: our ephemeral public key */
	uint8_t sig[SL_AUTH_SIG_LEN];   /* ACCEPT: HELLO_ACK's, CONNECT: HELLO's signature */
} sl_cmd_install_t;

/* SL_CMDQ_V_SESSION_TEARDOWN payload: send GOODBYE(goodbye) unless 0, then
   the common teardown with exit kind `exit` (SESSION_DOWN follows). */
typedef struct {
	uint16_t goodbye;
	uint16_t exit; /* sl_exit_t, normally SL_EXIT_CANCEL */
} sl_cmd_teardown_t;

/* SL_CMDQ_V_FORWARD_NEW_BLOCK payload: send NEW_BLOCK(height, hdr). */
typedef struct {
	uint32_t height;
	uint8_t hdr[80];
} sl_cmd_new_block_t;

/* SL_CMDQ_V_SEND_FRAME payload, kind SL_SEND_FETCH: send GET_HEADERS
   (start, count, anchor) with msg corr = corr (bit 63 set: ctrl's
   attempt ids never collide with the routine's own) and hand the answer
   to ctrl (SL_EVT_HEADERS with SL_EVT_HEADERS_F_FETCH, SL_EVT_FETCH_END)
   instead of the range table.  One fetch per session at a time: a new one
   replaces the old (whose stragglers are then dropped as late). */
enum { SL_SEND_FETCH = 1, SL_SEND_PING = 2 };
#define SL_FETCH_CORR_BIT (1ull << 63)
/* With SL_FETCH_CORR_BIT: an attempt of a ctrl operation (sl_opnet.h),
   not the branch fetch's; ctrl routes the answer by this bit. */
#define SL_OP_CORR_BIT    (1ull << 62)
typedef struct {
	uint8_t kind; /* SL_SEND_* */
	uint8_t rsvd;
	uint16_t count; /* 1..2000 */
	uint32_t start;
	uint64_t corr;
	uint8_t anchor[32];
} sl_cmd_fetch_t;

/* SL_CMDQ_V_SEND_FRAME payload, kind SL_SEND_PING: the session routine
   sends PING (sender_time_ns = now) with msg corr = corr (bit 63 set) and
   hands the PONG with that corr to ctrl as SL_EVT_PONG.  The first byte
   is the kind, like sl_cmd_fetch_t's. */
typedef struct {
	uint8_t kind; /* SL_SEND_PING */
	uint8_t rsvd[7];
	uint64_t corr;
} sl_cmd_ping_t;

/* SL_CMD_REJECT payload. */
typedef struct {
	uint32_t peer_ip;
	uint16_t peer_port;
	uint16_t vlan_tci;
	uint8_t peer_mac[6];
	uint16_t reason; /* SPEC §4 REJECT reason */
	uint32_t reply_session;
	uint16_t retry_after_s;
	uint16_t rsvd;
	uint64_t corr;
} sl_cmd_reject_t;

_Static_assert(sizeof(sl_evt_hello_t) <= sizeof(((sl_msg_t *)0)->payload), "hello fits");
_Static_assert(sizeof(sl_evt_session_up_t) <= sizeof(((sl_msg_t *)0)->payload), "up fits");
_Static_assert(sizeof(sl_evt_peers_t) <= sizeof(((sl_msg_t *)0)->payload), "peers fits");
_Static_assert(sizeof(sl_cmd_install_t) <= SL_CMDQ_PAYLOAD_MAX, "install fits");
_Static_assert(sizeof(sl_evt_pong_t) <= sizeof(((sl_msg_t *)0)->payload), "pong fits");

#endif /* SL_MSG_H */
