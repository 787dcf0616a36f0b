#!/usr/bin/env bash
# auth_sessions.sh — authenticated sessions between real nodes (SPEC §8).
# Nodes A and B, [admission] auth = required, identity keys given as files
# ([instance] key, mode 0600), A's allowlist = B's node_id only.  A serves
# slowly (serve_rate 2) so B is mid-sync while this runs:
#   1. B syncs a 30000-header regtest chain from A over an authenticated
#      session: the frames on the wire carry flag AUTH and a 16-byte tag;
#   2. frames injected on B's link — one of A's frames with a payload bit
#      flipped (and a seq B has not seen), the same frame again (a replay), a forged tag with a fresh
#      seq and the right session id and source address, and a frame
#      without flag AUTH — are dropped and counted (drop_auth_tag +2,
#      drop_sl_replay +1, drop_auth_missing +1, the session's drop_auth
#      +3) while B keeps its one session and reaches A's tip;
#   3. A answers REJECT(AUTH) to a validly signed HELLO from a node not on
#      its allowlist, to a HELLO with a bad signature (B's identity), and
#      to a HELLO with auth_mode 0 (auth required): auth_rejects = 3, and
#      admits none of them;
#   4. the key files kept their mode and a restart keeps the node_id.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
N=30000
slt_chaingen -n $N -o "$SLT_TMP/chain.headers"
WANT=$(sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.log" | tail -1)
slt_pair_up regtest

# node_id_of SEED: the Ed25519 public key (node_id) of a 64-hex seed.
node_id_of() {
	"$SLT_PY" -c 'import sys; from nacl.signing import SigningKey
print(bytes(SigningKey(bytes.fromhex(sys.argv[1])).verify_key).hex())' "$1"
}
SEED_A=$(printf '%064x' 0xa1)
SEED_B=$(printf '%064x' 0xb2)
SEED_X=$(printf '%064x' 0xc3)
ID_B=$(node_id_of "$SEED_B")
for k in $A $B; do
	seed=SEED_A
	[ "$k" = "$B" ] && seed=SEED_B
	(umask 077 && echo "${!seed}" >"$SLT_TMP/key$k")
	slt_cfg_set "${SLT_NODE_CFG[$k]}" instance key "$SLT_TMP/key$k"
	slt_cfg_set "${SLT_NODE_CFG[$k]}" admission auth required
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us 200
done
slt_cfg_set "${SLT_NODE_CFG[$A]}" admission allowlist "$ID_B"
slt_cfg_set "${SLT_NODE_CFG[$A]}" sync serve_rate 2
slt_cfg_set "${SLT_NODE_CFG[$A]}" sync serve_burst 2

slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$SLT_TMP/chain.headers" >/dev/null || slt_fail "A: import"
slt_node_start $B
slt_node_wait_ready $B 30
for ((i = 0; i < 300; i++)); do
	tip=$(slt_node_tip $B)
	[ "${tip%% *}" -ge 2000 ] 2>/dev/null && break
	sleep 0.1
done
[ "${tip%% *}" -ge 2000 ] 2>/dev/null || slt_fail "B never passed 2000 over an authenticated session"
slt_ok "B syncing from A over an authenticated session (tip ${tip%% *})"

peers_b() { slt_node_ctl $B --json peers | slt_jq '[(p["session"], p["node_id"]) for p in v]'; }
P0=$(peers_b)
stats_b() { slt_node_stats_json $B; }
stats_b >"$SLT_TMP/b0.json"

# 2. tamper on B's bridge port (q2 faces B's dataplane).
slt_peer tamper --iface "slt${SLT_ID}q$B" --src "${SLT_NODE_IP[$A]}" --dst "${SLT_NODE_IP[$B]}" \
	>"$SLT_TMP/tamper.json" || slt_fail "tamper: $(cat "$SLT_TMP/tamper.json")"
tip=$(slt_node_tip $B)
slt_log "tamper: $(cat "$SLT_TMP/tamper.json") (B at tip ${tip%% *})"
[ "${tip%% *}" -lt $((N - 1)) ] || slt_fail "B was at the tip before the attack ended: sync it slower"
ulen=$(slt_jq 'v["udp_len"] - v["length"]' <"$SLT_TMP/tamper.json")
[ "$ulen" = 40 ] || slt_fail "an authenticated frame is 24 + length + 16 bytes, got 24 + length + $((ulen - 24))"
sleep 1
stats_b >"$SLT_TMP/b1.json"
delta() {
	"$SLT_PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
print(b.get(sys.argv[3], 0) - a.get(sys.argv[3], 0))' "$SLT_TMP/b0.json" "$SLT_TMP/b1.json" "$1"
}
d_tag=$(delta drop_auth_tag) d_miss=$(delta drop_auth_missing) d_rep=$(delta drop_sl_replay)
slt_log "B drops: auth_tag +$d_tag auth_missing +$d_miss sl_replay +$d_rep"
[ "$d_tag" = 2 ] || slt_fail "flipped bit + forged tag: drop_auth_tag +$d_tag, want +2"
[ "$d_miss" = 1 ] || slt_fail "frame without AUTH: drop_auth_missing +$d_miss, want +1"
[ "$d_rep" -ge 1 ] || slt_fail "replayed frame: drop_sl_replay +$d_rep, want >= 1"
sid_b=$(slt_node_ctl $B --json peers | slt_jq 'v[0]["session"]')
sess_auth=$(slt_node_ctl $B --json peer.show session="$sid_b" | slt_jq 'v["counters"]["drop_auth"]')
slt_log "B's session: drop_auth=$sess_auth"
[ "$sess_auth" -ge 3 ] 2>/dev/null || slt_fail "the session's drop_auth is $sess_auth, want >= 3"
slt_ok "tampered, replayed and forged frames dropped and counted, mid-sync"
slt_node_wait_tip $B $((N - 1)) 120 "$WANT" || slt_fail "B did not reach A's tip $((N - 1))"
P1=$(peers_b)
[ "$P0" = "$P1" ] || slt_fail "B's sessions changed while under attack: $P0 -> $P1"
slt_ok "B reached tip $((N - 1)) $WANT on the same session ($P1)"

# 3. admission: allowlist, bad signature, auth_mode 0.
hs() { slt_peer handshake --to "${SLT_NODE_IP[$A]}:9747" --chain regtest --timeout 3 "$@" || true; }
r1=$(hs --auth-seed "$SEED_X")
r2=$(hs --auth-seed "$SEED_B" --bad-sig)
r3=$(hs)
for r in "$r1" "$r2" "$r3"; do
	[ "$(echo "$r" | slt_jq 'v.get("reject")')" = AUTH ] || slt_fail "want REJECT(AUTH), got $r"
done
rej=$(slt_node_ctl $A --json stats | slt_json_find auth_rejects)
slt_log "A auth_rejects: $rej"
[ "$rej" = 3 ] || slt_fail "A's auth_rejects: $rej, want 3"
slt_ok "REJECT(AUTH): not on the allowlist, bad signature, auth_mode 0"

# 4. identity: the key files are 0600, a restart keeps the node_id.
for k in $A $B; do
	[ "$(stat -c %a "$SLT_TMP/key$k")" = 600 ] || slt_fail "key$k mode $(stat -c %a "$SLT_TMP/key$k")"
done
echo "$P1" | grep -q "$(node_id_of "$SEED_A")" || slt_fail "B's peer A is not A's key's node_id: $P1"
slt_ok "node_id is the identity key's public key"
