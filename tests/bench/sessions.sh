#!/usr/bin/env bash
# sessions.sh — session figures of one node (one worker lcore, busy
# polling, net_af_packet over a veth), driven by tests/integration/slpeer.py
# from the peer namespace:
#   handshake_p50_us  median HELLO -> HELLO_ACK latency, one at a time
#                     (slpeer handshake --count N --concurrency 1 --goodbye)
#   admitted_per_s    sessions opened per second, 1000 HELLOs 64 in flight
#                     (the handshake phase of slpeer flood --sessions 1000)
#   demux_fps_1000    valid sluice frames the lcore demuxed per second
#                     (its sl_frames_rx counter over the flood time) while
#                     1000 live sessions PING round-robin
#   offered_fps       what the flood offered in the same run (the baseline)
# Per run it prints every figure; then medians over the runs, ending with
#   sessions handshake_p50_us=<x> admitted_per_s=<x> demux_fps_1000=<x> offered_fps=<x>
# No pass/fail.  Needs root.  Usage: tests/bench/sessions.sh [RUNS] [SECONDS] [N]
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
RUNS=${1:-3}
SECS=${2:-4}
NHS=${3:-200}
NSESS=1000

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" dataplane idle_sleep_us 0
slt_cfg_set "$SLT_CFG" dataplane hello_rate 100000
slt_cfg_set "$SLT_CFG" dataplane hello_burst 100000
slt_cfg_set "$SLT_CFG" admission max_peers 2000
slt_cfg_set "$SLT_CFG" admission per_addr 2000
slt_cfg_set "$SLT_CFG" peers outbound 0   # inbound only: no dialling back the peers
slt_start_dp
slt_start_ctrl
slt_wait_ready 30
slt_nsexec ping -c 1 -W 2 "$SLT_DP_IP" >/dev/null || slt_fail "dp does not answer ping"
DST=$SLT_DP_IP:9747

live() { slt_ctl --json peers | slt_jq 'len(v)'; }
wait_empty() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(live)" = 0 ] && return 0
		sleep 0.2
	done
	slt_log "warning: $(live) sessions still live"
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "na")}'; }

P50=() ADM=() DEMUX=() OFF=()
for ((r = 1; r <= RUNS; r++)); do
	wait_empty
	slt_peer handshake --to "$DST" --count "$NHS" --concurrency 1 --goodbye --timeout 3 \
		>"$SLT_TMP/hs.jsonl" 2>"$SLT_TMP/hs.err"
	hs=$(grep '"summary": true' "$SLT_TMP/hs.jsonl") || slt_fail "handshake: $(tail -n3 "$SLT_TMP/hs.err")"
	p50=$(printf '%s' "$hs" | slt_jq 'v["p50_us"]')
	wait_empty
	c0=$(slt_ctl_stat sl_frames_rx) || slt_fail "sluicectl stats"
	slt_peer flood --to "$DST" --sessions $NSESS --seconds "$SECS" --concurrency 64 --timeout 30 \
		>"$SLT_TMP/flood.json" 2>"$SLT_TMP/flood.err"
	fl=$(tail -n1 "$SLT_TMP/flood.json")
	[ -n "$fl" ] || slt_fail "flood: $(tail -n3 "$SLT_TMP/flood.err")"
	c1=$(slt_ctl_stat sl_frames_rx)
	read -r open hs_s sent secs pongs < <(printf '%s' "$fl" |
		slt_jq '"%s %s %s %s %s" % (v["sessions_open"], v["handshake_s"], v.get("frames_sent", 0), v.get("seconds", 1), v.get("pongs", 0))')
	# sl_frames_rx also counts the handshakes and GOODBYEs: take them out.
	adm=$("$SLT_PY" -c "print(int($open / $hs_s) if $hs_s else 0)")
	demux=$("$SLT_PY" -c "print(int(max(0, $c1 - $c0 - 2 * $open) / $secs) if $secs else 0)")
	off=$("$SLT_PY" -c "print(int($sent / $secs) if $secs else 0)")
	slt_log "run $r: handshake_p50_us=$p50 sessions_open=$open/$NSESS admitted_per_s=$adm offered_fps=$off demux_fps_1000=$demux pong_fps=$("$SLT_PY" -c "print(int($pongs / $secs))") rejects=$(printf '%s' "$fl" | slt_jq 'v.get("rejects")')"
	P50+=("$p50") ADM+=("$adm") DEMUX+=("$demux") OFF+=("$off")
done
echo "sessions handshake_p50_us=$(echo "${P50[*]}" | median) admitted_per_s=$(echo "${ADM[*]}" | median) demux_fps_1000=$(echo "${DEMUX[*]}" | median) offered_fps=$(echo "${OFF[*]}" | median)"
slt_stop
