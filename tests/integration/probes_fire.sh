#!/usr/bin/env bash
# probes_fire.sh — the USDT probes of SPEC §11 are live in sluice-dp: a
# tracer attached to the running dataplane (bpftrace, which also raises the
# probes' semaphores) sees `rx_burst` with lcore and burst size, and
# `frame_drop` with the drop reason of a malformed frame (bad magic ->
# reason sl_magic, its index in sl_counters.h), and nothing fires for a
# reason that did not happen.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool bpftrace
slt_require_bins
slt_init
# bpftrace attaches uprobes through tracefs; mount it for the run if absent.
if ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs nodev /sys/kernel/tracing || slt_skip "cannot mount tracefs"
	slt_tracefs_cleanup() { umount /sys/kernel/tracing; }
	SLT_CLEANUP_HOOKS+=(slt_tracefs_cleanup)
fi
slt_node_up

# The reason's number is its position in SL_DROP_LIST.
magic=$(grep -oE '^[[:space:]]*X\([A-Z_]+, "[a-z_]+"' "$SLT_SRC/dataplane/lib/sl_counters.h" |
	sed -nE 's/.*"([a-z_]+)"/\1/p' | grep -nx sl_magic | cut -d: -f1)
[ -n "$magic" ] || slt_fail "sl_magic not found in sl_counters.h"
magic=$((magic - 1))

trace=$SLT_TMP/bpftrace.out
bpftrace -p "$SLT_DP_PID" -e "
usdt:$SLUICE_DP:sluice:rx_burst { @bursts = count(); @frames = sum(arg1); }
usdt:$SLUICE_DP:sluice:frame_drop { @drops[arg1] = count(); }
" >"$trace" 2>&1 &
bt=$!
for _ in $(seq 100); do
	grep -q Attaching "$trace" && break
	sleep 0.1
done
grep -q Attaching "$trace" || { kill $bt; cat "$trace"; slt_fail "bpftrace did not attach"; }
sleep 0.5

slt_nsexec "$SLT_PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    s.sendto(b'XX' + bytes(30), ('$SLT_DP_IP', 9747))
"
sleep 1
kill -INT $bt
wait $bt
sed 's/^/    /' "$trace"

grep -qE "^@drops\[$magic\]: 3$" "$trace" ||
	slt_fail "frame_drop did not report 3 drops with reason $magic (sl_magic)"
bursts=$(sed -nE 's/^@bursts: ([0-9]+)$/\1/p' "$trace")
[ "${bursts:-0}" -ge 1 ] || slt_fail "rx_burst never fired"
others=$(grep -E '^@drops\[' "$trace" | grep -vcE "^@drops\[$magic\]")
slt_ok "frame_drop: 3 x reason $magic (sl_magic); rx_burst fired $bursts times; $others other reasons"

slt_stop
slt_assert_clean
slt_log "PASS"
