#!/usr/bin/env bash
# cli_progress.sh — sluicectl's progress display of a long operation, as a
# person sees it.  sluice-ctrl alone (regtest) imports 400,000 generated
# headers, three times:
#   in a real terminal (tmux; everything the pane received is recorded with
#     pipe-pane): the bar "import [####....] NN.N%  done/total headers
#     R headers/s  ETA" is drawn in place (carriage return + erase line),
#     its done count grows, it is erased at the end and the result line
#     "imported ... new headers" is what stays on the screen;
#   through a pipe (not a terminal): plain lines on stderr, no escape
#     sequences, the last one at 100.0%, then the result on stdout;
#   with --json: the API result alone, no progress at all.
. "$(dirname "$0")/lib.sh"

slt_require_root
slt_require_tools tmux
slt_require_bins
N=400000
slt_init
slt_chaingen -n $((3 * N)) --seed 7 -o "$SLT_TMP/all.headers"
for k in 0 1 2; do # part k: heights 0 .. (k+1)N-1; each import adds N new ones
	head -c $((80 * N * (k + 1))) "$SLT_TMP/all.headers" >"$SLT_TMP/part$k.headers" ||
		slt_fail "part $k"
done
slt_ctrl_alone regtest

# 1. In a terminal.
TM="slt$SLT_ID"
tmux -L "$TM" new-session -d -s demo -x 250 -y 20 "bash --norc --noprofile" ||
	slt_fail "tmux new-session"
tm_kill() { tmux -L "$TM" kill-server 2>/dev/null; }
SLT_CLEANUP_HOOKS+=(tm_kill)
tmux -L "$TM" pipe-pane -t demo -o "cat >>'$SLT_TMP/pane.raw'"
tmux -L "$TM" send-keys -t demo \
	"'$SLUICECTL' --socket '$SLT_SOCK' header.import path='$SLT_TMP/part0.headers'; echo E\"\"XIT=\$?" Enter
for ((i = 0; i < 300; i++)); do
	tmux -L "$TM" capture-pane -p -t demo | grep -q '^EXIT=' && break
	sleep 0.1
done
screen=$(tmux -L "$TM" capture-pane -p -t demo)
echo "$screen" | grep -q '^EXIT=0' || slt_fail "in a terminal: no EXIT=0; screen: $screen"
echo "$screen" | grep -q "imported $((N - 1)) new headers" ||
	slt_fail "in a terminal: the result line is not on the screen: $screen"
echo "$screen" | grep -q 'import \[' &&
	slt_fail "in a terminal: the bar was left on the screen: $screen"
"$SLT_PY" - "$SLT_TMP/pane.raw" "$N" <<'EOF' || slt_fail "in a terminal: the bar (see above)"
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
n = int(sys.argv[2])
bars = re.findall(r"\r\x1b\[Kimport \[([#.]+)\] +([0-9.]+)%  (\d+)/(\d+) headers  (\d+) headers/s  ETA", raw)
if not bars:
    print("FAIL: no bar drawn in place; the pane got: %r" % raw[-2000:])
    sys.exit(1)
done = [int(b[2]) for b in bars]
if any(int(b[3]) != n for b in bars) or done != sorted(done):
    print("FAIL: bars with a wrong total or a done count going back: %s" % bars)
    sys.exit(1)
if "\r\x1b[Kimported" not in raw and "\x1b[Kimported" not in raw:
    print("FAIL: the bar was not erased before the result")
    sys.exit(1)
print("ok: %d bar redraws, done %d .. %d of %d, widths %d" %
      (len(bars), done[0], done[-1], n, len(bars[0][0])))
EOF
slt_ok "in a terminal: the bar redrawn in place, erased, the result stays"

# 2. Through a pipe.
slt_ctl header.import path="$SLT_TMP/part1.headers" >"$SLT_TMP/out1" 2>"$SLT_TMP/err1" ||
	slt_fail "piped import: $(cat "$SLT_TMP/err1")"
grep -q "imported $N new headers" "$SLT_TMP/out1" || slt_fail "piped: result $(cat "$SLT_TMP/out1")"
grep -q $'\x1b\|\r' "$SLT_TMP/err1" && slt_fail "piped: escape sequences on stderr"
tail -1 "$SLT_TMP/err1" | grep -Eq "^import 100\.0%  $((2 * N))/$((2 * N)) headers  [0-9]+ headers/s  ETA 0 s$" ||
	slt_fail "piped: the progress lines end with $(tail -1 "$SLT_TMP/err1" | cat -A) (want 100.0%)"
slt_ok "through a pipe: $(wc -l <"$SLT_TMP/err1") plain line(s), the last at 100.0%"

# 3. --json: the result, nothing else.
slt_ctl --json header.import path="$SLT_TMP/part2.headers" >"$SLT_TMP/out2" 2>"$SLT_TMP/err2" ||
	slt_fail "--json import: $(cat "$SLT_TMP/err2")"
[ -s "$SLT_TMP/err2" ] && slt_fail "--json: stderr not empty: $(cat "$SLT_TMP/err2")"
[ "$(slt_json_get imported <"$SLT_TMP/out2")" = "$N" ] || slt_fail "--json: $(cat "$SLT_TMP/out2")"
slt_ok "--json: the API result alone"
slt_stop_ctrl
