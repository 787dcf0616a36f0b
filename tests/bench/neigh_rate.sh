#!/usr/bin/env bash
# neigh_rate.sh — ARP and ICMP echo frames the dataplane answers per second
# (one worker lcore, busy polling, net_af_packet over a veth).  A raw
# AF_PACKET sender in the peer namespace offers ARP requests, then ICMP
# echo requests, for a fixed time; the answered rate is the dataplane's own
# reply counters over the sending time.  Prints, per run, the offered rate
# (the baseline: what the kernel sender managed in the same run), the
# answered rate and their ratio; then medians over the runs, ending with
#   neigh_rate runs=<n> arp_per_s=<x> icmp_per_s=<x> arp_vs_offered=<x> icmp_vs_offered=<x>
# Needs root (namespaces).  Usage: tests/bench/neigh_rate.sh [RUNS] [SECONDS]
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
RUNS=${1:-3}
SECS=${2:-3}

slt_require_root
slt_require_tools ip ethtool dpdk-telemetry.py
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
sed -i 's/^idle_sleep_us = .*/idle_sleep_us = 0/' "$SLT_CFG"
slt_start_dp
slt_start_ctrl
slt_wait_ready 30

# blast KIND SECS: offered frames on stdout.
blast() {
	slt_nsexec "$SLT_PY" - "$1" "$2" "$SLT_PEER" "$SLT_NS_IP" "$SLT_DP_IP" "$SLT_DEV_MAC" <<'PY'
import socket, struct, sys, time
kind, secs, ifname, src_ip, dst_ip, dst_mac = sys.argv[1], float(sys.argv[2]), *sys.argv[3:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
src_mac = s.getsockname()[4]
sip, dip = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
if kind == "arp":
    f = b"\xff" * 6 + src_mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) \
        + src_mac + sip + b"\0" * 6 + dip
else:
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x5117, 1) + bytes(56)
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0, sip, dip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    f = bytes.fromhex(dst_mac.replace(":", "")) + src_mac + b"\x08\x00" + ip + icmp
f = f.ljust(60, b"\0")
n, end = 0, time.monotonic() + secs
while time.monotonic() < end:
    for _ in range(256):
        try:
            s.send(f); n += 1
        except BlockingIOError:
            pass
print(n)
PY
}

# run KIND COUNTER: one timed run; prints "offered answered secs".
run() {
	local c0 c1 t0 t1 sent
	c0=$(slt_telemetry "$2") || slt_fail telemetry
	t0=$(date +%s.%N)
	sent=$(blast "$1" "$SECS") || slt_fail "sender failed"
	t1=$(date +%s.%N)
	sleep 0.2 # let the last replies leave
	c1=$(slt_telemetry "$2") || slt_fail telemetry
	echo "$sent $((c1 - c0)) $("$SLT_PY" -c "print($t1 - $t0)")"
}

arp=() icmp=()
for i in $(seq "$RUNS"); do
	read -r so sa st <<<"$(run arp arp_reply_tx)"
	read -r io ia it <<<"$(run icmp icmp_echo_reply_tx)"
	arp+=("$so $sa $st") icmp+=("$io $ia $it")
	"$SLT_PY" -c "
so,sa,st,io,ia,it=map(float,'$so $sa $st $io $ia $it'.split())
print('run %d: arp offered %.0f/s answered %.0f/s (%.2f)  icmp offered %.0f/s answered %.0f/s (%.2f)'
      % ($i, so/st, sa/st, sa/so, io/it, ia/it, ia/io))"
done
"$SLT_PY" - "$RUNS" "${arp[@]}" "${icmp[@]}" <<'PY'
import statistics, sys
n = int(sys.argv[1]); rows = [list(map(float, r.split())) for r in sys.argv[2:]]
arp, icmp = rows[:n], rows[n:]
med = lambda xs: statistics.median(xs)
a = med([r[1] / r[2] for r in arp]); i = med([r[1] / r[2] for r in icmp])
av = med([r[1] / r[0] for r in arp]); iv = med([r[1] / r[0] for r in icmp])
print("median: arp answered %.0f/s (%.2f of offered), icmp answered %.0f/s (%.2f of offered)" % (a, av, i, iv))
print("neigh_rate runs=%d arp_per_s=%.0f icmp_per_s=%.0f arp_vs_offered=%.2f icmp_vs_offered=%.2f" % (n, a, i, av, iv))
PY
slt_stop
slt_assert_clean
