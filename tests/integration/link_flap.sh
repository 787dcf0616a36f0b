#!/usr/bin/env bash
# link_flap.sh — B's link goes down for 5 s mid-sync, then up (issue 13
# item 5).  Two nodes, regtest; A imports N headers and serves slowly, B
# (bootstrap A) syncs; past N/10, B's port (the veth sluice-dp drives) goes
# down for 5 s.
#   B keeps running (both processes alive), its session to A dies of
#     liveness or survives the gap, B dials A again once the link is back;
#   B reaches tip N-1 with the generated hash; the range table settles; B
#     lists exactly one peer (A) in the end: no ghost; no stray hold, no
#     critical event lost;
#   afterwards (fleet.sh's after-checks on both nodes): exports
#     byte-identical to each other and to the generated file, no stranded
#     range, no ghost peer (ctrl's sessions = the dataplane's), no critical
#     event lost; both stop with exit 0 and leave no file behind.
# Prints tip_at_down= and resume_s= (from link up to the tip).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
N=${SLT_FLAP_N:-60000}
slt_init
slt_slow_sync_midway "$N"
tip=$TIP_MID
echo "tip_at_down=${tip%% *}"
ip link set "${SLT_NODE_DEV[$B]}" down || slt_fail "link down"
sleep 5
for p in "${SLT_NODE_DP_PID[$B]}" "${SLT_NODE_CTRL_PID[$B]}"; do
	slt_alive "$p" || slt_fail "a process of B died while its link was down"
done
t0=$("$SLT_PY" -c 'import time; print(time.monotonic())')
ip link set "${SLT_NODE_DEV[$B]}" up || slt_fail "link up"
slt_ok "B's link down 5 s, up again; both of B's processes alive"
slt_node_wait_tip $B $((N - 1)) 120 "$WANT" || slt_fail "B did not reach $((N - 1)) after the flap"
resume=$("$SLT_PY" -c "import time; print(round(time.monotonic() - $t0, 2))")
echo "resume_s=$resume"
slt_node_settled $B 10
for ((i = 0; i < 50; i++)); do
	b_peers=$(slt_node_ctl $B --json peers | slt_jq 'len([p for p in v if p["state"] == "up"])')
	all=$(slt_node_ctl $B --json peers | slt_jq 'len(v)')
	[ "$b_peers" = 1 ] && [ "$all" = 1 ] && break
	sleep 0.2
done
[ "$b_peers" = 1 ] && [ "$all" = 1 ] || slt_fail "B lists $all peers, $b_peers up (want exactly A)"
stray=$(slt_node_ctl $B --json sync.status | slt_jq 'v["counters"]["stray_holds"]')
lost=$(slt_node_ctl $B --json stats | slt_jq 'v["dataplane"]["total"]["evt_critical_lost"]')
[ "$lost" = 0 ] || slt_fail "critical events lost: $lost"
slt_ok "after the flap B synced to $((N - 1)) in $resume s; one peer, stray holds $stray (swept), nothing lost"
# The fleet scenarios' after-checks over both nodes (fleet.sh).
slt_fleet_after_pair
