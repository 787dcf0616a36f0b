#!/usr/bin/env bash
# sessions.sh — session figures of one node (one worker lcore on core 0,
# busy polling, net_af_packet over a veth), driven from the peer namespace:
#   handshake_p50_us  median HELLO -> HELLO_ACK latency, one at a time
#                     (slpeer handshake --count N --concurrency 1 --goodbye)
#   admitted_per_s    sessions opened per second, 1000 HELLOs 64 in flight
#                     (slpeer.handshake_many, from the wrapper below)
#   demux_fps_1000    valid sluice frames the lcore demuxed per second (its
#                     sl_frames_rx counter, sampled in the steady part of
#                     the flood) while 1000 live sessions PING round-robin
#   offered_fps       what the sender offered over the whole flood
# The flood is tests/bench/slflood (C, sendmmsg, pinned to core 1 with
# taskset): the wrapper opens the 1000 sessions with slpeer (Python), writes
# `port sid next_seq` per session, and closes its sockets; slflood binds
# the same source ports (the node checks ip:port only) and sends PINGs,
# then GOODBYEs.  It reads no PONG and answers no PING of the node, so the
# bench sets keepalive_ms = 2000: no session can be judged down within ~36 s
# of silence, far longer than a run.  When demux equals offered the sender
# is still the bound; the per-run line says so.
# Per run it prints every figure; then medians over the runs, ending with
#   sessions handshake_p50_us=<x> admitted_per_s=<x> demux_fps_1000=<x> offered_fps=<x>
# No pass/fail.  Needs root.
# Usage: tests/bench/sessions.sh [RUNS] [SECONDS] [N]   (env: SLFLOOD=path,
#        SLFLOOD_BATCH=frames per sendmmsg per session, default 4)
SLUICE_SRC=${SLUICE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SLUICE_SRC/tests/integration/lib.sh"
RUNS=${1:-3}
SECS=${2:-4}
NHS=${3:-200}
NSESS=1000

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
SLFLOOD=${SLFLOOD:-$(dirname "$SLUICE_DP")/../tests/bench/slflood}
[ -x "$SLFLOOD" ] || slt_skip "slflood not built ($SLFLOOD)"
BATCH=${SLFLOOD_BATCH:-4}
slt_init
slt_net_up
slt_write_config >/dev/null
slt_cfg_set "$SLT_CFG" dataplane idle_sleep_us 0
slt_cfg_set "$SLT_CFG" dataplane hello_rate 100000
slt_cfg_set "$SLT_CFG" dataplane hello_burst 100000
slt_cfg_set "$SLT_CFG" dataplane keepalive_ms 2000  # slflood answers no PING
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
# open_sessions OUT: 1000 handshakes (64 in flight) from the netns with
# slpeer; writes `port sid next_seq` per open session to OUT, closes the
# sockets (slflood rebinds those ports), prints a JSON summary.
open_sessions() {
	slt_nsexec "$SLT_PY" - "$SLT_SRC/tests/integration" "$DST" $NSESS 64 30 "$1" <<'EOF'
import json, sys, time
sys.path.insert(0, sys.argv[1])
import slpeer as sp
to, n, conc, tmo, out = sp._addr(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
sp.raise_nofile()
peers = [sp.Peer(("0.0.0.0", 0)) for _ in range(n)]
t0 = time.monotonic()
res = sp.handshake_many(peers, to, timeout=tmo, concurrency=conc)
hs = time.monotonic() - t0
live = [p for p, r in zip(peers, res) if r["ok"]]
with open(out, "w") as f:
    for p in live:
        p.drain()  # a node PING that came meanwhile is answered (moves tx_seq)
        f.write("%d %d %d\n" % (p.addr[1], p.session, p.tx_seq.get(sp.S_SESSION, 0) + 1))
rej = {}
for r in res:
    if r["frame"] and not r["ok"]:
        k = sp.REJECT_REASONS.get(r["frame"]["body"]["reason"], "?")
        rej[k] = rej.get(k, 0) + 1
for p in peers:
    p.close()
print(json.dumps({"sessions_open": len(live), "handshake_s": round(hs, 3), "rejects": rej}))
EOF
}
# stats_at OUT: the lcore counters (sluicectl), the frames the node's veth
# end received (port_in: what reached its port, the offered load in the
# window) and the time (ns) they were read, one JSON object.
stats_at() {
	local j
	j=$(taskset -c 1 "$SLUICECTL" --socket "$SLT_SOCK" --json stats) || return 1
	printf '%s' "$j" | "$SLT_PY" -c '
import json, sys, time
t = time.monotonic_ns()
r = json.load(sys.stdin)
def find(d, depth):
    if isinstance(d, dict):
        if "rx_pkts" in d and not isinstance(d["rx_pkts"], (dict, list)):
            return d
        for v in (d.values() if depth > 0 else ()):
            f = find(v, depth - 1)
            if f is not None:
                return f
    return None
d = find(r, 2) or {}
d["t_ns"] = t
d["port_in"] = int(open(sys.argv[1]).read())
print(json.dumps(d))' "/sys/class/net/$SLT_DEV/statistics/rx_packets" >"$1"
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "na")}'; }

P50=() ADM=() DEMUX=() OFF=() BOUND=()
for ((r = 1; r <= RUNS; r++)); do
	wait_empty
	slt_peer handshake --to "$DST" --count "$NHS" --concurrency 1 --goodbye --timeout 3 \
		>"$SLT_TMP/hs.jsonl" 2>"$SLT_TMP/hs.err"
	hs=$(grep '"summary": true' "$SLT_TMP/hs.jsonl") || slt_fail "handshake: $(tail -n3 "$SLT_TMP/hs.err")"
	p50=$(printf '%s' "$hs" | slt_jq 'v["p50_us"]')
	wait_empty
	open_sessions "$SLT_TMP/sess.txt" >"$SLT_TMP/open.json" 2>"$SLT_TMP/open.err" ||
		slt_fail "open sessions: $(tail -n3 "$SLT_TMP/open.err")"
	read -r open hs_s rej < <(slt_jq '"%s %s %s" % (v["sessions_open"], v["handshake_s"], json.dumps(v["rejects"]).replace(" ", ""))' <"$SLT_TMP/open.json")
	# The flood runs SECS + 2 s; the node's counters are sampled 1 s in
	# and 1 s before its end (steady state, no start-up or drain).
	slt_nsexec taskset -c 1 "$SLFLOOD" -f "$SLT_TMP/sess.txt" -d "$DST" -s $((SECS + 2)) -b "$BATCH" \
		>"$SLT_TMP/flood.json" 2>"$SLT_TMP/flood.err" &
	fpid=$!
	sleep 1
	stats_at "$SLT_TMP/c0.json" || slt_fail "sluicectl stats"
	sleep "$SECS"
	stats_at "$SLT_TMP/c1.json" || slt_fail "sluicectl stats"
	wait "$fpid" || slt_fail "slflood: $(tail -n3 "$SLT_TMP/flood.err")"
	fl=$(tail -n1 "$SLT_TMP/flood.json")
	[ -n "$fl" ] || slt_fail "slflood printed nothing: $(tail -n3 "$SLT_TMP/flood.err")"
	# Rates over the sample window: demuxed (sl_frames_rx), answered
	# (tx_pkts: PONGs and BACKOFFs), dropped silent (overload) or as no
	# session / replay (want 0: the sessions are live and seqs in order);
	# port_in - rx_pkts is what reached the port but never the lcore (the
	# af_packet ring overflowed: the lcore did not keep up).
	read -r demux rx tx silent nosess replay port_in loops burst < <("$SLT_PY" -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
dt = (b["t_ns"] - a["t_ns"]) / 1e9
def r(k):
    return int((b.get(k, 0) - a.get(k, 0)) / dt)
print(r("sl_frames_rx"), r("rx_pkts"), r("tx_pkts"), r("drop_backoff_silent"), r("drop_sl_no_session"), r("drop_sl_replay"), r("port_in"), r("cycles"), round((b.get("rx_pkts", 0) - a.get("rx_pkts", 0)) / max(1, b.get("rx_bursts", 0) - a.get("rx_bursts", 0)), 1))
' "$SLT_TMP/c0.json" "$SLT_TMP/c1.json")
	off=$(printf '%s' "$fl" | slt_jq 'v["offered_fps"]')
	sent=$(printf '%s' "$fl" | slt_jq 'v["frames_sent"]')
	fails=$(printf '%s' "$fl" | slt_jq 'v["send_fail"]')
	adm=$("$SLT_PY" -c "print(int($open / $hs_s) if $hs_s else 0)")
	bound=dataplane
	"$SLT_PY" -c "import sys; sys.exit(0 if $rx >= 0.97 * $port_in else 1)" && bound="sender (the lcore took all that reached its port)"
	slt_log "run $r: handshake_p50_us=$p50 sessions_open=$open/$NSESS admitted_per_s=$adm offered_fps=$off demux_fps_1000=$demux rx_pps=$rx tx_pps=$tx drop_silent_ps=$silent drop_no_session_ps=$nosess drop_replay_ps=$replay port_in_pps=$port_in rx_burst_avg=$burst lcore_loops_ps=$loops sent=$sent send_fail=$fails rejects=$rej bound=$bound"
	P50+=("$p50") ADM+=("$adm") DEMUX+=("$demux") OFF+=("$off") BOUND+=("${bound%% *}")
done
slt_log "bound per run: ${BOUND[*]} (sender: the lcore took all that reached its port; dataplane: some was lost before it)"
echo "sessions handshake_p50_us=$(echo "${P50[*]}" | median) admitted_per_s=$(echo "${ADM[*]}" | median) demux_fps_1000=$(echo "${DEMUX[*]}" | median) offered_fps=$(echo "${OFF[*]}" | median)"
slt_stop
