#!/usr/bin/env bash
# liveness_teardown.sh — SPEC §4 PING/PONG liveness and DESIGN.md's
# phi-accrual (phi = elapsed / (mean · ln 10), down above 16): with
# [dataplane] keepalive_ms = 100 the node PINGs every 100 ms, so a peer that
# stops answering is judged down about 16 · ln 10 · 0.1 s ≈ 3.7 s after its
# last PONG.  Two held sessions: A goes mute after 2 s and must receive
# GOODBYE(TIMEOUT) within [1.5 s, 3.7 s + 2.5 s] of going mute and leave
# `sluicectl peers`; B keeps answering and stays up all along, with the
# node's PONGs to its own PINGs still coming and rtt_us reported.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
KEEPALIVE_MS=100
slt_cfg_set "$SLT_CFG" dataplane keepalive_ms $KEEPALIVE_MS
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
slt_nsexec ping -c 1 -W 2 "$SLT_DP_IP" >/dev/null || slt_fail "dp does not answer ping"
DST=$SLT_DP_IP:9747

MUTE_AFTER=2
# Down bound: 16 · ln 10 · mean, mean = the keepalive interval.
DOWN_S=$("$SLT_PY" -c "import math; print(round(16 * math.log(10) * $KEEPALIVE_MS / 1000, 2))")
LO=1.5
HI=$("$SLT_PY" -c "print($DOWN_S + 2.5)")

slt_hold_start hold_b --to "$DST" --bind "$SLT_NS_IP:42002" --seconds 14 --ping-every 0.3
slt_hold_start hold_a --to "$DST" --bind "$SLT_NS_IP:42001" --seconds 14 --mute-after $MUTE_AFTER
SID_A=$(slt_hold_wait_ack hold_a 10)
SID_B=$(slt_hold_wait_ack hold_b 10)
[[ "$SID_A" =~ ^[0-9]+$ ]] || slt_fail "peer A: want HELLO_ACK, got $SID_A"
[[ "$SID_B" =~ ^[0-9]+$ ]] || slt_fail "peer B: want HELLO_ACK, got $SID_B"
slt_ok "sessions A=$SID_A (goes mute after $MUTE_AFTER s), B=$SID_B (keeps answering)"

sleep 1
P=$(slt_ctl --json peers) || slt_fail "sluicectl --json peers"
for s in "$SID_A" "$SID_B"; do
	[ "$(printf '%s' "$P" | slt_jq "len([p for p in v if p['session'] == $s])")" = 1 ] ||
		slt_fail "session $s not in peers while both answer: $P"
done
PA=$(slt_hold_count hold_a ping)
[ "$PA" -ge 5 ] || slt_fail "node sent A only $PA PINGs in ~1.5 s with keepalive_ms $KEEPALIVE_MS"
slt_ok "both in peers; the node PINGed A $PA times in ~1.5 s"

# Wait for A's end (its GOODBYE, or its 14 s).
for ((i = 0; i < 140; i++)); do
	grep -q '"event": "end"' "$SLT_TMP/hold_a.jsonl" && break
	grep -q '"event": "goodbye"' "$SLT_TMP/hold_a.jsonl" && break
	sleep 0.1
done
G=$(grep -m1 '"event": "goodbye"' "$SLT_TMP/hold_a.jsonl") ||
	slt_fail "A went mute and got no GOODBYE within 12 s: $(tail -n 3 "$SLT_TMP/hold_a.jsonl")"
M=$(grep -m1 '"event": "muted"' "$SLT_TMP/hold_a.jsonl") || slt_fail "A never muted"
[ "$(printf '%s' "$G" | slt_jq 'v["frame"]["reason"]')" = 4 ] ||
	slt_fail "A: want GOODBYE(TIMEOUT = 4), got $G"
DT=$("$SLT_PY" -c "import json; print(round(json.loads('''$G''')['t'] - json.loads('''$M''')['t'], 2))")
"$SLT_PY" -c "import sys; sys.exit(not ($LO <= $DT <= $HI))" ||
	slt_fail "A: GOODBYE(TIMEOUT) $DT s after going mute, want within [$LO, $HI] (phi 16 ≈ $DOWN_S s)"
slt_ok "A: GOODBYE(TIMEOUT) $DT s after going mute (phi 16 at ≈ $DOWN_S s)"

for ((i = 0; i < 20; i++)); do
	P=$(slt_ctl --json peers) || slt_fail "sluicectl --json peers"
	[ "$(printf '%s' "$P" | slt_jq "len([p for p in v if p['session'] == $SID_A])")" = 0 ] && break
	sleep 0.1
done
[ "$(printf '%s' "$P" | slt_jq "len([p for p in v if p['session'] == $SID_A])")" = 0 ] ||
	slt_fail "A ($SID_A) still in peers 2 s after its GOODBYE(TIMEOUT): $P"
E=$(printf '%s' "$P" | slt_jq "[p for p in v if p['session'] == $SID_B]")
[ "$(printf '%s' "$E" | slt_jq 'len(v)')" = 1 ] || slt_fail "B ($SID_B) left peers: $P"
printf '%s' "$E" | slt_jq 'isinstance(v[0]["rtt_us"], int) and 0 < v[0]["rtt_us"] < 1000000' |
	grep -qx true || slt_fail "B: want 0 < rtt_us < 1 s, got $E"
slt_ok "A gone from peers (SESSION_DOWN), B still there: $E"

# B keeps getting PONGs after A's teardown and no GOODBYE at all.
N0=$(slt_hold_count hold_b pong)
sleep 1.5
N1=$(slt_hold_count hold_b pong)
[ "$N1" -gt "$N0" ] || slt_fail "B got no PONG in 1.5 s after A's teardown ($N0 -> $N1)"
if grep -q '"event": "goodbye"' "$SLT_TMP/hold_b.jsonl"; then
	slt_fail "B (answering) got a GOODBYE: $(grep -m1 '"event": "goodbye"' "$SLT_TMP/hold_b.jsonl")"
fi
RTT=$(grep '"event": "pong"' "$SLT_TMP/hold_b.jsonl" | tail -n1 | slt_jq 'v["rtt_us"]')
slt_ok "B answered throughout: $N1 PONGs, last RTT ${RTT} us seen by the peer"

slt_stop
slt_assert_clean
slt_log "PASS"
