#!/usr/bin/env bash
# probe_tool_live.sh — sluice-probe (bpf/) against live nodes: every
# subcommand with -i 1 --json, started before the events it must see and
# stopped with SIGINT after them, prints one JSON object per interval that
# says what happened:
#   sync  (-b both binaries: B, started later, is traced too): B's genesis
#     and its sync of testnet3 1..9999 from A -> committed adds up to
#     10000, height 9999, a commit-latency histogram of every commit;
#   lat   (-b): stream 5 runs with log2 buckets adding up to the count;
#   ranges (-b): takes, covers adding up to 9999 headers, known whys,
#     holds with start/len inside the chain;
#   drops (-p A's sluice-dp): 3 bad-magic frames -> sl_magic 3, names only;
#   misbehavior (-p A's sluice-dp): an unsolicited HEADERS -> unsolicited
#     for that peer's session and ip:port;
#   ops   (-p A's sluice-ctrl): a header.export -> started 1, ok 1, one
#     latency sample.
# Also: text output of `sync`, and the errors: no subcommand (usage, 2), a
# binary without USDT notes, no root (exit 1, the messages of --help); in
# a CONFIG_SL_USDT=n build, the error for its own sluice-dp, and no more.
. "$(dirname "$0")/lib.sh"

SLUICE_PROBE=${SLUICE_PROBE:-}
slt_require_root
slt_require_tools ip ethtool setpriv
slt_require_bins
[ -n "$SLUICE_PROBE" ] && [ -x "$SLUICE_PROBE" ] || slt_skip "sluice-probe not built (meson option bpf)"
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing (the suite's data lives in tests/data)"
# The background tools get -c N, large enough for the node's work on a
# loaded machine; they are stopped with SIGINT (which prints the interval
# under way) once the work is done.  -c itself is checked by two short runs.
N=60
slt_init

# The errors first: they need no node.
"$SLUICE_PROBE" >"$SLT_TMP/e0" 2>&1
[ $? = 2 ] && grep -q "a subcommand is needed" "$SLT_TMP/e0" || slt_fail "no subcommand: $(cat "$SLT_TMP/e0")"
"$SLUICE_PROBE" sync -b /bin/true >"$SLT_TMP/e1" 2>&1
[ $? = 1 ] && grep -q "/bin/true was built without USDT probes (CONFIG_SL_USDT=n)" "$SLT_TMP/e1" ||
	slt_fail "binary without USDT: $(cat "$SLT_TMP/e1")"
setpriv --reuid=65534 --regid=65534 --clear-groups "$SLUICE_PROBE" sync -b "$SLUICE_CTRL" -c 1 \
	>"$SLT_TMP/e2" 2>&1
[ $? = 1 ] && grep -qx "sluice-probe: needs root (CAP_BPF and CAP_PERFMON)" "$SLT_TMP/e2" ||
	slt_fail "not root: $(cat "$SLT_TMP/e2")"
slt_ok "errors: usage (2), no USDT notes (1), not root (1)"
# A build with CONFIG_SL_USDT=n: the tool names the binary and the option.
if grep -q "^#define SL_USDT 0" "$(dirname "$SLUICE_DP")/../sl_config.h"; then
	"$SLUICE_PROBE" lat -b "$SLUICE_DP" >"$SLT_TMP/e3" 2>&1
	[ $? = 1 ] && grep -qx "sluice-probe: $SLUICE_DP was built without USDT probes (CONFIG_SL_USDT=n)" "$SLT_TMP/e3" ||
		slt_fail "sluice-dp without USDT: $(cat "$SLT_TMP/e3")"
	slt_ok "$SLUICE_DP (CONFIG_SL_USDT=n): $(cat "$SLT_TMP/e3")"
	slt_log "PASS (no probes in this build: the live part does not apply)"
	exit 0
fi

slt_pair_up bitcoin-test3
slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$T3" >"$SLT_TMP/imp" ||
	slt_fail "A: header.import: $(cat "$SLT_TMP/imp")"
A_DP=${SLT_NODE_DP_PID[$A]} A_CT=${SLT_NODE_CTRL_PID[$A]}

# The tools, each for N intervals of 1 s.
tools=()
probe_bg() {
	local name=$1
	shift
	"$SLUICE_PROBE" "$@" -i 1 -c "$N" --json >"$SLT_TMP/$name.json" 2>"$SLT_TMP/$name.err" &
	tools+=($!)
}
slt_tools_cleanup() {
	local p
	for p in "${tools[@]}"; do slt_kill_pid "$p"; done
}
SLT_CLEANUP_HOOKS+=(slt_tools_cleanup)
probe_bg sync sync -b "$SLUICE_DP" -b "$SLUICE_CTRL"
probe_bg lat lat -b "$SLUICE_DP"
probe_bg ranges ranges -b "$SLUICE_DP" -b "$SLUICE_CTRL"
probe_bg drops drops -p "$A_DP"
probe_bg misbehavior misbehavior -p "$A_DP"
probe_bg ops ops -p "$A_CT"
for name in sync lat ranges drops misbehavior ops; do
	for _ in $(seq 100); do
		grep -q "^Tracing" "$SLT_TMP/$name.err" && break
		sleep 0.1
	done
	grep -q "^Tracing" "$SLT_TMP/$name.err" || slt_fail "sluice-probe $name did not attach: $(cat "$SLT_TMP/$name.err")"
done
slt_ok "sluice-probe sync, lat, ranges (-b), drops, misbehavior, ops (-p) attached"

slt_node_start $B
slt_node_wait_ready $B 30
tip=
for ((i = 0; i < 30 * 5; i++)); do
	tip=$(slt_node_ctl $B --json status 2>/dev/null | slt_json_get tip_height 2>/dev/null)
	[ "$tip" = 9999 ] && break
	sleep 0.2
done
[ "$tip" = 9999 ] || slt_fail "B: tip ${tip:-?} (want 9999)"
slt_node_ctl $A --json header.export path="$SLT_TMP/a.headers" >/dev/null || slt_fail "A: header.export"
SLT_DIR=$SLT_SRC/tests/integration DST=${SLT_NODE_IP[$A]} T3=$T3 \
	slt_nsexec "$SLT_PY" - >"$SLT_TMP/peer.out" 2>&1 <<'EOF'
import json, os, secrets, sys
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer as sp

dst = (os.environ["DST"], 9747)
p = sp.Peer(("0.0.0.0", 0), chain="bitcoin-test3")
r = p.hello(dst, streams=0b100011)
if not r or r["msg"] != "HELLO_ACK":
    print("FAIL: HELLO %s" % sp.describe(r))
    sys.exit(1)
for _ in range(3):
    p.send_raw(b"XX" + bytes(30), dst)
hdr = open(os.environ["T3"], "rb").read()[80:160]
p.send_msg("HEADERS", corr=secrets.randbits(62) | 1 << 62, start_height=1, flags=1, reserved=0,
           headers=[hdr])
g = p.recv(3.0, lambda f: f.get("msg") == "GOODBYE")
if g is None:
    print("FAIL: no GOODBYE for the unsolicited HEADERS")
    sys.exit(1)
print("RESULT " + json.dumps({"session": p.session, "port": p.sock.getsockname()[1]}))
EOF
[ $? = 0 ] || slt_fail "scripted peer: $(cat "$SLT_TMP/peer.out")"
slt_ok "B synced to 9999; A exported; a peer sent 3 bad magics and an unsolicited HEADERS"

# Text mode, once, and --json -c 2: exactly COUNT intervals, then exit 0.
"$SLUICE_PROBE" sync -p "$A_CT" -i 1 -c 1 >"$SLT_TMP/text.out" 2>&1 ||
	slt_fail "sync (text): $(cat "$SLT_TMP/text.out")"
grep -q "committed 0.00 headers/s (0 headers in 0 commits)" "$SLT_TMP/text.out" ||
	slt_fail "sync (text): $(cat "$SLT_TMP/text.out")"
"$SLUICE_PROBE" drops -p "$A_DP" -i 1 -c 2 --json >"$SLT_TMP/c2.json" 2>/dev/null ||
	slt_fail "drops -c 2 failed"
[ "$(grep -c '^{"cmd":"drops",.*}$' "$SLT_TMP/c2.json")" = 2 ] && [ "$(wc -l <"$SLT_TMP/c2.json")" = 2 ] ||
	slt_fail "drops -i 1 -c 2 --json: $(cat "$SLT_TMP/c2.json")"
slt_ok "text mode; -c 2 prints 2 JSON lines and exits 0"
sleep 1
for p in "${tools[@]}"; do
	slt_alive "$p" || slt_fail "a sluice-probe ended early: $(cat "$SLT_TMP"/*.err)"
	kill -INT "$p"
done
for p in "${tools[@]}"; do
	wait "$p" || slt_fail "a sluice-probe exited $? on SIGINT: $(cat "$SLT_TMP"/*.err)"
done
tools=()

SRC=$SLT_SRC DIR=$SLT_TMP N=$N NS_IP=$SLT_NS_IP "$SLT_PY" - <<'EOF'
import json, os, re, sys

E = os.environ
d, n = E["DIR"], int(E["N"])
peer = json.loads([l for l in open(d + "/peer.out") if l.startswith("RESULT ")][-1][7:])
bad = []


def check(cond, what, detail):
    print(("ok " if cond else "FAIL ") + what + ": " + detail)
    if not cond:
        bad.append(what)


def xlist(path, macro):
    t = open(os.path.join(E["SRC"], path)).read()
    body = t[t.index("#define " + macro):]
    return re.findall(r'X\(\s*\w+\s*,\s*"([^"]+)"', body[:body.index("\n\n")])


def lines(name):
    out = []
    for l in open("%s/%s.json" % (d, name)):
        o = json.loads(l)  # every line one JSON object
        if o.get("cmd") != name or o.get("interval_s") != 1 or not re.match(r"\d\d:\d\d:\d\d$", o.get("time", "")):
            bad.append(name)
            print("FAIL %s: bad line %s" % (name, l.strip()))
        out.append(o)
    check(2 <= len(out) < n, name, "%d lines (want 2 or more, fewer than %d)" % (len(out), n))
    return out


def hist_ok(h, count):
    return all(b["lo"] <= b["hi"] and b["count"] > 0 for b in h) and \
        sum(b["count"] for b in h) == count


s = lines("sync")
committed = sum(o["committed"] for o in s)
heights = [o["height"] for o in s if o["height"] is not None]
hs = [b for o in s for b in o["hist"]]
check(committed == 10000 and heights and max(heights) == 9999 and
      all(hist_ok(o["hist"], o["commits"]) for o in s) and hs,
      "sync", "committed %d over %d commits, heights %s, per_s %s" %
      (committed, sum(o["commits"] for o in s), sorted(set(heights)), [o["per_s"] for o in s]))

lat = lines("lat")
st5 = [x for o in lat for x in o["streams"] if x["stream"] == 5]
check(st5 and all(hist_ok(x["hist"], x["count"]) for o in lat for x in o["streams"]) and
      sum(x["count"] for x in st5) > 100,
      "lat", "stream 5: %d runs in %d intervals, buckets %s" %
      (sum(x["count"] for x in st5), len(st5), sorted({b["lo"] for x in st5 for b in x["hist"]})))

whys = ["none"] + xlist("dataplane/lib/sl_rangeq.h", "SL_RANGE_WHY_LIST")
rg = lines("ranges")
takes = sum(o["take"]["n"] for o in rg)
cov = sum(o["covered"]["headers"] for o in rg)
rets = {w for o in rg for w in o["return"]}
longest = [x for o in rg for x in o["longest"]]
check(takes >= 1 and cov == 9999 and rets <= set(whys) and longest and
      all(1 <= x["start"] and x["start"] + x["len"] <= 10000 and x["held_ms"] >= 0 for x in longest),
      "ranges", "%d takes, %d headers covered, returns %s, longest %s" %
      (takes, cov, sorted(rets), longest[:2]))

names = xlist("dataplane/lib/sl_counters.h", "SL_DROP_LIST")
dr = lines("drops")
tot = {}
for o in dr:
    for k, v in o["drops"].items():
        tot[k] = tot.get(k, 0) + v
check(tot.get("sl_magic") == 3 and set(tot) <= set(names) and
      sum(o["total"] for o in dr) == sum(tot.values()), "drops", "%s" % tot)

mb = lines("misbehavior")
kinds = {}
for o in mb:
    for k, v in o["kinds"].items():
        kinds[k] = kinds.get(k, 0) + v
pe = [x for o in mb for x in o["peers"]]
want = "%s:%d" % (E["NS_IP"], peer["port"])
check(kinds == {"unsolicited": 1} and len(pe) == 1 and pe[0]["session"] == peer["session"] and
      pe[0]["peer"] == want and pe[0]["kind"] == "unsolicited",
      "misbehavior", "kinds %s, peers %s (want session %d at %s)" % (kinds, pe, peer["session"], want))

op = lines("ops")
ks = [x for o in op for x in o["kinds"]]
# summed over the intervals: the export may start in one and end in the next
ex = {f: sum(x[f] for x in ks if x["kind"] == "header.export")
      for f in ("started", "ok", "err", "count", "sum_ns")}
eh = [b for x in ks if x["kind"] == "header.export" for b in x["hist"]]
check(ex["started"] == 1 and ex["ok"] == 1 and ex["err"] == 0 and
      ex["count"] == 1 and hist_ok(eh, 1) and ex["sum_ns"] > 0 and
      {x["kind"] for x in ks} == {"header.export"},
      "ops", "%s" % ks)
sys.exit(1 if bad else 0)
EOF
[ $? = 0 ] || {
	for f in "$SLT_TMP"/*.json; do
		echo "--- $f"
		head -c 3000 "$f"
	done
	slt_fail "sluice-probe output checks failed"
}
slt_ok "every subcommand's JSON says what happened"
slt_node_stop $A
slt_node_stop $B
slt_log "PASS"
