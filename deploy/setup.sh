#!/usr/bin/env bash
# deploy/setup.sh — from a fresh Debian 12 root machine to a running demo.
#
#   deploy/setup.sh              install what is missing (apt), build, run
#                                deploy/demo.sh
#   deploy/setup.sh --deps-only  only install what is missing (tests/run.sh)
#   deploy/setup.sh --no-demo    install + build, no demo
#
# apt runs only when a package is missing (apt-get update first, then
# install of exactly the missing ones, non-interactive).  Optional packages
# (socat) are best effort, and --deps-only never runs apt for them alone.
# Build dir: $SLUICE_BUILDDIR or build/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
builddir=${SLUICE_BUILDDIR:-$src/build}

# Needed to build and test (libmicrohttpd-dev: sluice-ctrl's /metrics;
# prometheus: its promtool checks that output in metrics_endpoint).
required_pkgs="build-essential meson ninja-build pkg-config libdpdk-dev dpdk-dev
  libbpf-dev bpftool clang llvm check libsubunit-dev libjansson-dev
  libsodium-dev python3-kconfiglib systemtap-sdt-dev iproute2 ethtool
  iputils-ping bpftrace libssl-dev gnuplot-nox scdoc tmux libmicrohttpd-dev
  prometheus python3-nacl"
# Handy by hand (talking JSON lines to the control socket; perf for
# PERF=1 tests/bench/frame_path.sh); not needed.
optional_pkgs="socat linux-perf"

usage() {
	sed -n '2,/^set /p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || echo "$p"
	done
}

apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null
}

install_deps() {
	local req opt
	command -v dpkg-query >/dev/null || {
		echo "setup: not a Debian system (no dpkg-query); install by hand: $required_pkgs" >&2
		exit 1
	}
	# shellcheck disable=SC2086
	req=$(missing $required_pkgs | tr '\n' ' ')
	# shellcheck disable=SC2086
	opt=$(missing $optional_pkgs | tr '\n' ' ')
	if [ -z "${req// /}" ] && { [ -z "${opt// /}" ] || [ "$mode" = deps ]; }; then
		# --deps-only does not run apt for optional packages alone.
		[ "$mode" = deps ] && echo "setup: all required packages present" ||
			echo "setup: all packages present"
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages: $req$opt — run as root to install them" >&2
		[ -z "${req// /}" ] || exit 1
		return 0
	fi
	echo "setup: installing: $req$opt"
	# Word splitting of $req / $opt is intended (package lists).
	# shellcheck disable=SC2086
	if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null &&
		apt_install $req $opt; }; then
		# Optional ones may be unavailable (mirror, offline cache): retry
		# with the required ones only, and fail only if those fail.
		if [ -n "${req// /}" ]; then
			# shellcheck disable=SC2086
			apt_install $req || {
				echo "setup: apt-get install failed for: $req" >&2
				exit 1
			}
		fi
		echo "setup: note: optional packages not installed: $opt" >&2
	fi
}

build() {
	cd "$src"
	if [ ! -f "$builddir/build.ninja" ]; then
		meson setup "$builddir"
	fi
	ninja -C "$builddir"
}

mode=all
case "${1:-}" in
"") ;;
--deps-only) mode=deps ;;
--no-demo) mode=build ;;
-h | --help)
	usage
	exit 0
	;;
*)
	usage >&2
	exit 2
	;;
esac

install_deps
[ "$mode" = deps ] && exit 0
build
[ "$mode" = build ] && exit 0
exec "$here/demo.sh" "$builddir"
