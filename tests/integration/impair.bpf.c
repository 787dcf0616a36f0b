// SPDX-License-Identifier: GPL-2.0
/* impair.bpf.c — link impairment for sync_lossy_link.sh, attached with tc
   (clsact egress, direct action) to a bridge port in the test namespace.
   The kernels these tests run on may lack sch_netem, so loss and
   reordering are made from what is always there: each frame is dropped
   with probability IMPAIR_LOSS_PCT %; of the rest IMPAIR_SLOW_PCT % get
   skb->priority 1:20 and the others 1:10, the two classes of an HTB root
   qdisc the test sets up, 1:20 rate-limited, so its frames leave after
   frames sent later (reordering).  What it did is counted in the array
   map impair_cnt (one per attached program: tc loads the object once per
   port), read by the test with bpftool: [IMPAIR_CNT_DROP] frames dropped,
   [IMPAIR_CNT_SLOW] sent to the slow class, [IMPAIR_CNT_FAST] passed on.
   Test tool only. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define IMPAIR_LOSS_PCT 10u
#define IMPAIR_SLOW_PCT 25u
#define IMPAIR_FAST     0x00010010u /* HTB class 1:10 */
#define IMPAIR_SLOW     0x00010020u /* HTB class 1:20 */

enum { IMPAIR_CNT_DROP, IMPAIR_CNT_SLOW, IMPAIR_CNT_FAST, IMPAIR_CNT_N };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IMPAIR_CNT_N);
	__type(key, __u32);
	__type(value, __u64);
} impair_cnt SEC(".maps");

static __always_inline void impair_count(__u32 k)
{
	__u64 *c = bpf_map_lookup_elem(&impair_cnt, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
}

SEC("tc")
int impair(struct __sk_buff *skb)
{
	__u32 r = bpf_get_prandom_u32() % 100u;

	if (r < IMPAIR_LOSS_PCT) {
		impair_count(IMPAIR_CNT_DROP);
		return TC_ACT_SHOT;
	}
	if (r < IMPAIR_LOSS_PCT + IMPAIR_SLOW_PCT) {
		impair_count(IMPAIR_CNT_SLOW);
		skb->priority = IMPAIR_SLOW;
	} else {
		impair_count(IMPAIR_CNT_FAST);
		skb->priority = IMPAIR_FAST;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
