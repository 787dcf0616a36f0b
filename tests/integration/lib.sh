# lib.sh — the integration-test harness (STYLE.md "Tests": start node, wait
# ready, talk to the API, stop, assert nothing left behind).  Sourced by every
# scenario in tests/integration/ and by deploy/demo.sh; not run on its own.
#
# What it gives a scenario:
#   slt_init                  run id, temp dir, the cleanup trap
#   slt_require_root / slt_require_tools T... / slt_require_bins
#                             skip (exit 77) with the reason when missing
#   slt_net_up                netns slt<id> + veth slt<id>d (root side, for
#                             DPDK net_af_packet) <-> slt<id>n (in the netns,
#                             kernel IP 10.<x>.0.1/24); dp IP 10.<x>.0.2
#   slt_write_config [FILE]   a node config using the above (prints its path)
#   slt_start_dp / slt_start_ctrl / slt_wait_ready [SECS]
#   slt_ctl ARGS...           sluicectl --socket <ours> ARGS...
#   slt_telemetry KEY [CMD]   one value of a DPDK telemetry dict (stock client)
#   slt_ctl_stat KEY          one dataplane counter from `sluicectl --json stats`
#   slt_stop_dp / slt_stop_ctrl / slt_stop   SIGTERM, wait, assert exit 0
#   slt_assert_clean          no region, socket, DPDK runtime dir or hugepage file
#   slt_ok MSG / slt_fail MSG / slt_skip MSG
# Every name this harness creates in the kernel starts with "slt".  The trap
# kills only the processes it started (by pid) and deletes its netns, link
# and temp dir on any exit.
#
# Binaries: $SLUICE_DP, $SLUICE_CTRL, $SLUICECTL (set by meson; defaults: the
# build/ dir of the source tree).
#
# Worker lcores: SLT_LCORES=N (default 1) gives every node N worker lcores
# (EAL -l 0-(N-1)) and its af_packet port N queue pairs (qpairs=N);
# SLT_NODE_LCORES[K]=N sets it for node K alone.  slt_lcores_eal /
# slt_lcores_port print the pieces the config writers use.

set -u -o pipefail

SLT_SRC=${SLUICE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SLUICE_DP=${SLUICE_DP:-$SLT_SRC/build/dataplane/sluice-dp}
SLUICE_CTRL=${SLUICE_CTRL:-$SLT_SRC/build/ctrl/sluice-ctrl}
SLUICECTL=${SLUICECTL:-$SLT_SRC/build/ctrl/sluicectl}
SLT_PY=/usr/bin/python3
SLT_NAME=$(basename "$0" .sh)

SLT_DP_PID=
SLT_CTRL_PID=
SLT_NS=
SLT_NS_MADE=() # every netns slt_netns_add made (a scenario may set up twice)
SLT_DEV=
SLT_PEER=
SLT_TMP=
SLT_FAILED=0
SLT_LCORES=${SLT_LCORES:-1}
declare -A SLT_NODE_LCORES=()
# Extra cleanup steps a scenario registers (run by the trap after the
# processes are gone and before the temp dir is removed).
SLT_CLEANUP_HOOKS=()

slt_log() { printf '[%s] %s\n' "$SLT_NAME" "$*"; }
slt_ok() { slt_log "ok: $*"; }

# slt_skip prints why and exits 77 (meson's "skipped").
slt_skip() {
	slt_log "SKIP: $*"
	exit 77
}

# slt_fail prints the reason and the process logs, then exits 1 (the trap
# cleans up).
slt_fail() {
	SLT_FAILED=1
	slt_log "FAIL: $*"
	slt_dump_logs
	exit 1
}

slt_dump_logs() {
	local f
	[ -n "$SLT_TMP" ] || return 0
	for f in "$SLT_TMP"/*.log; do
		[ -s "$f" ] || continue
		echo "----- $(basename "$f") (last 60 lines) -----"
		tail -n 60 "$f"
	done
	echo "-----"
}

slt_require_root() {
	[ "$(id -u)" = 0 ] || slt_skip "needs root (network namespaces, veth, DPDK af_packet)"
}

slt_require_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || slt_skip "tool '$t' not found"
	done
}

# slt_require_test_hooks: the scenario drives a [dataplane] fault_* key,
# which only a build with CONFIG_SL_TEST_HOOKS has (the suite's build,
# test_defconfig; `sluice-dp --version` names it).
slt_require_test_hooks() {
	"$SLUICE_DP" --version 2>/dev/null | grep -q 'test-hooks' ||
		slt_skip "needs a build with CONFIG_SL_TEST_HOOKS (meson setup -Ddefconfig=test_defconfig); $("$SLUICE_DP" --version 2>&1)"
}

slt_require_bins() {
	local b
	for b in "$SLUICE_DP" "$SLUICE_CTRL" "$SLUICECTL"; do
		[ -x "$b" ] || slt_skip "binary $b not built"
	done
}

# slt_init: a run id unique on this machine (pid + random, fits "slt<id>n"
# in the 15 characters of an interface name), a temp dir (under
# $SLT_TMPDIR, default /tmp: SLT_TMPDIR=/dev/shm puts the nodes' stores on
# tmpfs, a bench's way to see what the disk's syncs cost), and the trap.
slt_init() {
	slt_mint_id
	SLT_TMP=$(mktemp -d "${SLT_TMPDIR:-/tmp}/slt.XXXXXX")
	SLT_SOCK=$SLT_TMP/ctrl.sock
	trap slt_cleanup EXIT
	trap 'trap "" INT TERM HUP PIPE; exit 130' INT TERM
	slt_log "run id $SLT_ID, temp dir $SLT_TMP"
}

# slt_mint_id: a fresh run id and every name derived from it (instance,
# DPDK file prefix, region, runtime dir, subnet).  Called by slt_init, and
# again by slt_netns_add on a name clash (before anything used the names).
slt_mint_id() {
	SLT_ID=$(printf '%05d' $((($$ * 7 + RANDOM) % 100000)))
	SLT_X=$((100 + (10#$SLT_ID % 150)))
	SLT_INST=slt$SLT_ID
	SLT_PREFIX=slt$SLT_ID
	SLT_NS_IP=10.$SLT_X.0.1
	SLT_DP_IP=10.$SLT_X.0.2
	SLT_REGION_DIR=${SLT_REGION_DIR:-/dev/shm}
	SLT_REGION=$SLT_REGION_DIR/sluice-$SLT_INST.region
	if [ "$(id -u)" = 0 ]; then
		SLT_RUNDIR=${RUNTIME_DIRECTORY:-/var/run}/dpdk/$SLT_PREFIX
	else
		SLT_RUNDIR=${XDG_RUNTIME_DIR:-/tmp}/dpdk/$SLT_PREFIX
	fi
}

# slt_netns_add: create netns slt<id> (SLT_NS).  A clash with a name that
# already exists (a namespace or an interface of another run) mints a new
# id and tries again, five times at most; a namespace that cannot be made
# at all (no CAP_SYS_ADMIN) is a skip that says why.
slt_netns_add() {
	local try err
	for try in 1 2 3 4 5; do
		SLT_NS=slt$SLT_ID
		# (the link list as a string: `ip | grep -q` under pipefail fails
		# when grep's early exit SIGPIPEs ip, and a clash went unseen)
		if [ -e "/run/netns/$SLT_NS" ] || compgen -G "/run/netns/slt${SLT_ID}[a-z]*" >/dev/null ||
			[[ $(ip -o link show) == *": slt$SLT_ID"[a-z]* ]]; then
			slt_log "name clash: slt$SLT_ID exists already (try $try), minting another id"
			slt_mint_id
			continue
		fi
		if err=$(ip netns add "$SLT_NS" 2>&1); then
			SLT_NS_MADE+=("$SLT_NS")
			return 0
		fi
		if [ -e "/run/netns/$SLT_NS" ] || [[ $err == *"exists"* ]]; then
			slt_log "name clash on ip netns add $SLT_NS (try $try): $err"
			SLT_NS=
			slt_mint_id
			continue
		fi
		SLT_NS=
		slt_skip "cannot create a network namespace here ($err): needs CAP_SYS_ADMIN"
	done
	SLT_NS=
	slt_fail "ip netns add: five name clashes in a row"
}

# slt_kill_pid PID: SIGKILL one process we started, if it still runs.
slt_kill_pid() {
	[ -n "$1" ] || return 0
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
	fi
	return 0
}

# slt_invariants_broken: log lines of a broken invariant (CONFIG_SL_INVARIANTS:
# the range table's conservation check, a routine invariant) in any log of
# this run.  A scenario that breaks one on purpose sets SLT_EXPECT_FAULTS=1.
slt_invariants_broken() {
	[ -n "$SLT_TMP" ] || return 0
	grep -h -e 'range table invariant broken' -e 'routine fault:' "$SLT_TMP"/*.log 2>/dev/null | head -5
}

# Nothing may cut the cleanup short: GNU timeout signals the script and
# then its whole process group (meson's timeout and a second Ctrl-C do
# the like), and a second INT/TERM with the default action would kill the
# shell mid-cleanup (typically right after `ip link del`: an empty netns
# slt<id> left behind).  So the signals are ignored from the first one
# on, in the shell and in what the cleanup runs.
slt_cleanup() {
	local rc=$?
	trap '' INT TERM HUP PIPE
	trap - EXIT
	if [ "$rc" = 0 ] && [ "${SLT_EXPECT_FAULTS:-0}" = 0 ]; then
		local broken
		broken=$(slt_invariants_broken)
		if [ -n "$broken" ]; then
			slt_log "FAIL: an invariant broke during the run:"
			printf '%s\n' "$broken"
			rc=1
		fi
	fi
	[ "$SLT_FAILED" = 0 ] && [ "$rc" != 0 ] && [ "$rc" != 77 ] && slt_dump_logs
	slt_kill_pid "$SLT_DP_PID"
	slt_kill_pid "$SLT_CTRL_PID"
	# The netns first: its veth goes with it (a SIGKILL between the two
	# then leaves no empty namespace); the link after, for a netns that a
	# leftover process keeps alive.  Every netns made, not only the last:
	# a scenario that sets up a second network (xdp_steer) found its first
	# netns a name clash, minted a new id, and left the first behind.
	local ns
	for ns in "${SLT_NS_MADE[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$SLT_DEV" ]; then
		ip link del "$SLT_DEV" 2>/dev/null
	fi
	# Whatever a failed run left: ours alone (unique names).
	if [ -n "${SLT_PREFIX:-}" ]; then
		rm -f "$SLT_REGION"
		rm -rf "$SLT_RUNDIR"
		slt_hugefiles | xargs -r rm -f
	fi
	local h
	for h in "${SLT_CLEANUP_HOOKS[@]}"; do
		"$h"
	done
	[ -n "$SLT_TMP" ] && rm -rf "$SLT_TMP"
	exit "$rc"
}

# slt_net_up: netns + veth pair, checksum offload off on both ends (the
# kernel then writes real checksums that af_packet hands to DPDK), IPv6 off
# (no ND/MLD noise in the dataplane's drop counters), both ends up.
slt_net_up() {
	slt_netns_add
	SLT_DEV=slt${SLT_ID}d
	SLT_PEER=slt${SLT_ID}n
	ip link add "$SLT_DEV" type veth peer name "$SLT_PEER" ||
		slt_fail "ip link add $SLT_DEV"
	ip link set "$SLT_PEER" netns "$SLT_NS" || slt_fail "move $SLT_PEER"
	sysctl -qw "net.ipv6.conf.$SLT_DEV.disable_ipv6=1" >/dev/null 2>&1
	ip netns exec "$SLT_NS" sysctl -qw "net.ipv6.conf.$SLT_PEER.disable_ipv6=1" \
		>/dev/null 2>&1
	ethtool -K "$SLT_DEV" tx off >/dev/null 2>&1 || slt_fail "ethtool $SLT_DEV"
	ip netns exec "$SLT_NS" ethtool -K "$SLT_PEER" tx off >/dev/null 2>&1 ||
		slt_fail "ethtool $SLT_PEER"
	ip -n "$SLT_NS" addr add "$SLT_NS_IP/24" dev "$SLT_PEER" || slt_fail "addr"
	ip -n "$SLT_NS" link set lo up
	ip -n "$SLT_NS" link set "$SLT_PEER" up || slt_fail "peer up"
	ip link set "$SLT_DEV" up || slt_fail "dev up"
	SLT_DEV_MAC=$(cat "/sys/class/net/$SLT_DEV/address")
	slt_log "netns $SLT_NS: $SLT_PEER $SLT_NS_IP/24  <->  $SLT_DEV ($SLT_DEV_MAC) for dp $SLT_DP_IP"
}

# slt_nsexec CMD...: run in the test namespace.
slt_nsexec() { ip netns exec "$SLT_NS" "$@"; }

# slt_lcores_eal N DEFAULT: the EAL -l value for N worker lcores (DEFAULT,
# the single lcore a config used before, when N is 1).
slt_lcores_eal() {
	if [ "$1" -gt 1 ]; then echo "0-$(($1 - 1))"; else echo "$2"; fi
}

# slt_lcores_port N: the devargs suffix giving an af_packet port N queue
# pairs (empty for 1).
slt_lcores_port() {
	if [ "$1" -gt 1 ]; then echo ",qpairs=$1"; fi
}

# slt_write_config [FILE]: write the node config, print its path.
slt_write_config() {
	local f=${1:-$SLT_TMP/node.ini}
	cat >"$f" <<EOF
; generated by tests/integration/lib.sh for $SLT_NAME
[instance]
name = $SLT_INST
region_dir = $SLT_REGION_DIR

[eal]
args = --no-pci --no-huge -m 128 --file-prefix $SLT_PREFIX -l $(slt_lcores_eal "$SLT_LCORES" 0)

[dataplane]
port = net_af_packet0,iface=${SLT_DEV:-slt${SLT_ID}d}$(slt_lcores_port "$SLT_LCORES")
ip = $SLT_DP_IP/24
udp_port = 9747
idle_sleep_us = 50

[ctrl]
socket = $SLT_SOCK
store = $SLT_TMP/store

[chain]
profile = regtest

[admission]
max_peers = 8
; scenarios misbehave from one address on purpose, case after case:
; no automatic bans here (bans_act turns them on)
ban_score = 0

[log]
level = info
EOF
	SLT_CFG=$f
	echo "$f"
}

slt_start_dp() {
	"$SLUICE_DP" -c "$SLT_CFG" </dev/null >>"$SLT_TMP/dp.log" 2>&1 &
	SLT_DP_PID=$!
	slt_log "sluice-dp pid $SLT_DP_PID"
}

slt_start_ctrl() {
	"$SLUICE_CTRL" -c "$SLT_CFG" </dev/null >>"$SLT_TMP/ctrl.log" 2>&1 &
	SLT_CTRL_PID=$!
	slt_log "sluice-ctrl pid $SLT_CTRL_PID"
}

# slt_ctl ARGS...: sluicectl against our socket.
slt_ctl() { "$SLUICECTL" --socket "$SLT_SOCK" "$@"; }

# slt_json_get PATH: read JSON on stdin, print the value at a dotted path
# ("state", "dataplane.mac"); exit 1 if absent.
slt_json_get() {
	"$SLT_PY" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    if not isinstance(v, dict) or k not in v:
        sys.exit(1)
    v = v[k]
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
' "$1"
}

# slt_state: the "state" of `sluicectl --json status`, or "" if no answer.
slt_state() { slt_ctl --json status 2>/dev/null | slt_json_get state 2>/dev/null; }

slt_alive() {
	[ -n "$1" ] && [ -e "/proc/$1" ] &&
		[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# slt_wait_ready [SECS]: poll status until state is "ready" (default 30 s);
# fails (with logs) if it never is or a process died.
slt_wait_ready() {
	local secs=${1:-30} i st=
	for ((i = 0; i < secs * 5; i++)); do
		st=$(slt_state)
		[ "$st" = ready ] && {
			slt_ok "ready after ~$((i / 5)) s"
			return 0
		}
		[ -n "$SLT_DP_PID" ] && ! slt_alive "$SLT_DP_PID" &&
			slt_fail "sluice-dp died while waiting for ready"
		[ -n "$SLT_CTRL_PID" ] && ! slt_alive "$SLT_CTRL_PID" &&
			slt_fail "sluice-ctrl died while waiting for ready"
		sleep 0.2
	done
	slt_fail "not ready after $secs s (last state: '${st:-no answer}')"
}

# The stock client, run by Debian's python3 (its "#!/usr/bin/env python3"
# may find another python first on PATH).
SLT_TELEMETRY=$(command -v dpdk-telemetry.py || echo /usr/bin/dpdk-telemetry.py)

# slt_telemetry KEY [CMD]: value of KEY in the dict DPDK telemetry CMD
# (default /sluice/stats) returns, read with the stock dpdk-telemetry.py.
slt_telemetry() {
	local cmd=${2:-/sluice/stats}
	echo "$cmd" | "$SLT_PY" "$SLT_TELEMETRY" -f "$SLT_PREFIX" 2>/dev/null | "$SLT_PY" -c '
import json, sys
d = json.loads(sys.stdin.read())[sys.argv[2]]
print(d[sys.argv[1]])
' "$1" "$cmd"
}

# slt_telemetry_json [CMD]: the whole reply dict of CMD, as JSON (CMD may
# carry a parameter: "/eal/heap_info,1" answers under "/eal/heap_info").
slt_telemetry_json() {
	local cmd=${1:-/sluice/stats}
	echo "$cmd" | "$SLT_PY" "$SLT_TELEMETRY" -f "$SLT_PREFIX" 2>/dev/null | "$SLT_PY" -c '
import json, sys
print(json.dumps(json.loads(sys.stdin.read())[sys.argv[1].split(",")[0]]))
' "$cmd"
}

# slt_ctl_stats_json: the dataplane counters summed over lcores from
# `sluicectl --json stats`, as one flat JSON dict.  The totals are the
# dict (top level or one level down, e.g. "dataplane") holding rx_pkts.
slt_ctl_stats_json() {
	slt_ctl --json stats | slt_stats_total
}

# slt_stats_total: `sluicectl --json stats` on stdin -> its dataplane totals.
slt_stats_total() {
	"$SLT_PY" -c '
import json, sys
r = json.load(sys.stdin)
def find(d, depth):
    if isinstance(d, dict):
        if "rx_pkts" in d and not isinstance(d["rx_pkts"], (dict, list)):
            return d
        if depth > 0:
            for v in d.values():
                f = find(v, depth - 1)
                if f is not None:
                    return f
    return None
t = find(r, 2)
if t is None:
    sys.exit("no counter dict with rx_pkts in sluicectl --json stats")
print(json.dumps(t))
'
}

slt_ctl_stat() {
	slt_ctl_stats_json | slt_json_get "$1"
}

# slt_wait_exit PID SECS: wait for our child PID to exit and set SLT_RC to
# its exit status; returns 1 (after SIGKILL) if it did not exit in time.
# (Not in a $(...) subshell: only this shell can wait for its children.)
slt_wait_exit() {
	local pid=$1 secs=$2 i gone=
	SLT_RC=
	# One liveness verdict: a second look could see the exiting process in
	# another state than the loop saw and call a process that left stuck.
	for ((i = 0; i < secs * 10; i++)); do
		if ! slt_alive "$pid"; then
			gone=1
			break
		fi
		sleep 0.1
	done
	if [ -z "$gone" ]; then
		slt_stuck_report "$pid" >"$SLT_TMP/stuck-$pid.log" 2>&1
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
	SLT_RC=$?
	return 0
}

# slt_stuck_report PID: where a process that does not exit is stuck: the
# state, wait channel and kernel stack of each of its threads (the log dump
# of a failed scenario shows it as stuck-PID.log).
slt_stuck_report() {
	local t
	[ -e "/proc/$1" ] || {
		echo "process $1 left just as the report began"
		return 0
	}
	echo "process $1 still there: $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)"
	for t in /proc/"$1"/task/*; do
		echo "-- thread ${t##*/} $(awk '/^(Name|State):/ { printf "%s ", $2 }' "$t/status" 2>/dev/null)wchan=$(cat "$t/wchan" 2>/dev/null)"
		cat "$t/stack" 2>/dev/null
	done
}

# slt_stop_proc NAME PIDVAR: SIGTERM, wait (15 s), assert exit 0.
slt_stop_proc() {
	local name=$1 pid=${!2}
	[ -n "$pid" ] || return 0
	local t0=$SECONDS
	kill -TERM "$pid" 2>/dev/null
	# 30 s: sluice-dp has been seen to log "exit 0" and still take ~15 s to
	# leave the kernel on a loaded machine (past _exit); a slow exit is
	# logged with its time so it can be traced, a missing one fails.
	if ! slt_wait_exit "$pid" 30; then
		printf -v "$2" '%s' ""
		slt_fail "$name did not exit within 30 s of SIGTERM (killed)"
	fi
	[ $((SECONDS - t0)) -lt 3 ] ||
		slt_log "note: $name took $((SECONDS - t0)) s to exit after SIGTERM (slow exit)"
	printf -v "$2" '%s' ""
	[ "$SLT_RC" = 0 ] || slt_fail "$name exited $SLT_RC after SIGTERM (want 0)"
	slt_ok "$name exited 0 on SIGTERM"
}

slt_stop_dp() { slt_stop_proc sluice-dp SLT_DP_PID; }
slt_stop_ctrl() { slt_stop_proc sluice-ctrl SLT_CTRL_PID; }

# slt_wait_gone NAME PIDVAR SECS: for a process that should exit by itself
# (e.g. after `sluicectl shutdown`): wait, assert exit 0.
slt_wait_gone() {
	local name=$1 pid=${!2}
	[ -n "$pid" ] || return 0
	if ! slt_wait_exit "$pid" "$3"; then
		printf -v "$2" '%s' ""
		slt_fail "$name still running $3 s later (killed)"
	fi
	printf -v "$2" '%s' ""
	[ "$SLT_RC" = 0 ] || slt_fail "$name exited $SLT_RC (want 0)"
	slt_ok "$name exited 0 by itself"
}

slt_stop() {
	slt_stop_dp
	slt_stop_ctrl
}

# slt_hugefiles: hugepage files of our file prefix under any hugetlbfs mount.
slt_hugefiles() {
	local m
	awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | while read -r m; do
		ls -d "$m/${SLT_PREFIX}map_"* 2>/dev/null
	done
}

# slt_assert_dp_clean: what sluice-dp owns is gone.
slt_assert_dp_clean() {
	[ ! -e "$SLT_REGION" ] || slt_fail "region file left behind: $SLT_REGION"
	[ ! -e "$SLT_RUNDIR" ] || slt_fail "DPDK runtime dir left behind: $SLT_RUNDIR ($(ls "$SLT_RUNDIR" | tr '\n' ' '))"
	local h
	h=$(slt_hugefiles)
	[ -z "$h" ] || slt_fail "hugepage files left behind: $h"
	slt_ok "nothing of sluice-dp left (region, $SLT_RUNDIR, hugepage files)"
}

# slt_assert_ctrl_clean: what sluice-ctrl owns is gone.
slt_assert_ctrl_clean() {
	[ ! -e "$SLT_SOCK" ] || slt_fail "control socket left behind: $SLT_SOCK"
	slt_ok "nothing of sluice-ctrl left (socket)"
}

slt_assert_clean() {
	slt_assert_dp_clean
	slt_assert_ctrl_clean
}

# slt_ctrl_alone PROFILE: sluice-ctrl with no dataplane (an empty region
# dir), store $SLT_TMP/store, chain PROFILE; waits until its API answers
# (10 s at most).  For scenarios of the control API alone.
slt_ctrl_alone() {
	local i
	slt_ctrl_config "$1"
	slt_start_ctrl
	for ((i = 0; i < 100; i++)); do
		slt_ctl status >/dev/null 2>&1 && return 0
		slt_alive "$SLT_CTRL_PID" || slt_fail "sluice-ctrl died at start"
		sleep 0.1
	done
	slt_fail "sluice-ctrl's API did not answer within 10 s"
}

# slt_ctrl_config PROFILE: the config slt_ctrl_alone starts sluice-ctrl
# with ($SLT_TMP/ctrl.ini, socket $SLT_SOCK); sets SLT_CFG.
slt_ctrl_config() {
	mkdir -p "$SLT_TMP/region"
	cat >"$SLT_TMP/ctrl.ini" <<EOF2
[instance]
name = $SLT_INST
region_dir = $SLT_TMP/region

[ctrl]
socket = $SLT_SOCK
store = $SLT_TMP/store

[chain]
profile = $1
EOF2
	SLT_CFG=$SLT_TMP/ctrl.ini
}

# slt_node_up: the usual start: network, config, both processes, ready.
slt_node_up() {
	slt_net_up
	slt_write_config >/dev/null
	slt_start_dp
	slt_start_ctrl
	slt_wait_ready "${1:-30}"
}

# ---- issue 3: peers, config overrides, several nodes on one L2 segment ----
#
#   slt_cfg_set FILE SECTION KEY VALUE   set one INI key (section appended
#                             when missing); the file stays a valid config
#   slt_peer ARGS...          tests/integration/slpeer.py ARGS... run in the
#                             test netns (one JSON object per line)
#   slt_jq EXPR               JSON on stdin bound to v; prints the Python
#                             expression EXPR (JSON for lists / dicts / bools)
#   slt_ns_addr IP            one more address on the netns side (/24)
#   slt_lan_up N [node-ns]    netns slt<id> with bridge slt<id>b (kernel IP
#                             10.<x>.0.1/24) and N veth pairs slt<id>d<k>
#                             (root side: node k's DPDK port) <-> slt<id>q<k>
#                             (bridge port in the netns); node k's dp IP is
#                             10.<x>.0.(10+k); one L2 segment for all.
#                             With node-ns, node k's end slt<id>d<k> lives
#                             in a netns of its own, slt<id>h<k>
#                             (SLT_NODE_NS[k]: lo and that port, nothing
#                             else), so nodes reach each other and the
#                             host only through the bridge; the node
#                             helpers start its sluice-dp there (ip netns
#                             exec); ctrl and sluicectl stay in the root
#                             namespace (region, unix sockets: files)
#   slt_node_launch_dp K      node k's sluice-dp in the background, in its
#                             netns when it has one (no wait: see
#                             slt_node_spawn_dp, slt_node_start_together)
#   slt_node_ip K ARGS...     ip ARGS... in node k's netns (root without one)
#   slt_node_config K [FILE]  config of node k (own instance, file prefix,
#                             socket, store, region; EAL core k mod ncpu)
#   slt_node_start K          sluice-dp (waits for its port: slt_node_spawn_dp) then
#                             sluice-ctrl of node k (slt_node_spawn_ctrl)
#   slt_node_start_together K both at once (memif / af_xdp nodes)
#   slt_memif_node K ROLE SOCK TAG LCORES  a memif node's entries + config
#   slt_node_wait_ready K [SECS] / slt_node_ctl K ARGS...
#   slt_node_stop K           SIGTERM both processes, assert exit 0
#   slt_node_kill_dp K        SIGKILL node k's dataplane (a crash)
#   slt_node_start_dp K       start node k's dataplane alone (e.g. again
#                             after slt_node_kill_dp; its ctrl re-attaches)
#   slt_node_stats_json K     node k's dataplane totals (slt_ctl_stats_json)
#   slt_node_telemetry_json K [CMD]
# Everything the node helpers start or create is removed by the trap.

SLT_SLPEER=$SLT_SRC/tests/integration/slpeer.py
SLT_LAN_BR=
SLT_NODES=()
declare -A SLT_NODE_DP_PID=() SLT_NODE_CTRL_PID=() SLT_NODE_IP=() SLT_NODE_DEV=() SLT_NODE_NS=()
declare -A SLT_NODE_CFG=() SLT_NODE_SOCK=() SLT_NODE_PREFIX=() SLT_NODE_INST=()

slt_cfg_set() {
	"$SLT_PY" "$SLT_SRC/tests/integration/slcfg.py" 1 "$1" "$2 $3 $4" || slt_fail "slt_cfg_set $*"
}

slt_peer() { ip netns exec "$SLT_NS" "$SLT_PY" "$SLT_SLPEER" "$@"; }

slt_jq() {
	"$SLT_PY" -c '
import json, sys
v = json.load(sys.stdin)
r = eval(sys.argv[1], {"v": v, "json": json})
print(json.dumps(r) if isinstance(r, (dict, list, bool)) or r is None else r)
' "$1"
}

# slt_json_find KEY: the value of the first KEY anywhere in the JSON on
# stdin (depth first), as JSON; null when absent.
slt_json_find() {
	"$SLT_PY" -c '
import json, sys
def find(d, k):
    if isinstance(d, dict):
        if k in d:
            return d[k]
        for x in d.values():
            r = find(x, k)
            if r is not None:
                return r
    return None
print(json.dumps(find(json.load(sys.stdin), sys.argv[1])))
' "$1"
}

slt_ns_addr() {
	local dev=${SLT_LAN_BR:-$SLT_PEER}
	ip -n "$SLT_NS" addr add "$1/24" dev "$dev" || slt_fail "addr $1 on $dev"
}

slt_lan_up() {
	local n=$1 k dev q ns
	case ${2:-} in
	'' | node-ns) ;;
	*) slt_fail "slt_lan_up: unknown option '$2'" ;;
	esac
	slt_netns_add
	SLT_LAN_BR=slt${SLT_ID}b
	SLT_CLEANUP_HOOKS+=(slt_nodes_cleanup)
	ip netns exec "$SLT_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1
	ip netns exec "$SLT_NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	ip -n "$SLT_NS" link add "$SLT_LAN_BR" type bridge || slt_fail "bridge"
	for ((k = 1; k <= n; k++)); do
		dev=slt${SLT_ID}d$k
		q=slt${SLT_ID}q$k
		ip link add "$dev" type veth peer name "$q" || slt_fail "ip link add $dev"
		SLT_NODE_DEV[$k]=$dev
		SLT_NODES+=("$k")
		ip link set "$q" netns "$SLT_NS" || slt_fail "move $q"
		if [ "${2:-}" = node-ns ]; then
			# the trap deletes it (slt_nodes_cleanup) from here on;
			# IPv6 off as the port arrives (a moved link takes the
			# namespace's defaults)
			ns=slt${SLT_ID}h$k
			ip netns add "$ns" || slt_fail "ip netns add $ns (node $k's namespace)"
			SLT_NODE_NS[$k]=$ns
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
				net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
			ip link set "$dev" netns "$ns" || slt_fail "move $dev to $ns"
			ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null 2>&1 ||
				slt_fail "ethtool $dev (in $ns)"
			ip -n "$ns" link set lo up || slt_fail "lo up in $ns"
		else
			sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" >/dev/null 2>&1
			ethtool -K "$dev" tx off >/dev/null 2>&1 || slt_fail "ethtool $dev"
		fi
		ip netns exec "$SLT_NS" ethtool -K "$q" tx off >/dev/null 2>&1 ||
			slt_fail "ethtool $q"
		ip -n "$SLT_NS" link set "$q" master "$SLT_LAN_BR" || slt_fail "enslave $q"
		ip -n "$SLT_NS" link set "$q" up || slt_fail "$q up"
		slt_node_ip "$k" link set "$dev" up || slt_fail "$dev up"
		SLT_NODE_IP[$k]=10.$SLT_X.0.$((10 + k))
	done
	ip -n "$SLT_NS" addr add "$SLT_NS_IP/24" dev "$SLT_LAN_BR" || slt_fail "bridge addr"
	ip -n "$SLT_NS" link set lo up
	ip -n "$SLT_NS" link set "$SLT_LAN_BR" up || slt_fail "bridge up"
	slt_log "netns $SLT_NS: bridge $SLT_LAN_BR $SLT_NS_IP/24, $n node ports (${SLT_NODE_DEV[*]})${2:+, each in its netns slt${SLT_ID}h<k>}"
}

# slt_node_launch_dp K: start node k's sluice-dp in the background, in
# node k's netns when it has one (slt_lan_up node-ns), its output
# appended to $SLT_TMP/dp<k>.log; SLT_NODE_DP_PID[k] is its pid (`ip
# netns exec` execs the dataplane in place, so $! stays the dataplane's).
slt_node_launch_dp() {
	local k=$1 ns=()
	[ -z "${SLT_NODE_NS[$k]:-}" ] || ns=(ip netns exec "${SLT_NODE_NS[$k]}")
	"${ns[@]}" "$SLUICE_DP" -c "${SLT_NODE_CFG[$k]}" </dev/null >>"$SLT_TMP/dp$k.log" 2>&1 &
	SLT_NODE_DP_PID[$k]=$!
}

# slt_node_ip K ARGS...: `ip ARGS...` where node k's port is (its netns,
# else the root namespace).
slt_node_ip() {
	local k=$1
	shift
	if [ -n "${SLT_NODE_NS[$k]:-}" ]; then
		ip -n "${SLT_NODE_NS[$k]}" "$@"
	else
		ip "$@"
	fi
}

slt_node_config() {
	local k=$1 f=${2:-$SLT_TMP/node$1.ini} ncpu nl
	ncpu=$(nproc)
	nl=${SLT_NODE_LCORES[$k]:-$SLT_LCORES}
	[ "$nl" -le 1 ] || slt_log "node $k: $nl worker lcores (EAL -l 0-$((nl - 1)), af_packet qpairs=$nl)" >&2
	SLT_NODE_INST[$k]=slt${SLT_ID}n$k
	SLT_NODE_PREFIX[$k]=slt${SLT_ID}n$k
	SLT_NODE_SOCK[$k]=$SLT_TMP/ctrl$k.sock
	{
		echo "; generated by tests/integration/lib.sh for $SLT_NAME, node $k"
		echo "[instance]"
		echo "name = ${SLT_NODE_INST[$k]}"
		echo "region_dir = $SLT_REGION_DIR"
		echo
		echo "[eal]"
		echo "args = --no-pci --no-huge -m 256 --file-prefix ${SLT_NODE_PREFIX[$k]} -l $(slt_lcores_eal "$nl" $((k % ncpu)))"
		echo
		echo "[dataplane]"
		echo "port = net_af_packet0,iface=${SLT_NODE_DEV[$k]}$(slt_lcores_port "$nl")"
		echo "ip = ${SLT_NODE_IP[$k]}/24"
		echo "udp_port = 9747"
		echo "idle_sleep_us = 200"
		echo
		echo "[ctrl]"
		echo "socket = ${SLT_NODE_SOCK[$k]}"
		echo "store = $SLT_TMP/store$k"
		echo
		echo "[chain]"
		echo "profile = regtest"
		echo
		echo "[admission]"
		echo "max_peers = 16"
		echo "ban_score = 0 ; no automatic bans in the scenarios (bans_act turns them on)"
		echo
		echo "[log]"
		echo "level = info"
	} >"$f"
	SLT_NODE_CFG[$k]=$f
	echo "$f"
}

# slt_pair_up PROFILE: the two-node LAN the sync scenarios use: node A (1)
# and node B (2) on one bridge, chain PROFILE, quick redials
# (connect_timeout_ms 3000, redial_s 1), B bootstrapping from A.  Sets A
# and B; starts nothing.
slt_pair_up() {
	local k
	slt_lan_up 2
	A=1 B=2
	for k in $A $B; do
		slt_node_config $k >/dev/null
		slt_cfg_set "${SLT_NODE_CFG[$k]}" chain profile "$1"
		slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
		slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
	done
	slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747"
}

# slt_slow_sync_midway N [RATE]: the fault scenarios' start: N generated
# regtest headers (hash in WANT), slt_pair_up, A serving slowly (serve_rate
# RATE GET_HEADERS/s, default 5: B's pace is A's), A imports, B starts and
# syncs; returns once B's tip passed N/10, with that tip in TIP_MID.
slt_slow_sync_midway() {
	local n=$1 i tip k
	slt_chaingen -n "$n" -o "$SLT_TMP/chain.headers"
	WANT=$(sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.log" | tail -1)
	slt_pair_up regtest
	for k in $A $B; do slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us 200; done
	slt_cfg_set "${SLT_NODE_CFG[$A]}" sync serve_rate "${2:-5}"
	slt_cfg_set "${SLT_NODE_CFG[$A]}" sync serve_burst 5
	slt_node_start $A
	slt_node_wait_ready $A 30
	slt_node_ctl $A --json header.import path="$SLT_TMP/chain.headers" >/dev/null ||
		slt_fail "A: import"
	slt_node_start $B
	slt_node_wait_ready $B 30
	for ((i = 0; i < 300; i++)); do
		tip=$(slt_node_tip $B)
		[ "${tip%% *}" -ge $((n / 10)) ] 2>/dev/null && break
		sleep 0.1
	done
	[ "${tip%% *}" -ge $((n / 10)) ] 2>/dev/null || slt_fail "B never passed $((n / 10))"
	TIP_MID=${tip%% *}
}

# The line sluice-dp logs once ready, in either [log] format (text, json).
SLT_DP_READY_RE='info: dp_main: ready:|"comp":"dp_main","msg":"ready:'

# slt_node_spawn_dp K: start node k's sluice-dp (in its netns when it has
# one: slt_node_launch_dp) and wait (10 s at most) until its port is up.
# DPDK's af_packet PMD names its PACKET_FANOUT group after the pid and the
# interface, and the kernel refuses (EINVAL) a group id another interface
# of the same network namespace already uses: a rare collision with
# another running dataplane, retried with a fresh pid (twice at most).
# Fanout groups are per namespace, so a node alone in its netns cannot
# collide; the retry stays for the others.
slt_node_spawn_dp() {
	local k=$1 try i log=$SLT_TMP/dp$1.log
	for try in 1 2 3; do
		local mark
		mark=$(wc -l 2>/dev/null <"$log" || echo 0)
		slt_node_launch_dp "$k"
		for ((i = 0; i < 100; i++)); do
			tail -n +"$((mark + 1))" "$log" | grep -qE "$SLT_DP_READY_RE" && return 0
			slt_alive "${SLT_NODE_DP_PID[$k]}" || break
			sleep 0.1
		done
		slt_alive "${SLT_NODE_DP_PID[$k]}" && return 0 # slow, not dead: go on
		tail -n +"$((mark + 1))" "$log" | grep -q "could not set PACKET_FANOUT" || return 0
		slt_log "node $k: sluice-dp hit an af_packet fanout id collision, starting it again"
	done
}

# slt_node_spawn_ctrl K: start node k's sluice-ctrl (no wait; it finds
# its dataplane's region itself).
slt_node_spawn_ctrl() {
	local k=$1
	"$SLUICE_CTRL" -c "${SLT_NODE_CFG[$k]}" </dev/null >>"$SLT_TMP/ctrl$k.log" 2>&1 &
	SLT_NODE_CTRL_PID[$k]=$!
}

slt_node_start() {
	local k=$1
	slt_node_spawn_dp "$k"
	slt_node_spawn_ctrl "$k"
	slt_log "node $k (${SLT_NODE_IP[$k]}): sluice-dp pid ${SLT_NODE_DP_PID[$k]}, sluice-ctrl pid ${SLT_NODE_CTRL_PID[$k]}"
}

# slt_memif_node K ROLE SOCK TAG LCORES: node K's harness entries and its
# config for a net_memif port (ROLE server | client on the socket file
# SOCK; a memif socket joins two processes): regtest, IP 10.X.0.(10+K)/24,
# EAL "--no-pci $SLT_MEMIF_MEM -l LCORES" (SLT_MEMIF_MEM: default
# "--no-huge -m 128"), idle_sleep_us ${SLT_MEMIF_IDLE_US:-50}, connect
# timeout 3 s, redial 1 s.  A scenario sets what differs with slt_cfg_set.
# A memif client cannot start before its server exists.
slt_memif_node() {
	local k=$1 role=$2 sock=$3 tag=$4 lcores=$5
	SLT_NODES+=("$k")
	SLT_NODE_INST[$k]=slt${SLT_ID}$tag$k
	SLT_NODE_PREFIX[$k]=slt${SLT_ID}$tag$k
	SLT_NODE_SOCK[$k]=$SLT_TMP/ctrl$k.sock
	SLT_NODE_IP[$k]=10.$SLT_X.0.$((10 + k))
	SLT_NODE_DEV[$k]=
	SLT_NODE_CFG[$k]=$SLT_TMP/node$k.ini
	cat >"${SLT_NODE_CFG[$k]}" <<EOF
; generated by $SLT_NAME (lib.sh slt_memif_node), node $k (memif $role)
[instance]
name = ${SLT_NODE_INST[$k]}
region_dir = $SLT_REGION_DIR

[eal]
args = --no-pci ${SLT_MEMIF_MEM:---no-huge -m 128} --file-prefix ${SLT_NODE_PREFIX[$k]} -l $lcores

[dataplane]
port = net_memif0,role=$role,socket=$sock,socket-abstract=no,id=0
ip = ${SLT_NODE_IP[$k]}/24
udp_port = 9747
idle_sleep_us = ${SLT_MEMIF_IDLE_US:-50}

[ctrl]
socket = ${SLT_NODE_SOCK[$k]}
store = $SLT_TMP/store$k

[chain]
profile = regtest

[peers]
connect_timeout_ms = 3000
redial_s = 1
EOF
}

# slt_node_start_together K: node K's sluice-dp and sluice-ctrl started at
# once, as a service manager starts the two units (ctrl waits for the
# region itself); no af_packet fanout retry, so for memif / af_xdp nodes.
slt_node_start_together() {
	local k=$1
	slt_node_launch_dp "$k"
	slt_node_spawn_ctrl "$k"
	slt_log "node $k (${SLT_NODE_IP[$k]}): sluice-dp pid ${SLT_NODE_DP_PID[$k]}, sluice-ctrl pid ${SLT_NODE_CTRL_PID[$k]} (together)"
}

slt_node_ctl() {
	local k=$1
	shift
	"$SLUICECTL" --socket "${SLT_NODE_SOCK[$k]}" "$@"
}

slt_node_wait_ready() {
	local k=$1 secs=${2:-30} i st=
	for ((i = 0; i < secs * 5; i++)); do
		st=$(slt_node_ctl "$k" --json status 2>/dev/null | slt_json_get state 2>/dev/null)
		[ "$st" = ready ] && {
			slt_ok "node $k ready after ~$((i / 5)) s"
			return 0
		}
		slt_alive "${SLT_NODE_DP_PID[$k]}" || slt_fail "node $k: sluice-dp died"
		slt_alive "${SLT_NODE_CTRL_PID[$k]}" || slt_fail "node $k: sluice-ctrl died"
		sleep 0.2
	done
	slt_fail "node $k not ready after $secs s (last state: '${st:-no answer}')"
}

slt_node_stop() {
	local k=$1
	[ -z "${SLT_NODE_DP_PID[$k]:-}" ] || slt_stop_proc "sluice-dp($k)" "SLT_NODE_DP_PID[$k]"
	[ -z "${SLT_NODE_CTRL_PID[$k]:-}" ] || slt_stop_proc "sluice-ctrl($k)" "SLT_NODE_CTRL_PID[$k]"
	return 0
}

slt_node_kill_dp() {
	local k=$1
	slt_kill_pid "${SLT_NODE_DP_PID[$k]:-}"
	SLT_NODE_DP_PID[$k]=
	slt_log "node $k: sluice-dp killed (SIGKILL)"
}

slt_node_stats_json() { slt_node_ctl "$1" --json stats | slt_stats_total; }

slt_node_start_dp() {
	local k=$1
	slt_node_spawn_dp "$k"
	slt_log "node $k (${SLT_NODE_IP[$k]}): sluice-dp pid ${SLT_NODE_DP_PID[$k]}"
}

slt_node_telemetry_json() {
	local k=$1 cmd=${2:-/sluice/stats}
	echo "$cmd" | "$SLT_PY" "$SLT_TELEMETRY" -f "${SLT_NODE_PREFIX[$k]}" 2>/dev/null | "$SLT_PY" -c '
import json, sys
print(json.dumps(json.loads(sys.stdin.read())[sys.argv[1].split(",")[0]]))
' "$cmd"
}

slt_nodes_cleanup() {
	local k m rundir
	for k in "${SLT_NODES[@]}"; do
		slt_kill_pid "${SLT_NODE_DP_PID[$k]:-}"
		slt_kill_pid "${SLT_NODE_CTRL_PID[$k]:-}"
		if [ -n "${SLT_NODE_NS[$k]:-}" ]; then
			# its port goes with it (and the bridge end with that)
			ip netns del "${SLT_NODE_NS[$k]}" 2>/dev/null
		else
			ip link del "${SLT_NODE_DEV[$k]}" 2>/dev/null
		fi
		[ -n "${SLT_NODE_PREFIX[$k]:-}" ] || continue
		rm -f "$SLT_REGION_DIR/sluice-${SLT_NODE_INST[$k]}.region"
		rundir=$(dirname "$SLT_RUNDIR")/${SLT_NODE_PREFIX[$k]}
		rm -rf "$rundir"
		awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts | while read -r m; do
			ls -d "$m/${SLT_NODE_PREFIX[$k]}map_"* 2>/dev/null
		done | xargs -r rm -f
	done
	return 0
}

# slt_hold_start NAME ARGS...: `slpeer hold ARGS...` in the netns in the
# background, its JSON lines in $SLT_TMP/NAME.jsonl, pid in SLT_HOLD_PID[NAME]
# (killed by the trap).  slt_hold_wait_ack NAME [SECS] waits for its hello
# line and prints the session id the node gave (HELLO_ACK.reply_session).
declare -A SLT_HOLD_PID=()
slt_hold_start() {
	local name=$1
	shift
	ip netns exec "$SLT_NS" "$SLT_PY" -u "$SLT_SLPEER" hold "$@" \
		>"$SLT_TMP/$name.jsonl" 2>"$SLT_TMP/$name.err" &
	SLT_HOLD_PID[$name]=$!
	if [ "${#SLT_HOLD_PID[@]}" = 1 ]; then
		SLT_CLEANUP_HOOKS=(slt_holds_cleanup "${SLT_CLEANUP_HOOKS[@]}")
	fi
}

# slt_serve_start NAME ARGS...: `slpeer serve ARGS...` (a responder that
# accepts the node's HELLO) in the netns in the background, like
# slt_hold_start (same pid table, same trap).
slt_serve_start() {
	local name=$1
	shift
	ip netns exec "$SLT_NS" "$SLT_PY" -u "$SLT_SLPEER" serve "$@" \
		>"$SLT_TMP/$name.jsonl" 2>"$SLT_TMP/$name.err" &
	SLT_HOLD_PID[$name]=$!
	if [ "${#SLT_HOLD_PID[@]}" = 1 ]; then
		SLT_CLEANUP_HOOKS=(slt_holds_cleanup "${SLT_CLEANUP_HOOKS[@]}")
	fi
}

slt_holds_cleanup() {
	local n
	for n in "${!SLT_HOLD_PID[@]}"; do
		slt_kill_pid "${SLT_HOLD_PID[$n]}"
	done
	return 0
}

slt_hold_wait_ack() {
	local name=$1 secs=${2:-10} i line
	for ((i = 0; i < secs * 10; i++)); do
		line=$(grep -m1 '"event": "hello"' "$SLT_TMP/$name.jsonl" 2>/dev/null)
		if [ -n "$line" ]; then
			printf '%s' "$line" | slt_jq 'v["reply"]["reply_session"] if v["reply"] and v["reply"]["msg"] == "HELLO_ACK" else "no-ack:" + json.dumps(v["reply"])'
			return 0
		fi
		sleep 0.1
	done
	echo "no-hello-line"
}

# slt_hold_count NAME EVENT: how many EVENT lines (pong, ping, goodbye, ...)
# hold NAME printed so far.
slt_hold_count() {
	grep -c "\"event\": \"$2\"" "$SLT_TMP/$1.jsonl" 2>/dev/null || true
}

# ---- issue 4: header sync between nodes ----
#
#   slt_chaingen ARGS...      sluice-chaingen ARGS... ($SLUICE_CHAINGEN)
#   slt_node_tip K            node k's "height hash" (status), empty if no answer
#   slt_node_wait_tip K H SECS [HASH]   wait until node k's tip is height H
#                             (and HASH, display hex, when given); fails with
#                             node k's sync.status after SECS
#   slt_node_sync_get K EXPR  slt_jq EXPR over node k's sync.status
#   slt_node_settled K [SECS] wait until node k's range table is empty
#                             (queued 0, held 0, no live range), then its
#                             state must be synced; fails else.  Leaves
#                             the last sync.status in $SLT_TMP/ss
# slt_now: seconds, microsecond resolution, without a process (bash's
# clock).  slt_median: the median of the numbers on stdin (spaces or
# lines), 0 when none.  slt_node_follow K TIP PERIOD BOUND STALL: a
# bench's poller, one process for the whole run (slops.py follow): node
# K's status every PERIOD s over one connection, "<unix time> <tip>
# <peers>" per answer on stdout, until the tip is TIP (status 0), BOUND s
# pass or STALL s pass without progress (2), or one of K's processes dies
# (4; the reason on stderr).  A process per poll would take the CPU the
# bench measures.
slt_now() { echo "$EPOCHREALTIME"; }
# slt_logged_at LOG FROM RE: the epoch seconds (6 decimals) a process
# logging JSON ([log] format = json) wrote the first line of LOG past line
# FROM whose message begins with RE (grep -E); empty when none.
slt_logged_at() {
	local ts
	ts=$(tail -n "+$(($2 + 1))" "$1" 2>/dev/null | grep -m1 -E "\"msg\":\"$3" |
		sed -n 's/.*"ts":"\([^"]*\)".*/\1/p')
	[ -z "$ts" ] || date -u -d "$ts" +%s.%6N
}
slt_median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
slt_node_follow() {
	local k=$1
	"$SLT_PY" "$SLT_SRC/tests/integration/slops.py" "${SLT_NODE_SOCK[$k]}" follow "$2" "$3" "$4" "$5" \
		"${SLT_NODE_DP_PID[$k]}" "${SLT_NODE_CTRL_PID[$k]}"
}

# slt_slflood_init: SLFLOOD, the HELLO flood (tests/bench/slflood, or the
# env's), and FLOOD_CHAIN, regtest's chain id in hex for its -c.  Calls
# slt_skip when slflood is not built.
slt_slflood_init() {
	SLFLOOD=${SLFLOOD:-$(dirname "$SLUICE_DP")/../tests/bench/slflood}
	[ -x "$SLFLOOD" ] || slt_skip "slflood not built ($SLFLOOD)"
	FLOOD_CHAIN=$(SLT_DIR=$SLT_SRC/tests/integration "$SLT_PY" -c '
import os, sys
sys.path.insert(0, os.environ["SLT_DIR"])
import slpeer
print(slpeer.chain_id_of("regtest").hex())')
}

slt_chaingen() {
	[ -x "${SLUICE_CHAINGEN:-}" ] || slt_skip "sluice-chaingen not built (SLUICE_CHAINGEN)"
	"$SLUICE_CHAINGEN" "$@" 2>>"$SLT_TMP/chaingen.log" || slt_fail "sluice-chaingen $*"
}

slt_node_tip() {
	slt_node_ctl "$1" --json status 2>/dev/null |
		slt_jq '"%s %s" % (v["tip_height"], v["tip_hash"])' 2>/dev/null
}

slt_node_wait_tip() {
	local k=$1 h=$2 secs=$3 want=${4:-} i tip=
	for ((i = 0; i < secs * 5; i++)); do
		tip=$(slt_node_tip "$k")
		if [ "${tip%% *}" = "$h" ] && { [ -z "$want" ] || [ "${tip#* }" = "$want" ]; }; then
			return 0
		fi
		slt_alive "${SLT_NODE_DP_PID[$k]}" || slt_fail "node $k: sluice-dp died"
		slt_alive "${SLT_NODE_CTRL_PID[$k]}" || slt_fail "node $k: sluice-ctrl died"
		sleep 0.2
	done
	slt_log "node $k sync.status: $(slt_node_ctl "$k" --json sync.status 2>&1)"
	slt_log "node $k peers: $(slt_node_ctl "$k" --json peers 2>&1)"
	slt_fail "node $k: tip '${tip:-?}' after $secs s (want $h${want:+ $want})"
}

slt_node_sync_get() {
	slt_node_ctl "$1" --json sync.status | slt_jq "$2"
}

slt_node_settled() {
	local k=$1 secs=${2:-10} i q h n st
	for ((i = 0; i < secs * 5; i++)); do
		slt_node_ctl "$k" --json sync.status >"$SLT_TMP/ss"
		q=$(slt_json_get queued <"$SLT_TMP/ss") h=$(slt_json_get held <"$SLT_TMP/ss")
		n=$(slt_node_ctl "$k" --json ranges | slt_jq 'len(v)')
		[ "$q" = 0 ] && [ "$h" = 0 ] && [ "$n" = 0 ] && break
		sleep 0.2
	done
	slt_log "node $k sync.status: $(cat "$SLT_TMP/ss")"
	[ "$q" = 0 ] && [ "$h" = 0 ] && [ "$n" = 0 ] ||
		slt_fail "node $k: range table not settled: queued $q held $h live ranges $n"
	st=$(slt_json_get state <"$SLT_TMP/ss")
	[ "$st" = synced ] || slt_fail "node $k: state $st after settling (want synced)"
}
