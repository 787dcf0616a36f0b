#!/usr/bin/env bash
# lcores_two_sessions.sh — sessions on every worker lcore (issue 10 item 7;
# DESIGN.md "Demux and sessions", dataplane/sl_handoff.h).  One node with
# two worker lcores (EAL -l 0-1, af_packet qpairs=2) dials N responders
# (slpeer serve, kernel UDP in the netns, one port each).  ctrl places the
# outbound sessions on the lcore with the most free slots, so they alternate
# between the two workers, while the kernel's fanout hash picks the RX
# queue of each flow on its own: some flows land on the worker that does
# not own their session.  Proves:
#   every session comes up (its HELLO_ACK names our session id and is
#   handled by the owning worker, wherever it arrived) and stays up for a
#   few keepalive rounds (PING / PONG on every session);
#   both workers own sessions and handle session frames (rt_frames), in
#   ctrl's stats per lcore and in /sluice/lcores;
#   frames were handed off (handoff_out on one worker, handoff_in on the
#   other, equal sums) rather than dropped: no handoff_full, no
#   sl_no_session drop, and every session received frames (/sluice/sessions).
# With N flows hashed at random, none misplaced has odds 2^-N.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
N=${SLT_RESPONDERS:-10}
SLT_LCORES=${SLT_TWO_SESSIONS_LCORES:-2}
slt_init
slt_lan_up 1
B=1
slt_node_config $B >/dev/null
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers connect_timeout_ms 5000
slt_cfg_set "${SLT_NODE_CFG[$B]}" dataplane keepalive_ms 200
slt_cfg_set "${SLT_NODE_CFG[$B]}" dataplane idle_sleep_us 100
if [ "$SLT_LCORES" = 2 ]; then
	grep -q "qpairs=2" "${SLT_NODE_CFG[$B]}" && grep -q -- "-l 0-1" "${SLT_NODE_CFG[$B]}" ||
		slt_fail "node config has no two lcores: $(cat "${SLT_NODE_CFG[$B]}")"
fi

for ((r = 0; r < N; r++)); do
	slt_serve_start "srv$r" --bind "$SLT_NS_IP:$((9800 + r))" --seconds 60
done
for ((r = 0; r < N; r++)); do
	for ((i = 0; i < 50; i++)); do
		grep -q '"listening"' "$SLT_TMP/srv$r.jsonl" 2>/dev/null && break
		sleep 0.1
	done
	grep -q '"listening"' "$SLT_TMP/srv$r.jsonl" || slt_fail "responder $r: $(cat "$SLT_TMP/srv$r.err")"
done
slt_node_start $B
slt_node_wait_ready $B 30
for ((r = 0; r < N; r++)); do
	slt_node_ctl $B --json peer.connect addr="$SLT_NS_IP:$((9800 + r))" >"$SLT_TMP/c$r" ||
		slt_fail "peer.connect $SLT_NS_IP:$((9800 + r)): $(cat "$SLT_TMP/c$r" "$SLT_TMP/srv$r.jsonl" "$SLT_TMP/srv$r.err")"
done

up=0
for ((i = 0; i < 100; i++)); do
	up=$(slt_node_ctl $B --json peers 2>/dev/null | slt_jq 'len([p for p in v if p["state"] == "up"])')
	[ "${up:-0}" = "$N" ] && break
	sleep 0.1
done
if [ "${up:-0}" != "$N" ]; then
	slt_log "peers: $(slt_node_ctl $B --json peers 2>&1 | head -c 3000)"
	slt_log "/sluice/lcores: $(slt_node_telemetry_json $B /sluice/lcores 2>&1 | head -c 3000)"
	slt_fail "$up of $N sessions up after 10 s"
fi
slt_ok "$N outbound sessions up on a node with two worker lcores"
sleep 2 # keepalive rounds (200 ms): PING / PONG on every session
up=$(slt_node_ctl $B --json peers | slt_jq 'len([p for p in v if p["state"] == "up"])')
[ "$up" = "$N" ] || slt_fail "$up of $N sessions still up after 2 s of keepalives"

slt_node_telemetry_json $B /sluice/lcores >"$SLT_TMP/lc.json" || slt_fail "/sluice/lcores"
slt_node_ctl $B --json stats >"$SLT_TMP/stats.json" || slt_fail "stats"
slt_node_telemetry_json $B /sluice/sessions >"$SLT_TMP/sess.json" || slt_fail "/sluice/sessions"
slt_log "per lcore: $(slt_jq '{k: {f: v[k][f] for f in ("sessions", "rx_pkts", "rt_frames", "handoff_out", "handoff_in", "drop_handoff_full", "drop_sl_no_session")} for k in v}' <"$SLT_TMP/lc.json")"

lc() { slt_jq "v[\"$1\"][\"$2\"]" <"$SLT_TMP/lc.json"; }
for w in 0 1; do
	[ "$(lc $w sessions)" -ge 1 ] || slt_fail "worker $w owns no session"
	[ "$(lc $w rt_frames)" -gt 0 ] || slt_fail "worker $w handled no session frame"
	[ "$(lc $w drop_handoff_full)" = 0 ] || slt_fail "worker $w: handoff ring full"
	[ "$(lc $w drop_sl_no_session)" = 0 ] ||
		slt_fail "worker $w dropped $(lc $w drop_sl_no_session) frames as no-session"
done
s0=$(lc 0 sessions) s1=$(lc 1 sessions)
[ $((s0 + s1)) = "$N" ] || slt_fail "sessions per worker $s0 + $s1, want $N"
[ $((s0 - s1)) -le 1 ] && [ $((s1 - s0)) -le 1 ] ||
	slt_fail "sessions not spread over the workers: $s0 / $s1"
slt_ok "both workers own sessions ($s0 / $s1) and handle their frames"

out=$(($(lc 0 handoff_out) + $(lc 1 handoff_out)))
in=$(($(lc 0 handoff_in) + $(lc 1 handoff_in)))
[ "$out" -gt 0 ] || slt_fail "no frame handed off: all $N flows hashed to their owner (odds 2^-$N)?"
# ARP replies are shared with every worker: counted out and in alike.
[ "$in" = "$out" ] || slt_fail "handed off $out, taken in $in"
slt_ok "frames handed to their owner: $out out, $in in, none dropped"

# ctrl's stats show the same split (per_lcore sessions and counters)
ctl=$(slt_jq '[[l["sessions"], l["counters"]["rt_frames"] > 0, l["counters"]["handoff_in"]] for l in v["dataplane"]["per_lcore"]]' <"$SLT_TMP/stats.json")
slt_log "ctrl stats per lcore [sessions, rt_frames > 0, handoff_in]: $ctl"
[ "$(slt_jq '[l["sessions"] for l in v["dataplane"]["per_lcore"]]' <"$SLT_TMP/stats.json")" = "[$s0, $s1]" ] ||
	slt_fail "ctrl stats per_lcore sessions: $ctl (telemetry: $s0 / $s1)"

# every session received frames, on its owner
silent=$(slt_jq '[k for k in v if v[k]["rx_frames"] == 0]' <"$SLT_TMP/sess.json")
[ "$silent" = "[]" ] || slt_fail "sessions without frames: $silent"
owners=$(slt_jq 'sorted(set(v[k]["lcore"] for k in v))' <"$SLT_TMP/sess.json")
[ "$owners" = "[0, 1]" ] || slt_fail "session owners $owners (want [0, 1])"
slt_ok "every session received frames; owners $owners"

slt_node_stop $B
slt_ok "clean stop with two workers"
