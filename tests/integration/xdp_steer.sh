#!/usr/bin/env bash
# xdp_steer.sh — sluice-dp on net_af_xdp with the steering program
# (bpf/sl_xdp.bpf.o as xdp_prog=; issue 13 item 2).
#   One node, deployed as AF_XDP is deployed: the kernel holds the same
#     IPv4 address as the dataplane on the interface (10.X.0.2/24 on the
#     root-side veth, the dp's [dataplane] ip).  The program, attached and
#     configured by sluice-dp (its log says so), sends UDP to 9747, ARP
#     for the address and ICMP to it to the AF_XDP socket and everything
#     else to the kernel (bpf/sl_xdp.bpf.c, tests/unit/test_xdp.c).
#     Checked: the dataplane answers ping (its icmp_echo_reply_tx, no
#     duplicate: the kernel never sees the echo) and a HELLO on 9747; an
#     ARP request for the address gets exactly one reply, the dataplane's
#     (arp_reply_tx: the kernel never sees the request, so it does not
#     answer too); a kernel UDP socket bound to the same address on port
#     9999 receives a datagram from the peer side while the dataplane
#     runs; the kernel sends no ICMP port unreachable for 9747 (it never
#     sees those datagrams) while it does for a closed port of its own
#     (9998, the control); the program's counters show each kind.
#   What sharing the address breaks, found here: the kernel's own
#     outbound traffic.  The kernel's ARP request for its next hop is
#     answered to our address, so the reply is steered to the dataplane
#     (which learns it and drops it) and the kernel's neighbour entry
#     never resolves: the kernel socket's answer to the peer is not
#     delivered (checked: the dataplane's arp_rx rises, the kernel's
#     entry is not reachable, the peer gets nothing).  A deployment gives
#     the kernel a permanent neighbour entry for its next hop (the
#     gateway; here the peer), as
#       ip neigh replace GW lladdr GW_MAC dev IF nud permanent
#     and then the kernel's answer arrives (checked).  The program cannot
#     hand one ARP reply to both; the dataplane's own resolution needs it.
#     Likewise every ICMP to the address goes to the dataplane, ICMP
#     errors about the kernel's own traffic included (not checked).
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
# the deployment: the kernel holds the dataplane's address on the interface
ip addr add "$SLT_DP_IP/24" dev "$DEV" || slt_fail "kernel address $SLT_DP_IP on $DEV"
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
grep -q "xdpcfg: $DEV: XDP steering program [0-9]* configured: UDP port 9747" "$SLT_TMP/dp.log" ||
	slt_fail "sluice-dp did not configure the program: $(grep -i xdp "$SLT_TMP/dp.log")"
PROG=$(sed -n "s/.*xdpcfg: $DEV: XDP steering program \([0-9]*\) configured.*/\1/p" "$SLT_TMP/dp.log" | tail -1)
ip link show "$DEV" | grep -q "prog/xdp id $PROG name sl_xdp_steer" ||
	slt_fail "the program $PROG is not attached: $(ip link show "$DEV")"
ip -o addr show dev "$DEV" | grep -q "inet $SLT_DP_IP/24" || slt_fail "the kernel lost $SLT_DP_IP on $DEV"
# ping: three replies, all the dataplane's (icmp_echo_reply_tx), none twice
e0=$(slt_ctl_stat icmp_echo_reply_tx)
slt_nsexec ping -c 3 -i 0.2 -W 2 "$SLT_DP_IP" >"$SLT_TMP/ping" 2>&1 ||
	slt_fail "no ping reply through the program: $(cat "$SLT_TMP/ping")"
e1=$(slt_ctl_stat icmp_echo_reply_tx)
[ $((e1 - e0)) = 3 ] && ! grep -q DUP "$SLT_TMP/ping" ||
	slt_fail "echo replies: the dataplane sent $((e1 - e0)) of 3 (the kernel answered?): $(cat "$SLT_TMP/ping")"

slt_peer handshake --to "$SLT_DP_IP:9747" --bind "$SLT_NS_IP:41001" --goodbye >"$SLT_TMP/hello" 2>&1 ||
	slt_fail "HELLO: $(cat "$SLT_TMP/hello")"
grep -q "\"ok\": true" "$SLT_TMP/hello" || slt_fail "no HELLO_ACK: $(cat "$SLT_TMP/hello")"
slt_ok "program $PROG attached and configured, the kernel holding $SLT_DP_IP too: ping (no DUP) and HELLO answered by the dataplane"

# ARP for our address: one reply on the wire, the dataplane's (arp_reply_tx)
a0=$(slt_ctl_stat arp_reply_tx)
slt_nsexec "$SLT_PY" - "$SLT_PEER" "$SLT_NS_IP" "$SLT_DP_IP" >"$SLT_TMP/arp" 2>&1 <<'EOF'
import socket, struct, sys, time
dev, me, tgt = sys.argv[1:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((dev, 0x0806))
m = bytes.fromhex(open("/sys/class/net/%s/address" % dev).read().strip().replace(":", ""))
s.send(b"\xff" * 6 + m + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + m +
       socket.inet_aton(me) + b"\0" * 6 + socket.inet_aton(tgt))
s.settimeout(0.1)
n, end = 0, time.monotonic() + 1.5
while time.monotonic() < end:
    try:
        r = s.recv(2000)
    except socket.timeout:
        continue
    if r[12:14] == b"\x08\x06" and r[20:22] == b"\x00\x02" and r[28:32] == socket.inet_aton(tgt):
        n += 1
print("replies", n)
EOF
a1=$(slt_ctl_stat arp_reply_tx)
grep -q "^replies 1$" "$SLT_TMP/arp" && [ $((a1 - a0)) = 1 ] ||
	slt_fail "ARP request for $SLT_DP_IP: want exactly one reply, the dataplane's: $(cat "$SLT_TMP/arp"), dataplane arp_reply_tx +$((a1 - a0))"
slt_ok "one ARP reply for $SLT_DP_IP (the dataplane's; the kernel never saw the request)"

# kernel_round TAG: a kernel UDP socket on $SLT_DP_IP:9999 takes one
# datagram from the peer side and answers it; prints what each side got
kernel_round() {
	"$SLT_PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$SLT_DP_IP', 9999)); s.settimeout(5)
d, a = s.recvfrom(100); print('kernel got', d.decode()); s.sendto(b'from-the-kernel', a)" >"$SLT_TMP/kernel.$1" 2>&1 &
	KPID=$!
	sleep 0.3
	slt_nsexec "$SLT_PY" -c "
import socket
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.bind(('$SLT_NS_IP', 0)); c.settimeout(2)
c.sendto(b'to-the-kernel', ('$SLT_DP_IP', 9999))
try:
    print('peer got', c.recv(100).decode())
except socket.timeout:
    print('peer got nothing')" >"$SLT_TMP/peer.$1" 2>&1
	wait $KPID
}
arp0=$(slt_ctl_stat arp_rx)
kernel_round plain
grep -q "kernel got to-the-kernel" "$SLT_TMP/kernel.plain" ||
	slt_fail "the kernel socket on $SLT_DP_IP:9999 got nothing: $(cat "$SLT_TMP/kernel.plain")"
slt_ok "a kernel socket on $SLT_DP_IP:9999 (the dataplane's address, another port) receives while the dataplane runs"
# the kernel's answer: its ARP request for the peer is answered to our
# address, steered to the dataplane; the kernel's entry stays unresolved
NEIGH=$(ip neigh show "$SLT_NS_IP" dev "$DEV")
arp1=$(slt_ctl_stat arp_rx)
grep -q "peer got nothing" "$SLT_TMP/peer.plain" && [ "$arp1" -gt "$arp0" ] &&
	! [[ $NEIGH == *REACHABLE* || $NEIGH == *STALE* || $NEIGH == *PERMANENT* ]] ||
	slt_fail "the kernel's answer without a neighbour entry: want it lost to the steered ARP reply: peer: $(cat "$SLT_TMP/peer.plain"); kernel's entry '$NEIGH'; dataplane arp_rx $arp0 -> $arp1"
slt_log "the kernel's answer was not delivered: its ARP reply went to the dataplane (arp_rx $arp0 -> $arp1), its entry for $SLT_NS_IP: '${NEIGH:-none}'"
PEER_MAC=$(slt_nsexec cat "/sys/class/net/$SLT_PEER/address")
ip neigh replace "$SLT_NS_IP" lladdr "$PEER_MAC" dev "$DEV" nud permanent || slt_fail "ip neigh replace"
kernel_round static
grep -q "kernel got to-the-kernel" "$SLT_TMP/kernel.static" && grep -q "peer got from-the-kernel" "$SLT_TMP/peer.static" ||
	slt_fail "with a permanent neighbour entry: kernel: $(cat "$SLT_TMP/kernel.static"); peer: $(cat "$SLT_TMP/peer.static")"
slt_ok "with a permanent neighbour entry for $SLT_NS_IP (as a deployment sets for its gateway) the kernel's answer arrives"

# Our port: the kernel can answer the peer now (its entry is permanent)
# and must still send nothing for 9747.  icmp_unreach: the peer namespace's count of ICMP destination unreachable
# received (its own kernel's /proc/net/snmp)
icmp_unreach() {
	slt_nsexec awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InDestUnreachs") c = i; h = 1 } else print $c }' /proc/net/snmp
}
# udp_to PORT N: N datagrams from the peer side to our address, port PORT
udp_to() {
	slt_nsexec "$SLT_PY" -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('$SLT_NS_IP', 0))
for i in range($2):
    s.sendto(b'not-a-sluice-frame', ('$SLT_DP_IP', $1)); time.sleep(0.05)"
}
u0=$(icmp_unreach)
udp_to 9747 5
sleep 0.3
u1=$(icmp_unreach)
[ "$u1" = "$u0" ] || slt_fail "$((u1 - u0)) ICMP unreachable came back for UDP to 9747 (the kernel saw our port)"
udp_to 9998 1
for ((i = 0; i < 20; i++)); do
	[ "$(icmp_unreach)" -gt "$u1" ] && break
	sleep 0.1
done
[ "$(icmp_unreach)" -gt "$u1" ] ||
	slt_fail "no ICMP port unreachable for the kernel's closed port 9998: the control does not count"
slt_ok "no ICMP port unreachable for UDP to 9747 (the kernel never sees it); one for the kernel's closed port 9998"

# the program's counters, from the maps of our program (by its id)
stats=$(bpftool prog show id "$PROG" -j | "$SLT_PY" -c 'import json, sys; print(" ".join(map(str, json.load(sys.stdin)["map_ids"])))' |
	while read -r -a ids; do
		for m in "${ids[@]}"; do
			bpftool map show id "$m" -j | grep -q '"name":"sl_xdp_stats"' && bpftool map dump id "$m" -j
		done
	done | "$SLT_PY" -c '
import json, sys
tot = {}
for e in json.load(sys.stdin):
    k = e["key"] if isinstance(e["key"], int) else int.from_bytes(bytes(int(x, 16) for x in e["key"]), "little")
    vals = e.get("values") or e.get("value")
    n = sum(v["value"] if isinstance(v["value"], int) else int.from_bytes(bytes(int(x, 16) for x in v["value"]), "little") for v in vals)
    tot[k] = n
print(" ".join("%d" % tot.get(i, 0) for i in range(5)))')
read -r udp arp icmp pass unset <<<"$stats"
[ "${udp:-0}" -ge 6 ] && [ "${arp:-0}" -ge 2 ] && [ "${icmp:-0}" -ge 3 ] && [ "${pass:-0}" -ge 3 ] ||
	slt_fail "program counters udp/arp/icmp/pass/unset: $stats"
slt_ok "program counters: steered udp $udp arp $arp icmp $icmp, passed to the kernel $pass"
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
