#!/usr/bin/env bash
# setup_stages.sh — deploy/sluice-setup for real, on this host (issue 13
# item 1), with its paths, user and page count pointed at test values:
#   dirs, sysctl, hugepages: `check` says what is wrong and the command
#     that fixes it (exit 1); `init` makes them right; `check` is then
#     clean (exit 0); a second `init` changes nothing and does not fail (the
#     hugetlbfs mount is there already); `fini` undoes it (mount gone,
#     pages and sysctl values back to what init found, the run dir removed,
#     the state dir kept), and `check` complains again;
#   1 GiB hugepages: on a host without them (no hugepages-1048576kB in
#     sysfs) `check` and `init` say so, why, and the kernel command line
#     that reserves them (hugepagesz=1G hugepages=N), and `init` changes
#     nothing; on a host with them, init / check / second init / fini for
#     real (or, when the kernel cannot find 1 GiB of contiguous memory at
#     run time, the clear error saying to reserve them at boot);
#   afxdp on a veth: gro on -> wrong; init -> off; check clean and the
#     steering program passes the verifier; another XDP program attached ->
#     check names it and `ip link set dev IF xdp off`, init leaves it and
#     fails, detached -> clean; a steering program that is missing or no
#     BPF object -> wrong; sluice-dp running on the veth (net_af_xdp with
#     the program) -> clean, and init / fini leave its program; sluice-dp
#     killed -> check finds the stale program, init detaches it, and the
#     next sluice-dp attaches its own (and detaches it on a clean stop);
#   nic with a PCI address this host does not have: a clear error naming
#     it and how to list the devices (exit 1); with one it has (check
#     only: nothing is rebound): the full dpdk-devbind.py command, and
#     where to get the tool when it is not installed.
# The host's hugepage counts, mounts and sysctl values are restored at the
# end; the veth (and any XDP program on it) goes with the run.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool sysctl useradd userdel mount
slt_init
SETUP=$SLT_SRC/deploy/sluice-setup
export SLUICE_USER=slt${SLT_ID}u SLUICE_ETC=$SLT_TMP/etc SLUICE_STATE=$SLT_TMP/state \
	SLUICE_RUN=$SLT_TMP/run SLUICE_HUGE_MNT=$SLT_TMP/huge SLUICE_HUGE_MNT_1G=$SLT_TMP/huge1g
BUILD=$(cd "$(dirname "$SLUICE_DP")/.." && pwd)
XDP=${SLUICE_XDP_BPF:-$BUILD/bpf/sl_xdp.bpf.o}
OTHER=${SLUICE_XDP_OTHER_BPF:-$BUILD/tests/integration/xdp_other.bpf.o}
G1=/sys/kernel/mm/hugepages/hugepages-1048576kB
huge0=$(cat /proc/sys/vm/nr_hugepages)
declare -A huge_was=() # every nr_hugepages file (each node, each size) and its count
for f in /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages \
	/sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages; do
	[ -f "$f" ] && huge_was[$f]=$(cat "$f")
done
rmem0=$(sysctl -n net.core.rmem_max) wmem0=$(sysctl -n net.core.wmem_max)
export SLUICE_HUGEPAGES=$((huge0 + 8))
restore() {
	local f
	umount "$SLUICE_HUGE_MNT" 2>/dev/null
	umount "$SLUICE_HUGE_MNT_1G" 2>/dev/null
	for f in "${!huge_was[@]}"; do
		[ "$(cat "$f")" = "${huge_was[$f]}" ] || echo "${huge_was[$f]}" >"$f"
	done
	sysctl -qw net.core.rmem_max="$rmem0" net.core.wmem_max="$wmem0"
	userdel "$SLUICE_USER" 2>/dev/null
}
SLT_CLEANUP_HOOKS+=(restore)
# the test needs something to be wrong at first
sysctl -qw net.core.rmem_max=4194304

"$SETUP" check >"$SLT_TMP/c1" 2>&1 && slt_fail "check passed before init: $(cat "$SLT_TMP/c1")"
for want in "dirs      wrong: no user $SLUICE_USER" "fix: sluice-setup init dirs" \
	"sysctl    wrong: net.core.rmem_max = 4194304 (want >= 16777216)" \
	"hugepages wrong: no hugetlbfs at $SLUICE_HUGE_MNT (pagesize=2M)"; do
	grep -qF -- "$want" "$SLT_TMP/c1" || slt_fail "check does not say '$want': $(cat "$SLT_TMP/c1")"
done
slt_ok "check before init: exit 1, $(grep -c 'wrong:' "$SLT_TMP/c1") things wrong, each with its fix"

"$SETUP" init >"$SLT_TMP/i1" 2>&1 || slt_fail "init: $(cat "$SLT_TMP/i1")"
"$SETUP" check >"$SLT_TMP/c2" 2>&1 || slt_fail "check after init: $(cat "$SLT_TMP/c2")"
[ "$(grep -c ' ok: ' "$SLT_TMP/c2")" = 3 ] || slt_fail "check after init: $(cat "$SLT_TMP/c2")"
[ "$(stat -c '%a %G' "$SLUICE_STATE")" = "750 $SLUICE_USER" ] || slt_fail "state dir $(stat -c '%a %G' "$SLUICE_STATE")"
awk -v m="$SLUICE_HUGE_MNT" '$2 == m && $3 == "hugetlbfs" && $4 ~ /pagesize=2M/' /proc/mounts | grep -q . ||
	slt_fail "no hugetlbfs (pagesize=2M) mount"
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge "$SLUICE_HUGEPAGES" ] || slt_fail "pages not reserved"
[ "$(sysctl -n net.core.rmem_max)" -ge 16777216 ] || slt_fail "rmem_max not raised"
slt_ok "init: dirs, sysctl, hugepages right; check exit 0"

"$SETUP" init >"$SLT_TMP/i2" 2>&1 || slt_fail "a second init failed: $(cat "$SLT_TMP/i2")"
[ "$(awk -v m="$SLUICE_HUGE_MNT" '$2 == m' /proc/mounts | wc -l)" = 1 ] || slt_fail "mounted twice"
slt_ok "a second init: no error, one mount"

echo keep >"$SLUICE_STATE/store-data"
"$SETUP" fini >"$SLT_TMP/f1" 2>&1 || slt_fail "fini: $(cat "$SLT_TMP/f1")"
awk -v m="$SLUICE_HUGE_MNT" '$2 == m' /proc/mounts | grep -q . && slt_fail "still mounted after fini"
[ "$(cat /proc/sys/vm/nr_hugepages)" = "$huge0" ] || slt_fail "pages not back to $huge0: $(cat /proc/sys/vm/nr_hugepages)"
[ "$(sysctl -n net.core.rmem_max)" = 4194304 ] || slt_fail "rmem_max not restored: $(sysctl -n net.core.rmem_max)"
[ ! -e "$SLUICE_RUN" ] && [ -f "$SLUICE_STATE/store-data" ] || slt_fail "fini: run dir kept or state dir lost"
"$SETUP" check >/dev/null 2>&1 && slt_fail "check clean after fini"
slt_ok "fini: unmounted, $huge0 pages as before, sysctl restored, run dir removed, stores kept; check complains again"

# ---- 1 GiB pages ----
nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
[ "$nodes" -ge 1 ] || nodes=1
if [ ! -d "$G1" ]; then
	SLUICE_HUGEPAGES_1G=1 "$SETUP" check hugepages >"$SLT_TMP/g1" 2>&1 && slt_fail "1G check passed without 1 GiB pages"
	for want in "hugepages wrong: no 1 GiB pages on this host: $G1 is missing" \
		"fix: on a CPU with 1 GiB pages, boot with hugepagesz=1G hugepages=$nodes on the kernel command line"; do
		grep -qF -- "$want" "$SLT_TMP/g1" || slt_fail "1G check does not say '$want': $(cat "$SLT_TMP/g1")"
	done
	SLUICE_HUGEPAGES_1G=1 "$SETUP" init hugepages >"$SLT_TMP/g2" 2>&1 && slt_fail "1G init passed without 1 GiB pages"
	grep -qF "no 1 GiB pages on this host" "$SLT_TMP/g2" && grep -qF "hugepagesz=1G hugepages=$nodes" "$SLT_TMP/g2" &&
		grep -qF "nothing changed" "$SLT_TMP/g2" || slt_fail "1G init: $(cat "$SLT_TMP/g2")"
	[ "$(cat /proc/sys/vm/nr_hugepages)" = "$huge0" ] || slt_fail "1G init changed the 2 MiB pages"
	awk -v a="$SLUICE_HUGE_MNT" -v b="$SLUICE_HUGE_MNT_1G" '$2 == a || $2 == b' /proc/mounts | grep -q . &&
		slt_fail "1G init mounted something"
	slt_ok "1 GiB pages: none here; check and init say '$(sed -n 's/^hugepages wrong: \(no 1 GiB.*\)/\1/p' "$SLT_TMP/g1")'," \
		"fix '$(grep -A1 'no 1 GiB' "$SLT_TMP/g1" | sed -n 's/^ *fix: //p')'; init changed nothing"
else
	want=0
	for f in /sys/devices/system/node/node*/hugepages/hugepages-1048576kB/nr_hugepages "$G1/nr_hugepages"; do
		[ -f "$f" ] && [ "$(cat "$f")" -gt "$want" ] && want=$(cat "$f")
	done
	want=$((want + 1))
	export SLUICE_HUGEPAGES=0 SLUICE_HUGEPAGES_1G=$want # 1 GiB pages alone
	"$SETUP" check hugepages >"$SLT_TMP/g1" 2>&1 && slt_fail "1G check passed before init: $(cat "$SLT_TMP/g1")"
	grep -qF "pages of 1 GiB (want $want)" "$SLT_TMP/g1" && grep -qF "no hugetlbfs at $SLUICE_HUGE_MNT_1G (pagesize=1G)" "$SLT_TMP/g1" ||
		slt_fail "1G check: $(cat "$SLT_TMP/g1")"
	if "$SETUP" init hugepages >"$SLT_TMP/g2" 2>&1; then
		"$SETUP" check hugepages >"$SLT_TMP/g3" 2>&1 || slt_fail "1G check after init: $(cat "$SLT_TMP/g3")"
		awk -v m="$SLUICE_HUGE_MNT_1G" '$2 == m && $3 == "hugetlbfs" && $4 ~ /pagesize=1024M/' /proc/mounts | grep -q . ||
			slt_fail "no hugetlbfs (pagesize=1G) at $SLUICE_HUGE_MNT_1G: $(grep hugetlbfs /proc/mounts)"
		awk -v m="$SLUICE_HUGE_MNT" '$2 == m' /proc/mounts | grep -q . && slt_fail "SLUICE_HUGEPAGES=0 mounted 2 MiB pages"
		"$SETUP" init hugepages >"$SLT_TMP/g4" 2>&1 || slt_fail "a second 1G init: $(cat "$SLT_TMP/g4")"
		[ "$(awk -v m="$SLUICE_HUGE_MNT_1G" '$2 == m' /proc/mounts | wc -l)" = 1 ] || slt_fail "1G: mounted twice"
		"$SETUP" fini hugepages >"$SLT_TMP/g5" 2>&1 || slt_fail "1G fini: $(cat "$SLT_TMP/g5")"
		awk -v m="$SLUICE_HUGE_MNT_1G" '$2 == m' /proc/mounts | grep -q . && slt_fail "1G: still mounted after fini"
		for f in "${!huge_was[@]}"; do
			[ "$(cat "$f")" = "${huge_was[$f]}" ] || slt_fail "1G fini: $f is $(cat "$f"), was ${huge_was[$f]}"
		done
		slt_ok "1 GiB pages for real: $want per node reserved and mounted (pagesize=1G); a second init no-op; fini put every count back"
	else
		grep -qF "seldom come at run time: reserve them at boot: hugepagesz=1G hugepages=$((want * nodes))" "$SLT_TMP/g2" ||
			slt_fail "1G init failed without the fix: $(cat "$SLT_TMP/g2")"
		"$SETUP" fini hugepages >"$SLT_TMP/g5" 2>&1 || slt_fail "1G fini: $(cat "$SLT_TMP/g5")"
		for f in "${!huge_was[@]}"; do
			[ "$(cat "$f")" = "${huge_was[$f]}" ] || slt_fail "1G fini: $f is $(cat "$f"), was ${huge_was[$f]}"
		done
		slt_ok "1 GiB pages: none to be had at run time here; init says '$(cat "$SLT_TMP/g2")'; fini put the counts back"
	fi
	export SLUICE_HUGEPAGES=$((huge0 + 8)) SLUICE_HUGEPAGES_1G=0
fi

# ---- afxdp ----
slt_net_up
DEV=$SLT_DEV
if [ -r "$XDP" ] && command -v bpftool >/dev/null; then
	export SLUICE_XDP_PROG=$XDP
else
	export SLUICE_XDP_PROG= # the program's checks are not run
	slt_log "no steering program $XDP or no bpftool: afxdp without it"
fi
ethtool -K "$DEV" gro on >/dev/null 2>&1 || slt_fail "gro on"
"$SETUP" check "afxdp=$DEV" >"$SLT_TMP/a1" 2>&1 && slt_fail "afxdp check passed with gro on"
grep -q "generic-receive-offload on" "$SLT_TMP/a1" || slt_fail "afxdp: $(cat "$SLT_TMP/a1")"
"$SETUP" init "afxdp=$DEV" >"$SLT_TMP/a2" 2>&1 || slt_fail "afxdp init: $(cat "$SLT_TMP/a2")"
"$SETUP" check "afxdp=$DEV" >"$SLT_TMP/a3" 2>&1 || slt_fail "afxdp check: $(cat "$SLT_TMP/a3")"
[ -z "$SLUICE_XDP_PROG" ] || grep -qF "$XDP passes the verifier; no XDP program attached" "$SLT_TMP/a3" ||
	slt_fail "afxdp check: $(cat "$SLT_TMP/a3")"
slt_ok "afxdp on a veth: gro on -> wrong; init -> $(grep ' ok: ' "$SLT_TMP/a3" | sed 's/^ *//')"

if [ -r "$OTHER" ]; then
	ip link set dev "$DEV" xdp obj "$OTHER" sec xdp || slt_fail "attach $OTHER"
	"$SETUP" check "afxdp=$DEV" >"$SLT_TMP/x1" 2>&1 && slt_fail "afxdp check passed with another XDP program on $DEV"
	for want in "afxdp     wrong: $DEV: another XDP program is attached: other_xdp (id " \
		"fix: ip link set dev $DEV xdp off   (only if nothing on this host needs other_xdp"; do
		grep -qF -- "$want" "$SLT_TMP/x1" || slt_fail "check does not say '$want': $(cat "$SLT_TMP/x1")"
	done
	"$SETUP" init "afxdp=$DEV" >"$SLT_TMP/x2" 2>&1 && slt_fail "afxdp init passed with another XDP program on $DEV"
	grep -qF "init does not remove it" "$SLT_TMP/x2" || slt_fail "afxdp init: $(cat "$SLT_TMP/x2")"
	ip link show "$DEV" | grep -q "name other_xdp" || slt_fail "init removed the other program"
	ip link set dev "$DEV" xdp off || slt_fail "xdp off"
	"$SETUP" check "afxdp=$DEV" >"$SLT_TMP/x3" 2>&1 || slt_fail "afxdp check after xdp off: $(cat "$SLT_TMP/x3")"
	slt_ok "another XDP program on $DEV: check says '$(sed -n 's/^afxdp *wrong: //p' "$SLT_TMP/x1")'," \
		"fix '$(sed -n 's/^ *fix: //p' "$SLT_TMP/x1")'; init leaves it (exit 1); detached -> clean"
else
	slt_log "no $OTHER (built with clang): the other-program case not run"
fi

if [ -n "$SLUICE_XDP_PROG" ]; then
	echo "not a BPF object" >"$SLT_TMP/not-bpf.o"
	SLUICE_XDP_PROG=$SLT_TMP/not-bpf.o "$SETUP" check "afxdp=$DEV" >"$SLT_TMP/v1" 2>&1 && slt_fail "check passed on a non-BPF program"
	grep -qF "wrong: steering program $SLT_TMP/not-bpf.o does not load into this kernel" "$SLT_TMP/v1" &&
		grep -qF "fix: ninja -C build install" "$SLT_TMP/v1" || slt_fail "a non-BPF program: $(cat "$SLT_TMP/v1")"
	SLUICE_XDP_PROG=$SLT_TMP/none.o "$SETUP" check "afxdp=$DEV" >"$SLT_TMP/v2" 2>&1 && slt_fail "check passed on a missing program"
	grep -qF "wrong: no steering program $SLT_TMP/none.o" "$SLT_TMP/v2" || slt_fail "a missing program: $(cat "$SLT_TMP/v2")"
	SLUICE_XDP_PROG=$SLT_TMP/none.o "$SETUP" init "afxdp=$DEV" >"$SLT_TMP/v3" 2>&1 && slt_fail "init passed on a missing program"
	grep -qF "nothing changed" "$SLT_TMP/v3" || slt_fail "init, a missing program: $(cat "$SLT_TMP/v3")"
	slt_ok "steering program no BPF object -> '$(sed -n 's/^afxdp *wrong: //p' "$SLT_TMP/v1" | cut -c1-90)...'; missing -> wrong, init refuses"
fi

if [ -n "$SLUICE_XDP_PROG" ] && [ -x "$SLUICE_DP" ]; then
	slt_write_config >/dev/null
	sed -i "s|^port = .*|port = net_af_xdp0,iface=$DEV,start_queue=0,queue_count=1,xdp_prog=$XDP|" "$SLT_CFG"
	slt_start_dp
	id=
	for _ in $(seq 100); do
		id=$(ip link show "$DEV" | sed -n 's/.*prog\/xdp id \([0-9]*\) name sl_xdp_steer.*/\1/p')
		[ -n "$id" ] && break
		kill -0 "$SLT_DP_PID" 2>/dev/null || slt_fail "sluice-dp on af_xdp exited: $(tail -5 "$SLT_TMP/dp.log")"
		sleep 0.2
	done
	[ -n "$id" ] || slt_fail "sluice-dp did not attach sl_xdp_steer: $(ip link show "$DEV")"
	"$SETUP" check "afxdp=$DEV" >"$SLT_TMP/d1" 2>&1 || slt_fail "check with sluice-dp running: $(cat "$SLT_TMP/d1")"
	grep -qF "sl_xdp_steer (id $id) attached, held by sluice-dp($SLT_DP_PID)" "$SLT_TMP/d1" ||
		slt_fail "check with sluice-dp running: $(cat "$SLT_TMP/d1")"
	"$SETUP" init "afxdp=$DEV" >"$SLT_TMP/d2" 2>&1 || slt_fail "init with sluice-dp running: $(cat "$SLT_TMP/d2")"
	"$SETUP" fini "afxdp=$DEV" >"$SLT_TMP/d3" 2>&1 || slt_fail "fini with sluice-dp running: $(cat "$SLT_TMP/d3")"
	ip link show "$DEV" | grep -q "prog/xdp id $id name sl_xdp_steer" || slt_fail "init / fini detached a running sluice-dp's program"
	slt_kill_pid "$SLT_DP_PID"
	SLT_DP_PID=
	"$SETUP" check "afxdp=$DEV" >"$SLT_TMP/d4" 2>&1 && slt_fail "check passed with a stale program"
	for want in "wrong: $DEV: a stale sl_xdp_steer (id $id, xdp) is attached that no process holds" \
		"fix: sluice-setup init afxdp=$DEV   (ip link set dev $DEV xdp off)"; do
		grep -qF -- "$want" "$SLT_TMP/d4" || slt_fail "check does not say '$want': $(cat "$SLT_TMP/d4")"
	done
	"$SETUP" init "afxdp=$DEV" >"$SLT_TMP/d5" 2>&1 || slt_fail "init with a stale program: $(cat "$SLT_TMP/d5")"
	grep -qF "detached a stale sl_xdp_steer (id $id, xdp)" "$SLT_TMP/d5" || slt_fail "init: $(cat "$SLT_TMP/d5")"
	ip link show "$DEV" | grep -q "prog/xdp" && slt_fail "still attached: $(ip link show "$DEV")"
	"$SETUP" check "afxdp=$DEV" >"$SLT_TMP/d6" 2>&1 || slt_fail "check after init: $(cat "$SLT_TMP/d6")"
	# a new sluice-dp attaches its program again, and a clean stop takes it off
	slt_start_dp
	for _ in $(seq 100); do
		ip link show "$DEV" | grep -q "name sl_xdp_steer" && break
		kill -0 "$SLT_DP_PID" 2>/dev/null || slt_fail "sluice-dp after init: $(tail -5 "$SLT_TMP/dp.log")"
		sleep 0.2
	done
	ip link show "$DEV" | grep -q "name sl_xdp_steer" || slt_fail "a new sluice-dp did not attach: $(tail -5 "$SLT_TMP/dp.log")"
	slt_stop_dp
	ip link show "$DEV" | grep -q "prog/xdp" && slt_fail "attached after a clean stop: $(ip link show "$DEV")"
	slt_ok "sluice-dp on af_xdp: check ok ('$(sed -n 's/.*; \(sl_xdp_steer .*\)/\1/p' "$SLT_TMP/d1")'), init / fini leave it;" \
		"killed (kill -9): check finds it stale, init detaches it; the next sluice-dp attaches, its clean stop detaches"
else
	slt_log "no sluice-dp or steering program: the running / stale cases not run"
fi

# ---- nic ----
"$SETUP" check nic=0000:ff:1f.7 >"$SLT_TMP/n1" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "no PCI device 0000:ff:1f.7 on this host (list them: lspci -D" "$SLT_TMP/n1" ||
	slt_fail "nic with a missing address: rc $rc: $(cat "$SLT_TMP/n1")"
slt_ok "nic 0000:ff:1f.7: '$(cat "$SLT_TMP/n1")'"

# A device this host has, not on vfio-pci: check only (never init here:
# it would take the device from its driver).
PCI=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	[ "$(basename "$(readlink -f "$d/driver" 2>/dev/null)")" = vfio-pci ] && continue
	PCI=$(basename "$d")
	break
done
if [ -n "$PCI" ]; then
	if ! command -v dpdk-devbind.py >/dev/null && ! command -v dpdk-devbind >/dev/null; then
		"$SETUP" check "nic=$PCI" >"$SLT_TMP/n2" 2>&1 && slt_fail "nic check passed for $PCI"
		for want in "nic       wrong: dpdk-devbind.py is not installed" \
			"fix: apt install dpdk   (Debian ships it as /usr/bin/dpdk-devbind.py" \
			"fix: sluice-setup init nic=$PCI   (modprobe vfio-pci && dpdk-devbind.py -b vfio-pci $PCI)"; do
			grep -qF -- "$want" "$SLT_TMP/n2" || slt_fail "nic check does not say '$want': $(cat "$SLT_TMP/n2")"
		done
		slt_ok "nic $PCI, no dpdk-devbind.py here: '$(grep -A1 'not installed' "$SLT_TMP/n2" | tr -s ' ' | tr '\n' ' ')'"
	fi
	mkdir -p "$SLT_TMP/bin"
	printf '#!/bin/sh\necho "not to be run" >&2\nexit 1\n' >"$SLT_TMP/bin/dpdk-devbind.py"
	chmod +x "$SLT_TMP/bin/dpdk-devbind.py"
	PATH=$SLT_TMP/bin:$PATH "$SETUP" check "nic=$PCI" >"$SLT_TMP/n3" 2>&1 && slt_fail "nic check passed for $PCI"
	grep -qF "fix: sluice-setup init nic=$PCI   (modprobe vfio-pci && $SLT_TMP/bin/dpdk-devbind.py -b vfio-pci $PCI)" "$SLT_TMP/n3" &&
		! grep -q "not installed" "$SLT_TMP/n3" || slt_fail "nic check with the tool: $(cat "$SLT_TMP/n3")"
	slt_ok "nic $PCI with the tool: '$(grep 'init nic=' "$SLT_TMP/n3" | sed 's/^ *//')'"
fi
