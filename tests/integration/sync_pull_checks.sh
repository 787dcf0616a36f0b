#!/usr/bin/env bash
# sync_pull_checks.sh — the dataplane's header-sync PULL side (SPEC §5,
# DESIGN.md "The range table": routine pull) against a scripted SPEC peer.
# One node (empty store, bitcoin-test3); slpeer (streams 0,1,5) advertises
# STATUS 9999 and answers the node's GET_HEADERS from the testnet3 file,
# wrongly on purpose, one rule at a time:
#   the first request starts at 1 with anchor = hash(genesis), a fresh corr;
#   heights outside the request / a header with broken proof of work / a
#     batch with broken linkage -> record-only BAD_DATA (peer.show
#     hs_invalid, misbehavior bad_data), the session stays, the range is
#     asked for again under a new corr;
#   a late frame of a refused request -> dropped silently (hs_late_drop);
#   NOT_FOUND -> the next request waits the 1 s empty-retry delay;
#   a partial answer (LAST after 17 of them) -> the delivered part is
#     committed, the rest is asked for again (after the retry delay);
#   a whole answer -> committed (tip moves to its end);
#   HEADERS with a corr the node never sent -> GOODBYE(PROTOCOL), and the
#     range table keeps no hold of the dead session.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" chain profile bitcoin-test3
slt_start_dp
slt_start_ctrl
slt_wait_ready 30

SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP T3=$T3 CTL=$SLUICECTL \
	SOCK=$SLT_SOCK slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF'
import json, os, secrets, subprocess, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp

dst = (os.environ["DST"], 9747)
data = open(os.environ["T3"], "rb").read()
H = [data[i * 80:(i + 1) * 80] for i in range(len(data) // 80)]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def ok(msg):
    print("ok:", msg)
    sys.stdout.flush()


def ctl(*args):
    r = subprocess.run([os.environ["CTL"], "--socket", os.environ["SOCK"], "--json"] + list(args),
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        fail("sluicectl %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return json.loads(r.stdout)


p = sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3")
r = p.hello(dst, streams=0b100011)
if not r or r["msg"] != "HELLO_ACK" or not p.streams & (1 << 5):
    fail("HELLO: %s" % sp.describe(r))
sid = p.session
p.send_msg("STATUS", best_height=9999, best_hash=sp.header_hash(H[9999]),
           chainwork=bytes(28) + b"\x7f\xff\xff\xff", finalized_height=0)


def req(timeout=5.0):
    f = p.recv(timeout, lambda f: f.get("msg") == "GET_HEADERS")
    if f is None:
        fail("no GET_HEADERS within %.1f s (GOODBYE %s)" % (timeout, p.closed))
    b = f["body"]
    return f["corr"], b["start_height"], b["count"], b["anchor_hash"], time.monotonic()


def send(corr, start, hdrs, last=True):
    for k in range(0, len(hdrs), 17):
        chunk = hdrs[k:k + 17]
        fl = 1 if last and k + 17 >= len(hdrs) else 0
        p.send_msg("HEADERS", corr=corr, start_height=start + k, flags=fl, reserved=0,
                   headers=chunk)


def alive(what):
    if p.ping(2.0) is None or p.closed is not None:
        fail("%s: session not up (GOODBYE %s)" % (what, p.closed))


def show():
    return ctl("peer.show", "session=%d" % sid)


def wait_tip(h, secs=5.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        t = ctl("status").get("tip_height", 0)
        if t >= h:
            return t
        time.sleep(0.1)
    return ctl("status").get("tip_height", 0)


c1, s1, n1, a1, _ = req()
if s1 != 1 or not 1 <= n1 <= 2000 or a1 != sp.header_hash(H[0]) or c1 == 0:
    fail("first request: start %d count %d anchor %s corr %d (want 1, 1..2000, hash(genesis))"
         % (s1, n1, a1.hex(), c1))
ok("first GET_HEADERS(%d, %d), anchor = hash of our genesis, corr %#x" % (s1, n1, c1))

# Heights outside the request: record-only, re-asked under a new corr.
send(c1, s1 + n1, [H[s1 + n1]])
c2, s2, n2, _, _ = req()
alive("after heights outside the request")
if s2 != s1 or c2 == c1:
    fail("re-ask after outside heights: start %d corr %#x (want %d, new corr)" % (s2, c2, s1))
ok("HEADERS outside the request -> refused, range asked again (corr %#x)" % c2)

# Broken proof of work (nonce changed on the 4th header).
bad = list(H[s2:s2 + 17])
bad[3] = bad[3][:76] + bytes([bad[3][76] ^ 0x55]) + bad[3][77:]
send(c2, s2, bad, last=False)
c3, s3, n3, _, _ = req()
alive("after broken PoW")
if s3 != s1 or c3 in (c1, c2):
    fail("re-ask after broken PoW: start %d corr %#x" % (s3, c3))
ok("HEADERS with broken proof of work -> refused, asked again")

# Late frame of the refused request c2 (valid content): dropped silently.
send(c2, s2 + 17, H[s2 + 17:s2 + 34], last=False)
alive("after a late frame")

# Broken linkage: two valid headers swapped.
bad = list(H[s3:s3 + 17])
bad[5], bad[6] = bad[6], bad[5]
send(c3, s3, bad, last=False)
c4, s4, n4, _, _ = req()
alive("after broken linkage")
if s4 != s1:
    fail("re-ask after broken linkage: start %d" % s4)
ok("HEADERS with broken linkage -> refused, asked again")

sh = show()
cnt, kinds = sh.get("counters", {}), sh.get("misbehavior_kinds", {})
if cnt.get("hs_invalid", 0) != 3 or kinds.get("bad_data", 0) < 1 or \
        cnt.get("hs_late_drop", 0) < 1 or cnt.get("hs_req_tx", 0) < 4:
    fail("peer.show after the refusals: counters %s kinds %s" % (cnt, kinds))
ok("peer.show: hs_invalid 3, hs_late_drop %d, misbehavior bad_data %d, hs_req_tx %d" %
   (cnt["hs_late_drop"], kinds["bad_data"], cnt["hs_req_tx"]))
# One counter per reason of the answer check (sl_expect_check).
tot = sp.stat_totals(ctl("stats"))
if tot.get("hs_answer_outside") != 1 or tot.get("hs_answer_late", 0) < 1 or \
        tot.get("hs_answer_ok", 0) < 2 or tot.get("hs_answer_unsolicited") != 0:
    fail("answers by reason: %s" % {k: v for k, v in tot.items() if k.startswith("hs_answer")})
ok("answers by reason: outside 1, late %d, ok %d, unsolicited 0" %
   (tot["hs_answer_late"], tot["hs_answer_ok"]))

# NOT_FOUND: the next request waits the empty-retry delay (1 s).
t_nf = time.monotonic()
p.send_msg("NOT_FOUND", corr=c4, start_height=s4, reason=2)
c5, s5, n5, _, t5 = req(5.0)
if t5 - t_nf < 0.8 or s5 != s1:
    fail("after NOT_FOUND: next request after %.2f s start %d (want >= ~1 s, %d)" %
         (t5 - t_nf, s5, s1))
ok("NOT_FOUND -> range back, next request after %.2f s (empty-retry delay)" % (t5 - t_nf))

# Partial answer: 17 headers with LAST; the rest comes back after the delay.
t_p = time.monotonic()
send(c5, s5, H[s5:s5 + 17], last=True)
tip = wait_tip(s5 + 16)
if tip < s5 + 16:
    fail("partial answer: tip %d (want >= %d)" % (tip, s5 + 16))
c6, s6, n6, a6, t6 = req(5.0)
if t6 - t_p < 0.8 or s6 != s5 + 17:
    fail("after a partial answer: next request %d after %.2f s (want %d after ~1 s)" %
         (s6, t6 - t_p, s5 + 17))
if a6 != sp.header_hash(H[s6 - 1]):
    fail("anchor of the request at %d is not the hash of our header %d" % (s6, s6 - 1))
ok("partial answer: tip %d, the rest asked at %d after %.2f s, anchored" % (tip, s6, t6 - t_p))

# A whole answer, in order.
send(c6, s6, H[s6:s6 + n6], last=True)
end = s6 + n6 - 1
tip = wait_tip(end)
if tip < end:
    fail("whole answer: tip %d (want >= %d)" % (tip, end))
ok("whole answer of %d headers: tip %d" % (n6, tip))

# Unsolicited HEADERS: protocol misbehaviour, GOODBYE(PROTOCOL).
p.send_msg("HEADERS", corr=secrets.randbits(62) | 1 << 62, start_height=1, flags=1,
           reserved=0, headers=[H[1]])
g = p.recv(3.0, lambda f: f.get("msg") == "GOODBYE")
if g is None or g["body"]["reason"] != 2:
    fail("unsolicited HEADERS: want GOODBYE(PROTOCOL), got %s" % sp.describe(g))
if sp.stat_totals(ctl("stats")).get("hs_answer_unsolicited") != 1:
    fail("hs_answer_unsolicited %s (want 1)" %
         sp.stat_totals(ctl("stats")).get("hs_answer_unsolicited"))
ok("unsolicited HEADERS -> GOODBYE(PROTOCOL), hs_answer_unsolicited 1")
time.sleep(0.5)
rs = ctl("ranges")
holds = sum(len(x.get("holders", [])) for x in rs)
if holds != 0:
    fail("%d holds left after the session went down: %s" % (holds, rs))
ok("no hold left after the teardown")
EOF
rc=$?
cat "$SLT_TMP/peer.out"
[ "$rc" = 0 ] || slt_fail "the SPEC peer's checks failed (exit $rc)"
slt_stop
slt_assert_clean
slt_ok "sync_pull_checks passed"
