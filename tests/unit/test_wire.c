/* test_wire.c — unit tests of the wire codec (sl_wire.h, SPEC.md §2–§6).
   Round trips for every message, byte-exact goldens built by hand from the
   SPEC offsets, one test per error reason, and a seeded fuzz loop
   (SL_TEST_SEED=<n> replays a run). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_wire.h"

/* ---- helpers ------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static void rnd_fill(void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

static void fill_seq(uint8_t *p, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

static sl_wire_hello_t mk_hello(bool auth)
{
	sl_wire_hello_t h;
	memset(&h, 0, sizeof(h));
	h.proto_min = 1;
	h.proto_max = 3;
	h.auth_mode = auth ? SL_WIRE_AUTH_X25519_CHACHA20POLY1305 : SL_WIRE_AUTH_NONE;
	h.streams_offered = 0x23;
	fill_seq(h.chain_id, 32, 0x10);
	fill_seq(h.node_id, 32, 0x40);
	h.nonce = 0x0102030405060708ull;
	h.reply_session = 0xdeadbeef;
	h.best_height = 2500000;
	fill_seq(h.best_hash, 32, 0x80);
	h.has_auth = auth;
	if (auth) {
		fill_seq(h.eph_pubkey, 32, 0xc0);
		fill_seq(h.sig, 64, 0x20);
	}
	return h;
}

static sl_wire_hello_ack_t mk_hello_ack(bool auth)
{
	sl_wire_hello_ack_t h;
	memset(&h, 0, sizeof(h));
	h.streams_accepted = 0x21;
	h.auth_mode = auth ? 1 : 0;
	fill_seq(h.node_id, 32, 0x40);
	h.nonce = 0x1112131415161718ull;
	h.reply_session = 0x00c0ffee;
	h.best_height = 17;
	fill_seq(h.best_hash, 32, 0x90);
	h.has_auth = auth;
	if (auth) {
		fill_seq(h.eph_pubkey, 32, 0xd0);
		fill_seq(h.sig, 64, 0x30);
	}
	return h;
}

static sl_wire_peers_t mk_peers(uint8_t n)
{
	sl_wire_peers_t p;
	memset(&p, 0, sizeof(p));
	p.n = n;
	for (unsigned i = 0; i < n; i++) {
		p.entries[i].ipv4 = 0x0a000001u + i;
		p.entries[i].port = (uint16_t)(9747 + i);
		p.entries[i].flags = (uint16_t)(i * 3);
		fill_seq(p.entries[i].node_id, 32, (uint8_t)(i * 7));
		p.entries[i].last_seen_unix = 1700000000u + i;
	}
	return p;
}

static uint8_t hdr_bytes[SL_WIRE_HEADERS_MAX * SL_WIRE_BLOCK_HDR_LEN];

static void init_hdr_bytes(void)
{
	for (size_t i = 0; i < sizeof(hdr_bytes); i++)
		hdr_bytes[i] = (uint8_t)(i * 31 + 7);
}

static void assert_hdr_eq(const sl_wire_hdr_t *a, const sl_wire_hdr_t *b)
{
	ck_assert_uint_eq(a->type, b->type);
	ck_assert_uint_eq(a->stream, b->stream);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_uint_eq(a->length, b->length);
	ck_assert_uint_eq(a->session, b->session);
	ck_assert_uint_eq(a->seq, b->seq);
	ck_assert_uint_eq(a->corr, b->corr);
}

/* A valid GET_HEADERS payload encoded into buf; returns its length (40). */
static size_t enc_valid_get_headers(uint8_t *buf)
{
	sl_wire_get_headers_t m = {.start_height = 100, .count = 2000};
	fill_seq(m.anchor_hash, 32, 1);
	return sl_wire_encode_get_headers(buf, 64, &m);
}

/* ---- error names ---------------------------------------------------------- */

START_TEST(test_err_str_distinct)
{
	ck_assert_int_eq(SL_WIRE_OK, 0);
	ck_assert_str_eq(sl_wire_err_str(SL_WIRE_OK), "ok");
	ck_assert_str_eq(sl_wire_err_str(SL_WIRE_ERR_MAGIC), "magic");
	ck_assert_str_eq(sl_wire_err_str(SL_WIRE_ERR_CNT), "?");
	ck_assert_str_eq(sl_wire_err_str((sl_wire_err_t)-1), "?");
	for (int a = 0; a < SL_WIRE_ERR_CNT; a++)
		for (int b = a + 1; b < SL_WIRE_ERR_CNT; b++)
			ck_assert_str_ne(sl_wire_err_str(a), sl_wire_err_str(b));
}
END_TEST

/* ---- golden bytes --------------------------------------------------------- */

START_TEST(test_golden_hdr)
{
	sl_wire_hdr_t h = {.type = SL_WIRE_T_GET_HEADERS,
	                   .stream = SL_WIRE_STREAM_HSYNC,
	                   .flags = 0,
	                   .length = 40,
	                   .session = 0x01020304,
	                   .seq = 0x0a0b0c0d,
	                   .corr = 0x1122334455667788ull};
	static const uint8_t want[24] = {0x53, 0x4c, 0x01, 0x02, 0x05, 0x00, 0x00, 0x28,
	                                 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
	                                 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	uint8_t buf[32];
	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, sizeof(buf), &h), 24);
	ck_assert_mem_eq(buf, want, 24);
	ck_assert_uint_eq(buf[24], 0xee); /* nothing past the header */

	/* And the decoder reads the same fields from hand-made bytes. */
	uint8_t frame[64] = {0};
	memcpy(frame, want, 24);
	sl_wire_hdr_t d;
	ck_assert_int_eq(sl_wire_decode_hdr(frame, 64, &d), SL_WIRE_OK);
	ck_assert_uint_eq(d.type, 2);
	ck_assert_uint_eq(d.stream, 5);
	ck_assert_uint_eq(d.flags, 0);
	ck_assert_uint_eq(d.length, 40);
	ck_assert_uint_eq(d.session, 0x01020304);
	ck_assert_uint_eq(d.seq, 0x0a0b0c0d);
	ck_assert_uint_eq(d.corr, 0x1122334455667788ull);
}
END_TEST

START_TEST(test_golden_get_headers)
{
	sl_wire_get_headers_t m = {.start_height = 0x00012345, .count = 2000};
	fill_seq(m.anchor_hash, 32, 0xa0);
	uint8_t want[40] = {0x00, 0x01, 0x23, 0x45, 0x07, 0xd0, 0x00, 0x00};
	fill_seq(want + 8, 32, 0xa0);
	uint8_t buf[40];
	ck_assert_uint_eq(sl_wire_encode_get_headers(buf, sizeof(buf), &m), 40);
	ck_assert_mem_eq(buf, want, 40);
}
END_TEST

START_TEST(test_golden_hello)
{
	sl_wire_hello_t m = mk_hello(true);
	uint8_t want[216];
	want[0] = 1;
	want[1] = 3;
	want[2] = 0x00, want[3] = 0x01;                                     /* auth_mode */
	want[4] = 0, want[5] = 0, want[6] = 0, want[7] = 0x23;              /* streams */
	fill_seq(want + 8, 32, 0x10);                                       /* chain_id */
	fill_seq(want + 40, 32, 0x40);                                      /* node_id */
	fill_seq(want + 72, 8, 0x01);                                       /* nonce */
	want[80] = 0xde, want[81] = 0xad, want[82] = 0xbe, want[83] = 0xef; /* reply */
	want[84] = 0x00, want[85] = 0x26, want[86] = 0x25, want[87] = 0xa0; /* 2500000 */
	fill_seq(want + 88, 32, 0x80);                                      /* best_hash */
	fill_seq(want + 120, 32, 0xc0);                                     /* ephemeral */
	fill_seq(want + 152, 64, 0x20);                                     /* sig */
	uint8_t buf[240];
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &m), 216);
	ck_assert_mem_eq(buf, want, 216);
}
END_TEST

START_TEST(test_golden_hello_ack)
{
	sl_wire_hello_ack_t m = mk_hello_ack(false);
	uint8_t want[88];
	want[0] = 0, want[1] = 0, want[2] = 0, want[3] = 0x21;              /* streams */
	want[4] = 0, want[5] = 0, want[6] = 0, want[7] = 0;                 /* auth, rsvd */
	fill_seq(want + 8, 32, 0x40);                                       /* node_id */
	fill_seq(want + 40, 8, 0x11);                                       /* nonce */
	want[48] = 0x00, want[49] = 0xc0, want[50] = 0xff, want[51] = 0xee; /* reply */
	want[52] = 0, want[53] = 0, want[54] = 0, want[55] = 17;            /* height */
	fill_seq(want + 56, 32, 0x90);                                      /* best_hash */
	uint8_t buf[120];
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, sizeof(buf), &m), 88);
	ck_assert_mem_eq(buf, want, 88);
}
END_TEST

START_TEST(test_golden_peers_entry)
{
	sl_wire_peers_t m = mk_peers(1);
	uint8_t want[48] = {1,    0,    0,    0,                            /* n, reserved */
	                    0x0a, 0x00, 0x00, 0x01,                         /* ipv4 */
	                    0x26, 0x13,                                     /* port 9747 */
	                    0x00, 0x00};                                    /* flags */
	fill_seq(want + 12, 32, 0);                                         /* node_id */
	want[44] = 0x65, want[45] = 0x53, want[46] = 0xf1, want[47] = 0x00; /* 1.7e9 */
	uint8_t buf[48];
	ck_assert_uint_eq(sl_wire_encode_peers(buf, sizeof(buf), &m), 48);
	ck_assert_mem_eq(buf, want, 48);
}
END_TEST

START_TEST(test_golden_small_payloads)
{
	uint8_t buf[128];
	sl_wire_reject_t rj = {.reason = SL_WIRE_REJECT_NOT_READY, .retry_after_s = 0x0102};
	ck_assert_uint_eq(sl_wire_encode_reject(buf, sizeof(buf), &rj), 4);
	ck_assert_mem_eq(buf, ((uint8_t[]){0, 9, 1, 2}), 4);

	sl_wire_ping_t pg = {.sender_time_ns = 0x0102030405060708ull};
	ck_assert_uint_eq(sl_wire_encode_ping(buf, sizeof(buf), &pg), 8);
	ck_assert_mem_eq(buf, ((uint8_t[]){1, 2, 3, 4, 5, 6, 7, 8}), 8);

	sl_wire_goodbye_t gb = {.reason = SL_WIRE_GOODBYE_PARKED_IDLE};
	ck_assert_uint_eq(sl_wire_encode_goodbye(buf, sizeof(buf), &gb), 2);
	ck_assert_mem_eq(buf, ((uint8_t[]){0, 5}), 2);

	sl_wire_backoff_t bo = {.backoff_ms = 1000};
	ck_assert_uint_eq(sl_wire_encode_backoff(buf, sizeof(buf), &bo), 4);
	ck_assert_mem_eq(buf, ((uint8_t[]){0, 0, 0x03, 0xe8}), 4);

	sl_wire_get_peers_t gp = {.max = 32};
	ck_assert_uint_eq(sl_wire_encode_get_peers(buf, sizeof(buf), &gp), 2);
	ck_assert_mem_eq(buf, ((uint8_t[]){0, 32}), 2);

	sl_wire_not_found_t nf = {.start_height = 0x01000002, .reason = SL_WIRE_NF_BUSY};
	ck_assert_uint_eq(sl_wire_encode_not_found(buf, sizeof(buf), &nf), 6);
	ck_assert_mem_eq(buf, ((uint8_t[]){1, 0, 0, 2, 0, 4}), 6);

	sl_wire_status_t st = {.best_height = 0x0a0b0c0d, .finalized_height = 0x01020304};
	fill_seq(st.best_hash, 32, 0x20);
	fill_seq(st.chainwork, 32, 0x60);
	ck_assert_uint_eq(sl_wire_encode_status(buf, sizeof(buf), &st), 72);
	ck_assert_mem_eq(buf, ((uint8_t[]){0x0a, 0x0b, 0x0c, 0x0d}), 4);
	ck_assert_uint_eq(buf[4], 0x20);
	ck_assert_uint_eq(buf[36], 0x60);
	ck_assert_mem_eq(buf + 68, ((uint8_t[]){1, 2, 3, 4}), 4);

	sl_wire_new_block_t nb = {.height = 7};
	fill_seq(nb.header, 80, 0x30);
	ck_assert_uint_eq(sl_wire_encode_new_block(buf, sizeof(buf), &nb), 84);
	ck_assert_mem_eq(buf, ((uint8_t[]){0, 0, 0, 7, 0x30, 0x31}), 6);
	ck_assert_uint_eq(buf[83], 0x30 + 79);

	init_hdr_bytes();
	sl_wire_headers_t hd = {
	    .start_height = 0x00010203, .n = 1, .flags = SL_WIRE_HEADERS_F_LAST, .hdrs = hdr_bytes};
	ck_assert_uint_eq(sl_wire_encode_headers(buf, sizeof(buf), &hd), 88);
	ck_assert_mem_eq(buf, ((uint8_t[]){0, 1, 2, 3, 1, 1, 0, 0}), 8);
	ck_assert_mem_eq(buf + 8, hdr_bytes, 80);
}
END_TEST

/* ---- round trips ---------------------------------------------------------- */

START_TEST(test_hdr_roundtrip)
{
	for (int auth = 0; auth <= 1; auth++) {
		sl_wire_hdr_t h = {.type = SL_WIRE_T_HEADERS,
		                   .stream = SL_WIRE_STREAM_HSYNC,
		                   .flags = auth ? SL_WIRE_F_AUTH : 0,
		                   .length = 8 + 80,
		                   .session = 0xfffffffe,
		                   .seq = 1,
		                   .corr = ~0ull};
		uint8_t buf[SL_WIRE_MAX_UDP] = {0};
		ck_assert_uint_eq(sl_wire_encode_hdr(buf, sizeof(buf), &h), 24);
		size_t udp = 24 + h.length + (auth ? 16 : 0);
		sl_wire_hdr_t d;
		ck_assert_int_eq(sl_wire_decode_hdr(buf, udp, &d), SL_WIRE_OK);
		assert_hdr_eq(&d, &h);
	}
}
END_TEST

static void rt_hello(bool auth)
{
	sl_wire_hello_t m = mk_hello(auth), d;
	uint8_t buf[256];
	size_t n = sl_wire_encode_hello(buf, sizeof(buf), &m);
	ck_assert_uint_eq(n, auth ? 216 : 120);
	memset(&d, 0x5a, sizeof(d));
	ck_assert_int_eq(sl_wire_decode_hello(buf, n, &d), SL_WIRE_OK);
	ck_assert_uint_eq(d.proto_min, m.proto_min);
	ck_assert_uint_eq(d.proto_max, m.proto_max);
	ck_assert_uint_eq(d.auth_mode, m.auth_mode);
	ck_assert_uint_eq(d.streams_offered, m.streams_offered);
	ck_assert_mem_eq(d.chain_id, m.chain_id, 32);
	ck_assert_mem_eq(d.node_id, m.node_id, 32);
	ck_assert_uint_eq(d.nonce, m.nonce);
	ck_assert_uint_eq(d.reply_session, m.reply_session);
	ck_assert_uint_eq(d.best_height, m.best_height);
	ck_assert_mem_eq(d.best_hash, m.best_hash, 32);
	ck_assert(d.has_auth == auth);
	ck_assert_mem_eq(d.eph_pubkey, m.eph_pubkey, 32); /* zero when no auth */
	ck_assert_mem_eq(d.sig, m.sig, 64);
}

START_TEST(test_hello_roundtrip_no_pubkey)
{
	rt_hello(false);
}
END_TEST

START_TEST(test_hello_roundtrip_pubkey)
{
	rt_hello(true);
}
END_TEST

START_TEST(test_hello_ack_roundtrip)
{
	for (int auth = 0; auth <= 1; auth++) {
		sl_wire_hello_ack_t m = mk_hello_ack(auth), d;
		uint8_t buf[256];
		size_t n = sl_wire_encode_hello_ack(buf, sizeof(buf), &m);
		ck_assert_uint_eq(n, auth ? 184 : 88);
		memset(&d, 0x5a, sizeof(d));
		ck_assert_int_eq(sl_wire_decode_hello_ack(buf, n, &d), SL_WIRE_OK);
		ck_assert_uint_eq(d.streams_accepted, m.streams_accepted);
		ck_assert_uint_eq(d.auth_mode, m.auth_mode);
		ck_assert_mem_eq(d.node_id, m.node_id, 32);
		ck_assert_uint_eq(d.nonce, m.nonce);
		ck_assert_uint_eq(d.reply_session, m.reply_session);
		ck_assert_uint_eq(d.best_height, m.best_height);
		ck_assert_mem_eq(d.best_hash, m.best_hash, 32);
		ck_assert(d.has_auth == (bool)auth);
		ck_assert_mem_eq(d.eph_pubkey, m.eph_pubkey, 32);
		ck_assert_mem_eq(d.sig, m.sig, 64);
	}
}
END_TEST

START_TEST(test_session_small_roundtrips)
{
	uint8_t buf[16];
	for (uint16_t r = 1; r <= SL_WIRE_REJECT_MAX; r++) {
		sl_wire_reject_t m = {.reason = r, .retry_after_s = (uint16_t)(r * 1000)}, d;
		size_t n = sl_wire_encode_reject(buf, sizeof(buf), &m);
		ck_assert_uint_eq(n, 4);
		ck_assert_int_eq(sl_wire_decode_reject(buf, n, &d), SL_WIRE_OK);
		ck_assert_uint_eq(d.reason, r);
		ck_assert_uint_eq(d.retry_after_s, m.retry_after_s);
	}
	for (uint16_t r = 1; r <= SL_WIRE_GOODBYE_MAX; r++) {
		sl_wire_goodbye_t m = {.reason = r}, d;
		size_t n = sl_wire_encode_goodbye(buf, sizeof(buf), &m);
		ck_assert_uint_eq(n, 2);
		ck_assert_int_eq(sl_wire_decode_goodbye(buf, n, &d), SL_WIRE_OK);
		ck_assert_uint_eq(d.reason, r);
	}
	sl_wire_ping_t p = {.sender_time_ns = 0xfedcba9876543210ull}, pd;
	ck_assert_uint_eq(sl_wire_encode_ping(buf, sizeof(buf), &p), 8);
	ck_assert_int_eq(sl_wire_decode_ping(buf, 8, &pd), SL_WIRE_OK);
	ck_assert_uint_eq(pd.sender_time_ns, p.sender_time_ns);
	sl_wire_pong_t q = {.sender_time_ns = 42}, qd;
	ck_assert_uint_eq(sl_wire_encode_pong(buf, sizeof(buf), &q), 8);
	ck_assert_int_eq(sl_wire_decode_pong(buf, 8, &qd), SL_WIRE_OK);
	ck_assert_uint_eq(qd.sender_time_ns, 42);
	sl_wire_backoff_t b = {.backoff_ms = 0xffffffffu}, bd;
	ck_assert_uint_eq(sl_wire_encode_backoff(buf, sizeof(buf), &b), 4);
	ck_assert_int_eq(sl_wire_decode_backoff(buf, 4, &bd), SL_WIRE_OK);
	ck_assert_uint_eq(bd.backoff_ms, 0xffffffffu);
}
END_TEST

START_TEST(test_get_peers_roundtrip)
{
	uint8_t buf[4];
	for (uint16_t mx = 1; mx <= SL_WIRE_GET_PEERS_MAX; mx++) {
		sl_wire_get_peers_t m = {.max = mx}, d;
		ck_assert_uint_eq(sl_wire_encode_get_peers(buf, sizeof(buf), &m), 2);
		ck_assert_int_eq(sl_wire_decode_get_peers(buf, 2, &d), SL_WIRE_OK);
		ck_assert_uint_eq(d.max, mx);
	}
}
END_TEST

static void rt_peers(uint8_t cnt)
{
	sl_wire_peers_t m = mk_peers(cnt), d;
	uint8_t buf[SL_WIRE_MAX_PAYLOAD];
	size_t n = sl_wire_encode_peers(buf, sizeof(buf), &m);
	ck_assert_uint_eq(n, 4 + 44u * cnt);
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(sl_wire_decode_peers(buf, n, &d), SL_WIRE_OK);
	ck_assert_uint_eq(d.n, cnt);
	for (unsigned i = 0; i < cnt; i++) {
		ck_assert_uint_eq(d.entries[i].ipv4, m.entries[i].ipv4);
		ck_assert_uint_eq(d.entries[i].port, m.entries[i].port);
		ck_assert_uint_eq(d.entries[i].flags, m.entries[i].flags);
		ck_assert_mem_eq(d.entries[i].node_id, m.entries[i].node_id, 32);
		ck_assert_uint_eq(d.entries[i].last_seen_unix, m.entries[i].last_seen_unix);
	}
}

START_TEST(test_peers_roundtrip_0)
{
	rt_peers(0);
}
END_TEST

START_TEST(test_peers_roundtrip_32)
{
	rt_peers(32);
}
END_TEST

START_TEST(test_status_roundtrip)
{
	sl_wire_status_t m = {.best_height = 800000, .finalized_height = 799000}, d;
	fill_seq(m.best_hash, 32, 3);
	fill_seq(m.chainwork, 32, 200);
	uint8_t buf[72];
	ck_assert_uint_eq(sl_wire_encode_status(buf, sizeof(buf), &m), 72);
	ck_assert_int_eq(sl_wire_decode_status(buf, 72, &d), SL_WIRE_OK);
	ck_assert_mem_eq(&d, &m, sizeof(m));
}
END_TEST

START_TEST(test_get_headers_roundtrip)
{
	const uint16_t counts[] = {1, 17, 1999, 2000};
	for (size_t i = 0; i < SL_ARRAY_LEN(counts); i++) {
		sl_wire_get_headers_t m = {.start_height = 1 + (uint32_t)i, .count = counts[i]}, d;
		fill_seq(m.anchor_hash, 32, (uint8_t)i);
		uint8_t buf[40];
		ck_assert_uint_eq(sl_wire_encode_get_headers(buf, sizeof(buf), &m), 40);
		ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &d), SL_WIRE_OK);
		ck_assert_uint_eq(d.start_height, m.start_height);
		ck_assert_uint_eq(d.count, m.count);
		ck_assert_mem_eq(d.anchor_hash, m.anchor_hash, 32);
	}
	/* start_height 0 with the zero anchor is fine. */
	sl_wire_get_headers_t z = {.start_height = 0, .count = 5}, zd;
	uint8_t buf[40];
	ck_assert_uint_eq(sl_wire_encode_get_headers(buf, sizeof(buf), &z), 40);
	ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &zd), SL_WIRE_OK);
	ck_assert_uint_eq(zd.start_height, 0);
	ck_assert_uint_eq(zd.count, 5);
}
END_TEST

static void rt_headers(uint8_t cnt, uint8_t flags)
{
	init_hdr_bytes();
	sl_wire_headers_t m = {.start_height = 4000, .n = cnt, .flags = flags, .hdrs = hdr_bytes},
	                  d;
	uint8_t buf[SL_WIRE_MAX_PAYLOAD];
	size_t n = sl_wire_encode_headers(buf, sizeof(buf), &m);
	ck_assert_uint_eq(n, 8 + 80u * cnt);
	ck_assert_int_eq(sl_wire_decode_headers(buf, n, &d), SL_WIRE_OK);
	ck_assert_uint_eq(d.start_height, 4000);
	ck_assert_uint_eq(d.n, cnt);
	ck_assert_uint_eq(d.flags, flags);
	ck_assert_ptr_eq(d.hdrs, buf + 8); /* zero copy */
	ck_assert_mem_eq(d.hdrs, hdr_bytes, 80u * cnt);
}

START_TEST(test_headers_roundtrip_1)
{
	rt_headers(1, SL_WIRE_HEADERS_F_LAST);
}
END_TEST

START_TEST(test_headers_roundtrip_17)
{
	rt_headers(17, 0);
}
END_TEST

START_TEST(test_not_found_roundtrip)
{
	for (uint16_t r = 1; r <= SL_WIRE_NF_MAX; r++) {
		sl_wire_not_found_t m = {.start_height = 123456 + r, .reason = r}, d;
		uint8_t buf[6];
		ck_assert_uint_eq(sl_wire_encode_not_found(buf, sizeof(buf), &m), 6);
		ck_assert_int_eq(sl_wire_decode_not_found(buf, 6, &d), SL_WIRE_OK);
		ck_assert_uint_eq(d.start_height, m.start_height);
		ck_assert_uint_eq(d.reason, r);
	}
}
END_TEST

START_TEST(test_new_block_roundtrip)
{
	sl_wire_new_block_t m = {.height = 0xffffffffu}, d;
	fill_seq(m.header, 80, 9);
	uint8_t buf[84];
	ck_assert_uint_eq(sl_wire_encode_new_block(buf, sizeof(buf), &m), 84);
	ck_assert_int_eq(sl_wire_decode_new_block(buf, 84, &d), SL_WIRE_OK);
	ck_assert_mem_eq(&d, &m, sizeof(m));
}
END_TEST

/* encode_frame + decode_frame for one message of every type, with and
   without AUTH (tag room left, tag bytes opaque). */
START_TEST(test_frame_roundtrip_all_types)
{
	init_hdr_bytes();
	static const uint8_t st[] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 5, 5, 5, 5, 5};
	static const uint8_t ty[] = {1, 2, 3, 4, 5, 6, 7, 1, 2, 1, 2, 3, 4, 5};
	for (int auth = 0; auth <= 1; auth++) {
		for (size_t i = 0; i < SL_ARRAY_LEN(st); i++) {
			sl_wire_msg_t m;
			memset(&m, 0, sizeof(m));
			if (st[i] == 0 && ty[i] == 1)
				m.hello = mk_hello(auth);
			else if (st[i] == 0 && ty[i] == 2)
				m.hello_ack = mk_hello_ack(auth);
			else if (st[i] == 0 && ty[i] == 3)
				m.reject.reason = 1;
			else if (st[i] == 0 && ty[i] == 6)
				m.goodbye.reason = 2;
			else if (st[i] == 1 && ty[i] == 1)
				m.get_peers.max = 8;
			else if (st[i] == 1 && ty[i] == 2)
				m.peers = mk_peers(32);
			else if (st[i] == 5 && ty[i] == 2)
				m.get_headers.count = 2000;
			else if (st[i] == 5 && ty[i] == 3)
				m.headers = (sl_wire_headers_t){.n = 17, .hdrs = hdr_bytes};
			else if (st[i] == 5 && ty[i] == 4)
				m.not_found.reason = 3;
			sl_wire_hdr_t h = {.type = ty[i],
			                   .stream = st[i],
			                   .flags = auth ? SL_WIRE_F_AUTH : 0,
			                   .session = (st[i] == 0 && ty[i] == 1) ? 0 : 77,
			                   .seq = 5,
			                   .corr = 99};
			uint8_t buf[SL_WIRE_MAX_UDP], again[SL_WIRE_MAX_UDP];
			size_t n = sl_wire_encode_frame(buf, sizeof(buf), &h, &m);
			ck_assert_msg(n > 24, "stream %u type %u auth %d", st[i], ty[i], auth);
			ck_assert_uint_eq(h.length, n - 24);
			size_t udp = n + (auth ? SL_WIRE_TAG_LEN : 0);
			ck_assert_uint_le(udp, SL_WIRE_MAX_UDP);
			memset(buf + n, 0xab, udp - n); /* the tag */
			sl_wire_hdr_t dh;
			sl_wire_msg_t dm;
			ck_assert_int_eq(sl_wire_decode_frame(buf, udp, &dh, &dm), SL_WIRE_OK);
			assert_hdr_eq(&dh, &h);
			ck_assert_uint_eq(sl_wire_encode_frame(again, sizeof(again), &dh, &dm), n);
			ck_assert_mem_eq(again, buf, n);
		}
	}
}
END_TEST

/* ---- encoders refuse ------------------------------------------------------ */

START_TEST(test_encode_refuses_small_buffer)
{
	init_hdr_bytes();
	uint8_t buf[SL_WIRE_MAX_UDP];
	sl_wire_hello_t h = mk_hello(true);
	ck_assert_uint_eq(sl_wire_encode_hello(buf, 151, &h), 0);
	sl_wire_hello_ack_t a = mk_hello_ack(false);
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, 87, &a), 0);
	ck_assert_uint_eq(sl_wire_encode_reject(buf, 3, &(sl_wire_reject_t){.reason = 1}), 0);
	ck_assert_uint_eq(sl_wire_encode_ping(buf, 7, &(sl_wire_ping_t){0}), 0);
	ck_assert_uint_eq(sl_wire_encode_goodbye(buf, 1, &(sl_wire_goodbye_t){.reason = 1}), 0);
	ck_assert_uint_eq(sl_wire_encode_backoff(buf, 3, &(sl_wire_backoff_t){0}), 0);
	ck_assert_uint_eq(sl_wire_encode_get_peers(buf, 1, &(sl_wire_get_peers_t){.max = 1}), 0);
	sl_wire_peers_t p = mk_peers(2);
	ck_assert_uint_eq(sl_wire_encode_peers(buf, 4 + 88 - 1, &p), 0);
	ck_assert_uint_eq(sl_wire_encode_status(buf, 71, &(sl_wire_status_t){0}), 0);
	ck_assert_uint_eq(sl_wire_encode_get_headers(buf, 39, &(sl_wire_get_headers_t){.count = 1}),
	                  0);
	sl_wire_headers_t hd = {.n = 2, .hdrs = hdr_bytes};
	ck_assert_uint_eq(sl_wire_encode_headers(buf, 8 + 160 - 1, &hd), 0);
	ck_assert_uint_eq(sl_wire_encode_not_found(buf, 5, &(sl_wire_not_found_t){.reason = 1}), 0);
	ck_assert_uint_eq(sl_wire_encode_new_block(buf, 83, &(sl_wire_new_block_t){0}), 0);
	sl_wire_hdr_t fh = {.type = 1, .stream = 5, .session = 1};
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 23, &fh), 0);
	/* frame: STATUS needs 96 bytes, 112 with AUTH. */
	sl_wire_msg_t m;
	memset(&m, 0, sizeof(m));
	ck_assert_uint_eq(sl_wire_encode_frame(buf, 95, &fh, &m), 0);
	ck_assert_uint_eq(sl_wire_encode_frame(buf, 96, &fh, &m), 96);
	fh.flags = SL_WIRE_F_AUTH;
	ck_assert_uint_eq(sl_wire_encode_frame(buf, 111, &fh, &m), 0);
	ck_assert_uint_eq(sl_wire_encode_frame(buf, 112, &fh, &m), 96);
}
END_TEST

START_TEST(test_encode_refuses_invalid)
{
	init_hdr_bytes();
	uint8_t buf[SL_WIRE_MAX_UDP];
	sl_wire_hello_t h = mk_hello(false);
	h.has_auth = true; /* disagrees with auth_mode 0 */
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 0);
	h = mk_hello(true);
	h.has_auth = false;
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 0);
	h = mk_hello(false);
	h.auth_mode = 2;
	h.has_auth = true; /* the trailer only with auth_mode 1 */
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 0);
	h = mk_hello(false);
	h.proto_min = 4;
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 0);
	h = mk_hello(false);
	h.reply_session = 0;
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 0);
	sl_wire_hello_ack_t a = mk_hello_ack(false);
	a.has_auth = true;
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, sizeof(buf), &a), 0);
	a = mk_hello_ack(false);
	a.reply_session = 0;
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, sizeof(buf), &a), 0);
	a = mk_hello_ack(false);
	a.auth_mode = 7;
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, sizeof(buf), &a), 0);

	ck_assert_uint_eq(sl_wire_encode_reject(buf, 64, &(sl_wire_reject_t){.reason = 0}), 0);
	ck_assert_uint_eq(sl_wire_encode_reject(buf, 64, &(sl_wire_reject_t){.reason = 10}), 0);
	ck_assert_uint_eq(sl_wire_encode_goodbye(buf, 64, &(sl_wire_goodbye_t){.reason = 0}), 0);
	ck_assert_uint_eq(sl_wire_encode_goodbye(buf, 64, &(sl_wire_goodbye_t){.reason = 6}), 0);
	ck_assert_uint_eq(sl_wire_encode_not_found(buf, 64, &(sl_wire_not_found_t){.reason = 0}),
	                  0);
	ck_assert_uint_eq(sl_wire_encode_not_found(buf, 64, &(sl_wire_not_found_t){.reason = 5}),
	                  0);
	ck_assert_uint_eq(sl_wire_encode_get_peers(buf, 64, &(sl_wire_get_peers_t){.max = 0}), 0);
	ck_assert_uint_eq(sl_wire_encode_get_peers(buf, 64, &(sl_wire_get_peers_t){.max = 33}), 0);
	sl_wire_peers_t p = mk_peers(32);
	p.n = 33;
	ck_assert_uint_eq(sl_wire_encode_peers(buf, sizeof(buf), &p), 0);
	ck_assert_uint_eq(sl_wire_encode_get_headers(buf, 64, &(sl_wire_get_headers_t){.count = 0}),
	                  0);
	ck_assert_uint_eq(
	    sl_wire_encode_get_headers(buf, 64, &(sl_wire_get_headers_t){.count = 2001}), 0);
	sl_wire_get_headers_t g = {.start_height = 0, .count = 1};
	g.anchor_hash[31] = 1;
	ck_assert_uint_eq(sl_wire_encode_get_headers(buf, 64, &g), 0);
	sl_wire_headers_t hd = {.n = 0, .hdrs = hdr_bytes};
	ck_assert_uint_eq(sl_wire_encode_headers(buf, sizeof(buf), &hd), 0);
	hd.n = 18;
	ck_assert_uint_eq(sl_wire_encode_headers(buf, sizeof(buf), &hd), 0);
	hd.n = 1;
	hd.flags = 2;
	ck_assert_uint_eq(sl_wire_encode_headers(buf, sizeof(buf), &hd), 0);
	hd.flags = 0;
	hd.hdrs = NULL;
	ck_assert_uint_eq(sl_wire_encode_headers(buf, sizeof(buf), &hd), 0);

	/* Header: reserved flags, bad (stream, type), session rule, oversize. */
	sl_wire_hdr_t fh = {.type = 1, .stream = 5, .session = 1};
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &fh), 24);
	fh.flags = 0x02;
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &fh), 0);
	fh.flags = 0;
	fh.stream = 6;
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &fh), 0);
	fh.stream = 5;
	fh.type = 6;
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &fh), 0);
	fh.type = 1;
	fh.session = 0;
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &fh), 0);
	fh.session = 1;
	fh.length = SL_WIRE_MAX_PAYLOAD;
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &fh), 24);
	fh.length = SL_WIRE_MAX_PAYLOAD + 1;
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &fh), 0);
	fh.length = SL_WIRE_MAX_PAYLOAD - 16;
	fh.flags = SL_WIRE_F_AUTH;
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &fh), 24);
	fh.length++;
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &fh), 0);
	sl_wire_hdr_t hello = {.type = 1, .stream = 0, .session = 5};
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 64, &hello), 0);
	sl_wire_msg_t m;
	memset(&m, 0, sizeof(m));
	ck_assert_uint_eq(sl_wire_encode_msg(6, 1, buf, sizeof(buf), &m), 0);
	ck_assert_uint_eq(sl_wire_encode_msg(0, 8, buf, sizeof(buf), &m), 0);
}
END_TEST

/* ---- frame header errors, one test each ----------------------------------- */

/* A valid GET_HEADERS frame (64 bytes; 80 with AUTH) in buf. */
static size_t valid_frame(uint8_t *buf, bool auth)
{
	sl_wire_hdr_t h = {.type = SL_WIRE_T_GET_HEADERS,
	                   .stream = SL_WIRE_STREAM_HSYNC,
	                   .flags = auth ? SL_WIRE_F_AUTH : 0,
	                   .length = 40,
	                   .session = 9,
	                   .seq = 1};
	ck_assert_uint_eq(sl_wire_encode_hdr(buf, 24, &h), 24);
	ck_assert_uint_eq(enc_valid_get_headers(buf + 24), 40);
	if (auth)
		memset(buf + 64, 0x77, 16);
	return auth ? 80 : 64;
}

START_TEST(test_hdr_valid_baseline)
{
	uint8_t buf[128];
	sl_wire_hdr_t h;
	ck_assert_int_eq(sl_wire_decode_hdr(buf, valid_frame(buf, false), &h), SL_WIRE_OK);
	ck_assert_int_eq(sl_wire_decode_hdr(buf, valid_frame(buf, true), &h), SL_WIRE_OK);
	ck_assert_uint_eq(h.flags, SL_WIRE_F_AUTH);
}
END_TEST

START_TEST(test_hdr_short)
{
	uint8_t buf[128];
	sl_wire_hdr_t h;
	valid_frame(buf, false);
	for (size_t n = 0; n < 24; n++)
		ck_assert_int_eq(sl_wire_decode_hdr(buf, n, &h), SL_WIRE_ERR_SHORT);
}
END_TEST

START_TEST(test_hdr_oversize)
{
	uint8_t buf[2048] = {0};
	sl_wire_hdr_t h = {.type = 3, .stream = 5, .session = 1, .length = 1473 - 24};
	/* Hand-write a header that claims a 1449-byte payload: a 1473-byte
	   datagram whose length field agrees is still oversize. */
	buf[0] = 0x53, buf[1] = 0x4c, buf[2] = 1, buf[3] = h.type, buf[4] = h.stream;
	buf[6] = (uint8_t)(h.length >> 8), buf[7] = (uint8_t)h.length;
	ck_assert_int_eq(sl_wire_decode_hdr(buf, 1473, &h), SL_WIRE_ERR_OVERSIZE);
	ck_assert_int_eq(sl_wire_decode_hdr(buf, 2048, &h), SL_WIRE_ERR_OVERSIZE);
	ck_assert_int_eq(sl_wire_decode_hdr(buf, 1472, &h), SL_WIRE_ERR_LENGTH);
}
END_TEST

START_TEST(test_hdr_magic)
{
	uint8_t buf[128];
	sl_wire_hdr_t h;
	size_t n = valid_frame(buf, false);
	buf[0] = 0x4c, buf[1] = 0x53; /* little-endian "SL" */
	ck_assert_int_eq(sl_wire_decode_hdr(buf, n, &h), SL_WIRE_ERR_MAGIC);
	buf[0] = 0x53, buf[1] = 0x4d;
	ck_assert_int_eq(sl_wire_decode_hdr(buf, n, &h), SL_WIRE_ERR_MAGIC);
}
END_TEST

START_TEST(test_hdr_version)
{
	uint8_t buf[128];
	sl_wire_hdr_t h;
	size_t n = valid_frame(buf, false);
	const uint8_t bad[] = {0, 2, 0xff};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		buf[2] = bad[i];
		ck_assert_int_eq(sl_wire_decode_hdr(buf, n, &h), SL_WIRE_ERR_VERSION);
	}
}
END_TEST

START_TEST(test_hdr_flags)
{
	uint8_t buf[128];
	sl_wire_hdr_t h;
	size_t n = valid_frame(buf, false);
	for (int bit = 1; bit < 8; bit++) {
		buf[5] = (uint8_t)(1u << bit);
		ck_assert_int_eq(sl_wire_decode_hdr(buf, n, &h), SL_WIRE_ERR_FLAGS);
		buf[5] = (uint8_t)(1u << bit | SL_WIRE_F_AUTH);
		ck_assert_int_eq(sl_wire_decode_hdr(buf, n + 16, &h), SL_WIRE_ERR_FLAGS);
	}
}
END_TEST

START_TEST(test_hdr_length)
{
	uint8_t buf[128];
	sl_wire_hdr_t h;
	size_t n = valid_frame(buf, false);
	ck_assert_int_eq(sl_wire_decode_hdr(buf, n - 1, &h), SL_WIRE_ERR_LENGTH);
	ck_assert_int_eq(sl_wire_decode_hdr(buf, n + 1, &h), SL_WIRE_ERR_LENGTH);
	ck_assert_int_eq(sl_wire_decode_hdr(buf, n + 16, &h),
	                 SL_WIRE_ERR_LENGTH); /* tag, no AUTH */
	ck_assert_int_eq(sl_wire_decode_hdr(buf, 24, &h), SL_WIRE_ERR_LENGTH);
	n = valid_frame(buf, true);
	ck_assert_int_eq(sl_wire_decode_hdr(buf, n - 16, &h), SL_WIRE_ERR_LENGTH); /* no tag */
	ck_assert_int_eq(sl_wire_decode_hdr(buf, n - 1, &h), SL_WIRE_ERR_LENGTH);
	buf[6] = 0xff, buf[7] = 0xff;
	ck_assert_int_eq(sl_wire_decode_hdr(buf, n, &h), SL_WIRE_ERR_LENGTH);
}
END_TEST

START_TEST(test_check_type_stream)
{
	const uint8_t bad[] = {2, 3, 4, 6, 7, 8, 255};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++)
		for (unsigned t = 0; t < 256; t += 17)
			ck_assert_int_eq(sl_wire_check_type(bad[i], (uint8_t)t),
			                 SL_WIRE_ERR_STREAM);
	uint8_t buf[128];
	sl_wire_hdr_t h;
	sl_wire_msg_t m;
	size_t n = valid_frame(buf, false);
	buf[4] = 6; /* block-sync: reserved */
	ck_assert_int_eq(sl_wire_decode_frame(buf, n, &h, &m), SL_WIRE_ERR_STREAM);
	ck_assert_int_eq(sl_wire_decode_msg(6, 1, buf + 24, 40, &m), SL_WIRE_ERR_STREAM);
}
END_TEST

START_TEST(test_check_type_type)
{
	ck_assert_int_eq(sl_wire_check_type(0, 0), SL_WIRE_ERR_TYPE);
	ck_assert_int_eq(sl_wire_check_type(0, 8), SL_WIRE_ERR_TYPE);
	ck_assert_int_eq(sl_wire_check_type(1, 0), SL_WIRE_ERR_TYPE);
	ck_assert_int_eq(sl_wire_check_type(1, 3), SL_WIRE_ERR_TYPE);
	ck_assert_int_eq(sl_wire_check_type(5, 0), SL_WIRE_ERR_TYPE);
	ck_assert_int_eq(sl_wire_check_type(5, 6), SL_WIRE_ERR_TYPE);
	ck_assert_int_eq(sl_wire_check_type(5, 255), SL_WIRE_ERR_TYPE);
	for (uint8_t t = 1; t <= 7; t++)
		ck_assert_int_eq(sl_wire_check_type(0, t), SL_WIRE_OK);
	for (uint8_t t = 1; t <= 2; t++)
		ck_assert_int_eq(sl_wire_check_type(1, t), SL_WIRE_OK);
	for (uint8_t t = 1; t <= 5; t++)
		ck_assert_int_eq(sl_wire_check_type(5, t), SL_WIRE_OK);
	uint8_t buf[128];
	sl_wire_hdr_t h;
	sl_wire_msg_t m;
	size_t n = valid_frame(buf, false);
	buf[3] = 9;
	ck_assert_int_eq(sl_wire_decode_frame(buf, n, &h, &m), SL_WIRE_ERR_TYPE);
	ck_assert_int_eq(sl_wire_decode_msg(5, 9, buf + 24, 40, &m), SL_WIRE_ERR_TYPE);
}
END_TEST

START_TEST(test_check_session)
{
	sl_wire_hdr_t h = {.stream = 0, .type = SL_WIRE_T_HELLO, .session = 0};
	ck_assert_int_eq(sl_wire_check_session(&h), SL_WIRE_OK);
	h.session = 1;
	ck_assert_int_eq(sl_wire_check_session(&h), SL_WIRE_ERR_SESSION);
	h.type = SL_WIRE_T_HELLO_ACK;
	ck_assert_int_eq(sl_wire_check_session(&h), SL_WIRE_OK);
	h.session = 0;
	ck_assert_int_eq(sl_wire_check_session(&h), SL_WIRE_ERR_SESSION);
	h.stream = 5, h.type = 1; /* STATUS type number = HELLO's, other stream */
	ck_assert_int_eq(sl_wire_check_session(&h), SL_WIRE_ERR_SESSION);
	uint8_t buf[128];
	sl_wire_msg_t m;
	size_t n = valid_frame(buf, false);
	memset(buf + 8, 0, 4);
	ck_assert_int_eq(sl_wire_decode_frame(buf, n, &h, &m), SL_WIRE_ERR_SESSION);
}
END_TEST

/* ---- payload errors, one test each ---------------------------------------- */

START_TEST(test_payload_len_every_message)
{
	uint8_t buf[SL_WIRE_MAX_UDP] = {0};
	sl_wire_msg_t m;
	/* (stream, type, a good length): that length +-1, 0 and far off fail. */
	static const struct {
		uint8_t s, t;
		uint16_t len;
	} c[] = {{0, 1, 120}, {0, 2, 88}, {0, 3, 4}, {0, 4, 8}, {0, 5, 8},
	         {0, 6, 2},   {0, 7, 4},  {1, 1, 2}, {1, 2, 4}, {5, 1, 72},
	         {5, 2, 40},  {5, 3, 88}, {5, 4, 6}, {5, 5, 84}};
	for (size_t i = 0; i < SL_ARRAY_LEN(c); i++) {
		/* Make the good length decode first, so the failures are length. */
		memset(buf, 0, sizeof(buf));
		buf[0] = 0, buf[1] = 1; /* reasons / max = 1 */
		if (c[i].s == 0 && c[i].t <= 2) {
			buf[80] = buf[48] = 1;  /* reply_session non-zero */
			buf[0] = 0, buf[1] = 1; /* proto 0..1 */
		}
		if (c[i].s == 5 && c[i].t == 2)
			buf[0] = 0, buf[1] = 0, buf[4] = 0, buf[5] = 1, buf[3] = 1;
		if (c[i].s == 5 && c[i].t == 3)
			buf[0] = buf[1] = 0, buf[4] = 1;
		if (c[i].s == 5 && c[i].t == 4)
			buf[0] = buf[1] = 0, buf[5] = 1;
		if (c[i].s == 1 && c[i].t == 2)
			buf[0] = buf[1] = 0;
		ck_assert_msg(sl_wire_decode_msg(c[i].s, c[i].t, buf, c[i].len, &m) == SL_WIRE_OK,
		              "baseline %u/%u", c[i].s, c[i].t);
		const size_t bad[] = {0, c[i].len - 1u, c[i].len + 1u, SL_WIRE_MAX_PAYLOAD};
		for (size_t k = 0; k < SL_ARRAY_LEN(bad); k++)
			ck_assert_msg(sl_wire_decode_msg(c[i].s, c[i].t, buf, bad[k], &m) ==
			                  SL_WIRE_ERR_PAYLOAD_LEN,
			              "%u/%u len %zu", c[i].s, c[i].t, bad[k]);
	}
}
END_TEST

START_TEST(test_hello_len_vs_auth_mode)
{
	uint8_t buf[240];
	sl_wire_hello_t d;
	sl_wire_hello_t h0 = mk_hello(false);
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h0), 120);
	memset(buf + 120, 0, 96);
	ck_assert_int_eq(sl_wire_decode_hello(buf, 216, &d), SL_WIRE_ERR_PAYLOAD_LEN);
	sl_wire_hello_t h1 = mk_hello(true);
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h1), 216);
	ck_assert_int_eq(sl_wire_decode_hello(buf, 120, &d), SL_WIRE_ERR_PAYLOAD_LEN);

	sl_wire_hello_ack_t ad;
	sl_wire_hello_ack_t a0 = mk_hello_ack(false);
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, sizeof(buf), &a0), 88);
	ck_assert_int_eq(sl_wire_decode_hello_ack(buf, 184, &ad), SL_WIRE_ERR_PAYLOAD_LEN);
	sl_wire_hello_ack_t a1 = mk_hello_ack(true);
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, sizeof(buf), &a1), 184);
	ck_assert_int_eq(sl_wire_decode_hello_ack(buf, 88, &ad), SL_WIRE_ERR_PAYLOAD_LEN);
}
END_TEST

START_TEST(test_auth_mode)
{
	uint8_t buf[256];
	sl_wire_hello_t d;
	sl_wire_hello_t h = mk_hello(false);
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 120);
	/* HELLO: any auth_mode other than 1 is a 120-byte HELLO that decodes
	   (admission answers REJECT(AUTH)); 216 bytes is then a length error. */
	const uint16_t bad[] = {2, 7, 0x100, 0xffff};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		buf[2] = (uint8_t)(bad[i] >> 8), buf[3] = (uint8_t)bad[i];
		memset(&d, 0xA5, sizeof(d));
		ck_assert_int_eq(sl_wire_decode_hello(buf, 120, &d), SL_WIRE_OK);
		ck_assert_uint_eq(d.auth_mode, bad[i]);
		ck_assert(!d.has_auth);
		ck_assert_int_eq(sl_wire_decode_hello(buf, 216, &d), SL_WIRE_ERR_PAYLOAD_LEN);
	}
	/* auth_mode 1 still means 216 bytes (key and signature), never 120 */
	sl_wire_hello_t h1 = mk_hello(true);
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h1), 216);
	ck_assert_int_eq(sl_wire_decode_hello(buf, 216, &d), SL_WIRE_OK);
	ck_assert_uint_eq(d.auth_mode, 1);
	ck_assert(d.has_auth);
	ck_assert_mem_eq(d.eph_pubkey, h1.eph_pubkey, 32);
	ck_assert_mem_eq(d.sig, h1.sig, 64);
	ck_assert_int_eq(sl_wire_decode_hello(buf, 120, &d), SL_WIRE_ERR_PAYLOAD_LEN);
	/* the encoder mirrors the rule: mode 7 is 120 bytes and round-trips,
	   a pubkey with a mode other than 1 is refused */
	h.auth_mode = 7;
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 120);
	ck_assert_int_eq(sl_wire_decode_hello(buf, 120, &d), SL_WIRE_OK);
	ck_assert_uint_eq(d.auth_mode, 7);
	h.has_auth = true;
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 0);
	h.has_auth = false;
	sl_wire_hello_ack_t ad;
	sl_wire_hello_ack_t a = mk_hello_ack(false);
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, sizeof(buf), &a), 88);
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		buf[4] = (uint8_t)(bad[i] >> 8), buf[5] = (uint8_t)bad[i];
		ck_assert_int_eq(sl_wire_decode_hello_ack(buf, 88, &ad), SL_WIRE_ERR_AUTH_MODE);
	}
}
END_TEST

START_TEST(test_hello_proto)
{
	uint8_t buf[256];
	sl_wire_hello_t d;
	sl_wire_hello_t h = mk_hello(false);
	h.proto_min = h.proto_max = 2; /* equal is fine */
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 120);
	ck_assert_int_eq(sl_wire_decode_hello(buf, 120, &d), SL_WIRE_OK);
	buf[0] = 3;
	ck_assert_int_eq(sl_wire_decode_hello(buf, 120, &d), SL_WIRE_ERR_PROTO);
	buf[0] = 0xff, buf[1] = 0;
	ck_assert_int_eq(sl_wire_decode_hello(buf, 120, &d), SL_WIRE_ERR_PROTO);
}
END_TEST

START_TEST(test_reply_session_zero)
{
	uint8_t buf[256];
	sl_wire_hello_t d;
	sl_wire_hello_t h = mk_hello(true);
	ck_assert_uint_eq(sl_wire_encode_hello(buf, sizeof(buf), &h), 216);
	memset(buf + 80, 0, 4);
	ck_assert_int_eq(sl_wire_decode_hello(buf, 216, &d), SL_WIRE_ERR_SESSION);
	sl_wire_hello_ack_t ad;
	sl_wire_hello_ack_t a = mk_hello_ack(false);
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, sizeof(buf), &a), 88);
	memset(buf + 48, 0, 4);
	ck_assert_int_eq(sl_wire_decode_hello_ack(buf, 88, &ad), SL_WIRE_ERR_SESSION);
}
END_TEST

START_TEST(test_reserved_nonzero)
{
	uint8_t buf[SL_WIRE_MAX_PAYLOAD];
	/* HELLO_ACK u16 reserved at 6. */
	sl_wire_hello_ack_t a = mk_hello_ack(false), ad;
	ck_assert_uint_eq(sl_wire_encode_hello_ack(buf, sizeof(buf), &a), 88);
	for (int off = 6; off <= 7; off++) {
		buf[off] = 0x80;
		ck_assert_int_eq(sl_wire_decode_hello_ack(buf, 88, &ad), SL_WIRE_ERR_RESERVED);
		buf[off] = 0;
	}
	/* PEERS u8[3] reserved at 1..3. */
	sl_wire_peers_t p = mk_peers(3), pd;
	size_t n = sl_wire_encode_peers(buf, sizeof(buf), &p);
	for (int off = 1; off <= 3; off++) {
		buf[off] = 1;
		ck_assert_int_eq(sl_wire_decode_peers(buf, n, &pd), SL_WIRE_ERR_RESERVED);
		buf[off] = 0;
	}
	/* GET_HEADERS u16 reserved at 6. */
	sl_wire_get_headers_t gd;
	ck_assert_uint_eq(enc_valid_get_headers(buf), 40);
	buf[7] = 1;
	ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &gd), SL_WIRE_ERR_RESERVED);
	/* HEADERS u16 reserved at 6. */
	init_hdr_bytes();
	sl_wire_headers_t h = {.start_height = 1, .n = 2, .hdrs = hdr_bytes}, hd;
	n = sl_wire_encode_headers(buf, sizeof(buf), &h);
	buf[6] = 0x10;
	ck_assert_int_eq(sl_wire_decode_headers(buf, n, &hd), SL_WIRE_ERR_RESERVED);
}
END_TEST

START_TEST(test_headers_msg_flags)
{
	init_hdr_bytes();
	uint8_t buf[SL_WIRE_MAX_PAYLOAD];
	sl_wire_headers_t h = {.start_height = 1, .n = 1, .hdrs = hdr_bytes}, hd;
	size_t n = sl_wire_encode_headers(buf, sizeof(buf), &h);
	for (int bit = 1; bit < 8; bit++) {
		buf[5] = (uint8_t)(1u << bit | SL_WIRE_HEADERS_F_LAST);
		ck_assert_int_eq(sl_wire_decode_headers(buf, n, &hd), SL_WIRE_ERR_MSG_FLAGS);
	}
	buf[5] = SL_WIRE_HEADERS_F_LAST;
	ck_assert_int_eq(sl_wire_decode_headers(buf, n, &hd), SL_WIRE_OK);
	ck_assert_uint_eq(hd.flags, SL_WIRE_HEADERS_F_LAST);
}
END_TEST

START_TEST(test_reason_out_of_range)
{
	uint8_t buf[8] = {0};
	sl_wire_reject_t r;
	sl_wire_goodbye_t g;
	sl_wire_not_found_t f;
	const uint16_t rj[] = {0, 10, 0xffff};
	for (size_t i = 0; i < SL_ARRAY_LEN(rj); i++) {
		buf[0] = (uint8_t)(rj[i] >> 8), buf[1] = (uint8_t)rj[i];
		ck_assert_int_eq(sl_wire_decode_reject(buf, 4, &r), SL_WIRE_ERR_REASON);
	}
	const uint16_t gb[] = {0, 6, 0x0100};
	for (size_t i = 0; i < SL_ARRAY_LEN(gb); i++) {
		buf[0] = (uint8_t)(gb[i] >> 8), buf[1] = (uint8_t)gb[i];
		ck_assert_int_eq(sl_wire_decode_goodbye(buf, 2, &g), SL_WIRE_ERR_REASON);
	}
	const uint16_t nf[] = {0, 5, 0x0101};
	for (size_t i = 0; i < SL_ARRAY_LEN(nf); i++) {
		buf[4] = (uint8_t)(nf[i] >> 8), buf[5] = (uint8_t)nf[i];
		ck_assert_int_eq(sl_wire_decode_not_found(buf, 6, &f), SL_WIRE_ERR_REASON);
	}
}
END_TEST

START_TEST(test_headers_n_range)
{
	uint8_t buf[SL_WIRE_MAX_UDP] = {0};
	sl_wire_headers_t d;
	buf[4] = 0;
	ck_assert_int_eq(sl_wire_decode_headers(buf, 8, &d), SL_WIRE_ERR_COUNT);
	buf[4] = 18;
	ck_assert_int_eq(sl_wire_decode_headers(buf, 8 + 18 * 80, &d), SL_WIRE_ERR_COUNT);
	buf[4] = 255;
	ck_assert_int_eq(sl_wire_decode_headers(buf, 8, &d), SL_WIRE_ERR_COUNT);
	/* n / length mismatch is a length error. */
	buf[4] = 3;
	ck_assert_int_eq(sl_wire_decode_headers(buf, 8 + 2 * 80, &d), SL_WIRE_ERR_PAYLOAD_LEN);
	ck_assert_int_eq(sl_wire_decode_headers(buf, 8 + 4 * 80, &d), SL_WIRE_ERR_PAYLOAD_LEN);
	ck_assert_int_eq(sl_wire_decode_headers(buf, 8 + 3 * 80, &d), SL_WIRE_OK);
}
END_TEST

START_TEST(test_peers_n_range)
{
	uint8_t buf[SL_WIRE_MAX_UDP] = {0};
	sl_wire_peers_t d;
	buf[0] = 33;
	ck_assert_int_eq(sl_wire_decode_peers(buf, 4 + 33 * 44, &d), SL_WIRE_ERR_COUNT);
	buf[0] = 255;
	ck_assert_int_eq(sl_wire_decode_peers(buf, 4, &d), SL_WIRE_ERR_COUNT);
	buf[0] = 2;
	ck_assert_int_eq(sl_wire_decode_peers(buf, 4 + 44, &d), SL_WIRE_ERR_PAYLOAD_LEN);
	ck_assert_int_eq(sl_wire_decode_peers(buf, 4 + 3 * 44, &d), SL_WIRE_ERR_PAYLOAD_LEN);
	ck_assert_int_eq(sl_wire_decode_peers(buf, 4 + 2 * 44, &d), SL_WIRE_OK);
	ck_assert_int_eq(sl_wire_decode_peers(buf, 3, &d), SL_WIRE_ERR_PAYLOAD_LEN);
}
END_TEST

START_TEST(test_get_peers_max)
{
	uint8_t buf[2];
	sl_wire_get_peers_t d;
	const uint16_t bad[] = {0, 33, 0x0100, 0xffff};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		buf[0] = (uint8_t)(bad[i] >> 8), buf[1] = (uint8_t)bad[i];
		ck_assert_int_eq(sl_wire_decode_get_peers(buf, 2, &d), SL_WIRE_ERR_MAX);
	}
}
END_TEST

START_TEST(test_get_headers_count_zero)
{
	uint8_t buf[40];
	sl_wire_get_headers_t d;
	enc_valid_get_headers(buf);
	buf[4] = buf[5] = 0;
	ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &d), SL_WIRE_ERR_COUNT_ZERO);
}
END_TEST

START_TEST(test_get_headers_anchor)
{
	uint8_t buf[40];
	sl_wire_get_headers_t d;
	enc_valid_get_headers(buf);
	memset(buf, 0, 4); /* start_height 0, anchor non-zero */
	ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &d), SL_WIRE_ERR_ANCHOR);
	memset(buf + 8, 0, 32);
	buf[39] = 1; /* only the last anchor byte */
	ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &d), SL_WIRE_ERR_ANCHOR);
	buf[39] = 0;
	ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &d), SL_WIRE_OK);
}
END_TEST

START_TEST(test_get_headers_too_many)
{
	uint8_t buf[40];
	sl_wire_get_headers_t d;
	const uint16_t many[] = {2001, 4000, 0xffff};
	for (size_t i = 0; i < SL_ARRAY_LEN(many); i++) {
		enc_valid_get_headers(buf);
		buf[4] = (uint8_t)(many[i] >> 8), buf[5] = (uint8_t)many[i];
		memset(&d, 0, sizeof(d));
		ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &d), SL_WIRE_ERR_TOO_MANY);
		/* Fully decoded, so the caller can answer NOT_FOUND(TOO_MANY). */
		ck_assert_uint_eq(d.start_height, 100);
		ck_assert_uint_eq(d.count, many[i]);
		ck_assert_mem_eq(d.anchor_hash, buf + 8, 32);
	}
	/* Other rules still win over TOO_MANY. */
	buf[6] = 1;
	ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &d), SL_WIRE_ERR_RESERVED);
	buf[6] = 0;
	memset(buf, 0, 4);
	ck_assert_int_eq(sl_wire_decode_get_headers(buf, 40, &d), SL_WIRE_ERR_ANCHOR);
}
END_TEST

/* ---- fuzz ------------------------------------------------------------------ */

static uint64_t test_seed(void)
{
	const char *env = getenv("SL_TEST_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)clock();
	if (seed == 0)
		seed = 1;
	return seed;
}

static const uint8_t fz_stream[] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 5, 5, 5, 5, 5};
static const uint8_t fz_type[] = {1, 2, 3, 4, 5, 6, 7, 1, 2, 1, 2, 3, 4, 5};

/* A random valid message of kind i. */
static void rnd_msg(size_t i, sl_wire_msg_t *m)
{
	rnd_fill(m, sizeof(*m));
	uint8_t s = fz_stream[i], t = fz_type[i];
	if (s == 0 && t == 1) {
		bool auth = rnd() & 1;
		m->hello.auth_mode = auth;
		m->hello.has_auth = auth;
		if (m->hello.proto_min > m->hello.proto_max)
			m->hello.proto_min = m->hello.proto_max;
		m->hello.reply_session |= 1;
	} else if (s == 0 && t == 2) {
		bool auth = rnd() & 1;
		m->hello_ack.auth_mode = auth;
		m->hello_ack.has_auth = auth;
		m->hello_ack.reply_session |= 0x100;
	} else if (s == 0 && t == 3) {
		m->reject.reason = (uint16_t)(1 + rnd() % SL_WIRE_REJECT_MAX);
	} else if (s == 0 && t == 6) {
		m->goodbye.reason = (uint16_t)(1 + rnd() % SL_WIRE_GOODBYE_MAX);
	} else if (s == 1 && t == 1) {
		m->get_peers.max = (uint16_t)(1 + rnd() % SL_WIRE_GET_PEERS_MAX);
	} else if (s == 1 && t == 2) {
		m->peers.n = (uint8_t)(rnd() % (SL_WIRE_PEERS_MAX + 1));
	} else if (s == 5 && t == 2) {
		m->get_headers.count = (uint16_t)(1 + rnd() % SL_WIRE_GET_HEADERS_MAX);
		if (rnd() % 4 == 0)
			m->get_headers.start_height = 0;
		if (m->get_headers.start_height == 0)
			memset(m->get_headers.anchor_hash, 0, 32);
	} else if (s == 5 && t == 3) {
		m->headers.n = (uint8_t)(1 + rnd() % SL_WIRE_HEADERS_MAX);
		m->headers.flags &= SL_WIRE_HEADERS_F_MASK;
		m->headers.hdrs = hdr_bytes;
	} else if (s == 5 && t == 4) {
		m->not_found.reason = (uint16_t)(1 + rnd() % SL_WIRE_NF_MAX);
	}
}

/* If buf decodes as a frame, it re-encodes to the same bytes. */
static void check_frame_reencodes(const uint8_t *buf, size_t udp, unsigned long iter)
{
	sl_wire_hdr_t h;
	sl_wire_msg_t m;
	sl_wire_err_t e = sl_wire_decode_frame(buf, udp, &h, &m);
	ck_assert_int_ge(e, 0);
	ck_assert_int_lt(e, SL_WIRE_ERR_CNT);
	if (e != SL_WIRE_OK)
		return;
	uint8_t out[SL_WIRE_MAX_UDP];
	size_t n = sl_wire_encode_frame(out, sizeof(out), &h, &m);
	size_t tag = (h.flags & SL_WIRE_F_AUTH) ? SL_WIRE_TAG_LEN : 0;
	ck_assert_msg(n + tag == udp, "iter %lu: re-encode %zu+%zu != %zu", iter, n, tag, udp);
	ck_assert_msg(memcmp(out, buf, n) == 0, "iter %lu: re-encode differs", iter);
}

/* If payload p decodes as (s, t), it re-encodes to the same bytes. */
static void check_payload_reencodes(uint8_t s, uint8_t t, const uint8_t *p, size_t len,
                                    unsigned long iter)
{
	sl_wire_msg_t m;
	sl_wire_err_t e = sl_wire_decode_msg(s, t, p, len, &m);
	ck_assert_int_ge(e, 0);
	ck_assert_int_lt(e, SL_WIRE_ERR_CNT);
	if (e != SL_WIRE_OK)
		return;
	uint8_t out[SL_WIRE_MAX_UDP];
	size_t n = sl_wire_encode_msg(s, t, out, sizeof(out), &m);
	ck_assert_msg(n == len, "iter %lu %u/%u: re-encode %zu != %zu", iter, s, t, n, len);
	ck_assert_msg(memcmp(out, p, n) == 0, "iter %lu %u/%u: re-encode differs", iter, s, t);
}

START_TEST(test_fuzz_decoders)
{
	uint64_t seed = test_seed();
	printf("test_fuzz_decoders: seed %llu (SL_TEST_SEED to replay)\n",
	       (unsigned long long)seed);
	fflush(stdout);
	rng_state = seed;
	init_hdr_bytes();
	unsigned long ok_frames = 0, ok_payloads = 0;
	static uint8_t buf[SL_WIRE_MAX_UDP + 64];
	for (unsigned long iter = 0; iter < 200000; iter++) {
		size_t k = rnd() % SL_ARRAY_LEN(fz_stream);
		sl_wire_msg_t m;
		rnd_msg(k, &m);
		bool auth = rnd() & 1;
		sl_wire_hdr_t h = {.type = fz_type[k],
		                   .stream = fz_stream[k],
		                   .flags = auth ? SL_WIRE_F_AUTH : 0,
		                   .session = (k == 0) ? 0 : (uint32_t)rnd() | 1,
		                   .seq = (uint32_t)rnd(),
		                   .corr = rnd()};
		size_t n = sl_wire_encode_frame(buf, SL_WIRE_MAX_UDP, &h, &m);
		ck_assert_msg(n > 0, "iter %lu: valid message %zu refused", iter, k);
		size_t udp = n + (auth ? SL_WIRE_TAG_LEN : 0);
		rnd_fill(buf + n, udp - n);
		/* Mutate: none, truncate/extend, flip bits, or random bytes. */
		switch (rnd() % 5) {
		case 0:
			break;
		case 1:
			udp = rnd() % (udp + 1);
			break;
		case 2:
			udp = SL_MIN(udp + rnd() % 64, sizeof(buf));
			break;
		case 3:
			for (int f = 1 + (int)(rnd() % 4); f > 0; f--) {
				size_t at = rnd() % udp;
				buf[at] ^= (uint8_t)(1u << (rnd() % 8));
			}
			break;
		case 4:
			udp = rnd() % sizeof(buf);
			rnd_fill(buf, udp);
			if (rnd() & 1) /* keep a plausible header so payloads get fuzzed */
				buf[0] = 0x53, buf[1] = 0x4c, buf[2] = 1, buf[5] &= 1;
			break;
		}
		sl_wire_hdr_t dh;
		sl_wire_msg_t dm;
		if (sl_wire_decode_frame(buf, udp, &dh, &dm) == SL_WIRE_OK)
			ok_frames++;
		check_frame_reencodes(buf, udp, iter);
		/* Every payload decoder on a random slice of the buffer. */
		size_t kk = rnd() % SL_ARRAY_LEN(fz_stream);
		size_t plen = rnd() % (SL_WIRE_MAX_PAYLOAD + 1);
		if (udp > SL_WIRE_HDR_LEN && rnd() % 2)
			plen = udp - SL_WIRE_HDR_LEN;
		if (SL_WIRE_HDR_LEN + plen > sizeof(buf))
			plen = sizeof(buf) - SL_WIRE_HDR_LEN;
		if (sl_wire_decode_msg(fz_stream[kk], fz_type[kk], buf + SL_WIRE_HDR_LEN, plen,
		                       &dm) == SL_WIRE_OK)
			ok_payloads++;
		check_payload_reencodes(fz_stream[kk], fz_type[kk], buf + SL_WIRE_HDR_LEN, plen,
		                        iter);
	}
	printf("test_fuzz_decoders: %lu frames and %lu payloads decoded OK\n", ok_frames,
	       ok_payloads);
	/* The loop must exercise the accept path, not only rejections. */
	ck_assert_uint_gt(ok_frames, 10000);
	ck_assert_uint_gt(ok_payloads, 100);
}
END_TEST

/* ---- suite ------------------------------------------------------------------ */

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");
	tcase_add_test(tc, test_err_str_distinct);
	tcase_add_test(tc, test_golden_hdr);
	tcase_add_test(tc, test_golden_get_headers);
	tcase_add_test(tc, test_golden_hello);
	tcase_add_test(tc, test_golden_hello_ack);
	tcase_add_test(tc, test_golden_peers_entry);
	tcase_add_test(tc, test_golden_small_payloads);
	tcase_add_test(tc, test_hdr_roundtrip);
	tcase_add_test(tc, test_hello_roundtrip_no_pubkey);
	tcase_add_test(tc, test_hello_roundtrip_pubkey);
	tcase_add_test(tc, test_hello_ack_roundtrip);
	tcase_add_test(tc, test_session_small_roundtrips);
	tcase_add_test(tc, test_get_peers_roundtrip);
	tcase_add_test(tc, test_peers_roundtrip_0);
	tcase_add_test(tc, test_peers_roundtrip_32);
	tcase_add_test(tc, test_status_roundtrip);
	tcase_add_test(tc, test_get_headers_roundtrip);
	tcase_add_test(tc, test_headers_roundtrip_1);
	tcase_add_test(tc, test_headers_roundtrip_17);
	tcase_add_test(tc, test_not_found_roundtrip);
	tcase_add_test(tc, test_new_block_roundtrip);
	tcase_add_test(tc, test_frame_roundtrip_all_types);
	tcase_add_test(tc, test_encode_refuses_small_buffer);
	tcase_add_test(tc, test_encode_refuses_invalid);
	tcase_add_test(tc, test_hdr_valid_baseline);
	tcase_add_test(tc, test_hdr_short);
	tcase_add_test(tc, test_hdr_oversize);
	tcase_add_test(tc, test_hdr_magic);
	tcase_add_test(tc, test_hdr_version);
	tcase_add_test(tc, test_hdr_flags);
	tcase_add_test(tc, test_hdr_length);
	tcase_add_test(tc, test_check_type_stream);
	tcase_add_test(tc, test_check_type_type);
	tcase_add_test(tc, test_check_session);
	tcase_add_test(tc, test_payload_len_every_message);
	tcase_add_test(tc, test_hello_len_vs_auth_mode);
	tcase_add_test(tc, test_auth_mode);
	tcase_add_test(tc, test_hello_proto);
	tcase_add_test(tc, test_reply_session_zero);
	tcase_add_test(tc, test_reserved_nonzero);
	tcase_add_test(tc, test_headers_msg_flags);
	tcase_add_test(tc, test_reason_out_of_range);
	tcase_add_test(tc, test_headers_n_range);
	tcase_add_test(tc, test_peers_n_range);
	tcase_add_test(tc, test_get_peers_max);
	tcase_add_test(tc, test_get_headers_count_zero);
	tcase_add_test(tc, test_get_headers_anchor);
	tcase_add_test(tc, test_get_headers_too_many);
	tcase_add_test(tc, test_fuzz_decoders);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(wire_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
