#!/usr/bin/env bash
# kill_both_resume.sh — kill -9 of both of a syncing node's processes
# (issue 13 item 5).  Two nodes, regtest; A imports N headers and serves
# slowly, B (bootstrap A) syncs; past N/10 B's sluice-dp and sluice-ctrl
# both get SIGKILL at once.  Then B is started again over what they left
# (a stale region file, a stale socket file):
#   the new processes start (the stale files replaced), B resumes from its
#     stored tip (never below the tip seen before the kill), reaches N-1
#     with the generated hash, the range table settles;
#   A ends with exactly one live session to B (the dead one gone by
#     liveness: no ghost), B with exactly one to A;
#   afterwards (fleet.sh's after-checks on both nodes): exports
#     byte-identical to each other and to the generated file, no stranded
#     range, no ghost peer (ctrl's sessions = the dataplane's), no critical
#     event lost; both stop with exit 0 and nothing of either run is left
#     (region, runtime dir, hugepage file, socket).
# Prints tip_at_kill= and resume_s=.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
N=${SLT_KILL_N:-60000}
slt_init
slt_slow_sync_midway "$N"
tip=$TIP_MID
kill -9 "${SLT_NODE_DP_PID[$B]}" "${SLT_NODE_CTRL_PID[$B]}"
wait "${SLT_NODE_DP_PID[$B]}" "${SLT_NODE_CTRL_PID[$B]}" 2>/dev/null
SLT_NODE_DP_PID[$B]= SLT_NODE_CTRL_PID[$B]=
echo "tip_at_kill=${tip%% *}"
REGION=$SLT_REGION_DIR/sluice-${SLT_NODE_INST[$B]}.region
[ -e "$REGION" ] && [ -S "${SLT_NODE_SOCK[$B]}" ] || slt_fail "the kill left no stale region/socket to start over"
t0=$("$SLT_PY" -c 'import time; print(time.monotonic())')
slt_node_start $B
slt_node_wait_ready $B 30
tip2=$(slt_node_tip $B)
[ "${tip2%% *}" -ge "${tip%% *}" ] || slt_fail "B restarted below its stored tip: ${tip2%% *} < ${tip%% *}"
slt_node_wait_tip $B $((N - 1)) 120 "$WANT" || slt_fail "B did not reach $((N - 1)) after the restart"
resume=$("$SLT_PY" -c "import time; print(round(time.monotonic() - $t0, 2))")
echo "resume_s=$resume"
slt_node_settled $B 10
for ((i = 0; i < 100; i++)); do # A's old session to B ends by liveness
	a=$(slt_node_ctl $A --json peers | slt_jq 'len(v)')
	b=$(slt_node_ctl $B --json peers | slt_jq 'len(v)')
	[ "$a" = 1 ] && [ "$b" = 1 ] && break
	sleep 0.2
done
[ "$a" = 1 ] && [ "$b" = 1 ] || slt_fail "peers after the restart: A $a, B $b (want 1 and 1: no ghost)"
slt_ok "both of B's processes killed at ${tip%% *}: restarted over stale files, resumed at ${tip2%% *}, synced in $resume s, one session each side"
# The fleet scenarios' after-checks over both nodes (fleet.sh).
slt_fleet_after_pair
