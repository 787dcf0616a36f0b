#!/usr/bin/env bash
# slpeer_selftest.sh — the SPEC-driven test peer (slpeer.py) proves itself
# without a sluice process: every SPEC §2–§6 message round-trips through its
# codec, fields sit at the SPEC's byte offsets, malformed frames and
# undecodable payloads raise with the right reason, the genesis hashes match
# the chain profiles (§7), and on loopback an initiator Peer handshakes,
# pings, asks for peers and says GOODBYE to a strict Responder, floods 40
# sessions, and every HOSTILE_CASES entry gets the answer the SPEC fixes.
. "$(dirname "$0")/lib.sh"

[ -x "$SLT_PY" ] || slt_skip "$SLT_PY not found"
out=$("$SLT_PY" "$(dirname "$0")/slpeer.py" selftest) || {
	printf '%s\n' "$out"
	slt_fail "slpeer.py selftest"
}
printf '%s\n' "$out"
slt_ok "slpeer.py selftest: ${out##*$'\n'}"
slt_log "PASS"
