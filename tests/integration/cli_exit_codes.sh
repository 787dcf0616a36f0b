#!/usr/bin/env bash
# cli_exit_codes.sh — sluicectl's exit codes (SPEC.md §10) and sluice-ctrl's
# control socket (SPEC.md §9) against real processes, without root and
# without a dataplane: ctrl runs with a temp socket and an empty temp
# region_dir, so it stays "registering".
#   0 ok (status human and --json), 1 the daemon answered an error, 2 usage
#   errors, 3 no daemon, 4 a server that never answers; raw BAD_REQUEST on
#   malformed JSON; oversize lines; a stale socket is replaced, a live one
#   refused; config errors name FILE:LINE (exit 2); SIGTERM and `shutdown`
#   exit 0 and remove the socket.
. "$(dirname "$0")/lib.sh"

for b in "$SLUICE_CTRL" "$SLUICECTL"; do
	[ -x "$b" ] || slt_skip "binary $b not built"
done
[ -x "$SLT_PY" ] || slt_skip "$SLT_PY not found"
slt_init

REGION_DIR=$SLT_TMP/region
SOCK=$SLT_TMP/run/sub/ctrl.sock # parent dirs do not exist yet: ctrl creates them
SLT_SOCK=$SOCK
mkdir -p "$REGION_DIR"

write_cfg() { # write_cfg FILE SOCKET
	cat >"$1" <<EOF2
[instance]
name = $SLT_INST
region_dir = $REGION_DIR

[ctrl]
socket = $2
store = $SLT_TMP/store

[chain]
profile = regtest
EOF2
}
write_cfg "$SLT_TMP/ctrl.ini" "$SOCK"
SLT_CFG=$SLT_TMP/ctrl.ini

# expect_rc WANT DESCRIPTION CMD...: run CMD, compare its exit status.
expect_rc() {
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$SLT_TMP/out" 2>"$SLT_TMP/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		echo "    stdout: $(head -c 600 "$SLT_TMP/out")"
		echo "    stderr: $(head -c 600 "$SLT_TMP/err")"
		slt_fail "$what: exit $rc (want $want)"
	fi
	slt_ok "$what: exit $rc"
}

# raw LINE...: send raw lines on our socket (then EOF), print the replies.
raw() {
	"$SLT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall("".join(a + "\n" for a in sys.argv[2:]).encode())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
' "$SOCK" "$@"
}

# reply_field JSONLINE PATH
reply_field() { echo "$1" | slt_json_get "$2"; }

wait_socket() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -S "$SOCK" ] && return 0
		slt_alive "$SLT_CTRL_PID" || slt_fail "sluice-ctrl died at start"
		sleep 0.1
	done
	slt_fail "socket $SOCK not created within 5 s"
}

wait_answer() {
	local i
	for ((i = 0; i < 50; i++)); do
		"$SLUICECTL" --socket "$SOCK" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	slt_fail "sluice-ctrl does not answer on $SOCK"
}

# --- sluice-ctrl itself: --help, -V, usage and config errors ----------------
expect_rc 0 "sluice-ctrl --help" "$SLUICE_CTRL" --help
grep -q -- "-c, --config FILE" "$SLT_TMP/out" || slt_fail "--help lists no -c"
expect_rc 0 "sluice-ctrl -V" "$SLUICE_CTRL" -V
expect_rc 2 "sluice-ctrl without -c" "$SLUICE_CTRL"
expect_rc 2 "sluice-ctrl --bogus" "$SLUICE_CTRL" --bogus -c "$SLT_CFG"
printf '[instance]\nname = x\n[ctrl]\nsocket = %s\nbogus_key = 1\n' "$SOCK" >"$SLT_TMP/bad.ini"
expect_rc 2 "sluice-ctrl with an unknown config key" "$SLUICE_CTRL" -c "$SLT_TMP/bad.ini"
grep -q "bad.ini:5" "$SLT_TMP/err" || slt_fail "config error does not name FILE:LINE: $(cat "$SLT_TMP/err")"
slt_ok "config error names bad.ini:5"
[ ! -e "$SOCK" ] || slt_fail "a failed start left $SOCK"

# --- start: the socket's parent directories are created --------------------
[ ! -e "$(dirname "$SOCK")" ] || slt_fail "test setup: $(dirname "$SOCK") exists"
slt_start_ctrl
wait_socket
wait_answer
slt_ok "parent directories created, sluice-ctrl answers"
mode=$(stat -c %a "$SOCK")
[ "$mode" = 660 ] || slt_fail "socket mode $mode (want 660)"
slt_ok "socket mode 0660"

# --- a second ctrl on the same socket is refused ------------------------------
expect_rc 1 "second sluice-ctrl on a live socket" "$SLUICE_CTRL" -c "$SLT_CFG"
grep -q "another sluice-ctrl answers" "$SLT_TMP/err" || slt_fail "refusal does not say why"
[ -S "$SOCK" ] || slt_fail "the refused ctrl removed the live socket"

# --- 0: status, human and --json ---------------------------------------------
expect_rc 0 "sluicectl status" "$SLUICECTL" --socket "$SOCK" status
grep -qE '^state +registering$' "$SLT_TMP/out" || slt_fail "human status: $(cat "$SLT_TMP/out")"
grep -qE '^chain +regtest$' "$SLT_TMP/out" || slt_fail "human status lacks chain"
slt_ok "human status says registering"
expect_rc 0 "sluicectl --json status" "$SLUICECTL" --socket "$SOCK" --json status
st=$(slt_json_get state <"$SLT_TMP/out") || slt_fail "--json status is not JSON: $(cat "$SLT_TMP/out")"
[ "$st" = registering ] || slt_fail "--json state '$st' (want registering)"
th=$(slt_json_get tip_hash <"$SLT_TMP/out")
[ "$th" = 0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206 ] ||
	slt_fail "tip_hash '$th' is not the regtest genesis"
att=$(slt_json_get dataplane.attached <"$SLT_TMP/out")
[ "$att" = False ] || slt_fail "dataplane.attached '$att' without a dataplane"
slt_ok "--json status: registering, regtest genesis, no dataplane"
expect_rc 0 "sluicectl -c CONFIG --json status" "$SLUICECTL" -c "$SLT_CFG" --json status
expect_rc 0 "sluicectl --json stats" "$SLUICECTL" --socket "$SOCK" --json stats
n=$(slt_json_get ctrl.api_requests <"$SLT_TMP/out") || slt_fail "stats lack ctrl.api_requests"
[ "$n" -ge 3 ] || slt_fail "ctrl.api_requests $n (want >= 3)"
"$SLT_PY" -c '
import json, sys
t = json.load(open(sys.argv[1]))["dataplane"]["total"]
for k in ("rx_pkts", "events_tx", "drop_eth_short", "drop_event_ring_full"):
    assert k in t, k
' "$SLT_TMP/out" || slt_fail "stats dataplane.total lacks counter names"
slt_ok "stats: ctrl counters and every dataplane counter name"
expect_rc 0 "sluicectl --help" "$SLUICECTL" --help
grep -q "peer.show session=N" "$SLT_TMP/out" || slt_fail "--help does not list commands"

# --- 1: the daemon answers an error ------------------------------------------
expect_rc 1 "peer.show session=999" "$SLUICECTL" --socket "$SOCK" peer.show session=999
grep -qE "UNKNOWN_CMD|NOT_FOUND|NOT_READY" "$SLT_TMP/err" || slt_fail "no error code on stderr"
expect_rc 1 "peers" "$SLUICECTL" --socket "$SOCK" peers
grep -q "NOT_READY" "$SLT_TMP/err" || slt_fail "peers without a dataplane: $(cat "$SLT_TMP/err")"
expect_rc 1 "peer.connect without a dataplane" "$SLUICECTL" --socket "$SOCK" peer.connect addr=10.1.2.3:9747
expect_rc 1 "peer.disconnect without a dataplane" "$SLUICECTL" --socket "$SOCK" peer.disconnect 5
# bans need no dataplane: ban, unban, unban again (NOT_FOUND)
expect_rc 0 "peer.ban addr=10.1.2.3 seconds=60" "$SLUICECTL" --socket "$SOCK" peer.ban addr=10.1.2.3 seconds=60
expect_rc 0 "peer.ban 10.1.2.4:9747 0 (positional)" "$SLUICECTL" --socket "$SOCK" --json peer.ban 10.1.2.4:9747 0
[ "$(slt_json_get addr <"$SLT_TMP/out")" = 10.1.2.4 ] || slt_fail "peer.ban result: $(cat "$SLT_TMP/out")"
expect_rc 0 "peer.unban addr=10.1.2.3" "$SLUICECTL" --socket "$SOCK" peer.unban addr=10.1.2.3
expect_rc 1 "peer.unban of an address not banned" "$SLUICECTL" --socket "$SOCK" peer.unban addr=10.1.2.3
grep -q "NOT_FOUND" "$SLT_TMP/err" || slt_fail "unban twice: $(cat "$SLT_TMP/err")"
r=$(raw '{"id":3,"cmd":"peer.ban","args":{"addr":"10.1.2.300","seconds":5}}')
[ "$(reply_field "$r" error.code)" = BAD_REQUEST ] || slt_fail "raw peer.ban of a bad address -> $r"
r=$(raw '{"id":4,"cmd":"peer.ban","args":{"addr":"10.1.2.3","seconds":-1}}')
[ "$(reply_field "$r" error.code)" = BAD_REQUEST ] || slt_fail "raw peer.ban seconds -1 -> $r"
slt_ok "peer.ban / peer.unban without a dataplane"

# --- 2: usage errors ----------------------------------------------------------
expect_rc 2 "unknown command" "$SLUICECTL" --socket "$SOCK" frobnicate
expect_rc 2 "bad option" "$SLUICECTL" --bogus status
expect_rc 2 "no command" "$SLUICECTL" --socket "$SOCK"
expect_rc 2 "missing required arg" "$SLUICECTL" --socket "$SOCK" peer.show
expect_rc 2 "non-numeric arg" "$SLUICECTL" --socket "$SOCK" peer.show session=abc
expect_rc 2 "unknown arg" "$SLUICECTL" --socket "$SOCK" peer.show sess=1
expect_rc 2 "arg to status" "$SLUICECTL" --socket "$SOCK" status x=1
expect_rc 2 "header.get with both" "$SLUICECTL" --socket "$SOCK" header.get height=1 hash=ab
expect_rc 2 "peer.connect bad addr" "$SLUICECTL" --socket "$SOCK" peer.connect addr=10.1.2
expect_rc 2 "peer.connect bad port" "$SLUICECTL" --socket "$SOCK" peer.connect addr=10.1.2.3:70000
expect_rc 2 "peer.ban bad addr" "$SLUICECTL" --socket "$SOCK" peer.ban addr=nowhere seconds=5
expect_rc 2 "peer.ban without seconds" "$SLUICECTL" --socket "$SOCK" peer.ban addr=10.1.2.3
expect_rc 2 "peer.show with two positionals" "$SLUICECTL" --socket "$SOCK" peer.show 1 2
expect_rc 2 "bad --timeout" "$SLUICECTL" --socket "$SOCK" --timeout -1 status
expect_rc 2 "bad -c config" "$SLUICECTL" -c "$SLT_TMP/bad.ini" status

# --- 3: no daemon -------------------------------------------------------------
expect_rc 3 "wrong socket" "$SLUICECTL" --socket "$SLT_TMP/nobody.sock" status
grep -q "$SLT_TMP/nobody.sock" "$SLT_TMP/err" || slt_fail "message does not name the socket"
grep -q -- "--socket" "$SLT_TMP/err" || slt_fail "message does not suggest --socket"

# --- 4: a server that accepts and never answers --------------------------------
FAKE=$SLT_TMP/fake.sock
"$SLT_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
c, _ = s.accept()
time.sleep(30)
' "$FAKE" &
FAKE_PID=$!
for ((i = 0; i < 50; i++)); do [ -S "$FAKE" ] && break; sleep 0.1; done
t0=$(date +%s%N)
expect_rc 4 "silent server, --timeout 1" "$SLUICECTL" --socket "$FAKE" --timeout 1 status
ms=$((($(date +%s%N) - t0) / 1000000))
kill "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
[ "$ms" -lt 5000 ] || slt_fail "timeout took $ms ms (want ~1000)"
slt_ok "timed out after $ms ms"

# --- raw protocol: BAD_REQUEST, UNKNOWN_CMD, ids --------------------------------
r=$(raw '{"id":1,"cmd"') || slt_fail "raw malformed JSON: no reply"
[ "$(reply_field "$r" error.code)" = BAD_REQUEST ] || slt_fail "malformed JSON -> $r"
[ "$(reply_field "$r" id)" = None ] || slt_fail "malformed JSON id not null: $r"
[ "$(reply_field "$r" ok)" = False ] || slt_fail "malformed JSON ok not false: $r"
slt_ok "malformed JSON -> BAD_REQUEST, id null"
r=$(raw '{"cmd":"status"}')
[ "$(reply_field "$r" error.code)" = BAD_REQUEST ] || slt_fail "missing id -> $r"
r=$(raw '{"id":7,"cmd":"status","args":[1]}')
[ "$(reply_field "$r" error.code)" = BAD_REQUEST ] || slt_fail "array args -> $r"
[ "$(reply_field "$r" id)" = 7 ] || slt_fail "id not echoed: $r"
r=$(raw '{"id":8,"cmd":"no.such"}')
[ "$(reply_field "$r" error.code)" = UNKNOWN_CMD ] || slt_fail "unknown cmd -> $r"
r=$(raw '{"id":9,"cmd":"status"}')
[ "$(reply_field "$r" result.state)" = registering ] || slt_fail "raw status -> $r"
[ "$(reply_field "$r" id)" = 9 ] || slt_fail "raw status id -> $r"
slt_ok "raw: missing id, bad args, unknown cmd, status"
n=$(raw '{"id":1,"cmd":"status"}' '' '{"id":2,"cmd":"status"}' | wc -l)
[ "$n" = 2 ] || slt_fail "two pipelined requests gave $n replies"
slt_ok "pipelined requests each answered"

# --- an oversize line: BAD_REQUEST, connection closed, ctrl still fine ---------
r=$("$SLT_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
try:
    s.sendall(b"x" * 70000)
except OSError:
    pass
out = b""
while True:
    try:
        d = s.recv(65536)
    except OSError:
        break
    if not d:
        break
    out += d
print(out.decode().strip())
' "$SOCK")
[ "$(reply_field "$r" error.code)" = BAD_REQUEST ] || slt_fail "oversize line -> '$r'"
slt_ok "oversize line -> BAD_REQUEST and close"
expect_rc 0 "status after bad clients" "$SLUICECTL" --socket "$SOCK" status

# --- a client that does not read: the loop never waits for it ---------------
"$SLT_PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
req = b"{\"id\":1,\"cmd\":\"status\"}\n"
s.sendall(req * 2000)           # replies pile up unread
print("sent", flush=True)
time.sleep(3)                   # meanwhile others are served
try:
    for _ in range(100):        # far past the output bound
        s.sendall(req * 1000)
    print("alive", flush=True)
except OSError as e:
    print("dropped", e, flush=True)
' "$SOCK" >"$SLT_TMP/hog.out" 2>&1 &
HOG_PID=$!
for ((i = 0; i < 50; i++)); do grep -q sent "$SLT_TMP/hog.out" && break; sleep 0.1; done
grep -q sent "$SLT_TMP/hog.out" || slt_fail "slow reader did not start: $(cat "$SLT_TMP/hog.out")"
expect_rc 0 "status while a client does not read" "$SLUICECTL" --socket "$SOCK" --timeout 2 status
wait "$HOG_PID"
grep -q dropped "$SLT_TMP/hog.out" || slt_fail "a client that never reads was not dropped: $(cat "$SLT_TMP/hog.out")"
d=$("$SLUICECTL" --socket "$SOCK" --json stats | slt_json_get ctrl.clients_dropped)
[ "$d" -ge 1 ] || slt_fail "ctrl.clients_dropped $d after dropping a slow reader"
slt_ok "slow reader disconnected (clients_dropped $d), others served meanwhile"

# --- more clients than SL_API_MAX_CLIENTS: the extra ones get BUSY ------------
r=$("$SLT_PY" -c '
import socket, sys, time
socks = []
for _ in range(200):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    socks.append(s)
time.sleep(0.5)
busy = 0
for s in socks:
    s.setblocking(False)
    try:
        if b"BUSY" in s.recv(4096):
            busy += 1
    except BlockingIOError:
        pass
print(busy, 200 - busy)
' "$SOCK") || slt_fail "client flood script failed"
set -- $r
[ "$1" -ge 1 ] && [ "$2" -ge 1 ] || slt_fail "200 clients: $1 BUSY, $2 served (want some of each)"
slt_ok "200 clients at once: $2 accepted, $1 answered BUSY"
expect_rc 0 "status after the flood" "$SLUICECTL" --socket "$SOCK" status

# --- SIGTERM: exit 0, socket removed -------------------------------------------
slt_stop_ctrl
[ ! -e "$SOCK" ] || slt_fail "socket left after SIGTERM"
slt_ok "socket removed after SIGTERM"
expect_rc 3 "status after ctrl stopped" "$SLUICECTL" --socket "$SOCK" status

# --- a stale socket file (nobody answers) is replaced -------------------------
"$SLT_PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
[ -S "$SOCK" ] || slt_fail "could not make a stale socket"
slt_start_ctrl
wait_answer
slt_ok "stale socket replaced, sluice-ctrl answers"

# --- `shutdown`: replies ok, exits 0 by itself, socket removed -----------------
expect_rc 0 "sluicectl shutdown" "$SLUICECTL" --socket "$SOCK" --json shutdown
[ "$(slt_json_get ctrl <"$SLT_TMP/out")" = True ] || slt_fail "shutdown result: $(cat "$SLT_TMP/out")"
slt_wait_gone sluice-ctrl SLT_CTRL_PID 10
[ ! -e "$SOCK" ] || slt_fail "socket left after shutdown"
slt_ok "socket removed after shutdown"

slt_log "PASS"
exit 0
