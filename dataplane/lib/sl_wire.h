/* sl_wire.h — the sluice wire codec (SPEC.md §2–§6): the 24-byte frame
   header and the payload of every message on streams 0 (session),
   1 (discovery) and 5 (header-sync).  Part of libsluice; used by the
   dataplane per frame and by ctrl and tests to build frames.

   Structs hold host-order integers; the wire is big-endian, hashes and
   headers are verbatim bytes.  Decoding is strict (exact lengths, reserved
   fields zero, every field in its range), allocation-free and stateless;
   HEADERS decodes zero-copy (a pointer into the caller's buffer).  An
   encoder returns the bytes written, or 0 when the buffer is too small or
   the struct is not something the decoder would accept: whatever encodes,
   decodes back to the same struct, and whatever decodes with SL_WIRE_OK
   re-encodes to the same bytes.  Thread-safe: no state at all. */
#ifndef SL_WIRE_H
#define SL_WIRE_H

#include "sl_base.h"

/* ---- frame constants (§1, §2) ------------------------------------------ */

#define SL_WIRE_MAGIC       0x534C /* "SL" */
#define SL_WIRE_VERSION     1
#define SL_WIRE_HDR_LEN     24
#define SL_WIRE_MAX_UDP     1472 /* largest UDP payload of a frame */
#define SL_WIRE_TAG_LEN     16   /* AUTH tag after the payload (§8) */
#define SL_WIRE_MAX_PAYLOAD (SL_WIRE_MAX_UDP - SL_WIRE_HDR_LEN)
#define SL_WIRE_UDP_PORT    9747

#define SL_WIRE_F_AUTH 0x01u          /* header flags bit0 */
#define SL_WIRE_F_MASK SL_WIRE_F_AUTH /* every defined header flag */

/* ---- streams (§3) and message types, scoped by stream ------------------- */

#define SL_WIRE_STREAM_SESSION   0
#define SL_WIRE_STREAM_DISCOVERY 1
#define SL_WIRE_STREAM_HSYNC     5
#define SL_WIRE_STREAM_BSYNC     6 /* reserved: no messages defined */

#define SL_WIRE_T_HELLO     1 /* stream 0 */
#define SL_WIRE_T_HELLO_ACK 2
#define SL_WIRE_T_REJECT    3
#define SL_WIRE_T_PING      4
#define SL_WIRE_T_PONG      5
#define SL_WIRE_T_GOODBYE   6
#define SL_WIRE_T_BACKOFF   7

#define SL_WIRE_T_GET_PEERS 1 /* stream 1 */
#define SL_WIRE_T_PEERS     2

#define SL_WIRE_T_STATUS      1 /* stream 5 */
#define SL_WIRE_T_GET_HEADERS 2
#define SL_WIRE_T_HEADERS     3
#define SL_WIRE_T_NOT_FOUND   4
#define SL_WIRE_T_NEW_BLOCK   5

/* ---- reason codes -------------------------------------------------------- */

#define SL_WIRE_REJECT_FULL           1
#define SL_WIRE_REJECT_BANNED         2
#define SL_WIRE_REJECT_VERSION        3
#define SL_WIRE_REJECT_CHAIN_MISMATCH 4
#define SL_WIRE_REJECT_RATE_LIMITED   5
#define SL_WIRE_REJECT_DUPLICATE      6
#define SL_WIRE_REJECT_SELF           7
#define SL_WIRE_REJECT_AUTH           8
#define SL_WIRE_REJECT_NOT_READY      9
#define SL_WIRE_REJECT_MAX            9

#define SL_WIRE_GOODBYE_SHUTDOWN    1
#define SL_WIRE_GOODBYE_PROTOCOL    2
#define SL_WIRE_GOODBYE_ADMIN       3
#define SL_WIRE_GOODBYE_TIMEOUT     4
#define SL_WIRE_GOODBYE_PARKED_IDLE 5
#define SL_WIRE_GOODBYE_MAX         5

#define SL_WIRE_NF_UNKNOWN_ANCHOR 1
#define SL_WIRE_NF_BEYOND_TIP     2
#define SL_WIRE_NF_TOO_MANY       3
#define SL_WIRE_NF_BUSY           4
#define SL_WIRE_NF_MAX            4

#define SL_WIRE_AUTH_NONE                    0
#define SL_WIRE_AUTH_X25519_CHACHA20POLY1305 1

/* ---- payload sizes and limits ------------------------------------------- */

#define SL_WIRE_HASH_LEN          32
#define SL_WIRE_PUBKEY_LEN        32
#define SL_WIRE_BLOCK_HDR_LEN     80
#define SL_WIRE_SIG_LEN           64
#define SL_WIRE_AUTH_LEN          (SL_WIRE_PUBKEY_LEN + SL_WIRE_SIG_LEN) /* §8 trailer */
#define SL_WIRE_HELLO_LEN         120 /* + SL_WIRE_AUTH_LEN when auth_mode 1 */
#define SL_WIRE_HELLO_ACK_LEN     88  /* + SL_WIRE_AUTH_LEN when auth_mode 1 */
#define SL_WIRE_REJECT_LEN        4
#define SL_WIRE_PING_LEN          8 /* PING and PONG */
#define SL_WIRE_GOODBYE_LEN       2
#define SL_WIRE_BACKOFF_LEN       4
#define SL_WIRE_GET_PEERS_LEN     2
#define SL_WIRE_PEERS_FIXED_LEN   4 /* + n * SL_WIRE_PEER_LEN */
#define SL_WIRE_PEER_LEN          44
#define SL_WIRE_STATUS_LEN        72
#define SL_WIRE_GET_HEADERS_LEN   40
#define SL_WIRE_HEADERS_FIXED_LEN 8 /* + n * SL_WIRE_BLOCK_HDR_LEN */
#define SL_WIRE_NOT_FOUND_LEN     6
#define SL_WIRE_NEW_BLOCK_LEN     84

#define SL_WIRE_GET_HEADERS_MAX 2000 /* GET_HEADERS count 1..2000 */
#define SL_WIRE_HEADERS_MAX     17   /* HEADERS n 1..17 */
/* Most HEADERS frames one GET_HEADERS answer takes: ceil(2000 / 17). */
#define SL_WIRE_REPLY_FRAMES_MAX                                                                   \
	((SL_WIRE_GET_HEADERS_MAX + SL_WIRE_HEADERS_MAX - 1) / SL_WIRE_HEADERS_MAX)
#define SL_WIRE_GET_PEERS_MAX 32 /* GET_PEERS max 1..32 */
#define SL_WIRE_PEERS_MAX     32 /* PEERS n 0..32 */

#define SL_WIRE_HEADERS_F_LAST 0x01u /* HEADERS flags bit0 */
#define SL_WIRE_HEADERS_F_MASK SL_WIRE_HEADERS_F_LAST

/* ---- errors --------------------------------------------------------------
   X(ENUM_SUFFIX, "name").  One reason per way a frame can be wrong.  The
   header-level reasons (SHORT .. OVERSIZE) parallel SL_DROP_SL_* of
   sl_counters.h.  Every reason except TOO_MANY makes the frame malformed or
   its payload undecodable (SPEC §5 "protocol" class); TOO_MANY is a fully
   decoded GET_HEADERS whose count exceeds 2000, answered NOT_FOUND
   (TOO_MANY) and recorded only. */
#define SL_WIRE_ERR_LIST(X)                                                                        \
	X(OK, "ok")                                                                                \
	X(SHORT, "short")             /* UDP payload shorter than the 24-byte header */            \
	X(MAGIC, "magic")             /* magic is not 0x534C */                                    \
	X(VERSION, "version")         /* version is not 1 */                                       \
	X(LENGTH, "length")           /* 24 + length (+ 16 if AUTH) != UDP size */                 \
	X(FLAGS, "flags")             /* reserved header flag bits set */                          \
	X(OVERSIZE, "oversize")       /* UDP payload over 1472 bytes */                            \
	X(STREAM, "stream")           /* stream id with no messages */                             \
	X(TYPE, "type")               /* type unknown on its stream */                             \
	X(SESSION, "session")         /* session 0 off HELLO, non-0 on it; reply 0 */              \
	X(PAYLOAD_LEN, "payload_len") /* payload length wrong for the message */                   \
	X(RESERVED, "reserved")       /* a reserved field is not zero */                           \
	X(MSG_FLAGS, "msg_flags")     /* undefined bits in a message's flags */                    \
	X(AUTH_MODE, "auth_mode")     /* auth_mode not 0 or 1 */                                   \
	X(PROTO, "proto")             /* HELLO proto_min > proto_max */                            \
	X(REASON, "reason")           /* REJECT / GOODBYE / NOT_FOUND reason unknown */            \
	X(COUNT, "count")             /* HEADERS / PEERS n out of range */                         \
	X(MAX, "max")                 /* GET_PEERS max not in 1..32 */                             \
	X(COUNT_ZERO, "count_zero")   /* GET_HEADERS count 0 */                                    \
	X(ANCHOR, "anchor")           /* GET_HEADERS start 0 with non-zero anchor */               \
	X(TOO_MANY, "too_many")       /* GET_HEADERS count > 2000 (decoded) */

/* clang-format off */
typedef enum sl_wire_err {
#define SL_WIRE_ERR_ENUM(e, s) SL_WIRE_ERR_##e,
	SL_WIRE_ERR_LIST(SL_WIRE_ERR_ENUM)
#undef SL_WIRE_ERR_ENUM
	SL_WIRE_ERR_CNT
} sl_wire_err_t;
/* clang-format on */

#define SL_WIRE_OK SL_WIRE_ERR_OK

/* sl_wire_err_str names an error ("magic"); "?" when out of range. */
const char *sl_wire_err_str(sl_wire_err_t err);

/* ---- messages (host order) ---------------------------------------------- */

/* Frame header.  magic and version are implied (constants). */
typedef struct {
	uint8_t type;
	uint8_t stream;
	uint8_t flags;   /* SL_WIRE_F_* */
	uint16_t length; /* payload bytes, tag excluded */
	uint32_t session;
	uint32_t seq;
	uint64_t corr;
} sl_wire_hdr_t;

typedef struct {
	uint8_t proto_min;
	uint8_t proto_max;
	uint16_t auth_mode; /* SL_WIRE_AUTH_* */
	uint32_t streams_offered;
	uint8_t chain_id[SL_WIRE_HASH_LEN];
	uint8_t node_id[SL_WIRE_HASH_LEN];
	uint64_t nonce;
	uint32_t reply_session;
	uint32_t best_height;
	uint8_t best_hash[SL_WIRE_HASH_LEN];
	bool has_auth; /* true exactly when auth_mode == 1: the §8 trailer */
	uint8_t eph_pubkey[SL_WIRE_PUBKEY_LEN]; /* X25519 ephemeral (zero without auth) */
	uint8_t sig[SL_WIRE_SIG_LEN];           /* Ed25519 over the §8 HELLO message */
} sl_wire_hello_t;

typedef struct {
	uint32_t streams_accepted;
	uint16_t auth_mode; /* reserved u16 on the wire is always zero */
	uint8_t node_id[SL_WIRE_HASH_LEN];
	uint64_t nonce;
	uint32_t reply_session;
	uint32_t best_height;
	uint8_t best_hash[SL_WIRE_HASH_LEN];
	bool has_auth; /* true exactly when auth_mode == 1: the §8 trailer */
	uint8_t eph_pubkey[SL_WIRE_PUBKEY_LEN];
	uint8_t sig[SL_WIRE_SIG_LEN]; /* Ed25519 over the §8 HELLO_ACK message */
} sl_wire_hello_ack_t;

typedef struct {
	uint16_t reason; /* SL_WIRE_REJECT_* */
	uint16_t retry_after_s;
} sl_wire_reject_t;

typedef struct {
	uint64_t sender_time_ns;
} sl_wire_ping_t;
typedef sl_wire_ping_t sl_wire_pong_t;

typedef struct {
	uint16_t reason; /* SL_WIRE_GOODBYE_* */
} sl_wire_goodbye_t;

typedef struct {
	uint32_t backoff_ms;
} sl_wire_backoff_t;

typedef struct {
	uint16_t max; /* 1..32 */
} sl_wire_get_peers_t;

typedef struct {
	uint32_t ipv4; /* host order: 10.0.0.1 is 0x0a000001 */
	uint16_t port;
	uint16_t flags; /* carried verbatim */
	uint8_t node_id[SL_WIRE_HASH_LEN];
	uint32_t last_seen_unix;
} sl_wire_peer_t;

typedef struct {
	uint8_t n; /* 0..32; reserved u8[3] on the wire is always zero */
	sl_wire_peer_t entries[SL_WIRE_PEERS_MAX];
} sl_wire_peers_t;

typedef struct {
	uint32_t best_height;
	uint8_t best_hash[SL_WIRE_HASH_LEN];
	uint8_t chainwork[SL_WIRE_HASH_LEN]; /* big-endian uint256, verbatim */
	uint32_t finalized_height;
} sl_wire_status_t;

typedef struct {
	uint32_t start_height;
	uint16_t count; /* 1..2000; reserved u16 is always zero */
	uint8_t anchor_hash[SL_WIRE_HASH_LEN];
} sl_wire_get_headers_t;

/* hdrs points at n * 80 header bytes: into the frame on decode (valid as
   long as the frame buffer is), the source on encode.  Heights are
   start_height .. start_height + n - 1; compute the end in 64 bits. */
typedef struct {
	uint32_t start_height;
	uint8_t n;     /* 1..17 */
	uint8_t flags; /* SL_WIRE_HEADERS_F_*; reserved u16 is always zero */
	const uint8_t *hdrs;
} sl_wire_headers_t;

typedef struct {
	uint32_t start_height;
	uint16_t reason; /* SL_WIRE_NF_* */
} sl_wire_not_found_t;

typedef struct {
	uint32_t height;
	uint8_t header[SL_WIRE_BLOCK_HDR_LEN];
} sl_wire_new_block_t;

/* Any payload; which member is live is named by (stream, type). */
typedef union {
	sl_wire_hello_t hello;
	sl_wire_hello_ack_t hello_ack;
	sl_wire_reject_t reject;
	sl_wire_ping_t ping; /* PING and PONG */
	sl_wire_goodbye_t goodbye;
	sl_wire_backoff_t backoff;
	sl_wire_get_peers_t get_peers;
	sl_wire_peers_t peers;
	sl_wire_status_t status;
	sl_wire_get_headers_t get_headers;
	sl_wire_headers_t headers;
	sl_wire_not_found_t not_found;
	sl_wire_new_block_t new_block;
} sl_wire_msg_t;

/* ---- frame header -------------------------------------------------------- */

/* sl_wire_decode_hdr checks what §1–§2 allow from the frame alone and fills
   *out.  buf holds the whole UDP payload (udp_len bytes).  Checks, in this
   order: SHORT (udp_len < 24), OVERSIZE (udp_len > 1472), MAGIC, VERSION,
   FLAGS (reserved bits), LENGTH (24 + length (+16 with AUTH) != udp_len).
   Stream, type and session are not checked here: see sl_wire_check_type
   and sl_wire_check_session.  The payload starts at buf + 24. */
sl_wire_err_t sl_wire_decode_hdr(const uint8_t *buf, size_t udp_len, sl_wire_hdr_t *out);

/* sl_wire_check_type: SL_WIRE_OK when `type` is a message of `stream`;
   STREAM when the stream has no messages (unknown or reserved), TYPE when
   the stream is known but the type is not. */
sl_wire_err_t sl_wire_check_type(uint8_t stream, uint8_t type);

/* sl_wire_check_session: SESSION when a HELLO carries a non-zero session or
   any other message carries session 0 (§2); else SL_WIRE_OK. */
sl_wire_err_t sl_wire_check_session(const sl_wire_hdr_t *h);

/* sl_wire_encode_hdr writes the 24-byte header (magic and version
   included) and returns 24; 0 when cap < 24, flags has reserved bits, the
   type is unknown on its stream, the session rule is broken, or length
   does not fit a frame (length + 24 (+16 with AUTH) > 1472). */
size_t sl_wire_encode_hdr(uint8_t *buf, size_t cap, const sl_wire_hdr_t *h);

/* ---- payloads ------------------------------------------------------------
   sl_wire_decode_<msg>(payload, len, out): SL_WIRE_OK and *out filled, or
   the first rule broken (*out then unspecified).  len is the header's
   length field.  sl_wire_encode_<msg>(buf, cap, m): bytes written, or 0
   when the payload does not fit cap or m breaks a rule the decoder checks. */

/* HELLO: 216 bytes when auth_mode is 1 (ephemeral key and signature
   appended), else 120 — an
   undefined auth_mode (2, 7, ...) still decodes (auth_mode reported as
   sent) so the admission policy can answer REJECT(AUTH); the encoder
   mirrors the rule (any mode; the trailer exactly when mode 1).  PAYLOAD_LEN (length vs auth_mode),
   PROTO, SESSION (reply_session 0: replies would carry session 0). */
sl_wire_err_t sl_wire_decode_hello(const uint8_t *p, size_t len, sl_wire_hello_t *out);
size_t sl_wire_encode_hello(uint8_t *buf, size_t cap, const sl_wire_hello_t *m);

/* HELLO_ACK: 88 or 184 bytes.  PAYLOAD_LEN, AUTH_MODE, PAYLOAD_LEN,
   RESERVED, SESSION (reply_session 0). */
sl_wire_err_t sl_wire_decode_hello_ack(const uint8_t *p, size_t len, sl_wire_hello_ack_t *out);
size_t sl_wire_encode_hello_ack(uint8_t *buf, size_t cap, const sl_wire_hello_ack_t *m);

/* REJECT: 4 bytes; reason 1..9 (REASON). */
sl_wire_err_t sl_wire_decode_reject(const uint8_t *p, size_t len, sl_wire_reject_t *out);
size_t sl_wire_encode_reject(uint8_t *buf, size_t cap, const sl_wire_reject_t *m);

/* PING / PONG: 8 bytes, any value. */
sl_wire_err_t sl_wire_decode_ping(const uint8_t *p, size_t len, sl_wire_ping_t *out);
size_t sl_wire_encode_ping(uint8_t *buf, size_t cap, const sl_wire_ping_t *m);
sl_wire_err_t sl_wire_decode_pong(const uint8_t *p, size_t len, sl_wire_pong_t *out);
size_t sl_wire_encode_pong(uint8_t *buf, size_t cap, const sl_wire_pong_t *m);

/* GOODBYE: 2 bytes; reason 1..5 (REASON). */
sl_wire_err_t sl_wire_decode_goodbye(const uint8_t *p, size_t len, sl_wire_goodbye_t *out);
size_t sl_wire_encode_goodbye(uint8_t *buf, size_t cap, const sl_wire_goodbye_t *m);

/* BACKOFF: 4 bytes, any value. */
sl_wire_err_t sl_wire_decode_backoff(const uint8_t *p, size_t len, sl_wire_backoff_t *out);
size_t sl_wire_encode_backoff(uint8_t *buf, size_t cap, const sl_wire_backoff_t *m);

/* GET_PEERS: 2 bytes; max 1..32 (MAX). */
sl_wire_err_t sl_wire_decode_get_peers(const uint8_t *p, size_t len, sl_wire_get_peers_t *out);
size_t sl_wire_encode_get_peers(uint8_t *buf, size_t cap, const sl_wire_get_peers_t *m);

/* PEERS: 4 + n * 44 bytes.  PAYLOAD_LEN (< 4), COUNT (n > 32),
   PAYLOAD_LEN (len vs n), RESERVED. */
sl_wire_err_t sl_wire_decode_peers(const uint8_t *p, size_t len, sl_wire_peers_t *out);
size_t sl_wire_encode_peers(uint8_t *buf, size_t cap, const sl_wire_peers_t *m);

/* STATUS: 72 bytes, any values (judging a STATUS is the routine's job:
   an invalid one is record-only, never undecodable). */
sl_wire_err_t sl_wire_decode_status(const uint8_t *p, size_t len, sl_wire_status_t *out);
size_t sl_wire_encode_status(uint8_t *buf, size_t cap, const sl_wire_status_t *m);

/* GET_HEADERS: 40 bytes.  PAYLOAD_LEN, RESERVED, COUNT_ZERO, ANCHOR, and
   last TOO_MANY (count > 2000): *out is then fully decoded and every other
   rule holds, so the caller can answer NOT_FOUND(TOO_MANY).  The encoder
   refuses count > 2000. */
sl_wire_err_t sl_wire_decode_get_headers(const uint8_t *p, size_t len, sl_wire_get_headers_t *out);
size_t sl_wire_encode_get_headers(uint8_t *buf, size_t cap, const sl_wire_get_headers_t *m);

/* HEADERS: 8 + n * 80 bytes, zero copy (out->hdrs = p + 8).  PAYLOAD_LEN
   (< 8), COUNT (n not in 1..17), PAYLOAD_LEN (len vs n), MSG_FLAGS,
   RESERVED.  Encode copies n * 80 bytes from m->hdrs. */
sl_wire_err_t sl_wire_decode_headers(const uint8_t *p, size_t len, sl_wire_headers_t *out);
size_t sl_wire_encode_headers(uint8_t *buf, size_t cap, const sl_wire_headers_t *m);

/* NOT_FOUND: 6 bytes; reason 1..4 (REASON). */
sl_wire_err_t sl_wire_decode_not_found(const uint8_t *p, size_t len, sl_wire_not_found_t *out);
size_t sl_wire_encode_not_found(uint8_t *buf, size_t cap, const sl_wire_not_found_t *m);

/* NEW_BLOCK: 84 bytes, any values. */
sl_wire_err_t sl_wire_decode_new_block(const uint8_t *p, size_t len, sl_wire_new_block_t *out);
size_t sl_wire_encode_new_block(uint8_t *buf, size_t cap, const sl_wire_new_block_t *m);

/* ---- dispatch by (stream, type) ------------------------------------------ */

/* sl_wire_decode_msg decodes the payload of message (stream, type) into the
   matching member of *out: STREAM / TYPE as sl_wire_check_type, otherwise
   the message's own decoder's result. */
sl_wire_err_t sl_wire_decode_msg(uint8_t stream, uint8_t type, const uint8_t *p, size_t len,
                                 sl_wire_msg_t *out);

/* sl_wire_encode_msg encodes the matching member of *m; 0 on an unknown
   (stream, type) or whatever the message's encoder refuses. */
size_t sl_wire_encode_msg(uint8_t stream, uint8_t type, uint8_t *buf, size_t cap,
                          const sl_wire_msg_t *m);

/* sl_wire_encode_frame writes header + payload: encodes *m (chosen by
   hdr->stream / hdr->type) at buf + 24, sets hdr->length, then the header.
   Returns 24 + length.  With SL_WIRE_F_AUTH in hdr->flags the caller
   appends the 16-byte tag at buf + return value: cap and the 1472-byte
   limit must leave room for it.  0 (hdr->length untouched) when anything
   does not fit or is refused. */
size_t sl_wire_encode_frame(uint8_t *buf, size_t cap, sl_wire_hdr_t *hdr, const sl_wire_msg_t *m);

/* sl_wire_decode_frame = decode_hdr + check_type + check_session +
   decode_msg on the payload at buf + 24.  Returns the first error; TOO_MANY
   leaves *hdr and *m filled as sl_wire_decode_get_headers does.  m->headers
   points into buf. */
sl_wire_err_t sl_wire_decode_frame(const uint8_t *buf, size_t udp_len, sl_wire_hdr_t *hdr,
                                   sl_wire_msg_t *m);

#endif /* SL_WIRE_H */
