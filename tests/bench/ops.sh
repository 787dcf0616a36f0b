#!/usr/bin/env bash
# ops.sh — operation figures of one node (SPEC.md §9 "Operations (v1.1)"),
# over the control socket, JSON lines, at most 64 requests in flight
# (tests/integration/slops.py bench):
#   get        header.get {height}: the bare store read, the baseline
#   fetch      header.fetch {height} served from the store: an op per
#              request (start, tx, op_start/op_done, the result kept 60 s)
#   ping       peer.ping {session} against a live peer (node B on the same
#              segment): an op, a SEND_FRAME PING, the PONG event back
# Node A holds testnet3 0..9999; B is its one peer.  Each run measures all
# three (N requests each, random heights), in this order; per run it prints
# every figure; then medians over the runs, ending with
#   ops get_per_s=<x> fetch_per_s=<x> ping_per_s=<x> get_p50_us=<x> ...
#       fetch_vs_get=<ratio of ops/s> ping_vs_get=<ratio>
# (ops per second count requests started and completed: each answers once.)
# No pass/fail.  Needs root.
# Usage: tests/bench/ops.sh [RUNS] [N]
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
RUNS=${1:-3}
N=${2:-2000}

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_skip "test data $T3 missing"
SLOPS=$SLT_SRC/tests/integration/slops.py
slt_init
slt_lan_up 2
A=1 B=2
for k in $A $B; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" chain profile bitcoin-test3
	slt_cfg_set "${SLT_NODE_CFG[$k]}" log level warn
done
slt_node_start $B
slt_node_wait_ready $B 30
slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$T3" >/dev/null || slt_fail "A: header.import"
slt_node_ctl $A --json peer.connect addr="${SLT_NODE_IP[$B]}:9747" >/dev/null ||
	slt_fail "A: peer.connect B"
SID=$(slt_node_ctl $A --json peers | slt_jq '[p["session"] for p in v if p["state"] == "up"][0]')
slt_node_wait_tip $B 9999 60 # B syncs from A first: the runs then see a quiet node

bench() { "$SLT_PY" "$SLOPS" "${SLT_NODE_SOCK[$A]}" bench "$@"; }
med() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
: >"$SLT_TMP/runs"
for ((r = 1; r <= RUNS; r++)); do
	h=$((RANDOM % 9000))
	g=$(bench header.get "{\"height\": $h}" "$N")
	f=$(bench header.fetch "{\"height\": $h}" "$N")
	p=$(bench peer.ping "{\"session\": $SID}" "$N")
	echo "run $r get $g"
	echo "run $r fetch $f"
	echo "run $r ping $p"
	for x in g f p; do
		printf '%s %s\n' "$x" "$(slt_jq '"%s %s %s" % (v["per_s"], v["p50_us"], v["p99_us"])' <<<"${!x}")"
	done >>"$SLT_TMP/runs"
done
declare -A M
for x in g f p; do
	for c in 2 3 4; do
		M[$x$c]=$(awk -v x=$x -v c=$c '$1 == x {print $c}' "$SLT_TMP/runs" | med)
	done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b ? a / b : 0}'; }
echo "ops runs=$RUNS n=$N get_per_s=${M[g2]} fetch_per_s=${M[f2]} ping_per_s=${M[p2]}" \
	"get_p50_us=${M[g3]} get_p99_us=${M[g4]} fetch_p50_us=${M[f3]} fetch_p99_us=${M[f4]}" \
	"ping_p50_us=${M[p3]} ping_p99_us=${M[p4]}" \
	"fetch_vs_get=$(ratio "${M[f2]}" "${M[g2]}") ping_vs_get=$(ratio "${M[p2]}" "${M[g2]}")"
