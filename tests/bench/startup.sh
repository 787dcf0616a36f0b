#!/usr/bin/env bash
# startup.sh — how long a node takes from process start to its first
# session up, and where the time goes.  Node A (memif server, lcore 0) is
# started and made ready first; then node B's sluice-dp and sluice-ctrl are
# started together (as a service manager would) with A as bootstrap.  Each
# line either process writes is stamped on arrival (bash's EPOCHREALTIME
# in a reader on the pipe; nothing polls the node), and from the moment B's
# processes were started the bench reads
#   dp_ready_ms     B's sluice-dp logged "ready" (EAL, port, region up)
#   attach_ms       B's sluice-ctrl attached to the dataplane's region
#   connect_ms      B's sluice-ctrl asked the dataplane to dial A
#   session_ms      B's sluice-ctrl logged the session to A up
# and sluice-dp's own split of main() -> ready ("ready in N ms: config,
# eal, port setup, region, start").  Per run every figure, then medians,
# ending with exactly one line
#   startup dp_ready_ms=<x> attach_ms=<x> connect_ms=<x> session_ms=<x> eal_ms=<x> port_ms=<x>
# Never pass/fail on time.  Needs root.
# Usage: tests/bench/startup.sh [RUNS]   STARTUP_HUGE=1: EAL on hugepages
# (2 MiB pages reserved and hugetlbfs mounted by the caller), memory on
# demand, instead of --no-huge -m 512.
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
RUNS=${1:-5}
IDLE_US=${SLT_BENCH_IDLE_US:-50}
slt_require_root
slt_require_bins
[ "$(nproc)" -ge 2 ] || slt_skip "needs 2 cores (one EAL lcore per node)"
slt_init
SLT_CLEANUP_HOOKS+=(slt_nodes_cleanup)
EAL_MEM="--no-huge -m 512"
[ "${STARTUP_HUGE:-0}" = 1 ] && EAL_MEM="--huge-unlink"

A=1 B=2
SOCK=$SLT_TMP/m.sock
SLT_MEMIF_MEM=$EAL_MEM SLT_MEMIF_IDLE_US=$IDLE_US
slt_memif_node $A server "$SOCK" s 0
slt_memif_node $B client "$SOCK" s 1
[ -z "${STARTUP_LOG:-}" ] || slt_cfg_set "${SLT_NODE_CFG[$A]}" log level "$STARTUP_LOG"
[ -z "${STARTUP_LOG:-}" ] || slt_cfg_set "${SLT_NODE_CFG[$B]}" log level "$STARTUP_LOG"
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747"

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
# stamp: copy stdin to stdout, each line prefixed with the wall clock in
# microseconds at its arrival.
stamp() {
	local l
	while IFS= read -r l; do printf '%s %s\n' "${EPOCHREALTIME/./}" "$l"; done
}
# at_ms FILE PATTERN: ms from T0 to the first line of FILE matching PATTERN.
at_ms() {
	local t
	t=$(grep -m1 -- "$2" "$1" | cut -d' ' -f1) || true
	[ -n "$t" ] && echo $(((t - T0) / 1000)) || echo na
}
DPR=() ATT=() CON=() SES=() EAL=() PRT=()
for ((r = 1; r <= RUNS; r++)); do
	rm -rf "$SLT_TMP/store$A" "$SLT_TMP/store$B" "$SOCK"
	slt_node_start $A
	slt_node_wait_ready $A 30
	dlog=$SLT_TMP/dp$B.run$r.log clog=$SLT_TMP/ctrl$B.run$r.log
	T0=${EPOCHREALTIME/./}
	"$SLUICE_DP" -c "${SLT_NODE_CFG[$B]}" </dev/null > >(stamp >"$dlog") 2>&1 &
	SLT_NODE_DP_PID[$B]=$!
	"$SLUICE_CTRL" -c "${SLT_NODE_CFG[$B]}" </dev/null > >(stamp >"$clog") 2>&1 &
	SLT_NODE_CTRL_PID[$B]=$!
	for ((i = 0; i < 1000; i++)); do
		grep -q "session [0-9]* up" "$clog" && break
		sleep 0.01
	done
	dpr=$(at_ms "$dlog" "info: dp_main: ready:") att=$(at_ms "$clog" "attached to dataplane")
	con=$(at_ms "$clog" "connecting to") ses=$(at_ms "$clog" "session [0-9]* up")
	split=$(grep -m1 -o "ready in .*" "$dlog" || echo "ready in na")
	[[ $split =~ eal\ ([0-9]+),\ port\ setup\ ([0-9]+) ]] && eal=${BASH_REMATCH[1]} prt=${BASH_REMATCH[2]} || eal=na prt=na
	[ -n "${STARTUP_SHOW:-}" ] && { tail -n 30 "$SLT_TMP/dp$A.log" "$SLT_TMP/ctrl$A.log" >&2; } ; [ -n "${STARTUP_SHOW:-}" ] && awk -v t0=$T0 '{printf "%6.1f %s\n", ($1-t0)/1000, substr($0, index($0," ")+1)}' "$dlog" "$clog" | sort -n >&2
	slt_log "run $r: dp_ready_ms=$dpr attach_ms=$att connect_ms=$con session_ms=$ses (sluice-dp: $split)"
	DPR+=("$dpr") ATT+=("$att") CON+=("$con") SES+=("$ses") EAL+=("$eal") PRT+=("$prt")
	slt_node_stop $B
	slt_node_stop $A
done
echo "startup dp_ready_ms=$(echo "${DPR[*]}" | median) attach_ms=$(echo "${ATT[*]}" | median) connect_ms=$(echo "${CON[*]}" | median) session_ms=$(echo "${SES[*]}" | median) eal_ms=$(echo "${EAL[*]}" | median) port_ms=$(echo "${PRT[*]}" | median)"
