#!/usr/bin/env bash
# scaling.sh — header sync rate against the syncing node's worker lcores
# (issue 10 item 7: sessions on every lcore).  For each L in the lcore
# list it runs tests/bench/sync.sh's two-server variant alone
# (SYNC_DEFAULT=0): S servers A1..AS (one lcore each, each imports the
# same N regtest headers) and node B with L worker lcores (EAL -l 0-(L-1),
# net_af_packet qpairs=L: a queue pair per worker) on one L2 segment,
# B bootstrapping from every server and syncing by header sync alone.
# S = max(2, L) unless SERVERS is set: at least one session per worker,
# since ctrl places each outbound session on the worker with the most
# free slots.  The figures are sync.sh's (medians of RUNS runs, its
# sha256d_per_s ceiling measured again per L); every line sync.sh prints
# is shown, indented.  Per run, B's dataplane counters per lcore at the
# tip (sluicectl --json stats, dataplane.per_lcore, via sync.sh's
# SYNC_STATS_DIR): sessions owned, rx_pkts, rt_frames (session frames
# handled), hs_headers_rx (headers accepted), handoff_out / handoff_in
# (frames handed to / taken from the owning worker), drop_handoff_full; a
# worker "at work" accepted headers (hs_headers_rx > 0); the count of
# workers at work in every run is lcores_at_work, and a warning
# names the L where it is below L.  Then one line per L
#   scaling lcores=<L> servers=<S> headers_per_s=<x> steady_headers_per_s=<x>
#           lcores_at_work=<k>   (one line)
# (tests/bench/report.sh plots these lines), and last
#   scaling lcores=<L,...> headers_per_s=<x,...> ratio_vs_1=<r,...>
#           steady_headers_per_s=<x,...> steady_ratio_vs_1=<r,...>
# ratios to the first L of the list (1 by default; the field is named
# ratio_vs_<first L>), measured in the same run.  An L whose runs all
# stalled reports 0 and makes the exit status 1; the other L still run.
# Never pass/fail on time.  Needs root (sync.sh does).  On a 2-core
# machine the workers, the servers and every ctrl share both cores, so
# L=2 shows that both workers work more than it shows a speed-up; the
# list 1 2 4 8 needs 16 cores.
# Usage: tests/bench/scaling.sh [RUNS] [N]   (RUNS default 3, N default
#        1,000,000; env: SCALING_LCORES="1 2 ..." (default "1 2 4 8" with
#        16 cores or more, else "1 2"), SERVERS=servers for every L
#        (default max(2, L)), SYNC_STATS_DIR / SYNC_TRACE_DIR: kept per L
#        under <dir>/lcores<L>/, and sync.sh's own env (SLUICE_DP,
#        SLUICE_CTRL, SLUICECTL, SLUICE_CHAINGEN, SHA256D, STALL_S,
#        SLT_BENCH_*, SLT_TMPDIR, ...))
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
RUNS=${1:-3}
N=${2:-1000000}
if [ "$(nproc)" -ge 16 ]; then LIST=${SCALING_LCORES:-1 2 4 8}; else LIST=${SCALING_LCORES:-1 2}; fi
slt_require_root
TMPD=$(mktemp -d "${SLT_TMPDIR:-/tmp}/sltscale.XXXXXX")
trap 'rm -rf "$TMPD"' EXIT
trap 'exit 130' INT TERM

# per_lcore FILE: B's dataplane counters per worker from one run's stats.
per_lcore() {
	"$SLT_PY" -c '
import json, sys
v = json.load(open(sys.argv[1]))
for l in v["dataplane"]["per_lcore"]:
    c = l["counters"]
    print(l["index"], l["lcore_id"], l["sessions"], " ".join(str(c.get(k, "na")) for k in
          ("rx_pkts", "rt_frames", "hs_headers_rx", "handoff_out", "handoff_in",
           "drop_handoff_full")))
' "$1"
}

RC=0
LS=() HPS=() STEADY=() LINES=()
for L in $LIST; do
	S=${SERVERS:-$((L > 2 ? L : 2))}
	stats=${SYNC_STATS_DIR:+$SYNC_STATS_DIR/lcores$L}
	stats=${stats:-$TMPD/stats$L}
	mkdir -p "$stats"
	slt_log "lcores=$L: sync.sh $RUNS $N, two-server variant, $S servers, B on $L worker lcores"
	rc=0
	SYNC_DEFAULT=0 SYNC_TWO=1 SERVERS=$S LCORES_B=$L SYNC_STATS_DIR=$stats \
		SYNC_TRACE_DIR=${SYNC_TRACE_DIR:+$SYNC_TRACE_DIR/lcores$L} \
		"$SLUICE_SRC/tests/bench/sync.sh" "$RUNS" "$N" >"$TMPD/out$L" 2>&1 || rc=$?
	sed 's/^/    /' "$TMPD/out$L"
	[ $rc != 77 ] || exit 77 # sync.sh skipped (its reason is above)
	line=$(grep '^sync_two_servers ' "$TMPD/out$L" | tail -n1)
	hps=$(echo "$line" | sed -n 's/.* headers_per_s=\([0-9.]*\).*/\1/p')
	st=$(echo "$line" | sed -n 's/.* steady_headers_per_s=\([0-9.]*\).*/\1/p')
	# B (node S+1) per worker, each run.
	at_work=$L
	for f in "$stats"/two_servers_run*_node$((S + 1)).json; do
		[ -s "$f" ] || continue
		r=${f##*_run}
		r=${r%%_node*}
		if ! per_lcore "$f" >"$TMPD/pl" 2>"$TMPD/pl.err"; then
			slt_log "lcores=$L run $r: no per-lcore counters: $(head -c 300 "$TMPD/pl.err") $(head -c 300 "$f")"
			continue
		fi
		n=0
		while read -r i id sess rx rt hs hout hin hfull; do
			slt_log "lcores=$L run $r: B worker $i (lcore $id): sessions=$sess rx_pkts=$rx rt_frames=$rt hs_headers_rx=$hs handoff_out=$hout handoff_in=$hin drop_handoff_full=$hfull"
			[ "$hs" -gt 0 ] 2>/dev/null && n=$((n + 1))
		done <"$TMPD/pl"
		[ "$n" -ge "$at_work" ] || at_work=$n
	done
	ls "$stats"/two_servers_run*_node$((S + 1)).json >/dev/null 2>&1 || at_work=0
	if [ $rc != 0 ] || [ -z "$hps" ]; then
		slt_log "lcores=$L: no completed run (sync.sh exit $rc)"
		RC=1 hps=0 st=0
	fi
	[ "$at_work" = "$L" ] ||
		slt_log "WARNING lcores=$L: only $at_work of $L workers accepted headers in every run (per-worker lines above)"
	LS+=("$L") HPS+=("$hps") STEADY+=("$st")
	LINES+=("scaling lcores=$L servers=$S headers_per_s=$hps steady_headers_per_s=$st lcores_at_work=$at_work")
done

# ratios LIST...: each figure over the first (0 when the first is 0).
ratios() {
	"$SLT_PY" -c '
import sys
v = [float(x) for x in sys.argv[1:]]
print(",".join(str(round(x / v[0], 3)) if v[0] else "0" for x in v))
' "$@"
}
printf '%s\n' "${LINES[@]}"
join() { local IFS=,; echo "$*"; }
echo "scaling lcores=$(join "${LS[@]}") headers_per_s=$(join "${HPS[@]}") ratio_vs_${LS[0]}=$(ratios "${HPS[@]}") steady_headers_per_s=$(join "${STEADY[@]}") steady_ratio_vs_${LS[0]}=$(ratios "${STEADY[@]}")"
exit $RC
