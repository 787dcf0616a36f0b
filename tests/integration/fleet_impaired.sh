#!/usr/bin/env bash
# fleet_impaired.sh — issue 13 item 5: 10 % loss + 50 ms delay + reorder on
# every link of a fleet, and sync converges anyway.  N regtest nodes
# (SLT_FLEET_N, default 16; fleet.sh), but the bridge is replaced by
# slswitch.py, a learning L2 switch in the bridge namespace that drops 10 %
# of the frames entering it and forwards the rest after 50 ms +- 20 ms
# (frames sent less than 40 ms apart may swap): this kernel has neither
# sch_netem nor sch_fq, so no qdisc can hold a frame back for 50 ms.  Every
# frame between two nodes crosses it once: one-way 50 ms, RTT ~100 ms, each
# direction lossy.  The nodes start and find each other through it (HELLO
# retries, liveness over the delay), then node 1 imports chain X
# (SLT_FLEET_CHAIN headers, default 1000) and every node must reach X's tip.
# Checked: the switch dropped and reordered frames (its own counters); the
# nodes asked again for what was lost (dataplane hs_no_answer + hs_partial
# + reactor timeouts, summed over the fleet, > 0); chains identical, no
# stranded range, no ghost peer, no critical event lost, nothing left.
# Prints "fleet_impaired nodes=N converge_ms=X" and the switch's and the
# nodes' counters.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

slt_require_root
slt_require_tools ip ethtool cmp
slt_require_bins
N=${SLT_FLEET_N:-16}
LEN=${SLT_FLEET_CHAIN:-1000}
slt_init
START=$(($(date +%s) - 20000))
slt_chaingen -n "$LEN" --seed 51 --start-time "$START" -o "$SLT_TMP/x.headers"
X_TIP=$(sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.log" | tail -1)

slt_fleet_up "$N"
slt_fleet_cfg "sync timeout_ms 2000" "dataplane keepalive_ms 500" "peers connect_timeout_ms 5000"
ports=
for ((k = 1; k <= N; k++)); do
	ip -n "$SLT_NS" link set "slt${SLT_ID}q$k" nomaster || slt_fail "port $k off the bridge"
	ports+=${ports:+,}slt${SLT_ID}q$k
done
SW_STATS=$SLT_TMP/switch.json
ip netns exec "$SLT_NS" "$SLT_PY" -u "$SLT_SRC/tests/integration/slswitch.py" --ports "$ports" \
	--loss 10 --delay-ms 50 --jitter-ms 20 --stats "$SW_STATS" >"$SLT_TMP/switch.log" 2>&1 &
SW_PID=$!
sw_cleanup() { slt_kill_pid "$SW_PID"; }
SLT_CLEANUP_HOOKS=(sw_cleanup "${SLT_CLEANUP_HOOKS[@]}")
for ((i = 0; i < 50; i++)); do
	[ -s "$SW_STATS" ] && break
	sleep 0.1
done
[ -s "$SW_STATS" ] || slt_fail "slswitch did not start: $(cat "$SLT_TMP/switch.log")"
slt_ok "slswitch between the $N ports: 10% loss, 50 ms +- 20 ms delay (reordering)"

slt_fleet_start
slt_fleet_wait_peered 60
slt_log "peers per node: $(slt_fleet_degrees)"
slt_fleet_watch_begin $((LEN - 1)) "$X_TIP" 110
T0=$(slt_now_ms)
slt_node_ctl 1 --json header.import path="$SLT_TMP/x.headers" >/dev/null || slt_fail "node 1: import X"
slt_fleet_watch_end "$T0"
CONVERGE_MS=$FLEET_MS
slt_ok "all $N nodes at $((LEN - 1)) over the impaired links $CONVERGE_MS ms after the import began (median node $FLEET_MED_MS ms)"

sw() { slt_json_get "$1" <"$SW_STATS"; }
sleep 0.6 # the switch rewrites its counters every 0.5 s
no_answer=$(slt_fleet_sum stats 'v["dataplane"]["total"]["hs_no_answer"]')
partial=$(slt_fleet_sum stats 'v["dataplane"]["total"]["hs_partial"]')
timeouts=$(slt_fleet_sum sync.status 'v["counters"]["timeouts"]')
# the delay is real: the nodes' own RTT to their peers (PING/PONG) crosses
# the switch twice
RTT=$(slt_fleet_api peers '" ".join(str(p["rtt_us"]) for p in v if p.get("rtt_us"))' |
	"$SLT_PY" -c 'import sys, statistics
r = [int(x) for ln in sys.stdin for x in ln.split()[1:]]
print(int(statistics.median(r)) // 1000 if r else 0)')
echo "fleet_impaired nodes=$N converge_ms=$CONVERGE_MS median_ms=$FLEET_MED_MS peer_rtt_median_ms=$RTT"
[ "$RTT" -ge 80 ] || slt_fail "the nodes' median RTT is $RTT ms: the switch did not delay 2 x 50 ms"
echo "fleet_impaired switch rx=$(sw rx) dropped=$(sw dropped) reordered=$(sw reordered) sent=$(sw sent)"
echo "fleet_impaired nodes_asked_again no_answer=$no_answer partial=$partial timeouts=$timeouts"
[ "$(sw dropped)" -gt 0 ] || slt_fail "the switch dropped nothing"
[ "$(sw reordered)" -gt 0 ] || slt_fail "the switch reordered nothing"
[ $((no_answer + partial + timeouts)) -gt 0 ] ||
	slt_fail "no node asked again for anything although the switch dropped $(sw dropped) frames"

slt_fleet_assert_same
slt_fleet_assert_clean_state
slt_fleet_settled_log
slt_fleet_stop
slt_log "PASS"
