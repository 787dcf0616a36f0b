#!/usr/bin/env bash
# ops_network.sh — the network operations with real processes (SPEC.md §9
# "Operations (v1.1)": header.fetch, peer.ping; DESIGN.md "Operations":
# send_and_await, retries in the op).  Four nodes on one segment, profile
# bitcoin-test3: B, C, D import testnet3 0..9999; A imports 0..999 and
# holds its sync at 999 (sync.start to_height=999) before it connects to
# them, so heights above 999 are only the peers'.  Proves, on A:
#   header.fetch from the store (source "store", the hash and header
#   header.get reads) and of a height only the peers have (source = a peer,
#   the peer's own hash); beyond every claim
#   NOT_FOUND; a replayed tx answers the same result without a second op;
#   peer.ping {session} answers an rtt; peer.ping {all} answers once with
#   three results; 1000 concurrent header.fetch (wait=false) all end done
#   within their deadline and `ops` shows none running;
#   the first claimer stopped (SIGSTOP of its sluice-dp): the next peer
#   serves the fetch after one attempt timeout (attempts 2);
#   every op kind ends on peer down (peer.disconnect while it awaits the
#   stopped peer) and on its deadline (TIMEOUT), each timed from the op's
#   start to end before the 2 s attempt deadline that would end it anyway,
#   and on op.cancel (CANCELLED, with peer.ping {all}'s children);
#   every claimer stopped: EXHAUSTED.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool
slt_require_bins
DATA=${SL_TEST_DATA:-$SLT_SRC/tests/data}
T3=$DATA/bitcoin-test3-0-9999.headers
[ -r "$T3" ] || slt_fail "test data $T3 missing"
SLOPS=$SLT_SRC/tests/integration/slops.py
slt_init
slt_lan_up 4
A=1 B=2 C=3 D=4
for k in $A $B $C $D; do
	slt_node_config $k >/dev/null
	slt_cfg_set "${SLT_NODE_CFG[$k]}" chain profile bitcoin-test3
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers connect_timeout_ms 3000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" peers redial_s 1
	slt_cfg_set "${SLT_NODE_CFG[$k]}" sync serve_rate 100000
	slt_cfg_set "${SLT_NODE_CFG[$k]}" sync serve_burst 100000
done

ops() { # ops K MODE ARGS...: slops.py against node K
	local k=$1
	shift
	"$SLT_PY" "$SLOPS" "${SLT_NODE_SOCK[$k]}" "$@"
}
j() { slt_jq "$1"; } # j EXPR <json
call() { # call K CMD ARGS_JSON [TX]: the one reply line
	ops "$1" once "$2" "$3" ${4:-} | head -1
}
first() { # first K CMD ARGS_JSON: the first reply line, at once (no 1 s linger)
	ops "$1" first "$2" "$3"
}
now() { "$SLT_PY" -c 'import time; print(time.monotonic())'; }
since() { "$SLT_PY" -c "import time; print(round(time.monotonic() - $1, 2))"; } # since T0
expect() { # expect WHAT GOT WANT
	[ "$2" = "$3" ] || slt_fail "$1: got '$2', want '$3'"
	slt_ok "$1: $2"
}

for k in $B $C $D; do
	slt_node_start $k
	slt_node_wait_ready $k 30
	slt_node_ctl $k --json header.import path="$T3" >/dev/null ||
		slt_fail "node $k: header.import"
done
head -c $((1000 * 80)) "$T3" >"$SLT_TMP/a.headers"
slt_node_start $A
slt_node_wait_ready $A 30
slt_node_ctl $A --json header.import path="$SLT_TMP/a.headers" >/dev/null ||
	slt_fail "A: header.import"
slt_node_ctl $A --json sync.start to_height=999 >/dev/null || slt_fail "A: sync.start 999"
# the peers only now: A's sync holds at 999 from the first STATUS on
for k in $B $C $D; do
	slt_node_ctl $A --json peer.connect addr="${SLT_NODE_IP[$k]}:9747" >/dev/null ||
		slt_fail "A: peer.connect ${SLT_NODE_IP[$k]}"
done

# Wait until A has three sessions whose STATUS claims 9999 (a fetch then
# finds its claimers).
for ((i = 0; i < 150; i++)); do
	n=$(slt_node_ctl $A --json peers 2>/dev/null | j 'len([p for p in v if p["state"] == "up"])')
	if [ "${n:-0}" = 3 ]; then
		r=$(first $A header.fetch '{"height": 9999, "deadline_ms": 3000}') # no linger: 30 s bound
		[ "$(j 'v["ok"]' <<<"$r")" = true ] && break
	fi
	sleep 0.2
done
[ "${n:-0}" = 3 ] || slt_fail "A: $n sessions up after 30 s (want 3)"
slt_node_tip $A | grep -q '^999 ' || slt_fail "A: tip moved past 999: $(slt_node_tip $A)"

# ---- reply -------------------------------------------------------------------
r=$(call $A header.fetch '{"height": 500}')
expect "fetch 500 source" "$(j 'v["result"]["source"]' <<<"$r")" store
# the store half answers what header.get reads, header bytes included
g=$(slt_node_ctl $A --json header.get height=500)
expect "fetch 500 hash and header (as header.get)" \
	"$(j '[v["result"]["hash"], v["result"]["header"]]' <<<"$r")" "$(j '[v["hash"], v["header"]]' <<<"$g")"
want=$(slt_node_ctl $B --json header.get height=5000 | j 'v["hash"]')
r=$(call $A header.fetch '{"height": 5000}')
src=$(j 'v["result"]["source"]' <<<"$r")
case "$src" in "${SLT_NODE_IP[$B]}:9747" | "${SLT_NODE_IP[$C]}:9747" | "${SLT_NODE_IP[$D]}:9747") ;;
*) slt_fail "fetch 5000: source '$src' is no peer ($r)" ;;
esac
expect "fetch 5000 hash (a height only the peers have, from $src)" "$(j 'v["result"]["hash"]' <<<"$r")" "$want"
FIRST_IP=${src%:*}
for k in $B $C $D; do [ "${SLT_NODE_IP[$k]}" = "$FIRST_IP" ] && FIRST=$k; done
r=$(call $A header.fetch '{"height": 20000}')
expect "fetch beyond every claim" "$(j 'v["error"]["code"]' <<<"$r")" NOT_FOUND

# replay: same tx, same result, no second op
started0=$(slt_node_ctl $A --json stats | j 'v["ops"]["started"]')
r1=$(call $A header.fetch '{"height": 7000}' 424242)
r2=$(call $A header.fetch '{"height": 7000}' 424242)
started1=$(slt_node_ctl $A --json stats | j 'v["ops"]["started"]')
expect "replayed tx: ops started" "$((started1 - started0))" 1
expect "replayed tx: same result" "$(j 'v["result"]' <<<"$r2")" "$(j 'v["result"]' <<<"$r1")"

# peer.ping
SID_FIRST=$(slt_node_ctl $A --json peers | j "[p['session'] for p in v if p['addr'].startswith('$FIRST_IP:')][0]")
r=$(call $A peer.ping "{\"session\": $SID_FIRST}")
expect "peer.ping session ok" "$(j 'v["ok"] and v["result"]["rtt_us"] > 0' <<<"$r")" true
ops $A once peer.ping '{"all": true}' >"$SLT_TMP/pa" || slt_fail "peer.ping all: $(cat "$SLT_TMP/pa")"
expect "peer.ping all: reply lines" "$(wc -l <"$SLT_TMP/pa")" 1
expect "peer.ping all: results with rtt" \
	"$(j 'len([x for x in v["result"]["results"] if x.get("rtt_us", 0) > 0])' <"$SLT_TMP/pa")" 3

# ---- 1000 concurrent fetches -------------------------------------------------
ops $A burst 1000 1000 9999 10000 >"$SLT_TMP/burst" || slt_fail "burst client"
slt_log "burst: $(cat "$SLT_TMP/burst")"
expect "1000 fetches: accepted" "$(j 'v["accepted"]' <"$SLT_TMP/burst")" 1000
expect "1000 fetches: done" "$(j 'v["states"].get("done", 0)' <"$SLT_TMP/burst")" 1000
expect "1000 fetches: none running" "$(j 'v["ops_running"]' <"$SLT_TMP/burst")" 0
expect "1000 fetches: ended within the deadline" \
	"$(j 'v["all_ended_s"] < 10.1' <"$SLT_TMP/burst")" true

# ---- the first claimer stops ------------------------------------------------
kill -STOP "${SLT_NODE_DP_PID[$FIRST]}"
cont_all() { kill -CONT "${SLT_NODE_DP_PID[@]}" 2>/dev/null || true; }
SLT_CLEANUP_HOOKS=(cont_all "${SLT_CLEANUP_HOOKS[@]}")
r=$(call $A header.fetch '{"height": 6000}')
src=$(j 'v["result"]["source"]' <<<"$r")
[ "$(j 'v["ok"]' <<<"$r")" = true ] && [ "${src%:*}" != "$FIRST_IP" ] ||
	slt_fail "fetch with the first claimer stopped: $r"
tx=$(j 'v["result"]["tx"]' <<<"$r")
att=$(slt_node_ctl $A --json ops | j "[o['attempts'] for o in v if o['tx'] == $tx][0]")
expect "first claimer stopped: served by the next ($src), attempts" "$att" 2

# deadline (TIMEOUT) of each kind: the stopped peer never answers; the
# op ends at its 500 ms deadline, not at the 2 s attempt deadline (which
# would end it TIMEOUT too, the answer behind it counting as the deadline)
t0=$(now)
r=$(first $A header.fetch '{"height": 6001, "deadline_ms": 500}')
dt=$(since $t0)
expect "fetch deadline ($dt s, before the 2 s attempt deadline)" \
	"$(j 'v["error"]["code"]' <<<"$r") $("$SLT_PY" -c "print($dt < 1.5)")" "TIMEOUT True"
t0=$(now)
r=$(first $A peer.ping "{\"session\": $SID_FIRST, \"deadline_ms\": 500}")
dt=$(since $t0)
expect "ping deadline ($dt s, before the 2 s attempt deadline)" \
	"$(j 'v["error"]["code"]' <<<"$r") $("$SLT_PY" -c "print($dt < 1.5)")" "TIMEOUT True"
r=$(call $A peer.ping '{"all": true, "deadline_ms": 800}')
expect "ping all: one TIMEOUT child, two rtts" \
	"$(j 'sorted(x.get("error", {}).get("code", "rtt") for x in v["result"]["results"])' <<<"$r")" \
	'["TIMEOUT", "rtt", "rtt"]'

# cancel of each kind
cancel_check() { # cancel_check WHAT CMD ARGS_JSON
	local r tx c
	r=$(call $A "$2" "$3")
	tx=$(j 'v["result"]["tx"]' <<<"$r")
	c=$(call $A op.cancel "{\"tx\": $tx}")
	expect "$1: op.cancel" "$(j 'v["result"]["state"]' <<<"$c")" cancelled
	expect "$1: state" "$(slt_node_ctl $A --json ops | j "[o['state'] for o in v if o['tx'] == $tx][0]")" cancelled
}
cancel_check "fetch" header.fetch '{"height": 6002, "wait": false}'
cancel_check "ping" peer.ping "{\"session\": $SID_FIRST, \"wait\": false}"
cancel_check "ping all" peer.ping '{"all": true, "wait": false}'
expect "ping all: no child left running" \
	"$(slt_node_ctl $A --json ops | j 'len([o for o in v if o["state"] == "running"])')" 0

# peer down while each kind awaits the stopped peer: it moves on at once
down_check() { # down_check WHAT CMD ARGS_JSON WANT_STATE
	local r tx t0 st i
	t0=$(now) # from the op's start: `call` lingers 1 s, more than half the attempt deadline
	r=$(first $A "$2" "$3")
	tx=$(j 'v["result"]["tx"]' <<<"$r")
	slt_node_ctl $A peer.disconnect session=$SID_FIRST >/dev/null || slt_fail "disconnect"
	for ((i = 0; i < 50; i++)); do
		st=$(slt_node_ctl $A --json ops | j "[o['state'] for o in v if o['tx'] == $tx][0]")
		[ "$st" != running ] && break
		sleep 0.02
	done
	dt=$(since $t0)
	expect "$1 on peer down ($dt s, under the 2 s attempt deadline)" \
		"$st $("$SLT_PY" -c "print($dt < 1.5)")" "$4 True"
}
down_check "fetch" header.fetch '{"height": 6003, "wait": false}' done
# the disconnected peer is gone from A; ping needs a session that awaits:
kill -CONT "${SLT_NODE_DP_PID[$FIRST]}"
for ((i = 0; i < 100; i++)); do
	((i % 10 == 0)) && slt_node_ctl $A --json peer.connect addr="$FIRST_IP:9747" >/dev/null 2>&1
	SID_FIRST=$(slt_node_ctl $A --json peers |
		j "([p['session'] for p in v if p['addr'].startswith('$FIRST_IP:') and p['state'] == 'up'] + [0])[0]")
	[ "$SID_FIRST" != 0 ] && break
	sleep 0.2
done
[ "$SID_FIRST" != 0 ] || slt_fail "A did not reconnect to $FIRST_IP"
kill -STOP "${SLT_NODE_DP_PID[$FIRST]}"
down_check "ping" peer.ping "{\"session\": $SID_FIRST, \"wait\": false}" failed

# every claimer stopped: EXHAUSTED
kill -STOP "${SLT_NODE_DP_PID[$B]}" "${SLT_NODE_DP_PID[$C]}" "${SLT_NODE_DP_PID[$D]}"
r=$(call $A header.fetch '{"height": 6004, "deadline_ms": 9000}')
expect "every claimer stopped" "$(j 'v["error"]["code"]' <<<"$r")" EXHAUSTED
kill -CONT "${SLT_NODE_DP_PID[$B]}" "${SLT_NODE_DP_PID[$C]}" "${SLT_NODE_DP_PID[$D]}"
expect "ops running at the end" \
	"$(slt_node_ctl $A --json ops | j 'len([o for o in v if o["state"] == "running"])')" 0
slt_ok "network operations end on reply, peer down, deadline and cancel"
