#!/usr/bin/env bash
# probes_fire.sh — the USDT probes of SPEC §11 are live in sluice-dp: a
# tracer attached to the running dataplane (bpftrace, which also raises the
# probes' semaphores) sees `rx_burst` with lcore and burst size (the
# worker's lcore_id from /sluice/lcores; 1..SL_BURST frames; our frames
# among them, no more than rx_pkts moved), and `frame_drop` with the lcore
# and the drop reason of a malformed frame (bad magic -> reason sl_magic,
# its index in sl_counters.h, exactly 3 times), and nothing fires for a
# reason that did not happen (every reason traced moved its drop_<reason>
# counter in /sluice/stats at least as much over the trace).
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
# The worker on lcore 1 where there is one, so the lcore argument cannot be
# right by being 0 like the worker's index.
slt_net_up
slt_write_config >/dev/null
WORKER_LCORE=$(($(nproc) > 1 ? 1 : 0))
slt_cfg_set "$SLT_CFG" eal args "--no-pci --no-huge -m 128 --file-prefix $SLT_PREFIX -l $WORKER_LCORE"
slt_start_dp
slt_start_ctrl
slt_wait_ready 30

# The reason's number is its position in SL_DROP_LIST.
reasons=$(grep -oE '^[[:space:]]*X\([A-Z_]+, "[a-z_]+"' "$SLT_SRC/dataplane/lib/sl_counters.h" |
	sed -nE 's/.*"([a-z_]+)"/\1/p')
magic=$(echo "$reasons" | grep -nx sl_magic | cut -d: -f1)
[ -n "$magic" ] || slt_fail "sl_magic not found in sl_counters.h"
magic=$((magic - 1))
# The largest burst rte_eth_rx_burst may return: this build's SL_BURST.
burst=$(sed -nE 's/^#define SL_BURST ([0-9]+)$/\1/p' "$(dirname "$SLUICE_DP")/../sl_config.h" 2>/dev/null)
[ -n "$burst" ] || slt_fail "SL_BURST not found in the build's sl_config.h"
# The lcore the one worker runs on, as the dataplane reports it.
lcore=$(slt_telemetry_json /sluice/lcores | slt_jq '" ".join(str(d["lcore_id"]) for d in v.values() if isinstance(d, dict))')
[ "$lcore" = "$WORKER_LCORE" ] || slt_fail "/sluice/lcores: worker lcore(s) '$lcore' (want $WORKER_LCORE, the EAL -l)"

# The counters bracket the trace: what the probes report happened between
# the two reads.
slt_telemetry_json >"$SLT_TMP/c0" || slt_fail "/sluice/stats"
trace=$SLT_TMP/bpftrace.out
bpftrace -p "$SLT_DP_PID" -e "
usdt:$SLUICE_DP:sluice:rx_burst {
	@bursts = count(); @frames = sum(arg1); @rx_lcore[arg0] = count();
	@nb_min = min(arg1); @nb_max = max(arg1);
}
usdt:$SLUICE_DP:sluice:frame_drop { @drops[arg1] = count(); @drop_lcore[arg0] = count(); }
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
slt_telemetry_json >"$SLT_TMP/c1" || slt_fail "/sluice/stats"
sed 's/^/    /' "$trace"
# moved KEY: how much /sluice/stats KEY moved across the trace.
moved() { echo $(($(slt_json_get "$1" <"$SLT_TMP/c1") - $(slt_json_get "$1" <"$SLT_TMP/c0"))); }
# tval NAME: a scalar @NAME from the trace (0 when absent).
tval() { sed -nE "s/^@$1: ([0-9]+)\$/\\1/p" "$trace" | grep . || echo 0; }
# tkeys NAME: "key count" per line of the map @NAME.
tkeys() { sed -nE "s/^@$1\\[([0-9]+)\\]: ([0-9]+)\$/\\1 \\2/p" "$trace"; }

# rx_burst: fired, from the worker's lcore only, each burst 1..SL_BURST
# frames, our 3 frames among them, no more than the dataplane received.
bursts=$(tval bursts) frames=$(tval frames) nb_min=$(tval nb_min) nb_max=$(tval nb_max)
rx=$(moved rx_pkts) rxb=$(moved rx_bursts)
echo "rx_burst: fired=$bursts frames=$frames nb_rx=$nb_min..$nb_max lcores=[$(tkeys rx_lcore | tr '\n' ' ')] (dataplane: rx_pkts +$rx, rx_bursts +$rxb, worker lcore $lcore)"
[ "$bursts" -ge 1 ] || slt_fail "rx_burst never fired"
[ "$(tkeys rx_lcore)" = "$lcore $bursts" ] ||
	slt_fail "rx_burst lcore: [$(tkeys rx_lcore | tr '\n' ' ')] (want all $bursts on lcore $lcore)"
[ "$nb_min" -ge 1 ] && [ "$nb_max" -le "$burst" ] ||
	slt_fail "rx_burst nb_rx $nb_min..$nb_max (want 1..$burst)"
[ "$frames" -ge 3 ] && [ "$frames" -le "$rx" ] ||
	slt_fail "rx_burst nb_rx sums to $frames (want >= the 3 frames sent, <= rx_pkts +$rx)"
[ "$bursts" -le "$rxb" ] || slt_fail "rx_burst fired $bursts times, rx_bursts moved $rxb"
slt_ok "rx_burst: $bursts bursts on lcore $lcore, nb_rx $nb_min..$nb_max, $frames frames (rx_pkts +$rx)"

# frame_drop: 3 x sl_magic, from the worker's lcore; and every reason it
# reported is one the dataplane counted (drop_<reason> moved as much).
echo "frame_drop: reasons=[$(tkeys drops | tr '\n' ' ')] lcores=[$(tkeys drop_lcore | tr '\n' ' ')] (dataplane: drop_sl_magic +$(moved drop_sl_magic))"
[ "$(tkeys drops | awk -v m="$magic" '$1 == m { print $2 }')" = 3 ] ||
	slt_fail "frame_drop did not report 3 drops with reason $magic (sl_magic)"
[ "$(moved drop_sl_magic)" = 3 ] || slt_fail "drop_sl_magic moved $(moved drop_sl_magic) (want 3)"
ndrops=$(tkeys drops | awk '{ n += $2 } END { print n + 0 }')
[ "$(tkeys drop_lcore)" = "$lcore $ndrops" ] ||
	slt_fail "frame_drop lcore: [$(tkeys drop_lcore | tr '\n' ' ')] (want all $ndrops on lcore $lcore)"
others=0
while read -r r n; do
	name=$(echo "$reasons" | sed -n "$((r + 1))p")
	[ -n "$name" ] || slt_fail "frame_drop reported reason $r, which SL_DROP_LIST does not have"
	m=$(moved "drop_$name")
	[ "$m" -ge "$n" ] || slt_fail "frame_drop reported $n x reason $r ($name), but drop_$name moved $m: a reason that did not happen"
	[ "$r" = "$magic" ] || others=$((others + n))
done < <(tkeys drops)
slt_ok "frame_drop: 3 x reason $magic (sl_magic) on lcore $lcore; $others drops of other reasons, each one counted by the dataplane"

slt_stop
slt_assert_clean
slt_log "PASS"
