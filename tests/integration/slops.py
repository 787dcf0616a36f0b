#!/usr/bin/python3
"""slops.py — a JSON-lines client of the control API (SPEC.md §9) for the
operations scenarios and the ops bench.  Python stdlib only.

  slops.py SOCK once  CMD ARGS_JSON [TX]    one request; prints every line
                                            that answers it within 1 s
                                            after the first (proves "once")
  slops.py SOCK first CMD ARGS_JSON [TX]    one request; prints its first
                                            answer and returns at once (to
                                            time an op from its start)
  slops.py SOCK burst N HEIGHT_LO HEIGHT_HI DEADLINE_MS
                                            N header.fetch wait=false in one
                                            write, then polls `ops` until none
                                            runs; prints one JSON summary
  slops.py SOCK bench CMD ARGS_JSON N       N requests, at most 64 in flight;
                                            prints one JSON summary: ops/s,
                                            p50/p99 latency (us)
  slops.py SOCK follow TIP PERIOD_S BOUND_S STALL_S [PID...]
                                            one connection (waits for the
                                            socket), `status` every PERIOD_S;
                                            prints "<unix time> <tip_height>
                                            <peers>" per answer; exits 0 at
                                            TIP, 2 after BOUND_S or STALL_S
                                            without progress, 4 when a PID
                                            died (the benches' poller: no
                                            process per poll)
"""
import os
import json
import random
import socket
import sys
import time


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.next_id = 1

    def send(self, cmd, args=None, tx=None, rid=None):
        rid = rid if rid is not None else self.next_id
        self.next_id = max(self.next_id, rid) + 1
        req = {"id": rid, "cmd": cmd, "args": args or {}}
        if tx is not None:
            req["tx"] = tx
        self.s.sendall((json.dumps(req) + "\n").encode())
        return rid

    def send_many(self, reqs):
        self.s.sendall("".join(json.dumps(r) + "\n" for r in reqs).encode())

    def recv(self, timeout=30.0):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                d = self.s.recv(1 << 20)
            except socket.timeout:
                return None
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, cmd, args=None, tx=None, timeout=30.0):
        rid = self.send(cmd, args, tx)
        while True:
            r = self.recv(timeout)
            if r is None or r.get("id") == rid:
                return r


def once(path, cmd, args, tx, linger=True):
    c = Client(path)
    rid = c.send(cmd, json.loads(args), int(tx) if tx else None)
    first = c.recv(30.0)
    lines = [first] if first is not None else []
    while first is not None and linger:
        r = c.recv(1.0)
        if r is None:
            break
        lines.append(r)
    for r in lines:
        print(json.dumps(r))
    return 0 if lines and all(r.get("id") == rid for r in lines) else 1


def burst(path, n, lo, hi, deadline_ms):
    c = Client(path)
    rnd = random.Random(n)
    reqs = [{"id": i + 1, "cmd": "header.fetch",
             "args": {"height": rnd.randint(lo, hi), "wait": False,
                      "deadline_ms": deadline_ms}} for i in range(n)]
    t0 = time.monotonic()
    c.send_many(reqs)
    txs = set()
    errors = 0
    while len(txs) + errors < n:
        r = c.recv(30.0)
        if r is None:
            break
        if r.get("ok"):
            txs.add(r["result"]["tx"])
        else:
            errors += 1
    t_started = time.monotonic() - t0
    running = None
    ops = []
    while time.monotonic() - t0 < deadline_ms / 1000.0 + 5.0:
        ops = c.call("ops", timeout=30.0)["result"]
        running = sum(1 for o in ops if o["tx"] in txs and o["state"] == "running")
        if running == 0:
            break
        time.sleep(0.05)
    t_all = time.monotonic() - t0
    mine = [o for o in ops if o["tx"] in txs]
    states = {}
    codes = {}
    for o in mine:
        states[o["state"]] = states.get(o["state"], 0) + 1
        if "error" in o:
            codes[o["error"]["code"]] = codes.get(o["error"]["code"], 0) + 1
    stats = c.call("stats")["result"]["ops"]
    print(json.dumps({"sent": n, "accepted": len(txs), "refused": errors,
                      "accept_s": round(t_started, 3), "all_ended_s": round(t_all, 3),
                      "listed": len(mine), "states": states, "errors": codes,
                      "running_after": running, "ops_running": stats["running"]}))
    return 0


def bench(path, cmd, args, n, window=64):
    c = Client(path)
    args = json.loads(args)
    sent_at = {}
    lat = []
    nxt = 1
    errors = 0
    t0 = time.monotonic()
    while len(lat) + errors < n:
        while nxt <= n and len(sent_at) < window:
            sent_at[nxt] = time.monotonic()
            c.send(cmd, args, rid=nxt)
            nxt += 1
        r = c.recv(30.0)
        if r is None:
            break
        t = sent_at.pop(r["id"], None)
        if t is None:
            continue
        if r.get("ok"):
            lat.append((time.monotonic() - t) * 1e6)
        else:
            errors += 1
    dt = time.monotonic() - t0
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None
    print(json.dumps({"cmd": cmd, "n": n, "ok": len(lat), "errors": errors,
                      "seconds": round(dt, 3), "per_s": round(len(lat) / dt, 1) if dt else None,
                      "p50_us": pct(0.50), "p99_us": pct(0.99)}))
    return 0


def follow(path, tip, period, bound, stall, pids):
    end = time.monotonic() + bound
    c = None
    while c is None:
        try:
            c = Client(path)
        except OSError:
            if time.monotonic() > end:
                print("follow: cannot reach %s" % path, file=sys.stderr)
                return 2
            time.sleep(0.005)
    last, moved = -1, time.monotonic()
    while True:
        r = c.call("status", timeout=10.0)
        now = time.time()
        res = (r or {}).get("result") or {}
        h, peers = res.get("tip_height"), res.get("peers")
        if h is not None:
            n = len(peers) if isinstance(peers, list) else peers
            print("%.6f %d %d" % (now, h, n or 0), flush=True)
            if h == tip:
                return 0
            if h != last:
                last, moved = h, time.monotonic()
        for pid in pids:
            try:
                os.kill(pid, 0)
            except OSError:
                print("follow: process %d died" % pid, file=sys.stderr)
                return 4
        if time.monotonic() > end:
            print("follow: at tip %s after %.1f s" % (last, bound), file=sys.stderr)
            return 2
        if time.monotonic() - moved > stall:
            print("follow: at tip %s, %.1f s without progress" % (last, stall),
                  file=sys.stderr)
            return 2
        time.sleep(period)


def main(argv):
    path, mode = argv[1], argv[2]
    if mode == "follow":
        return follow(path, int(argv[3]), float(argv[4]), float(argv[5]), float(argv[6]),
                      [int(x) for x in argv[7:]])
    if mode == "once":
        return once(path, argv[3], argv[4], argv[5] if len(argv) > 5 else None)
    if mode == "first":
        return once(path, argv[3], argv[4], argv[5] if len(argv) > 5 else None, False)
    if mode == "burst":
        return burst(path, int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]))
    if mode == "bench":
        return bench(path, argv[3], argv[4], int(argv[5]))
    print("usage: see the module docstring", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
