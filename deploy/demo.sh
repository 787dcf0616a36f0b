#!/usr/bin/env bash
# deploy/demo.sh [BUILDDIR] — sluice on one machine, no NIC, no hugepages:
# a network namespace "slt<id>" holds the kernel side of a veth pair; sluice-dp
# drives the other end with DPDK's net_af_packet (--no-huge -m 512, one core)
# and owns 10.<x>.0.2; sluice-ctrl attaches to it.  The demo pings the
# dataplane from the namespace, shows `sluicectl status` and the dataplane
# counters (DPDK telemetry), then stops both processes and checks that
# nothing is left behind.  Needs root.  Uses tests/integration/lib.sh, the
# same harness the integration tests use.
src=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${1:-$src/build}" && pwd) || exit 1
export SLUICE_DP=$builddir/dataplane/sluice-dp
export SLUICE_CTRL=$builddir/ctrl/sluice-ctrl
export SLUICECTL=$builddir/ctrl/sluicectl
export SLUICE_SRC=$src
. "$src/tests/integration/lib.sh"
SLT_NAME=demo

slt_require_root
slt_require_tools ip ethtool ping dpdk-telemetry.py
slt_require_bins
slt_init

echo
echo "== 1. network: namespace + veth, then sluice-dp and sluice-ctrl"
slt_node_up
echo "   config: $SLT_CFG"
sed 's/^/     | /' "$SLT_CFG"

echo
echo "== 2. ping the dataplane from the namespace"
echo "   # ip netns exec $SLT_NS ping -c 4 -i 0.2 $SLT_DP_IP"
slt_nsexec ping -c 4 -i 0.2 -W 2 "$SLT_DP_IP" || slt_fail "no ping replies"
echo "   # ip -n $SLT_NS neigh show $SLT_DP_IP"
ip -n "$SLT_NS" neigh show "$SLT_DP_IP" | sed 's/^/   /'

echo
echo "== 3. sluicectl --socket $SLT_SOCK status"
slt_ctl status || slt_fail "sluicectl status"

echo
echo "== 4. dataplane counters: echo /sluice/stats | dpdk-telemetry.py -f $SLT_PREFIX"
slt_telemetry_json /sluice/stats | "$SLT_PY" -c '
import json, sys
d = json.load(sys.stdin)
for k in sorted(d):
    if d[k]:
        print("   %-24s %s" % (k, d[k]))
' || slt_fail "telemetry"

echo
echo "== 5. clean stop: SIGTERM to both, exit 0, nothing left behind"
slt_stop
slt_assert_clean
echo
echo "demo done."
