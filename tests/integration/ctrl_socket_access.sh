#!/usr/bin/env bash
# ctrl_socket_access.sh — who may use the control socket (issue 12 item 5;
# SPEC §9: mode 0660).  sluice-ctrl with [ctrl] group = a fresh group G:
#   the socket file is srw-rw---- root:G;
#   root is served;
#   another user (nobody, no groups) cannot connect: sluicectl exits 3 and
#     says why (Permission denied);
#   nobody with G among its groups is served (SO_PEERGROUPS);
#   with the file opened to all (chmod 0666: a careless deployment) nobody
#     without G connects but the server refuses it (SO_PEERCRED): sluicectl
#     exits 3 with the server's reason (its uid, the group, the fix), and
#     `stats` counts it (ctrl.clients_refused);
#   a group that does not exist is a configuration error naming file:line.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools setpriv groupadd groupdel stat
slt_require_bins
slt_init
G=slt${SLT_ID}g
groupadd "$G" || slt_fail "groupadd $G"
g_del() { groupdel "$G" 2>/dev/null; }
SLT_CLEANUP_HOOKS+=(g_del)
GID=$(getent group "$G" | cut -d: -f3)
DIR=/tmp/slt$SLT_ID-sock # traversable by nobody (the temp dir is 0700)
mkdir -m 0755 "$DIR" || slt_fail "mkdir $DIR"
d_del() { rm -rf "$DIR"; }
SLT_CLEANUP_HOOKS+=(d_del)
SLT_SOCK=$DIR/ctrl.sock
slt_ctrl_config regtest
slt_cfg_set "$SLT_CFG" ctrl group "$G"
slt_start_ctrl
for ((i = 0; i < 50; i++)); do [ -S "$SLT_SOCK" ] && break; sleep 0.1; done
[ "$(stat -c '%A %U %G' "$SLT_SOCK")" = "srw-rw---- root $G" ] ||
	slt_fail "socket file: $(stat -c '%A %U %G' "$SLT_SOCK") (want srw-rw---- root $G)"
slt_ctl status >/dev/null || slt_fail "root is not served"
slt_ok "socket srw-rw---- root:$G; root served"

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$SLUICECTL" --socket "$SLT_SOCK" "$@"; }
as_member() { setpriv --reuid=65534 --regid=65534 --groups="$GID" -- "$SLUICECTL" --socket "$SLT_SOCK" "$@"; }

as_nobody status >/dev/null 2>"$SLT_TMP/e1"
rc=$?
[ "$rc" = 3 ] && grep -q "cannot reach sluice-ctrl at $SLT_SOCK: Permission denied" "$SLT_TMP/e1" ||
	slt_fail "nobody: exit $rc, $(cat "$SLT_TMP/e1") (want 3, Permission denied)"
slt_ok "another user: exit 3, '$(head -1 "$SLT_TMP/e1")'"

as_member status >"$SLT_TMP/o2" 2>&1 || slt_fail "a member of $G is not served: $(cat "$SLT_TMP/o2")"
grep -q '^state' "$SLT_TMP/o2" || slt_fail "member: $(cat "$SLT_TMP/o2")"
slt_ok "a member of $G (supplementary group) is served"

chmod 0666 "$SLT_SOCK"
as_nobody status >/dev/null 2>"$SLT_TMP/e3"
rc=$?
[ "$rc" = 3 ] && grep -q "refused: uid 65534 (gid 65534) is not root and not in group '$G' (gid $GID)" "$SLT_TMP/e3" ||
	slt_fail "open socket, nobody: exit $rc, $(cat "$SLT_TMP/e3") (want 3 and the server's reason)"
refused=$(slt_ctl --json stats | "$SLT_PY" -c 'import json,sys; print(json.load(sys.stdin)["ctrl"]["clients_refused"])')
[ "$refused" -ge 1 ] || slt_fail "ctrl.clients_refused $refused"
slt_ok "socket opened to all: the server refuses nobody (exit 3, its reason), clients_refused $refused"
slt_stop_ctrl

sed -i "s/^group = .*/group = slt-no-such-group/" "$SLT_TMP/ctrl.ini"
"$SLUICE_CTRL" -c "$SLT_TMP/ctrl.ini" >"$SLT_TMP/o4" 2>&1
rc=$?
line=$(grep -n '^group = ' "$SLT_TMP/ctrl.ini" | cut -d: -f1)
[ "$rc" = 2 ] && grep -q "ctrl.ini:$line.*no group 'slt-no-such-group'" "$SLT_TMP/o4" ||
	slt_fail "unknown group: exit $rc: $(cat "$SLT_TMP/o4")"
slt_ok "an unknown group: exit 2, '$(head -1 "$SLT_TMP/o4")'"
