/* test_net.c — unit tests of sl_net (suite "net"): parse of hand-built
   frames, one test per parse error, checksums against known values and an
   independent byte-wise reference, build -> parse round trips, and a fuzz
   loop (seed printed; set SL_TEST_SEED to replay). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_net.h"

/* ---- fixtures: frames as captured (checksums computed independently) ---- */

/* ARP who-has 10.99.0.2 tell 10.99.0.1, from 02:00:00:00:00:01, as a Linux
   host sends it (42 bytes), padded to 60 on the wire. */
static const uint8_t arp_req_linux[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00,
    0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x63,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x63, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* `ping 10.99.0.2` from 10.99.0.1: id 0x1c2f seq 1, 56 data bytes (timeval
   then 0x10..0x37), IP id 0x5a3c DF TTL 64, IP csum 0xcba4, ICMP 0xa33d. */
static const uint8_t icmp_echo_ping[98] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x54, 0x5a, 0x3c, 0x40, 0x00, 0x40, 0x01, 0xcb, 0xa4, 0x0a, 0x63,
    0x00, 0x01, 0x0a, 0x63, 0x00, 0x02, 0x08, 0x00, 0xa3, 0x3d, 0x1c, 0x2f, 0x00, 0x01,
    0xa3, 0xb5, 0xf8, 0x65, 0x00, 0x00, 0x00, 0x00, 0xd1, 0xa3, 0x0c, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
    0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
    0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
};

/* UDP 10.99.0.1:40000 -> 10.99.0.2:9747, 32-byte payload starting "SL",
   IP id 0x1234 DF TTL 64, IP csum 0x13b5, UDP csum 0xc818. */
static const uint8_t udp_sl[74] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
    0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x13, 0xb5, 0x0a, 0x63, 0x00, 0x01,
    0x0a, 0x63, 0x00, 0x02, 0x9c, 0x40, 0x26, 0x13, 0x00, 0x28, 0xc8, 0x18, 0x53, 0x4c, 0x01,
    0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
};

/* The same datagram with an 802.1Q tag: PCP 1, VLAN 100 (TCI 0x2064). */
static const uint8_t udp_sl_vlan[78] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x81, 0x00, 0x20, 0x64,
    0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x13, 0xb5, 0x0a, 0x63,
    0x00, 0x01, 0x0a, 0x63, 0x00, 0x02, 0x9c, 0x40, 0x26, 0x13, 0x00, 0x28, 0xc8, 0x18, 0x53, 0x4c,
    0x01, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
};

static const sl_mac_t mac_a = {{0x02, 0, 0, 0, 0, 0x01}}; /* the peer */
static const sl_mac_t mac_b = {{0x02, 0, 0, 0, 0, 0x02}}; /* us */
#define IP_A 0x0a630001u                                  /* 10.99.0.1 */
#define IP_B 0x0a630002u                                  /* 10.99.0.2 */

/* ---- independent reference helpers (byte-wise RFC 1071) ----------------- */

static uint32_t ref_sum(const uint8_t *p, uint32_t len, uint32_t s)
{
	for (uint32_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return s;
}

static uint16_t ref_fold_not(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t ref_csum(const uint8_t *p, uint32_t len)
{
	return ref_fold_not(ref_sum(p, len, 0));
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* fix_ip recomputes the IPv4 header checksum at l3. */
static void fix_ip(uint8_t *l3)
{
	put16(l3 + 10, 0);
	put16(l3 + 10, ref_csum(l3, 20));
}

/* fix_l4 recomputes the UDP (with pseudo-header) or ICMP checksum, over
   the IP payload as the IP total length says. */
static void fix_l4(uint8_t *l3)
{
	uint32_t l4_len = be16(l3 + 2) - 20u;
	uint8_t *l4 = l3 + 20;
	if (l3[9] == SL_IPPROTO_ICMP) {
		put16(l4 + 2, 0);
		put16(l4 + 2, ref_csum(l4, l4_len));
		return;
	}
	uint8_t ph[12];
	memcpy(ph, l3 + 12, 8);
	ph[8] = 0;
	ph[9] = l3[9];
	put16(ph + 10, (uint16_t)l4_len);
	put16(l4 + 6, 0);
	uint16_t c = ref_fold_not(ref_sum(l4, l4_len, ref_sum(ph, 12, 0)));
	put16(l4 + 6, c ? c : 0xffff);
}

static uint32_t test_seed(void)
{
	const char *e = getenv("SL_TEST_SEED");
	uint32_t seed =
	    e ? (uint32_t)strtoul(e, NULL, 0) : (uint32_t)time(NULL) ^ (uint32_t)clock();
	return seed;
}

static uint32_t xs32(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x ? x : 0x9e3779b9u;
}

static sl_net_err_t parse_copy(const uint8_t *f, uint32_t len, sl_pkt_t *p)
{
	/* exact-size heap copy, so a sanitizer build catches any over-read */
	uint8_t *c = malloc(len ? len : 1);
	memcpy(c, f, len);
	sl_net_err_t e = sl_net_parse(c, len, p);
	free(c);
	return e;
}

/* ---- parse: good frames ----------------------------------------------------- */

START_TEST(test_parse_arp_request_linux)
{
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(arp_req_linux, sizeof arp_req_linux, &p), SL_NET_OK);
	ck_assert(sl_mac_is_bcast(&p.dst_mac));
	ck_assert(sl_mac_eq(&p.src_mac, &mac_a));
	ck_assert_uint_eq(p.ethertype, SL_ETH_P_ARP);
	ck_assert_uint_eq(p.has_vlan, 0);
	ck_assert_uint_eq(p.l3_off, 14);
	ck_assert_uint_eq(p.l3_len, 28);
	ck_assert_uint_eq(p.arp.op, SL_ARP_OP_REQUEST);
	ck_assert(sl_mac_eq(&p.arp.sha, &mac_a));
	ck_assert_uint_eq(p.arp.spa, IP_A);
	static const sl_mac_t zero = {{0}};
	ck_assert(sl_mac_eq(&p.arp.tha, &zero));
	ck_assert_uint_eq(p.arp.tpa, IP_B);
	ck_assert_uint_le(p.payload_off + p.payload_len, sizeof arp_req_linux);
	/* unpadded (as sent, 42 bytes) parses the same */
	ck_assert_int_eq(sl_net_parse(arp_req_linux, 42, &p), SL_NET_OK);
	ck_assert_uint_eq(p.arp.tpa, IP_B);
}
END_TEST

START_TEST(test_parse_icmp_echo_request_ping)
{
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(icmp_echo_ping, sizeof icmp_echo_ping, &p), SL_NET_OK);
	ck_assert(sl_mac_eq(&p.dst_mac, &mac_b));
	ck_assert(sl_mac_eq(&p.src_mac, &mac_a));
	ck_assert_uint_eq(p.ethertype, SL_ETH_P_IPV4);
	ck_assert_uint_eq(p.has_vlan, 0);
	ck_assert_uint_eq(p.l4_proto, SL_IPPROTO_ICMP);
	ck_assert_uint_eq(p.ttl, 64);
	ck_assert_uint_eq(p.tos, 0);
	ck_assert_uint_eq(p.src_ip, IP_A);
	ck_assert_uint_eq(p.dst_ip, IP_B);
	ck_assert_uint_eq(p.l3_off, 14);
	ck_assert_uint_eq(p.l3_len, 84);
	ck_assert_uint_eq(p.l4_off, 34);
	ck_assert_uint_eq(p.l4_len, 64);
	ck_assert_uint_eq(p.icmp.type, SL_ICMP_ECHO_REQUEST);
	ck_assert_uint_eq(p.icmp.code, 0);
	ck_assert_uint_eq(p.icmp.id, 0x1c2f);
	ck_assert_uint_eq(p.icmp.seq, 1);
	ck_assert_uint_eq(p.payload_off, 42);
	ck_assert_uint_eq(p.payload_len, 56);
	ck_assert_uint_eq(icmp_echo_ping[p.payload_off + 16], 0x10);
}
END_TEST

static void assert_udp_sl(const sl_pkt_t *p, uint16_t l3_off)
{
	ck_assert(sl_mac_eq(&p->dst_mac, &mac_b));
	ck_assert(sl_mac_eq(&p->src_mac, &mac_a));
	ck_assert_uint_eq(p->ethertype, SL_ETH_P_IPV4);
	ck_assert_uint_eq(p->l4_proto, SL_IPPROTO_UDP);
	ck_assert_uint_eq(p->ttl, 64);
	ck_assert_uint_eq(p->src_ip, IP_A);
	ck_assert_uint_eq(p->dst_ip, IP_B);
	ck_assert_uint_eq(p->l3_off, l3_off);
	ck_assert_uint_eq(p->l3_len, 60);
	ck_assert_uint_eq(p->l4_off, l3_off + 20);
	ck_assert_uint_eq(p->l4_len, 40);
	ck_assert_uint_eq(p->udp.src_port, 40000);
	ck_assert_uint_eq(p->udp.dst_port, 9747);
	ck_assert_uint_eq(p->udp.csum, 0xc818);
	ck_assert_uint_eq(p->payload_off, l3_off + 28);
	ck_assert_uint_eq(p->payload_len, 32);
}

START_TEST(test_parse_udp)
{
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(udp_sl, sizeof udp_sl, &p), SL_NET_OK);
	ck_assert_uint_eq(p.has_vlan, 0);
	assert_udp_sl(&p, 14);
	ck_assert_uint_eq(udp_sl[p.payload_off], 'S');
	ck_assert_uint_eq(udp_sl[p.payload_off + 1], 'L');
}
END_TEST

START_TEST(test_parse_udp_vlan)
{
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(udp_sl_vlan, sizeof udp_sl_vlan, &p), SL_NET_OK);
	ck_assert_uint_eq(p.has_vlan, 1);
	ck_assert_uint_eq(p.vlan_tci, 0x2064);
	ck_assert_uint_eq(p.vlan_tci & 0x0fff, 100);
	assert_udp_sl(&p, 18);
	ck_assert_uint_eq(udp_sl_vlan[p.payload_off], 'S');
}
END_TEST

START_TEST(test_parse_udp_zero_csum_not_verified)
{
	uint8_t f[sizeof udp_sl];
	memcpy(f, udp_sl, sizeof f);
	put16(f + 40, 0);
	f[60] ^= 0x55; /* payload changed: with csum 0 nobody can tell */
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(f, sizeof f, &p), SL_NET_OK);
	ck_assert_uint_eq(p.udp.csum, 0);
}
END_TEST

START_TEST(test_parse_ignores_eth_padding)
{
	/* an 18-byte UDP datagram padded to 60 bytes with junk */
	uint8_t f[60];
	memcpy(f, udp_sl, 42 + 4);
	put16(f + 16, 20 + 8 + 4);
	put16(f + 38, 8 + 4);
	fix_ip(f + 14);
	fix_l4(f + 14);
	memset(f + 46, 0xa5, 14);
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(f, sizeof f, &p), SL_NET_OK);
	ck_assert_uint_eq(p.l3_len, 32);
	ck_assert_uint_eq(p.payload_len, 4);
	ck_assert_uint_eq(p.payload_off + p.payload_len, 46);
}
END_TEST

/* ---- parse: one test per error -------------------------------------------- */

START_TEST(test_err_eth_short)
{
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(udp_sl, 0, &p), SL_NET_ERR_ETH_SHORT);
	ck_assert_int_eq(parse_copy(udp_sl, 13, &p), SL_NET_ERR_ETH_SHORT);
	/* tagged, but the tag is cut */
	ck_assert_int_eq(parse_copy(udp_sl_vlan, 17, &p), SL_NET_ERR_ETH_SHORT);
	/* exactly an Ethernet header of IPv4: the IP layer is what is short */
	ck_assert_int_eq(parse_copy(udp_sl, 14, &p), SL_NET_ERR_IP_SHORT);
}
END_TEST

START_TEST(test_err_vlan_stacked)
{
	uint8_t f[sizeof udp_sl_vlan + 4];
	memcpy(f, udp_sl_vlan, 16);
	f[16] = 0x81, f[17] = 0x00, f[18] = 0x00, f[19] = 0x05; /* inner C-tag */
	memcpy(f + 20, udp_sl_vlan + 16, sizeof udp_sl_vlan - 16);
	sl_pkt_t p;
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_VLAN_STACKED);
	f[12] = 0x88, f[13] = 0xa8; /* 802.1ad outer + 802.1Q inner (QinQ) */
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_VLAN_STACKED);
}
END_TEST

START_TEST(test_err_eth_type)
{
	uint8_t f[sizeof udp_sl];
	memcpy(f, udp_sl, sizeof f);
	f[12] = 0x86, f[13] = 0xdd; /* IPv6 */
	sl_pkt_t p;
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_ETH_TYPE);
	uint8_t g[sizeof udp_sl_vlan];
	memcpy(g, udp_sl_vlan, sizeof g);
	g[16] = 0x88, g[17] = 0xcc; /* LLDP behind a tag */
	ck_assert_int_eq(parse_copy(g, sizeof g, &p), SL_NET_ERR_ETH_TYPE);
}
END_TEST

START_TEST(test_err_arp_malformed)
{
	sl_pkt_t p;
	uint8_t f[sizeof arp_req_linux];
	ck_assert_int_eq(parse_copy(arp_req_linux, 14 + 27, &p), SL_NET_ERR_ARP_MALFORMED);
	ck_assert_int_eq(parse_copy(arp_req_linux, 14, &p), SL_NET_ERR_ARP_MALFORMED);
	static const struct {
		int off;
		uint8_t val;
	} bad[] = {
	    {15, 6},    /* htype 6 (IEEE 802) */
	    {16, 0x86}, /* ptype 0x8600 */
	    {18, 8},    /* hlen 8 */
	    {19, 16},   /* plen 16 */
	    {21, 0},    /* op 0 */
	    {21, 3},    /* op 3 (RARP request) */
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		memcpy(f, arp_req_linux, sizeof f);
		f[bad[i].off] = bad[i].val;
		ck_assert_msg(parse_copy(f, sizeof f, &p) == SL_NET_ERR_ARP_MALFORMED, "case %zu",
		              i);
	}
	/* op 2 (reply) is fine */
	memcpy(f, arp_req_linux, sizeof f);
	f[21] = 2;
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_OK);
	ck_assert_uint_eq(p.arp.op, SL_ARP_OP_REPLY);
}
END_TEST

START_TEST(test_err_ip_short)
{
	sl_pkt_t p;
	ck_assert_int_eq(parse_copy(udp_sl, 14 + 19, &p), SL_NET_ERR_IP_SHORT);
	ck_assert_int_eq(parse_copy(udp_sl_vlan, 18 + 19, &p), SL_NET_ERR_IP_SHORT);
	ck_assert_int_eq(parse_copy(udp_sl_vlan, 18, &p), SL_NET_ERR_IP_SHORT);
}
END_TEST

START_TEST(test_err_ip_version)
{
	uint8_t f[sizeof udp_sl];
	memcpy(f, udp_sl, sizeof f);
	f[14] = 0x65;
	fix_ip(f + 14);
	sl_pkt_t p;
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_IP_VERSION);
}
END_TEST

START_TEST(test_err_ip_options)
{
	uint8_t f[sizeof udp_sl];
	memcpy(f, udp_sl, sizeof f);
	f[14] = 0x46; /* 4 bytes of options (frame long enough) */
	fix_ip(f + 14);
	sl_pkt_t p;
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_IP_OPTIONS);
	f[14] = 0x44; /* IHL below minimum */
	fix_ip(f + 14);
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_IP_OPTIONS);
}
END_TEST

START_TEST(test_err_ip_length)
{
	uint8_t f[sizeof udp_sl];
	sl_pkt_t p;
	memcpy(f, udp_sl, sizeof f);
	put16(f + 16, 19);
	fix_ip(f + 14);
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_IP_LENGTH);
	memcpy(f, udp_sl, sizeof f);
	put16(f + 16, 61); /* one more than the frame holds */
	fix_ip(f + 14);
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_IP_LENGTH);
	/* the intact frame, cut by one byte */
	ck_assert_int_eq(parse_copy(udp_sl, sizeof udp_sl - 1, &p), SL_NET_ERR_IP_LENGTH);
}
END_TEST

START_TEST(test_err_ip_csum)
{
	uint8_t f[sizeof udp_sl];
	memcpy(f, udp_sl, sizeof f);
	f[25] ^= 0x01;
	sl_pkt_t p;
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_IP_CSUM);
	memcpy(f, udp_sl, sizeof f);
	f[22] = 63; /* TTL changed, checksum not updated */
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_IP_CSUM);
}
END_TEST

START_TEST(test_err_ip_fragment)
{
	uint8_t f[sizeof udp_sl];
	sl_pkt_t p;
	static const uint16_t frag[] = {0x2000, 0x6000, 0x0001, 0x4001, 0x1fff, 0x20b9};
	for (size_t i = 0; i < SL_ARRAY_LEN(frag); i++) {
		memcpy(f, udp_sl, sizeof f);
		put16(f + 20, frag[i]);
		fix_ip(f + 14);
		ck_assert_msg(parse_copy(f, sizeof f, &p) == SL_NET_ERR_IP_FRAGMENT,
		              "flags/offset 0x%04x", frag[i]);
	}
	memcpy(f, udp_sl, sizeof f);
	put16(f + 20, 0x0000); /* DF clear, not a fragment: fine */
	fix_ip(f + 14);
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_OK);
}
END_TEST

START_TEST(test_err_ip_proto)
{
	uint8_t f[sizeof udp_sl];
	sl_pkt_t p;
	static const uint8_t protos[] = {0, 2, 6, 41, 47, 50, 132, 255};
	for (size_t i = 0; i < SL_ARRAY_LEN(protos); i++) {
		memcpy(f, udp_sl, sizeof f);
		f[23] = protos[i];
		fix_ip(f + 14);
		ck_assert_msg(parse_copy(f, sizeof f, &p) == SL_NET_ERR_IP_PROTO, "proto %u",
		              protos[i]);
	}
}
END_TEST

START_TEST(test_err_icmp_malformed)
{
	uint8_t f[sizeof icmp_echo_ping];
	sl_pkt_t p;
	for (uint16_t l4 = 0; l4 < 8; l4++) {
		memcpy(f, icmp_echo_ping, sizeof f);
		put16(f + 16, (uint16_t)(20 + l4));
		fix_ip(f + 14);
		ck_assert_msg(parse_copy(f, 34 + l4, &p) == SL_NET_ERR_ICMP_MALFORMED, "l4 %u", l4);
	}
}
END_TEST

START_TEST(test_err_icmp_csum)
{
	uint8_t f[sizeof icmp_echo_ping];
	sl_pkt_t p;
	memcpy(f, icmp_echo_ping, sizeof f);
	f[97] ^= 0x80; /* last data byte */
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_ICMP_CSUM);
	memcpy(f, icmp_echo_ping, sizeof f);
	f[34] = SL_ICMP_ECHO_REPLY; /* type changed, checksum not updated */
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_ICMP_CSUM);
	fix_l4(f + 14);
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_OK);
}
END_TEST

START_TEST(test_err_udp_short)
{
	uint8_t f[sizeof udp_sl];
	sl_pkt_t p;
	for (uint16_t l4 = 0; l4 < 8; l4++) {
		memcpy(f, udp_sl, sizeof f);
		put16(f + 16, (uint16_t)(20 + l4));
		fix_ip(f + 14);
		ck_assert_msg(parse_copy(f, 34 + l4, &p) == SL_NET_ERR_UDP_SHORT, "l4 %u", l4);
	}
}
END_TEST

START_TEST(test_err_udp_length)
{
	uint8_t f[sizeof udp_sl];
	sl_pkt_t p;
	static const uint16_t lens[] = {0, 7, 8, 39, 41, 0xffff};
	for (size_t i = 0; i < SL_ARRAY_LEN(lens); i++) {
		memcpy(f, udp_sl, sizeof f);
		put16(f + 38, lens[i]);
		fix_l4(f + 14); /* a correct checksum does not save it */
		ck_assert_msg(parse_copy(f, sizeof f, &p) == SL_NET_ERR_UDP_LENGTH, "len %u",
		              lens[i]);
	}
	/* IP says less than the frame holds (padding) and UDP agrees with IP: ok */
	memcpy(f, udp_sl, sizeof f);
	put16(f + 16, 20 + 8 + 30);
	put16(f + 38, 8 + 30);
	fix_ip(f + 14);
	fix_l4(f + 14);
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_OK);
	ck_assert_uint_eq(p.payload_len, 30);
	/* but UDP claiming the padding as its own is a length error */
	put16(f + 38, 8 + 32);
	fix_l4(f + 14);
	ck_assert_int_eq(parse_copy(f, sizeof f, &p), SL_NET_ERR_UDP_LENGTH);
}
END_TEST

START_TEST(test_err_udp_csum)
{
	uint8_t f[sizeof udp_sl_vlan];
	sl_pkt_t p;
	memcpy(f, udp_sl, sizeof udp_sl);
	f[73] ^= 0x01; /* last payload byte */
	ck_assert_int_eq(parse_copy(f, sizeof udp_sl, &p), SL_NET_ERR_UDP_CSUM);
	memcpy(f, udp_sl, sizeof udp_sl);
	f[29] ^= 0x01; /* source IP (pseudo-header) changed, IP csum fixed */
	fix_ip(f + 14);
	ck_assert_int_eq(parse_copy(f, sizeof udp_sl, &p), SL_NET_ERR_UDP_CSUM);
	memcpy(f, udp_sl_vlan, sizeof udp_sl_vlan);
	f[40] ^= 0x10; /* tagged: a port changed */
	ck_assert_int_eq(parse_copy(f, sizeof udp_sl_vlan, &p), SL_NET_ERR_UDP_CSUM);
}
END_TEST

START_TEST(test_err_names_map_to_drops)
{
	ck_assert_str_eq(sl_net_err_str(SL_NET_OK), "ok");
	ck_assert_str_eq(sl_net_err_str(SL_NET_ERR_CNT), "?");
	ck_assert_str_eq(sl_net_err_str(1000), "?");
	ck_assert_int_eq(sl_net_err_drop(SL_NET_OK), SL_DROP_CNT);
	for (unsigned e = 1; e < SL_NET_ERR_CNT; e++) {
		sl_drop_t d = sl_net_err_drop((sl_net_err_t)e);
		ck_assert_int_lt(d, SL_DROP_CNT);
		ck_assert_str_eq(sl_net_err_str(e), sl_drop_str(d));
	}
	ck_assert_str_eq(sl_net_err_str(SL_NET_ERR_UDP_CSUM), "udp_csum");
	ck_assert_int_eq(sl_net_err_drop(SL_NET_ERR_IP_FRAGMENT), SL_DROP_IP_FRAGMENT);
}
END_TEST

/* ---- checksums ------------------------------------------------------------ */

START_TEST(test_csum_classic_ipv4_header)
{
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	ck_assert_uint_eq(sl_net_csum(h, 20), 0xb861);
	h[10] = 0xb8, h[11] = 0x61;
	ck_assert_uint_eq(sl_net_csum(h, 20), 0);
	/* the fixtures' checksums, computed elsewhere */
	ck_assert_uint_eq(sl_net_csum(icmp_echo_ping + 14, 20), 0);
	ck_assert_uint_eq(sl_net_csum(icmp_echo_ping + 34, 64), 0);
	ck_assert_uint_eq(sl_net_csum(udp_sl + 14, 20), 0);
}
END_TEST

START_TEST(test_csum_rfc1071_example)
{
	/* RFC 1071 §3: sum of 0001 f203 f4f5 f6f7 is ddf2, checksum 220d */
	static const uint8_t b[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	ck_assert_uint_eq(sl_net_csum(b, 8), 0x220d);
	ck_assert_uint_eq(sl_net_csum(b, 0), 0xffff);
	/* odd length: the last byte is the high byte of a zero-padded word */
	static const uint8_t o[3] = {0x12, 0x34, 0x56};
	ck_assert_uint_eq(sl_net_csum(o, 3), (uint16_t) ~(0x1234 + 0x5600));
}
END_TEST

START_TEST(test_csum_matches_reference_random)
{
	uint32_t seed = test_seed();
	printf("test_csum_matches_reference_random: seed %u\n", seed);
	static uint8_t buf[2100];
	uint32_t s = seed;
	for (int it = 0; it < 20000; it++) {
		uint32_t off = xs32(&s) % 8, len = xs32(&s) % 2049;
		int fill = (int)(xs32(&s) % 3); /* random, all 0xff, all 0 */
		for (uint32_t i = 0; i < len; i++)
			buf[off + i] = fill == 0 ? (uint8_t)xs32(&s) : fill == 1 ? 0xff : 0;
		ck_assert_msg(sl_net_csum(buf + off, len) == ref_csum(buf + off, len),
		              "seed %u it %d len %u off %u", seed, it, len, off);
	}
}
END_TEST

START_TEST(test_udp_csum_pseudo_header_and_never_zero)
{
	/* the fixture's checksum, from its pieces */
	uint8_t u[40];
	memcpy(u, udp_sl + 34, 40);
	put16(u + 6, 0);
	ck_assert_uint_eq(sl_net_udp_csum(IP_A, IP_B, u, 40), 0xc818);
	/* a datagram whose checksum computes to 0 is sent as 0xffff */
	uint8_t z[10] = {0x9c, 0x40, 0x26, 0x13, 0x00, 0x0a, 0, 0, 0, 0};
	uint16_t c = sl_net_udp_csum(IP_A, IP_B, z, 10);
	put16(z + 8, c); /* payload word = checksum of the rest: sum becomes -0 */
	ck_assert_uint_eq(sl_net_udp_csum(IP_A, IP_B, z, 10), 0xffff);
	/* and such a frame verifies */
	uint8_t f[14 + 20 + 10];
	memcpy(f, udp_sl, 34);
	put16(f + 16, 30);
	fix_ip(f + 14);
	memcpy(f + 34, z, 10);
	put16(f + 40, 0xffff);
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(f, sizeof f, &p), SL_NET_OK);
	ck_assert_uint_eq(p.udp.csum, 0xffff);
}
END_TEST

/* ---- build -> parse round trips ---------------------------------------------- */

START_TEST(test_arp_reply_round_trip)
{
	sl_pkt_t req, rep;
	uint8_t buf[64];
	ck_assert_int_eq(sl_net_parse(arp_req_linux, sizeof arp_req_linux, &req), SL_NET_OK);
	ck_assert_uint_eq(sl_net_build_arp_reply(buf, 41, &req, &mac_b, IP_B), 0);
	ck_assert_uint_eq(sl_net_build_arp_reply(buf, sizeof buf, &req, &mac_b, IP_B), 42);
	ck_assert_int_eq(sl_net_parse(buf, 42, &rep), SL_NET_OK);
	ck_assert(sl_mac_eq(&rep.dst_mac, &mac_a));
	ck_assert(sl_mac_eq(&rep.src_mac, &mac_b));
	ck_assert_uint_eq(rep.has_vlan, 0);
	ck_assert_uint_eq(rep.arp.op, SL_ARP_OP_REPLY);
	ck_assert(sl_mac_eq(&rep.arp.sha, &mac_b));
	ck_assert_uint_eq(rep.arp.spa, IP_B);
	ck_assert(sl_mac_eq(&rep.arp.tha, &mac_a));
	ck_assert_uint_eq(rep.arp.tpa, IP_A);

	/* tagged request, answered in place in its own buffer: tag kept */
	uint8_t t[64];
	memcpy(t, arp_req_linux, 12);
	t[12] = 0x81, t[13] = 0x00, t[14] = 0x00, t[15] = 0x2a;
	memcpy(t + 16, arp_req_linux + 12, 30);
	ck_assert_int_eq(sl_net_parse(t, 46, &req), SL_NET_OK);
	ck_assert_uint_eq(sl_net_build_arp_reply(t, sizeof t, &req, &mac_b, IP_B), 46);
	ck_assert_int_eq(sl_net_parse(t, 46, &rep), SL_NET_OK);
	ck_assert_uint_eq(rep.has_vlan, 1);
	ck_assert_uint_eq(rep.vlan_tci, 42);
	ck_assert_uint_eq(rep.arp.op, SL_ARP_OP_REPLY);
	ck_assert_uint_eq(rep.arp.tpa, IP_A);
	ck_assert(sl_mac_eq(&rep.dst_mac, &mac_a));

	/* a reply is never answered; nor is a non-ARP frame */
	ck_assert_uint_eq(sl_net_build_arp_reply(buf, sizeof buf, &rep, &mac_b, IP_B), 0);
	ck_assert_int_eq(sl_net_parse(udp_sl, sizeof udp_sl, &req), SL_NET_OK);
	ck_assert_uint_eq(sl_net_build_arp_reply(buf, sizeof buf, &req, &mac_b, IP_B), 0);
}
END_TEST

START_TEST(test_arp_request_round_trip)
{
	uint8_t buf[64];
	sl_pkt_t p;
	ck_assert_uint_eq(sl_net_build_arp_request(buf, 41, &mac_b, IP_B, IP_A, 0), 0);
	ck_assert_uint_eq(sl_net_build_arp_request(buf, 42, &mac_b, IP_B, IP_A, 0), 42);
	/* byte-exact against the Linux request with A and B swapped */
	uint8_t want[42];
	memcpy(want, arp_req_linux, 42);
	memcpy(want + 6, mac_b.b, 6);
	memcpy(want + 22, mac_b.b, 6);
	want[31] = 0x02, want[41] = 0x01;
	ck_assert_mem_eq(buf, want, 42);
	ck_assert_int_eq(sl_net_parse(buf, 42, &p), SL_NET_OK);
	ck_assert(sl_mac_is_bcast(&p.dst_mac));
	ck_assert_uint_eq(p.arp.op, SL_ARP_OP_REQUEST);
	ck_assert_uint_eq(p.arp.spa, IP_B);
	ck_assert_uint_eq(p.arp.tpa, IP_A);

	ck_assert_uint_eq(sl_net_build_arp_request(buf, 45, &mac_b, IP_B, IP_A, 7), 0);
	ck_assert_uint_eq(sl_net_build_arp_request(buf, 46, &mac_b, IP_B, IP_A, 7), 46);
	ck_assert_int_eq(sl_net_parse(buf, 46, &p), SL_NET_OK);
	ck_assert_uint_eq(p.has_vlan, 1);
	ck_assert_uint_eq(p.vlan_tci, 7);
	ck_assert(sl_mac_eq(&p.arp.sha, &mac_b));
	ck_assert_uint_eq(p.arp.tpa, IP_A);
}
END_TEST

static void assert_echo_reply(const uint8_t *rep, uint32_t n, const uint8_t *req_frame,
                              const sl_pkt_t *req)
{
	sl_pkt_t p;
	ck_assert_uint_eq(n, (uint32_t)req->l3_off + req->l3_len);
	ck_assert_int_eq(sl_net_parse(rep, n, &p), SL_NET_OK);
	ck_assert(sl_mac_eq(&p.dst_mac, &req->src_mac));
	ck_assert(sl_mac_eq(&p.src_mac, &mac_b));
	ck_assert_uint_eq(p.has_vlan, req->has_vlan);
	ck_assert_uint_eq(p.vlan_tci, req->vlan_tci);
	ck_assert_uint_eq(p.src_ip, req->dst_ip);
	ck_assert_uint_eq(p.dst_ip, req->src_ip);
	ck_assert_uint_eq(p.ttl, SL_NET_TTL);
	ck_assert_uint_eq(p.icmp.type, SL_ICMP_ECHO_REPLY);
	ck_assert_uint_eq(p.icmp.code, 0);
	ck_assert_uint_eq(p.icmp.id, req->icmp.id);
	ck_assert_uint_eq(p.icmp.seq, req->icmp.seq);
	ck_assert_uint_eq(p.payload_len, req->payload_len);
	ck_assert_mem_eq(rep + p.payload_off, req_frame + req->payload_off, p.payload_len);
	ck_assert_uint_eq(ref_csum(rep + p.l4_off, p.l4_len), 0);
	ck_assert_uint_eq(ref_csum(rep + p.l3_off, 20), 0);
}

START_TEST(test_icmp_echo_reply_round_trip)
{
	sl_pkt_t req;
	uint8_t buf[128];
	ck_assert_int_eq(sl_net_parse(icmp_echo_ping, sizeof icmp_echo_ping, &req), SL_NET_OK);
	ck_assert_uint_eq(sl_net_build_icmp_echo_reply(buf, 97, icmp_echo_ping, &req, &mac_b), 0);
	uint32_t n = sl_net_build_icmp_echo_reply(buf, sizeof buf, icmp_echo_ping, &req, &mac_b);
	assert_echo_reply(buf, n, icmp_echo_ping, &req);

	/* in place, from a request padded with junk on the wire */
	uint8_t f[128], orig[128];
	memcpy(f, icmp_echo_ping, 98);
	memset(f + 98, 0xee, 30);
	memcpy(orig, f, sizeof f);
	ck_assert_int_eq(sl_net_parse(f, sizeof f, &req), SL_NET_OK);
	n = sl_net_build_icmp_echo_reply(f, sizeof f, f, &req, &mac_b);
	ck_assert_uint_eq(n, 98);
	assert_echo_reply(f, n, orig, &req);

	/* not an echo request: no reply (an echo reply, UDP, ARP) */
	ck_assert_int_eq(sl_net_parse(f, n, &req), SL_NET_OK);
	ck_assert_uint_eq(sl_net_build_icmp_echo_reply(buf, sizeof buf, f, &req, &mac_b), 0);
	ck_assert_int_eq(sl_net_parse(udp_sl, sizeof udp_sl, &req), SL_NET_OK);
	ck_assert_uint_eq(sl_net_build_icmp_echo_reply(buf, sizeof buf, udp_sl, &req, &mac_b), 0);
	ck_assert_int_eq(sl_net_parse(arp_req_linux, sizeof arp_req_linux, &req), SL_NET_OK);
	ck_assert_uint_eq(
	    sl_net_build_icmp_echo_reply(buf, sizeof buf, arp_req_linux, &req, &mac_b), 0);
}
END_TEST

START_TEST(test_icmp_echo_reply_random)
{
	/* random sizes, ids and data, tagged or not: the incremental checksum
	   must always verify (including its 0x0000 / 0xffff corners) */
	uint32_t seed = test_seed();
	printf("test_icmp_echo_reply_random: seed %u\n", seed);
	uint32_t s = seed;
	static uint8_t f[1600], r[1600];
	for (int it = 0; it < 5000; it++) {
		bool tagged = xs32(&s) & 1;
		uint32_t l3 = tagged ? 18 : 14, dlen = xs32(&s) % 1473;
		memcpy(f, icmp_echo_ping, 12);
		if (tagged) {
			put16(f + 12, SL_ETH_P_VLAN);
			put16(f + 14, (uint16_t)(xs32(&s) & 0xfff));
		}
		put16(f + l3 - 2, SL_ETH_P_IPV4);
		memcpy(f + l3, icmp_echo_ping + 14, 20);
		put16(f + l3 + 2, (uint16_t)(28 + dlen));
		put16(f + l3 + 4, (uint16_t)xs32(&s));
		f[l3 + 8] = (uint8_t)xs32(&s);
		fix_ip(f + l3);
		uint8_t *c = f + l3 + 20;
		c[0] = 8, c[1] = 0;
		put16(c + 4, (uint16_t)xs32(&s));
		put16(c + 6, (uint16_t)xs32(&s));
		for (uint32_t i = 0; i < dlen; i++)
			c[8 + i] = (uint8_t)xs32(&s);
		fix_l4(f + l3);
		uint32_t len = l3 + 28 + dlen;
		sl_pkt_t req;
		ck_assert_msg(sl_net_parse(f, len, &req) == SL_NET_OK, "seed %u it %d", seed, it);
		uint32_t n = sl_net_build_icmp_echo_reply(r, sizeof r, f, &req, &mac_b);
		assert_echo_reply(r, n, f, &req);
	}
}
END_TEST

static void udp_round_trip(uint16_t plen, uint16_t tci)
{
	static uint8_t buf[2048];
	uint32_t off = sl_net_udp_payload_off(tci);
	ck_assert_uint_eq(off, tci ? 46u : 42u);
	for (uint32_t i = 0; i < plen; i++)
		buf[off + i] = (uint8_t)(i * 7 + 3);
	ck_assert_uint_eq(sl_net_build_udp(buf, off + plen - 1u, &mac_b, &mac_a, IP_B, IP_A, 9747,
	                                   40000, plen, tci),
	                  0);
	uint32_t n =
	    sl_net_build_udp(buf, off + plen, &mac_b, &mac_a, IP_B, IP_A, 9747, 40000, plen, tci);
	ck_assert_uint_eq(n, off + plen);
	sl_pkt_t p;
	ck_assert_msg(sl_net_parse(buf, n, &p) == SL_NET_OK, "plen %u tci %u", plen, tci);
	ck_assert(sl_mac_eq(&p.dst_mac, &mac_a));
	ck_assert(sl_mac_eq(&p.src_mac, &mac_b));
	ck_assert_uint_eq(p.has_vlan, tci != 0);
	ck_assert_uint_eq(p.vlan_tci, tci);
	ck_assert_uint_eq(p.src_ip, IP_B);
	ck_assert_uint_eq(p.dst_ip, IP_A);
	ck_assert_uint_eq(p.ttl, SL_NET_TTL);
	ck_assert_uint_eq(p.udp.src_port, 9747);
	ck_assert_uint_eq(p.udp.dst_port, 40000);
	ck_assert_uint_ne(p.udp.csum, 0); /* always computed (SPEC §1) */
	ck_assert_uint_eq(p.payload_off, off);
	ck_assert_uint_eq(p.payload_len, plen);
	for (uint32_t i = 0; i < plen; i++)
		ck_assert_uint_eq(buf[off + i], (uint8_t)(i * 7 + 3));
	/* checksum equals the independent reference */
	uint8_t save[2];
	memcpy(save, buf + p.l4_off + 6, 2);
	fix_l4(buf + p.l3_off);
	ck_assert_mem_eq(save, buf + p.l4_off + 6, 2);
}

START_TEST(test_udp_build_round_trip)
{
	static const uint16_t lens[] = {0, 1, 2, 31, 32, 1471, 1472};
	for (size_t i = 0; i < SL_ARRAY_LEN(lens); i++) {
		udp_round_trip(lens[i], SL_NET_VLAN_NONE);
		udp_round_trip(lens[i], 0x2064);
	}
}
END_TEST

START_TEST(test_udp_build_limits)
{
	static uint8_t big[70000];
	/* the largest IPv4 datagram fits; one more byte does not */
	uint16_t max = 0xffff - 28;
	ck_assert_uint_eq(
	    sl_net_build_udp(big, sizeof big, &mac_b, &mac_a, IP_B, IP_A, 1, 2, max, 0), 42u + max);
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(big, 42u + max, &p), SL_NET_OK);
	ck_assert_uint_eq(p.payload_len, max);
	ck_assert_uint_eq(sl_net_build_udp(big, sizeof big, &mac_b, &mac_a, IP_B, IP_A, 1, 2,
	                                   (uint16_t)(max + 1), 0),
	                  0);
	ck_assert_uint_eq(sl_net_build_udp(big, 0, &mac_b, &mac_a, IP_B, IP_A, 1, 2, 0, 0), 0);
}
END_TEST

START_TEST(test_udp_reply_inplace)
{
	static uint8_t f[2048];
	memcpy(f, udp_sl_vlan, sizeof udp_sl_vlan);
	sl_pkt_t rx, p;
	ck_assert_int_eq(sl_net_parse(f, sizeof udp_sl_vlan, &rx), SL_NET_OK);
	static const char reply[] = "PONG!";
	memcpy(f + rx.payload_off, reply, 5);
	ck_assert_uint_eq(sl_net_udp_reply_inplace(f, (uint32_t)rx.payload_off + 4, &rx, &mac_b, 5),
	                  0);
	uint32_t n = sl_net_udp_reply_inplace(f, sizeof f, &rx, &mac_b, 5);
	ck_assert_uint_eq(n, 18u + 28 + 5);
	ck_assert_int_eq(sl_net_parse(f, n, &p), SL_NET_OK);
	ck_assert(sl_mac_eq(&p.dst_mac, &mac_a));
	ck_assert(sl_mac_eq(&p.src_mac, &mac_b));
	ck_assert_uint_eq(p.vlan_tci, 0x2064);
	ck_assert_uint_eq(p.src_ip, IP_B);
	ck_assert_uint_eq(p.dst_ip, IP_A);
	ck_assert_uint_eq(p.udp.src_port, 9747);
	ck_assert_uint_eq(p.udp.dst_port, 40000);
	ck_assert_uint_eq(p.payload_len, 5);
	ck_assert_mem_eq(f + p.payload_off, reply, 5);

	/* a broadcast-addressed request still gets our unicast MAC as source */
	memcpy(f, udp_sl, sizeof udp_sl);
	memset(f, 0xff, 6);
	ck_assert_int_eq(sl_net_parse(f, sizeof udp_sl, &rx), SL_NET_OK);
	n = sl_net_udp_reply_inplace(f, sizeof f, &rx, &mac_b, 1472);
	ck_assert_uint_eq(n, 42u + 1472);
	ck_assert_int_eq(sl_net_parse(f, n, &p), SL_NET_OK);
	ck_assert(sl_mac_eq(&p.src_mac, &mac_b));
	ck_assert_uint_eq(p.has_vlan, 0);

	/* not UDP: refused */
	ck_assert_int_eq(sl_net_parse(icmp_echo_ping, sizeof icmp_echo_ping, &rx), SL_NET_OK);
	ck_assert_uint_eq(sl_net_udp_reply_inplace(f, sizeof f, &rx, &mac_b, 5), 0);
}
END_TEST

/* ---- fuzz ------------------------------------------------------------------- */

static void assert_bounds(const sl_pkt_t *p, uint32_t len, uint32_t seed, int it)
{
	ck_assert_msg(p->l3_off + (uint32_t)p->l3_len <= len, "seed %u it %d l3", seed, it);
	ck_assert_msg(p->l4_off + (uint32_t)p->l4_len <= len, "seed %u it %d l4", seed, it);
	ck_assert_msg(p->payload_off + (uint32_t)p->payload_len <= len, "seed %u it %d pl", seed,
	              it);
	ck_assert_msg(p->l3_off <= p->l4_off && p->l4_off <= p->payload_off, "seed %u it %d", seed,
	              it);
	if (p->ethertype == SL_ETH_P_IPV4)
		ck_assert_msg(p->l4_off + (uint32_t)p->l4_len == p->l3_off + (uint32_t)p->l3_len,
		              "seed %u it %d l4 end", seed, it);
}

START_TEST(test_fuzz_truncated_and_flipped)
{
	uint32_t seed = test_seed();
	printf("test_fuzz_truncated_and_flipped: seed %u\n", seed);
	uint32_t s = seed;
	static const struct {
		const uint8_t *f;
		uint32_t len;
	} base[] = {
	    {arp_req_linux, sizeof arp_req_linux},
	    {icmp_echo_ping, sizeof icmp_echo_ping},
	    {udp_sl, sizeof udp_sl},
	    {udp_sl_vlan, sizeof udp_sl_vlan},
	};
	unsigned ok = 0, per_err[SL_NET_ERR_CNT] = {0};
	for (int it = 0; it < 200000; it++) {
		uint32_t b = xs32(&s) % SL_ARRAY_LEN(base);
		uint32_t len = base[b].len;
		uint8_t work[128];
		memcpy(work, base[b].f, len);
		uint32_t flips = xs32(&s) % 4;
		for (uint32_t i = 0; i < flips; i++)
			work[xs32(&s) % len] ^= (uint8_t)(1u << (xs32(&s) % 8));
		uint32_t l3 = (work[12] == 0x81) ? 18 : 14;
		if ((xs32(&s) & 1) && len >= l3 + 20 && be16(work + l3 - 2) == SL_ETH_P_IPV4)
			fix_ip(work + l3); /* reach the deeper checks more often */
		if (xs32(&s) & 1)
			len = xs32(&s) % (len + 1);
		uint8_t *heap = malloc(len ? len : 1);
		memcpy(heap, work, len);
		sl_pkt_t p;
		sl_net_err_t e = sl_net_parse(heap, len, &p);
		ck_assert_msg((unsigned)e < SL_NET_ERR_CNT, "seed %u it %d", seed, it);
		per_err[e]++;
		if (e == SL_NET_OK) {
			ok++;
			assert_bounds(&p, len, seed, it);
		}
		free(heap);
	}
	printf("test_fuzz_truncated_and_flipped: %u ok", ok);
	for (unsigned e = 1; e < SL_NET_ERR_CNT; e++)
		printf(", %s %u", sl_net_err_str(e), per_err[e]);
	printf("\n");
	ck_assert_uint_gt(ok, 0);
}
END_TEST

/* ---- addressing helpers ------------------------------------------------------ */

/* The dialable rule both PEERS intake (dataplane) and the address book
   (ctrl) apply: the edges of every excluded block. */
START_TEST(test_ipv4_dialable_edges)
{
	static const struct {
		const char *ip;
		uint16_t port;
		bool ok;
	} c[] = {
	    {"0.0.0.0", 9747, false},     {"0.1.2.3", 9747, false},
	    {"1.0.0.0", 9747, true},      {"10.0.0.1", 0, false},
	    {"126.255.255.255", 1, true}, {"127.0.0.1", 9747, false},
	    {"128.0.0.0", 9747, true},    {"223.255.255.255", 9747, true},
	    {"224.0.0.1", 9747, false},   {"239.255.255.255", 9747, false},
	    {"240.0.0.1", 9747, false},   {"255.255.255.255", 9747, false},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		uint32_t ip;
		ck_assert_int_eq(sl_net_parse_ipv4(c[i].ip, &ip), 0);
		ck_assert_msg(sl_net_ipv4_dialable(ip, c[i].port) == c[i].ok, "%s:%u", c[i].ip,
		              c[i].port);
	}
}
END_TEST

START_TEST(test_same_subnet_and_mask)
{
	ck_assert_uint_eq(sl_net_prefix_mask(0), 0);
	ck_assert_uint_eq(sl_net_prefix_mask(24), 0xffffff00u);
	ck_assert_uint_eq(sl_net_prefix_mask(32), 0xffffffffu);
	ck_assert_uint_eq(sl_net_prefix_mask(40), 0xffffffffu);
	ck_assert(sl_net_same_subnet(IP_A, IP_B, 24));
	ck_assert(sl_net_same_subnet(IP_A, 0x0a6300ffu, 24));
	ck_assert(!sl_net_same_subnet(IP_A, 0x0a630101u, 24));
	ck_assert(sl_net_same_subnet(IP_A, 0x0a630101u, 23));
	ck_assert(!sl_net_same_subnet(IP_A, IP_B, 32));
	ck_assert(sl_net_same_subnet(IP_A, IP_A, 32));
	ck_assert(sl_net_same_subnet(IP_A, 0xc0a80001u, 0));
	ck_assert(!sl_net_same_subnet(IP_A, 0x8a630001u, 1));
}
END_TEST

START_TEST(test_parse_cidr_and_ipv4)
{
	uint32_t ip = 0;
	uint8_t len = 0;
	ck_assert_int_eq(sl_net_parse_cidr("10.99.0.2/24", &ip, &len), 0);
	ck_assert_uint_eq(ip, IP_B);
	ck_assert_uint_eq(len, 24);
	ck_assert_int_eq(sl_net_parse_cidr("255.255.255.255", &ip, &len), 0);
	ck_assert_uint_eq(ip, 0xffffffffu);
	ck_assert_uint_eq(len, 32);
	ck_assert_int_eq(sl_net_parse_cidr("0.0.0.0/0", &ip, &len), 0);
	ck_assert_uint_eq(ip, 0);
	ck_assert_uint_eq(len, 0);
	static const char *const bad[] = {
	    "",           "10.99.0.2/33",  "10.99.0.256/24", "10.99.0/24",
	    "10.99.0.2/", "10.99.0.2/24x", "1.2.3.4.5",      " 1.2.3.4",
	    "1..2.3",     "1234.1.1.1",    "1.2.3.4/-1",     "1.2.3.4/024",
	    "a.b.c.d",    "1.2.3.4 ",      "1.2.3.4/2 4",
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		ip = 0x11111111u, len = 99;
		ck_assert_msg(sl_net_parse_cidr(bad[i], &ip, &len) == -1, "'%s'", bad[i]);
		ck_assert_uint_eq(ip, 0x11111111u);
		ck_assert_uint_eq(len, 99);
	}
	ck_assert_int_eq(sl_net_parse_ipv4("10.99.0.1", &ip), 0);
	ck_assert_uint_eq(ip, IP_A);
	ck_assert_int_eq(sl_net_parse_ipv4("10.99.0.1/24", &ip), -1);
	char out[16];
	ck_assert_str_eq(sl_net_fmt_ipv4(IP_A, out), "10.99.0.1");
	ck_assert_str_eq(sl_net_fmt_ipv4(0xffffffffu, out), "255.255.255.255");
}
END_TEST

START_TEST(test_eth_for_us)
{
	sl_pkt_t p;
	ck_assert_int_eq(sl_net_parse(udp_sl, sizeof udp_sl, &p), SL_NET_OK);
	ck_assert(sl_net_eth_for_us(&p, &mac_b));
	ck_assert(!sl_net_eth_for_us(&p, &mac_a));
	ck_assert_int_eq(sl_net_parse(arp_req_linux, sizeof arp_req_linux, &p), SL_NET_OK);
	ck_assert(sl_net_eth_for_us(&p, &mac_a)); /* broadcast */
	p.dst_mac.b[5] = 0xfe;
	ck_assert(!sl_net_eth_for_us(&p, &mac_b));
}
END_TEST

static Suite *net_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_parse_arp_request_linux);
	tcase_add_test(tc, test_parse_icmp_echo_request_ping);
	tcase_add_test(tc, test_parse_udp);
	tcase_add_test(tc, test_parse_udp_vlan);
	tcase_add_test(tc, test_parse_udp_zero_csum_not_verified);
	tcase_add_test(tc, test_parse_ignores_eth_padding);
	tcase_add_test(tc, test_err_eth_short);
	tcase_add_test(tc, test_err_vlan_stacked);
	tcase_add_test(tc, test_err_eth_type);
	tcase_add_test(tc, test_err_arp_malformed);
	tcase_add_test(tc, test_err_ip_short);
	tcase_add_test(tc, test_err_ip_version);
	tcase_add_test(tc, test_err_ip_options);
	tcase_add_test(tc, test_err_ip_length);
	tcase_add_test(tc, test_err_ip_csum);
	tcase_add_test(tc, test_err_ip_fragment);
	tcase_add_test(tc, test_err_ip_proto);
	tcase_add_test(tc, test_err_icmp_malformed);
	tcase_add_test(tc, test_err_icmp_csum);
	tcase_add_test(tc, test_err_udp_short);
	tcase_add_test(tc, test_err_udp_length);
	tcase_add_test(tc, test_err_udp_csum);
	tcase_add_test(tc, test_err_names_map_to_drops);
	tcase_add_test(tc, test_csum_classic_ipv4_header);
	tcase_add_test(tc, test_csum_rfc1071_example);
	tcase_add_test(tc, test_csum_matches_reference_random);
	tcase_add_test(tc, test_udp_csum_pseudo_header_and_never_zero);
	tcase_add_test(tc, test_arp_reply_round_trip);
	tcase_add_test(tc, test_arp_request_round_trip);
	tcase_add_test(tc, test_icmp_echo_reply_round_trip);
	tcase_add_test(tc, test_icmp_echo_reply_random);
	tcase_add_test(tc, test_udp_build_round_trip);
	tcase_add_test(tc, test_udp_build_limits);
	tcase_add_test(tc, test_udp_reply_inplace);
	tcase_add_test(tc, test_fuzz_truncated_and_flipped);
	tcase_add_test(tc, test_same_subnet_and_mask);
	tcase_add_test(tc, test_ipv4_dialable_edges);
	tcase_add_test(tc, test_parse_cidr_and_ipv4);
	tcase_add_test(tc, test_eth_for_us);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(net_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
