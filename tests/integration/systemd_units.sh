#!/usr/bin/env bash
# systemd_units.sh — the units `ninja install` puts in lib/systemd/system
# (sluice-dp@, sluice-ctrl@, sluice@.target, sluice-setup; issue 13 item 3):
#   installed, their ExecStart naming the installed binaries (sbin's
#     sluice-setup for sluice-setup.service and sluice-dp@'s ExecStartPre);
#   `systemd-analyze verify` finds nothing to say about an instance of each
#     (ExecStart pointed into the install tree; no man lookups);
#   both services are PartOf the node's target, ctrl is ordered after the
#     dataplane and neither BindsTo the other (stopping ctrl leaves the
#     dataplane serving: the rollout, tests/integration/ctrl_rollout.sh);
#   the dataplane Requires= and is After= the host's setup stages
#     (sluice-setup.service, a oneshot that stays active, RemainAfterExit=
#     yes, running `sluice-setup init`), and runs its device's stage
#     (/etc/sluice/%i.setup.env) with full privileges before every start;
#   prints each service's exposure (`systemd-analyze security --offline`).
. "$(dirname "$0")/lib.sh"

slt_require_tools systemd-analyze
slt_require_bins
slt_init
build=$(cd "$(dirname "$SLUICE_DP")/.." && pwd)
root=$SLT_TMP/root
meson install -C "$build" --no-rebuild --destdir "$root" >"$SLT_TMP/install.log" 2>&1 ||
	slt_fail "meson install: $(tail -5 "$SLT_TMP/install.log")"
units=$(find "$root" -path '*/lib/systemd/system' -type d | head -1)
[ -n "$units" ] || slt_fail "no lib/systemd/system in the install tree"
for u in sluice-dp@.service sluice-ctrl@.service sluice@.target sluice-setup.service; do
	[ -f "$units/$u" ] || slt_fail "$u not installed"
done
prefix=${units%/lib/systemd/system}
prefix=${prefix#"$root"}
grep -q "^ExecStart=$prefix/bin/sluice-dp -c /etc/sluice/%i.ini$" "$units/sluice-dp@.service" ||
	slt_fail "sluice-dp@: $(grep ExecStart "$units/sluice-dp@.service")"
grep -q "^ExecStart=$prefix/sbin/sluice-setup init \$SLUICE_SETUP_STAGES$" "$units/sluice-setup.service" ||
	slt_fail "sluice-setup.service: $(grep ExecStart "$units/sluice-setup.service")"
grep -q "^ExecStartPre=+$prefix/sbin/sluice-setup init \$SLUICE_SETUP_STAGES$" "$units/sluice-dp@.service" ||
	slt_fail "sluice-dp@: $(grep ExecStartPre "$units/sluice-dp@.service")"
[ -x "$root$prefix/sbin/sluice-setup" ] || slt_fail "$prefix/sbin/sluice-setup not installed"
slt_ok "installed in $prefix/lib/systemd/system, ExecStart $prefix/bin/... and $prefix/sbin/sluice-setup"

mkdir -p "$SLT_TMP/v"
for s in dp@n1 ctrl@n1 setup; do
	sed "s|^\(ExecStart[A-Za-z]*=+\{0,1\}\)$prefix/|\1$root$prefix/|" "$units/sluice-${s%n1}.service" \
		>"$SLT_TMP/v/sluice-$s.service"
done
cp "$units/sluice@.target" "$SLT_TMP/v/sluice@n1.target"
out=$(cd "$SLT_TMP/v" && systemd-analyze verify --man=no ./sluice-dp@n1.service \
	./sluice-ctrl@n1.service ./sluice@n1.target ./sluice-setup.service 2>&1)
rc=$?
[ "$rc" = 0 ] && [ -z "$out" ] || slt_fail "systemd-analyze verify: rc $rc: $out"
slt_ok "systemd-analyze verify: nothing to say"

grep -q '^PartOf=sluice@%i.target$' "$units/sluice-dp@.service" &&
	grep -q '^PartOf=sluice@%i.target$' "$units/sluice-ctrl@.service" &&
	grep -q '^After=sluice-dp@%i.service$' "$units/sluice-ctrl@.service" ||
	slt_fail "PartOf / After missing"
grep -q '^BindsTo=' "$units/sluice-dp@.service" "$units/sluice-ctrl@.service" &&
	slt_fail "a BindsTo: stopping one service would stop the other"
slt_ok "PartOf the node target, ctrl after dp, no BindsTo (ctrl can stop while dp serves)"

# unit_deps FILE KEY: the words of every KEY= line of FILE, one a line.
unit_deps() { sed -n "s/^$2=//p" "$1" | tr ' ' '\n' | grep -v '^$'; }
for dep in Requires After; do
	unit_deps "$units/sluice-dp@.service" "$dep" | grep -qxF sluice-setup.service ||
		slt_fail "sluice-dp@ has no $dep=sluice-setup.service: $(grep -E '^(Requires|After)=' "$units/sluice-dp@.service" | tr '\n' ' ')"
done
grep -qx 'Type=oneshot' "$units/sluice-setup.service" && grep -qx 'RemainAfterExit=yes' "$units/sluice-setup.service" ||
	slt_fail "sluice-setup.service: not a oneshot that stays active (Type=oneshot, RemainAfterExit=yes)"
grep -qx 'EnvironmentFile=-/etc/sluice/%i.setup.env' "$units/sluice-dp@.service" ||
	slt_fail "sluice-dp@: its device's stages are not read from /etc/sluice/%i.setup.env"
slt_ok "sluice-dp@ Requires= and is After= sluice-setup.service (oneshot, RemainAfterExit), its device's stage before every start"
for s in dp ctrl; do
	e=$(cd "$SLT_TMP/v" && systemd-analyze security --offline=yes --no-pager \
		"./sluice-$s@n1.service" 2>/dev/null | grep -o 'exposure level for [^:]*: [0-9.]* [A-Z]*')
	echo "systemd_exposure unit=sluice-$s@ $e"
done
