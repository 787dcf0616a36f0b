/* sl_xdp.bpf.c — XDP steering for sluice-dp on net_af_xdp (issue 13 item 2).
   Frames for the dataplane — UDP to its address and port, ARP for its
   address, ICMP to its address (it answers echo, SPEC §1) — go to the
   AF_XDP socket of their RX queue (xsks_map, keyed by rx_queue_index: the
   map name the af_xdp PMD requires); everything else goes to the kernel,
   so the kernel's own sockets on the interface keep working.  Until
   sluice-dp writes its address into sl_xdp_cfg every frame goes to the
   kernel.  A queue without a socket falls back to the kernel too. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sl_xdp.h"

#define SL_ETH_P_IP    0x0800
#define SL_ETH_P_ARP   0x0806
#define SL_ETH_P_8021Q 0x8100
#define SL_IP_UDP      17
#define SL_IP_ICMP     1

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_xdp_cfg);
} sl_xdp_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_XDP_STAT_CNT);
	__type(key, __u32);
	__type(value, __u64);
} sl_xdp_stats SEC(".maps");

struct sl_vlan {
	__be16 tci;
	__be16 proto;
};

static __always_inline int sl_xdp_count(__u32 i, int verdict)
{
	__u64 *v = bpf_map_lookup_elem(&sl_xdp_stats, &i);
	if (v)
		(*v)++;
	return verdict;
}

static __always_inline int sl_xdp_to_socket(struct xdp_md *ctx, __u32 why)
{
	sl_xdp_count(why, 0);
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

/* sl_xdp_arp: an Ethernet/IPv4 ARP whose target address is ours. */
static __always_inline int sl_xdp_arp(void *l3, void *end, __u32 ip)
{
	struct arphdr *a = l3;
	__u8 *body = (__u8 *)(a + 1); /* sha[6] spa[4] tha[6] tpa[4] */
	__u32 tpa;
	if ((void *)(body + 20) > end || a->ar_hrd != bpf_htons(1) ||
	    a->ar_pro != bpf_htons(SL_ETH_P_IP) || a->ar_hln != 6 || a->ar_pln != 4)
		return 0;
	__builtin_memcpy(&tpa, body + 16, 4);
	return tpa == ip;
}

/* sl_xdp_ipv4: SL_XDP_STEER_* for an IPv4 frame of ours, else -1. */
static __always_inline int sl_xdp_ipv4(void *l3, void *end, const struct sl_xdp_cfg *cfg)
{
	struct iphdr *ip = l3;
	if ((void *)(ip + 1) > end || ip->daddr != cfg->ip)
		return -1;
	if (ip->protocol == SL_IP_ICMP)
		return SL_XDP_STEER_ICMP;
	if (ip->protocol != SL_IP_UDP || (ip->frag_off & bpf_htons(0x1fff)) != 0)
		return -1; /* a later fragment carries no port: the kernel's */
	struct udphdr *u = (void *)ip + ip->ihl * 4;
	if (ip->ihl < 5 || (void *)(u + 1) > end || u->dest != cfg->port)
		return -1;
	return SL_XDP_STEER_UDP;
}

SEC("xdp")
int sl_xdp_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 k = 0;
	const struct sl_xdp_cfg *cfg = bpf_map_lookup_elem(&sl_xdp_cfg, &k);
	if (!cfg || cfg->ip == 0)
		return sl_xdp_count(SL_XDP_PASS_UNSET, XDP_PASS);
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return sl_xdp_count(SL_XDP_PASS, XDP_PASS);
	__be16 proto = eth->h_proto;
	void *l3 = eth + 1;
	if (proto == bpf_htons(SL_ETH_P_8021Q)) {
		struct sl_vlan *v = l3;
		if ((void *)(v + 1) > end)
			return sl_xdp_count(SL_XDP_PASS, XDP_PASS);
		proto = v->proto;
		l3 = v + 1;
	}
	if (proto == bpf_htons(SL_ETH_P_ARP) && sl_xdp_arp(l3, end, cfg->ip))
		return sl_xdp_to_socket(ctx, SL_XDP_STEER_ARP);
	if (proto == bpf_htons(SL_ETH_P_IP)) {
		int why = sl_xdp_ipv4(l3, end, cfg);
		if (why >= 0)
			return sl_xdp_to_socket(ctx, (__u32)why);
	}
	return sl_xdp_count(SL_XDP_PASS, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
