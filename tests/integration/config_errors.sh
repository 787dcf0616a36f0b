#!/usr/bin/env bash
# config_errors.sh — SPEC §12: an unknown section, an unknown key or a bad
# value makes sluice-dp and sluice-ctrl exit non-zero with "FILE:LINE" on
# stderr, before touching anything: no region file, no DPDK runtime dir, no
# control socket.  Needs no root and no network (the configs name a veth that
# does not exist; it must never be opened).
. "$(dirname "$0")/lib.sh"

slt_require_bins
slt_init
# A private region dir, so "no region file" cannot be confused with others.
SLT_REGION_DIR=$SLT_TMP/regions
mkdir -p "$SLT_REGION_DIR"
SLT_REGION=$SLT_REGION_DIR/sluice-$SLT_INST.region

good=$SLT_TMP/good.ini
slt_write_config "$good" >/dev/null

# line_of FILE REGEX: number of the first line matching REGEX.
line_of() { grep -n -m1 -E "$2" "$1" | cut -d: -f1; }

# variant NAME SED-EXPR: a copy of the good config with one defect.
variant() {
	local f=$SLT_TMP/$1.ini
	sed -e "$2" "$good" >"$f"
	echo "$f"
}

# expect_error BIN NAME FILE LINE...: BIN -c FILE exits non-zero, stderr has
# FILE:LINE for one of the given LINEs, and nothing was created.
expect_error() {
	local bin=$1 name=$2 f=$3 rc l hit=
	shift 3
	"$bin" -c "$f" </dev/null >"$SLT_TMP/out.log" 2>"$SLT_TMP/err.log"
	rc=$?
	[ "$rc" != 0 ] || slt_fail "$(basename "$bin") accepted $name ($f)"
	for l in "$@"; do
		grep -qF "$f:$l" "$SLT_TMP/err.log" && hit=$l
	done
	[ -n "$hit" ] || {
		cat "$SLT_TMP/err.log"
		slt_fail "$(basename "$bin") $name: stderr lacks '$f:$*'"
	}
	[ ! -e "$SLT_REGION" ] || slt_fail "$(basename "$bin") $name created $SLT_REGION"
	[ ! -e "$SLT_RUNDIR" ] || slt_fail "$(basename "$bin") $name created $SLT_RUNDIR"
	[ ! -e "$SLT_SOCK" ] || slt_fail "$(basename "$bin") $name created $SLT_SOCK"
	slt_ok "$(basename "$bin") $name: exit $rc, '$(grep -m1 -F "$f:$hit" "$SLT_TMP/err.log")'"
}

# Unknown key inside a known section: the error names that key's line.
unknown_key=$(variant unknown_key '/^udp_port = /a bogus_key = 1')
# Unknown section: the header line (or the first key under it).
unknown_section=$(variant unknown_section '$a [bogus]\nfoo = 1')
# Bad values: a port out of range, a non-number where a number belongs,
# an address that is not one.
bad_port=$(variant bad_port 's/^udp_port = .*/udp_port = 70000/')
bad_number=$(variant bad_number 's/^max_peers = .*/max_peers = lots/')
bad_ip=$(variant bad_ip 's|^ip = .*|ip = 10.1.2.300/24|')

for bin in "$SLUICE_DP" "$SLUICE_CTRL"; do
	expect_error "$bin" "unknown key" "$unknown_key" \
		"$(line_of "$unknown_key" '^bogus_key')"
	sl=$(line_of "$unknown_section" '^\[bogus\]')
	expect_error "$bin" "unknown section" "$unknown_section" "$sl" $((sl + 1))
	expect_error "$bin" "bad udp_port" "$bad_port" "$(line_of "$bad_port" '^udp_port')"
	expect_error "$bin" "bad max_peers" "$bad_number" \
		"$(line_of "$bad_number" '^max_peers')"
	expect_error "$bin" "bad ip" "$bad_ip" "$(line_of "$bad_ip" '^ip =')"

	# A file that cannot be read: non-zero, the message names the file.
	"$bin" -c "$SLT_TMP/missing.ini" </dev/null >/dev/null 2>"$SLT_TMP/err.log" &&
		slt_fail "$(basename "$bin") accepted a missing config file"
	grep -qF "$SLT_TMP/missing.ini" "$SLT_TMP/err.log" ||
		slt_fail "$(basename "$bin"): missing-file error does not name the file"
	slt_ok "$(basename "$bin") missing file: non-zero, file named"
done

# Positive controls: the config the defects were made from, and the sample
# deploy/sluice.ini (paths moved into the temp dir), start sluice-ctrl.
sample=$SLT_TMP/sample.ini
sed -e "s|^region_dir = .*|region_dir = $SLT_REGION_DIR|" \
	-e "s|^socket = .*|socket = $SLT_SOCK|" \
	-e "s|^store = .*|store = $SLT_TMP/store-sample|" \
	"$SLT_SRC/deploy/sluice.ini" >"$sample"
for f in "$good" "$sample"; do
	SLT_CFG=$f
	slt_start_ctrl
	for ((i = 0; i < 50; i++)); do
		st=$(slt_state)
		[ -n "$st" ] && break
		slt_alive "$SLT_CTRL_PID" || slt_fail "sluice-ctrl rejected $f"
		sleep 0.1
	done
	[ "$st" = registering ] || slt_fail "sluice-ctrl -c $f: state '$st' (want registering)"
	slt_stop_ctrl
	slt_ok "sluice-ctrl accepts $(basename "$f")"
done

slt_log "PASS"
