#!/usr/bin/env bash
# sync_reorg.sh — issue 4, test (f): a reorg over the network (SPEC §5,
# DESIGN.md "Header-sync reactor": best chain by cumulative work, reorg
# through reset_above and store truncation).  Three regtest nodes on one
# L2 segment.  Chain X: 1000 headers (0..999).  Branch Y: the same headers
# up to 900, then 200 others (0..1100): more work.  A imports X and B syncs
# it from A.  Then C imports Y (before it knows any peer) and dials A.
# A must locate the fork (900) by fetching from C, judge Y heavier,
# truncate to 900 and commit Y's branch; B, whose tip is now on a lighter branch than A's (and
# C's, should it meet C), must follow.  Checked: A and B end at Y's tip
# with exports byte-identical to Y, each switched branches once at fork
# 900 (sync.status branch), and both range tables settle.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool cmp
slt_require_bins
slt_init
START=$(($(date +%s) - 20000))
X=$SLT_TMP/x.headers Y=$SLT_TMP/y.headers
slt_chaingen -n 1000 --seed 11 --start-time "$START" -o "$X"
slt_chaingen -n 1101 --seed 11 --start-time "$START" --fork-at 900 --fork-seed 12 -o "$Y"
cmp -n $((901 * 80)) "$X" "$Y" || slt_fail "X and Y differ below the fork"
cmp -s -n $((902 * 80)) "$X" "$Y" && slt_fail "X and Y do not differ at 901"

slt_lan_up 3
A=1 B=2 C=3
for k in $A $B $C; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
	slt_cfg_set "${SLT_NODE_CFG[$k]}" sync timeout_ms 3000
done
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747"

imp() { # imp K FILE TIP
	slt_node_ctl "$1" --json header.import path="$2" >"$SLT_TMP/imp$1" 2>&1 ||
		slt_fail "node $1: header.import: $(cat "$SLT_TMP/imp$1")"
	[ "$(slt_json_get tip_height <"$SLT_TMP/imp$1")" = "$3" ] ||
		slt_fail "node $1: import tip: $(cat "$SLT_TMP/imp$1")"
}

slt_node_start $A
slt_node_wait_ready $A 30
imp $A "$X" 999
X_TIP=$(slt_node_tip $A)
X_TIP=${X_TIP#* }
slt_node_start $B
slt_node_wait_ready $B 30
slt_node_wait_tip $B 999 60 "$X_TIP"
slt_ok "A and B on X (tip 999 $X_TIP)"

# C imports Y before it knows anybody (else it would first sync X from
# A), then dials A.
slt_node_start $C
slt_node_wait_ready $C 30
imp $C "$Y" 1100
Y_TIP=$(slt_node_tip $C)
Y_TIP=${Y_TIP#* }
slt_node_ctl $C --json peer.connect addr="${SLT_NODE_IP[$A]}:9747" >"$SLT_TMP/conn" 2>&1 ||
	slt_fail "C: peer.connect A: $(cat "$SLT_TMP/conn")"
slt_log "C holds Y (tip 1100 $Y_TIP), connected to A"

slt_node_wait_tip $A 1100 60 "$Y_TIP"
slt_ok "A switched to Y"
slt_node_wait_tip $B 1100 60 "$Y_TIP"
slt_ok "B followed A to Y"

for k in $A $B; do
	slt_node_ctl $k --json header.export path="$SLT_TMP/out$k.headers" >/dev/null ||
		slt_fail "node $k: header.export"
	cmp "$Y" "$SLT_TMP/out$k.headers" || slt_fail "node $k's export differs from Y"
	sw=$(slt_node_sync_get $k 'v["branch"]["switched"]')
	fk=$(slt_node_sync_get $k 'v["branch"]["last_fork"]')
	ro=$(slt_node_sync_get $k 'v["counters"]["reorgs"]')
	slt_log "node $k: branch $(slt_node_sync_get $k 'v["branch"]')"
	[ "$sw" = 1 ] || slt_fail "node $k: branch switches $sw (want 1)"
	[ "$fk" = 900 ] || slt_fail "node $k: switched at fork $fk (want 900)"
	[ "$ro" = 1 ] || slt_fail "node $k: reactor reorgs $ro (want 1)"
	slt_node_settled $k 15
done
slt_ok "A and B: exports equal Y, one switch each at fork 900, range tables settled"

# C never switched (its branch was the heavier one all along).
[ "$(slt_node_sync_get $C 'v["branch"]["switched"]')" = 0 ] || slt_fail "C switched"
for k in $C $B $A; do
	slt_node_stop $k
done
slt_log "PASS"
