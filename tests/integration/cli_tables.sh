#!/usr/bin/env bash
# cli_tables.sh — sluicectl's human output of lists and events.
#   ops: an aligned table (tx, kind, state, ..., progress, outcome): every
#     row's columns start where the title's do, numbers right-aligned, a
#     done import with its progress N/N and "ok", a failed one with its
#     error code and message;
#   watch: one line per event, "HH:MM:SS.mmm <topic> <type> key=value ...",
#     nested keys as a.b, values with spaces quoted; --json keeps the
#     API's lines.
. "$(dirname "$0")/lib.sh"

slt_require_bins
slt_init
slt_chaingen -n 3000 --seed 3 -o "$SLT_TMP/h"
slt_ctrl_alone regtest
slt_ctl watch topics=ops >"$SLT_TMP/watch" 2>&1 &
W1=$!
slt_ctl --json watch topics=ops >"$SLT_TMP/watch.json" 2>&1 &
W2=$!
w_kill() { kill "$W1" "$W2" 2>/dev/null; }
SLT_CLEANUP_HOOKS+=(w_kill)
sleep 0.5
slt_ctl header.import path="$SLT_TMP/h" >/dev/null || slt_fail "import"
slt_ctl header.import path="$SLT_TMP/missing" >/dev/null 2>&1 && slt_fail "a missing file imported"
slt_ctl ops >"$SLT_TMP/ops" || slt_fail "ops"
sed 's/^/  | /' "$SLT_TMP/ops"
"$SLT_PY" - "$SLT_TMP/ops" <<'PY' || slt_fail "the ops table (above)"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
head = lines[0]
cols = ["tx", "kind", "state", "age_ms", "deadline_ms", "attempts", "parent", "progress", "outcome"]
if head.split() != cols:
    print("FAIL: title %r" % head); sys.exit(1)
# column spans from the title: each title word ends (right-aligned) or
# starts (left-aligned) where its cells do
ends = [m.end() for m in re.finditer(r"\S+", head)]
starts = [m.start() for m in re.finditer(r"\S+", head)]
rows = [l for l in lines[1:] if l.strip()]
if len(rows) != 2:
    print("FAIL: %d rows" % len(rows)); sys.exit(1)
for r in rows:
    for i, name in enumerate(cols[:-1]):
        right = name in ("tx", "age_ms", "deadline_ms", "attempts", "parent")
        if right and r[ends[i] - 1] == " ":
            print("FAIL: %s not right-aligned under its title in %r" % (name, r)); sys.exit(1)
        if not right and (r[starts[i]] == " " or (starts[i] and r[starts[i] - 1] != " ")):
            print("FAIL: %s does not start under its title in %r" % (name, r)); sys.exit(1)
done = [r for r in rows if " done " in r]
failed = [r for r in rows if " failed " in r]
if not done or not re.search(r"3000/3000\s+ok$", done[0]):
    print("FAIL: the done import: %s" % done); sys.exit(1)
if not failed or "NOT_FOUND: cannot read" not in failed[0]:
    print("FAIL: the failed import: %s" % failed); sys.exit(1)
print("ok: ops table aligned; done 3000/3000 ok; failed NOT_FOUND")
PY
sleep 0.3
w_kill
sed 's/^/  | /' "$SLT_TMP/watch" | cut -c1-160
grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} ops op_start tx=[0-9]+ kind=header\.import state=running' "$SLT_TMP/watch" ||
	slt_fail "no op_start line"
grep -Eq '^[0-9:.]{12} ops op_done .* state=done .*result\.imported=2999' "$SLT_TMP/watch" ||
	slt_fail "no op_done line with result.imported"
grep -Eq 'state=failed .*error\.code=NOT_FOUND error\.message="cannot read [^"]+"' "$SLT_TMP/watch" ||
	slt_fail "the failed op's error is not a quoted key=value"
grep -q '^{"event":"ops","type":"op_done"' "$SLT_TMP/watch.json" || slt_fail "--json watch lost its JSON lines"
slt_ok "watch: one line per event with key=value; --json keeps the API's lines"
slt_stop_ctrl
