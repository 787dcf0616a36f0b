#!/usr/bin/env bash
# fleet_converge.sh — issue 13 item 4: a fleet on one machine.  N regtest
# nodes (SLT_FLEET_N, default 16; fleet.sh: each node's dataplane alone
# in a network namespace of its own, one bridge between them, idle sleep,
# small memory, each node dialling one or two others, discovery doing the
# rest).
#   1. Node 1 imports chain X (SLT_FLEET_CHAIN headers, default 2000):
#      every node reaches X's tip by header sync from whichever peers
#      have it; converge_ms is the time from the import to the last node.
#   2. Node 1 imports X plus 5 headers, one at a time: each new tip goes
#      out as NEW_BLOCK and is relayed node to node; relay_ms is the time
#      from the last import to the last node at the new tip.  Most nodes
#      must have taken at least one of those blocks through NEW_BLOCK
#      acceptance (new_block.accepted), not only by the pull.
#   3. Afterwards: chains identical (exports byte-identical), no stranded
#      range, no ghost peer, no critical event lost.
#   4. One node with >= 64 peers: node 1 takes inbound sessions from every
#      other node of the fleet plus slpeer.py sessions (the real protocol
#      over real sockets from the bridge namespace) up to SLT_FLEET_WIDE
#      (default 64) peers; it serves them all a STATUS and keeps its
#      fleet sessions up.
#   5. Every node stops with exit 0 and leaves nothing behind.
# SLT_FLEET_N=65 SLT_FLEET_WIDE=64 gives node 1 64 real sluice peers and no
# slpeer: it passes on two cores (about 5 minutes, the dataplanes' start
# most of it; an idle fleet of 65 keeps both cores busy), too long for CI.
# Prints "fleet nodes=N converge_ms=X relay_ms=Y" and
# "fleet wide_node peers=P sluice=S slpeer=Q".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fleet.sh"

slt_require_root
slt_require_tools ip ethtool cmp
slt_require_bins
N=${SLT_FLEET_N:-16}
LEN=${SLT_FLEET_CHAIN:-2000}
WIDE=${SLT_FLEET_WIDE:-64}
slt_init
START=$(($(date +%s) - 20000))
# gen N FILE: the first N headers of chain X; prints the tip's display hash
gen() {
	slt_chaingen -n "$1" --seed 31 --start-time "$START" -o "$2"
	sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.log" | tail -1
}
X_TIP=$(gen "$LEN" "$SLT_TMP/x.headers")
for i in 1 2 3 4 5; do
	XI_TIP[$i]=$(gen $((LEN + i)) "$SLT_TMP/x$i.headers")
done

SLT_FLEET_MAX_PEERS=$((WIDE + 8)) slt_fleet_up "$N"
# node 1 takes the slpeer sessions of part 4, all from one address
slt_cfg_set "${SLT_NODE_CFG[1]}" admission per_addr "$WIDE"
slt_cfg_set "${SLT_NODE_CFG[1]}" dataplane hello_rate 1000
slt_cfg_set "${SLT_NODE_CFG[1]}" dataplane hello_burst 1000
slt_fleet_start
slt_fleet_wait_peered 30
slt_log "peers per node: $(slt_fleet_degrees)"

# 1. converge
slt_fleet_watch_begin $((LEN - 1)) "$X_TIP" 90
T0=$(slt_now_ms)
slt_node_ctl 1 --json header.import path="$SLT_TMP/x.headers" >"$SLT_TMP/imp" ||
	slt_fail "node 1: import X: $(cat "$SLT_TMP/imp")"
slt_fleet_watch_end "$T0"
CONVERGE_MS=$FLEET_MS
slt_ok "all $N nodes at $((LEN - 1)) $CONVERGE_MS ms after node 1's import began (median node $FLEET_MED_MS ms)"
slt_log "peers per node: $(slt_fleet_degrees)"

# 2. relay: five blocks, one at a time; relay_ms is the median of the five
acc0=()
while read -r k a; do acc0[$k]=$a; done < <(slt_fleet_api sync.status 'v["new_block"]["accepted"]')
for i in 1 2 3 4 5; do
	slt_fleet_watch_begin $((LEN - 1 + i)) "${XI_TIP[$i]}" 30
	T1=$(slt_now_ms)
	slt_node_ctl 1 --json header.import path="$SLT_TMP/x$i.headers" >"$SLT_TMP/imp" ||
		slt_fail "node 1: import x$i: $(cat "$SLT_TMP/imp")"
	slt_fleet_watch_end "$T1"
	relay[$i]=$FLEET_MS
	slt_log "block $((LEN - 1 + i)): every node has it $FLEET_MS ms after node 1's import began (median node $FLEET_MED_MS ms)"
done
RELAY_MS=$(printf '%s\n' "${relay[@]}" | sort -n | sed -n 3p)
via_nb=0
while read -r k a; do
	[ "$k" -gt 1 ] && [ $((a - acc0[k])) -ge 1 ] && via_nb=$((via_nb + 1))
done < <(slt_fleet_api sync.status 'v["new_block"]["accepted"]')
slt_log "nodes that took a block through NEW_BLOCK: $via_nb of $((N - 1))"
[ "$via_nb" -ge $(((N - 1) / 2)) ] ||
	slt_fail "only $via_nb of $((N - 1)) nodes accepted a NEW_BLOCK: the blocks came by pull, not relay"
echo "fleet nodes=$N converge_ms=$CONVERGE_MS relay_ms=$RELAY_MS"

# 3. nothing lost
slt_fleet_assert_same
slt_fleet_assert_clean_state
slt_fleet_settled_log

# 4. one node with >= WIDE peers: every fleet node that is not yet a peer
# of node 1 dials it (sluice peers first), then slpeer sessions (session +
# header-sync streams) fill up to WIDE.  Each must be admitted and get
# node 1's STATUS; node 1 lists them all and keeps its fleet sessions.
for ((k = 2; k <= N; k++)); do
	slt_node_ctl $k --json peer.connect addr="${SLT_NODE_IP[1]}:9747" >"$SLT_TMP/conn" 2>&1 ||
		slt_log "node $k: peer.connect node 1: $(cat "$SLT_TMP/conn")"
done
for ((i = 0; i < 50; i++)); do
	SL=$(slt_fleet_peers_up 1)
	[ "$SL" -ge $((N - 1)) ] && break
	sleep 0.2
done
[ "$SL" -ge $((N - 1)) ] || slt_fail "node 1 has $SL sluice peers (want all $((N - 1)) others)"
FILL=$((WIDE - SL))
[ "$FILL" -ge 0 ] || FILL=0
SLT_DIR=$SLT_SRC/tests/integration DST=${SLT_NODE_IP[1]} CTL=$SLUICECTL SOCK=${SLT_NODE_SOCK[1]} \
	FILL=$FILL SL=$SL WIDE=$WIDE TIP=$((LEN + 4)) \
	slt_nsexec "$SLT_PY" - >"$SLT_TMP/wide.out" 2>&1 <<'EOF'
import json, os, subprocess, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp

fill, sl, wide, tip = (int(os.environ[k]) for k in ("FILL", "SL", "WIDE", "TIP"))


def ctl(*args):
    r = subprocess.run([os.environ["CTL"], "--socket", os.environ["SOCK"], "--json"] + list(args),
                       capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        sys.exit("FAIL: sluicectl %s: %s" % (" ".join(args), r.stderr))
    return json.loads(r.stdout)


peers = [sp.Peer(("0.0.0.0", 0), chain="regtest") for _ in range(fill)]
res = sp.handshake_many(peers, (os.environ["DST"], 9747), timeout=20.0, concurrency=16,
                        hello_kw=dict(streams=0b100001))
bad = [sp.describe(x["frame"]) for x in res if not x["ok"]]
if bad:
    sys.exit("FAIL: %d of %d slpeer sessions refused: %s" % (len(bad), fill, bad[:3]))
got = set()
end = time.monotonic() + 10
while len(got) < fill and time.monotonic() < end:
    for i, p in enumerate(peers):
        for f in list(p.backlog) + p.drain():
            if f.get("msg") == "STATUS" and f["body"]["best_height"] == tip:
                got.add(i)
        p.backlog.clear()
    time.sleep(0.05)
if len(got) < fill:
    sys.exit("FAIL: %d of %d slpeer sessions got node 1's STATUS (tip %d)" % (len(got), fill, tip))
sp.pump(peers, 1.0)
v = ctl("peers")
up = [p for p in v if p.get("state", "up") == "up"]
mine = set(p.session for p in peers)
ours = [p for p in up if p["session"] in mine]
print("node 1: %d peers up (%d slpeer, %d sluice)" % (len(up), len(ours), len(up) - len(ours)))
if len(up) < wide or len(ours) != fill or len(up) - len(ours) < sl:
    sys.exit("FAIL: node 1 lists %d peers up, %d of them slpeer (want >= %d, %d slpeer, %d sluice)"
             % (len(up), len(ours), wide, fill, sl))
print("WIDE peers=%d sluice=%d slpeer=%d" % (len(up), len(up) - len(ours), len(ours)))
for p in peers:
    p.goodbye()
EOF
rc=$?
cat "$SLT_TMP/wide.out"
[ "$rc" = 0 ] || slt_fail "node 1 with $WIDE peers: the checks failed"
echo "fleet wide_node $(sed -n 's/^WIDE //p' "$SLT_TMP/wide.out")"
# the slpeer sessions said GOODBYE: node 1 is back to its sluice peers
for ((i = 0; i < 50; i++)); do
	[ "$(slt_fleet_peers_up 1)" = "$SL" ] && break
	sleep 0.2
done
[ "$(slt_fleet_peers_up 1)" = "$SL" ] ||
	slt_fail "node 1: $(slt_fleet_peers_up 1) peers after the slpeer GOODBYEs (want $SL)"
slt_fleet_assert_clean_state

slt_fleet_stop
slt_log "PASS"
