#!/usr/bin/env bash
# test_summarize.sh — tests/summarize.py, the suite's verdict: under CI a
# skip that tests/skips.allowed does not name is a failure, an allowed one
# (or any skip outside CI) is a skip; the last line always counts all
# three; meson's own failure with no failed test still fails; a reason-less
# allow-list line is refused.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

log() { # log FILE name:result...
	local f=$1 t
	shift
	: >"$f"
	for t in "$@"; do
		printf '{"name": "%s", "result": "%s", "stdout": "[%s] SKIP: no widget here\\n"}\n' \
			"${t%%:*}" "${t#*:}" "${t%%:*}" >>"$f"
	done
}
# run ALLOWED RC CI LOGS... -> $out, $rc
run() {
	out=$(/usr/bin/python3 "$here/summarize.py" "$@" 2>&1)
	rc=$?
}
printf '# comment\n\nokskip a reason a reader can judge\n' >"$tmp/allowed"
log "$tmp/a.json" one:OK two:SKIP okskip:SKIP three:FAIL
log "$tmp/b.json" one:OK two:SKIP

run "$tmp/allowed" 1 true "$tmp/a.json"
[ "$(tail -n1 <<<"$out")" = "1 passed, 2 failed, 1 skipped" ] && [ $rc = 1 ] &&
	grep -q 'two: *FAIL: skipped under CI and not in tests/skips.allowed (no widget here)' <<<"$out" &&
	grep -q 'okskip: *SKIP, allowed: a reason a reader can judge' <<<"$out" &&
	ok "CI: an unlisted skip fails, a listed one is a skip" || bad "CI verdict: $out"

run "$tmp/allowed" 0 "" "$tmp/b.json"
[ "$(tail -n1 <<<"$out")" = "1 passed, 0 failed, 1 skipped" ] && [ $rc = 0 ] &&
	ok "outside CI a skip stays a skip" || bad "non-CI verdict: $out"

log "$tmp/c.json" one:OK
run "$tmp/allowed" 0 true "$tmp/c.json" "$tmp/b.json"
[ "$(tail -n1 <<<"$out")" = "2 passed, 1 failed, 0 skipped" ] &&
	grep -q 'asan/two: *FAIL: skipped under CI' <<<"$out" &&
	ok "the sanitizer log counts too, its names prefixed asan/" || bad "two logs: $out"

mkdir -p "$tmp/f"
log "$tmp/f/fuzz.json" fuzz_wire:OK fuzz_frame:FAIL
run "$tmp/allowed" 1 "" "$tmp/c.json" "$tmp/f/fuzz.json"
[ "$(tail -n1 <<<"$out")" = "2 passed, 1 failed, 0 skipped" ] && [ $rc = 1 ] &&
	grep -q '^fuzz_frame: *FAIL' <<<"$out" &&
	ok "the fuzz smokes' log counts too, its names kept" || bad "fuzz log: $out"

run "$tmp/allowed" 1 true "$tmp/c.json"
[ "$(tail -n1 <<<"$out")" = "1 passed, 1 failed, 0 skipped" ] && [ $rc = 1 ] &&
	ok "meson failing with no failed test still fails" || bad "meson rc: $out"

printf 'lazy\n' >"$tmp/noreason"
run "$tmp/noreason" 0 true "$tmp/c.json"
[ $rc != 0 ] && grep -q "'lazy' has no reason" <<<"$out" &&
	ok "an allow-list line without a reason is refused" || bad "reason-less line: $out"

echo "$((6 - fails)) passed, $fails failed"
[ $fails = 0 ]
