#!/usr/bin/env bash
# harness_cleanup_signal: a second SIGTERM that arrives while the trap
# cleans up does not cut the cleanup short.  GNU timeout sends its signal
# to the script and then to the script's whole process group, meson's
# timeout and a second Ctrl-C do the like; a shell killed mid-cleanup left
# an empty netns slt<id> behind (the veth deleted, the namespace not).
# A child scenario (lib.sh, slt_net_up, its own process group) gets
# SIGTERM; once its cleanup runs (a hook says so and waits a second) it
# gets a second one; the cleanup must still reach its end: the last hook
# ran, exit status 130, no netns, link or temp dir of the child left.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool setsid
slt_init

LIB=$(cd "$(dirname "$0")" && pwd)/lib.sh
D=$SLT_TMP/child
mkdir "$D"
cat >"$SLT_TMP/child.sh" <<'EOF'
. "$1"
D=$2
SLT_NAME=harness_cleanup_signal.child
slt_init
slt_net_up
in_cleanup() { : >"$D/in-cleanup" && sleep 1; }
finished() { : >"$D/finished"; }
SLT_CLEANUP_HOOKS+=(in_cleanup finished)
echo "$SLT_NS $SLT_DEV $SLT_TMP" >"$D/names.tmp" && mv "$D/names.tmp" "$D/names"
while :; do sleep 0.1; done
EOF
# setsid from a background job (not a group leader) execs in place: the
# child's pid is its process group.
setsid bash "$SLT_TMP/child.sh" "$LIB" "$D" >"$SLT_TMP/child.log" 2>&1 &
CHILD=$!
CNS='' CDEV='' CTMP=''
child_cleanup() {
	slt_kill_pid "$CHILD"
	[ -z "$CNS" ] || ip netns del "$CNS" 2>/dev/null
	[ -z "$CDEV" ] || ip link del "$CDEV" 2>/dev/null
	[ -z "$CTMP" ] || rm -rf "$CTMP"
	return 0
}
SLT_CLEANUP_HOOKS+=(child_cleanup)

wait_file() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$1" ] && return 0
		slt_alive "$CHILD" || slt_fail "the child died before $1: $(cat "$SLT_TMP/child.log")"
		sleep 0.1
	done
	slt_fail "no $1 after 10 s: $(cat "$SLT_TMP/child.log")"
}

wait_file "$D/names"
read -r CNS CDEV CTMP <"$D/names"
[ "$(ps -o pgid= -p "$CHILD" | tr -d ' ')" = "$CHILD" ] || slt_fail "the child is not its own process group"
ip netns list | grep -q "^$CNS\b" || slt_fail "the child's netns $CNS is not there"
slt_ok "child up: netns $CNS, link $CDEV"

kill -TERM -- "-$CHILD"
wait_file "$D/in-cleanup"
kill -TERM -- "-$CHILD"
slt_wait_exit "$CHILD" 10 || slt_fail "the child did not exit within 10 s"
[ -e "$D/finished" ] || slt_fail "the second SIGTERM cut the cleanup short (child exit $SLT_RC)"
[ "$SLT_RC" = 130 ] || slt_fail "child exit $SLT_RC (want 130, the first SIGTERM's)"
! ip netns list | grep -q "^$CNS\b" || slt_fail "netns $CNS left behind"
! ip link show "$CDEV" >/dev/null 2>&1 || slt_fail "link $CDEV left behind"
[ ! -e "$CTMP" ] || slt_fail "temp dir $CTMP left behind"
slt_ok "a second SIGTERM during the cleanup: cleanup finished, exit 130, nothing left"
