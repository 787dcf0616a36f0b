#!/usr/bin/env bash
# lifecycle_clean_exit.sh — a node goes registering -> ready, reports it to
# sluicectl (human and --json); SIGTERM to sluice-dp exits 0 leaving nothing
# behind, after which ctrl no longer says ready; SIGTERM to ctrl exits 0 and
# removes its socket.  Then the `sluicectl shutdown` path on a fresh pair with
# the same names (so the first run also left nothing that blocks a restart):
# both processes exit 0 by themselves and nothing is left.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool dpdk-telemetry.py
slt_require_bins
slt_init
slt_node_up

# --- EAL saw this machine's CPUs and NUMA nodes ----------------------------
# (sluice-dp answers EAL's sysfs probes of impossible CPU ids itself,
# sl_cpulist.h: what EAL detects must not change)
want_l=$(grep -c '^processor' /proc/cpuinfo)
want_n=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
[ "$want_n" -gt 0 ] || want_n=1
grep -q "EAL: Detected CPU lcores: $want_l\$" "$SLT_TMP/dp.log" ||
	slt_fail "EAL did not detect $want_l lcores: $(grep -m1 'Detected CPU lcores' "$SLT_TMP/dp.log")"
grep -q "EAL: Detected NUMA nodes: $want_n\$" "$SLT_TMP/dp.log" ||
	slt_fail "EAL did not detect $want_n NUMA nodes: $(grep -m1 'Detected NUMA' "$SLT_TMP/dp.log")"
slt_ok "EAL detected $want_l lcores on $want_n NUMA node(s)"

# --- without hugepages, sluice-dp's start-up memory is on its own heap -----
# (sl_heap.h): the mbuf pool and the routines' state on anonymous memory
# advised for transparent huge pages, EAL's 4 KiB memfd pages nearly unused.
grep -q "memory: no hugepages; the mbuf pool and routine state go on transparent huge pages" \
	"$SLT_TMP/dp.log" || slt_fail "sluice-dp did not say where its start-up memory went"
heaps=$(slt_telemetry_json /eal/heap_list | tr -d '[],') || slt_fail "telemetry /eal/heap_list"
thp=0 eal=0
for id in $heaps; do
	info=$(slt_telemetry_json "/eal/heap_info,$id")
	name=$(echo "$info" | slt_json_get Name) size=$(echo "$info" | slt_json_get Alloc_size)
	case $name in
	sl_thp) thp=$size ;;
	socket_*) eal=$((eal + size)) ;;
	esac
done
# one worker's pool alone is SL_MBUFS_PER_LCORE (4096 in every defconfig) mbufs
[ "$thp" -ge $((4096 * 2048)) ] && [ "$thp" -gt $((eal * 8)) ] ||
	slt_fail "start-up heap holds $thp bytes, EAL's heaps $eal (want the pool and state on sl_thp)"
if ! grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled; then
	hp=$(awk '/^AnonHugePages:/ { print $2 }' "/proc/$SLT_DP_PID/smaps_rollup")
	[ "${hp:-0}" -ge 8192 ] || slt_fail "sluice-dp has ${hp:-0} kB on huge pages (want >= 8192)"
fi
slt_ok "start-up memory on the dataplane's heap: $thp bytes (EAL's heaps $eal), ${hp:-THP off} kB on huge pages"

# --- status: human and --json say ready -----------------------------------
out=$(slt_ctl status) || slt_fail "sluicectl status exit $?"
echo "$out" | sed 's/^/    /'
echo "$out" | grep -qE '^\s*state\s*:?\s+ready\s*$' ||
	slt_fail "human status does not say ready"
slt_ok "sluicectl status (human) says ready"
st=$(slt_ctl --json status | slt_json_get state) || slt_fail "--json status"
[ "$st" = ready ] || slt_fail "--json status state '$st' (want ready)"
slt_ok "sluicectl --json status state=ready"

# --- SIGTERM to the dataplane ---------------------------------------------
slt_stop_dp
slt_assert_dp_clean
! grep -q "still in use at exit" "$SLT_TMP/dp.log" ||
	slt_fail "the start-up heap was not given back: $(grep -m1 'still in use' "$SLT_TMP/dp.log")"
for ((i = 0; i < 50; i++)); do
	st=$(slt_state)
	[ "$st" != ready ] && break
	sleep 0.1
done
[ "$st" != ready ] || slt_fail "ctrl still says ready 5 s after the dataplane left"
slt_ok "after dp exit, ctrl says '${st:-no answer}'"
slt_alive "$SLT_CTRL_PID" || slt_fail "sluice-ctrl died with the dataplane"

# --- SIGTERM to ctrl ------------------------------------------------------
slt_stop_ctrl
slt_assert_clean
slt_ctl status >/dev/null 2>&1
rc=$?
[ "$rc" = 3 ] || slt_fail "sluicectl status with no daemon exit $rc (want 3)"
slt_ok "sluicectl status with no daemon: exit 3"

# --- `sluicectl shutdown` on a fresh pair, same names ----------------------
slt_start_dp
slt_start_ctrl
slt_wait_ready
slt_ctl shutdown || slt_fail "sluicectl shutdown exit $?"
slt_ok "sluicectl shutdown: exit 0"
slt_wait_gone sluice-dp SLT_DP_PID 15
slt_wait_gone sluice-ctrl SLT_CTRL_PID 15
slt_assert_clean

slt_log "PASS"
