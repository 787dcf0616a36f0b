#!/usr/bin/env bash
# discovery_three_nodes.sh — SPEC §6 discovery and §4 liveness across three
# real nodes on one L2 segment (three dataplanes, each on its own veth whose
# other end is a port of one Linux bridge in a namespace).  B has no
# bootstrap; C bootstraps to B; A bootstraps to B only, with [peers]
# outbound = 2.  A must learn C's address from B's PEERS and connect to it,
# so in the end every node lists sessions to both others in `sluicectl
# peers`.  Then C's dataplane dies (SIGKILL): with keepalive_ms = 100 A and
# B must tear their C sessions down through liveness (phi 16 ≈ 3.7 s) well
# within 8 s, and keep their A–B session.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_lan_up 3
A=1 B=2 C=3
for k in $A $B $C; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane keepalive_ms 100
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane settle_ms 500
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers outbound 2
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
done
slt_cfg_set "${SLT_NODE_CFG[$C]}" peers bootstrap "${SLT_NODE_IP[$B]}:9747"
slt_cfg_set "${SLT_NODE_CFG[$A]}" peers bootstrap "${SLT_NODE_IP[$B]}:9747"
NAME=([1]=A [2]=B [3]=C)

# B first, then C (so B knows C), then A.
slt_node_start $B
slt_node_wait_ready $B 30
slt_node_start $C
slt_node_wait_ready $C 30

# peer_ips K: the peer IPs (sorted, unique) of node K's sessions in
# `sluicectl --json peers` (an entry whose "state" says it is not up yet, a
# connect in progress, does not count).
peer_ips() {
	slt_node_ctl "$1" --json peers 2>/dev/null |
		slt_jq '" ".join(sorted(set(p["addr"].split(":")[0] for p in v if p.get("state", "up") == "up")))' 2>/dev/null
}
# wait_peers K "IP..." SECS: node K's peers are exactly those IPs.
wait_peers() {
	local k=$1 want=$2 secs=$3 i got=
	want=$(tr ' ' '\n' <<<"$want" | sort | xargs)
	for ((i = 0; i < secs * 5; i++)); do
		got=$(peer_ips "$k")
		[ "$got" = "$want" ] && return 0
		sleep 0.2
	done
	slt_fail "node ${NAME[$k]}: peers want [$want], got [$got] after $secs s: $(slt_node_ctl "$k" --json peers 2>&1)"
}

wait_peers $C "${SLT_NODE_IP[$B]}" 15
wait_peers $B "${SLT_NODE_IP[$C]}" 5
slt_ok "C dialled its bootstrap B: C-B session on both sides"

slt_node_start $A
slt_node_wait_ready $A 30
T0=$(date +%s)
wait_peers $A "${SLT_NODE_IP[$B]} ${SLT_NODE_IP[$C]}" 25
slt_ok "A learned C through B's PEERS and connected to it ($(($(date +%s) - T0)) s)"
wait_peers $B "${SLT_NODE_IP[$A]} ${SLT_NODE_IP[$C]}" 10
wait_peers $C "${SLT_NODE_IP[$A]} ${SLT_NODE_IP[$B]}" 10
for k in $A $B $C; do
	n=$(slt_node_ctl $k --json peers | slt_jq 'len(v)')
	slt_log "node ${NAME[$k]} (${SLT_NODE_IP[$k]}): $n sessions to [$(peer_ips $k)]"
done
slt_ok "full mesh: every node lists sessions to both others"

# A session to C carries discovery's address: node_id of C in A's peers is
# the one B and A agree on.
NID_C_A=$(slt_node_ctl $A --json peers | slt_jq "[p['node_id'] for p in v if p['addr'].startswith('${SLT_NODE_IP[$C]}:')][0]")
NID_C_B=$(slt_node_ctl $B --json peers | slt_jq "[p['node_id'] for p in v if p['addr'].startswith('${SLT_NODE_IP[$C]}:')][0]")
[ "$NID_C_A" = "$NID_C_B" ] || slt_fail "C's node_id differs between A ($NID_C_A) and B ($NID_C_B)"
slt_ok "A and B see the same node_id for C"

# C's dataplane dies: A and B must notice by liveness.
slt_node_kill_dp $C
slt_kill_pid "${SLT_NODE_CTRL_PID[$C]}"
SLT_NODE_CTRL_PID[$C]=
T0=$("$SLT_PY" -c 'import time; print(time.monotonic())')
BOUND=8
for k in $A $B; do
	other=$B
	[ $k = $B ] && other=$A
	wait_peers $k "${SLT_NODE_IP[$other]}" $BOUND
	DT=$("$SLT_PY" -c "import time; print(round(time.monotonic() - $T0, 1))")
	slt_ok "node ${NAME[$k]} tore its C session down ${DT} s after C died (bound $BOUND s)"
done
# And A–B stays up a while longer (no collateral teardown).
sleep 1
wait_peers $A "${SLT_NODE_IP[$B]}" 1
wait_peers $B "${SLT_NODE_IP[$A]}" 1
slt_ok "A-B session survives C's death"

slt_node_stop $A
slt_node_stop $B
slt_log "PASS"
