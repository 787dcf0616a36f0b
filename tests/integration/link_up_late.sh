#!/usr/bin/env bash
# link_up_late.sh — a node whose link comes up after it started dialling
# does not wait out its backoff (issue 10 item 6; issue 13's link faults).
# Two nodes joined by net_memif: B is the memif server and starts alone,
# so its link is down; B bootstraps from A and keeps dialling (its HELLO
# repeats at 10 ms, 20 ms, 40 ms ... 1.28 s, 2.56 s; its ARP requests
# likewise).  Just after B's repeat at 2.55 s, A (the memif client) starts:
# the link comes up.  B's dataplane sees it (one "link up" line after a
# "link not up yet" at start), sends ARP and HELLO again at once, and the
# session is up well before B's next scheduled repeat (5.11 s after the
# first HELLO, i.e. about 2.4 s after A's start): the test asks for it
# within 1.5 s of A's start.  Prints session_after_link_s=.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_bins
slt_init
SLT_CLEANUP_HOOKS+=(slt_nodes_cleanup)

A=1 B=2
SOCK=$SLT_TMP/m.sock
SLT_MEMIF_IDLE_US=100
slt_memif_node $A client "$SOCK" l 0
slt_memif_node $B server "$SOCK" l 1
slt_cfg_set "${SLT_NODE_CFG[$A]}" peers connect_timeout_ms 10000
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers connect_timeout_ms 10000
slt_cfg_set "${SLT_NODE_CFG[$B]}" peers bootstrap "${SLT_NODE_IP[$A]}:9747"

slt_node_start $B
slt_node_wait_ready $B 30
grep -q "port 0: link not up yet" "$SLT_TMP/dp$B.log" ||
	slt_fail "B's dataplane did not say its link was not up at start"
for ((i = 0; i < 100; i++)); do
	grep -q "connecting to ${SLT_NODE_IP[$A]}:9747" "$SLT_TMP/ctrl$B.log" && break
	sleep 0.05
done
[ $i -lt 100 ] || slt_fail "B's ctrl did not dial A"
slt_ok "B dials A over a link that is down"
# B's HELLO repeats are due 2.55 s and 5.11 s after its first: start A
# between them.
sleep 2.7
t0=$(slt_now)
slt_node_start $A
up=
for ((i = 0; i < 100; i++)); do
	if grep -q "session [0-9]* up" "$SLT_TMP/ctrl$B.log"; then
		up=$(slt_now)
		break
	fi
	sleep 0.05
done
[ -n "$up" ] || slt_fail "B's session to A not up 5 s after A started"
s=$("$SLT_PY" -c "print(round($up - $t0, 2))")
echo "session_after_link_s=$s"
grep -q "port 0: link up" "$SLT_TMP/dp$B.log" || slt_fail "B's dataplane did not log its link coming up"
"$SLT_PY" -c "import sys; sys.exit(0 if $s < 1.5 else 1)" ||
	slt_fail "B's session came up ${s}s after A started: it waited for its next HELLO repeat instead of sending at link up"
slt_ok "B's session up ${s}s after its link came up"
slt_node_stop $B
slt_node_stop $A
