#!/usr/bin/env bash
# fleet_partition_heal.sh — issue 13 item 5: a partition of the fleet into
# two halves that build different branches, then heal.  N regtest nodes
# (SLT_FLEET_N, default 16; fleet.sh) all sync chain X (0..999) from node
# 1.  Then the bridge ports of nodes N/2+1..N move to a second bridge (two
# L2 segments, fleet.sh slt_fleet_partition); every session across the cut
# dies of liveness.  Node 1 imports branch A (X to 999, then 20 headers of
# its own) and node N branch B (X to 999, then 40 others: more work): each
# half converges on its own branch, and only on it (the cut holds).  Then
# the ports go back on one bridge (heal): every node must end on branch B,
# the heavier, by reconnecting across the old cut, sync and reorg.
# Checked afterwards: chains identical (every export byte-identical to
# B), every node of the first half switched branch (sync.status reorgs),
# no stranded range, no ghost peer, no critical event lost, nothing left
# behind.  Prints "fleet_partition_heal nodes=N heal_ms=X" (heal to the
# last node on B) with the reorg and reconnect figures.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

slt_require_root
slt_require_tools ip ethtool cmp
slt_require_bins
N=${SLT_FLEET_N:-16}
H=$((N / 2))
slt_init
START=$(($(date +%s) - 20000))
gen() { # gen FILE ARGS...: prints the tip's display hash
	local f=$1
	shift
	slt_chaingen --seed 41 --start-time "$START" -o "$f" "$@"
	sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.log" | tail -1
}
X_TIP=$(gen "$SLT_TMP/x.headers" -n 1000)
A_TIP=$(gen "$SLT_TMP/a.headers" -n 1020 --fork-at 999 --fork-seed 42)
B_TIP=$(gen "$SLT_TMP/b.headers" -n 1040 --fork-at 999 --fork-seed 43)

slt_fleet_up "$N"
# liveness judges a silent peer down in a few seconds (phi 16)
slt_fleet_cfg "dataplane keepalive_ms 200" "sync timeout_ms 3000"
slt_fleet_start
slt_fleet_wait_peered 30
slt_node_ctl 1 --json header.import path="$SLT_TMP/x.headers" >/dev/null || slt_fail "node 1: import X"
slt_fleet_wait_tip 999 "$X_TIP" 60
slt_ok "all $N nodes on X (999)"
slt_log "peers per node: $(slt_fleet_degrees)"

# cross: sessions up between a node of nodes 1..H and one of H+1..N, as
# the nodes list them (a session counts at both ends)
cross() {
	slt_fleet_api peers '" ".join(p["addr"].split(":")[0].split(".")[3] for p in v if p.get("state", "up") == "up")' |
		awk -v h="$H" '{ for (i = 2; i <= NF; i++) if (($1 <= h) != ($i - 10 <= h)) c++ } END { print c + 0 }'
}
slt_fleet_partition $(seq $((H + 1)) "$N")
T0=$(slt_ms)
for ((i = 0; i < 150; i++)); do
	c=$(cross)
	[ "$c" = 0 ] && break
	sleep 0.2
done
[ "$c" = 0 ] || slt_fail "$c sessions across the partition still up after 30 s"
slt_ok "partition: every session across the cut down after $(($(slt_ms) - T0)) ms"
slt_log "peers per node: $(slt_fleet_degrees)"

slt_node_ctl 1 --json header.import path="$SLT_TMP/a.headers" >/dev/null || slt_fail "node 1: import A"
slt_node_ctl "$N" --json header.import path="$SLT_TMP/b.headers" >/dev/null || slt_fail "node $N: import B"
# each half on its own branch: wait with FLEET_N narrowed to a half
FLEET_N=$H slt_fleet_wait_tip 1019 "$A_TIP" 60
slt_ok "half 1 (nodes 1..$H) on branch A (1019)"
FLEET_FROM=$((H + 1)) slt_fleet_wait_tip 1039 "$B_TIP" 60
slt_ok "half 2 (nodes $((H + 1))..$N) on branch B (1039)"
while read -r k tip; do
	[ "$k" -gt "$H" ] || [ "$tip" = "1019 $A_TIP" ] || slt_fail "node $k left branch A during the partition: $tip"
done < <(slt_fleet_api status '"%s %s" % (v["tip_height"], v["tip_hash"])')
slt_ok "the cut held: half 1 still on A"
while read -r k r; do reorg0[$k]=$r; done < <(slt_fleet_api sync.status 'v["counters"]["reorgs"]')

slt_fleet_watch_begin 1039 "$B_TIP" 90
T1=$(slt_now_ms)
slt_fleet_heal
slt_fleet_watch_end "$T1"
HEAL_MS=$FLEET_MS
slt_ok "healed: all $N nodes on branch B $HEAL_MS ms after the heal (median node $FLEET_MED_MS ms)"
cross_up=$(cross)
switched=0
while read -r k r; do
	[ "$k" -le "$H" ] || continue
	[ $((r - reorg0[k])) -ge 1 ] || slt_fail "node $k: on B without a reorg (reorgs $r)"
	switched=$((switched + r - reorg0[k]))
done < <(slt_fleet_api sync.status 'v["counters"]["reorgs"]')
slt_log "peers per node: $(slt_fleet_degrees)"
echo "fleet_partition_heal nodes=$N heal_ms=$HEAL_MS median_ms=$FLEET_MED_MS reorgs_half1=$switched sessions_across_after=$cross_up"

slt_fleet_assert_same
cmp "$SLT_TMP/b.headers" "$SLT_TMP/fleet1.headers" || slt_fail "the fleet's chain is not branch B"
slt_fleet_assert_clean_state
slt_fleet_settled_log
slt_fleet_stop
slt_log "PASS"
