#!/usr/bin/env bash
# hugepages_clean_exit.sh — sluice-dp on real hugepages: EAL memory from a
# hugetlbfs mount and the shared control region on hugetlbfs too (DESIGN.md
# "Processes and shared memory").  sluice-ctrl maps that region and says
# ready, the dataplane answers ping, and SIGTERM leaves no hugepage file
# (--huge-unlink), no region file and no DPDK runtime dir.
# Reserves huge pages for the run and gives them back afterwards.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool ping mount umount
slt_require_bins
slt_init

SLT_HP_NR=/proc/sys/vm/nr_hugepages
SLT_HP_OLD=$(cat "$SLT_HP_NR")
SLT_HP_MNT=$SLT_TMP/huge
SLT_HP_WANT=96 # 2 MiB pages: EAL -m 128 plus the region

slt_hp_cleanup() {
	mountpoint -q "$SLT_HP_MNT" && umount "$SLT_HP_MNT"
	echo "$SLT_HP_OLD" >"$SLT_HP_NR"
}
SLT_CLEANUP_HOOKS+=(slt_hp_cleanup)

echo $((SLT_HP_OLD + SLT_HP_WANT)) >"$SLT_HP_NR" 2>/dev/null ||
	slt_skip "cannot reserve huge pages ($SLT_HP_NR not writable)"
free=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)
[ "${free:-0}" -ge "$SLT_HP_WANT" ] ||
	slt_skip "only ${free:-0} free 2 MiB huge pages after asking for $SLT_HP_WANT"
mkdir -p "$SLT_HP_MNT"
mount -t hugetlbfs -o pagesize=2M nodev "$SLT_HP_MNT" || slt_fail "mount hugetlbfs"
slt_ok "reserved $SLT_HP_WANT huge pages, hugetlbfs at $SLT_HP_MNT"

SLT_REGION_DIR=$SLT_HP_MNT
SLT_REGION=$SLT_REGION_DIR/sluice-$SLT_INST.region
slt_net_up
slt_write_config >/dev/null
sed -i "s|^args = .*|args = --no-pci -m 128 --huge-dir $SLT_HP_MNT --file-prefix $SLT_PREFIX -l 0|" "$SLT_CFG"
slt_start_dp
slt_start_ctrl
slt_wait_ready 30

[ "$(stat -f -c %T "$SLT_REGION")" = hugetlbfs ] ||
	slt_fail "region $SLT_REGION is not on hugetlbfs"
used=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)
[ "$used" -lt "$free" ] || slt_fail "no huge page in use (free $free -> $used)"
slt_ok "region on hugetlbfs, $((free - used)) huge pages in use"
h=$(slt_hugefiles)
[ -z "$h" ] || slt_fail "hugepage files visible while running (no --huge-unlink?): $h"

out=$(slt_nsexec ping -c 3 -i 0.2 -W 2 "$SLT_DP_IP" 2>&1)
got=$(echo "$out" | sed -nE 's/.* ([0-9]+) received.*/\1/p')
[ "${got:-0}" -ge 2 ] || slt_fail "ping over hugepage mbufs: ${got:-0}/3 replies"
slt_ok "ping: $got/3 replies"

slt_stop
slt_assert_clean
after=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)
[ "$after" -eq "$free" ] || slt_fail "huge pages not given back: free $free before, $after after"
slt_ok "all $free huge pages free again"
slt_log "PASS"
