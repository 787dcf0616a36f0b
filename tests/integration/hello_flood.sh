#!/usr/bin/env bash
# hello_flood.sh — a HELLO flood from 1,000 forged addresses does not keep
# honest peers out (issue 12 item 2).  One node, default HELLO budget and
# admission, [admission] auth optional (so HELLOs of both auth modes reach
# their checks).  From the peer namespace tests/bench/slflood sends, at its
# full rate for 10 s, valid-looking HELLOs from 1,000 forged source
# addresses, each with a fresh node_id and nonce, auth_mode 0 and auth_mode
# 1 with a bad signature in turn (-a mix).  1.5 s in, three honest peers
# (three more addresses) say HELLO, retrying with backoff, and PING once
# admitted, as sluice's own dialler would: every 0.1 s until answered,
# and HELLO again after 1 s without an answer.
#   each honest peer gets HELLO_ACK and its session answers PING within
#     10 s of its first HELLO, and is still up (answers PING, listed by
#     `sluicectl peers`) after the flood: proven, it cannot be displaced;
#   the flood was cut by the per-source limit and the budget
#     (drop_hello_rate, drop_hello_budget > 0), its bad signatures were
#     refused (auth_rejects > 0), and the flood's admitted-but-unproven
#     sessions were displaced by newer HELLOs (unproven_evicted > 0) — the
#     pool the forged addresses can reach — while none of them was proven;
#   the node stays ready and its API answers.
# Prints the flood's rate, the drops, the pool's figures and each honest
# peer's times.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_slflood_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" admission auth optional
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
for i in 11 12 13; do slt_ns_addr "10.$SLT_X.0.$i"; done
MAC=$(slt_ctl --json status | slt_jq 'v["dataplane"]["mac"]')

ip netns exec "$SLT_NS" "$SLFLOOD" -H 1000 -i "slt${SLT_ID}n" -m "$MAC" -S "10.$SLT_X.1.1" \
	-d "$SLT_DP_IP" -c "$FLOOD_CHAIN" -a mix -s 10 >"$SLT_TMP/flood.out" 2>"$SLT_TMP/flood.err" &
FLOOD=$!
sleep 1.5 # the flood is on
SLT_DIR=$SLT_SRC/tests/integration DST=$SLT_DP_IP X=$SLT_X \
	slt_nsexec "$SLT_PY" - >"$SLT_TMP/honest.out" 2>&1 <<'EOF2'
import os, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp
from slpeer import fail, ok

dst = (os.environ["DST"], 9747)
x = int(os.environ["X"])
honest = [sp.Peer(("10.%d.0.%d" % (x, i), 0), chain="regtest") for i in (11, 12, 13)]
t_start = time.monotonic()
res = sp.handshake_many(honest, dst, timeout=10.0, concurrency=3)
answers = [r["frame"]["msg"] if r["frame"] else None for r in res]
if answers != ["HELLO_ACK"] * 3:
    fail("honest peers' answers under the flood: %s (want three HELLO_ACKs)" % answers)
# Admitted means a session that works: a PING answered.  Like sluice's own
# dialler, an honest peer keeps its new session busy and says HELLO again
# when it goes quiet: each PINGs every 0.1 s until answered (a PING the
# flood's full RX ring lost is sent again before the churning unproven
# pool, ~0.33 s, evicts the session), and a peer that heard no PONG for
# 1 s (its session evicted: its PINGs meet no session) starts over with a
# fresh HELLO.  The first PONG is the time it was in.
rtt = [None] * 3
rehello = [0] * 3
quiet_since = [time.monotonic()] * 3
sent = [set() for _ in honest]
while time.monotonic() - t_start < 10.0 and None in rtt:
    for i, p in enumerate(honest):
        if rtt[i] is not None:
            continue
        if time.monotonic() - quiet_since[i] > 1.0:
            left = 10.0 - (time.monotonic() - t_start)
            rehello[i] += 1
            sent[i].clear()
            quiet_since[i] = time.monotonic()
            if not sp.handshake_many([p], dst, timeout=max(min(left, 1.0), 0.1))[0]["ok"]:
                quiet_since[i] = 0.0  # no HELLO_ACK in 1 s: HELLO again next round
                continue
        t = time.monotonic_ns()
        if p.send_msg("PING", sender_time_ns=t) is not None:
            sent[i].add(t)
        f = p.recv(0.03, lambda f: f.get("msg") == "PONG" and f["session"] == p.reply_session
                   and f["body"]["sender_time_ns"] in sent[i])
        if f is not None:
            rtt[i] = time.monotonic() - t_start
if None in rtt:
    fail("honest sessions not answering PING within 10 s: %s" % rtt)
print("honest: HELLO_ACK after %s ms (attempts %s); session answering PING at %s s; "
      "HELLO again %s" % ([round((r["latency_us"] or 0) / 1000, 1) for r in res],
                          [r["attempts"] for r in res], [round(t, 2) for t in rtt], rehello))
# Stay up through the rest of the flood, answering the node's PINGs.
while time.monotonic() - t_start < 10.0:
    for p in honest:
        p.pump(0.05)
after = [p.ping(timeout=1.0) for p in honest]
if None in after:
    fail("an honest session died during the flood: ping %s" % after)
ok("three honest peers admitted within %.2f s of their first HELLO under the flood, "
   "still up after it" % max(rtt))
print("HONEST " + " ".join(p.addr[0] for p in honest))
EOF2
rc=$?
wait $FLOOD || slt_fail "slflood: $(tail -n3 "$SLT_TMP/flood.err")"
cat "$SLT_TMP/flood.out" "$SLT_TMP/honest.out"
[ "$rc" = 0 ] || slt_fail "honest peers under the flood (above)"

slt_ctl --json stats >"$SLT_TMP/stats.json" || slt_fail "stats after the flood"
read -r d_rate d_budget < <(slt_jq '" ".join(str(v["dataplane"]["total"][k]) for k in ("drop_hello_rate", "drop_hello_budget"))' \
	<"$SLT_TMP/stats.json")
read -r accepts evicted proven auth_rej unproven < <(slt_jq '" ".join(str(v["sessions"][k]) for k in ("accepts", "unproven_evicted", "proven", "auth_rejects", "unproven"))' \
	<"$SLT_TMP/stats.json")
echo "flood: $(tail -n1 "$SLT_TMP/flood.out")"
echo "dataplane drops: hello_rate $d_rate hello_budget $d_budget"
echo "ctrl: accepts $accepts unproven_evicted $evicted proven $proven auth_rejects $auth_rej unproven_now $unproven"
[ "${d_rate:-0}" -gt 0 ] && [ "${d_budget:-0}" -gt 0 ] ||
	slt_fail "the flood was not cut: drop_hello_rate $d_rate drop_hello_budget $d_budget"
[ "${auth_rej:-0}" -gt 0 ] || slt_fail "no bad signature refused (auth_rejects $auth_rej)"
[ "${evicted:-0}" -gt 0 ] || slt_fail "the unproven pool never filled (unproven_evicted $evicted)"
[ "${proven:-0}" = 3 ] || slt_fail "proven sessions: $proven (want the three honest ones only)"
honest=$(grep '^HONEST ' "$SLT_TMP/honest.out" | cut -d' ' -f2-)
listed=$(slt_ctl --json peers | slt_jq '" ".join(p["addr"].split(":")[0] for p in v if p["state"] == "up")')
for a in $honest; do
	[[ " $listed " == *" $a "* ]] || slt_fail "honest peer $a not among the node's peers ($listed)"
done
[ "$(slt_state)" = ready ] || slt_fail "node not ready after the flood"
slt_ok "honest peers admitted and kept; flood cut ($d_rate per-source, $d_budget budget), $evicted unproven sessions displaced, $auth_rej bad signatures refused"
slt_stop
