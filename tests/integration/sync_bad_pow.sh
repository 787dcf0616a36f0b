#!/usr/bin/env bash
# sync_bad_pow.sh — issue 4, test (d): a serving node that answers ranges
# with invalid proof of work (SPEC §5 misbehaviour: record-only BAD_DATA,
# data discarded, range re-queued).  Three regtest nodes on one L2 segment:
# A (honest) and M both import the same 40,000 headers; M runs the TEST
# ONLY fault injector [dataplane] fault_bad_pow = 1 (every answer it
# serves carries one header whose bits were raised out of reach).  Empty
# node B dials both and syncs.  Checked: M really served corrupted answers
# (its hs_fault_bad_pow counter), B recorded them as bad_data misbehaviour
# of M's session (and never disconnected it for that: record-only), every
# range came from A in the end, and B's export is byte-identical to the
# file.  B first knows only M (so M surely serves it), and dials A once M
# has served a corrupted answer.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool cmp
slt_require_bins
slt_require_test_hooks
slt_init
N=40000
F=$SLT_TMP/chain.headers
slt_chaingen -n $N --seed 31 -o "$F"

slt_lan_up 3
A=1 M=2 B=3
for k in $A $M $B; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
	slt_cfg_set "${SLT_NODE_CFG[$k]}" sync timeout_ms 3000
done
slt_cfg_set "${SLT_NODE_CFG[$M]}" dataplane fault_bad_pow 1
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$M]}:9747"
slt_cfg_set "${SLT_NODE_CFG[$B]}" sync inflight 2

for k in $A $M; do
	slt_node_start $k
	slt_node_wait_ready $k 30
	slt_node_ctl $k --json header.import path="$F" >/dev/null || slt_fail "node $k: import"
done
TIP=$(slt_node_tip $A)
TIP=${TIP#* }
# B knows only M at first, so M surely serves (bad) answers; then B dials A.
slt_node_start $B
slt_node_wait_ready $B 30
fault=0
for ((i = 0; i < 150 && ${fault:-0} < 1; i++)); do
	sleep 0.2
	fault=$(slt_node_telemetry_json $M | slt_jq 'v["hs_fault_bad_pow"]')
done
[ "${fault:-0}" -ge 1 ] || slt_fail "M served no corrupted answer in 30 s (fault counter '$fault')"
[ "$(slt_node_tip $B | cut -d' ' -f1)" = 0 ] || slt_fail "B committed M's bad headers: $(slt_node_tip $B)"
slt_node_ctl $B --json peer.connect addr="${SLT_NODE_IP[$A]}:9747" >"$SLT_TMP/conn" 2>&1 ||
	slt_fail "B: peer.connect A: $(cat "$SLT_TMP/conn")"
slt_node_wait_tip $B $((N - 1)) 120 "$TIP"
slt_ok "B synced to $((N - 1))"

slt_node_ctl $B --json header.export path="$SLT_TMP/b.headers" >/dev/null || slt_fail "B: export"
cmp "$F" "$SLT_TMP/b.headers" || slt_fail "B's export differs from the file"
slt_ok "B's export is byte-identical to the file"

fault=$(slt_node_telemetry_json $M | slt_jq 'v["hs_fault_bad_pow"]')
slt_log "M corrupted $fault answers"
[ "${fault:-0}" -ge 1 ] || slt_fail "M served no corrupted answer (fault counter '$fault')"
slt_node_ctl $B --json peers >"$SLT_TMP/peers.json"
slt_log "B peers: $(head -c 2000 "$SLT_TMP/peers.json")"
mb=$(slt_jq '[p["misbehavior"] for p in v if p["addr"] == "'"${SLT_NODE_IP[$M]}"':9747"]' <"$SLT_TMP/peers.json")
ab=$(slt_jq '[p["misbehavior"] for p in v if p["addr"] == "'"${SLT_NODE_IP[$A]}"':9747"]' <"$SLT_TMP/peers.json")
[ "$mb" != "[]" ] || slt_fail "B has no session to M any more (record-only must not disconnect)"
[ "$(echo "$mb" | slt_jq 'v[0]')" -ge 1 ] || slt_fail "B recorded no misbehaviour of M ($mb)"
[ "$(echo "$ab" | slt_jq 'v[0] if v else -1')" = 0 ] || slt_fail "A blamed: $ab"
sid=$(slt_jq '[p["session"] for p in v if p["addr"] == "'"${SLT_NODE_IP[$M]}"':9747"][0]' <"$SLT_TMP/peers.json")
kinds=$(slt_node_ctl $B --json peer.show session="$sid" | slt_jq 'v.get("misbehavior_kinds", {})')
slt_log "B's record of M: $kinds"
[ "$(echo "$kinds" | slt_jq 'v.get("bad_data", 0)')" -ge 1 ] || slt_fail "no bad_data of M: $kinds"
slt_ok "M's invalid proof of work recorded as bad_data ($fault corrupted answers), session kept, A unblamed"
slt_node_settled $B 15
for k in $B $M $A; do
	slt_node_stop $k
done
slt_log "PASS"
