#!/usr/bin/env bash
# report.sh — runs the benchmarks one after the other and writes a markdown
# report with gnuplot plots.  Nothing is judged: it collects each bench's
# figures (its last lines), the command that produced them, and plots.
#
#   sha256d       build/tests/bench/sha256d (the single-core ceiling)
#   sync          tests/bench/sync.sh RUNS N: default (A -> B over memif)
#                 and two-server (A1, A2 -> B over af_packet) variants; B's
#                 tip is polled every SYNC_POLL_S (0.05 s) into .dat files
#                 and plotted as height over time, one curve per run
#   frame_path    tests/bench/frame_path.sh RUNS (PERF=1: with the profile)
#   relay         tests/bench/relay.sh RELAY_S
#   startup       tests/bench/startup.sh RUNS
#   scaling       tests/bench/scaling.sh RUNS N (two-server sync with 1, 2
#                 (4, 8 on 16 cores) worker lcores on B); its per-L
#                 "scaling lcores=<L> ..." lines are written to SCALING
#   lcore scaling when the file SCALING (default OUT/scaling.txt) exists:
#                 one line per measurement with lcores=<n> and
#                 headers_per_s=<x> (e.g. the lines of scaling.sh), or
#                 two columns "<lcores> <headers_per_s>"; plotted (a
#                 file from a bigger machine: SCALING=file and BENCHES
#                 without scaling)
# Output in OUT (default tests/bench/report/, git-ignored): REPORT.md, the
# PNGs, logs/<bench>.log (each bench's whole output), data/*.dat.  A bench
# that fails is reported as failed with its exit status; the others run.
# Needs root (the benches do) and gnuplot (deploy/setup.sh installs it).
# Usage: tests/bench/report.sh [RUNS]   (env: OUT=dir, SYNC_N=headers
#        (default 1000000), RELAY_S=samples (default 200), PERF=1,
#        SCALING=file, BENCHES="sha256d sync frame_path relay startup
#        scaling")
set -u -o pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${1:-3}
OUT=${OUT:-$SRC/tests/bench/report}
SYNC_N=${SYNC_N:-1000000}
RELAY_S=${RELAY_S:-200}
SCALING=${SCALING:-$OUT/scaling.txt}
BENCHES=${BENCHES:-sha256d sync frame_path relay startup scaling}
BUILD=${SLUICE_BUILDDIR:-$SRC/build}

command -v gnuplot >/dev/null || {
	echo "report: gnuplot not found (deploy/setup.sh --deps-only installs it)" >&2
	exit 77
}
[ "$(id -u)" = 0 ] || {
	echo "report: needs root (the benches start nodes in network namespaces)" >&2
	exit 77
}
mkdir -p "$OUT/logs" "$OUT/data"
rm -f "$OUT"/*.png "$OUT/data"/*.dat "$OUT/logs"/*.log
MD=$OUT/REPORT.md
declare -A CMD=() RC=() LAST=()

# run NAME CMD...: the bench, its output to logs/NAME.log; the lines that
# carry figures (key=value lines without a [bench] prefix) kept for the
# table.
run() {
	local name=$1 t0=$SECONDS
	shift
	CMD[$name]="$*"
	echo "report: $name: $*" >&2
	"$@" >"$OUT/logs/$name.log" 2>&1
	RC[$name]=$?
	LAST[$name]=$(grep -E '^[a-z0-9_]+ [a-z0-9_]+=' "$OUT/logs/$name.log" | tail -n 3)
	[ "$name" = sha256d ] && LAST[$name]=$(tail -n 1 "$OUT/logs/$name.log")
	echo "report: $name: exit ${RC[$name]} after $((SECONDS - t0)) s: ${LAST[$name]}" >&2
}

# plot_sync LABEL TITLE: B's height over time, one curve per run.
plot_sync() {
	local label=$1 title=$2 f plots=()
	for f in "$OUT/data/${label}"_run*.dat; do
		[ -s "$f" ] || continue
		plots+=("'$f' using 1:2 with linespoints pt 7 ps 0.4 title '$(basename "$f" .dat)'")
	done
	[ "${#plots[@]}" -gt 0 ] || return 1
	gnuplot <<EOF
set terminal pngcairo size 800,420 font ",10"
set output '$OUT/sync_${label}.png'
set title "$title"
set xlabel "seconds since B's processes started"
set ylabel "B's committed tip (height)"
set key left top
set grid
plot $(
		IFS=,
		echo "${plots[*]}"
	)
EOF
}

# plot_scaling: headers/s against worker lcores from $SCALING.
plot_scaling() {
	[ -s "$SCALING" ] || return 1
	awk '{ l = ""; h = ""
	       for (i = 1; i <= NF; i++) {
	         if ($i ~ /^lcores=/) l = substr($i, 8)
	         if ($i ~ /^headers_per_s=/) h = substr($i, 15)
	       }
	       if (l == "" && NF == 2 && $1 ~ /^[0-9]+$/) { l = $1; h = $2 }
	       if (l ~ /^[0-9]+$/ && h ~ /^[0-9.]+$/) print l, h }' "$SCALING" | sort -n >"$OUT/data/scaling.dat"
	[ -s "$OUT/data/scaling.dat" ] || return 1
	gnuplot <<EOF
set terminal pngcairo size 800,420 font ",10"
set output '$OUT/lcore_scaling.png'
set title 'sync rate against worker lcores of the syncing node'
set xlabel 'worker lcores'
set ylabel 'headers/s'
set grid
set key off
plot '$OUT/data/scaling.dat' using 1:2 with linespoints pt 7
EOF
}

for b in $BENCHES; do
	case $b in
	sha256d) run sha256d "$BUILD/tests/bench/sha256d" ;;
	sync) run sync env SYNC_TRACE_DIR="$OUT/data" SYNC_POLL_S=0.05 \
		"$SRC/tests/bench/sync.sh" "$RUNS" "$SYNC_N" ;;
	frame_path) run frame_path env PERF="${PERF:-0}" "$SRC/tests/bench/frame_path.sh" "$RUNS" ;;
	relay) run relay "$SRC/tests/bench/relay.sh" "$RELAY_S" ;;
	startup) run startup "$SRC/tests/bench/startup.sh" "$RUNS" ;;
	scaling)
		run scaling "$SRC/tests/bench/scaling.sh" "$RUNS" "$SYNC_N"
		grep -E '^scaling lcores=[0-9]+ ' "$OUT/logs/scaling.log" >"$SCALING"
		;;
	*) echo "report: unknown bench $b" >&2 ;;
	esac
done

{
	echo "# sluice benchmark report"
	echo
	echo "Generated by \`tests/bench/report.sh $RUNS\` on $(date -u '+%Y-%m-%d %H:%M UTC'),"
	echo "$(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)),"
	echo "commit $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$SRC" diff --quiet 2>/dev/null || echo ' (with local changes)'),"
	echo "build \`$BUILD\` ($("$BUILD/dataplane/sluice-dp" --version 2>&1 | head -n1))."
	echo "Medians of $RUNS runs where a bench repeats; each bench measures its"
	echo "baseline in the same run.  Nothing here is a pass/fail."
	echo
	echo "| bench | command | exit | figures |"
	echo "|---|---|---|---|"
	for b in $BENCHES; do
		[ -n "${CMD[$b]:-}" ] || continue
		printf '| %s | `%s` | %s | %s |\n' "$b" "${CMD[$b]#env }" "${RC[$b]}" \
			"$(echo "${LAST[$b]}" | sed 's/|/\\|/g' | sed ':a;N;$!ba;s/\n/<br>/g')"
	done
	echo
	if [ -n "${CMD[sync]:-}" ]; then
		echo "## Header sync"
		echo
		echo "Per-run lines (from \`logs/sync.log\`):"
		echo
		echo '```'
		grep -E '^\[sync\] (default|two_servers) (run|:)' "$OUT/logs/sync.log" | cut -c1-400
		echo '```'
		echo
		for v in default two_servers; do
			if plot_sync $v "height of the syncing node B over time, $v ($SYNC_N regtest headers)"; then
				echo "![B's height over time, $v](sync_$v.png)"
				echo
			fi
		done
	fi
	if [ -n "${CMD[frame_path]:-}" ]; then
		echo "## Frame path"
		echo
		echo '```'
		grep -E '^\[frame_path\] +(run|slgen|perf)|^    ' "$OUT/logs/frame_path.log" | cut -c1-300 | head -n 60
		echo '```'
		echo
	fi
	if [ -n "${CMD[relay]:-}" ]; then
		echo "## NEW_BLOCK relay"
		echo
		echo '```'
		grep -E '^\[relay\] (sluice|kernel|samples|node [0-9] new_block)' "$OUT/logs/relay.log"
		echo '```'
		echo
	fi
	if plot_scaling; then
		echo "## Lcore scaling"
		echo
		echo "From \`$SCALING\`:"
		echo
		echo '```'
		cat "$OUT/data/scaling.dat"
		echo '```'
		echo
		if [ -n "${CMD[scaling]:-}" ]; then
			echo "B's workers per run (from \`logs/scaling.log\`):"
			echo
			echo '```'
			grep -E '^\[scaling\] (lcores=[0-9]+ run .*B worker|WARNING)|^scaling ' "$OUT/logs/scaling.log" | cut -c1-300
			echo '```'
			echo
		fi
		echo "![sync rate against worker lcores](lcore_scaling.png)"
		echo
	fi
	echo "Whole outputs: \`logs/<bench>.log\`; plot data: \`data/\`."
} >"$MD"
echo "report: wrote $MD" >&2
