#!/usr/bin/env bash
# cli_completion.sh — bash completion of sluicectl (ctrl/cli/sluicectl.bash
# over `sluicectl --complete`), driven as bash drives it: COMP_LINE /
# COMP_POINT / COMP_WORDS set for a line, the completion function called,
# COMPREPLY checked.  Commands, options, key= of a command's arguments (and
# of every operation's deadline_ms / wait), values of booleans and watch
# topics, file names after path= and --config, nothing for an unknown
# command.
. "$(dirname "$0")/lib.sh"

slt_require_bins
slt_init
export SLUICECTL
. "$SLT_SRC/ctrl/cli/sluicectl.bash"
complete -p sluicectl | grep -q _sluicectl || slt_fail "the script did not register _sluicectl"
mkdir -p "$SLT_TMP/d" && touch "$SLT_TMP/d/hdrs.bin" "$SLT_TMP/d/node.ini"

# comp LINE: COMPREPLY for the cursor at the end of LINE, one per line.
comp() {
	COMP_LINE=$1
	COMP_POINT=${#1}
	read -ra COMP_WORDS <<<"$1"
	[[ $1 == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_sluicectl sluicectl "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]:-}"
	printf '%s\n' "${COMPREPLY[@]}"
}
# want LINE EXPECTED...: COMPREPLY is exactly EXPECTED (any order).
want() {
	local line=$1 got exp
	shift
	got=$(comp "$line" | sort | tr '\n' ' ')
	exp=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$exp" ] || slt_fail "completing '$line': got [$got] want [$exp]"
	slt_ok "'$line' -> $*"
}

want "sluicectl header.im" header.import
want "sluicectl peer.c" peer.connect
want "sluicectl --j" --json
want "sluicectl -s /x sync." sync.start sync.status
want "sluicectl header.export " path= from= to= deadline_ms= wait=
want "sluicectl header.export path=/tmp/x fr" from=
want "sluicectl sync.start wait=" true false
want "sluicectl watch topics=s" sync
want "sluicectl peer.show " session=
want "sluicectl status " # no arguments
want "sluicectl frobnicate "
want "sluicectl header.import path=$SLT_TMP/d/hd" "$SLT_TMP/d/hdrs.bin"
want "sluicectl -c $SLT_TMP/d/no" "$SLT_TMP/d/node.ini"
# every command of `sluicectl --help` is offered for an empty word
n_help=$("$SLUICECTL" --help | sed -n '/^commands/,/^$/p' | grep -c '^  [a-z]')
n_comp=$(comp "sluicectl " | wc -l)
[ "$n_comp" -ge 20 ] && [ "$n_comp" = "$n_help" ] ||
	slt_fail "an empty word offers $n_comp commands, --help lists $n_help"
slt_ok "an empty word offers all $n_comp commands of --help"
