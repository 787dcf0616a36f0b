#!/usr/bin/env bash
# metrics_endpoint.sh — sluice-ctrl's Prometheus endpoint ([ctrl] metrics,
# ctrl/sl_metrics.h) against real nodes.  Two nodes on one L2 segment,
# profile bitcoin-test3: A imports testnet3 0..9999; B, with metrics on a
# free 127.0.0.1 port and [peers] bootstrap = A, syncs it by header sync,
# is pinged from the netns and exports its chain (an op).  Then B's
# GET /metrics:
#   - 200, Content-Type text/plain; version=0.0.4; charset=utf-8;
#   - `promtool check metrics` passes with nothing to say;
#   - real values: rx_pkts / icmp replies of lcore 0 > 0, every counter of
#     `sluicectl stats` for lcore 0 present (drop_<r> as
#     sluice_dp_drops_total{reason=r}) and not behind the stats read just
#     before, chain height = status tip_height = 9999, sync's committed
#     total 9999 (heights 1..9999), store 10000 headers, the session to A
#     on lcore 0, the export op done, ctrl_info's version = status
#     version, dataplane attached with a fresh heartbeat;
#   - every metric deploy/grafana-sluice.json queries is in the scrape;
#   - HEAD 200 without a body, /other 404, POST 405.
# A third sluice-ctrl (no dataplane, own socket and instance): without the
# key it listens on no TCP port (checked by the same /proc reader that finds
# B's listener); with metrics = B's port it exits 1 at start naming the
# address, the cause and the fix.  Every process stops with exit 0 and B's
# port is closed after.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool ping cmp promtool
slt_require_bins
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
DASH=$SLT_SRC/deploy/grafana-sluice.json
slt_init

# A port nothing listens on now (the kernel picks it; closed again at once).
PORT=$("$SLT_PY" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
')
URL=http://127.0.0.1:$PORT

slt_pair_up bitcoin-test3
slt_cfg_set "${SLT_NODE_CFG[$B]}" ctrl metrics "$PORT"
slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$T3" >"$SLT_TMP/imp" ||
	slt_fail "A: header.import: $(cat "$SLT_TMP/imp")"
slt_node_start $B
slt_node_wait_ready $B 30
grep -q "serving Prometheus GET /metrics addr=127.0.0.1:$PORT$" "$SLT_TMP/ctrl$B.log" ||
	slt_fail "B's sluice-ctrl did not log its metrics address"

# http METHOD PATH OUT: one request; prints "status<TAB>content-type", the
# body goes to OUT.
http() {
	"$SLT_PY" - "$1" "$URL$2" "$3" <<'EOF'
import sys, urllib.request, urllib.error
method, url, out = sys.argv[1:4]
req = urllib.request.Request(url, method=method, data=b"x" if method == "POST" else None)
try:
    r = urllib.request.urlopen(req, timeout=5)
except urllib.error.HTTPError as e:
    r = e
body = r.read()
open(out, "wb").write(body)
print("%d\t%s" % (r.status, r.headers.get("Content-Type")))
EOF
}

# tcp_listeners PID: the TCP ports PID listens on (its socket inodes
# against /proc/net/tcp{,6} entries in state LISTEN), one per line.
tcp_listeners() {
	"$SLT_PY" - "$1" <<'EOF'
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        t = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if t.startswith("socket:["):
        inodes.add(t[8:-1])
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    for ln in open(f).read().splitlines()[1:]:
        c = ln.split()
        if c[3] == "0A" and c[9] in inodes:
            print(int(c[1].split(":")[1], 16))
EOF
}

# ---- traffic: a sync, pings, an export --------------------------------------
slt_node_wait_tip $B 9999 60
slt_node_settled $B 10
slt_nsexec ping -c 5 -i 0.2 -W 2 "${SLT_NODE_IP[$B]}" >"$SLT_TMP/ping.out" 2>&1 ||
	slt_fail "ping ${SLT_NODE_IP[$B]}: $(cat "$SLT_TMP/ping.out")"
slt_node_ctl $B --json header.export path="$SLT_TMP/b.headers" >"$SLT_TMP/exp" ||
	slt_fail "B: header.export: $(cat "$SLT_TMP/exp")"
cmp -s "$T3" "$SLT_TMP/b.headers" || slt_fail "B's export differs from the file"
slt_ok "traffic: B synced testnet3 0..9999 from A, 5 pings answered, export done"

# ---- one scrape, checked ---------------------------------------------------
slt_node_ctl $B --json stats >"$SLT_TMP/stats.json" || slt_fail "B: sluicectl stats"
slt_node_ctl $B --json status >"$SLT_TMP/status.json" || slt_fail "B: sluicectl status"
r=$(http GET /metrics "$SLT_TMP/metrics.txt") || slt_fail "GET /metrics: no answer"
[ "$r" = $'200\ttext/plain; version=0.0.4; charset=utf-8' ] ||
	slt_fail "GET /metrics answered '$r'"
slt_ok "GET /metrics: 200, $(wc -l <"$SLT_TMP/metrics.txt") lines, Content-Type text/plain; version=0.0.4"

promtool check metrics <"$SLT_TMP/metrics.txt" >"$SLT_TMP/promtool.out" 2>&1 ||
	slt_fail "promtool check metrics failed: $(head -c 2000 "$SLT_TMP/promtool.out")"
[ ! -s "$SLT_TMP/promtool.out" ] ||
	slt_fail "promtool check metrics has remarks: $(head -c 2000 "$SLT_TMP/promtool.out")"
slt_ok "promtool check metrics: no problems"

"$SLT_PY" - "$SLT_TMP/metrics.txt" "$SLT_TMP/stats.json" "$SLT_TMP/status.json" "$DASH" <<'EOF' ||
import json, re, sys
mfile, sfile, stfile, dfile = sys.argv[1:5]
samples, families, errs = {}, {}, []
for ln in open(mfile).read().splitlines():
    m = re.match(r"# (HELP|TYPE) (\S+) ?(.*)", ln)
    if m:
        families.setdefault(m.group(2), {})[m.group(1)] = m.group(3)
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$', ln)
    if not m:
        errs.append("unparsable line: %r" % ln)
        continue
    samples[(m.group(1), m.group(2) or "")] = float(m.group(3))

def get(name, labels=""):
    v = samples.get((name, labels))
    if v is None:
        errs.append("missing sample %s%s" % (name, labels))
        return -1
    return v

def want(cond, what):
    if not cond:
        errs.append(what)

for f, d in families.items():
    want("HELP" in d and "TYPE" in d, "family %s lacks HELP or TYPE" % f)
    want((d.get("TYPE") == "counter") == f.endswith("_total"),
         "family %s: type %s vs its name" % (f, d.get("TYPE")))

stats = json.load(open(sfile))
status = json.load(open(stfile))
lc0 = stats["dataplane"]["per_lcore"][0]["counters"]
L0 = '{lcore="0"}'
checked = 0
for k, v in lc0.items():
    if k.startswith("drop_"):
        got = get("sluice_dp_drops_total", '{lcore="0",reason="%s"}' % k[5:])
    elif ("sluice_dp_%s_total" % k, L0) in samples:
        got = get("sluice_dp_%s_total" % k, L0)
    else:
        got = get("sluice_dp_%s" % k, L0)  # a gauge (SL_LCORE_GAUGE_LIST)
        v = 0
    want(got >= v, "lcore 0 %s: metrics %s behind stats %s" % (k, got, v))
    checked += 1
want(get("sluice_dp_rx_pkts_total", L0) > 0, "rx_pkts of lcore 0 is 0")
want(get("sluice_dp_icmp_echo_reply_tx_total", L0) >= 5, "fewer than 5 echo replies")
want(get("sluice_dp_evt_backlog_depth", L0) >= 0, "evt_backlog_depth is not a gauge")
want(get("sluice_chain_height") == status["tip_height"] == 9999,
     "chain height %s, status tip_height %s (want 9999)"
     % (samples.get(("sluice_chain_height", "")), status["tip_height"]))
want(get("sluice_store_headers") == 10000, "store headers != 10000")
want(get("sluice_sessions", L0) == 1, "sessions on lcore 0 != 1")
want(get("sluice_peers") == status["peers"] == 1, "peers != status peers (1)")
want(get("sluice_sync_headers_committed_total") == 9999, "sync did not commit 1..9999")
want(get("sluice_sync_state", '{state="synced"}') == 1, "sync state not synced")
want(get("sluice_sync_ranges", '{state="queued"}') == 0, "ranges queued after the sync")
want(get("sluice_ops", '{kind="header.export",state="done"}') == 1, "export op not done")
want(get("sluice_ops_started_total", '{kind="header.export"}') == 1, "export not started once")
want(get("sluice_ops_ended_total", '{kind="header.export",state="done"}') == 1,
     "export not ended done once")
want(get("sluice_ctrl_info", '{version="%s",node="%s",chain="bitcoin-test3"}'
         % (status["version"], status["instance"])) == 1, "ctrl_info labels")
want(get("sluice_ctrl_state", '{state="ready"}') == 1, "ctrl state not ready")
want(get("sluice_dataplane_attached") == 1, "dataplane not attached")
want(0 <= get("sluice_dataplane_heartbeat_age_seconds") < 3, "heartbeat age")
want(get("sluice_store_headers_committed_total") >= 9999, "store committed_total")

dash = json.load(open(dfile))
want(dash.get("schemaVersion", 0) >= 36, "dashboard schemaVersion")
want(any(v.get("type") == "datasource" and v.get("query") == "prometheus"
         for v in dash["templating"]["list"]), "dashboard has no Prometheus datasource variable")
names = set()
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("expr", "definition") and isinstance(v, str):
                names.update(re.findall(r"\bsluice_[a-z0-9_]+", v))
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(dash)
known = families.keys() | {n for n, _ in samples}
for n in sorted(names - known):
    errs.append("dashboard uses %s, not in /metrics" % n)
want(len(names) >= 8, "dashboard queries only %d metrics" % len(names))
if errs:
    print("\n".join(errs[:40]))
    sys.exit(1)
print("%d lcore-0 counters of stats checked, %d families, %d samples, dashboard's %d metrics all served"
      % (checked, len(families), len(samples), len(names)))
EOF
	slt_fail "scrape checks (above)"
slt_ok "values: rx_pkts, chain height = status, sync committed, store, session, export op, info, heartbeat"

# ---- HEAD, other paths, other methods --------------------------------------
r=$(http HEAD /metrics "$SLT_TMP/head.txt")
[ "$r" = $'200\ttext/plain; version=0.0.4; charset=utf-8' ] && [ ! -s "$SLT_TMP/head.txt" ] ||
	slt_fail "HEAD /metrics answered '$r' with $(wc -c <"$SLT_TMP/head.txt") body bytes"
r=$(http GET /other "$SLT_TMP/other.txt")
[ "${r%%$'\t'*}" = 404 ] || slt_fail "GET /other answered '$r' (want 404)"
r=$(http GET /metricsx "$SLT_TMP/other.txt")
[ "${r%%$'\t'*}" = 404 ] || slt_fail "GET /metricsx answered '$r' (want 404)"
r=$(http POST /metrics "$SLT_TMP/post.txt")
[ "${r%%$'\t'*}" = 405 ] || slt_fail "POST /metrics answered '$r' (want 405)"
slt_ok "HEAD /metrics 200 without a body; /other 404; POST 405"
B_CTRL=${SLT_NODE_CTRL_PID[$B]}
[ "$(tcp_listeners "$B_CTRL")" = "$PORT" ] ||
	slt_fail "B's sluice-ctrl listens on '$(tcp_listeners "$B_CTRL" | tr '\n' ' ')' (want $PORT)"

# ---- a third ctrl: off when unset; a taken address stops it ----------------
C2=$SLT_TMP/c2
mkdir -p "$C2/region"
write_c2() { # write_c2 [METRICS]
	cat >"$C2/ctrl.ini" <<EOF2
[instance]
name = ${SLT_INST}b
region_dir = $C2/region

[ctrl]
socket = $C2/ctrl.sock
store = $C2/store
${1:+metrics = $1}

[chain]
profile = regtest
EOF2
}
C2_PID=
c2_cleanup() { slt_kill_pid "$C2_PID"; }
SLT_CLEANUP_HOOKS+=(c2_cleanup)

write_c2
"$SLUICE_CTRL" -c "$C2/ctrl.ini" </dev/null >"$SLT_TMP/ctrl2.log" 2>&1 &
C2_PID=$!
for ((i = 0; i < 100; i++)); do
	"$SLUICECTL" --socket "$C2/ctrl.sock" status >/dev/null 2>&1 && break
	slt_alive "$C2_PID" || slt_fail "third sluice-ctrl died at start"
	sleep 0.1
done
[ -z "$(tcp_listeners "$C2_PID")" ] ||
	slt_fail "sluice-ctrl without [ctrl] metrics listens on TCP $(tcp_listeners "$C2_PID" | tr '\n' ' ')"
! grep -q "metrics" "$SLT_TMP/ctrl2.log" || slt_fail "metrics logged while off: $(grep metrics "$SLT_TMP/ctrl2.log")"
kill -TERM "$C2_PID"
slt_wait_exit "$C2_PID" 10 || slt_fail "third sluice-ctrl did not exit on SIGTERM"
C2_PID=
[ "$SLT_RC" = 0 ] || slt_fail "third sluice-ctrl exited $SLT_RC on SIGTERM"
slt_ok "without [ctrl] metrics sluice-ctrl listens on no TCP port"

write_c2 "127.0.0.1:$PORT"
"$SLUICE_CTRL" -c "$C2/ctrl.ini" </dev/null >"$SLT_TMP/ctrl2.log" 2>&1 &
C2_PID=$!
slt_wait_exit "$C2_PID" 10 || slt_fail "sluice-ctrl on a taken metrics address kept running"
C2_PID=
[ "$SLT_RC" = 1 ] || slt_fail "sluice-ctrl on a taken metrics address exited $SLT_RC (want 1)"
for w in "127.0.0.1:$PORT" "Address already in use" "fix:" "[ctrl] metrics in $C2/ctrl.ini"; do
	grep -qF -- "$w" "$SLT_TMP/ctrl2.log" ||
		slt_fail "the bind failure does not say '$w': $(cat "$SLT_TMP/ctrl2.log")"
done
[ ! -e "$C2/ctrl.sock" ] || slt_fail "the failed sluice-ctrl left its socket behind"
slt_ok "a taken metrics address: exit 1, $(grep -F "127.0.0.1:$PORT" "$SLT_TMP/ctrl2.log" | head -1)"

# The first one still serves, then everything stops cleanly.
r=$(http GET /metrics "$SLT_TMP/metrics2.txt")
[ "${r%%$'\t'*}" = 200 ] || slt_fail "GET /metrics after the third ctrl: '$r'"
slt_node_stop $A
slt_node_stop $B
[ ! -e "${SLT_NODE_SOCK[$B]}" ] || slt_fail "B's control socket left behind"
"$SLT_PY" -c '
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)
' "$PORT" || slt_fail "port $PORT still accepts after sluice-ctrl stopped"
slt_ok "after SIGTERM nothing listens on $PORT"
slt_log "PASS"
