#!/usr/bin/python3
"""summarize.py ALLOWED TEST_RC CI TESTLOG.json... -- the last part of
tests/run.sh: one line per unit suite (check's summary), per measured rate
and per test that did not pass (with the line that says why), then
"N passed, N failed, N skipped".

ALLOWED is tests/skips.allowed ("name reason" lines).  With CI "true" a
skipped test (meson SKIP, exit 77) counts as failed unless ALLOWED names it;
otherwise a skip stays a skip.  The first TESTLOG is the main build's, the
others are the sanitizer build's (names prefixed "asan/"), but for the
fuzz smokes' (fuzz.json, names fuzz_TARGET kept).  TEST_RC is
meson's exit status: non-zero with no failed test still fails the run.
Exits 1 if anything failed."""
import json, re, sys

allowed_path, test_rc, ci, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "true", sys.argv[4:]
allowed = {}
for n, line in enumerate(open(allowed_path), 1):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    name, _, why = line.partition(" ")
    if not why.strip():
        sys.exit("%s:%d: '%s' has no reason" % (allowed_path, n, name))
    allowed[name] = why.strip()

passed = failed = skipped = 0
check_re = re.compile(r"^\s*\d+%: Checks: \d+, Failures: \d+, Errors: \d+.*$", re.M)
rate_re = re.compile(r"^(icmp_replies_per_s=.*)$", re.M)
skip_re = re.compile(r"SKIP: (.*)$", re.M)
why_res = [re.compile(r"^\[[\w.-]+\] FAIL: .*$", re.M),           # lib.sh slt_fail
           re.compile(r"^.*(?:ERROR: \w+Sanitizer|runtime error:).*$", re.M),
           re.compile(r"^[^:\n]+:\d+:[EF]:.*$", re.M)]                # check


def why_failed(out):
    """The line that says why a test failed: a scenario's last "FAIL: ..."
    (lib.sh slt_fail), else a sanitizer's report, else check's failed
    assertion, else the output's last line.  Cut at 600 characters: the
    CI's record keeps only the tail of what run.sh prints, so the reason
    must be here."""
    lines = next((r.findall(out) for r in why_res if r.search(out)), None)
    lines = lines or [l for l in out.splitlines() if l.strip()][-1:] or ["no output"]
    line = lines[-1].strip()
    return line if len(line) <= 600 else line[:600] + " ..."


for i, path in enumerate(paths):
    prefix = "" if i == 0 or path.endswith("/fuzz.json") else "asan/"
    for t in (json.loads(line) for line in open(path) if line.strip()):
        name = prefix + t["name"]
        res = t.get("result", "")
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        for m in check_re.findall(out):
            print("%-44s %s" % (name + ":", m.strip()))
        for m in rate_re.findall(out):
            print("%-44s %s" % (name + ":", m.strip()))
        if res in ("OK", "EXPECTEDFAIL"):
            passed += 1
            continue
        if res == "SKIP":
            why = (skip_re.findall(out) or ["no reason printed"])[-1].strip()
            if not ci:
                skipped += 1
                print("%-44s SKIP (%s)" % (name + ":", why))
            elif t["name"] in allowed:
                skipped += 1
                print("%-44s SKIP, allowed: %s (%s)" % (name + ":", allowed[t["name"]], why))
            else:
                failed += 1
                print("%-44s FAIL: skipped under CI and not in tests/skips.allowed (%s)"
                      % (name + ":", why))
            continue
        failed += 1
        print("%-44s %s" % (name + ":", res))
        print("    why: %s" % why_failed(out))
if failed == 0 and test_rc != 0:
    failed = 1   # meson itself failed (e.g. a test could not start)
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed else 0)
