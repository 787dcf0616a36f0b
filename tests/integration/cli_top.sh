#!/usr/bin/env bash
# cli_top.sh — `sluicectl top`, as a person sees it.  One node; the netns
# pings it 100 times a second and a slpeer session holds on.
#   In a real terminal (tmux): after ~3 s the screen shows the node line
#   (instance, state ready), the sync line, the lcore table with lcore 0
#   receiving packets (rx pkts/s > 0) and its session, the peer, the ops
#   line and "[q] quit"; `q` ends it with exit 0 and the shell's screen
#   comes back (the alternate screen is left).
#   Through a pipe: one screen of plain text (no escape sequences) with
#   the same table, and exit 0.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool ping tmux
slt_require_bins
slt_init
slt_node_up
# ip netns exec execs ping in place: $! is the ping (through slt_nsexec it
# was a subshell, and killing it left the ping holding the netns for 60 s)
ip netns exec "$SLT_NS" ping -q -i 0.01 -w 60 "$SLT_DP_IP" >/dev/null 2>&1 &
PING_PID=$!
ping_kill() { kill "$PING_PID" 2>/dev/null; }
SLT_CLEANUP_HOOKS+=(ping_kill)
slt_hold_start p1 --to "$SLT_DP_IP:9747" --bind "$SLT_NS_IP:41001" --seconds 60 --ping-every 0.5
slt_hold_wait_ack p1 10 >/dev/null || slt_fail "the holding peer got no HELLO_ACK"

TM="slt$SLT_ID"
tm_kill() { tmux -L "$TM" kill-server 2>/dev/null; }
SLT_CLEANUP_HOOKS+=(tm_kill)
tmux -L "$TM" new-session -d -s top -x 120 -y 40 "bash --norc --noprofile" || slt_fail "tmux"
tmux -L "$TM" send-keys -t top "'$SLUICECTL' --socket '$SLT_SOCK' top; echo E\"\"XIT=\$?" Enter
sleep 3.5
screen=$(tmux -L "$TM" capture-pane -p -t top)
printf '%s\n' "$screen" | sed 's/^/  | /'
echo "$screen" | grep -q "^sluice top - $SLT_INST (regtest)  state ready" ||
	slt_fail "no node line"
echo "$screen" | grep -q '^sync  ' || slt_fail "no sync line"
echo "$screen" | grep -Eq '^lcore +rx pkts/s +tx pkts/s +drops/s +sessions' ||
	slt_fail "no lcore table"
row=$(echo "$screen" | grep -E '^0 +[0-9]')
read -r _ rx tx drops sess <<<"$row"
[ "${rx:-0}" -gt 20 ] && [ "${tx:-0}" -gt 20 ] && [ "${sess:-0}" = 1 ] ||
	slt_fail "lcore 0 row '$row' (want rx and tx > 20 pkts/s from the pings, 1 session)"
echo "$screen" | grep -Eq '^[0-9]+ +10\.[0-9.]+:[0-9]+ .* up' || slt_fail "the peer is not listed"
echo "$screen" | grep -q 'no operations running' || slt_fail "no ops line"
echo "$screen" | grep -q '\[q\] quit' || slt_fail "no quit hint"
slt_ok "in a terminal: node, sync, lcore 0 at $rx rx / $tx tx pkts/s, the peer, ops"

tmux -L "$TM" send-keys -t top q
for ((i = 0; i < 30; i++)); do
	screen=$(tmux -L "$TM" capture-pane -p -t top)
	echo "$screen" | grep -q '^EXIT=' && break
	sleep 0.1
done
echo "$screen" | grep -q '^EXIT=0' || slt_fail "q did not end top with exit 0: $screen"
echo "$screen" | grep -q 'lcore' && slt_fail "the view stayed on the screen after q: $screen"
slt_ok "q quits with exit 0 and leaves the alternate screen"

slt_ctl top >"$SLT_TMP/once" 2>&1 || slt_fail "top through a pipe: $(cat "$SLT_TMP/once")"
grep -q $'\x1b' "$SLT_TMP/once" && slt_fail "escape sequences through a pipe"
grep -Eq '^0 +[0-9]+ +[0-9]+ +[0-9]+ +1$' "$SLT_TMP/once" ||
	slt_fail "one-shot screen: $(cat "$SLT_TMP/once")"
slt_ok "through a pipe: one plain screen"
slt_stop
