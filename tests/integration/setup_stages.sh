#!/usr/bin/env bash
# setup_stages.sh — deploy/sluice-setup for real, on this host (issue 13
# item 1), with its paths, user and page count pointed at test values:
#   dirs, sysctl, hugepages: `check` says what is wrong and the command
#     that fixes it (exit 1); `init` makes them right; `check` is then
#     clean (exit 0); a second `init` changes nothing and does not fail (the
#     hugetlbfs mount is there already); `fini` undoes it (mount gone,
#     pages and sysctl values back, the run dir removed, the state dir
#     kept), and `check` complains again;
#   afxdp on a veth: gro on -> wrong; init -> off; check clean;
#   nic with a PCI address this host does not have: a clear error naming
#     it and how to list the devices (exit 1).
# The host's hugepage count and sysctl values are restored at the end.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool sysctl useradd userdel mount
slt_init
SETUP=$SLT_SRC/deploy/sluice-setup
export SLUICE_USER=slt${SLT_ID}u SLUICE_ETC=$SLT_TMP/etc SLUICE_STATE=$SLT_TMP/state \
	SLUICE_RUN=$SLT_TMP/run SLUICE_HUGE_MNT=$SLT_TMP/huge
huge0=$(cat /proc/sys/vm/nr_hugepages)
rmem0=$(sysctl -n net.core.rmem_max) wmem0=$(sysctl -n net.core.wmem_max)
export SLUICE_HUGEPAGES=$((huge0 + 8))
restore() {
	umount "$SLUICE_HUGE_MNT" 2>/dev/null
	echo "$huge0" >/proc/sys/vm/nr_hugepages
	sysctl -qw net.core.rmem_max="$rmem0" net.core.wmem_max="$wmem0"
	userdel "$SLUICE_USER" 2>/dev/null
	ip link del "slt${SLT_ID}x" 2>/dev/null
}
SLT_CLEANUP_HOOKS+=(restore)
# the test needs something to be wrong at first
sysctl -qw net.core.rmem_max=4194304

"$SETUP" check >"$SLT_TMP/c1" 2>&1 && slt_fail "check passed before init: $(cat "$SLT_TMP/c1")"
for want in "dirs      wrong: no user $SLUICE_USER" "fix: sluice-setup init dirs" \
	"sysctl    wrong: net.core.rmem_max = 4194304 (want >= 16777216)" \
	"hugepages wrong: no hugetlbfs at $SLUICE_HUGE_MNT"; do
	grep -qF -- "$want" "$SLT_TMP/c1" || slt_fail "check does not say '$want': $(cat "$SLT_TMP/c1")"
done
slt_ok "check before init: exit 1, $(grep -c 'wrong:' "$SLT_TMP/c1") things wrong, each with its fix"

"$SETUP" init >"$SLT_TMP/i1" 2>&1 || slt_fail "init: $(cat "$SLT_TMP/i1")"
"$SETUP" check >"$SLT_TMP/c2" 2>&1 || slt_fail "check after init: $(cat "$SLT_TMP/c2")"
[ "$(grep -c ' ok: ' "$SLT_TMP/c2")" = 3 ] || slt_fail "check after init: $(cat "$SLT_TMP/c2")"
[ "$(stat -c '%a %G' "$SLUICE_STATE")" = "750 $SLUICE_USER" ] || slt_fail "state dir $(stat -c '%a %G' "$SLUICE_STATE")"
awk -v m="$SLUICE_HUGE_MNT" '$2 == m && $3 == "hugetlbfs"' /proc/mounts | grep -q . || slt_fail "no hugetlbfs mount"
[ "$(sysctl -n net.core.rmem_max)" -ge 16777216 ] || slt_fail "rmem_max not raised"
slt_ok "init: dirs, sysctl, hugepages right; check exit 0"

"$SETUP" init >"$SLT_TMP/i2" 2>&1 || slt_fail "a second init failed: $(cat "$SLT_TMP/i2")"
[ "$(awk -v m="$SLUICE_HUGE_MNT" '$2 == m' /proc/mounts | wc -l)" = 1 ] || slt_fail "mounted twice"
slt_ok "a second init: no error, one mount"

echo keep >"$SLUICE_STATE/store-data"
"$SETUP" fini >"$SLT_TMP/f1" 2>&1 || slt_fail "fini: $(cat "$SLT_TMP/f1")"
awk -v m="$SLUICE_HUGE_MNT" '$2 == m' /proc/mounts | grep -q . && slt_fail "still mounted after fini"
[ "$(sysctl -n net.core.rmem_max)" = 4194304 ] || slt_fail "rmem_max not restored: $(sysctl -n net.core.rmem_max)"
[ ! -e "$SLUICE_RUN" ] && [ -f "$SLUICE_STATE/store-data" ] || slt_fail "fini: run dir kept or state dir lost"
"$SETUP" check >/dev/null 2>&1 && slt_fail "check clean after fini"
slt_ok "fini: unmounted, sysctl restored, run dir removed, stores kept; check complains again"

ip link add "slt${SLT_ID}x" type veth peer name "slt${SLT_ID}y" || slt_fail "veth"
ethtool -K "slt${SLT_ID}x" gro on >/dev/null 2>&1 || slt_fail "gro on"
"$SETUP" check "afxdp=slt${SLT_ID}x" >"$SLT_TMP/a1" 2>&1 && slt_fail "afxdp check passed with gro on"
grep -q "generic-receive-offload on" "$SLT_TMP/a1" || slt_fail "afxdp: $(cat "$SLT_TMP/a1")"
"$SETUP" init "afxdp=slt${SLT_ID}x" >"$SLT_TMP/a2" 2>&1 || slt_fail "afxdp init: $(cat "$SLT_TMP/a2")"
"$SETUP" check "afxdp=slt${SLT_ID}x" >"$SLT_TMP/a3" 2>&1 || slt_fail "afxdp check: $(cat "$SLT_TMP/a3")"
slt_ok "afxdp on a veth: gro on -> wrong; init -> $(grep ' ok: ' "$SLT_TMP/a3" | sed 's/^ *//')"

"$SETUP" check nic=0000:ff:1f.7 >"$SLT_TMP/n1" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "no PCI device 0000:ff:1f.7 on this host (list them: lspci -D" "$SLT_TMP/n1" ||
	slt_fail "nic with a missing address: rc $rc: $(cat "$SLT_TMP/n1")"
slt_ok "nic 0000:ff:1f.7: '$(cat "$SLT_TMP/n1")'"
