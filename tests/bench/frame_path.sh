#!/usr/bin/env bash
# frame_path.sh — PING -> PONG frames per second through one sluice-dp
# lcore on net_memif, against dpdk-testpmd io-forwarding the same
# generator's frames on the same kind of memif, in the same run.
#
#   generator  tests/bench/slgen (DPDK, memif role=client, EAL lcore 1):
#              bursts of 32 well-formed PING frames of one up session
#              (UDP checksum 0), at most FRAME_WINDOW (default 512) frames
#              outstanding, as a peer that paces itself to the answers
#              would (FRAME_WINDOW=0: as many as the memif ring takes, a
#              flood, which the node answers with BACKOFF and then drops
#              silently: that measures the flood defence); counts
#              the replies in a timed window (default 3 s after 0.5 s of
#              warm-up).  Against sluice it first resolves the node's MAC
#              (ARP) and opens the session (HELLO / HELLO_ACK, regtest).
#   sluice     one node (sluice-dp memif role=server on EAL lcore 0, and
#              its sluice-ctrl), the default configuration but
#              idle_sleep_us (SLT_BENCH_IDLE_US, default 50, as sync.sh;
#              a busy lcore never sleeps); counted: PONGs.
#   testpmd    dpdk-testpmd --forward-mode=io --port-topology=loop, one
#              forwarding lcore pinned to CPU 0 (its main lcore shares CPU 0
#              and sleeps in --stats-period), memif role=server; counted:
#              the PINGs reflected unchanged.
# Each run measures sluice then testpmd; medians over RUNS runs; last line
#   frame_path pps=<x> testpmd_pps=<x> ratio=<x>
# where ratio is the median of the runs' own ratios (each run's pair is
# measured seconds apart): on the VMs this was written on, both speeds
# jump between levels for minutes at a time (testpmd 6-7 or 13-17 M pps),
# and a ratio of the two medians can pair a sluice run of one level with a
# testpmd run of another.
# With PERF=1, the last sluice run is recorded with `perf record -g` on
# sluice-dp and the top of `perf report --no-children` is printed (where
# the lcore's time goes).  Never pass/fail on time.  Needs root.
# Usage: tests/bench/frame_path.sh [RUNS] [SECONDS]
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
RUNS=${1:-3}
SECS=${2:-3}
IDLE_US=${SLT_BENCH_IDLE_US:-50}
WINDOW=${FRAME_WINDOW:-512}
slt_require_root
slt_require_bins
slt_require_tools dpdk-testpmd
SLGEN=${SLGEN:-$(dirname "$SLUICE_DP")/../tests/bench/slgen}
[ -x "$SLGEN" ] || slt_skip "slgen not built ($SLGEN)"
[ "$(nproc)" -ge 2 ] || slt_skip "needs 2 cores (the node's lcore and the generator's)"
[ "${PERF:-0}" = 0 ] || slt_require_tools perf
slt_init
SLT_CLEANUP_HOOKS+=(slt_nodes_cleanup frame_path_cleanup)

TESTPMD_PID=
frame_path_cleanup() {
	slt_kill_pid "$TESTPMD_PID"
	rm -rf "$(dirname "$SLT_RUNDIR")/slt${SLT_ID}fg" "$(dirname "$SLT_RUNDIR")/slt${SLT_ID}ft"
}

N=1
GEN_IP=10.$SLT_X.0.99
SOCK=$SLT_TMP/m.sock
SLT_MEMIF_IDLE_US=$IDLE_US
slt_memif_node $N server "$SOCK" f 0
slt_cfg_set "${SLT_NODE_CFG[$N]}" admission max_peers 8

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }

# gen MODE SOCK: the generator against whatever serves SOCK; its pps in GEN_PPS.
gen() {
	"$SLGEN" --no-pci --no-huge -m 256 --file-prefix "slt${SLT_ID}fg" -l 1 --log-level=error \
		--vdev "net_memif0,role=client,socket=$2,socket-abstract=no,id=0" -- \
		-m "$1" -s "$GEN_IP" -d "${SLT_NODE_IP[$N]}" -t "$SECS" -w 0.5 -W "$WINDOW" \
		>"$SLT_TMP/gen.out" 2>"$SLT_TMP/gen.err" ||
		slt_fail "slgen -m $1: $(tail -n 5 "$SLT_TMP/gen.err")"
	slt_log "  $(tail -n 1 "$SLT_TMP/gen.out")"
	GEN_PPS=$(sed -n 's/^slgen .* pps=\([0-9]*\)$/\1/p' "$SLT_TMP/gen.out")
}

SL=() TP=() RA=()
for ((r = 1; r <= RUNS; r++)); do
	# sluice
	rm -rf "$SLT_TMP/store$N" "$SOCK"
	slt_node_start $N
	slt_node_wait_ready $N 30
	if [ "${PERF:-0}" != 0 ] && [ "$r" = "$RUNS" ]; then
		perf record -g -o "$SLT_TMP/perf.data" -p "${SLT_NODE_DP_PID[$N]}" \
			-- sleep "$(("${SECS%.*}" + 2))" >"$SLT_TMP/perf.log" 2>&1 &
		perf_pid=$!
	fi
	gen sluice "$SOCK"
	p=$GEN_PPS
	stats=$(slt_node_stats_json $N 2>/dev/null | slt_jq '" ".join("%s=%s" % (k, x) for d in [v] + [y for y in v.values() if isinstance(y, dict)] for k, x in d.items() if x and not isinstance(x, (dict, list)) and k not in ("rx_bytes", "tx_bytes"))' 2>/dev/null)
	[ -z "${perf_pid:-}" ] || wait "$perf_pid"
	slt_node_stop $N
	# testpmd: io forwarding, one port looped, on CPU 0 like the node
	rm -f "$SOCK"
	dpdk-testpmd --no-pci --no-huge -m 512 --file-prefix "slt${SLT_ID}ft" --lcores '0@0,1@0' \
		--log-level=error --vdev "net_memif0,role=server,socket=$SOCK,socket-abstract=no,id=0" -- \
		--forward-mode=io --port-topology=loop --nb-cores=1 --rxq=1 --txq=1 \
		--total-num-mbufs=16384 --stats-period 100 </dev/null >"$SLT_TMP/testpmd.log" 2>&1 &
	TESTPMD_PID=$!
	for ((i = 0; i < 100; i++)); do
		# the port is started (a memif client that connects earlier is
		# dropped and does not retry)
		grep -q 'Port statistics' "$SLT_TMP/testpmd.log" && break
		slt_alive "$TESTPMD_PID" || slt_fail "dpdk-testpmd died: $(tail -n 5 "$SLT_TMP/testpmd.log")"
		sleep 0.1
	done
	gen reflect "$SOCK"
	t=$GEN_PPS
	kill -INT "$TESTPMD_PID" 2>/dev/null
	slt_wait_exit "$TESTPMD_PID" 10 || slt_log "dpdk-testpmd did not exit on SIGINT (killed)"
	TESTPMD_PID=
	q=$("$SLT_PY" -c "print(round($p / $t, 3) if $t else 0)")
	slt_log "run $r: sluice_pps=$p testpmd_pps=$t ratio=$q node counters: ${stats:-?}"
	SL+=("$p") TP+=("$t") RA+=("$q")
done

if [ "${PERF:-0}" != 0 ]; then
	slt_log "perf report --no-children (sluice-dp, last run), top:"
	perf report -i "$SLT_TMP/perf.data" --no-children --stdio --percent-limit 1.5 -g none \
		2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 | sed 's/^/    /'
fi
PPS=$(echo "${SL[*]}" | median)
TPPS=$(echo "${TP[*]}" | median)
echo "frame_path pps=$PPS testpmd_pps=$TPPS ratio=$(echo "${RA[*]}" | median)"
