#!/usr/bin/env bash
# harness_netns_twice: a scenario that sets up a second network in the
# same run (xdp_steer: one node on a veth, then two nodes on a bridge)
# leaves neither namespace behind.  The second slt_netns_add finds the
# first netns under the run's id (a name clash with itself), mints a new
# id and goes on; the cleanup used to delete only the last one, so the
# first stayed, empty.  A child scenario (lib.sh) runs slt_net_up, then
# slt_lan_up, and exits 0; afterwards no netns and no link of either id
# may exist, nor its temp dir.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_init

LIB=$(cd "$(dirname "$0")" && pwd)/lib.sh
cat >"$SLT_TMP/child.sh" <<'EOS'
. "$1"
SLT_NAME=harness_netns_twice.child
slt_init
slt_net_up
echo "first $SLT_NS $SLT_DEV" >>"$2"
slt_lan_up 2
echo "second $SLT_NS $SLT_TMP" >>"$2"
EOS
NAMES=$SLT_TMP/names
bash "$SLT_TMP/child.sh" "$LIB" "$NAMES" >"$SLT_TMP/child.log" 2>&1 ||
	slt_fail "the child scenario failed: $(tail -n 5 "$SLT_TMP/child.log")"
read -r _ NS1 DEV1 < <(grep '^first ' "$NAMES")
read -r _ NS2 CTMP < <(grep '^second ' "$NAMES")
[ -n "$NS1" ] && [ -n "$NS2" ] || slt_fail "the child did not record its names: $(cat "$NAMES")"
[ "$NS1" != "$NS2" ] || slt_fail "one netns for both networks ($NS1)"
grep -q "name clash: $NS1 exists already" "$SLT_TMP/child.log" ||
	slt_fail "the second set-up did not meet the first netns: $(cat "$SLT_TMP/child.log")"
left=$(ip netns list | awk '{print $1}' | grep -x -e "$NS1" -e "$NS2" -e "${NS2}h[0-9]*")
[ -z "$left" ] || {
	for ns in $left; do ip netns del "$ns"; done
	slt_fail "netns left behind: $left"
}
! ip link show "$DEV1" >/dev/null 2>&1 || slt_fail "link $DEV1 left behind"
[ ! -e "$CTMP" ] || slt_fail "temp dir $CTMP left behind"
slt_ok "two networks in one run ($NS1, then $NS2): both namespaces gone, no link, no temp dir"
