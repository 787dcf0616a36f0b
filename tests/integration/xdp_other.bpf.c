// SPDX-License-Identifier: GPL-2.0
/* xdp_other.bpf.c — an XDP program that is not sluice's (it passes every
   frame), for setup_stages.sh: attached to a veth, `sluice-setup check
   afxdp` must name it and the command that detaches it, and `init` must
   leave it alone. */
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

SEC("xdp")
int other_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
