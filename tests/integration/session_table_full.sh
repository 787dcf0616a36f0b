#!/usr/bin/env bash
# session_table_full.sh — a full session table (issue 12 item 6).  One node
# (one worker lcore: SL_SESSIONS_PER_LCORE slots), admission limits above
# the table.  A keeper session pings the node throughout; then peers are
# admitted until every slot is taken, and more HELLOs come.
#   every slot fills (HELLO_ACK), the next HELLOs get REJECT(FULL);
#   nothing else degrades: the keeper stays up and its PINGs are answered,
#     the control API answers status within 100 ms, no routine fault, no
#     critical event lost, ctrl's peers are the dataplane's sessions;
#   memory per live session, beyond the fixed tables, from one session to
#     a full table — bounded at 2 KiB per session and printed:
#       sluice-dp: its DPDK heap in use (telemetry /eal/heap_info) plus
#         its libc heap ([heap] in /proc/PID/smaps); every per-session
#         table is sized at start, so this should not move;
#       sluice-ctrl: its heap in use (stats ctrl.heap_in_use_bytes,
#         mallinfo2).
#   (Resident pages are not the measure: a busier node touches more of its
#   fixed mbuf pool and tables, which were allocated at start.)
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" admission max_peers 4096
slt_cfg_set "$SLT_CFG" admission per_addr 4096
slt_cfg_set "$SLT_CFG" dataplane hello_rate 100000
slt_cfg_set "$SLT_CFG" dataplane hello_burst 100000
slt_cfg_set "$SLT_CFG" dataplane keepalive_ms 2000
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
SLOTS=1024 # CONFIG_SL_SESSIONS_PER_LCORE, one worker lcore

SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP CTL=$SLUICECTL SOCK=$SLT_SOCK \
	DP_PID=$SLT_DP_PID CTRL_PID=$SLT_CTRL_PID SLOTS=$SLOTS TEL=$SLT_TELEMETRY PREFIX=$SLT_PREFIX \
	TSOCK=$SLT_RUNDIR/dpdk_telemetry.v2 \
	slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF2'
import json, os, select, subprocess, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp
from slpeer import fail, ok

sp.raise_nofile()
dst = (os.environ["DST"], 9747)
slots = int(os.environ["SLOTS"])


def ctl(*args):
    r = subprocess.run([os.environ["CTL"], "--socket", os.environ["SOCK"], "--json"] + list(args),
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        fail("sluicectl %s: %s" % (" ".join(args), r.stderr))
    return json.loads(r.stdout)


def libc_heap(pid):
    """Rss of the process's [heap] mapping (libc malloc), bytes."""
    rss, inheap = 0, False
    for line in open("/proc/%s/smaps" % pid):
        f = line.split()
        if len(f) >= 5 and "-" in f[0]:
            inheap = f[-1] == "[heap]"
        elif inheap and f[0] == "Rss:":
            rss += int(f[1]) * 1024
    return rss


def dp_heap():
    """DPDK malloc heap 0 in use, bytes (the dataplane's rte_malloc)."""
    r = subprocess.run([sys.executable, os.environ["TEL"], "-f", os.environ["PREFIX"]],
                       input="/eal/heap_info,0\n", capture_output=True, text=True, timeout=10)
    return int(json.loads(r.stdout)["/eal/heap_info"]["Alloc_size"])


def mem():
    return (dp_heap() + libc_heap(os.environ["DP_PID"]),
            ctl("stats")["ctrl"]["heap_in_use_bytes"])


keeper = sp.Peer(("0.0.0.0", 0), chain="regtest")
r = keeper.hello(dst)
if not r or r["msg"] != "HELLO_ACK":
    fail("keeper: %s" % sp.describe(r))
sp.pump([keeper], 1.0)
mem0 = mem()

fill = [sp.Peer(("0.0.0.0", 0), chain="regtest") for _ in range(slots - 1)]
res = sp.handshake_many(fill, dst, timeout=30.0, concurrency=64)
acked = sum(1 for x in res if x["ok"])
if acked != len(fill):
    fail("%d of %d admitted before the table was full: %s" % (
        acked, len(fill), [sp.describe(x["frame"]) for x in res if not x["ok"]][:3]))
sp.pump(fill + [keeper], 2.0)
ok("the table is full: %d sessions (keeper + %d)" % (acked + 1, acked))

extra = [sp.Peer(("0.0.0.0", 0), chain="regtest") for _ in range(8)]
res = sp.handshake_many(extra, dst, timeout=5.0, concurrency=8, retry_rate_limited=False)
why = [sp.describe(x["frame"]) for x in res]
if any(x["ok"] or x["frame"] is None or x["frame"]["msg"] != "REJECT" or
       x["frame"]["body"]["reason"] != sp.REJECT["FULL"] for x in res):
    fail("HELLOs to a full table: %s (want REJECT FULL)" % why)
ok("8 more HELLOs: REJECT(FULL)")

sp.pump(fill + [keeper], 1.0)
mem1 = mem()
t0 = time.monotonic()
st = ctl("status")
api_ms = (time.monotonic() - t0) * 1000
# the keeper: its PINGs answered while the table is full
t_ping = time.monotonic()
keeper.send_msg("PING", sender_time_ns=time.monotonic_ns())
pong = keeper.recv(2.0, lambda f: f.get("msg") == "PONG")
if pong is None or keeper.closed:
    fail("keeper: no PONG while the table is full (closed %s)" % keeper.closed)
rtt_ms = (time.monotonic() - t_ping) * 1000
peers = ctl("peers")
stats = sp.stat_totals(ctl("stats"))
if len(peers) != slots or stats.get("routine_faults", 0) != 0 or \
        stats.get("evt_critical_lost", 0) != 0 or api_ms > 100:
    fail("degraded: peers %d (want %d), routine_faults %s, evt_critical_lost %s, status %.1f ms" %
         (len(peers), slots, stats.get("routine_faults"), stats.get("evt_critical_lost"), api_ms))
ok("nothing degraded: keeper PONG in %.1f ms, status in %.1f ms, %d peers, 0 faults, 0 lost"
   % (rtt_ms, api_ms, len(peers)))

# telemetry /sluice/sessions lists what fits one reply (32 at most); its
# start parameter pages through every live session, each once, and the
# page past the end is empty
got, sizes = sp.tel_sessions(os.environ["TSOCK"], limit=slots + 2)
sids = [int(k, 16) for k, _ in got]
if len(sids) != slots or len(set(sids)) != slots or sizes[-1] != 0 or max(sizes) > 32:
    fail("/sluice/sessions pages: %d ids, %d distinct (want %d), %d pages, sizes %s ... %s"
         % (len(sids), len(set(sids)), slots, len(sizes), sizes[:4], sizes[-2:]))
ok("/sluice/sessions,<start>: %d sessions in %d pages of %d-%d"
   % (len(sids), len(sizes) - 1, min(sizes[:-1]), max(sizes)))
n = slots - 1
dp_b, ctrl_b = (mem1[0] - mem0[0]) / n, (mem1[1] - mem0[1]) / n
print("mem_per_session sessions=%d dp_bytes=%.0f ctrl_bytes=%.0f (heap in use, 1 -> %d sessions; "
      "dp %d -> %d, ctrl %d -> %d)" % (n, dp_b, ctrl_b, slots, mem0[0], mem1[0], mem0[1], mem1[1]))
if dp_b + ctrl_b > 2048:
    fail("%.0f bytes per session beyond the fixed tables (goal <= 2048)" % (dp_b + ctrl_b))
ok("memory per session within 2 KiB: dp %.0f B + ctrl %.0f B" % (dp_b, ctrl_b))
print("fixed at start for %d slots: dp heap %.1f MB, ctrl heap %.1f MB (at most %.1f KB + %.1f KB "
      "per slot, mbuf pool and every table included)" % (slots, mem1[0] / 1e6, mem1[1] / 1e6,
      mem1[0] / slots / 1024, mem1[1] / slots / 1024))
EOF2
rc=$?
cat "$SLT_TMP/peer.out"
[ "$rc" = 0 ] || slt_fail "session table full (above)"
slt_stop
