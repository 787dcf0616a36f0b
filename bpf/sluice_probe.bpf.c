/* sluice_probe.bpf.c — the BPF side of sluice-probe: one program per
   USDT probe of provider `sluice` (SPEC.md §11) that a subcommand reads.
   The tool loads only the programs of its subcommand (autoload) and
   attaches them to sluice-dp / sluice-ctrl; they aggregate into the maps
   of sl_ptool.h, which the tool reads and clears every interval. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>
#include "sl_ptool.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_PTOOL_STREAMS);
	__type(key, __u32);
	__type(value, struct sl_ptool_hist);
} lat_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_PTOOL_DROPS);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_ptool_ranges);
} ranges SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_PTOOL_HELD);
	__type(key, struct sl_ptool_hold_key);
	__type(value, struct sl_ptool_hold);
} held SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sl_ptool_misb_key);
	__type(value, __u64);
} misb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct sl_ptool_peer);
} peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} op_t0 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_PTOOL_KINDS);
	__type(key, __u32);
	__type(value, struct sl_ptool_hist);
} ops_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_PTOOL_KINDS);
	__type(key, __u32);
	__type(value, struct sl_ptool_ops);
} ops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_ptool_sync);
} sync SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_ptool_hist);
} sync_hist SEC(".maps");

/* log2_slot: the bucket of v (see sl_ptool.h). */
static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 s = 0;
	/* bounded for the verifier: at most 64 steps */
	for (int i = 0; i < 64 && v != 0; i++) {
		v >>= 1;
		s++;
	}
	return s < SL_PTOOL_SLOTS ? s : SL_PTOOL_SLOTS - 1;
}

static __always_inline void hist_add(struct sl_ptool_hist *h, __u64 v)
{
	__u32 s = log2_slot(v);
	if (s < SL_PTOOL_SLOTS)
		__sync_fetch_and_add(&h->slots[s], 1);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, v);
}

SEC("usdt")
int BPF_USDT(routine_run, __u32 sess, __u8 stream, __u64 ns)
{
	__u32 k = stream;
	struct sl_ptool_hist *h = bpf_map_lookup_elem(&lat_hist, &k);
	if (h)
		hist_add(h, ns);
	return 0;
}

SEC("usdt")
int BPF_USDT(frame_drop, __u32 lcore, __u16 reason)
{
	__u32 k = reason < SL_PTOOL_DROPS ? reason : SL_PTOOL_DROPS - 1;
	__u64 *n = bpf_map_lookup_elem(&drops, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

static __always_inline struct sl_ptool_ranges *ranges_get(void)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&ranges, &k);
}

SEC("usdt")
int BPF_USDT(range_take, __u32 start, __u32 len, __u32 sess, __u32 gen)
{
	struct sl_ptool_ranges *r = ranges_get();
	if (r) {
		__sync_fetch_and_add(&r->take_n, 1);
		__sync_fetch_and_add(&r->take_hdrs, len);
	}
	struct sl_ptool_hold_key k = {.start = start, .sess = sess, .gen = gen};
	struct sl_ptool_hold v = {.t_ns = bpf_ktime_get_ns(), .len = len};
	bpf_map_update_elem(&held, &k, &v, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(range_return, __u32 start, __u32 len, __u32 sess, __u32 gen, __u16 why)
{
	__u32 w = why < SL_PTOOL_WHYS ? why : SL_PTOOL_WHYS - 1;
	struct sl_ptool_ranges *r = ranges_get();
	if (r && w < SL_PTOOL_WHYS) {
		__sync_fetch_and_add(&r->ret_n[w], 1);
		__sync_fetch_and_add(&r->ret_hdrs[w], len);
	}
	__u64 now = bpf_ktime_get_ns();
	struct sl_ptool_hold_key k = {.start = start, .sess = sess, .gen = gen};
	struct sl_ptool_hold *h = bpf_map_lookup_elem(&held, &k);
	__u64 held_ns = h ? now - h->t_ns : 0;
	if (h)
		bpf_map_delete_elem(&held, &k);
	struct sl_ptool_ev *e = bpf_ringbuf_reserve(&events, sizeof *e, 0);
	if (!e)
		return 0;
	*e = (struct sl_ptool_ev){.t_ns = now,
	                          .held_ns = held_ns,
	                          .start = start,
	                          .len = len,
	                          .sess = sess,
	                          .gen = gen,
	                          .why = why,
	                          .type = SL_PTOOL_EV_RETURN};
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(range_covered, __u32 start, __u32 len)
{
	struct sl_ptool_ranges *r = ranges_get();
	if (r) {
		__sync_fetch_and_add(&r->cov_n, 1);
		__sync_fetch_and_add(&r->cov_hdrs, len);
	}
	struct sl_ptool_ev *e = bpf_ringbuf_reserve(&events, sizeof *e, 0);
	if (!e)
		return 0;
	*e = (struct sl_ptool_ev){
	    .t_ns = bpf_ktime_get_ns(), .start = start, .len = len, .type = SL_PTOOL_EV_COVERED};
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("usdt")
int BPF_USDT(misbehavior, __u32 sess, __u16 kind)
{
	struct sl_ptool_misb_key k = {.sess = sess, .kind = kind};
	__u64 one = 1, *n = bpf_map_lookup_elem(&misb, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&misb, &k, &one, BPF_NOEXIST);
	return 0;
}

SEC("usdt")
int BPF_USDT(session_up, __u32 sess, __u32 ip, __u16 port, __u32 streams)
{
	struct sl_ptool_peer p = {.ip = ip, .port = port};
	bpf_map_update_elem(&peers, &sess, &p, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(op_start, __u64 tx, __u16 kind)
{
	__u32 k = kind < SL_PTOOL_KINDS ? kind : SL_PTOOL_KINDS - 1;
	struct sl_ptool_ops *o = bpf_map_lookup_elem(&ops, &k);
	if (o)
		__sync_fetch_and_add(&o->started, 1);
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&op_t0, &tx, &now, BPF_ANY);
	return 0;
}

/* The latency is op_start -> op_done as seen here; for an op started
   before the tool attached, the op's own age (the probe's ns). */
SEC("usdt")
int BPF_USDT(op_done, __u64 tx, __u16 kind, __s32 status, __u64 ns)
{
	__u32 k = kind < SL_PTOOL_KINDS ? kind : SL_PTOOL_KINDS - 1;
	__u64 *t0 = bpf_map_lookup_elem(&op_t0, &tx);
	__u64 lat = ns;
	if (t0) {
		lat = bpf_ktime_get_ns() - *t0;
		bpf_map_delete_elem(&op_t0, &tx);
	}
	struct sl_ptool_ops *o = bpf_map_lookup_elem(&ops, &k);
	if (o)
		__sync_fetch_and_add(status == 0 ? &o->done_ok : &o->done_err, 1);
	struct sl_ptool_hist *h = bpf_map_lookup_elem(&ops_hist, &k);
	if (h)
		hist_add(h, lat);
	return 0;
}

SEC("usdt")
int BPF_USDT(store_commit, __u32 height, __u32 n, __u64 ns)
{
	__u32 k = 0;
	struct sl_ptool_sync *s = bpf_map_lookup_elem(&sync, &k);
	if (s) {
		__sync_fetch_and_add(&s->commits, 1);
		__sync_fetch_and_add(&s->headers, n);
		__u64 hp1 = (__u64)height + 1;
		if (hp1 > s->max_height_p1)
			s->max_height_p1 = hp1; /* one committer (ctrl's loop) */
	}
	struct sl_ptool_hist *h = bpf_map_lookup_elem(&sync_hist, &k);
	if (h)
		hist_add(h, ns);
	return 0;
}
