#!/usr/bin/env bash
# ops_watch.sh — the `watch` command (SPEC.md §9 "Operations (v1.1)"),
# sluice-ctrl alone (no dataplane): a subscriber to `ops` gets the reply
# {"id","ok":true,"result":{"topics":["ops"]}}, then op_start and op_done
# (tx, kind, state, result or error) for every op started, cancelled ones
# included; a subscriber that never reads does not slow `status` (its
# latency is measured under a flood of ops without and with such a
# subscriber); when it reads again, the first line after its losses is
# {"event":"dropped","count":N}, then events again; a 9th subscription
# finds no stream permit and gets BUSY after 5 s.
. "$(dirname "$0")/lib.sh"

for b in "$SLUICE_CTRL" "$SLUICECTL" "${SLUICE_CHAINGEN:-}"; do
	[ -x "$b" ] || slt_skip "binary $b not built"
done
[ -x "$SLT_PY" ] || slt_skip "$SLT_PY not found"
slt_init

"$SLUICE_CHAINGEN" -n 300000 -o "$SLT_TMP/big.headers" --seed 3 || slt_fail "sluice-chaingen failed"
head -c $((11 * 80)) "$SLT_TMP/big.headers" >"$SLT_TMP/small.headers"
slt_ctrl_alone regtest

"$SLT_PY" - "$SLT_SOCK" "$SLT_TMP" <<'PY' || slt_fail "checks failed (see above)"
import json, socket, sys, threading, time
sock, tmp = sys.argv[1], sys.argv[2]
small, big = tmp + "/small.headers", tmp + "/big.headers"

class Conn:
    def __init__(self, timeout=30):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        self.s.connect(sock)
        self.f = self.s.makefile("rw")
        self.n = 0
    def send(self, cmd, args=None, tx=None):
        self.n += 1
        o = {"id": self.n, "cmd": cmd, "args": args or {}}
        if tx is not None:
            o["tx"] = tx
        self.f.write(json.dumps(o) + "\n")
        self.f.flush()
        return self.n
    def recv(self):
        line = self.f.readline()
        assert line.endswith("\n"), "connection closed: %r" % line
        return json.loads(line)
    def rq(self, cmd, args=None, tx=None):
        i = self.send(cmd, args, tx)
        r = self.recv()
        assert r["id"] == i, r
        return r

def ok(r):
    assert r["ok"], r
    return r["result"]

def watch(topics):
    w = Conn()
    i = w.send("watch", {"topics": topics})
    r = w.recv()
    assert r == {"id": i, "ok": True, "result": {"topics": topics}}, r
    return w

c = Conn()

# 1. every op: op_start and op_done on the ops topic
w = watch(["ops"])
events = []
def reader():
    try:
        while True:
            events.append(w.recv())
    except Exception:
        pass
threading.Thread(target=reader, daemon=True).start()

ok(c.rq("header.import", {"path": small}, tx=1001))
ok(c.rq("header.export", {"path": tmp + "/out.headers", "from": 0, "to": 5}, tx=1002))
r = c.rq("header.import", {"path": "/nonexistent"}, tx=1003)
assert not r["ok"] and r["error"]["code"] == "NOT_FOUND", r
assert ok(c.rq("header.import", {"path": big, "wait": False}, tx=1004))["state"] == "running"
time.sleep(0.05)
assert ok(c.rq("op.cancel", {"tx": 1004})) == {"tx": 1004, "state": "cancelled"}
want = {1001: ("header.import", "done"), 1002: ("header.export", "done"),
        1003: ("header.import", "failed"), 1004: ("header.import", "cancelled")}
deadline = time.monotonic() + 5
def seen(tx, typ):
    return [e for e in events if e.get("tx") == tx and e.get("type") == typ]
while time.monotonic() < deadline and not all(seen(t, "op_done") for t in want):
    time.sleep(0.05)
for tx, (kind, state) in want.items():
    s, d = seen(tx, "op_start"), seen(tx, "op_done")
    assert len(s) == 1, ("op_start of %d" % tx, s, events)
    assert len(d) == 1, ("op_done of %d" % tx, d, events)
    s, d = s[0], d[0]
    assert s["event"] == "ops" and s["kind"] == kind and s["state"] == "running", s
    assert d["event"] == "ops" and d["kind"] == kind and d["state"] == state, d
    assert events.index(s) < events.index(d), (s, d)
    if state == "done":
        assert d["result"]["tx"] == tx, d
    else:
        assert d["error"]["code"] == {"failed": "NOT_FOUND", "cancelled": "CANCELLED"}[state], d
assert seen(1001, "op_done")[0]["result"]["imported"] == 10
print("ok: watch saw op_start and op_done for each of %d ops (done, failed, cancelled)" % len(want))

# 2. a subscriber that never reads does not slow status
def flood(n_ops, every):
    lat = []
    for i in range(n_ops):
        ok(c.rq("header.import", {"path": small}))
        if i % every == 0:
            t0 = time.monotonic()
            ok(c.rq("status"))
            lat.append((time.monotonic() - t0) * 1000)
    return sorted(lat)

def fmt(l):
    return "n=%d p50=%.2f p99=%.2f max=%.2f ms" % (len(l), l[len(l) // 2], l[len(l) * 99 // 100], l[-1])

without = flood(1500, 5)
stuck = watch(["ops"])            # reads its reply, then nothing
with_stuck = flood(4000, 5)       # ~8000 lines of ~300 bytes: far beyond its buffers
print("status latency under a flood of ops, no stuck subscriber: " + fmt(without))
print("status latency under a flood of ops, a stuck subscriber:  " + fmt(with_stuck))
assert with_stuck[-1] < 100, "status took %.1f ms with a stuck subscriber" % with_stuck[-1]
assert with_stuck[len(with_stuck) // 2] < without[len(without) // 2] + 2.0, \
    "a stuck subscriber slowed status (p50 %.2f vs %.2f ms)" % (
        with_stuck[len(with_stuck) // 2], without[len(without) // 2])
print("ok: a subscriber that never reads does not slow status")

# 3. it reads again: whole lines in order, with the dropped line (count of
#    the lines lost just before it) after every gap, then events again
def read_idle(conn, idle):
    conn.s.settimeout(idle)
    buf = b""
    try:
        while True:
            d = conn.s.recv(1 << 16)
            if not d:
                break
            buf += d
    except socket.timeout:
        pass
    return buf

raw = read_idle(stuck, 1.0)
assert raw.endswith(b"\n"), "a partial line: %r" % raw[-80:]
got = [json.loads(l) for l in raw.decode().splitlines()]
drops = [e for e in got if e.get("event") == "dropped"]
for e in got:
    assert (e.get("event") == "ops" and e.get("type") in ("op_start", "op_done")) or \
        (set(e) == {"event", "count"} and e["count"] > 0), e
assert drops, "no dropped line after losses (%d lines read)" % len(got)
assert got[0].get("event") == "ops", got[0]
ok(c.rq("header.import", {"path": small}, tx=2001))
nxt = [json.loads(l) for l in read_idle(stuck, 0.5).decode().splitlines()]
assert [(e.get("tx"), e.get("type")) for e in nxt] == [(2001, "op_start"), (2001, "op_done")], nxt
print("ok: the stuck subscriber read %d whole lines with %d dropped lines (%d events lost), "
      "then events again" % (len(got), len(drops), sum(e["count"] for e in drops)))

# 4. eight stream permits: the 9th subscription waits 5 s, then BUSY
more = [watch(["sync"]) for _ in range(6)]
late = Conn()
t0 = time.monotonic()
i = late.send("watch", {"topics": ["peers"]})
r = late.recv()
took = time.monotonic() - t0
assert r["id"] == i and not r["ok"] and r["error"]["code"] == "BUSY", r
assert 4.5 < took < 8, took
print("ok: a 9th subscription got BUSY after %.1f s (8 stream permits)" % took)
more[0].s.shutdown(socket.SHUT_RDWR)
more[0].f.close()
more[0].s.close()
time.sleep(0.2)
watch(["misbehavior"])
print("ok: a closed subscription gives its permit back")
PY
slt_ok "watch: ops events, dropped count, stuck subscriber costs nothing"
slt_stop_ctrl
slt_assert_ctrl_clean
slt_ok "ops_watch passed"
