#!/usr/bin/env bash
# sync_two_nodes.sh — two real nodes sync a real chain (SPEC §5 header-sync,
# §9 sync.status / ranges).  Two nodes on one L2 segment, profile
# bitcoin-test3.  Node A imports testnet3 heights 0..9999 (header.import);
# node B starts with an empty store and [peers] bootstrap = A.  B must reach
# tip 9999 with the README tip hash within a bound (120 s), by header sync
# alone; its header.export is byte-identical (cmp) to the file.  Prints
# sync_time_s=<x> and B's sync.status, and checks the range table at the
# end: nothing queued or held, no live range, state synced.  (No session
# dies here, so there is no hold of a dead session to look for: that is
# sync_crash_resume's, at the moment a holding session goes down.)
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool cmp
slt_require_bins
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
T3_TIP=000000001655e2a7293f28383a2965b2f0add77fd6ac383986e90971a07467d4
BOUND=${SLT_SYNC_BOUND_S:-120}
slt_init
slt_pair_up bitcoin-test3
for k in $A $B; do
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us 200
done

# dump_b: what B sees, for a failure report.
dump_b() {
	slt_log "B sync.status: $(slt_node_ctl $B --json sync.status 2>&1)"
	slt_log "B ranges: $(slt_node_ctl $B --json ranges 2>&1 | head -c 2000)"
	slt_log "B peers: $(slt_node_ctl $B --json peers 2>&1)"
	slt_log "B stats: $(slt_node_ctl $B --json stats 2>&1 | head -c 4000)"
	slt_log "B /sluice/stats: $(slt_node_telemetry_json $B 2>&1 | head -c 3000)"
	slt_log "A /sluice/stats: $(slt_node_telemetry_json $A 2>&1 | head -c 3000)"
}

slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$T3" >"$SLT_TMP/imp" ||
	slt_fail "A: header.import: $(cat "$SLT_TMP/imp")"
[ "$(slt_json_get tip_height <"$SLT_TMP/imp")" = 9999 ] ||
	slt_fail "A: import tip: $(cat "$SLT_TMP/imp")"
slt_ok "A imported testnet3 0..9999"

# The clock starts with B's processes: B syncs as soon as its session to A
# is up and A's STATUS arrived (no sync.start needed).
T0=$("$SLT_PY" -c 'import time; print(time.monotonic())')
slt_node_start $B
slt_node_wait_ready $B 30
tip=
for ((i = 0; i < BOUND * 5; i++)); do
	slt_node_ctl $B --json status >"$SLT_TMP/st" 2>/dev/null
	tip=$(slt_json_get tip_height <"$SLT_TMP/st" 2>/dev/null)
	[ "$tip" = 9999 ] && break
	slt_alive "${SLT_NODE_DP_PID[$B]}" || slt_fail "B: sluice-dp died"
	slt_alive "${SLT_NODE_CTRL_PID[$B]}" || slt_fail "B: sluice-ctrl died"
	sleep 0.2
done
DT=$("$SLT_PY" -c "import time; print(round(time.monotonic() - $T0, 2))")
if [ "$tip" != 9999 ]; then
	dump_b
	slt_fail "B: tip ${tip:-?} after $BOUND s (want 9999)"
fi
echo "sync_time_s=$DT"
hash=$(slt_json_get tip_hash <"$SLT_TMP/st")
[ "$hash" = "$T3_TIP" ] || slt_fail "B: tip hash $hash (want $T3_TIP)"
slt_ok "B synced to 9999 ($hash) in $DT s"

slt_node_ctl $B --json header.export path="$SLT_TMP/b.headers" >/dev/null ||
	slt_fail "B: header.export failed"
cmp "$T3" "$SLT_TMP/b.headers" || slt_fail "B's export differs from the file"
slt_ok "B's header.export is byte-identical to the file"

# The range table settles: nothing queued or held (bounded wait: the last
# deferred covers apply on the reactor's tick).
slt_node_settled $B 10
slt_ok "range table settled: queued 0, held 0, no live range, state synced"

# B's ctrl logged the run: its start, and its end once 9999 was durable.
grep -q "sync: from height 0 toward 9999$" "$SLT_TMP/ctrl$B.log" ||
	slt_fail "B's ctrl did not log the sync's start: $(grep 'sync: ' "$SLT_TMP/ctrl$B.log")"
grep -qE "sync: at height 9999: 9999 headers in [0-9.]+ s \([0-9]+ headers/s\)$" "$SLT_TMP/ctrl$B.log" ||
	slt_fail "B's ctrl did not log the sync's end: $(grep 'sync: ' "$SLT_TMP/ctrl$B.log")"
slt_ok "B's ctrl logged the sync run: $(grep -o 'sync: at height.*' "$SLT_TMP/ctrl$B.log")"

slt_node_stop $A
slt_node_stop $B
slt_log "PASS"
