#!/usr/bin/env bash
# ops_tx.sh — operations on the control API (SPEC.md §9 "Operations
# (v1.1)"), sluice-ctrl alone (no dataplane, no root): header.import and
# header.export are operations with a tx; a replayed tx returns the stored
# result without a second op (any args), a tx of another kind is
# BAD_REQUEST; wait=false answers with tx; deadline_ms and wait are
# checked; `ops` lists ended ops with tx, kind, state, age_ms,
# deadline_ms, attempts, parent and result or error (which carries tx);
# op.cancel of an ended or unknown tx is NOT_FOUND; sluicectl --tx replays.
. "$(dirname "$0")/lib.sh"

for b in "$SLUICE_CTRL" "$SLUICECTL"; do
	[ -x "$b" ] || slt_skip "binary $b not built"
done
[ -x "$SLT_PY" ] || slt_skip "$SLT_PY not found"
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
slt_init

slt_ctrl_alone bitcoin-test3

"$SLT_PY" - "$SLT_SOCK" "$T3" "$SLT_TMP" <<'PY' || slt_fail "API checks failed (see above)"
import json, socket, sys
sock, t3, tmp = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sock)
f = s.makefile("rw")
n = [0]

def rq(cmd, args=None, tx=None):
    n[0] += 1
    o = {"id": n[0], "cmd": cmd, "args": args or {}}
    if tx is not None:
        o["tx"] = tx
    f.write(json.dumps(o) + "\n")
    f.flush()
    r = json.loads(f.readline())
    assert r["id"] == n[0], r
    return r

def ok(r):
    assert r["ok"], r
    return r["result"]

def err(r, code):
    assert not r["ok"] and r["error"]["code"] == code, (code, r)
    return r["error"]

r = ok(rq("header.import", {"path": t3}, tx=41))
assert r["tx"] == 41 and r["imported"] == 9999 and r["tip_height"] == 9999, r
started = ok(rq("stats"))["ops"]["started"]
again = ok(rq("header.import", {"path": "/nonexistent"}, tx=41))
assert again == r, (again, r)
assert ok(rq("stats"))["ops"]["started"] == started, "a replay started an op"
print("ok: a replayed tx returns the stored result, no second op")

err(rq("header.export", {"path": tmp + "/x"}, tx=41), "BAD_REQUEST")
err(rq("header.import", {"path": t3, "deadline_ms": 0}), "BAD_REQUEST")
err(rq("header.import", {"path": t3, "wait": "no"}), "BAD_REQUEST")
err(rq("header.import", {"path": t3}, tx=-3), "BAD_REQUEST")
err(rq("status", {"wait": False}), "BAD_REQUEST")
print("ok: tx of another kind, bad deadline_ms / wait / tx refused")

r = ok(rq("header.export", {"path": tmp + "/e", "from": 1, "to": 9, "wait": False,
                            "deadline_ms": 5000}))
etx = r["tx"]
assert isinstance(etx, int) and etx > 0 and etx != 41, r
e = err(rq("header.import", {"path": "/nonexistent"}), "NOT_FOUND")
ftx = e["tx"]
assert isinstance(ftx, int) and ftx not in (41, etx), e
print("ok: minted tx on results and on errors")

ops = {o["tx"]: o for o in ok(rq("ops"))}
for tx in (41, etx, ftx):
    o = ops[tx]
    for k in ("kind", "state", "age_ms", "deadline_ms", "attempts", "parent"):
        assert k in o, (k, o)
    assert o["parent"] is None, o
assert ops[41]["kind"] == "header.import" and ops[41]["state"] == "done", ops[41]
assert ops[41]["result"]["imported"] == 9999 and ops[41]["deadline_ms"] is None, ops[41]
assert ops[etx]["kind"] == "header.export" and ops[etx]["deadline_ms"] == 5000, ops[etx]
assert ops[etx]["result"]["exported"] == 9, ops[etx]
assert ops[ftx]["state"] == "failed" and ops[ftx]["error"]["code"] == "NOT_FOUND", ops[ftx]
assert ops[ftx]["error"]["tx"] == ftx, ops[ftx]
print("ok: ops lists ended ops with their result or error")

err(rq("op.cancel", {"tx": 41}), "NOT_FOUND")
err(rq("op.cancel", {"tx": 999999}), "NOT_FOUND")
err(rq("peer.connect", {"addr": "10.1.2.3"}), "NOT_READY")
print("ok: op.cancel of ended / unknown tx, peer.connect without a dataplane")
PY
slt_ok "API: tx replay, minting, ops listing, op.cancel"

slt_ctl --json --tx 41 header.import path=/nonexistent >"$SLT_TMP/out" 2>"$SLT_TMP/err" ||
	slt_fail "sluicectl --tx 41 replay: $(cat "$SLT_TMP/err")"
[ "$(slt_json_get imported <"$SLT_TMP/out")" = 9999 ] || slt_fail "replay via sluicectl: $(cat "$SLT_TMP/out")"
slt_ok "sluicectl --tx replays the stored result"
slt_stop_ctrl
slt_assert_ctrl_clean
slt_ok "ops_tx passed"
