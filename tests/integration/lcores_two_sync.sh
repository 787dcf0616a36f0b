#!/usr/bin/env bash
# lcores_two_sync.sh — a node with two worker lcores syncs from two servers
# (issue 10 item 7; DESIGN.md "Demux and sessions", dataplane/sl_handoff.h).
# Three nodes on one L2 segment, profile regtest.  sluice-chaingen writes
# 100,000 headers; servers A and B (one lcore each) import them; node C
# runs sluice-dp on two worker lcores (EAL -l 0-1, af_packet qpairs=2)
# and starts empty with [peers] bootstrap = A,B.  ctrl places C's two
# outbound sessions one per worker (the lcore with the most free slots),
# and the kernel's fanout hash picks each flow's RX queue on its own: a
# frame that lands on the other worker is handed to the owner.  C must
# reach tip 99999 with the generated tip hash within a bound (150 s), its
# header.export byte-identical (cmp) to the file.  Per worker of C
# (/sluice/lcores and ctrl's stats per lcore): each owns one session and
# accepted headers (hs_headers_rx > 0) and handled session frames
# (rt_frames > 0); no handoff_full drop; handoff_out of one worker equals
# handoff_in of the other.  Both servers served C.  Ends with the range
# table settled.  Prints sync_time_s=<x> and the per-worker figures.
# It is sync_fanout.sh with C on two lcores and the per-worker checks.
SLT_FANOUT_N=${SLT_LCORES_SYNC_N:-100000}
SLT_FANOUT_C_LCORES=2

# fanout_after: sync_fanout.sh runs it once C has synced and settled.
fanout_after() {
	# Per worker of C: both own a session and did the work of one.
	slt_node_telemetry_json $C /sluice/lcores >"$SLT_TMP/lc.json" || slt_fail "C: /sluice/lcores"
	lc() { slt_jq "v[\"$1\"][\"$2\"]" <"$SLT_TMP/lc.json"; }
	for w in 0 1; do
		echo "C worker $w: sessions=$(lc $w sessions) rt_frames=$(lc $w rt_frames) hs_headers_rx=$(lc $w hs_headers_rx) handoff_out=$(lc $w handoff_out) handoff_in=$(lc $w handoff_in) rx_pkts=$(lc $w rx_pkts)"
	done
	for w in 0 1; do
		[ "$(lc $w sessions)" = 1 ] || slt_fail "C worker $w owns $(lc $w sessions) sessions (want 1)"
		[ "$(lc $w rt_frames)" -gt 0 ] || slt_fail "C worker $w handled no session frame"
		[ "$(lc $w hs_headers_rx)" -gt 0 ] || slt_fail "C worker $w accepted no header"
		[ "$(lc $w drop_handoff_full)" = 0 ] || slt_fail "C worker $w: handoff ring full"
	done
	[ "$(lc 0 handoff_out)" = "$(lc 1 handoff_in)" ] && [ "$(lc 1 handoff_out)" = "$(lc 0 handoff_in)" ] ||
		slt_fail "C: handed off and taken in differ"
	slt_node_ctl $C --json stats >"$SLT_TMP/cstats" || slt_fail "C: stats"
	[ "$(slt_jq '[l["sessions"] for l in v["dataplane"]["per_lcore"]]' <"$SLT_TMP/cstats")" = "[1, 1]" ] ||
		slt_fail "C: ctrl stats per lcore: $(slt_jq 'v["dataplane"]["per_lcore"]' <"$SLT_TMP/cstats" | head -c 2000)"
	slt_ok "C's two workers each own one session and accepted headers"
}

. "$(dirname "$0")/sync_fanout.sh"
