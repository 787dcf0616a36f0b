// SPDX-License-Identifier: GPL-2.0
/* impair.bpf.c — link impairment for sync_lossy_link.sh, attached with tc
   (clsact egress, direct action) to a bridge port in the test namespace.
   The kernels these tests run on may lack sch_netem, so loss and
   reordering are made from what is always there: each frame is dropped
   with probability IMPAIR_LOSS_PCT %; of the rest IMPAIR_SLOW_PCT % get
   skb->priority 1:20 and the others 1:10, the two classes of an HTB root
   qdisc the test sets up, 1:20 rate-limited, so its frames leave after
   frames sent later (reordering).  Test tool only. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define IMPAIR_LOSS_PCT 10u
#define IMPAIR_SLOW_PCT 25u
#define IMPAIR_FAST     0x00010010u /* HTB class 1:10 */
#define IMPAIR_SLOW     0x00010020u /* HTB class 1:20 */

SEC("tc")
int impair(struct __sk_buff *skb)
{
	__u32 r = bpf_get_prandom_u32() % 100u;

	if (r < IMPAIR_LOSS_PCT)
		return TC_ACT_SHOT;
	skb->priority = r < IMPAIR_LOSS_PCT + IMPAIR_SLOW_PCT ? IMPAIR_SLOW : IMPAIR_FAST;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
