#!/usr/bin/env bash
# malformed_frame_counted.sh — SPEC §2: a malformed sluice frame is dropped,
# counted, and never answered; a frame for a session that is not live is
# dropped silently.  From a kernel UDP socket in the namespace we send one
# frame per defect and check that exactly its own drop counter moved by one
# (all other drop_* unchanged), in both the stock DPDK telemetry client's
# /sluice/stats and `sluicectl --json stats`; and that nothing came back.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools ip ethtool dpdk-telemetry.py
slt_require_bins
slt_init
slt_node_up

# Resolve the dp's MAC first so ARP traffic is over before counting.
slt_nsexec ping -c 1 -W 2 "$SLT_DP_IP" >/dev/null ||
	slt_fail "dp does not answer ping (needed before the frame tests)"

# The sender: a UDP socket bound in the namespace, kept for all cases, so a
# reply to any of them would be seen.  Reads case names on stdin, sends the
# frame, prints "sent"; on "check" waits 1 s for any datagram.
cat >"$SLT_TMP/sender.py" <<'EOF'
import socket, struct, sys
dst = (sys.argv[1], int(sys.argv[2]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 0))

def hdr(magic=0x534C, ver=1, typ=4, stream=0, flags=0, length=8,
        session=0x00010001, seq=1, corr=0):
    return struct.pack(">HBBBBHIIQ", magic, ver, typ, stream, flags, length,
                       session, seq, corr)

ping = struct.pack(">Q", 123456789)   # a PING payload (u64 sender_time_ns)
frames = {
    "sl_magic": hdr(magic=0x5858) + ping,
    "sl_version": hdr(ver=2) + ping,
    "sl_length": hdr(length=40) + ping,     # says 40, carries 8
    "sl_short": hdr()[:13],                 # 13 of the 24 header bytes
    "sl_flags": hdr(flags=0x80) + ping,     # a reserved flag bit
    "sl_no_session": hdr(session=0x7fff1234) + ping,  # well formed
}
for line in sys.stdin:
    case = line.strip()
    if case == "check":
        s.settimeout(1.0)
        try:
            data, src = s.recvfrom(2048)
            print("REPLY %d bytes from %s" % (len(data), src), flush=True)
        except socket.timeout:
            print("silent", flush=True)
        continue
    s.sendto(frames[case], dst)
    print("sent", flush=True)
EOF

# counters_json SOURCE: every drop_* counter from telemetry or sluicectl.
counters_json() {
	if [ "$1" = telemetry ]; then
		slt_telemetry_json /sluice/stats
	else
		slt_ctl_stats_json
	fi
}

# diff_drops BEFORE AFTER: "name:+delta" for every drop_* counter that moved.
diff_drops() {
	"$SLT_PY" -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
missing = [k for k in b if k.startswith("drop_") and k not in a]
if missing or not any(k.startswith("drop_") for k in b):
    sys.exit("drop counters missing: %s" % (missing or "all"))
print(" ".join("%s:+%d" % (k, int(b[k]) - int(a[k]))
               for k in sorted(b) if k.startswith("drop_") and b[k] != a[k]))
' "$1" "$2"
}

coproc SENDER { ip netns exec "$SLT_NS" "$SLT_PY" -u "$SLT_TMP/sender.py" "$SLT_DP_IP" 9747; }

cases="sl_magic sl_version sl_length sl_short sl_flags sl_no_session"
for c in $cases; do
	t0=$(counters_json telemetry) || slt_fail "telemetry /sluice/stats"
	s0=$(counters_json ctl) || slt_fail "sluicectl --json stats"
	echo "$c" >&"${SENDER[1]}"
	read -r -t 5 ack <&"${SENDER[0]}" || slt_fail "sender did not send $c"
	[ "$ack" = sent ] || slt_fail "sender: $ack"
	# Wait (<= 3 s) until the expected counter moved in telemetry.
	for ((i = 0; i < 30; i++)); do
		t1=$(counters_json telemetry) || slt_fail "telemetry"
		d=$(diff_drops "$t0" "$t1") || slt_fail "telemetry drop counters missing"
		[ -n "$d" ] && break
		sleep 0.1
	done
	[ "$d" = "drop_$c:+1" ] ||
		slt_fail "$c via telemetry: moved '${d:-nothing}', want 'drop_$c:+1'"
	s1=$(counters_json ctl) || slt_fail "sluicectl --json stats"
	ds=$(diff_drops "$s0" "$s1") || slt_fail "sluicectl stats drop counters missing"
	[ "$ds" = "drop_$c:+1" ] ||
		slt_fail "$c via sluicectl stats: moved '${ds:-nothing}', want 'drop_$c:+1'"
	slt_ok "$c: telemetry and sluicectl both show exactly drop_$c +1"
done

echo check >&"${SENDER[1]}"
read -r -t 5 ans <&"${SENDER[0]}" || slt_fail "sender did not answer check"
[ "$ans" = silent ] || slt_fail "no-reflection violated: $ans"
slt_ok "no reply reached the sender's socket (no reflection)"
eval "exec ${SENDER[1]}>&-"
wait "$SENDER_PID" 2>/dev/null

slt_stop
slt_assert_clean
slt_log "PASS"
