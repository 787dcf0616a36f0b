#!/usr/bin/env bash
# peer_park.sh — parking keeps the connection and its other streams
# (DESIGN.md "Commands to routines" -> Park): a held session (streams
# 0,1,5, PINGs flowing) is parked with `sluicectl peer.park session=<sid>`
# (the sl_cmdq_park path PARK_REQUIRED takes), then
#   its GET_HEADERS get no answer and the hs_parked_drop counters move
#     (per session in peer.show, per lcore in stats);
#   PING/PONG (stream 0) and GET_PEERS/PEERS (stream 1) still work;
#   the session stays in peers with hs_parked true, and no GOODBYE comes;
#   peer.park again is a no-op, peer.park of an unknown session exits 1;
#   a reconnect of the same peer is a new, unparked session that is served.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_node_up 30
slt_nsexec ping -c 1 -W 2 "$SLT_DP_IP" >/dev/null || slt_fail "dp does not answer ping"

SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP CTL=$SLUICECTL SOCK=$SLT_SOCK \
	slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF'
import json, os, secrets, subprocess, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp

dst = (os.environ["DST"], 9747)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def ok(msg):
    print("ok:", msg)
    sys.stdout.flush()


def ctl_rc(*args):
    r = subprocess.run([os.environ["CTL"], "--socket", os.environ["SOCK"], "--json"] + list(args),
                       capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout, r.stderr


def ctl(*args):
    rc, out, err = ctl_rc(*args)
    if rc != 0:
        fail("sluicectl %s: exit %d: %s" % (" ".join(args), rc, err))
    return json.loads(out)


def peer_entry(sid):
    e = [x for x in ctl("peers") if x.get("session") == sid]
    return e[0] if e else None


def ask(p, start=0, count=1, wait=1.5):
    """GET_HEADERS; the HEADERS / NOT_FOUND replies with its corr."""
    corr = secrets.randbits(63) | 1
    p.send_msg("GET_HEADERS", corr=corr, start_height=start, count=count)
    out, end = [], time.monotonic() + wait
    while time.monotonic() < end:
        f = p.recv(end - time.monotonic(), lambda f: f.get("msg") in ("HEADERS", "NOT_FOUND")
                   and f["corr"] == corr)
        if f is None:
            break
        out.append(f)
        if f["msg"] == "NOT_FOUND" or f["body"].get("last"):
            break
    return out


p = sp.Peer(("0.0.0.0", 0), chain="regtest")
r = p.hello(dst, streams=0b100011)
if not r or r["msg"] != "HELLO_ACK" or not p.streams & (1 << 5):
    fail("HELLO: want HELLO_ACK with stream 5, got %s" % sp.describe(r))
sid = p.session
if p.recv(3.0, lambda f: f.get("msg") == "STATUS") is None:
    fail("no STATUS after the session opened")
got = ask(p)
if not got:
    fail("GET_HEADERS before the park: no answer")
if p.ping(2.0) is None:
    fail("no PONG before the park")
e = peer_entry(sid)
if e is None or e.get("hs_parked") is not False:
    fail("peers before the park: %s (want hs_parked false)" % e)
ok("session %d: STATUS, GET_HEADERS answered (%s), PONG, hs_parked false" %
   (sid, got[0]["msg"]))

res = ctl("peer.park", "session=%d" % sid)
if res.get("session") != sid or res.get("parked") is not True:
    fail("peer.park reply: %s" % res)
ok("peer.park -> %s" % res)
p.pump(0.3)

drops0 = ctl("peer.show", "session=%d" % sid)["counters"].get("hs_parked_drop", 0)
for i in range(3):
    got = ask(p, wait=1.0)
    if got:
        fail("GET_HEADERS after the park was answered: %s" % [sp.describe(g) for g in got])
show = ctl("peer.show", "session=%d" % sid)
drops = show["counters"].get("hs_parked_drop", 0)
if drops - drops0 < 3:
    fail("hs_parked_drop moved %d -> %d for 3 GET_HEADERS" % (drops0, drops))
ok("3 GET_HEADERS after the park: no answer, hs_parked_drop %d -> %d" % (drops0, drops))

if p.ping(2.0) is None:
    fail("no PONG after the park")
peers = p.get_peers(8, timeout=2.0)
if peers is None:
    fail("no PEERS for GET_PEERS after the park")
ok("PING/PONG and GET_PEERS/PEERS (%d entries) still work" % len(peers))

# No STATUS and nothing else on stream 5 from a parked service; PINGs flow.
frames = p.collect(2.5)
s5 = [f for f in frames if f.get("stream") == 5]
if s5:
    fail("stream-5 frames after the park: %s" % [sp.describe(f) for f in s5])
if p.closed is not None or any(f.get("msg") == "GOODBYE" for f in frames):
    fail("GOODBYE after the park (reason %s)" % p.closed)
e = peer_entry(sid)
if e is None or e.get("hs_parked") is not True or e.get("state") not in ("up", "suspect"):
    fail("peers after the park: %s (want the session, hs_parked true)" % e)
if show.get("hs_parked") is not True:
    fail("peer.show hs_parked: %s" % show.get("hs_parked"))
ok("still in peers, state %s, hs_parked true; no GOODBYE, no stream-5 frame" % e["state"])

again = ctl("peer.park", "session=%d" % sid)
if again.get("parked") is not True:
    fail("peer.park again: %s" % again)
rc, out, err = ctl_rc("peer.park", "session=%d" % (sid ^ 0x5a5a))
if rc != 1:
    fail("peer.park of an unknown session: exit %d (want 1): %s %s" % (rc, out, err))
ok("peer.park again: no-op; unknown session: exit 1")
if p.ping(2.0) is None:
    fail("no PONG at the end")
p.goodbye()
p.close()
time.sleep(1.0)

# A reconnect (same node_id) is a new generation: not parked, served.
q = sp.Peer(("0.0.0.0", 0), chain="regtest", node_id=p.node_id)
r = q.hello(dst, streams=0b100011)
if not r or r["msg"] != "HELLO_ACK":
    fail("reconnect: %s" % sp.describe(r))
if not ask(q):
    fail("reconnected session %d: GET_HEADERS not answered" % q.session)
e = peer_entry(q.session)
if e is None or e.get("hs_parked") is not False:
    fail("reconnected session in peers: %s (want hs_parked false)" % e)
q.goodbye()
ok("a new session is not parked and is served")
EOF
rc=$?
cat "$SLT_TMP/peer.out"
[ "$rc" = 0 ] || slt_fail "the SPEC peer's checks failed (exit $rc)"

D=$(slt_ctl_stat hs_parked_drop)
[ "${D:-0}" -ge 3 ] || slt_fail "stats hs_parked_drop = $D (want >= 3)"
DD=$(slt_ctl_stat drop_hs_parked)
[ "${DD:-0}" -ge 3 ] || slt_fail "stats drop_hs_parked = $DD (want >= 3)"
slt_ok "stats: hs_parked_drop $D, drop_hs_parked $DD, hs_parks $(slt_ctl_stat hs_parks)"
slt_stop
slt_assert_clean
slt_ok "peer_park passed"
