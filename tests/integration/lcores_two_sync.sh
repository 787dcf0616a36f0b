#!/usr/bin/env bash
# lcores_two_sync.sh — a node with two worker lcores syncs from two servers
# (issue 10 item 7; DESIGN.md "Demux and sessions", dataplane/sl_handoff.h).
# Three nodes on one L2 segment, profile regtest.  sluice-chaingen writes
# 100,000 headers; servers A and B (one lcore each) import them; node C
# runs sluice-dp on two worker lcores (EAL -l 0-1, af_packet qpairs=2)
# and starts empty with [peers] bootstrap = A,B.  ctrl places C's two
# outbound sessions one per worker (the lcore with the most free slots),
# and the kernel's fanout hash picks each flow's RX queue on its own: a
# frame that lands on the other worker is handed to the owner.  C must
# reach tip 99999 with the generated tip hash within a bound (150 s), its
# header.export byte-identical (cmp) to the file.  Per worker of C
# (/sluice/lcores and ctrl's stats per lcore): each owns one session and
# accepted headers (hs_headers_rx > 0) and handled session frames
# (rt_frames > 0); no handoff_full drop; handoff_out of one worker equals
# handoff_in of the other.  Both servers served C.  Ends with the range
# table settled.  Prints sync_time_s=<x> and the per-worker figures.
. "$(dirname "$0")/lib.sh"
slt_require_root
slt_require_tools ip ethtool cmp
slt_require_bins
CHAINGEN=${SLUICE_CHAINGEN:-$(dirname "$SLUICE_CTRL")/chaingen/sluice-chaingen}
[ -x "$CHAINGEN" ] || slt_skip "sluice-chaingen not built ($CHAINGEN)"
N=${SLT_LCORES_SYNC_N:-100000}
TIP=$((N - 1))
BOUND=${SLT_SYNC_BOUND_S:-150}
slt_init
FILE=$SLT_TMP/chain.headers
"$CHAINGEN" -n "$N" -o "$FILE" 2>"$SLT_TMP/chaingen.err" ||
	slt_fail "sluice-chaingen: $(cat "$SLT_TMP/chaingen.err")"
WANT=$(sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.err")
[ -n "$WANT" ] || slt_fail "no tip hash from sluice-chaingen: $(cat "$SLT_TMP/chaingen.err")"
slt_log "chain: $N regtest headers, tip $TIP $WANT"

slt_lan_up 3
A=1 B=2 C=3
SLT_NODE_LCORES[$C]=2
for k in $A $B $C; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us 200
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
done
grep -q -- "-l 0-1" "${SLT_NODE_CFG[$C]}" && grep -q "qpairs=2" "${SLT_NODE_CFG[$C]}" ||
	slt_fail "C's config has no two lcores: $(cat "${SLT_NODE_CFG[$C]}")"
slt_cfg_set "${SLT_NODE_CFG[$C]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747,${SLT_NODE_IP[$B]}:9747"

# stat K KEY: node K's dataplane counter KEY summed over lcores.
stat() { slt_node_stats_json "$1" | slt_json_get "$2"; }

dump() {
	local k
	slt_log "C sync.status: $(slt_node_ctl $C --json sync.status 2>&1)"
	slt_log "C ranges: $(slt_node_ctl $C --json ranges 2>&1 | head -c 2000)"
	slt_log "C peers: $(slt_node_ctl $C --json peers 2>&1)"
	for k in $A $B $C; do
		slt_log "node $k stats: $(slt_node_ctl $k --json stats 2>&1 | head -c 3000)"
	done
}

for k in $A $B; do
	slt_node_start $k
done
for k in $A $B; do
	slt_node_wait_ready $k 30
	slt_node_ctl $k --json header.import path="$FILE" >"$SLT_TMP/imp$k" ||
		slt_fail "node $k: header.import: $(cat "$SLT_TMP/imp$k")"
	[ "$(slt_json_get tip_height <"$SLT_TMP/imp$k")" = $TIP ] ||
		slt_fail "node $k: import tip: $(cat "$SLT_TMP/imp$k")"
done
slt_ok "A and B imported heights 0..$TIP"
# Counters before C exists: what A and B serve from here on is C's.
A_GH0=$(stat $A hs_get_headers_rx) B_GH0=$(stat $B hs_get_headers_rx)
A_TX0=$(stat $A hs_headers_tx) B_TX0=$(stat $B hs_headers_tx)

# The clock starts with C's processes (C syncs once a session is up and a
# STATUS arrived; no sync.start needed).
T0=$("$SLT_PY" -c 'import time; print(time.monotonic())')
slt_node_start $C
slt_node_wait_ready $C 30
tip=
end=$((SECONDS + BOUND))
while [ $SECONDS -lt $end ]; do
	slt_node_ctl $C --json status >"$SLT_TMP/st" 2>/dev/null
	tip=$(slt_json_get tip_height <"$SLT_TMP/st" 2>/dev/null)
	[ "$tip" = $TIP ] && break
	for k in $A $B $C; do
		slt_alive "${SLT_NODE_DP_PID[$k]}" || slt_fail "node $k: sluice-dp died"
		slt_alive "${SLT_NODE_CTRL_PID[$k]}" || slt_fail "node $k: sluice-ctrl died"
	done
	sleep 0.2
done
DT=$("$SLT_PY" -c "import time; print(round(time.monotonic() - $T0, 2))")
if [ "$tip" != $TIP ]; then
	dump
	slt_fail "C: tip ${tip:-?} after $BOUND s (want $TIP)"
fi
echo "sync_time_s=$DT"
hash=$(slt_json_get tip_hash <"$SLT_TMP/st")
[ "$hash" = "$WANT" ] || slt_fail "C: tip hash $hash (want $WANT)"
slt_ok "C synced to $TIP ($hash) in $DT s ($("$SLT_PY" -c "print(int($N / $DT))") headers/s)"

# Fanout, from the servers' own counters: both answered GET_HEADERS with
# HEADERS frames.
A_GH=$(($(stat $A hs_get_headers_rx) - A_GH0)) B_GH=$(($(stat $B hs_get_headers_rx) - B_GH0))
A_TX=$(($(stat $A hs_headers_tx) - A_TX0)) B_TX=$(($(stat $B hs_headers_tx) - B_TX0))
echo "served A get_headers=$A_GH headers_frames=$A_TX share=$("$SLT_PY" -c "print(round($A_TX / max(1, $A_TX + $B_TX), 3))")"
echo "served B get_headers=$B_GH headers_frames=$B_TX share=$("$SLT_PY" -c "print(round($B_TX / max(1, $A_TX + $B_TX), 3))")"
[ "$A_GH" -gt 0 ] && [ "$A_TX" -gt 0 ] || { dump; slt_fail "A served nothing (GET_HEADERS $A_GH, HEADERS frames $A_TX)"; }
[ "$B_GH" -gt 0 ] && [ "$B_TX" -gt 0 ] || { dump; slt_fail "B served nothing (GET_HEADERS $B_GH, HEADERS frames $B_TX)"; }
slt_ok "both servers served C (A: $A_GH requests / $A_TX frames, B: $B_GH / $B_TX)"

# And from C's side: its sessions to A and B (by address) accepted headers.
slt_node_ctl $C --json peers >"$SLT_TMP/peers" || slt_fail "C: peers"
for k in $A $B; do
	sids=$(slt_jq '" ".join(str(p["session"]) for p in v if p["addr"] == "'"${SLT_NODE_IP[$k]}"':9747")' <"$SLT_TMP/peers")
	rx=0
	for s in $sids; do
		r=$(slt_node_ctl $C --json peer.show session="$s" 2>/dev/null |
			slt_jq 'v["counters"].get("hs_headers_rx", 0)') || r=0
		rx=$((rx + r))
	done
	echo "C received from node $k (${SLT_NODE_IP[$k]}): hs_headers_rx=$rx sessions=[${sids}]"
	if [ -n "$sids" ]; then
		[ "$rx" -gt 0 ] || slt_fail "C: its live session(s) $sids to node $k accepted no header"
	fi
done

# Per worker of C: both own a session and did the work of one.
slt_node_telemetry_json $C /sluice/lcores >"$SLT_TMP/lc.json" || slt_fail "C: /sluice/lcores"
lc() { slt_jq "v[\"$1\"][\"$2\"]" <"$SLT_TMP/lc.json"; }
for w in 0 1; do
	echo "C worker $w: sessions=$(lc $w sessions) rt_frames=$(lc $w rt_frames) hs_headers_rx=$(lc $w hs_headers_rx) handoff_out=$(lc $w handoff_out) handoff_in=$(lc $w handoff_in) rx_pkts=$(lc $w rx_pkts)"
done
for w in 0 1; do
	[ "$(lc $w sessions)" = 1 ] || slt_fail "C worker $w owns $(lc $w sessions) sessions (want 1)"
	[ "$(lc $w rt_frames)" -gt 0 ] || slt_fail "C worker $w handled no session frame"
	[ "$(lc $w hs_headers_rx)" -gt 0 ] || slt_fail "C worker $w accepted no header"
	[ "$(lc $w drop_handoff_full)" = 0 ] || slt_fail "C worker $w: handoff ring full"
done
[ "$(lc 0 handoff_out)" = "$(lc 1 handoff_in)" ] && [ "$(lc 1 handoff_out)" = "$(lc 0 handoff_in)" ] ||
	slt_fail "C: handed off and taken in differ"
slt_node_ctl $C --json stats >"$SLT_TMP/cstats" || slt_fail "C: stats"
[ "$(slt_jq '[l["sessions"] for l in v["dataplane"]["per_lcore"]]' <"$SLT_TMP/cstats")" = "[1, 1]" ] ||
	slt_fail "C: ctrl stats per lcore: $(slt_jq 'v["dataplane"]["per_lcore"]' <"$SLT_TMP/cstats" | head -c 2000)"
slt_ok "C's two workers each own one session and accepted headers"

slt_node_ctl $C --json header.export path="$SLT_TMP/c.headers" >/dev/null ||
	slt_fail "C: header.export failed"
cmp "$FILE" "$SLT_TMP/c.headers" || slt_fail "C's export differs from the file"
slt_ok "C's header.export is byte-identical to the file"

# The range table settles: nothing queued or held (bounded wait: the last
# deferred covers apply on the reactor's tick).
slt_node_settled $C 10
[ "$(slt_json_get counters.invalid <"$SLT_TMP/ss")" = 0 ] || slt_fail "C: invalid batches: $(cat "$SLT_TMP/ss")"
grep -q "invariant broken" "$SLT_TMP/ctrl$C.log" && slt_fail "C: the sweeper found the range table broken"
slt_ok "range table settled: queued 0, held 0, no live range, state synced"

slt_node_stop $A
slt_node_stop $B
slt_node_stop $C
slt_log "PASS"
