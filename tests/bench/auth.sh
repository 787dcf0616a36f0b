#!/usr/bin/env bash
# auth.sh — what authenticated sessions (SPEC §8) cost the sync path:
# tests/bench/sync.sh with [admission] auth = off and = required on both
# nodes, alternated ROUNDS times (off, required, off, ...: both see the
# same machine state), one run each, SYNC_TWO=0.  Prints every run's
# figures, the medians and, last, exactly one line
#   auth headers=<n> off_steady_per_s=<x> required_steady_per_s=<x>
#        steady_ratio=<x> off_per_s=<x> required_per_s=<x> ratio=<x>
# (ratio = required / off, of the medians; the goal is >= 0.85).  Never
# pass/fail on time.  Usage: tests/bench/auth.sh [ROUNDS] [N]  (default 3,
# 300000; env as sync.sh's; AUTH_LOG=file for sync.sh's own output,
# default a temporary file named at the start).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${1:-3}
N=${2:-300000}
log=${AUTH_LOG:-$(mktemp /tmp/sluice-auth-bench.XXXXXX)}
echo "auth: sync.sh output in $log"
declare -A steady whole
for ((r = 1; r <= ROUNDS; r++)); do
	for mode in off required; do
		line=$(SYNC_TWO=0 SLT_BENCH_AUTH=$mode "$here/sync.sh" 1 "$N" 2>&1 | tee -a "$log" |
			grep '^sync headers=' | tail -1)
		s=$(sed -n 's/.* steady_headers_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
		w=$(sed -n 's/.* headers_per_s=\([0-9.]*\) .*/\1/p' <<<"$line")
		echo "auth_run round=$r auth=$mode headers_per_s=${w:-0} steady_headers_per_s=${s:-0}"
		steady[$mode]+="${s:-0} "
		whole[$mode]+="${w:-0} "
	done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
so=$(median <<<"${steady[off]}") sr=$(median <<<"${steady[required]}")
wo=$(median <<<"${whole[off]}") wr=$(median <<<"${whole[required]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'; }
echo "auth headers=$N off_steady_per_s=$so required_steady_per_s=$sr steady_ratio=$(ratio "$sr" "$so") off_per_s=$wo required_per_s=$wr ratio=$(ratio "$wr" "$wo")"
