#!/usr/bin/env bash
# tests/run.sh — THE test command (README; .ci/run runs exactly this).
#
# Installs what is missing (deploy/setup.sh --deps-only), configures a fresh
# build dir ($SLUICE_BUILDDIR, default build-ci/) with -Dwerror=true,
# compiles, runs every meson test suite (unit, integration) with
# --print-errorlogs, then prints the check summary line of each unit test
# and a last line "N passed, N failed" (", N skipped" when some were).
# Exits non-zero if the build or any test failed.  Integration tests need
# root; without it they skip (and are counted as skipped).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
builddir=${SLUICE_BUILDDIR:-build-ci}

deploy/setup.sh --deps-only

rm -rf "$builddir"
if ! { meson setup "$builddir" -Dwerror=true && ninja -C "$builddir"; }; then
	echo
	echo "== summary"
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

set +e
meson test -C "$builddir" --print-errorlogs
test_rc=$?
set -e

log=$builddir/meson-logs/testlog.json
[ -f "$log" ] || {
	echo "tests/run.sh: no $log"
	exit 1
}

echo
echo "== summary"
/usr/bin/python3 - "$log" "$test_rc" <<'EOF'
import json, re, sys

path, test_rc = sys.argv[1], int(sys.argv[2])
tests = [json.loads(line) for line in open(path) if line.strip()]
passed = failed = skipped = 0
check_re = re.compile(r"^\s*\d+%: Checks: \d+, Failures: \d+, Errors: \d+.*$", re.M)
rate_re = re.compile(r"^(icmp_replies_per_s=.*)$", re.M)
for t in tests:
    res = t.get("result", "")
    out = (t.get("stdout") or "") + (t.get("stderr") or "")
    if res in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif res == "SKIP":
        skipped += 1
    else:
        failed += 1
    for m in check_re.findall(out):
        print("%-44s %s" % (t["name"] + ":", m.strip()))
    for m in rate_re.findall(out):
        print("%-44s %s" % (t["name"] + ":", m.strip()))
    if res not in ("OK", "EXPECTEDFAIL"):
        print("%-44s %s" % (t["name"] + ":", res))
if failed == 0 and test_rc != 0:
    failed = 1   # meson itself failed (e.g. a test could not start)
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
sys.exit(1 if failed else 0)
EOF
