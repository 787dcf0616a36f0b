#!/usr/bin/env bash
# event_ring_full.sh — never-lost events (sl_evq.h): with the lcore -> ctrl
# event ring full on purpose, the events ctrl needs for its bookkeeping
# (SESSION_DOWN, WORK_RETURNED) still reach it, so afterwards there is no
# ghost peer and no stranded range.
#   One node (bitcoin-test3, empty store).  A holder session advertises
#   STATUS 9999 and leaves the node's GET_HEADERS unanswered (it holds a
#   range); N flood sessions are admitted; then sluice-ctrl is stopped
#   (SIGSTOP: nothing drains the ring) and the flood sessions send STATUS
#   (one PEER_STATUS event each) until the ring is down to its reserve and
#   advisory events are refused; then the holder and all but a few flood
#   sessions say GOODBYE: more SESSION_DOWN / WORK_RETURNED than the reserve
#   holds, so the rest wait in the backlog; then ctrl continues (SIGCONT).
# Afterwards:
#   the counters show the ring was full (evt_refused_* > 0, evt_backlogged
#     > 0; STATUS sent while the backlog waits is refused behind it,
#     evt_refused_backlog > 0) and nothing critical was lost (evt_critical_lost 0, every
#     backlogged record flushed), and ctrl's reconcile belt
#     (ctrl/sl_reconcile.h) never had to stand in for a SESSION_DOWN;
#   ctrl's peers are exactly the dataplane's live sessions (telemetry
#     /sluice/sessions) — the sessions still open;
#   the departed peers, restarted with the same node_id, are admitted
#     (HELLO_ACK, not REJECT DUPLICATE);
#   the range table holds nothing of a dead session, and a sync from the
#     restarted holder (now answering) reaches 9999 and settles.
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
slt_cfg_set "$SLT_CFG" admission max_peers 1000
slt_cfg_set "$SLT_CFG" admission per_addr 1000
slt_cfg_set "$SLT_CFG" dataplane hello_rate 100000
slt_cfg_set "$SLT_CFG" dataplane hello_burst 100000
slt_start_dp
slt_start_ctrl
slt_wait_ready 30

SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP T3=$T3 CTL=$SLUICECTL SOCK=$SLT_SOCK \
	CTRL_PID=$SLT_CTRL_PID TEL=$SLT_TELEMETRY PREFIX=$SLT_PREFIX PY=$SLT_PY \
	N_FLOOD=${SLT_EVQ_FLOOD:-400} N_STAY=8 \
	slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF'
import json, os, select, signal, subprocess, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp

dst = (os.environ["DST"], 9747)
data = open(os.environ["T3"], "rb").read()
H = [data[i * 80:(i + 1) * 80] for i in range(len(data) // 80)]
N_FLOOD, N_STAY = int(os.environ["N_FLOOD"]), int(os.environ["N_STAY"])
ctrl_pid = int(os.environ["CTRL_PID"])
STREAMS = 0b100001  # session + header sync
stopped = False


def fail(msg):
    if stopped:
        os.kill(ctrl_pid, signal.SIGCONT)
    print("FAIL:", msg)
    sys.exit(1)


def ok(msg):
    print("ok:", msg)
    sys.stdout.flush()


def ctl(*args):
    r = subprocess.run([os.environ["CTL"], "--socket", os.environ["SOCK"], "--json"] + list(args),
                       capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        fail("sluicectl %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return json.loads(r.stdout)


def tel(cmd="/sluice/stats"):
    """A DPDK telemetry reply of the dataplane (works while ctrl is stopped)."""
    r = subprocess.run([os.environ["PY"], os.environ["TEL"], "-f", os.environ["PREFIX"]],
                       input=cmd + "\n", capture_output=True, text=True, timeout=20)
    return json.loads(r.stdout)[cmd]


def refused(st):
    return st["evt_refused_reserve"] + st["evt_refused_full"] + st["evt_refused_backlog"]


def status(p, h=0, hh=None, work=b"\x00" * 32):
    p.send_msg("STATUS", best_height=h, best_hash=hh or sp.chain_id_of("bitcoin-test3"),
               chainwork=work, finalized_height=0)


WORK = bytes(28) + b"\x7f\xff\xff\xff"

# -- the holder: advertises 9999, leaves the node's request unanswered
hold = sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3")
r = hold.hello(dst, streams=STREAMS)
if not r or r["msg"] != "HELLO_ACK":
    fail("holder HELLO: %s" % sp.describe(r))
status(hold, 9999, sp.header_hash(H[9999]), WORK)
g = hold.recv(5.0, lambda f: f.get("msg") == "GET_HEADERS")
if g is None:
    fail("the holder got no GET_HEADERS")
ok("holder session %d holds %d+%d (unanswered)" % (hold.session, g["body"]["start_height"],
                                                    g["body"]["count"]))

# -- the flood sessions
flood = [sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3") for _ in range(N_FLOOD)]
res = sp.handshake_many(flood, dst, timeout=20.0, concurrency=64,
                        hello_kw=dict(streams=STREAMS))
acked = sum(1 for x in res if x["ok"])
if acked != N_FLOOD:
    fail("%d of %d flood sessions admitted: %s" % (acked, N_FLOOD,
         [sp.describe(x["frame"]) for x in res if not x["ok"]][:3]))
sp.pump(flood + [hold], 1.0)
n_peers = len(ctl("peers"))
if n_peers != N_FLOOD + 1:
    fail("ctrl has %d peers before the flood (want %d)" % (n_peers, N_FLOOD + 1))
before = tel()
ok("%d flood sessions admitted; ctrl has %d peers; events_tx %d" %
   (N_FLOOD, n_peers, before["events_tx"]))

# -- ctrl stops draining; the flood fills the ring to its reserve
os.kill(ctrl_pid, signal.SIGSTOP)
stopped = True
t0 = time.monotonic()
st = tel()
while refused(st) == refused(before) and time.monotonic() - t0 < 30:
    for p in flood:
        status(p)
    sp.pump(flood + [hold], 0.12)
    st = tel()
if refused(st) == refused(before):
    fail("the ring never refused an advisory event in 30 s: %s" % st)
ok("ring full after %.1f s: events_tx %d, refused reserve %d full %d backlog %d" %
   (time.monotonic() - t0, st["events_tx"], st["evt_refused_reserve"], st["evt_refused_full"],
    st["evt_refused_backlog"]))

# -- sessions end while the ring is full
stay, gone = flood[:N_STAY], flood[N_STAY:]
hold.goodbye()
for p in gone:
    p.goodbye()
sp.pump(stay, 1.2)
# advisory events while critical ones wait in the backlog: refused (they
# must not overtake a SESSION_DOWN)
for p in stay:
    status(p)
sp.pump(stay, 0.3)
full = tel()
# (the counters are judged at the end: first what ctrl's view shows)
ok("%d sessions ended with the ring full: backlog depth %d (backlogged %d, critical lost %d), "
   "advisory refused behind it %d" %
   (len(gone) + 1, full["evt_backlog_depth"], full["evt_backlogged"], full["evt_critical_lost"],
    full["evt_refused_backlog"]))

os.kill(ctrl_pid, signal.SIGCONT)
stopped = False
t1 = time.monotonic()
while time.monotonic() - t1 < 30:
    sp.pump(stay, 0.3)
    st = tel()
    if st["evt_backlog_depth"] == 0 and len(ctl("peers")) <= N_STAY:
        break
ok("ctrl continued: backlog drained in %.1f s" % (time.monotonic() - t1))

# -- no ghost peer: ctrl's peers == the dataplane's live sessions == stay
sp.pump(stay, 0.5)
cp = sorted(x["session"] for x in ctl("peers"))
dp = sorted(int(k, 16) for k in tel("/sluice/sessions").keys())
mine = sorted(p.session for p in stay)
if cp != dp or cp != mine:
    ghosts = sorted(set(cp) - set(dp))
    fail("ghost peers: ctrl has %d peers, the dataplane %d live sessions, %d are open; "
         "%d ghosts (ctrl UP, dataplane gone), e.g. %s" %
         (len(cp), len(dp), len(mine), len(ghosts), [hex(x) for x in ghosts[:4]]))
ok("ctrl's peers = dataplane's sessions = the %d open ones" % len(mine))

# -- the departed peers come back with the same node_id: admitted
back = [sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3", node_id=p.node_id) for p in gone[:16]]
res = sp.handshake_many(back, dst, timeout=10.0, concurrency=16,
                        hello_kw=dict(streams=STREAMS))
bad = [sp.describe(x["frame"]) for x in res if not x["ok"]]
if bad:
    fail("restarted peers not admitted: %s" % bad[:4])
srv = sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3", node_id=hold.node_id)
r = srv.hello(dst, streams=STREAMS)
if not r or r["msg"] != "HELLO_ACK":
    fail("the restarted holder (same node_id): %s" % sp.describe(r))
ok("%d departed peers and the holder restarted with their node_ids: HELLO_ACK" % len(back))
for p in back:
    p.goodbye()

# -- no stranded range: nothing held by a dead session; a sync completes
live = set(p.session for p in stay) | {srv.session}
for rg in ctl("ranges"):
    for h in rg.get("holders", []):
        sid = h.get("session") if isinstance(h, dict) else h
        if sid not in live:
            fail("range %s held by dead session %s" % (rg, sid))
ok("no range held by a dead session")
status(srv, 9999, sp.header_hash(H[9999]), WORK)
end = time.monotonic() + 90
served = 0
while time.monotonic() < end:
    sp.pump(stay, 0.0)
    f = srv.recv(0.2, lambda f: f.get("msg") == "GET_HEADERS")
    if f is not None:
        s, n = f["body"]["start_height"], f["body"]["count"]
        n = min(n, len(H) - s)
        for k in range(0, n, 17):
            chunk = H[s + k:s + min(k + 17, n)]
            srv.send_msg("HEADERS", corr=f["corr"], start_height=s + k,
                         flags=1 if k + 17 >= n else 0, reserved=0, headers=chunk)
        served += 1
        continue
    if ctl("status").get("tip_height", 0) == 9999:
        break
st = ctl("status")
tip = st.get("tip_height", 0)
if tip != 9999:
    fail("sync after the recovery: tip %d (want 9999)" % tip)
# the tip's hash names the whole chain (each header carries its parent's)
want = sp.header_hash(H[9999])[::-1].hex()
if st.get("tip_hash") != want:
    fail("sync after the recovery: tip hash %s, the served chain's is %s"
         % (st.get("tip_hash"), want))
ok("sync from the restarted holder: tip 9999, the served chain's hash (%d requests served)"
   % served)
srv.goodbye()
for p in stay:
    p.goodbye()
EOF
rc=$?
cat "$SLT_TMP/peer.out"
[ "$rc" = 0 ] || slt_fail "the scenario's checks failed (exit $rc)"

slt_node_settled_one() {
	local i q h n
	for ((i = 0; i < 50; i++)); do
		slt_ctl --json sync.status >"$SLT_TMP/ss"
		q=$(slt_json_get queued <"$SLT_TMP/ss") h=$(slt_json_get held <"$SLT_TMP/ss")
		n=$(slt_ctl --json ranges | slt_jq 'len(v)')
		[ "$q" = 0 ] && [ "$h" = 0 ] && [ "$n" = 0 ] && return 0
		sleep 0.2
	done
	slt_fail "range table not settled: queued $q held $h live ranges $n ($(cat "$SLT_TMP/ss"))"
}
slt_node_settled_one
slt_ok "range table settled: $(cat "$SLT_TMP/ss")"

S=$(slt_ctl_stats_json)
get() { printf '%s' "$S" | slt_json_get "$1"; }
REF=$(($(get evt_refused_reserve) + $(get evt_refused_full) + $(get evt_refused_backlog)))
BL=$(get evt_backlogged)
FL=$(get evt_backlog_flushed)
LOST=$(get evt_critical_lost)
[ "$REF" -gt 0 ] || slt_fail "no advisory event refused: the ring was never full"
[ "$BL" -gt 0 ] || slt_fail "evt_backlogged = 0: no critical event met a full ring"
[ "$(get evt_refused_backlog)" -gt 0 ] ||
	slt_fail "evt_refused_backlog = 0: no advisory event was held behind the backlog"
[ "$FL" = "$BL" ] || slt_fail "evt_backlog_flushed $FL != evt_backlogged $BL"
[ "$LOST" = 0 ] || slt_fail "evt_critical_lost = $LOST"
REC=$(grep -c "SESSION_DOWN never came" "$SLT_TMP/ctrl.log")
[ "$REC" = 0 ] || slt_fail "ctrl reconciled $REC sessions whose SESSION_DOWN never came"
slt_ok "counters: refused $REF (reserve $(get evt_refused_reserve), full $(get evt_refused_full), backlog $(get evt_refused_backlog)), backlogged $BL, flushed $FL, backlog max $(get evt_backlog_max), critical lost $LOST, events_lost $(get events_lost), events_tx $(get events_tx)"
slt_stop
slt_assert_clean
slt_ok "event_ring_full passed"
