#!/usr/bin/env bash
# bans_act.sh — bans that act (issue 12 item 3).  [admission] ban_score 60,
# ban_seconds 3600.  A peer from address X sends a HEADERS the node never
# asked for (protocol misbehaviour, weight 50): GOODBYE(PROTOCOL), score 50,
# not banned — it comes back and does it again: score 100 >= 60, X is
# banned.  Then:
#   X's next HELLO gets REJECT(BANNED) with the ban's remaining time;
#   a peer from another address stays admitted throughout;
#   the ban is in <store>/bans, and sluice-ctrl logs it with its score;
#   after sluice-ctrl restarts (the dataplane keeps running) X is still
#   refused: the ban came back from the file.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" admission ban_score 60
slt_cfg_set "$SLT_CFG" admission ban_seconds 3600
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
BAD=10.$SLT_X.0.50
slt_ns_addr "$BAD"

peer() { # peer STEP: one step of the scripted peers (JSON result on stdout)
	SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP BAD=$BAD GOOD=$SLT_NS_IP STEP=$1 \
		slt_nsexec "$SLT_PY" - <<'EOF2'
import os, secrets, sys
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp
from slpeer import fail, ok

dst = (os.environ["DST"], 9747)
step = os.environ["STEP"]


def hello(ip):
    p = sp.Peer((ip, 0), chain="regtest")
    return p, p.hello(dst, streams=0b100001)


if step == "misbehave":
    p, r = hello(os.environ["BAD"])
    if not r or r["msg"] != "HELLO_ACK":
        fail("X: HELLO before its ban: %s" % sp.describe(r))
    p.send_msg("HEADERS", corr=secrets.randbits(62) | 1 << 62, start_height=1, flags=1,
               reserved=0, headers=[sp.genesis_header("regtest")])
    g = p.recv(3.0, lambda f: f.get("msg") == "GOODBYE")
    if g is None or g["body"]["reason"] != 2:
        fail("X: unsolicited HEADERS: want GOODBYE(PROTOCOL), got %s" % sp.describe(g))
    ok("X: unsolicited HEADERS -> GOODBYE(PROTOCOL)")
elif step in ("refused", "refused_again"):
    p, r = hello(os.environ["BAD"])
    if not r or r["msg"] != "REJECT" or r["body"]["reason"] != sp.REJECT["BANNED"] or \
            not 3000 <= r["body"]["retry_after_s"] <= 3600:
        fail("X after its ban: %s (want REJECT BANNED, retry_after_s ~3600)" % sp.describe(r))
    ok("X: REJECT(BANNED), retry_after_s %d" % r["body"]["retry_after_s"])
elif step == "good":
    p, r = hello(os.environ["GOOD"])
    if not r or r["msg"] != "HELLO_ACK":
        fail("a peer from another address: %s" % sp.describe(r))
    p.send_msg("GOODBYE", reason=0)
    ok("another address: HELLO_ACK")
EOF2
}

peer misbehave || slt_fail "first misbehaviour"
sleep 0.3
peer good || slt_fail "first misbehaviour banned more than X"
grep -q "banned $BAD" "$SLT_TMP/ctrl.log" && slt_fail "X banned after one record (score 50 < 60)"
peer misbehave || slt_fail "second misbehaviour"
sleep 0.3
grep -q "banned $BAD for its misbehaviour: ip=$BAD score=100 ban_score=60 seconds=3600 last=unsolicited" \
	"$SLT_TMP/ctrl.log" || slt_fail "no ban log line: $(grep -i ban "$SLT_TMP/ctrl.log" | tail -3)"
slt_ok "X banned at score 100 (ban_score 60)"
peer refused || slt_fail "X not refused"
peer good || slt_fail "another address refused"
grep -Eq "^$BAD [0-9]+$" "$SLT_TMP/store/bans" || slt_fail "bans file: $(cat "$SLT_TMP/store/bans" 2>&1)"
slt_ok "the ban is in the store's ban list: $(grep "^$BAD" "$SLT_TMP/store/bans")"

slt_stop_ctrl
slt_start_ctrl
slt_wait_ready 30
grep -q "ban(s) restored from $SLT_TMP/store/bans" "$SLT_TMP/ctrl.log" || slt_fail "no restore line"
peer refused_again || slt_fail "X admitted after sluice-ctrl restarted"
slt_ok "after a restart of sluice-ctrl X is still refused"
slt_stop
