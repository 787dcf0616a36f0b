/* sl_net.h — Ethernet / 802.1Q / ARP / IPv4 / UDP / ICMP parse and build
   (SPEC.md §1), with RFC 1071 checksums.  Part of libsluice.
   Operates on plain byte buffers, never on rte_mbuf, so it runs without EAL;
   nothing allocates, nothing logs, nothing is shared: every call is
   reentrant.  Callers: the dataplane RX path (parse, once per frame) and
   its neighbour / TX code (build).  IPv4 addresses and ports are host order
   everywhere in this API; frames are network order.

   What the parser checks: the shape of each header, lengths against the
   frame, the IPv4 header checksum, ICMP checksum, UDP checksum (when
   non-zero), no IP options, no fragments.  What it does not check (the
   dataplane does, with its own drop reasons): destination MAC / IP / port,
   ARP target, ICMP type. */
#ifndef SL_NET_H
#define SL_NET_H

#include "sl_base.h"
#include "sl_counters.h"

/* ---- wire constants ------------------------------------------------------ */

#define SL_ETH_P_IPV4        0x0800
#define SL_ETH_P_ARP         0x0806
#define SL_ETH_P_VLAN        0x8100 /* 802.1Q */
#define SL_ETH_P_QINQ        0x88a8 /* 802.1ad: treated as a second tag */
#define SL_IPPROTO_ICMP      1
#define SL_IPPROTO_UDP       17
#define SL_ICMP_ECHO_REPLY   0
#define SL_ICMP_ECHO_REQUEST 8
#define SL_ARP_OP_REQUEST    1
#define SL_ARP_OP_REPLY      2

#define SL_ETH_HDR_LEN  14
#define SL_VLAN_HDR_LEN 4
#define SL_ARP_LEN      28 /* Ethernet/IPv4 ARP body */
#define SL_IPV4_HDR_LEN 20
#define SL_UDP_HDR_LEN  8
#define SL_ICMP_HDR_LEN 8
#define SL_NET_TTL      64 /* TTL of every IPv4 packet we build */

/* vlan_tci value meaning "untagged" in the build calls.  (A TCI of 0 is a
   priority tag with priority 0 and VLAN 0, i.e. the same as no tag.) */
#define SL_NET_VLAN_NONE 0

/* ---- parse errors ----------------------------------------------------------
   X(ENUM_SUFFIX, "name").  Each suffix is also an sl_drop_t suffix
   (sl_counters.h) with the same name, so sl_net_err_drop() is one-to-one. */
#define SL_NET_ERR_LIST(X)                                                                         \
	X(ETH_SHORT, "eth_short")         /* < 14 bytes, or tagged and < 18 */                     \
	X(VLAN_STACKED, "vlan_stacked")   /* 802.1Q/802.1ad inside a tag */                        \
	X(ETH_TYPE, "eth_type")           /* not IPv4 / ARP (after the tag) */                     \
	X(ARP_MALFORMED, "arp_malformed") /* not Eth/IPv4, bad op, short */                        \
	X(IP_SHORT, "ip_short")           /* < 20 bytes after L2 */                                \
	X(IP_VERSION, "ip_version")       /* version != 4 */                                       \
	X(IP_OPTIONS, "ip_options")       /* IHL != 5 */                                           \
	X(IP_LENGTH, "ip_length")         /* total length < 20 or > frame */                       \
	X(IP_CSUM, "ip_csum")                                                                      \
	X(IP_FRAGMENT, "ip_fragment")       /* MF set or offset != 0 */                            \
	X(IP_PROTO, "ip_proto")             /* not UDP / ICMP */                                   \
	X(ICMP_MALFORMED, "icmp_malformed") /* < 8 bytes */                                        \
	X(ICMP_CSUM, "icmp_csum")                                                                  \
	X(UDP_SHORT, "udp_short")   /* < 8 bytes */                                                \
	X(UDP_LENGTH, "udp_length") /* UDP length != IP payload length */                          \
	X(UDP_CSUM, "udp_csum")     /* non-zero and wrong */

/* clang-format off */
typedef enum {
	SL_NET_OK = 0,
#define SL_NET_ERR_ENUM(e, s) SL_NET_ERR_##e,
	SL_NET_ERR_LIST(SL_NET_ERR_ENUM)
#undef SL_NET_ERR_ENUM
	SL_NET_ERR_CNT /* number of values, SL_NET_OK included */
} sl_net_err_t;
/* clang-format on */

/* sl_net_err_str names a result ("ok", "ip_csum", ...); "?" out of range. */
const char *sl_net_err_str(unsigned err);

/* sl_net_err_drop maps a parse error to the drop counter of the same name;
   SL_DROP_CNT for SL_NET_OK or out of range (not a drop). */
static inline sl_drop_t sl_net_err_drop(sl_net_err_t err)
{
	switch (err) {
#define SL_NET_ERR_DROP(e, s)                                                                      \
	case SL_NET_ERR_##e:                                                                       \
		return SL_DROP_##e;
		SL_NET_ERR_LIST(SL_NET_ERR_DROP)
#undef SL_NET_ERR_DROP
	default:
		return SL_DROP_CNT;
	}
}

/* ---- the parsed frame ----------------------------------------------------- */

/* A MAC address as on the wire; same layout as struct rte_ether_addr. */
typedef struct {
	uint8_t b[6];
} sl_mac_t;
_Static_assert(sizeof(sl_mac_t) == 6, "sl_mac_t must be 6 bytes");

/* What sl_net_parse found.  Offsets are from the start of the frame; every
   off + len it reports lies inside the buffer parsed.  Fields of a layer the
   frame does not have are left unspecified (check ethertype / l4_proto). */
typedef struct {
	sl_mac_t dst_mac;
	sl_mac_t src_mac;
	uint16_t ethertype;   /* after the tag: SL_ETH_P_IPV4 or SL_ETH_P_ARP */
	uint16_t vlan_tci;    /* host order; valid when has_vlan */
	uint8_t has_vlan;     /* 1 if one 802.1Q tag was present */
	uint8_t l4_proto;     /* IPv4: SL_IPPROTO_UDP / SL_IPPROTO_ICMP */
	uint8_t ttl;          /* IPv4 */
	uint8_t tos;          /* IPv4 */
	uint16_t l3_off;      /* 14, or 18 when tagged: IPv4 or ARP header */
	uint16_t l3_len;      /* IPv4 total length; SL_ARP_LEN for ARP */
	uint16_t l4_off;      /* IPv4: l3_off + 20 */
	uint16_t l4_len;      /* IPv4: total length - 20 (UDP/ICMP header+data) */
	uint16_t payload_off; /* UDP payload / ICMP data after its 8-byte header */
	uint16_t payload_len;
	uint32_t src_ip; /* IPv4, host order */
	uint32_t dst_ip; /* IPv4, host order */
	union {
		struct {
			uint16_t src_port, dst_port; /* host order */
			uint16_t csum;               /* as received; 0 = none */
		} udp;
		struct {
			uint8_t type, code;
			uint16_t id, seq; /* meaningful for echo request/reply */
		} icmp;
		struct {
			uint16_t op;  /* SL_ARP_OP_REQUEST / SL_ARP_OP_REPLY */
			sl_mac_t sha; /* sender hardware address */
			sl_mac_t tha; /* target hardware address */
			uint32_t spa; /* sender IPv4, host order */
			uint32_t tpa; /* target IPv4, host order */
		} arp;
	};
} sl_pkt_t;

/* sl_net_parse validates `frame` (len bytes, Ethernet II, first byte the
   destination MAC) and fills *out.  Returns SL_NET_OK, or the first check
   that failed, in the order of SL_NET_ERR_LIST; *out is then partly filled
   and must not be used.  Trailing bytes after the IPv4 total length
   (Ethernet padding) are ignored.  Never reads outside [frame, frame+len). */
sl_net_err_t sl_net_parse(const uint8_t *frame, uint32_t len, sl_pkt_t *out);

/* ---- checksums (RFC 1071) -------------------------------------------------- */

/* sl_net_csum returns the internet checksum of `len` bytes (any alignment,
   odd lengths padded with a zero byte): the value to store big-endian in a
   checksum field that was zero while summing.  Summing a region whose
   checksum field holds a correct value gives 0. */
uint16_t sl_net_csum(const void *buf, uint32_t len);

/* sl_net_udp_csum returns the UDP checksum of the datagram `udp` (header
   and payload, udp_len bytes, its checksum field zero while summing) with
   the IPv4 pseudo-header (src_ip, dst_ip host order).  A computed 0 is
   returned as 0xffff (RFC 768): the result is never 0. */
uint16_t sl_net_udp_csum(uint32_t src_ip, uint32_t dst_ip, const void *udp, uint16_t udp_len);

/* ---- builders ---------------------------------------------------------------
   Each writes a whole frame at buf (capacity cap) and returns the bytes
   written, or 0 if cap is too small or the input is not what it needs
   (nothing useful is written then).  No Ethernet padding to 60 bytes is
   added (NICs pad).  Frames built here parse with sl_net_parse. */

/* sl_net_build_arp_reply answers the parsed ARP request `req` for our_ip:
   Ethernet to req's sender, ARP op 2, sender = us, target = req's sender;
   keeps req's 802.1Q tag if it had one.  Does not check that req's target is
   our_ip (the dataplane does: drop ARP_NOT_FOR_US).  0 unless req is an ARP
   request.  Returns 42 (46 tagged). */
uint32_t sl_net_build_arp_reply(uint8_t *buf, uint32_t cap, const sl_pkt_t *req,
                                const sl_mac_t *our_mac, uint32_t our_ip);

/* sl_net_build_arp_request writes a broadcast who-has target_ip from
   our_mac / our_ip, tagged with vlan_tci unless SL_NET_VLAN_NONE.
   Returns 42 (46 tagged). */
uint32_t sl_net_build_arp_request(uint8_t *buf, uint32_t cap, const sl_mac_t *our_mac,
                                  uint32_t our_ip, uint32_t target_ip, uint16_t vlan_tci);

/* sl_net_build_icmp_echo_reply turns the parsed echo request `req` (in
   req_frame, as given to sl_net_parse) into an echo reply at buf: Ethernet
   from our_mac to req's source MAC (802.1Q tag kept), IPs swapped (the
   reply's source is req's destination IP), TTL SL_NET_TTL, IPv4 id kept, type 0, id / seq / data
   preserved, IPv4 and ICMP checksums valid.  buf may be req_frame itself (in place) or a
   non-overlapping buffer.  0 unless req is ICMP type 8 code 0.  Returns
   l3_off + IPv4 total length (Ethernet padding of the request dropped). */
uint32_t sl_net_build_icmp_echo_reply(uint8_t *buf, uint32_t cap, const uint8_t *req_frame,
                                      const sl_pkt_t *req, const sl_mac_t *our_mac);

/* sl_net_udp_payload_off is where sl_net_build_udp expects the payload:
   42, or 46 when vlan_tci != SL_NET_VLAN_NONE. */
static inline uint32_t sl_net_udp_payload_off(uint16_t vlan_tci)
{
	return SL_ETH_HDR_LEN + (vlan_tci != SL_NET_VLAN_NONE ? SL_VLAN_HDR_LEN : 0) +
	       SL_IPV4_HDR_LEN + SL_UDP_HDR_LEN;
}

/* sl_net_build_udp writes Ethernet (+ 802.1Q unless vlan_tci is
   SL_NET_VLAN_NONE) / IPv4 (DF, id 0, TTL SL_NET_TTL) / UDP headers in front
   of the payload_len bytes the caller already placed at
   buf + sl_net_udp_payload_off(vlan_tci), and fills the IPv4 header checksum
   and the full UDP checksum.  Returns payload offset + payload_len; 0 if
   that exceeds cap or the IPv4 total length would exceed 65535. */
uint32_t sl_net_build_udp(uint8_t *buf, uint32_t cap, const sl_mac_t *src_mac,
                          const sl_mac_t *dst_mac, uint32_t src_ip, uint32_t dst_ip,
                          uint16_t src_port, uint16_t dst_port, uint16_t payload_len,
                          uint16_t vlan_tci);

/* sl_net_udp_reply_inplace turns the received, parsed UDP frame `rx` (in
   frame, capacity cap) into a reply: Ethernet from our_mac to rx's source
   MAC (never a broadcast source, even if rx was broadcast), IPs and ports
   swapped, 802.1Q tag kept, IPv4 as in sl_net_build_udp, payload_len bytes the caller wrote at
   rx->payload_off as the new payload, all lengths and checksums recomputed.  Returns the frame
   length, 0 if it exceeds cap or rx is not UDP. */
uint32_t sl_net_udp_reply_inplace(uint8_t *frame, uint32_t cap, const sl_pkt_t *rx,
                                  const sl_mac_t *our_mac, uint16_t payload_len);

/* ---- addressing helpers ---------------------------------------------------- */

/* sl_mac_eq: the two addresses are equal. */
static inline bool sl_mac_eq(const sl_mac_t *a, const sl_mac_t *b)
{
	return __builtin_memcmp(a->b, b->b, 6) == 0;
}

/* sl_mac_is_bcast: ff:ff:ff:ff:ff:ff. */
static inline bool sl_mac_is_bcast(const sl_mac_t *m)
{
	return (m->b[0] & m->b[1] & m->b[2] & m->b[3] & m->b[4] & m->b[5]) == 0xff;
}

/* sl_net_eth_for_us: the frame's destination is our_mac or broadcast (the
   dataplane's ETH_DST check). */
static inline bool sl_net_eth_for_us(const sl_pkt_t *p, const sl_mac_t *our_mac)
{
	return sl_mac_eq(&p->dst_mac, our_mac) || sl_mac_is_bcast(&p->dst_mac);
}

/* sl_net_prefix_mask: the netmask of prefix_len (0..32; > 32 acts as 32),
   host order. */
static inline uint32_t sl_net_prefix_mask(uint8_t prefix_len)
{
	return prefix_len == 0 ? 0 : prefix_len >= 32 ? 0xffffffffu : ~0u << (32 - prefix_len);
}

/* sl_net_same_subnet: a and b (host order) share the first prefix_len bits,
   i.e. b is on-link from a (/0: everything is). */
static inline bool sl_net_same_subnet(uint32_t a, uint32_t b, uint8_t prefix_len)
{
	return ((a ^ b) & sl_net_prefix_mask(prefix_len)) == 0;
}

/* sl_net_ipv4_dialable: ip:port (host order) is a unicast IPv4 address a
   node may dial or gossip: not 0.0.0.0/8, 127/8, multicast or reserved and
   broadcast (224/3), and port not 0.  The one rule the dataplane (PEERS
   entries) and ctrl (the address book) both apply. */
static inline bool sl_net_ipv4_dialable(uint32_t ip, uint16_t port)
{
	uint32_t a = ip >> 24;
	return port != 0 && a != 0 && a != 127 && a < 224;
}

/* sl_net_parse_ipv4 reads a dotted quad "a.b.c.d" (each 0..255, decimal, no
   leading/trailing junk) into *ip (host order).  0 on success, -1 otherwise
   (*ip untouched). */
int sl_net_parse_ipv4(const char *s, uint32_t *ip);

/* sl_net_parse_cidr reads "a.b.c.d/len" (len 0..32) into *ip, *prefix_len;
   "a.b.c.d" alone means /32.  0 on success, -1 otherwise (outputs
   untouched). */
int sl_net_parse_cidr(const char *s, uint32_t *ip, uint8_t *prefix_len);

/* sl_net_fmt_ipv4 writes "a.b.c.d" (NUL-terminated) into out[16]; returns
   out.  Not for the per-frame path. */
char *sl_net_fmt_ipv4(uint32_t ip, char out[16]);

#endif /* SL_NET_H */
