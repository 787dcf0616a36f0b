/* sl_wire.c — the sluice wire codec (see sl_wire.h). */
#include <string.h>

#include "sl_wire.h"

/* ---- big-endian load / store --------------------------------------------- */

static inline uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t ld64(const uint8_t *p)
{
	return (uint64_t)ld32(p) << 32 | ld32(p + 4);
}

static inline void st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void st64(uint8_t *p, uint64_t v)
{
	st32(p, (uint32_t)(v >> 32));
	st32(p + 4, (uint32_t)v);
}

static bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* ---- errors -------------------------------------------------------------- */

const char *sl_wire_err_str(sl_wire_err_t err)
{
	static const char *const names[] = {
#define SL_WIRE_ERR_NAME(e, s) s,
	    SL_WIRE_ERR_LIST(SL_WIRE_ERR_NAME)
#undef SL_WIRE_ERR_NAME
	};
	return (unsigned)err < SL_WIRE_ERR_CNT ? names[err] : "?";
}

/* ---- frame header -------------------------------------------------------- */

sl_wire_err_t sl_wire_decode_hdr(const uint8_t *buf, size_t udp_len, sl_wire_hdr_t *out)
{
	if (SL_UNLIKELY(udp_len < SL_WIRE_HDR_LEN))
		return SL_WIRE_ERR_SHORT;
	if (SL_UNLIKELY(udp_len > SL_WIRE_MAX_UDP))
		return SL_WIRE_ERR_OVERSIZE;
	if (SL_UNLIKELY(ld16(buf) != SL_WIRE_MAGIC))
		return SL_WIRE_ERR_MAGIC;
	if (SL_UNLIKELY(buf[2] != SL_WIRE_VERSION))
		return SL_WIRE_ERR_VERSION;
	uint8_t flags = buf[5];
	if (SL_UNLIKELY(flags & ~SL_WIRE_F_MASK))
		return SL_WIRE_ERR_FLAGS;
	uint16_t length = ld16(buf + 6);
	size_t tag = (flags & SL_WIRE_F_AUTH) ? SL_WIRE_TAG_LEN : 0;
	if (SL_UNLIKELY(SL_WIRE_HDR_LEN + (size_t)length + tag != udp_len))
		return SL_WIRE_ERR_LENGTH;
	out->type = buf[3];
	out->stream = buf[4];
	out->flags = flags;
	out->length = length;
	out->session = ld32(buf + 8);
	out->seq = ld32(buf + 12);
	out->corr = ld64(buf + 16);
	return SL_WIRE_OK;
}

/* Highest type of each stream 0..7; 0 = the stream has no messages. */
static const uint8_t stream_max_type[8] = {
    [SL_WIRE_STREAM_SESSION] = SL_WIRE_T_BACKOFF,
    [SL_WIRE_STREAM_DISCOVERY] = SL_WIRE_T_PEERS,
    [SL_WIRE_STREAM_HSYNC] = SL_WIRE_T_NEW_BLOCK,
};

sl_wire_err_t sl_wire_check_type(uint8_t stream, uint8_t type)
{
	if (SL_UNLIKELY(stream >= SL_ARRAY_LEN(stream_max_type) || !stream_max_type[stream]))
		return SL_WIRE_ERR_STREAM;
	if (SL_UNLIKELY(type == 0 || type > stream_max_type[stream]))
		return SL_WIRE_ERR_TYPE;
	return SL_WIRE_OK;
}

sl_wire_err_t sl_wire_check_session(const sl_wire_hdr_t *h)
{
	bool hello = h->stream == SL_WIRE_STREAM_SESSION && h->type == SL_WIRE_T_HELLO;
	if (SL_UNLIKELY(hello != (h->session == 0)))
		return SL_WIRE_ERR_SESSION;
	return SL_WIRE_OK;
}

size_t sl_wire_encode_hdr(uint8_t *buf, size_t cap, const sl_wire_hdr_t *h)
{
	size_t tag = (h->flags & SL_WIRE_F_AUTH) ? SL_WIRE_TAG_LEN : 0;
	if (SL_UNLIKELY(cap < SL_WIRE_HDR_LEN || (h->flags & ~SL_WIRE_F_MASK)))
		return 0;
	if (SL_UNLIKELY(SL_WIRE_HDR_LEN + (size_t)h->length + tag > SL_WIRE_MAX_UDP))
		return 0;
	if (SL_UNLIKELY(sl_wire_check_type(h->stream, h->type) != SL_WIRE_OK ||
	                sl_wire_check_session(h) != SL_WIRE_OK))
		return 0;
	st16(buf, SL_WIRE_MAGIC);
	buf[2] = SL_WIRE_VERSION;
	buf[3] = h->type;
	buf[4] = h->stream;
	buf[5] = h->flags;
	st16(buf + 6, h->length);
	st32(buf + 8, h->session);
	st32(buf + 12, h->seq);
	st64(buf + 16, h->corr);
	return SL_WIRE_HDR_LEN;
}

/* ---- session stream (0) -------------------------------------------------- */

/* auth_mode -> total length of a HELLO (base 120) or HELLO_ACK (base 88);
   0 for an unknown mode. */
static size_t auth_len(uint16_t auth_mode, size_t base)
{
	if (auth_mode == SL_WIRE_AUTH_NONE)
		return base;
	if (auth_mode == SL_WIRE_AUTH_X25519_CHACHA20POLY1305)
		return base + SL_WIRE_AUTH_LEN;
	return 0;
}

/* auth_load copies the auth trailer at p (ephemeral key, signature) out,
   or zeroes both when there is none. */
static void auth_load(bool has, const uint8_t *p, uint8_t *eph, uint8_t *sig)
{
	if (!has) {
		memset(eph, 0, SL_WIRE_PUBKEY_LEN);
		memset(sig, 0, SL_WIRE_SIG_LEN);
		return;
	}
	memcpy(eph, p, SL_WIRE_PUBKEY_LEN);
	memcpy(sig, p + SL_WIRE_PUBKEY_LEN, SL_WIRE_SIG_LEN);
}

/* auth_store writes the auth trailer at p. */
static void auth_store(uint8_t *p, const uint8_t *eph, const uint8_t *sig)
{
	memcpy(p, eph, SL_WIRE_PUBKEY_LEN);
	memcpy(p + SL_WIRE_PUBKEY_LEN, sig, SL_WIRE_SIG_LEN);
}

/* Shared length / auth_mode rules of HELLO and HELLO_ACK. */
static sl_wire_err_t check_auth_len(size_t len, uint16_t auth_mode, size_t base)
{
	size_t want = auth_len(auth_mode, base);
	if (SL_UNLIKELY(want == 0))
		return SL_WIRE_ERR_AUTH_MODE;
	if (SL_UNLIKELY(want != len))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	return SL_WIRE_OK;
}

/* HELLO length by auth_mode: mode 1 carries the ephemeral key and the
   signature (216 bytes); any
   other mode, defined or not, is a 120-byte HELLO that decodes, so
   admission can answer an unsupported mode with REJECT(AUTH) instead of a
   silent drop (and the encoder mirrors it: decode/encode round-trip). */
static size_t hello_len(uint16_t auth_mode)
{
	return auth_mode == SL_WIRE_AUTH_X25519_CHACHA20POLY1305
	           ? SL_WIRE_HELLO_LEN + SL_WIRE_AUTH_LEN
	           : SL_WIRE_HELLO_LEN;
}

sl_wire_err_t sl_wire_decode_hello(const uint8_t *p, size_t len, sl_wire_hello_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_HELLO_LEN && len != SL_WIRE_HELLO_LEN + SL_WIRE_AUTH_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	uint16_t auth_mode = ld16(p + 2);
	if (SL_UNLIKELY(len != hello_len(auth_mode)))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	if (SL_UNLIKELY(p[0] > p[1]))
		return SL_WIRE_ERR_PROTO;
	uint32_t reply_session = ld32(p + 80);
	if (SL_UNLIKELY(reply_session == 0))
		return SL_WIRE_ERR_SESSION;
	out->proto_min = p[0];
	out->proto_max = p[1];
	out->auth_mode = auth_mode;
	out->streams_offered = ld32(p + 4);
	memcpy(out->chain_id, p + 8, SL_WIRE_HASH_LEN);
	memcpy(out->node_id, p + 40, SL_WIRE_HASH_LEN);
	out->nonce = ld64(p + 72);
	out->reply_session = reply_session;
	out->best_height = ld32(p + 84);
	memcpy(out->best_hash, p + 88, SL_WIRE_HASH_LEN);
	out->has_auth = len > SL_WIRE_HELLO_LEN;
	auth_load(out->has_auth, p + SL_WIRE_HELLO_LEN, out->eph_pubkey, out->sig);
	return SL_WIRE_OK;
}

size_t sl_wire_encode_hello(uint8_t *buf, size_t cap, const sl_wire_hello_t *m)
{
	size_t len = hello_len(m->auth_mode);
	if (SL_UNLIKELY(cap < len || m->has_auth != (len > SL_WIRE_HELLO_LEN)))
		return 0;
	if (SL_UNLIKELY(m->proto_min > m->proto_max || m->reply_session == 0))
		return 0;
	buf[0] = m->proto_min;
	buf[1] = m->proto_max;
	st16(buf + 2, m->auth_mode);
	st32(buf + 4, m->streams_offered);
	memcpy(buf + 8, m->chain_id, SL_WIRE_HASH_LEN);
	memcpy(buf + 40, m->node_id, SL_WIRE_HASH_LEN);
	st64(buf + 72, m->nonce);
	st32(buf + 80, m->reply_session);
	st32(buf + 84, m->best_height);
	memcpy(buf + 88, m->best_hash, SL_WIRE_HASH_LEN);
	if (m->has_auth)
		auth_store(buf + SL_WIRE_HELLO_LEN, m->eph_pubkey, m->sig);
	return len;
}

sl_wire_err_t sl_wire_decode_hello_ack(const uint8_t *p, size_t len, sl_wire_hello_ack_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_HELLO_ACK_LEN &&
	                len != SL_WIRE_HELLO_ACK_LEN + SL_WIRE_AUTH_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	uint16_t auth_mode = ld16(p + 4);
	sl_wire_err_t e = check_auth_len(len, auth_mode, SL_WIRE_HELLO_ACK_LEN);
	if (SL_UNLIKELY(e != SL_WIRE_OK))
		return e;
	if (SL_UNLIKELY(ld16(p + 6) != 0))
		return SL_WIRE_ERR_RESERVED;
	uint32_t reply_session = ld32(p + 48);
	if (SL_UNLIKELY(reply_session == 0))
		return SL_WIRE_ERR_SESSION;
	out->streams_accepted = ld32(p);
	out->auth_mode = auth_mode;
	memcpy(out->node_id, p + 8, SL_WIRE_HASH_LEN);
	out->nonce = ld64(p + 40);
	out->reply_session = reply_session;
	out->best_height = ld32(p + 52);
	memcpy(out->best_hash, p + 56, SL_WIRE_HASH_LEN);
	out->has_auth = len > SL_WIRE_HELLO_ACK_LEN;
	auth_load(out->has_auth, p + SL_WIRE_HELLO_ACK_LEN, out->eph_pubkey, out->sig);
	return SL_WIRE_OK;
}

size_t sl_wire_encode_hello_ack(uint8_t *buf, size_t cap, const sl_wire_hello_ack_t *m)
{
	size_t len = auth_len(m->auth_mode, SL_WIRE_HELLO_ACK_LEN);
	if (SL_UNLIKELY(len == 0 || cap < len || m->has_auth != (len > SL_WIRE_HELLO_ACK_LEN)))
		return 0;
	if (SL_UNLIKELY(m->reply_session == 0))
		return 0;
	st32(buf, m->streams_accepted);
	st16(buf + 4, m->auth_mode);
	st16(buf + 6, 0);
	memcpy(buf + 8, m->node_id, SL_WIRE_HASH_LEN);
	st64(buf + 40, m->nonce);
	st32(buf + 48, m->reply_session);
	st32(buf + 52, m->best_height);
	memcpy(buf + 56, m->best_hash, SL_WIRE_HASH_LEN);
	if (m->has_auth)
		auth_store(buf + SL_WIRE_HELLO_ACK_LEN, m->eph_pubkey, m->sig);
	return len;
}

static inline bool reason_ok(uint16_t reason, uint16_t max)
{
	return reason >= 1 && reason <= max;
}

sl_wire_err_t sl_wire_decode_reject(const uint8_t *p, size_t len, sl_wire_reject_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_REJECT_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	uint16_t reason = ld16(p);
	if (SL_UNLIKELY(!reason_ok(reason, SL_WIRE_REJECT_MAX)))
		return SL_WIRE_ERR_REASON;
	out->reason = reason;
	out->retry_after_s = ld16(p + 2);
	return SL_WIRE_OK;
}

size_t sl_wire_encode_reject(uint8_t *buf, size_t cap, const sl_wire_reject_t *m)
{
	if (SL_UNLIKELY(cap < SL_WIRE_REJECT_LEN || !reason_ok(m->reason, SL_WIRE_REJECT_MAX)))
		return 0;
	st16(buf, m->reason);
	st16(buf + 2, m->retry_after_s);
	return SL_WIRE_REJECT_LEN;
}

sl_wire_err_t sl_wire_decode_ping(const uint8_t *p, size_t len, sl_wire_ping_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_PING_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	out->sender_time_ns = ld64(p);
	return SL_WIRE_OK;
}

size_t sl_wire_encode_ping(uint8_t *buf, size_t cap, const sl_wire_ping_t *m)
{
	if (SL_UNLIKELY(cap < SL_WIRE_PING_LEN))
		return 0;
	st64(buf, m->sender_time_ns);
	return SL_WIRE_PING_LEN;
}

sl_wire_err_t sl_wire_decode_pong(const uint8_t *p, size_t len, sl_wire_pong_t *out)
{
	return sl_wire_decode_ping(p, len, out);
}

size_t sl_wire_encode_pong(uint8_t *buf, size_t cap, const sl_wire_pong_t *m)
{
	return sl_wire_encode_ping(buf, cap, m);
}

sl_wire_err_t sl_wire_decode_goodbye(const uint8_t *p, size_t len, sl_wire_goodbye_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_GOODBYE_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	uint16_t reason = ld16(p);
	if (SL_UNLIKELY(!reason_ok(reason, SL_WIRE_GOODBYE_MAX)))
		return SL_WIRE_ERR_REASON;
	out->reason = reason;
	return SL_WIRE_OK;
}

size_t sl_wire_encode_goodbye(uint8_t *buf, size_t cap, const sl_wire_goodbye_t *m)
{
	if (SL_UNLIKELY(cap < SL_WIRE_GOODBYE_LEN || !reason_ok(m->reason, SL_WIRE_GOODBYE_MAX)))
		return 0;
	st16(buf, m->reason);
	return SL_WIRE_GOODBYE_LEN;
}

sl_wire_err_t sl_wire_decode_backoff(const uint8_t *p, size_t len, sl_wire_backoff_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_BACKOFF_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	out->backoff_ms = ld32(p);
	return SL_WIRE_OK;
}

size_t sl_wire_encode_backoff(uint8_t *buf, size_t cap, const sl_wire_backoff_t *m)
{
	if (SL_UNLIKELY(cap < SL_WIRE_BACKOFF_LEN))
		return 0;
	st32(buf, m->backoff_ms);
	return SL_WIRE_BACKOFF_LEN;
}

/* ---- discovery stream (1) ------------------------------------------------ */

sl_wire_err_t sl_wire_decode_get_peers(const uint8_t *p, size_t len, sl_wire_get_peers_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_GET_PEERS_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	uint16_t max = ld16(p);
	if (SL_UNLIKELY(max < 1 || max > SL_WIRE_GET_PEERS_MAX))
		return SL_WIRE_ERR_MAX;
	out->max = max;
	return SL_WIRE_OK;
}

size_t sl_wire_encode_get_peers(uint8_t *buf, size_t cap, const sl_wire_get_peers_t *m)
{
	if (SL_UNLIKELY(cap < SL_WIRE_GET_PEERS_LEN || m->max < 1 ||
	                m->max > SL_WIRE_GET_PEERS_MAX))
		return 0;
	st16(buf, m->max);
	return SL_WIRE_GET_PEERS_LEN;
}

sl_wire_err_t sl_wire_decode_peers(const uint8_t *p, size_t len, sl_wire_peers_t *out)
{
	if (SL_UNLIKELY(len < SL_WIRE_PEERS_FIXED_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	uint8_t n = p[0];
	if (SL_UNLIKELY(n > SL_WIRE_PEERS_MAX))
		return SL_WIRE_ERR_COUNT;
	if (SL_UNLIKELY(len != SL_WIRE_PEERS_FIXED_LEN + (size_t)n * SL_WIRE_PEER_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	if (SL_UNLIKELY((p[1] | p[2] | p[3]) != 0))
		return SL_WIRE_ERR_RESERVED;
	out->n = n;
	const uint8_t *e = p + SL_WIRE_PEERS_FIXED_LEN;
	for (unsigned i = 0; i < n; i++, e += SL_WIRE_PEER_LEN) {
		sl_wire_peer_t *o = &out->entries[i];
		o->ipv4 = ld32(e);
		o->port = ld16(e + 4);
		o->flags = ld16(e + 6);
		memcpy(o->node_id, e + 8, SL_WIRE_HASH_LEN);
		o->last_seen_unix = ld32(e + 40);
	}
	return SL_WIRE_OK;
}

size_t sl_wire_encode_peers(uint8_t *buf, size_t cap, const sl_wire_peers_t *m)
{
	size_t len = SL_WIRE_PEERS_FIXED_LEN + (size_t)m->n * SL_WIRE_PEER_LEN;
	if (SL_UNLIKELY(m->n > SL_WIRE_PEERS_MAX || cap < len))
		return 0;
	buf[0] = m->n;
	buf[1] = buf[2] = buf[3] = 0;
	uint8_t *e = buf + SL_WIRE_PEERS_FIXED_LEN;
	for (unsigned i = 0; i < m->n; i++, e += SL_WIRE_PEER_LEN) {
		const sl_wire_peer_t *o = &m->entries[i];
		st32(e, o->ipv4);
		st16(e + 4, o->port);
		st16(e + 6, o->flags);
		memcpy(e + 8, o->node_id, SL_WIRE_HASH_LEN);
		st32(e + 40, o->last_seen_unix);
	}
	return len;
}

/* ---- header-sync stream (5) ---------------------------------------------- */

sl_wire_err_t sl_wire_decode_status(const uint8_t *p, size_t len, sl_wire_status_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_STATUS_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	out->best_height = ld32(p);
	memcpy(out->best_hash, p + 4, SL_WIRE_HASH_LEN);
	memcpy(out->chainwork, p + 36, SL_WIRE_HASH_LEN);
	out->finalized_height = ld32(p + 68);
	return SL_WIRE_OK;
}

size_t sl_wire_encode_status(uint8_t *buf, size_t cap, const sl_wire_status_t *m)
{
	if (SL_UNLIKELY(cap < SL_WIRE_STATUS_LEN))
		return 0;
	st32(buf, m->best_height);
	memcpy(buf + 4, m->best_hash, SL_WIRE_HASH_LEN);
	memcpy(buf + 36, m->chainwork, SL_WIRE_HASH_LEN);
	st32(buf + 68, m->finalized_height);
	return SL_WIRE_STATUS_LEN;
}

sl_wire_err_t sl_wire_decode_get_headers(const uint8_t *p, size_t len, sl_wire_get_headers_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_GET_HEADERS_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	if (SL_UNLIKELY(ld16(p + 6) != 0))
		return SL_WIRE_ERR_RESERVED;
	uint32_t start = ld32(p);
	uint16_t count = ld16(p + 4);
	if (SL_UNLIKELY(count == 0))
		return SL_WIRE_ERR_COUNT_ZERO;
	if (SL_UNLIKELY(start == 0 && !is_zero(p + 8, SL_WIRE_HASH_LEN)))
		return SL_WIRE_ERR_ANCHOR;
	out->start_height = start;
	out->count = count;
	memcpy(out->anchor_hash, p + 8, SL_WIRE_HASH_LEN);
	if (SL_UNLIKELY(count > SL_WIRE_GET_HEADERS_MAX))
		return SL_WIRE_ERR_TOO_MANY;
	return SL_WIRE_OK;
}

size_t sl_wire_encode_get_headers(uint8_t *buf, size_t cap, const sl_wire_get_headers_t *m)
{
	if (SL_UNLIKELY(cap < SL_WIRE_GET_HEADERS_LEN || m->count == 0 ||
	                m->count > SL_WIRE_GET_HEADERS_MAX))
		return 0;
	if (SL_UNLIKELY(m->start_height == 0 && !is_zero(m->anchor_hash, SL_WIRE_HASH_LEN)))
		return 0;
	st32(buf, m->start_height);
	st16(buf + 4, m->count);
	st16(buf + 6, 0);
	memcpy(buf + 8, m->anchor_hash, SL_WIRE_HASH_LEN);
	return SL_WIRE_GET_HEADERS_LEN;
}

sl_wire_err_t sl_wire_decode_headers(const uint8_t *p, size_t len, sl_wire_headers_t *out)
{
	if (SL_UNLIKELY(len < SL_WIRE_HEADERS_FIXED_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	uint8_t n = p[4];
	if (SL_UNLIKELY(n < 1 || n > SL_WIRE_HEADERS_MAX))
		return SL_WIRE_ERR_COUNT;
	if (SL_UNLIKELY(len != SL_WIRE_HEADERS_FIXED_LEN + (size_t)n * SL_WIRE_BLOCK_HDR_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	if (SL_UNLIKELY(p[5] & ~SL_WIRE_HEADERS_F_MASK))
		return SL_WIRE_ERR_MSG_FLAGS;
	if (SL_UNLIKELY(ld16(p + 6) != 0))
		return SL_WIRE_ERR_RESERVED;
	out->start_height = ld32(p);
	out->n = n;
	out->flags = p[5];
	out->hdrs = p + SL_WIRE_HEADERS_FIXED_LEN;
	return SL_WIRE_OK;
}

size_t sl_wire_encode_headers(uint8_t *buf, size_t cap, const sl_wire_headers_t *m)
{
	size_t len = SL_WIRE_HEADERS_FIXED_LEN + (size_t)m->n * SL_WIRE_BLOCK_HDR_LEN;
	if (SL_UNLIKELY(m->n < 1 || m->n > SL_WIRE_HEADERS_MAX || cap < len || m->hdrs == NULL))
		return 0;
	if (SL_UNLIKELY(m->flags & ~SL_WIRE_HEADERS_F_MASK))
		return 0;
	st32(buf, m->start_height);
	buf[4] = m->n;
	buf[5] = m->flags;
	st16(buf + 6, 0);
	memmove(buf + SL_WIRE_HEADERS_FIXED_LEN, m->hdrs, len - SL_WIRE_HEADERS_FIXED_LEN);
	return len;
}

sl_wire_err_t sl_wire_decode_not_found(const uint8_t *p, size_t len, sl_wire_not_found_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_NOT_FOUND_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	uint16_t reason = ld16(p + 4);
	if (SL_UNLIKELY(!reason_ok(reason, SL_WIRE_NF_MAX)))
		return SL_WIRE_ERR_REASON;
	out->start_height = ld32(p);
	out->reason = reason;
	return SL_WIRE_OK;
}

size_t sl_wire_encode_not_found(uint8_t *buf, size_t cap, const sl_wire_not_found_t *m)
{
	if (SL_UNLIKELY(cap < SL_WIRE_NOT_FOUND_LEN || !reason_ok(m->reason, SL_WIRE_NF_MAX)))
		return 0;
	st32(buf, m->start_height);
	st16(buf + 4, m->reason);
	return SL_WIRE_NOT_FOUND_LEN;
}

sl_wire_err_t sl_wire_decode_new_block(const uint8_t *p, size_t len, sl_wire_new_block_t *out)
{
	if (SL_UNLIKELY(len != SL_WIRE_NEW_BLOCK_LEN))
		return SL_WIRE_ERR_PAYLOAD_LEN;
	out->height = ld32(p);
	memcpy(out->header, p + 4, SL_WIRE_BLOCK_HDR_LEN);
	return SL_WIRE_OK;
}

size_t sl_wire_encode_new_block(uint8_t *buf, size_t cap, const sl_wire_new_block_t *m)
{
	if (SL_UNLIKELY(cap < SL_WIRE_NEW_BLOCK_LEN))
		return 0;
	st32(buf, m->height);
	memcpy(buf + 4, m->header, SL_WIRE_BLOCK_HDR_LEN);
	return SL_WIRE_NEW_BLOCK_LEN;
}

/* ---- dispatch ------------------------------------------------------------ */

/* (stream, type) -> one small key: stream in the high bits. */
#define KEY(s, t) ((unsigned)(s) << 8 | (unsigned)(t))

/* decode_dispatch: sl_wire_decode_msg once (stream, type) is known good. */
static sl_wire_err_t decode_dispatch(uint8_t stream, uint8_t type, const uint8_t *p, size_t len,
                                     sl_wire_msg_t *out)
{
	switch (KEY(stream, type)) {
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_HELLO):
		return sl_wire_decode_hello(p, len, &out->hello);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_HELLO_ACK):
		return sl_wire_decode_hello_ack(p, len, &out->hello_ack);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_REJECT):
		return sl_wire_decode_reject(p, len, &out->reject);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_PING):
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_PONG):
		return sl_wire_decode_ping(p, len, &out->ping);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_GOODBYE):
		return sl_wire_decode_goodbye(p, len, &out->goodbye);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_BACKOFF):
		return sl_wire_decode_backoff(p, len, &out->backoff);
	case KEY(SL_WIRE_STREAM_DISCOVERY, SL_WIRE_T_GET_PEERS):
		return sl_wire_decode_get_peers(p, len, &out->get_peers);
	case KEY(SL_WIRE_STREAM_DISCOVERY, SL_WIRE_T_PEERS):
		return sl_wire_decode_peers(p, len, &out->peers);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_STATUS):
		return sl_wire_decode_status(p, len, &out->status);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_GET_HEADERS):
		return sl_wire_decode_get_headers(p, len, &out->get_headers);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_HEADERS):
		return sl_wire_decode_headers(p, len, &out->headers);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_NOT_FOUND):
		return sl_wire_decode_not_found(p, len, &out->not_found);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_NEW_BLOCK):
		return sl_wire_decode_new_block(p, len, &out->new_block);
	}
	return SL_WIRE_ERR_TYPE; /* unreachable: check_type passed */
}

sl_wire_err_t sl_wire_decode_msg(uint8_t stream, uint8_t type, const uint8_t *p, size_t len,
                                 sl_wire_msg_t *out)
{
	sl_wire_err_t e = sl_wire_check_type(stream, type);
	if (SL_UNLIKELY(e != SL_WIRE_OK))
		return e;
	return decode_dispatch(stream, type, p, len, out);
}

size_t sl_wire_encode_msg(uint8_t stream, uint8_t type, uint8_t *buf, size_t cap,
                          const sl_wire_msg_t *m)
{
	if (SL_UNLIKELY(sl_wire_check_type(stream, type) != SL_WIRE_OK))
		return 0;
	switch (KEY(stream, type)) {
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_HELLO):
		return sl_wire_encode_hello(buf, cap, &m->hello);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_HELLO_ACK):
		return sl_wire_encode_hello_ack(buf, cap, &m->hello_ack);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_REJECT):
		return sl_wire_encode_reject(buf, cap, &m->reject);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_PING):
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_PONG):
		return sl_wire_encode_ping(buf, cap, &m->ping);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_GOODBYE):
		return sl_wire_encode_goodbye(buf, cap, &m->goodbye);
	case KEY(SL_WIRE_STREAM_SESSION, SL_WIRE_T_BACKOFF):
		return sl_wire_encode_backoff(buf, cap, &m->backoff);
	case KEY(SL_WIRE_STREAM_DISCOVERY, SL_WIRE_T_GET_PEERS):
		return sl_wire_encode_get_peers(buf, cap, &m->get_peers);
	case KEY(SL_WIRE_STREAM_DISCOVERY, SL_WIRE_T_PEERS):
		return sl_wire_encode_peers(buf, cap, &m->peers);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_STATUS):
		return sl_wire_encode_status(buf, cap, &m->status);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_GET_HEADERS):
		return sl_wire_encode_get_headers(buf, cap, &m->get_headers);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_HEADERS):
		return sl_wire_encode_headers(buf, cap, &m->headers);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_NOT_FOUND):
		return sl_wire_encode_not_found(buf, cap, &m->not_found);
	case KEY(SL_WIRE_STREAM_HSYNC, SL_WIRE_T_NEW_BLOCK):
		return sl_wire_encode_new_block(buf, cap, &m->new_block);
	}
	return 0;
}

#undef KEY

size_t sl_wire_encode_frame(uint8_t *buf, size_t cap, sl_wire_hdr_t *hdr, const sl_wire_msg_t *m)
{
	size_t tag = (hdr->flags & SL_WIRE_F_AUTH) ? SL_WIRE_TAG_LEN : 0;
	size_t room = SL_MIN(cap, (size_t)SL_WIRE_MAX_UDP);
	if (SL_UNLIKELY(room < SL_WIRE_HDR_LEN + tag))
		return 0;
	size_t len = sl_wire_encode_msg(hdr->stream, hdr->type, buf + SL_WIRE_HDR_LEN,
	                                room - SL_WIRE_HDR_LEN - tag, m);
	if (SL_UNLIKELY(len == 0))
		return 0;
	sl_wire_hdr_t h = *hdr;
	h.length = (uint16_t)len;
	if (SL_UNLIKELY(sl_wire_encode_hdr(buf, cap, &h) == 0))
		return 0;
	hdr->length = h.length;
	return SL_WIRE_HDR_LEN + len;
}

sl_wire_err_t sl_wire_decode_frame(const uint8_t *buf, size_t udp_len, sl_wire_hdr_t *hdr,
                                   sl_wire_msg_t *m)
{
	sl_wire_err_t e = sl_wire_decode_hdr(buf, udp_len, hdr);
	if (SL_UNLIKELY(e != SL_WIRE_OK))
		return e;
	e = sl_wire_check_type(hdr->stream, hdr->type);
	if (SL_UNLIKELY(e != SL_WIRE_OK))
		return e;
	e = sl_wire_check_session(hdr);
	if (SL_UNLIKELY(e != SL_WIRE_OK))
		return e;
	return decode_dispatch(hdr->stream, hdr->type, buf + SL_WIRE_HDR_LEN, hdr->length, m);
}
