#!/usr/bin/env bash
# startup.sh — how long a node takes from process start to its first
# session up, and where the time goes.  Node A (memif server, lcore 0) is
# started and made ready first; then node B's sluice-dp and sluice-ctrl are
# started together (as a service manager would) with A as bootstrap.  B
# logs in JSON ([log] format = json), so each line carries the wall clock
# (µs) at which the process wrote it; nothing polls the node, and a reader
# on each pipe only watches for the session line.  (Stamping lines on
# arrival in that reader was late by up to ~10 ms: it competes for the same
# two cores.)  From the moment B's processes were started the bench reads
#   dp_ready_ms     B's sluice-dp logged "ready" (EAL, port, region up)
#   attach_ms       B's sluice-ctrl attached to the dataplane's region
#   connect_ms      B's sluice-ctrl asked the dataplane to dial A
#   session_ms      B's sluice-ctrl logged the session to A up
# and sluice-dp's own split of main() -> ready ("ready in N ms: config,
# eal, port setup, region, start").  Per run every figure, then medians,
# ending with exactly one line
#   startup dp_ready_ms=<x> attach_ms=<x> connect_ms=<x> session_ms=<x> eal_ms=<x> port_ms=<x> dp_main_ms=<x>
# (dp_main_ms: from the start to sluice-dp's main(), its "ready" less its
# own main() -> ready figure: fork, exec, the loader, constructors).
# Never pass/fail on time.  Needs root.
# Usage: tests/bench/startup.sh [RUNS]   STARTUP_HUGE=1: EAL on hugepages
# (2 MiB pages reserved and hugetlbfs mounted by the caller), memory on
# demand, instead of --no-huge -m 128.
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
RUNS=${1:-5}
IDLE_US=${SLT_BENCH_IDLE_US:-50}
slt_require_root
slt_require_bins
[ "$(nproc)" -ge 2 ] || slt_skip "needs 2 cores (one EAL lcore per node)"
slt_init
SLT_CLEANUP_HOOKS+=(slt_nodes_cleanup)
EAL_MEM="--no-huge -m 128"
[ "${STARTUP_HUGE:-0}" = 1 ] && EAL_MEM="--huge-unlink"

A=1 B=2
SOCK=$SLT_TMP/m.sock
SLT_MEMIF_MEM=$EAL_MEM SLT_MEMIF_IDLE_US=$IDLE_US
slt_memif_node $A server "$SOCK" s 0
slt_memif_node $B client "$SOCK" s 1
[ -z "${STARTUP_LOG:-}" ] || slt_cfg_set "${SLT_NODE_CFG[$A]}" log level "$STARTUP_LOG"
[ -z "${STARTUP_LOG:-}" ] || slt_cfg_set "${SLT_NODE_CFG[$B]}" log level "$STARTUP_LOG"
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747"
slt_cfg_set "${SLT_NODE_CFG[$B]}" log format json

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
# stamp [PATTERN]: copy stdin to stdout, each line prefixed with the wall
# clock in microseconds at its arrival; the first line matching PATTERN
# also writes a line to the fifo on fd UPFD.  Builtins only: a grep + sleep
# poll every 10 ms forks two processes (7-10 ms of CPU each here) and took
# a core's worth of CPU from the two processes it measures.
stamp() {
	local l seen=0
	while IFS= read -r l; do
		printf '%s %s\n' "${EPOCHREALTIME/./}" "$l"
		[ -n "${1:-}" ] && [ $seen = 0 ] && [[ $l =~ $1 ]] && { seen=1; echo up >&"$UPFD"; }
	done
}
mkfifo "$SLT_TMP/up"
exec {UPFD}<>"$SLT_TMP/up"
# at_ms FILE RE: ms from T0 to when the process logged the first line of
# FILE whose message begins with RE.
at_ms() {
	local t
	t=$(slt_logged_at "$1" 0 "$2")
	[ -n "$t" ] && echo $(((${t/./} - T0) / 1000)) || echo na
}
DPR=() ATT=() CON=() SES=() EAL=() PRT=() MAIN=()
for ((r = 1; r <= RUNS; r++)); do
	rm -rf "$SLT_TMP/store$A" "$SLT_TMP/store$B" "$SOCK"
	slt_node_start $A
	slt_node_wait_ready $A 30
	dlog=$SLT_TMP/dp$B.run$r.log clog=$SLT_TMP/ctrl$B.run$r.log
	T0=${EPOCHREALTIME/./}
	"$SLUICE_DP" -c "${SLT_NODE_CFG[$B]}" </dev/null > >(stamp >"$dlog") 2>&1 &
	SLT_NODE_DP_PID[$B]=$!
	"$SLUICE_CTRL" -c "${SLT_NODE_CFG[$B]}" </dev/null > >(stamp 'session [0-9]+ up' >"$clog") 2>&1 &
	SLT_NODE_CTRL_PID[$B]=$!
	read -r -t 10 -u "$UPFD" _ || slt_log "run $r: no session up within 10 s"
	dpr=$(at_ms "$dlog" "ready: instance") att=$(at_ms "$clog" "attached to dataplane")
	con=$(at_ms "$clog" "connecting to") ses=$(at_ms "$clog" "session [0-9]* up")
	split=$(grep -m1 -o "ready in .*" "$dlog" || echo "ready in na")
	[[ $split =~ eal\ ([0-9]+),\ port\ setup\ ([0-9]+) ]] && eal=${BASH_REMATCH[1]} prt=${BASH_REMATCH[2]} || eal=na prt=na
	[[ $split =~ ready\ in\ ([0-9]+) && $dpr != na ]] && dmain=$((dpr - BASH_REMATCH[1])) || dmain=na
	[ -n "${STARTUP_SHOW:-}" ] && { tail -n 30 "$SLT_TMP/dp$A.log" "$SLT_TMP/ctrl$A.log" >&2; } ; [ -n "${STARTUP_SHOW:-}" ] && awk -v t0=$T0 '{printf "%6.1f %s\n", ($1-t0)/1000, substr($0, index($0," ")+1)}' "$dlog" "$clog" | sort -n >&2
	slt_log "run $r: dp_main_ms=$dmain dp_ready_ms=$dpr attach_ms=$att connect_ms=$con session_ms=$ses (sluice-dp: $split)"
	DPR+=("$dpr") ATT+=("$att") CON+=("$con") SES+=("$ses") EAL+=("$eal") PRT+=("$prt") MAIN+=("$dmain")
	slt_node_stop $B
	slt_node_stop $A
done
echo "startup dp_ready_ms=$(echo "${DPR[*]}" | median) attach_ms=$(echo "${ATT[*]}" | median) connect_ms=$(echo "${CON[*]}" | median) session_ms=$(echo "${SES[*]}" | median) eal_ms=$(echo "${EAL[*]}" | median) port_ms=$(echo "${PRT[*]}" | median) dp_main_ms=$(echo "${MAIN[*]}" | median)"
