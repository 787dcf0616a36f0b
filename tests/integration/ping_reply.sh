#!/usr/bin/env bash
# ping_reply.sh — the dataplane owns its IPv4 address (SPEC §1): the kernel
# in a network namespace pings it over a veth (DPDK net_af_packet) and gets
# echo replies; its neighbour entry for the dp IP carries the dp's MAC (ARP
# answered); icmp_echo_reply_tx and arp_reply_tx moved in /sluice/stats.
# Then a flood ping measures the reply rate: prints icmp_replies_per_s=<x>
# (a figure, not a pass/fail beyond "some replies").
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool ping dpdk-telemetry.py
slt_require_bins
slt_init
slt_node_up

icmp0=$(slt_telemetry icmp_echo_reply_tx) || slt_fail "telemetry /sluice/stats unreadable"
arp0=$(slt_telemetry arp_reply_tx) || slt_fail "telemetry arp_reply_tx"

# --- ping: replies ----------------------------------------------------------
out=$(slt_nsexec ping -c 5 -i 0.2 -W 2 "$SLT_DP_IP" 2>&1)
echo "$out" | sed 's/^/    /'
got=$(echo "$out" | sed -nE 's/.* ([0-9]+) received.*/\1/p')
[ "${got:-0}" -ge 4 ] || slt_fail "ping: ${got:-0}/5 replies (want >= 4)"
slt_ok "ping $SLT_DP_IP from $SLT_NS: $got/5 replies"

# --- ARP: the namespace learnt the dp's MAC ---------------------------------
neigh=$(ip -n "$SLT_NS" neigh show "$SLT_DP_IP" dev "$SLT_PEER")
echo "    neigh: $neigh"
mac=$(echo "$neigh" | sed -nE 's/.*lladdr ([0-9a-f:]+).*/\1/p')
[ "$mac" = "$SLT_DEV_MAC" ] ||
	slt_fail "neighbour MAC '$mac' is not the dp port's ($SLT_DEV_MAC)"
# DELAY/PROBE are the kernel re-confirming an entry it has resolved.
echo "$neigh" | grep -qE 'REACHABLE|STALE|DELAY|PROBE' ||
	slt_fail "neighbour entry for $SLT_DP_IP not resolved: $neigh"
dpmac=$(slt_ctl --json status | slt_json_get dataplane.mac 2>/dev/null) &&
	[ "${dpmac,,}" != "$SLT_DEV_MAC" ] &&
	slt_fail "sluicectl status dataplane.mac $dpmac != port MAC $SLT_DEV_MAC"
slt_ok "ARP answered: $SLT_DP_IP is-at $mac (status says ${dpmac:-?})"

# --- counters moved ---------------------------------------------------------
icmp1=$(slt_telemetry icmp_echo_reply_tx) || slt_fail "telemetry"
arp1=$(slt_telemetry arp_reply_tx) || slt_fail "telemetry"
[ $((icmp1 - icmp0)) -ge "$got" ] ||
	slt_fail "icmp_echo_reply_tx moved $((icmp1 - icmp0)), want >= $got"
[ $((arp1 - arp0)) -ge 1 ] || slt_fail "arp_reply_tx did not move ($arp0 -> $arp1)"
slt_ok "icmp_echo_reply_tx +$((icmp1 - icmp0)), arp_reply_tx +$((arp1 - arp0))"

# --- flood: the reply rate ------------------------------------------------
t0=$(date +%s.%N)
slt_nsexec ping -f -q -c 20000 -w 20 "$SLT_DP_IP" 2>&1 | sed 's/^/    /'
t1=$(date +%s.%N)
icmp2=$(slt_telemetry icmp_echo_reply_tx) || slt_fail "telemetry"
n=$((icmp2 - icmp1))
[ "$n" -gt 0 ] || slt_fail "flood ping: no replies"
rate=$("$SLT_PY" -c "print('%.0f' % ($n / ($t1 - $t0)))")
slt_log "flood: $n replies in $("$SLT_PY" -c "print('%.2f' % ($t1 - $t0))") s (1 core, idle_sleep_us=50, net_af_packet over veth)"
echo "icmp_replies_per_s=$rate"

slt_stop
slt_assert_clean
slt_log "PASS"
