/* sl_xdp.h — what the XDP steering program (bpf/sl_xdp.bpf.c) shares with
   sluice-dp, which configures it, and with its tests: the configuration
   record (one entry of the ARRAY map "sl_xdp_cfg", written by sluice-dp
   after the net_af_xdp PMD loaded the program: sl_xdpcfg.h) and the
   per-CPU verdict counters ("sl_xdp_stats").  Addresses and ports in
   network byte order, as the program compares them.  Owner: sluice-dp
   writes the configuration once at start; the program only reads it. */
#ifndef SL_XDP_H
#define SL_XDP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SL_XDP_CFG_MAP   "sl_xdp_cfg"
#define SL_XDP_STATS_MAP "sl_xdp_stats"
#define SL_XDP_PROG      "sl_xdp_steer"

struct sl_xdp_cfg {
	__u32 ip;   /* the dataplane's IPv4 address (network order); 0: unset */
	__u16 port; /* its UDP port (network order) */
	__u16 rsvd;
};

/* Verdict counters (index into sl_xdp_stats). */
enum {
	SL_XDP_STEER_UDP = 0, /* our UDP port on our address: to the AF_XDP socket */
	SL_XDP_STEER_ARP,     /* ARP for our address: to the socket */
	SL_XDP_STEER_ICMP,    /* ICMP to our address (SPEC §1: we answer echo) */
	SL_XDP_PASS,          /* anything else: to the kernel */
	SL_XDP_PASS_UNSET,    /* no configuration yet: to the kernel */
	SL_XDP_STAT_CNT
};

#endif /* SL_XDP_H */
