/* sl_net.c — Ethernet / 802.1Q / ARP / IPv4 / UDP / ICMP parse and build.
   Contracts in sl_net.h.  Byte access is by explicit big-endian loads and
   stores (no casts of the frame to packed structs), so alignment never
   matters and the compiler still emits plain loads + bswap. */
#include "sl_net.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>

/* ---- byte access ----------------------------------------------------------- */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- checksums ------------------------------------------------------------- */

static inline uint32_t fold32(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

static inline uint16_t fold16(uint32_t s)
{
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* sum_be returns the folded ones-complement sum of big-endian 16-bit words
   of buf (odd tail padded with zero).  Summed in native 32-bit words, which
   is byte-order independent up to a final swap (RFC 1071 §2(B)). */
static uint16_t sum_be(const void *buf, uint32_t len)
{
	const uint8_t *p = buf;
	uint64_t s = 0;
	while (len >= 16) {
		uint32_t w[4];
		memcpy(w, p, 16);
		s += (uint64_t)w[0] + w[1] + w[2] + w[3];
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		s += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		s += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t h = 0;
		memcpy(&h, p, 1); /* first byte of a big-endian word, zero second */
		s += h;
	}
	return be16toh(fold16(fold32(s)));
}

/* sum_ip20: sum_be of a 20-byte IPv4 header, unrolled (every received
   frame's header is checked). */
static inline uint16_t sum_ip20(const uint8_t *ip)
{
	uint32_t w[5];
	memcpy(w, ip, sizeof w);
	uint64_t s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	return be16toh(fold16(fold32(s)));
}

uint16_t sl_net_csum(const void *buf, uint32_t len)
{
	return (uint16_t)~sum_be(buf, len);
}

static inline uint32_t pseudo_sum(uint32_t src_ip, uint32_t dst_ip, uint8_t proto, uint16_t len)
{
	return (src_ip >> 16) + (src_ip & 0xffff) + (dst_ip >> 16) + (dst_ip & 0xffff) + proto +
	       len;
}

uint16_t sl_net_udp_csum(uint32_t src_ip, uint32_t dst_ip, const void *udp, uint16_t udp_len)
{
	uint32_t s = pseudo_sum(src_ip, dst_ip, SL_IPPROTO_UDP, udp_len) + sum_be(udp, udp_len);
	uint16_t c = (uint16_t)~fold16(s);
	return c == 0 ? 0xffff : c;
}

/* ---- errors ---------------------------------------------------------------- */

const char *sl_net_err_str(unsigned err)
{
	static const char *const names[] = {"ok",
#define SL_NET_ERR_NAME(e, s) s,
	                                    SL_NET_ERR_LIST(SL_NET_ERR_NAME)
#undef SL_NET_ERR_NAME
	};
	_Static_assert(SL_ARRAY_LEN(names) == SL_NET_ERR_CNT, "one name per error");
	return err < SL_NET_ERR_CNT ? names[err] : "?";
}

/* ---- parse ----------------------------------------------------------------- */

static sl_net_err_t parse_arp(const uint8_t *a, uint32_t avail, uint32_t off, sl_pkt_t *out)
{
	if (SL_UNLIKELY(avail < SL_ARP_LEN))
		return SL_NET_ERR_ARP_MALFORMED;
	uint16_t op = rd16(a + 6);
	if (SL_UNLIKELY(rd16(a) != 1 || rd16(a + 2) != SL_ETH_P_IPV4 || a[4] != 6 || a[5] != 4 ||
	                (op != SL_ARP_OP_REQUEST && op != SL_ARP_OP_REPLY)))
		return SL_NET_ERR_ARP_MALFORMED;
	out->arp.op = op;
	memcpy(out->arp.sha.b, a + 8, 6);
	out->arp.spa = rd32(a + 14);
	memcpy(out->arp.tha.b, a + 18, 6);
	out->arp.tpa = rd32(a + 24);
	out->l4_proto = 0;
	out->l3_len = SL_ARP_LEN;
	out->l4_off = out->payload_off = (uint16_t)(off + SL_ARP_LEN);
	out->l4_len = out->payload_len = 0;
	return SL_NET_OK;
}

static sl_net_err_t parse_udp(const uint8_t *u, sl_pkt_t *out)
{
	uint16_t l4_len = out->l4_len;
	if (SL_UNLIKELY(l4_len < SL_UDP_HDR_LEN))
		return SL_NET_ERR_UDP_SHORT;
	if (SL_UNLIKELY(rd16(u + 4) != l4_len))
		return SL_NET_ERR_UDP_LENGTH;
	uint16_t csum = rd16(u + 6);
	if (csum != 0) {
		uint32_t s = pseudo_sum(out->src_ip, out->dst_ip, SL_IPPROTO_UDP, l4_len) +
		             sum_be(u, l4_len);
		if (SL_UNLIKELY(fold16(s) != 0xffff))
			return SL_NET_ERR_UDP_CSUM;
	}
	out->udp.src_port = rd16(u);
	out->udp.dst_port = rd16(u + 2);
	out->udp.csum = csum;
	out->payload_off = (uint16_t)(out->l4_off + SL_UDP_HDR_LEN);
	out->payload_len = (uint16_t)(l4_len - SL_UDP_HDR_LEN);
	return SL_NET_OK;
}

static sl_net_err_t parse_icmp(const uint8_t *c, sl_pkt_t *out)
{
	uint16_t l4_len = out->l4_len;
	if (SL_UNLIKELY(l4_len < SL_ICMP_HDR_LEN))
		return SL_NET_ERR_ICMP_MALFORMED;
	if (SL_UNLIKELY(sum_be(c, l4_len) != 0xffff))
		return SL_NET_ERR_ICMP_CSUM;
	out->icmp.type = c[0];
	out->icmp.code = c[1];
	out->icmp.id = rd16(c + 4);
	out->icmp.seq = rd16(c + 6);
	out->payload_off = (uint16_t)(out->l4_off + SL_ICMP_HDR_LEN);
	out->payload_len = (uint16_t)(l4_len - SL_ICMP_HDR_LEN);
	return SL_NET_OK;
}

static sl_net_err_t parse_ipv4(const uint8_t *ip, uint32_t avail, uint32_t off, sl_pkt_t *out)
{
	if (SL_UNLIKELY(avail < SL_IPV4_HDR_LEN))
		return SL_NET_ERR_IP_SHORT;
	if (SL_UNLIKELY((ip[0] >> 4) != 4))
		return SL_NET_ERR_IP_VERSION;
	if (SL_UNLIKELY((ip[0] & 0x0f) != 5))
		return SL_NET_ERR_IP_OPTIONS;
	uint16_t tot = rd16(ip + 2);
	if (SL_UNLIKELY(tot < SL_IPV4_HDR_LEN || tot > avail))
		return SL_NET_ERR_IP_LENGTH;
	if (SL_UNLIKELY(sum_ip20(ip) != 0xffff))
		return SL_NET_ERR_IP_CSUM;
	if (SL_UNLIKELY(rd16(ip + 6) & 0x3fff)) /* MF | fragment offset */
		return SL_NET_ERR_IP_FRAGMENT;
	uint8_t proto = ip[9];
	if (SL_UNLIKELY(proto != SL_IPPROTO_UDP && proto != SL_IPPROTO_ICMP))
		return SL_NET_ERR_IP_PROTO;
	out->tos = ip[1];
	out->ttl = ip[8];
	out->l4_proto = proto;
	out->src_ip = rd32(ip + 12);
	out->dst_ip = rd32(ip + 16);
	out->l3_len = tot;
	out->l4_off = (uint16_t)(off + SL_IPV4_HDR_LEN);
	out->l4_len = (uint16_t)(tot - SL_IPV4_HDR_LEN);
	const uint8_t *l4 = ip + SL_IPV4_HDR_LEN;
	return proto == SL_IPPROTO_UDP ? parse_udp(l4, out) : parse_icmp(l4, out);
}

static inline bool is_tag(uint16_t et)
{
	return et == SL_ETH_P_VLAN || et == SL_ETH_P_QINQ;
}

sl_net_err_t sl_net_parse(const uint8_t *frame, uint32_t len, sl_pkt_t *out)
{
	if (SL_UNLIKELY(len < SL_ETH_HDR_LEN))
		return SL_NET_ERR_ETH_SHORT;
	memcpy(out->dst_mac.b, frame, 6);
	memcpy(out->src_mac.b, frame + 6, 6);
	uint16_t et = rd16(frame + 12);
	uint32_t off = SL_ETH_HDR_LEN;
	out->has_vlan = 0;
	out->vlan_tci = 0;
	if (is_tag(et)) {
		if (SL_UNLIKELY(len < SL_ETH_HDR_LEN + SL_VLAN_HDR_LEN))
			return SL_NET_ERR_ETH_SHORT;
		out->has_vlan = 1;
		out->vlan_tci = rd16(frame + 14);
		et = rd16(frame + 16);
		off += SL_VLAN_HDR_LEN;
		if (SL_UNLIKELY(is_tag(et)))
			return SL_NET_ERR_VLAN_STACKED;
	}
	out->ethertype = et;
	out->l3_off = (uint16_t)off;
	if (SL_LIKELY(et == SL_ETH_P_IPV4))
		return parse_ipv4(frame + off, len - off, off, out);
	if (et == SL_ETH_P_ARP)
		return parse_arp(frame + off, len - off, off, out);
	return SL_NET_ERR_ETH_TYPE;
}

/* ---- build ----------------------------------------------------------------- */

/* write_eth writes the Ethernet header (+ tag when tagged) and returns the
   L3 offset. */
static uint32_t write_eth(uint8_t *buf, const sl_mac_t *dst, const sl_mac_t *src, bool tagged,
                          uint16_t tci, uint16_t ethertype)
{
	memcpy(buf, dst->b, 6);
	memcpy(buf + 6, src->b, 6);
	if (tagged) {
		wr16(buf + 12, SL_ETH_P_VLAN);
		wr16(buf + 14, tci);
		wr16(buf + 16, ethertype);
		return SL_ETH_HDR_LEN + SL_VLAN_HDR_LEN;
	}
	wr16(buf + 12, ethertype);
	return SL_ETH_HDR_LEN;
}

static void write_arp(uint8_t *a, uint16_t op, const sl_mac_t *sha, uint32_t spa,
                      const sl_mac_t *tha, uint32_t tpa)
{
	wr16(a, 1);
	wr16(a + 2, SL_ETH_P_IPV4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, sha->b, 6);
	wr32(a + 14, spa);
	memcpy(a + 18, tha->b, 6);
	wr32(a + 24, tpa);
}

/* write_ipv4 writes a 20-byte header (DF, TTL SL_NET_TTL) with its
   checksum, summed from the field values (the header's ten words), not by
   a pass over the bytes just written: checksums took a tenth of the
   PING -> PONG path's samples. */
static void write_ipv4(uint8_t *ip, uint16_t tot, uint16_t id, uint8_t proto, uint32_t src,
                       uint32_t dst)
{
	uint32_t sum = 0x4500u + tot + id + 0x4000u + ((uint32_t)SL_NET_TTL << 8 | proto) +
	               (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu);
	ip[0] = 0x45;
	ip[1] = 0;
	wr16(ip + 2, tot);
	wr16(ip + 4, id);
	wr16(ip + 6, 0x4000); /* DF */
	ip[8] = SL_NET_TTL;
	ip[9] = proto;
	wr16(ip + 10, (uint16_t)~fold16(sum));
	wr32(ip + 12, src);
	wr32(ip + 16, dst);
}

uint32_t sl_net_build_arp_reply(uint8_t *buf, uint32_t cap, const sl_pkt_t *req,
                                const sl_mac_t *our_mac, uint32_t our_ip)
{
	uint32_t need = SL_ETH_HDR_LEN + (req->has_vlan ? SL_VLAN_HDR_LEN : 0) + SL_ARP_LEN;
	if (SL_UNLIKELY(req->ethertype != SL_ETH_P_ARP || req->arp.op != SL_ARP_OP_REQUEST ||
	                cap < need))
		return 0;
	const sl_mac_t to = req->arp.sha; /* copies: req may live in buf */
	const uint32_t to_ip = req->arp.spa;
	uint32_t off = write_eth(buf, &to, our_mac, req->has_vlan, req->vlan_tci, SL_ETH_P_ARP);
	write_arp(buf + off, SL_ARP_OP_REPLY, our_mac, our_ip, &to, to_ip);
	return need;
}

uint32_t sl_net_build_arp_request(uint8_t *buf, uint32_t cap, const sl_mac_t *our_mac,
                                  uint32_t our_ip, uint32_t target_ip, uint16_t vlan_tci)
{
	static const sl_mac_t bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	static const sl_mac_t zero = {{0}};
	bool tagged = vlan_tci != SL_NET_VLAN_NONE;
	uint32_t need = SL_ETH_HDR_LEN + (tagged ? SL_VLAN_HDR_LEN : 0) + SL_ARP_LEN;
	if (SL_UNLIKELY(cap < need))
		return 0;
	uint32_t off = write_eth(buf, &bcast, our_mac, tagged, vlan_tci, SL_ETH_P_ARP);
	write_arp(buf + off, SL_ARP_OP_REQUEST, our_mac, our_ip, &zero, target_ip);
	return need;
}

uint32_t sl_net_build_icmp_echo_reply(uint8_t *buf, uint32_t cap, const uint8_t *req_frame,
                                      const sl_pkt_t *req, const sl_mac_t *our_mac)
{
	uint32_t n = (uint32_t)req->l3_off + req->l3_len;
	if (SL_UNLIKELY(req->ethertype != SL_ETH_P_IPV4 || req->l4_proto != SL_IPPROTO_ICMP ||
	                req->icmp.type != SL_ICMP_ECHO_REQUEST || req->icmp.code != 0 || cap < n))
		return 0;
	const sl_mac_t to = req->src_mac;
	if (buf != req_frame)
		memcpy(buf, req_frame, n);
	memcpy(buf, to.b, 6);
	memcpy(buf + 6, our_mac->b, 6);

	uint8_t *ip = buf + req->l3_off;
	ip[8] = SL_NET_TTL;
	wr32(ip + 12, req->dst_ip);
	wr32(ip + 16, req->src_ip);
	wr16(ip + 10, 0);
	wr16(ip + 10, sl_net_csum(ip, SL_IPV4_HDR_LEN));

	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), m = type|code word. */
	uint8_t *icmp = buf + req->l4_off;
	uint16_t m_old = rd16(icmp), m_new = (uint16_t)(SL_ICMP_ECHO_REPLY << 8 | icmp[1]);
	uint32_t s = (uint16_t)~rd16(icmp + 2) + (uint32_t)(uint16_t)~m_old + m_new;
	icmp[0] = SL_ICMP_ECHO_REPLY;
	wr16(icmp + 2, (uint16_t)~fold16(s));
	return n;
}

/* write_udp fills Ethernet / IPv4 / UDP in front of the payload at
   l3_off + 28 and returns the frame length (caller checked cap). */
static uint32_t write_udp(uint8_t *buf, const sl_mac_t *src_mac, const sl_mac_t *dst_mac,
                          uint32_t src_ip, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                          uint16_t payload_len, bool tagged, uint16_t tci)
{
	uint32_t off = write_eth(buf, dst_mac, src_mac, tagged, tci, SL_ETH_P_IPV4);
	uint16_t udp_len = (uint16_t)(SL_UDP_HDR_LEN + payload_len);
	write_ipv4(buf + off, (uint16_t)(SL_IPV4_HDR_LEN + udp_len), 0, SL_IPPROTO_UDP, src_ip,
	           dst_ip);
	uint8_t *u = buf + off + SL_IPV4_HDR_LEN;
	wr16(u, src_port);
	wr16(u + 2, dst_port);
	wr16(u + 4, udp_len);
	wr16(u + 6, 0);
	wr16(u + 6, sl_net_udp_csum(src_ip, dst_ip, u, udp_len));
	return off + SL_IPV4_HDR_LEN + udp_len;
}

static inline bool udp_fits(uint32_t payload_off, uint16_t payload_len, uint32_t cap)
{
	return payload_len <= 0xffff - SL_IPV4_HDR_LEN - SL_UDP_HDR_LEN &&
	       payload_off + payload_len <= cap;
}

uint32_t sl_net_build_udp(uint8_t *buf, uint32_t cap, const sl_mac_t *src_mac,
                          const sl_mac_t *dst_mac, uint32_t src_ip, uint32_t dst_ip,
                          uint16_t src_port, uint16_t dst_port, uint16_t payload_len,
                          uint16_t vlan_tci)
{
	if (SL_UNLIKELY(!udp_fits(sl_net_udp_payload_off(vlan_tci), payload_len, cap)))
		return 0;
	return write_udp(buf, src_mac, dst_mac, src_ip, dst_ip, src_port, dst_port, payload_len,
	                 vlan_tci != SL_NET_VLAN_NONE, vlan_tci);
}

uint32_t sl_net_udp_reply_inplace(uint8_t *frame, uint32_t cap, const sl_pkt_t *rx,
                                  const sl_mac_t *our_mac, uint16_t payload_len)
{
	if (SL_UNLIKELY(rx->ethertype != SL_ETH_P_IPV4 || rx->l4_proto != SL_IPPROTO_UDP ||
	                !udp_fits(rx->payload_off, payload_len, cap)))
		return 0;
	const sl_mac_t to = rx->src_mac;
	return write_udp(frame, our_mac, &to, rx->dst_ip, rx->src_ip, rx->udp.dst_port,
	                 rx->udp.src_port, payload_len, rx->has_vlan, rx->vlan_tci);
}

/* ---- addressing helpers ---------------------------------------------------- */

int sl_net_parse_ipv4(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return -1;
		uint32_t octet = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			octet = octet * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || octet > 255)
			return -1;
		v = v << 8 | octet;
	}
	if (*s != '\0')
		return -1;
	*ip = v;
	return 0;
}

int sl_net_parse_cidr(const char *s, uint32_t *ip, uint8_t *prefix_len)
{
	char addr[16];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	uint32_t v;
	if (sl_net_parse_ipv4(addr, &v) != 0)
		return -1;
	unsigned plen = 32;
	if (slash) {
		const char *p = slash + 1;
		if (!(p[0] >= '0' && p[0] <= '9'))
			return -1;
		plen = (unsigned)(p[0] - '0');
		if (p[1] >= '0' && p[1] <= '9') {
			plen = plen * 10 + (unsigned)(p[1] - '0');
			p++;
		}
		if (p[1] != '\0' || plen > 32)
			return -1;
	}
	*ip = v;
	*prefix_len = (uint8_t)plen;
	return 0;
}

char *sl_net_fmt_ipv4(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	return out;
}
