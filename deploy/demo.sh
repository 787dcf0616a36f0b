#!/usr/bin/env bash
# deploy/demo.sh [BUILDDIR] — what sluice is for, on one machine, no NIC, no
# hugepages: two nodes sync Bitcoin testnet3 headers over the network.
#
#   1. a bridge in a network namespace joins two veths; each node is a
#      sluice-dp (DPDK net_af_packet, --no-huge, one core) + sluice-ctrl;
#   2. node A imports the shipped testnet3 headers 0..9999 (progress bar);
#   3. node B, empty, connects to A and syncs them by header sync
#      (`sluicectl sync.start`, progress bar), then B's tip is checked
#      against the file's last hash;
#   4. B's status, peers table and a few counters;
#   5. both nodes stop on SIGTERM (exit 0) and leave nothing behind.
#
# Needs root.  Uses tests/integration/lib.sh, the harness the integration
# tests use.  Under a minute on a 2-core machine.
src=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${1:-$src/build}" && pwd) || exit 1
export SLUICE_DP=$builddir/dataplane/sluice-dp
export SLUICE_CTRL=$builddir/ctrl/sluice-ctrl
export SLUICECTL=$builddir/ctrl/sluicectl
export SLUICE_SRC=$src
. "$src/tests/integration/lib.sh"
SLT_NAME=demo

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
T3=$src/tests/data/bitcoin-test3-0-9999.headers
T3_TIP=000000001655e2a7293f28383a2965b2f0add77fd6ac383986e90971a07467d4
[ -r "$T3" ] || slt_fail "$T3 missing (shipped in tests/data)"
slt_init
T0=$SECONDS

say() { printf '\n== %s\n' "$*"; }
run() { # run NODE ARGS...: show the sluicectl command, then run it
	local k=$1
	shift
	printf '   # sluicectl -s %s %s\n' "${SLT_NODE_SOCK[$k]}" "$*"
	slt_node_ctl "$k" "$@" 2>&1 | sed 's/^/   /'
	return "${PIPESTATUS[0]}"
}

say "1. two nodes on one bridge"
slt_lan_up 2
A=1 B=2
for k in $A $B; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" chain profile bitcoin-test3
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us 200
done
slt_node_start $A
slt_node_start $B
slt_node_wait_ready $A 30
slt_node_wait_ready $B 30
echo "   node A ${SLT_NODE_IP[$A]}:9747, node B ${SLT_NODE_IP[$B]}:9747; node B's config:"
grep -v '^;' "${SLT_NODE_CFG[$B]}" | grep . | sed 's/^/     | /'

say "2. node A imports testnet3 headers 0..9999"
run $A header.import path="$T3" || slt_fail "A: header.import"

say "3. node B syncs from A: sync.start waits for height 9999, then B connects"
printf '   # sluicectl -s %s sync.start to_height=9999   (in the background)\n' \
	"${SLT_NODE_SOCK[$B]}"
slt_node_ctl $B sync.start to_height=9999 >"$SLT_TMP/sync.out" 2>&1 &
sync_pid=$!
sleep 0.2
run $B peer.connect addr="${SLT_NODE_IP[$A]}:9747" || slt_fail "B: peer.connect"
wait $sync_pid || slt_fail "B: sync.start: $(cat "$SLT_TMP/sync.out")"
sed 's/^/   /' "$SLT_TMP/sync.out"
tip=$(slt_node_ctl $B --json status | slt_json_get tip_hash)
[ "$tip" = "$T3_TIP" ] || slt_fail "B's tip $tip is not the file's last header $T3_TIP"
echo "   B's tip is the file's last header: $tip"

say "4. node B: status, peers, counters"
run $B status
run $B peers
slt_node_ctl $B --json stats | slt_stats_total | "$SLT_PY" -c '
import json, sys
d = json.load(sys.stdin)
for k in ("rx_pkts", "tx_pkts", "hs_req_tx", "hs_headers_rx", "hs_answer_ok", "hs_status_rx"):
    print("   %-16s %12s" % (k, d.get(k, "?")))
'

say "5. clean stop: SIGTERM to both nodes, exit 0, nothing left behind"
slt_node_stop $B
slt_node_stop $A
for k in $A $B; do
	region=$SLT_REGION_DIR/sluice-${SLT_NODE_INST[$k]}.region
	[ ! -e "$region" ] || slt_fail "node $k left its region $region"
	[ ! -e "${SLT_NODE_SOCK[$k]}" ] || slt_fail "node $k left its socket"
done
echo "   both nodes exited 0; no region, no socket left"
echo
echo "demo done in $((SECONDS - T0)) s."
