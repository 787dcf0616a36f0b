#!/usr/bin/env bash
# seq_close.sh — a session closes before any seq would wrap (SPEC §8).
# Test hook [dataplane] fault_seq_start starts A's seqs 3000 below the
# close mark (SL_SESSION_SEQ_CLOSE = 2^32 - 1 - 65536), auth required on
# both nodes.  B syncs 60000 regtest headers from A: each of A's sessions
# crosses the mark after ~3000 frames and A closes it (GOODBYE, exit
# local, seq_closes counted), B dials again and resumes on a new session,
# and reaches A's tip.  No frame was refused as too old (no seq wrapped)
# and no tag failed.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_require_test_hooks
slt_init
N=60000
slt_chaingen -n $N -o "$SLT_TMP/chain.headers"
WANT=$(sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.log" | tail -1)
slt_pair_up regtest
for k in $A $B; do
	slt_cfg_set "${SLT_NODE_CFG[$k]}" admission auth required
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us 200
done
MARK=$(((1 << 32) - 1 - 65536))
slt_cfg_set "${SLT_NODE_CFG[$A]}" dataplane fault_seq_start $((MARK - 3000))
slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$SLT_TMP/chain.headers" >/dev/null || slt_fail "A: import"
slt_node_start $B
slt_node_wait_ready $B 30
slt_node_wait_tip $B $((N - 1)) 120 "$WANT"
a=$(slt_node_stats_json $A) b=$(slt_node_stats_json $B)
closes=$(echo "$a" | slt_jq 'v["seq_closes"]')
old=$(echo "$b" | slt_jq 'v["drop_sl_replay"]')
tag=$(echo "$b" | slt_jq 'v["drop_auth_tag"] + v["drop_auth_missing"]')
slt_log "A seq_closes=$closes; B drop_sl_replay=$old drop_auth=$tag"
[ "$closes" -ge 1 ] 2>/dev/null || slt_fail "A never closed a session at the seq mark (seq_closes=$closes)"
[ "$old" = 0 ] || slt_fail "B refused $old frames as replays: a seq wrapped?"
[ "$tag" = 0 ] || slt_fail "B refused $tag frames' tags"
down=$(slt_node_ctl $A --json stats | slt_json_find down_by_exit)
slt_log "A's sessions down by exit kind: $down"
slt_ok "B reached tip $((N - 1)) across $closes session(s) closed at the seq mark"
