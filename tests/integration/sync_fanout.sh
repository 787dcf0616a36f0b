#!/usr/bin/env bash
# sync_fanout.sh — one empty node syncs from two servers at once (SPEC §5
# header-sync, §9 sync.status / ranges / stats; DESIGN.md "The range
# table": work from several peers).  Three nodes on one L2 segment, profile
# regtest.  sluice-chaingen writes 200,000 headers (heights 0..199999);
# nodes A and B import them (header.import); node C starts empty with
# [peers] bootstrap = A,B.  C must reach tip 199999 with the generated tip
# hash within a bound (150 s), by header sync alone; its header.export is
# byte-identical (cmp) to the file.  Fanout: BOTH servers served C — each
# server's dataplane counters hs_get_headers_rx (GET_HEADERS decoded) and
# hs_headers_tx (HEADERS frames sent) moved (> 0), and C's per-session
# hs_headers_rx (headers accepted, peer.show) is > 0 for each server whose
# session is still live; and C's duplicate headers (sync.status dup) stay
# under N/4 (fresh work before a second holder).  Prints sync_time_s=<x> and each server's share.
# Ends with the range table settled: queued 0, held 0, no live range,
# state synced, no invalid batch, no broken invariant logged.  (No session
# dies here, so there is no hold of a dead session to look for: that is
# sync_crash_resume's, at the moment a holding session goes down.)
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool cmp
slt_require_bins
CHAINGEN=${SLUICE_CHAINGEN:-$(dirname "$SLUICE_CTRL")/chaingen/sluice-chaingen}
[ -x "$CHAINGEN" ] || slt_skip "sluice-chaingen not built ($CHAINGEN)"
N=${SLT_FANOUT_N:-200000}
C_LCORES=${SLT_FANOUT_C_LCORES:-1} # C's worker lcores (lcores_two_sync.sh: 2)
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
[ "$C_LCORES" -gt 1 ] && SLT_NODE_LCORES[$C]=$C_LCORES
for k in $A $B $C; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us 200
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
done
if [ "$C_LCORES" -gt 1 ]; then
	grep -q -- "-l 0-$((C_LCORES - 1))" "${SLT_NODE_CFG[$C]}" &&
		grep -q "qpairs=$C_LCORES" "${SLT_NODE_CFG[$C]}" ||
		slt_fail "C's config has not $C_LCORES lcores: $(cat "${SLT_NODE_CFG[$C]}")"
fi
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
# Two servers, one copy: fresh work goes to a peer before a second holder
# is added, and only on the range the commit waits for (sl_rangeq_take),
# and a delivered range is never split and fetched again (the reactor's
# cover) — C's duplicate headers stay under a quarter of the chain (two
# holders on every range, as before, made them half or more).
dup=$(slt_json_get counters.dup <"$SLT_TMP/ss")
echo "duplicate_headers=$dup of $N"
[ "${dup:-$N}" -lt $((N / 4)) ] || slt_fail "C: $dup duplicate headers for $N (both servers fetched the same heights)"
slt_ok "C fetched $dup duplicate headers for $N"
# A scenario that sources this one adds its checks here (lcores_two_sync.sh).
if declare -F fanout_after >/dev/null; then
	fanout_after
fi

slt_node_stop $A
slt_node_stop $B
slt_node_stop $C
slt_log "PASS"
