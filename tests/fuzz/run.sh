#!/usr/bin/env bash
# tests/fuzz/run.sh TARGET SECONDS [LIBFUZZER_ARGS...] — a long run of one
# fuzz target (tests/fuzz/README.md).  Builds the fuzz build dir
# ($SLUICE_FUZZDIR, default build-fuzz/: CC=clang, -Dfuzz=true) if needed,
# copies the target's seed corpus and regression inputs to a scratch
# corpus ($SLUICE_FUZZ_WORK, default /tmp/sl-fuzz-work/TARGET; the tree
# stays small), runs the target for SECONDS, and ends with one line:
#   fuzz TARGET execs=N secs=S execs_per_s=R cov=C ft=F crashes=K slow=L
# Findings (crash-*, leak-*, timeout-*, oom-*) are left in the scratch
# dir's artifacts/, named in the output: copy each into
# tests/fuzz/regress/TARGET/ once its bug is fixed.  TARGET "all" runs
# every target for SECONDS each, one after the other.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
[ $# -ge 2 ] || {
	echo "usage: tests/fuzz/run.sh TARGET|all SECONDS [libFuzzer args...]" >&2
	exit 2
}
target=$1 secs=$2
shift 2
dir=${SLUICE_FUZZDIR:-build-fuzz}
targets=$(sed -n "s/^  '\([a-z]*\)' : .*/\1/p" tests/fuzz/meson.build)
if [ "$target" = all ]; then
	rc=0
	for t in $targets; do "$0" "$t" "$secs" "$@" || rc=1; done
	exit $rc
fi
echo "$targets" | grep -qx "$target" || {
	echo "tests/fuzz/run.sh: no target '$target' (targets: $(echo $targets))" >&2
	exit 2
}
[ -f "$dir/build.ninja" ] ||
	CC=clang meson setup "$dir" -Ddefconfig=test_defconfig -Dwerror=true -Dfuzz=true >/dev/null
nice ninja -C "$dir" "tests/fuzz/fuzz_$target" >/dev/null
work=${SLUICE_FUZZ_WORK:-/tmp/sl-fuzz-work}/$target
mkdir -p "$work/corpus" "$work/artifacts"
cp -n tests/fuzz/corpus/"$target"/* tests/fuzz/regress/"$target"/* "$work/corpus/" 2>/dev/null || true
log=$work/fuzz.log
start=$(date +%s)
set +e
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	nice "$dir/tests/fuzz/fuzz_$target" -max_total_time="$secs" -print_final_stats=1 \
	-close_fd_mask=3 -dict="tests/fuzz/$target.dict" -max_len=4096 -timeout=60 \
	-artifact_prefix="$work/artifacts/" "$@" "$work/corpus" >"$log" 2>&1
rc=$?
set -e
took=$(($(date +%s) - start))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
last=$(grep -E "^#[0-9]+" "$log" | tail -1 || true)
[ -n "$execs" ] || execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
# findings: crash-, leak-, timeout-, oom-; a slow-unit (one input past
# 10 s, e.g. while the machine was paused) is named, not counted
crashes=$(find "$work/artifacts" -type f ! -name 'slow-unit-*' | wc -l)
slow=$(find "$work/artifacts" -type f -name 'slow-unit-*' | wc -l)
if [ "$crashes" -gt 0 ] || [ "$slow" -gt 0 ] || [ $rc -ne 0 ]; then
	grep -E 'ERROR:|SUMMARY:|runtime error' "$log" | head -5 || true
	find "$work/artifacts" -type f ! -name 'slow-unit-*' | sed 's/^/finding: /'
	find "$work/artifacts" -type f -name 'slow-unit-*' | sed 's/^/slow (rerun it alone to time it): /'
	echo "log: $log"
fi
echo "fuzz $target execs=${execs:-0} secs=$took execs_per_s=$((${execs:-0} / (took > 0 ? took : 1))) cov=${cov:-0} ft=${ft:-0} crashes=$crashes slow=$slow"
[ "$crashes" -eq 0 ] && [ $rc -eq 0 ]
