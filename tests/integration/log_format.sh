#!/usr/bin/env bash
# log_format.sh — structured logs ([log] format, sl_log.h).
#   format = json: every line sluice-dp and sluice-ctrl write is one JSON
#     object with ts (UTC, microseconds), level, proc, pid (the process's),
#     comp (its source module) and msg; a session coming up is logged with
#     its key=value facts as fields of their own (session, dir, addr).
#   format = text: "<proc>: <level>: <comp>: <msg>"; under journald (our
#     stderr is the stream JOURNAL_STREAM names) each line starts with its
#     syslog priority (<6> info, <4> warning), so journalctl -p works.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool stat
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" log format json
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
slt_hold_start p1 --to "$SLT_DP_IP:9747" --bind "$SLT_NS_IP:41001" --seconds 20 --ping-every 0.5
slt_hold_wait_ack p1 10 >/dev/null || slt_fail "no HELLO_ACK"
sleep 0.5
slt_stop
"$SLT_PY" - "$SLT_TMP/dp.log" "$SLT_TMP/ctrl.log" <<'EOF2' || slt_fail "JSON logs (above)"
import json, re, sys
ok = True
for path, proc in ((sys.argv[1], "sluice-dp"), (sys.argv[2], "sluice-ctrl")):
    lines = [l for l in open(path, errors="replace") if l.strip()]
    mine = []
    for l in lines:
        try:
            o = json.loads(l)
        except ValueError:
            if l.startswith(("EAL:", "TELEMETRY:", "MEMIF", "AF_PACKET", "PMD:")) or not l[0].isalpha():
                continue  # DPDK's own lines (its log, not ours)
            print("FAIL: %s: not JSON: %r" % (path, l[:200])); ok = False; continue
        mine.append(o)
        miss = [k for k in ("ts", "level", "proc", "pid", "comp", "msg") if k not in o]
        if miss or o["proc"] != proc or not re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", o["ts"]):
            print("FAIL: %s: %s (missing %s)" % (path, o, miss)); ok = False
    if len(mine) < 3:
        print("FAIL: %s: only %d JSON lines" % (path, len(mine))); ok = False
    print("ok: %s: %d JSON lines, components %s" % (proc, len(mine), sorted({o["comp"] for o in mine})))
ups = [o for o in map(json.loads, [l for l in open(sys.argv[2]) if l.startswith("{")])
       if " up: " in o["msg"]]
if not ups or not isinstance(ups[0].get("session"), int) or ups[0].get("dir") != "in" \
        or not str(ups[0].get("addr", "")).endswith(":41001") or ups[0]["comp"] != "peermgr":
    print("FAIL: session-up line without its fields: %s" % ups); ok = False
else:
    print("ok: session up: session=%d dir=%s addr=%s" % (ups[0]["session"], ups[0]["dir"], ups[0]["addr"]))
sys.exit(0 if ok else 1)
EOF2
slt_ok "format = json: one object per line with ts, level, proc, pid, comp, msg and the fields"

# Text under journald: JOURNAL_STREAM names the file our stderr is.
slt_cfg_set "$SLT_CFG" log format text
: >"$SLT_TMP/j.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$SLT_TMP/j.log") \
	"$SLUICE_CTRL" -c "$SLT_CFG" </dev/null 2>>"$SLT_TMP/j.log" >/dev/null &
SLT_CTRL_PID=$!
for ((i = 0; i < 50; i++)); do grep -q "listening" "$SLT_TMP/j.log" && break; sleep 0.1; done
slt_stop_ctrl
grep -Eq '^<6>sluice-ctrl: info: server: listening on ' "$SLT_TMP/j.log" ||
	slt_fail "journald text lines: $(head -3 "$SLT_TMP/j.log")"
grep -v '^<[3467]>sluice-ctrl: (error|warn|info|debug): [a-z_]+: ' -E "$SLT_TMP/j.log" | grep -q . &&
	slt_fail "a line without priority, level or component: $(grep -v '^<' "$SLT_TMP/j.log" | head -2)"
slt_ok "format = text under journald: '<6>sluice-ctrl: info: server: listening on ...'"
