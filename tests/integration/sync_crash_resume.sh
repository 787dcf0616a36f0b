#!/usr/bin/env bash
# sync_crash_resume.sh — a syncing node's dataplane crashes (SIGKILL) and is
# started again; sync resumes from the stored tip (DESIGN.md "Processes and
# shared memory": ctrl re-attaches to a restarted dataplane, the header
# store on disk is the truth; "The range table": nothing lost or stranded).
# Two nodes on one L2 segment, profile regtest.  sluice-chaingen writes
# 300,000 headers; A imports them; B starts empty with bootstrap = A.  A
# serves slowly ([sync] serve_rate = serve_burst = 5 GET_HEADERS/s, about
# 10,000 headers/s), so B's height at the kill is the test's choice, not
# the machine's: B's sluice-dp is SIGKILLed when its tip is inside the
# window N/10..N/4; its stale region file stays behind.  Checks:
#   - the kill height (B's stored tip once ctrl saw the dataplane gone) is
#     at least the window's floor and at most N/2: half the chain or more is
#     still to sync after the restart, on any machine;
#   - B's ctrl notices (sync.status "detached", stats ctrl.dp_detaches 1)
#     and keeps its stored tip (>= the tip seen before the kill);
#   - a new sluice-dp starts over the stale region ("replacing a stale
#     region"), ctrl re-attaches (status ready, dp_attaches 2);
#   - the re-attached reactor starts from the stored tip (the height of
#     ctrl's first "sync: from height" line after the re-attach), >= the
#     tip seen before the kill, and no live range starts at or below it
#     (no restart from 0);
#   - B reaches tip N-1 with the generated tip hash within a bound (150 s
#     after the restart), its export is byte-identical (cmp) to the file,
#     and the re-attached reactor committed exactly N-1 - (tip at
#     re-attach) headers;
#   - mid-resume, with A's dataplane frozen (SIGSTOP) so that B's session
#     to A holds a range, B disconnects that session (peer.disconnect);
#     right when it is gone from B's peers, no range is held by it (looked
#     at at once, before any sweep or timeout could clean up); A is thawed,
#     B redials it and goes on;
#   - the range table settles: queued 0, held 0, no live range, state
#     synced; counters invalid 0, stray_holds 0 (the sweeper never found a
#     hold of a dead session, over the whole run); the sweeper never logged
#     a broken invariant.
# Prints tip_at_kill=, kill_window=, tip_at_reattach=, dead_holds=,
# sync_time_s= and resume_time_s=.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool cmp stat
slt_require_bins
CHAINGEN=${SLUICE_CHAINGEN:-$(dirname "$SLUICE_CTRL")/chaingen/sluice-chaingen}
[ -x "$CHAINGEN" ] || slt_skip "sluice-chaingen not built ($CHAINGEN)"
N=${SLT_CRASH_N:-300000}
TIP=$((N - 1))
KILL_LO=$((N / 10)) KILL_HI=$((N / 4))
SERVE_RATE=${SLT_CRASH_SERVE_RATE:-5}
BOUND=${SLT_SYNC_BOUND_S:-150}
KILL_BOUND=60
slt_init
FILE=$SLT_TMP/chain.headers
"$CHAINGEN" -n "$N" -o "$FILE" 2>"$SLT_TMP/chaingen.err" ||
	slt_fail "sluice-chaingen: $(cat "$SLT_TMP/chaingen.err")"
WANT=$(sed -n 's/.* tip=\([0-9a-f]\{64\}\) .*/\1/p' "$SLT_TMP/chaingen.err")
[ -n "$WANT" ] || slt_fail "no tip hash from sluice-chaingen: $(cat "$SLT_TMP/chaingen.err")"
slt_log "chain: $N regtest headers, tip $TIP $WANT; kill B's dataplane at a tip in $KILL_LO..$KILL_HI"

slt_lan_up 2
A=1 B=2
for k in $A $B; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" dataplane idle_sleep_us 200
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
done
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747"
# A serves at most SERVE_RATE GET_HEADERS/s (burst as many): B's pace is A's.
slt_cfg_set "${SLT_NODE_CFG[$A]}" sync serve_rate "$SERVE_RATE"
slt_cfg_set "${SLT_NODE_CFG[$A]}" sync serve_burst "$SERVE_RATE"
B_REGION=$SLT_REGION_DIR/sluice-${SLT_NODE_INST[$B]}.region

dump() {
	slt_log "B status: $(slt_node_ctl $B --json status 2>&1)"
	slt_log "B sync.status: $(slt_node_ctl $B --json sync.status 2>&1)"
	slt_log "B ranges: $(slt_node_ctl $B --json ranges 2>&1 | head -c 2000)"
	slt_log "B peers: $(slt_node_ctl $B --json peers 2>&1)"
	slt_log "B stats: $(slt_node_ctl $B --json stats 2>&1 | head -c 3000)"
	slt_log "A peers: $(slt_node_ctl $A --json peers 2>&1)"
}
now() { "$SLT_PY" -c 'import time; print(time.monotonic())'; }
since() { "$SLT_PY" -c "import time; print(round(time.monotonic() - $1, 2))"; }
b_tip() { slt_node_ctl $B --json status 2>/dev/null | slt_json_get tip_height 2>/dev/null; }
alive_or_fail() {
	local k
	for k in "$@"; do
		slt_alive "${SLT_NODE_DP_PID[$k]}" || slt_fail "node $k: sluice-dp died"
		slt_alive "${SLT_NODE_CTRL_PID[$k]}" || slt_fail "node $k: sluice-ctrl died"
	done
}

slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$FILE" >"$SLT_TMP/imp" ||
	slt_fail "A: header.import: $(cat "$SLT_TMP/imp")"
[ "$(slt_json_get tip_height <"$SLT_TMP/imp")" = $TIP ] ||
	slt_fail "A: import tip: $(cat "$SLT_TMP/imp")"
slt_ok "A imported heights 0..$TIP"

# B syncs; the dataplane dies once the tip is inside the kill window.
T0=$(now)
slt_node_start $B
slt_node_wait_ready $B 30
tip=0
end=$((SECONDS + KILL_BOUND))
while [ $SECONDS -lt $end ]; do
	tip=$(b_tip)
	[ -n "$tip" ] && [ "$tip" -ge $KILL_LO ] && break
	alive_or_fail $A $B
	sleep 0.05
done
if [ -z "$tip" ] || [ "$tip" -lt $KILL_LO ]; then
	dump
	slt_fail "B: tip ${tip:-?} after $KILL_BOUND s, never reached $KILL_LO (the kill window)"
fi
[ "$tip" -le $KILL_HI ] ||
	slt_fail "B: tip $tip when first seen past $KILL_LO, beyond the kill window ..$KILL_HI: A did not hold B to its serve rate"
slt_node_kill_dp $B
[ -e "$B_REGION" ] || slt_fail "no stale region left by the SIGKILL ($B_REGION): nothing to test"
old_ino=$(stat -c %i "$B_REGION")

# ctrl notices the dead dataplane and keeps the stored tip.
for ((i = 0; i < 100; i++)); do
	slt_node_ctl $B --json sync.status >"$SLT_TMP/ss" 2>/dev/null
	[ "$(slt_json_get state <"$SLT_TMP/ss" 2>/dev/null)" = detached ] && break
	slt_alive "${SLT_NODE_CTRL_PID[$B]}" || slt_fail "B: sluice-ctrl died with its dataplane"
	sleep 0.1
done
[ "$(slt_json_get state <"$SLT_TMP/ss" 2>/dev/null)" = detached ] ||
	{ dump; slt_fail "B: ctrl did not notice the dead dataplane in 10 s: $(cat "$SLT_TMP/ss")"; }
det=$(slt_node_ctl $B --json stats | slt_jq 'v["ctrl"]["dp_detaches"]')
[ "$det" = 1 ] || slt_fail "B: dp_detaches $det after the kill (want 1)"
# The kill height: what B had stored when its dataplane died.
TIP_KILL=$(slt_json_get tip <"$SLT_TMP/ss")
echo "tip_at_kill=$TIP_KILL kill_window=$KILL_LO..$KILL_HI (seen at $tip before the kill)"
[ "$TIP_KILL" -ge "$tip" ] || slt_fail "B: tip went back from $tip to $TIP_KILL with the dataplane gone"
[ "$TIP_KILL" -le $((N / 2)) ] && [ "$TIP_KILL" -lt $TIP ] ||
	slt_fail "B: killed at tip $TIP_KILL, not below N/2 = $((N / 2)) (tip $TIP): the crash did not come mid-sync"
slt_ok "B's ctrl noticed the dead dataplane (detached, tip $TIP_KILL kept, $((TIP - TIP_KILL)) headers still to sync)"

# A new dataplane over the stale region; ctrl re-attaches.
T1=$(now)
slt_node_start_dp $B
slt_node_wait_ready $B 30
grep -q "replacing a stale region" "$SLT_TMP/dp$B.log" ||
	slt_fail "B: the new sluice-dp did not say it replaced the stale region"
[ "$(stat -c %i "$B_REGION")" != "$old_ino" ] || slt_fail "B: region file not replaced"
slt_node_ctl $B --json ranges >"$SLT_TMP/rg0"
# The tip the re-attached reactor started from: ctrl logs each sync run's
# start ("sync: from height H toward G"); the first such line after it
# attached to the new dataplane is the re-attached reactor's.  (From its
# status it is appended - counters.committed, both counting appended
# headers; "tip" is the durable height, short by a group in flight.)
TIP_RE=
for ((i = 0; i < 100; i++)); do
	TIP_RE=$(sed -n "/attached to dataplane pid ${SLT_NODE_DP_PID[$B]} /,\$ s/.* sync: from height \([0-9]*\) toward .*/\1/p" \
		"$SLT_TMP/ctrl$B.log" | head -1)
	[ -n "$TIP_RE" ] && break
	sleep 0.1
done
[ -n "$TIP_RE" ] || { dump; slt_fail "B: no sync run started (no 'sync: from height') in 10 s after the re-attach"; }
echo "tip_at_reattach=$TIP_RE"
[ "$TIP_RE" -ge "$TIP_KILL" ] ||
	slt_fail "B: the re-attached reactor started at tip $TIP_RE, below $TIP_KILL seen before the kill"
low=$(slt_jq 'min([r["start"] for r in v] or [-1])' <"$SLT_TMP/rg0")
[ "$low" = -1 ] || [ "$low" -gt "$TIP_RE" ] ||
	slt_fail "B: a live range starts at $low, at or below the stored tip $TIP_RE: $(head -c 600 "$SLT_TMP/rg0")"
att=$(slt_node_ctl $B --json stats | slt_jq 'v["ctrl"]["dp_attaches"]')
[ "$att" = 2 ] || slt_fail "B: dp_attaches $att after the restart (want 2)"
slt_ok "B re-attached (ready, dp_attaches 2) at tip $TIP_RE >= $TIP_KILL; lowest live range ${low/#-1/none}"

# A session dies mid-resume while it holds ranges: A's dataplane is frozen
# (SIGSTOP), so B's requests to A go unanswered and B's session to A keeps
# a range held; then B disconnects that session (peer.disconnect).  Right
# when B's peers no longer list it, the range table must hold nothing of
# it: looked at at once, not after a wait in which the sweeper (every 5 s)
# or a timeout would clean up for it.  A is thawed (SIGCONT) and B redials.
holds_of() { slt_jq 'sum(1 for r in v for h in r["holders"] if h["session"] == '"$1"')'; }
kill -STOP "${SLT_NODE_DP_PID[$A]}"
sid= held=0
for ((i = 0; i < 100; i++)); do
	sid=$(slt_node_ctl $B --json peers | slt_jq '" ".join(str(p["session"]) for p in v if p["addr"] == "'"${SLT_NODE_IP[$A]}"':9747")')
	if [ -n "$sid" ] && [ "$sid" = "${sid%% *}" ]; then
		held=$(slt_node_ctl $B --json ranges | holds_of "$sid")
		[ "$held" -gt 0 ] && break
	fi
	sleep 0.05
done
[ "${held:-0}" -gt 0 ] || { dump; slt_fail "B: its session to A ('$sid') held no range with A frozen"; }
tip_disc=$(b_tip)
slt_node_ctl $B --json peer.disconnect session="$sid" >/dev/null || slt_fail "B: peer.disconnect $sid"
for ((i = 0; i < 100; i++)); do
	slt_node_ctl $B --json peers >"$SLT_TMP/pd"
	[ "$(slt_jq '[p["session"] for p in v].count('"$sid"')' <"$SLT_TMP/pd")" = 0 ] && break
	sleep 0.02
done
slt_node_ctl $B --json ranges >"$SLT_TMP/rgd"
kill -CONT "${SLT_NODE_DP_PID[$A]}"
[ "$(slt_jq '[p["session"] for p in v].count('"$sid"')' <"$SLT_TMP/pd")" = 0 ] ||
	slt_fail "B: session $sid still listed 2 s after peer.disconnect"
dead=$(holds_of "$sid" <"$SLT_TMP/rgd")
echo "dead_holds=$dead (session $sid held $held range(s) at the disconnect, tip $tip_disc)"
[ "$dead" = 0 ] ||
	slt_fail "B: $dead range(s) still held by session $sid right after it went down: $(head -c 600 "$SLT_TMP/rgd")"
slt_ok "B's session $sid to A went down holding $held range(s); right then no range was held by it"

# Sync resumes and completes.
tip=
end=$((SECONDS + BOUND))
while [ $SECONDS -lt $end ]; do
	slt_node_ctl $B --json status >"$SLT_TMP/st" 2>/dev/null
	tip=$(slt_json_get tip_height <"$SLT_TMP/st" 2>/dev/null)
	[ "$tip" = $TIP ] && break
	alive_or_fail $A $B
	sleep 0.2
done
if [ "$tip" != $TIP ]; then
	dump
	slt_fail "B: tip ${tip:-?} $BOUND s after the restart (want $TIP)"
fi
echo "sync_time_s=$(since "$T0") resume_time_s=$(since "$T1")"
hash=$(slt_json_get tip_hash <"$SLT_TMP/st")
[ "$hash" = "$WANT" ] || slt_fail "B: tip hash $hash (want $WANT)"
slt_ok "B synced to $TIP ($hash) after the crash"

slt_node_ctl $B --json header.export path="$SLT_TMP/b.headers" >/dev/null ||
	slt_fail "B: header.export failed"
cmp "$FILE" "$SLT_TMP/b.headers" || slt_fail "B's export differs from the file"
slt_ok "B's header.export is byte-identical to the file"

# The range table settles; the re-attached reactor committed only what was
# missing (it resumed from the stored tip).
slt_node_settled $B 10
c=$(slt_json_get counters.committed <"$SLT_TMP/ss")
[ "$c" = $((TIP - TIP_RE)) ] ||
	slt_fail "B: the re-attached reactor committed $c headers (want $TIP - $TIP_RE = $((TIP - TIP_RE)))"
for k in invalid stray_holds; do
	[ "$(slt_json_get counters.$k <"$SLT_TMP/ss")" = 0 ] ||
		slt_fail "B: sync counter $k = $(slt_json_get counters.$k <"$SLT_TMP/ss") (want 0)"
done
grep -q "invariant broken" "$SLT_TMP/ctrl$B.log" && slt_fail "B: the sweeper found the range table broken"
slt_ok "range table settled: queued 0, held 0, no live range, synced; committed $c after re-attach; invalid 0, stray_holds 0"

slt_node_stop $A
slt_node_stop $B
[ ! -e "$B_REGION" ] || slt_fail "B: region left behind by the restarted sluice-dp: $B_REGION"
rundir=$(dirname "$SLT_RUNDIR")/${SLT_NODE_PREFIX[$B]}
[ ! -e "$rundir" ] || slt_fail "B: DPDK runtime dir left behind: $rundir"
slt_ok "the restarted sluice-dp left nothing behind (region, $rundir)"
slt_log "PASS"
