#!/usr/bin/env bash
# man_pages.sh — the man pages are built, render without a warning, are
# installed where man finds them, and say what the programs do:
#   sluicectl(8) names every command `sluicectl --help` lists, and
#   sluice-probe(8) every subcommand `sluice-probe --help` lists (when built);
#   sluice.ini(5) documents every key the config parser takes (its schema
#   in dataplane/lib/sl_cfg.c; test-only keys excepted) and no other;
#   each page's NAME line names its program.
. "$(dirname "$0")/lib.sh"

slt_require_bins
slt_require_tools man
slt_init
build=$(cd "$(dirname "$SLUICE_DP")/.." && pwd)
pages="sluicectl.8 sluice-dp.8 sluice-ctrl.8 sluice-probe.8 sluice.ini.5"
for p in $pages; do
	f=$build/deploy/$p
	[ -s "$f" ] || slt_fail "$p not built ($f; is scdoc installed?)"
	w=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >"$SLT_TMP/$p.txt")
	[ -z "$w" ] || slt_fail "$p: man warns: $w"
	grep -A1 '^NAME' "$SLT_TMP/$p.txt" | grep -q "^ *${p%.*} - " ||
		slt_fail "$p: the NAME line does not name ${p%.*}"
done
slt_ok "$(echo $pages | wc -w) pages render without warnings"

missing=
for c in $("$SLUICECTL" --help | sed -n '/^commands/,/^$/p' | awk '/^  [a-z]/ {print $1}'); do
	grep -qw -- "$c" "$SLT_TMP/sluicectl.8.txt" || missing="$missing $c"
done
[ -z "$missing" ] || slt_fail "sluicectl(8) lacks commands:$missing"
slt_ok "sluicectl(8) names every command of --help"
probe=$build/bpf/sluice-probe
if [ -x "$probe" ]; then
	missing=
	for c in $("$probe" --help | sed -n '/^SUBCMD is one of/,/^$/p' | awk '/^  [a-z]/ {print $1}'); do
		grep -qw -- "$c" "$SLT_TMP/sluice-probe.8.txt" || missing="$missing $c"
	done
	[ -z "$missing" ] || slt_fail "sluice-probe(8) lacks subcommands:$missing"
	slt_ok "sluice-probe(8) names every subcommand of --help"
fi

keys=$("$SLT_PY" - "$SLT_SRC/dataplane/lib/sl_cfg.c" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
body = src[src.index("sl_cfg_schema"):src.index("SL_CFG_NKEYS")]
for sec, key, kind in re.findall(r'\{"(\w+)", "(\w+)", SL_CFG_T_\w+, SL_CFG_(FIELD|HOOK)', body):
    if kind == "FIELD":
        print("%s.%s" % (sec, key))
PY
)
[ "$(echo "$keys" | wc -l)" -ge 30 ] || slt_fail "found only $(echo "$keys" | wc -l) keys in sl_cfg.c"
documented=$("$SLT_PY" - "$SLT_SRC/deploy/man/sluice.ini.5.scd" <<'PY'
import re, sys
sec = None
for line in open(sys.argv[1]):
    m = re.match(r"## \[(\w+)\]", line)
    if m:
        sec = m.group(1)
    m = re.match(r"\*(\w+)\* = ", line)
    if m and sec:
        print("%s.%s" % (sec, m.group(1)))
PY
)
diff <(echo "$keys" | sort) <(echo "$documented" | sort) >"$SLT_TMP/keys.diff" ||
	slt_fail "sluice.ini(5) and the config schema differ (< schema only, > page only): $(cat "$SLT_TMP/keys.diff")"
slt_ok "sluice.ini(5) documents all $(echo "$keys" | wc -l) keys of the schema, no other"

meson install -C "$build" --no-rebuild --destdir "$SLT_TMP/root" >"$SLT_TMP/install.log" 2>&1 ||
	slt_fail "meson install: $(tail -5 "$SLT_TMP/install.log")"
for p in $pages; do
	f=$(find "$SLT_TMP/root" -path "*/share/man/man${p##*.}/$p" | head -1)
	[ -n "$f" ] || slt_fail "$p not installed under share/man/man${p##*.}"
done
find "$SLT_TMP/root" -path '*/bash-completion/completions/sluicectl' | grep -q . ||
	slt_fail "the bash completion is not installed"
MANPATH=$(dirname "$(dirname "$f")") man -w sluicectl >/dev/null 2>&1 ||
	slt_fail "man does not find sluicectl in the installed tree"
slt_ok "installed: share/man/man5, man8 (man finds them), bash completion"
