#!/usr/bin/env bash
# headers_serve.sh — the serving side of the header-sync stream (SPEC §5)
# with real processes: ctrl imports testnet3 headers 0..9999, then a SPEC
# peer (slpeer, streams 0,1,5) on a live session gets:
#   (a session open before the import) STATUS at open, STATUS again when the
#     import moves the local tip; 30 STATUS at once -> record-only SPAM;
#   STATUS after the session opens: best_height 9999, the README tip hash;
#   GET_HEADERS(0, 2000, zero anchor) -> 118 HEADERS frames (ceil(2000/17)),
#     every one with the request's corr, LAST on exactly one, the headers
#     byte-identical to the file's first 2000;
#   GET_HEADERS(9990, 100, anchor = hash of 9989) -> 10 headers, truncated
#     at the tip, LAST;
#   start 10001 -> NOT_FOUND BEYOND_TIP; a wrong anchor -> NOT_FOUND
#     UNKNOWN_ANCHOR; count 2001 -> NOT_FOUND TOO_MANY (record-only SPAM);
#   a burst of requests over the serving budget -> NOT_FOUND BUSY for the
#     excess (record-only SPAM), every request answered;
# and the session stays up throughout (PING/PONG, no GOODBYE, in peers).
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
T3_TIP=000000001655e2a7293f28383a2965b2f0add77fd6ac383986e90971a07467d4
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" chain profile bitcoin-test3
slt_start_dp
slt_start_ctrl
slt_wait_ready 30

slt_nsexec ping -c 1 -W 2 "$SLT_DP_IP" >/dev/null || slt_fail "dp does not answer ping"

SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP T3=$T3 T3_TIP=$T3_TIP CTL=$SLUICECTL \
	SOCK=$SLT_SOCK slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF'
import json, os, secrets, socket, subprocess, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp

dst = (os.environ["DST"], 9747)
data = open(os.environ["T3"], "rb").read()
H = [data[i * 80:(i + 1) * 80] for i in range(len(data) // 80)]
assert len(H) == 10000


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


# A session open before the import: STATUS at open (the genesis), then the
# import's commits move the published status and STATUS follows (coalesced:
# intermediate tips may be skipped, the latest one arrives).
a = sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3")
r = a.hello(dst, streams=0b100011)
if not r or r["msg"] != "HELLO_ACK":
    fail("early HELLO: %s" % sp.describe(r))
f = a.recv(3.0, lambda f: f.get("msg") == "STATUS")
if f is None or f["body"]["best_height"] != 0:
    fail("early session: STATUS at open %s (want best_height 0)" % sp.describe(f))
imp = ctl("header.import", "path=" + os.environ["T3"])
if ctl("status").get("tip_height") != 9999:
    fail("tip after header.import: %s (%s)" % (ctl("status").get("tip_height"), imp))
ok("imported testnet3 0..9999")
heights, end = [], time.monotonic() + 3
while time.monotonic() < end and 9999 not in heights:
    f = a.recv(end - time.monotonic(), lambda f: f.get("msg") == "STATUS")
    if f is None:
        break
    heights.append(f["body"]["best_height"])
if not heights or heights[-1] != 9999 or heights != sorted(heights):
    fail("early session: STATUS heights after the import %s (want rising to 9999)" % heights)
ok("STATUS pushed when the local tip moved: %d STATUS, last 9999" % len(heights))
# STATUS faster than 10/s: record-only SPAM, ignored, the session stays.
for i in range(30):
    a.send_msg("STATUS", best_height=5, best_hash=bytes(32), chainwork=bytes(32))
if a.ping(2.0) is None or a.closed is not None:
    fail("early session after a STATUS flood: no PONG (GOODBYE %s)" % a.closed)
# ctrl records the MISBEHAVIOR event on its own tick: wait for it (bounded)
t0 = time.monotonic()
while True:
    show = ctl("peer.show", "session=%d" % a.session)
    if show.get("misbehavior_kinds", {}).get("spam", 0) >= 1 or time.monotonic() - t0 > 3:
        break
    time.sleep(0.05)
if show.get("counters", {}).get("hs_spam", 0) < 15 or \
        show.get("misbehavior_kinds", {}).get("spam", 0) < 1:
    fail("STATUS flood: peer.show %s (want hs_spam >= 15, misbehavior spam)" % show)
ok("30 STATUS at once: %d SPAM (record-only), session up" % show["counters"]["hs_spam"])
a.goodbye()

p = sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3")
p.sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 8 << 20)
r = p.hello(dst, streams=0b100011)
if not r or r["msg"] != "HELLO_ACK":
    fail("HELLO: want HELLO_ACK, got %s" % sp.describe(r))
if not p.streams & (1 << 5):
    fail("stream 5 not accepted: %#x" % p.streams)
sid = p.session
ok("session %d, streams %#x" % (sid, p.streams))

# STATUS after the session opens.
f = p.recv(3.0, lambda f: f.get("msg") == "STATUS")
if f is None:
    fail("no STATUS within 3 s of the session opening")
b = f["body"]
tip_wire = bytes.fromhex(os.environ["T3_TIP"])[::-1]
if b["best_height"] != 9999 or b["best_hash"] != tip_wire:
    fail("STATUS: best_height %d hash %s (want 9999, %s)" %
         (b["best_height"], b["best_hash"][::-1].hex(), os.environ["T3_TIP"]))
ok("STATUS: best_height 9999, tip %s" % os.environ["T3_TIP"])


def ask(start, count, anchor=bytes(32), want_frames=None, quiet=0.4, timeout=5.0):
    """GET_HEADERS; every HEADERS / NOT_FOUND with its corr until want_frames
    HEADERS (or a NOT_FOUND) arrived, then `quiet` s more for extras."""
    corr = secrets.randbits(63) | 1
    if p.send_msg("GET_HEADERS", corr=corr, start_height=start, count=count,
                  anchor_hash=anchor) is None:
        fail("GET_HEADERS not sent")
    mine = lambda f: f.get("msg") in ("HEADERS", "NOT_FOUND") and f["corr"] == corr
    got, end, done_at = [], time.monotonic() + timeout, None
    while True:
        now = time.monotonic()
        if done_at is None and now >= end:
            break
        if done_at is not None and now >= done_at:
            break
        f = p.recv((done_at or end) - now, mine)
        if f is None:
            continue
        got.append(f)
        nh = sum(1 for g in got if g["msg"] == "HEADERS")
        if done_at is None and (f["msg"] == "NOT_FOUND" or (want_frames and nh >= want_frames)):
            done_at = time.monotonic() + quiet
    return corr, got


def not_found(start, count, anchor, want, what):
    corr, got = ask(start, count, anchor)
    nf = [g for g in got if g["msg"] == "NOT_FOUND"]
    if len(got) != 1 or len(nf) != 1:
        fail("%s: want one NOT_FOUND, got %s" % (what, [sp.describe(g) for g in got]))
    rs = sp.NOT_FOUND_REASONS.get(nf[0]["body"]["reason"])
    if rs != want or nf[0]["body"]["start_height"] != start:
        fail("%s: NOT_FOUND %s start %d (want %s, %d)" %
             (what, rs, nf[0]["body"]["start_height"], want, start))
    ok("%s -> NOT_FOUND %s" % (what, want))


# GET_HEADERS(0, 2000): 118 frames, byte-identical.
corr, got = ask(0, 2000, want_frames=118)
hs = [g for g in got if g["msg"] == "HEADERS"]
if len(hs) != 118 or len(got) != 118:
    fail("GET_HEADERS(0, 2000): %d HEADERS frames of %d replies (want 118)" % (len(hs), len(got)))
if any(g["corr"] != corr for g in hs):
    fail("a HEADERS frame with a foreign corr")
last = [g for g in hs if g["body"]["last"]]
if len(last) != 1:
    fail("LAST on %d frames (want exactly 1)" % len(last))
seen = {}
for g in hs:
    b = g["body"]
    if b["n"] > 17 or b["n"] < 1:
        fail("HEADERS n %d" % b["n"])
    for i, h in enumerate(b["headers"]):
        seen[b["start_height"] + i] = h
if sorted(seen) != list(range(2000)):
    fail("heights covered: %d, min %s max %s (want 0..1999)" %
         (len(seen), min(seen, default=None), max(seen, default=None)))
bad = [k for k in range(2000) if seen[k] != H[k]]
if bad:
    fail("%d headers differ from the file (first at %d)" % (len(bad), bad[0]))
lb = last[0]["body"]
if lb["start_height"] + lb["n"] != 2000:
    fail("LAST frame covers %d..%d, want the end at 1999" %
         (lb["start_height"], lb["start_height"] + lb["n"] - 1))
ok("GET_HEADERS(0, 2000): 118 frames, corr echoed, one LAST, headers identical to the file")

# Truncated at the tip, with a matching anchor.
corr, got = ask(9990, 100, sp.header_hash(H[9989]), want_frames=1)
hs = [g for g in got if g["msg"] == "HEADERS"]
if len(hs) != 1 or len(got) != 1:
    fail("GET_HEADERS(9990, 100): replies %s" % [sp.describe(g) for g in got])
b = hs[0]["body"]
if b["start_height"] != 9990 or b["n"] != 10 or not b["last"] or b["headers"] != H[9990:]:
    fail("GET_HEADERS(9990, 100): start %d n %d last %s (want 9990, 10, LAST, the file's)" %
         (b["start_height"], b["n"], b["last"]))
ok("GET_HEADERS(9990, 100, anchor 9989) -> 10 headers, LAST (truncated at the tip)")

not_found(10001, 10, bytes(32), "BEYOND_TIP", "start 10001")
not_found(10000, 1, bytes(32), "BEYOND_TIP", "start 10000 (tip + 1)")
not_found(100, 10, sp.header_hash(H[5]), "UNKNOWN_ANCHOR", "start 100 with the hash of 5")
not_found(1, 2001, bytes(32), "TOO_MANY", "count 2001")

if p.ping(2.0) is None:
    fail("no PONG after the requests")
ok("PING/PONG still works")

# Over the serving budget: every request answered, the excess BUSY.
N = 160
corrs = {}
for i in range(N):
    c = (1 << 40) + i
    corrs[c] = None
    p.send_msg("GET_HEADERS", corr=c, start_height=10001, count=1)
end = time.monotonic() + 5
while time.monotonic() < end and any(v is None for v in corrs.values()):
    f = p.recv(end - time.monotonic(),
               lambda f: f.get("msg") == "NOT_FOUND" and f["corr"] in corrs)
    if f is None:
        break
    corrs[f["corr"]] = sp.NOT_FOUND_REASONS.get(f["body"]["reason"])
vals = list(corrs.values())
busy, beyond, none = vals.count("BUSY"), vals.count("BEYOND_TIP"), vals.count(None)
print("burst of %d: %d BEYOND_TIP, %d BUSY, %d unanswered" % (N, beyond, busy, none))
if none != 0 or busy < 20 or beyond < 50 or busy + beyond != N:
    fail("burst over the serving budget: want every request answered, >= 20 BUSY")
ok("a burst over the serving budget: %d served, %d BUSY" % (beyond, busy))

time.sleep(2.5)  # the bucket refills
p.pump(0.1)
corr, got = ask(9999, 5, sp.header_hash(H[9998]), want_frames=1)
if len(got) != 1 or got[0]["msg"] != "HEADERS" or got[0]["body"]["n"] != 1:
    fail("after the refill: %s" % [sp.describe(g) for g in got])
ok("served again after the budget refilled")

show = ctl("peer.show", "session=%d" % sid)
kinds = show.get("misbehavior_kinds", {})
if kinds.get("spam", 0) < 1 or show.get("state") not in ("up", "suspect"):
    fail("peer.show after SPAM: %s" % show)
cnt = show.get("counters", {})
if cnt.get("hs_headers_tx", 0) < 120 or cnt.get("hs_not_found_tx", 0) < N:
    fail("peer.show counters: %s" % cnt)
if show.get("hs_parked") is not False:
    fail("hs_parked: %s (want false)" % show.get("hs_parked"))
ok("peer.show: misbehavior spam %d (record-only), hs_headers_tx %d, state %s" %
   (kinds["spam"], cnt["hs_headers_tx"], show["state"]))

if p.ping(2.0) is None or p.closed is not None:
    fail("session not up at the end (GOODBYE %s)" % p.closed)
p.goodbye()
ok("session up throughout, no GOODBYE from the node")
EOF
rc=$?
cat "$SLT_TMP/peer.out"
[ "$rc" = 0 ] || slt_fail "the SPEC peer's checks failed (exit $rc)"

TIP=$(slt_ctl --json status | slt_json_get tip_height)
[ "$TIP" = 9999 ] || slt_fail "tip after import: $TIP (want 9999)"
H=$(slt_ctl_stat hs_headers_tx)
[ "${H:-0}" -ge 120 ] || slt_fail "stats hs_headers_tx = $H (want >= 120)"
slt_ok "stats: hs_headers_tx $H, hs_busy $(slt_ctl_stat hs_busy), hs_spam $(slt_ctl_stat hs_spam)"
slt_stop
slt_assert_clean
slt_ok "headers_serve passed"
