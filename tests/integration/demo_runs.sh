#!/usr/bin/env bash
# demo_runs.sh — README's first command ends with deploy/demo.sh: run it
# against this build and hold it to what it promises (two nodes, A imports
# testnet3 0..9999, B syncs them over the network and its tip is the file's
# last header, both stop cleanly) and to its time bound (under a minute).
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_bins
slt_init
builddir=$(cd "$(dirname "$SLUICE_DP")/.." && pwd)
t0=$SECONDS
bash "$SLT_SRC/deploy/demo.sh" "$builddir" >"$SLT_TMP/demo.out" 2>&1
rc=$?
dt=$((SECONDS - t0))
sed 's/^/  | /' "$SLT_TMP/demo.out"
[ "$rc" = 0 ] || slt_fail "deploy/demo.sh exited $rc"
for want in "imported 9999 new headers; tip 9999" "synced to height 9999" \
	"B's tip is the file's last header" "both nodes exited 0" "demo done"; do
	grep -qF "$want" "$SLT_TMP/demo.out" || slt_fail "demo output lacks '$want'"
done
[ "$dt" -lt 60 ] || slt_fail "the demo took $dt s (promised: under a minute)"
slt_ok "deploy/demo.sh: synced and stopped cleanly in $dt s"
