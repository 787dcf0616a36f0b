#!/usr/bin/env bash
# probes_all.sh — every USDT probe of SPEC §11 fires, with plausible
# arguments, during a real run.  bpftrace attaches to both binaries by path
# (every process of them, the semaphores raised by the kernel) before any
# node starts; then:
#   node A imports testnet3 0..9999 (an op: op_start / op_done, kind
#     header.import, status 0; store_commit heights add up to 9999);
#   node B, empty, syncs 0..9999 from A (session_up on both sides with the
#     other's ip:9747; range_take inside the chain; range_covered covers
#     exactly 1..9999 once; headers_rx of B's session to A add up to >= 9999
#     inside 1..9999; store_commit on B contiguous, summing to the tip;
#     routine_run on known streams with a sane ns; rx_burst 1..SL_BURST);
#   a scripted peer P1 advertises STATUS 10010 to A: A takes [10000, ..) for
#     P1 (range_take = the GET_HEADERS on the wire = the held range that
#     `ranges` shows, session and generation included), P1 answers
#     NOT_FOUND (range_return of that range, why not_found), then
#     `peer.park` of P1 (cmd_park P1's session, stream 5);
#   a scripted peer P2 sends 3 frames with a bad magic (frame_drop, reason
#     sl_magic, a known name) and an unsolicited HEADERS (misbehavior kind
#     unsolicited for P2's session; session_down reason protocol).
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool bpftrace
slt_require_bins
grep -q "^#define SL_USDT 1" "$(dirname "$SLUICE_DP")/../sl_config.h" ||
	slt_skip "this build has no USDT probes (CONFIG_SL_USDT=n)"
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
slt_init
if ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs nodev /sys/kernel/tracing || slt_skip "cannot mount tracefs"
	slt_tracefs_cleanup() { umount /sys/kernel/tracing; }
	SLT_CLEANUP_HOOKS+=(slt_tracefs_cleanup)
fi
slt_pair_up bitcoin-test3

# The tracer: low-rate probes print one line each ("name pid args..."),
# the per-frame ones aggregate per process.  Each argument is read once into
# a variable: bpftrace 0.17 emits code the verifier refuses when one USDT
# argument is read several times in a probe with many sites.
DP=$SLUICE_DP CT=$SLUICE_CTRL
trace=$SLT_TMP/bpftrace.out
bpftrace -e "
usdt:$DP:sluice:rx_burst { \$n = arg1; @rx[pid] = count(); @rx_min[pid] = min(\$n); @rx_max[pid] = max(\$n); }
usdt:$DP:sluice:frame_drop { \$l = arg0; \$r = arg1; printf(\"frame_drop %d %u %u\n\", pid, \$l, \$r); }
usdt:$DP:sluice:session_up {
	\$s = arg0; \$ip = arg1; \$port = arg2; \$st = arg3;
	printf(\"session_up %d %u %u %u %u\n\", pid, \$s, \$ip, \$port, \$st);
}
usdt:$DP:sluice:session_down { \$s = arg0; \$r = arg1; printf(\"session_down %d %u %u\n\", pid, \$s, \$r); }
usdt:$DP:sluice:routine_run {
	\$s = arg0; \$st = arg1; \$ns = arg2;
	@rr[pid, \$st] = count(); @rr_min[pid] = min(\$ns); @rr_max[pid] = max(\$ns);
	@rr_sess[pid, \$s] = count();
}
usdt:$DP:sluice:headers_rx {
	\$s = arg0; \$h = arg1; \$n = arg2;
	@hrx[pid, \$s] = sum(\$n); @hrx_lo[pid, \$s] = min(\$h);
	@hrx_hi[pid, \$s] = max(\$h + \$n); @hrx_nmax[pid, \$s] = max(\$n);
}
usdt:$DP:sluice:misbehavior { \$s = arg0; \$k = arg1; printf(\"misbehavior %d %u %u\n\", pid, \$s, \$k); }
usdt:$DP:sluice:cmd_park, usdt:$CT:sluice:cmd_park {
	\$s = arg0; \$st = arg1; printf(\"cmd_park %d %u %u\n\", pid, \$s, \$st);
}
usdt:$DP:sluice:range_take, usdt:$CT:sluice:range_take {
	\$a = arg0; \$b = arg1; \$c = arg2; \$d = arg3;
	printf(\"range_take %d %u %u %u %u\n\", pid, \$a, \$b, \$c, \$d);
}
usdt:$DP:sluice:range_return, usdt:$CT:sluice:range_return {
	\$a = arg0; \$b = arg1; \$c = arg2; \$d = arg3; \$e = arg4;
	printf(\"range_return %d %u %u %u %u %u\n\", pid, \$a, \$b, \$c, \$d, \$e);
}
usdt:$DP:sluice:range_covered, usdt:$CT:sluice:range_covered {
	\$a = arg0; \$b = arg1; printf(\"range_covered %d %u %u\n\", pid, \$a, \$b);
}
usdt:$DP:sluice:store_commit, usdt:$CT:sluice:store_commit {
	\$h = arg0; \$n = arg1; \$ns = arg2;
	printf(\"store_commit %d %u %u %lu\n\", pid, \$h, \$n, \$ns);
}
usdt:$CT:sluice:op_start { \$tx = arg0; \$k = arg1; printf(\"op_start %d %lu %u\n\", pid, \$tx, \$k); }
usdt:$CT:sluice:op_done {
	\$tx = arg0; \$k = arg1; \$st = (int32)arg2; \$ns = arg3;
	printf(\"op_done %d %lu %u %d %lu\n\", pid, \$tx, \$k, \$st, \$ns);
}
" >"$trace" 2>&1 &
bt=$!
slt_bt_cleanup() { slt_kill_pid "$bt"; }
SLT_CLEANUP_HOOKS+=(slt_bt_cleanup)
for _ in $(seq 150); do
	grep -q Attaching "$trace" && break
	slt_alive $bt || break
	sleep 0.1
done
sleep 1
grep -q Attaching "$trace" && slt_alive $bt || { cat "$trace"; slt_fail "bpftrace did not attach"; }
slt_ok "bpftrace attached to every sluice-dp and sluice-ctrl: $(grep Attaching "$trace")"

slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$T3" >"$SLT_TMP/imp" ||
	slt_fail "A: header.import: $(cat "$SLT_TMP/imp")"
[ "$(slt_json_get tip_height <"$SLT_TMP/imp")" = 9999 ] || slt_fail "A: import: $(cat "$SLT_TMP/imp")"
slt_node_start $B
slt_node_wait_ready $B 30
tip=
for ((i = 0; i < 60 * 5; i++)); do
	tip=$(slt_node_ctl $B --json status 2>/dev/null | slt_json_get tip_height 2>/dev/null)
	[ "$tip" = 9999 ] && break
	sleep 0.2
done
[ "$tip" = 9999 ] || slt_fail "B: tip ${tip:-?} after 60 s (want 9999)"
slt_ok "A imported 0..9999, B synced to 9999 from A"

# The scripted peers against A.
SLT_DIR=$SLT_SRC/tests/integration DST=${SLT_NODE_IP[$A]} CTL=$SLUICECTL SOCK=${SLT_NODE_SOCK[$A]} \
	T3=$T3 slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF'
import json, os, secrets, subprocess, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp

dst = (os.environ["DST"], 9747)
data = open(os.environ["T3"], "rb").read()


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def ctl(*args):
    r = subprocess.run([os.environ["CTL"], "--socket", os.environ["SOCK"], "--json"] + list(args),
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        fail("sluicectl %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return json.loads(r.stdout)


def req(p, timeout=5.0):
    f = p.recv(timeout, lambda f: f.get("msg") == "GET_HEADERS")
    if f is None:
        fail("P1: no GET_HEADERS within %.1f s (GOODBYE %s)" % (timeout, p.closed))
    return f["corr"], f["body"]["start_height"], f["body"]["count"]


out = {}
p1 = sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3")
r = p1.hello(dst, streams=0b100011)
if not r or r["msg"] != "HELLO_ACK" or not p1.streams & (1 << 5):
    fail("P1 HELLO: %s" % sp.describe(r))
out["p1"] = {"session": p1.session, "port": p1.sock.getsockname()[1]}
p1.send_msg("STATUS", best_height=10010, best_hash=secrets.token_bytes(32),
            chainwork=b"\x7f" + bytes(31), finalized_height=0)
corr, start, count = req(p1)
held = [dict(start=x["start"], len=x["len"], session=h["session"], gen=h["gen"])
        for x in ctl("ranges") for h in x.get("holders", []) if h["session"] == p1.session]
out["p1"]["get_headers"] = {"start": start, "count": count}
out["p1"]["ranges_held"] = held
print("ok: P1 session %d asked GET_HEADERS(%d, %d); A's ranges hold %s" %
      (p1.session, start, count, held))
p1.send_msg("NOT_FOUND", corr=corr, start_height=start, reason=2)
req(p1)  # asked again after the empty-retry delay: held again
res = ctl("peer.park", "session=%d" % p1.session)
if res.get("parked") is not True:
    fail("peer.park: %s" % res)
print("ok: NOT_FOUND answered, asked again, then parked: %s" % res)
p1.pump(0.5)

p2 = sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3")
r = p2.hello(dst, streams=0b100011)
if not r or r["msg"] != "HELLO_ACK":
    fail("P2 HELLO: %s" % sp.describe(r))
out["p2"] = {"session": p2.session, "port": p2.sock.getsockname()[1]}
for _ in range(3):
    p2.send_raw(b"XX" + bytes(30), dst)
p2.send_msg("HEADERS", corr=secrets.randbits(62) | 1 << 62, start_height=1, flags=1,
            reserved=0, headers=[data[80:160]])
g = p2.recv(3.0, lambda f: f.get("msg") == "GOODBYE")
if g is None or g["body"]["reason"] != 2:
    fail("P2 unsolicited HEADERS: want GOODBYE(PROTOCOL), got %s" % sp.describe(g))
print("ok: P2 session %d: 3 bad-magic frames, unsolicited HEADERS -> GOODBYE(PROTOCOL)" %
      p2.session)
p1.goodbye()
time.sleep(0.5)
print("RESULT " + json.dumps(out))
EOF
rc=$?
sed 's/^/    /' "$SLT_TMP/peer.out"
[ "$rc" = 0 ] || slt_fail "the scripted peers failed (exit $rc)"
sleep 0.5
kill -INT $bt
wait $bt
grep -q "^Lost" "$trace" && slt_fail "bpftrace lost events: $(grep '^Lost' "$trace")"

# The checks, over the trace, the peers' results and what the build says.
SRC=$SLT_SRC TRACE=$trace PEERS=$SLT_TMP/peer.out \
	A_DP=${SLT_NODE_DP_PID[$A]} A_CT=${SLT_NODE_CTRL_PID[$A]} \
	B_DP=${SLT_NODE_DP_PID[$B]} B_CT=${SLT_NODE_CTRL_PID[$B]} \
	A_IP=${SLT_NODE_IP[$A]} B_IP=${SLT_NODE_IP[$B]} NS_IP=$SLT_NS_IP \
	CONFIG_H="$(dirname "$SLUICE_DP")/../sl_config.h" "$SLT_PY" - <<'EOF'
import collections, ipaddress, json, os, re, sys

E = os.environ
src = E["SRC"]
A_DP, A_CT, B_DP, B_CT = (int(E[k]) for k in ("A_DP", "A_CT", "B_DP", "B_CT"))
trace = open(E["TRACE"]).read().splitlines()
peers = json.loads([l for l in open(E["PEERS"]) if l.startswith("RESULT ")][-1][7:])
bad = []


def fail(probe, msg):
    bad.append("%s: %s" % (probe, msg))
    print("FAIL %s: %s" % (probe, msg))


def ok(probe, msg):
    print("ok %s: %s" % (probe, msg))


def xlist(path, macro, skip=0):
    """Names of an X-macro list, in order (the enum values), after `skip`."""
    t = open(os.path.join(src, path)).read()
    body = t[t.index("#define " + macro):]
    body = body[:body.index("\n\n")]
    return [None] * skip + re.findall(r'X\(\s*\w+\s*,\s*"([^"]+)"', body)


drops = xlist("dataplane/lib/sl_counters.h", "SL_DROP_LIST")
exits = xlist("dataplane/lib/sl_msg.h", "SL_EXIT_LIST")
misbs = xlist("dataplane/lib/sl_msg.h", "SL_MISB_LIST")
whys = xlist("dataplane/lib/sl_rangeq.h", "SL_RANGE_WHY_LIST", skip=1)
kinds = xlist("ctrl/sl_op.h", "SL_OP_KIND_LIST", skip=1)
burst = int(re.search(r"#define SL_BURST (\d+)", open(E["CONFIG_H"]).read()).group(1))

ev = collections.defaultdict(list)
agg = collections.defaultdict(dict)
for l in trace:
    m = re.match(r"@(\w+)\[([\d, ]+)\]: (\d+)$", l)
    if m:
        agg[m.group(1)][tuple(int(x) for x in m.group(2).split(","))] = int(m.group(3))
        continue
    f = l.split()
    if f and f[0] in ("frame_drop", "session_up", "session_down", "misbehavior", "cmd_park",
                      "range_take", "range_return", "range_covered", "store_commit",
                      "op_start", "op_done"):
        ev[f[0]].append(tuple(int(x) for x in f[1:]))


def ip_of(v):
    return str(ipaddress.IPv4Address(v))


P1, P2 = peers["p1"], peers["p2"]

# rx_burst: both dataplanes, 1..SL_BURST frames a burst.
for who, pid in (("A", A_DP), ("B", B_DP)):
    n, lo, hi = agg["rx"].get((pid,), 0), agg["rx_min"].get((pid,)), agg["rx_max"].get((pid,))
    if n < 1 or lo is None or lo < 1 or hi > burst:
        fail("rx_burst", "%s: %d bursts, nb_rx %s..%s (want >= 1, 1..%d)" % (who, n, lo, hi, burst))
    else:
        ok("rx_burst", "%s: %d bursts, nb_rx %d..%d" % (who, n, lo, hi))

# frame_drop: A's 3 bad magics among known reasons only.
fd = [e for e in ev["frame_drop"] if e[0] == A_DP]
names = collections.Counter(drops[e[2]] if e[2] < len(drops) else "?%d" % e[2] for e in fd)
if names.get("sl_magic", 0) != 3 or any(n.startswith("?") for n in names):
    fail("frame_drop", "A: %s (want 3 x sl_magic, all known reasons)" % dict(names))
else:
    ok("frame_drop", "A: %s" % dict(names))

# session_up: each side sees the other at ip:9747 with stream 5; A sees the
# scripted peers at their source address and port, under their session ids.
up = {(e[0], e[1]): e for e in ev["session_up"]}


def check_up(who, pid, ip, port, sess=None):
    c = [e for e in ev["session_up"] if e[0] == pid and ip_of(e[2]) == ip and e[3] == port
         and (sess is None or e[1] == sess)]
    if not c:
        fail("session_up", "%s: none for %s:%d%s; seen %s" % (
            who, ip, port, "" if sess is None else " session %d" % sess,
            [(e[1], ip_of(e[2]), e[3]) for e in ev["session_up"] if e[0] == pid]))
        return None
    if not c[0][4] & (1 << 5):
        fail("session_up", "%s: streams %#x without 5" % (who, c[0][4]))
    ok("session_up", "%s: session %d peer %s:%d streams %#x" % (who, c[0][1], ip, port, c[0][4]))
    return c[0][1]


b_to_a = check_up("B", B_DP, E["A_IP"], 9747)
check_up("A", A_DP, E["B_IP"], 9747)
check_up("A (P1)", A_DP, E["NS_IP"], P1["port"], P1["session"])
check_up("A (P2)", A_DP, E["NS_IP"], P2["port"], P2["session"])

# session_down: P2's session, reason protocol.
sd = [e for e in ev["session_down"] if e[0] == A_DP and e[1] == P2["session"]]
if len(sd) != 1 or exits[sd[0][2]] != "protocol":
    fail("session_down", "A, P2's session %d: %s (want one, reason protocol)" % (P2["session"], sd))
else:
    ok("session_down", "A: session %d reason protocol" % P2["session"])

# misbehavior: P2's unsolicited HEADERS.
mb = [e for e in ev["misbehavior"] if e[0] == A_DP and e[1] == P2["session"]]
if not mb or misbs[mb[0][2]] != "unsolicited":
    fail("misbehavior", "A, P2's session: %s (want kind unsolicited)" % mb)
else:
    ok("misbehavior", "A: session %d kind unsolicited" % P2["session"])

# routine_run: known streams, a sane ns, sessions that came up.
for who, pid in (("A", A_DP), ("B", B_DP)):
    streams = {k[1]: n for k, n in agg["rr"].items() if k[0] == pid}
    sess = {k[1] for k in agg["rr_sess"] if k[0] == pid}
    known = {e[1] for e in ev["session_up"] if e[0] == pid}
    lo, hi = agg["rr_min"].get((pid,)), agg["rr_max"].get((pid,))
    if not streams or not set(streams) <= {0, 1, 5} or 5 not in streams or \
            lo is None or hi >= 10**9 or not sess <= known:
        fail("routine_run", "%s: streams %s ns %s..%s sessions %s (known %s)" %
             (who, streams, lo, hi, sess, known))
    else:
        ok("routine_run", "%s: runs per stream %s, ns %d..%d, %d sessions" %
           (who, streams, lo, hi, len(sess)))

# headers_rx: B's session to A brought 1..9999.
k = (B_DP, b_to_a)
n, lo, hi, nmax = (agg[m].get(k) for m in ("hrx", "hrx_lo", "hrx_hi", "hrx_nmax"))
if n is None or n < 9999 or lo != 1 or hi != 10000 or nmax > 255:
    fail("headers_rx", "B from A: %s headers, start %s, end %s, max n %s" % (n, lo, hi, nmax))
else:
    ok("headers_rx", "B from A: %d headers over [1, 10000), at most %d a frame" % (n, nmax))

# range_take: B's inside the chain, by B's session to A; A's for P1 is
# exactly the GET_HEADERS and the range `ranges` showed held.
bt_ = [e for e in ev["range_take"] if e[0] in (B_DP, B_CT)]
if not bt_ or any(e[1] < 1 or e[1] + e[2] > 10000 or e[3] != b_to_a for e in bt_):
    fail("range_take", "B: %s (want inside [1, 10000), session %s)" % (bt_, b_to_a))
else:
    ok("range_take", "B: %d takes inside [1, 10000) by session %d" % (len(bt_), b_to_a))
at = [e for e in ev["range_take"] if e[0] in (A_DP, A_CT) and e[3] == P1["session"]]
gh, held = P1["get_headers"], P1["ranges_held"]
if not at or not held or (at[0][1], at[0][2]) != (gh["start"], gh["count"]) or \
        (at[0][1], at[0][2], at[0][3], at[0][4]) != \
        (held[0]["start"], held[0]["len"], held[0]["session"], held[0]["gen"]):
    fail("range_take", "A for P1: %s; GET_HEADERS %s; ranges %s" % (at, gh, held))
else:
    ok("range_take", "A for P1: start %d len %d session %d gen %d = GET_HEADERS = ranges" %
       at[0][1:])

# range_return: P1's range back with why not_found (the park then drops
# the hold in ctrl, sl_rangeq_forget_peer, which has no probe).
rr = [(e[1], e[2], e[3], e[4], whys[e[5]] if e[5] < len(whys) else "?")
      for e in ev["range_return"] if e[3] == P1["session"]]
got = [w for (_, _, _, _, w) in rr]
if "not_found" not in got or \
        any((s, l, ss, g) != at[0][1:] for (s, l, ss, g, _) in rr if at):
    fail("range_return", "P1's: %s (want not_found, of the range taken)" % rr)
else:
    ok("range_return", "P1's range returned: %s" % got)
allw = [e[5] for e in ev["range_return"]]
if any(w == 0 or w >= len(whys) for w in allw):
    fail("range_return", "unknown why in %s" % allw)

# range_covered on B: exactly [1, 10000), each height once.
cov = sorted((e[1], e[2]) for e in ev["range_covered"] if e[0] in (B_DP, B_CT))
pos, gap = 1, False
for s, l in cov:
    gap |= s != pos
    pos = s + l
if not cov or gap or pos != 10000:
    fail("range_covered", "B: %s (want [1, 10000) once)" % cov)
else:
    ok("range_covered", "B: %d covers tile [1, 10000)" % len(cov))

# store_commit: heights contiguous from genesis, n adding up to the tip.
for who, pid in (("A", A_CT), ("B", B_CT)):
    sc = [e for e in ev["store_commit"] if e[0] == pid]
    h, okc = -1, True
    for _, height, n, ns in sc:
        okc &= n >= 1 and height == h + n and ns > 0
        h = height
    total = sum(e[2] for e in sc)
    if not sc or not okc or h != 9999 or total != 10000:
        fail("store_commit", "%s: %d commits, last height %d, n sum %d, contiguous %s" %
             (who, len(sc), h, total, okc))
    else:
        ok("store_commit", "%s: %d commits, heights contiguous 0..9999, n sums to %d" %
           (who, len(sc), total))
if any(e[0] not in (A_CT, B_CT) for e in ev["store_commit"]):
    fail("store_commit", "from a process other than the ctrls: %s" % ev["store_commit"])

# cmd_park: P1's session, stream 5.
cp = [e for e in ev["cmd_park"] if e[1] == P1["session"]]
if not cp or any(e[2] != 5 for e in cp):
    fail("cmd_park", "P1's session %d: %s (want stream 5)" % (P1["session"], cp))
else:
    ok("cmd_park", "session %d stream 5, from %s" % (P1["session"],
                                                     sorted({"dp" if e[0] == A_DP else "ctrl" for e in cp})))

# op_start / op_done: A's header.import, same tx, status 0.
st = [e for e in ev["op_start"] if e[0] == A_CT and kinds[e[2]] == "header.import"]
dn = [e for e in ev["op_done"] if e[0] == A_CT and st and e[1] == st[0][1]]
if len(st) != 1 or len(dn) != 1 or dn[0][2] != st[0][2] or dn[0][3] != 0 or dn[0][4] <= 0:
    fail("op_start/op_done", "A: starts %s, done %s (want header.import, same tx, status 0)" %
         (ev["op_start"], ev["op_done"]))
else:
    ok("op_start", "A: tx %d kind header.import" % st[0][1])
    ok("op_done", "A: tx %d status 0 after %.1f ms" % (dn[0][1], dn[0][4] / 1e6))

fired = {"rx_burst": bool(agg["rx"]), "routine_run": bool(agg["rr"]), "headers_rx": bool(agg["hrx"])}
fired.update({k: bool(v) for k, v in ev.items()})
probes = re.findall(r"^\s*X\((\w+)\)", open(os.path.join(src, "dataplane/lib/sl_probe.h")).read(), re.M)
missing = [p for p in probes if not fired.get(p)]
if missing:
    fail("all", "never fired: %s" % missing)
print("%d probes in sl_probe.h, fired: %d" % (len(probes), sum(1 for p in probes if fired.get(p))))
sys.exit(1 if bad else 0)
EOF
[ $? = 0 ] || {
	sed 's/^/    /' "$trace" | tail -40
	slt_fail "probe checks failed"
}
slt_ok "all $(grep -c '^\s*X(' "$SLT_SRC/dataplane/lib/sl_probe.h") probes of sl_probe.h fired with plausible arguments"
slt_node_stop $A
slt_node_stop $B
slt_log "PASS"
