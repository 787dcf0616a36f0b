#!/usr/bin/env bash
# xdp_steer.sh — sluice-dp on net_af_xdp with the steering program
# (bpf/sl_xdp.bpf.o as xdp_prog=; issue 13 item 2).
#   One node: the program is attached to the interface and configured by
#     sluice-dp (its log says so); the dataplane answers ping and a HELLO
#     (ICMP and our UDP port steered to it); a kernel UDP socket on another
#     address of the same interface still receives (the rest goes to the
#     kernel); the program's counters show both kinds.
#   Two nodes on one bridge, both on net_af_xdp with the program: B syncs
#     testnet3 0..9999 from A.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool bpftool
slt_require_bins
XDP=${SLUICE_XDP_BPF:-$(cd "$(dirname "$SLUICE_DP")/.." && pwd)/bpf/sl_xdp.bpf.o}
[ -r "$XDP" ] || slt_skip "no steering program $XDP (bpf/ not built: clang, bpftool, BTF)"
T3=${SL_TEST_DATA:-$SLT_SRC/tests/data}/bitcoin-test3-0-9999.headers
slt_init

# ---- one node ----
slt_net_up
slt_write_config >/dev/null
DEV=slt${SLT_ID}d
sed -i "s|^port = .*|port = net_af_xdp0,iface=$DEV,start_queue=0,queue_count=1,xdp_prog=$XDP|" "$SLT_CFG"
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
grep -q "xdpcfg: $DEV: XDP steering program [0-9]* configured: UDP port 9747" "$SLT_TMP/dp.log" ||
	slt_fail "sluice-dp did not configure the program: $(grep -i xdp "$SLT_TMP/dp.log")"
ip link show "$DEV" | grep -q "prog/xdp id [0-9]* name sl_xdp_steer" ||
	slt_fail "the program is not attached: $(ip link show "$DEV")"
slt_nsexec ping -c 3 -i 0.2 -W 2 "$SLT_DP_IP" >/dev/null || slt_fail "no ping reply through the program"
slt_peer handshake --to "$SLT_DP_IP:9747" --bind "$SLT_NS_IP:41001" --goodbye >"$SLT_TMP/hello" 2>&1 ||
	slt_fail "HELLO: $(cat "$SLT_TMP/hello")"
grep -q "\"ok\": true" "$SLT_TMP/hello" || slt_fail "no HELLO_ACK: $(cat "$SLT_TMP/hello")"
slt_ok "program attached and configured; ping and HELLO answered by the dataplane"

KIP=10.$SLT_X.0.3
ip addr add "$KIP/24" dev "$DEV" || slt_fail "kernel address"
"$SLT_PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$KIP', 9999)); s.settimeout(5)
print(s.recvfrom(100)[0].decode())" >"$SLT_TMP/kernel" 2>&1 &
KPID=$!
sleep 0.3
slt_nsexec "$SLT_PY" -c "
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'to-the-kernel', ('$KIP', 9999))"
wait $KPID
grep -q to-the-kernel "$SLT_TMP/kernel" || slt_fail "the kernel socket got nothing: $(cat "$SLT_TMP/kernel")"
stats=$(bpftool map dump name sl_xdp_stats -j 2>/dev/null | "$SLT_PY" -c '
import json, sys
tot = {}
for e in json.load(sys.stdin):
    k = e["key"] if isinstance(e["key"], int) else int.from_bytes(bytes(int(x, 16) for x in e["key"]), "little")
    vals = e.get("values") or e.get("value")
    n = sum(v["value"] if isinstance(v["value"], int) else int.from_bytes(bytes(int(x, 16) for x in v["value"]), "little") for v in vals)
    tot[k] = n
print(" ".join("%d" % tot.get(i, 0) for i in range(5)))')
read -r udp arp icmp pass unset <<<"$stats"
[ "${udp:-0}" -ge 1 ] && [ "${icmp:-0}" -ge 3 ] && [ "${pass:-0}" -ge 1 ] ||
	slt_fail "program counters udp/arp/icmp/pass/unset: $stats"
slt_ok "a kernel socket on $KIP:9999 still receives; steered udp $udp arp $arp icmp $icmp, passed $pass"
slt_stop

# ---- two nodes over af_xdp ----
slt_pair_up bitcoin-test3
for k in $A $B; do
	sed -i "s|^port = .*|port = net_af_xdp0,iface=${SLT_NODE_DEV[$k]},start_queue=0,queue_count=1,xdp_prog=$XDP|" \
		"${SLT_NODE_CFG[$k]}"
done
slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$T3" >/dev/null || slt_fail "A: import"
slt_node_start $B
slt_node_wait_ready $B 30
slt_node_wait_tip $B 9999 60 || slt_fail "B did not sync to 9999 over af_xdp"
slt_ok "two nodes on net_af_xdp with the steering program: B synced 0..9999 from A"
slt_node_stop $B
slt_node_stop $A
