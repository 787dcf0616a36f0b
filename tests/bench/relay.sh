#!/usr/bin/env bash
# relay.sh — NEW_BLOCK relay latency per hop: announced at node A, relayed
# A -> B -> C, against a kernel-UDP relay of the same frames on the same
# links, in the same run.
#
# Topology (tests/integration/lib.sh slt_lan_up 3): one bridge in netns
# slt<id>; node k's DPDK port (net_af_packet) is the root-side veth
# slt<id>d<k>, whose peer slt<id>q<k> is a bridge port.  B bootstraps from
# A, C from B (as tests/integration/new_block_relay.sh).  All sync a base
# chain of BASE headers; then, S times, A imports one more header
# (header.import of the chain's next prefix: A announces its new tip as
# NEW_BLOCK), and the bench waits for C's tip to reach it before the next.
#
# How time is measured (no code change, no probe in the relay path): the
# kernel's receive timestamps (SO_TIMESTAMPNS) of an AF_PACKET tap on the
# three bridge ports q1..q3 (tests/bench/sltap.py; what tcpdump shows).
# The taps sit on the netns side because DPDK's af_packet PMD sends with
# PACKET_QDISC_BYPASS, which skips the taps of the sending side; a frame a
# node sends is seen when it enters its bridge port (q<k> "in").
#   hop       t(B's relayed NEW_BLOCK h enters q2) - t(A's NEW_BLOCK h
#             enters q1): the frame crosses veth + bridge + veth to B, B
#             takes it in, judges it and sends it on.  One sample per
#             height; p50 and p99 in microseconds.
#   path      t(B's copy of h leaves q3 toward C) - t(A's copy enters q1),
#             logged for information.
# Baseline: the three root-side veths are then moved into three fresh
# netns (the same veths and bridge), each given its node's IP; B runs
# tests/bench/udprelay (recv -> sendto C, blocking socket), C a sink, and
# A sends the same NEW_BLOCK frames (same payload bytes: 24-byte header +
# height + header, heights BASE..BASE+S-1) 20 ms apart from Python; the
# same taps, the same hop definition: kernel_hop_*.
# Each node: default configuration but idle_sleep_us (SLT_BENCH_IDLE_US,
# default 50, as the other benches); three nodes share the machine's cores
# (lib.sh: node k on core k mod ncpu).
# The line before the last: samples, kernel_hop_p99_us and the p50 ratio;
# last line:
#   relay hop_p50_us=<x> hop_p99_us=<x> kernel_hop_p50_us=<x>
# Never pass/fail on time.  Needs root.
# Usage: tests/bench/relay.sh [S] [BASE]   (S samples, default 200)
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
S=${1:-200}
BASE=${2:-200}
IDLE_US=${SLT_BENCH_IDLE_US:-50}
slt_require_root
slt_require_tools ip ethtool
slt_require_bins
SLUICE_CHAINGEN=${SLUICE_CHAINGEN:-$(dirname "$SLUICE_CTRL")/chaingen/sluice-chaingen}
UDPRELAY=${UDPRELAY:-$(dirname "$SLUICE_DP")/../tests/bench/udprelay}
TAP=$SLT_SRC/tests/bench/sltap.py
[ -x "$UDPRELAY" ] || slt_skip "udprelay not built ($UDPRELAY)"
slt_init
SLT_CLEANUP_HOOKS+=(relay_cleanup)
KNS=() KPIDS=() TAP_PID=
relay_cleanup() {
	local p n
	for p in "${KPIDS[@]}" "$TAP_PID"; do
		slt_kill_pid "$p"
	done
	for n in "${KNS[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	return 0
}

CHAIN=$SLT_TMP/chain.headers
slt_chaingen -n $((BASE + S)) --seed 7 -o "$CHAIN"
head -c $((80 * BASE)) "$CHAIN" >"$SLT_TMP/base.headers"

slt_lan_up 3
A=1 B=2 C=3
for k in $A $B $C; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us "$IDLE_US"
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
done
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747"
slt_cfg_set "${SLT_NODE_CFG[$C]}" peers bootstrap "${SLT_NODE_IP[$B]}:9747"
Q=(x "slt${SLT_ID}q1" "slt${SLT_ID}q2" "slt${SLT_ID}q3")

# tap_start FILE: the taps on the three bridge ports, until tap_stop.
tap_start() {
	ip netns exec "$SLT_NS" "$SLT_PY" -u "$TAP" 9747 "${Q[1]}" "${Q[2]}" "${Q[3]}" >"$1" 2>"$1.err" &
	TAP_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q '^ready' "$1" && return 0
		sleep 0.1
	done
	slt_fail "sltap did not start: $(cat "$1.err")"
}
tap_stop() {
	kill -TERM "$TAP_PID" 2>/dev/null
	wait "$TAP_PID" 2>/dev/null
	TAP_PID=
}

# hops FILE: "p50 p99 n path_p50" of the hop (see the top) in microseconds.
hops() {
	"$SLT_PY" - "$1" "${Q[1]}" "${Q[2]}" "${Q[3]}" "${SLT_NODE_IP[$A]}" "${SLT_NODE_IP[$B]}" \
		"$BASE" "$S" <<'EOF'
import sys
f, q1, q2, q3, ipa, ipb, base, s = sys.argv[1:]
base, s = int(base), int(s)
a_out, b_out, c_in = {}, {}, {}
for ln in open(f):
    p = ln.split()
    if len(p) != 6:
        continue
    ifn, d, t, src, dst, h = p[0], p[1], int(p[2]), p[3], p[4], int(p[5])
    if not base <= h < base + s:
        continue
    if ifn == q1 and d == "in" and src == ipa:
        a_out.setdefault(h, t)
    elif ifn == q2 and d == "in" and src == ipb:
        b_out.setdefault(h, t)
    elif ifn == q3 and d == "out" and src == ipb:
        c_in.setdefault(h, t)
hop = sorted((b_out[h] - a_out[h]) / 1000 for h in a_out if h in b_out and b_out[h] > a_out[h])
path = sorted((c_in[h] - a_out[h]) / 1000 for h in a_out if h in c_in and c_in[h] > a_out[h])
def pct(v, q):
    return round(v[min(len(v) - 1, int(q * len(v)))], 1) if v else 0
print(pct(hop, 0.5), pct(hop, 0.99), len(hop), pct(path, 0.5))
EOF
}

# ---- sluice: A -> B -> C ----------------------------------------------------
for k in $A $B $C; do
	slt_node_start $k
	slt_node_wait_ready $k 30
done
slt_node_ctl $A --json header.import path="$SLT_TMP/base.headers" >/dev/null || slt_fail "A: import base"
slt_node_wait_tip $B $((BASE - 1)) 60
slt_node_wait_tip $C $((BASE - 1)) 60
sleep 1 # STATUS settles
tap_start "$SLT_TMP/tap_sluice.txt"
miss=0
for ((k = 1; k <= S; k++)); do
	h=$((BASE + k - 1))
	head -c $((80 * (h + 1))) "$CHAIN" >"$SLT_TMP/pre.headers"
	slt_node_ctl $A --json header.import path="$SLT_TMP/pre.headers" >"$SLT_TMP/imp" ||
		slt_fail "A: import to $h: $(cat "$SLT_TMP/imp")"
	for ((i = 0; i < 500; i++)); do
		t=$(slt_node_tip $C)
		[ "${t%% *}" = "$h" ] && break
		sleep 0.01
	done
	[ "${t%% *}" = "$h" ] || miss=$((miss + 1))
done
sleep 0.2
tap_stop
for k in $A $B $C; do
	slt_log "node $k new_block: $(slt_node_sync_get $k 'v["new_block"]' 2>/dev/null)"
done
[ "$miss" = 0 ] || slt_log "C did not reach $miss of the $S heights within 5 s"
read -r P50 P99 NS PATH50 < <(hops "$SLT_TMP/tap_sluice.txt")
slt_log "sluice: hop_p50_us=$P50 hop_p99_us=$P99 samples=$NS path_p50_us=$PATH50 (A out -> C in)"
for k in $C $B $A; do
	slt_node_stop $k
done

# ---- kernel UDP relay on the same links -------------------------------------
for k in $A $B $C; do
	n=slt${SLT_ID}k$k
	ip netns add "$n" || slt_fail "ip netns add $n"
	KNS+=("$n")
	ip link set "${SLT_NODE_DEV[$k]}" netns "$n" || slt_fail "move ${SLT_NODE_DEV[$k]}"
	ip -n "$n" link set lo up
	ip -n "$n" addr add "${SLT_NODE_IP[$k]}/24" dev "${SLT_NODE_DEV[$k]}"
	ip -n "$n" link set "${SLT_NODE_DEV[$k]}" up
done
ip netns exec "slt${SLT_ID}k$B" "$UDPRELAY" "${SLT_NODE_IP[$B]}" 9747 "${SLT_NODE_IP[$C]}" &
KPIDS+=($!)
ip netns exec "slt${SLT_ID}k$C" "$UDPRELAY" "${SLT_NODE_IP[$C]}" 9747 &
KPIDS+=($!)
sleep 0.5
tap_start "$SLT_TMP/tap_kernel.txt"
# A's frames: the NEW_BLOCK frame format of SPEC §2/§5, the chain's headers.
ip netns exec "slt${SLT_ID}k$A" "$SLT_PY" - "$CHAIN" "$BASE" "$S" "${SLT_NODE_IP[$A]}" \
	"${SLT_NODE_IP[$B]}" <<'EOF' || slt_fail "kernel sender"
import socket, struct, sys, time
chain, base, s, src, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
hdrs = open(chain, "rb").read()
so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
so.bind((src, 9747))
def frame(seq, h, hdr):
    return struct.pack("!HBBBBHIIQ", 0x534C, 1, 5, 5, 0, 84, 1, seq, 0) + struct.pack("!I", h) + hdr
for i in range(5):  # warm-up (ARP): heights outside the measured ones
    so.sendto(frame(i + 1, 0xFFFFFF00 + i, hdrs[:80]), (dst, 9747))
    time.sleep(0.05)
for k in range(s):
    h = base + k
    so.sendto(frame(k + 10, h, hdrs[80 * h:80 * h + 80]), (dst, 9747))
    time.sleep(0.02)
EOF
sleep 0.2
tap_stop
read -r KP50 KP99 KNS_N KPATH50 < <(hops "$SLT_TMP/tap_kernel.txt")
slt_log "kernel: hop_p50_us=$KP50 hop_p99_us=$KP99 samples=$KNS_N path_p50_us=$KPATH50"
slt_log "samples=$NS kernel_samples=$KNS_N kernel_hop_p99_us=$KP99 ratio_p50=$("$SLT_PY" -c "print(round($P50 / $KP50, 1) if $KP50 else 0)")"
echo "relay hop_p50_us=$P50 hop_p99_us=$P99 kernel_hop_p50_us=$KP50"
