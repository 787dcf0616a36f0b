#!/usr/bin/env bash
# hostile_matrix.sh — every case of slpeer.py's HOSTILE_CASES table (SPEC
# §2 malformed / silent drops, §3 stream checks, §4 HELLO admission, §5/§6
# undecodable payloads) against a real node, one at a time: the answer the
# SPEC fixes (silence, GOODBYE(PROTOCOL), REJECT, HELLO_ACK, PONG, PEERS)
# and, where the table names one, its drop counter moved in /sluice/stats
# (the stock telemetry client).  Meanwhile a well-behaved peer is held
# alive on its own address: after every case it still gets PONGs and is
# still in `sluicectl peers`.  The veth pair has a 1600-byte MTU so the
# oversize frame (1473-byte UDP payload) reaches the dataplane unfragmented.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool dpdk-telemetry.py
slt_require_bins
slt_init
slt_net_up
ip link set "$SLT_DEV" mtu 1600 || slt_fail "mtu $SLT_DEV"
ip -n "$SLT_NS" link set "$SLT_PEER" mtu 1600 || slt_fail "mtu $SLT_PEER"
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" dataplane keepalive_ms 500
slt_cfg_set "$SLT_CFG" dataplane hello_rate 1000
slt_cfg_set "$SLT_CFG" dataplane hello_burst 1000
slt_cfg_set "$SLT_CFG" admission max_peers 64
slt_cfg_set "$SLT_CFG" admission per_addr 64
# The node under test only answers: no dialling back the attackers'
# addresses (their unsolicited HELLOs would land in the cases' replies).
slt_cfg_set "$SLT_CFG" peers outbound 0
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
ATTACK_IP=10.$SLT_X.0.3
ALT_IP=10.$SLT_X.0.4
slt_ns_addr "$ATTACK_IP"
slt_ns_addr "$ALT_IP"
slt_nsexec ping -c 1 -W 2 "$SLT_DP_IP" >/dev/null || slt_fail "dp does not answer ping"
DST=$SLT_DP_IP:9747

slt_hold_start keeper --to "$DST" --bind "$SLT_NS_IP:43000" --seconds 600 --ping-every 0.2
SID_K=$(slt_hold_wait_ack keeper 10)
[[ "$SID_K" =~ ^[0-9]+$ ]] || slt_fail "keeper: want HELLO_ACK, got $SID_K"
slt_ok "keeper session $SID_K (PINGs every 0.2 s)"

# keeper_ok CASE: the keeper got a new PONG and is still in peers.
keeper_ok() {
	local n0 i
	n0=$(slt_hold_count keeper pong)
	for ((i = 0; i < 30; i++)); do
		[ "$(slt_hold_count keeper pong)" -gt "$n0" ] && break
		sleep 0.1
	done
	[ "$(slt_hold_count keeper pong)" -gt "$n0" ] ||
		slt_fail "after case $1 the well-behaved peer got no PONG for 3 s"
	grep -q '"event": "goodbye"' "$SLT_TMP/keeper.jsonl" &&
		slt_fail "after case $1 the well-behaved peer got a GOODBYE: $(grep -m1 goodbye "$SLT_TMP/keeper.jsonl")"
	slt_ctl --json peers | slt_jq "len([p for p in v if p['session'] == $SID_K])" | grep -qx 1 ||
		slt_fail "after case $1 the well-behaved peer is not in peers"
}

CASES=$("$SLT_PY" "$SLT_SLPEER" hostile --list |
	"$SLT_PY" -c 'import json,sys; [print(json.loads(l)["name"]) for l in sys.stdin]')
NCASES=$(echo "$CASES" | wc -l)
[ "$NCASES" -ge 20 ] || slt_fail "slpeer hostile --list gave $NCASES cases"
slt_log "$NCASES hostile cases"

FAILS=()
for c in $CASES; do
	before=$(slt_telemetry_json /sluice/stats) || slt_fail "telemetry /sluice/stats"
	slt_peer hostile --to "$DST" --bind "$ATTACK_IP:0" --alt-bind "$ALT_IP" --case "$c" \
		--wait 0.6 --probe 1.0 >"$SLT_TMP/case.json" 2>"$SLT_TMP/case.err"
	res=$(cat "$SLT_TMP/case.json")
	[ -n "$res" ] || slt_fail "slpeer hostile --case $c printed nothing: $(cat "$SLT_TMP/case.err")"
	sleep 0.2
	after=$(slt_telemetry_json /sluice/stats) || slt_fail "telemetry /sluice/stats"
	moved=$("$SLT_PY" -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(" ".join("%s:+%d" % (k[5:], int(b[k]) - int(a.get(k, 0)))
               for k in sorted(b) if k.startswith("drop_") and b[k] != a.get(k)))
' "$before" "$after")
	verdict=$(printf '%s' "$res" | slt_jq '"pass" if v["pass"] else "FAIL"')
	want=$(printf '%s' "$res" | slt_jq '"%s alive=%s" % (v["expect"], v["expect_alive"])')
	got=$(printf '%s' "$res" | slt_jq '"%s alive=%s" % (v["outcome"], v["alive"])')
	drop=$(printf '%s' "$res" | slt_jq 'v["drop"] or ""')
	if [ -n "$drop" ] && ! grep -qw "$drop:+[0-9]*" <<<"$moved"; then
		verdict=FAIL
		got="$got; drop_$drop did not move"
	fi
	slt_log "case $c: $verdict (want $want; got $got; drops moved: ${moved:-none})"
	[ "$verdict" = pass ] || FAILS+=("$c: want $want, got $got; replies $(printf '%s' "$res" | slt_jq 'v.get("replies")')")
	keeper_ok "$c"
done

if [ "${#FAILS[@]}" -gt 0 ]; then
	printf '  %s\n' "${FAILS[@]}"
	slt_fail "${#FAILS[@]} of $NCASES hostile cases not as SPEC says"
fi
slt_ok "all $NCASES hostile cases as SPEC says; the well-behaved peer served throughout"
slt_stop
slt_assert_clean
slt_log "PASS"
