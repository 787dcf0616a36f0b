#!/usr/bin/env bash
# tests/run.sh — THE test command (README; .ci/run runs exactly this).
#
# 1. installs what is missing (deploy/setup.sh --deps-only);
# 2. configures a fresh build dir ($SLUICE_BUILDDIR, default build-ci/) of
#    the test configuration (deploy/configs/test_defconfig: the test hooks
#    and the invariant checks on) with -Dwerror=true, builds, and runs every
#    meson test suite (unit, integration);
# 3. builds the same configuration with ASan + UBSan (-Dsanitize=true) in
#    $SLUICE_ASANDIR (default build-asan/) and runs every unit suite and the
#    integration scenarios in $asan_scenarios under it (their names are
#    prefixed "asan/" in the summary).  SLUICE_SANITIZE=0 leaves this part
#    out, outside CI only;
# 4. builds the libFuzzer targets of tests/fuzz/ (clang, -Dfuzz=true) in
#    $SLUICE_FUZZDIR (default build-fuzz/) and runs each one's smoke: its
#    seeds, its regression inputs and a fixed number of mutated inputs
#    (suite "fuzz", tests fuzz_TARGET).  SLUICE_FUZZ=0 leaves this part
#    out, outside CI only;
# then prints the check summary line of each unit test, the time each part
# took, and a last line "N passed, N failed, N skipped".
#
# Skips: with CI=true (set by .ci/run) a test that skips (exit 77) counts as
# failed, unless tests/skips.allowed names it with its reason.  Outside CI
# a skip stays a skip.  Exits non-zero if the build or any test failed.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
builddir=${SLUICE_BUILDDIR:-build-ci}
asandir=${SLUICE_ASANDIR:-build-asan}
defconfig=test_defconfig
fuzzdir=${SLUICE_FUZZDIR:-build-fuzz}
sanitize=${SLUICE_SANITIZE:-1}
fuzz=${SLUICE_FUZZ:-1}
[ "${CI:-}" = true ] && sanitize=1 && fuzz=1
# Under ASan + UBSan: the scenarios that exercise the most code per second
# (sessions, sync, reorg, relay, hostile input, faults, the store, the API).
asan_scenarios="handshake_admission hostile_matrix malformed_frame_counted
  session_exit_kinds cli_exit_codes header_import_export headers_serve
  sync_two_nodes sync_pull_checks sync_reorg new_block_relay sync_bad_pow ops_tx
  ops_network"

times=()
t_start=$(date +%s)
t_mark=$t_start
# lap NAME: record the seconds since the last lap under NAME.
lap() {
	local now
	now=$(date +%s)
	times+=("$1|$((now - t_mark))")
	t_mark=$now
}

deploy/setup.sh --deps-only
lap deps

# build DIR ARGS...: a fresh meson build of the test configuration.
build() {
	local dir=$1
	shift
	rm -rf "$dir"
	meson setup "$dir" -Ddefconfig="$defconfig" -Dwerror=true "$@" && ninja -C "$dir"
}

build_failed() {
	echo
	echo "== summary"
	echo "build failed: $1"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

build "$builddir" || build_failed "$builddir"
lap build

set +e
meson test -C "$builddir" --print-errorlogs
test_rc=$?
set -e
lap tests

asan_rc=0
if [ "$sanitize" != 0 ]; then
	build "$asandir" -Dsanitize=true || build_failed "$asandir (ASan + UBSan)"
	lap "asan build"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	set +e
	meson test -C "$asandir" --print-errorlogs --logbase asan-unit --suite unit
	asan_rc=$?
	# shellcheck disable=SC2086
	meson test -C "$asandir" --print-errorlogs --logbase asan-integration $asan_scenarios
	asan_rc=$((asan_rc | $?))
	set -e
	lap "asan tests"
fi

fuzz_rc=0
if [ "$fuzz" != 0 ]; then
	rm -rf "$fuzzdir"
	CC=clang meson setup "$fuzzdir" -Ddefconfig="$defconfig" -Dwerror=true -Dfuzz=true &&
		ninja -C "$fuzzdir" $(ninja -C "$fuzzdir" -t targets all |
			sed -n 's/^\(tests\/fuzz\/fuzz_[a-z]*\): .*/\1/p') ||
		build_failed "$fuzzdir (libFuzzer targets)"
	lap "fuzz build"
	set +e
	meson test -C "$fuzzdir" --no-rebuild --print-errorlogs --logbase fuzz --suite fuzz
	fuzz_rc=$?
	set -e
	lap "fuzz smokes"
fi

logs=("$builddir/meson-logs/testlog.json")
[ "$sanitize" != 0 ] &&
	logs+=("$asandir/meson-logs/asan-unit.json" "$asandir/meson-logs/asan-integration.json")
[ "$fuzz" != 0 ] && logs+=("$fuzzdir/meson-logs/fuzz.json")
for l in "${logs[@]}"; do
	[ -f "$l" ] || {
		echo "tests/run.sh: no $l"
		exit 1
	}
done

echo
echo "== times"
for t in "${times[@]}"; do
	printf '%-12s %5d s\n' "${t%|*}" "${t#*|}"
done
printf '%-12s %5d s\n' total $(($(date +%s) - t_start))

echo
echo "== summary"
/usr/bin/python3 tests/summarize.py "$src/tests/skips.allowed" "$((test_rc | asan_rc | fuzz_rc))" \
	"${CI:-}" "${logs[@]}"
