#!/usr/bin/env bash
# ctrl_rollout.sh — the documented rollout of a new sluice-ctrl (issue 13
# item 3, deploy/README.md): `systemctl stop sluice-ctrl@NODE` (SIGTERM),
# the dataplane keeps serving its peers, `systemctl start
# sluice-ctrl@NODE`, which adopts the live sessions.  The graceful twin of
# ctrl_crash_resume (kill -9), with its start (slt_slow_sync_midway: A
# imports N generated regtest headers and serves slowly, B bootstraps from
# A and syncs) and its after-checks.  Both nodes are rolled in turn while
# B syncs (each begins with B below N-1), the syncing side first, then
# the serving side:
#   each ctrl, on SIGTERM: exits 0, says the dataplane keeps running,
#     removes its socket; its dataplane stays up;
#   while it is down (SLT_ROLLOUT_DOWN_S, 3 s): its dataplane keeps the
#     session (same session id on both dataplanes, still live), the peer's
#     ctrl lists it up all along, frames keep arriving on it (PING/PONG
#     liveness); while A's ctrl is down A's dataplane keeps answering B's
#     GET_HEADERS (its session's hs_headers_tx grows) and B's tip moves;
#   the new ctrl logs "1 live session(s) adopted", lists the peer up under
#     the session id the dataplane kept, and the peer's ctrl saw no new
#     session (sessions_up unchanged: nobody redialled);
#   B reaches tip N-1 with the generated hash, its range table settles, it
#     lists exactly A, no stray hold, no critical event lost;
#   afterwards (fleet.sh's after-checks on both nodes, FLEET_N=2): exports
#     byte-identical to each other and to the generated file, no stranded
#     range, no ghost peer, then both stop with exit 0 and leave no file.
# Prints per rollout: down_s (SIGTERM to the new ctrl ready), adopt_s (new
# ctrl started to the adoption logged), sessions kept, B's tip at the
# stop (and while A's ctrl was down); then sync_s (first SIGTERM to B at
# N-1).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
N=${SLT_ROLLOUT_N:-120000}
RATE=2 # A's GET_HEADERS/s (2000 headers each): B syncs N in N/4000 s, long enough for both rollouts
DOWN=${SLT_ROLLOUT_DOWN_S:-3}
slt_init

# rollout_sess K: "sid rx_frames hs_headers_tx hs_headers_rx" of node K's
# one live session, from its dataplane's telemetry (no ctrl needed);
# returns 1 with what it saw unless there is exactly one.
rollout_sess() {
	local out
	out=$(slt_node_telemetry_json "$1" /sluice/sessions | slt_jq '
"%d %s" % (len(v), " ".join("%s %d %d %d" % (s, x["rx_frames"], x["hs_headers_tx"], x["hs_headers_rx"]) for s, x in v.items()))')
	[ "${out%% *}" = 1 ] || {
		echo "node $1's dataplane: ${out:-no telemetry answer}, want 1 live session"
		return 1
	}
	echo "${out#* }"
}

# rollout_peer_up K PEER: the session id (hex, as the dataplane's
# telemetry names it) under which node K's ctrl lists node PEER up;
# returns 1 with K's peers unless it does.
rollout_peer_up() {
	local out
	out=$(slt_node_ctl "$1" --json peers | slt_jq "' '.join('%08x' % p['session'] for p in v if p.get('state', 'up') == 'up' and p['addr'].split(':')[0] == '${SLT_NODE_IP[$2]}')")
	[ -n "$out" ] || {
		echo "node $1's ctrl does not list node $2 up: $(slt_node_ctl "$1" --json peers 2>&1)"
		return 1
	}
	echo "$out"
}

rollout_sessions_up() {
	slt_node_ctl "$1" --json stats | slt_jq 'v["sessions"]["sessions_up"]'
}

# rollout_field "SESS" N: field N of a rollout_sess line (1 sid, 2
# rx_frames, 3 hs_headers_tx, 4 hs_headers_rx).
rollout_field() { echo "$1" | cut -d' ' -f"$2"; }

# rollout_delta S0 S1 PS0 PS1: what the session's counters did on node K
# (S0 -> S1) and on its peer (PS0 -> PS1), in words.
rollout_delta() {
	local f d=()
	for f in 2 3 4; do
		d+=($(($(rollout_field "$2" $f) - $(rollout_field "$1" $f))))
	done
	echo "rx_frames +${d[0]} (peer +$(($(rollout_field "$4" 2) - $(rollout_field "$3" 2)))), hs_headers_tx +${d[1]}, hs_headers_rx +${d[2]}"
}

# rollout K PEER: the rollout of node K's ctrl while K and PEER sync.
rollout() {
	local k=$1 p=$2 t0 t1 i mark line adopted tipst tip0='' tip1='' moved='' s0 s1 ps0 ps1 up0 up1 psid out down_s adopt_s
	up0=$(rollout_sessions_up "$p")
	tipst=$(slt_node_tip $B)
	[ "${tipst%% *}" -lt $((N - 1)) ] ||
		slt_fail "B synced before node $k's ctrl stopped: not a rollout mid-sync (a larger SLT_ROLLOUT_N)"
	psid=$(rollout_peer_up "$p" "$k") || slt_fail "$psid"
	mark=$(wc -l <"$SLT_TMP/ctrl$k.log")
	t0=$(slt_now)
	slt_stop_proc "sluice-ctrl($k)" "SLT_NODE_CTRL_PID[$k]"
	tail -n +"$((mark + 1))" "$SLT_TMP/ctrl$k.log" | grep -q "SIGTERM received; exiting (the dataplane keeps running)" ||
		slt_fail "node $k's ctrl did not log its SIGTERM exit"
	[ ! -e "${SLT_NODE_SOCK[$k]}" ] || slt_fail "node $k's ctrl left its socket on SIGTERM"
	slt_alive "${SLT_NODE_DP_PID[$k]}" || slt_fail "node $k's dataplane exited with its ctrl"
	s0=$(rollout_sess "$k") || slt_fail "$s0"
	ps0=$(rollout_sess "$p") || slt_fail "$ps0"
	[ "$(rollout_field "$ps0" 1)" = "$psid" ] || slt_fail "node $p: its ctrl's session $psid to node $k is not its dataplane's ($ps0)"
	[ "$k" = "$B" ] || tip0=$(slt_node_tip $B)
	# the window a package upgrade takes; the peer is watched throughout
	for ((i = 0; i < DOWN * 2; i++)); do
		sleep 0.5
		slt_alive "${SLT_NODE_DP_PID[$k]}" || slt_fail "node $k's dataplane died without its ctrl"
		out=$(rollout_peer_up "$p" "$k") || slt_fail "while node $k's ctrl was down: $out"
		[ "$out" = "$psid" ] || slt_fail "node $p's session to node $k changed while $k's ctrl was down ($psid -> $out)"
	done
	s1=$(rollout_sess "$k") || slt_fail "while node $k's ctrl was down: $s1"
	ps1=$(rollout_sess "$p") || slt_fail "while node $k's ctrl was down: $ps1"
	[ "$k" = "$B" ] || tip1=$(slt_node_tip $B)
	[ "$(rollout_field "$s1" 1)" = "$(rollout_field "$s0" 1)" ] && [ "$(rollout_field "$ps1" 1)" = "$psid" ] ||
		slt_fail "the sessions changed while node $k's ctrl was down: node $k $s0 -> $s1, node $p $ps0 -> $ps1"
	[ "$(rollout_field "$s1" 2)" -gt "$(rollout_field "$s0" 2)" ] &&
		[ "$(rollout_field "$ps1" 2)" -gt "$(rollout_field "$ps0" 2)" ] ||
		slt_fail "no frames on the session while node $k's ctrl was down (rx_frames: node $k $s0 -> $s1, node $p $ps0 -> $ps1)"
	if [ "$k" = "$A" ]; then
		[ "$(rollout_field "$s1" 3)" -gt "$(rollout_field "$s0" 3)" ] ||
			slt_fail "A's dataplane sent no HEADERS while its ctrl was down (hs_headers_tx $(rollout_field "$s0" 3) -> $(rollout_field "$s1" 3))"
		[ "${tip1%% *}" -gt "${tip0%% *}" ] ||
			slt_fail "B's tip did not move while A's ctrl was down (${tip0%% *} -> ${tip1%% *})"
	fi
	[ -z "$tip0" ] || moved=", B's tip ${tip0%% *} -> ${tip1%% *}"
	slt_ok "node $k's ctrl down ${DOWN} s: both dataplanes kept the session (node $k $(rollout_field "$s0" 1), node $p $psid, listed up by node $p's ctrl throughout), $(rollout_delta "$s0" "$s1" "$ps0" "$ps1")$moved"

	t1=$(slt_now)
	slt_node_spawn_ctrl "$k"
	line=
	for ((i = 0; i < 300; i++)); do
		line=$(tail -n +"$((mark + 1))" "$SLT_TMP/ctrl$k.log" | grep -m1 "live session(s) adopted") && break
		slt_alive "${SLT_NODE_CTRL_PID[$k]}" || slt_fail "node $k's new ctrl died"
		sleep 0.05
	done
	adopt_s=$("$SLT_PY" -c "print(round($(slt_now) - $t1, 2))")
	adopted=$(echo "$line" | sed -n 's/.* \([0-9]*\) live session(s) adopted.*/\1/p')
	[ "$adopted" = 1 ] || slt_fail "node $k's new ctrl: '${line:-no adoption line}' (want 1 live session adopted)"
	slt_node_wait_ready "$k" 30
	down_s=$("$SLT_PY" -c "print(round($(slt_now) - $t0, 2))")
	out=$(rollout_peer_up "$k" "$p") || slt_fail "node $k's new ctrl: $out"
	[ "$out" = "$(rollout_field "$s0" 1)" ] ||
		slt_fail "node $k's new ctrl lists node $p under session $out, not the kept $(rollout_field "$s0" 1)"
	if [ "$k" = "$B" ]; then
		tip1=$(slt_node_tip $B)
		[ "${tip1%% *}" -ge "${tipst%% *}" ] || slt_fail "B's new ctrl is below its tip: ${tipst%% *} -> ${tip1%% *}"
	fi
	up1=$(rollout_sessions_up "$p")
	[ "$up1" = "$up0" ] || slt_fail "node $p saw a new session ($up0 -> $up1): a redial, not an adoption"
	slt_ok "node $k's new ctrl adopted session $out in $adopt_s s (ctrl down $down_s s in all); node $p saw no new session"
	echo "rollout_node=$k down_s=$down_s adopt_s=$adopt_s sessions_kept=$adopted tip_at_stop=${tipst%% *}${tip0:+ tip_while_down=${tip0%% *}-${tip1%% *}}"
}

slt_slow_sync_midway "$N" "$RATE"
t_sync=$(slt_now)
rollout $B $A # the syncing side: B's sync waits while its ctrl is down
rollout $A $B # the serving side: A's dataplane answers B's GET_HEADERS alone
slt_node_wait_tip $B $((N - 1)) 120 "$WANT" || slt_fail "B did not reach $((N - 1))"
echo "sync_s=$("$SLT_PY" -c "print(round($(slt_now) - $t_sync, 2))")"
slt_node_settled $B 10
[ "$(slt_node_ctl $B --json peers | slt_jq 'len(v)')" = 1 ] || slt_fail "B lists more than A: $(slt_node_ctl $B --json peers)"
stray=$(slt_node_ctl $B --json sync.status | slt_jq 'v["counters"]["stray_holds"]')
[ "$stray" = 0 ] || slt_fail "stray holds $stray"
slt_ok "both ctrls rolled while B synced; B at $((N - 1)) with the generated hash, lists only A, no stray hold"
# The fleet scenarios' after-checks over both nodes (fleet.sh).
slt_fleet_after_pair
