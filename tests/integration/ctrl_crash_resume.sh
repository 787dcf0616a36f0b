#!/usr/bin/env bash
# ctrl_crash_resume.sh — kill -9 of sluice-ctrl mid-sync (issue 13 item 5):
# the dataplane keeps serving its peers, and a restarted ctrl adopts the
# live sessions and the sync resumes.  Two nodes, regtest; A imports N
# generated headers and serves slowly ([sync] serve_rate 5 GET_HEADERS/s),
# B (bootstrap A) syncs; when B's tip is past N/10, B's ctrl gets SIGKILL.
#   while B's ctrl is gone (3 s): B's dataplane keeps the session to A
#     alive (A still lists B up and its session never went down; B's
#     dataplane still has one live session), and its event outbox fills
#     without losing a critical event;
#   a new sluice-ctrl over the stale socket file: it re-attaches, adopts
#     the live session ("1 live session(s) adopted"), no new session is
#     made to A (A's sessions_up stays 1);
#   B reaches tip N-1 with the generated hash; the range table settles;
#     no ghost peer (B lists exactly A), no stray hold;
#   afterwards (fleet.sh's after-checks on both nodes): exports
#     byte-identical to each other and to the generated file, no stranded
#     range, no ghost peer (ctrl's sessions = the dataplane's), no critical
#     event lost; both stop with exit 0 and leave no file behind.
# Prints tip_at_kill= and resume_s=.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
N=${SLT_CTRL_CRASH_N:-60000}
slt_init
slt_slow_sync_midway "$N"
tip=$TIP_MID
a_up0=$(slt_node_ctl $A --json stats | "$SLT_PY" -c 'import json,sys; print(json.load(sys.stdin)["sessions"]["sessions_up"])')
kill -9 "${SLT_NODE_CTRL_PID[$B]}"
wait "${SLT_NODE_CTRL_PID[$B]}" 2>/dev/null
SLT_NODE_CTRL_PID[$B]=
echo "tip_at_kill=${tip%% *}"
sleep 3
a_peers=$(slt_node_ctl $A --json peers | slt_jq '[p["addr"].split(":")[0] for p in v if p["state"] == "up"]')
echo "$a_peers" | grep -q "${SLT_NODE_IP[$B]}" || slt_fail "A lost B while B's ctrl was gone: $a_peers"
b_sess=$(slt_node_telemetry_json $B /sluice/sessions | slt_jq 'len(v["sessions"]) if isinstance(v, dict) and "sessions" in v else len(v)')
[ "${b_sess:-0}" -ge 1 ] || slt_fail "B's dataplane has no live session without its ctrl ($b_sess)"
slt_ok "B's ctrl gone 3 s: its dataplane kept the session to A (A lists B up; B's dataplane: $b_sess live)"

t0=$("$SLT_PY" -c 'import time; print(time.monotonic())')
mark=$(wc -l <"$SLT_TMP/ctrl$B.log")
slt_node_spawn_ctrl $B
slt_node_wait_ready $B 30
tail -n +"$((mark + 1))" "$SLT_TMP/ctrl$B.log" | grep -q "1 live session(s) adopted" ||
	slt_fail "the new ctrl did not adopt the live session: $(tail -n +"$((mark + 1))" "$SLT_TMP/ctrl$B.log" | head -20)"
slt_node_wait_tip $B $((N - 1)) 120 "$WANT" || slt_fail "B did not reach $((N - 1)) after the restart"
resume=$("$SLT_PY" -c "import time; print(round(time.monotonic() - $t0, 2))")
echo "resume_s=$resume"
slt_node_settled $B 10
a_up1=$(slt_node_ctl $A --json stats | "$SLT_PY" -c 'import json,sys; print(json.load(sys.stdin)["sessions"]["sessions_up"])')
[ "$a_up1" = "$a_up0" ] || slt_fail "A saw a new session ($a_up0 -> $a_up1): B reconnected instead of adopting"
b_peers=$(slt_node_ctl $B --json peers | slt_jq 'len(v)')
[ "$b_peers" = 1 ] || slt_fail "B lists $b_peers peers (want exactly A)"
stray=$(slt_node_ctl $B --json sync.status | slt_jq 'v["counters"]["stray_holds"]')
lost=$(slt_node_ctl $B --json stats | slt_jq 'v["dataplane"]["total"]["evt_critical_lost"]')
[ "$stray" = 0 ] && [ "$lost" = 0 ] || slt_fail "stray holds $stray, critical events lost $lost"
slt_ok "restarted ctrl adopted the session; B synced to $((N - 1)) in $resume s; no ghost, no stray hold, nothing lost"
# The fleet scenarios' after-checks over both nodes (fleet.sh).
slt_fleet_after_pair
