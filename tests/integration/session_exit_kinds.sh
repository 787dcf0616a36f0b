#!/usr/bin/env bash
# session_exit_kinds.sh — issue 3, item 3: one teardown path shared by every
# exit kind (dataplane/lib/sl_msg.h SL_EXIT_LIST), SessionDown emitted
# exactly once per session.  With [dataplane] keepalive_ms = 100 one session
# is driven into each exit kind in turn, and after each `sluicectl --json
# stats` .sessions must show down_by_exit.<kind> moved by exactly 1 (every
# other kind unchanged), down_repeated still 0 (no SESSION_DOWN for a session
# already reported down), and `peers` must no longer list the session:
#   normal        the peer sends GOODBYE(SHUTDOWN)
#   cancel        `sluicectl peer.disconnect` (the peer gets GOODBYE(ADMIN))
#   stream_close  a discovery-only session (streams 0,1 offered) asks
#                 GET_PEERS, gets PEERS, and is closed at [dataplane]
#                 settle_ms with GOODBYE(PARKED_IDLE)
#   protocol      a PING with an undecodable (7-byte) payload:
#                 GOODBYE(PROTOCOL)
#   local         `sluicectl peer.connect` to an address in the netns where
#                 nothing listens, [peers] connect_timeout_ms 500: the API
#                 answers TIMEOUT and the connecting slot goes down (local)
#   liveness      a peer that stops answering PINGs: GOODBYE(TIMEOUT)
#   fault         a routine invariant broken: the TEST-ONLY knob [dataplane]
#                 fault_inject_ping = 4242424242424242 makes the session
#                 routine corrupt its own peer state on a PING with that
#                 sender time; the invariant check after the routine run
#                 faults the session: GOODBYE(SHUTDOWN), routine_faults +1
#                 in /sluice/stats, while another held session stays up
#                 (then ended by peer.disconnect: cancel +1)
# At the end down_total equals the sum of down_by_exit and the number of
# sessions this test created (8).
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_require_test_hooks
SLT_EXPECT_FAULTS=1 # the fault hook breaks a routine invariant on purpose
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" dataplane keepalive_ms 100
slt_cfg_set "$SLT_CFG" dataplane settle_ms 1000
slt_cfg_set "$SLT_CFG" peers connect_timeout_ms 500
FAULT_PING=4242424242424242
slt_cfg_set "$SLT_CFG" dataplane fault_inject_ping "$FAULT_PING"
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
slt_nsexec ping -c 1 -W 2 "$SLT_DP_IP" >/dev/null || slt_fail "dp does not answer ping"
DST=$SLT_DP_IP:9747
KINDS="normal cancel stream_close protocol local liveness fault"
CREATED=0

# One session driven by slpeer's Peer: MODE normal | stream_close | protocol.
# Prints one JSON line {session, streams, peers_answer, goodbye}.
DRIVE=$SLT_TMP/drive.py
cat >"$DRIVE" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
import slpeer as sp

mode, dst, bind = sys.argv[2], sys.argv[3], sys.argv[4]
dst = (dst.split(":")[0], int(dst.split(":")[1]))
p = sp.Peer(bind=(bind.split(":")[0], int(bind.split(":")[1])))
streams = 0b11 if mode == "stream_close" else sp.STREAMS_DEFAULT
r = p.hello(dst, streams=streams, timeout=5.0)
if r is None or r.get("msg") != "HELLO_ACK":
    print(json.dumps({"error": "no HELLO_ACK", "reply": repr(r)}))
    sys.exit(1)
out = {"session": p.session, "streams": p.streams}
if mode == "normal":
    p.run_for(0.5)
    p.goodbye(sp.GOODBYE["SHUTDOWN"])
elif mode == "stream_close":
    ents = p.get_peers(timeout=2.0)
    out["peers_answer"] = None if ents is None else len(ents)
    p.run_for(8.0)  # answers PINGs; stops on the node's GOODBYE
elif mode == "protocol":
    p.run_for(0.3)
    p.send_raw(sp._ping_frame(p, payload=bytes(7)))
    p.run_for(4.0)
elif mode == "fault":
    p.run_for(0.3)
    p.send(sp.S_SESSION, sp.T_PING,
           payload=sp.encode_payload("PING", sender_time_ns=int(sys.argv[5])))
    p.run_for(4.0)
out["goodbye"] = p.closed
print(json.dumps(out))
EOF
drive() { slt_nsexec "$SLT_PY" "$DRIVE" "$SLT_SRC/tests/integration" "$@"; }

# sessions: the "sessions" block of `sluicectl --json stats`.
sessions() { slt_ctl --json stats | slt_jq 'v["sessions"]'; }
down_of() { printf '%s' "$1" | slt_jq "v['down_by_exit']['$2']"; }

S0=$(sessions) || slt_fail "sluicectl --json stats"
for k in $KINDS; do
	[ "$(down_of "$S0" "$k")" = 0 ] || slt_fail "down_by_exit.$k not 0 at start: $S0"
done
[ "$(printf '%s' "$S0" | slt_jq 'v["down_total"]')" = 0 ] || slt_fail "down_total not 0: $S0"
[ "$(printf '%s' "$S0" | slt_jq 'v["down_repeated"]')" = 0 ] || slt_fail "down_repeated not 0: $S0"
slt_ok "stats.sessions has down_by_exit ($KINDS), down_total, down_repeated, all 0"
PREV=$S0

# expect_down KIND SID: down_by_exit.KIND reaches +1 within 8 s and is still
# exactly +1 half a second later, every other kind and down_repeated
# unchanged, and session SID (if given) gone from peers.
expect_down() {
	local kind=$1 sid=$2 want cur i k p
	want=$(($(down_of "$PREV" "$kind") + 1))
	for ((i = 0; i < 80; i++)); do
		cur=$(sessions) || slt_fail "sluicectl --json stats"
		[ "$(down_of "$cur" "$kind")" -ge "$want" ] && break
		sleep 0.1
	done
	sleep 0.5
	cur=$(sessions) || slt_fail "sluicectl --json stats"
	[ "$(down_of "$cur" "$kind")" = "$want" ] ||
		slt_fail "$kind: down_by_exit.$kind want $want, got $(down_of "$cur" "$kind") ($cur)"
	for k in $KINDS; do
		[ "$k" = "$kind" ] && continue
		[ "$(down_of "$cur" "$k")" = "$(down_of "$PREV" "$k")" ] ||
			slt_fail "$kind: down_by_exit.$k moved too ($(down_of "$PREV" "$k") -> $(down_of "$cur" "$k"))"
	done
	[ "$(printf '%s' "$cur" | slt_jq 'v["down_repeated"]')" = 0 ] ||
		slt_fail "$kind: down_repeated $(printf '%s' "$cur" | slt_jq 'v["down_repeated"]') (SESSION_DOWN twice)"
	if [ -n "$sid" ]; then
		p=$(slt_ctl --json peers) || slt_fail "sluicectl --json peers"
		[ "$(printf '%s' "$p" | slt_jq "len([x for x in v if x['session'] == $sid])")" = 0 ] ||
			slt_fail "$kind: session $sid still in peers: $p"
	fi
	PREV=$cur
	CREATED=$((CREATED + 1))
	slt_ok "$kind: down_by_exit.$kind = $want, others unchanged, down_repeated 0${sid:+, session $sid gone from peers}"
}

# ---- normal: the peer's GOODBYE(SHUTDOWN) ------------------------------------
R=$(drive normal "$DST" "$SLT_NS_IP:42011") || slt_fail "normal: $R"
SID=$(printf '%s' "$R" | slt_jq 'v["session"]')
expect_down normal "$SID"

# ---- cancel: peer.disconnect -------------------------------------------------
slt_hold_start cancel --to "$DST" --bind "$SLT_NS_IP:42012" --seconds 10
SID=$(slt_hold_wait_ack cancel 10)
[[ "$SID" =~ ^[0-9]+$ ]] || slt_fail "cancel: want HELLO_ACK, got $SID"
sleep 0.3
slt_ctl peer.disconnect session="$SID" >/dev/null || slt_fail "peer.disconnect session=$SID"
expect_down cancel "$SID"
G=$(grep -m1 '"event": "goodbye"' "$SLT_TMP/cancel.jsonl") || slt_fail "cancel: the peer got no GOODBYE"
[ "$(printf '%s' "$G" | slt_jq 'v["frame"]["reason"]')" = 3 ] ||
	slt_fail "cancel: want GOODBYE(ADMIN = 3), got $G"

# ---- stream_close: discovery-only session ------------------------------------
R=$(drive stream_close "$DST" "$SLT_NS_IP:42013") || slt_fail "stream_close: $R"
SID=$(printf '%s' "$R" | slt_jq 'v["session"]')
[ "$(printf '%s' "$R" | slt_jq 'v["streams"]')" = 3 ] ||
	slt_fail "stream_close: want streams 0,1 accepted (3), got $R"
[ "$(printf '%s' "$R" | slt_jq 'v["peers_answer"] is not None')" = true ] ||
	slt_fail "stream_close: GET_PEERS got no PEERS: $R"
[ "$(printf '%s' "$R" | slt_jq 'v["goodbye"]')" = 5 ] ||
	slt_fail "stream_close: want GOODBYE(PARKED_IDLE = 5), got $R"
slt_ok "stream_close: PEERS answered, then GOODBYE(PARKED_IDLE): $R"
expect_down stream_close "$SID"

# ---- protocol: undecodable PING payload --------------------------------------
R=$(drive protocol "$DST" "$SLT_NS_IP:42014") || slt_fail "protocol: $R"
SID=$(printf '%s' "$R" | slt_jq 'v["session"]')
[ "$(printf '%s' "$R" | slt_jq 'v["goodbye"]')" = 2 ] ||
	slt_fail "protocol: want GOODBYE(PROTOCOL = 2), got $R"
expect_down protocol "$SID"

# ---- local: peer.connect to where nothing listens ----------------------------
OUT=$(slt_ctl --json peer.connect addr="$SLT_NS_IP:9747" 2>&1) &&
	slt_fail "local: peer.connect to $SLT_NS_IP:9747 (nothing there) succeeded: $OUT"
printf '%s' "$OUT" | grep -q TIMEOUT || slt_fail "local: want a TIMEOUT error, got: $OUT"
slt_ok "local: peer.connect answered $OUT"
expect_down local ""
P=$(slt_ctl --json peers) || slt_fail "sluicectl --json peers"
[ "$(printf '%s' "$P" | slt_jq "len([x for x in v if x['addr'] == '$SLT_NS_IP:9747'])")" = 0 ] ||
	slt_fail "local: the connecting slot is still in peers: $P"

# ---- liveness: a muted peer --------------------------------------------------
slt_hold_start live --to "$DST" --bind "$SLT_NS_IP:42016" --seconds 12 --mute-after 1
SID=$(slt_hold_wait_ack live 10)
[[ "$SID" =~ ^[0-9]+$ ]] || slt_fail "liveness: want HELLO_ACK, got $SID"
expect_down liveness "$SID"
G=$(grep -m1 '"event": "goodbye"' "$SLT_TMP/live.jsonl") || slt_fail "liveness: the peer got no GOODBYE"
[ "$(printf '%s' "$G" | slt_jq 'v["frame"]["reason"]')" = 4 ] ||
	slt_fail "liveness: want GOODBYE(TIMEOUT = 4), got $G"

# ---- fault: a routine invariant broken (test-only knob) ----------------------
F0=$(slt_telemetry routine_faults) || slt_fail "telemetry /sluice/stats unreadable"
[ "$F0" = 0 ] || slt_fail "fault: routine_faults $F0 before any fault"
slt_hold_start bystander --to "$DST" --bind "$SLT_NS_IP:42018" --seconds 30
BSID=$(slt_hold_wait_ack bystander 10)
[[ "$BSID" =~ ^[0-9]+$ ]] || slt_fail "fault: bystander wants HELLO_ACK, got $BSID"
R=$(drive fault "$DST" "$SLT_NS_IP:42017" "$FAULT_PING") || slt_fail "fault: $R"
SID=$(printf '%s' "$R" | slt_jq 'v["session"]')
[ "$(printf '%s' "$R" | slt_jq 'v["goodbye"]')" = 1 ] ||
	slt_fail "fault: want GOODBYE(SHUTDOWN = 1), got $R"
expect_down fault "$SID"
F1=$(slt_telemetry routine_faults) || slt_fail "telemetry /sluice/stats unreadable"
[ "$F1" = 1 ] || slt_fail "fault: routine_faults want 1, got $F1"
N=$(grep -c "session $(printf '%08x' "$SID") routine fault: " "$SLT_TMP/dp.log")
[ "$N" = 1 ] || slt_fail "fault: want one 'routine fault' log line for $SID, got $N"
P=$(slt_ctl --json peers) || slt_fail "sluicectl --json peers"
[ "$(printf '%s' "$P" | slt_jq "len([x for x in v if x['session'] == $BSID])")" = 1 ] ||
	slt_fail "fault: the bystander session $BSID went down too: $P"
[ "$(slt_hold_count bystander goodbye)" = 0 ] || slt_fail "fault: the bystander got a GOODBYE"
slt_ok "fault: GOODBYE(SHUTDOWN), routine_faults 0 -> 1, bystander $BSID still up"
slt_ctl peer.disconnect session="$BSID" >/dev/null || slt_fail "peer.disconnect session=$BSID"
expect_down cancel "$BSID"

# ---- totals ------------------------------------------------------------------
sleep 1
S=$(sessions) || slt_fail "sluicectl --json stats"
SUM=$(printf '%s' "$S" | slt_jq 'sum(v["down_by_exit"].values())')
TOT=$(printf '%s' "$S" | slt_jq 'v["down_total"]')
[ "$(down_of "$S" fault)" = 1 ] || slt_fail "down_by_exit.fault want 1: $S"
[ "$TOT" = "$SUM" ] || slt_fail "down_total $TOT != sum of down_by_exit $SUM ($S)"
[ "$TOT" = "$CREATED" ] || slt_fail "down_total $TOT != sessions created $CREATED ($S)"
[ "$(printf '%s' "$S" | slt_jq 'v["down_repeated"]')" = 0 ] || slt_fail "down_repeated moved: $S"
slt_ok "down_total $TOT = sum of down_by_exit = sessions created; down_repeated 0: $(printf '%s' "$S" | slt_jq 'v["down_by_exit"]')"

slt_stop
slt_assert_clean
slt_log "PASS"
