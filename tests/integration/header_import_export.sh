#!/usr/bin/env bash
# header_import_export.sh — the header store behind the control API (SPEC.md
# §7 file format, §9 header.import / header.export / header.get / status),
# with real testnet3 headers, sluice-ctrl alone (no dataplane, no root):
#   import 0..9999 -> tip 9999 + the README tip hash in `status --json`;
#   export -> byte-identical (cmp); header.get 0 -> the testnet3 genesis;
#   header.get by the tip hash -> 9999; beyond the tip -> NOT_FOUND;
#   restart -> the tip survives; a copy mutated at height 5000 (one nonce
#   bit) into a fresh store -> exit 1, INVALID_HEADER, height 5000, reason
#   pow, and the store holds exactly 0..4999.
. "$(dirname "$0")/lib.sh"

for b in "$SLUICE_CTRL" "$SLUICECTL"; do
	[ -x "$b" ] || slt_skip "binary $b not built"
done
[ -x "$SLT_PY" ] || slt_skip "$SLT_PY not found"
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
T3_TIP=000000001655e2a7293f28383a2965b2f0add77fd6ac383986e90971a07467d4
T3_GENESIS=000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943
slt_init

REGION_DIR=$SLT_TMP/region # empty: no dataplane, ctrl stays "registering"
mkdir -p "$REGION_DIR"

write_cfg() { # write_cfg FILE STORE
	cat >"$1" <<EOF2
[instance]
name = $SLT_INST
region_dir = $REGION_DIR

[ctrl]
socket = $SLT_SOCK
store = $2

[chain]
profile = bitcoin-test3
EOF2
}

# ctl_json WHAT ARGS...: sluicectl --json ARGS..., must exit 0; output in $SLT_TMP/out.
ctl_json() {
	local what=$1 rc
	shift
	slt_ctl --json "$@" >"$SLT_TMP/out" 2>"$SLT_TMP/err"
	rc=$?
	[ "$rc" = 0 ] || slt_fail "$what: exit $rc: $(cat "$SLT_TMP/err")"
}

# field PATH: a value of the last reply ($SLT_TMP/out).
field() { slt_json_get "$1" <"$SLT_TMP/out"; }

# expect FIELD WANT WHAT
expect() {
	local got
	got=$(field "$1") || slt_fail "$3: no '$1' in $(cat "$SLT_TMP/out")"
	[ "$got" = "$2" ] || slt_fail "$3: $1 = '$got' (want '$2')"
}

start_ctrl() { # start_ctrl STORE
	write_cfg "$SLT_TMP/ctrl.ini" "$1"
	SLT_CFG=$SLT_TMP/ctrl.ini
	slt_start_ctrl
	local i
	for ((i = 0; i < 100; i++)); do
		slt_ctl status >/dev/null 2>&1 && return 0
		slt_alive "$SLT_CTRL_PID" || slt_fail "sluice-ctrl died at start"
		sleep 0.1
	done
	slt_fail "sluice-ctrl does not answer on $SLT_SOCK"
}

# raw LINE: one request on our socket, print the reply line.
raw() {
	"$SLT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
out = b""
while not out.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
' "$SLT_SOCK" "$1"
}

# --- a fresh store starts at the testnet3 genesis -----------------------------
start_ctrl "$SLT_TMP/store"
ctl_json "status" status
expect tip_height 0 "fresh status"
expect tip_hash "$T3_GENESIS" "fresh status"
expect chain bitcoin-test3 "fresh status"
slt_ok "fresh store: tip 0 = testnet3 genesis"

# --- import 0..9999 ------------------------------------------------------------
t0=$(date +%s%N)
ctl_json "header.import" header.import path="$T3"
ms=$((($(date +%s%N) - t0) / 1000000))
expect imported 9999 "header.import"
expect tip_height 9999 "header.import"
expect tip_hash "$T3_TIP" "header.import"
slt_ok "imported 9999 headers (genesis was there) in $ms ms (sluicectl round trip)"
ctl_json "status" status
expect tip_height 9999 "status after import"
expect tip_hash "$T3_TIP" "status after import"
slt_ok "status: tip 9999 $T3_TIP"
slt_ctl status >"$SLT_TMP/out" 2>&1 || slt_fail "human status"
grep -qE "^tip_height +9999$" "$SLT_TMP/out" || slt_fail "human status: $(cat "$SLT_TMP/out")"

# --- export: byte-identical ----------------------------------------------------
ctl_json "header.export" header.export path="$SLT_TMP/export.headers"
expect exported 10000 "header.export"
expect from 0 "header.export"
expect to 9999 "header.export"
cmp "$T3" "$SLT_TMP/export.headers" || slt_fail "export differs from the imported file"
slt_ok "export of 0..9999 is byte-identical to the input"
ctl_json "header.export 100..199" header.export path="$SLT_TMP/slice.headers" from=100 to=199
expect exported 100 "header.export slice"
cmp <(tail -c +$((100 * 80 + 1)) "$T3" | head -c $((100 * 80))) "$SLT_TMP/slice.headers" ||
	slt_fail "export 100..199 is not that slice"
slt_ok "export from=100 to=199 is that slice"
slt_ctl header.export path="$SLT_TMP/bad.headers" from=9000 to=10000 >/dev/null 2>"$SLT_TMP/err"
[ $? = 1 ] || slt_fail "export beyond the tip did not fail with exit 1"

# --- header.get -----------------------------------------------------------------
ctl_json "header.get 0" header.get height=0
expect height 0 "header.get 0"
expect hash "$T3_GENESIS" "header.get 0"
expect header "$(head -c 80 "$T3" | od -An -v -tx1 | tr -d ' \n')" "header.get 0"
slt_ok "header.get height=0 -> testnet3 genesis (80 bytes hex)"
ctl_json "header.get tip hash" header.get hash="$T3_TIP"
expect height 9999 "header.get by tip hash"
expect hash "$T3_TIP" "header.get by tip hash"
expect header "$(tail -c 80 "$T3" | od -An -v -tx1 | tr -d ' \n')" "header.get by tip hash"
slt_ok "header.get hash=<tip> -> 9999"
slt_ctl header.get height=10000 >/dev/null 2>"$SLT_TMP/err"
[ $? = 1 ] || slt_fail "header.get beyond the tip: not exit 1"
grep -q NOT_FOUND "$SLT_TMP/err" || slt_fail "header.get beyond the tip: $(cat "$SLT_TMP/err")"
slt_ctl header.get hash="$(printf '%064d' 0)" >/dev/null 2>"$SLT_TMP/err"
[ $? = 1 ] && grep -q NOT_FOUND "$SLT_TMP/err" || slt_fail "header.get unknown hash: $(cat "$SLT_TMP/err")"
r=$(raw '{"id":5,"cmd":"header.get","args":{"hash":"xyz"}}')
[ "$(echo "$r" | slt_json_get error.code)" = BAD_REQUEST ] || slt_fail "bad hash -> $r"
slt_ok "header.get beyond the tip / unknown hash -> NOT_FOUND, bad hash -> BAD_REQUEST"

# --- restart: the tip survives ---------------------------------------------------
slt_stop_ctrl
start_ctrl "$SLT_TMP/store"
ctl_json "status after restart" status
expect tip_height 9999 "status after restart"
expect tip_hash "$T3_TIP" "status after restart"
slt_ok "restart: tip 9999 survives"
slt_stop_ctrl

# --- a header mutated at 5000 into a fresh store ----------------------------------
cp "$T3" "$SLT_TMP/mutated.headers"
chmod u+w "$SLT_TMP/mutated.headers"
"$SLT_PY" -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(5000 * 80 + 76)
    b = f.read(1)
    f.seek(5000 * 80 + 76)
    f.write(bytes([b[0] ^ 1]))
' "$SLT_TMP/mutated.headers"
start_ctrl "$SLT_TMP/store2"
slt_ctl header.import path="$SLT_TMP/mutated.headers" >"$SLT_TMP/out" 2>"$SLT_TMP/err"
rc=$?
[ "$rc" = 1 ] || slt_fail "import of the mutated file: exit $rc (want 1)"
grep -q INVALID_HEADER "$SLT_TMP/err" || slt_fail "no INVALID_HEADER: $(cat "$SLT_TMP/err")"
grep -q "at height 5000: pow" "$SLT_TMP/err" || slt_fail "no height/reason: $(cat "$SLT_TMP/err")"
slt_ok "sluicectl: exit 1, $(head -1 "$SLT_TMP/err")"
r=$(raw "{\"id\":6,\"cmd\":\"header.import\",\"args\":{\"path\":\"$SLT_TMP/mutated.headers\"}}")
[ "$(echo "$r" | slt_json_get error.code)" = INVALID_HEADER ] || slt_fail "raw: $r"
[ "$(echo "$r" | slt_json_get error.height)" = 5000 ] || slt_fail "raw height: $r"
[ "$(echo "$r" | slt_json_get error.reason)" = pow ] || slt_fail "raw reason: $r"
slt_ok "error object: code INVALID_HEADER, height 5000, reason pow"
ctl_json "status after the failed import" status
expect tip_height 4999 "status after the failed import"
ctl_json "header.get 4999" header.get height=4999
expect header "$(tail -c +$((4999 * 80 + 1)) "$T3" | head -c 80 | od -An -v -tx1 | tr -d ' \n')" "header.get 4999"
slt_ctl header.get height=5000 >/dev/null 2>&1
[ $? = 1 ] || slt_fail "height 5000 is served after a refused import"
ctl_json "export of the valid prefix" header.export path="$SLT_TMP/prefix.headers"
expect exported 5000 "export of the valid prefix"
cmp <(head -c $((5000 * 80)) "$T3") "$SLT_TMP/prefix.headers" || slt_fail "store != 0..4999"
slt_ok "the store holds exactly 0..4999"

# --- missing file / bad args ------------------------------------------------------
slt_ctl header.import path="$SLT_TMP/nope.headers" >/dev/null 2>"$SLT_TMP/err"
[ $? = 1 ] || slt_fail "import of a missing file: not exit 1"
r=$(raw '{"id":7,"cmd":"header.import","args":{}}')
[ "$(echo "$r" | slt_json_get error.code)" = BAD_REQUEST ] || slt_fail "import without path -> $r"
slt_ok "missing file -> error, no path -> BAD_REQUEST"
slt_stop_ctrl

slt_log "PASS"
exit 0
