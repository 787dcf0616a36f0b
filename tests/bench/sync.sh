#!/usr/bin/env bash
# sync.sh — end-to-end header sync rate between two nodes over net_memif
# (two sluice-dp processes joined by one shared-memory interface: no kernel
# network, no veth).  Node A: memif role=server, EAL lcore 0; node B: memif
# role=client on the same socket, EAL lcore 1; IPs on one /24, B bootstraps
# from A.  sluice-chaingen writes N regtest headers (default 1,000,000);
# per run A starts with an empty store and imports them (header.import),
# then B starts empty and syncs by header sync alone.
#   sync_s            B's processes started (both at once, as a service
#                     manager starts them; in the two-server variant on
#                     af_packet the dataplane first, ready, then ctrl) ->
#                     B's committed tip is N-1: the time B's ctrl logged
#                     "sync: at height N-1" (its last header durable);
#                     also printed: B ready (the first poll that saw it)
#                     and B's first session up, from the same start
#   headers_per_s     N / sync_s (the whole sync: start-up, handshake and
#                     STATUS included; with 1e6 headers they are noise)
#   sha256d_per_s     the single-core SHA-256d ceiling, measured in the
#                     same run before the syncs: the last line of
#                     tests/bench/sha256d (the default implementation, the
#                     one sluice's header checks use)
#   ratio             headers_per_s / sha256d_per_s
#   steady_headers_per_s  N / (B's committed tip is N-1 - B's first session
#                     up): the sync without start-up and handshake.  The
#                     session's time is the one B's ctrl logged it at (B
#                     logs JSON: [log] format = json, a microsecond "ts"),
#                     not the first poll that saw it: while the sync starts
#                     ctrl's thread is saturated and polls went unanswered
#                     for up to ~0.3 s, which made the steady rate look
#                     higher than it was.
#   steady_ratio      steady_headers_per_s / sha256d_per_s
# and per run the CPU seconds B's two processes (from their start) and
# each server's dataplane (from B's start) used until B's tip (what the machine's cores
# paid for the sync; steadier than the rates on a busy machine).
# A run whose tip stops moving for STALL_S seconds (default 60) or misses
# the bound (600 s) is reported as stalled (tip, B's events_lost and sync
# counters) and left out of the medians; if every run stalls the figures
# are 0 and the exit status is 1.  Per run it prints every figure, then
# medians over the completed runs, ending with exactly one line
#   sync headers=<n> headers_per_s=<x> sha256d_per_s=<x> ratio=<x>
#        steady_headers_per_s=<x> steady_ratio=<x>   (one line)
# Two-server variant (after the default runs; SYNC_TWO=0 skips it): B
# syncs from A1 and A2, both serving the same chain (each imports it).
# memif joins two processes only, so these three nodes share one L2
# segment instead: tests/integration/lib.sh slt_lan_up (a bridge in a
# netns, net_af_packet on veths; server k on core (LCORES_B + k - 1) mod
# ncpu, B (node SERVERS+1) on core (SERVERS+1) mod ncpu: A1 1, A2 0, B 1
# on two cores); B bootstraps from every server.  SERVERS=S (default 2)
# runs S servers A1..AS; LCORES_B=L (default 1) gives B L worker lcores
# instead, EAL -l 0-(L-1) and af_packet qpairs=L (a queue pair per
# worker; tests/bench/scaling.sh varies L).
# Same figures and medians, its own line, printed just before the last
# line:
#   sync_two_servers headers=<n> headers_per_s=<x> steady_headers_per_s=<x>
#        ratio=<x> steady_ratio=<x>   (ratios to the same sha256d_per_s)
# with " servers=<S> lcores_b=<L>" appended when SERVERS or LCORES_B is not
# the default.  SYNC_DEFAULT=0 skips the default variant (and its last
# line; the exit status is then the two-server variant's).
# With SYNC_TRACE_DIR set, every poll of B's tip is appended to
# SYNC_TRACE_DIR/<default|two_servers>_run<r>.dat as "<s since B's start>
# <tip>" (report.sh plots them); SYNC_POLL_S is the poll period (0.02 s
# with a trace, else 0.1 s: the poll only notices the end and stalls, and
# a poller takes CPU from the nodes; one process for the run,
# slt_node_follow).  With SYNC_STATS_DIR
# set, every node's `stats` (JSON, counters per lcore and session) at the
# end of each run is written to SYNC_STATS_DIR/<label>_run<r>_node<k>.json,
# and B's ctrl log of the run (its timeline) to <label>_run<r>_ctrl.log.
# SYNC_PERF=1: perf record -a (999 Hz) from B's start to its tip on the
# last run of each variant, and a report by process and symbol;
# SYNC_PERF_OUT=DIR also keeps each variant's perf.data there, as
# DIR/<label>.perf.data (for perf report -g, annotate).
# SYNC_PERF_EVENT="-e page-faults -c 1": what perf records instead of CPU
# time (that one: every page fault a thread took, not the populates made
# ahead, by process and by the symbol that touched the memory).
# Never pass/fail on time.  Needs root (DPDK runtime dir, /dev/shm region).
# Usage: tests/bench/sync.sh [RUNS] [N]   (env: SHA256D=path,
#        SLT_BENCH_IDLE_US=dataplane idle_sleep_us (default 50: the two
#        ctrl processes share the machine's cores with the two lcores),
#        STALL_S=seconds without progress before a run counts as stalled,
#        SLT_BENCH_INFLIGHT=B's [sync] inflight, 1..16; unset: the default,
#        SLT_BENCH_SERVE_RATE=A's [sync] serve_rate and serve_burst (the
#        per-peer serving budget; unset: the defaults),
#        SLT_TMPDIR=/dev/shm: the stores on tmpfs (what disk syncs cost),
#        SLT_BENCH_AUTH=[admission] auth of every node, off | optional |
#        required (unset: the default, off; tests/bench/auth.sh compares),
#        LCORES=worker lcores per node (default 1: A on lcore 0, B on lcore
#        1; N > 1: each node runs EAL -l 0-(N-1), one memif queue pair per
#        worker, so on a 2-core machine both nodes share both cores),
#        SERVERS / LCORES_B=servers and B's worker lcores in the
#        two-server variant (default 2 / 1), SYNC_DEFAULT=0 / SYNC_TWO=0:
#        skip a variant)
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
RUNS=${1:-3}
N=${2:-1000000}
TIP=$((N - 1))
STALL_S=${STALL_S:-60}
RUN_BOUND_S=600
IDLE_US=${SLT_BENCH_IDLE_US:-50}
LCORES=${LCORES:-1}
SERVERS=${SERVERS:-2}
LCORES_B=${LCORES_B:-1}
POLL_S=${SYNC_POLL_S:-$([ -n "${SYNC_TRACE_DIR:-}" ] && echo 0.02 || echo 0.1)}

slt_require_root
slt_require_bins
CHAINGEN=${SLUICE_CHAINGEN:-$(dirname "$SLUICE_CTRL")/chaingen/sluice-chaingen}
SHA256D=${SHA256D:-$(dirname "$SLUICE_DP")/../tests/bench/sha256d}
[ -x "$CHAINGEN" ] || slt_skip "sluice-chaingen not built ($CHAINGEN)"
[ -x "$SHA256D" ] || slt_skip "sha256d bench not built ($SHA256D)"
[ "$(nproc)" -ge 2 ] || slt_skip "needs 2 cores (one EAL lcore per node)"
slt_init
SLT_CLEANUP_HOOKS+=(slt_nodes_cleanup)
FILE=$SLT_TMP/chain.headers
"$CHAINGEN" -n "$N" -o "$FILE" 2>"$SLT_TMP/chaingen.err" ||
	slt_fail "sluice-chaingen: $(cat "$SLT_TMP/chaingen.err")"
slt_log "$(cat "$SLT_TMP/chaingen.err")"

# The ceiling first, with nothing else running (sha256d pins itself to
# core 0).
env -u SL_TEST_DATA "$SHA256D" >"$SLT_TMP/sha256d.out" 2>&1 || slt_fail "sha256d: $(tail -n3 "$SLT_TMP/sha256d.out")"
sed 's/^/    /' "$SLT_TMP/sha256d.out"
SHA=$(sed -n 's/^sha256d headers_per_s=\([0-9.]*\) .*/\1/p' "$SLT_TMP/sha256d.out" | tail -n1)
[ -n "$SHA" ] || slt_fail "no 'sha256d headers_per_s=' line from $SHA256D"

# Two nodes joined by net_memif: A = server (lcore 0), B = client (lcore 1).
A=1 B=2
SOCK=$SLT_TMP/m.sock
SLT_MEMIF_IDLE_US=$IDLE_US
for k in $A $B; do
	role=server
	[ "$k" = $B ] && role=client
	slt_memif_node $k $role "$SOCK" m "$([ "$LCORES" -gt 1 ] && echo "0-$((LCORES - 1))" || echo $((k - 1)))"
	slt_cfg_set "${SLT_NODE_CFG[$k]}" admission max_peers 8
done
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747"
slt_cfg_set "${SLT_NODE_CFG[$B]}" log format json
# cpu_s PID: the CPU seconds (user + system, every thread) PID has used.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo na
}
# minflt PID: the minor page faults PID has taken (every thread): first
# touches of memory, which a hot path should not take.
minflt() {
	awk '{ print $10 }' "/proc/$1/stat" 2>/dev/null || echo na
}
# sync_tuning CLIENT SERVER...: the SLT_BENCH_* overrides.
sync_tuning() {
	local b=$1 a
	shift
	[ -z "${SLT_BENCH_INFLIGHT:-}" ] ||
		slt_cfg_set "${SLT_NODE_CFG[$b]}" sync inflight "$SLT_BENCH_INFLIGHT"
	if [ -n "${SLT_BENCH_AUTH:-}" ]; then
		for a in "$b" "$@"; do
			slt_cfg_set "${SLT_NODE_CFG[$a]}" admission auth "$SLT_BENCH_AUTH"
		done
	fi
	if [ -n "${SLT_BENCH_SERVE_RATE:-}" ]; then
		for a in "$@"; do
			slt_cfg_set "${SLT_NODE_CFG[$a]}" sync serve_rate "$SLT_BENCH_SERVE_RATE"
			slt_cfg_set "${SLT_NODE_CFG[$a]}" sync serve_burst "$SLT_BENCH_SERVE_RATE"
		done
	fi
}
sync_tuning $B $A
slt_log "B's [sync] inflight: ${SLT_BENCH_INFLIGHT:-default}; A's serve_rate: ${SLT_BENCH_SERVE_RATE:-default}; worker lcores per node: $LCORES; auth: ${SLT_BENCH_AUTH:-off}"


# sync_perf_report LABEL: where the CPU went from B's start to its tip
# (SYNC_PERF=1: perf record -a on the last run): by process, then each
# busy process's top symbols.
sync_perf_report() {
	slt_log "$1: perf, every CPU from B's start to its tip, by process:"
	[ -z "${SYNC_PERF_OUT:-}" ] || cp "$SLT_TMP/perf.data" "$SYNC_PERF_OUT/$1.perf.data"
	perf report -i "$SLT_TMP/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -12 | sed 's/^/    /'
	local c
	for c in sluice-dp sluice-ctrl; do
		slt_log "$1: top symbols of $c (both nodes; % of its own samples):"
		perf report -i "$SLT_TMP/perf.data" --comm "$c" --no-children --sort sym --percentage relative --stdio \
			-g none --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25 |
			sed 's/^/    /'
	done
}

# sync_runs LABEL SERVER...: RUNS runs of B (global) syncing from the
# servers (each imports the chain first, one at a time); every figure per
# run, then the medians in HPS SYNC_S RATIO STEADY_HPS STEADY_RATIO DONE.
# B's tip polls go to SYNC_TRACE_DIR/LABEL_run<r>.dat when it is set.
sync_runs() {
	local label=$1 a r
	shift
	local RATES=() SECS=() STEADY=()
	DONE=0
	for ((r = 1; r <= RUNS; r++)); do
		rm -rf "$SLT_TMP/store$B" "$SOCK"
		for a in "$@"; do
			rm -rf "$SLT_TMP/store$a"
			slt_node_start $a
			slt_node_wait_ready $a 30
			slt_node_ctl $a --json header.import path="$FILE" >"$SLT_TMP/imp" ||
				slt_fail "node $a: header.import: $(cat "$SLT_TMP/imp")"
			[ "$(slt_json_get tip_height <"$SLT_TMP/imp")" = $TIP ] ||
				slt_fail "node $a: import tip: $(cat "$SLT_TMP/imp")"
		done
		perf_pid=
		if [ -n "${SYNC_PERF:-}" ] && [ "$r" = "$RUNS" ]; then
			# shellcheck disable=SC2086 # SYNC_PERF_EVENT is perf's arguments
			perf record -a ${SYNC_PERF_EVENT:--F 999} -g -o "$SLT_TMP/perf.data" >"$SLT_TMP/perf.log" 2>&1 &
			perf_pid=$!
			sleep 0.5 # perf's own start-up is not B's
		fi
		clog_from=$(cat "$SLT_TMP/ctrl$B.log" 2>/dev/null | wc -l)
		declare -A cpu0=() flt0=()
		for a in "$@"; do
			cpu0[$a]=$(cpu_s "${SLT_NODE_DP_PID[$a]}")
			flt0[$a]=$(minflt "${SLT_NODE_DP_PID[$a]}")
		done
		T0=$(slt_now)
		if [ -z "${SLT_NODE_DEV[$B]}" ]; then
			slt_node_start_together $B # memif: both processes at once
		else
			slt_node_start $B # af_packet: dp first (fanout collision retry)
		fi
		rc=0
		slt_node_follow $B $TIP "$POLL_S" $RUN_BOUND_S "$STALL_S" >"$SLT_TMP/follow" 2>"$SLT_TMP/follow.err" || rc=$?
		[ $rc != 4 ] || slt_fail "B: $(cat "$SLT_TMP/follow.err")"
		[ -z "$perf_pid" ] || { kill -INT "$perf_pid"; wait "$perf_pid"; sync_perf_report "$label"; }
		read -r t_ready _ < <(head -n1 "$SLT_TMP/follow")
		t_sess=$(slt_logged_at "$SLT_TMP/ctrl$B.log" "$clog_from" 'session [0-9]* up')
		[ -n "$t_sess" ] || t_sess=$(awk '$3 > 0 { print $1; exit }' "$SLT_TMP/follow")
		read -r t tip _ < <(tail -n1 "$SLT_TMP/follow")
		t_end=$(slt_logged_at "$SLT_TMP/ctrl$B.log" "$clog_from" "sync: at height $TIP:")
		[ $rc != 0 ] || [ -z "$t_end" ] || t=$t_end
		stalled=
		[ $rc = 0 ] || stalled=1
		[ -z "${SYNC_TRACE_DIR:-}" ] ||
			awk -v t0="$T0" '{ printf "%.3f %s\n", $1 - t0, $2 }' "$SLT_TMP/follow" >"$SYNC_TRACE_DIR/${label}_run$r.dat"
		cpu="B ctrl $(cpu_s "${SLT_NODE_CTRL_PID[$B]}") B dp $(cpu_s "${SLT_NODE_DP_PID[$B]}")"
		flt="B ctrl $(minflt "${SLT_NODE_CTRL_PID[$B]}") B dp $(minflt "${SLT_NODE_DP_PID[$B]}")"
		for a in "$@"; do
			cpu+=" A$a dp $(awk -v a="$(cpu_s "${SLT_NODE_DP_PID[$a]}")" -v b="${cpu0[$a]}" 'BEGIN { printf "%.3f", a - b }')"
			flt+=" A$a dp $(($(minflt "${SLT_NODE_DP_PID[$a]}") - flt0[$a]))"
		done
		ss=$(slt_node_ctl $B --json sync.status 2>/dev/null | slt_jq 'json.dumps({k: x for k, x in v["counters"].items() if x})' 2>/dev/null)
		lost=$(slt_node_stats_json $B 2>/dev/null | slt_jq 'v["events_lost"]' 2>/dev/null)
		if [ -n "${SYNC_STATS_DIR:-}" ]; then
			for k in "$@" $B; do
				slt_node_ctl $k --json stats >"$SYNC_STATS_DIR/${label}_run${r}_node$k.json" 2>&1
			done
			tail -n +$((clog_from + 1)) "$SLT_TMP/ctrl$B.log" >"$SYNC_STATS_DIR/${label}_run${r}_ctrl.log"
		fi
		rel() { [ -n "$1" ] && "$SLT_PY" -c "print(round($1 - $T0, 3))" || echo na; }
		if [ -n "$stalled" ]; then
			slt_log "$label run $r: STALLED at tip ${tip:-?} of $TIP ($(cat "$SLT_TMP/follow.err"); ready_s=$(rel "$t_ready") session_s=$(rel "$t_sess")) B events_lost=${lost:-?} sync counters: ${ss:-?}"
		else
			s=$("$SLT_PY" -c "print(round($t - $T0, 3))")
			rate=$("$SLT_PY" -c "print(int($N / $s))")
			s_sess=$("$SLT_PY" -c "print(round($t - $t_sess, 3))")
			slt_log "$label run $r: sync_s=$s headers_per_s=$rate ready_s=$(rel "$t_ready") session_s=$(rel "$t_sess") sync_from_session_s=$s_sess headers_per_s_from_session=$("$SLT_PY" -c "print(int($N / $s_sess))") B events_lost=${lost:-?} sync counters: ${ss:-?}"
			slt_log "$label run $r: CPU seconds from start to tip: $cpu"
			slt_log "$label run $r: minor page faults from start to tip: $flt"
			RATES+=("$rate") SECS+=("$s") STEADY+=("$("$SLT_PY" -c "print(int($N / $s_sess))")")
			DONE=$((DONE + 1))
		fi
		slt_node_stop $B
		for a in "$@"; do
			slt_node_stop $a
		done
	done
	HPS=$(echo "${RATES[*]}" | slt_median)
	SYNC_S=$(echo "${SECS[*]}" | slt_median)
	RATIO=$("$SLT_PY" -c "print(round($HPS / $SHA, 4) if $SHA else 0)")
	STEADY_HPS=$(echo "${STEADY[*]}" | slt_median)
	STEADY_RATIO=$("$SLT_PY" -c "print(round($STEADY_HPS / $SHA, 4) if $SHA else 0)")
	slt_log "$label: completed runs: $DONE of $RUNS; median sync_s=$SYNC_S (from B's start to tip $TIP)"
}

[ -z "${SYNC_TRACE_DIR:-}" ] || mkdir -p "$SYNC_TRACE_DIR"
if [ "${SYNC_DEFAULT:-1}" != 0 ]; then
	sync_runs default $A
	LINE="sync headers=$N headers_per_s=$HPS sha256d_per_s=$SHA ratio=$RATIO steady_headers_per_s=$STEADY_HPS steady_ratio=$STEADY_RATIO"
	DONE1=$DONE
fi

# The two-server variant: A1..A(SERVERS) -> B on one L2 segment (see the
# top).
if [ "${SYNC_TWO:-1}" != 0 ]; then
	SOCK=$SLT_TMP/unused.sock
	slt_lan_up $((SERVERS + 1))
	B=$((SERVERS + 1))
	SRV=() BOOT=
	for ((k = 1; k <= SERVERS; k++)); do
		SRV+=("$k")
		BOOT+=${BOOT:+,}${SLT_NODE_IP[$k]}:9747
	done
	SLT_NODE_LCORES[$B]=$LCORES_B
	for k in "${SRV[@]}" $B; do
		slt_node_config $k >/dev/null
		core=$(((LCORES_B + k - 1) % $(nproc)))
		[ "$k" != $B ] || core=$((k % $(nproc)))
		slt_cfg_set "${SLT_NODE_CFG[$k]}" eal args "--no-pci --no-huge -m 128 --file-prefix ${SLT_NODE_PREFIX[$k]} -l $(slt_lcores_eal "${SLT_NODE_LCORES[$k]:-$SLT_LCORES}" $core)"
		slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us "$IDLE_US"
		slt_cfg_set "${SLT_NODE_CFG[$k]}" admission max_peers 8
		slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
		slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
	done
	slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "$BOOT"
	slt_cfg_set "${SLT_NODE_CFG[$B]}" log format json
	slt_log "two-server variant: $SERVERS servers, B with $LCORES_B worker lcores ($(sed -n 's/^args = .* -l //p' "${SLT_NODE_CFG[$B]}"), $(sed -n 's/^port = //p' "${SLT_NODE_CFG[$B]}"))"
	sync_tuning $B "${SRV[@]}"
	sync_runs two_servers "${SRV[@]}"
	echo "sync_two_servers headers=$N headers_per_s=$HPS steady_headers_per_s=$STEADY_HPS ratio=$RATIO steady_ratio=$STEADY_RATIO$([ "$SERVERS" = 2 ] && [ "$LCORES_B" = 1 ] || echo " servers=$SERVERS lcores_b=$LCORES_B")"
	DONE2=$DONE
fi
if [ "${SYNC_DEFAULT:-1}" != 0 ]; then
	echo "$LINE"
	[ "$DONE1" -gt 0 ]
else
	[ "${DONE2:-0}" -gt 0 ]
fi
