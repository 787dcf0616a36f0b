#!/usr/bin/env bash
# handshake_admission.sh — SPEC §4 and §9 with real processes: a HELLO from
# the namespace gets HELLO_ACK and the session shows in `sluicectl peers`
# (addr, node_id, streams, rtt_us; also --json and peer.show); a HELLO
# repeated with the same (node_id, nonce) gets the same HELLO_ACK; the
# admission policy answers REJECT with the SPEC codes CHAIN_MISMATCH (4),
# VERSION (3), DUPLICATE (6), BANNED (2, lifted by peer.unban), FULL (1, a
# node with max_peers = 1); HELLOs from one source faster than
# hello_rate/hello_burst are dropped in the dataplane (drop_hello_rate) or
# answered REJECT RATE_LIMITED (5), and never admitted beyond the bucket;
# peer.disconnect sends GOODBYE(ADMIN) and the session leaves peers.
# Every sub-test sends from its own netns address, so the per-source HELLO
# rate limit of one does not touch the others.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool dpdk-telemetry.py
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" dataplane keepalive_ms 200
slt_cfg_set "$SLT_CFG" dataplane hello_rate 2
slt_cfg_set "$SLT_CFG" dataplane hello_burst 5
slt_cfg_set "$SLT_CFG" admission max_peers 64
slt_cfg_set "$SLT_CFG" admission per_addr 64
slt_start_dp
slt_start_ctrl
slt_wait_ready 30

# Sources: .1 (the veth address) and one alias per sub-test.
ip_of() { echo "10.$SLT_X.0.$1"; }
for h in 3 4 5 6 7 8 9; do slt_ns_addr "$(ip_of $h)"; done
slt_nsexec ping -c 1 -W 2 "$SLT_DP_IP" >/dev/null || slt_fail "dp does not answer ping"
DST=$SLT_DP_IP:9747

# handshake OUT ARGS...: one `slpeer handshake` (its JSON line in $OUT).
handshake() {
	local out=$1
	shift
	slt_peer handshake --to "$DST" "$@" >"$SLT_TMP/$out.json" 2>"$SLT_TMP/$out.err"
	# (in $(...): report, do not exit; the caller's check fails)
	[ -s "$SLT_TMP/$out.json" ] || slt_log "slpeer handshake $* printed nothing: $(cat "$SLT_TMP/$out.err")" >&2
	head -n1 "$SLT_TMP/$out.json"
}

peers_json() { slt_ctl --json peers || slt_log "sluicectl --json peers failed" >&2; }

# ---- HELLO -> HELLO_ACK, the session in peers -----------------------------
slt_hold_start hold_a --to "$DST" --bind "$SLT_NS_IP:41001" --seconds 60 --ping-every 0.5
SID_A=$(slt_hold_wait_ack hold_a 10)
[[ "$SID_A" =~ ^[0-9]+$ ]] || slt_fail "hold from $SLT_NS_IP:41001: want HELLO_ACK, got $SID_A"
[ "$SID_A" != 0 ] || slt_fail "HELLO_ACK reply_session is 0"
ACK=$(grep -m1 '"event": "hello"' "$SLT_TMP/hold_a.jsonl")
STREAMS_A=$(printf '%s' "$ACK" | slt_jq '[i for i in range(32) if v["reply"]["streams_accepted"] >> i & 1]')
printf '%s' "$STREAMS_A" | slt_jq '0 in v and all(s in (0, 1, 5) for s in v)' | grep -qx true ||
	slt_fail "streams_accepted $STREAMS_A: want stream 0, a subset of the offered 0,1,5"
slt_ok "HELLO -> HELLO_ACK: session $SID_A, streams $STREAMS_A"

# rtt_us needs a few PING/PONG rounds (keepalive 200 ms).
for ((i = 0; i < 30; i++)); do
	P=$(peers_json)
	E=$(printf '%s' "$P" | slt_jq "[p for p in v if p.get('session') == $SID_A]")
	R=$(printf '%s' "$E" | slt_jq 'v[0].get("rtt_us", 0) if v else 0')
	[ "$R" != 0 ] && break
	sleep 0.2
done
printf '%s' "$P" | slt_jq 'isinstance(v, list)' | grep -qx true ||
	slt_fail "peers result is not a list (SPEC §9): $P"
[ "$(printf '%s' "$E" | slt_jq 'len(v)')" = 1 ] || slt_fail "session $SID_A not in peers: $P"
E=$(printf '%s' "$E" | slt_jq 'v[0]')
[ "$(printf '%s' "$E" | slt_jq 'v["addr"]')" = "$SLT_NS_IP:41001" ] ||
	slt_fail "peers addr: want $SLT_NS_IP:41001, got $E"
printf '%s' "$E" | slt_jq 'len(v["node_id"]) == 64 and int(v["node_id"], 16) >= 0' | grep -qx true ||
	slt_fail "peers node_id is not 32 bytes hex: $E"
[ "$(printf '%s' "$E" | slt_jq 'v["streams"]')" = "$STREAMS_A" ] ||
	slt_fail "peers streams: want $STREAMS_A (the HELLO_ACK), got $E"
printf '%s' "$E" | slt_jq 'isinstance(v["rtt_us"], int) and 0 < v["rtt_us"] < 1000000' | grep -qx true ||
	slt_fail "peers rtt_us: want 0 < rtt_us < 1 s after PING/PONG rounds, got $E"
slt_ok "peers --json: $E"
slt_ctl peers >"$SLT_TMP/peers.txt" || slt_fail "sluicectl peers failed"
grep -q "$SLT_NS_IP:41001" "$SLT_TMP/peers.txt" ||
	slt_fail "sluicectl peers (text) does not show $SLT_NS_IP:41001: $(cat "$SLT_TMP/peers.txt")"
S=$(slt_ctl --json peer.show session="$SID_A") || slt_fail "peer.show session=$SID_A failed"
[ "$(printf '%s' "$S" | slt_jq 'v.get("addr")')" = "$SLT_NS_IP:41001" ] ||
	slt_fail "peer.show: want addr $SLT_NS_IP:41001, got $S"
slt_ctl peer.show session=$((SID_A ^ 0x5a5a)) >/dev/null 2>&1
[ $? = 1 ] || slt_fail "peer.show of a session that is not live: want exit 1 (NOT_FOUND)"
slt_ok "sluicectl peers (text) and peer.show agree"

# The node_id in peers is the HELLO's.
NID=$(printf '%064x' $((RANDOM * 65536 + RANDOM)) | sed 's/^0000/beef/')
H=$(handshake nid --bind "$SLT_NS_IP:41002" --node-id "$NID")
[ "$(printf '%s' "$H" | slt_jq 'v["ok"]')" = true ] || slt_fail "handshake with node_id: $H"
E=$(peers_json | slt_jq "[p for p in v if p['addr'] == '$SLT_NS_IP:41002']")
[ "$(printf '%s' "$E" | slt_jq 'v[0]["node_id"] if v else None')" = "$NID" ] ||
	slt_fail "peers node_id: want $NID for $SLT_NS_IP:41002, got $E"
slt_ok "peers shows the HELLO's node_id"

# ---- idempotent repeat and duplicate (slpeer's hostile cases) --------------
# hostile IP CASE: one HOSTILE_CASES entry from IP; prints its JSON result.
hostile() {
	slt_peer hostile --to "$DST" --bind "$1:0" --case "$2" --wait 0.6 >"$SLT_TMP/h_$2.json" \
		2>"$SLT_TMP/h_$2.err"
	[ -s "$SLT_TMP/h_$2.json" ] || slt_log "slpeer hostile $2: $(cat "$SLT_TMP/h_$2.err")" >&2
	cat "$SLT_TMP/h_$2.json"
}
R=$(hostile "$(ip_of 3)" hello_repeat)
[ "$(printf '%s' "$R" | slt_jq 'v["outcome"]')" = hello_ack_same ] ||
	slt_fail "HELLO repeated with the same (node_id, nonce): want the same HELLO_ACK, got $R"
slt_ok "repeated HELLO (same node_id, nonce): the same HELLO_ACK (same reply_session)"
R=$(hostile "$(ip_of 4)" hello_duplicate_node_id)
[ "$(printf '%s' "$R" | slt_jq 'v["outcome"]')" = reject:DUPLICATE ] ||
	slt_fail "second HELLO for a live node_id (new nonce): want REJECT DUPLICATE, got $R"
[ "$(printf '%s' "$R" | slt_jq '[r["reason"] for r in v["replies"] if r["msg"] == "REJECT"]')" = "[6]" ] ||
	slt_fail "DUPLICATE must be code 6: $R"
[ "$(printf '%s' "$R" | slt_jq 'v["alive"]')" = true ] ||
	slt_fail "the first session of that node_id must stay up after the DUPLICATE: $R"
slt_ok "DUPLICATE (6) for a second HELLO of a live node_id; the first stays up"

# ---- REJECT reasons --------------------------------------------------------
# want_reject NAME CODE JSON
want_reject() {
	[ "$(printf '%s' "$3" | slt_jq 'v.get("reject")')" = "$1" ] ||
		slt_fail "want REJECT $1 ($2), got $3"
	slt_ok "REJECT $1 ($2)"
}
OTHER_CHAIN=$(printf '%064x' 12345)
want_reject CHAIN_MISMATCH 4 "$(handshake chain --bind "$(ip_of 5):0" --chain "$OTHER_CHAIN")"
want_reject VERSION 3 "$(handshake ver --bind "$(ip_of 6):0" --proto-min 2 --proto-max 2)"
H=$(handshake ver13 --bind "$(ip_of 6):0" --proto-min 1 --proto-max 3)
[ "$(printf '%s' "$H" | slt_jq 'v["ok"]')" = true ] ||
	slt_fail "HELLO with proto 1..3 (includes 1) must be admitted: $H"
slt_ok "proto range 1..3 admitted"

BAN_IP=$(ip_of 7)
slt_ctl peer.ban addr="$BAN_IP" seconds=60 >/dev/null || slt_fail "peer.ban addr=$BAN_IP"
want_reject BANNED 2 "$(handshake ban --bind "$BAN_IP:0")"
slt_ctl peer.unban addr="$BAN_IP" >/dev/null || slt_fail "peer.unban addr=$BAN_IP"
H=$(handshake unban --bind "$BAN_IP:0")
[ "$(printf '%s' "$H" | slt_jq 'v["ok"]')" = true ] || slt_fail "after peer.unban: want HELLO_ACK, got $H"
slt_ok "peer.unban lets $BAN_IP in again"

# ---- per-source HELLO rate (hello_rate 2/s, hello_burst 5) -----------------
RL_IP=$(ip_of 8)
D0=$(slt_ctl_stat drop_hello_rate) || slt_fail "no drop_hello_rate in sluicectl stats"
T0=$(date +%s.%N)
slt_peer handshake --to "$DST" --bind "$RL_IP:0" --count 30 --concurrency 30 --timeout 2 \
	>"$SLT_TMP/rate.json" 2>"$SLT_TMP/rate.err"
T1=$(date +%s.%N)
sleep 0.3
D1=$(slt_ctl_stat drop_hello_rate)
OK=$(grep -c '"ok": true' "$SLT_TMP/rate.json")
RL=$(grep -c '"reject": "RATE_LIMITED"' "$SLT_TMP/rate.json")
TO=$(grep -c '"timeout": true' "$SLT_TMP/rate.json")
OTHER=$((30 - OK - RL - TO))
EL=$("$SLT_PY" -c "print(int(float('$T1') - float('$T0') + 1))")
MAXOK=$((5 + 2 * EL))
slt_log "30 HELLOs (with retries) from $RL_IP in ~$EL s: $OK admitted, $RL RATE_LIMITED, $TO unanswered, drop_hello_rate +$((D1 - D0))"
[ "$OTHER" = 0 ] || slt_fail "rate test: $OTHER answers other than HELLO_ACK / RATE_LIMITED / none: $(grep -v '"ok": true' "$SLT_TMP/rate.json" | head -3)"
[ "$OK" -ge 1 ] || slt_fail "rate test: not even the burst was admitted"
[ "$OK" -le "$MAXOK" ] || slt_fail "rate test: $OK admitted, the bucket allows at most $MAXOK (burst 5 + 2/s)"
[ $((D1 - D0 + RL)) -gt 0 ] ||
	slt_fail "rate test: neither drop_hello_rate moved nor REJECT RATE_LIMITED came"
[ "$TO" = 0 ] || [ $((D1 - D0)) -gt 0 ] ||
	slt_fail "rate test: $TO HELLOs unanswered but drop_hello_rate did not move (dropped where?)"
H=$(handshake other --bind "$(ip_of 9):0")
[ "$(printf '%s' "$H" | slt_jq 'v["ok"]')" = true ] ||
	slt_fail "rate limit is per source: a HELLO from $(ip_of 9) must be admitted, got $H"
slt_ok "HELLO rate limited per source ($OK <= $MAXOK admitted); another source still admitted"

# ---- peer.disconnect -> GOODBYE(ADMIN), gone from peers ---------------------
slt_ctl peer.disconnect session="$SID_A" >/dev/null || slt_fail "peer.disconnect session=$SID_A"
for ((i = 0; i < 30; i++)); do
	[ "$(slt_hold_count hold_a goodbye)" -ge 1 ] && break
	sleep 0.1
done
G=$(grep -m1 '"event": "goodbye"' "$SLT_TMP/hold_a.jsonl") ||
	slt_fail "peer.disconnect: the peer got no GOODBYE"
[ "$(printf '%s' "$G" | slt_jq 'v["frame"]["reason"]')" = 3 ] ||
	slt_fail "peer.disconnect: want GOODBYE(ADMIN = 3), got $G"
for ((i = 0; i < 30; i++)); do
	N=$(peers_json | slt_jq "len([p for p in v if p.get('session') == $SID_A])")
	[ "$N" = 0 ] && break
	sleep 0.1
done
[ "$N" = 0 ] || slt_fail "session $SID_A still in peers 3 s after peer.disconnect"
slt_ctl peer.disconnect session="$SID_A" >/dev/null 2>&1
[ $? = 1 ] || slt_fail "peer.disconnect of a closed session: want exit 1"
slt_ok "peer.disconnect: GOODBYE(ADMIN) reached the peer, session gone from peers"
slt_stop

# ---- FULL: a node with max_peers = 1 ---------------------------------------
slt_cfg_set "$SLT_CFG" admission max_peers 1
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
slt_hold_start hold_full --to "$DST" --bind "$SLT_NS_IP:41010" --seconds 30
SID=$(slt_hold_wait_ack hold_full 10)
[[ "$SID" =~ ^[0-9]+$ ]] || slt_fail "max_peers 1: the first peer must be admitted, got $SID"
want_reject FULL 1 "$(handshake full --bind "$(ip_of 3):0")"
slt_stop
slt_assert_clean
slt_log "PASS"
