#!/usr/bin/env bash
# sync_lossy_link.sh — issue 4, test (c): header sync completes over a link
# that loses 10 % of the frames and reorders them, on both bridge ports
# (every frame to either node crosses one impaired hop).  tc netem when the
# kernel has it (loss 10 %, 25 % of the frames skip a 4 ms delay and
# overtake the others); else tests/integration/impair.bpf.c on clsact
# egress (10 % dropped at random, 25 % sent through a rate-limited HTB
# class, so they leave after frames sent later).  Node A imports
# testnet3 heights 0..9999; empty node B syncs from A with [sync]
# timeout_ms = 2000.  A lost GET_HEADERS is taken back by the reactor's
# timeout; an answer that lost frames is credited for what came and the
# rest asked again at once; an answer whose LAST frame was lost ends when
# it goes quiet.  Checked: B reaches the README tip, its export is
# byte-identical to the file, netem really dropped frames, and the range
# table settles.  Prints sync_time_s=<x> and B's partial/timeout counters.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool cmp tc
slt_require_bins
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
T3_TIP=000000001655e2a7293f28383a2965b2f0add77fd6ac383986e90971a07467d4
BOUND=${SLT_SYNC_BOUND_S:-180}
slt_init
slt_lan_up 2
A=1 B=2
for k in $A $B; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" chain profile bitcoin-test3
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 5000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
	slt_cfg_set "${SLT_NODE_CFG[$k]}" sync timeout_ms 2000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane keepalive_ms 500
done
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747"

slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$T3" >/dev/null || slt_fail "A: import"

# impair DEV: netem, else the BPF impairment; prints which.
impair() {
	local dev=$1
	if tc -n "$SLT_NS" qdisc add dev "$dev" root netem limit 10000 \
		delay 4ms reorder 25% 50% loss 10% 2>/dev/null; then
		echo netem
		return 0
	fi
	[ -r "${SLUICE_IMPAIR_BPF:-}" ] ||
		slt_skip "no sch_netem in this kernel and impair.bpf.o not built"
	tc -n "$SLT_NS" qdisc add dev "$dev" root handle 1: htb default 10 &&
		tc -n "$SLT_NS" class add dev "$dev" parent 1: classid 1:10 htb rate 1gbit quantum 60000 &&
		tc -n "$SLT_NS" class add dev "$dev" parent 1: classid 1:20 htb rate 4mbit ceil 4mbit &&
		tc -n "$SLT_NS" qdisc add dev "$dev" clsact &&
		tc -n "$SLT_NS" filter add dev "$dev" egress bpf da obj "$SLUICE_IMPAIR_BPF" sec tc ||
		slt_fail "cannot attach the BPF impairment to $dev"
	echo bpf
}
for k in 1 2; do
	how=$(impair "slt${SLT_ID}q$k")
done
slt_ok "link impairment ($how): 10% loss, 25% reordered, on both nodes' links"

T0=$("$SLT_PY" -c 'import time; print(time.monotonic())')
slt_node_start $B
slt_node_wait_ready $B 30
slt_node_wait_tip $B 9999 "$BOUND" "$T3_TIP"
DT=$("$SLT_PY" -c "import time; print(round(time.monotonic() - $T0, 2))")
echo "sync_time_s=$DT"
slt_ok "B synced 0..9999 over the lossy link in $DT s"

slt_node_ctl $B --json header.export path="$SLT_TMP/b.headers" >/dev/null || slt_fail "B: export"
cmp "$T3" "$SLT_TMP/b.headers" || slt_fail "B's export differs from the file"
slt_ok "B's export is byte-identical to the file"

dropped=0 slow=0
for k in 1 2; do
	dev=slt${SLT_ID}q$k
	if [ "$how" = netem ]; then
		st=$(tc -n "$SLT_NS" -s qdisc show dev "$dev")
	else
		st=$(tc -n "$SLT_NS" -s filter show dev "$dev" egress; tc -n "$SLT_NS" -s class show dev "$dev")
		s=$(tc -n "$SLT_NS" -s class show dev "$dev" classid 1:20 | sed -n 's/.*Sent [0-9]* bytes \([0-9]*\) pkt.*/\1/p')
		slow=$((slow + ${s:-0}))
	fi
	slt_log "$dev: $(echo "$st" | tr '\n' ' ' | head -c 1500)"
	d=$(echo "$st" | sed -n 's/.*dropped \([0-9]*\).*/\1/p' | head -1)
	dropped=$((dropped + ${d:-0}))
done
if [ "$how" = bpf ]; then
	# the filter's drops are not in tc's counters: the frames the slow
	# class carried prove the program ran; the loss shows in B's counters
	[ "$slow" -gt 0 ] || slt_fail "no frame went through the slow class"
	dropped=-1
fi
[ "$dropped" != 0 ] || slt_fail "netem dropped nothing"
partial=$(slt_node_telemetry_json $B | slt_jq 'v["total"]["hs_partial"] if "total" in v else v["hs_partial"]')
slt_log "B: hs_partial $partial, reactor timeouts $(slt_node_sync_get $B 'v["counters"]["timeouts"]'), link dropped $dropped (-1: not counted by tc), slow-class frames $slow"
slt_node_settled $B 20
slt_ok "range table settled"
for k in $B $A; do
	slt_node_stop $k
done
slt_log "PASS"
