#!/usr/bin/env bash
# harness_netns_clash: a name clash on `ip netns add` is retried with a
# fresh run id (and every name derived from it), never turned into a skip.
# The test makes the clash itself: it creates netns slt<id> for the id the
# harness just minted, then brings the network up, and checks that the
# harness moved to another id, that its namespace and veth work, and that
# the namespace it clashed with is left alone (the harness never deletes
# what it did not create).
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_init

taken=slt$SLT_ID
ip netns add "$taken" || slt_fail "could not create $taken for the clash"
drop_taken() { ip netns del "$taken" 2>/dev/null; }
SLT_CLEANUP_HOOKS+=(drop_taken)
old_id=$SLT_ID

slt_net_up
[ "$SLT_ID" != "$old_id" ] || slt_fail "run id still $old_id after the clash"
[ "$SLT_NS" = "slt$SLT_ID" ] || slt_fail "netns $SLT_NS does not follow the new id $SLT_ID"
[ "$SLT_INST" = "slt$SLT_ID" ] && [ "$SLT_PREFIX" = "slt$SLT_ID" ] ||
	slt_fail "instance/prefix ($SLT_INST/$SLT_PREFIX) not re-derived from id $SLT_ID"
slt_ok "clash on $taken retried as $SLT_NS"
slt_nsexec ip -o addr show dev "$SLT_PEER" | grep -q "$SLT_NS_IP/24" ||
	slt_fail "$SLT_PEER in $SLT_NS has no $SLT_NS_IP/24"
ip link show "$SLT_DEV" >/dev/null || slt_fail "root side $SLT_DEV missing"
[ -e "/run/netns/$taken" ] || slt_fail "the clashing namespace $taken was removed by the harness"
slt_ok "namespace, veth and address up under the new id; $taken untouched"
