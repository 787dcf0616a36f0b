/* sl_ptool.h — what sluice_probe.bpf.c and sluice-probe share: the layout
   of the BPF maps' values and of the ring-buffer events (SPEC.md §11 probes
   aggregated in the kernel, read and cleared by the tool every interval).
   Included by both sides: the BPF side gets its types from vmlinux.h, the
   tool from <linux/types.h>.  Owner of the maps: the tool (it loads the
   object, reads and clears them); writers: the BPF programs. */
#ifndef SL_PTOOL_H
#define SL_PTOOL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* log2 buckets: slot i counts values v with 2^(i-1) <= v < 2^i (slot 0: v
   == 0); the last slot takes everything larger. */
#define SL_PTOOL_SLOTS   48
#define SL_PTOOL_STREAMS 256  /* routine_run: u8 stream */
#define SL_PTOOL_DROPS   64   /* frame_drop: u16 reason, SL_DROP_LIST index */
#define SL_PTOOL_WHYS    16   /* range_return: u16 why, SL_RANGE_WHY index */
#define SL_PTOOL_KINDS   16   /* op_*: u16 kind, SL_OP_KIND index */
#define SL_PTOOL_HELD    8192 /* ranges held at once that the tool tracks */

struct sl_ptool_hist {
	__u64 slots[SL_PTOOL_SLOTS];
	__u64 count;
	__u64 sum; /* of the values, ns */
};

/* ranges: one value, index 0. */
struct sl_ptool_ranges {
	__u64 take_n, take_hdrs;
	__u64 cov_n, cov_hdrs;
	__u64 ret_n[SL_PTOOL_WHYS], ret_hdrs[SL_PTOOL_WHYS];
};

/* A range held by a session: key of the `held` map. */
struct sl_ptool_hold_key {
	__u32 start, sess, gen;
};
struct sl_ptool_hold {
	__u64 t_ns; /* range_take, bpf_ktime_get_ns */
	__u32 len;
	__u32 pad;
};

/* Ring-buffer events of `ranges`: a hold ended by range_return (its held
   time measured here), or a range_covered (the tool ends the holds it
   overlaps). */
enum { SL_PTOOL_EV_RETURN = 1, SL_PTOOL_EV_COVERED = 2 };
struct sl_ptool_ev {
	__u64 t_ns;
	__u64 held_ns; /* EV_RETURN: take -> return; 0 if the take was not seen */
	__u32 start, len, sess, gen;
	__u16 why;
	__u16 type;
	__u32 pad;
};

/* misbehavior: key of the `misb` map (value: __u64 count). */
struct sl_ptool_misb_key {
	__u32 sess;
	__u16 kind;
	__u16 pad;
};
/* session_up: what the tool prints for a session (value of `peers`). */
struct sl_ptool_peer {
	__u32 ip; /* host order, as the probe passes it */
	__u16 port;
	__u16 pad;
};

/* ops: per kind (index), the latency histogram and the outcomes. */
struct sl_ptool_ops {
	__u64 started;
	__u64 done_ok, done_err;
};

/* sync: one value, index 0; the latency histogram is `sync_hist`. */
struct sl_ptool_sync {
	__u64 commits;
	__u64 headers;
	__u64 max_height_p1; /* highest committed height + 1, 0: none */
};

#endif /* SL_PTOOL_H */
