#!/usr/bin/env bash
# backoff_under_load.sh — DESIGN.md backpressure and SPEC §4 BACKOFF with a
# real node: one peer that ignores BACKOFF floods PINGs at a node whose
# lcore is slowed down (test hook fault_slow_us: a 20 ms sleep every cycle,
# so its RX queue fills past the 75 % mark).  The node must send it BACKOFF (backoff_ms >= 1000, at most
# one per back-off window, counted in backoff_tx), then drop its frames
# silently (drop_backoff_silent moves); once the peer goes quiet and then
# sends one PING every 200 ms, it is served again (PONGs come back within
# 3 s): silent mode does not stick.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" dataplane fault_slow_us 20000
slt_cfg_set "$SLT_CFG" dataplane keepalive_ms 1000
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
slt_nsexec ping -c 1 -W 2 "$SLT_DP_IP" >/dev/null || slt_fail "dp does not answer ping"

cat >"$SLT_TMP/flooder.py" <<'EOF'
# One session; phase 1 floods PINGs (BACKOFF ignored), phase 2 is quiet,
# phase 3 PINGs every 0.2 s.  Prints one JSON line per phase.
import json, sys, time
sys.path.insert(0, sys.argv[1])
import slpeer as sp

dst = (sys.argv[2], 9747)
flood_s, quiet_s, slow_s = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
p = sp.Peer(("0.0.0.0", 0), honour_backoff=False)
r = p.hello(dst, timeout=5.0)
if not r or r["msg"] != "HELLO_ACK":
    print(json.dumps({"phase": "hello", "error": json.dumps(sp.describe(r))}))
    sys.exit(1)
print(json.dumps({"phase": "hello", "session": p.session}), flush=True)
p.sock.setblocking(False)
t0 = time.monotonic()
backoffs, pongs, sent, last_pong = [], 0, 0, None
while time.monotonic() - t0 < flood_s:
    for _ in range(32):
        data = sp.encode_frame(0, sp.T_PING, p.session, p.next_seq(0), 0,
                               sp.encode_payload("PING", sender_time_ns=time.monotonic_ns()))
        try:
            p.sock.sendto(data, dst)
            sent += 1
        except OSError:
            break
    for f in p.drain():
        m = f.get("msg")
        t = round(time.monotonic() - t0, 3)
        if m == "BACKOFF":
            backoffs.append([t, f["body"]["backoff_ms"]])
        elif m == "PONG":
            pongs += 1
            last_pong = t
print(json.dumps({"phase": "flood", "sent": sent, "pongs": pongs, "last_pong": last_pong,
                  "backoffs": backoffs, "seconds": round(time.monotonic() - t0, 3)}), flush=True)
p.sock.setblocking(True)
p.pump(quiet_s)
p.backlog.clear()
t1 = time.monotonic()
first, n = None, 0
while time.monotonic() - t1 < slow_s:
    rtt = p.ping(0.2)
    if rtt is not None:
        n += 1
        if first is None:
            first = round(time.monotonic() - t1, 3)
    else:
        time.sleep(0.0)
print(json.dumps({"phase": "slow", "pongs": n, "first_pong": first,
                  "goodbye": p.closed}), flush=True)
EOF

B0=$(slt_ctl_stats_json) || slt_fail "sluicectl stats"
slt_nsexec "$SLT_PY" -u "$SLT_TMP/flooder.py" "$SLT_SRC/tests/integration" "$SLT_DP_IP" 5 2 4 \
	>"$SLT_TMP/flood.jsonl" 2>"$SLT_TMP/flood.err" || true
cat "$SLT_TMP/flood.jsonl"
B1=$(slt_ctl_stats_json) || slt_fail "sluicectl stats"
F=$(grep '"phase": "flood"' "$SLT_TMP/flood.jsonl") ||
	slt_fail "flooder: no flood result: $(cat "$SLT_TMP/flood.jsonl" "$SLT_TMP/flood.err")"
S=$(grep '"phase": "slow"' "$SLT_TMP/flood.jsonl") || slt_fail "flooder: no slow phase"
delta() { "$SLT_PY" -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); print(int(b.get(sys.argv[3],0))-int(a.get(sys.argv[3],0)))' "$B0" "$B1" "$1"; }
NB=$(printf '%s' "$F" | slt_jq 'len(v["backoffs"])')
BTX=$(delta backoff_tx)
SIL=$(delta drop_backoff_silent)
slt_log "flood: $(printf '%s' "$F" | slt_jq '"%d PINGs sent, %d PONGs, BACKOFFs %s" % (v["sent"], v["pongs"], v["backoffs"])'); backoff_tx +$BTX, drop_backoff_silent +$SIL"

[ "$NB" -ge 1 ] || slt_fail "no BACKOFF reached the flooding peer (backoff_tx +$BTX)"
printf '%s' "$F" | slt_jq 'all(b[1] >= 1000 for b in v["backoffs"])' | grep -qx true ||
	slt_fail "BACKOFF backoff_ms below 1000: $F"
printf '%s' "$F" | slt_jq 'all(b2[0] - b1[0] >= 0.9 * b1[1] / 1000 for b1, b2 in zip(v["backoffs"], v["backoffs"][1:]))' |
	grep -qx true || slt_fail "more than one BACKOFF per back-off window: $F"
[ "$BTX" -ge "$NB" ] || slt_fail "backoff_tx moved +$BTX, the peer got $NB BACKOFFs"
[ "$SIL" -gt 0 ] || slt_fail "the flood was never dropped silently (drop_backoff_silent +0)"
slt_ok "BACKOFF x$NB (>= 1 s each, one per window), then silent drops (+$SIL)"

printf '%s' "$S" | slt_jq 'v["pongs"] > 0 and v["first_pong"] is not None and v["first_pong"] <= 3.0' |
	grep -qx true || slt_fail "after the flood stopped the peer was not served again within 3 s: $S"
slt_ok "served again after the load fell: $(printf '%s' "$S" | slt_jq '"%d PONGs, first after %s s" % (v["pongs"], v["first_pong"])')"
slt_stop
slt_assert_clean
slt_log "PASS"
