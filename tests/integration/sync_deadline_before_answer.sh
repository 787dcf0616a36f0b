#!/usr/bin/env bash
# sync_deadline_before_answer.sh — deadlines before completions in the
# dataplane (DESIGN.md poll cycle step 3): a header-sync request whose
# deadline passed fails as a timeout even when its answer arrives before
# the deadline phase has looked, and that answer is never credited.
#   One node (bitcoin-test3, empty store) whose deadline / liveness scans
#   run once a minute (TEST ONLY [dataplane] fault_tick_ms = 60000: the
#   scan runs when the loop starts, then not again during the test).  An
#   slpeer session advertises STATUS 9999 and answers the node's first
#   GET_HEADERS in full, but 1.5 s late (the no-answer deadline is 1 s).
# Checked:
#   the range is asked for again at once under a new corr (a credited late
#     answer would move the node on to the next range instead);
#   the late answer is not credited: the session's hs_headers_rx counts
#     the prompt answer to the re-ask only, every frame of the late one
#     counts hs_late_drop, and the request counts hs_no_answer (it ended as
#     a timeout);
#   the prompt answer is committed (tip = its end).
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_require_test_hooks
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" chain profile bitcoin-test3
slt_cfg_set "$SLT_CFG" dataplane fault_tick_ms 60000
slt_start_dp
slt_start_ctrl
slt_wait_ready 30

SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP T3=$T3 CTL=$SLUICECTL SOCK=$SLT_SOCK \
	slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF'
import json, os, subprocess, sys, time
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


def req(timeout=5.0):
    f = p.recv(timeout, lambda f: f.get("msg") == "GET_HEADERS")
    if f is None:
        fail("no GET_HEADERS within %.1f s (GOODBYE %s)" % (timeout, p.closed))
    b = f["body"]
    return f["corr"], b["start_height"], b["count"], time.monotonic()


def send(corr, start, hdrs):
    frames = 0
    for k in range(0, len(hdrs), 17):
        p.send_msg("HEADERS", corr=corr, start_height=start + k,
                   flags=1 if k + 17 >= len(hdrs) else 0, reserved=0, headers=hdrs[k:k + 17])
        frames += 1
    return frames


def counters():
    """The session's counters, plus the dataplane's hs_no_answer and the
    answers it found past their deadline (hs_answer_expired)."""
    c = dict(ctl("peer.show", "session=%d" % p.session)["counters"])
    tot = sp.stat_totals(ctl("stats"))
    c["hs_no_answer"] = tot["hs_no_answer"]
    c["hs_answer_expired"] = tot["hs_answer_expired"]
    return c


def tip():
    return ctl("status").get("tip_height", 0)


p = sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3")
r = p.hello(dst, streams=0b100001)
if not r or r["msg"] != "HELLO_ACK":
    fail("HELLO: %s" % sp.describe(r))
p.send_msg("STATUS", best_height=9999, best_hash=sp.header_hash(H[9999]),
           chainwork=bytes(28) + b"\x7f\xff\xff\xff", finalized_height=0)
c1, s1, n1, t1 = req()
ok("GET_HEADERS(%d, %d) corr %#x" % (s1, n1, c1))

# The whole answer, after the 1 s no-answer deadline; the deadline phase
# has not run since (fault_tick_ms).
time.sleep(1.5 - (time.monotonic() - t1))
frames = send(c1, s1, H[s1:s1 + n1])
# The re-ask (if the late answer was refused) is answered at once: its own
# no-answer deadline runs from now.
c2, s2, n2, _ = req(3.0)
if s2 != s1 or c2 == c1:
    fail("after the late answer the node asked GET_HEADERS(%d) corr %#x (want the same "
         "range %d again under a new corr: the late answer was credited)" % (s2, c2, s1))
send(c2, s2, H[s2:s2 + n2])
end = time.monotonic() + 10
while time.monotonic() < end and tip() < s2 + n2 - 1:
    time.sleep(0.1)
t, cnt = tip(), counters()
print("after the late answer (%d frames) and the prompt one: tip %d, counters %s" % (
    frames, t, {k: cnt.get(k) for k in ("hs_headers_rx", "hs_late_drop", "hs_no_answer",
                                        "hs_answer_expired", "hs_req_tx")}))
if cnt.get("hs_headers_rx", 0) != n2:
    fail("hs_headers_rx %d (want %d: the prompt answer only; the late one was credited?)" %
         (cnt.get("hs_headers_rx", 0), n2))
# The first frame found the request past its deadline (EXPIRED: it ended
# there, as the deadline phase would have); the rest came for an ended
# request (LATE).
if cnt.get("hs_answer_expired", 0) != 1:
    fail("hs_answer_expired %d (want 1: the first late frame ends the request)" %
         cnt.get("hs_answer_expired", 0))
if cnt.get("hs_late_drop", 0) < frames or cnt.get("hs_no_answer", 0) < 1:
    fail("late answer: hs_late_drop %d (want >= %d frames), hs_no_answer %d (want >= 1)" %
         (cnt.get("hs_late_drop", 0), frames, cnt.get("hs_no_answer", 0)))
ok("late answer of %d frames: not credited, all late, the request timed out "
   "(hs_no_answer), range asked again under corr %#x" % (frames, c2))
if t < s2 + n2 - 1:
    fail("prompt answer: tip %d (want %d)" % (t, s2 + n2 - 1))
ok("prompt answer to the re-ask committed: tip %d" % t)
p.goodbye()
EOF
rc=$?
cat "$SLT_TMP/peer.out"
[ "$rc" = 0 ] || slt_fail "the scenario's checks failed (exit $rc)"
slt_stop
slt_assert_clean
slt_ok "sync_deadline_before_answer passed"
