#!/usr/bin/env bash
# hello_flood.sh — a HELLO flood from 1,000 addresses does not keep honest
# peers' HELLOs from ctrl (issue 12 item 2, the dataplane's gate).  One
# node, [dataplane] hello_total 400 (the lcore's HELLO budget for all
# sources, a quarter kept for sources that were quiet).  From the
# namespace a raw socket sends well-formed HELLOs from 1,000 spoofed
# addresses as fast as Python can, for 8 s; meanwhile three honest peers
# (three more addresses) say HELLO, retrying with backoff.
#   each honest HELLO gets through the gate to ctrl within 10 s: each peer
#     gets an answer (HELLO_ACK, or REJECT when the flood's own HELLOs that
#     passed the budget took the admission slots first: valid-looking
#     spoofed HELLOs cannot be told from honest ones until authentication,
#     SPEC §8), where the gate's drops are silent;
#   the flood was cut by the per-source limit and by the budget
#     (drop_hello_rate, drop_hello_budget > 0);
#   the node stays ready and its API answers.
# Prints the flood's rate, the drops and each honest peer's answer and time.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" dataplane hello_total 400
slt_cfg_set "$SLT_CFG" admission max_peers 64
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
for i in 11 12 13; do slt_ns_addr "10.$SLT_X.0.$i"; done
MAC=$(slt_ctl --json status | "$SLT_PY" -c 'import json,sys; print(json.load(sys.stdin)["dataplane"]["mac"])')

# The flood: its own process (a thread would share the GIL with the honest
# peers and pause whenever they run).
cat >"$SLT_TMP/flood.py" <<'EOF2'
import os, socket, struct, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp

dst_ip, x = os.environ["DST"], int(os.environ["X"])
dmac = bytes(int(b, 16) for b in os.environ["MAC"].split(":"))
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
raw.bind((os.environ["DEV"], 0))
smac = raw.getsockname()[4]
gen = sp.Peer(("127.0.0.1", 0), chain="regtest")


def ip_csum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff


frames = []
for i in range(1000):
    src = "10.%d.%d.%d" % (x, 1 + i // 250, 1 + i % 250)
    pl = gen.hello_frame(node_id=os.urandom(32))
    udp = struct.pack("!HHHH", 40000 + i, 9747, 8 + len(pl), 0) + pl
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst_ip))
    iph = iph[:10] + struct.pack("!H", ip_csum(iph)) + iph[12:]
    frames.append(dmac + smac + b"\x08\x00" + iph + udp)
sent, t0 = 0, time.monotonic()
stop = t0 + float(os.environ["SECS"])
while time.monotonic() < stop:
    for f in frames:
        try:
            raw.send(f)
            sent += 1
        except OSError:
            pass
print("flood_hellos_sent=%d flood_rate_per_s=%.0f from 1000 addresses" %
      (sent, sent / (time.monotonic() - t0)))
EOF2
SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP X=$SLT_X DEV=slt${SLT_ID}n MAC=$MAC SECS=9 \
	slt_nsexec "$SLT_PY" "$SLT_TMP/flood.py" >"$SLT_TMP/flood.out" 2>&1 &
FLOOD=$!
sleep 1.5 # the flood is on
SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP X=$SLT_X \
	slt_nsexec "$SLT_PY" - >"$SLT_TMP/honest.out" 2>&1 <<'EOF2'
import os, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp
from slpeer import fail, ok

dst_ip, x = os.environ["DST"], int(os.environ["X"])
honest = [sp.Peer(("10.%d.0.%d" % (x, i), 0), chain="regtest") for i in (11, 12, 13)]
t_start = time.monotonic()
res = sp.handshake_many(honest, (dst_ip, 9747), timeout=10.0, concurrency=3)
took = time.monotonic() - t_start
answers = [r["frame"]["msg"] + ("(%s)" % sp.REJECT_REASONS.get(r["frame"]["body"]["reason"], "?")
                                 if r["frame"]["msg"] == "REJECT" else "")
           if r["frame"] else None for r in res]
print("honest answers %s in %.2f s, attempts %s, latency_ms %s" % (
    answers, took, [r["attempts"] for r in res],
    [round((r["latency_us"] or 0) / 1000, 1) for r in res]))
if any(a is None for a in answers) or took > 10.0:
    fail("honest peers: answers %s (want each HELLO through the gate to ctrl within 10 s)"
         % answers)
ok("all three honest HELLOs reached ctrl within %.2f s (answers %s; admitted %d)" %
   (took, answers, sum(a == "HELLO_ACK" for a in answers)))
EOF2
rc=$?
wait $FLOOD
cat "$SLT_TMP/flood.out" "$SLT_TMP/honest.out"
[ "$rc" = 0 ] || slt_fail "honest peers under the flood (above)"
tot=$(slt_ctl --json stats | "$SLT_PY" -c '
import json, sys
d = json.load(sys.stdin)["dataplane"]["total"]
print(d["drop_hello_rate"], d["drop_hello_budget"], d.get("sl_frames_rx", 0))')
read -r d_rate d_budget frames <<<"$tot"
echo "flood drops: hello_rate $d_rate hello_budget $d_budget (frames $frames)"
[ "${d_rate:-0}" -gt 0 ] && [ "${d_budget:-0}" -gt 0 ] ||
	slt_fail "the flood was not cut: drop_hello_rate $d_rate drop_hello_budget $d_budget"
[ "$(slt_state)" = ready ] || slt_fail "node not ready after the flood"
slt_ok "flood cut by the per-source limit ($d_rate) and the budget ($d_budget); node ready"
slt_stop
