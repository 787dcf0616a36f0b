#!/usr/bin/env bash
# tests/fuzz/smoke.sh FUZZER [libFuzzer args and input dirs...] — one fuzz
# target's smoke test (tests/fuzz/meson.build): libFuzzer writes the new
# inputs it finds into its first corpus dir, so that is a scratch dir,
# removed afterwards; the seed and regression dirs after it are only read.
set -u
scratch=$(mktemp -d "${TMPDIR:-/tmp}/sl-fuzz-smoke-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
fuzzer=$1
shift
"$fuzzer" "$scratch" "$@"
