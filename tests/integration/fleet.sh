# fleet.sh — a fleet of nodes on one machine (issue 13 item 4): N nodes
# (default 16), each a sluice-dp + sluice-ctrl pair on its own veth whose
# other end is a port of one bridge (slt_lan_up), with idle sleep and small
# memory so two cores carry them.  Sourced after lib.sh by the fleet_*
# scenarios; not run on its own.
#
#   slt_fleet_up N [PROFILE]  the bridge, N node configs: regtest (or
#                             PROFILE), idle_sleep_us $SLT_FLEET_IDLE_US
#                             (default 1000), EAL -m $SLT_FLEET_MEM_MB
#                             (default 48), [peers] outbound
#                             $SLT_FLEET_OUTBOUND (default 3); node k > 1
#                             bootstraps to node k-1 and to node (k/2),
#                             so the graph is connected but not full and
#                             discovery does the rest.  Sets FLEET_N.
#   slt_fleet_start           start every node (dataplanes first, all at
#                             once, fanout collisions retried; then every
#                             ctrl), wait until all are ready
#   slt_fleet_wait_tip H HASH SECS [T0]  every node at tip H HASH; sets
#                             FLEET_MS / FLEET_MED_MS: milliseconds from T0
#                             (slt_ms) to the last / the median node
#   slt_fleet_wait_peered SECS every node with at least one peer up
#   slt_fleet_assert_same     every node's export byte-identical to node 1's
#   slt_fleet_assert_settled  no stranded range on any node (slt_node_settled)
#   slt_fleet_assert_no_ghost every node's ctrl peers = its dataplane's
#                             live sessions (telemetry /sluice/sessions)
#   slt_fleet_assert_lost0    evt_critical_lost 0 on every node
#   slt_fleet_partition K...  move the bridge ports of nodes K... to a
#                             second bridge slt<id>p: two L2 segments that
#                             cannot reach each other (a partition)
#   slt_fleet_heal            every port back on the one bridge
#   slt_fleet_stop            SIGTERM every node (exit 0 each), then no
#                             region, DPDK runtime dir, hugepage file,
#                             socket or process of any node left
#   slt_ms                    milliseconds of a monotonic clock
# Everything it starts is removed by lib.sh's trap (slt_nodes_cleanup).

FLEET_N=0

slt_ms() { "$SLT_PY" -c 'import time; print(int(time.monotonic() * 1000))'; }

slt_fleet_up() {
	local n=$1 profile=${2:-regtest} k f boot
	FLEET_N=$n
	slt_lan_up "$n"
	for ((k = 1; k <= n; k++)); do
		slt_node_config "$k" >/dev/null
		f=${SLT_NODE_CFG[$k]}
		sed -i "s/ -m 256 / -m ${SLT_FLEET_MEM_MB:-48} /" "$f"
		slt_cfg_set "$f" chain profile "$profile"
		slt_cfg_set "$f" dataplane idle_sleep_us "${SLT_FLEET_IDLE_US:-1000}"
		slt_cfg_set "$f" peers outbound "${SLT_FLEET_OUTBOUND:-3}"
		slt_cfg_set "$f" peers connect_timeout_ms 3000
		slt_cfg_set "$f" peers redial_s 1
		slt_cfg_set "$f" admission max_peers "${SLT_FLEET_MAX_PEERS:-32}"
		[ "$k" -gt 1 ] || continue
		boot=${SLT_NODE_IP[$((k - 1))]}:9747
		[ $((k / 2)) -lt $((k - 1)) ] && [ $((k / 2)) -ge 1 ] &&
			boot+=",${SLT_NODE_IP[$((k / 2))]}:9747"
		slt_cfg_set "$f" peers bootstrap "$boot"
	done
	slt_log "fleet of $n nodes configured (-m ${SLT_FLEET_MEM_MB:-48}, idle_sleep_us ${SLT_FLEET_IDLE_US:-1000}, outbound ${SLT_FLEET_OUTBOUND:-3})"
}

# slt_fleet_spawn_dps K...: start the dataplanes of nodes K... at once and
# wait (20 s) until each logged ready; one that died of an af_packet fanout
# id collision (see slt_node_spawn_dp) is started again alone.
slt_fleet_spawn_dps() {
	local k i pending=("$@") left again
	for k in "${pending[@]}"; do
		"$SLUICE_DP" -c "${SLT_NODE_CFG[$k]}" </dev/null >>"$SLT_TMP/dp$k.log" 2>&1 &
		SLT_NODE_DP_PID[$k]=$!
	done
	for ((i = 0; i < 200; i++)); do
		left=() again=()
		for k in "${pending[@]}"; do
			grep -q "info: dp_main: ready:" "$SLT_TMP/dp$k.log" && continue
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
			slt_node_spawn_dp "$k"
		done
		pending=("${left[@]}")
		[ "${#pending[@]}" = 0 ] && return 0
		sleep 0.1
	done
	slt_fail "dataplanes of nodes ${pending[*]} not ready after 20 s"
}

slt_fleet_start() {
	local k t0
	t0=$(slt_ms)
	slt_fleet_spawn_dps $(seq 1 "$FLEET_N")
	for ((k = 1; k <= FLEET_N; k++)); do
		"$SLUICE_CTRL" -c "${SLT_NODE_CFG[$k]}" </dev/null >>"$SLT_TMP/ctrl$k.log" 2>&1 &
		SLT_NODE_CTRL_PID[$k]=$!
	done
	for ((k = 1; k <= FLEET_N; k++)); do
		slt_node_wait_ready "$k" 30
	done
	slt_ok "fleet of $FLEET_N nodes ready in $(($(slt_ms) - t0)) ms"
}

# slt_fleet_tips: "k:height:hash" of every node, one line each.
slt_fleet_tips() {
	local k
	for ((k = 1; k <= FLEET_N; k++)); do
		echo "$k:$(slt_node_tip "$k" | tr ' ' ':')"
	done
}

# slt_fleet_watch_tip H HASH SECS [T0]: one process polls every node's
# control socket (status, one persistent connection each, ~20 ms a round)
# until all are at tip H HASH; prints "max_ms median_ms" counted from T0
# (slt_ms; default: its start),
# or on timeout "timeout k:height:hash..." of the nodes not there, and
# "died k" when a process of node k is gone.
slt_fleet_watch_tip() {
	local k args=()
	for ((k = 1; k <= FLEET_N; k++)); do
		args+=("$k:${SLT_NODE_SOCK[$k]}:${SLT_NODE_DP_PID[$k]}:${SLT_NODE_CTRL_PID[$k]}")
	done
	"$SLT_PY" - "$1" "$2" "$3" "${4:-0}" "${args[@]}" <<'EOF2'
import json, os, socket, statistics, sys, time
h, want, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
nodes = [a.split(":") for a in sys.argv[5:]]
t0 = int(sys.argv[4]) / 1000.0 or time.monotonic()
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
# each round asks every node still short of the tip at once, then reads
# the answers: a round takes the slowest answer, not their sum
while len(at) < len(nodes):
    asked = []
    for k, path, dp, ctrl in nodes:
        if k in at:
            continue
        if not alive(dp) or not alive(ctrl):
            print("died", k)
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
            at[k] = (time.monotonic() - t0) * 1000
    if time.monotonic() - t0 > secs:
        print("timeout", " ".join(last.get(k, k + ":?") for k, *_ in nodes if k not in at))
        sys.exit(1)
    time.sleep(0.01)
print(int(max(at.values())), int(statistics.median(at.values())))
EOF2
}

# slt_fleet_wait_tip H HASH SECS [T0]: every node at tip H HASH (display
# hex) within SECS; sets FLEET_MS (the last node) and FLEET_MED_MS (the
# median node), counted from T0 (slt_ms; default: the call).
slt_fleet_wait_tip() {
	local out k
	out=$(slt_fleet_watch_tip "$@")
	case $out in
	died*) slt_fail "node ${out#died }: a process died" ;;
	timeout*)
		for k in ${out#timeout }; do
			k=${k%%:*}
			slt_log "node $k peers: $(slt_node_ctl "$k" --json peers | head -c 800)"
			slt_log "node $k sync.status: $(slt_node_ctl "$k" --json sync.status | head -c 800)"
		done
		slt_fail "not every node at $1 $2 after $3 s: ${out#timeout }"
		;;
	esac
	read -r FLEET_MS FLEET_MED_MS <<<"$out"
}

# slt_fleet_peers_up K: node k's sessions that are up.
slt_fleet_peers_up() {
	slt_node_ctl "$1" --json peers 2>/dev/null |
		slt_jq 'len([p for p in v if p.get("state", "up") == "up"])' 2>/dev/null
}

slt_fleet_wait_peered() {
	local secs=$1 i k n ok
	for ((i = 0; i < secs * 2; i++)); do
		ok=1
		for ((k = 1; k <= FLEET_N; k++)); do
			n=$(slt_fleet_peers_up "$k")
			[ "${n:-0}" -ge 1 ] || {
				ok=
				break
			}
		done
		[ -n "$ok" ] && return 0
		sleep 0.5
	done
	slt_fail "node $k has no peer up after $secs s"
}

# slt_fleet_degrees: "k:peers" of every node.
slt_fleet_degrees() {
	local k
	for ((k = 1; k <= FLEET_N; k++)); do
		printf '%s:%s ' "$k" "$(slt_fleet_peers_up "$k")"
	done
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

slt_fleet_assert_settled() {
	local k
	for ((k = 1; k <= FLEET_N; k++)); do
		slt_node_settled "$k" 20
	done
	slt_ok "no stranded range: every node's range table is empty, every node synced"
}

# slt_fleet_ghosts K: "ctrl-only-sessions|dp-only-sessions" of node k (empty
# on both sides: no ghost).  Only sessions that are up count on ctrl's side.
slt_fleet_ghosts() {
	local k=$1 cp dp
	cp=$(slt_node_ctl "$k" --json peers | slt_jq '" ".join(sorted("%x" % p["session"] for p in v if p.get("state", "up") == "up"))')
	dp=$(slt_node_telemetry_json "$k" /sluice/sessions | slt_jq '" ".join(sorted("%x" % int(s, 16) for s in v.keys()))')
	"$SLT_PY" -c 'import sys; c, d = set(sys.argv[1].split()), set(sys.argv[2].split()); print(" ".join(sorted(c - d)) + "|" + " ".join(sorted(d - c)))' "$cp" "$dp"
}

slt_fleet_assert_no_ghost() {
	local k i g
	for ((k = 1; k <= FLEET_N; k++)); do
		# sessions come and go (discovery-only ones close after their
		# exchange): a difference must persist to be a ghost
		for ((i = 0; i < 25; i++)); do
			g=$(slt_fleet_ghosts "$k")
			[ "$g" = "|" ] && break
			sleep 0.2
		done
		[ "$g" = "|" ] || slt_fail "node $k: ghost peers: ctrl-only [${g%|*}] dataplane-only [${g#*|}]"
	done
	slt_ok "no ghost peer: on every node ctrl's peers are the dataplane's live sessions"
}

slt_fleet_assert_lost0() {
	local k lost
	for ((k = 1; k <= FLEET_N; k++)); do
		lost=$(slt_node_stats_json "$k" | slt_json_get evt_critical_lost)
		[ "$lost" = 0 ] || slt_fail "node $k: evt_critical_lost = $lost"
	done
	slt_ok "no critical event lost on any node"
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
