#!/usr/bin/env bash
# fleet_event_ring_full.sh — issue 13 item 5: a full event ring on one node
# of a fleet (the mechanism of event_ring_full, in a fleet).  N regtest
# nodes (SLT_FLEET_N, default 16; fleet.sh) sync chain X (0..999) from node
# 2.  Node 1 also takes SLT_EVQ_FLOOD (default 400) slpeer sessions; then
# node 1's sluice-ctrl is stopped (SIGSTOP: nothing drains its lcore ->
# ctrl event ring) and the slpeer sessions send STATUS until the ring is
# down to its reserve and advisory events are refused.  While it is full,
# node 2 imports X plus 20 headers (its peers relay them: the STATUS,
# NEW_BLOCK and HEADERS node 1's fleet sessions bring meet the full ring),
# and all but 8 slpeer sessions say GOODBYE (more SESSION_DOWN than the
# reserve holds: the rest wait in the backlog).  Then ctrl continues.
# Checked: node 1's counters show the ring was full (refused > 0,
# backlogged > 0) and nothing critical was lost (evt_critical_lost 0,
# every backlogged record flushed); every node, node 1 included, reaches
# the new tip; chains identical, no stranded range, no ghost peer on any
# node, nothing left behind.  Prints "fleet_event_ring_full nodes=N
# resume_ms=X" (from SIGCONT to node 1 at the new tip) and node 1's
# event counters.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

slt_require_root
slt_require_tools ip ethtool cmp
slt_require_bins
N=${SLT_FLEET_N:-16}
FLOOD=${SLT_EVQ_FLOOD:-400}
slt_init
START=$(($(date +%s) - 20000))
slt_chaingen -n 1000 --seed 61 --start-time "$START" -o "$SLT_TMP/x.headers"
X_TIP=$(sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.log" | tail -1)
slt_chaingen -n 1020 --seed 61 --start-time "$START" -o "$SLT_TMP/x2.headers"
X2_TIP=$(sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.log" | tail -1)

slt_fleet_up "$N"
f=${SLT_NODE_CFG[1]}
slt_cfg_set "$f" admission max_peers $((FLOOD + 64))
slt_cfg_set "$f" admission per_addr $((FLOOD + 64))
slt_cfg_set "$f" dataplane hello_rate 100000
slt_cfg_set "$f" dataplane hello_burst 100000
slt_fleet_start
slt_fleet_wait_peered 30
slt_node_ctl 2 --json header.import path="$SLT_TMP/x.headers" >/dev/null || slt_fail "node 2: import X"
slt_fleet_wait_tip 999 "$X_TIP" 60
slt_ok "all $N nodes on X (999)"
S0=$(slt_node_stats_json 1)

SLT_DIR=$SLT_SRC/tests/integration DST=${SLT_NODE_IP[1]} CTL=$SLUICECTL SOCK=${SLT_NODE_SOCK[1]} \
	SOCK2=${SLT_NODE_SOCK[2]} X2=$SLT_TMP/x2.headers X2_TIP=$X2_TIP CTRL_PID=${SLT_NODE_CTRL_PID[1]} \
	TEL=$SLT_TELEMETRY PREFIX=${SLT_NODE_PREFIX[1]} PY=$SLT_PY N_FLOOD=$FLOOD N_STAY=8 \
	slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF'
import json, os, signal, subprocess, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp

dst = (os.environ["DST"], 9747)
N_FLOOD, N_STAY = int(os.environ["N_FLOOD"]), int(os.environ["N_STAY"])
ctrl_pid = int(os.environ["CTRL_PID"])
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


def tel():
    r = subprocess.run([os.environ["PY"], os.environ["TEL"], "-f", os.environ["PREFIX"]],
                       input="/sluice/stats\n", capture_output=True, text=True, timeout=20)
    d = json.loads(r.stdout)["/sluice/stats"]
    return d.get("total", d)


def refused(st):
    return st["evt_refused_reserve"] + st["evt_refused_full"] + st["evt_refused_backlog"]


flood = [sp.Peer(("0.0.0.0", 0), chain="regtest") for _ in range(N_FLOOD)]
res = sp.handshake_many(flood, dst, timeout=20.0, concurrency=64, hello_kw=dict(streams=0b100001))
acked = sum(1 for x in res if x["ok"])
if acked != N_FLOOD:
    fail("%d of %d flood sessions admitted" % (acked, N_FLOOD))
sp.pump(flood, 1.0)
before = tel()
ok("%d slpeer sessions admitted by node 1" % N_FLOOD)

os.kill(ctrl_pid, signal.SIGSTOP)
stopped = True
t0 = time.monotonic()
st = tel()
genesis = sp.chain_id_of("regtest")
while refused(st) == refused(before) and time.monotonic() - t0 < 30:
    for p in flood:
        p.send_msg("STATUS", best_height=0, best_hash=genesis, chainwork=b"\x00" * 32,
                   finalized_height=0)
    sp.pump(flood, 0.12)
    st = tel()
if refused(st) == refused(before):
    fail("the ring never refused an advisory event in 30 s")
ok("node 1's ring full after %.1f s (refused %d)" % (time.monotonic() - t0, refused(st) - refused(before)))

# the fleet moves on while node 1's ring is full
r = subprocess.run([os.environ["CTL"], "--socket", os.environ["SOCK2"], "--json", "header.import",
                    "path=" + os.environ["X2"]], capture_output=True, text=True, timeout=20)
if r.returncode != 0:
    fail("node 2: import X2: %s" % r.stderr)
stay, gone = flood[:N_STAY], flood[N_STAY:]
for p in gone:
    p.goodbye()
sp.pump(stay, 2.0)
full = tel()
ok("node 2 moved to 1019; %d sessions ended with node 1's ring full: backlog depth %d "
   "(backlogged %d, critical lost %d)" % (len(gone), full["evt_backlog_depth"],
                                          full["evt_backlogged"] - before["evt_backlogged"],
                                          full["evt_critical_lost"]))
os.kill(ctrl_pid, signal.SIGCONT)
stopped = False
t1 = time.monotonic()
while time.monotonic() - t1 < 60:
    sp.pump(stay, 0.0)
    st = ctl("status")
    if st["tip_height"] == 1019 and st["tip_hash"] == os.environ["X2_TIP"]:
        break
    time.sleep(0.02)
else:
    fail("node 1 not at 1019 60 s after its ctrl continued: %s" % st)
print("RESUME %d" % int((time.monotonic() - t1) * 1000))
ok("node 1 at 1019 %.2f s after its ctrl continued" % (time.monotonic() - t1))
for p in stay:
    p.goodbye()
EOF
rc=$?
cat "$SLT_TMP/peer.out"
[ "$rc" = 0 ] || slt_fail "the flood's checks failed (exit $rc)"
RESUME_MS=$(sed -n 's/^RESUME //p' "$SLT_TMP/peer.out")
slt_fleet_wait_tip 1019 "$X2_TIP" 60
slt_ok "every node at 1019"

S=$(slt_node_stats_json 1)
d() { echo $(($(printf '%s' "$S" | slt_json_get "$1") - $(printf '%s' "$S0" | slt_json_get "$1"))); }
REF=$(($(d evt_refused_reserve) + $(d evt_refused_full) + $(d evt_refused_backlog)))
BL=$(d evt_backlogged)
FL=$(d evt_backlog_flushed)
LOST=$(printf '%s' "$S" | slt_json_get evt_critical_lost)
echo "fleet_event_ring_full nodes=$N resume_ms=$RESUME_MS refused=$REF backlogged=$BL flushed=$FL critical_lost=$LOST backlog_max=$(printf '%s' "$S" | slt_json_get evt_backlog_max)"
[ "$REF" -gt 0 ] || slt_fail "node 1 refused no advisory event: its ring was never full"
[ "$BL" -gt 0 ] || slt_fail "node 1: no critical event met the full ring (evt_backlogged 0)"
[ "$FL" = "$BL" ] || slt_fail "node 1: evt_backlog_flushed $FL != evt_backlogged $BL"
[ "$LOST" = 0 ] || slt_fail "node 1: evt_critical_lost = $LOST"
REC=$(grep -c "SESSION_DOWN never came" "$SLT_TMP/ctrl1.log")
[ "$REC" = 0 ] || slt_fail "node 1's ctrl reconciled $REC sessions whose SESSION_DOWN never came"

slt_fleet_assert_same
slt_fleet_assert_clean_state
slt_fleet_settled_log
slt_fleet_stop
slt_log "PASS"
