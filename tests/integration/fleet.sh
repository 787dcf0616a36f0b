# fleet.sh — a fleet of nodes on one machine (issue 13 item 4): N nodes
# (default 16), each a sluice-dp + sluice-ctrl pair, with idle sleep and
# small memory so two cores carry them.  Sourced after lib.sh by the
# fleet_* scenarios; not run on its own.
#
# Layout (slt_lan_up N node-ns): one bridge slt<id>b in netns slt<id>
# (kernel 10.<x>.0.1/24: slpeer.py and other test peers run there), and
# per node k a netns slt<id>h<k> holding lo and the node's veth end
# slt<id>d<k> and nothing else, whose other end slt<id>q<k> is a port of
# the bridge.  Node k's sluice-dp runs in its netns (ip netns exec; its
# DPDK net_af_packet port is that veth end); nodes reach each other and
# the host only through the bridge.  sluice-ctrl and sluicectl stay in
# the root namespace: ctrl talks to its dataplane through the region in
# $SLT_REGION_DIR and both serve unix sockets on files, which every
# namespace sees.  af_packet fanout groups are per network namespace, so
# the fanout id collision of nodes sharing a namespace (slt_node_spawn_dp)
# cannot happen here; the retry stays.  The trap deletes every node's
# netns (lib.sh slt_nodes_cleanup) on any exit.
#
#   slt_fleet_up N [PROFILE]  the bridge and the node namespaces, N node
#                             configs: regtest (or PROFILE),
#                             idle_sleep_us $SLT_FLEET_IDLE_US
#                             (default 1000), EAL -m $SLT_FLEET_MEM_MB
#                             (default 48; 32 stopped fitting with the
#                             §8 per-slot keys), [peers] outbound
#                             $SLT_FLEET_OUTBOUND (default 3); node k > 1
#                             bootstraps to node k-1 and to node (k/2),
#                             so the graph is connected but not full and
#                             discovery does the rest.  Sets FLEET_N.
#   slt_fleet_cfg "SEC KEY VAL"...  set keys in every node's config
#   slt_fleet_start           start every node (dataplanes first, all at
#                             once, each in its netns, fanout collisions
#                             retried; then every ctrl), check the layout
#                             (slt_fleet_assert_isolated), wait until all
#                             are ready
#   slt_fleet_assert_isolated each node's netns holds lo and its port only,
#                             no node port is in the root namespace, and
#                             each sluice-dp runs in its node's netns
#   slt_fleet_watch_begin H HASH SECS / slt_fleet_watch_end T0
#                             time every node's arrival at tip H HASH: a
#                             watcher started before the action, FLEET_MS /
#                             FLEET_MED_MS from T0 (slt_now_ms) to the last
#                             / the median node
#   slt_fleet_wait_tip H HASH SECS   both at once (no timing wanted)
#   slt_fleet_wait_peered SECS every node with at least one peer up
#   slt_fleet_assert_same     every node's export byte-identical to node 1's
#   slt_fleet_assert_clean_state [SECS]  on every node: no stranded range,
#                             no ghost peer (ctrl's peers = the dataplane's
#                             live sessions), evt_critical_lost 0
#                             (slt_fleet_check, one process for all)
#   slt_fleet_partition K...  move the bridge ports of nodes K...
#                             (slt<id>q<k>, in the bridge's netns) to a
#                             second bridge slt<id>p: two L2 segments that
#                             cannot reach each other (a partition)
#   slt_fleet_heal            every port back on the one bridge
#   slt_fleet_stop            SIGTERM every node (exit 0 each), then no
#                             region, DPDK runtime dir, hugepage file,
#                             socket or process of any node left
#   slt_ms                    milliseconds of a monotonic clock
#   slt_now_ms                wall-clock milliseconds, no process started
# Everything it starts or creates (processes, namespaces, links) is removed
# by lib.sh's trap (slt_fleet_kill_all, then slt_nodes_cleanup).

FLEET_N=0

slt_ms() { "$SLT_PY" -c 'import time; print(int(time.monotonic() * 1000))'; }

slt_fleet_up() {
	local n=$1 profile=${2:-regtest} k boot
	FLEET_N=$n
	slt_lan_up "$n" node-ns
	SLT_CLEANUP_HOOKS=(slt_fleet_kill_all "${SLT_CLEANUP_HOOKS[@]}")
	for ((k = 1; k <= n; k++)); do
		slt_node_config "$k" >/dev/null
		sed -i "s/ -m 256 / -m ${SLT_FLEET_MEM_MB:-48} /" "${SLT_NODE_CFG[$k]}"
	done
	slt_fleet_cfg "chain profile $profile" \
		"dataplane idle_sleep_us ${SLT_FLEET_IDLE_US:-1000}" \
		"peers outbound ${SLT_FLEET_OUTBOUND:-3}" \
		"peers connect_timeout_ms 3000" \
		"peers redial_s 1" \
		"admission max_peers ${SLT_FLEET_MAX_PEERS:-32}"
	for ((k = 2; k <= n; k++)); do
		boot=${SLT_NODE_IP[$((k - 1))]}:9747
		[ $((k / 2)) -lt $((k - 1)) ] && [ $((k / 2)) -ge 1 ] &&
			boot+=",${SLT_NODE_IP[$((k / 2))]}:9747"
		echo "bootstrap = $boot" >>"${SLT_NODE_CFG[$k]}" # [peers] is the last section
	done
	slt_log "fleet of $n nodes configured (-m ${SLT_FLEET_MEM_MB:-48}, idle_sleep_us ${SLT_FLEET_IDLE_US:-1000}, outbound ${SLT_FLEET_OUTBOUND:-3})"
}

# slt_fleet_kill_all (the trap, before lib.sh's slt_nodes_cleanup): SIGKILL
# to every process of the fleet at once; a killed sluice-dp can take
# seconds to leave the kernel, and slt_nodes_cleanup waits for one after
# the other.
slt_fleet_kill_all() {
	local k pids=()
	for ((k = 1; k <= FLEET_N; k++)); do
		[ -z "${SLT_NODE_DP_PID[$k]:-}" ] || pids+=("${SLT_NODE_DP_PID[$k]}")
		[ -z "${SLT_NODE_CTRL_PID[$k]:-}" ] || pids+=("${SLT_NODE_CTRL_PID[$k]}")
	done
	[ "${#pids[@]}" = 0 ] || kill -KILL "${pids[@]}" 2>/dev/null
	return 0
}

# slt_fleet_cfg "SECTION KEY VALUE"...: slt_cfg_set of each on every
# node's config, in one process (a process per key and node is seconds).
slt_fleet_cfg() {
	local k files=()
	for ((k = 1; k <= FLEET_N; k++)); do
		files+=("${SLT_NODE_CFG[$k]}")
	done
	"$SLT_PY" "$SLT_SRC/tests/integration/slcfg.py" "${#files[@]}" "${files[@]}" "$@" ||
		slt_fail "slt_fleet_cfg $*"
}

# slt_fleet_spawn_dps K...: start the dataplanes of nodes K... at once,
# each in its node's netns (slt_node_launch_dp), and wait (20 s, or 2 s a node
# when more) until each logged ready; one that died of an af_packet
# fanout id collision (see slt_node_spawn_dp; not expected with a netns
# per node) is started again at once (a fresh pid, a fresh fanout id).
slt_fleet_spawn_dps() {
	local k i pending=("$@") left again
	for k in "${pending[@]}"; do
		slt_node_launch_dp "$k"
	done
	local tries=$((${#pending[@]} > 10 ? ${#pending[@]} * 20 : 200))
	for ((i = 0; i < tries; i++)); do
		left=() again=()
		for k in "${pending[@]}"; do
			grep -qE "$SLT_DP_READY_RE" "$SLT_TMP/dp$k.log" && continue
			if slt_alive "${SLT_NODE_DP_PID[$k]}"; then
				left+=("$k")
			else
				again+=("$k")
			fi
		done
		for k in "${again[@]}"; do
			grep -q "could not set PACKET_FANOUT" "$SLT_TMP/dp$k.log" ||
				slt_fail "node $k: sluice-dp died at start"
			slt_log "node $k: af_packet fanout id collision, starting its sluice-dp again"
			: >"$SLT_TMP/dp$k.log"
			slt_node_launch_dp "$k"
			left+=("$k")
		done
		pending=("${left[@]}")
		[ "${#pending[@]}" = 0 ] && return 0
		sleep 0.1
	done
	slt_fail "dataplanes of nodes ${pending[*]} not ready after $((tries / 10)) s"
}

# slt_fleet_assert_isolated: the layout of the header, checked on the
# running fleet: node k's netns holds exactly lo and slt<id>d<k>, the root
# namespace holds no node's port, node k's sluice-dp runs in node k's
# netns (its /proc/PID/ns/net is that namespace).
slt_fleet_assert_isolated() {
	local k ns links want bad=
	for ((k = 1; k <= FLEET_N; k++)); do
		ns=${SLT_NODE_NS[$k]:-}
		[ -n "$ns" ] || {
			bad+="node $k has no netns; "
			continue
		}
		links=$(ip -n "$ns" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | LC_ALL=C sort | tr '\n' ' ')
		want="lo ${SLT_NODE_DEV[$k]} "
		[ "$links" = "$want" ] || bad+="node $k's netns $ns holds '$links' (want '$want'); "
		! ip link show "${SLT_NODE_DEV[$k]}" >/dev/null 2>&1 ||
			bad+="node $k's port ${SLT_NODE_DEV[$k]} is in the root namespace; "
		[ "$(readlink "/proc/${SLT_NODE_DP_PID[$k]}/ns/net")" = "net:[$(stat -L -c %i "/run/netns/$ns")]" ] ||
			bad+="node $k's sluice-dp (pid ${SLT_NODE_DP_PID[$k]}) is not in $ns; "
	done
	[ -z "$bad" ] || slt_fail "fleet layout: $bad"
	slt_ok "each of the $FLEET_N nodes alone in its netns (lo + its port), its sluice-dp in it; no node port in the root namespace"
}

slt_fleet_start() {
	local k t0
	t0=$(slt_ms)
	slt_fleet_spawn_dps $(seq 1 "$FLEET_N")
	slt_fleet_assert_isolated
	for ((k = 1; k <= FLEET_N; k++)); do
		slt_node_spawn_ctrl "$k"
	done
	for ((k = 1; k <= FLEET_N; k++)); do
		slt_node_wait_ready "$k" 30
	done
	slt_ok "fleet of $FLEET_N nodes ready in $(($(slt_ms) - t0)) ms"
}

# slt_now_ms: wall-clock milliseconds, read without starting a process
# (the watcher below compares its own time.time() with it).
slt_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# slt_fleet_watch_begin H HASH SECS: start the watcher, one process that
# polls every node's control socket (status; one persistent connection
# each; every node still short of the tip asked at once, then every answer
# read, so a round takes the slowest answer, ~20 ms) until all are at tip
# H HASH, for SECS at most; returns once it has asked every node once, so
# what the scenario does next is timed from a watcher already running.
# slt_fleet_watch_end T0 waits for it: FLEET_MS and FLEET_MED_MS are the
# milliseconds from T0 (slt_now_ms) to the last and to the median node's
# first answer at the tip; on a timeout or a dead process it fails the
# scenario with the tips of the nodes not there.  FLEET_FROM=K (default 1)
# watches nodes K..FLEET_N only, FLEET_N=K nodes 1..K only.
slt_fleet_watch_begin() {
	local k args=()
	for ((k = ${FLEET_FROM:-1}; k <= FLEET_N; k++)); do
		args+=("$k:${SLT_NODE_SOCK[$k]}:${SLT_NODE_DP_PID[$k]}:${SLT_NODE_CTRL_PID[$k]}")
	done
	FLEET_WATCH=("$@")
	: >"$SLT_TMP/watch.out"
	"$SLT_PY" - "$1" "$2" "$3" "${args[@]}" >"$SLT_TMP/watch.out" 2>&1 <<'EOF2' &
import json, os, socket, statistics, sys, time
h, want, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
nodes = [a.split(":") for a in sys.argv[4:]]
t_start = time.monotonic()
conns, at, last = {}, {}, {}


def connect(k, path):
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(5)
    c.connect(path)
    conns[k] = (c, c.makefile("r"))


def alive(pid):
    try:
        return open("/proc/%s/stat" % pid).read().split()[2] != "Z"
    except OSError:
        return False


first = True
while len(at) < len(nodes):
    asked = []
    for k, path, dp, ctrl in nodes:
        if k in at:
            continue
        if not alive(dp) or not alive(ctrl):
            print("died", k, flush=True)
            sys.exit(1)
        try:
            if k not in conns:
                connect(k, path)
            conns[k][0].sendall(b'{"id": 1, "cmd": "status"}\n')
            asked.append(k)
        except OSError:
            conns.pop(k, None)
    for k in asked:
        try:
            r = json.loads(conns[k][1].readline())["result"]
        except (OSError, ValueError, KeyError):
            conns.pop(k, None)
            continue
        last[k] = "%s:%s:%s" % (k, r.get("tip_height"), r.get("tip_hash"))
        if r.get("tip_height") == h and r.get("tip_hash") == want:
            at[k] = time.time() * 1000
    if first:
        print("ready", flush=True)
        first = False
    if time.monotonic() - t_start > secs:
        print("timeout", " ".join(last.get(k, k + ":?") for k, *_ in nodes if k not in at),
              flush=True)
        sys.exit(1)
    time.sleep(0.01)
print("at", int(max(at.values())), int(statistics.median(at.values())), flush=True)
EOF2
	FLEET_WATCH_PID=$!
	while ! grep -q '^ready' "$SLT_TMP/watch.out"; do
		slt_alive "$FLEET_WATCH_PID" || break
		sleep 0.02
	done
}

slt_fleet_watch_end() {
	local t0=$1 out k
	wait "$FLEET_WATCH_PID"
	out=$(grep -v '^ready' "$SLT_TMP/watch.out")
	case $out in
	at*) ;;
	timeout*)
		for k in ${out#timeout }; do
			k=${k%%:*}
			slt_log "node $k peers: $(slt_node_ctl "$k" --json peers | head -c 800)"
			slt_log "node $k sync.status: $(slt_node_ctl "$k" --json sync.status | head -c 800)"
		done
		slt_fail "not every node at ${FLEET_WATCH[0]} ${FLEET_WATCH[1]} after ${FLEET_WATCH[2]} s: ${out#timeout }"
		;;
	died*) slt_fail "node ${out#died }: a process died" ;;
	*) slt_fail "the tip watcher: $out" ;;
	esac
	read -r _ FLEET_MS FLEET_MED_MS <<<"$out"
	FLEET_MS=$((FLEET_MS - t0)) FLEET_MED_MS=$((FLEET_MED_MS - t0))
}

# slt_fleet_wait_tip H HASH SECS: every node at tip H HASH (display hex)
# within SECS (slt_fleet_watch_begin + _end, timed from the call).
slt_fleet_wait_tip() {
	local t0
	t0=$(slt_now_ms)
	slt_fleet_watch_begin "$@"
	slt_fleet_watch_end "$t0"
}

# slt_fleet_peers_up K: node k's sessions that are up.
slt_fleet_peers_up() {
	slt_node_ctl "$1" --json peers 2>/dev/null |
		slt_jq 'len([p for p in v if p.get("state", "up") == "up"])' 2>/dev/null
}

slt_fleet_wait_peered() {
	local secs=$1 i lonely
	for ((i = 0; i < secs * 4; i++)); do
		lonely=$(slt_fleet_api peers 'len([p for p in v if p.get("state", "up") == "up"])' |
			awk '$2 == 0 { printf "%s ", $1 }')
		[ -z "$lonely" ] && return 0
		sleep 0.25
	done
	slt_fail "nodes with no peer up after $secs s: $lonely"
}

# slt_fleet_degrees: "k:peers" of every node.
slt_fleet_degrees() {
	slt_fleet_api peers 'len([p for p in v if p.get("state", "up") == "up"])' | tr ' \n' ': '
	echo
}

slt_fleet_assert_same() {
	local k
	slt_node_ctl 1 --json header.export path="$SLT_TMP/fleet1.headers" >/dev/null ||
		slt_fail "node 1: export"
	for ((k = 2; k <= FLEET_N; k++)); do
		slt_node_ctl "$k" --json header.export path="$SLT_TMP/fleet$k.headers" >/dev/null ||
			slt_fail "node $k: export"
		cmp -s "$SLT_TMP/fleet1.headers" "$SLT_TMP/fleet$k.headers" ||
			slt_fail "node $k's chain differs from node 1's"
		rm -f "$SLT_TMP/fleet$k.headers"
	done
	slt_ok "chains identical: every node's export is byte-identical ($(($(stat -c %s "$SLT_TMP/fleet1.headers") / 80)) headers)"
}

# slt_fleet_check SECS: the after-checks of every fault scenario, for every
# node, in one process talking to the control sockets and the DPDK
# telemetry sockets directly (a sluicectl per question and node is seconds
# on a loaded machine).  Within SECS each node must be settled (sync.status
# queued 0, held 0, no live range in `ranges`, state synced: no stranded
# range) and have no ghost (ctrl's sessions that are up = the dataplane's
# live sessions, telemetry /sluice/sessions paged through, whose number
# /sluice/lcores counts; sessions come and go, so only a difference that
# lasts counts), and report evt_critical_lost 0.  Prints
# one line per node that fails, with what it saw; returns 1 then.
slt_fleet_check() {
	local k args=() rundir
	rundir=$(dirname "$SLT_RUNDIR")
	for ((k = 1; k <= FLEET_N; k++)); do
		args+=("$k:${SLT_NODE_SOCK[$k]}:$rundir/${SLT_NODE_PREFIX[$k]}/dpdk_telemetry.v2")
	done
	SLT_DIR=$SLT_SRC/tests/integration "$SLT_PY" - "$1" "${args[@]}" <<'EOF2'
import json, os, socket, sys, time
sys.path.insert(0, os.environ["SLT_DIR"])
from slpeer import stat_totals as totals, tel, tel_sessions
secs = float(sys.argv[1])
nodes = [a.split(":") for a in sys.argv[2:]]


def api(path, cmd):
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(path)
        c.sendall(json.dumps({"id": 1, "cmd": cmd}).encode() + b"\n")
        r = json.loads(c.makefile("r").readline())
    if not r.get("ok"):
        raise OSError("%s: %s" % (cmd, r.get("error")))
    return r["result"]


def judge(k, sock, tsock):
    ss = api(sock, "sync.status")
    rg = api(sock, "ranges")
    bad = []
    if ss["queued"] or ss["held"] or rg or ss["state"] != "synced":
        bad.append("stranded: queued %s held %s live ranges %d state %s" %
                   (ss["queued"], ss["held"], len(rg), ss["state"]))
    up = set(p["session"] for p in api(sock, "peers") if p.get("state", "up") == "up")
    # every live session of the dataplane, paged (/sluice/sessions,start),
    # against /sluice/lcores' count of them
    n_dp = sum(c["sessions"] for c in tel(tsock, "/sluice/lcores").values())
    dp = set(int(s, 16) for s, _ in tel_sessions(tsock)[0])
    if up != dp or n_dp != len(dp):
        bad.append("ghost: ctrl-only %s dataplane-only %s (ctrl %d up, dataplane %d live)" %
                   (sorted("%x" % x for x in up - dp), sorted("%x" % x for x in dp - up),
                    len(up), n_dp))
    lost = totals(api(sock, "stats"))["evt_critical_lost"]
    if lost:
        bad.append("evt_critical_lost %d" % lost)
    return bad


end = time.monotonic() + secs
left = {k: (s, t) for k, s, t in nodes}
last = {}
while left and time.monotonic() < end:
    for k in list(left):
        try:
            b = judge(k, *left[k])
        except (OSError, ValueError, KeyError) as e:
            b = ["no answer: %s" % e]
        if b:
            last[k] = b
        else:
            del left[k]
    if left:
        time.sleep(0.2)
for k in sorted(left, key=int):
    print("node %s: %s" % (k, "; ".join(last[k])))
sys.exit(1 if left else 0)
EOF2
}

# slt_fleet_assert_clean_state [SECS]: slt_fleet_check (default 20 s), fail
# with what it printed.
slt_fleet_assert_clean_state() {
	local out
	out=$(slt_fleet_check "${1:-20}") ||
		slt_fail "after-checks: $(printf '%s\n' "$out" | head -8 | tr '\n' ' ')"
	slt_ok "no stranded range, no ghost peer, no critical event lost on any of the $FLEET_N nodes"
}

# slt_fleet_api CMD [EXPR]: CMD (no args) on every node's control socket in
# one process; prints "K VALUE" per node, VALUE the Python expression EXPR
# over the result v (default: the result as JSON).
slt_fleet_api() {
	local k args=()
	for ((k = 1; k <= FLEET_N; k++)); do
		args+=("$k:${SLT_NODE_SOCK[$k]}")
	done
	"$SLT_PY" - "$1" "${2:-json.dumps(v)}" "${args[@]}" <<'EOF2'
import json, socket, statistics, sys
cmd, expr = sys.argv[1], sys.argv[2]
for a in sys.argv[3:]:
    k, path = a.split(":", 1)
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(path)
        c.sendall(json.dumps({"id": 1, "cmd": cmd}).encode() + b"\n")
        v = json.loads(c.makefile("r").readline())["result"]
    print(k, eval(expr, {"v": v, "json": json, "statistics": statistics}))
EOF2
}

# slt_fleet_sum CMD EXPR: the sum over the nodes of EXPR (a number) over
# CMD's result.
slt_fleet_sum() {
	slt_fleet_api "$1" "$2" | awk '{ s += $2 } END { print s + 0 }'
}

# slt_fleet_settled_log: every node's sync.status counters that are not 0,
# one line each (the figures of a scenario's report).
slt_fleet_settled_log() {
	slt_fleet_api sync.status 'json.dumps({"tip": v["tip"], "counters": {x: y for x, y in v["counters"].items() if y}, "new_block": {x: y for x, y in v["new_block"].items() if y}})' |
		while read -r k line; do slt_log "node $k sync.status: $line"; done
}

slt_fleet_partition() {
	local k br=slt${SLT_ID}p
	ip -n "$SLT_NS" link show "$br" >/dev/null 2>&1 || {
		ip -n "$SLT_NS" link add "$br" type bridge || slt_fail "bridge $br"
		ip -n "$SLT_NS" link set "$br" up || slt_fail "$br up"
	}
	for k in "$@"; do
		ip -n "$SLT_NS" link set "slt${SLT_ID}q$k" master "$br" || slt_fail "port of node $k to $br"
	done
	slt_log "partition: nodes $* on bridge $br, the others on $SLT_LAN_BR"
}

slt_fleet_heal() {
	local k
	for ((k = 1; k <= FLEET_N; k++)); do
		ip -n "$SLT_NS" link set "slt${SLT_ID}q$k" master "$SLT_LAN_BR" || slt_fail "port of node $k back"
	done
	slt_log "healed: every node on $SLT_LAN_BR"
}

slt_fleet_stop() {
	local k rundir h
	# SIGTERM to every process at once, then each must exit 0
	for ((k = 1; k <= FLEET_N; k++)); do
		kill -TERM "${SLT_NODE_DP_PID[$k]}" "${SLT_NODE_CTRL_PID[$k]}" 2>/dev/null
	done
	for ((k = FLEET_N; k >= 1; k--)); do
		slt_node_stop "$k"
	done
	for ((k = 1; k <= FLEET_N; k++)); do
		[ ! -e "$SLT_REGION_DIR/sluice-${SLT_NODE_INST[$k]}.region" ] ||
			slt_fail "node $k: region file left behind"
		rundir=$(dirname "$SLT_RUNDIR")/${SLT_NODE_PREFIX[$k]}
		[ ! -e "$rundir" ] || slt_fail "node $k: DPDK runtime dir left behind: $rundir"
		h=$(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | while read -r m; do
			ls -d "$m/${SLT_NODE_PREFIX[$k]}map_"* 2>/dev/null
		done)
		[ -z "$h" ] || slt_fail "node $k: hugepage files left behind: $h"
		[ ! -e "${SLT_NODE_SOCK[$k]}" ] || slt_fail "node $k: control socket left behind"
		[ -z "${SLT_NODE_DP_PID[$k]}${SLT_NODE_CTRL_PID[$k]}" ] ||
			slt_fail "node $k: a process left"
	done
	slt_ok "fleet stopped: every process exited 0; no region, runtime dir, hugepage file or socket left"
}

# slt_fleet_after_pair: the fleet scenarios' after-checks over the two
# nodes of a two-node fault scenario (ctrl_crash_resume, kill_both_resume,
# link_flap, ctrl_rollout): chains identical (both exports byte-identical,
# and to the generated $SLT_TMP/chain.headers), no stranded range, no
# ghost peer (each ctrl's sessions up = its dataplane's live sessions), no
# critical event lost, then both stop with exit 0 and leave no region,
# runtime dir, hugepage file or socket.
slt_fleet_after_pair() {
	FLEET_N=2
	slt_fleet_assert_same
	cmp -s "$SLT_TMP/chain.headers" "$SLT_TMP/fleet1.headers" ||
		slt_fail "the chain is not the generated one"
	slt_fleet_assert_clean_state
	slt_fleet_stop
}
