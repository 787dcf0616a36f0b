#!/usr/bin/env bash
# serve_fair_share.sh — the serving budget is shared fairly between the
# peers asking at once ([sync] serve_total), and a peer alone gets its own
# serve_rate.  One node (regtest, tip 0; serve_rate 200, serve_burst 10,
# serve_total 200) and two SPEC peers (slpeer) on live sessions, each
# offering ~1000 GET_HEADERS/s (start 1: every request is answered,
# NOT_FOUND BEYOND_TIP when served, NOT_FOUND BUSY over the budget):
#   peer a alone for 2 s       -> ~ 200/s served (its serve_rate);
#   a quiet 1.5 s (a leaves the set of peers asking);
#   a and b together for 2 s   -> ~ 100/s each (serve_total / 2), within
#                                 a third of each other;
# and both sessions stay up (BUSY is record-only SPAM).
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" sync serve_rate 200
slt_cfg_set "$SLT_CFG" sync serve_burst 10
slt_cfg_set "$SLT_CFG" sync serve_total 200
slt_start_dp
slt_start_ctrl
slt_wait_ready 30

SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF'
import os, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp
from slpeer import fail, ok

dst = (os.environ["DST"], 9747)


def open_peer(name):
    p = sp.Peer(("0.0.0.0", 0))
    r = p.hello(dst, streams=0b100011)
    if not r or r["msg"] != "HELLO_ACK":
        fail("%s: HELLO: %s" % (name, sp.describe(r)))
    return p


def tally(p, frames, n):
    for f in frames:
        if f.get("msg") == "NOT_FOUND":
            n[sp.NOT_FOUND_REASONS.get(f["body"]["reason"])] += 1


def ask(peers, seconds):
    """Each peer offers 50 GET_HEADERS every 50 ms; returns what each got."""
    got = [{"BEYOND_TIP": 0, "BUSY": 0, None: 0} for _ in peers]
    end = time.monotonic() + seconds
    corr = 1 << 40
    while time.monotonic() < end:
        t = time.monotonic()
        for i, p in enumerate(peers):
            for _ in range(50):
                corr += 1
                p.send_msg("GET_HEADERS", corr=corr, start_height=1, count=1)
        while time.monotonic() < t + 0.05:
            for i, p in enumerate(peers):
                tally(p, p.collect(0.005), got[i])
    for i, p in enumerate(peers):
        tally(p, p.collect(0.3), got[i])
    return got


a = open_peer("a")
b = open_peer("b")
alone = ask([a], 2.0)[0]
ok("a alone: %d served, %d BUSY" % (alone["BEYOND_TIP"], alone["BUSY"]))
if not 300 <= alone["BEYOND_TIP"] <= 600 or alone["BUSY"] < 500:
    fail("a alone: want ~410 served (200/s + burst 10) and the rest BUSY")
for p in (a, b):
    p.pump(1.5)  # a leaves the set of peers asking
both = ask([a, b], 2.0)
sa, sb = both[0]["BEYOND_TIP"], both[1]["BEYOND_TIP"]
ok("a and b together: a %d served (%d BUSY), b %d served (%d BUSY)" %
   (sa, both[0]["BUSY"], sb, both[1]["BUSY"]))
if max(sa, sb) > 0.75 * alone["BEYOND_TIP"] or min(sa, sb) < 0.3 * alone["BEYOND_TIP"]:
    fail("together: want each near half of what a got alone (%d)" % alone["BEYOND_TIP"])
if abs(sa - sb) > max(sa, sb) / 3:
    fail("together: a %d and b %d are not a fair split" % (sa, sb))
for name, p in (("a", a), ("b", b)):
    if p.ping(2.0) is None or p.closed is not None:
        fail("%s: session not up at the end (GOODBYE %s)" % (name, p.closed))
    p.goodbye()
ok("both sessions up throughout")
EOF
rc=$?
cat "$SLT_TMP/peer.out"
[ "$rc" = 0 ] || slt_fail "the SPEC peers' checks failed (exit $rc)"
slt_ok "stats: hs_busy $(slt_ctl_stat hs_busy), hs_not_found_tx $(slt_ctl_stat hs_not_found_tx)"
slt_stop
