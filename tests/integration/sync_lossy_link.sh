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
# byte-identical to the file; in netem and BPF mode alike, frames were
# really lost, counted (> 0) by the impairment itself (netem: its tc -s
# qdisc drops; BPF: its impair_cnt map, read with bpftool, plus the HTB
# queue drops) and by the nodes themselves (per session, frames one end
# sent and the other never received, once the queues drained); B asked
# again for what was lost, counted (> 0) by B itself (dataplane
# hs_no_answer + hs_partial + reactor timeouts; hs_partial also counts
# answers whose LAST overtook frames), and the sync completing proves it
# got it; the range table settles.  Prints sync_time_s=, link_dropped=,
# link_reordered=, node_lost_a_to_b=, node_lost_b_to_a=,
# get_headers_lost= and B's recovered= with its parts.
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
	command -v bpftool >/dev/null 2>&1 ||
		slt_skip "no sch_netem in this kernel and no bpftool to read the BPF impairment's drop count"
	tc -n "$SLT_NS" qdisc add dev "$dev" root handle 1: htb default 10 &&
		tc -n "$SLT_NS" class add dev "$dev" parent 1: classid 1:10 htb rate 1gbit quantum 60000 &&
		tc -n "$SLT_NS" class add dev "$dev" parent 1: classid 1:20 htb rate 4mbit ceil 4mbit &&
		tc -n "$SLT_NS" qdisc add dev "$dev" clsact &&
		tc -n "$SLT_NS" filter add dev "$dev" egress bpf da obj "$SLUICE_IMPAIR_BPF" sec tc ||
		slt_fail "cannot attach the BPF impairment to $dev"
	echo bpf
}
for k in 1 2; do
	how=$(impair "slt${SLT_ID}q$k") || exit $? # its skip or failure
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

# What the impairment did, counted by the impairment itself: netem's qdisc
# drop counter (tc -s), or the BPF program's impair_cnt map (bpftool).
# impair_counts DEV sets IMP_DROP and IMP_SLOW for frames sent to DEV's node.
impair_counts() {
	local dev=$1 prog map d s q
	if [ "$how" = netem ]; then
		IMP_DROP=$(tc -n "$SLT_NS" -s qdisc show dev "$dev" |
			awk '/^qdisc netem/ { n = 1 } n && /dropped/ { sub(/.*dropped /, ""); sub(/,.*/, ""); print; exit }')
		IMP_SLOW=0
		return
	fi
	prog=$(tc -n "$SLT_NS" filter show dev "$dev" egress | sed -n 's/.* id \([0-9]*\) name impair .*/\1/p' | head -1)
	[ -n "$prog" ] || slt_fail "$dev: no impair program on egress"
	map=$(bpftool -j prog show id "$prog" | slt_jq 'v["map_ids"][0]') || slt_fail "$dev: bpftool prog show id $prog"
	read -r d s < <(bpftool -j map dump id "$map" |
		slt_jq '" ".join(str(int.from_bytes(bytes(int(b, 16) for b in e["value"]), "little")) for e in sorted(v, key=lambda e: int(e["key"][0], 16))[:2])') ||
		slt_fail "$dev: bpftool map dump id $map"
	# the HTB root's queues overflowing drop frames too (the slow class)
	q=$(tc -n "$SLT_NS" -s qdisc show dev "$dev" root | sed -n 's/.*(dropped \([0-9]*\),.*/\1/p' | head -1)
	IMP_DROP=$((d + ${q:-0})) IMP_SLOW=$s
}
dropped=0 slow=0
for k in $A $B; do
	impair_counts "slt${SLT_ID}q$k"
	slt_log "impairment ($how) on the port to node $k: dropped ${IMP_DROP:-?}, reordered (slow class) ${IMP_SLOW:-?}"
	dropped=$((dropped + ${IMP_DROP:-0})) slow=$((slow + ${IMP_SLOW:-0}))
done
# What the nodes' own counters say was lost: per session, the frames one
# end sent (tx_frames) against those the other end received (rx_frames +
# drop_replay: reordered or not, every frame that arrived is in one of
# them).  Read once the impairment's queues have drained (the slow class
# holds frames for a while: they are late, not lost), the sender first.
# sess_cnt K ADDR: "tx rx+replay req_tx get_headers_rx" summed over node
# K's live sessions to ADDR.
sess_cnt() {
	local k=$1 addr=$2 sid tx=0 rx=0 rq=0 gh=0 c
	for sid in $(slt_node_ctl "$k" --json peers | slt_jq '" ".join(str(p["session"]) for p in v if p["addr"] == "'"$addr"'")'); do
		c=$(slt_node_ctl "$k" --json peer.show session="$sid" |
			slt_jq '" ".join(str(v["counters"].get(x, 0)) for x in ("tx_frames", "rx_frames", "drop_replay", "hs_req_tx", "hs_get_headers_rx"))') ||
			continue
		set -- $c
		tx=$((tx + $1)) rx=$((rx + $2 + $3)) rq=$((rq + $4)) gh=$((gh + $5))
	done
	echo "$tx $rx $rq $gh"
}
# drained: both ports' root qdiscs hold no frame (5 s at most).
drained() {
	local k i b
	for ((i = 0; i < 50; i++)); do
		b=0
		for k in $A $B; do
			b=$((b + $(tc -n "$SLT_NS" -s qdisc show dev "slt${SLT_ID}q$k" root |
				sed -n 's/.*backlog [0-9]*[KMG]*b \([0-9]*\)p.*/\1/p' | head -1)))
		done
		[ "$b" = 0 ] && return 0
		sleep 0.1
	done
	slt_log "the impairment's queues still hold $b frames"
}
drained
read -r a_tx _ _ _ < <(sess_cnt $A "${SLT_NODE_IP[$B]}:9747")
read -r b_tx b_rx b_rq _ < <(sess_cnt $B "${SLT_NODE_IP[$A]}:9747")
read -r _ a_rx _ a_gh < <(sess_cnt $A "${SLT_NODE_IP[$B]}:9747")
lost_ab=$((a_tx - b_rx)) lost_ba=$((b_tx - a_rx)) lost_req=$((b_rq - a_gh))
# What B's own counters say it asked again: a request (or its whole
# answer) lost (dataplane hs_no_answer), an answer that came short and the
# rest asked again (hs_partial: frames lost, or a LAST that overtook
# them), a range the reactor took back (sync.status timeouts).
tel=$(slt_node_telemetry_json $B) || slt_fail "B: /sluice/stats"
b_stat() { echo "$tel" | slt_jq 'v["total"]["'"$1"'"] if "total" in v else v["'"$1"'"]'; }
no_answer=$(b_stat hs_no_answer) partial=$(b_stat hs_partial)
timeouts=$(slt_node_sync_get $B 'v["counters"]["timeouts"]')
recovered=$((no_answer + partial + timeouts))
echo "link_dropped=$dropped link_reordered=$slow"
echo "node_lost_a_to_b=$lost_ab node_lost_b_to_a=$lost_ba get_headers_lost=$lost_req (B sent $b_rq, A got $a_gh)"
echo "b_no_answer=$no_answer b_partial=$partial b_timeouts=$timeouts recovered=$recovered"
[ "$dropped" -gt 0 ] || slt_fail "the impairment ($how) dropped no frame: the link was not lossy"
[ "$how" = netem ] || [ "$slow" -gt 0 ] || slt_fail "the impairment (bpf) sent no frame through the slow class: nothing reordered"
[ $((lost_ab + lost_ba)) -gt 0 ] ||
	slt_fail "the nodes lost no session frame (A->B $lost_ab, B->A $lost_ba) although the impairment counts $dropped dropped"
[ "$recovered" -gt 0 ] ||
	slt_fail "B asked again for nothing (hs_no_answer 0, hs_partial 0, timeouts 0) although $((lost_ab + lost_ba)) frames were lost"
slt_ok "the link dropped $dropped frames ($how), the nodes lost $lost_ab A->B and $lost_ba B->A; B asked again $recovered times (no answer $no_answer, partial $partial, timeouts $timeouts) and synced"
slt_node_settled $B 20
slt_ok "range table settled"
for k in $B $A; do
	slt_node_stop $k
done
slt_log "PASS"
